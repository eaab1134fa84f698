//! Structural similarity (SSIM, Wang et al. 2004) of two grey thumbnails, over 8x8 windows with a
//! stride of 4, using the standard constants C1 = (0.01 L)^2 and C2 = (0.03 L)^2 with L = 1.

use super::hash::Grey;

/// Mean SSIM over windows; 0 when the thumbnails differ in size or are smaller than a window.
pub fn ssim(a: &Grey, b: &Grey) -> f64 {
    const WIN: usize = 8;
    const STRIDE: usize = 4;
    const C1: f64 = 0.0001;
    const C2: f64 = 0.0009;
    if a.width != b.width || a.height != b.height || a.width < WIN || a.height < WIN {
        return 0.0;
    }
    let (mut total, mut count) = (0.0f64, 0usize);
    for y0 in (0..=a.height - WIN).step_by(STRIDE) {
        for x0 in (0..=a.width - WIN).step_by(STRIDE) {
            let (mut sa, mut sb, mut saa, mut sbb, mut sab) = (0.0f64, 0.0, 0.0, 0.0, 0.0);
            for y in y0..y0 + WIN {
                for x in x0..x0 + WIN {
                    let (p, q) = (a.v[y * a.width + x] as f64, b.v[y * b.width + x] as f64);
                    sa += p;
                    sb += q;
                    saa += p * p;
                    sbb += q * q;
                    sab += p * q;
                }
            }
            let n = (WIN * WIN) as f64;
            let (ma, mb) = (sa / n, sb / n);
            let va = (saa / n - ma * ma).max(0.0);
            let vb = (sbb / n - mb * mb).max(0.0);
            let cov = sab / n - ma * mb;
            total += ((2.0 * ma * mb + C1) * (2.0 * cov + C2))
                / ((ma * ma + mb * mb + C1) * (va + vb + C2));
            count += 1;
        }
    }
    total / count as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey(f: impl Fn(usize, usize) -> f32) -> Grey {
        let v = (0..32 * 32).map(|i| f(i % 32, i / 32)).collect();
        Grey {
            width: 32,
            height: 32,
            v,
        }
    }

    #[test]
    fn identical_is_one_inverted_is_negative_and_shifted_mean_is_lower() {
        let a = grey(|x, y| ((x * 7 + y * 3) % 11) as f32 / 10.0);
        assert!((ssim(&a, &a) - 1.0).abs() < 1e-9);
        let inv = Grey {
            v: a.v.iter().map(|v| 1.0 - v).collect(),
            ..a.clone()
        };
        assert!(ssim(&a, &inv) < 0.0);
        let dim = Grey {
            v: a.v.iter().map(|v| v * 0.5).collect(),
            ..a.clone()
        };
        let s = ssim(&a, &dim);
        assert!(s > 0.5 && s < 0.95, "{s}");
    }
}
