//! Steps of the models that candle runs as several kernels, or as slow ones, done in one pass on
//! the GPU: a linear layer's bias with its activation, the softmax over the last axis, and the
//! head splits and merges of attention. On the CPU, with other dtypes, or in a build without the
//! `cuda` feature they are candle's own ops, so results agree to rounding either way.

use candle_core::{Module, Result, Tensor};
use candle_nn::VarBuilder;
use std::sync::atomic::{AtomicBool, Ordering};

#[cfg(feature = "cuda")]
use super::fused_cuda as cuda;

/// Whether the fused CUDA kernels are used (on by default; off gives candle's ops everywhere).
static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns the fused CUDA kernels on or off for the whole process (for comparing with candle's
/// ops; results agree to rounding).
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether the fused CUDA kernels are in use (off after [`set_enabled`]`(false)` or a failed
/// [`verify_on`]; they only ever run on a GPU in a `cuda` build).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// A supported activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// Exact (erf) GELU, PyTorch's `nn.GELU()` and transformers' "gelu".
    Gelu,
    /// Tanh-approximated GELU.
    GeluTanh,
    /// max(0, x).
    Relu,
}

impl Act {
    /// Applies it with candle's ops.
    pub fn apply(self, x: &Tensor) -> Result<Tensor> {
        match self {
            Self::Gelu => x.gelu_erf(),
            Self::GeluTanh => x.gelu(),
            Self::Relu => x.relu(),
        }
    }

    /// Parses transformers' activation names.
    pub fn from_name(name: &str) -> std::result::Result<Self, String> {
        match name {
            "gelu" => Ok(Self::Gelu),
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => Ok(Self::GeluTanh),
            "relu" => Ok(Self::Relu),
            other => Err(format!("unsupported activation {other:?}")),
        }
    }

    #[cfg(feature = "cuda")]
    fn code(act: Option<Self>) -> i32 {
        match act {
            None => 0,
            Some(Self::Gelu) => 1,
            Some(Self::GeluTanh) => 2,
            Some(Self::Relu) => 3,
        }
    }
}

/// `act(x + bias)`, `bias` broadcast along the last axis.
pub fn bias_act(x: &Tensor, bias: &Tensor, act: Option<Act>) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if enabled() {
        if let Some(y) = cuda::bias_act(x, bias, Act::code(act))? {
            return Ok(y);
        }
    }
    let y = x.broadcast_add(bias)?;
    match act {
        Some(a) => a.apply(&y),
        None => Ok(y),
    }
}

/// Softmax over the last axis.
pub fn softmax_last_dim(x: &Tensor) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if enabled() {
        if let Some(y) = cuda::softmax_last_dim(x)? {
            return Ok(y);
        }
    }
    candle_nn::ops::softmax_last_dim(x)
}

/// A fused qkv projection `[B, N, 3 * H * D]` split into contiguous `(q, k, v)`, each
/// `[B, H, N, D]`.
pub fn split_qkv(qkv: &Tensor, heads: usize) -> Result<(Tensor, Tensor, Tensor)> {
    let (b, n, c3) = qkv.dims3()?;
    #[cfg(feature = "cuda")]
    if enabled() {
        if let Some(all) = cuda::split_qkv(qkv, heads)? {
            return Ok((all.get(0)?, all.get(1)?, all.get(2)?));
        }
    }
    let d = c3 / (3 * heads);
    let all = qkv.reshape((b, n, 3, heads, d))?.permute((2, 0, 3, 1, 4))?;
    Ok((
        all.get(0)?.contiguous()?,
        all.get(1)?.contiguous()?,
        all.get(2)?.contiguous()?,
    ))
}

/// `[A, B, C, D]` to a contiguous `[A, C, B, D]` (attention's head split and merge).
pub fn transpose12(x: &Tensor) -> Result<Tensor> {
    #[cfg(feature = "cuda")]
    if enabled() {
        if let Some(y) = cuda::transpose12(x)? {
            return Ok(y);
        }
    }
    x.transpose(1, 2)?.contiguous()
}

/// One fused op compared with candle's on some device: the largest absolute difference and the
/// most that is allowed for its dtype.
#[derive(Clone, Debug, serde::Serialize)]
pub struct OpCheck {
    /// The op and dtype, e.g. `softmax_1190_f16`.
    pub op: String,
    /// Largest absolute difference from candle's ops.
    pub max_diff: f64,
    /// The tolerance: a few roundings of the dtype at the values tested.
    pub tolerance: f64,
}

impl OpCheck {
    /// Whether the difference is within the tolerance.
    pub fn ok(&self) -> bool {
        self.max_diff <= self.tolerance
    }
}

/// Runs every fused op on `device` at the models' shapes (f32 and f16) against candle's own ops
/// on the same random inputs. On the CPU both sides are candle's, so every difference is 0.
pub fn self_check(device: &candle_core::Device) -> Result<Vec<OpCheck>> {
    use candle_core::DType;
    let was = ENABLED.load(Ordering::Relaxed);
    let both = |f: &dyn Fn() -> Result<Tensor>| -> Result<f64> {
        set_enabled(true);
        let on = f();
        set_enabled(false);
        let off = f();
        set_enabled(was);
        let d = (on?.to_dtype(DType::F32)? - off?.to_dtype(DType::F32)?)?.abs()?;
        Ok(f64::from(d.flatten_all()?.max(0)?.to_scalar::<f32>()?))
    };
    let mut out = Vec::new();
    for (dtype, eps) in [(DType::F32, 1e-6), (DType::F16, 1e-3)] {
        let r = |shape: &[usize], scale: f64| -> Result<Tensor> {
            (Tensor::randn(0f32, 1.0, shape, device)? * scale)?.to_dtype(dtype)
        };
        // Values up to about 4 (8 for the pre-activations): tolerances scale with them.
        let (x, b) = (r(&[600, 3072], 2.0)?, r(&[3072], 2.0)?);
        let wide = r(&[2, 12, 200, 1190], 4.0)?;
        let narrow = r(&[64, 4, 49, 49], 4.0)?;
        let qkv = r(&[2, 590, 3 * 768], 1.0)?;
        let heads = r(&[2, 12, 590, 64], 1.0)?;
        let name = |op: &str| format!("{op}_{}", dtype.as_str());
        let mut check = |op: &str, tol: f64, f: &dyn Fn() -> Result<Tensor>| -> Result<()> {
            out.push(OpCheck {
                op: name(op),
                max_diff: both(f)?,
                tolerance: tol,
            });
            Ok(())
        };
        check("bias", 16.0 * eps, &|| bias_act(&x, &b, None))?;
        for (label, act) in [
            ("bias_gelu", Act::Gelu),
            ("bias_gelu_tanh", Act::GeluTanh),
            ("bias_relu", Act::Relu),
        ] {
            check(label, 16.0 * eps, &|| bias_act(&x, &b, Some(act)))?;
        }
        check("softmax_1190", 4.0 * eps, &|| softmax_last_dim(&wide))?;
        check("softmax_49", 4.0 * eps, &|| softmax_last_dim(&narrow))?;
        check("split_qkv", 0.0, &|| {
            let (q, k, v) = split_qkv(&qkv, 12)?;
            Tensor::cat(&[q, k, v], 0)
        })?;
        check("transpose12", 0.0, &|| transpose12(&heads))?;
    }
    Ok(out)
}

/// Runs [`self_check`] on a GPU and turns the fused kernels off, with a warning, if any op
/// disagrees with candle's or cannot run: scores must never depend on a faulty kernel.
pub fn verify_on(device: &candle_core::Device) {
    if !device.is_cuda() {
        return;
    }
    match self_check(device) {
        Ok(checks) => {
            let bad: Vec<&OpCheck> = checks.iter().filter(|c| !c.ok()).collect();
            if bad.is_empty() {
                tracing::debug!(
                    ops = checks.len(),
                    "fused CUDA kernels agree with candle's ops"
                );
            } else {
                tracing::warn!(failed = ?bad, "fused CUDA kernels disagree with candle's ops; using candle's ops");
                set_enabled(false);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "fused CUDA kernels could not be checked; using candle's ops");
            set_enabled(false);
        }
    }
}

/// A linear layer (`y = x W^T + b`) whose bias and activation are one pass on the GPU. It takes
/// the same tensors as `candle_nn::Linear` (`weight` `[out, in]`, `bias` `[out]`).
#[derive(Clone, Debug)]
pub struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    /// A layer of these tensors.
    pub fn new(weight: Tensor, bias: Option<Tensor>) -> Self {
        Self { weight, bias }
    }

    /// The weight, `[out, in]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The bias, `[out]`, if any.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    /// `act(x W^T + b)` for `x` of any rank (the last axis is the input features).
    pub fn forward_act(&self, x: &Tensor, act: Option<Act>) -> Result<Tensor> {
        let mut dims = x.dims().to_vec();
        let k = dims.pop().unwrap_or(1);
        let rows = dims.iter().product::<usize>();
        // One GEMM over every row (candle would run a batched GEMM over the leading axis).
        let y = x.reshape((rows, k))?.matmul(&self.weight.t()?)?;
        let y = match (&self.bias, act) {
            (Some(b), act) => bias_act(&y, b, act)?,
            (None, Some(a)) => a.apply(&y)?,
            (None, None) => y,
        };
        dims.push(y.dim(1)?);
        y.reshape(dims)
    }
}

impl Module for Linear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.forward_act(x, None)
    }
}

/// A linear layer with bias, read as `candle_nn::linear` reads it (`weight`, `bias`).
pub fn linear(in_dim: usize, out_dim: usize, vb: VarBuilder) -> Result<Linear> {
    let weight = vb.get((out_dim, in_dim), "weight")?;
    let bias = vb.get(out_dim, "bias")?;
    Ok(Linear::new(weight, Some(bias)))
}

/// A linear layer without bias (`weight` only).
pub fn linear_no_bias(in_dim: usize, out_dim: usize, vb: VarBuilder) -> Result<Linear> {
    let weight = vb.get((out_dim, in_dim), "weight")?;
    Ok(Linear::new(weight, None))
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    fn ramp(shape: &[usize]) -> Tensor {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
            .collect();
        Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    }

    #[test]
    fn linear_matches_candle_nn_on_rank_3_and_4_inputs() {
        let w = ramp(&[5, 7]);
        let b = ramp(&[5]);
        let ours = Linear::new(w.clone(), Some(b.clone()));
        let theirs = candle_nn::Linear::new(w, Some(b));
        for shape in [&[3, 4, 7][..], &[2, 3, 4, 7]] {
            let x = ramp(shape);
            let (a, e) = (ours.forward(&x).unwrap(), theirs.forward(&x).unwrap());
            assert_eq!(a.dims(), e.dims());
            assert!(max_diff(&a, &e) < 1e-5);
        }
    }

    #[test]
    fn activation_follows_the_bias() {
        let x = ramp(&[4, 6]);
        let lin = Linear::new(ramp(&[3, 6]), Some(ramp(&[3])));
        let plain = lin.forward(&x).unwrap();
        for act in [Act::Gelu, Act::GeluTanh, Act::Relu] {
            let fused = lin.forward_act(&x, Some(act)).unwrap();
            assert!(max_diff(&fused, &act.apply(&plain).unwrap()) < 1e-6);
        }
        let relu = lin.forward_act(&x, Some(Act::Relu)).unwrap();
        assert!(
            relu.flatten_all()
                .unwrap()
                .min(0)
                .unwrap()
                .to_scalar::<f32>()
                .unwrap()
                >= 0.0
        );
    }

    #[test]
    fn split_qkv_gives_each_head_its_own_slice() {
        // [B=2, N=3, 3 * H=2 * D=4]; element value encodes (b, n, which, h, d).
        let (b, n, h, d) = (2, 3, 2, 4);
        let v: Vec<f32> = (0..b * n * 3 * h * d).map(|i| i as f32).collect();
        let qkv = Tensor::from_vec(v, (b, n, 3 * h * d), &Device::Cpu).unwrap();
        let (q, k, vv) = split_qkv(&qkv, h).unwrap();
        for (s, t) in [&q, &k, &vv].into_iter().enumerate() {
            assert_eq!(t.dims(), &[b, h, n, d]);
            let got: f32 = t
                .get(1)
                .and_then(|t| t.get(1))
                .and_then(|t| t.get(2))
                .and_then(|t| t.get(3))
                .and_then(|t| t.to_scalar())
                .unwrap();
            // Row (b=1, n=2), block s, head 1, feature 3.
            let (row, head, feature) = (n + 2, 1, 3);
            let want = (row * 3 * h * d + s * h * d + head * d + feature) as f32;
            assert_eq!(got, want);
        }
    }

    #[test]
    fn the_self_check_covers_every_op_and_passes_on_the_cpu() {
        let checks = self_check(&Device::Cpu).unwrap();
        for op in [
            "bias",
            "bias_gelu",
            "softmax_1190",
            "softmax_49",
            "split_qkv",
            "transpose12",
        ] {
            for dtype in ["f32", "f16"] {
                assert!(
                    checks.iter().any(|c| c.op == format!("{op}_{dtype}")),
                    "{op}_{dtype}"
                );
            }
        }
        assert!(
            checks.iter().all(|c| c.ok() && c.max_diff == 0.0),
            "{checks:?}"
        );
        let bad = OpCheck {
            op: "x".into(),
            max_diff: 1e-3,
            tolerance: 1e-6,
        };
        assert!(!bad.ok());
    }

    #[test]
    fn transpose12_swaps_the_middle_axes_into_a_contiguous_tensor() {
        let x = ramp(&[2, 3, 5, 9]);
        let t = transpose12(&x).unwrap();
        assert_eq!(t.dims(), &[2, 5, 3, 9]);
        assert!(t.is_contiguous());
        // Element (a, c, b, d) of the result is element (a, b, c, d) of the input.
        let at = |t: &Tensor, i: [usize; 4]| -> f32 {
            t.get(i[0])
                .and_then(|t| t.get(i[1]))
                .and_then(|t| t.get(i[2]))
                .and_then(|t| t.get(i[3]))
                .and_then(|t| t.to_scalar())
                .unwrap()
        };
        assert_eq!(at(&t, [1, 4, 2, 7]), at(&x, [1, 2, 4, 7]));
    }
}
