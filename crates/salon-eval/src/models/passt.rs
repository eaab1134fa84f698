//! PaSST, the AudioSet classifier of audiocraft's KLD metric, on candle in hear21passt's layout
//! (`passt_s_swa_p16_128_ap476`: 16x16 patches at stride 10, separate frequency and time position
//! embeddings, cls + dist tokens, ViT blocks, head = LayerNorm + Linear on the mean of the two tokens).

use super::fused::{self, Act, Linear};
use super::passt_input::{self, LogMel, MEL_BINS};
use super::{CandleContext, ModelError};
use candle_core::{DType, Device, Module, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, LayerNorm, VarBuilder};
use std::collections::BTreeMap;
use std::path::Path;

/// Sizes of a PaSST network; the default is the released `passt-s-f128-p16-s10-ap.476-swa.pt`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct PasstConfig {
    /// Token width (768).
    pub embed_dim: usize,
    /// Transformer blocks (12).
    pub depth: usize,
    /// Attention heads (12).
    pub num_heads: usize,
    /// MLP hidden width as a multiple of `embed_dim` (4).
    pub mlp_ratio: usize,
    /// Output classes (527 AudioSet labels).
    pub num_classes: usize,
    /// Mel bands of the input (128; the frontend makes 128).
    pub mel_bins: usize,
    /// Input frames the time position embedding was sized for (998: 99 patch columns).
    pub input_frames: usize,
    /// Square patch side (16).
    pub patch_size: usize,
    /// Patch stride in both directions (10).
    pub stride: usize,
}

impl Default for PasstConfig {
    fn default() -> Self {
        Self {
            embed_dim: 768,
            depth: 12,
            num_heads: 12,
            mlp_ratio: 4,
            num_classes: 527,
            mel_bins: 128,
            input_frames: 998,
            patch_size: 16,
            stride: 10,
        }
    }
}

impl PasstConfig {
    /// Patch rows (frequency) of the position embedding: mel_bins / stride, as hear21passt sizes it.
    pub fn freq_patches(&self) -> usize {
        self.mel_bins / self.stride
    }

    /// Patch columns (time) of the position embedding: input_frames / stride.
    pub fn time_patches(&self) -> usize {
        self.input_frames / self.stride
    }
}

#[derive(Clone, Debug)]
struct Block {
    norm1: LayerNorm,
    qkv: Linear,
    proj: Linear,
    norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    heads: usize,
}

impl Block {
    fn new(cfg: &PasstConfig, vb: VarBuilder) -> candle_core::Result<Self> {
        let d = cfg.embed_dim;
        let hidden = d * cfg.mlp_ratio;
        // The attention's 1/sqrt(head_dim) is folded into the query rows of the qkv projection
        // (exact for the released 64-wide heads: a power of two), so no pass scales q.
        let qkv = fused::linear(d, 3 * d, vb.pp("attn.qkv"))?;
        let scale = ((d / cfg.num_heads) as f64).powf(-0.5);
        let fold = |t: &Tensor| -> candle_core::Result<Tensor> {
            Tensor::cat(&[(t.narrow(0, 0, d)? * scale)?, t.narrow(0, d, 2 * d)?], 0)
        };
        let qkv = Linear::new(fold(qkv.weight())?, qkv.bias().map(fold).transpose()?);
        Ok(Self {
            norm1: candle_nn::layer_norm(d, 1e-6, vb.pp("norm1"))?,
            qkv,
            proj: fused::linear(d, d, vb.pp("attn.proj"))?,
            norm2: candle_nn::layer_norm(d, 1e-6, vb.pp("norm2"))?,
            fc1: fused::linear(d, hidden, vb.pp("mlp.fc1"))?,
            fc2: fused::linear(hidden, d, vb.pp("mlp.fc2"))?,
            heads: cfg.num_heads,
        })
    }

    fn attention(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let (b, n, c) = x.dims3()?;
        let (q, k, v) = fused::split_qkv(&self.qkv.forward(x)?, self.heads)?;
        let att = fused::softmax_last_dim(&q.matmul(&k.t()?)?)?;
        let y = fused::transpose12(&att.matmul(&v)?)?.reshape((b, n, c))?;
        self.proj.forward(&y)
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        let x = (x + self.attention(&self.norm1.forward(x)?)?)?;
        let h = self
            .fc1
            .forward_act(&self.norm2.forward(&x)?, Some(Act::Gelu))?;
        x + self.fc2.forward(&h)?
    }
}

/// One audiocraft segment's (generated, reference) class probabilities, widened to f64.
pub type SegmentPair = (Vec<f64>, Vec<f64>);

/// The PaSST classifier, loaded once and reused for any number of clips.
#[derive(Clone, Debug)]
pub struct Passt {
    config: PasstConfig,
    patch_embed: Conv2d,
    /// [1, D, freq_patches, 1].
    freq_pos: Tensor,
    /// [1, D, 1, time_patches].
    time_pos: Tensor,
    /// [1, 2, D]: cls and dist tokens with their position embeddings added.
    tokens: Tensor,
    blocks: Vec<Block>,
    norm: LayerNorm,
    head_norm: LayerNorm,
    head: Linear,
    device: Device,
    dtype: DType,
    max_batch: usize,
}

impl Passt {
    /// Builds PaSST from tensors named as hear21passt's state dict (`patch_embed.proj.weight`,
    /// `blocks.{i}.attn.qkv.weight`, `head.1.weight`, ...). A missing tensor is an error naming it.
    pub fn new(vb: VarBuilder, config: &PasstConfig) -> Result<Self, ModelError> {
        let cfg = config;
        let d = cfg.embed_dim;
        if cfg.num_heads == 0 || !d.is_multiple_of(cfg.num_heads) || cfg.stride == 0 {
            return Err(ModelError::Candle {
                context: "PaSST config".into(),
                source: candle_core::Error::Msg(format!(
                    "embed_dim {d} must be a multiple of num_heads {} and stride non-zero",
                    cfg.num_heads
                )),
            });
        }
        let what = |name: &str| format!("loading PaSST {name}");
        let conv = Conv2dConfig {
            stride: cfg.stride,
            ..Default::default()
        };
        let patch_embed = candle_nn::conv2d(1, d, cfg.patch_size, conv, vb.pp("patch_embed.proj"))
            .context(&what("patch_embed.proj"))?;
        let get = |name: &str, shape: &[usize]| {
            vb.get(shape, name)
                .context(&format!("loading PaSST {name} of shape {shape:?}"))
        };
        let freq_pos = get("freq_new_pos_embed", &[1, d, cfg.freq_patches(), 1])?;
        let time_pos = get("time_new_pos_embed", &[1, d, 1, cfg.time_patches()])?;
        let cls = get("cls_token", &[1, 1, d])?;
        let dist = get("dist_token", &[1, 1, d])?;
        let pos = get("new_pos_embed", &[1, 2, d])?;
        let tokens = Tensor::cat(&[cls, dist], 1)
            .and_then(|t| t + pos)
            .context("PaSST tokens")?;
        let blocks = (0..cfg.depth)
            .map(|i| {
                Block::new(cfg, vb.pp(format!("blocks.{i}")))
                    .context(&format!("loading PaSST blocks.{i}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let norm = candle_nn::layer_norm(d, 1e-6, vb.pp("norm")).context(&what("norm"))?;
        let head_norm = candle_nn::layer_norm(d, 1e-5, vb.pp("head.0")).context(&what("head.0"))?;
        let head = fused::linear(d, cfg.num_classes, vb.pp("head.1")).context(&what("head.1"))?;
        Ok(Self {
            config: cfg.clone(),
            patch_embed,
            freq_pos,
            time_pos,
            tokens,
            blocks,
            norm,
            head_norm,
            head,
            device: vb.device().clone(),
            dtype: vb.dtype(),
            max_batch: 16,
        })
    }

    /// Loads the released network (default [`PasstConfig`]) in f32 from a PyTorch checkpoint
    /// (`passt-s-f128-p16-s10-ap.476-swa.pt`) or a `.safetensors` file with the same names.
    pub fn load(path: &Path, device: &Device) -> Result<Self, ModelError> {
        Self::load_with_config(path, &PasstConfig::default(), DType::F32, device)
    }

    /// Loads a checkpoint of any size and computes in `dtype` (F32, or F16/BF16 on a GPU). The
    /// state dict may sit at the top level, under `model`, or under `net.` (a hear21passt wrapper).
    pub fn load_with_config(
        path: &Path,
        config: &PasstConfig,
        dtype: DType,
        device: &Device,
    ) -> Result<Self, ModelError> {
        let what = format!("reading {}", path.display());
        let vb = if path.extension().is_some_and(|e| e == "safetensors") {
            // SAFETY: the file is mapped read-only and not modified while the model lives.
            unsafe { VarBuilder::from_mmaped_safetensors(&[path], dtype, device) }.context(&what)?
        } else {
            let vb = VarBuilder::from_pth(path, dtype, device).context(&what)?;
            if vb.contains_tensor("cls_token") || vb.contains_tensor("net.cls_token") {
                vb
            } else {
                // A training checkpoint ({"model": state_dict, ...}); otherwise keep the first
                // reading so that the missing tensor is what the error names.
                VarBuilder::from_pth_with_state(path, dtype, "model", device).unwrap_or(vb)
            }
        };
        let vb = if !vb.contains_tensor("cls_token") && vb.contains_tensor("net.cls_token") {
            vb.pp("net")
        } else {
            vb
        };
        Self::new(vb, config)
    }

    /// Segments per forward pass at most (default 16; attention memory grows with it).
    pub fn with_max_batch(mut self, segments: usize) -> Self {
        self.max_batch = segments.max(1);
        self
    }

    /// The sizes this network was built with.
    pub fn config(&self) -> &PasstConfig {
        &self.config
    }

    /// Logits [b, num_classes] (f32) of normalised log-mels [b, mel_bins, frames] or
    /// [b, 1, mel_bins, frames]; frames may be fewer than `input_frames` (the time position
    /// embedding is cut, as hear21passt does) but not more.
    pub fn forward(&self, mels: &Tensor) -> Result<Tensor, ModelError> {
        let run = || -> candle_core::Result<Tensor> {
            let x = if mels.rank() == 3 {
                mels.unsqueeze(1)?
            } else {
                mels.clone()
            };
            let x = self.patch_embed.forward(&x.to_dtype(self.dtype)?)?;
            let (b, d, f, t) = x.dims4()?;
            let (fp, tp) = (self.config.freq_patches(), self.config.time_patches());
            if f != fp || t > tp {
                let c = &self.config;
                candle_core::bail!(
                    "the input makes a {f} x {t} patch grid; this PaSST takes {fp} rows and at \
                     most {tp} columns ({} mel bins, at most {} frames): cut clips into 10 s \
                     segments",
                    c.mel_bins,
                    tp.saturating_sub(1) * c.stride + c.patch_size + c.stride - 1
                );
            }
            let x = x
                .broadcast_add(&self.time_pos.narrow(3, 0, t)?)?
                .broadcast_add(&self.freq_pos)?;
            let x = x.flatten_from(2)?.transpose(1, 2)?;
            let tokens = self.tokens.broadcast_as((b, 2, d))?;
            let mut x = Tensor::cat(&[&tokens, &x], 1)?;
            for block in &self.blocks {
                x = block.forward(&x)?;
            }
            let x = self.norm.forward(&x)?;
            let features = ((x.get_on_dim(1, 0)? + x.get_on_dim(1, 1)?)? * 0.5)?;
            let logits = self.head.forward(&self.head_norm.forward(&features)?)?;
            logits.to_dtype(DType::F32)
        };
        run().context("PaSST forward")
    }

    /// Logits of log-mel segments of any lengths, in the order given: segments of equal length
    /// share forward passes of up to `max_batch`.
    pub fn logits(&self, mels: &[LogMel]) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut by_frames: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for (i, m) in mels.iter().enumerate() {
            by_frames.entry(m.frames).or_default().push(i);
        }
        let passes: Vec<(usize, &[usize])> = by_frames
            .iter()
            .flat_map(|(&frames, indices)| indices.chunks(self.max_batch).map(move |c| (frames, c)))
            .collect();
        // Passes are queued from separate threads: each one's CPU work (packing, op set-up)
        // overlaps the GPU's work on the others.
        use rayon::prelude::*;
        let results: Vec<Vec<Vec<f32>>> = passes
            .par_iter()
            .map(|&(frames, chunk)| {
                let mut data = Vec::with_capacity(chunk.len() * MEL_BINS * frames);
                for &i in chunk {
                    data.extend_from_slice(&mels[i].data);
                }
                let x = Tensor::from_vec(data, (chunk.len(), MEL_BINS, frames), &self.device)
                    .context("uploading log-mels")?;
                self.forward(&x)?.to_vec2().context("downloading logits")
            })
            .collect::<Result<_, _>>()?;
        let mut out = vec![Vec::new(); mels.len()];
        for ((_, chunk), rows) in passes.iter().zip(results) {
            for (&i, row) in chunk.iter().zip(rows) {
                out[i] = row;
            }
        }
        Ok(out)
    }

    /// Softmax probabilities of every audiocraft segment of each 32 kHz mono clip (10 s pieces,
    /// the last unpadded, pieces of at most 0.15 s dropped), all clips in shared forward passes.
    /// audiocraft's KLD pairs these rows between generated and reference clip and averages.
    pub fn segment_probabilities_batch(
        &self,
        clips: &[&[f32]],
    ) -> Result<Vec<Vec<Vec<f32>>>, ModelError> {
        let mut all_segments = Vec::new();
        let mut counts = Vec::with_capacity(clips.len());
        for (c, clip) in clips.iter().enumerate() {
            let segments = passt_input::segments(clip);
            if segments.is_empty() {
                return Err(ModelError::Candle {
                    context: format!("PaSST input (clip {c})"),
                    source: candle_core::Error::Msg(format!(
                        "{} samples at 32 kHz: no segment longer than 0.15 s to classify; \
                         give a longer clip (resampled to 32 kHz)",
                        clip.len()
                    )),
                });
            }
            counts.push(segments.len());
            // Segments over MIN_SEGMENT_SAMPLES are always long enough for the STFT.
            all_segments.extend(segments);
        }
        // The log-mels are CPU work: one segment per thread.
        let mels: Vec<LogMel> = {
            use rayon::prelude::*;
            all_segments
                .into_par_iter()
                .filter_map(passt_input::log_mel)
                .collect()
        };
        let logits = self.logits(&mels)?;
        let mut rows = logits.into_iter().map(|l| softmax(&l));
        Ok(counts
            .into_iter()
            .map(|n| rows.by_ref().take(n).collect())
            .collect())
    }

    /// Softmax probabilities of every audiocraft segment of one 32 kHz mono clip.
    pub fn segment_probabilities(&self, wav32k: &[f32]) -> Result<Vec<Vec<f32>>, ModelError> {
        let mut all = self.segment_probabilities_batch(&[wav32k])?;
        Ok(all.remove(0))
    }

    /// BittAudio's KLD input for (generated, reference) pairs of 32 kHz mono clips: each pair cut
    /// to the shorter length, both cut into audiocraft segments, everything in shared forward
    /// passes; per pair, the (generated, reference) probability rows segment by segment, ready for
    /// [`crate::kld::mean_kld`] (pred = generated, target = reference), which then gives
    /// audiocraft's `kld`, `kld_qp` and `kld_both` for the pair.
    pub fn kld_pairs_batch(
        &self,
        pairs: &[(&[f32], &[f32])],
    ) -> Result<Vec<Vec<SegmentPair>>, ModelError> {
        let mut clips = Vec::with_capacity(2 * pairs.len());
        for (generated, reference) in pairs {
            let n = generated.len().min(reference.len());
            clips.push(&generated[..n]);
            clips.push(&reference[..n]);
        }
        let rows = self.segment_probabilities_batch(&clips)?;
        let widen = |r: Vec<f32>| r.into_iter().map(f64::from).collect::<Vec<f64>>();
        let mut rows = rows.into_iter();
        let mut out = Vec::with_capacity(pairs.len());
        while let (Some(generated), Some(reference)) = (rows.next(), rows.next()) {
            out.push(
                generated
                    .into_iter()
                    .zip(reference)
                    .map(|(g, r)| (widen(g), widen(r)))
                    .collect(),
            );
        }
        Ok(out)
    }

    /// [`Self::kld_pairs_batch`] for one (generated, reference) pair.
    pub fn kld_pairs(
        &self,
        generated: &[f32],
        reference: &[f32],
    ) -> Result<Vec<SegmentPair>, ModelError> {
        let mut all = self.kld_pairs_batch(&[(generated, reference)])?;
        Ok(all.remove(0))
    }

    /// The class distribution of each 32 kHz mono clip: the mean over its segments of the
    /// per-segment softmax, all clips in shared forward passes.
    pub fn probabilities_batch(&self, clips: &[&[f32]]) -> Result<Vec<Vec<f32>>, ModelError> {
        Ok(self
            .segment_probabilities_batch(clips)?
            .into_iter()
            .map(|segments| mean_rows(&segments))
            .collect())
    }

    /// The class distribution (num_classes values summing to 1) of one 32 kHz mono clip: the mean
    /// over its 10 s segments of the softmax.
    pub fn probabilities(&self, wav32k: &[f32]) -> Result<Vec<f32>, ModelError> {
        let mut all = self.probabilities_batch(&[wav32k])?;
        Ok(all.remove(0))
    }
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
    let exp: Vec<f64> = logits.iter().map(|&v| (v as f64 - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.into_iter().map(|e| (e / sum) as f32).collect()
}

fn mean_rows(rows: &[Vec<f32>]) -> Vec<f32> {
    let n = rows.first().map_or(0, Vec::len);
    (0..n)
        .map(|k| (rows.iter().map(|r| r[k] as f64).sum::<f64>() / rows.len() as f64) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_and_mean_are_distributions() {
        let p = softmax(&[1.0, 2.0, 3.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p[2] > p[1] && p[1] > p[0]);
        let m = mean_rows(&[vec![1.0, 0.0], vec![0.0, 1.0]]);
        assert_eq!(m, vec![0.5, 0.5]);
    }

    #[test]
    fn default_config_is_the_released_grid() {
        let c = PasstConfig::default();
        assert_eq!((c.freq_patches(), c.time_patches()), (12, 99));
        // A 10 s segment: 1000 frames -> (1000 - 16) / 10 + 1 = 99 columns, as the embedding.
        assert_eq!(
            (passt_input::frame_count(passt_input::SEGMENT_SAMPLES) - c.patch_size) / c.stride + 1,
            99
        );
    }
}
