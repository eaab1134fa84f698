//! The older SNR / HNR metrics against librosa (scripts/quality_golden.py): the same float32 signals
//! are regenerated here from formulas (sines, decaying clicks, SplitMix64 noise), and SNR, HNR, the
//! pre-emphasis and the HPSS outputs must agree with librosa's; then the behaviour a validator relies on.

mod common;

use common::splitmix_uniform;
use salon_eval::audio::quality::{
    hnr_db, hpss, normalised_clap, normalised_quality, older_music_score, preemphasis, snr_db,
};
use serde_json::Value;
use std::path::PathBuf;

fn expected() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/quality/expected.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn noise(seed: u64, n: usize, amp: f64) -> Vec<f64> {
    (0..n)
        .map(|k| amp * (2.0 * splitmix_uniform(seed, k as u64) - 1.0))
        .collect()
}

fn sine(freq: f64, sr: f64, n: usize, amp: f64) -> Vec<f64> {
    (0..n)
        .map(|k| amp * (2.0 * std::f64::consts::PI * freq * k as f64 / sr).sin())
        .collect()
}

fn clicks(period: usize, decay: f64, n: usize, amp: f64) -> Vec<f64> {
    (0..n)
        .map(|k| {
            let sign = if (k / period).is_multiple_of(2) {
                1.0
            } else {
                -1.0
            };
            amp * (-((k % period) as f64) / decay).exp() * sign
        })
        .collect()
}

fn add(a: Vec<f64>, b: Vec<f64>) -> Vec<f64> {
    a.iter().zip(&b).map(|(x, y)| x + y).collect()
}

fn to_f32(x: Vec<f64>) -> Vec<f32> {
    x.into_iter().map(|v| v as f32).collect()
}

/// The signals of scripts/quality_golden.py, by name.
fn signal(name: &str) -> Vec<f32> {
    to_f32(match name {
        "harmonic" => (1..=4)
            .map(|h| sine(220.0 * h as f64, 16000.0, 24000, 0.5 / 2f64.powi(h - 1)))
            .reduce(add)
            .unwrap(),
        "noise" => noise(1, 16000, 0.6),
        "clicks" => clicks(800, 160.0, 16000, 1.0),
        "tone_noise" => add(sine(440.0, 32000.0, 32000, 0.5), noise(7, 32000, 0.2)),
        "short_mix" => add(
            sine(330.0, 16000.0, 4800, 0.4),
            clicks(1600, 80.0, 4800, 0.8),
        ),
        "quiet" => sine(500.0, 16000.0, 8000, 0.05),
        other => panic!("unknown signal {other}"),
    })
}

fn mean_square(x: &[f32]) -> f64 {
    x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64
}

fn close(got: f64, want: f64, rel: f64, abs: f64) -> bool {
    (got - want).abs() <= rel * want.abs() + abs
}

#[test]
fn regenerated_inputs_match_the_script() {
    let all = expected();
    for (name, e) in all["signals"].as_object().unwrap() {
        let x = signal(name);
        assert_eq!(x.len() as u64, e["len"].as_u64().unwrap(), "{name}");
        let sum: f64 = x.iter().map(|&v| v as f64).sum();
        let sumsq: f64 = x.iter().map(|&v| (v as f64).powi(2)).sum();
        let (want_sum, want_sumsq) = (
            e["input_sum"].as_f64().unwrap(),
            e["input_sumsq"].as_f64().unwrap(),
        );
        assert!(
            close(sum, want_sum, 1e-9, 1e-9),
            "{name}: sum {sum} vs {want_sum}"
        );
        assert!(
            close(sumsq, want_sumsq, 1e-12, 0.0),
            "{name}: sum of squares {sumsq} vs {want_sumsq}"
        );
    }
}

#[test]
fn snr_and_preemphasis_match_librosa() {
    let all = expected();
    for (name, e) in all["signals"].as_object().unwrap() {
        let x = signal(name);
        let pre = preemphasis(&x);
        for (k, want) in e["pre_first"].as_array().unwrap().iter().enumerate() {
            let want = want.as_f64().unwrap();
            assert!(
                close(pre[k] as f64, want, 1e-6, 1e-7),
                "{name}: preemphasis[{k}] {} vs librosa {want}",
                pre[k]
            );
        }
        let want = e["pre_mean_square"].as_f64().unwrap();
        let got = mean_square(&pre);
        assert!(
            close(got, want, 1e-5, 0.0),
            "{name}: mean(pre^2) {got} vs {want}"
        );
        let want = e["snr_db"].as_f64().unwrap();
        let got = snr_db(&x);
        assert!(
            close(got, want, 1e-6, 0.0),
            "{name}: SNR {got} dB vs librosa {want} dB"
        );
    }
}

/// HPSS runs in float32 on both sides but with different FFTs (librosa's forward FFT is float64
/// rounded to complex64, ours float32 two-frames-per-transform), so outputs differ by float32
/// rounding (measured: about 1e-7): energies must agree to 1e-5 relative, each sample to 1e-5 of
/// the clip's RMS, and HNR to 1e-5 relative.
#[test]
fn hpss_and_hnr_match_librosa() {
    let all = expected();
    for (name, e) in all["signals"].as_object().unwrap() {
        let x = signal(name);
        let (h, p) = hpss(&x);
        assert_eq!((h.len(), p.len()), (x.len(), x.len()), "{name}");
        for (part, got) in [("harm", &h), ("perc", &p)] {
            let want = e[format!("{part}_mean_square")].as_f64().unwrap();
            let got_ms = mean_square(got);
            assert!(
                close(got_ms, want, 1e-5, 0.0),
                "{name}: mean({part}^2) {got_ms} vs librosa {want}"
            );
            let rms = e["rms"].as_f64().unwrap();
            let indices = e["indices"].as_array().unwrap();
            for (i, want) in indices.iter().zip(e[part].as_array().unwrap()) {
                let i = i.as_u64().unwrap() as usize;
                let want = want.as_f64().unwrap();
                assert!(
                    close(got[i] as f64, want, 0.0, 1e-5 * rms),
                    "{name}: {part}[{i}] {} vs librosa {want}",
                    got[i]
                );
            }
        }
        let want = e["hnr_db"].as_f64().unwrap();
        let got = hnr_db(&x);
        // 1e-5 relative, or 1e-5 dB (2.3e-6 relative in the energy ratio) near 0 dB (noise).
        assert!(
            close(got, want, 1e-5, 1e-5),
            "{name}: HNR {got} dB vs librosa {want} dB"
        );
    }
}

#[test]
fn silence_and_near_silence_score_zero() {
    assert_eq!(snr_db(&[]), 0.0);
    assert_eq!(hnr_db(&[]), 0.0);
    let silence = vec![0.0f32; 16000];
    assert_eq!(snr_db(&silence), 0.0);
    assert_eq!(hnr_db(&silence), 0.0);
    let hum = to_f32(sine(100.0, 16000.0, 16000, 5e-5));
    assert_eq!((snr_db(&hum), hnr_db(&hum)), (0.0, 0.0));
    let nan = vec![f32::NAN; 4096];
    assert_eq!((snr_db(&nan), hnr_db(&nan)), (0.0, 0.0));
}

#[test]
fn a_clean_tone_is_more_harmonic_than_noise_and_clicks() {
    let tone = signal("harmonic");
    let noise = signal("noise");
    let clicks = to_f32(clicks(4000, 160.0, 16000, 1.0));
    let (tone_hnr, noise_hnr, clicks_hnr) = (hnr_db(&tone), hnr_db(&noise), hnr_db(&clicks));
    assert!(tone_hnr > 20.0, "tone HNR {tone_hnr}");
    assert!(noise_hnr.abs() < 3.0, "white noise HNR {noise_hnr}");
    assert!(clicks_hnr < noise_hnr, "sparse clicks HNR {clicks_hnr}");
}

#[test]
fn added_noise_lowers_snr() {
    let clean = to_f32(sine(440.0, 32000.0, 32000, 0.5));
    let noisy = to_f32(add(sine(440.0, 32000.0, 32000, 0.5), noise(3, 32000, 0.2)));
    let (clean_snr, noisy_snr) = (snr_db(&clean), snr_db(&noisy));
    assert!(clean_snr > noisy_snr + 5.0, "{clean_snr} vs {noisy_snr}");
    assert!(normalised_quality(clean_snr) > normalised_quality(noisy_snr));
}

#[test]
fn older_score_needs_clap_above_a_fifth() {
    assert_eq!(older_music_score(30.0, 30.0, 0.2), 0.0);
    assert_eq!(older_music_score(30.0, 30.0, -0.5), 0.0);
    assert_eq!(older_music_score(30.0, 30.0, f64::NAN), 0.0);
    let good = older_music_score(30.0, 30.0, 0.6);
    // g(g(nQ(30), nQ(30)), (0.6 + 1) / 2) = sqrt(0.7311 * 0.8)
    let nq = 1.0 / (1.0 + (-1.0f64).exp());
    assert!((good - (nq * 0.8).sqrt()).abs() < 1e-12, "{good}");
    assert!(older_music_score(10.0, 30.0, 0.6) < good);
    assert!(older_music_score(30.0, 30.0, 0.3) < good);
    assert_eq!(normalised_quality(20.0), 0.5);
    assert_eq!((normalised_clap(0.0), normalised_clap(0.5)), (0.0, 0.75));
}
