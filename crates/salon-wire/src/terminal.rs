//! `TerminalInfo`: what the SDK records about each end of a call (status, timing, identity,
//! nonce, signature), in the body as JSON and in headers as `bt_header_{axon,dendrite}_<field>`.

use crate::body_hash::python_float_repr;
use serde::{Deserialize, Deserializer, Serialize};

/// One end of a Synapse call, field for field as the Python SDK's `TerminalInfo`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TerminalInfo {
    /// HTTP status code of the call.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub status_code: Option<i64>,
    /// Message explaining the status.
    #[serde(default)]
    pub status_message: Option<String>,
    /// Seconds this end spent on the call.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub process_time: Option<f64>,
    /// IP address of this end.
    #[serde(default)]
    pub ip: Option<String>,
    /// Port of this end.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub port: Option<i64>,
    /// SDK version as an integer (10.5.0 -> 10005000).
    #[serde(default, deserialize_with = "lenient_i64")]
    pub version: Option<i64>,
    /// Nanosecond timestamp nonce.
    #[serde(default, deserialize_with = "lenient_i64")]
    pub nonce: Option<i64>,
    /// Identifier of the terminal instance (a uuid1 string).
    #[serde(default)]
    pub uuid: Option<String>,
    /// SS58 hotkey of this end.
    #[serde(default)]
    pub hotkey: Option<String>,
    /// "0x" + hex of the sr25519 signature.
    #[serde(default)]
    pub signature: Option<String>,
}

impl TerminalInfo {
    /// The set fields as `(name, Python str() of value)` pairs, in the SDK's field order.
    pub fn header_pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::with_capacity(10);
        let int = |name, v: Option<i64>, out: &mut Vec<_>| {
            if let Some(v) = v {
                out.push((name, v.to_string()));
            }
        };
        int("status_code", self.status_code, &mut out);
        if let Some(v) = &self.status_message {
            out.push(("status_message", v.clone()));
        }
        if let Some(v) = self.process_time {
            out.push(("process_time", python_float_repr(v)));
        }
        if let Some(v) = &self.ip {
            out.push(("ip", v.clone()));
        }
        int("port", self.port, &mut out);
        int("version", self.version, &mut out);
        int("nonce", self.nonce, &mut out);
        for (name, v) in [
            ("uuid", &self.uuid),
            ("hotkey", &self.hotkey),
            ("signature", &self.signature),
        ] {
            if let Some(v) = v {
                out.push((name, v.clone()));
            }
        }
        out
    }

    /// Sets one field from its header text; returns an error message if the text does not parse.
    pub fn set_from_header(&mut self, field: &str, text: &str) -> Result<(), String> {
        let int = |t: &str| parse_int(t).ok_or_else(|| format!("{field}: {t:?} is not an integer"));
        match field {
            "status_code" => self.status_code = Some(int(text)?),
            "status_message" => self.status_message = Some(text.to_string()),
            "process_time" => {
                self.process_time = Some(
                    text.trim()
                        .parse()
                        .map_err(|_| format!("process_time: {text:?} is not a number"))?,
                )
            }
            "ip" => self.ip = Some(text.to_string()),
            "port" => self.port = Some(int(text)?),
            "version" => self.version = Some(int(text)?),
            "nonce" => self.nonce = Some(int(text)?),
            "uuid" => self.uuid = Some(text.to_string()),
            "hotkey" => self.hotkey = Some(text.to_string()),
            "signature" => self.signature = Some(text.to_string()),
            _ => {}
        }
        Ok(())
    }
}

/// Python `int(text)`: optional sign, digits, surrounding whitespace.
fn parse_int(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrText {
    Int(i64),
    Float(f64),
    Text(String),
}

fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    match Option::<NumOrText>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrText::Int(i)) => Ok(Some(i)),
        Some(NumOrText::Float(f)) if f.fract() == 0.0 && f.abs() < 9.2e18 => Ok(Some(f as i64)),
        Some(NumOrText::Float(f)) => {
            Err(serde::de::Error::custom(format!("{f} is not an integer")))
        }
        Some(NumOrText::Text(t)) => parse_int(&t)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("{t:?} is not an integer"))),
    }
}

fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    match Option::<NumOrText>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrText::Int(i)) => Ok(Some(i as f64)),
        Some(NumOrText::Float(f)) => Ok(Some(f)),
        Some(NumOrText::Text(t)) => t
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("{t:?} is not a number"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_numbers_as_text_like_pydantic_validators() {
        let t: TerminalInfo = serde_json::from_str(
            r#"{"status_code":"200","process_time":"0.25","port":8091,"nonce":1.7e18}"#,
        )
        .unwrap();
        assert_eq!(t.status_code, Some(200));
        assert_eq!(t.process_time, Some(0.25));
        assert_eq!(t.port, Some(8091));
        assert_eq!(t.nonce, Some(1_700_000_000_000_000_000));
        assert!(serde_json::from_str::<TerminalInfo>(r#"{"port":"x"}"#).is_err());
    }

    #[test]
    fn serializes_every_field_with_nulls_as_the_sdk_does() {
        let v = serde_json::to_value(TerminalInfo::default()).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        for k in [
            "status_code",
            "status_message",
            "process_time",
            "ip",
            "port",
            "version",
            "nonce",
            "uuid",
            "hotkey",
            "signature",
        ] {
            assert!(keys.contains(&k.to_string()), "{k}");
        }
        assert!(v.as_object().unwrap().values().all(|x| x.is_null()));
    }

    #[test]
    fn header_pairs_skip_unset_and_format_floats_like_python() {
        let t = TerminalInfo {
            status_code: Some(200),
            process_time: Some(2.0),
            ..Default::default()
        };
        assert_eq!(
            t.header_pairs(),
            vec![
                ("status_code", "200".into()),
                ("process_time", "2.0".into())
            ]
        );
    }
}
