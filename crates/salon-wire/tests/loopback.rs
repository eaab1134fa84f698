//! Salon dendrite against Salon axon on loopback: success, every refusal the SDK defines, and
//! the axon still serving afterwards.

use salon_keys::Keypair;
use salon_wire::synapse::{now_ns, request_message, signature_hex};
use salon_wire::{Admission, AuthScheme, Axon, AxonHandle, Dendrite, HandlerError, Synapse};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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

struct DenyMallory(String);
impl Admission for DenyMallory {
    fn blacklist(&self, caller: &str, _synapse: &str) -> Option<String> {
        (caller == self.0).then(|| "not registered".to_string())
    }
    fn priority(&self, _caller: &str) -> f64 {
        0.0
    }
}

async fn start(auth: AuthScheme, deny: Option<String>) -> (AxonHandle, Keypair) {
    let kp = Keypair::generate();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut b = Axon::builder(kp.clone())
        .route::<Echo, _, _>(|mut s: Echo, caller| async move {
            match s.text.as_str() {
                "fail" => Err(HandlerError::internal("engine failed: out of memory")),
                "bad" => Err(HandlerError::bad_input("text must not be 'bad'")),
                _ => {
                    s.reply = Some(format!(
                        "{} from {}",
                        s.text.to_uppercase(),
                        &caller.hotkey[..5]
                    ));
                    Ok(s)
                }
            }
        })
        .body_limit(4096)
        .auth(auth);
    if let Some(d) = deny {
        b = b.admission(Arc::new(DenyMallory(d)));
    }
    (b.serve(listener).unwrap(), kp)
}

const T: Duration = Duration::from_secs(10);

#[tokio::test]
async fn dendrite_gets_answer_and_handler_errors_keep_their_status() {
    let (axon, _) = start(AuthScheme::Synapse, None).await;
    let d = Dendrite::new(Keypair::generate());
    let r = d
        .call(
            &axon.target(),
            Echo {
                text: "hi".into(),
                reply: None,
            },
            T,
        )
        .await;
    assert_eq!(r.status_code, 200, "{}", r.status_message);
    assert_eq!(r.status_message, "Success");
    assert_eq!(
        r.synapse.unwrap().reply.unwrap(),
        format!("HI from {}", &d.hotkey()[..5])
    );
    assert!(r.process_time.is_some());
    let r = d
        .call(
            &axon.target(),
            Echo {
                text: "fail".into(),
                reply: None,
            },
            T,
        )
        .await;
    assert_eq!(
        (r.status_code, r.status_message.as_str()),
        (500, "engine failed: out of memory")
    );
    let r = d
        .call(
            &axon.target(),
            Echo {
                text: "bad".into(),
                reply: None,
            },
            T,
        )
        .await;
    assert_eq!(r.status_code, 400);
    // Concurrent calls from one dendrite each get a distinct nonce and all succeed.
    let targets = vec![axon.target(); 16];
    let replies = d
        .call_many(
            &targets,
            Echo {
                text: "x".into(),
                reply: None,
            },
            T,
        )
        .await;
    assert!(
        replies.iter().all(|r| r.status_code == 200),
        "{:?}",
        replies
            .iter()
            .map(|r| &r.status_message)
            .collect::<Vec<_>>()
    );
    axon.shutdown().await;
}

#[tokio::test]
async fn refusals_carry_the_sdk_status_and_message() {
    let mallory = Keypair::generate();
    let (axon, _) = start(AuthScheme::Synapse, Some(mallory.ss58())).await;
    let t = axon.target();
    // Blacklisted: 403.
    let r = Dendrite::new(mallory).call(&t, Echo::default(), T).await;
    assert_eq!(
        (r.status_code, r.status_message.as_str()),
        (403, "Forbidden. Key is blacklisted: not registered.")
    );
    // Wrong axon hotkey in the signed message: 401 signature mismatch.
    let d = Dendrite::new(Keypair::generate());
    let mut wrong = t.clone();
    wrong.hotkey = Keypair::generate().ss58();
    let r = d.call(&wrong, Echo::default(), T).await;
    assert_eq!(r.status_code, 401);
    assert!(
        r.status_message
            .starts_with("Not Verified with error: Signature mismatch with "),
        "{}",
        r.status_message
    );
    // Unknown synapse: 404 listing what is served.
    #[derive(Clone, Default, Serialize, Deserialize)]
    struct Nope {}
    impl Synapse for Nope {
        const NAME: &'static str = "Nope";
    }
    let r = d.call(&t, Nope {}, T).await;
    assert_eq!(
        (r.status_code, r.status_message.as_str()),
        (
            404,
            "Synapse name 'Nope' not found. Available synapses ['Synapse', 'Echo']"
        )
    );
    // Oversized: 413.
    let r = d
        .call(
            &t,
            Echo {
                text: "x".repeat(10_000),
                reply: None,
            },
            T,
        )
        .await;
    assert_eq!(r.status_code, 413, "{}", r.status_message);
    // Still serving.
    let r = d
        .call(
            &t,
            Echo {
                text: "ok".into(),
                reply: None,
            },
            T,
        )
        .await;
    assert_eq!(r.status_code, 200, "{}", r.status_message);
    // Nothing listening: 503.
    let dead = salon_wire::AxonTarget {
        ip: "127.0.0.1".into(),
        port: 1,
        hotkey: t.hotkey.clone(),
    };
    assert_eq!(d.call(&dead, Echo::default(), T).await.status_code, 503);
}

/// Posts hand-made requests (replays, stale and future nonces, tampered bodies).
#[tokio::test]
async fn replayed_stale_future_and_tampered_requests_are_refused() {
    let (axon, _) = start(AuthScheme::Synapse, None).await;
    let t = axon.target();
    let d = Dendrite::new(Keypair::generate());
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{}/Echo", t.port);
    let (headers, body) = d
        .signed_request(
            &t,
            Echo {
                text: "once".into(),
                reply: None,
            },
            T,
        )
        .unwrap();
    let post = |h: http::HeaderMap, b: Vec<u8>| {
        let c = client.clone();
        let u = url.clone();
        async move {
            let r = c.post(u).headers(h).body(b).send().await.unwrap();
            let s = r.status().as_u16();
            let v: serde_json::Value = r.json().await.unwrap();
            (s, v["message"].as_str().unwrap_or("").to_string())
        }
    };
    assert_eq!(post(headers.clone(), body.clone()).await.0, 200);
    let (s, m) = post(headers.clone(), body.clone()).await;
    assert_eq!(
        (s, m.as_str()),
        (
            401,
            "Not Verified with error: Nonce is too old, a newer one was last processed"
        )
    );
    // Tampered body with the original (signed) hash header: 500 hash mismatch, as the SDK.
    let (h2, b2) = d
        .signed_request(
            &t,
            Echo {
                text: "orig".into(),
                reply: None,
            },
            T,
        )
        .unwrap();
    let tampered = String::from_utf8(b2)
        .unwrap()
        .replace("\"orig\"", "\"evil\"")
        .into_bytes();
    let (s, m) = post(h2, tampered).await;
    assert_eq!(s, 500);
    assert!(
        m.starts_with("Hash mismatch between header body hash"),
        "{m}"
    );
    // Stale and far-future nonces, correctly signed by a fresh caller.
    let kp = Keypair::generate();
    for (offset_s, want) in [
        (
            -60i64,
            "Nonce is too old: acceptable delta is 14.00 seconds",
        ),
        (60, "Nonce is too far in the future"),
    ] {
        let nonce = now_ns() + offset_s * 1_000_000_000;
        let mut h = headers.clone();
        let hash = salon_wire::body_hash::EMPTY_BODY_HASH;
        let echo_hash = Echo {
            text: "once".into(),
            reply: None,
        }
        .body_hash()
        .unwrap();
        assert_ne!(echo_hash, hash);
        let msg = request_message(nonce, &kp.ss58(), &t.hotkey, "u1", &echo_hash);
        let sig = signature_hex(&kp.sign(msg.as_bytes()));
        for (k, v) in [
            ("bt_header_dendrite_nonce", nonce.to_string()),
            ("bt_header_dendrite_hotkey", kp.ss58()),
            ("bt_header_dendrite_uuid", "u1".into()),
            ("bt_header_dendrite_signature", sig),
        ] {
            h.insert(k, v.parse().unwrap());
        }
        let (s, m) = post(h, body.clone()).await;
        assert_eq!(s, 401, "{m}");
        assert!(m.contains(want), "{m}");
    }
    // Garbage headers: 400, and the axon keeps serving.
    let mut h = headers.clone();
    h.insert("bt_header_dendrite_nonce", "soon".parse().unwrap());
    assert_eq!(post(h, body.clone()).await.0, 400);
    let r = d
        .call(
            &t,
            Echo {
                text: "still".into(),
                reply: None,
            },
            T,
        )
        .await;
    assert_eq!(r.status_code, 200, "{}", r.status_message);
}

#[tokio::test]
async fn btauth_axon_accepts_btauth_dendrite_and_refuses_synapse_signatures() {
    let (axon, _) = start(AuthScheme::BtAuth1, None).await;
    let t = axon.target();
    let r = Dendrite::new(Keypair::generate())
        .with_auth(AuthScheme::BtAuth1)
        .call(
            &t,
            Echo {
                text: "b".into(),
                reply: None,
            },
            T,
        )
        .await;
    assert_eq!(r.status_code, 200, "{}", r.status_message);
    let r = Dendrite::new(Keypair::generate())
        .call(&t, Echo::default(), T)
        .await;
    assert_eq!(r.status_code, 401);
    assert!(
        r.status_message.contains("btauth/1"),
        "{}",
        r.status_message
    );
    let (both, _) = start(AuthScheme::Both, None).await;
    let bt = both.target();
    for scheme in [AuthScheme::Synapse, AuthScheme::BtAuth1] {
        let r = Dendrite::new(Keypair::generate())
            .with_auth(scheme)
            .call(&bt, Echo::default(), T)
            .await;
        assert_eq!(r.status_code, 200, "{scheme:?}: {}", r.status_message);
    }
}
