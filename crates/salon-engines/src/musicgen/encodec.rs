//! The EnCodec decoder MusicGen uses to turn codebook tokens into audio (tensor names
//! `audio_encoder.quantizer.*` and `audio_encoder.decoder.*`): residual-VQ lookup, then the SEANet
//! decoder (convolutions, LSTM, transposed-convolution upsampling, residual blocks). Decode only.

use candle_core::{IndexOp, Module, Result, Tensor, D};
use candle_nn::VarBuilder;

use super::config::EncodecConfig;
use super::encodec_layers::{conv_weight, res_blocks, Conv, Lstm, ResBlock};

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
        let lstm = Lstm::new(cfg, layers.pp(idx).pp("lstm"))?;
        idx += 1;
        let mut stages = Vec::new();
        for &ratio in &cfg.upsampling_ratios {
            idx += 1; // ELU
            let conv = ConvTranspose::new(cfg, ratio, layers.pp(idx))?;
            idx += 1;
            let blocks = res_blocks(cfg, &layers, idx)?;
            idx += blocks.len();
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
        let mut x = self.lstm.forward_with_skip(&self.first.forward(&x)?)?;
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
