//! A float RGB canvas and the raster operations the built-in image engines share: box blur,
//! bicubic resampling, unsharp masking, blending and conversion to and from [`Image`].

use salon_core::Image;

/// An RGB image with f32 channels nominally in [0, 1], row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Canvas {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `width * height` pixels.
    pub px: Vec<[f32; 3]>,
}

impl Canvas {
    /// A canvas of one colour.
    pub fn filled(width: usize, height: usize, rgb: [f32; 3]) -> Self {
        Self {
            width,
            height,
            px: vec![rgb; width * height],
        }
    }

    /// Converts an 8-bit image (which must hold `width * height * 3` bytes).
    pub fn from_image(img: &Image) -> Self {
        let px = img
            .rgb
            .chunks_exact(3)
            .map(|p| {
                [
                    p[0] as f32 / 255.0,
                    p[1] as f32 / 255.0,
                    p[2] as f32 / 255.0,
                ]
            })
            .collect();
        Self {
            width: img.width as usize,
            height: img.height as usize,
            px,
        }
    }

    /// Rounds to an 8-bit image, clamping to [0, 1].
    pub fn to_image(&self) -> Image {
        let mut rgb = Vec::with_capacity(self.px.len() * 3);
        for p in &self.px {
            for c in p {
                rgb.push((c.clamp(0.0, 1.0) * 255.0 + 0.5) as u8);
            }
        }
        Image {
            width: self.width as u32,
            height: self.height as u32,
            rgb,
        }
    }

    /// The pixel at (x, y), coordinates clamped to the canvas.
    #[inline]
    pub fn at(&self, x: isize, y: isize) -> [f32; 3] {
        let x = x.clamp(0, self.width as isize - 1) as usize;
        let y = y.clamp(0, self.height as isize - 1) as usize;
        self.px[y * self.width + x]
    }

    /// Separable box blur of the given radius (0 = unchanged), edges clamped.
    pub fn box_blur(&self, radius: usize) -> Canvas {
        if radius == 0 || self.px.is_empty() {
            return self.clone();
        }
        let (w, h) = (self.width, self.height);
        let norm = 1.0 / (2 * radius + 1) as f32;
        let mut tmp = vec![[0.0f32; 3]; w * h];
        for y in 0..h {
            let row = &self.px[y * w..(y + 1) * w];
            let mut acc = [0.0f32; 3];
            for i in 0..=2 * radius {
                let p = row[(i as isize - radius as isize).clamp(0, w as isize - 1) as usize];
                add(&mut acc, p);
            }
            for x in 0..w {
                tmp[y * w + x] = scale(acc, norm);
                let out = row[(x as isize - radius as isize).clamp(0, w as isize - 1) as usize];
                let inn = row[(x + radius + 1).min(w - 1)];
                sub(&mut acc, out);
                add(&mut acc, inn);
            }
        }
        let mut out = vec![[0.0f32; 3]; w * h];
        for x in 0..w {
            let mut acc = [0.0f32; 3];
            for i in 0..=2 * radius {
                let yy = (i as isize - radius as isize).clamp(0, h as isize - 1) as usize;
                add(&mut acc, tmp[yy * w + x]);
            }
            for y in 0..h {
                out[y * w + x] = scale(acc, norm);
                let o = (y as isize - radius as isize).clamp(0, h as isize - 1) as usize;
                let i = (y + radius + 1).min(h - 1);
                sub(&mut acc, tmp[o * w + x]);
                add(&mut acc, tmp[i * w + x]);
            }
        }
        Canvas {
            width: w,
            height: h,
            px: out,
        }
    }

    /// Resampled to `width` x `height` with a Catmull-Rom bicubic filter (area-averaged first when
    /// shrinking by more than 2x, so small outputs do not alias).
    pub fn resize_bicubic(&self, width: usize, height: usize) -> Canvas {
        let mut src = self.clone();
        while src.width >= 2 * width.max(1) * 2 && src.height >= 2 * height.max(1) * 2 {
            src = src.halve();
        }
        let sx = src.width as f32 / width as f32;
        let sy = src.height as f32 / height as f32;
        let taps = |pos: f32| -> (isize, [f32; 4]) {
            let f = pos.floor();
            let t = pos - f;
            (f as isize, cubic_weights(t))
        };
        let xs: Vec<(isize, [f32; 4])> = (0..width)
            .map(|x| taps((x as f32 + 0.5) * sx - 0.5))
            .collect();
        let mut px = Vec::with_capacity(width * height);
        for y in 0..height {
            let (y0, wy) = taps((y as f32 + 0.5) * sy - 0.5);
            for &(x0, wx) in &xs {
                let mut acc = [0.0f32; 3];
                for (j, wyj) in wy.iter().enumerate() {
                    let mut row = [0.0f32; 3];
                    for (i, wxi) in wx.iter().enumerate() {
                        let p = src.at(x0 - 1 + i as isize, y0 - 1 + j as isize);
                        add(&mut row, scale(p, *wxi));
                    }
                    add(&mut acc, scale(row, *wyj));
                }
                px.push(acc);
            }
        }
        Canvas { width, height, px }
    }

    /// Area-averaged resize (each output pixel is the mean of the source box it covers); for
    /// thumbnails, where averaging suppresses noise and aliasing.
    pub fn area_resize(&self, width: usize, height: usize) -> Canvas {
        let (sw, sh) = (self.width, self.height);
        let bounds = |i: usize, n: usize, s: usize| -> (usize, usize) {
            let a = (i * s / n).min(s - 1);
            (a, ((i + 1) * s / n).max(a + 1).min(s))
        };
        let mut px = Vec::with_capacity(width * height);
        for y in 0..height {
            let (ya, yb) = bounds(y, height, sh);
            for x in 0..width {
                let (xa, xb) = bounds(x, width, sw);
                let mut acc = [0.0f32; 3];
                for yy in ya..yb {
                    for p in &self.px[yy * sw + xa..yy * sw + xb] {
                        add(&mut acc, *p);
                    }
                }
                px.push(scale(acc, 1.0 / ((yb - ya) * (xb - xa)) as f32));
            }
        }
        Canvas { width, height, px }
    }

    /// Half the size in each direction by 2x2 averaging.
    pub fn halve(&self) -> Canvas {
        let (w, h) = ((self.width / 2).max(1), (self.height / 2).max(1));
        let mut px = Vec::with_capacity(w * h);
        for y in 0..h {
            for x in 0..w {
                let mut acc = [0.0f32; 3];
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    add(
                        &mut acc,
                        self.at((2 * x + dx) as isize, (2 * y + dy) as isize),
                    );
                }
                px.push(scale(acc, 0.25));
            }
        }
        Canvas {
            width: w,
            height: h,
            px,
        }
    }

    /// Unsharp mask: `self + amount * (self - blur(self, radius))`.
    pub fn unsharp(&self, radius: usize, amount: f32) -> Canvas {
        let blurred = self.box_blur(radius);
        let px = self
            .px
            .iter()
            .zip(&blurred.px)
            .map(|(p, b)| [0, 1, 2].map(|c| p[c] + amount * (p[c] - b[c])))
            .collect();
        Canvas {
            width: self.width,
            height: self.height,
            px,
        }
    }

    /// Per-pixel mix `self * (1 - alpha) + other * alpha` with `alpha` per pixel; sizes must agree.
    pub fn blend_with(&mut self, other: &Canvas, alpha: impl Fn(usize) -> f32) {
        for (i, (p, o)) in self.px.iter_mut().zip(&other.px).enumerate() {
            let a = alpha(i);
            *p = [0, 1, 2].map(|c| p[c] + (o[c] - p[c]) * a);
        }
    }
}

/// Catmull-Rom weights for the four taps around a sample at fraction `t` past the second tap.
fn cubic_weights(t: f32) -> [f32; 4] {
    let t2 = t * t;
    let t3 = t2 * t;
    [
        -0.5 * t3 + t2 - 0.5 * t,
        1.5 * t3 - 2.5 * t2 + 1.0,
        -1.5 * t3 + 2.0 * t2 + 0.5 * t,
        0.5 * t3 - 0.5 * t2,
    ]
}

/// Adds `b` to `a` channel-wise.
#[inline]
pub fn add(a: &mut [f32; 3], b: [f32; 3]) {
    a[0] += b[0];
    a[1] += b[1];
    a[2] += b[2];
}

#[inline]
fn sub(a: &mut [f32; 3], b: [f32; 3]) {
    a[0] -= b[0];
    a[1] -= b[1];
    a[2] -= b[2];
}

/// `a * s` channel-wise.
#[inline]
pub fn scale(a: [f32; 3], s: f32) -> [f32; 3] {
    [a[0] * s, a[1] * s, a[2] * s]
}

/// Linear interpolation between two colours.
#[inline]
pub fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Rec. 601 luma of a colour.
#[inline]
pub fn luma(p: [f32; 3]) -> f32 {
    0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_keeps_flat_images_flat_and_bicubic_keeps_gradients() {
        let c = Canvas::filled(9, 7, [0.25, 0.5, 0.75]);
        let b = c.box_blur(2);
        assert!(b.px.iter().all(|p| (p[1] - 0.5).abs() < 1e-5));
        let mut g = Canvas::filled(16, 16, [0.0; 3]);
        for y in 0..16 {
            for x in 0..16 {
                g.px[y * 16 + x] = [x as f32 / 15.0; 3];
            }
        }
        let up = g.resize_bicubic(32, 32);
        // A linear ramp stays monotone and spans the same range after upscaling.
        let row: Vec<f32> = (0..32).map(|x| up.px[5 * 32 + x][0]).collect();
        assert!(row.windows(2).all(|w| w[1] >= w[0] - 1e-4), "{row:?}");
        assert!(row[0] < 0.05 && row[31] > 0.95);
    }
}
