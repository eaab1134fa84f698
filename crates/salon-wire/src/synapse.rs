//! The `Synapse` trait that typed messages implement, and `Envelope`, the JSON body the SDK
//! sends: the common fields (name, timeout, sizes, terminals, computed_body_hash) plus the
//! synapse's own fields at the same level.

use crate::body_hash::body_hash;
use crate::error::WireError;
use crate::terminal::TerminalInfo;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The SDK version Salon speaks and announces: bittensor 10.5.0 as `major*10^6 + minor*10^3 + patch`.
pub const SDK_VERSION: i64 = 10_005_000;

/// The SDK's default query timeout in seconds (used when a request states none).
pub const DEFAULT_TIMEOUT_SECS: f64 = 12.0;

/// A typed Synapse message. Implementors are serde structs holding only their own fields,
/// named exactly as the Python class names them; every field a Python class may omit must have a
/// `#[serde(default)]`.
pub trait Synapse: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {
    /// The Python class name: the route (`POST /NAME`) and the `name` field.
    const NAME: &'static str;

    /// The class's `required_hash_fields`, in class order: hashed into `computed_body_hash`.
    fn required_hash_fields() -> &'static [&'static str] {
        &[]
    }

    /// Fields the Python class declares without a default, with the JSON of their type's empty
    /// value (`""`, `0`, `[]`, `{}`): sent as `bt_header_input_obj_<field>` so a Python axon can
    /// build the synapse from headers.
    fn required_fields() -> &'static [(&'static str, &'static str)] {
        &[]
    }

    /// The body hash of this synapse's current field values, as the SDK computes it.
    fn body_hash(&self) -> Result<String, WireError> {
        let fields = Self::required_hash_fields();
        if fields.is_empty() {
            return Ok(crate::body_hash::EMPTY_BODY_HASH.to_string());
        }
        match serde_json::to_value(self)? {
            serde_json::Value::Object(map) => Ok(body_hash(&map, fields)),
            _ => Err(WireError::NotAnObject(Self::NAME)),
        }
    }
}

/// The whole JSON body of a Synapse request or response.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Envelope<S> {
    /// The class name.
    #[serde(default)]
    pub name: Option<String>,
    /// The query timeout in seconds.
    #[serde(default)]
    pub timeout: Option<f64>,
    /// Size of the body as the sender counted it.
    #[serde(default)]
    pub total_size: Option<i64>,
    /// Size of the headers as the sender counted it.
    #[serde(default)]
    pub header_size: Option<i64>,
    /// The caller's end.
    #[serde(default)]
    pub dendrite: Option<TerminalInfo>,
    /// The server's end.
    #[serde(default)]
    pub axon: Option<TerminalInfo>,
    /// Always "" in bodies the SDK sends (the real hash travels in a header).
    #[serde(default)]
    pub computed_body_hash: Option<String>,
    /// The synapse's own fields.
    #[serde(flatten)]
    pub synapse: S,
}

impl<S: Synapse> Envelope<S> {
    /// A body for `synapse` with the SDK's defaults and empty terminals.
    pub fn new(synapse: S, timeout: f64) -> Self {
        Self {
            name: Some(S::NAME.to_string()),
            timeout: Some(timeout),
            total_size: Some(0),
            header_size: Some(0),
            dendrite: Some(TerminalInfo::default()),
            axon: Some(TerminalInfo::default()),
            computed_body_hash: Some(String::new()),
            synapse,
        }
    }
}

/// The message a dendrite signs (Synapse protocol):
/// `"{nonce}.{dendrite_hotkey}.{axon_hotkey}.{dendrite_uuid}.{body_hash}"`.
pub fn request_message(
    nonce: i64,
    dendrite_hotkey: &str,
    axon_hotkey: &str,
    uuid: &str,
    body_hash: &str,
) -> String {
    format!("{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}")
}

/// "0x" + hex of a signature, as the SDK writes it.
pub fn signature_hex(sig: &[u8; 64]) -> String {
    format!("0x{}", hex::encode(sig))
}

/// Decodes a "0x"-prefixed (or bare) hex signature.
pub fn parse_signature_hex(text: &str) -> Result<Vec<u8>, String> {
    let t = text.strip_prefix("0x").unwrap_or(text);
    let bytes = hex::decode(t).map_err(|e| format!("signature {text:?} is not hex: {e}"))?;
    if bytes.len() != 64 {
        return Err(format!("signature must be 64 bytes, got {}", bytes.len()));
    }
    Ok(bytes)
}

/// Current time in nanoseconds since the Unix epoch (Python's `time.time_ns()`).
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Dummy {
        #[serde(default)]
        dummy_input: i64,
        #[serde(default)]
        dummy_output: Option<i64>,
    }
    impl Synapse for Dummy {
        const NAME: &'static str = "Dummy";
        fn required_hash_fields() -> &'static [&'static str] {
            &["dummy_input"]
        }
    }

    #[test]
    fn envelope_flattens_fields_and_keeps_common_ones() {
        let e = Envelope::new(
            Dummy {
                dummy_input: 3,
                dummy_output: None,
            },
            12.0,
        );
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["name"], "Dummy");
        assert_eq!(v["timeout"], 12.0);
        assert_eq!(v["computed_body_hash"], "");
        assert_eq!(v["dummy_input"], 3);
        assert!(v["dendrite"].is_object());
        // A Python body has extra keys we do not know; they are ignored.
        let back: Envelope<Dummy> = serde_json::from_str(
            r#"{"name":"Dummy","dummy_input":5,"extra":[1],"axon":{"status_code":"200"}}"#,
        )
        .unwrap();
        assert_eq!(back.synapse.dummy_input, 5);
        assert_eq!(back.axon.unwrap().status_code, Some(200));
    }

    #[test]
    fn body_hash_uses_python_str_of_hash_fields() {
        let d = Dummy {
            dummy_input: 42,
            dummy_output: Some(1),
        };
        let want = crate::body_hash::sha3_hex(&crate::body_hash::sha3_hex("42"));
        assert_eq!(d.body_hash().unwrap(), want);
    }

    #[test]
    fn signature_hex_round_trips_and_rejects_garbage() {
        let sig = [7u8; 64];
        let text = signature_hex(&sig);
        assert!(text.starts_with("0x") && text.len() == 130);
        assert_eq!(parse_signature_hex(&text).unwrap(), sig.to_vec());
        assert!(parse_signature_hex("0xzz").is_err());
        assert!(parse_signature_hex("0x00").is_err());
    }
}
