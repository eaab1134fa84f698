//! The Frechet distance between two Gaussians, as the FAD peers define it:
//! |mu1 - mu2|^2 + Tr S1 + Tr S2 - 2 Tr sqrtm(S1 S2), in f64 with faer.
//!
//! Tr sqrtm(S1 S2) = sum sqrt(eig(A S2 A)) with A = S1^(1/2), using symmetric eigendecompositions
//! only (negative eigenvalues from rounding clamped to 0). When the product is near-singular the
//! peers retry with eps * I added to both covariances; so does [`frechet_report`].

use super::{FadError, GaussianStats};
use faer::{Mat, Side};

/// The peers' offset added to both covariances when their product is near-singular.
pub const DEFAULT_EPS: f64 = 1e-6;

/// Smallest eigenvalue of A S2 A, relative to the largest, under which the product counts as
/// near-singular (rank-deficient in f64).
const SINGULAR_RATIO: f64 = 1e-12;

/// A Frechet distance with how it was obtained.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct FrechetReport {
    /// The distance (clamped at 0 against rounding).
    pub distance: f64,
    /// |mu1 - mu2|^2.
    pub mean_term: f64,
    /// Tr S1 + Tr S2 - 2 Tr sqrtm(S1 S2).
    pub cov_term: f64,
    /// Whether eps * I was added to both covariances because the product was near-singular.
    pub eps_retry: bool,
}

/// Frechet distance between `a` and `b` (see the module doc), with the peers' eps retry.
pub fn frechet_distance(a: &GaussianStats, b: &GaussianStats) -> Result<f64, FadError> {
    Ok(frechet_report(a, b, DEFAULT_EPS)?.distance)
}

/// Frechet distance between `a` and `b` with its parts; `eps` is added to both covariances'
/// diagonals when S1 S2 is near-singular (pass 0 to never retry).
pub fn frechet_report(
    a: &GaussianStats,
    b: &GaussianStats,
    eps: f64,
) -> Result<FrechetReport, FadError> {
    let d = a.dim();
    if d != b.dim() {
        return Err(FadError::DimensionMismatch(d, b.dim()));
    }
    if a.cov.len() != d * d || b.cov.len() != d * d {
        return Err(FadError::Shape {
            rows: d,
            dim: d,
            got: a.cov.len().min(b.cov.len()),
        });
    }
    let all = a.mean.iter().chain(&b.mean).chain(&a.cov).chain(&b.cov);
    if all.into_iter().any(|v| !v.is_finite()) {
        return Err(FadError::NotFinite);
    }
    let mean_term: f64 = a
        .mean
        .iter()
        .zip(&b.mean)
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    let (s1, s2) = (a.cov_mat(), b.cov_mat());
    let (mut tr_root, near_singular) = trace_sqrt_product(&s1, &s2)?;
    let traces = trace(&s1) + trace(&s2);
    let eps_retry = near_singular && eps > 0.0;
    if eps_retry {
        let offset =
            |m: &Mat<f64>| Mat::from_fn(d, d, |i, j| m[(i, j)] + if i == j { eps } else { 0.0 });
        let (s1e, s2e) = (offset(&s1), offset(&s2));
        // The peers keep the original traces; only the root term sees the offset.
        tr_root = trace_sqrt_product(&s1e, &s2e)?.0;
    }
    let cov_term = traces - 2.0 * tr_root;
    Ok(FrechetReport {
        distance: (mean_term + cov_term).max(0.0),
        mean_term,
        cov_term,
        eps_retry,
    })
}

fn trace(m: &Mat<f64>) -> f64 {
    (0..m.nrows()).map(|i| m[(i, i)]).sum()
}

/// (Tr sqrtm(S1 S2), whether S1 S2 is near-singular), through A = S1^(1/2) and eig(A S2 A).
fn trace_sqrt_product(s1: &Mat<f64>, s2: &Mat<f64>) -> Result<(f64, bool), FadError> {
    let d = s1.nrows();
    let evd = s1
        .self_adjoint_eigen(Side::Lower)
        .map_err(|_| FadError::NoConvergence)?;
    let (u, s) = (evd.U(), evd.S().column_vector());
    let roots: Vec<f64> = (0..d).map(|k| s[k].max(0.0).sqrt()).collect();
    let u_scaled = Mat::from_fn(d, d, |i, k| u[(i, k)] * roots[k]);
    let root = &u_scaled * u.transpose();
    let inner = &root * s2 * &root;
    let sym = Mat::from_fn(d, d, |i, j| 0.5 * (inner[(i, j)] + inner[(j, i)]));
    let vals = sym
        .self_adjoint_eigenvalues(Side::Lower)
        .map_err(|_| FadError::NoConvergence)?;
    let largest = vals.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let smallest = vals.iter().fold(f64::INFINITY, |m, &v| m.min(v));
    let near_singular = d > 0 && smallest <= SINGULAR_RATIO * largest;
    let tr = vals.iter().map(|v| v.max(0.0).sqrt()).sum();
    Ok((tr, near_singular))
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
    fn closed_form_for_commuting_covariances() {
        // Diagonal: |dmu|^2 + sum (sqrt a_i - sqrt b_i)^2.
        let a = stats(vec![0.0, 3.0], vec![9.0, 0.0, 0.0, 4.0]);
        let b = stats(vec![1.0, 1.0], vec![1.0, 0.0, 0.0, 1.0]);
        let r = frechet_report(&a, &b, DEFAULT_EPS).unwrap();
        assert!((r.mean_term - 5.0).abs() < 1e-12);
        assert!((r.cov_term - (4.0 + 1.0)).abs() < 1e-12);
        assert!(!r.eps_retry);
    }

    #[test]
    fn non_commuting_covariances_match_the_two_by_two_formula() {
        // For 2x2 SPD matrices, Tr sqrtm(M) = sqrt(tr M + 2 sqrt(det M)) where M = S1 S2.
        let s1: [f64; 4] = [2.0, 0.5, 0.5, 1.0];
        let s2: [f64; 4] = [1.0, -0.3, -0.3, 3.0];
        let m = [
            s1[0] * s2[0] + s1[1] * s2[2],
            s1[0] * s2[1] + s1[1] * s2[3],
            s1[2] * s2[0] + s1[3] * s2[2],
            s1[2] * s2[1] + s1[3] * s2[3],
        ];
        let det = m[0] * m[3] - m[1] * m[2];
        let tr_root = (m[0] + m[3] + 2.0 * det.sqrt()).sqrt();
        let expect = 3.0 + 4.0 - 2.0 * tr_root;
        let got = frechet_distance(
            &stats(vec![0.0; 2], s1.to_vec()),
            &stats(vec![0.0; 2], s2.to_vec()),
        )
        .unwrap();
        assert!((got - expect).abs() < 1e-12, "{got} vs {expect}");
    }

    #[test]
    fn singular_products_retry_with_eps_as_the_peers() {
        // Rank-1 covariance: the product is singular, so eps * I goes onto both.
        let a = stats(vec![0.0; 2], vec![1.0, 1.0, 1.0, 1.0]);
        let b = stats(vec![0.0; 2], vec![2.0, 0.0, 0.0, 0.5]);
        let r = frechet_report(&a, &b, 1e-6).unwrap();
        assert!(r.eps_retry);
        let plain = frechet_report(&a, &b, 0.0).unwrap();
        assert!(!plain.eps_retry);
        // The zero eigenvalue becomes O(eps), its root O(sqrt eps): a shift of about 1e-3.
        assert!((r.distance - plain.distance).abs() < 1e-2);
        assert!(r.distance != plain.distance);
    }

    #[test]
    fn mismatched_or_broken_inputs_are_errors() {
        let a = stats(vec![0.0; 2], vec![1.0, 0.0, 0.0, 1.0]);
        let b = stats(vec![0.0; 1], vec![1.0]);
        assert!(matches!(
            frechet_distance(&a, &b),
            Err(FadError::DimensionMismatch(2, 1))
        ));
        let nan = stats(vec![f64::NAN, 0.0], vec![1.0, 0.0, 0.0, 1.0]);
        assert!(matches!(
            frechet_distance(&a, &nan),
            Err(FadError::NotFinite)
        ));
    }
}
