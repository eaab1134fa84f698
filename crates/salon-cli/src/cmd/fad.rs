//! `salon fad`: Frechet Audio Distance between two sets, like fadtk: from embedding files
//! (`--embeddings A.npy B.npy`) or from two folders of WAV files with an embedding model
//! (VGGish, CLAP, or the built-in features).

use super::eval_models::{checkpoint_tag, model_paths};
use crate::usage::usage;
use anyhow::Context;
use candle_core::Device;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use salon_core::Audio;
use salon_engines::musicgen::encodec_encoder::EncodecEncoder;
use salon_eval::audio::music::{music_features, FEATURE_DIM};
use salon_eval::audio::resample::resample;
use salon_eval::fad::{self, Embeddings, FadInfOptions, StatsCache};
use salon_eval::models::checkpoints::{self, ENCODEC_REPO};
use salon_eval::models::clap::Clap;
use salon_eval::models::music::{ModelPaths, MusicModels, Precision};
use std::path::{Path, PathBuf};

/// CLAP embeds 10 s windows at 48 kHz.
const CLAP_RATE: u32 = 48_000;
const CLAP_WINDOW: usize = 10 * CLAP_RATE as usize;

/// Frechet Audio Distance between a reference (background) set and an evaluated set.
#[derive(Args)]
pub struct FadArgs {
    /// Reference folder and evaluated folder of WAV files (needs --model).
    #[arg(num_args = 0..=2, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Two .npy files of float32/float64 embeddings [n, d] (reference, evaluated) instead of folders.
    #[arg(long, num_args = 2, value_names = ["A.npy", "B.npy"], conflicts_with = "dirs")]
    embeddings: Option<Vec<PathBuf>>,
    /// Embedding model for folders: vggish (one 128-d row per 0.96 s), clap (one 512-d row per
    /// 10 s window) or builtin (handcrafted frame features, no weights).
    #[arg(long, value_enum, default_value_t = Model::Builtin)]
    model: Model,
    /// The model's checkpoint: torchvggish's vggish-10086976.pth for vggish, a transformers CLAP
    /// folder (config.json, model.safetensors) for clap. Default: found in --models, else in
    /// $SALON_MODELS_DIR, the torch hub cache or the Hugging Face cache.
    #[arg(long, value_name = "PATH")]
    checkpoint: Option<PathBuf>,
    /// A folder holding the released checkpoints under their released names.
    #[arg(long, value_name = "DIR")]
    models: Option<PathBuf>,
    /// Where the model runs: cpu, cuda or cuda:N (CUDA needs a build with --features cuda).
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Also report FAD-inf (regression of FAD over 1/n, as fadtk).
    #[arg(long)]
    inf: bool,
    /// Folder for cached reference statistics (default: $SALON_CACHE_DIR/fad or ~/.cache/salon/fad).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Do not read or write cached reference statistics.
    #[arg(long)]
    no_cache: bool,
}

/// Embedding models `salon fad` knows by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Model {
    /// Built-in handcrafted frame features (MFCCs, centroid, flatness, level, onset): no weights.
    Builtin,
    /// VGGish (16 kHz, 128-d per 0.96 s), as BittAudio's FAD.
    Vggish,
    /// LAION CLAP audio tower (48 kHz, 512-d per 10 s window), laion/larger_clap_music by default.
    Clap,
    /// EnCodec encoder latents (24 kHz, 128-d at 75 Hz), as fadtk's encodec-emb.
    Encodec,
}

impl Model {
    /// The name used in reports and cache keys.
    pub fn name(self) -> &'static str {
        match self {
            Model::Builtin => "builtin",
            Model::Vggish => "vggish",
            Model::Clap => "clap",
            Model::Encodec => "encodec",
        }
    }
}

/// Runs `salon fad`.
pub fn run(args: FadArgs) -> anyhow::Result<()> {
    let out = if let Some(files) = &args.embeddings {
        let read = |p: &PathBuf| -> anyhow::Result<Embeddings> {
            if !p.is_file() {
                return Err(usage(format!(
                    "embedding file {} does not exist",
                    p.display()
                )));
            }
            fad::npy::read_embeddings(p).map_err(|e| usage(e.to_string()))
        };
        let (a, b) = (read(&files[0])?, read(&files[1])?);
        if a.dim != b.dim {
            return Err(usage(format!(
                "{} has dimension {} but {} has {}: compare embeddings of the same model",
                files[0].display(),
                a.dim,
                files[1].display(),
                b.dim
            )));
        }
        let sa = a
            .stats()
            .map_err(|e| usage(format!("{}: {e}", files[0].display())))?;
        let sb = b
            .stats()
            .map_err(|e| usage(format!("{}: {e}", files[1].display())))?;
        let mut out = serde_json::json!({ "fad": fad::frechet_distance(&sa, &sb)? });
        if args.inf {
            out["fad_inf"] =
                serde_json::to_value(fad::fad_inf(&sa, &b, FadInfOptions::default())?)?;
        }
        out
    } else {
        let [reference, eval] = &args.dirs[..] else {
            return Err(usage(
                "give two folders (reference, evaluated) or --embeddings A.npy B.npy",
            ));
        };
        folders(&args, reference, eval)?
    };
    println!("{out}");
    Ok(())
}

fn folders(args: &FadArgs, reference: &Path, eval: &Path) -> anyhow::Result<serde_json::Value> {
    let ref_files = wav_files(reference)?;
    let eval_files = wav_files(eval)?;
    let embedder = Embedder::load(args)?;
    let bar = progress(ref_files.len() + eval_files.len());
    let build = || -> Result<fad::GaussianStats, fad::FadError> {
        let e = embedder
            .embed_files(&ref_files, &bar)
            .map_err(|e| fad::FadError::Npy {
                path: reference.display().to_string(),
                why: format!("{e:#}"),
            })?;
        e.stats()
    };
    let (ref_stats, cached) = if args.no_cache {
        (build()?, false)
    } else {
        let cache = StatsCache::new(
            args.cache_dir
                .clone()
                .unwrap_or_else(StatsCache::default_dir),
        );
        let key = fad::set_key(&ref_files)?;
        let c = cache.get_or_build(&embedder.cache_name, &key, build)?;
        (c.value, c.hit)
    };
    if cached {
        bar.inc(ref_files.len() as u64);
    }
    let eval_emb = embedder.embed_files(&eval_files, &bar)?;
    bar.finish_and_clear();
    let eval_stats = eval_emb
        .stats()
        .with_context(|| format!("statistics of {}", eval.display()))?;
    let report = fad::frechet_report(&ref_stats, &eval_stats, fad::DEFAULT_EPS)?;
    let mut out = serde_json::json!({
        "fad": report.distance,
        "model": args.model.name(),
        "eps_retry": report.eps_retry,
        "reference": { "dir": reference, "files": ref_files.len(), "rows": ref_stats.count, "cached": cached },
        "eval": { "dir": eval, "files": eval_files.len(), "rows": eval_stats.count },
    });
    if let Some(c) = &embedder.checkpoint {
        out["checkpoint"] = serde_json::json!(c);
    }
    if args.inf {
        out["fad_inf"] = serde_json::to_value(fad::fad_inf(
            &ref_stats,
            &eval_emb,
            FadInfOptions::default(),
        )?)?;
    }
    Ok(out)
}

fn progress(files: usize) -> ProgressBar {
    let bar = ProgressBar::new(files as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} embedding [{bar:30}] {pos}/{len} files {elapsed_precise} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// The network behind `--model`.
enum Network {
    Builtin,
    Vggish(Box<MusicModels>),
    Clap(Box<Clap>),
    Encodec(Box<EncodecEncoder>),
}

/// An embedding model ready to embed files, with its cache name.
struct Embedder {
    network: Network,
    /// Names the model and its checkpoint in the statistics cache.
    cache_name: String,
    checkpoint: Option<PathBuf>,
}

impl Embedder {
    fn load(args: &FadArgs) -> anyhow::Result<Self> {
        if args.model == Model::Builtin {
            return Ok(Self {
                network: Network::Builtin,
                cache_name: Model::Builtin.name().into(),
                checkpoint: None,
            });
        }
        let found = model_paths(args.models.as_deref())?;
        let (path, hint) = match args.model {
            Model::Vggish => (
                found.vggish,
                "torchvggish's vggish-10086976.pth, in $SALON_MODELS_DIR or the torch hub cache",
            ),
            Model::Encodec => (
                match args.models.as_deref() {
                    Some(dir) => Some(dir.join(checkpoints::repo_dir_name(ENCODEC_REPO)))
                        .filter(|d| d.join("config.json").is_file()),
                    None => checkpoints::find_repo(ENCODEC_REPO),
                },
                "a transformers EnCodec folder such as facebook/encodec_24khz, in \
                 $SALON_MODELS_DIR or the Hugging Face cache",
            ),
            _ => (
                found.clap,
                "a transformers CLAP folder such as laion/larger_clap_music, in $SALON_MODELS_DIR \
                 or the Hugging Face cache",
            ),
        };
        let Some(path) = args.checkpoint.clone().or(path) else {
            return Err(usage(format!(
                "no {} checkpoint found: pass --checkpoint PATH or --models DIR ({hint})",
                args.model.name()
            )));
        };
        if !path.exists() {
            return Err(usage(format!("--checkpoint {}: not found", path.display())));
        }
        let device = salon_engines::musicgen::device_by_name(&args.device)
            .map_err(|e| usage(e.to_string()))?;
        let network = load_network(args.model, &path, &device)
            .map_err(|e| usage(format!("cannot load {}: {e:#}", path.display())))?;
        Ok(Self {
            network,
            cache_name: format!("{}-{}", args.model.name(), checkpoint_tag(&[&path])),
            checkpoint: Some(path),
        })
    }

    /// The rows of every file, pooled.
    fn embed_files(&self, files: &[PathBuf], bar: &ProgressBar) -> anyhow::Result<Embeddings> {
        let mut all: Option<Embeddings> = None;
        for f in files {
            let audio = load_wav(f)?;
            let e = self
                .embed(&audio)
                .with_context(|| format!("embedding {}", f.display()))?;
            match &mut all {
                Some(a) => a.extend(&e)?,
                None => all = Some(e),
            }
            bar.inc(1);
        }
        all.ok_or_else(|| usage("no files to embed"))
    }

    fn embed(&self, audio: &Audio) -> anyhow::Result<Embeddings> {
        match &self.network {
            Network::Builtin => {
                let rows: Vec<f32> = music_features(audio).frames.concat();
                Ok(Embeddings::from_f32(
                    rows.len() / FEATURE_DIM,
                    FEATURE_DIM,
                    &rows,
                )?)
            }
            Network::Vggish(m) => Ok(m
                .vggish_embeddings(audio)
                .context("VGGish is not loaded")??),
            Network::Clap(m) => {
                let wav = resample(&audio.mono_samples(), audio.sample_rate, CLAP_RATE);
                // Non-overlapping 10 s windows; a tail under a second is dropped unless it is all.
                let windows: Vec<&[f32]> = wav
                    .chunks(CLAP_WINDOW)
                    .filter(|w| w.len() >= CLAP_RATE as usize || wav.len() < CLAP_WINDOW)
                    .collect();
                let rows: Vec<Vec<f32>> = m.audio_embeddings(&windows)?.to_vec2()?;
                Ok(Embeddings::from_rows(
                    rows.iter().map(Vec::as_slice),
                    m.embedding_dim(),
                )?)
            }
            Network::Encodec(m) => {
                // fadtk cuts clips at 3 minutes (the encoder's first conv needs memory in
                // proportion to the clip).
                let mono = audio.mono_samples();
                let keep = mono.len().min(180 * audio.sample_rate as usize);
                let wav = resample(&mono[..keep], audio.sample_rate, m.sample_rate());
                let rows = m.embed(&wav)?;
                Ok(Embeddings::from_rows(
                    rows.iter().map(Vec::as_slice),
                    m.hidden_size(),
                )?)
            }
        }
    }
}

fn load_network(model: Model, path: &Path, device: &Device) -> anyhow::Result<Network> {
    Ok(match model {
        Model::Vggish => Network::Vggish(Box::new(MusicModels::load(
            &ModelPaths {
                vggish: Some(path.to_path_buf()),
                ..ModelPaths::default()
            },
            device,
            Precision::F32,
        )?)),
        Model::Clap => Network::Clap(Box::new(Clap::load(path, device)?)),
        Model::Encodec => Network::Encodec(Box::new(EncodecEncoder::load(path, device)?)),
        Model::Builtin => {
            anyhow::bail!("the {} model has no checkpoint to load", model.name())
        }
    })
}

/// The .wav files directly in `dir`, sorted; a usage error if none.
pub fn wav_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| usage(format!("cannot read folder {}: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("wav")))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(usage(format!("no .wav files in {}", dir.display())));
    }
    Ok(files)
}

/// Decodes one WAV file.
pub fn load_wav(path: &Path) -> anyhow::Result<Audio> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Audio::from_wav_bytes(&bytes).map_err(|e| usage(format!("{}: {e}", path.display())))
}
