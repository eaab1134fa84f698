//! MusicGen text-to-music on candle: loads the released checkpoint folders (config.json,
//! safetensors, tokenizer.json; MusicGen and MusicGen Melody) and generates 32 kHz mono audio,
//! single or batched; [`BatchingEngine`] batches concurrent requests for a miner.
//!
//! ```no_run
//! # use salon_engines::musicgen::MusicGen;
//! let model = MusicGen::load("musicgen-small", &candle_core::Device::Cpu).unwrap();
//! let audio = model.generate_audio("lofi piano with rain", 5.0, 42).unwrap();
//! ```

pub mod batcher;
pub mod chroma;
pub mod config;
pub mod decoder;
pub mod encodec;
pub mod encodec_encoder;
mod encodec_layers;
#[cfg(feature = "cuda")]
pub mod fused;
pub mod generate;
pub mod t5;

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use salon_core::task::MusicRequest;
use salon_core::{Audio, Request, Response, Task};

pub use batcher::{BatchConfig, BatchStats, BatchingEngine};
pub use candle_core;
pub use config::{resolve_checkpoint, CheckpointFiles, MusicgenConfig};
pub use generate::{CodeRequest, DelayPattern, GenerationParams, Sampling};

use crate::{Engine, EngineError};

/// Why a MusicGen checkpoint could not be loaded or a generation could not run.
#[derive(Debug, thiserror::Error)]
pub enum MusicGenError {
    /// A file or folder the checkpoint needs is not there.
    #[error("missing {what}: {path} (a MusicGen checkpoint folder holds config.json, model.safetensors or sharded safetensors with their index, and tokenizer.json)")]
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
    /// `config.json` (or the shard index) is malformed or describes an unsupported model.
    #[error("bad checkpoint config {path}: {reason}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The weights do not fit the config (missing tensor, wrong shape).
    #[error("cannot load MusicGen weights from {dir}: {source} (is this a MusicgenForConditionalGeneration checkpoint saved as safetensors?)")]
    Weights {
        /// The checkpoint folder.
        dir: PathBuf,
        /// candle's error.
        source: candle_core::Error,
    },
    /// A Hugging Face id could not be found in the cache nor downloaded.
    #[error("cannot get {id} from the Hugging Face hub: {reason} (without a network, pass a local checkpoint folder)")]
    Download {
        /// The model id.
        id: String,
        /// What failed.
        reason: String,
    },
    /// `tokenizer.json` could not be loaded or applied.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The prompt is longer than the text encoder accepts.
    #[error("prompt is {tokens} tokens long; the text encoder takes at most {max}: shorten it")]
    PromptTooLong {
        /// Tokens in the prompt (end-of-sequence included).
        tokens: usize,
        /// The limit.
        max: usize,
    },
    /// The requested duration is not a positive number within the model's limit.
    #[error(
        "duration {secs} s is out of range: this model generates between {min:.2} and {max:.2} s"
    )]
    BadDuration {
        /// The requested duration.
        secs: f32,
        /// Shortest supported.
        min: f32,
        /// Longest supported.
        max: f32,
    },
    /// The batching worker thread is gone (it panicked).
    #[error("the MusicGen batching worker stopped; restart the engine")]
    BatcherStopped,
    /// A reference melody was given to a checkpoint that is not MusicGen Melody.
    #[error("this checkpoint does not take a melody (use a musicgen-melody checkpoint)")]
    MelodyUnsupported,
    /// The device name is not one this build can use.
    #[error("{0}")]
    Device(String),
    /// A batch call got no prompts.
    #[error("no prompts to generate")]
    EmptyBatch,
    /// The model failed while running.
    #[error("MusicGen failed: {0}")]
    Model(#[from] candle_core::Error),
}

/// One prompt of a batch with its own length and seed.
#[derive(Clone, Debug, PartialEq)]
pub struct MusicPrompt {
    /// What the music should be.
    pub text: String,
    /// Decoder tokens to generate; see [`MusicGen::tokens_for_duration`].
    pub max_new_tokens: usize,
    /// Sampling seed.
    pub seed: u64,
    /// Melody checkpoints only: a reference clip (32 kHz mono) whose chroma the music follows.
    pub melody: Option<Vec<f32>>,
}

impl MusicPrompt {
    /// A text-only prompt.
    pub fn new(text: impl Into<String>, max_new_tokens: usize, seed: u64) -> Self {
        Self {
            text: text.into(),
            max_new_tokens,
            seed,
            melody: None,
        }
    }
}

/// A loaded MusicGen model (text encoder, decoder, EnCodec decoder and tokenizer).
pub struct MusicGen {
    config: MusicgenConfig,
    text_encoder: t5::T5Encoder,
    decoder: decoder::MusicgenDecoder,
    codec: encodec::EncodecDecoder,
    tokenizer: tokenizers::Tokenizer,
    chroma: Option<chroma::ChromaExtractor>,
    device: Device,
    max_prompt_tokens: usize,
    max_duration_secs: f32,
    params: GenerationParams,
    dir: PathBuf,
}

/// The device for a `--device` name: "cpu", "cuda" or "cuda:N" (CUDA needs the `cuda` feature).
pub fn device_by_name(name: &str) -> Result<Device, MusicGenError> {
    let ordinal = match name {
        "cpu" => return Ok(Device::Cpu),
        "cuda" => 0,
        other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(n)) => n,
            _ => {
                return Err(MusicGenError::Device(format!(
                    "unknown device {name:?}: use cpu, cuda or cuda:N"
                )))
            }
        },
    };
    let device = Device::new_cuda(ordinal).map_err(|e| {
        MusicGenError::Device(format!(
            "cannot open {name}: {e} (GPU builds need salon-engines' cuda feature and a CUDA driver)"
        ))
    })?;
    #[cfg(feature = "cuda")]
    if let Device::Cuda(cuda) = &device {
        // candle queues all of a device's work on one stream, so cudarc's cross-stream event
        // tracking (two events made for every buffer, recorded and waited on at every launch)
        // buys nothing here and costs CPU time on every op.
        // SAFETY: nothing has been allocated on this device yet, and every tensor on it is read
        // and written only through its one stream.
        unsafe { cuda.disable_event_tracking() };
    }
    Ok(device)
}

/// The decoder precision to use on `device`: f16 on a GPU, f32 on the CPU.
pub fn default_dtype(device: &Device) -> DType {
    if device.is_cpu() {
        DType::F32
    } else {
        DType::F16
    }
}

/// The longest clip MusicGen was trained for.
pub const TRAINED_MAX_SECS: f32 = 30.0;

impl MusicGen {
    /// Loads a checkpoint folder in f32 on `device`.
    pub fn load(path: impl AsRef<Path>, device: &Device) -> Result<Self, MusicGenError> {
        Self::load_with_dtype(path, device, DType::F32)
    }

    /// Loads a local folder or a Hugging Face id (cache first, then download), decoder in `dtype`.
    pub fn from_pretrained(
        path_or_id: &str,
        device: &Device,
        dtype: DType,
    ) -> Result<Self, MusicGenError> {
        Self::load_with_dtype(resolve_checkpoint(path_or_id)?, device, dtype)
    }

    /// Loads a checkpoint folder with the decoder in `dtype` (F32, F16 or BF16); the text encoder
    /// and the codec stay in f32 (T5 overflows in f16; both run once per request).
    pub fn load_with_dtype(
        path: impl AsRef<Path>,
        device: &Device,
        dtype: DType,
    ) -> Result<Self, MusicGenError> {
        let files = CheckpointFiles::in_dir(path.as_ref())?;
        let config = files.read_config()?;
        let weights_err = |source| MusicGenError::Weights {
            dir: files.dir.clone(),
            source,
        };
        // SAFETY: the safetensors files are memory-mapped read-only; they must not be modified
        // while the model is loading (the tensors are copied out before this returns).
        let vb32 =
            unsafe { VarBuilder::from_mmaped_safetensors(&files.weights, DType::F32, device) }
                .map_err(weights_err)?;
        let vbd = unsafe { VarBuilder::from_mmaped_safetensors(&files.weights, dtype, device) }
            .map_err(weights_err)?;
        let text_encoder = t5::T5Encoder::new(&config.text_encoder, vb32.pp("text_encoder"))
            .map_err(weights_err)?;
        let decoder = decoder::MusicgenDecoder::new(
            &config.decoder,
            config.text_encoder.d_model,
            config.is_melody().then_some(config.num_chroma),
            vbd,
        )
        .map_err(weights_err)?;
        let codec = encodec::EncodecDecoder::new(
            &config.audio_encoder,
            config.decoder.num_codebooks,
            vb32.pp("audio_encoder"),
        )
        .map_err(weights_err)?;
        let tokenizer = tokenizers::Tokenizer::from_file(&files.tokenizer)
            .map_err(|e| MusicGenError::Tokenizer(format!("{}: {e}", files.tokenizer.display())))?;
        let max_prompt_tokens = files.model_max_length().unwrap_or(512);
        let frame_rate = config.audio_encoder.frame_rate() as f32;
        let prefix = if config.is_melody() {
            config.chroma_length
        } else {
            0
        };
        let positions = config
            .decoder
            .max_position_embeddings
            .saturating_sub(config.decoder.num_codebooks + prefix);
        let chroma = config.is_melody().then(|| {
            chroma::ChromaExtractor::new(config.audio_encoder.sampling_rate, config.num_chroma)
        });
        let max_duration_secs = TRAINED_MAX_SECS.min(positions as f32 / frame_rate);
        Ok(Self {
            config,
            text_encoder,
            decoder,
            codec,
            tokenizer,
            chroma,
            device: device.clone(),
            max_prompt_tokens,
            max_duration_secs,
            params: GenerationParams::default(),
            dir: files.dir,
        })
    }

    /// Replaces the generation settings used by [`Engine::generate`] and [`MusicGen::generate_audio`].
    pub fn with_params(mut self, params: GenerationParams) -> Self {
        self.params = params;
        self
    }

    /// The generation settings in use.
    pub fn params(&self) -> &GenerationParams {
        &self.params
    }

    /// The checkpoint's configuration.
    pub fn config(&self) -> &MusicgenConfig {
        &self.config
    }

    /// Output sample rate in Hz (32000 for the released models).
    pub fn sample_rate(&self) -> u32 {
        self.config.audio_encoder.sampling_rate
    }

    /// Codec frames per second (50 for the released models).
    pub fn frame_rate(&self) -> f64 {
        self.config.audio_encoder.frame_rate()
    }

    /// The longest duration accepted, in seconds.
    pub fn max_duration_secs(&self) -> f32 {
        self.max_duration_secs
    }

    /// The most prompt tokens the text encoder accepts.
    pub fn max_prompt_tokens(&self) -> usize {
        self.max_prompt_tokens
    }

    /// Decoder tokens for `secs` of audio: one per frame plus the delay pattern's
    /// `codebooks - 1`, so the clip is the full duration (15 s -> 753 tokens -> 750 frames).
    pub fn tokens_for_duration(&self, secs: f32) -> Result<usize, MusicGenError> {
        let k = self.config.decoder.num_codebooks;
        let min = 1.0 / self.frame_rate() as f32;
        if !secs.is_finite() || secs < min * 0.5 || secs > self.max_duration_secs + 1e-3 {
            return Err(MusicGenError::BadDuration {
                secs,
                min,
                max: self.max_duration_secs,
            });
        }
        let frames = ((secs as f64 * self.frame_rate()).round() as usize).max(1);
        // transformers skips the delay pattern below 2K-1 positions; never go there.
        Ok((frames + k - 1).max(2 * k - 2))
    }

    /// Tokenizes `text` (end-of-sequence appended), refusing prompts over the encoder's limit.
    pub fn tokenize(&self, text: &str) -> Result<Vec<u32>, MusicGenError> {
        let enc = self
            .tokenizer
            .encode(text, true)
            .map_err(|e| MusicGenError::Tokenizer(e.to_string()))?;
        let ids = enc.get_ids().to_vec();
        if ids.len() > self.max_prompt_tokens {
            return Err(MusicGenError::PromptTooLong {
                tokens: ids.len(),
                max: self.max_prompt_tokens,
            });
        }
        Ok(ids)
    }

    /// Runs the T5 encoder on right-padded prompts: the text states (batch, seq, text_dim) and
    /// the padding mask (batch, seq; 1 = token) the decoder attends to.
    pub fn encode_text(&self, prompts: &[&str]) -> Result<(Tensor, Tensor), MusicGenError> {
        let ids = prompts
            .iter()
            .map(|p| self.tokenize(p))
            .collect::<Result<Vec<_>, _>>()?;
        let longest = ids.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let pad = self.config.text_encoder.pad_token_id;
        let mut flat = Vec::with_capacity(ids.len() * longest);
        let mut mask = Vec::with_capacity(ids.len() * longest);
        for row in &ids {
            flat.extend(
                row.iter()
                    .copied()
                    .chain(std::iter::repeat(pad))
                    .take(longest),
            );
            mask.extend((0..longest).map(|i| if i < row.len() { 1f32 } else { 0f32 }));
        }
        let ids = Tensor::from_vec(flat, (prompts.len(), longest), &self.device)?;
        let mask = Tensor::from_vec(mask, (prompts.len(), longest), &self.device)?;
        let states = self.text_encoder.forward(&ids, &mask)?;
        Ok((states, mask))
    }

    /// Generates codebook tokens for a batch: per prompt, `codes[k][frame]`.
    pub fn generate_codes(
        &self,
        prompts: &[MusicPrompt],
        params: &GenerationParams,
    ) -> Result<Vec<Vec<Vec<u32>>>, MusicGenError> {
        self.generate_codes_with_progress(prompts, params, &mut |_, _| {})
    }

    /// [`MusicGen::generate_codes`] calling `progress(steps_done, steps_total)` after every
    /// decoding step (for a progress bar).
    pub fn generate_codes_with_progress(
        &self,
        prompts: &[MusicPrompt],
        params: &GenerationParams,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Vec<Vec<Vec<u32>>>, MusicGenError> {
        if prompts.is_empty() {
            return Err(MusicGenError::EmptyBatch);
        }
        let k = self.config.decoder.num_codebooks;
        let limit = self.config.decoder.max_position_embeddings;
        for p in prompts {
            if p.max_new_tokens < 2 * k - 2 || p.max_new_tokens + 1 > limit {
                let fr = self.frame_rate() as f32;
                return Err(MusicGenError::BadDuration {
                    secs: (p.max_new_tokens + 1).saturating_sub(k) as f32 / fr,
                    min: 1.0 / fr,
                    max: self.max_duration_secs,
                });
            }
        }
        let texts: Vec<&str> = prompts.iter().map(|p| p.text.as_str()).collect();
        let (states, mask) = self.encode_text(&texts)?;
        let cond = if self.decoder.is_melody() {
            let prefix = self.config.chroma_length + states.dim(1)?;
            if let Some(p) = prompts
                .iter()
                .find(|p| p.max_new_tokens + 1 + prefix > limit)
            {
                let fr = self.frame_rate() as f32;
                return Err(MusicGenError::BadDuration {
                    secs: (p.max_new_tokens + 1).saturating_sub(k) as f32 / fr,
                    min: 1.0 / fr,
                    max: (limit - prefix - k) as f32 / fr,
                });
            }
            self.melody_prefixes(prompts, &states, &mask)?
        } else {
            if prompts.iter().any(|p| p.melody.is_some()) {
                return Err(MusicGenError::MelodyUnsupported);
            }
            generate::Conditioning::Text { states, mask }
        };
        let items: Vec<CodeRequest> = prompts
            .iter()
            .map(|p| CodeRequest {
                max_new_tokens: p.max_new_tokens,
                seed: p.seed,
            })
            .collect();
        Ok(generate::generate_codes(
            &self.decoder,
            &cond,
            &items,
            params,
            progress,
        )?)
    }

    /// Melody conditioning as transformers builds it: per item its chroma (or the null chroma,
    /// pitch class 0, without a clip) tiled to `chroma_length` frames, then the projected text;
    /// the unconditional branch has the null chroma and zero text.
    fn melody_prefixes(
        &self,
        prompts: &[MusicPrompt],
        states: &Tensor,
        mask: &Tensor,
    ) -> Result<generate::Conditioning, MusicGenError> {
        let n = self.config.num_chroma;
        let len = self.config.chroma_length;
        let null = {
            let mut f = vec![0f32; n];
            f[0] = 1.0;
            f
        };
        let tile = |frames: &[Vec<f32>]| -> Vec<f32> {
            frames.iter().cycle().take(len).flatten().copied().collect()
        };
        let mut cond = Vec::with_capacity(prompts.len() * len * n);
        for p in prompts {
            let frames = match (&p.melody, &self.chroma) {
                (Some(wav), Some(ex)) if !wav.is_empty() => ex.one_hot(wav),
                _ => vec![null.clone()],
            };
            cond.extend(tile(&frames));
        }
        let b = prompts.len();
        let cond = Tensor::from_vec(cond, (b, len, n), &self.device)?;
        let uncond = Tensor::from_vec(tile(&[null]).repeat(b), (b, len, n), &self.device)?;
        let text = self.decoder.project_text(states, mask)?;
        let cond = Tensor::cat(&[&self.decoder.project_chroma(&cond)?, &text], 1)?;
        let uncond = Tensor::cat(
            &[&self.decoder.project_chroma(&uncond)?, &text.zeros_like()?],
            1,
        )?;
        Ok(generate::Conditioning::Prefix { cond, uncond })
    }

    /// Decodes one item's codes (`codes[k][frame]`) to mono samples.
    pub fn decode_codes(&self, codes: &[Vec<u32>]) -> Result<Vec<f32>, MusicGenError> {
        Ok(self
            .decode_codes_batch(std::slice::from_ref(&codes.to_vec()))?
            .remove(0))
    }

    /// Decodes several items' codes to mono samples; items with the same number of frames go
    /// through the codec as one batch (one LSTM pass for all of them).
    pub fn decode_codes_batch(
        &self,
        items: &[Vec<Vec<u32>>],
    ) -> Result<Vec<Vec<f32>>, MusicGenError> {
        let mut out = vec![Vec::new(); items.len()];
        let mut by_frames: std::collections::BTreeMap<(usize, usize), Vec<usize>> =
            Default::default();
        for (i, codes) in items.iter().enumerate() {
            let frames = codes.first().map_or(0, Vec::len);
            if frames > 0 {
                by_frames.entry((codes.len(), frames)).or_default().push(i);
            }
        }
        for ((books, frames), group) in by_frames {
            let flat: Vec<u32> = group
                .iter()
                .flat_map(|i| items[*i].iter().flatten().copied())
                .collect();
            let t = Tensor::from_vec(flat, (group.len(), books, frames), &self.device)?;
            let audio = self.codec.decode(&t)?.to_dtype(DType::F32)?;
            for (row, i) in group.into_iter().enumerate() {
                out[i] = audio.get(row)?.flatten_all()?.to_vec1::<f32>()?;
            }
        }
        Ok(out)
    }

    /// Generates a batch of prompts and decodes each to mono samples at [`MusicGen::sample_rate`].
    pub fn generate_batch(
        &self,
        prompts: &[MusicPrompt],
        params: &GenerationParams,
    ) -> Result<Vec<Vec<f32>>, MusicGenError> {
        let codes = self.generate_codes(prompts, params)?;
        self.decode_codes_batch(&codes)
    }

    /// Checks a request (prompt length, duration) and turns it into a batch item.
    pub fn prompt_for(&self, request: &MusicRequest) -> Result<MusicPrompt, MusicGenError> {
        self.tokenize(&request.prompt)?;
        Ok(MusicPrompt {
            text: request.prompt.clone(),
            max_new_tokens: self.tokens_for_duration(request.duration_secs)?,
            seed: request.seed,
            melody: None,
        })
    }

    /// Generates several requests as one batch (each with its own duration and seed) with the
    /// model's settings.
    pub fn generate_requests(
        &self,
        requests: &[MusicRequest],
    ) -> Result<Vec<Audio>, MusicGenError> {
        let prompts = requests
            .iter()
            .map(|r| self.prompt_for(r))
            .collect::<Result<Vec<_>, MusicGenError>>()?;
        let sr = self.sample_rate();
        Ok(self
            .generate_batch(&prompts, &self.params)?
            .into_iter()
            .map(|s| Audio::mono(s, sr))
            .collect())
    }

    /// Generates one clip of `secs` seconds with the model's settings.
    pub fn generate_audio(
        &self,
        prompt: &str,
        secs: f32,
        seed: u64,
    ) -> Result<Audio, MusicGenError> {
        let req = MusicRequest {
            prompt: prompt.into(),
            duration_secs: secs,
            seed,
        };
        let mut out = self.generate_requests(std::slice::from_ref(&req))?;
        Ok(out.remove(0))
    }
}

impl MusicGenError {
    /// Whether the caller asked for something the model cannot do (as opposed to a model failure).
    pub fn is_invalid_request(&self) -> bool {
        matches!(
            self,
            Self::PromptTooLong { .. }
                | Self::BadDuration { .. }
                | Self::EmptyBatch
                | Self::MelodyUnsupported
        )
    }
}

impl From<MusicGenError> for EngineError {
    fn from(e: MusicGenError) -> Self {
        if e.is_invalid_request() {
            EngineError::InvalidRequest(e.to_string())
        } else {
            EngineError::Failed(e.to_string())
        }
    }
}

impl Engine for MusicGen {
    fn describe(&self) -> String {
        let d = &self.config.decoder;
        format!(
            "MusicGen on candle ({} layers x {} hidden, {} codebooks, {} Hz) from {}",
            d.num_hidden_layers,
            d.hidden_size,
            d.num_codebooks,
            self.sample_rate(),
            self.dir.display()
        )
    }

    fn supports(&self, task: Task) -> bool {
        task == Task::TextToMusic
    }

    fn generate(&self, request: &Request) -> Result<Response, EngineError> {
        match request {
            Request::TextToMusic(r) => {
                let mut audio = self.generate_requests(std::slice::from_ref(r))?;
                Ok(Response::Audio {
                    audio: audio.remove(0),
                })
            }
            other => Err(EngineError::Unsupported(other.task())),
        }
    }
}
