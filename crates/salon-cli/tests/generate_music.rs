//! `salon generate music` as a user runs it, on the tiny random MusicGen checkpoints of the
//! golden tests: a WAV of the asked length, melody conditioning for melody checkpoints only, and
//! exit 2 with a clear line for bad input.

use salon_core::Audio;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn checkpoint(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../salon-engines/tests/data")
        .join(name)
}

fn salon(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_salon"))
        .args(["generate", "music"])
        .args(args)
        .output()
        .unwrap()
}

fn generate(model: &Path, out: &Path, extra: &[&str]) -> Audio {
    let mut args = vec![
        "a calm tune",
        "--model",
        model.to_str().unwrap(),
        "--duration",
        "0.3",
        "--seed",
        "5",
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = salon(&args);
    assert!(
        o.status.success(),
        "exit {:?}: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    Audio::from_wav_bytes(&std::fs::read(out).unwrap()).unwrap()
}

fn stderr_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn writes_a_wav_and_follows_a_melody_only_on_melody_checkpoints() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = generate(&checkpoint("musicgen-tiny"), &tmp.path().join("a.wav"), &[]);
    assert_eq!((plain.sample_rate, plain.channels), (32_000, 1));
    assert!(
        (plain.duration_secs() - 0.3).abs() < 0.05,
        "{} s",
        plain.duration_secs()
    );

    // A melody clip at another rate, stereo: mixed and resampled before the chroma.
    let tone: Vec<f32> = (0..44_100)
        .flat_map(|i| {
            let v = (std::f32::consts::TAU * 440.0 * i as f32 / 44_100.0).sin() * 0.5;
            [v, v]
        })
        .collect();
    let melody_wav = tmp.path().join("melody.wav");
    let melody = Audio {
        samples: tone,
        sample_rate: 44_100,
        channels: 2,
    };
    std::fs::write(&melody_wav, melody.to_wav_bytes().unwrap()).unwrap();
    let m = melody_wav.to_str().unwrap();

    let melody_ckpt = checkpoint("musicgen-melody-tiny");
    let without = generate(&melody_ckpt, &tmp.path().join("b.wav"), &[]);
    let with = generate(&melody_ckpt, &tmp.path().join("c.wav"), &["--melody", m]);
    assert_eq!(with.samples.len(), without.samples.len());
    assert_ne!(with.samples, without.samples, "the melody changed nothing");

    // A text-only checkpoint refuses a melody instead of ignoring it.
    let o = salon(&[
        "x",
        "--model",
        checkpoint("musicgen-tiny").to_str().unwrap(),
        "--duration",
        "0.3",
        "--melody",
        m,
        "-o",
        tmp.path().join("d.wav").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr_of(&o));
    assert!(stderr_of(&o).contains("melody"), "{}", stderr_of(&o));
}

#[test]
fn bad_input_exits_2_with_a_clear_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o.wav");
    let out = out.to_str().unwrap();
    let tiny = checkpoint("musicgen-tiny");
    let tiny = tiny.to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["x", "--model", tiny, "--duration", "600", "-o", out],
            "duration",
        ),
        (
            &["x", "--model", "/no/such/checkpoint", "-o", out],
            "/no/such/checkpoint",
        ),
        (
            &["x", "--model", tiny, "--melody", "/no/such.wav", "-o", out],
            "/no/such.wav",
        ),
        (
            &["x", "--model", tiny, "-o", "/no/such/dir/o.wav"],
            "/no/such/dir",
        ),
    ];
    for (args, needle) in cases {
        let o = salon(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr_of(&o));
        assert!(
            stderr_of(&o).contains(needle),
            "{args:?}: {}",
            stderr_of(&o)
        );
    }
}
