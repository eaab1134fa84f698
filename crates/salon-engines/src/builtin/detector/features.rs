//! Forensic features of an image for real-vs-generated detection: sensor-noise level, NPR
//! (neighbouring-pixel relationship) residual energy, spectral slope from structure functions,
//! saturation and the share of perfectly flat pixels. Black rotation fill is ignored.

use salon_core::Image;

/// Number of features in [`features`].
pub const COUNT: usize = 6;

/// Names of the features, in order, for reports and the fitting script.
pub const NAMES: [&str; COUNT] = [
    "log_noise",
    "log_npr",
    "slope_1_2",
    "slope_2_4",
    "saturation",
    "flat_share",
];

/// The feature vector of `img` (any size; at least 8 x 8 for meaningful values).
pub fn features(img: &Image) -> [f32; COUNT] {
    let (w, h) = (img.width as usize, img.height as usize);
    if w < 8 || h < 8 || img.rgb.len() != w * h * 3 {
        return [0.0; COUNT];
    }
    let g: Vec<f32> = img
        .rgb
        .chunks_exact(3)
        .map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32)
        .collect();
    let valid = |i: usize| g[i] > 1.5;
    // Immerkaer's noise operator [1 -2 1; -2 4 -2; 1 -2 1].
    let mut lap = Vec::with_capacity(w * h);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            if !(valid(i - w - 1) && valid(i + w + 1) && valid(i - w + 1) && valid(i + w - 1)) {
                continue;
            }
            let v = g[i - w - 1] + g[i - w + 1] + g[i + w - 1] + g[i + w + 1]
                - 2.0 * (g[i - 1] + g[i + 1] + g[i - w] + g[i + w])
                + 4.0 * g[i];
            lap.push(v.abs());
        }
    }
    if lap.is_empty() {
        return [0.0; COUNT];
    }
    let flat = lap.iter().filter(|&&v| v < 1.0).count() as f32 / lap.len() as f32;
    let mid = lap.len() / 2;
    let median = *lap.select_nth_unstable_by(mid, |a, b| a.total_cmp(b)).1;
    // NPR: difference from the nearest-neighbour upsampling of the 2x downsampled image.
    let (mut npr, mut npr_n) = (0.0f64, 0usize);
    for y in 0..h & !1 {
        for x in 0..w & !1 {
            if (x | y) & 1 == 0 {
                continue;
            }
            let (i, anchor) = (y * w + x, (y & !1) * w + (x & !1));
            if valid(i) && valid(anchor) {
                npr += (g[i] - g[anchor]).abs() as f64;
                npr_n += 1;
            }
        }
    }
    let structure = |lag: usize| -> f64 {
        let (mut s, mut n) = (0.0f64, 0usize);
        for y in 0..h - lag {
            for x in 0..w - lag {
                let i = y * w + x;
                if valid(i) && valid(i + lag) && valid(i + lag * w) {
                    s += ((g[i + lag] - g[i]).powi(2) + (g[i + lag * w] - g[i]).powi(2)) as f64;
                    n += 2;
                }
            }
        }
        s / n.max(1) as f64 + 0.01
    };
    let (e1, e2, e4) = (structure(1), structure(2), structure(4));
    let (mut sat, mut sat_n) = (0.0f64, 0usize);
    for (i, p) in img.rgb.chunks_exact(3).enumerate() {
        if valid(i) {
            let (mx, mn) = (p.iter().max().unwrap_or(&0), p.iter().min().unwrap_or(&0));
            sat += (mx - mn) as f64 / 255.0;
            sat_n += 1;
        }
    }
    [
        (1.0 + median).ln(),
        (0.1 + npr / npr_n.max(1) as f64).ln() as f32,
        (e2 / e1).ln() as f32,
        (e4 / e2).ln() as f32,
        (sat / sat_n.max(1) as f64) as f32,
        flat,
    ]
}
