//! The fixed BittAudio reward on the built-in metrics, with the built-in composer as the honest
//! miner: silence, white noise, the paired reference clip itself, that clip with noise added and
//! a 5 s clip for 15 s asked all score below an honest clip.

use salon_core::Audio;
use salon_engines::builtin::music::Composer;
use salon_engines::builtin::Fidelity;
use salon_eval::bittaudio::{reward_metrics, BuiltinMusicMetrics, RewardOptions};

const PROMPT: &str = "sad strings in E minor";
const ASKED: f32 = 15.0;

fn compose(prompt: &str, secs: f32, seed: u64) -> Audio {
    Composer::new(Fidelity(1.0))
        .compose(prompt, secs, seed)
        .unwrap()
}

fn xorshift_noise(n: usize, amp: f32, seed: u32) -> Vec<f32> {
    let mut state = seed.max(1);
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            amp * (state as f32 / u32::MAX as f32 * 2.0 - 1.0)
        })
        .collect()
}

/// `audio` with white noise at `snr_db`.
fn with_noise(audio: &Audio, snr_db: f32) -> Audio {
    let p = audio.samples.iter().map(|v| v * v).sum::<f32>() / audio.samples.len() as f32;
    let amp = (p / 10f32.powf(snr_db / 10.0)).sqrt() * 3f32.sqrt();
    let noise = xorshift_noise(audio.samples.len(), amp, 99);
    let samples = audio
        .samples
        .iter()
        .zip(noise)
        .map(|(s, n)| s + n)
        .collect();
    Audio {
        samples,
        ..audio.clone()
    }
}

#[test]
fn junk_copies_and_short_clips_score_below_an_honest_clip() {
    let corpus = [
        "relaxing ambient synth pads",
        "rock song with guitar bass and drums",
        "a lullaby on the music box",
        "epic brass and strings soundtrack in C minor",
        "lofi hip hop beat",
        "folk tune with guitar and flute",
    ];
    let paired = compose(PROMPT, ASKED, 500);
    let mut set: Vec<Audio> = corpus
        .iter()
        .enumerate()
        .map(|(i, p)| compose(p, ASKED, 1000 + i as u64))
        .collect();
    set.push(paired.clone());
    let metrics = BuiltinMusicMetrics::from_reference(&set).unwrap();
    let opts = RewardOptions::default();
    let score = |audio: &Audio| {
        let m = metrics.measure(PROMPT, audio, Some(&paired));
        let r = reward_metrics(&m, ASKED, None, false, &opts);
        eprintln!(
            "{:?} -> {:.4} {:?}",
            m, r.evaluation.score, r.evaluation.note
        );
        r
    };

    let honest = score(&compose(PROMPT, ASKED, 7));
    let h = honest.evaluation.score;
    assert!(h > 0.3, "honest clip: {honest:?}");
    assert!(!honest.duplicate);

    let cases = [
        ("silence", Audio::silence(ASKED, 32000)),
        (
            "white noise",
            Audio::mono(xorshift_noise((ASKED * 32000.0) as usize, 0.3, 5), 32000),
        ),
        ("the reference clip itself", paired.clone()),
        ("the reference with noise", with_noise(&paired, 20.0)),
        ("a 5 s clip", compose(PROMPT, 5.0, 7)),
    ];
    for (what, audio) in cases {
        let r = score(&audio);
        assert!(
            r.evaluation.score < h,
            "{what} scored {} >= honest {h}: {r:?}",
            r.evaluation.score
        );
    }
    // The copies are zeroed as copies, not merely outscored.
    for copy in [paired.clone(), with_noise(&paired, 20.0)] {
        let r = score(&copy);
        assert!(r.duplicate);
        assert_eq!(r.evaluation.score, 0.0);
    }
}
