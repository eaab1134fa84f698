//! `salon fad` and `salon score music` as a user runs them: JSON on stdout, exit 2 with a clear
//! line for what this build cannot do.

use salon_core::Audio;
use salon_engines::builtin::music::Composer;
use salon_engines::builtin::Fidelity;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs salon with its caches in `cache` and no checkpoint discoverable from this machine's
/// model folders.
fn salon(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_salon"))
        .args(args)
        .env("SALON_CACHE_DIR", cache)
        .env("SALON_MODELS_DIR", cache.join("no-models"))
        .env("TORCH_HOME", cache.join("no-torch"))
        .env("HF_HUB_CACHE", cache.join("no-hf"))
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../salon-eval/tests/fixtures/fad")
}

#[test]
fn fad_of_embedding_files_agrees_with_scipy() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (fixtures().join("a128.npy"), fixtures().join("b128.npy"));
    let out = salon(
        &[
            "fad",
            "--embeddings",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
        ],
        tmp.path(),
    );
    let got = json(&out)["fad"].as_f64().unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap())
            .unwrap();
    let want = expected["fad_128"].as_f64().unwrap();
    assert!(((got - want) / want).abs() < 1e-6, "{got} vs scipy {want}");

    // A missing file is the user's mistake: exit 2 and say which.
    let out = salon(
        &["fad", "--embeddings", "nope.npy", b.to_str().unwrap()],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.npy"));
}

#[test]
fn missing_checkpoints_say_so_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    write_wav(
        &tmp.path().join("a.wav"),
        &compose("lofi hip hop beat", 2.0, 1),
    );
    let d = tmp.path().to_str().unwrap();
    for model in ["vggish", "clap", "encodec"] {
        let out = salon(&["fad", d, d, "--model", model], tmp.path());
        assert_eq!(out.status.code(), Some(2), "{model}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("no {model} checkpoint found")) && err.contains("--checkpoint"),
            "{err}"
        );
    }
    let out = salon(
        &[
            "fad",
            d,
            d,
            "--model",
            "clap",
            "--checkpoint",
            "/no/such/clap",
        ],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/clap"));
}

#[test]
fn encodec_fad_runs_on_a_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let (refs, eval) = two_sets(
        tmp.path(),
        "folk tune with guitar and flute",
        (1.0, 40),
        (1.0, 80),
    );
    let ckpt = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../salon-engines/tests/data/encodec_encoder_tiny");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let out = json(&salon(
        &[
            "fad",
            &s(&refs),
            &s(&eval),
            "--model",
            "encodec",
            "--checkpoint",
            &s(&ckpt),
            "--no-cache",
        ],
        tmp.path(),
    ));
    assert_eq!(out["model"], "encodec");
    let rows = out["eval"]["rows"].as_u64().unwrap();
    assert!(rows >= 3, "one row per latent frame: {out}");
    assert!(out["fad"].as_f64().unwrap() >= 0.0, "{out}");
}

fn compose(prompt: &str, secs: f32, seed: u64) -> Audio {
    Composer::new(Fidelity(1.0))
        .compose(prompt, secs, seed)
        .unwrap()
}

fn write_wav(path: &Path, audio: &Audio) {
    std::fs::write(path, audio.to_wav_bytes().unwrap()).unwrap();
}

#[test]
fn builtin_fad_and_music_score_work_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let (refs, honest, noise) = (
        tmp.path().join("ref"),
        tmp.path().join("honest"),
        tmp.path().join("noise"),
    );
    for d in [&refs, &honest, &noise] {
        std::fs::create_dir_all(d).unwrap();
    }
    let prompts = [
        "relaxing ambient synth pads",
        "rock song with guitar bass and drums",
        "folk tune with guitar and flute",
        "sad strings in E minor",
    ];
    for (i, p) in prompts.iter().enumerate() {
        write_wav(
            &refs.join(format!("{i}.wav")),
            &compose(p, 8.0, 100 + i as u64),
        );
        write_wav(
            &honest.join(format!("{i}.wav")),
            &compose(p, 8.0, 900 + i as u64),
        );
        let mut state = 1u32 + i as u32;
        let hiss: Vec<f32> = (0..8 * 32000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                0.3 * (state as f32 / u32::MAX as f32 * 2.0 - 1.0)
            })
            .collect();
        write_wav(&noise.join(format!("{i}.wav")), &Audio::mono(hiss, 32000));
    }
    let cache = tmp.path().join("cache");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let first = json(&salon(
        &["fad", &s(&refs), &s(&honest), "--model", "builtin"],
        &cache,
    ));
    assert_eq!(first["model"], "builtin");
    assert_eq!(first["reference"]["cached"], false);
    let again = json(&salon(&["fad", &s(&refs), &s(&honest)], &cache));
    assert_eq!(
        again["reference"]["cached"], true,
        "reference statistics are cached"
    );
    assert_eq!(again["fad"], first["fad"]);
    let to_noise = json(&salon(&["fad", &s(&refs), &s(&noise)], &cache));
    let (f_honest, f_noise) = (
        first["fad"].as_f64().unwrap(),
        to_noise["fad"].as_f64().unwrap(),
    );
    assert!(f_honest < f_noise, "honest {f_honest} vs noise {f_noise}");

    let prompt = "sad strings in E minor";
    let score = |file: &Path, secs: &str| {
        json(&salon(
            &[
                "score",
                "music",
                "--prompt",
                prompt,
                "--reference",
                &s(&refs),
                "--duration",
                secs,
                &s(file),
            ],
            &cache,
        ))
    };
    let good = score(&honest.join("3.wav"), "8");
    assert_eq!(good["models"]["fad"], "builtin");
    for key in ["fad", "kld", "kld_qp", "kld_both", "clap", "score"] {
        assert!(good[key].is_number(), "{key} missing in {good}");
    }
    let g = good["score"].as_f64().unwrap();
    assert!(g > 0.3, "{good}");
    let copy = score(&refs.join("3.wav"), "8");
    assert_eq!(copy["score"], 0.0, "{copy}");
    assert_eq!(copy["duplicate"], true);
    let hiss = score(&noise.join("3.wav"), "8");
    assert!(hiss["score"].as_f64().unwrap() < g, "{hiss}");
    let short = score(&honest.join("3.wav"), "15");
    assert_eq!(short["score"], 0.0, "8 s for 15 s asked: {short}");
}

/// The tiny random CLAP checkpoint of the golden tests (transformers layout).
fn clap_fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../salon-eval/tests/fixtures/clap")
}

#[test]
fn clap_fad_and_music_score_run_on_a_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let (refs, eval) = two_sets(tmp.path(), "lofi hip hop beat", (12.0, 300), (4.0, 700));
    let cache = tmp.path().join("cache");
    let s = |p: &Path| p.to_str().unwrap().to_string();
    let args = [
        "fad".to_string(),
        s(&refs),
        s(&eval),
        "--model".into(),
        "clap".into(),
        "--checkpoint".into(),
        s(&clap_fixture()),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = json(&salon(&args, &cache));
    assert_eq!(first["model"], "clap");
    // 12 s references: one full 10 s window and a 2 s tail each; 4 s clips: one window each.
    assert_eq!(first["reference"]["rows"], 6, "{first}");
    assert_eq!(first["eval"]["rows"], 3, "{first}");
    assert!(first["fad"].as_f64().unwrap() >= 0.0, "{first}");
    let again = json(&salon(&args, &cache));
    assert_eq!(again["reference"]["cached"], true);
    assert_eq!(again["fad"], first["fad"]);

    // `salon score music --models DIR` with only CLAP there: CLAP measures text consistency, the
    // built-in stand-ins the rest.
    let models = tmp.path().join("models");
    std::fs::create_dir_all(&models).unwrap();
    copy_dir(&clap_fixture(), &models.join("larger_clap_music"));
    let out = json(&salon(
        &[
            "score",
            "music",
            "--prompt",
            "lofi hip hop beat",
            "--reference",
            &s(&refs),
            "--duration",
            "4",
            "--models",
            &s(&models),
            &s(&eval.join("0.wav")),
        ],
        &cache,
    ));
    assert_eq!(out["models"]["clap"], "clap", "{out}");
    assert_eq!(out["models"]["fad"], "builtin", "{out}");
    let c = out["clap"].as_f64().unwrap();
    assert!((-1.0..=1.0).contains(&c) && c != 0.0, "{out}");
    assert!(out["score"].is_number());

    // `salon score music` with one more option, expected to be refused with exit 2.
    let refused = |option: &str, value: &str| {
        let out = salon(
            &[
                "score",
                "music",
                "--prompt",
                "x",
                "--reference",
                &s(&refs),
                option,
                value,
                &s(&eval.join("0.wav")),
            ],
            &cache,
        );
        assert_eq!(out.status.code(), Some(2), "{option} {value}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    // A precision other than f32 or f16 is refused before anything loads, naming the choices.
    assert!(refused("--eval-precision", "f64").contains("use f32 or f16"));
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    assert!(refused("--models", &s(&empty)).contains("no released checkpoint"));
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

/// Folders `ref` and `eval` under `root`, three composed clips each for `prompt`, of the given
/// (seconds, first seed).
fn two_sets(root: &Path, prompt: &str, r: (f32, u64), e: (f32, u64)) -> (PathBuf, PathBuf) {
    let (refs, eval) = (root.join("ref"), root.join("eval"));
    for (dir, (secs, seed)) in [(&refs, r), (&eval, e)] {
        std::fs::create_dir_all(dir).unwrap();
        for i in 0..3u64 {
            write_wav(
                &dir.join(format!("{i}.wav")),
                &compose(prompt, secs, seed + i),
            );
        }
    }
    (refs, eval)
}
