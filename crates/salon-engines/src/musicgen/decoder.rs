//! The MusicGen decoder (tensor names `decoder.*`, `enc_to_dec_proj.*`, `audio_enc_to_dec_proj.*`):
//! summed codebook embeddings plus sinusoidal positions, pre-LN transformer layers with a
//! self-attention KV cache and cross-attention over the projected text encoding (MusicGen), or
//! no cross-attention and a chroma + text prefix before the tokens (MusicGen Melody), and one lm
//! head per codebook.

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::kv_cache::KvCache;
use candle_nn::{layer_norm, linear, LayerNorm, Linear, VarBuilder};

use super::config::DecoderConfig;
#[cfg(feature = "cuda")]
use super::fused;

/// Stand-ins for the fused CUDA kernels in builds without the `cuda` feature (never called:
/// `fused_kernels_available` is false there).
#[cfg(not(feature = "cuda"))]
mod fused {
    use candle_core::{Result, Tensor};

    const MSG: &str = "fused MusicGen kernels need salon-engines' cuda feature";

    pub fn supports_head_dim(_: usize) -> bool {
        false
    }
    pub fn self_attention_step(
        _: &Tensor,
        _: &Tensor,
        _: &Tensor,
        _: usize,
        _: usize,
    ) -> Result<Tensor> {
        Err(candle_core::Error::Msg(MSG.into()))
    }
    pub fn cross_attention_step(
        _: &Tensor,
        _: &Tensor,
        _: &Tensor,
        _: Option<&Tensor>,
        _: usize,
    ) -> Result<Tensor> {
        Err(candle_core::Error::Msg(MSG.into()))
    }
    pub fn add_layer_norm(
        _: &Tensor,
        _: &Tensor,
        _: &Tensor,
        _: &Tensor,
        _: f32,
    ) -> Result<(Tensor, Tensor)> {
        Err(candle_core::Error::Msg(MSG.into()))
    }
}

/// Whether decoding steps on `dev` in `dtype` use the fused CUDA kernels: CUDA builds on a CUDA
/// device, unless the environment sets `SALON_MUSICGEN_FUSED=0` (for comparisons).
fn fused_kernels_available(dev: &Device, dtype: DType, head_dim: usize) -> bool {
    cfg!(feature = "cuda")
        && dev.is_cuda()
        && matches!(dtype, DType::F32 | DType::F16 | DType::BF16)
        && fused::supports_head_dim(head_dim)
        && std::env::var("SALON_MUSICGEN_FUSED").as_deref() != Ok("0")
}

/// Residual add (when `pending` is some) and layer norm: returns (x + pending, norm(x + pending)).
fn add_norm(x: &Tensor, pending: Option<&Tensor>, norm: &LayerNorm) -> Result<(Tensor, Tensor)> {
    match (pending, norm.bias()) {
        (None, _) => Ok((x.clone(), norm.forward(x)?)),
        (Some(y), Some(bias)) => fused::add_layer_norm(x, y, norm.weight(), bias, 1e-5),
        (Some(y), None) => {
            let x = (x + y)?;
            let h = norm.forward(&x)?;
            Ok((x, h))
        }
    }
}

/// Sinusoidal position table (positions, dim): cos in the first half, sin in the second,
/// computed in f32 the way transformers' `MusicgenSinusoidalPositionalEmbedding` does.
pub fn sinusoidal_positions(positions: usize, dim: usize, dev: &Device) -> Result<Tensor> {
    let half = dim / 2;
    let step = ((10000f64).ln() / (half as f64 - 1.0)) as f32;
    let freqs: Vec<f32> = (0..half).map(|j| (j as f32 * -step).exp()).collect();
    let mut data = Vec::with_capacity(positions * dim);
    for p in 0..positions {
        let args: Vec<f32> = freqs.iter().map(|f| p as f32 * f).collect();
        data.extend(args.iter().map(|a| (*a as f64).cos() as f32));
        data.extend(args.iter().map(|a| (*a as f64).sin() as f32));
        if dim % 2 == 1 {
            data.push(0.0);
        }
    }
    Tensor::from_vec(data, (positions, dim), dev)
}

/// A bias-free projection whose weight is stored transposed, (in, out) and contiguous: the CPU
/// kernels run a row-major GEMM without repacking, and several released matrices (q, k, v) can
/// be concatenated into one.
#[derive(Clone, Debug)]
struct Dense {
    weight_t: Tensor,
}

impl Dense {
    /// Loads `names` (each a (out_i, in) `.weight`) side by side as one (in, sum out_i) matrix,
    /// the first one multiplied by `first_scale` (used to fold attention's 1/sqrt(head_dim) into q).
    fn load(
        vb: &VarBuilder,
        names: &[&str],
        outs: &[usize],
        inp: usize,
        first_scale: f64,
    ) -> Result<Self> {
        let mut parts = names
            .iter()
            .zip(outs)
            .map(|(n, o)| vb.pp(*n).get((*o, inp), "weight"))
            .collect::<Result<Vec<_>>>()?;
        if first_scale != 1.0 {
            parts[0] = (&parts[0] * first_scale)?;
        }
        Ok(Self {
            weight_t: Tensor::cat(&parts, 0)?.t()?.contiguous()?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (b, s, d) = x.dims3()?;
        let y = x.reshape((b * s, d))?.matmul(&self.weight_t)?;
        y.reshape((b, s, ()))
    }
}

/// Multi-head attention (no biases). Self-attention projects q, k and v with one fused matmul
/// (`proj`); cross-attention projects q from the decoder (`proj`) and k, v once from the text (`kv`).
#[derive(Clone, Debug)]
struct Attention {
    proj: Dense,
    kv: Option<Dense>,
    out: Dense,
    heads: usize,
    head_dim: usize,
}

impl Attention {
    fn new(cfg: &DecoderConfig, cross: bool, vb: VarBuilder) -> Result<Self> {
        let d = cfg.hidden_size;
        let scale = ((d / cfg.num_attention_heads) as f64).powf(-0.5);
        let (proj, kv) = if cross {
            (
                Dense::load(&vb, &["q_proj"], &[d], d, scale)?,
                Some(Dense::load(&vb, &["k_proj", "v_proj"], &[d, d], d, 1.0)?),
            )
        } else {
            (
                Dense::load(&vb, &["q_proj", "k_proj", "v_proj"], &[d, d, d], d, scale)?,
                None,
            )
        };
        Ok(Self {
            proj,
            kv,
            out: Dense::load(&vb, &["out_proj"], &[d], d, 1.0)?,
            heads: cfg.num_attention_heads,
            head_dim: d / cfg.num_attention_heads,
        })
    }

    /// (batch, seq, n * dim) -> n tensors of (batch, heads, seq, head_dim)
    fn split(&self, x: &Tensor, n: usize) -> Result<Vec<Tensor>> {
        let (b, s, _) = x.dims3()?;
        let x = x.reshape((b, s, n, self.heads, self.head_dim))?;
        (0..n)
            .map(|i| x.narrow(2, i, 1)?.squeeze(2)?.transpose(1, 2)?.contiguous())
            .collect()
    }

    fn attend(&self, q: &Tensor, k: &Tensor, v: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        let (b, _, s, _) = q.dims4()?;
        // q is already scaled by 1/sqrt(head_dim) (folded into its projection).
        let mut scores = q.matmul(&k.t()?)?;
        if let Some(bias) = bias {
            scores = scores.broadcast_add(bias)?;
        }
        // candle's CPU softmax sums in the tensor's type, which flips greedy choices in f16;
        // the CUDA kernel already accumulates in f32.
        let probs = if scores.device().is_cpu() && scores.dtype() != DType::F32 {
            candle_nn::ops::softmax_last_dim(&scores.to_dtype(DType::F32)?)?.to_dtype(v.dtype())?
        } else {
            candle_nn::ops::softmax_last_dim(&scores)?
        };
        let out = probs
            .matmul(v)?
            .transpose(1, 2)?
            .reshape((b, s, self.heads * self.head_dim))?;
        self.out.forward(&out)
    }
}

/// One pre-LN decoder layer.
#[derive(Clone, Debug)]
struct Layer {
    self_attn: Attention,
    self_norm: LayerNorm,
    /// Cross-attention and its norm (absent in MusicGen Melody).
    cross: Option<(Attention, LayerNorm)>,
    fc1: Dense,
    fc2: Dense,
    final_norm: LayerNorm,
    gelu: bool,
}

/// A layer's self-attention keys and values.
#[derive(Clone, Debug)]
enum SelfCache {
    /// candle's cache (CPU, and CUDA with the fused kernels off).
    Growing(KvCache),
    /// Preallocated (batch, heads, max_len, head_dim) keys and values written in place by the
    /// fused step kernel; `len` positions filled.
    Flat { k: Tensor, v: Tensor, len: usize },
}

impl SelfCache {
    /// Appends (batch, heads, s, head_dim) keys and values; returns all keys and values so far.
    fn append(&mut self, k: &Tensor, v: &Tensor) -> Result<(Tensor, Tensor)> {
        match self {
            Self::Growing(kv) => kv.append(k, v),
            Self::Flat { k: kc, v: vc, len } => {
                kc.slice_set(k, 2, *len)?;
                vc.slice_set(v, 2, *len)?;
                *len += k.dim(2)?;
                Ok((kc.narrow(2, 0, *len)?, vc.narrow(2, 0, *len)?))
            }
        }
    }
}

/// Per-layer state of one generation: the self-attention KV cache and the cross-attention keys
/// and values of the text encoding.
#[derive(Clone, Debug)]
struct LayerCache {
    kv: SelfCache,
    /// Cross-attention keys and values (MusicGen only).
    cross: Option<(Tensor, Tensor)>,
}

impl Layer {
    fn new(cfg: &DecoderConfig, with_cross: bool, vb: VarBuilder) -> Result<Self> {
        let d = cfg.hidden_size;
        let cross = if with_cross {
            Some((
                Attention::new(cfg, true, vb.pp("encoder_attn"))?,
                layer_norm(d, 1e-5, vb.pp("encoder_attn_layer_norm"))?,
            ))
        } else {
            None
        };
        Ok(Self {
            self_attn: Attention::new(cfg, false, vb.pp("self_attn"))?,
            self_norm: layer_norm(d, 1e-5, vb.pp("self_attn_layer_norm"))?,
            cross,
            fc1: Dense::load(&vb, &["fc1"], &[cfg.ffn_dim], d, 1.0)?,
            fc2: Dense::load(&vb, &["fc2"], &[d], cfg.ffn_dim, 1.0)?,
            final_norm: layer_norm(d, 1e-5, vb.pp("final_layer_norm"))?,
            gelu: cfg.activation_function == "gelu",
        })
    }

    fn forward(
        &self,
        x: &Tensor,
        cache: &mut LayerCache,
        causal: Option<&Tensor>,
        cross_bias: Option<&Tensor>,
    ) -> Result<Tensor> {
        let h = self.self_norm.forward(x)?;
        let qkv = self.self_attn.split(&self.self_attn.proj.forward(&h)?, 3)?;
        let (k, v) = cache.kv.append(&qkv[1], &qkv[2])?;
        let q = &qkv[0];
        let x = (x + self.self_attn.attend(q, &k, &v, causal)?)?;

        let x = match (&self.cross, &cache.cross) {
            (Some((attn, norm)), Some((ck, cv))) => {
                let h = norm.forward(&x)?;
                let q = attn.split(&attn.proj.forward(&h)?, 1)?.remove(0);
                (&x + attn.attend(&q, ck, cv, cross_bias)?)?
            }
            _ => x,
        };

        let h = self.fc1.forward(&self.final_norm.forward(&x)?)?;
        let h = if self.gelu { h.gelu_erf()? } else { h.relu()? };
        &x + self.fc2.forward(&h)?
    }

    /// One decoding position per row on CUDA with the fused kernels: `x` is the residual stream
    /// before this layer, `pending` the previous layer's MLP output not yet added to it. Returns
    /// the residual stream after attention and this layer's MLP output (pending for the next).
    fn forward_step_fused(
        &self,
        x: &Tensor,
        pending: Option<&Tensor>,
        cache: &mut LayerCache,
        cross_bias: Option<&Tensor>,
    ) -> Result<(Tensor, Tensor)> {
        let heads = self.self_attn.heads;
        let (x, h) = add_norm(x, pending, &self.self_norm)?;
        let qkv = self.self_attn.proj.forward(&h)?;
        let SelfCache::Flat { k, v, len } = &mut cache.kv else {
            return Err(candle_core::Error::Msg(
                "fused decoding step without a preallocated cache".into(),
            ));
        };
        if *len >= k.dim(2)? {
            return Err(candle_core::Error::Msg(format!(
                "the KV cache holds {} positions and is full",
                k.dim(2)?
            )));
        }
        let a = fused::self_attention_step(&qkv, k, v, *len, heads)?;
        *len += 1;
        let a = self.self_attn.out.forward(&a)?;
        let (x, a) = match (&self.cross, &cache.cross) {
            (Some((attn, norm)), Some((ck, cv))) => {
                let (x, h) = add_norm(&x, Some(&a), norm)?;
                let q = attn.proj.forward(&h)?;
                let c = fused::cross_attention_step(&q, ck, cv, cross_bias, heads)?;
                (x, attn.out.forward(&c)?)
            }
            _ => (x, a),
        };
        let (x, h) = add_norm(&x, Some(&a), &self.final_norm)?;
        let h = self.fc1.forward(&h)?;
        let h = if self.gelu { h.gelu_erf()? } else { h.relu()? };
        Ok((x, self.fc2.forward(&h)?))
    }
}

/// The state of one batched generation: caches per layer, the cross-attention bias and the
/// number of positions already decoded.
#[derive(Clone, Debug)]
pub struct DecoderState {
    layers: Vec<LayerCache>,
    cross_bias: Option<Tensor>,
    /// The cross-attention bias as f32 (batch, seq) for the fused kernel.
    cross_bias_rows: Option<Tensor>,
    /// Whether single-position steps run the fused CUDA kernels.
    fused: bool,
    /// Melody: conditioning embeddings (batch, prefix, hidden) fed before the first tokens.
    prefix: Option<Tensor>,
    offset: usize,
}

impl DecoderState {
    /// Positions decoded so far.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// `MusicgenForCausalLM` plus the text-to-decoder projection of `MusicgenForConditionalGeneration`.
#[derive(Clone, Debug)]
pub struct MusicgenDecoder {
    embed: Tensor,
    layers: Vec<Layer>,
    norm: LayerNorm,
    heads_t: Tensor,
    /// Row offset of each codebook's table in `embed`, (1, codebooks, 1) u32.
    codebook_offsets: Tensor,
    positions: Tensor,
    enc_to_dec: Option<Linear>,
    audio_enc_to_dec: Option<Linear>,
    melody: bool,
    cfg: DecoderConfig,
}

impl MusicgenDecoder {
    /// Loads from the checkpoint root VarBuilder (reads `decoder.*`, `enc_to_dec_proj.*` and, for
    /// melody, `audio_enc_to_dec_proj.*`); `text_hidden` is the text encoder's width, `melody`
    /// selects the decoder-only variant whose conditioning comes as a prefix of `num_chroma`-wide
    /// chroma frames and text states.
    pub fn new(
        cfg: &DecoderConfig,
        text_hidden: usize,
        melody: Option<usize>,
        vb: VarBuilder,
    ) -> Result<Self> {
        let d = cfg.hidden_size;
        let k = cfg.num_codebooks;
        let model = vb.pp("decoder").pp("model").pp("decoder");
        let tables = (0..k)
            .map(|c| {
                model
                    .pp("embed_tokens")
                    .pp(c)
                    .get((cfg.vocab_size + 1, d), "weight")
            })
            .collect::<Result<Vec<_>>>()?;
        let heads = (0..k)
            .map(|c| {
                vb.pp("decoder")
                    .pp("lm_heads")
                    .pp(c)
                    .get((cfg.vocab_size, d), "weight")
            })
            .collect::<Result<Vec<_>>>()?;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| Layer::new(cfg, melody.is_none(), model.pp("layers").pp(i)))
            .collect::<Result<Vec<_>>>()?;
        let enc_to_dec = if vb.contains_tensor("enc_to_dec_proj.weight") {
            Some(linear(text_hidden, d, vb.pp("enc_to_dec_proj"))?)
        } else if text_hidden != d {
            return Err(candle_core::Error::Msg(format!(
                "enc_to_dec_proj.weight is missing but the text encoder width {text_hidden} differs from the decoder's {d}"
            )));
        } else {
            None
        };
        let audio_enc_to_dec = match melody {
            Some(chroma) if vb.contains_tensor("audio_enc_to_dec_proj.weight") => {
                Some(linear(chroma, d, vb.pp("audio_enc_to_dec_proj"))?)
            }
            Some(chroma) if chroma != d => {
                return Err(candle_core::Error::Msg(format!(
                    "audio_enc_to_dec_proj.weight is missing but num_chroma {chroma} differs from the decoder width {d}"
                )))
            }
            _ => None,
        };
        let positions = sinusoidal_positions(cfg.max_position_embeddings, d, vb.device())?
            .to_dtype(vb.dtype())?;
        Ok(Self {
            embed: Tensor::cat(&tables, 0)?,
            layers,
            norm: layer_norm(d, 1e-5, model.pp("layer_norm"))?,
            heads_t: Tensor::cat(&heads, 0)?.t()?.contiguous()?,
            codebook_offsets: Tensor::from_vec(
                (0..k as u32)
                    .map(|c| c * (cfg.vocab_size as u32 + 1))
                    .collect(),
                (1, k, 1),
                vb.device(),
            )?,
            positions,
            enc_to_dec,
            audio_enc_to_dec,
            melody: melody.is_some(),
            cfg: cfg.clone(),
        })
    }

    /// The decoder configuration.
    pub fn config(&self) -> &DecoderConfig {
        &self.cfg
    }

    /// Whether this is the melody (prefix-conditioned) decoder.
    pub fn is_melody(&self) -> bool {
        self.melody
    }

    /// Whether a generation on `dev` runs its decoding steps with the fused CUDA kernels.
    fn use_fused(&self, dev: &Device) -> bool {
        let head_dim = self.cfg.hidden_size / self.cfg.num_attention_heads;
        fused_kernels_available(dev, self.embed.dtype(), head_dim)
    }

    /// An empty self-attention cache for `batch` rows and `max_len` positions.
    fn self_cache(
        &self,
        fused: bool,
        batch: usize,
        max_len: usize,
        dev: &Device,
    ) -> Result<SelfCache> {
        if !fused {
            return Ok(SelfCache::Growing(KvCache::new(2, max_len)));
        }
        let heads = self.cfg.num_attention_heads;
        let shape = (batch, heads, max_len, self.cfg.hidden_size / heads);
        Ok(SelfCache::Flat {
            k: Tensor::zeros(shape, self.embed.dtype(), dev)?,
            v: Tensor::zeros(shape, self.embed.dtype(), dev)?,
            len: 0,
        })
    }

    /// Projects text states (batch, seq, text_dim) to the decoder width and zeroes padded
    /// positions (`mask` 1 = token, 0 = pad).
    pub fn project_text(&self, text: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let dtype = self.embed.dtype();
        let text = text.to_dtype(dtype)?;
        let text = match &self.enc_to_dec {
            Some(p) => p.forward(&text)?,
            None => text,
        };
        text.broadcast_mul(&mask.to_dtype(dtype)?.unsqueeze(D::Minus1)?)
    }

    /// Projects chroma frames (batch, frames, num_chroma) to the decoder width (melody only).
    pub fn project_chroma(&self, chroma: &Tensor) -> Result<Tensor> {
        let chroma = chroma.to_dtype(self.embed.dtype())?;
        match &self.audio_enc_to_dec {
            Some(p) => p.forward(&chroma),
            None => Ok(chroma),
        }
    }

    /// Starts a melody generation whose conditioning `prefix` (batch, prefix_len, hidden) is
    /// fed before the first tokens; the cache holds `prefix_len + max_len` positions.
    pub fn start_prefix(&self, prefix: &Tensor, max_len: usize) -> Result<DecoderState> {
        let p = prefix.dim(1)?;
        let fused = self.use_fused(prefix.device());
        Ok(DecoderState {
            layers: self
                .layers
                .iter()
                .map(|_| {
                    Ok(LayerCache {
                        kv: self.self_cache(fused, prefix.dim(0)?, p + max_len, prefix.device())?,
                        cross: None,
                    })
                })
                .collect::<Result<Vec<_>>>()?,
            cross_bias: None,
            cross_bias_rows: None,
            fused,
            prefix: Some(prefix.to_dtype(self.embed.dtype())?),
            offset: 0,
        })
    }

    /// Starts a generation: projects the text encoding (batch, seq, text_dim), zeroes padded
    /// positions (`mask` 1 = token, 0 = pad, as f32), precomputes every layer's cross-attention
    /// keys and values and allocates a self-attention cache for `max_len` positions.
    pub fn start(&self, text: &Tensor, mask: &Tensor, max_len: usize) -> Result<DecoderState> {
        let dtype = self.embed.dtype();
        let text = self.project_text(text, mask)?;
        let mask = mask.to_dtype(DType::F32)?;
        // Padded keys get -inf; a row with no token at all (the unconditional branch of
        // classifier-free guidance) attends uniformly to its zero states, as transformers does.
        let rows = mask.to_vec2::<f32>()?;
        let mut bias = Vec::with_capacity(rows.len() * rows.first().map_or(0, Vec::len));
        for row in &rows {
            let any = row.iter().any(|m| *m > 0.5);
            bias.extend(row.iter().map(|m| {
                if *m > 0.5 || !any {
                    0f32
                } else {
                    f32::NEG_INFINITY
                }
            }));
        }
        let (b, s) = (rows.len(), rows.first().map_or(0, Vec::len));
        // Without padding the bias is all zeros: skip it (one op less per layer and step).
        let fused = self.use_fused(text.device());
        let (cross_bias, cross_bias_rows) = if bias.iter().all(|v| *v == 0.0) {
            (None, None)
        } else {
            let rows = Tensor::from_vec(bias, (b, s), text.device())?;
            (
                Some(rows.reshape((b, 1, 1, s))?.to_dtype(dtype)?),
                fused.then_some(rows),
            )
        };
        let layers = self
            .layers
            .iter()
            .map(|l| {
                let missing = || {
                    candle_core::Error::Msg(
                        "this decoder has no cross-attention (a melody checkpoint?)".into(),
                    )
                };
                let (attn, _) = l.cross.as_ref().ok_or_else(missing)?;
                let proj = attn.kv.as_ref().ok_or_else(missing)?;
                let mut kv = attn.split(&proj.forward(&text)?, 2)?.into_iter();
                let (Some(cross_k), Some(cross_v)) = (kv.next(), kv.next()) else {
                    return Err(candle_core::Error::Msg("k/v split failed".into()));
                };
                Ok(LayerCache {
                    kv: self.self_cache(fused, b, max_len, text.device())?,
                    cross: Some((cross_k, cross_v)),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DecoderState {
            layers,
            cross_bias,
            cross_bias_rows,
            fused,
            prefix: None,
            offset: 0,
        })
    }

    /// Feeds `ids` (batch, codebooks, seq; u32) after the positions already in `state` and
    /// returns the logits of every fed position, (batch, codebooks, seq, vocab).
    pub fn forward(&self, ids: &Tensor, state: &mut DecoderState) -> Result<Tensor> {
        let (b, k, s) = ids.dims3()?;
        let prefix = state.prefix.take();
        let p = match &prefix {
            Some(t) => t.dim(1)?,
            None => 0,
        };
        if state.offset + p + s > self.cfg.max_position_embeddings {
            return Err(candle_core::Error::Msg(format!(
                "sequence of {} exceeds max_position_embeddings {}",
                state.offset + p + s,
                self.cfg.max_position_embeddings
            )));
        }
        // Offset each codebook's ids into the concatenated embedding table, then sum over codebooks.
        let flat = ids.broadcast_add(&self.codebook_offsets)?.flatten_all()?;
        let emb = self
            .embed
            .index_select(&flat, 0)?
            .reshape((b, k, s, ()))?
            .sum(1)?;
        let emb = match &prefix {
            Some(t) => Tensor::cat(&[t, &emb], 1)?,
            None => emb,
        };
        let n = p + s;
        let pos = self.positions.narrow(0, state.offset, n)?.unsqueeze(0)?;
        let mut x = emb.broadcast_add(&pos)?;
        let causal = if n > 1 {
            Some(causal_bias(n, state.offset, x.dtype(), x.device())?)
        } else {
            None
        };
        let x = if state.fused && n == 1 {
            let mut pending = None;
            for (layer, cache) in self.layers.iter().zip(state.layers.iter_mut()) {
                let (next, mlp) = layer.forward_step_fused(
                    &x,
                    pending.as_ref(),
                    cache,
                    state.cross_bias_rows.as_ref(),
                )?;
                x = next;
                pending = Some(mlp);
            }
            add_norm(&x, pending.as_ref(), &self.norm)?.1
        } else {
            for (layer, cache) in self.layers.iter().zip(state.layers.iter_mut()) {
                x = layer.forward(&x, cache, causal.as_ref(), state.cross_bias.as_ref())?;
            }
            self.norm.forward(&x.narrow(1, p, s)?)?
        };
        state.offset += n;
        let logits = x.reshape((b * s, ()))?.matmul(&self.heads_t)?; // (b * s, k * vocab)
        logits
            .reshape((b, s, k, self.cfg.vocab_size))?
            .permute((0, 2, 1, 3))?
            .contiguous()
    }
}

/// Additive causal mask for `s` new queries after `offset` cached positions: (1, 1, s, offset + s).
fn causal_bias(s: usize, offset: usize, dtype: DType, dev: &Device) -> Result<Tensor> {
    let total = offset + s;
    let data: Vec<f32> = (0..s)
        .flat_map(|q| {
            (0..total).map(move |k| {
                if k <= offset + q {
                    0.0
                } else {
                    f32::NEG_INFINITY
                }
            })
        })
        .collect();
    Tensor::from_vec(data, (1, 1, s, total), dev)?.to_dtype(dtype)
}
