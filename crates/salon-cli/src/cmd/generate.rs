//! `salon generate`: run a model engine once from the command line and write the result.

use crate::usage::usage;
use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use salon_core::Audio;
use salon_engines::musicgen::{default_dtype, device_by_name, MusicGen, MusicPrompt};
use std::path::PathBuf;

/// The rate MusicGen Melody's chroma extractor reads.
const MELODY_RATE: u32 = 32_000;

/// Generate media with a model engine.
#[derive(Args)]
pub struct GenerateArgs {
    #[command(subcommand)]
    command: GenerateCommand,
}

#[derive(Subcommand)]
enum GenerateCommand {
    /// Text to music with MusicGen (small, medium, large or melody checkpoints).
    Music(MusicArgs),
}

/// `salon generate music` flags.
#[derive(Args)]
struct MusicArgs {
    /// What the music should be.
    prompt: String,
    /// A checkpoint folder (config.json, model.safetensors, tokenizer.json) or a Hugging Face id
    /// such as facebook/musicgen-small (from the local cache, or downloaded when online).
    #[arg(long)]
    model: String,
    /// Seconds of audio.
    #[arg(long, default_value_t = 15.0)]
    duration: f32,
    /// Sampling seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Output WAV file (32 kHz mono, 16-bit).
    #[arg(short = 'o', long = "output", default_value = "out.wav")]
    output: PathBuf,
    /// cpu, cuda or cuda:N.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// A WAV clip whose melody (chroma) the music follows; needs a musicgen-melody checkpoint.
    #[arg(long, value_name = "WAV")]
    melody: Option<PathBuf>,
}

/// Runs `salon generate`.
pub fn run(args: GenerateArgs) -> anyhow::Result<()> {
    match args.command {
        GenerateCommand::Music(a) => music(a),
    }
}

fn music(a: MusicArgs) -> anyhow::Result<()> {
    if !(a.duration.is_finite() && a.duration > 0.0) {
        return Err(usage("--duration must be a positive number of seconds"));
    }
    if let Some(parent) = a.output.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !parent.is_dir() {
            return Err(usage(format!(
                "-o {}: folder {} does not exist",
                a.output.display(),
                parent.display()
            )));
        }
    }
    let melody = a
        .melody
        .as_deref()
        .map(|p| -> anyhow::Result<Vec<f32>> {
            let bytes =
                std::fs::read(p).map_err(|e| usage(format!("--melody {}: {e}", p.display())))?;
            let clip = Audio::from_wav_bytes(&bytes)
                .map_err(|e| usage(format!("--melody {}: {e}", p.display())))?;
            // The chroma extractor takes 32 kHz mono, as MusicGen Melody's processor does.
            Ok(salon_eval::audio::resample::resample(
                &clip.mono_samples(),
                clip.sample_rate,
                MELODY_RATE,
            ))
        })
        .transpose()?;
    let device = device_by_name(&a.device).map_err(|e| usage(e.to_string()))?;
    let model = MusicGen::from_pretrained(&a.model, &device, default_dtype(&device))
        .map_err(|e| usage(format!("cannot load MusicGen from {:?}: {e}", a.model)))?;
    let tokens = model
        .tokens_for_duration(a.duration)
        .map_err(|e| usage(e.to_string()))?;
    let mut prompt = MusicPrompt::new(a.prompt.clone(), tokens, a.seed);
    prompt.melody = melody;
    let bar = ProgressBar::new(tokens as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} generating [{bar:30}] {pos}/{len} steps {elapsed_precise} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    let params = *model.params();
    let codes = model
        .generate_codes_with_progress(
            std::slice::from_ref(&prompt),
            &params,
            &mut |done, total| {
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            },
        )
        .map_err(|e| match e.is_invalid_request() {
            true => usage(e.to_string()),
            false => anyhow::anyhow!(e),
        })?;
    bar.set_message("decoding");
    let samples = model
        .decode_codes(&codes[0])
        .context("decoding audio with EnCodec")?;
    bar.finish_and_clear();
    let audio = Audio::mono(samples, model.sample_rate());
    std::fs::write(&a.output, audio.to_wav16_bytes()?)
        .map_err(|e| usage(format!("cannot write {}: {e}", a.output.display())))?;
    eprintln!(
        "wrote {:.2} s of {} Hz audio to {}",
        audio.duration_secs(),
        audio.sample_rate,
        a.output.display()
    );
    Ok(())
}
