//! The honest miner and its adversaries for the reward tests: clips from the built-in composer,
//! a clip with white noise added, and a reference set around a paired clip.

use salon_core::Audio;
use salon_engines::builtin::music::Composer;
use salon_engines::builtin::Fidelity;

/// The built-in composer's clip of `secs` seconds for `prompt`.
pub fn compose(prompt: &str, secs: f32, seed: u64) -> Audio {
    Composer::new(Fidelity(1.0))
        .compose(prompt, secs, seed)
        .unwrap()
}

/// `audio` plus uniform white noise `snr_db` below its power.
pub fn with_noise(audio: &Audio, snr_db: f64, seed: u64) -> Audio {
    let p = audio.samples.iter().map(|v| (v * v) as f64).sum::<f64>() / audio.samples.len() as f64;
    let half = (p / 10f64.powf(snr_db / 10.0) * 3.0).sqrt();
    let noise = super::fill(audio.samples.len(), seed, half);
    Audio {
        samples: audio
            .samples
            .iter()
            .zip(noise)
            .map(|(s, n)| s + n)
            .collect(),
        ..audio.clone()
    }
}

/// One composed clip of `secs` seconds per prompt of `corpus`, then `paired`: the reference set
/// a validator would hold, with the challenge's own reference in it.
pub fn reference_set(corpus: &[&str], secs: f32, paired: &Audio) -> Vec<Audio> {
    let mut set: Vec<Audio> = corpus
        .iter()
        .enumerate()
        .map(|(i, p)| compose(p, secs, 1000 + i as u64))
        .collect();
    set.push(paired.clone());
    set
}
