//! NicheImage's `ImageGenerating`: prompt, seed, model, pipeline type and diffusers parameters
//! in; a base64 image out. Salon serves `txt2img` and `img2img`; other pipelines are refused.

use crate::error::WireError;
use crate::synapse::Synapse;
use salon_core::task::{ImageRequest, ImageToImageRequest};
use salon_core::{Image, Request, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Largest width or height NicheImage accepts.
const MAX_SIDE: u64 = 1536;
/// Most denoising steps NicheImage allows (`limit_params`).
const MAX_STEPS: u64 = 50;

/// Image generation, as NicheImage's validators send it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageGenerating {
    /// What to draw.
    pub prompt: String,
    /// Generation seed (validators reproduce with it).
    pub seed: i64,
    /// The model asked for.
    pub model_name: String,
    /// Base64 input image for img2img / controlnet.
    pub conditional_image: String,
    /// txt2img, img2img, controlnet, instantid, ...
    pub pipeline_type: String,
    /// Diffusers parameters (width, height, num_inference_steps, guidance_scale, strength).
    pub pipeline_params: Map<String, Value>,
    /// Free-form request information.
    pub request_dict: Map<String, Value>,
    /// Free-form response information.
    pub response_dict: Map<String, Value>,
    /// The generated image, base64 PNG.
    pub image: String,
}

impl Default for ImageGenerating {
    fn default() -> Self {
        Self {
            prompt: String::new(),
            seed: 0,
            model_name: String::new(),
            conditional_image: String::new(),
            pipeline_type: "txt2img".into(),
            pipeline_params: Map::new(),
            request_dict: Map::new(),
            response_dict: Map::new(),
            image: String::new(),
        }
    }
}

impl Synapse for ImageGenerating {
    const NAME: &'static str = "ImageGenerating";
}

impl ImageGenerating {
    fn param_u64(&self, key: &str, default: u64) -> Result<u64, WireError> {
        match self.pipeline_params.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_f64()
                .filter(|x| *x >= 0.0)
                .map(|x| x as u64)
                .ok_or_else(|| WireError::Invalid {
                    field: "pipeline_params",
                    reason: format!("{key} = {v}; expected a non-negative number"),
                }),
        }
    }

    fn param_f32(&self, key: &str, default: f32) -> Result<f32, WireError> {
        match self.pipeline_params.get(key) {
            None | Some(Value::Null) => Ok(default),
            Some(v) => v
                .as_f64()
                .map(|x| x as f32)
                .ok_or_else(|| WireError::Invalid {
                    field: "pipeline_params",
                    reason: format!("{key} = {v}; expected a number"),
                }),
        }
    }

    /// The Salon request for `txt2img` or `img2img` (steps capped at 50, sides at most 1536).
    pub fn to_request(&self) -> Result<Request, WireError> {
        if self.prompt.trim().is_empty() {
            return Err(WireError::Missing { field: "prompt" });
        }
        let seed = u64::try_from(self.seed).map_err(|_| WireError::Invalid {
            field: "seed",
            reason: format!("{} is negative", self.seed),
        })?;
        let steps = self
            .param_u64("num_inference_steps", 30)?
            .clamp(1, MAX_STEPS) as u32;
        let cfg_scale = self.param_f32("guidance_scale", 7.0)?;
        match self.pipeline_type.as_str() {
            "txt2img" => {
                let width = self.param_u64("width", 1024)?;
                let height = self.param_u64("height", 1024)?;
                if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
                    return Err(WireError::Invalid {
                        field: "pipeline_params",
                        reason: format!(
                            "{width}x{height}; width and height must be 1..={MAX_SIDE}"
                        ),
                    });
                }
                Ok(Request::TextToImage(ImageRequest {
                    prompt: self.prompt.clone(),
                    width: width as u32,
                    height: height as u32,
                    steps,
                    cfg_scale,
                    seed,
                }))
            }
            "img2img" => {
                if self.conditional_image.is_empty() {
                    return Err(WireError::Missing {
                        field: "conditional_image",
                    });
                }
                let init_image = Image::from_base64(&self.conditional_image)?;
                Ok(Request::ImageToImage(ImageToImageRequest {
                    prompt: self.prompt.clone(),
                    init_image,
                    strength: self.param_f32("strength", 0.75)?.clamp(0.0, 1.0),
                    steps,
                    cfg_scale,
                    seed,
                }))
            }
            other => Err(WireError::Invalid {
                field: "pipeline_type",
                reason: format!("{other:?} is not served by Salon; use txt2img or img2img"),
            }),
        }
    }

    /// Puts the image in `image` as base64 PNG.
    pub fn fill(&mut self, response: &Response) -> Result<(), WireError> {
        match response {
            Response::Image { image } => {
                self.image = image.to_base64_png()?;
                Ok(())
            }
            _ => Err(WireError::WrongResponse {
                synapse: Self::NAME,
                expected: "image",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txt2img_reads_diffusers_params_and_caps_steps() {
        let mut s = ImageGenerating {
            prompt: "a red fox".into(),
            seed: 42,
            ..Default::default()
        };
        s.pipeline_params
            .insert("num_inference_steps".into(), 80.into());
        s.pipeline_params.insert("width".into(), 768.into());
        let Request::TextToImage(r) = s.to_request().unwrap() else {
            panic!("wrong task")
        };
        assert_eq!((r.steps, r.width, r.height, r.seed), (50, 768, 1024, 42));
        s.pipeline_params.insert("height".into(), 4096.into());
        assert!(s.to_request().is_err());
        let c = ImageGenerating {
            prompt: "x".into(),
            pipeline_type: "controlnet".into(),
            ..Default::default()
        };
        assert!(matches!(
            c.to_request(),
            Err(WireError::Invalid {
                field: "pipeline_type",
                ..
            })
        ));
    }

    #[test]
    fn img2img_decodes_the_conditional_image_and_fill_writes_png() {
        let img = Image::filled(4, 4, [9, 9, 9]);
        let mut s = ImageGenerating {
            prompt: "x".into(),
            pipeline_type: "img2img".into(),
            conditional_image: img.to_base64_png().unwrap(),
            ..Default::default()
        };
        assert!(matches!(s.to_request().unwrap(), Request::ImageToImage(_)));
        s.fill(&Response::Image { image: img.clone() }).unwrap();
        assert_eq!(Image::from_base64(&s.image).unwrap(), img);
    }
}
