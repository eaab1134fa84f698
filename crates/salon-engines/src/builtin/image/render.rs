//! Rendering a [`Scene`] onto a [`Canvas`]: sky, clouds, sun, mountains, ground or water, then
//! trees, buildings and abstract shapes, then the style pass and guidance (contrast/saturation).

use super::canvas::{luma, mix, Canvas};
use super::noise::{fractal1d, fractal2d, hash01};
use super::scene::{Scene, Style};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Paints `scene` at `width` x `height`. `detail` is the number of noise octaves (more = finer
/// texture), `cfg` the guidance scale (contrast and saturation).
/// Each random field has its own stream derived from `seed`, so changing `detail` changes texture
/// but keeps the layout.
pub fn render(
    scene: &Scene,
    width: usize,
    height: usize,
    detail: u32,
    cfg: f32,
    seed: u64,
) -> Canvas {
    let (w, h) = (width, height);
    let size = w.max(h) as f32;
    let stream = |k: u64| ChaCha8Rng::seed_from_u64(seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let hz = scene.horizon * h as f32;
    // Clouds live in the sky only: the field covers the rows above the horizon.
    let sky_rows = (hz.ceil() as usize).clamp(1, h);
    let clouds = fractal2d(
        &mut stream(1),
        w,
        sky_rows,
        size / 2.5,
        size / 6.0,
        detail,
        0.55,
    );
    let texture = fractal2d(
        &mut stream(2),
        w,
        h,
        size / 4.0,
        size / 4.0,
        detail + 1,
        0.6,
    );
    let ridge = fractal1d(&mut stream(3), w, size / 3.0, detail + 1, 0.5);
    let star_seed: u64 = stream(4).gen();
    let rng = &mut stream(5);
    let mut c = Canvas::filled(w, h, [0.0; 3]);
    let cloud_colour = if scene.night {
        [0.25, 0.27, 0.35]
    } else {
        mix(scene.sky_horizon, [1.0; 3], 0.7)
    };
    let sun = scene
        .sun
        .map(|(p, r, col)| (p[0] * w as f32, p[1] * h as f32, r * w as f32, col));
    for y in 0..h {
        let yf = y as f32;
        let sky = mix(
            scene.sky_top,
            scene.sky_horizon,
            (yf / hz.max(1.0)).min(1.0).powf(0.8),
        );
        for x in 0..w {
            let i = y * w + x;
            let xf = x as f32;
            let mut p;
            if yf < hz {
                p = sky;
                if scene.night && hash01(x as u32, y as u32, star_seed) > 0.997 {
                    p = [0.95, 0.95, 0.9];
                }
                if let Some((sx, sy, r, col)) = sun {
                    let d = ((xf - sx).powi(2) + (yf - sy).powi(2)).sqrt();
                    let glow = (-(d - r).max(0.0) / (r * 2.5)).exp() * 0.5;
                    p = mix(p, col, if d < r { 1.0 } else { glow });
                }
                let cl = smoothstep(0.55 - 0.25 * scene.clouds, 0.8, clouds[i]) * scene.clouds;
                p = mix(p, cloud_colour, cl);
                if let Some((mc, mh)) = scene.mountains {
                    let top = hz * (1.0 - mh * (0.35 + 0.9 * ridge[x]).min(1.0));
                    if yf >= top {
                        let shade =
                            0.75 + 0.5 * (texture[i] - 0.5) + 0.25 * (yf - top) / (hz - top + 1.0);
                        let snow = scene.sky_horizon[2] > 0.0
                            && (yf - top) < (hz - top) * 0.18
                            && mh > 0.5;
                        let base = if snow {
                            mix(mc, [0.95, 0.96, 1.0], 0.7)
                        } else {
                            mc
                        };
                        p = mix(
                            base.map(|v| v * shade),
                            scene.sky_horizon,
                            0.25 * (yf - top) / (hz - top + 1.0),
                        );
                    }
                }
            } else {
                let depth = (yf - hz) / (h as f32 - hz).max(1.0);
                if let Some(wc) = scene.water {
                    let ripple = texture[(y * w + (x * 7 + y * 3) % w).min(w * h - 1)];
                    let refl = mix(scene.sky_horizon, scene.sky_top, depth);
                    p = mix(wc, refl, 0.35 + 0.3 * (ripple - 0.5));
                    if let Some((sx, _, r, col)) = sun {
                        let band = (-((xf - sx).abs() / (r * (1.0 + 2.0 * depth))).powi(2)).exp();
                        p = mix(p, col, band * 0.6 * smoothstep(0.45, 0.7, ripple));
                    }
                } else {
                    p = mix(
                        scene.ground[0],
                        scene.ground[1],
                        smoothstep(0.3, 0.7, texture[i]),
                    );
                    p = p.map(|v| v * (0.8 + 0.35 * depth));
                }
            }
            c.px[i] = p;
        }
    }
    draw_buildings(scene, &mut c, hz, rng);
    draw_trees(scene, &mut c, hz, &texture, rng);
    draw_shapes(scene, &mut c, &texture, rng);
    style_pass(scene.style, &mut c, &texture);
    guidance(&mut c, cfg);
    c
}

fn smoothstep(a: f32, b: f32, x: f32) -> f32 {
    let t = ((x - a) / (b - a)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

fn draw_buildings(scene: &Scene, c: &mut Canvas, hz: f32, rng: &mut ChaCha8Rng) {
    let (n, colour) = scene.buildings;
    let (w, h) = (c.width as f32, c.height as f32);
    for _ in 0..n {
        let bw = w * (0.04 + rng.gen::<f32>() * 0.1);
        let bh = h * (0.1 + rng.gen::<f32>() * 0.35);
        let x0 = rng.gen::<f32>() * (w - bw);
        let base = hz + rng.gen::<f32>() * h * 0.04;
        let shade = 0.7 + rng.gen::<f32>() * 0.5;
        let body = colour.map(|v| (v * shade).min(1.0));
        let window = scene.accents[rng.gen_range(0..scene.accents.len())];
        let lit = if scene.night {
            mix(window, [1.0, 0.9, 0.5], 0.6)
        } else {
            mix(body, [0.2, 0.25, 0.35], 0.6)
        };
        let cell = (bw / 5.0).max(2.0);
        fill_rect(c, x0, base - bh, bw, bh, |x, y| {
            let (gx, gy) = ((x - x0) / cell, (y - (base - bh)) / cell);
            if gx.fract() > 0.35 && gy.fract() > 0.4 && gx > 0.5 && gx < bw / cell - 0.5 {
                lit
            } else {
                body
            }
        });
    }
}

fn fill_rect(
    c: &mut Canvas,
    x0: f32,
    y0: f32,
    w: f32,
    h: f32,
    colour: impl Fn(f32, f32) -> [f32; 3],
) {
    let xa = x0.max(0.0) as usize;
    let xb = ((x0 + w).ceil() as usize).min(c.width);
    let ya = y0.max(0.0) as usize;
    let yb = ((y0 + h).ceil() as usize).min(c.height);
    for y in ya..yb {
        for x in xa..xb {
            c.px[y * c.width + x] = colour(x as f32, y as f32);
        }
    }
}

fn draw_trees(scene: &Scene, c: &mut Canvas, hz: f32, texture: &[f32], rng: &mut ChaCha8Rng) {
    let (n, colour) = scene.trees;
    let (w, h) = (c.width as f32, c.height as f32);
    let mut trees: Vec<(f32, f32, f32, bool)> = (0..n)
        .map(|_| {
            let depth = rng.gen::<f32>();
            let base = hz + depth * (h - hz) * 0.9;
            let size = h * (0.06 + 0.2 * depth);
            (rng.gen::<f32>() * w, base, size, rng.gen::<bool>())
        })
        .collect();
    trees.sort_by(|a, b| a.1.total_cmp(&b.1));
    for (tx, base, size, pine) in trees {
        let trunk = [0.3, 0.2, 0.1];
        fill_rect(
            c,
            tx - size * 0.05,
            base - size * 0.35,
            size * 0.1,
            size * 0.35,
            |_, _| trunk,
        );
        let (cx, cy, r) = (tx, base - size * 0.6, size * 0.4);
        let (xa, xb) = (
            (cx - r).max(0.0) as usize,
            ((cx + r).ceil() as usize).min(c.width),
        );
        let (ya, yb) = (
            (base - size * 1.2).max(0.0) as usize,
            ((base - size * 0.25).ceil() as usize).min(c.height),
        );
        for y in ya..yb {
            for x in xa..xb {
                let (dx, dy) = (x as f32 - cx, y as f32 - cy);
                let inside = if pine {
                    let t = (y as f32 - (base - size * 1.2)) / (size * 0.95);
                    dx.abs() < r * t
                } else {
                    dx * dx + dy * dy < r * r
                };
                if inside {
                    let i = y * c.width + x;
                    let shade = 0.7 + 0.6 * (texture[i] - 0.5) - 0.2 * dx / r;
                    c.px[i] = colour.map(|v| (v * shade).clamp(0.0, 1.0));
                }
            }
        }
    }
}

fn draw_shapes(scene: &Scene, c: &mut Canvas, texture: &[f32], rng: &mut ChaCha8Rng) {
    if scene.shapes == 0 {
        return;
    }
    let (w, h) = (c.width as f32, c.height as f32);
    if scene.horizon >= 1.0 {
        // Abstract scenes get a background wash between two accents.
        let (a, b) = (
            scene.accents[0].map(|v| v * 0.35 + 0.1),
            scene.accents[scene.accents.len() - 1],
        );
        for (i, p) in c.px.iter_mut().enumerate() {
            let (x, y) = ((i % c.width) as f32 / w, (i / c.width) as f32 / h);
            *p = mix(
                a,
                b.map(|v| v * 0.6),
                (0.6 * x + 0.4 * y + 0.5 * (texture[i] - 0.5)).clamp(0.0, 1.0),
            );
        }
    }
    for _ in 0..scene.shapes {
        let colour = scene.accents[rng.gen_range(0..scene.accents.len())]
            .map(|v| (v * (0.7 + rng.gen::<f32>() * 0.5)).min(1.0));
        let (cx, cy) = (rng.gen::<f32>() * w, rng.gen::<f32>() * h);
        let r = w.min(h) * (0.04 + rng.gen::<f32>() * 0.16);
        let square = rng.gen::<f32>() < 0.4;
        let alpha = 0.6 + rng.gen::<f32>() * 0.4;
        let (xa, xb) = (
            (cx - r).max(0.0) as usize,
            ((cx + r).ceil() as usize).min(c.width),
        );
        let (ya, yb) = (
            (cy - r).max(0.0) as usize,
            ((cy + r).ceil() as usize).min(c.height),
        );
        for y in ya..yb {
            for x in xa..xb {
                let (dx, dy) = (x as f32 - cx, y as f32 - cy);
                let d = if square {
                    dx.abs().max(dy.abs())
                } else {
                    (dx * dx + dy * dy).sqrt()
                };
                let edge = (r - d).clamp(0.0, 1.0);
                if edge > 0.0 {
                    let i = y * c.width + x;
                    c.px[i] = mix(c.px[i], colour, alpha * edge);
                }
            }
        }
    }
}

fn style_pass(style: Style, c: &mut Canvas, texture: &[f32]) {
    let (w, h) = (c.width, c.height);
    match style {
        Style::Plain => {}
        Style::Watercolor => {
            *c = c.box_blur((w.max(h) / 200).max(1));
            for (p, t) in c.px.iter_mut().zip(texture) {
                *p = p.map(|v| (v * 0.85 + 0.15 + 0.06 * (t - 0.5)).min(1.0));
            }
        }
        Style::Oil => {
            for (i, p) in c.px.iter_mut().enumerate() {
                let stroke = texture[(i / w) * w + ((i % w) * 3 + i / w) % w];
                *p = p.map(|v| {
                    ((v * 10.0 + stroke).floor() / 10.0 * (0.92 + 0.16 * stroke)).clamp(0.0, 1.0)
                });
            }
        }
        Style::Pixel => {
            let block = (w.max(h) / 64).max(2);
            for by in (0..h).step_by(block) {
                for bx in (0..w).step_by(block) {
                    let p = c.px[by * w + bx].map(|v| (v * 5.0).round() / 5.0);
                    for y in by..(by + block).min(h) {
                        for x in bx..(bx + block).min(w) {
                            c.px[y * w + x] = p;
                        }
                    }
                }
            }
        }
        Style::Sketch => {
            let src = c.clone();
            for y in 0..h {
                for x in 0..w {
                    let (xi, yi) = (x as isize, y as isize);
                    let gx = luma(src.at(xi + 1, yi)) - luma(src.at(xi - 1, yi));
                    let gy = luma(src.at(xi, yi + 1)) - luma(src.at(xi, yi - 1));
                    let edge = ((gx * gx + gy * gy).sqrt() * 6.0).min(1.0);
                    let paper = 0.93 + 0.05 * (texture[y * w + x] - 0.5);
                    let tone = 0.75 + 0.25 * luma(src.px[y * w + x]);
                    c.px[y * w + x] = [paper * tone * (1.0 - 0.85 * edge); 3];
                }
            }
        }
        Style::Neon => {
            let src = c.clone();
            for y in 0..h {
                for x in 0..w {
                    let (xi, yi) = (x as isize, y as isize);
                    let a = src.at(xi + 1, yi);
                    let b = src.at(xi, yi + 1);
                    let p = src.px[y * w + x];
                    let edge =
                        ((a[0] - p[0]).abs() + (a[1] - p[1]).abs() + (b[2] - p[2]).abs()).min(1.0);
                    c.px[y * w + x] = p.map(|v| v * 0.35 + edge * 1.5 * v.max(0.3));
                }
            }
            *c = c.unsharp(2, -0.5);
        }
        Style::Flat => {
            for p in &mut c.px {
                *p = p.map(|v| (v * 4.0).round() / 4.0);
            }
        }
        Style::Photo => {
            let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
            let r2 = cx * cx + cy * cy;
            for (i, p) in c.px.iter_mut().enumerate() {
                let (dx, dy) = ((i % w) as f32 - cx, (i / w) as f32 - cy);
                let v = 1.0 - 0.35 * (dx * dx + dy * dy) / r2;
                *p = p.map(|c| c * v);
            }
            *c = c.unsharp(1, 0.6);
        }
    }
}

/// Guidance: contrast and saturation grow with the guidance scale (7 is neutral-strong).
fn guidance(c: &mut Canvas, cfg: f32) {
    let k = (0.75 + 0.05 * cfg).clamp(0.6, 1.5);
    let sat = (0.7 + 0.06 * cfg).clamp(0.5, 1.6);
    for p in &mut c.px {
        let l = luma(*p);
        *p = p.map(|v| ((l + (v - l) * sat - 0.5) * k + 0.5).clamp(0.0, 1.0));
    }
}
