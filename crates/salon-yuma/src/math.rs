//! Vector and matrix operations of the epoch in I32F32: normalisation, top-k, the stake-weighted
//! median, clipping, interpolation and the bond EMAs, in sparse (`[(col, value)]` rows) and dense forms.

use crate::fixed::{sum, I32F32};

/// A sparse matrix: one `[(column, value)]` row per uid.
pub type SparseMatrix = Vec<Vec<(u16, I32F32)>>;
/// A dense matrix: one full row per uid.
pub type DenseMatrix = Vec<Vec<I32F32>>;

const Z: I32F32 = I32F32::ZERO;

/// Divides every element by the sum; leaves the vector unchanged when the sum is 0.
pub fn normalize(v: &mut [I32F32]) {
    let s = sum(v);
    if s != Z {
        v.iter_mut().for_each(|x| *x = x.sdiv(s));
    }
}

/// Divides every element by `total` unless it is 0.
pub fn normalize_using_sum(v: &mut [I32F32], total: I32F32) {
    if total != Z {
        v.iter_mut().for_each(|x| *x = x.sdiv(total));
    }
}

/// True when every element is zero.
pub fn is_zero(v: &[I32F32]) -> bool {
    v.iter().all(|&x| x == Z)
}

/// Marks the k largest values (stable ascending sort; the first n−k in that order are dropped).
pub fn is_topk(v: &[I32F32], k: usize) -> Vec<bool> {
    let n = v.len();
    let mut out = vec![true; n];
    if n <= k {
        return out;
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by_key(|&i| v[i]);
    for &i in &idx[..n - k] {
        out[i] = false;
    }
    out
}

/// Like [`is_topk`], but zero values never qualify.
pub fn is_topk_nonzero(v: &[I32F32], k: usize) -> Vec<bool> {
    let n = v.len();
    let mut out: Vec<bool> = v.iter().map(|&x| x != Z).collect();
    if n < k {
        return out;
    }
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by_key(|&i| v[i]);
    for &i in &idx[..n - k] {
        out[i] = false;
    }
    out
}

/// Stake-weighted median of `score` over the candidate indices `idx`, searching the stake interval
/// `[lo, hi]` for the point `minority` (subtensor's partition search; equal-to-pivot entries excluded).
pub fn weighted_median(
    stake: &[I32F32],
    score: &[I32F32],
    idx: &[usize],
    minority: I32F32,
    lo: I32F32,
    hi: I32F32,
) -> I32F32 {
    let mut cur: Vec<usize> = idx.to_vec();
    let mut lower = Vec::with_capacity(cur.len());
    let mut upper = Vec::with_capacity(cur.len());
    median_in_place(
        stake, score, &mut cur, &mut lower, &mut upper, minority, lo, hi,
    )
}

#[allow(clippy::too_many_arguments)]
fn median_in_place(
    stake: &[I32F32],
    score: &[I32F32],
    cur: &mut Vec<usize>,
    lower: &mut Vec<usize>,
    upper: &mut Vec<usize>,
    minority: I32F32,
    mut lo: I32F32,
    mut hi: I32F32,
) -> I32F32 {
    let cap = cur.len();
    for _ in 0..cap.max(1) {
        match cur.len() {
            0 => return Z,
            1 => return score[cur[0]],
            _ => {}
        }
        let pivot = score[cur[cur.len() / 2]];
        let (mut lo_stake, mut hi_stake) = (Z, Z);
        lower.clear();
        upper.clear();
        for &k in cur.iter() {
            let s = score[k];
            if s < pivot {
                lo_stake = lo_stake.sadd(stake[k]);
                lower.push(k);
            } else if s > pivot {
                hi_stake = hi_stake.sadd(stake[k]);
                upper.push(k);
            }
        }
        if minority < lo.sadd(lo_stake) && !lower.is_empty() {
            hi = lo.sadd(lo_stake);
            std::mem::swap(cur, lower);
        } else if hi.ssub(hi_stake) <= minority && !upper.is_empty() {
            lo = hi.ssub(hi_stake);
            std::mem::swap(cur, upper);
        } else {
            return pivot;
        }
    }
    Z
}

/// Column-wise stake-weighted median with majority `kappa` over a sparse score matrix (absent = 0).
pub fn weighted_median_col_sparse(
    stake: &[I32F32],
    score: &SparseMatrix,
    columns: usize,
    kappa: I32F32,
) -> Vec<I32F32> {
    let rows: Vec<usize> = (0..stake.len()).filter(|&r| stake[r] > Z).collect();
    let mut use_stake: Vec<I32F32> = rows.iter().map(|&r| stake[r]).collect();
    normalize(&mut use_stake);
    let k = rows.len();
    // Column-major scores of the staked rows.
    let mut by_col = vec![Z; columns * k];
    for (kk, &r) in rows.iter().enumerate() {
        for &(c, v) in &score[r] {
            if (c as usize) < columns {
                by_col[c as usize * k + kk] = v;
            }
        }
    }
    median_columns(&use_stake, &by_col, columns, kappa)
}

/// Column-wise stake-weighted median with majority `kappa` over a dense score matrix.
pub fn weighted_median_col(stake: &[I32F32], score: &DenseMatrix, kappa: I32F32) -> Vec<I32F32> {
    let columns = score.first().map_or(0, |r| r.len());
    let rows: Vec<usize> = (0..stake.len()).filter(|&r| stake[r] > Z).collect();
    let mut use_stake: Vec<I32F32> = rows.iter().map(|&r| stake[r]).collect();
    normalize(&mut use_stake);
    let k = rows.len();
    let mut by_col = vec![Z; columns * k];
    for (kk, &r) in rows.iter().enumerate() {
        for (c, &v) in score[r].iter().enumerate() {
            by_col[c * k + kk] = v;
        }
    }
    median_columns(&use_stake, &by_col, columns, kappa)
}

fn median_columns(
    use_stake: &[I32F32],
    by_col: &[I32F32],
    columns: usize,
    kappa: I32F32,
) -> Vec<I32F32> {
    let k = use_stake.len();
    let total = sum(use_stake);
    let minority = total.ssub(kappa);
    let mut cur = Vec::with_capacity(k);
    let mut lower = Vec::with_capacity(k);
    let mut upper = Vec::with_capacity(k);
    (0..columns)
        .map(|c| {
            let col = &by_col[c * k..(c + 1) * k];
            cur.clear();
            cur.extend(0..k);
            median_in_place(
                use_stake, col, &mut cur, &mut lower, &mut upper, minority, Z, total,
            )
        })
        .collect()
}

/// Divides each sparse row by its sum when the sum is positive.
pub fn row_normalize_sparse(m: &mut SparseMatrix) {
    for row in m.iter_mut() {
        let s = row.iter().fold(Z, |a, &(_, v)| a.sadd(v));
        if s > Z {
            row.iter_mut().for_each(|(_, v)| *v = v.sdiv(s));
        }
    }
}

/// Divides each sparse column by its sum; zero-sum columns are left as they are.
pub fn col_normalize_sparse(m: &mut SparseMatrix, columns: usize) {
    let mut sums = vec![Z; columns];
    for row in m.iter() {
        for &(c, v) in row {
            sums[c as usize] = sums[c as usize].sadd(v);
        }
    }
    for row in m.iter_mut() {
        for (c, v) in row.iter_mut() {
            let s = sums[*c as usize];
            if s != Z {
                *v = v.sdiv(s);
            }
        }
    }
}

/// Divides each sparse column by its maximum when that maximum is positive.
pub fn col_max_upscale_sparse(m: &mut SparseMatrix, columns: usize) {
    let mut maxes = vec![Z; columns];
    for row in m.iter() {
        for &(c, v) in row {
            maxes[c as usize] = maxes[c as usize].max(v);
        }
    }
    for row in m.iter_mut() {
        for (c, v) in row.iter_mut() {
            let mx = maxes[*c as usize];
            if mx > Z {
                *v = v.sdiv(mx);
            }
        }
    }
}

/// Clips each sparse column at `threshold`; entries above a non-positive threshold are removed.
pub fn col_clip_sparse(m: &SparseMatrix, threshold: &[I32F32]) -> SparseMatrix {
    m.iter()
        .map(|row| {
            row.iter()
                .filter_map(|&(c, v)| {
                    let t = threshold[c as usize];
                    if t < v {
                        (Z < t).then_some((c, t))
                    } else {
                        Some((c, v))
                    }
                })
                .collect()
        })
        .collect()
}

/// Row sums of a sparse matrix.
pub fn row_sum_sparse(m: &SparseMatrix) -> Vec<I32F32> {
    m.iter()
        .map(|row| row.iter().fold(Z, |a, &(_, v)| a.sadd(v)))
        .collect()
}

/// `r_j = Σ_i v_i · m_ij` (stake-weighted column sums).
pub fn matmul_sparse(m: &SparseMatrix, v: &[I32F32], columns: usize) -> Vec<I32F32> {
    let mut out = vec![Z; columns];
    for (i, row) in m.iter().enumerate() {
        for &(c, x) in row {
            out[c as usize] = out[c as usize].sadd(v[i].smul(x));
        }
    }
    out
}

/// `r_i = Σ_j m_ij · v_j` (row-wise dot product with a column vector).
pub fn matmul_transpose_sparse(m: &SparseMatrix, v: &[I32F32]) -> Vec<I32F32> {
    m.iter()
        .map(|row| {
            row.iter()
                .fold(Z, |a, &(c, x)| a.sadd(v[c as usize].smul(x)))
        })
        .collect()
}

/// `m_ij · v_i` for every entry.
pub fn row_hadamard_sparse(m: &SparseMatrix, v: &[I32F32]) -> SparseMatrix {
    m.iter()
        .enumerate()
        .map(|(i, row)| row.iter().map(|&(c, x)| (c, x.smul(v[i]))).collect())
        .collect()
}

/// `a + ratio · (b − a)`: `a` itself for ratio 0, `b` itself for ratio 1, otherwise only entries > 0.
pub fn interpolate_sparse(
    a: &SparseMatrix,
    b: &SparseMatrix,
    columns: usize,
    ratio: I32F32,
) -> SparseMatrix {
    if ratio == Z {
        return a.clone();
    }
    if ratio == I32F32::ONE {
        return b.clone();
    }
    let mut scratch_b = vec![None::<I32F32>; columns];
    let mut seen = vec![false; columns];
    a.iter()
        .zip(b.iter())
        .map(|(ra, rb)| {
            for &(c, v) in rb {
                scratch_b[c as usize] = Some(v);
            }
            let mut out = Vec::with_capacity(ra.len());
            for &(c, va) in ra {
                let vb = scratch_b[c as usize].unwrap_or(Z);
                seen[c as usize] = true;
                let x = va.sadd(ratio.smul(vb.ssub(va)));
                if x > Z {
                    out.push((c, x));
                }
            }
            for &(c, vb) in rb {
                if !seen[c as usize] {
                    let x = ratio.smul(vb);
                    if x > Z {
                        out.push((c, x));
                    }
                }
            }
            for &(c, _) in ra.iter().chain(rb.iter()) {
                scratch_b[c as usize] = None;
                seen[c as usize] = false;
            }
            out
        })
        .collect()
}

/// `alpha · new + (1 − alpha) · old` per entry, keeping entries > 0, rows in ascending column order.
pub fn mat_ema_sparse(
    new: &SparseMatrix,
    old: &SparseMatrix,
    columns: usize,
    alpha: I32F32,
) -> SparseMatrix {
    let one_minus = I32F32::ONE.ssub(alpha);
    let mut acc = vec![Z; columns];
    let mut touched: Vec<u16> = Vec::new();
    let mut mark = vec![false; columns];
    new.iter()
        .zip(old.iter())
        .map(|(rn, ro)| {
            touched.clear();
            for &(c, v) in rn {
                let ci = c as usize;
                acc[ci] = acc[ci].sadd(alpha.smul(v));
                if !mark[ci] {
                    mark[ci] = true;
                    touched.push(c);
                }
            }
            for &(c, v) in ro {
                let ci = c as usize;
                acc[ci] = acc[ci].sadd(one_minus.smul(v));
                if !mark[ci] {
                    mark[ci] = true;
                    touched.push(c);
                }
            }
            touched.sort_unstable();
            let mut out = Vec::with_capacity(touched.len());
            for &c in &touched {
                let ci = c as usize;
                if acc[ci] > Z {
                    out.push((c, acc[ci]));
                }
                acc[ci] = Z;
                mark[ci] = false;
            }
            out
        })
        .collect()
}

/// One liquid-alpha EMA entry: `min(1, (1 − a)·old + max(0, a·new))`.
pub fn ema_alpha_entry(new: I32F32, old: I32F32, alpha: I32F32) -> I32F32 {
    let decayed = I32F32::ONE.ssub(alpha).smul(old);
    let purchase = alpha.smul(new).max(Z);
    decayed.sadd(purchase).min(I32F32::ONE)
}

/// Per-entry EMA with per-entry alphas over dense matrices, clamped to 1.
pub fn mat_ema_alpha(new: &DenseMatrix, old: &DenseMatrix, alpha: &DenseMatrix) -> DenseMatrix {
    new.iter()
        .zip(old)
        .zip(alpha)
        .map(|((rn, ro), ra)| {
            rn.iter()
                .zip(ro)
                .zip(ra)
                .map(|((&n, &o), &a)| ema_alpha_entry(n, o, a))
                .collect()
        })
        .collect()
}

/// Sparse per-entry EMA: only columns present in the `new` row are written (an old bond whose column
/// has no new entry disappears); `alpha` rows are aligned with the `new` rows; entries > 0 are kept.
pub fn mat_ema_alpha_sparse(
    new: &SparseMatrix,
    old: &SparseMatrix,
    alpha: &[Vec<I32F32>],
    columns: usize,
) -> SparseMatrix {
    let mut scratch = vec![Z; columns];
    new.iter()
        .zip(old)
        .zip(alpha)
        .map(|((rn, ro), ra)| {
            for &(c, v) in ro {
                scratch[c as usize] = v;
            }
            let out = rn
                .iter()
                .zip(ra)
                .filter_map(|(&(c, n), &a)| {
                    let x = ema_alpha_entry(n, scratch[c as usize], a);
                    (x > Z).then_some((c, x))
                })
                .collect();
            for &(c, _) in ro {
                scratch[c as usize] = Z;
            }
            out
        })
        .collect()
}

/// Liquid alpha for one entry from consensus `c`, weight `w` and bond `b` (sigmoid of the distance).
pub fn liquid_alpha(
    c: I32F32,
    w: I32F32,
    b: I32F32,
    low: I32F32,
    high: I32F32,
    slope: I32F32,
) -> I32F32 {
    let d = if w >= b { w.ssub(c) } else { b.ssub(w) };
    let d = d.max(Z).min(I32F32::ONE);
    let half = I32F32::from_bits(1 << 31);
    let e = slope.smul(d.ssub(half)).exp_safe();
    let s = I32F32::ONE.sdiv(I32F32::ONE.sadd(e));
    let a = low.sadd(s.smul(high.ssub(low)));
    a.max(low).min(high)
}

/// Max-upscales fixed values to u16 so that the largest becomes 65535 (subtensor's rounding rules).
pub fn vec_max_upscale_to_u16(v: &[I32F32]) -> Vec<u16> {
    let u16_max = I32F32::from_int(u16::MAX as i64);
    let threshold = I32F32::from_int(32768);
    let Some(&mx) = v.iter().max() else {
        return Vec::new();
    };
    if mx == Z {
        return v.iter().map(|x| x.to_u16()).collect();
    }
    if mx > threshold {
        let ratio = u16_max.sdiv(mx);
        v.iter().map(|x| x.smul(ratio).round().to_u16()).collect()
    } else {
        v.iter()
            .map(|x| x.smul(u16_max).sdiv(mx).round().to_u16())
            .collect()
    }
}
