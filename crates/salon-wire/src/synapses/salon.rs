//! Salon's native synapse: one `salon_core::Request` in, one `Response` (or an error) out; media
//! travel compactly as base64 WAV/PNG with rate and format stated.

use crate::error::WireError;
use crate::synapse::Synapse;
use salon_core::{Request, Response};
use serde::{Deserialize, Serialize};

/// Any Salon task over the Synapse protocol.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SalonSynapse {
    /// What is asked.
    pub request: Request,
    /// The answer, filled by the miner.
    #[serde(default)]
    pub response: Option<Response>,
    /// Why no answer was given, filled by the miner.
    #[serde(default)]
    pub error: Option<String>,
}

impl Synapse for SalonSynapse {
    const NAME: &'static str = "SalonSynapse";
}

impl SalonSynapse {
    /// A synapse asking `request`.
    pub fn new(request: Request) -> Self {
        Self {
            request,
            response: None,
            error: None,
        }
    }

    /// The request (a clone).
    pub fn to_request(&self) -> Result<Request, WireError> {
        Ok(self.request.clone())
    }

    /// Stores `response` if it answers the request's task.
    pub fn fill(&mut self, response: &Response) -> Result<(), WireError> {
        if !response.answers(self.request.task()) {
            return Err(WireError::WrongResponse {
                synapse: Self::NAME,
                expected: self.request.task().as_str(),
            });
        }
        self.response = Some(response.clone());
        Ok(())
    }
}
