//! Load generator: signed Synapse requests at a fixed concurrency against (a) a Salon axon started
//! here and (b) a Python bittensor 10.5.0 axon (scripts/interop/wire_peer.py), same synapse (Echo),
//! same client; prints requests/s, p50 and p99 for each and the ratio.
//!
//! cargo run --release -p salon-wire --example axon_throughput -- [CONCURRENCY] [SECONDS]
//! (Python from $SALON_PYTHON or .venv/bin/python; absent = Salon only.)

use salon_keys::Keypair;
use salon_wire::{Axon, AxonTarget, Dendrite, Synapse};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

// The same allocator as the `salon` binary, so the axon measured is the axon users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

struct Stats {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: usize,
}

async fn load(target: AxonTarget, concurrency: usize, secs: f64) -> Stats {
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        // One dendrite per worker: the SDK requires each (hotkey, uuid)'s nonces to arrive in order.
        let d = Dendrite::new(Keypair::generate());
        let t = target.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0;
            while Instant::now() < deadline {
                let r = d
                    .call(
                        &t,
                        Echo {
                            text: "ping".into(),
                            reply: None,
                        },
                        Duration::from_secs(12),
                    )
                    .await;
                if r.status_code == 200 {
                    lat.push(r.elapsed.as_secs_f64() * 1e3);
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            lat.extend(l);
            errors += e;
        }
    }
    let wall = start.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        if lat.is_empty() {
            f64::NAN
        } else {
            lat[((lat.len() - 1) as f64 * p).round() as usize]
        }
    };
    Stats {
        rps: lat.len() as f64 / wall,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        errors,
    }
}

fn print(name: &str, s: &Stats) {
    println!(
        "{name}: {:.0} req/s  p50 {:.2} ms  p99 {:.2} ms  errors {}",
        s.rps, s.p50_ms, s.p99_ms, s.errors
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let concurrency: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(32);
    let secs: f64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10.0);
    println!("concurrency {concurrency}, {secs} s per server, synapse Echo (one hashed field)");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let axon = Axon::builder(Keypair::generate())
        .route::<Echo, _, _>(|mut s: Echo, _| async move {
            s.reply = Some(s.text.clone());
            Ok(s)
        })
        .serve(listener)
        .expect("serve");
    let salon = load(axon.target(), concurrency, secs).await;
    print("salon axon", &salon);
    axon.shutdown().await;

    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let py = std::env::var_os("SALON_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join(".venv/bin/python"));
    if !py.exists() {
        println!("python axon: skipped ({} not found)", py.display());
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port");
    let mut child = Command::new(&py)
        .arg(root.join("scripts/interop/wire_peer.py"))
        .args(["axon", "--port", &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the Python axon");
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    let Some(hotkey) = line.trim().strip_prefix("READY ").map(str::to_string) else {
        let _ = child.kill();
        let _ = child.wait();
        println!("python axon: did not start");
        return;
    };
    let python = load(
        AxonTarget {
            ip: "127.0.0.1".into(),
            port,
            hotkey,
        },
        concurrency,
        secs,
    )
    .await;
    print("python axon", &python);
    let _ = child.kill();
    let _ = child.wait();
    println!(
        "ratio salon/python: {:.1}x throughput, p99 {:.1}x lower",
        salon.rps / python.rps,
        python.p99_ms / salon.p99_ms
    );
}
