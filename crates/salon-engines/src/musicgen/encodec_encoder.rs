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

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use serde::Deserialize;

use super::config::EncodecConfig;
use super::encodec_layers::{res_blocks, Conv, Lstm, ResBlock};

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
            let blocks = res_blocks(cfg, &layers, idx)?;
            idx += blocks.len() + 1; // the blocks, ELU
            let conv = Conv::new(cfg, ratio, 1, layers.pp(idx))?;
            idx += 1;
            stages.push(Downsample { blocks, conv });
        }
        let lstm = Lstm::new(cfg, layers.pp(idx).pp("lstm"))?;
        idx += 2; // LSTM, ELU
        let last = Conv::new(cfg, 1, 1, layers.pp(idx))?;
        let hidden_size = last.out_channels()?;
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
        let x = self.lstm.forward_with_skip(&x)?;
        self.last.forward(&x.elu(1.0)?)
    }
}
