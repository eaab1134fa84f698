//! CLAP's HTSAT audio tower on candle, in transformers' `ClapAudioModel` layout (unfused): batch
//! norm over mel bins, bicubic stretch to the Swin image, patch embedding, shifted-window Swin
//! stages with relative position bias and patch merging, final norm and mean pooling.

use super::fused::{self, Act, Linear};
use candle_core::{DType, Device, Module, Result, Tensor};
use candle_nn::{Conv2d, Conv2dConfig, LayerNorm, VarBuilder};
use serde::Deserialize;

/// An int or a pair, as transformers' configs write patch sizes.
#[derive(Clone, Debug, Deserialize)]
#[serde(untagged)]
pub enum OneOrPair {
    /// The same value on both axes.
    One(usize),
    /// Per axis.
    Pair(Vec<usize>),
}

impl OneOrPair {
    /// The value if both axes agree.
    fn square(&self) -> Option<usize> {
        match self {
            Self::One(v) => Some(*v),
            Self::Pair(v) if v.len() == 2 && v[0] == v[1] => Some(v[0]),
            Self::Pair(_) => None,
        }
    }
}

/// `audio_config` of a `ClapModel` checkpoint; defaults are transformers' `ClapAudioConfig`'s.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct ClapAudioConfig {
    /// Swin window side.
    pub window_size: usize,
    /// Mel bins of the input features.
    pub num_mel_bins: usize,
    /// Side of the square Swin input image.
    pub spec_size: usize,
    /// Activation of the Swin MLPs.
    pub hidden_act: String,
    /// Patch embedding kernel.
    pub patch_size: OneOrPair,
    /// Patch embedding stride.
    pub patch_stride: OneOrPair,
    /// Width after the last stage.
    pub hidden_size: usize,
    /// Blocks per stage.
    pub depths: Vec<usize>,
    /// Heads per stage.
    pub num_attention_heads: Vec<usize>,
    /// Fused (4-channel) input; unsupported here.
    pub enable_fusion: bool,
    /// Input channels of the patch embedding.
    pub patch_embed_input_channels: usize,
    /// Width of the first stage.
    pub patch_embeds_hidden_size: usize,
    /// LayerNorm after the patch embedding.
    pub enable_patch_layer_norm: bool,
    /// Biases on q, k, v.
    pub qkv_bias: bool,
    /// MLP width over block width.
    pub mlp_ratio: f64,
    /// LayerNorm epsilon inside the Swin blocks.
    pub layer_norm_eps: f64,
}

impl Default for ClapAudioConfig {
    fn default() -> Self {
        Self {
            window_size: 8,
            num_mel_bins: 64,
            spec_size: 256,
            hidden_act: "gelu".into(),
            patch_size: OneOrPair::One(4),
            patch_stride: OneOrPair::Pair(vec![4, 4]),
            hidden_size: 768,
            depths: vec![2, 2, 6, 2],
            num_attention_heads: vec![4, 8, 16, 32],
            enable_fusion: false,
            patch_embed_input_channels: 1,
            patch_embeds_hidden_size: 96,
            enable_patch_layer_norm: true,
            qkv_bias: true,
            mlp_ratio: 4.0,
            layer_norm_eps: 1e-5,
        }
    }
}

impl ClapAudioConfig {
    /// Width after the last stage (the pooled output's size).
    pub fn num_features(&self) -> usize {
        self.patch_embeds_hidden_size << self.depths.len().saturating_sub(1)
    }

    /// Why this config cannot be run here, if it cannot.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.enable_fusion {
            return Err(
                "enable_fusion checkpoints (e.g. laion/clap-htsat-fused) are not supported; \
                        use an unfused one (laion/larger_clap_music, laion/clap-htsat-unfused)"
                    .into(),
            );
        }
        if self.patch_embed_input_channels != 1 {
            return Err("patch_embed_input_channels must be 1".into());
        }
        let (Some(ps), Some(st)) = (self.patch_size.square(), self.patch_stride.square()) else {
            return Err("only square patch_size and patch_stride are supported".into());
        };
        if st == 0 || ps < st || self.num_mel_bins == 0 || self.spec_size < self.num_mel_bins {
            return Err(format!(
                "patch_size {ps}, patch_stride {st}, spec_size {}, num_mel_bins {} do not fit",
                self.spec_size, self.num_mel_bins
            ));
        }
        let ratio = self.spec_size / self.num_mel_bins;
        if self.spec_size / ratio != self.num_mel_bins {
            return Err("spec_size / (spec_size / num_mel_bins) must equal num_mel_bins".into());
        }
        if self.depths.is_empty() || self.depths.len() != self.num_attention_heads.len() {
            return Err("depths and num_attention_heads must be non-empty and equally long".into());
        }
        if self.num_features() != self.hidden_size {
            return Err(format!(
                "hidden_size {} must equal patch_embeds_hidden_size * 2^(stages - 1) = {}",
                self.hidden_size,
                self.num_features()
            ));
        }
        let grid = self.spec_size / st;
        for (i, &heads) in self.num_attention_heads.iter().enumerate() {
            let dim = self.patch_embeds_hidden_size << i;
            if heads == 0 || !dim.is_multiple_of(heads) {
                return Err(format!(
                    "stage {i}: width {dim} not divisible by {heads} heads"
                ));
            }
            let res = grid >> i;
            if res < self.window_size {
                return Err(format!(
                    "stage {i} is {res}x{res} patches, smaller than window_size {}",
                    self.window_size
                ));
            }
        }
        Act::from_name(&self.hidden_act)?;
        Ok(())
    }
}

/// PyTorch's bicubic (A = -0.75, align_corners=True, clamped borders) resampling of `n_in` points
/// to `n_out`, as an `[n_out, n_in]` matrix.
fn bicubic_matrix(n_in: usize, n_out: usize) -> Vec<f32> {
    const A: f64 = -0.75;
    let conv1 = |x: f64| ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0;
    let conv2 = |x: f64| ((A * x - 5.0 * A) * x + 8.0 * A) * x - 4.0 * A;
    let scale = if n_out > 1 {
        (n_in as f32 - 1.0) / (n_out as f32 - 1.0)
    } else {
        0.0
    };
    let mut m = vec![0.0f32; n_out * n_in];
    for o in 0..n_out {
        let real = scale * o as f32;
        let idx = real.floor();
        let t = (real - idx) as f64;
        let w = [conv2(t + 1.0), conv1(t), conv1(1.0 - t), conv2(2.0 - t)];
        for (k, wk) in w.iter().enumerate() {
            let i = (idx as isize - 1 + k as isize).clamp(0, n_in as isize - 1) as usize;
            m[o * n_in + i] += *wk as f32;
        }
    }
    m
}

/// Swin window attention with its relative position bias gathered once.
#[derive(Clone, Debug)]
struct WindowAttention {
    query: Linear,
    key: Linear,
    value: Linear,
    dense: Linear,
    heads: usize,
    /// `[1, heads, N, N]`.
    bias: Tensor,
}

impl WindowAttention {
    fn new(
        dim: usize,
        heads: usize,
        window: usize,
        qkv_bias: bool,
        vb: VarBuilder,
    ) -> Result<Self> {
        let vs = vb.pp("self");
        let lin = |name: &str| {
            if qkv_bias {
                fused::linear(dim, dim, vs.pp(name))
            } else {
                fused::linear_no_bias(dim, dim, vs.pp(name))
            }
        };
        let side = 2 * window - 1;
        let table = vs.get((side * side, heads), "relative_position_bias_table")?;
        let n = window * window;
        let mut index = Vec::with_capacity(n * n);
        for i in 0..n {
            for j in 0..n {
                let dh = (i / window) as isize - (j / window) as isize + window as isize - 1;
                let dw = (i % window) as isize - (j % window) as isize + window as isize - 1;
                index.push((dh * side as isize + dw) as u32);
            }
        }
        let index = Tensor::from_vec(index, n * n, table.device())?;
        let bias = table
            .index_select(&index, 0)?
            .reshape((n, n, heads))?
            .permute((2, 0, 1))?
            .contiguous()?
            .unsqueeze(0)?;
        Ok(Self {
            query: lin("query")?,
            key: lin("key")?,
            value: lin("value")?,
            dense: fused::linear(dim, dim, vb.pp("output").pp("dense"))?,
            heads,
            bias,
        })
    }

    /// `x`: `[batch * windows, N, C]`; `mask`: `[windows, N, N]` additive.
    fn forward(&self, x: &Tensor, mask: Option<&Tensor>) -> Result<Tensor> {
        let (bw, n, c) = x.dims3()?;
        let d = c / self.heads;
        let split = |t: Tensor| fused::transpose12(&t.reshape((bw, n, self.heads, d))?);
        let q = split(self.query.forward(x)?)?;
        let k = split(self.key.forward(x)?)?;
        let v = split(self.value.forward(x)?)?;
        let scores = (q.matmul(&k.t()?)? * (1.0 / (d as f64).sqrt()))?;
        let mut scores = scores.broadcast_add(&self.bias)?;
        if let Some(mask) = mask {
            let nw = mask.dim(0)?;
            scores = scores
                .reshape((bw / nw, nw, self.heads, n, n))?
                .broadcast_add(&mask.unsqueeze(1)?.unsqueeze(0)?)?
                .reshape((bw, self.heads, n, n))?;
        }
        let probs = fused::softmax_last_dim(&scores)?;
        let ctx = fused::transpose12(&probs.matmul(&v)?)?.reshape((bw, n, c))?;
        self.dense.forward(&ctx)
    }
}

/// One Swin block (window or shifted-window attention, then MLP).
#[derive(Clone, Debug)]
struct SwinBlock {
    norm_before: LayerNorm,
    attention: WindowAttention,
    norm_after: LayerNorm,
    intermediate: Linear,
    output: Linear,
    act: Act,
    window: usize,
    shift: usize,
    /// `(height, width)` in patches.
    res: (usize, usize),
    /// Cyclic-shift mask `[windows, N, N]` when `shift > 0`.
    mask: Option<Tensor>,
}

/// The shifted-window attention mask: -100 between tokens from different cyclic-shift regions.
fn shift_mask(h: usize, w: usize, window: usize, shift: usize, dev: &Device) -> Result<Tensor> {
    let region = |i: usize, len: usize| (i >= len - window) as usize + (i >= len - shift) as usize;
    let (nh, nw) = (h / window, w / window);
    let n = window * window;
    let mut data = Vec::with_capacity(nh * nw * n * n);
    for wy in 0..nh {
        for wx in 0..nw {
            let ids: Vec<usize> = (0..n)
                .map(|k| {
                    let (y, x) = (wy * window + k / window, wx * window + k % window);
                    region(y, h) * 3 + region(x, w)
                })
                .collect();
            for a in &ids {
                for b in &ids {
                    data.push(if a == b { 0.0f32 } else { -100.0 });
                }
            }
        }
    }
    Tensor::from_vec(data, (nh * nw, n, n), dev)
}

impl SwinBlock {
    #[allow(clippy::too_many_arguments)]
    fn new(
        cfg: &ClapAudioConfig,
        dim: usize,
        heads: usize,
        res: (usize, usize),
        shift: usize,
        act: Act,
        vb: VarBuilder,
    ) -> Result<Self> {
        let (mut window, mut shift) = (cfg.window_size, shift);
        if res.0.min(res.1) <= window {
            shift = 0;
            window = res.0.min(res.1);
        }
        let ln = |name: &str| candle_nn::layer_norm(dim, cfg.layer_norm_eps, vb.pp(name));
        let hidden = (cfg.mlp_ratio * dim as f64) as usize;
        let pad = |v: usize| v.div_ceil(window) * window;
        let mask = if shift > 0 {
            Some(shift_mask(
                pad(res.0),
                pad(res.1),
                window,
                shift,
                vb.device(),
            )?)
        } else {
            None
        };
        Ok(Self {
            norm_before: ln("layernorm_before")?,
            attention: WindowAttention::new(dim, heads, window, cfg.qkv_bias, vb.pp("attention"))?,
            norm_after: ln("layernorm_after")?,
            intermediate: fused::linear(dim, hidden, vb.pp("intermediate").pp("dense"))?,
            output: fused::linear(hidden, dim, vb.pp("output").pp("dense"))?,
            act,
            window,
            shift,
            res,
            mask,
        })
    }

    /// `x`: `[batch, H * W, C]`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, _, c) = x.dims3()?;
        let (h, w) = self.res;
        let ws = self.window;
        let (hp, wp) = (h.div_ceil(ws) * ws, w.div_ceil(ws) * ws);
        let mut t = self.norm_before.forward(x)?.reshape((b, h, w, c))?;
        if hp > h {
            t = t.pad_with_zeros(1, 0, hp - h)?;
        }
        if wp > w {
            t = t.pad_with_zeros(2, 0, wp - w)?;
        }
        let s = self.shift as i32;
        if s > 0 {
            t = t.roll(-s, 1)?.roll(-s, 2)?;
        }
        // Partition into windows: [b * nW, ws * ws, C].
        let windows = t
            .reshape((b, hp / ws, ws, wp / ws, ws, c))?
            .permute((0, 1, 3, 2, 4, 5))?
            .contiguous()?
            .reshape((b * (hp / ws) * (wp / ws), ws * ws, c))?;
        let attn = self.attention.forward(&windows, self.mask.as_ref())?;
        let mut t = attn
            .reshape((b, hp / ws, wp / ws, ws, ws, c))?
            .permute((0, 1, 3, 2, 4, 5))?
            .contiguous()?
            .reshape((b, hp, wp, c))?;
        if s > 0 {
            t = t.roll(s, 1)?.roll(s, 2)?;
        }
        if hp > h || wp > w {
            t = t.narrow(1, 0, h)?.narrow(2, 0, w)?;
        }
        let x = (x + t.contiguous()?.reshape((b, h * w, c))?)?;
        let y = self.norm_after.forward(&x)?;
        let y = self.intermediate.forward_act(&y, Some(self.act))?;
        x + self.output.forward(&y)?
    }
}

/// 2x2 patch merging: concatenates neighbours (transformers' order), norms, halves the width.
#[derive(Clone, Debug)]
struct PatchMerging {
    norm: LayerNorm,
    reduction: Linear,
    res: (usize, usize),
}

impl PatchMerging {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, _, c) = x.dims3()?;
        let (h, w) = self.res;
        let mut t = x.reshape((b, h, w, c))?;
        if !h.is_multiple_of(2) {
            t = t.pad_with_zeros(1, 0, 1)?;
        }
        if !w.is_multiple_of(2) {
            t = t.pad_with_zeros(2, 0, 1)?;
        }
        let (h2, w2) = (h.div_ceil(2), w.div_ceil(2));
        // [b, i, row, j, col, C] -> [b, i, j, col, row, C]: channel blocks (0,0), (1,0), (0,1), (1,1).
        let t = t
            .reshape((b, h2, 2, w2, 2, c))?
            .permute((0, 1, 3, 4, 2, 5))?
            .contiguous()?
            .reshape((b, h2 * w2, 4 * c))?;
        self.reduction.forward(&self.norm.forward(&t)?)
    }
}

/// One Swin stage: blocks, then merging except after the last stage.
#[derive(Clone, Debug)]
struct Stage {
    blocks: Vec<SwinBlock>,
    merge: Option<PatchMerging>,
}

/// The HTSAT encoder (`audio_model.audio_encoder`): log-mel `[b, frames, mels]` in, pooled
/// `[b, hidden_size]` out (`ClapAudioModel`'s `pooler_output`).
#[derive(Clone, Debug)]
pub struct HtsatEncoder {
    cfg: ClapAudioConfig,
    /// Batch norm over mel bins folded into `x * scale + shift`, each `[mels]`.
    bn_scale: Tensor,
    bn_shift: Tensor,
    patch: Conv2d,
    patch_norm: Option<LayerNorm>,
    stages: Vec<Stage>,
    norm: LayerNorm,
}

impl HtsatEncoder {
    /// Builds the tower from tensors under `audio_model.audio_encoder`.
    pub fn new(cfg: &ClapAudioConfig, vb: VarBuilder) -> Result<Self> {
        cfg.check().map_err(candle_core::Error::msg)?;
        let act = Act::from_name(&cfg.hidden_act).map_err(candle_core::Error::msg)?;
        let mels = cfg.num_mel_bins;
        let bn = vb.pp("batch_norm");
        let mean = bn.get(mels, "running_mean")?;
        let var = bn.get(mels, "running_var")?;
        let weight = bn.get(mels, "weight")?;
        let bias = bn.get(mels, "bias")?;
        let bn_scale = weight.div(&(var + 1e-5)?.sqrt()?)?;
        let bn_shift = (bias - mean.mul(&bn_scale)?)?;

        let ps = cfg.patch_size.square().unwrap_or(4);
        let st = cfg.patch_stride.square().unwrap_or(4);
        let c0 = cfg.patch_embeds_hidden_size;
        let conv_cfg = Conv2dConfig {
            padding: (ps - st) / 2,
            stride: st,
            ..Default::default()
        };
        let pe = vb.pp("patch_embed");
        let patch = candle_nn::conv2d(1, c0, ps, conv_cfg, pe.pp("proj"))?;
        let patch_norm = if cfg.enable_patch_layer_norm {
            Some(candle_nn::layer_norm(c0, 1e-5, pe.pp("norm"))?)
        } else {
            None
        };
        let grid = cfg.spec_size / st;
        let n_stages = cfg.depths.len();
        let mut stages = Vec::with_capacity(n_stages);
        for (i, (&depth, &heads)) in cfg.depths.iter().zip(&cfg.num_attention_heads).enumerate() {
            let dim = c0 << i;
            let res = (grid >> i, grid >> i);
            let vs = vb.pp(format!("layers.{i}"));
            let blocks = (0..depth)
                .map(|j| {
                    let shift = if j.is_multiple_of(2) {
                        0
                    } else {
                        cfg.window_size / 2
                    };
                    SwinBlock::new(
                        cfg,
                        dim,
                        heads,
                        res,
                        shift,
                        act,
                        vs.pp(format!("blocks.{j}")),
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            let merge = if i + 1 < n_stages {
                let vd = vs.pp("downsample");
                Some(PatchMerging {
                    norm: candle_nn::layer_norm(4 * dim, 1e-5, vd.pp("norm"))?,
                    reduction: fused::linear_no_bias(4 * dim, 2 * dim, vd.pp("reduction"))?,
                    res,
                })
            } else {
                None
            };
            stages.push(Stage { blocks, merge });
        }
        let norm = candle_nn::layer_norm(cfg.num_features(), 1e-5, vb.pp("norm"))?;
        Ok(Self {
            cfg: cfg.clone(),
            bn_scale,
            bn_shift,
            patch,
            patch_norm,
            stages,
            norm,
        })
    }

    /// Frames the Swin image holds along time (`spec_size * freq_ratio`).
    pub fn max_frames(&self) -> usize {
        self.cfg.spec_size * (self.cfg.spec_size / self.cfg.num_mel_bins)
    }

    /// Pooled features `[b, hidden_size]` of log-mel features `[b, frames, mels]`.
    pub fn forward(&self, features: &Tensor) -> Result<Tensor> {
        let (b, frames, mels) = features.dims3()?;
        let cfg = &self.cfg;
        if mels != cfg.num_mel_bins {
            candle_core::bail!(
                "features have {mels} mel bins, the audio tower takes {}",
                cfg.num_mel_bins
            );
        }
        let width = self.max_frames();
        if frames > width {
            candle_core::bail!(
                "features have {frames} frames, the audio tower takes at most {width}"
            );
        }
        let x = features
            .broadcast_mul(&self.bn_scale)?
            .broadcast_add(&self.bn_shift)?;
        let x = if frames < width {
            let m = Tensor::from_vec(bicubic_matrix(frames, width), (width, frames), x.device())?;
            m.broadcast_left(b)?.matmul(&x)?
        } else {
            x
        };
        // Mel to image: [b, T, F] -> [b, r, T/r, F] -> [b, r, F, T/r] -> [b, 1, r * F, T/r].
        let ratio = cfg.spec_size / cfg.num_mel_bins;
        let img = x
            .reshape((b, ratio, width / ratio, mels))?
            .permute((0, 1, 3, 2))?
            .contiguous()?
            .reshape((b, 1, ratio * mels, width / ratio))?;
        let p = self.patch.forward(&img)?;
        let c = p.dim(1)?;
        let mut h = p.flatten_from(2)?.transpose(1, 2)?.contiguous()?;
        debug_assert_eq!(h.dim(2)?, c);
        if let Some(norm) = &self.patch_norm {
            h = norm.forward(&h)?;
        }
        for stage in &self.stages {
            for block in &stage.blocks {
                h = block.forward(&h)?;
            }
            if let Some(m) = &stage.merge {
                h = m.forward(&h)?;
            }
        }
        // Mean over every token, as transformers' regrouping + AdaptiveAvgPool1d(1) computes it.
        self.norm.forward(&h)?.mean(1)
    }

    /// The dtype the weights were loaded in.
    pub fn dtype(&self) -> DType {
        self.bn_scale.dtype()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bicubic_rows_sum_to_one_and_keep_the_ends() {
        let (n_in, n_out) = (7, 11);
        let m = bicubic_matrix(n_in, n_out);
        for o in 0..n_out {
            let s: f32 = m[o * n_in..(o + 1) * n_in].iter().sum();
            assert!((s - 1.0).abs() < 1e-6);
        }
        assert!((m[0] - 1.0).abs() < 1e-6);
        assert!((m[n_out * n_in - 1] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn shift_mask_separates_regions() {
        let m = shift_mask(8, 8, 4, 2, &Device::Cpu).unwrap();
        let v: Vec<Vec<Vec<f32>>> = m.to_vec3().unwrap();
        // Window 0 holds one region only; the last window mixes four.
        assert!(v[0].iter().flatten().all(|&x| x == 0.0));
        assert!(v[3].iter().flatten().any(|&x| x == -100.0));
    }
}
