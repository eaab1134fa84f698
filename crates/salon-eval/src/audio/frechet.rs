//! Gaussian statistics of feature vectors and the Frechet distance between two of them
//! (the FAD formula, over any features), with a small symmetric eigen-solver for the matrix root.

use serde::{Deserialize, Serialize};

/// Mean and covariance of a set of d-dimensional vectors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GaussianStats {
    /// Mean vector (d).
    pub mean: Vec<f64>,
    /// Covariance, row-major (d x d).
    pub cov: Vec<f64>,
    /// How many vectors produced these statistics.
    pub count: usize,
}

impl GaussianStats {
    /// Statistics of `rows` (each of length `dim`); None when there are fewer than two rows.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = &'a [f32]>, dim: usize) -> Option<Self> {
        let mut sum = vec![0.0f64; dim];
        let mut outer = vec![0.0f64; dim * dim];
        let mut count = 0usize;
        for row in rows {
            count += 1;
            for i in 0..dim {
                let xi = row[i] as f64;
                sum[i] += xi;
                for j in i..dim {
                    outer[i * dim + j] += xi * row[j] as f64;
                }
            }
        }
        if count < 2 {
            return None;
        }
        let n = count as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let mut cov = vec![0.0f64; dim * dim];
        for i in 0..dim {
            for j in i..dim {
                let c = (outer[i * dim + j] - n * mean[i] * mean[j]) / (n - 1.0);
                cov[i * dim + j] = c;
                cov[j * dim + i] = c;
            }
        }
        Some(Self { mean, cov, count })
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }
}

/// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations: (eigenvalues, eigenvectors
/// as columns, row-major).
fn symmetric_eigen(a: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut m = a.to_vec();
    let mut v = vec![0.0f64; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..60 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i * n + j].powi(2))
            .sum();
        let diag: f64 = (0..n).map(|i| m[i * n + i].powi(2)).sum();
        if off <= 1e-22 * diag.max(1e-300) {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = m[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (m[k * n + p], m[k * n + q]);
                    m[k * n + p] = c * akp - s * akq;
                    m[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (m[p * n + k], m[q * n + k]);
                    m[p * n + k] = c * apk - s * aqk;
                    m[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| m[i * n + i]).collect(), v)
}

/// Square root of a symmetric positive semi-definite matrix (negative eigenvalues clipped to 0).
fn sqrt_psd(a: &[f64], n: usize) -> Vec<f64> {
    let (vals, vecs) = symmetric_eigen(a, n);
    let mut out = vec![0.0f64; n * n];
    for (k, &val) in vals.iter().enumerate() {
        let s = val.max(0.0).sqrt();
        if s == 0.0 {
            continue;
        }
        for i in 0..n {
            let vi = vecs[i * n + k] * s;
            for j in 0..n {
                out[i * n + j] += vi * vecs[j * n + k];
            }
        }
    }
    out
}

fn matmul(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut out = vec![0.0f64; n * n];
    for i in 0..n {
        for k in 0..n {
            let aik = a[i * n + k];
            for j in 0..n {
                out[i * n + j] += aik * b[k * n + j];
            }
        }
    }
    out
}

/// Frechet distance between two Gaussians:
/// |mu1 - mu2|^2 + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2). Panics if the dimensions differ.
pub fn frechet_distance(a: &GaussianStats, b: &GaussianStats) -> f64 {
    let n = a.dim();
    assert_eq!(
        n,
        b.dim(),
        "frechet_distance needs statistics of the same dimension"
    );
    let mean_term: f64 = a
        .mean
        .iter()
        .zip(&b.mean)
        .map(|(x, y)| (x - y).powi(2))
        .sum();
    let root_a = sqrt_psd(&a.cov, n);
    let inner = matmul(&matmul(&root_a, &b.cov, n), &root_a, n);
    // Symmetrise against rounding before the root.
    let mut sym = inner.clone();
    for i in 0..n {
        for j in 0..n {
            sym[i * n + j] = 0.5 * (inner[i * n + j] + inner[j * n + i]);
        }
    }
    let (vals, _) = symmetric_eigen(&sym, n);
    let tr_root: f64 = vals.iter().map(|v| v.max(0.0).sqrt()).sum();
    let tr_a: f64 = (0..n).map(|i| a.cov[i * n + i]).sum();
    let tr_b: f64 = (0..n).map(|i| b.cov[i * n + i]).sum();
    (mean_term + tr_a + tr_b - 2.0 * tr_root).max(0.0)
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
