//! The Synapse headers: `name`, `timeout`, `bt_header_axon_*`, `bt_header_dendrite_*`,
//! `bt_header_input_obj_*`, `header_size`, `total_size`, `computed_body_hash`, read and written
//! as the SDK's `Synapse.to_headers` / `from_headers` do.

use crate::body_hash::python_float_repr;
use crate::terminal::TerminalInfo;
use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue};

/// Prefix of the axon terminal's headers.
pub const AXON_PREFIX: &str = "bt_header_axon_";
/// Prefix of the dendrite terminal's headers.
pub const DENDRITE_PREFIX: &str = "bt_header_dendrite_";
/// Prefix of the required-field placeholder headers.
pub const INPUT_OBJ_PREFIX: &str = "bt_header_input_obj_";

/// The part of a synapse that travels in headers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SynapseHeaders {
    /// The class name.
    pub name: Option<String>,
    /// Query timeout in seconds.
    pub timeout: Option<f64>,
    /// The sender's count of header bytes.
    pub header_size: Option<i64>,
    /// The sender's count of body bytes.
    pub total_size: Option<i64>,
    /// The server's end.
    pub axon: TerminalInfo,
    /// The caller's end.
    pub dendrite: TerminalInfo,
    /// The body hash the caller signed.
    pub computed_body_hash: Option<String>,
}

impl SynapseHeaders {
    /// Reads the Synapse headers of a request or response; unknown headers are ignored, as the
    /// SDK does. Fails with a readable message when a numeric header does not parse.
    pub fn parse(headers: &HeaderMap) -> Result<Self, String> {
        let mut out = SynapseHeaders::default();
        for (key, value) in headers {
            let key = key.as_str();
            let text = header_text(value);
            if let Some(field) = key.strip_prefix(AXON_PREFIX) {
                out.axon
                    .set_from_header(field, &text)
                    .map_err(|e| format!("header {key}: {e}"))?;
            } else if let Some(field) = key.strip_prefix(DENDRITE_PREFIX) {
                out.dendrite
                    .set_from_header(field, &text)
                    .map_err(|e| format!("header {key}: {e}"))?;
            } else {
                match key {
                    "name" => out.name = Some(text.into_owned()),
                    "timeout" => {
                        out.timeout = Some(
                            text.trim()
                                .parse::<f64>()
                                .map_err(|_| format!("header timeout: {text:?} is not a number"))?,
                        )
                    }
                    "header_size" => out.header_size = Some(parse_int_header(key, &text)?),
                    "total_size" => out.total_size = Some(parse_int_header(key, &text)?),
                    "computed_body_hash" => out.computed_body_hash = Some(text.into_owned()),
                    _ => {}
                }
            }
        }
        Ok(out)
    }

    /// The timeout in seconds, the SDK default (12 s) when absent, never negative or NaN.
    pub fn timeout_secs(&self) -> f64 {
        match self.timeout {
            Some(t) if t.is_finite() && t >= 0.0 => t,
            Some(t) if t.is_infinite() && t > 0.0 => f64::MAX,
            _ => crate::synapse::DEFAULT_TIMEOUT_SECS,
        }
    }

    /// Writes these headers (plus one `bt_header_input_obj_<field>` per required field) into
    /// `map`, in the SDK's order. Values a header cannot carry are made safe (see [`safe_value`]).
    pub fn write_to(&self, map: &mut HeaderMap, required_fields: &[(&str, &str)]) {
        let mut put = |name: String, value: &str| {
            if let Ok(n) = HeaderName::from_bytes(name.as_bytes()) {
                map.insert(n, safe_value(value));
            }
        };
        if let Some(n) = &self.name {
            put("name".into(), n);
        }
        put(
            "timeout".into(),
            &python_float_repr(self.timeout.unwrap_or(crate::synapse::DEFAULT_TIMEOUT_SECS)),
        );
        for (k, v) in self.axon.header_pairs() {
            put(format!("{AXON_PREFIX}{k}"), &v);
        }
        for (k, v) in self.dendrite.header_pairs() {
            put(format!("{DENDRITE_PREFIX}{k}"), &v);
        }
        for (field, dummy_json) in required_fields {
            let b64 = base64::engine::general_purpose::STANDARD.encode(dummy_json.as_bytes());
            put(format!("{INPUT_OBJ_PREFIX}{field}"), &b64);
        }
        put(
            "header_size".into(),
            &self.header_size.unwrap_or(0).to_string(),
        );
        put(
            "total_size".into(),
            &self.total_size.unwrap_or(0).to_string(),
        );
        put(
            "computed_body_hash".into(),
            self.computed_body_hash.as_deref().unwrap_or(""),
        );
    }
}

fn parse_int_header(key: &str, text: &str) -> Result<i64, String> {
    text.trim()
        .parse()
        .map_err(|_| format!("header {key}: {text:?} is not an integer"))
}

/// A header's text; bytes outside ASCII are read as Latin-1, as Starlette and aiohttp do.
pub fn header_text(value: &HeaderValue) -> std::borrow::Cow<'_, str> {
    match value.to_str() {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => std::borrow::Cow::Owned(value.as_bytes().iter().map(|&b| b as char).collect()),
    }
}

/// A header value for arbitrary text: characters that HTTP headers cannot carry (control
/// characters, anything outside Latin-1) become `?`; Latin-1 letters are sent as their byte.
pub fn safe_value(text: &str) -> HeaderValue {
    let bytes: Vec<u8> = text
        .chars()
        .map(|c| match c as u32 {
            0x20..=0x7e | 0xa0..=0xff => c as u32 as u8,
            0x09 => b' ',
            _ => b'?',
        })
        .collect();
    HeaderValue::from_bytes(&bytes).unwrap_or_else(|_| HeaderValue::from_static("?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_a_header_map() {
        let h = SynapseHeaders {
            name: Some("MusicGeneration".into()),
            timeout: Some(20.0),
            header_size: Some(640),
            total_size: Some(1024),
            axon: TerminalInfo {
                ip: Some("127.0.0.1".into()),
                port: Some(8091),
                hotkey: Some("5Ax".into()),
                ..Default::default()
            },
            dendrite: TerminalInfo {
                nonce: Some(1_700_000_000_000_000_000),
                uuid: Some("u-1".into()),
                ..Default::default()
            },
            computed_body_hash: Some("abc".into()),
        };
        let mut map = HeaderMap::new();
        h.write_to(&mut map, &[("text_input", "\"\"")]);
        assert_eq!(map["timeout"], "20.0");
        assert_eq!(map["bt_header_axon_port"], "8091");
        assert_eq!(map["bt_header_dendrite_nonce"], "1700000000000000000");
        // base64 of '""', as Python's base64.b64encode(json.dumps(str())) gives.
        assert_eq!(map["bt_header_input_obj_text_input"], "IiI=");
        assert_eq!(SynapseHeaders::parse(&map).unwrap(), h);
    }

    #[test]
    fn bad_numbers_are_reported_not_ignored() {
        let mut map = HeaderMap::new();
        map.insert("bt_header_dendrite_nonce", HeaderValue::from_static("soon"));
        let err = SynapseHeaders::parse(&map).unwrap_err();
        assert!(err.contains("bt_header_dendrite_nonce"), "{err}");
    }

    #[test]
    fn unsafe_text_becomes_a_valid_header() {
        assert_eq!(safe_value("ok\nthen\u{1F600}"), "ok?then?");
        assert_eq!(SynapseHeaders::default().timeout_secs(), 12.0);
    }
}
