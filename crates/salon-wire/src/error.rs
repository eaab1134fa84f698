//! Errors of the wire crate: encoding, conversion between seed synapses and Salon requests.

/// What went wrong building, reading or converting a synapse.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    /// JSON could not be written or read.
    #[error("synapse JSON error: {0}")]
    Json(#[from] serde_json::Error),
    /// A synapse type did not serialize to a JSON object.
    #[error("synapse {0} must serialize to a JSON object; check its Serialize impl")]
    NotAnObject(&'static str),
    /// A field needed for the conversion was missing or empty.
    #[error("synapse field {field} is missing or empty; the caller must fill it")]
    Missing {
        /// The field's name.
        field: &'static str,
    },
    /// A field held a value Salon cannot use.
    #[error("synapse field {field} is invalid: {reason}")]
    Invalid {
        /// The field's name.
        field: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// The engine's response does not answer this synapse's task.
    #[error("response kind does not answer {synapse}: expected {expected}")]
    WrongResponse {
        /// The synapse.
        synapse: &'static str,
        /// The response kind expected.
        expected: &'static str,
    },
    /// Media could not be encoded or decoded.
    #[error(transparent)]
    Media(#[from] salon_core::MediaError),
    /// A header value could not be written.
    #[error("header {name} cannot carry value {value:?}")]
    Header {
        /// Header name.
        name: String,
        /// The value.
        value: String,
    },
}
