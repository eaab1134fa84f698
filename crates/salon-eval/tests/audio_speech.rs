//! The built-in speaker and voice cloner judged by the built-in speech evaluators.

use salon_core::task::{SpeechRequest, VoiceCloneRequest};
use salon_core::{Audio, Request, Response};
use salon_engines::builtin::speech::{FormantSpeaker, Voice};
use salon_engines::builtin::voice_clone::{reference_voice, VoiceCloner};
use salon_engines::builtin::Fidelity;
use salon_engines::Engine;
use salon_eval::audio::{SpeechEvaluator, VoiceCloneEvaluator};
use salon_eval::{Challenge, Evaluation, Evaluator, Truth};

const TEXTS: [&str; 4] = [
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "Good morning, how are you today?",
    "Seven green lanterns were hanging over the quiet harbour.",
];

fn audio(r: Response) -> Audio {
    match r {
        Response::Audio { audio } => audio,
        other => panic!("expected audio, got {other:?}"),
    }
}

fn tts(fidelity: f32, text: &str, seed: u64) -> Audio {
    let req = Request::TextToSpeech(SpeechRequest {
        text: text.into(),
        seed,
    });
    audio(
        FormantSpeaker::new(Fidelity(fidelity))
            .generate(&req)
            .unwrap(),
    )
}

fn judge_tts(text: &str, a: Audio) -> Evaluation {
    let challenge = Challenge {
        request: Request::TextToSpeech(SpeechRequest {
            text: text.into(),
            seed: 1,
        }),
        truth: Truth::None,
    };
    SpeechEvaluator.evaluate(&challenge, &Response::Audio { audio: a })
}

fn noise(secs: f32, amp: f32) -> Audio {
    let mut state = 12345u32;
    let samples = (0..(secs * 16000.0) as usize)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            amp * (state as f32 / u32::MAX as f32 * 2.0 - 1.0)
        })
        .collect();
    Audio::mono(samples, 16000)
}

#[test]
fn honest_speech_beats_weak_beats_noise_and_silence() {
    for (i, t) in TEXTS.iter().enumerate() {
        let honest = judge_tts(t, tts(1.0, t, i as u64));
        let weak = judge_tts(t, tts(0.5, t, i as u64));
        assert!(honest.score > 0.8, "{t}: honest {honest:?}");
        assert!(
            honest.score > weak.score + 0.15,
            "{t}: honest {} weak {weak:?}",
            honest.score
        );
        let secs = honest.metrics["duration_secs"] as f32;
        let junk = [
            ("noise", judge_tts(t, noise(secs, 0.3))),
            ("silence", judge_tts(t, Audio::silence(secs, 16000))),
            ("whisper", judge_tts(t, noise(secs, 0.0005))),
        ];
        for (what, e) in junk {
            assert!(e.score < weak.score - 0.3, "{t}: {what} {e:?}");
        }
        // Speech of a much longer text is implausible for this one.
        let rambling = judge_tts(t, tts(1.0, &TEXTS.join(" ").repeat(2), 3));
        assert!(
            rambling.score < honest.score - 0.3,
            "{t}: rambling {rambling:?}"
        );
    }
}

#[test]
fn the_right_voice_clones_better_than_a_wrong_one() {
    let eval = VoiceCloneEvaluator;
    let text = "Bring the small boxes to the kitchen before lunch.";
    for seed in [1u64, 2, 3, 4] {
        let reference = reference_voice(seed);
        let other = reference_voice(seed + 100);
        let req = |r: &Audio| {
            Request::VoiceClone(VoiceCloneRequest {
                text: text.into(),
                reference: r.clone(),
                seed: 9,
            })
        };
        let cloned = audio(VoiceCloner::default().generate(&req(&reference)).unwrap());
        let wrong = audio(VoiceCloner::default().generate(&req(&other)).unwrap());
        let challenge = Challenge {
            request: req(&reference),
            truth: Truth::None,
        };
        let right = eval.evaluate(&challenge, &Response::Audio { audio: cloned });
        let wrong = eval.evaluate(&challenge, &Response::Audio { audio: wrong });
        assert!(
            right.metrics["voice_similarity"] > wrong.metrics["voice_similarity"] + 0.05,
            "seed {seed}: right {right:?} wrong {wrong:?}"
        );
        assert!(right.score > wrong.score, "seed {seed}");
        // The default voice is a different speaker too, unless the reference happens to be close.
        let plain = FormantSpeaker::default()
            .speak(text, &Voice::default(), 9)
            .unwrap();
        let plain = eval.evaluate(&challenge, &Response::Audio { audio: plain });
        assert!(
            right.score >= plain.score - 0.02,
            "seed {seed}: right {right:?} default {plain:?}"
        );
    }
}
