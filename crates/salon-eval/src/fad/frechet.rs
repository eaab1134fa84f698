//! The Frechet distance between two Gaussians, as the FAD peers define it:
//! |mu1 - mu2|^2 + Tr S1 + Tr S2 - 2 Tr sqrtm(S1 S2), in f64 with faer.
//!
//! Tr sqrtm(S1 S2) = sum sqrt(eig(A S2 A)) with A = S1^(1/2), using symmetric eigendecompositions
//! only (negative eigenvalues from rounding clamped to 0). The peers retry with eps * I added to
//! both covariances when scipy's sqrtm comes back non-finite, and so does [`frechet_report`] when
//! its root does; scipy (1.17) returns finite roots even for rank-deficient products (one clip's
//! dozen rows at d = 128), and so does this method, so neither retries there and the two agree to
//! about 1e-8 relative. An earlier version also retried on merely ill-conditioned products, which
//! the peers do not: it moved such distances by about 1e-5.

use super::{FadError, GaussianStats};
use faer::{Mat, Side};

/// The peers' offset added to both covariances when the root of their product is not finite.
pub const DEFAULT_EPS: f64 = 1e-6;

/// A Frechet distance with how it was obtained.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct FrechetReport {
    /// The distance (clamped at 0 against rounding).
    pub distance: f64,
    /// |mu1 - mu2|^2.
    pub mean_term: f64,
    /// Tr S1 + Tr S2 - 2 Tr sqrtm(S1 S2).
    pub cov_term: f64,
    /// Whether eps * I was added to both covariances because the root was not finite.
    pub eps_retry: bool,
}

/// Frechet distance between `a` and `b` (see the module doc), with the peers' eps retry.
pub fn frechet_distance(a: &GaussianStats, b: &GaussianStats) -> Result<f64, FadError> {
    Ok(frechet_report(a, b, DEFAULT_EPS)?.distance)
}

/// Frechet distance between `a` and `b` with its parts; `eps` is added to both covariances'
/// diagonals when the root of S1 S2 is not finite (pass 0 to never retry).
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
    let mut tr_root = trace_sqrt_product(&s1, &s2)?;
    let traces = trace(&s1) + trace(&s2);
    let eps_retry = !tr_root.is_finite() && eps > 0.0;
    if eps_retry {
        let offset =
            |m: &Mat<f64>| Mat::from_fn(d, d, |i, j| m[(i, j)] + if i == j { eps } else { 0.0 });
        let (s1e, s2e) = (offset(&s1), offset(&s2));
        // The peers keep the original traces; only the root term sees the offset.
        tr_root = trace_sqrt_product(&s1e, &s2e)?;
    }
    let cov_term = traces - 2.0 * tr_root;
    if !cov_term.is_finite() {
        return Err(FadError::NotFinite);
    }
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

/// Tr sqrtm(S1 S2) through A = S1^(1/2) and eig(A S2 A).
fn trace_sqrt_product(s1: &Mat<f64>, s2: &Mat<f64>) -> Result<f64, FadError> {
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
    Ok(vals.iter().map(|v| v.max(0.0).sqrt()).sum())
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
    fn singular_products_need_no_retry_as_with_scipy() {
        // Rank-1 S1: S1 S2 = [[2, .5], [2, .5]] has eigenvalues 2.5 and 0, so Tr sqrtm = sqrt 2.5,
        // which scipy's sqrtm also gives (finite), so the peers do not add eps.
        let a = stats(vec![0.0; 2], vec![1.0, 1.0, 1.0, 1.0]);
        let b = stats(vec![0.0; 2], vec![2.0, 0.0, 0.0, 0.5]);
        let r = frechet_report(&a, &b, DEFAULT_EPS).unwrap();
        assert!(!r.eps_retry);
        let expect = 2.0 + 2.5 - 2.0 * 2.5f64.sqrt();
        assert!((r.distance - expect).abs() < 1e-12, "{}", r.distance);
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
