//! The devnet as a user runs it: the real binary, real HTTP, real chain, three epochs; the
//! leaderboard must reward honest work and starve every adversary.

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn salon() -> Command {
    Command::new(env!("CARGO_BIN_EXE_salon"))
}

fn run_devnet(dir: &Path, json: &Path, epochs: &str) -> Value {
    let out = salon()
        .args(["devnet", "--epochs", epochs, "--quiet", "--dir"])
        .arg(dir)
        .arg("--json")
        .arg(json)
        .output()
        .expect("run salon");
    assert!(
        out.status.success(),
        "devnet failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap()
}

fn miners(report: &Value) -> Vec<(String, f64)> {
    report["neurons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["role"] == "miner")
        .map(|n| {
            (
                n["behaviour"].as_str().unwrap().to_string(),
                n["incentive"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn default_devnet_rewards_honest_work_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("report.json");
    let report = run_devnet(&dir.path().join("net"), &json, "3");
    assert_eq!(report["profile"], "salon");
    assert_eq!(report["epochs"], 3);
    let first_block = report["block"].as_u64().unwrap();
    let ms = miners(&report);
    assert_eq!(ms.len(), 7, "default mix has 7 miners: {ms:?}");
    let total: f64 = ms.iter().map(|(_, i)| i).sum();
    assert!(
        (total - 1.0).abs() < 0.01,
        "miner incentives sum to {total}"
    );
    let good: f64 = ms
        .iter()
        .filter(|(b, _)| b == "honest" || b == "weak")
        .map(|(_, i)| i)
        .sum();
    assert!(
        good >= 0.95 * total,
        "honest+weak got {good} of {total}: {ms:?}"
    );
    let min_honest = ms
        .iter()
        .filter(|(b, _)| b == "honest")
        .map(|(_, i)| *i)
        .fold(f64::MAX, f64::min);
    let max_weak = ms
        .iter()
        .filter(|(b, _)| b == "weak")
        .map(|(_, i)| *i)
        .fold(0.0, f64::max);
    assert!(
        min_honest > max_weak,
        "every honest miner must beat every weak one: {ms:?}"
    );
    for (b, i) in &ms {
        if !matches!(b.as_str(), "honest" | "weak") {
            assert!(*i <= 0.01, "{b} miner got incentive {i}: {ms:?}");
        }
    }
    for n in report["neurons"].as_array().unwrap() {
        assert!(
            n["hotkey"].as_str().unwrap().starts_with('5'),
            "ss58 hotkeys"
        );
    }

    // A second run on the same directory resumes: height continues, registrations kept.
    let json2 = dir.path().join("report2.json");
    let again = run_devnet(&dir.path().join("net"), &json2, "1");
    assert!(again["block"].as_u64().unwrap() > first_block);
    let hotkeys = |r: &Value| {
        let mut v: Vec<String> = r["neurons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["hotkey"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(hotkeys(&report), hotkeys(&again));
}

fn expect_usage_error(args: &[&str], needle: &str) {
    let out = salon().args(args).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "args {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line, got: {err}");
    assert!(err.contains(needle), "{err:?} should mention {needle:?}");
    assert!(!err.contains("panicked"));
}

#[test]
fn bad_input_gets_one_clear_line_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("x");
    let d = d.to_str().unwrap();
    expect_usage_error(
        &["devnet", "--profile", "nosuch", "--dir", d],
        "unknown profile",
    );
    expect_usage_error(
        &["devnet", "--miners", "honest=x", "--dir", d],
        "whole number",
    );
    expect_usage_error(
        &["devnet", "--miners", "greedy=1", "--dir", d],
        "unknown miner behaviour",
    );
    let file = dir.path().join("file");
    std::fs::write(&file, b"").unwrap();
    expect_usage_error(
        &["devnet", "--dir", file.join("sub").to_str().unwrap()],
        "--dir",
    );
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    expect_usage_error(&["devnet", "--base-port", &port, "--dir", d], "port in use");
}
