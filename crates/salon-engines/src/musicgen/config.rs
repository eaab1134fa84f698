//! MusicGen's released `config.json` (text_encoder / audio_encoder / decoder sub-configs) and the
//! checkpoint folder layout: which files a model needs and where they are found.
//!
//! Every field defaults to the value transformers uses, because `save_pretrained` omits defaults.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::MusicGenError;

/// The whole `config.json` of a `MusicgenForConditionalGeneration` checkpoint.
#[derive(Clone, Debug, Deserialize)]
pub struct MusicgenConfig {
    /// The T5 text encoder.
    pub text_encoder: T5Config,
    /// The EnCodec audio codec.
    pub audio_encoder: EncodecConfig,
    /// The MusicGen decoder (language model over codebook tokens).
    pub decoder: DecoderConfig,
    /// "musicgen", or "musicgen_melody" for the chroma-conditioned variant.
    #[serde(default)]
    pub model_type: String,
    /// Melody only: chroma bins per frame.
    #[serde(default = "default_num_chroma")]
    pub num_chroma: usize,
    /// Melody only: chroma frames prepended to the decoder input.
    #[serde(default = "default_chroma_length")]
    pub chroma_length: usize,
}

fn default_num_chroma() -> usize {
    12
}

fn default_chroma_length() -> usize {
    235
}

/// T5 encoder hyper-parameters (`T5Config`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct T5Config {
    /// Token vocabulary size.
    pub vocab_size: usize,
    /// Hidden size.
    pub d_model: usize,
    /// Size of one attention head.
    pub d_kv: usize,
    /// Feed-forward inner size.
    pub d_ff: usize,
    /// Number of encoder blocks.
    pub num_layers: usize,
    /// Attention heads per block.
    pub num_heads: usize,
    /// Buckets of the relative position bias.
    pub relative_attention_num_buckets: usize,
    /// Distance beyond which relative positions share a bucket.
    pub relative_attention_max_distance: usize,
    /// Epsilon of the RMS layer norm.
    pub layer_norm_epsilon: f64,
    /// "relu", "gelu", "gated-gelu" or "gated-relu".
    pub feed_forward_proj: String,
    /// Padding token id.
    pub pad_token_id: u32,
}

impl Default for T5Config {
    fn default() -> Self {
        Self {
            vocab_size: 32128,
            d_model: 512,
            d_kv: 64,
            d_ff: 2048,
            num_layers: 6,
            num_heads: 8,
            relative_attention_num_buckets: 32,
            relative_attention_max_distance: 128,
            layer_norm_epsilon: 1e-6,
            feed_forward_proj: "relu".into(),
            pad_token_id: 0,
        }
    }
}

/// EnCodec hyper-parameters (`EncodecConfig`); only the decoding path is used.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct EncodecConfig {
    /// Output sample rate in Hz (32000 for MusicGen).
    pub sampling_rate: u32,
    /// Output channels (1 = mono).
    pub audio_channels: usize,
    /// Width of the quantized latent.
    pub hidden_size: usize,
    /// Base number of convolution filters.
    pub num_filters: usize,
    /// Residual blocks per upsampling stage.
    pub num_residual_layers: usize,
    /// Upsampling ratios of the decoder, in order.
    pub upsampling_ratios: Vec<usize>,
    /// "weight_norm" or "time_group_norm".
    pub norm_type: String,
    /// Kernel of the first convolution.
    pub kernel_size: usize,
    /// Kernel of the last convolution.
    pub last_kernel_size: usize,
    /// Kernel of the residual blocks' first convolution.
    pub residual_kernel_size: usize,
    /// Dilation growth across residual layers.
    pub dilation_growth_rate: usize,
    /// Causal (left) padding instead of centred padding.
    pub use_causal_conv: bool,
    /// "reflect", "constant" or "replicate".
    pub pad_mode: String,
    /// Channel reduction inside residual blocks.
    pub compress: usize,
    /// LSTM layers after the first convolution.
    pub num_lstm_layers: usize,
    /// Share of causal transposed-convolution padding trimmed on the right.
    pub trim_right_ratio: f64,
    /// Entries per codebook.
    pub codebook_size: usize,
    /// Width of a codebook entry (defaults to `hidden_size`).
    pub codebook_dim: Option<usize>,
    /// Whether residual blocks have a 1x1 convolution shortcut.
    pub use_conv_shortcut: bool,
    /// Whether the model rescales audio (unused by MusicGen).
    pub normalize: bool,
}

impl Default for EncodecConfig {
    fn default() -> Self {
        Self {
            sampling_rate: 24000,
            audio_channels: 1,
            hidden_size: 128,
            num_filters: 32,
            num_residual_layers: 1,
            upsampling_ratios: vec![8, 5, 4, 2],
            norm_type: "weight_norm".into(),
            kernel_size: 7,
            last_kernel_size: 7,
            residual_kernel_size: 3,
            dilation_growth_rate: 2,
            use_causal_conv: true,
            pad_mode: "reflect".into(),
            compress: 2,
            num_lstm_layers: 2,
            trim_right_ratio: 1.0,
            codebook_size: 1024,
            codebook_dim: None,
            use_conv_shortcut: true,
            normalize: false,
        }
    }
}

impl EncodecConfig {
    /// Audio samples per codec frame (the product of the upsampling ratios).
    pub fn hop_length(&self) -> usize {
        self.upsampling_ratios.iter().product()
    }

    /// Codec frames per second (50 for MusicGen's 32 kHz EnCodec).
    pub fn frame_rate(&self) -> f64 {
        self.sampling_rate as f64 / self.hop_length() as f64
    }
}

/// MusicGen decoder hyper-parameters (`MusicgenDecoderConfig`).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct DecoderConfig {
    /// Entries per codebook (the lm heads' width; embeddings have one more, the pad/BOS token).
    pub vocab_size: usize,
    /// Longest sequence the decoder was built for.
    pub max_position_embeddings: usize,
    /// Transformer layers.
    pub num_hidden_layers: usize,
    /// Feed-forward inner size.
    pub ffn_dim: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// Activation of the feed-forward ("gelu").
    pub activation_function: String,
    /// Hidden size.
    pub hidden_size: usize,
    /// Multiply embeddings by sqrt(hidden_size).
    pub scale_embedding: bool,
    /// Parallel codebooks (4).
    pub num_codebooks: usize,
    /// Audio channels (1; stereo checkpoints are not supported).
    pub audio_channels: usize,
    /// Pad token id (also the BOS token).
    pub pad_token_id: u32,
    /// BOS / decoder start token id.
    pub bos_token_id: u32,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        Self {
            vocab_size: 2048,
            max_position_embeddings: 2048,
            num_hidden_layers: 24,
            ffn_dim: 4096,
            num_attention_heads: 16,
            activation_function: "gelu".into(),
            hidden_size: 1024,
            scale_embedding: false,
            num_codebooks: 4,
            audio_channels: 1,
            pad_token_id: 2048,
            bos_token_id: 2048,
        }
    }
}

/// The files of one checkpoint, found and checked.
#[derive(Clone, Debug)]
pub struct CheckpointFiles {
    /// The folder holding them.
    pub dir: PathBuf,
    /// `config.json`.
    pub config: PathBuf,
    /// `model.safetensors`, or every shard named by `model.safetensors.index.json`.
    pub weights: Vec<PathBuf>,
    /// `tokenizer.json`.
    pub tokenizer: PathBuf,
    /// `tokenizer_config.json` when present (for `model_max_length`).
    pub tokenizer_config: Option<PathBuf>,
}

/// The index file of a sharded checkpoint.
#[derive(Deserialize)]
struct ShardIndex {
    weight_map: std::collections::BTreeMap<String, String>,
}

impl CheckpointFiles {
    /// Finds the files of a checkpoint folder, with an error naming the first one missing.
    pub fn in_dir(dir: &Path) -> Result<Self, MusicGenError> {
        if !dir.is_dir() {
            return Err(MusicGenError::MissingFile {
                path: dir.to_path_buf(),
                what: "checkpoint folder".into(),
            });
        }
        let need = |name: &str, what: &str| {
            let p = dir.join(name);
            if p.is_file() {
                Ok(p)
            } else {
                Err(MusicGenError::MissingFile {
                    path: p,
                    what: what.into(),
                })
            }
        };
        let config = need("config.json", "model config")?;
        let tokenizer = need(
            "tokenizer.json",
            "text tokenizer (save it with the processor or tokenizer)",
        )?;
        let single = dir.join("model.safetensors");
        let index = dir.join("model.safetensors.index.json");
        let weights = if single.is_file() {
            vec![single]
        } else if index.is_file() {
            let text = std::fs::read_to_string(&index).map_err(|e| MusicGenError::Io {
                path: index.clone(),
                source: e,
            })?;
            let idx: ShardIndex =
                serde_json::from_str(&text).map_err(|e| MusicGenError::Config {
                    path: index.clone(),
                    reason: e.to_string(),
                })?;
            let mut shards: Vec<String> = idx.weight_map.into_values().collect();
            shards.sort();
            shards.dedup();
            let mut out = Vec::with_capacity(shards.len());
            for s in shards {
                out.push(need(
                    &s,
                    "weight shard listed in model.safetensors.index.json",
                )?);
            }
            out
        } else {
            return Err(MusicGenError::MissingFile {
                path: single,
                what:
                    "weights (model.safetensors or model.safetensors.index.json with its shards; \
                       .bin checkpoints must be converted to safetensors)"
                        .into(),
            });
        };
        let tc = dir.join("tokenizer_config.json");
        Ok(Self {
            dir: dir.to_path_buf(),
            config,
            weights,
            tokenizer,
            tokenizer_config: tc.is_file().then_some(tc),
        })
    }

    /// Reads and parses `config.json`.
    pub fn read_config(&self) -> Result<MusicgenConfig, MusicGenError> {
        let text = std::fs::read_to_string(&self.config).map_err(|e| MusicGenError::Io {
            path: self.config.clone(),
            source: e,
        })?;
        let cfg: MusicgenConfig =
            serde_json::from_str(&text).map_err(|e| MusicGenError::Config {
                path: self.config.clone(),
                reason: e.to_string(),
            })?;
        cfg.check().map_err(|reason| MusicGenError::Config {
            path: self.config.clone(),
            reason,
        })?;
        Ok(cfg)
    }

    /// The tokenizer's `model_max_length` when the checkpoint states a sane one.
    pub fn model_max_length(&self) -> Option<usize> {
        let p = self.tokenizer_config.as_ref()?;
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
        let n = v.get("model_max_length")?.as_f64()?;
        (1.0..1e9).contains(&n).then_some(n as usize)
    }
}

impl MusicgenConfig {
    /// Whether this is MusicGen Melody (decoder-only over a chroma + text prefix).
    pub fn is_melody(&self) -> bool {
        self.model_type == "musicgen_melody"
    }

    /// Rejects configurations this implementation does not handle.
    fn check(&self) -> Result<(), String> {
        let d = &self.decoder;
        if d.audio_channels != 1 {
            return Err(format!(
                "stereo MusicGen (audio_channels = {}) is not supported",
                d.audio_channels
            ));
        }
        if d.num_attention_heads == 0 || !d.hidden_size.is_multiple_of(d.num_attention_heads) {
            return Err("decoder hidden_size is not a multiple of num_attention_heads".into());
        }
        if d.activation_function != "gelu" && d.activation_function != "relu" {
            return Err(format!(
                "decoder activation {:?} is not supported",
                d.activation_function
            ));
        }
        if self.is_melody() && (self.num_chroma == 0 || self.chroma_length == 0) {
            return Err(
                "a melody checkpoint needs num_chroma and chroma_length of at least 1".into(),
            );
        }
        let a = &self.audio_encoder;
        if a.audio_channels != 1 {
            return Err("the EnCodec decoder must be mono".into());
        }
        if a.norm_type != "weight_norm" {
            return Err(format!(
                "EnCodec norm_type {:?} is not supported (MusicGen uses weight_norm)",
                a.norm_type
            ));
        }
        if a.codebook_size != d.vocab_size {
            return Err(format!(
                "EnCodec codebook_size {} differs from the decoder vocab_size {}",
                a.codebook_size, d.vocab_size
            ));
        }
        match self.text_encoder.feed_forward_proj.as_str() {
            "relu" | "gelu" | "gated-gelu" | "gated-relu" => Ok(()),
            other => Err(format!("T5 feed_forward_proj {other:?} is not supported")),
        }
    }
}

/// The snapshot folder of model `id` in a Hugging Face hub cache (`$HF_HOME/hub`, normally
/// `~/.cache/huggingface/hub`) when it holds a complete checkpoint.
pub fn find_in_hf_cache(hub: &Path, id: &str) -> Option<PathBuf> {
    let repo = hf_hub::Cache::new(hub.to_path_buf()).model(id.to_string());
    let dir = repo.get("config.json")?.parent()?.to_path_buf();
    CheckpointFiles::in_dir(&dir).is_ok().then_some(dir)
}

/// Finds a checkpoint: a local folder, else a Hugging Face model id in the local HF cache, else a
/// download of that id with hf-hub (needs a network).
pub fn resolve_checkpoint(path_or_id: &str) -> Result<PathBuf, MusicGenError> {
    let p = Path::new(path_or_id);
    if p.is_dir() {
        return Ok(p.to_path_buf());
    }
    if p.exists()
        || !path_or_id.contains('/')
        || path_or_id.starts_with('.')
        || path_or_id.starts_with('/')
    {
        return Err(MusicGenError::MissingFile {
            path: p.to_path_buf(),
            what: "checkpoint folder (or a Hugging Face id like facebook/musicgen-small)".into(),
        });
    }
    let files = ["config.json", "tokenizer.json"];
    if let Some(dir) = find_in_hf_cache(hf_hub::Cache::from_env().path(), path_or_id) {
        return Ok(dir);
    }
    let api = hf_hub::api::sync::Api::new().map_err(|e| MusicGenError::Download {
        id: path_or_id.into(),
        reason: e.to_string(),
    })?;
    let remote = api.model(path_or_id.to_string());
    let fetch = |name: &str| {
        remote.get(name).map_err(|e| MusicGenError::Download {
            id: path_or_id.into(),
            reason: format!("{name}: {e}"),
        })
    };
    let mut dir = PathBuf::new();
    for f in files {
        dir = fetch(f)?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
    }
    let _ = remote.get("tokenizer_config.json");
    if remote.get("model.safetensors").is_err() {
        let index = fetch("model.safetensors.index.json")?;
        let text = std::fs::read_to_string(&index).map_err(|e| MusicGenError::Io {
            path: index.clone(),
            source: e,
        })?;
        let idx: ShardIndex = serde_json::from_str(&text).map_err(|e| MusicGenError::Config {
            path: index,
            reason: e.to_string(),
        })?;
        let mut shards: Vec<String> = idx.weight_map.into_values().collect();
        shards.sort();
        shards.dedup();
        for s in shards {
            fetch(&s)?;
        }
    }
    Ok(dir)
}
