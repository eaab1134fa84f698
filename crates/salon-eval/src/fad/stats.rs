//! Embedding matrices ([n, d], row-major) and their Gaussian statistics (mean, covariance with
//! n - 1), computed in f64 with a centred two-pass product.

use super::FadError;
use faer::linalg::matmul::triangular::{self, BlockStructure};
use faer::{Accum, Mat, Par};
use serde::{Deserialize, Serialize};

/// A row-major [rows, dim] matrix of embeddings, one row per frame or clip.
#[derive(Clone, Debug, PartialEq)]
pub struct Embeddings {
    /// Number of rows (embedding vectors).
    pub rows: usize,
    /// Embedding dimension.
    pub dim: usize,
    /// rows * dim values, row after row.
    pub data: Vec<f64>,
}

impl Embeddings {
    /// Wraps `data` as [rows, dim]; an error if the length does not match.
    pub fn new(rows: usize, dim: usize, data: Vec<f64>) -> Result<Self, FadError> {
        if data.len() != rows * dim {
            return Err(FadError::Shape {
                rows,
                dim,
                got: data.len(),
            });
        }
        Ok(Self { rows, dim, data })
    }

    /// Widens f32 embeddings (exactly) to f64.
    pub fn from_f32(rows: usize, dim: usize, data: &[f32]) -> Result<Self, FadError> {
        Self::new(rows, dim, data.iter().map(|&v| v as f64).collect())
    }

    /// Stacks rows of equal length; an error if a row's length differs from `dim`.
    pub fn from_rows<'a>(
        rows: impl IntoIterator<Item = &'a [f32]>,
        dim: usize,
    ) -> Result<Self, FadError> {
        let mut data = Vec::new();
        let mut n = 0;
        for row in rows {
            if row.len() != dim {
                return Err(FadError::Shape {
                    rows: n + 1,
                    dim,
                    got: data.len() + row.len(),
                });
            }
            data.extend(row.iter().map(|&v| v as f64));
            n += 1;
        }
        Self::new(n, dim, data)
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Appends the rows of `other` (same dimension).
    pub fn extend(&mut self, other: &Embeddings) -> Result<(), FadError> {
        if self.rows > 0 && other.dim != self.dim {
            return Err(FadError::DimensionMismatch(self.dim, other.dim));
        }
        self.dim = other.dim;
        self.rows += other.rows;
        self.data.extend_from_slice(&other.data);
        Ok(())
    }

    /// Mean and covariance of the rows.
    pub fn stats(&self) -> Result<GaussianStats, FadError> {
        GaussianStats::from_embeddings(self)
    }
}

/// Mean and covariance of a set of d-dimensional vectors.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GaussianStats {
    /// Mean vector (d).
    pub mean: Vec<f64>,
    /// Covariance with the n - 1 denominator, row-major (d x d).
    pub cov: Vec<f64>,
    /// How many vectors produced these statistics.
    pub count: usize,
}

impl GaussianStats {
    /// Statistics of `rows` (each of length `dim`); None when there are fewer than two rows.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = &'a [f32]>, dim: usize) -> Option<Self> {
        let e = Embeddings::from_rows(rows, dim).ok()?;
        Self::from_embeddings(&e).ok()
    }

    /// Statistics of an [n, d] matrix: mean, and covariance (X - mean)^T (X - mean) / (n - 1).
    pub fn from_embeddings(e: &Embeddings) -> Result<Self, FadError> {
        let (n, d) = (e.rows, e.dim);
        if n < 2 {
            return Err(FadError::TooFewRows(n));
        }
        if e.data.iter().any(|v| !v.is_finite()) {
            return Err(FadError::NotFinite);
        }
        let mut mean = vec![0.0f64; d];
        for i in 0..n {
            for (m, v) in mean.iter_mut().zip(e.row(i)) {
                *m += v;
            }
        }
        for m in &mut mean {
            *m /= n as f64;
        }
        // Transposed, [d, n] column-major: each column is one row of the row-major input, so it
        // is filled by contiguous reads.
        let centred_t = Mat::<f64>::from_fn(d, n, |j, i| e.data[i * d + j] - mean[j]);
        // Only the lower triangle of the symmetric product, on every core; the upper is its
        // mirror, so the result is exactly symmetric.
        let mut product = Mat::<f64>::zeros(d, d);
        triangular::matmul(
            product.as_mut(),
            BlockStructure::TriangularLower,
            Accum::Replace,
            centred_t.as_ref(),
            BlockStructure::Rectangular,
            centred_t.transpose(),
            BlockStructure::Rectangular,
            1.0 / (n as f64 - 1.0),
            Par::rayon(0),
        );
        let mut cov = vec![0.0f64; d * d];
        for j in 0..d {
            for i in j..d {
                cov[i * d + j] = product[(i, j)];
                cov[j * d + i] = product[(i, j)];
            }
        }
        Ok(Self {
            mean,
            cov,
            count: n,
        })
    }

    /// Dimension.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The covariance as a faer matrix.
    pub fn cov_mat(&self) -> Mat<f64> {
        let d = self.dim();
        Mat::from_fn(d, d, |i, j| self.cov[i * d + j])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covariance_uses_n_minus_one_and_centres() {
        // Large offset: a one-pass sum of squares would lose the small spread.
        let rows = [[1e8 + 1.0, 2.0], [1e8 + 3.0, 4.0], [1e8 + 5.0, 0.0]];
        let e = Embeddings::new(3, 2, rows.iter().flatten().copied().collect()).unwrap();
        let s = e.stats().unwrap();
        assert_eq!(s.mean, vec![1e8 + 3.0, 2.0]);
        // var x = (4 + 0 + 4) / 2 = 4; var y = (0 + 4 + 4) / 2 = 4; cov = (-2*0 + 0 + 2*-2) / 2 = -2.
        assert_eq!(s.cov, vec![4.0, -2.0, -2.0, 4.0]);
        assert_eq!(s.count, 3);
    }

    #[test]
    fn bad_shapes_and_values_are_errors() {
        assert!(matches!(
            Embeddings::new(2, 3, vec![0.0; 5]),
            Err(FadError::Shape { got: 5, .. })
        ));
        let one = Embeddings::new(1, 2, vec![1.0, 2.0]).unwrap();
        assert!(matches!(one.stats(), Err(FadError::TooFewRows(1))));
        let nan = Embeddings::new(2, 1, vec![1.0, f64::NAN]).unwrap();
        assert!(matches!(nan.stats(), Err(FadError::NotFinite)));
    }
}
