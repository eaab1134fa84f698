//! Procedural "real photo" stand-ins for detection challenges: 1/f-spectrum textures down to the
//! pixel, hard-edged shaded objects, a little lens blur, sensor noise and JPEG compression; the
//! statistics a camera leaves and the procedural painter does not.

use super::super::image::canvas::{mix, Canvas};
use super::super::image::noise::fractal2d;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use salon_core::media::ImageFormat;
use salon_core::Image;

/// A photo-like image of `size` x `size`.
pub fn photo(rng: &mut ChaCha8Rng, size: usize) -> Image {
    let s = size as f32;
    // Octaves from a third of the image down to one pixel, amplitude falling as 1/f.
    let octaves = (s / 3.0).log2().ceil() as u32 + 1;
    let persistence = 0.5 + rng.gen::<f32>() * 0.15;
    let tex = fractal2d(rng, size, size, s / 3.0, s / 3.0, octaves, persistence);
    let fine = fractal2d(rng, size, size, 8.0, 8.0, 4, 0.7);
    let hue = |rng: &mut ChaCha8Rng| -> [f32; 3] {
        let base = rng.gen::<f32>() * 0.6 + 0.2;
        [
            base + (rng.gen::<f32>() - 0.5) * 0.3,
            base + (rng.gen::<f32>() - 0.5) * 0.2,
            base + (rng.gen::<f32>() - 0.5) * 0.3,
        ]
    };
    let (top, bottom) = (hue(rng), hue(rng));
    let mut c = Canvas::filled(size, size, [0.0; 3]);
    for y in 0..size {
        for x in 0..size {
            let i = y * size + x;
            let base = mix(top, bottom, y as f32 / s);
            let t = 0.6 + 0.8 * (tex[i] - 0.5) + 0.25 * (fine[i] - 0.5);
            c.px[i] = base.map(|v| v * t);
        }
    }
    // Objects: shaded ellipses and boxes with their own texture, as things in a scene.
    for _ in 0..rng.gen_range(2..8) {
        let col = hue(rng);
        let (cx, cy) = (rng.gen::<f32>() * s, rng.gen::<f32>() * s);
        let (rx, ry) = (
            s * (0.05 + rng.gen::<f32>() * 0.25),
            s * (0.05 + rng.gen::<f32>() * 0.25),
        );
        let boxy = rng.gen::<bool>();
        let (lx, ly) = (rng.gen::<f32>() - 0.5, rng.gen::<f32>() - 0.5);
        let (xa, xb) = ((cx - rx).max(0.0) as usize, ((cx + rx) as usize).min(size));
        let (ya, yb) = ((cy - ry).max(0.0) as usize, ((cy + ry) as usize).min(size));
        for y in ya..yb {
            for x in xa..xb {
                let (dx, dy) = ((x as f32 - cx) / rx, (y as f32 - cy) / ry);
                let inside = if boxy {
                    dx.abs() < 1.0 && dy.abs() < 1.0
                } else {
                    dx * dx + dy * dy < 1.0
                };
                if inside {
                    let i = y * size + x;
                    let shade = 0.75
                        + 0.5 * (lx * dx + ly * dy)
                        + 0.5 * (tex[(i + size / 2) % tex.len()] - 0.5);
                    c.px[i] = col.map(|v| v * shade);
                }
            }
        }
    }
    // Lens: a mild blur mixed with the sharp image.
    let blur = c.box_blur(1);
    let sharpness = rng.gen::<f32>() * 0.6;
    c.blend_with(&blur, |_| 1.0 - sharpness);
    // Sensor: signal-dependent noise, partly shared across channels.
    let sigma = 0.006 + rng.gen::<f32>() * 0.02;
    for p in &mut c.px {
        let shared = gauss(rng) * sigma;
        for v in p.iter_mut() {
            *v += shared + gauss(rng) * sigma * 0.6 * (0.5 + v.max(0.0)).sqrt();
        }
    }
    let img = c.to_image();
    let q = rng.gen_range(70..=95u8);
    img.encode(ImageFormat::Jpeg(q))
        .ok()
        .and_then(|b| Image::decode(&b).ok())
        .unwrap_or(img)
}

/// A standard normal sample (Box-Muller).
pub fn gauss(rng: &mut ChaCha8Rng) -> f32 {
    let u1 = rng.gen::<f32>().max(1e-7);
    let u2 = rng.gen::<f32>();
    (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
}
