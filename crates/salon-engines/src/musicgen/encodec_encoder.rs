//! EnCodec's SEANet encoder on its own: audio to the continuous latent frames before quantisation,
//! as fadtk's `encodec-emb` model feeds FAD (`model.encoder(x)`, (1, 128, T) read as T frames of 128).
//! Loads a transformers `EncodecModel` folder (facebook/encodec_24khz, _32khz, _48khz: config.json and
//! model.safetensors or pytorch_model.bin; only the `encoder.*` tensors are read). Encode only: the
//! decoder lives in [`super::encodec`].
//!
//! ```no_run
//! # use salon_engines::musicgen::encodec_encoder::EncodecEncoder;
//! let enc = EncodecEncoder::load("encodec_24khz".as_ref(), &candle_core::Device::Cpu).unwrap();
//! let frames = enc.embed(&vec![0.0; enc.sample_rate() as usize]).unwrap(); // 75 x 128
//! ```

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor, D};
use candle_nn::VarBuilder;
use serde::Deserialize;

use super::config::EncodecConfig;

/// Why an EnCodec encoder could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum EncodecEncoderError {
    /// A file or folder the checkpoint needs is not there.
    #[error("missing {what}: {path} (an EnCodec checkpoint folder, as facebook/encodec_24khz ships, holds config.json and model.safetensors or pytorch_model.bin)")]
    MissingFile {
        /// Where it was looked for.
        path: PathBuf,
        /// What it is.
        what: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `config.json` is malformed or describes an unsupported model.
    #[error("bad EnCodec config {path}: {reason}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The weights do not fit the config (missing tensor, wrong shape).
    #[error("cannot load EnCodec encoder weights from {path}: {source} (is this a transformers EncodecModel checkpoint?)")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// candle's error.
        source: candle_core::Error,
    },
    /// The model failed while running.
    #[error("EnCodec encoder failed: {0}")]
    Model(#[from] candle_core::Error),
}

/// The fields of config.json the shared [`EncodecConfig`] does not carry.
#[derive(Debug, Default, Deserialize)]
struct Chunking {
    /// Segment length in seconds (1.0 for the 48 kHz model; null for 24 and 32 kHz).
    #[serde(default)]
    chunk_length_s: Option<f64>,
}

/// How a convolution pads its input ("reflect", "constant" = zeros, "replicate").
#[derive(Clone, Copy, Debug, PartialEq)]
enum PadMode {
    Reflect,
    Zeros,
    Replicate,
}

/// Reads a convolution weight: weight-normed (`weight_g`/`weight_v`, or the newer
/// `parametrizations.weight.original0/1`) or plain `weight`.
fn conv_weight(vb: &VarBuilder) -> candle_core::Result<Tensor> {
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
struct Conv {
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
    fn new(
        cfg: &EncodecConfig,
        stride: usize,
        dilation: usize,
        vb: VarBuilder,
    ) -> candle_core::Result<Self> {
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

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
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
fn group_norm1(x: &Tensor, w: &Tensor, b: &Tensor) -> candle_core::Result<Tensor> {
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
fn pad1d(x: &Tensor, left: usize, right: usize, mode: PadMode) -> candle_core::Result<Tensor> {
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
    fn new(dim: usize, num_layers: usize, vb: VarBuilder) -> candle_core::Result<Self> {
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
            .collect::<candle_core::Result<Vec<_>>>()?;
        Ok(Self { layers })
    }

    /// Runs all layers over `x` (time, batch, channels).
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut x = x.clone();
        for layer in &self.layers {
            x = layer.forward(&x)?;
        }
        Ok(x)
    }
}

impl LstmLayer {
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
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
struct ResBlock {
    conv1: Conv,
    conv2: Conv,
    shortcut: Option<Conv>,
}

impl ResBlock {
    fn new(cfg: &EncodecConfig, dilation: usize, vb: VarBuilder) -> candle_core::Result<Self> {
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

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let h = self
            .conv2
            .forward(&self.conv1.forward(&x.elu(1.0)?)?.elu(1.0)?)?;
        match &self.shortcut {
            Some(s) => s.forward(x)? + h,
            None => x + h,
        }
    }
}

/// One downsampling stage: residual blocks, ELU, strided conv (kernel 2 x ratio).
#[derive(Clone, Debug)]
struct Downsample {
    blocks: Vec<ResBlock>,
    conv: Conv,
}

/// The EnCodec (SEANet) encoder: mono audio at [`Self::sample_rate`] to latent frames of
/// [`Self::hidden_size`], one every hop (320 samples for the 24 kHz model: 75 frames a second).
#[derive(Clone, Debug)]
pub struct EncodecEncoder {
    first: Conv,
    stages: Vec<Downsample>,
    lstm: Lstm,
    last: Conv,
    sample_rate: u32,
    channels: usize,
    hidden_size: usize,
    chunk_length: Option<usize>,
    device: Device,
}

impl EncodecEncoder {
    /// Loads the encoder from a transformers `EncodecModel` folder: config.json plus
    /// model.safetensors (or, without it, pytorch_model.bin).
    pub fn load(dir: &Path, device: &Device) -> Result<Self, EncodecEncoderError> {
        if !dir.is_dir() {
            return Err(EncodecEncoderError::MissingFile {
                path: dir.to_path_buf(),
                what: "checkpoint folder".into(),
            });
        }
        let config_path = dir.join("config.json");
        if !config_path.is_file() {
            return Err(EncodecEncoderError::MissingFile {
                path: config_path,
                what: "model config".into(),
            });
        }
        let text =
            std::fs::read_to_string(&config_path).map_err(|source| EncodecEncoderError::Io {
                path: config_path.clone(),
                source,
            })?;
        let bad = |reason: String| EncodecEncoderError::Config {
            path: config_path.clone(),
            reason,
        };
        let cfg: EncodecConfig = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let chunking: Chunking = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if !matches!(cfg.norm_type.as_str(), "weight_norm" | "time_group_norm") {
            return Err(bad(format!(
                "norm_type {:?} (expected \"weight_norm\" or \"time_group_norm\")",
                cfg.norm_type
            )));
        }
        if cfg.audio_channels == 0 || cfg.sampling_rate == 0 || cfg.upsampling_ratios.contains(&0) {
            return Err(bad(
                "audio_channels, sampling_rate and upsampling_ratios must be positive".into(),
            ));
        }
        let chunk_length = match chunking.chunk_length_s {
            None => None,
            Some(s) if s > 0.0 && (s * cfg.sampling_rate as f64) >= 1.0 => {
                Some((s * cfg.sampling_rate as f64) as usize)
            }
            Some(s) => return Err(bad(format!("chunk_length_s {s} is not a positive length"))),
        };

        let safetensors = dir.join("model.safetensors");
        let pth = dir.join("pytorch_model.bin");
        let (weights, vb) = if safetensors.is_file() {
            // SAFETY: the file is memory-mapped; it must not be modified while loading (the
            // tensors are copied out before this returns).
            let vb =
                unsafe { VarBuilder::from_mmaped_safetensors(&[&safetensors], DType::F32, device) };
            (safetensors, vb)
        } else if pth.is_file() {
            let vb = VarBuilder::from_pth(&pth, DType::F32, device);
            (pth, vb)
        } else {
            return Err(EncodecEncoderError::MissingFile {
                path: safetensors,
                what: "weights (model.safetensors, or pytorch_model.bin)".into(),
            });
        };
        let weights_err = |source| EncodecEncoderError::Weights {
            path: weights.clone(),
            source,
        };
        let vb = vb.map_err(weights_err)?;
        Self::new(&cfg, chunk_length, vb.pp("encoder"), device).map_err(weights_err)
    }

    /// Builds the encoder from a VarBuilder rooted at `encoder` (layers `layers.{i}`).
    fn new(
        cfg: &EncodecConfig,
        chunk_length: Option<usize>,
        vb: VarBuilder,
        device: &Device,
    ) -> candle_core::Result<Self> {
        let layers = vb.pp("layers");
        let mut idx = 0;
        let first = Conv::new(cfg, 1, 1, layers.pp(idx))?;
        idx += 1;
        let mut stages = Vec::new();
        for &ratio in cfg.upsampling_ratios.iter().rev() {
            let mut blocks = Vec::new();
            for j in 0..cfg.num_residual_layers {
                blocks.push(ResBlock::new(
                    cfg,
                    cfg.dilation_growth_rate.pow(j as u32),
                    layers.pp(idx),
                )?);
                idx += 1;
            }
            idx += 1; // ELU
            let conv = Conv::new(cfg, ratio, 1, layers.pp(idx))?;
            idx += 1;
            stages.push(Downsample { blocks, conv });
        }
        let scale = 1usize << cfg.upsampling_ratios.len();
        let lstm = Lstm::new(
            scale * cfg.num_filters,
            cfg.num_lstm_layers,
            layers.pp(idx).pp("lstm"),
        )?;
        idx += 2; // LSTM, ELU
        let last = Conv::new(cfg, 1, 1, layers.pp(idx))?;
        let hidden_size = last.weight.dim(0)?;
        Ok(Self {
            first,
            stages,
            lstm,
            last,
            sample_rate: cfg.sampling_rate,
            channels: cfg.audio_channels,
            hidden_size,
            chunk_length,
            device: device.clone(),
        })
    }

    /// The sample rate the input must have (24000 for facebook/encodec_24khz).
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Width of one output frame (128 for the released models).
    pub fn hidden_size(&self) -> usize {
        self.hidden_size
    }

    /// Audio channels the model takes (1, or 2 for the 48 kHz model, which gets mono repeated).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Segment length in samples for models that encode in segments (48 kHz: one second).
    pub fn chunk_length(&self) -> Option<usize> {
        self.chunk_length
    }

    /// Encodes mono audio at [`Self::sample_rate`] into latent frames [frames][hidden_size], as
    /// fadtk's `encodec-emb`: the whole clip in one pass, or, for models with a chunk length,
    /// back-to-back segments of that length (no overlap; the last one shorter) with their frames
    /// concatenated. Multi-channel models get the mono signal on every channel. An empty clip
    /// gives no frames.
    pub fn embed(&self, mono: &[f32]) -> Result<Vec<Vec<f32>>, EncodecEncoderError> {
        let mut frames = Vec::new();
        if mono.is_empty() {
            return Ok(frames);
        }
        let seg = self.chunk_length.unwrap_or(mono.len());
        for piece in mono.chunks(seg) {
            frames.extend(self.encode_segment(piece)?);
        }
        Ok(frames)
    }

    /// Runs the encoder over one segment: (1, channels, len) to [frames][hidden].
    fn encode_segment(&self, mono: &[f32]) -> candle_core::Result<Vec<Vec<f32>>> {
        let x = Tensor::from_slice(mono, (1, 1, mono.len()), &self.device)?;
        let x = if self.channels > 1 {
            x.repeat((1, self.channels, 1))?
        } else {
            x
        };
        let y = self.forward(&x)?; // (1, hidden, frames)
        y.squeeze(0)?.t()?.contiguous()?.to_vec2::<f32>()
    }

    /// The encoder network: audio (batch, channels, samples) to latents (batch, hidden, frames).
    pub fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let mut x = self.first.forward(x)?;
        for stage in &self.stages {
            for block in &stage.blocks {
                x = block.forward(&x)?;
            }
            x = stage.conv.forward(&x.elu(1.0)?)?;
        }
        let seq = x.permute((2, 0, 1))?.contiguous()?; // (t, b, c)
        let x = (self.lstm.forward(&seq)? + &seq)?
            .permute((1, 2, 0))?
            .contiguous()?;
        self.last.forward(&x.elu(1.0)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
