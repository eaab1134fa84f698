//! Setting one hyperparameter by name (as `salon chain` and the owner extrinsic do), with the value
//! given as text and checked against the field's type.

use crate::error::ChainError;
use salon_yuma::Hyperparameters;
use serde_json::Value;

/// The names `set_hyperparameter` accepts (the fields of [`Hyperparameters`]).
pub fn names() -> Vec<String> {
    match serde_json::to_value(Hyperparameters::default()) {
        Ok(Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Returns `hp` with `name` set to `value` ("true", "360", ...), or `InvalidHyperparameter`.
pub fn with_value(
    hp: &Hyperparameters,
    name: &str,
    value: &str,
) -> Result<Hyperparameters, ChainError> {
    let invalid = |reason: String| ChainError::InvalidHyperparameter {
        name: name.to_string(),
        value: value.to_string(),
        reason,
    };
    let Ok(Value::Object(mut map)) = serde_json::to_value(hp) else {
        return Err(invalid(
            "hyperparameters did not serialize as an object".into(),
        ));
    };
    let Some(current) = map.get(name) else {
        return Err(invalid(format!(
            "unknown name; known: {}",
            names().join(", ")
        )));
    };
    let parsed = match current {
        Value::Bool(_) => match value.trim() {
            "true" | "1" => Value::Bool(true),
            "false" | "0" => Value::Bool(false),
            _ => return Err(invalid("expected true or false".into())),
        },
        Value::Number(_) => {
            let v: i64 = value
                .trim()
                .parse()
                .map_err(|_| invalid("expected an integer".into()))?;
            Value::from(v)
        }
        _ => return Err(invalid("this field cannot be set by name".into())),
    };
    map.insert(name.to_string(), parsed);
    serde_json::from_value(Value::Object(map))
        .map_err(|e| invalid(format!("out of range for the field: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_by_name_and_rejects_bad_names_and_values() {
        let hp = Hyperparameters::default();
        let t = with_value(&hp, "tempo", "10").unwrap();
        assert_eq!(t.tempo, 10);
        assert!(
            !with_value(&hp, "commit_reveal", "false")
                .unwrap()
                .commit_reveal
        );
        let e = with_value(&hp, "tempo", "70000").unwrap_err();
        assert_eq!(e.name(), "InvalidHyperparameter");
        assert!(with_value(&hp, "tempo", "-1").is_err());
        assert!(with_value(&hp, "yuma3", "maybe").is_err());
        let e = with_value(&hp, "no_such", "1").unwrap_err();
        assert!(e.to_string().contains("tempo"), "{e}");
    }
}
