//! Times BittAudio's model metrics on candle (VGGish FAD against a reference set, PaSST KLD,
//! CLAP text consistency), the models loaded once: one 15 s clip fully scored and a batch of
//! clips, one JSON line per measurement (issue 6, item 7).
//!
//! `cargo run --release -p salon-eval [--features cuda] --example eval_bench -- --vggish FILE
//!  --passt FILE --clap DIR [--device cpu|cuda] [--clips 10] [--iters 10] [--reference 8]
//!  [--secs 15] [--tf32] [--precision f32|f16] [--profile vggish|passt|clap]
//!  [--check-kernels]`
//!
//! `--check-kernels` first compares Salon's fused GPU kernels with candle's ops (each op at the
//! models' shapes in f32 and f16, and every model's output over the batch) and prints the
//! largest differences.
//!
//! `--profile MODEL` runs that model's call over the batch twice and exits, the second call
//! between cuProfilerStart and cuProfilerStop (CUDA builds), so that
//! `ncu --profile-from-start off` times only that call's kernels.
//!
//! `--tf32` lets cuBLAS round f32 GEMM inputs to TF32 (PyTorch's default for convolutions,
//! not for matmuls); the default is full f32. `--precision f16` runs PaSST, most of a clip's
//! compute, in f16 (the validator's `--eval-precision f16`).
//!
//! Clips are deterministic 32 kHz mono tones plus hash noise (no data needed);
//! `scripts/audio_eval_random_weights.py` makes random weights of the released shapes.

mod bench_util;
use bench_util::{arg, splitmix_uniform};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use candle_core::Device;
use rayon::prelude::*;
use salon_core::Audio;
use salon_eval::audio::resample::resample;
use salon_eval::bittaudio::BuiltinMusicMetrics;
use salon_eval::models::clap_input::{ClapFeatureExtractor, FeatureParams};
use salon_eval::models::music::{
    clap_window, ModelMusicMetrics, ModelPaths, MusicItem, MusicModels, Precision,
};
use salon_eval::models::{passt_input, vggish_input};
use serde_json::json;

/// Sample rate of the generated clips (MusicGen's and PaSST's).
const RATE: u32 = 32_000;

const USAGE: &str = "usage: eval_bench --vggish FILE --passt FILE --clap DIR [--device cpu|cuda] \
                     [--clips 10] [--iters 10] [--reference 8] [--secs 15] [--tf32] \
                     [--precision f32|f16] [--profile vggish|passt|clap] [--check-kernels]";

const PROMPTS: [&str; 5] = [
    "upbeat electronic dance music with a heavy bass line",
    "calm solo piano in a minor key",
    "a rock song with distorted electric guitars and loud drums",
    "ambient synth pads, slow and dreamy",
    "jazz trio with brushed drums and a walking bass",
];

fn parsed<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> Result<T, String> {
    bench_util::parsed(args, name, default, USAGE)
}

/// A `secs`-long clip: a three-note chord (root set by `seed`) pulsing at 2 Hz, plus noise.
fn clip(seed: u64, secs: f32) -> Audio {
    let n = (secs * RATE as f32) as usize;
    let root = 110.0 * 2f64.powf((seed % 24) as f64 / 12.0);
    let freqs = [root, root * 1.26, root * 1.5];
    let samples = (0..n)
        .map(|i| {
            let t = i as f64 / RATE as f64;
            let pulse = 0.6 + 0.4 * (2.0 * std::f64::consts::PI * 2.0 * t).sin().abs();
            let chord: f64 = freqs
                .iter()
                .map(|f| (2.0 * std::f64::consts::PI * f * t).sin())
                .sum::<f64>()
                / 3.0;
            let noise = 2.0 * splitmix_uniform(seed, i as u64) - 1.0;
            (0.3 * pulse * chord + 0.05 * noise) as f32
        })
        .collect();
    Audio::mono(samples, RATE)
}

/// Median seconds of `iters` runs of `f`.
fn median_s(iters: usize, mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..iters)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    summary(&mut v).0
}

/// Where one clip's time goes: each model's call (CPU preparation included) and the CPU
/// preparation alone (resampling and the model's spectrogram), medians of `iters`.
fn stages(
    models: &MusicModels,
    builtin: &BuiltinMusicMetrics,
    clip: &Audio,
    prompt: &str,
    iters: usize,
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let mono = [(clip.samples.as_slice(), clip.sample_rate)];
    let rate = clip.sample_rate;
    let sync = || models.device().synchronize().map(|_| ());
    let mut failed: Option<String> = None;
    let mut note = |r: Option<Result<(), String>>| {
        if let Some(Err(e)) = r {
            failed.get_or_insert(e);
        }
    };
    let vggish = median_s(iters, || {
        note(
            models
                .vggish_batch(&mono)
                .map(|r| r.map(drop).map_err(|e| e.to_string())),
        )
    });
    let passt = median_s(iters, || {
        note(
            models
                .passt_segments(&mono)
                .map(|r| r.map(drop).map_err(|e| e.to_string())),
        )
    });
    let clap = median_s(iters, || {
        note(
            models
                .clap_consistency(&mono, &[prompt])
                .map(|r| r.map(drop).map_err(|e| e.to_string())),
        )
    });
    sync()?;
    if let Some(e) = failed {
        return Err(e.into());
    }
    let vggish_prep = median_s(iters, || {
        let at = resample(&clip.samples, rate, vggish_input::SAMPLE_RATE);
        let ex = vggish_input::waveform_to_examples(&at);
        assert!(ex.count > 0);
    });
    let passt_prep = median_s(iters, || {
        let at = resample(&clip.samples, rate, passt_input::SAMPLE_RATE);
        for seg in passt_input::segments(&at) {
            assert!(passt_input::log_mel(seg).is_some());
        }
    });
    let extractor = ClapFeatureExtractor::new(FeatureParams::default());
    let clap_prep = median_s(iters, || {
        assert!(extractor.extract(&clap_window(&clip.samples, rate)).is_ok());
    });
    // What measure_batch does on the CPU beside the models: the noise, silence and duplicate
    // screen (spectral flatness and the audio fingerprint).
    let screen = median_s(iters, || {
        assert!(builtin.screen(clip, None).unusable.is_none());
    });
    Ok(json!({
        "stages": "one clip, seconds (median)",
        "screen_cpu": round(screen),
        "vggish_call": round(vggish),
        "vggish_cpu_prep": round(vggish_prep),
        "passt_call": round(passt),
        "passt_cpu_prep": round(passt_prep),
        "clap_call": round(clap),
        "clap_cpu_prep": round(clap_prep),
    }))
}

/// Where a batch's time goes: each model's call over every clip (CPU preparation included) and
/// the screen of every clip, medians of `iters`.
fn batch_stages(
    models: &MusicModels,
    builtin: &BuiltinMusicMetrics,
    audio: &[Audio],
    monos: &[(&[f32], u32)],
    prompts: &[&str],
    iters: usize,
) -> serde_json::Value {
    let vggish = median_s(iters, || {
        if let Some(r) = models.vggish_batch(monos) {
            r.expect("VGGish batch");
        }
    });
    let passt = median_s(iters, || {
        if let Some(r) = models.passt_segments(monos) {
            r.expect("PaSST batch");
        }
    });
    let clap = median_s(iters, || {
        if let Some(r) = models.clap_consistency(monos, prompts) {
            r.expect("CLAP batch");
        }
    });
    let screen = median_s(iters, || {
        let n = audio
            .par_iter()
            .filter(|a| builtin.screen(a, None).unusable.is_none())
            .count();
        assert_eq!(n, audio.len());
    });
    json!({
        "stages": format!("batch of {}, seconds (median)", audio.len()),
        "vggish_call": round(vggish),
        "passt_call": round(passt),
        "clap_call": round(clap),
        "screen_cpu": round(screen),
    })
}

/// One model's call over the batch, once to warm up and once inside the CUDA profiler's range
/// (`--profile`).
fn profile(
    models: &MusicModels,
    model: &str,
    monos: &[(&[f32], u32)],
    prompts: &[&str],
) -> Result<(), Box<dyn std::error::Error>> {
    let call = || -> Result<(), String> {
        let r = match model {
            "vggish" => models.vggish_batch(monos).map(|r| r.map(drop)),
            "passt" => models.passt_segments(monos).map(|r| r.map(drop)),
            "clap" => models.clap_consistency(monos, prompts).map(|r| r.map(drop)),
            other => {
                return Err(format!(
                    "--profile {other:?}: vggish, passt or clap\n{USAGE}"
                ))
            }
        };
        match r {
            None => Err(format!("--profile {model}: that model is not loaded")),
            Some(r) => r.map_err(|e| e.to_string()),
        }
    };
    call()?;
    models.device().synchronize()?;
    let t = Instant::now();
    let cuda = matches!(models.device(), Device::Cuda(_));
    if cuda {
        driver_call(c"cuProfilerStart")?;
    }
    call()?;
    models.device().synchronize()?;
    if cuda {
        driver_call(c"cuProfilerStop")?;
    }
    println!(
        "{}",
        json!({"profile": model, "batch": monos.len(), "call_s": round(t.elapsed().as_secs_f64())})
    );
    Ok(())
}

/// The largest absolute difference between two lists of rows.
fn rows_diff<'a>(a: impl Iterator<Item = &'a f32>, b: impl Iterator<Item = &'a f32>) -> f64 {
    a.zip(b)
        .map(|(x, y)| (x - y).abs() as f64)
        .fold(0.0, f64::max)
}

/// Salon's fused kernels against candle's ops: each op on random inputs at the models' shapes
/// (f32 and f16, [`fused::self_check`]), then each model's output over the batch with the
/// kernels on and off.
fn check_kernels(
    models: &MusicModels,
    monos: &[(&[f32], u32)],
    prompts: &[&str],
) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    use salon_eval::models::fused;
    // Each op against candle's, as the validator checks them when it loads the models.
    let ops = fused::self_check(models.device())?;
    // (VGGish embeddings, PaSST probabilities, CLAP cosines), flattened.
    type Outputs = (Vec<f32>, Vec<f32>, Vec<f32>);
    let out = |on: bool| -> Result<Outputs, String> {
        fused::set_enabled(on);
        let flat = |v: Vec<Vec<Vec<f32>>>| v.into_iter().flatten().flatten().collect::<Vec<f32>>();
        fn e<T>(r: Option<Result<T, salon_eval::models::ModelError>>) -> Result<T, String> {
            r.ok_or("every model must be loaded".to_string())?
                .map_err(|e| e.to_string())
        }
        let vggish: Vec<f32> = e(models.vggish_batch(monos))?
            .into_iter()
            .flat_map(|emb| emb.data.into_iter().map(|v| v as f32))
            .collect();
        let passt = flat(e(models.passt_segments(monos))?);
        let clap = e(models.clap_consistency(monos, prompts))?;
        Ok((vggish, passt, clap))
    };
    let (v1, p1, c1) = out(true)?;
    let (v0, p0, c0) = out(false)?;
    fused::set_enabled(true);
    Ok(json!({
        "check": "fused kernels vs candle's ops, largest absolute difference",
        "ops_all_within_tolerance": ops.iter().all(|c| c.ok()),
        "ops": ops,
        "vggish_embeddings": rows_diff(v1.iter(), v0.iter()),
        "passt_probabilities": rows_diff(p1.iter(), p0.iter()),
        "clap_cosines": rows_diff(c1.iter(), c0.iter()),
    }))
}

/// Calls a no-argument CUDA driver function by name, looked up in the process (libcuda is loaded
/// by then; the stub linked at build time lacks the profiler's entry points).
fn driver_call(name: &std::ffi::CStr) -> Result<(), String> {
    // SAFETY: dlsym with RTLD_DEFAULT only reads the loaded objects' symbol tables.
    let f = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    if f.is_null() {
        return Err(format!("{name:?} is not in the loaded CUDA driver"));
    }
    // SAFETY: cuProfilerStart and cuProfilerStop take no arguments and return a CUresult.
    let f: extern "C" fn() -> i32 = unsafe { std::mem::transmute(f) };
    match f() {
        0 => Ok(()),
        code => Err(format!("{name:?} returned CUDA error {code}")),
    }
}

/// (median, min, max) of `v`.
fn summary(v: &mut [f64]) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    };
    (median, v[0], v[n - 1])
}

fn round(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    let path = |name: &str| arg(&args, name).map(PathBuf::from);
    let paths = ModelPaths {
        vggish: path("--vggish"),
        passt: path("--passt"),
        clap: path("--clap"),
    };
    let device_name = arg(&args, "--device").unwrap_or_else(|| "cpu".into());
    // The validator's way of opening a device (one stream, no cross-stream event tracking).
    let device = salon_engines::musicgen::device_by_name(&device_name)
        .map_err(|e| format!("{e}\n{USAGE}"))?;
    let tf32 = args.iter().any(|a| a == "--tf32");
    candle_core::cuda::set_gemm_reduced_precision_f32(tf32);
    let clips: usize = parsed(&args, "--clips", 10)?;
    let iters: usize = parsed(&args, "--iters", 10)?;
    let references: usize = parsed(&args, "--reference", 8)?;
    let secs: f32 = parsed(&args, "--secs", 15.0)?;
    if clips == 0 || iters == 0 || references < 2 {
        return Err(format!("need --clips >= 1, --iters >= 1, --reference >= 2\n{USAGE}").into());
    }

    let t = Instant::now();
    let precision: Precision = match arg(&args, "--precision") {
        None => Precision::F32,
        Some(p) => p
            .parse()
            .map_err(|e| format!("--precision: {e}\n{USAGE}"))?,
    };
    let models = Arc::new(MusicModels::load(&paths, &device, precision)?);
    device.synchronize()?;
    let load_s = t.elapsed().as_secs_f64();
    let reference: Vec<Audio> = (0..references as u64).map(|s| clip(s, secs)).collect();
    let t = Instant::now();
    let metrics = ModelMusicMetrics::from_reference(models.clone(), &reference)?;
    let reference_s = t.elapsed().as_secs_f64();
    if metrics.term_models().contains(&"builtin") {
        eprintln!(
            "note: not every term runs on a model ({}); pass --vggish, --passt and --clap",
            metrics.describe()
        );
    }

    let audio: Vec<Audio> = (0..clips as u64).map(|s| clip(1000 + s, secs)).collect();
    let items: Vec<MusicItem> = audio
        .iter()
        .enumerate()
        .map(|(i, a)| MusicItem {
            prompt: PROMPTS[i % PROMPTS.len()],
            audio: a,
            paired: None,
        })
        .collect();

    // Each loaded model once over the whole batch, errors surfaced: measure_batch would fall back
    // to the built-in stand-ins on a model failure (out of memory, say) and time those instead.
    let monos: Vec<(&[f32], u32)> = audio
        .iter()
        .map(|a| (a.samples.as_slice(), a.sample_rate))
        .collect();
    let prompts: Vec<&str> = items.iter().map(|it| it.prompt).collect();
    if args.iter().any(|a| a == "--check-kernels") {
        println!("{}", check_kernels(&models, &monos, &prompts)?);
    }
    if let Some(model) = arg(&args, "--profile") {
        return profile(&models, &model, &monos, &prompts);
    }
    if let Some(r) = models.vggish_batch(&monos) {
        r?;
    }
    if let Some(r) = models.passt_segments(&monos) {
        r?;
    }
    if let Some(r) = models.clap_consistency(&monos, &prompts) {
        r?;
    }
    // Warm-up: kernel loading and the allocator at both batch sizes.
    let first = metrics.measure_batch(&items[..1]);
    metrics.measure_batch(&items[..1]);
    metrics.measure_batch(&items);
    println!(
        "{}",
        json!({
            "check": "first clip's metrics",
            "terms": metrics.describe(),
            "metrics": first.first(),
        })
    );

    let mut per_clip = Vec::with_capacity(iters);
    for i in 0..iters {
        let item = &items[i % items.len()..][..1];
        let t = Instant::now();
        let out = metrics.measure_batch(item);
        per_clip.push(t.elapsed().as_secs_f64());
        assert_eq!(out.len(), 1);
    }
    let mut batch = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        let out = metrics.measure_batch(&items);
        batch.push(t.elapsed().as_secs_f64());
        assert_eq!(out.len(), items.len());
    }
    // The screen's reference fingerprints, as measure_batch holds them.
    let builtin = BuiltinMusicMetrics::from_reference(&reference)?;
    println!(
        "{}",
        stages(&models, &builtin, &audio[0], items[0].prompt, iters)?
    );
    println!(
        "{}",
        batch_stages(&models, &builtin, &audio, &monos, &prompts, iters)
    );
    let (p_med, p_min, p_max) = summary(&mut per_clip);
    let (b_med, b_min, b_max) = summary(&mut batch);
    println!(
        "{}",
        json!({
            "impl": "salon (candle)",
            "precision": format!(
                "fp32{}{}",
                if tf32 { ", TF32 GEMMs" } else { "" },
                match precision {
                    Precision::F32 => "",
                    Precision::F16 => ", PaSST f16",
                }
            ),
            "device": device_name,
            "fused_kernels": salon_eval::models::fused::enabled() && cfg!(feature = "cuda"),
            "terms": metrics.describe(),
            "clip_s": secs,
            "load_s": round(load_s),
            "reference_clips": references,
            "reference_s": round(reference_s),
            "iters": iters,
            "per_clip_s_median": round(p_med),
            "min": round(p_min),
            "max": round(p_max),
            "batch": clips,
            "batch_s_median": round(b_med),
            "batch_min": round(b_min),
            "batch_max": round(b_max),
            "batch_per_clip_s": round(b_med / clips as f64),
        })
    );
    Ok(())
}
