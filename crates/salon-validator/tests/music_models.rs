//! The bittaudio validator scores music with the released models when they are configured: here
//! the golden tests' tiny random CLAP stands in for laion/larger_clap_music, VGGish and PaSST are
//! absent, so their terms fall back to the built-in stand-ins and the evaluation says so.

use candle_core::Device;
use salon_core::task::MusicRequest;
use salon_core::{Profile, Request, Response, Task};
use salon_engines::builtin::music::Composer;
use salon_engines::builtin::Fidelity;
use salon_engines::Engine;
use salon_eval::models::music::{ModelPaths, MusicModels, Precision};
use salon_eval::Challenge;
use salon_validator::scorers::Scorers;
use std::path::PathBuf;
use std::sync::Arc;

fn profile(name: &str) -> Profile {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../profiles")
        .join(format!("{name}.toml"));
    Profile::from_toml(name, &std::fs::read_to_string(path).unwrap()).unwrap()
}

fn clap_models() -> Arc<MusicModels> {
    let clap = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../salon-eval/tests/fixtures/clap");
    let paths = ModelPaths {
        clap: Some(clap),
        ..ModelPaths::default()
    };
    Arc::new(MusicModels::load(&paths, &Device::Cpu, Precision::F32).unwrap())
}

fn answer(prompt: &str, secs: f32, seed: u64) -> (Challenge, Response) {
    let request = Request::TextToMusic(MusicRequest {
        prompt: prompt.into(),
        duration_secs: secs,
        seed,
    });
    let response = Composer::new(Fidelity(1.0)).generate(&request).unwrap();
    (
        Challenge {
            request,
            truth: Default::default(),
        },
        response,
    )
}

#[test]
fn bittaudio_scores_music_with_the_configured_models() {
    let p = profile("bittaudio");
    let scorers = Scorers::builtin(&p)
        .with_music_models(&p, clap_models(), None)
        .unwrap();
    let (challenge, response) = answer("lofi hip hop beat", 6.0, 3);
    let ev = scorers.evaluate(&challenge, &response);
    // The fixed BittAudio reward's terms, with CLAP's cosine from the model.
    for key in ["nkld", "nfad", "clap", "duration_factor"] {
        assert!(ev.metrics.contains_key(key), "{key} missing: {ev:?}");
    }
    let clap = ev.metrics["clap"];
    assert!((-1.0..=1.0).contains(&clap) && clap != 0.0, "{ev:?}");

    // Silence is refused whatever the models say.
    let silent = Response::Audio {
        audio: salon_core::Audio::mono(vec![0.0; 6 * 32_000], 32_000),
    };
    let ev = scorers.evaluate(&challenge, &silent);
    assert_eq!(ev.score, 0.0);
    assert!(ev.note.unwrap_or_default().contains("silent"));
}

#[test]
fn profiles_without_music_are_left_alone() {
    let p = profile("nicheimage");
    let before = Scorers::builtin(&p);
    let tasks: Vec<Task> = before.evaluators.keys().copied().collect();
    let after = before.with_music_models(&p, clap_models(), None).unwrap();
    assert_eq!(after.evaluators.keys().copied().collect::<Vec<_>>(), tasks);
    assert!(!after.evaluators.contains_key(&Task::TextToMusic));
}
