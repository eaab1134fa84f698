//! Verification of replay results against the `expect` checks written in scenario files.

use serde_json::Value;

use crate::replay::{Check, Scenario, ScenarioResult};

/// Compares each epoch record with its step's `expect` checks; returns one line per mismatch.
pub fn verify(scenarios: &[Scenario], results: &[ScenarioResult]) -> Vec<String> {
    let mut bad = Vec::new();
    for (s, r) in scenarios.iter().zip(results) {
        let epoch_steps = s.steps.iter().filter_map(|st| match &st.action {
            crate::replay::Action::Epoch(e) => Some((st.block, e)),
            _ => None,
        });
        for ((block, e), rec) in epoch_steps.zip(&r.epochs) {
            let fields = record_fields(rec);
            for c in &e.expect {
                if let Err(msg) = check_one(&fields, c) {
                    bad.push(format!("{} @ block {block}: {msg}", s.name));
                }
            }
        }
    }
    bad
}

fn record_fields(rec: &crate::replay::EpochRecord) -> Value {
    let mut v = serde_json::to_value(rec).expect("records serialize");
    let d = &rec.detail;
    let obj = v.as_object_mut().expect("record is an object");
    obj.insert("stake_weight_u16".into(), serde_json::json!(d.stake_weight));
    obj.insert("active".into(), serde_json::json!(d.active));
    obj.insert(
        "server_emission_rao".into(),
        serde_json::json!(d.server_emission),
    );
    obj.insert(
        "validator_emission_rao".into(),
        serde_json::json!(d.validator_emission),
    );
    v
}

fn lookup<'a>(fields: &'a Value, name: &str, index: &[usize]) -> Result<&'a Value, String> {
    let mut v = fields
        .get(name)
        .ok_or_else(|| format!("unknown field {name}"))?;
    for &i in index {
        v = v
            .get(i)
            .ok_or_else(|| format!("{name}{index:?}: index out of range"))?;
    }
    Ok(v)
}

/// Checks one expectation. `field` may join fields with `+` (their values are concatenated);
/// ops: `eq` (within tolerance), `lt`, `le`, `gt`, `ge`, `sum_eq` (sum of all values), and
/// `eq_field` where `value` is `[other_field, index...]`.
fn check_one(fields: &Value, c: &Check) -> Result<(), String> {
    let mut got = Vec::new();
    for name in c.field.split('+') {
        got.extend(flatten(lookup(fields, name, &c.index)?));
    }
    let (op, expected) = match c.op.as_str() {
        "eq_field" => {
            let arr = c
                .value
                .as_array()
                .ok_or("eq_field needs value [field, index...]")?;
            let name = arr
                .first()
                .and_then(Value::as_str)
                .ok_or("eq_field needs a field name first")?;
            let idx: Vec<usize> = arr[1..]
                .iter()
                .filter_map(Value::as_u64)
                .map(|x| x as usize)
                .collect();
            ("eq", flatten(lookup(fields, name, &idx)?))
        }
        "sum_eq" => {
            got = vec![got.iter().sum()];
            ("eq", flatten(&c.value))
        }
        other => (other, flatten(&c.value)),
    };
    let label = format!("{}{:?}", c.field, c.index);
    if got.len() != expected.len() {
        return Err(format!(
            "{label}: got {} values, expected {}",
            got.len(),
            expected.len()
        ));
    }
    for (k, (a, b)) in got.iter().zip(&expected).enumerate() {
        let ok = match op {
            "eq" => (a - b).abs() <= c.tolerance,
            "lt" => a < b,
            "le" => a <= b,
            "gt" => a > b,
            "ge" => a >= b,
            other => return Err(format!("unknown op {other}")),
        };
        if !ok {
            let shown = |v: &[f64]| {
                v.iter()
                    .take(16)
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            return Err(format!(
                "{label} element {k}: got {a}, expected {op} {b} (tolerance {})\n  got:      [{}]\n  expected: [{}]",
                c.tolerance,
                shown(&got),
                shown(&expected)
            ));
        }
    }
    Ok(())
}

fn flatten(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().flat_map(flatten).collect(),
        Value::Bool(b) => vec![if *b { 1.0 } else { 0.0 }],
        Value::Number(n) => vec![n.as_f64().unwrap_or(f64::NAN)],
        _ => vec![f64::NAN],
    }
}
