//! `salon score music`: score one WAV file as a text-to-music answer with the fixed BittAudio
//! reward (FAD against a reference set, KLD, text consistency, duration, copies), printed as JSON.

use super::fad::{load_wav, wav_files, Model};
use crate::usage::usage;
use clap::{Args, Subcommand};
use salon_eval::bittaudio::{reward_metrics, BuiltinMusicMetrics, RewardOptions};
use salon_eval::fad::{self, StatsCache};
use std::path::PathBuf;

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
    /// Models for FAD, KLD and CLAP. Only `builtin` (no weights) is in this build.
    #[arg(long, value_enum, default_value_t = Model::Builtin)]
    model: Model,
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
    a.model.require_available()?;
    if a.duration.is_nan() || a.duration <= 0.0 {
        return Err(usage("--duration must be a positive number of seconds"));
    }
    if !a.file.is_file() {
        return Err(usage(format!("{} does not exist", a.file.display())));
    }
    let files = wav_files(&a.reference)?;
    let build = || -> Result<BuiltinMusicMetrics, fad::FadError> {
        let clips = files
            .iter()
            .map(|f| load_wav(f))
            .collect::<anyhow::Result<Vec<_>>>()
            .map_err(|e| fad::FadError::Npy {
                path: a.reference.display().to_string(),
                why: e.to_string(),
            })?;
        BuiltinMusicMetrics::from_reference(&clips).map_err(|e| fad::FadError::Npy {
            path: a.reference.display().to_string(),
            why: e.to_string(),
        })
    };
    let (metrics, cached) = if a.no_cache {
        (build().map_err(|e| usage(e.to_string()))?, false)
    } else {
        let cache = StatsCache::new(a.cache_dir.clone().unwrap_or_else(StatsCache::default_dir));
        let key = fad::set_key(&files)?;
        let c = cache
            .get_or_build("builtin-music", &key, build)
            .map_err(|e| usage(e.to_string()))?;
        (c.value, c.hit)
    };
    let audio = load_wav(&a.file)?;
    let paired = a.paired.as_deref().map(load_wav).transpose()?;
    let m = metrics.measure(&a.prompt, &audio, paired.as_ref());
    let r = reward_metrics(&m, a.duration, None, false, &RewardOptions::default());
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
        "models": { "fad": "builtin", "kld": "builtin", "clap": "builtin" },
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
        "reference": { "dir": a.reference, "files": files.len(), "cached": cached },
    });
    println!("{out}");
    Ok(())
}
