//! The replay's set_weights behaves as the extrinsic (subtensor's error names) and `replay_file`
//! prints the documented output JSON.

use salon_yuma::replay::{parse_scenarios, replay, replay_file, ExtrinsicError, ReplayError};

fn run(steps: &str, hp: &str) -> Result<Vec<salon_yuma::replay::ScenarioResult>, ReplayError> {
    let text = format!(
        r#"{{"name": "t", "hyperparameters": {hp},
            "neurons": [{{"stake": 100, "registered_at": 1}}, {{"stake": 0, "registered_at": 1}}, {{"stake": 0, "registered_at": 1}}],
            "steps": {steps}}}"#
    );
    replay(&parse_scenarios(&text)?)
}

fn err_of(r: Result<Vec<salon_yuma::replay::ScenarioResult>, ReplayError>) -> ExtrinsicError {
    match r {
        Err(ReplayError::Extrinsic { error, .. }) => error,
        other => panic!("expected an extrinsic error, got {other:?}"),
    }
}

const OPEN: &str = r#"{"commit_reveal": false, "weights_rate_limit": 0}"#;
const WARM: &str = r#"{"block": 1, "epoch": {}}"#;

#[test]
fn set_weights_rejections_use_subtensor_names() {
    let sw = |dests: &str, values: &str| {
        format!(
            r#"{{"block": 2, "set_weights": {{"uid": 0, "dests": {dests}, "values": {values}}}}}"#
        )
    };
    let steps = |s: String| format!("[{WARM}, {s}]");
    assert_eq!(
        err_of(run(&steps(sw("[1, 1]", "[1, 2]")), OPEN)),
        ExtrinsicError::DuplicateUids
    );
    assert_eq!(
        err_of(run(&steps(sw("[1]", "[1, 2]")), OPEN)),
        ExtrinsicError::WeightVecNotEqualSize
    );
    assert_eq!(
        err_of(run(&steps(sw("[7]", "[1]")), OPEN)),
        ExtrinsicError::UidVecContainInvalidOne
    );
    assert_eq!(
        err_of(run(&steps(sw("[1]", "[1]")), "{}")),
        ExtrinsicError::CommitRevealEnabled
    );
    let min2 = r#"{"commit_reveal": false, "weights_rate_limit": 0, "min_allowed_weights": 2}"#;
    assert_eq!(
        err_of(run(&steps(sw("[1]", "[1]")), min2)),
        ExtrinsicError::WeightVecLengthIsLow
    );
    // A lone self-weight is allowed below min_allowed_weights.
    assert!(run(&steps(sw("[0]", "[1]")), min2).is_ok());
    // Rate limit: registration at block 1 counts as the last update.
    let rl = r#"{"commit_reveal": false, "weights_rate_limit": 5}"#;
    assert_eq!(
        err_of(run(&steps(sw("[1]", "[1]")), rl)),
        ExtrinsicError::SettingWeightsTooFast
    );
    // No permit before the warm-up epoch.
    let no_warm = format!("[{}]", sw("[1]", "[1]"));
    assert_eq!(
        err_of(run(&no_warm, OPEN)),
        ExtrinsicError::NeuronNoValidatorPermit
    );
    // expect_error turns a rejection into a passing step.
    let expected = format!(
        r#"[{WARM}, {{"block": 2, "set_weights": {{"uid": 0, "dests": [1, 1], "values": [1, 1], "expect_error": "DuplicateUids"}}}}]"#
    );
    assert!(run(&expected, OPEN).is_ok());
}

#[test]
fn set_weights_max_upscales_and_epoch_pays_the_weighted_miner() {
    let steps = format!(
        r#"[{WARM}, {{"block": 2, "set_weights": {{"uid": 0, "dests": [1, 2], "values": [43690, 21845]}}}}, {{"block": 2, "epoch": {{}}}}]"#
    );
    let r = run(&steps, OPEN).unwrap();
    let e = &r[0].epochs[1];
    assert!(e.incentive_u16[1] > e.incentive_u16[2] && e.incentive_u16[2] > 0);
    assert!(e.emission_rao.iter().sum::<u64>().abs_diff(1_000_000_000) < 10);
}

#[test]
fn replay_file_prints_the_documented_fields() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/test_bonds.json");
    let json: serde_json::Value = serde_json::from_str(&replay_file(path).unwrap()).unwrap();
    let first = &json[0];
    assert_eq!(first["name"], "test_bonds");
    let epoch = first["epochs"][1].as_object().unwrap();
    let mut keys: Vec<&str> = epoch.keys().map(|k| k.as_str()).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "block",
            "bonds_u16",
            "consensus_u16",
            "dividends_u16",
            "emission_rao",
            "incentive_u16",
            "validator_permit",
            "validator_trust_u16"
        ]
    );
    assert_eq!(epoch["bonds_u16"][2][4], 49151);
    assert!(matches!(
        replay_file("/nonexistent.json"),
        Err(ReplayError::Io { .. })
    ));
}
