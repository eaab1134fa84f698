//! `salon score music`: score one WAV file as a text-to-music answer with the fixed BittAudio
//! reward (FAD against a reference set, KLD, text consistency, duration, copies), printed as JSON.
//! The released models (VGGish, PaSST, CLAP) measure the terms when their checkpoints are found;
//! the built-in stand-ins measure the rest.

use super::eval_models::{checkpoint_tag, model_paths};
use super::fad::{load_wav, wav_files};
use crate::usage::usage;
use clap::{Args, Subcommand};
use salon_core::Audio;
use salon_eval::bittaudio::{reward_metrics, BuiltinMusicMetrics, MusicMetrics, RewardOptions};
use salon_eval::fad::{self, StatsCache};
use salon_eval::models::music::{
    ModelMusicMetrics, ModelPaths, MusicModels, MusicReference, Precision,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Score media files as a validator would.
#[derive(Args)]
pub struct ScoreArgs {
    #[command(subcommand)]
    command: ScoreCommand,
}

#[derive(Subcommand)]
enum ScoreCommand {
    /// Score a WAV file as music for a prompt (BittAudio's reward, fixed).
    Music(MusicArgs),
}

#[derive(Args)]
struct MusicArgs {
    /// The prompt the music answers.
    #[arg(long)]
    prompt: String,
    /// Folder of reference WAV files: the set FAD compares against (and copies are checked against).
    #[arg(long)]
    reference: PathBuf,
    /// The reference clip paired with this prompt (the KLD target); default: the set's mean.
    #[arg(long)]
    paired: Option<PathBuf>,
    /// Duration asked for, in seconds (BittAudio asks 15 s).
    #[arg(long, default_value_t = 15.0)]
    duration: f32,
    /// Folder of the released checkpoints (vggish-10086976.pth, passt-s-f128-p16-s10-ap.476-swa.pt,
    /// larger_clap_music/). Default: those found in $SALON_MODELS_DIR, the torch hub cache and the
    /// Hugging Face cache; terms without a model use the built-in stand-ins.
    #[arg(long, value_name = "DIR", conflicts_with = "builtin")]
    models: Option<PathBuf>,
    /// Use only the built-in stand-ins (no weights), even where checkpoints are found.
    #[arg(long)]
    builtin: bool,
    /// Where the models run: cpu, cuda or cuda:N (CUDA needs a build with --features cuda).
    #[arg(long, default_value = "cpu")]
    device: String,
    /// The models' number format: f32 (as the Python peers), or f16 to run PaSST, most of a
    /// clip's arithmetic, in half precision (its logits stay within 1% of f32's; on an H100 a
    /// batch of ten 15 s clips scores in about 0.12 s against 0.19 s in f32). Default: f16 on a
    /// GPU, f32 on the CPU.
    #[arg(long, value_name = "f32|f16")]
    eval_precision: Option<Precision>,
    /// Folder for cached reference statistics (default: $SALON_CACHE_DIR/fad or ~/.cache/salon/fad).
    #[arg(long)]
    cache_dir: Option<PathBuf>,
    /// Do not read or write cached reference statistics.
    #[arg(long)]
    no_cache: bool,
    /// The WAV file to score.
    file: PathBuf,
}

/// Runs `salon score`.
pub fn run(args: ScoreArgs) -> anyhow::Result<()> {
    match args.command {
        ScoreCommand::Music(a) => music(a),
    }
}

fn music(a: MusicArgs) -> anyhow::Result<()> {
    if a.duration.is_nan() || a.duration <= 0.0 {
        return Err(usage("--duration must be a positive number of seconds"));
    }
    if !a.file.is_file() {
        return Err(usage(format!("{} does not exist", a.file.display())));
    }
    let files = wav_files(&a.reference)?;
    let paths = if a.builtin {
        ModelPaths::default()
    } else {
        model_paths(a.models.as_deref())?
    };
    let models = if paths.is_empty() {
        None
    } else {
        let device =
            salon_engines::musicgen::device_by_name(&a.device).map_err(|e| usage(e.to_string()))?;
        Some(Arc::new(
            MusicModels::load(
                &paths,
                &device,
                a.eval_precision
                    .unwrap_or_else(|| Precision::for_device(&device)),
            )
            .map_err(|e| usage(format!("cannot load the evaluation models: {e}")))?,
        ))
    };
    let cache = (!a.no_cache)
        .then(|| StatsCache::new(a.cache_dir.clone().unwrap_or_else(StatsCache::default_dir)));
    let key = fad::set_key(&files)?;
    let load_set = || -> Result<Vec<Audio>, fad::FadError> {
        files
            .iter()
            .map(|f| load_wav(f))
            .collect::<anyhow::Result<Vec<_>>>()
            .map_err(|e| set_error(&a.reference, e))
    };
    let audio = load_wav(&a.file)?;
    let paired = a.paired.as_deref().map(load_wav).transpose()?;
    let (m, terms, cached) = match &models {
        None => {
            let build = || {
                BuiltinMusicMetrics::from_reference(&load_set()?)
                    .map_err(|e| set_error(&a.reference, e))
            };
            let (metrics, cached) = cached_or_built(cache.as_ref(), "builtin-music", &key, build)?;
            let m = metrics.measure(&a.prompt, &audio, paired.as_ref());
            (m, [BuiltinMusicMetrics::MODEL; 3], cached)
        }
        Some(models) => {
            let build = || {
                MusicReference::build(models, &load_set()?).map_err(|e| set_error(&a.reference, e))
            };
            let name = format!("music-{}-{}", models.loaded().join("+"), paths_tag(&paths));
            let (reference, cached) = cached_or_built(cache.as_ref(), &name, &key, build)?;
            let metrics = ModelMusicMetrics::new(models.clone(), reference);
            let m = metrics.measure(&a.prompt, &audio, paired.as_ref());
            (m, metrics.term_models(), cached)
        }
    };
    print_score(&a, &m, terms, files.len(), cached);
    Ok(())
}

/// The value cached under (`name`, `key`), else built (and cached, unless `cache` is None);
/// whether it came from the cache.
fn cached_or_built<T: serde::Serialize + serde::de::DeserializeOwned>(
    cache: Option<&StatsCache>,
    name: &str,
    key: &str,
    build: impl FnOnce() -> Result<T, fad::FadError>,
) -> anyhow::Result<(T, bool)> {
    let built = match cache {
        Some(c) => c.get_or_build(name, key, build).map(|c| (c.value, c.hit)),
        None => build().map(|v| (v, false)),
    };
    built.map_err(|e| usage(e.to_string()))
}

fn set_error(dir: &Path, e: impl std::fmt::Display) -> fad::FadError {
    fad::FadError::Npy {
        path: dir.display().to_string(),
        why: e.to_string(),
    }
}

fn paths_tag(paths: &ModelPaths) -> String {
    let all: Vec<&Path> = [&paths.vggish, &paths.passt, &paths.clap]
        .into_iter()
        .flatten()
        .map(PathBuf::as_path)
        .collect();
    checkpoint_tag(&all)
}

fn print_score(a: &MusicArgs, m: &MusicMetrics, terms: [&str; 3], files: usize, cached: bool) {
    let r = reward_metrics(m, a.duration, None, false, &RewardOptions::default());
    let finite = |v: f64| {
        if v.is_finite() {
            serde_json::json!(v)
        } else {
            serde_json::Value::Null
        }
    };
    let out = serde_json::json!({
        "file": a.file,
        "prompt": a.prompt,
        "models": { "fad": terms[0], "kld": terms[1], "clap": terms[2] },
        "fad": finite(m.fad),
        "kld": finite(m.kld.kld),
        "kld_qp": finite(m.kld.kld_qp),
        "kld_both": finite(m.kld.kld_both),
        "clap": m.clap,
        "duration_secs": m.duration_secs,
        "asked_secs": a.duration,
        "reference_similarity": m.reference_similarity,
        "metrics": r.evaluation.metrics.iter().map(|(k, v)| (k.clone(), finite(*v))).collect::<serde_json::Map<_, _>>(),
        "score": r.evaluation.score,
        "duplicate": r.duplicate,
        "note": r.evaluation.note,
        "reference": { "dir": a.reference, "files": files, "cached": cached },
    });
    println!("{out}");
}
