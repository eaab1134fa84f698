//! FAD-inf as fadtk defines it: FAD of bootstrap subsets of n rows (drawn with replacement) for
//! n evenly spaced up to all rows, then a least-squares line of FAD over 1/n; the intercept is
//! the FAD extrapolated to infinitely many samples, free of the small-sample bias.

use super::{frechet_distance, Embeddings, FadError, GaussianStats};

/// Settings of [`fad_inf`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FadInfOptions {
    /// Number of subset sizes (fadtk: 25).
    pub steps: usize,
    /// Smallest subset size (fadtk: 500); lowered to the row count when there are fewer rows.
    pub min_n: usize,
    /// Seed of the bootstrap draws (deterministic results).
    pub seed: u64,
}

impl Default for FadInfOptions {
    fn default() -> Self {
        Self {
            steps: 25,
            min_n: 500,
            seed: 0,
        }
    }
}

/// The FAD-inf fit.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FadInf {
    /// FAD extrapolated to n -> infinity (the intercept).
    pub score: f64,
    /// Slope of FAD over 1/n.
    pub slope: f64,
    /// Coefficient of determination of the fit.
    pub r2: f64,
    /// (n, FAD) points of the fit.
    pub points: Vec<(usize, f64)>,
}

/// FAD-inf of `eval` against `reference` (see the module doc).
pub fn fad_inf(
    reference: &GaussianStats,
    eval: &Embeddings,
    opts: FadInfOptions,
) -> Result<FadInf, FadError> {
    if eval.dim != reference.dim() {
        return Err(FadError::DimensionMismatch(reference.dim(), eval.dim));
    }
    if eval.rows < 2 {
        return Err(FadError::TooFewRows(eval.rows));
    }
    let steps = opts.steps.max(2);
    let lo = opts.min_n.clamp(2, eval.rows);
    let hi = eval.rows;
    let mut sizes: Vec<usize> = (0..steps)
        .map(|k| lo + (hi - lo) * k / (steps - 1))
        .collect();
    sizes.dedup();
    if sizes.len() < 2 {
        // Too few rows for a spread of sizes: use half and all.
        sizes = vec![(hi / 2).max(2), hi];
        sizes.dedup();
        if sizes.len() < 2 {
            return Err(FadError::TooFewRows(eval.rows));
        }
    }
    let mut rng = SplitMix64(opts.seed);
    let mut points = Vec::with_capacity(sizes.len());
    for &n in &sizes {
        let mut data = Vec::with_capacity(n * eval.dim);
        for _ in 0..n {
            let i = (rng.next() % eval.rows as u64) as usize;
            data.extend_from_slice(eval.row(i));
        }
        let stats = Embeddings::new(n, eval.dim, data)?.stats()?;
        points.push((n, frechet_distance(&stats, reference)?));
    }
    let xs: Vec<f64> = points.iter().map(|&(n, _)| 1.0 / n as f64).collect();
    let ys: Vec<f64> = points.iter().map(|&(_, f)| f).collect();
    let (slope, score, r2) = line_fit(&xs, &ys);
    Ok(FadInf {
        score,
        slope,
        r2,
        points,
    })
}

/// Least-squares line y = slope x + intercept: (slope, intercept, r2).
fn line_fit(xs: &[f64], ys: &[f64]) -> (f64, f64, f64) {
    let n = xs.len() as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let sxy: f64 = xs.iter().zip(ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    let intercept = my - slope * mx;
    let ss_tot: f64 = ys.iter().map(|y| (y - my).powi(2)).sum();
    let ss_res: f64 = xs
        .iter()
        .zip(ys)
        .map(|(x, y)| (y - (slope * x + intercept)).powi(2))
        .sum();
    let r2 = if ss_tot > 0.0 {
        1.0 - ss_res / ss_tot
    } else {
        1.0
    };
    (slope, intercept, r2)
}

/// SplitMix64: a small, well-mixed deterministic generator for the bootstrap draws.
pub(crate) struct SplitMix64(pub u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    #[cfg(test)]
    pub(crate) fn uniform(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_fit_recovers_a_line() {
        let xs = [0.1, 0.2, 0.5];
        let ys: Vec<f64> = xs.iter().map(|x| 3.0 * x + 0.25).collect();
        let (s, i, r2) = line_fit(&xs, &ys);
        assert!((s - 3.0).abs() < 1e-12 && (i - 0.25).abs() < 1e-12 && (r2 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn fad_inf_removes_the_small_sample_bias() {
        // Both sides are N(0, I) in 4-D: the true FAD is 0; finite-n FAD is biased upwards by
        // about c/n, which the intercept removes.
        let d = 4;
        let mut rng = SplitMix64(7);
        let mut gauss = || {
            let (u1, u2) = (rng.uniform().max(1e-300), rng.uniform());
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
        };
        let reference: Vec<f64> = (0..20000 * d).map(|_| gauss()).collect();
        let reference = Embeddings::new(20000, d, reference)
            .unwrap()
            .stats()
            .unwrap();
        let eval: Vec<f64> = (0..2000 * d).map(|_| gauss()).collect();
        let eval = Embeddings::new(2000, d, eval).unwrap();
        let opts = FadInfOptions {
            steps: 10,
            min_n: 100,
            seed: 1,
        };
        let r = fad_inf(&reference, &eval, opts).unwrap();
        let smallest = r.points[0].1;
        assert_eq!(r.points.len(), 10);
        assert!(r.slope > 0.0, "bias should shrink with n: {r:?}");
        assert!(r.score.abs() < smallest / 2.0, "{r:?}");
    }
}
