//! Gaussian statistics of feature vectors and the Frechet distance between two of them (the FAD
//! formula, over any features). The computation lives in [`crate::fad`] (faer, f64); this module
//! keeps the infallible form the built-in evaluators use.

pub use crate::fad::GaussianStats;

/// Frechet distance between two Gaussians:
/// |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2), with the peers' eps retry when the
/// product is near-singular. Panics if the dimensions differ; infinite if the statistics hold
/// NaN or the eigen-solver does not converge.
pub fn frechet_distance(a: &GaussianStats, b: &GaussianStats) -> f64 {
    assert_eq!(
        a.dim(),
        b.dim(),
        "frechet_distance needs statistics of the same dimension"
    );
    crate::fad::frechet_distance(a, b).unwrap_or(f64::INFINITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(mean: Vec<f64>, cov: Vec<f64>) -> GaussianStats {
        GaussianStats {
            mean,
            cov,
            count: 10,
        }
    }

    #[test]
    fn frechet_matches_the_closed_forms() {
        // Diagonal covariances: d = |dmu|^2 + sum (sqrt(a_i) - sqrt(b_i))^2.
        let a = stats(
            vec![0.0, 1.0, 2.0],
            vec![4.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 9.0],
        );
        let b = stats(
            vec![1.0, 1.0, 0.0],
            vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 4.0],
        );
        let expect = (1.0 + 0.0 + 4.0) + (1.0 + 0.0 + 1.0);
        assert!((frechet_distance(&a, &b) - expect).abs() < 1e-9);
        assert!(frechet_distance(&a, &a).abs() < 1e-9);
        // A rotated, non-diagonal covariance against itself is still 0.
        let c = stats(vec![0.0, 0.0], vec![2.0, 1.0, 1.0, 2.0]);
        assert!(frechet_distance(&c, &c).abs() < 1e-9);
        // Against the identity: tr(C) + 2 - 2 tr(C^1/2) with eigenvalues 3 and 1.
        let i2 = stats(vec![0.0, 0.0], vec![1.0, 0.0, 0.0, 1.0]);
        let expect = 4.0 + 2.0 - 2.0 * (3f64.sqrt() + 1.0);
        assert!((frechet_distance(&c, &i2) - expect).abs() < 1e-9);
    }

    #[test]
    fn stats_of_rows() {
        let rows: Vec<[f32; 2]> = vec![[1.0, 2.0], [3.0, 2.0], [5.0, 2.0]];
        let s = GaussianStats::from_rows(rows.iter().map(|r| &r[..]), 2).unwrap();
        assert_eq!(s.mean, vec![3.0, 2.0]);
        assert_eq!(s.cov, vec![4.0, 0.0, 0.0, 0.0]);
        assert!(GaussianStats::from_rows(rows[..1].iter().map(|r| &r[..]), 2).is_none());
    }
}
