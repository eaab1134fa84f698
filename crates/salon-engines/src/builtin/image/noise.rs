//! Seeded value noise: smooth random fields built from random lattices, summed over octaves
//! (fractal noise), in 2-D for textures and clouds and in 1-D for ridge lines.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Fractal value noise of `width` x `height`: `octaves` lattices, the first with cells of
/// `cell_x` x `cell_y` pixels, each next one half the cell size and `persistence` times the
/// amplitude. Values are normalised to about [0, 1] (mean 0.5).
pub fn fractal2d(
    rng: &mut ChaCha8Rng,
    width: usize,
    height: usize,
    cell_x: f32,
    cell_y: f32,
    octaves: u32,
    persistence: f32,
) -> Vec<f32> {
    let mut out = vec![0.0f32; width * height];
    let (mut cx, mut cy, mut amp, mut total) = (cell_x.max(1.0), cell_y.max(1.0), 1.0f32, 0.0f32);
    for _ in 0..octaves {
        add_octave(rng, &mut out, width, height, cx, cy, amp);
        total += amp;
        amp *= persistence;
        cx = (cx * 0.5).max(1.0);
        cy = (cy * 0.5).max(1.0);
    }
    if total > 0.0 {
        let inv = 1.0 / total;
        // Each octave is uniform in [-0.5, 0.5]; the sum is centred on 0.
        for v in &mut out {
            *v = 0.5 + *v * inv * 1.6;
        }
    } else {
        out.iter_mut().for_each(|v| *v = 0.5);
    }
    out
}

fn add_octave(
    rng: &mut ChaCha8Rng,
    out: &mut [f32],
    width: usize,
    height: usize,
    cx: f32,
    cy: f32,
    amp: f32,
) {
    let gw = (width as f32 / cx).ceil() as usize + 2;
    let gh = (height as f32 / cy).ceil() as usize + 2;
    let grid: Vec<f32> = (0..gw * gh).map(|_| rng.gen::<f32>() - 0.5).collect();
    let xs: Vec<(usize, f32)> = (0..width)
        .map(|x| {
            let p = x as f32 / cx;
            let i = p.floor();
            (i as usize, smooth(p - i))
        })
        .collect();
    for y in 0..height {
        let p = y as f32 / cy;
        let j = p.floor();
        let fy = smooth(p - j);
        let r0 = &grid[j as usize * gw..(j as usize + 1) * gw];
        let r1 = &grid[(j as usize + 1) * gw..(j as usize + 2) * gw];
        let row = &mut out[y * width..(y + 1) * width];
        for (v, &(i, fx)) in row.iter_mut().zip(&xs) {
            let a = r0[i] + (r0[i + 1] - r0[i]) * fx;
            let b = r1[i] + (r1[i + 1] - r1[i]) * fx;
            *v += amp * (a + (b - a) * fy);
        }
    }
}

/// Fractal value noise along a line of `len` samples, normalised like [`fractal2d`].
pub fn fractal1d(
    rng: &mut ChaCha8Rng,
    len: usize,
    cell: f32,
    octaves: u32,
    persistence: f32,
) -> Vec<f32> {
    fractal2d(rng, len, 1, cell, 1.0, octaves, persistence)
}

#[inline]
fn smooth(t: f32) -> f32 {
    t * t * (3.0 - 2.0 * t)
}

/// A hash of a pixel position and a seed, uniform in [0, 1); for sparse features such as stars.
#[inline]
pub fn hash01(x: u32, y: u32, seed: u64) -> f32 {
    let mut h = seed
        ^ (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    h ^= h >> 31;
    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h ^= h >> 29;
    (h >> 40) as f32 / (1u64 << 24) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn fractal_noise_is_seeded_smooth_and_centred() {
        let a = fractal2d(
            &mut ChaCha8Rng::seed_from_u64(1),
            64,
            64,
            16.0,
            16.0,
            3,
            0.5,
        );
        let b = fractal2d(
            &mut ChaCha8Rng::seed_from_u64(1),
            64,
            64,
            16.0,
            16.0,
            3,
            0.5,
        );
        let c = fractal2d(
            &mut ChaCha8Rng::seed_from_u64(2),
            64,
            64,
            16.0,
            16.0,
            3,
            0.5,
        );
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mean = a.iter().sum::<f32>() / a.len() as f32;
        assert!((mean - 0.5).abs() < 0.15, "mean {mean}");
        // Neighbours differ far less than the field's spread (it is smooth, not white noise).
        let step: f32 = a.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f32>() / a.len() as f32;
        assert!(step < 0.05, "step {step}");
    }
}
