//! Perceptual image hashes (aHash, dHash, pHash via a DCT, a colour-layout hash) and the small
//! grey/colour thumbnails they are computed from. Hashes are compared by Hamming distance.

use salon_core::Image;

/// A grey (luma) thumbnail with values in [0, 1].
#[derive(Clone, Debug, PartialEq)]
pub struct Grey {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Row-major values.
    pub v: Vec<f32>,
}

/// Area-averaged RGB thumbnail of `w` x `h` with channels in [0, 1] (each output pixel is the mean
/// of the source box it covers, so noise averages out and the result is stable under resizing).
pub fn thumbnail_rgb(img: &Image, w: usize, h: usize) -> Vec<[f32; 3]> {
    let (sw, sh) = (img.width as usize, img.height as usize);
    let mut out = Vec::with_capacity(w * h);
    if sw == 0 || sh == 0 || img.rgb.len() < sw * sh * 3 {
        return vec![[0.0; 3]; w * h];
    }
    let bounds = |i: usize, n: usize, s: usize| -> (usize, usize) {
        let a = i * s / n;
        let b = ((i + 1) * s / n).max(a + 1).min(s);
        (a.min(s - 1), b)
    };
    for y in 0..h {
        let (ya, yb) = bounds(y, h, sh);
        for x in 0..w {
            let (xa, xb) = bounds(x, w, sw);
            let mut acc = [0u64; 3];
            for yy in ya..yb {
                let row = &img.rgb[(yy * sw + xa) * 3..(yy * sw + xb) * 3];
                for p in row.chunks_exact(3) {
                    acc[0] += p[0] as u64;
                    acc[1] += p[1] as u64;
                    acc[2] += p[2] as u64;
                }
            }
            let n = ((yb - ya) * (xb - xa)) as f32 * 255.0;
            out.push(acc.map(|a| a as f32 / n));
        }
    }
    out
}

/// Area-averaged grey thumbnail of `w` x `h`.
pub fn thumbnail_grey(img: &Image, w: usize, h: usize) -> Grey {
    let v = thumbnail_rgb(img, w, h).into_iter().map(luma).collect();
    Grey {
        width: w,
        height: h,
        v,
    }
}

/// Rec. 601 luma.
pub fn luma(p: [f32; 3]) -> f32 {
    0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]
}

/// Average hash: `side * side` bits, each "this cell is brighter than the mean".
pub fn ahash(img: &Image, side: usize) -> Vec<bool> {
    let g = thumbnail_grey(img, side, side);
    let mean = g.v.iter().sum::<f32>() / g.v.len() as f32;
    g.v.iter().map(|&v| v > mean).collect()
}

/// Difference hash: 64 bits, each "this cell is brighter than its right neighbour" on a 9x8 grid.
pub fn dhash(img: &Image) -> Vec<bool> {
    let g = thumbnail_grey(img, 9, 8);
    (0..8)
        .flat_map(|y| (0..8).map(move |x| (y, x)))
        .map(|(y, x)| g.v[y * 9 + x] > g.v[y * 9 + x + 1])
        .collect()
}

/// 2-D DCT-II of an `n` x `n` block (orthonormal scaling is irrelevant for hashing).
pub fn dct2(v: &[f32], n: usize) -> Vec<f32> {
    let basis: Vec<f32> = (0..n * n)
        .map(|k| {
            let (u, x) = (k / n, k % n);
            (std::f32::consts::PI * (2 * x + 1) as f32 * u as f32 / (2 * n) as f32).cos()
        })
        .collect();
    let mut rows = vec![0.0f32; n * n];
    for y in 0..n {
        for u in 0..n {
            rows[y * n + u] = (0..n).map(|x| v[y * n + x] * basis[u * n + x]).sum();
        }
    }
    let mut out = vec![0.0f32; n * n];
    for u in 0..n {
        for w in 0..n {
            out[w * n + u] = (0..n).map(|y| rows[y * n + u] * basis[w * n + y]).sum();
        }
    }
    out
}

/// Perceptual hash: the DCT of a 32x32 grey thumbnail, its `side` x `side` lowest frequencies
/// without the DC term, each compared with their median (`side * side - 1` bits).
pub fn phash(img: &Image, side: usize) -> Vec<bool> {
    let g = thumbnail_grey(img, 32, 32);
    let d = dct2(&g.v, 32);
    let coeffs: Vec<f32> = (0..side)
        .flat_map(|v| (0..side).map(move |u| (v, u)))
        .skip(1)
        .map(|(v, u)| d[v * 32 + u])
        .collect();
    let mut sorted = coeffs.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let median = sorted[sorted.len() / 2];
    coeffs.iter().map(|&c| c > median).collect()
}

/// Colour-layout hash: on a 4x4 grid, for each cell, whether its red-green and blue-yellow
/// opponent colours and its luma exceed the image's mean (48 bits).
pub fn colour_hash(img: &Image) -> Vec<bool> {
    let cells = thumbnail_rgb(img, 4, 4);
    let feats: Vec<[f32; 3]> = cells
        .iter()
        .map(|p| [p[0] - p[1], p[2] - 0.5 * (p[0] + p[1]), luma(*p)])
        .collect();
    let mut mean = [0.0f32; 3];
    for f in &feats {
        for c in 0..3 {
            mean[c] += f[c] / feats.len() as f32;
        }
    }
    feats
        .iter()
        .flat_map(|f| (0..3).map(move |c| f[c] > mean[c]))
        .collect()
}

/// Number of differing positions (extra length counts as differing).
pub fn hamming(a: &[bool], b: &[bool]) -> usize {
    a.iter().zip(b).filter(|(x, y)| x != y).count() + a.len().abs_diff(b.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(w: u32, h: u32, flip: bool) -> Image {
        let mut img = Image::filled(w, h, [0; 3]);
        for y in 0..h {
            for x in 0..w {
                let (u, t) = (x as f32 / w as f32, y as f32 / h as f32);
                let u = if flip { 1.0 - u } else { u };
                let v = 128.0 + 60.0 * (u * 7.0 + t * 2.0).sin() + 50.0 * u * (t * 5.0).cos();
                let i = ((y * w + x) * 3) as usize;
                img.rgb[i..i + 3].copy_from_slice(&[v as u8, (t * 255.0) as u8, 128]);
            }
        }
        img
    }

    #[test]
    fn hashes_see_structure_not_scale() {
        let a = gradient(64, 48, false);
        let b = gradient(128, 96, false);
        let c = gradient(64, 48, true);
        assert!(hamming(&ahash(&a, 8), &ahash(&b, 8)) <= 2);
        assert!(hamming(&phash(&a, 8), &phash(&b, 8)) <= 2);
        assert!(hamming(&phash(&a, 8), &phash(&c, 8)) > 10);
    }

    #[test]
    fn dct_of_a_constant_has_only_dc() {
        let d = dct2(&[0.5; 64], 8);
        assert!((d[0] - 32.0).abs() < 1e-3);
        assert!(d[1..].iter().all(|c| c.abs() < 1e-3));
    }
}
