//! BitMind's challenge augmentation: a rotation of at most 20 degrees (corners filled black), a
//! random resized crop to 256 x 256 covering 20-100% of the area (aspect 3/4 to 4/3), and flips.

use super::super::image::canvas::Canvas;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use salon_core::Image;

/// Side of every augmented challenge image.
pub const SIDE: usize = 256;

/// Rotates, crops, resizes and flips `img` as BitMind's validator does.
pub fn augment(img: &Image, rng: &mut ChaCha8Rng) -> Image {
    let c = Canvas::from_image(img);
    let rotated = rotate(&c, rng.gen_range(-20.0f32..=20.0).to_radians());
    let (w, h) = (rotated.width as f32, rotated.height as f32);
    let (mut cw, mut ch) = (w, h);
    for _ in 0..10 {
        let area = w * h * rng.gen_range(0.2f32..=1.0);
        let ratio = rng.gen_range((0.75f32).ln()..=(4.0f32 / 3.0).ln()).exp();
        let (tw, th) = ((area * ratio).sqrt(), (area / ratio).sqrt());
        if tw <= w && th <= h {
            (cw, ch) = (tw, th);
            break;
        }
    }
    let (cw, ch) = (cw.round().max(8.0) as usize, ch.round().max(8.0) as usize);
    let x0 = rng.gen_range(0..=rotated.width - cw);
    let y0 = rng.gen_range(0..=rotated.height - ch);
    let mut crop = Canvas::filled(cw, ch, [0.0; 3]);
    for y in 0..ch {
        crop.px[y * cw..(y + 1) * cw].copy_from_slice(
            &rotated.px[(y0 + y) * rotated.width + x0..(y0 + y) * rotated.width + x0 + cw],
        );
    }
    let mut out = crop.resize_bicubic(SIDE, SIDE);
    if rng.gen::<bool>() {
        for row in out.px.chunks_mut(SIDE) {
            row.reverse();
        }
    }
    if rng.gen::<f32>() < 0.2 {
        let rows: Vec<Vec<[f32; 3]>> = out.px.chunks(SIDE).rev().map(|r| r.to_vec()).collect();
        out.px = rows.concat();
    }
    out.to_image()
}

/// Rotation about the centre with bilinear sampling; outside the source is black.
fn rotate(c: &Canvas, angle: f32) -> Canvas {
    let (w, h) = (c.width, c.height);
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let (s, co) = angle.sin_cos();
    let mut out = Canvas::filled(w, h, [0.0; 3]);
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
            let (sx, sy) = (co * dx + s * dy + cx - 0.5, -s * dx + co * dy + cy - 0.5);
            if sx < 0.0 || sy < 0.0 || sx > (w - 1) as f32 || sy > (h - 1) as f32 {
                continue;
            }
            let (x0, y0) = (sx.floor() as isize, sy.floor() as isize);
            let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
            let p = |dx: isize, dy: isize| c.at(x0 + dx, y0 + dy);
            let (a, b, cc, d) = (p(0, 0), p(1, 0), p(0, 1), p(1, 1));
            out.px[y * w + x] = [0, 1, 2].map(|k| {
                let top = a[k] + (b[k] - a[k]) * fx;
                let bot = cc[k] + (d[k] - cc[k]) * fx;
                top + (bot - top) * fy
            });
        }
    }
    out
}
