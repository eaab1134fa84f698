//! Kullback-Leibler divergence between class-probability vectors, exactly as audiocraft's
//! `KLDivergence` metric computes it for PaSST AudioSet labels: per sample
//! `kl_div((pred + 1e-6).log(), target).sum()`, i.e. sum t (ln t - ln(p + 1e-6)) = KL(target || pred),
//! the reverse direction likewise, averaged over samples.

/// audiocraft's epsilon added to the probabilities before the log.
pub const EPSILON: f64 = 1e-6;

/// Why a KL divergence could not be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum KldError {
    /// The two distributions have different numbers of classes.
    #[error("class counts differ ({0} vs {1}): use the same classifier for both clips")]
    ClassMismatch(usize, usize),
    /// A probability is negative, NaN or infinite.
    #[error("probabilities must be finite and non-negative (got {0}); pass softmax outputs")]
    BadProbability(f64),
    /// No samples were given.
    #[error("no samples to average over")]
    Empty,
}

/// The divergences of one (pred, target) pair or their average over samples.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Kld {
    /// KL(target || pred): audiocraft's `kld` (and `kld_pq`).
    pub kld: f64,
    /// KL(pred || target): audiocraft's `kld_qp`.
    pub kld_qp: f64,
    /// kld + kld_qp: audiocraft's `kld_both`, the value BittAudio normalises.
    pub kld_both: f64,
}

/// torch's `kl_div(input = log_q, target = t)` summed: sum t ln t - t log_q, with 0 ln 0 = 0.
fn kl_div_sum(log_q: impl Iterator<Item = f64>, target: &[f64]) -> f64 {
    target
        .iter()
        .zip(log_q)
        .map(|(&t, lq)| if t > 0.0 { t * (t.ln() - lq) } else { 0.0 })
        .sum()
}

fn check(p: &[f64]) -> Result<(), KldError> {
    match p.iter().find(|v| !v.is_finite() || **v < 0.0) {
        Some(&bad) => Err(KldError::BadProbability(bad)),
        None => Ok(()),
    }
}

/// The divergences between one predicted (generated clip) and one target (reference clip)
/// probability vector.
pub fn kld(pred: &[f64], target: &[f64]) -> Result<Kld, KldError> {
    if pred.len() != target.len() {
        return Err(KldError::ClassMismatch(pred.len(), target.len()));
    }
    check(pred)?;
    check(target)?;
    let pq = kl_div_sum(pred.iter().map(|p| (p + EPSILON).ln()), target);
    let qp = kl_div_sum(target.iter().map(|t| (t + EPSILON).ln()), pred);
    Ok(Kld {
        kld: pq,
        kld_qp: qp,
        kld_both: pq + qp,
    })
}

/// The divergences averaged over (pred, target) pairs, as audiocraft's metric reports them.
pub fn mean_kld<'a>(
    pairs: impl IntoIterator<Item = (&'a [f64], &'a [f64])>,
) -> Result<Kld, KldError> {
    let mut sum = Kld::default();
    let mut n = 0usize;
    for (p, t) in pairs {
        let k = kld(p, t)?;
        sum.kld += k.kld;
        sum.kld_qp += k.kld_qp;
        sum.kld_both += k.kld_both;
        n += 1;
    }
    if n == 0 {
        return Err(KldError::Empty);
    }
    let n = n as f64;
    Ok(Kld {
        kld: sum.kld / n,
        kld_qp: sum.kld_qp / n,
        kld_both: sum.kld_both / n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_hand_computed_values() {
        let pred = [0.5, 0.25, 0.25];
        let target = [0.25, 0.25, 0.5];
        let k = kld(&pred, &target).unwrap();
        // KL(t || p) = .25 ln(.25/(.5+1e-6)) + .25 ln(.25/(.25+1e-6)) + .5 ln(.5/(.25+1e-6)).
        let pq = 0.25 * (0.25f64 / 0.500001).ln()
            + 0.25 * (0.25f64 / 0.250001).ln()
            + 0.5 * (0.5f64 / 0.250001).ln();
        let qp = 0.5 * (0.5f64 / 0.250001).ln()
            + 0.25 * (0.25f64 / 0.250001).ln()
            + 0.25 * (0.25f64 / 0.500001).ln();
        assert!((k.kld - pq).abs() < 1e-15);
        assert!((k.kld_qp - qp).abs() < 1e-15);
        assert!((k.kld_both - (pq + qp)).abs() < 1e-15);
        // Without the epsilon KL(t || p) would be 0.25 ln 2: the epsilon moves it by about 3.5e-6.
        assert!((k.kld - 0.25 * 2f64.ln()).abs() < 5e-6);
    }

    #[test]
    fn zero_target_terms_vanish_and_zero_pred_is_bounded_by_epsilon() {
        // Target puts no mass on class 1: that term is 0 (torch's xlogy).
        let k = kld(&[0.5, 0.5], &[1.0, 0.0]).unwrap();
        assert!((k.kld - (1.0f64 / 0.500001).ln()).abs() < 1e-15);
        // Pred puts no mass where the target does: ln(1 / 1e-6) = 13.8, not infinity.
        let k = kld(&[0.0, 1.0], &[1.0, 0.0]).unwrap();
        assert!((k.kld - (1e6f64).ln()).abs() < 1e-9);
        assert!((k.kld_qp - (1e6f64).ln()).abs() < 1e-9);
        // Identical distributions: nearly 0 (the epsilon makes it a hair below).
        let same = kld(&[0.2, 0.8], &[0.2, 0.8]).unwrap();
        assert!(same.kld_both.abs() < 1e-5);
    }

    #[test]
    fn averages_over_samples_and_rejects_bad_input() {
        let a = ([0.5, 0.5], [1.0, 0.0]);
        let b = ([0.2, 0.8], [0.2, 0.8]);
        let m = mean_kld([(&a.0[..], &a.1[..]), (&b.0[..], &b.1[..])]).unwrap();
        let (ka, kb) = (kld(&a.0, &a.1).unwrap(), kld(&b.0, &b.1).unwrap());
        assert!((m.kld - (ka.kld + kb.kld) / 2.0).abs() < 1e-15);
        assert_eq!(kld(&[1.0], &[0.5, 0.5]), Err(KldError::ClassMismatch(1, 2)));
        assert_eq!(
            kld(&[-0.1, 1.1], &[0.5, 0.5]),
            Err(KldError::BadProbability(-0.1))
        );
        assert_eq!(mean_kld(std::iter::empty()), Err(KldError::Empty));
    }
}
