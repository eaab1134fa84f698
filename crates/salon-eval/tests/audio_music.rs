//! The built-in composer judged by the built-in music evaluator: honest beats weak beats junk.

use salon_core::task::MusicRequest;
use salon_core::{Audio, MusicIntent, Request, Response};
use salon_engines::builtin::music::Composer;
use salon_engines::builtin::Fidelity;
use salon_engines::Engine;
use salon_eval::audio::analysis::estimate_key;
use salon_eval::audio::music::music_features;
use salon_eval::audio::{MusicEvaluator, ReferenceStats};
use salon_eval::{Challenge, Evaluation, Evaluator, Truth};

const PROMPTS: [&str; 6] = [
    "a calm slow piano ballad",
    "energetic techno with drums and synth bass at 128 bpm",
    "sad strings in E minor",
    "happy acoustic guitar and flute in G major, 100 bpm",
    "dark cinematic orchestra",
    "upbeat funky jazz with piano, bass and drums",
];

fn compose(fidelity: f32, prompt: &str, secs: f32, seed: u64) -> Audio {
    let req = Request::TextToMusic(MusicRequest {
        prompt: prompt.into(),
        duration_secs: secs,
        seed,
    });
    match Composer::new(Fidelity(fidelity)).generate(&req).unwrap() {
        Response::Audio { audio } => audio,
        other => panic!("composer answered {other:?}"),
    }
}

fn reference() -> ReferenceStats {
    let corpus = [
        "relaxing ambient synth pads",
        "rock song with guitar bass and drums",
        "a lullaby on the music box",
        "epic brass and strings soundtrack in C minor",
        "lofi hip hop beat",
        "folk tune with guitar and flute",
        "church organ hymn",
        "dance track at 124 bpm",
    ];
    let clips: Vec<Audio> = corpus
        .iter()
        .enumerate()
        .map(|(i, p)| compose(1.0, p, 10.0, 1000 + i as u64))
        .collect();
    ReferenceStats::from_clips(&clips).unwrap()
}

fn judge(eval: &MusicEvaluator, prompt: &str, secs: f32, audio: Audio) -> Evaluation {
    let challenge = Challenge {
        request: Request::TextToMusic(MusicRequest {
            prompt: prompt.into(),
            duration_secs: secs,
            seed: 1,
        }),
        truth: Truth::None,
    };
    eval.evaluate(&challenge, &Response::Audio { audio })
}

fn white_noise(secs: f32, amp: f32, seed: u32) -> Audio {
    let mut state = seed.max(1);
    let samples = (0..(secs * 32000.0) as usize)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            amp * (state as f32 / u32::MAX as f32 * 2.0 - 1.0)
        })
        .collect();
    Audio::mono(samples, 32000)
}

#[test]
fn honest_beats_weak_beats_junk() {
    let eval = MusicEvaluator::new(Some(reference()));
    for (i, prompt) in PROMPTS.iter().enumerate() {
        let seed = 40 + i as u64;
        let honest = judge(&eval, prompt, 15.0, compose(1.0, prompt, 15.0, seed));
        let weak = judge(&eval, prompt, 15.0, compose(0.5, prompt, 15.0, seed));
        assert!(honest.score > 0.75, "{prompt}: honest {honest:?}");
        assert!(
            honest.score > weak.score + 0.15,
            "{prompt}: honest {} weak {}",
            honest.score,
            weak.score
        );
        assert!(weak.score > 0.3, "{prompt}: weak {weak:?}");

        let silence = judge(&eval, prompt, 15.0, Audio::silence(15.0, 32000));
        let whisper = judge(&eval, prompt, 15.0, white_noise(15.0, 0.001, 3));
        let noise = judge(&eval, prompt, 15.0, white_noise(15.0, 0.5, 4));
        let short = judge(&eval, prompt, 15.0, compose(1.0, prompt, 5.0, seed));
        for (what, e) in [
            ("silence", &silence),
            ("near-silence", &whisper),
            ("white noise", &noise),
            ("5 s clip", &short),
        ] {
            assert!(e.score < 0.05, "{prompt}: {what} scored {e:?}");
        }
    }
}

#[test]
fn an_answer_to_another_prompt_scores_lower() {
    let eval = MusicEvaluator::new(Some(reference()));
    let pairs = [
        (
            "a calm slow piano ballad in A major",
            "energetic techno in F# minor at 132 bpm",
        ),
        (
            "sad strings in E minor at 70 bpm",
            "happy guitar in B flat major at 120 bpm",
        ),
    ];
    for (asked, other) in pairs {
        let right = judge(&eval, asked, 12.0, compose(1.0, asked, 12.0, 5));
        let wrong = judge(&eval, asked, 12.0, compose(1.0, other, 12.0, 5));
        assert!(
            right.score > wrong.score + 0.25,
            "{asked}: right {right:?} wrong {wrong:?}"
        );
        assert!(wrong.metrics["adherence"] < 0.5, "{asked}: {wrong:?}");
    }
}

#[test]
fn detected_tempo_and_key_match_the_intent() {
    for (i, prompt) in PROMPTS
        .iter()
        .chain(["waltz in b flat major at 90 bpm", "ominous synth at 76 bpm"].iter())
        .enumerate()
    {
        let intent = MusicIntent::from_prompt(prompt);
        let feats = music_features(&compose(1.0, prompt, 12.0, 90 + i as u64));
        let (bpm, _) = feats.tempo;
        assert!(
            (bpm / intent.tempo_bpm - 1.0).abs() < 0.03,
            "{prompt}: {bpm} bpm for {}",
            intent.tempo_bpm
        );
        let (tonic, minor, _) = estimate_key(&feats.chroma);
        assert_eq!(
            (tonic, minor),
            (intent.key, intent.minor),
            "{prompt}: wanted {}",
            intent.key_name()
        );
    }
}

#[test]
fn fingerprints_catch_replays_of_composed_music() {
    let eval = MusicEvaluator::default();
    let fp = |a: Audio| eval.fingerprint(&Response::Audio { audio: a }).unwrap();
    let a = compose(1.0, "upbeat funky jazz with piano, bass and drums", 15.0, 3);
    let base = fp(a.clone());
    let rms = a.rms();
    let noise = white_noise(15.0, rms * 0.1 * 3f32.sqrt(), 9); // 20 dB SNR
    let noisy: Vec<f32> = a
        .samples
        .iter()
        .zip(&noise.samples)
        .map(|(x, n)| 0.7 * (x + n))
        .collect();
    let mut shifted = vec![0.0f32; 960]; // 30 ms
    shifted.extend_from_slice(&a.samples[..a.samples.len() - 960]);
    assert!(base.similarity(&fp(Audio::mono(noisy, 32000))) > 0.8);
    assert!(base.similarity(&fp(Audio::mono(shifted, 32000))) > 0.8);
    let other_seed = compose(1.0, "upbeat funky jazz with piano, bass and drums", 15.0, 4);
    let other_prompt = compose(1.0, "sad strings in E minor", 15.0, 3);
    assert!(base.similarity(&fp(other_seed)) < 0.7);
    assert!(base.similarity(&fp(other_prompt)) < 0.7);
}

#[test]
fn reference_stats_survive_json_and_need_clips() {
    let r = reference();
    let back: ReferenceStats = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back.clips, r.clips);
    assert!((back.typical - r.typical).abs() < 1e-9);
    assert!(ReferenceStats::from_clips(&[Audio::silence(5.0, 32000)]).is_err());
}
