//! The Synapse body hash, byte-compatible with the Python SDK: `str()` of each hashed field
//! formatted as Python would, SHA3-256 hex of each, then SHA3-256 hex of their concatenation.

use serde_json::Value;
use sha3::{Digest, Sha3_256};
use std::fmt::Write;

/// `sha3_256("")` in hex: the body hash of a synapse with no hashed fields.
pub const EMPTY_BODY_HASH: &str =
    "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a";

/// SHA3-256 of `text` as lowercase hex (the SDK's `get_hash`).
pub fn sha3_hex(text: &str) -> String {
    hex::encode(Sha3_256::digest(text.as_bytes()))
}

/// The body hash of a synapse's JSON object, hashing `fields` in order (a missing field counts as
/// `None`, as a Python model would hold its default of None).
pub fn body_hash(object: &serde_json::Map<String, Value>, fields: &[&str]) -> String {
    if fields.is_empty() {
        return EMPTY_BODY_HASH.to_string();
    }
    let mut joined = String::with_capacity(64 * fields.len());
    for f in fields {
        let s = python_str(object.get(*f).unwrap_or(&Value::Null));
        joined.push_str(&sha3_hex(&s));
    }
    sha3_hex(&joined)
}

/// Python's `str(value)` for a JSON-shaped value: strings bare at top level, `repr` inside
/// containers; `None`, `True`, `False`; floats as Python's shortest repr (`1.0`, `1e-05`, `1e+16`).
pub fn python_str(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => {
            let mut out = String::new();
            python_repr_into(other, &mut out);
            out
        }
    }
}

/// Python's `repr(value)` appended to `out`.
pub fn python_repr_into(value: &Value, out: &mut String) {
    match value {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                let _ = write!(out, "{i}");
            } else if let Some(u) = n.as_u64() {
                let _ = write!(out, "{u}");
            } else {
                out.push_str(&python_float_repr(n.as_f64().unwrap_or(f64::NAN)));
            }
        }
        Value::String(s) => python_str_repr_into(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_repr_into(v, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                python_str_repr_into(k, out);
                out.push_str(": ");
                python_repr_into(v, out);
            }
            out.push('}');
        }
    }
}

/// Python's `repr(float)`: shortest round-trip digits, fixed notation for decimal exponents in
/// [-4, 16), scientific (`1e-05`, `1.5e+16`) otherwise.
pub fn python_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-trip digits, like Python's repr.
    let sci = format!("{:e}", x.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if x < 0.0 { "-" } else { "" };
    let decpt = exp + 1; // position of the decimal point relative to the digits
    if !(-4 < decpt && decpt <= 16) {
        let mut m = String::new();
        m.push_str(&digits[..1]);
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        let esign = if exp < 0 { '-' } else { '+' };
        return format!("{sign}{m}e{esign}{:02}", exp.abs());
    }
    let n = digits.len() as i32;
    let body = if decpt <= 0 {
        format!("0.{}{}", "0".repeat((-decpt) as usize), digits)
    } else if decpt >= n {
        format!("{}{}.0", digits, "0".repeat((decpt - n) as usize))
    } else {
        format!(
            "{}.{}",
            &digits[..decpt as usize],
            &digits[decpt as usize..]
        )
    };
    format!("{sign}{body}")
}

/// Whether Python's `str.isprintable()` is false for `c` (control, format, separator and
/// private-use characters; unassigned code points are not covered).
fn python_unprintable(c: char) -> bool {
    let u = c as u32;
    c.is_control()
        || matches!(u,
            0xA0 | 0xAD | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E | 0x1680
            | 0x2000..=0x200F | 0x2028..=0x202F | 0x205F..=0x2064 | 0x2066..=0x206F
            | 0x3000 | 0xFEFF | 0xFFF9..=0xFFFB | 0xE000..=0xF8FF
            | 0xF0000..=0x10FFFF)
}

/// Python's `repr(str)`: single quotes unless the text holds `'` and no `"`, with Python's escapes.
fn python_str_repr_into(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if python_unprintable(c) => {
                let u = c as u32;
                let _ = if u < 0x100 {
                    write!(out, "\\x{u:02x}")
                } else if u < 0x10000 {
                    write!(out, "\\u{u:04x}")
                } else {
                    write!(out, "\\U{u:08x}")
                };
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn float_repr_matches_python() {
        // Expected strings are what CPython 3.11 prints for repr(x).
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (15.0, "15.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.2345e20, "1.2345e+20"),
            (123456789.125, "123456789.125"),
            (0.30000000000000004, "0.30000000000000004"),
            (1.0 / 3.0, "0.3333333333333333"),
            (-0.0, "-0.0"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
        ];
        for (x, want) in cases {
            assert_eq!(python_float_repr(*x), *want, "repr({x:e})");
        }
    }

    #[test]
    fn str_of_values_matches_python() {
        assert_eq!(python_str(&json!("plain text")), "plain text");
        assert_eq!(python_str(&json!(null)), "None");
        assert_eq!(python_str(&json!(true)), "True");
        assert_eq!(python_str(&json!(755)), "755");
        assert_eq!(python_str(&json!([1, 2])), "[1, 2]");
        assert_eq!(python_str(&json!([0.5, -1.0, 1e-5])), "[0.5, -1.0, 1e-05]");
        assert_eq!(
            python_str(&json!({"a": 1, "b": [true, null]})),
            "{'a': 1, 'b': [True, None]}"
        );
        assert_eq!(
            python_str(&json!(["it's", "say \"hi\"", "both ' \""])),
            r#"["it's", 'say "hi"', 'both \' "']"#
        );
        assert_eq!(
            python_str(&json!(["a\nb\\c\t\u{1}é\u{a0}"])),
            r"['a\nb\\c\t\x01é\xa0']"
        );
        assert_eq!(python_str(&json!([[]])), "[[]]");
    }

    #[test]
    fn empty_hash_is_sha3_of_empty_string() {
        assert_eq!(sha3_hex(""), EMPTY_BODY_HASH);
        assert_eq!(body_hash(&serde_json::Map::new(), &[]), EMPTY_BODY_HASH);
    }

    #[test]
    fn body_hash_concatenates_field_hashes_in_order() {
        let obj = json!({"text_input": "calm piano", "duration": 755})
            .as_object()
            .unwrap()
            .clone();
        let want = sha3_hex(&format!("{}{}", sha3_hex("calm piano"), sha3_hex("755")));
        assert_eq!(body_hash(&obj, &["text_input", "duration"]), want);
        assert_ne!(body_hash(&obj, &["duration", "text_input"]), want);
        let missing = sha3_hex(&sha3_hex("None"));
        assert_eq!(body_hash(&obj, &["absent"]), missing);
    }
}
