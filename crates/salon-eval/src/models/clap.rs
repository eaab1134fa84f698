//! CLAP (transformers' `ClapModel` layout, e.g. laion/larger_clap_music) on candle: loads a
//! checkpoint folder once and embeds batches of 48 kHz clips and of texts into one space, where
//! their cosine is the CLAP text-consistency score.

use super::clap_audio::{ClapAudioConfig, HtsatEncoder};
use super::clap_input::{ClapFeatureExtractor, FeatureError, FeatureParams};
use super::clap_text::{ClapTextConfig, RobertaText};
use super::fused::{self, Act, Linear};
use super::{CandleContext, ModelError};
use candle_core::{DType, Device, Module, Tensor, D};
use candle_nn::VarBuilder;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Why a CLAP checkpoint could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ClapError {
    /// A file or folder the checkpoint needs is not there.
    #[error("missing {what}: {path} (a CLAP checkpoint folder holds config.json, model.safetensors or pytorch_model.bin, and tokenizer.json for text)")]
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
    #[error("bad CLAP config {path}: {reason}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The weights do not fit the config (missing tensor, wrong shape).
    #[error("cannot load CLAP weights from {path}: {source} (is this a transformers ClapModel checkpoint?)")]
    Weights {
        /// The weights file.
        path: PathBuf,
        /// candle's error, naming the tensor.
        source: candle_core::Error,
    },
    /// `tokenizer.json` could not be loaded or applied.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// Pairwise scoring got different numbers of clips and texts.
    #[error("{clips} clips but {texts} texts: pass one text per clip")]
    Mismatch {
        /// Clips given.
        clips: usize,
        /// Texts given.
        texts: usize,
    },
    /// The audio could not be turned into features.
    #[error(transparent)]
    Features(#[from] FeatureError),
    /// The network failed to run.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// The whole `config.json` of a `ClapModel` checkpoint (fields not listed are ignored).
#[derive(Clone, Debug, Deserialize)]
pub struct ClapConfig {
    /// The RoBERTa tower.
    #[serde(default)]
    pub text_config: ClapTextConfig,
    /// The HTSAT tower.
    #[serde(default)]
    pub audio_config: ClapAudioConfig,
    /// Width of the shared embedding space (overrides the towers' own, as transformers does).
    #[serde(default = "default_projection_dim")]
    pub projection_dim: usize,
    /// Activation between the two projection linears.
    #[serde(default = "default_projection_act")]
    pub projection_hidden_act: String,
}

fn default_projection_dim() -> usize {
    512
}

fn default_projection_act() -> String {
    "relu".into()
}

impl ClapConfig {
    /// Parses `config.json` and checks that it can be run here.
    pub fn from_file(path: &Path) -> Result<Self, ClapError> {
        let text = std::fs::read_to_string(path).map_err(|source| ClapError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let bad = |reason: String| ClapError::Config {
            path: path.to_path_buf(),
            reason,
        };
        let cfg: Self = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        cfg.audio_config.check().map_err(bad)?;
        cfg.text_config.check().map_err(bad)?;
        Act::from_name(&cfg.projection_hidden_act).map_err(bad)?;
        Ok(cfg)
    }
}

/// `linear2(act(linear1(x)))`, transformers' `ClapProjectionLayer`.
#[derive(Clone, Debug)]
struct Projection {
    linear1: Linear,
    linear2: Linear,
    act: Act,
}

impl Projection {
    fn new(inp: usize, out: usize, act: Act, vb: VarBuilder) -> candle_core::Result<Self> {
        Ok(Self {
            linear1: fused::linear(inp, out, vb.pp("linear1"))?,
            linear2: fused::linear(out, out, vb.pp("linear2"))?,
            act,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        self.linear2
            .forward(&self.linear1.forward_act(x, Some(self.act))?)
    }
}

/// Rows scaled to unit L2 norm (as `F.normalize`, eps 1e-12).
fn l2_normalize(x: &Tensor) -> candle_core::Result<Tensor> {
    let norm = x.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?.maximum(1e-12)?;
    x.broadcast_div(&norm)
}

/// Clips per forward pass of the audio tower.
const AUDIO_BATCH: usize = 32;
/// Texts per forward pass of the text tower.
const TEXT_BATCH: usize = 64;

/// A loaded CLAP model: feature extractor, both towers, both projections, and the tokenizer.
pub struct Clap {
    config: ClapConfig,
    features: ClapFeatureExtractor,
    audio: HtsatEncoder,
    audio_projection: Projection,
    text: RobertaText,
    text_projection: Projection,
    tokenizer: Option<tokenizers::Tokenizer>,
    tokenizer_path: PathBuf,
    device: Device,
}

impl std::fmt::Debug for Clap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clap")
            .field("config", &self.config)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

impl Clap {
    /// Loads a transformers `ClapModel` checkpoint folder: `config.json`, `model.safetensors` (or
    /// `pytorch_model.bin`), `tokenizer.json` (needed only by [`Clap::text_embeddings`]) and
    /// `preprocessor_config.json` (optional; `ClapFeatureExtractor()` defaults without it).
    pub fn load(dir: &Path, device: &Device) -> Result<Self, ClapError> {
        if !dir.is_dir() {
            return Err(ClapError::MissingFile {
                path: dir.to_path_buf(),
                what: "checkpoint folder".into(),
            });
        }
        let config_path = dir.join("config.json");
        if !config_path.is_file() {
            return Err(ClapError::MissingFile {
                path: config_path,
                what: "model config".into(),
            });
        }
        let config = ClapConfig::from_file(&config_path)?;
        let safetensors = dir.join("model.safetensors");
        let bin = dir.join("pytorch_model.bin");
        let (weights, vb) = if safetensors.is_file() {
            // SAFETY: the file is mapped read-only and not modified while the model loads.
            let vb =
                unsafe { VarBuilder::from_mmaped_safetensors(&[&safetensors], DType::F32, device) };
            (safetensors, vb)
        } else if bin.is_file() {
            let vb = VarBuilder::from_pth(&bin, DType::F32, device);
            (bin, vb)
        } else {
            return Err(ClapError::MissingFile {
                path: safetensors,
                what: "weights (model.safetensors or pytorch_model.bin)".into(),
            });
        };
        let vb = vb.map_err(|source| ClapError::Weights {
            path: weights.clone(),
            source,
        })?;
        let pre = dir.join("preprocessor_config.json");
        let params = if pre.is_file() {
            FeatureParams::from_file(&pre)?
        } else {
            FeatureParams::default()
        };
        let tokenizer_path = dir.join("tokenizer.json");
        let tokenizer = if tokenizer_path.is_file() {
            Some(load_tokenizer(&tokenizer_path)?)
        } else {
            None
        };
        let mut model = Self::new(config, vb, params, tokenizer, device).map_err(|e| match e {
            ClapError::Model(ModelError::Candle { source, .. }) => ClapError::Weights {
                path: weights,
                source,
            },
            other => other,
        })?;
        model.tokenizer_path = tokenizer_path;
        Ok(model)
    }

    /// Builds the model from tensors named as `ClapModel`'s state dict, with an already loaded
    /// tokenizer (or none: then only audio can be embedded).
    pub fn new(
        config: ClapConfig,
        vb: VarBuilder,
        params: FeatureParams,
        tokenizer: Option<tokenizers::Tokenizer>,
        device: &Device,
    ) -> Result<Self, ClapError> {
        let act =
            Act::from_name(&config.projection_hidden_act).map_err(|reason| ClapError::Config {
                path: "config.json".into(),
                reason,
            })?;
        if params.feature_size != config.audio_config.num_mel_bins {
            return Err(ClapError::Config {
                path: "preprocessor_config.json".into(),
                reason: format!(
                    "feature_size {} differs from the audio tower's num_mel_bins {}",
                    params.feature_size, config.audio_config.num_mel_bins
                ),
            });
        }
        let audio = HtsatEncoder::new(&config.audio_config, vb.pp("audio_model.audio_encoder"))
            .context("loading audio_model")?;
        let audio_projection = Projection::new(
            config.audio_config.hidden_size,
            config.projection_dim,
            act,
            vb.pp("audio_projection"),
        )
        .context("loading audio_projection")?;
        let text = RobertaText::new(&config.text_config, vb.pp("text_model"))
            .context("loading text_model")?;
        let text_projection = Projection::new(
            config.text_config.hidden_size,
            config.projection_dim,
            act,
            vb.pp("text_projection"),
        )
        .context("loading text_projection")?;
        let features = ClapFeatureExtractor::new(params);
        if features.frames() > audio.max_frames() {
            return Err(ClapError::Config {
                path: "preprocessor_config.json".into(),
                reason: format!(
                    "{} frames per clip exceed the audio tower's {}",
                    features.frames(),
                    audio.max_frames()
                ),
            });
        }
        Ok(Self {
            config,
            features,
            audio,
            audio_projection,
            text,
            text_projection,
            tokenizer,
            tokenizer_path: PathBuf::from("tokenizer.json"),
            device: device.clone(),
        })
    }

    /// The parsed `config.json`.
    pub fn config(&self) -> &ClapConfig {
        &self.config
    }

    /// The device the weights live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Width of the embeddings (`projection_dim`).
    pub fn embedding_dim(&self) -> usize {
        self.config.projection_dim
    }

    /// The audio frontend (48 kHz; first 10 s of longer clips, repeat-padded shorter ones).
    pub fn feature_extractor(&self) -> &ClapFeatureExtractor {
        &self.features
    }

    /// L2-normalised audio embeddings `[clips, projection_dim]` (f32, on the model's device) of
    /// 48 kHz mono clips. Equal to transformers 5's `get_audio_features(...).pooler_output`
    /// (which normalises; transformers 4 returned the projection unnormalised).
    pub fn audio_embeddings(&self, clips_48k: &[&[f32]]) -> Result<Tensor, ClapError> {
        let (frames, mels) = (self.features.frames(), self.features.mel_bins());
        let mut out = Vec::new();
        for chunk in clips_48k.chunks(AUDIO_BATCH) {
            let feats = self.features.extract_batch(chunk).map_err(|e| match e {
                FeatureError::EmptyClip { index } => FeatureError::EmptyClip {
                    index: index + out.len() * AUDIO_BATCH,
                },
                other => other,
            })?;
            let x = Tensor::from_vec(feats, (chunk.len(), frames, mels), &self.device)
                .context("uploading CLAP features")?;
            out.push(self.audio_embeddings_from_features(&x)?);
        }
        if out.is_empty() {
            return Tensor::zeros((0, self.embedding_dim()), DType::F32, &self.device)
                .context("empty batch")
                .map_err(ClapError::from);
        }
        Ok(Tensor::cat(&out, 0).context("joining CLAP audio batches")?)
    }

    /// L2-normalised audio embeddings of log-mel features `[b, frames, mels]` as
    /// [`ClapFeatureExtractor`] (or transformers' `input_features[:, 0]`) gives them.
    pub fn audio_embeddings_from_features(&self, features: &Tensor) -> Result<Tensor, ClapError> {
        let run = || -> candle_core::Result<Tensor> {
            let pooled = self.audio.forward(&features.to_dtype(DType::F32)?)?;
            l2_normalize(&self.audio_projection.forward(&pooled)?)
        };
        Ok(run().context("CLAP audio forward")?)
    }

    /// Token ids of `texts` as the checkpoint's tokenizer gives them (`<s>` ... `</s>`), cut to
    /// the text tower's length limit.
    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<Vec<u32>>, ClapError> {
        let tok = self
            .tokenizer
            .as_ref()
            .ok_or_else(|| ClapError::MissingFile {
                path: self.tokenizer_path.clone(),
                what: "text tokenizer (tokenizer.json in the checkpoint folder)".into(),
            })?;
        let max = self.text.config().max_tokens();
        texts
            .iter()
            .map(|t| {
                let enc = tok
                    .encode(*t, true)
                    .map_err(|e| ClapError::Tokenizer(format!("encoding {t:?}: {e}")))?;
                let mut ids = enc.get_ids().to_vec();
                if ids.len() > max {
                    // Keep the end-of-text token, as truncation with specials does.
                    let last = *ids.last().unwrap_or(&0);
                    ids.truncate(max);
                    ids[max - 1] = last;
                }
                Ok(ids)
            })
            .collect()
    }

    /// L2-normalised text embeddings `[texts, projection_dim]` (f32, on the model's device);
    /// equal to transformers 5's `get_text_features(...).pooler_output` on padded batches.
    pub fn text_embeddings(&self, texts: &[&str]) -> Result<Tensor, ClapError> {
        let ids = self.tokenize(texts)?;
        self.text_embeddings_from_ids(&ids)
    }

    /// L2-normalised text embeddings of token id rows (any lengths; padded here with the
    /// config's `pad_token_id` and masked).
    pub fn text_embeddings_from_ids(&self, ids: &[Vec<u32>]) -> Result<Tensor, ClapError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(TEXT_BATCH) {
            let run = || -> candle_core::Result<Tensor> {
                l2_normalize(&self.text_projection.forward(&self.text.forward(chunk)?)?)
            };
            out.push(run().context("CLAP text forward")?);
        }
        if out.is_empty() {
            return Tensor::zeros((0, self.embedding_dim()), DType::F32, &self.device)
                .context("empty batch")
                .map_err(ClapError::from);
        }
        Ok(Tensor::cat(&out, 0).context("joining CLAP text batches")?)
    }

    /// Cosine similarities `[audio rows, text rows]` between two sets of embeddings.
    pub fn similarity(audio: &Tensor, text: &Tensor) -> Result<Tensor, ClapError> {
        let run = || -> candle_core::Result<Tensor> {
            l2_normalize(audio)?.matmul(&l2_normalize(text)?.t()?)
        };
        Ok(run().context("CLAP similarity")?)
    }

    /// CLAP text consistency: the cosine between clip `i` and text `i`, for every `i`.
    pub fn text_consistency(
        &self,
        clips_48k: &[&[f32]],
        texts: &[&str],
    ) -> Result<Vec<f32>, ClapError> {
        if clips_48k.len() != texts.len() {
            return Err(ClapError::Mismatch {
                clips: clips_48k.len(),
                texts: texts.len(),
            });
        }
        // The towers are independent: on a GPU, queueing their kernels from two threads keeps
        // the stream fed while each thread does its CPU work (features, tokens, op set-up).
        let (a, t) = rayon::join(
            || self.audio_embeddings(clips_48k),
            || self.text_embeddings(texts),
        );
        let (a, t) = (a?, t?);
        let run = || -> candle_core::Result<Vec<f32>> { (a * t)?.sum(D::Minus1)?.to_vec1() };
        Ok(run().context("CLAP text consistency")?)
    }
}

/// Loads `tokenizer.json` with its own padding and truncation switched off (done here instead).
fn load_tokenizer(path: &Path) -> Result<tokenizers::Tokenizer, ClapError> {
    let mut tok = tokenizers::Tokenizer::from_file(path)
        .map_err(|e| ClapError::Tokenizer(format!("{}: {e}", path.display())))?;
    tok.with_padding(None);
    tok.with_truncation(None)
        .map_err(|e| ClapError::Tokenizer(format!("{}: {e}", path.display())))?;
    Ok(tok)
}
