//! `salon fad`: Frechet Audio Distance between two sets, like fadtk: from embedding files
//! (`--embeddings A.npy B.npy`) or from two folders of WAV files with an embedding model.

use crate::usage::usage;
use anyhow::Context;
use clap::{Args, ValueEnum};
use salon_core::Audio;
use salon_eval::audio::music::{music_features, FEATURE_DIM};
use salon_eval::fad::{self, Embeddings, FadInfOptions, StatsCache};
use std::path::{Path, PathBuf};

/// Frechet Audio Distance between a reference (background) set and an evaluated set.
#[derive(Args)]
pub struct FadArgs {
    /// Reference folder and evaluated folder of WAV files (needs --model).
    #[arg(num_args = 0..=2, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Two .npy files of float32/float64 embeddings [n, d] (reference, evaluated) instead of folders.
    #[arg(long, num_args = 2, value_names = ["A.npy", "B.npy"], conflicts_with = "dirs")]
    embeddings: Option<Vec<PathBuf>>,
    /// Embedding model for folders. Only `builtin` (handcrafted frame features) is in this build.
    #[arg(long, value_enum, default_value_t = Model::Builtin)]
    model: Model,
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
    /// VGGish (16 kHz, 128-d): not in this build yet.
    Vggish,
    /// LAION CLAP audio tower (512-d): not in this build yet.
    Clap,
    /// EnCodec latents: not in this build yet.
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

    /// Exit 2 with a clear message for a model this build does not have.
    pub fn require_available(self) -> anyhow::Result<()> {
        if self == Model::Builtin {
            return Ok(());
        }
        Err(usage(format!(
            "the {} embedding model is not available in this build yet; use --model builtin, or \
             compute embeddings elsewhere and pass them with --embeddings A.npy B.npy",
            self.name()
        )))
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
        args.model.require_available()?;
        folders(&args, reference, eval)?
    };
    println!("{out}");
    Ok(())
}

fn folders(args: &FadArgs, reference: &Path, eval: &Path) -> anyhow::Result<serde_json::Value> {
    let ref_files = wav_files(reference)?;
    let eval_files = wav_files(eval)?;
    let build = || -> Result<fad::GaussianStats, fad::FadError> {
        let e = builtin_embeddings(&ref_files).map_err(|e| fad::FadError::Npy {
            path: reference.display().to_string(),
            why: e.to_string(),
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
        let c = cache.get_or_build(args.model.name(), &key, build)?;
        (c.value, c.hit)
    };
    let eval_emb = builtin_embeddings(&eval_files)?;
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
    if args.inf {
        out["fad_inf"] = serde_json::to_value(fad::fad_inf(
            &ref_stats,
            &eval_emb,
            FadInfOptions::default(),
        )?)?;
    }
    Ok(out)
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

/// The built-in frame features of every file, pooled as rows.
fn builtin_embeddings(files: &[PathBuf]) -> anyhow::Result<Embeddings> {
    let mut rows: Vec<f32> = Vec::new();
    for f in files {
        let audio = load_wav(f)?;
        for frame in music_features(&audio).frames {
            rows.extend_from_slice(&frame);
        }
    }
    Ok(Embeddings::from_f32(
        rows.len() / FEATURE_DIM,
        FEATURE_DIM,
        &rows,
    )?)
}
