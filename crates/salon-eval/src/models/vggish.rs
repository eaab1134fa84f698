//! VGGish on candle, in torchvggish's checkpoint layout (`features.{0,3,6,8,11,13}` 3x3 convs,
//! `embeddings.{0,2,4}` linears): log-mel examples [b, 96, 64] in, 128-d embeddings out, with PCA
//! and the final ReLU off as the FAD peers use it.

use super::fused::{self, Act, Linear};
use super::vggish_input::{Examples, NUM_BANDS, NUM_FRAMES};
use super::{CandleContext, ModelError};
use crate::fad::Embeddings;
use candle_core::{DType, Device, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, Module, VarBuilder};
use std::path::Path;

/// Conv widths, `M` = 2x2 max-pool (VGG configuration "A" as VGGish trims it).
const LAYERS: [Option<usize>; 10] = [
    Some(64),
    None,
    Some(128),
    None,
    Some(256),
    Some(256),
    None,
    Some(512),
    Some(512),
    None,
];
/// Embedding size.
pub const EMBEDDING_DIM: usize = 128;

/// The VGGish network.
#[derive(Clone, Debug)]
pub struct Vggish {
    /// Convs (None = max-pool), in order.
    layers: Vec<Option<Conv2d>>,
    fc: [Linear; 3],
    final_relu: bool,
}

impl Vggish {
    /// Builds VGGish from tensors named as torchvggish's state dict; final ReLU off.
    pub fn new(vb: VarBuilder) -> Result<Self, ModelError> {
        let cfg = Conv2dConfig {
            padding: 1,
            ..Default::default()
        };
        let mut layers = Vec::new();
        let (mut index, mut channels) = (0usize, 1usize);
        for layer in LAYERS {
            match layer {
                Some(out) => {
                    let name = format!("features.{index}");
                    let conv = candle_nn::conv2d(channels, out, 3, cfg, vb.pp(&name))
                        .context(&format!("loading {name}"))?;
                    layers.push(Some(conv));
                    channels = out;
                    index += 2; // conv, ReLU
                }
                None => {
                    layers.push(None);
                    index += 1;
                }
            }
        }
        let fc = |i: usize, inp: usize, out: usize| {
            fused::linear(inp, out, vb.pp(format!("embeddings.{i}")))
                .context(&format!("loading embeddings.{i}"))
        };
        Ok(Self {
            layers,
            fc: [
                fc(0, 512 * 4 * 6, 4096)?,
                fc(2, 4096, 4096)?,
                fc(4, 4096, EMBEDDING_DIM)?,
            ],
            final_relu: false,
        })
    }

    /// Loads a checkpoint: torchvggish's `.pth` (e.g. vggish-10086976.pth) or a `.safetensors`
    /// file with the same tensor names.
    pub fn load(path: &Path, device: &Device) -> Result<Self, ModelError> {
        let what = format!("reading {}", path.display());
        let vb = if path.extension().is_some_and(|e| e == "safetensors") {
            // SAFETY: the file is mapped read-only and not modified while the model lives.
            unsafe { VarBuilder::from_mmaped_safetensors(&[path], DType::F32, device) }
                .context(&what)?
        } else {
            VarBuilder::from_pth(path, DType::F32, device).context(&what)?
        };
        Self::new(vb)
    }

    /// Keeps (true) or drops (false, the default and the peers' choice) the final ReLU.
    pub fn with_final_relu(mut self, on: bool) -> Self {
        self.final_relu = on;
        self
    }

    /// Embeddings [b, 128] of log-mel examples [b, 96, 64] or [b, 1, 96, 64].
    pub fn forward(&self, examples: &Tensor) -> Result<Tensor, ModelError> {
        let run = || -> candle_core::Result<Tensor> {
            let mut x = if examples.rank() == 3 {
                examples.unsqueeze(1)?
            } else {
                examples.clone()
            };
            for layer in &self.layers {
                x = match layer {
                    Some(conv) => conv.forward(&x)?.relu()?,
                    None => x.max_pool2d(2)?,
                };
            }
            // NCHW -> NHWC before flattening, as TensorFlow's VGGish (and torchvggish) do.
            let b = x.dim(0)?;
            let mut x = x.permute((0, 2, 3, 1))?.contiguous()?.reshape((b, ()))?;
            x = self.fc[0].forward_act(&x, Some(Act::Relu))?;
            x = self.fc[1].forward_act(&x, Some(Act::Relu))?;
            x = self.fc[2].forward(&x)?;
            if self.final_relu {
                x = x.relu()?;
            }
            Ok(x)
        };
        run().context("VGGish forward")
    }

    /// Embeddings of all `examples`, in batches of `batch` on `device`.
    pub fn embed(
        &self,
        examples: &Examples,
        device: &Device,
        batch: usize,
    ) -> Result<Embeddings, ModelError> {
        let per = NUM_FRAMES * NUM_BANDS;
        let mut data = Vec::with_capacity(examples.count * EMBEDDING_DIM);
        for start in (0..examples.count).step_by(batch.max(1)) {
            let n = batch.max(1).min(examples.count - start);
            let chunk = &examples.data[start * per..(start + n) * per];
            let x = Tensor::from_slice(chunk, (n, NUM_FRAMES, NUM_BANDS), device)
                .context("uploading examples")?;
            let e = self.forward(&x)?;
            let rows: Vec<Vec<f32>> = e.to_vec2().context("downloading embeddings")?;
            data.extend(rows.into_iter().flatten().map(|v| v as f64));
        }
        Ok(Embeddings {
            rows: examples.count,
            dim: EMBEDDING_DIM,
            data,
        })
    }
}
