//! Interop with the Python SDK (bittensor 10.5.0): a Python dendrite against a Salon axon (every
//! seed synapse, and every refusal), and a Salon dendrite against a Python axon.
//!
//! Python: $SALON_PYTHON, else <workspace>/.venv/bin/python. Missing Python fails the test
//! unless SALON_SKIP_INTEROP=1.

use salon_core::{Audio, Image, Request, Response};
use salon_keys::Keypair;
use salon_wire::synapses::{
    ImageGenerating, ImageSynapse, MusicGeneration, TextToSpeech, VoiceClone,
};
use salon_wire::{Axon, AxonHandle, Dendrite, HandlerError, Synapse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv's Python, or None when the caller asked to skip interop.
fn python() -> Option<PathBuf> {
    let p = std::env::var_os("SALON_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv/bin/python"));
    if p.exists() {
        return Some(p);
    }
    if std::env::var("SALON_SKIP_INTEROP").as_deref() == Ok("1") {
        eprintln!("SALON_SKIP_INTEROP=1: skipping Python interop");
        return None;
    }
    panic!(
        "Python with bittensor==10.5.0 not found at {}: create it (python3 -m venv .venv && .venv/bin/pip install bittensor==10.5.0), \
         set SALON_PYTHON, or set SALON_SKIP_INTEROP=1 to skip",
        p.display()
    );
}

fn peer_script() -> PathBuf {
    workspace().join("scripts/interop/wire_peer.py")
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
struct Echo {
    #[serde(default)]
    text: String,
    #[serde(default)]
    reply: Option<String>,
}

impl Synapse for Echo {
    const NAME: &'static str = "Echo";
    fn required_hash_fields() -> &'static [&'static str] {
        &["text"]
    }
}

fn engine(request: &Request) -> Response {
    match request {
        Request::TextToMusic(m) => {
            let n = (m.duration_secs * 32_000.0).round() as usize;
            Response::Audio {
                audio: Audio::mono(
                    (0..n).map(|i| (i as f32 * 0.05).sin() * 0.3).collect(),
                    32_000,
                ),
            }
        }
        Request::TextToSpeech(_) | Request::VoiceClone(_) => Response::Audio {
            audio: Audio::mono(vec![0.1; 48_000], 48_000),
        },
        Request::TextToImage(r) => Response::Image {
            image: Image::filled(r.width, r.height, [10, 20, 30]),
        },
        Request::ImageDetection(_) => Response::Detection { prediction: 0.8 },
        _ => Response::Text {
            text: String::new(),
        },
    }
}

fn bad(e: salon_wire::WireError) -> HandlerError {
    HandlerError::bad_input(e.to_string())
}

async fn salon_axon() -> AxonHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Axon::builder(Keypair::generate())
        .route::<MusicGeneration, _, _>(|mut s: MusicGeneration, _| async move {
            let r = s.to_request().map_err(bad)?;
            s.fill(&engine(&r))
                .map_err(|e| HandlerError::internal(e.to_string()))?;
            Ok(s)
        })
        .route::<TextToSpeech, _, _>(|mut s: TextToSpeech, _| async move {
            let r = s.to_request().map_err(bad)?;
            s.fill(&engine(&r))
                .map_err(|e| HandlerError::internal(e.to_string()))?;
            Ok(s)
        })
        .route::<VoiceClone, _, _>(|mut s: VoiceClone, _| async move {
            let r = s.to_request().map_err(bad)?;
            s.fill(&engine(&r))
                .map_err(|e| HandlerError::internal(e.to_string()))?;
            Ok(s)
        })
        .route::<ImageGenerating, _, _>(|mut s: ImageGenerating, _| async move {
            let r = s.to_request().map_err(bad)?;
            s.fill(&engine(&r))
                .map_err(|e| HandlerError::internal(e.to_string()))?;
            s.response_dict.insert("engine".into(), "builtin".into());
            Ok(s)
        })
        .route::<ImageSynapse, _, _>(|mut s: ImageSynapse, _| async move {
            let r = s.to_request().map_err(bad)?;
            s.fill(&engine(&r))
                .map_err(|e| HandlerError::internal(e.to_string()))?;
            Ok(s)
        })
        .route::<Echo, _, _>(|mut s: Echo, _| async move {
            s.reply = Some(s.text.to_uppercase());
            Ok(s)
        })
        .body_limit(1 << 20)
        .serve(listener)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_dendrite_against_salon_axon() {
    let Some(py) = python() else { return };
    let axon = salon_axon().await;
    let t = axon.target();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(py)
            .arg(peer_script())
            .args([
                "dendrite",
                "--ip",
                "127.0.0.1",
                "--port",
                &t.port.to_string(),
                "--hotkey",
                &t.hotkey,
            ])
            .output()
            .expect("run the Python peer")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "python failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checks: HashMap<String, Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|v| (v["check"].as_str().unwrap_or_default().to_string(), v))
        .collect();
    let get = |name: &str| {
        checks
            .get(name)
            .unwrap_or_else(|| panic!("no result for {name}:\n{stdout}"))
            .clone()
    };
    let status = |name: &str| get(name)["status"].as_i64().unwrap_or(-1);
    let message = |name: &str| {
        get(name)["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };

    for name in [
        "MusicGeneration",
        "TextToSpeech",
        "VoiceClone",
        "ImageGenerating",
        "ImageSynapse",
        "Echo",
        "Ping",
    ] {
        assert_eq!(status(name), 200, "{name}: {}", get(name));
        assert_eq!(message(name), "Success", "{name}");
    }
    // 755 tokens = 15.1 s of 32 kHz mono floats.
    assert_eq!(get("MusicGeneration")["n"], 483_200);
    assert_eq!(get("MusicGeneration")["all_float"], true);
    assert_eq!(get("TextToSpeech")["n"], 24_000); // 1 s at bark's 24 kHz
    assert_eq!(get("VoiceClone")["n"], 16_000);
    assert_eq!(get("VoiceClone")["sample_rate"], 16_000);
    assert!(get("ImageGenerating")["image_len"].as_u64().unwrap() > 50);
    assert_eq!(get("ImageGenerating")["response_dict"]["engine"], "builtin");
    assert_eq!(
        get("ImageSynapse")["prediction"].as_f64().unwrap(),
        f64::from(0.8_f32)
    );
    assert_eq!(get("Echo")["reply"], "HI");

    assert_eq!(status("forged_signature"), 401);
    assert!(
        message("forged_signature")
            .starts_with("Not Verified with error: Signature mismatch with "),
        "{}",
        message("forged_signature")
    );
    assert_eq!(status("replay_original"), 200);
    assert_eq!(status("replayed_nonce"), 401);
    assert_eq!(
        message("replayed_nonce"),
        "Not Verified with error: Nonce is too old, a newer one was last processed"
    );
    assert_eq!(status("stale_nonce"), 401);
    assert!(
        message("stale_nonce").starts_with(
            "Not Verified with error: Nonce is too old: acceptable delta is 24.00 seconds"
        ),
        "{}",
        message("stale_nonce")
    );
    assert_eq!(status("future_nonce"), 401);
    assert!(
        message("future_nonce").contains("too far in the future"),
        "{}",
        message("future_nonce")
    );
    assert_eq!(status("tampered_body"), 500);
    assert!(
        message("tampered_body").starts_with("Hash mismatch between header body hash"),
        "{}",
        message("tampered_body")
    );
    assert_eq!(status("unknown_synapse"), 404);
    assert!(message("unknown_synapse").starts_with(
        "Synapse name 'Unknown' not found. Available synapses ['Synapse', 'MusicGeneration'"
    ));
    assert_eq!(status("oversized_body"), 413);
    assert!(
        message("oversized_body").contains("at most 1048576 bytes"),
        "{}",
        message("oversized_body")
    );
    assert_eq!(status("still_serving"), 200);
    assert_eq!(get("still_serving")["reply"], "AFTER");
    axon.shutdown().await;
}

/// Kills the Python axon (by the id we started) when the test ends, pass or fail.
struct Child(std::process::Child);
impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salon_dendrite_against_python_axon() {
    let Some(py) = python() else { return };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Child(
        Command::new(py)
            .arg(peer_script())
            .args(["axon", "--port", &port.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the Python axon"),
    );
    let stdout = child.0.stdout.take().unwrap();
    let hotkey = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        line.trim().strip_prefix("READY ").map(str::to_string)
    })
    .await
    .unwrap()
    .expect("the Python axon did not print READY <hotkey>");
    let target = salon_wire::AxonTarget {
        ip: "127.0.0.1".into(),
        port,
        hotkey,
    };
    let d = Dendrite::new(Keypair::generate());
    let t = Duration::from_secs(20);
    let r = d
        .call(
            &target,
            Echo {
                text: "from rust".into(),
                reply: None,
            },
            t,
        )
        .await;
    assert_eq!(r.status_code, 200, "{}", r.status_message);
    assert_eq!(r.status_message, "Success");
    assert_eq!(r.synapse.unwrap().reply.as_deref(), Some("FROM RUST"));
    assert!(r.process_time.is_some());
    let m = MusicGeneration {
        text_input: Some("jazz".into()),
        duration: Some(755),
        ..Default::default()
    };
    let r = d.call(&target, m, t).await;
    assert_eq!(r.status_code, 200, "{}", r.status_message);
    assert_eq!(r.synapse.unwrap().music_output.unwrap().len(), 32_000);
    // The Python axon refuses a call signed for another hotkey, and we read its refusal.
    let mut wrong = target.clone();
    wrong.hotkey = Keypair::generate().ss58();
    let r = d.call(&wrong, Echo::default(), t).await;
    assert_eq!(r.status_code, 401, "{}", r.status_message);
    assert!(
        r.status_message
            .starts_with("Not Verified with error: Signature mismatch"),
        "{}",
        r.status_message
    );
    drop(child.0.stdin.take());
}
