//! Fixed-point numbers with substrate-fixed's rounding: I32F32 as a newtype over its raw bits, plus the
//! few I64F64 / I96F32 conversions the epoch needs (stake normalisation, EMA factor, rao emission).

use std::fmt;

/// Signed fixed-point number with 32 integer and 32 fractional bits (substrate-fixed `I32F32`).
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct I32F32(i64);

const FRAC: u32 = 32;

impl I32F32 {
    /// Zero.
    pub const ZERO: Self = Self(0);
    /// One.
    pub const ONE: Self = Self(1 << FRAC);
    /// Largest representable value.
    pub const MAX: Self = Self(i64::MAX);
    /// Smallest representable value.
    pub const MIN: Self = Self(i64::MIN);

    /// Wraps raw bits (value × 2^32).
    pub const fn from_bits(bits: i64) -> Self {
        Self(bits)
    }

    /// The raw bits (value × 2^32).
    pub const fn to_bits(self) -> i64 {
        self.0
    }

    /// Exact conversion from an integer, saturating at the type bounds.
    pub fn from_int(v: i64) -> Self {
        Self::from_i128_bits((v as i128) << FRAC)
    }

    /// Exact conversion from an unsigned integer, saturating at the type bounds.
    pub fn from_u64(v: u64) -> Self {
        Self::from_i128_bits((v as i128) << FRAC)
    }

    /// Conversion from f64 rounding to nearest, ties to even, saturating (NaN gives 0).
    pub fn from_f64(v: f64) -> Self {
        if v.is_nan() {
            return Self::ZERO;
        }
        let scaled = (v * 4294967296.0).round_ties_even();
        if scaled >= 9.223_372_036_854_776e18 {
            Self::MAX
        } else if scaled < -9.223_372_036_854_776e18 {
            Self::MIN
        } else {
            Self(scaled as i64)
        }
    }

    /// Conversion from f32 (the exact f32 value, then round to nearest, ties to even).
    pub fn from_f32(v: f32) -> Self {
        Self::from_f64(v as f64)
    }

    /// The exact value as f64 (for display and tolerant comparisons).
    pub fn to_f64(self) -> f64 {
        self.0 as f64 / 4294967296.0
    }

    fn from_i128_bits(bits: i128) -> Self {
        Self(bits.clamp(i64::MIN as i128, i64::MAX as i128) as i64)
    }

    /// Saturating addition.
    pub fn sadd(self, o: Self) -> Self {
        Self(self.0.saturating_add(o.0))
    }

    /// Saturating subtraction.
    pub fn ssub(self, o: Self) -> Self {
        Self(self.0.saturating_sub(o.0))
    }

    /// Saturating multiplication; the exact product is truncated toward −∞.
    pub fn smul(self, o: Self) -> Self {
        Self::from_i128_bits((self.0 as i128 * o.0 as i128) >> FRAC)
    }

    /// Checked division `(a << 32) / b` truncating toward zero; `None` on zero divisor or overflow.
    pub fn checked_div(self, o: Self) -> Option<Self> {
        if o.0 == 0 {
            return None;
        }
        let q = ((self.0 as i128) << FRAC) / o.0 as i128;
        i64::try_from(q).ok().map(Self)
    }

    /// Safe division: 0 when dividing by zero or when the quotient overflows.
    pub fn sdiv(self, o: Self) -> Self {
        self.checked_div(o).unwrap_or(Self::ZERO)
    }

    /// Floor to u16, saturating at 0 and 65535.
    pub fn to_u16(self) -> u16 {
        if self.0 < 0 {
            0
        } else {
            (self.0 >> FRAC).min(u16::MAX as i64) as u16
        }
    }

    /// Floor to u64, saturating at 0.
    pub fn to_u64(self) -> u64 {
        if self.0 < 0 {
            0
        } else {
            (self.0 >> FRAC) as u64
        }
    }

    /// Round to the nearest integer, ties away from zero (substrate-fixed `round`), saturating.
    pub fn round(self) -> Self {
        let half = 1i128 << (FRAC - 1);
        let mask = !((1i128 << FRAC) - 1);
        let b = self.0 as i128;
        let r = if b >= 0 {
            (b + half) & mask
        } else {
            -((-b + half) & mask)
        };
        Self::from_i128_bits(r)
    }

    /// `x / 65535` for a stored u16 proportion (truncating division).
    pub fn from_u16_proportion(v: u16) -> Self {
        Self::from_int(v as i64).sdiv(Self::from_int(u16::MAX as i64))
    }

    /// `floor(x × 65535)` saturating: how proportions are stored as u16.
    pub fn to_u16_proportion(self) -> u16 {
        self.smul(Self::from_int(u16::MAX as i64)).to_u16()
    }

    /// Larger of two values.
    pub fn max(self, o: Self) -> Self {
        if self >= o {
            self
        } else {
            o
        }
    }

    /// Smaller of two values.
    pub fn min(self, o: Self) -> Self {
        if self <= o {
            self
        } else {
            o
        }
    }

    /// Absolute value, saturating.
    pub fn abs(self) -> Self {
        Self(self.0.saturating_abs())
    }

    /// exp(x) via a fixed-point Taylor series (terms up to order 31) with x clamped to [−20, 20];
    /// negative inputs give 1/exp(|x|); overflow falls back to 0 (x ≤ 0) or MAX.
    pub fn exp_safe(self) -> Self {
        let x = self.max(Self::from_int(-20)).min(Self::from_int(20));
        match exp_taylor(x) {
            Some(v) => v,
            None if x <= Self::ZERO => Self::ZERO,
            None => Self::MAX,
        }
    }
}

fn exp_taylor(x: I32F32) -> Option<I32F32> {
    if x == I32F32::ZERO {
        return Some(I32F32::ONE);
    }
    let neg = x < I32F32::ZERO;
    let a = x.abs();
    let mut result = a.0.checked_add(I32F32::ONE.0).map(I32F32)?;
    let mut term = a;
    for i in 2..FRAC as i64 {
        let prod = (term.0 as i128 * a.0 as i128) >> FRAC;
        term = I32F32(i64::try_from(prod).ok()?);
        term = term.checked_div(I32F32::from_int(i))?;
        result = I32F32(result.0.checked_add(term.0)?);
    }
    if neg {
        I32F32::ONE.checked_div(result)
    } else {
        Some(result)
    }
}

impl fmt::Debug for I32F32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_f64())
    }
}

impl fmt::Display for I32F32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_f64())
    }
}

/// Saturating sum of I32F32 values.
pub fn sum(v: &[I32F32]) -> I32F32 {
    v.iter().fold(I32F32::ZERO, |a, &b| a.sadd(b))
}

/// Normalises integer amounts in I64F64 (`a / Σa`, truncating) and narrows to I32F32 by dropping bits.
/// Amounts above i64::MAX saturate as I64F64 would; an all-zero vector stays zero.
pub fn normalize_u64_via_i64f64(v: &[u64]) -> Vec<I32F32> {
    let capped: Vec<u128> = v.iter().map(|&x| x.min(i64::MAX as u64) as u128).collect();
    let total = capped
        .iter()
        .fold(0u128, |a, &b| (a + b).min(i64::MAX as u128));
    capped
        .iter()
        .map(|&x| {
            match (x << 64).checked_div(total) {
                // I64F64 bits of x / total, narrowed by dropping 32 bits.
                Some(q64) => I32F32((q64 >> 32) as i64),
                None => I32F32::from_u64(x as u64),
            }
        })
        .collect()
}

/// `num / den` computed in I64F64 from integers and narrowed to I32F32 (drops bits); 0 if den is 0.
pub fn ratio_via_i64f64(num: u64, den: u64) -> I32F32 {
    if den == 0 {
        return I32F32::ZERO;
    }
    let q = ((num.min(i64::MAX as u64) as u128) << 64) / den.min(i64::MAX as u64) as u128;
    let bits = q >> 32;
    if bits > i64::MAX as u128 {
        I32F32::MAX
    } else {
        I32F32(bits as i64)
    }
}

/// `floor(p × rao)` computed in I96F32 and converted to u64 (saturating; negative p gives 0).
pub fn proportion_to_rao(p: I32F32, rao: u64) -> u64 {
    if p.0 <= 0 {
        return 0;
    }
    let prod = (p.0 as i128) * (rao as i128);
    let int = prod >> FRAC;
    int.min(u64::MAX as i128) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_floors_and_div_truncates() {
        let third = I32F32::ONE.sdiv(I32F32::from_int(3));
        assert_eq!(third.to_bits(), 1431655765);
        let neg = I32F32::from_int(-1).sdiv(I32F32::from_int(3));
        assert_eq!(neg.to_bits(), -1431655765);
        let prod = I32F32::from_bits(-1).smul(I32F32::from_bits(1));
        assert_eq!(prod.to_bits(), -1);
        assert_eq!(I32F32::ONE.sdiv(I32F32::ZERO), I32F32::ZERO);
        assert_eq!(I32F32::MAX.sdiv(I32F32::from_f64(0.5)), I32F32::ZERO);
    }

    #[test]
    fn kappa_and_stake_tenth_match_reference() {
        assert_eq!(I32F32::from_u16_proportion(32767).to_bits(), 2147450879);
        let s = normalize_u64_via_i64f64(&[1; 10]);
        assert_eq!(s[0].to_bits(), 429496729);
        assert_eq!(proportion_to_rao(s[0], 1_000_000_000), 99_999_999);
    }

    #[test]
    fn rounding_modes() {
        assert_eq!(I32F32::from_f64(2.5).round(), I32F32::from_int(3));
        assert_eq!(I32F32::from_f64(-2.5).round(), I32F32::from_int(-3));
        assert_eq!(I32F32::from_f64(1.0 / 8589934592.0).to_bits(), 0);
        assert_eq!(I32F32::from_f64(3.0 / 8589934592.0).to_bits(), 2);
        assert_eq!(I32F32::from_f64(-0.5).to_u16(), 0);
    }

    #[test]
    fn exp_safe_is_close_to_exp() {
        for x in [-5.0, -3.5, -1.0, 0.0, 0.5, 1.0, 5.0] {
            let got = I32F32::from_f64(x).exp_safe().to_f64();
            assert!(
                (got - f64::exp(x)).abs() <= 1e-6 * f64::exp(x).max(1.0),
                "{x}: {got}"
            );
        }
        assert_eq!(
            I32F32::from_int(100).exp_safe(),
            I32F32::from_int(20).exp_safe()
        );
    }
}
