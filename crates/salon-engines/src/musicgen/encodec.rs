//! The EnCodec decoder MusicGen uses to turn codebook tokens into audio (tensor names
//! `audio_encoder.quantizer.*` and `audio_encoder.decoder.*`): residual-VQ lookup, then the SEANet
//! decoder (convolutions, LSTM, transposed-convolution upsampling, residual blocks). Decode only.

use candle_core::{IndexOp, Module, Result, Tensor, D};
use candle_nn::VarBuilder;

use super::config::EncodecConfig;

/// How a convolution pads its input ("reflect", "constant" = zeros, "replicate").
#[derive(Clone, Copy, Debug, PartialEq)]
enum PadMode {
    Reflect,
    Zeros,
    Replicate,
}

/// Reads a convolution weight: weight-normed (`weight_g`/`weight_v`, or the newer
/// `parametrizations.weight.original0/1`) or plain `weight`.
fn conv_weight(vb: &VarBuilder) -> Result<Tensor> {
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

/// `EncodecConv1d`: a convolution with EnCodec's centred (or causal) padding.
#[derive(Clone, Debug)]
struct Conv {
    weight: Tensor,
    bias: Tensor,
    stride: usize,
    dilation: usize,
    causal: bool,
    pad: PadMode,
}

impl Conv {
    fn new(cfg: &EncodecConfig, stride: usize, dilation: usize, vb: VarBuilder) -> Result<Self> {
        let vb = vb.pp("conv");
        let weight = conv_weight(&vb)?;
        let bias = vb.get_unchecked("bias")?;
        let pad = match cfg.pad_mode.as_str() {
            "reflect" => PadMode::Reflect,
            "replicate" => PadMode::Replicate,
            _ => PadMode::Zeros,
        };
        Ok(Self {
            weight,
            bias,
            stride,
            dilation,
            causal: cfg.use_causal_conv,
            pad,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let k = self.weight.dim(2)?;
        let k_eff = (k - 1) * self.dilation + 1;
        let total = k_eff - self.stride;
        let len = x.dim(D::Minus1)?;
        // Extra right padding so the last window is complete (transformers' pad_for_conv1d).
        let n_frames = (len + total - k_eff) as f64 / self.stride as f64 + 1.0;
        let ideal = (n_frames.ceil() as usize - 1) * self.stride + k_eff - total;
        let extra = ideal - len;
        let (left, right) = if self.causal {
            (total, extra)
        } else {
            (total - total / 2, total / 2 + extra)
        };
        let x = pad1d(x, left, right, self.pad)?;
        let y = x.conv1d(&self.weight, 0, self.stride, self.dilation, 1)?;
        y.broadcast_add(&self.bias.reshape((1, (), 1))?)
    }
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

/// `EncodecConvTranspose1d`: transposed convolution, then the fixed padding trimmed.
#[derive(Clone, Debug)]
struct ConvTranspose {
    weight: Tensor,
    bias: Tensor,
    stride: usize,
    causal: bool,
    trim_right_ratio: f64,
}

impl ConvTranspose {
    fn new(cfg: &EncodecConfig, stride: usize, vb: VarBuilder) -> Result<Self> {
        let vb = vb.pp("conv");
        Ok(Self {
            weight: conv_weight(&vb)?,
            bias: vb.get_unchecked("bias")?,
            stride,
            causal: cfg.use_causal_conv,
            trim_right_ratio: cfg.trim_right_ratio,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let k = self.weight.dim(2)?;
        let total = k - self.stride;
        // candle 0.11's CPU conv_transpose1d mixes up the items of a batch (b > 1 gives wrong
        // values for all but the first), so items go through one at a time.
        let y = match x.dim(0)? {
            1 => x.conv_transpose1d(&self.weight, 0, 0, self.stride, 1, 1)?,
            b => {
                let items = (0..b)
                    .map(|i| {
                        x.narrow(0, i, 1)?
                            .conv_transpose1d(&self.weight, 0, 0, self.stride, 1, 1)
                    })
                    .collect::<Result<Vec<_>>>()?;
                Tensor::cat(&items, 0)?
            }
        };
        let y = y.broadcast_add(&self.bias.reshape((1, (), 1))?)?;
        let right = if self.causal {
            (total as f64 * self.trim_right_ratio).ceil() as usize
        } else {
            total / 2
        };
        let left = total - right;
        let len = y.dim(D::Minus1)?;
        y.narrow(D::Minus1, left, len - right - left)
    }
}

/// A multi-layer unidirectional LSTM over (time, batch, channels), PyTorch gate order (i, f, g, o).
#[derive(Clone, Debug)]
struct Lstm {
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
    fn new(dim: usize, num_layers: usize, vb: VarBuilder) -> Result<Self> {
        let layers = (0..num_layers)
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

    /// Runs all layers over `x` (time, batch, channels).
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut x = x.clone();
        for layer in &self.layers {
            x = layer.forward(&x)?;
        }
        Ok(x)
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
            let gates = (xw.i(t)? + h.matmul(&self.w_hh_t)?)?;
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
struct ResBlock {
    conv1: Conv,
    conv2: Conv,
    shortcut: Option<Conv>,
}

impl ResBlock {
    fn new(cfg: &EncodecConfig, dilation: usize, vb: VarBuilder) -> Result<Self> {
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

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self
            .conv2
            .forward(&self.conv1.forward(&x.elu(1.0)?)?.elu(1.0)?)?;
        match &self.shortcut {
            Some(s) => s.forward(x)? + h,
            None => x + h,
        }
    }
}

/// One upsampling stage: ELU, transposed conv, residual blocks.
#[derive(Clone, Debug)]
struct Upsample {
    conv: ConvTranspose,
    blocks: Vec<ResBlock>,
}

/// The EnCodec decoder: codes (batch, codebooks, frames) to audio (batch, channels, samples).
#[derive(Clone, Debug)]
pub struct EncodecDecoder {
    codebooks: Vec<Tensor>,
    first: Conv,
    lstm: Lstm,
    stages: Vec<Upsample>,
    last: Conv,
}

impl EncodecDecoder {
    /// Loads the quantizer codebooks (the first `num_codebooks`) and the SEANet decoder from a
    /// VarBuilder rooted at the codec (`audio_encoder` in MusicGen checkpoints).
    pub fn new(cfg: &EncodecConfig, num_codebooks: usize, vb: VarBuilder) -> Result<Self> {
        let dim = cfg.codebook_dim.unwrap_or(cfg.hidden_size);
        let codebooks = (0..num_codebooks)
            .map(|i| {
                vb.pp("quantizer")
                    .pp("layers")
                    .pp(i)
                    .pp("codebook")
                    .get((cfg.codebook_size, dim), "embed")
            })
            .collect::<Result<Vec<_>>>()?;
        let layers = vb.pp("decoder").pp("layers");
        let mut idx = 0;
        let first = Conv::new(cfg, 1, 1, layers.pp(idx))?;
        idx += 1;
        let scale = 1usize << cfg.upsampling_ratios.len();
        let lstm = Lstm::new(
            scale * cfg.num_filters,
            cfg.num_lstm_layers,
            layers.pp(idx).pp("lstm"),
        )?;
        idx += 1;
        let mut stages = Vec::new();
        for &ratio in &cfg.upsampling_ratios {
            idx += 1; // ELU
            let conv = ConvTranspose::new(cfg, ratio, layers.pp(idx))?;
            idx += 1;
            let mut blocks = Vec::new();
            for j in 0..cfg.num_residual_layers {
                blocks.push(ResBlock::new(
                    cfg,
                    cfg.dilation_growth_rate.pow(j as u32),
                    layers.pp(idx),
                )?);
                idx += 1;
            }
            stages.push(Upsample { conv, blocks });
        }
        idx += 1; // ELU
        let last = Conv::new(cfg, 1, 1, layers.pp(idx))?;
        Ok(Self {
            codebooks,
            first,
            lstm,
            stages,
            last,
        })
    }

    /// Decodes `codes` (batch, codebooks, frames; u32) to audio (batch, channels, frames * hop).
    pub fn decode(&self, codes: &Tensor) -> Result<Tensor> {
        let (b, k, t) = codes.dims3()?;
        let mut latent: Option<Tensor> = None;
        for (i, book) in self.codebooks.iter().enumerate().take(k) {
            let ids = codes.i((.., i, ..))?.contiguous()?.flatten_all()?;
            let e = book.index_select(&ids, 0)?.reshape((b, t, ()))?;
            latent = Some(match latent {
                Some(l) => (l + e)?,
                None => e,
            });
        }
        let latent =
            latent.ok_or_else(|| candle_core::Error::Msg("no codebooks to decode".into()))?;
        let x = latent.transpose(1, 2)?.contiguous()?; // (b, dim, t)
        let x = self.first.forward(&x)?;
        let seq = x.permute((2, 0, 1))?.contiguous()?; // (t, b, c)
        let x = (self.lstm.forward(&seq)? + &seq)?
            .permute((1, 2, 0))?
            .contiguous()?;
        let mut x = x;
        for stage in &self.stages {
            x = stage.conv.forward(&x.elu(1.0)?)?;
            for block in &stage.blocks {
                x = block.forward(&x)?;
            }
        }
        self.last.forward(&x.elu(1.0)?)
    }
}

impl Module for EncodecDecoder {
    fn forward(&self, codes: &Tensor) -> Result<Tensor> {
        self.decode(codes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn reflect_padding_matches_torch() {
        // torch.nn.functional.pad(arange(4), (3, 2), mode="reflect") = [3, 2, 1, 0, 1, 2, 3, 2, 1]
        let x = Tensor::arange(0f32, 4., &Device::Cpu)
            .unwrap()
            .reshape((1, 1, 4))
            .unwrap();
        let y = pad1d(&x, 3, 2, PadMode::Reflect)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert_eq!(y, vec![3., 2., 1., 0., 1., 2., 3., 2., 1.]);
        // Input shorter than the padding: zero-extended before reflecting (transformers' _pad1d):
        // pad([0, 1, 0, 0], (3, 3)) = [0,0,1,0,1,0,0,0,1,0]
        // then the 2 extension samples are dropped from the end.
        let x = Tensor::new(&[[[0f32, 1.]]], &Device::Cpu).unwrap();
        let y = pad1d(&x, 3, 3, PadMode::Reflect)
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap();
        assert_eq!(y, vec![0., 0., 1., 0., 1., 0., 0., 0.]);
    }
}
