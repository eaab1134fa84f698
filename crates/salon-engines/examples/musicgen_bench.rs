//! Times MusicGen generation on candle: one JSON line per batch size.
//!
//! `cargo run --release --features musicgen[,cuda] --example musicgen_bench -- DIR [--device cpu|cuda]
//!  [--dtype f32|f16|bf16] [--batch 1,8] [--secs 15] [--tokens N] [--label small] [--out out.wav]`
//! `--tokens` fixes the decoder steps (750 = transformers' 15 s benchmark) instead of `--secs`.
//! `--check-fused` instead compares greedy codes (two prompts of different lengths, guidance 3)
//! with the fused CUDA kernels off and on, and prints the fraction of equal tokens.

use std::time::Instant;

use salon_engines::musicgen::candle_core::{DType, Device};
use salon_engines::musicgen::{GenerationParams, MusicGen, MusicPrompt, Sampling};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args.first().ok_or(
        "usage: musicgen_bench DIR [--device cpu|cuda] [--dtype f16] [--batch 1,8] [--secs 15]",
    )?;
    let device = match arg(&args, "--device").as_deref().unwrap_or("cpu") {
        "cuda" => Device::new_cuda(0)?,
        _ => Device::Cpu,
    };
    let dtype = match arg(&args, "--dtype").as_deref().unwrap_or("f32") {
        "f16" => DType::F16,
        "bf16" => DType::BF16,
        _ => DType::F32,
    };
    let batches: Vec<usize> = arg(&args, "--batch")
        .unwrap_or_else(|| "1".into())
        .split(',')
        .map(|b| b.parse())
        .collect::<Result<_, _>>()?;
    let secs: f32 = arg(&args, "--secs")
        .unwrap_or_else(|| "15".into())
        .parse()?;
    let label = arg(&args, "--label").unwrap_or_default();
    let t = Instant::now();
    let model = MusicGen::load_with_dtype(dir, &device, dtype)?;
    let load_s = t.elapsed().as_secs_f64();
    let tokens = match arg(&args, "--tokens") {
        Some(n) => n.parse()?,
        None => model.tokens_for_duration(secs)?,
    };
    let params = GenerationParams::default();
    let prompts = |n: usize, tokens: usize| -> Vec<MusicPrompt> {
        (0..n)
            .map(|i| MusicPrompt {
                text: "calm piano with soft strings".into(),
                max_new_tokens: tokens,
                seed: i as u64,
                melody: None,
            })
            .collect()
    };
    if args.iter().any(|a| a == "--check-fused") {
        let greedy = GenerationParams {
            guidance_scale: 3.0,
            sampling: Sampling::Greedy,
        };
        let two: Vec<MusicPrompt> = ["calm piano with soft strings and a slow beat", "drums"]
            .iter()
            .map(|text| MusicPrompt {
                text: (*text).into(),
                max_new_tokens: tokens,
                seed: 0,
                melody: None,
            })
            .collect();
        std::env::set_var("SALON_MUSICGEN_FUSED", "0");
        let plain = model.generate_codes(&two, &greedy)?;
        std::env::remove_var("SALON_MUSICGEN_FUSED");
        let fused = model.generate_codes(&two, &greedy)?;
        let flat =
            |c: &Vec<Vec<Vec<u32>>>| c.iter().flatten().flatten().copied().collect::<Vec<_>>();
        let (a, b) = (flat(&plain), flat(&fused));
        let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
        // Index of the first differing frame of the first item (divergence point).
        let first_diff = (0..plain[0][0].len())
            .find(|t| plain[0].iter().zip(&fused[0]).any(|(p, f)| p[*t] != f[*t]));
        println!(
            "{{\"check\": \"fused-vs-unfused\", \"size\": \"{label}\", \"dtype\": \"{dtype:?}\", \"tokens\": {tokens}, \
             \"equal_fraction\": {:.4}, \"identical\": {}, \"first_diff_frame_item0\": {:?}}}",
            same as f64 / a.len().max(1) as f64,
            a == b,
            first_diff
        );
        return Ok(());
    }
    // Warm-up (kernel loading, allocator).
    model.generate_batch(&prompts(1, 20), &params)?;
    for &b in &batches {
        let t = Instant::now();
        let codes = model.generate_codes(&prompts(b, tokens), &params)?;
        let gen_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let audio = model.decode_codes_batch(&codes)?;
        let dec_s = t.elapsed().as_secs_f64();
        let samples = audio.first().map_or(0, Vec::len);
        println!(
            "{{\"impl\": \"salon-candle\", \"size\": \"{label}\", \"device\": \"{:?}\", \"dtype\": \"{dtype:?}\", \
             \"batch\": {b}, \"new_tokens\": {tokens}, \"seconds_audio\": {:.2}, \"wall_s\": {:.2}, \
             \"tokens_s\": {gen_s:.2}, \"decode_s\": {dec_s:.2}, \"ms_per_step\": {:.2}, \"load_s\": {load_s:.2}}}",
            device.location(),
            samples as f64 / model.sample_rate() as f64,
            gen_s + dec_s,
            1000.0 * gen_s / tokens as f64,
        );
        if let (Some(path), Some(first)) = (arg(&args, "--out"), audio.first()) {
            write_wav(&path, first, model.sample_rate())?;
        }
    }
    Ok(())
}

/// Writes 16-bit mono PCM.
fn write_wav(path: &str, samples: &[f32], rate: u32) -> std::io::Result<()> {
    let data: Vec<u8> = samples
        .iter()
        .flat_map(|s| ((s.clamp(-1.0, 1.0) * 32767.0) as i16).to_le_bytes())
        .collect();
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend(b"RIFF");
    out.extend((36 + data.len() as u32).to_le_bytes());
    out.extend(b"WAVEfmt ");
    out.extend(16u32.to_le_bytes());
    out.extend(1u16.to_le_bytes());
    out.extend(1u16.to_le_bytes());
    out.extend(rate.to_le_bytes());
    out.extend((rate * 2).to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(16u16.to_le_bytes());
    out.extend(b"data");
    out.extend((data.len() as u32).to_le_bytes());
    out.extend(data);
    std::fs::write(path, out)
}
