//! The SEANet layers EnCodec's encoder and decoder share (transformers' `EncodecConv1d`,
//! `EncodecLSTM`, `EncodecResnetBlock`): weight-normed convolutions with EnCodec's padding, the
//! LSTM and the residual block. [`super::encodec`] (decoder) and [`super::encodec_encoder`] build
//! their networks from these.

use candle_core::{Result, Tensor, D};
use candle_nn::VarBuilder;

use super::config::EncodecConfig;

/// How a convolution pads its input ("reflect", "constant" = zeros, "replicate").
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum PadMode {
    Reflect,
    Zeros,
    Replicate,
}

/// Reads a convolution weight: weight-normed (`weight_g`/`weight_v`, or the newer
/// `parametrizations.weight.original0/1`) or plain `weight`.
pub(super) fn conv_weight(vb: &VarBuilder) -> Result<Tensor> {
    let (g, v) = if vb.contains_tensor("weight_g") {
        (vb.get_unchecked("weight_g")?, vb.get_unchecked("weight_v")?)
    } else if vb.contains_tensor("parametrizations.weight.original0") {
        (
            vb.get_unchecked("parametrizations.weight.original0")?,
            vb.get_unchecked("parametrizations.weight.original1")?,
        )
    } else {
        return vb.get_unchecked("weight");
    };
    // weight = g * v / ||v||, the norm taken over every dim but the first.
    let norm = v.sqr()?.sum_keepdim((1, 2))?.sqrt()?;
    v.broadcast_mul(&g.broadcast_div(&norm)?)
}

/// `EncodecConv1d`: a convolution with EnCodec's causal (or centred) padding, then, for
/// `time_group_norm` checkpoints, a one-group GroupNorm.
#[derive(Clone, Debug)]
pub(super) struct Conv {
    weight: Tensor,
    bias: Tensor,
    stride: usize,
    dilation: usize,
    causal: bool,
    pad: PadMode,
    /// GroupNorm(1, out) weight and bias.
    norm: Option<(Tensor, Tensor)>,
}

impl Conv {
    /// Loads `{vb}.conv` (and `{vb}.norm` for `time_group_norm`).
    pub(super) fn new(
        cfg: &EncodecConfig,
        stride: usize,
        dilation: usize,
        vb: VarBuilder,
    ) -> Result<Self> {
        let norm = if cfg.norm_type == "time_group_norm" {
            let n = vb.pp("norm");
            Some((n.get_unchecked("weight")?, n.get_unchecked("bias")?))
        } else {
            None
        };
        let vb = vb.pp("conv");
        let pad = match cfg.pad_mode.as_str() {
            "reflect" => PadMode::Reflect,
            "replicate" => PadMode::Replicate,
            _ => PadMode::Zeros,
        };
        Ok(Self {
            weight: conv_weight(&vb)?,
            bias: vb.get_unchecked("bias")?,
            stride,
            dilation,
            causal: cfg.use_causal_conv,
            pad,
            norm,
        })
    }

    /// Output channels.
    pub(super) fn out_channels(&self) -> Result<usize> {
        self.weight.dim(0)
    }

    /// (batch, in channels, time) to (batch, out channels, ceil(time / stride)).
    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let k = self.weight.dim(2)?;
        let k_eff = (k - 1) * self.dilation + 1;
        let stride = self.stride;
        let total = k_eff - stride;
        let len = x.dim(D::Minus1)?;
        // Extra right padding so the last window is complete (transformers'
        // _get_extra_padding_for_conv1d, which pads to a whole number of strides).
        let extra = (stride - len % stride) % stride;
        let (left, right) = if self.causal {
            (total, extra)
        } else {
            (total - total / 2, total / 2 + extra)
        };
        let x = pad1d(x, left, right, self.pad)?;
        let y = x.conv1d(&self.weight, 0, self.stride, self.dilation, 1)?;
        let y = y.broadcast_add(&self.bias.reshape((1, (), 1))?)?;
        match &self.norm {
            Some((w, b)) => group_norm1(&y, w, b),
            None => Ok(y),
        }
    }
}

/// `nn.GroupNorm(1, C)` (eps 1e-5) over a (batch, channels, time) tensor.
fn group_norm1(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    let (batch, c, t) = x.dims3()?;
    let flat = x.reshape((batch, c * t))?;
    let mean = flat.mean_keepdim(1)?;
    let centred = flat.broadcast_sub(&mean)?;
    let var = centred.sqr()?.mean_keepdim(1)?;
    let y = centred
        .broadcast_div(&(var + 1e-5)?.sqrt()?)?
        .reshape((batch, c, t))?;
    y.broadcast_mul(&w.reshape((1, (), 1))?)?
        .broadcast_add(&b.reshape((1, (), 1))?)
}

/// Pads the last dim of a (batch, channels, time) tensor.
fn pad1d(x: &Tensor, left: usize, right: usize, mode: PadMode) -> Result<Tensor> {
    if left == 0 && right == 0 {
        return Ok(x.clone());
    }
    match mode {
        PadMode::Zeros => x.pad_with_zeros(D::Minus1, left, right),
        PadMode::Replicate => x.pad_with_same(D::Minus1, left, right),
        PadMode::Reflect => {
            let len = x.dim(D::Minus1)?;
            let max_pad = left.max(right);
            // Too short to reflect: zero-extend first, then drop the extension after reflecting.
            let extra = if len <= max_pad { max_pad - len + 1 } else { 0 };
            let x = if extra > 0 {
                x.pad_with_zeros(D::Minus1, 0, extra)?
            } else {
                x.clone()
            };
            let n = len + extra;
            let mut idx: Vec<u32> = (1..=left).rev().map(|i| i as u32).collect();
            idx.extend((0..n).map(|i| i as u32));
            idx.extend((0..right).map(|i| (n - 2 - i) as u32));
            idx.truncate(idx.len() - extra);
            let idx = Tensor::from_vec(idx, (left + n + right - extra,), x.device())?;
            x.index_select(&idx, 2)
        }
    }
}

/// A multi-layer unidirectional LSTM over (time, batch, channels), PyTorch gate order (i, f, g, o).
#[derive(Clone, Debug)]
pub(super) struct Lstm {
    layers: Vec<LstmLayer>,
}

#[derive(Clone, Debug)]
struct LstmLayer {
    w_ih_t: Tensor,
    w_hh_t: Tensor,
    bias: Tensor,
    hidden: usize,
}

impl Lstm {
    /// Loads the `num_lstm_layers` layers (`weight_ih_l{i}`, ... as `nn.LSTM` names them) of
    /// width `num_filters` x 2^(number of stages), the width between the stages and the LSTM.
    pub(super) fn new(cfg: &EncodecConfig, vb: VarBuilder) -> Result<Self> {
        let dim = cfg.num_filters << cfg.upsampling_ratios.len();
        let layers = (0..cfg.num_lstm_layers)
            .map(|l| {
                let w_ih = vb.get((4 * dim, dim), &format!("weight_ih_l{l}"))?;
                let w_hh = vb.get((4 * dim, dim), &format!("weight_hh_l{l}"))?;
                let b = (vb.get(4 * dim, &format!("bias_ih_l{l}"))?
                    + vb.get(4 * dim, &format!("bias_hh_l{l}"))?)?;
                Ok(LstmLayer {
                    w_ih_t: w_ih.t()?.contiguous()?,
                    w_hh_t: w_hh.t()?.contiguous()?,
                    bias: b,
                    hidden: dim,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { layers })
    }

    /// `EncodecLSTM`: all layers over a (batch, channels, time) tensor plus the skip connection.
    pub(super) fn forward_with_skip(&self, x: &Tensor) -> Result<Tensor> {
        let seq = x.permute((2, 0, 1))?.contiguous()?; // (t, b, c)
        let mut y = seq.clone();
        for layer in &self.layers {
            y = layer.forward(&y)?;
        }
        (y + &seq)?.permute((1, 2, 0))?.contiguous()
    }
}

impl LstmLayer {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (t_len, b, c) = x.dims3()?;
        let h_dim = self.hidden;
        // Input projections for every step at once.
        let xw = x
            .reshape((t_len * b, c))?
            .matmul(&self.w_ih_t)?
            .broadcast_add(&self.bias)?
            .reshape((t_len, b, 4 * h_dim))?;
        let mut h = Tensor::zeros((b, h_dim), x.dtype(), x.device())?;
        let mut cell = h.clone();
        let mut outs = Vec::with_capacity(t_len);
        for t in 0..t_len {
            let gates = (xw.get(t)? + h.matmul(&self.w_hh_t)?)?;
            let i = candle_nn::ops::sigmoid(&gates.narrow(1, 0, h_dim)?)?;
            let f = candle_nn::ops::sigmoid(&gates.narrow(1, h_dim, h_dim)?)?;
            let g = gates.narrow(1, 2 * h_dim, h_dim)?.tanh()?;
            let o = candle_nn::ops::sigmoid(&gates.narrow(1, 3 * h_dim, h_dim)?)?;
            cell = ((f * &cell)? + (i * g)?)?;
            h = (o * cell.tanh()?)?;
            outs.push(h.clone());
        }
        Tensor::stack(&outs, 0)
    }
}

/// `EncodecResnetBlock`: ELU, conv (dilated), ELU, 1x1 conv, plus the shortcut.
#[derive(Clone, Debug)]
pub(super) struct ResBlock {
    conv1: Conv,
    conv2: Conv,
    shortcut: Option<Conv>,
}

impl ResBlock {
    /// Loads `{vb}.block.1`, `{vb}.block.3` and, with `use_conv_shortcut`, `{vb}.shortcut`.
    pub(super) fn new(cfg: &EncodecConfig, dilation: usize, vb: VarBuilder) -> Result<Self> {
        let shortcut = if cfg.use_conv_shortcut {
            Some(Conv::new(cfg, 1, 1, vb.pp("shortcut"))?)
        } else {
            None
        };
        Ok(Self {
            conv1: Conv::new(cfg, 1, dilation, vb.pp("block").pp(1))?,
            conv2: Conv::new(cfg, 1, 1, vb.pp("block").pp(3))?,
            shortcut,
        })
    }

    /// (batch, channels, time) to the same shape.
    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self
            .conv2
            .forward(&self.conv1.forward(&x.elu(1.0)?)?.elu(1.0)?)?;
        match &self.shortcut {
            Some(s) => s.forward(x)? + h,
            None => x + h,
        }
    }
}

/// The residual blocks of one SEANet stage, dilations growing by `dilation_growth_rate`, loaded
/// from `layers.{first}`, `layers.{first + 1}`, ...
pub(super) fn res_blocks(
    cfg: &EncodecConfig,
    layers: &VarBuilder,
    first: usize,
) -> Result<Vec<ResBlock>> {
    (0..cfg.num_residual_layers)
        .map(|j| {
            ResBlock::new(
                cfg,
                cfg.dilation_growth_rate.pow(j as u32),
                layers.pp(first + j),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    /// `pad1d` in reflect mode over a one-channel signal.
    fn reflect(x: &[f32], left: usize, right: usize) -> Vec<f32> {
        let x = Tensor::from_slice(x, (1, 1, x.len()), &Device::Cpu).unwrap();
        let y = pad1d(&x, left, right, PadMode::Reflect).unwrap();
        y.flatten_all().unwrap().to_vec1::<f32>().unwrap()
    }

    #[test]
    fn reflect_padding_matches_torch() {
        // torch.nn.functional.pad(arange(4), (3, 2), mode="reflect") = [3, 2, 1, 0, 1, 2, 3, 2, 1]
        assert_eq!(
            reflect(&[0., 1., 2., 3.], 3, 2),
            vec![3., 2., 1., 0., 1., 2., 3., 2., 1.]
        );
        // Input shorter than the padding: zero-extended before reflecting (transformers' _pad1d):
        // pad([0, 1, 0, 0], (3, 3)) = [0,0,1,0,1,0,0,0,1,0]
        // then the 2 extension samples are dropped from the end.
        assert_eq!(
            reflect(&[0., 1.], 3, 3),
            vec![0., 0., 1., 0., 1., 0., 0., 0.]
        );
    }

    #[test]
    fn extra_padding_completes_the_last_window() {
        // A stride-2 kernel-4 causal conv over 5 samples: transformers pads 2 left and 1 right
        // (frames = ceil((5 - 2) / 2) + 1 = 3, ideal length 6), giving 3 output frames.
        let dev = Device::Cpu;
        let conv = Conv {
            weight: Tensor::ones((1, 1, 4), DType::F32, &dev).unwrap(),
            bias: Tensor::zeros(1, DType::F32, &dev).unwrap(),
            stride: 2,
            dilation: 1,
            causal: true,
            pad: PadMode::Zeros,
            norm: None,
        };
        let x = Tensor::new(&[[[1f32, 2., 3., 4., 5.]]], &dev).unwrap();
        let y = conv.forward(&x).unwrap().flatten_all().unwrap();
        // Padded: [0, 0, 1, 2, 3, 4, 5, 0]; windows at 0, 2, 4.
        assert_eq!(y.to_vec1::<f32>().unwrap(), vec![3., 10., 12.]);
    }
}
