//! BitMind's `ImageSynapse`: a base64 JPEG/PNG in, a prediction out. Older validators send a
//! float (-1 unset, > 0.5 = generated); newer ones a [real, synthetic, semi-synthetic] vector.

use crate::error::WireError;
use crate::synapse::Synapse;
use salon_core::task::DetectionRequest;
use salon_core::{Image, Request, Response};
use serde::{Deserialize, Serialize};

/// A BitMind prediction in either of its wire shapes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Prediction {
    /// Probability the image is generated (-1 = not answered).
    Score(f64),
    /// Probabilities of [real, synthetic, semi-synthetic].
    Probs(Vec<f64>),
}

impl Default for Prediction {
    fn default() -> Self {
        Prediction::Score(-1.0)
    }
}

/// Real-vs-generated detection, as BitMind's validators send it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageSynapse {
    /// Label for testnet evaluation (-1 on mainnet).
    pub testnet_label: i64,
    /// The image, base64 JPEG or PNG.
    pub image: String,
    /// The miner's answer.
    pub prediction: Prediction,
}

impl Default for ImageSynapse {
    fn default() -> Self {
        Self {
            testnet_label: -1,
            image: String::new(),
            prediction: Prediction::default(),
        }
    }
}

impl Synapse for ImageSynapse {
    const NAME: &'static str = "ImageSynapse";
}

impl ImageSynapse {
    /// The Salon request: the decoded image.
    pub fn to_request(&self) -> Result<Request, WireError> {
        if self.image.is_empty() {
            return Err(WireError::Missing { field: "image" });
        }
        Ok(Request::ImageDetection(DetectionRequest {
            image: Image::from_base64(&self.image)?,
        }))
    }

    /// Writes the verdict in the shape the request used: a float, or [1-p, p, 0].
    pub fn fill(&mut self, response: &Response) -> Result<(), WireError> {
        let Response::Detection { prediction } = response else {
            return Err(WireError::WrongResponse {
                synapse: Self::NAME,
                expected: "detection",
            });
        };
        let p = f64::from(prediction.clamp(0.0, 1.0));
        self.prediction = match self.prediction {
            Prediction::Score(_) => Prediction::Score(p),
            Prediction::Probs(_) => Prediction::Probs(vec![1.0 - p, p, 0.0]),
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_the_shape_asked() {
        let img = Image::filled(2, 2, [1, 2, 3]).to_base64_png().unwrap();
        let mut s: ImageSynapse =
            serde_json::from_value(serde_json::json!({"image": img})).unwrap();
        assert_eq!(s.prediction, Prediction::Score(-1.0));
        assert!(matches!(
            s.to_request().unwrap(),
            Request::ImageDetection(_)
        ));
        s.fill(&Response::Detection { prediction: 0.75 }).unwrap();
        assert_eq!(s.prediction, Prediction::Score(0.75));
        let mut v: ImageSynapse =
            serde_json::from_value(serde_json::json!({"prediction": [-1.0, -1.0, -1.0]})).unwrap();
        v.fill(&Response::Detection { prediction: 0.75 }).unwrap();
        assert_eq!(v.prediction, Prediction::Probs(vec![0.25, 0.75, 0.0]));
        assert!(ImageSynapse::default().to_request().is_err());
    }
}
