//! The T5 encoder that turns a prompt into MusicGen's conditioning (tensor names `text_encoder.*`
//! of the released checkpoints). Encoder only; padding is masked so batched prompts match single ones.

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::{embedding, linear_no_bias, Embedding, Linear, VarBuilder};

use super::config::T5Config;

/// T5's RMS layer norm (no mean, no bias), computed in f32.
#[derive(Clone, Debug)]
struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    fn new(d: usize, eps: f64, vb: VarBuilder) -> Result<Self> {
        Ok(Self {
            weight: vb.get(d, "weight")?,
            eps,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dtype = x.dtype();
        let xf = x.to_dtype(DType::F32)?;
        let var = xf.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = xf
            .broadcast_div(&(var + self.eps)?.sqrt()?)?
            .to_dtype(dtype)?;
        normed.broadcast_mul(&self.weight)
    }
}

/// One self-attention sub-layer; block 0 also owns the relative position bias table.
#[derive(Clone, Debug)]
struct SelfAttention {
    q: Linear,
    k: Linear,
    v: Linear,
    o: Linear,
    heads: usize,
    d_kv: usize,
}

impl SelfAttention {
    fn new(cfg: &T5Config, vb: VarBuilder) -> Result<Self> {
        let inner = cfg.num_heads * cfg.d_kv;
        Ok(Self {
            q: linear_no_bias(cfg.d_model, inner, vb.pp("q"))?,
            k: linear_no_bias(cfg.d_model, inner, vb.pp("k"))?,
            v: linear_no_bias(cfg.d_model, inner, vb.pp("v"))?,
            o: linear_no_bias(inner, cfg.d_model, vb.pp("o"))?,
            heads: cfg.num_heads,
            d_kv: cfg.d_kv,
        })
    }

    /// `bias` is the position bias plus the padding mask, shape (batch or 1, heads, seq, seq).
    fn forward(&self, x: &Tensor, bias: &Tensor) -> Result<Tensor> {
        let (b, s, _) = x.dims3()?;
        let split = |t: Tensor| {
            t.reshape((b, s, self.heads, self.d_kv))?
                .transpose(1, 2)?
                .contiguous()
        };
        let q = split(self.q.forward(x)?)?;
        let k = split(self.k.forward(x)?)?;
        let v = split(self.v.forward(x)?)?;
        // T5 does not scale the scores by 1/sqrt(d_kv).
        let scores = q.matmul(&k.t()?)?.broadcast_add(bias)?;
        let probs =
            candle_nn::ops::softmax_last_dim(&scores.to_dtype(DType::F32)?)?.to_dtype(v.dtype())?;
        let out = probs
            .matmul(&v)?
            .transpose(1, 2)?
            .reshape((b, s, self.heads * self.d_kv))?;
        self.o.forward(&out)
    }
}

/// The feed-forward sub-layer, plain (`wi`) or gated (`wi_0`, `wi_1`).
#[derive(Clone, Debug)]
struct FeedForward {
    wi: Linear,
    wi_gate: Option<Linear>,
    wo: Linear,
    act: Activation,
}

#[derive(Clone, Copy, Debug)]
enum Activation {
    Relu,
    GeluErf,
    GeluTanh,
}

impl FeedForward {
    fn new(cfg: &T5Config, vb: VarBuilder) -> Result<Self> {
        let gated = cfg.feed_forward_proj.starts_with("gated-");
        let act = match cfg.feed_forward_proj.as_str() {
            "gated-gelu" => Activation::GeluTanh,
            "gelu" => Activation::GeluErf,
            _ => Activation::Relu,
        };
        let (wi, wi_gate) = if gated {
            (
                linear_no_bias(cfg.d_model, cfg.d_ff, vb.pp("wi_0"))?,
                Some(linear_no_bias(cfg.d_model, cfg.d_ff, vb.pp("wi_1"))?),
            )
        } else {
            (linear_no_bias(cfg.d_model, cfg.d_ff, vb.pp("wi"))?, None)
        };
        Ok(Self {
            wi,
            wi_gate,
            wo: linear_no_bias(cfg.d_ff, cfg.d_model, vb.pp("wo"))?,
            act,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.wi.forward(x)?;
        let h = match self.act {
            Activation::Relu => h.relu()?,
            Activation::GeluErf => h.gelu_erf()?,
            Activation::GeluTanh => h.gelu()?,
        };
        let h = match &self.wi_gate {
            Some(g) => (h * g.forward(x)?)?,
            None => h,
        };
        self.wo.forward(&h)
    }
}

/// One encoder block: `layer.0` self-attention, `layer.1` feed-forward, each pre-normed and residual.
#[derive(Clone, Debug)]
struct Block {
    attn: SelfAttention,
    attn_norm: RmsNorm,
    ff: FeedForward,
    ff_norm: RmsNorm,
}

impl Block {
    fn new(cfg: &T5Config, vb: VarBuilder) -> Result<Self> {
        let l0 = vb.pp("layer").pp("0");
        let l1 = vb.pp("layer").pp("1");
        Ok(Self {
            attn: SelfAttention::new(cfg, l0.pp("SelfAttention"))?,
            attn_norm: RmsNorm::new(cfg.d_model, cfg.layer_norm_epsilon, l0.pp("layer_norm"))?,
            ff: FeedForward::new(cfg, l1.pp("DenseReluDense"))?,
            ff_norm: RmsNorm::new(cfg.d_model, cfg.layer_norm_epsilon, l1.pp("layer_norm"))?,
        })
    }

    fn forward(&self, x: &Tensor, bias: &Tensor) -> Result<Tensor> {
        let x = (x + self.attn.forward(&self.attn_norm.forward(x)?, bias)?)?;
        &x + self.ff.forward(&self.ff_norm.forward(&x)?)?
    }
}

/// The T5 encoder stack (`T5EncoderModel`).
#[derive(Clone, Debug)]
pub struct T5Encoder {
    embed: Embedding,
    /// Relative position bias, owned by block 0 in the checkpoint and shared by every block.
    relative_bias: Embedding,
    blocks: Vec<Block>,
    final_norm: RmsNorm,
    cfg: T5Config,
}

impl T5Encoder {
    /// Loads from a VarBuilder rooted at the text encoder (`text_encoder` in MusicGen checkpoints).
    pub fn new(cfg: &T5Config, vb: VarBuilder) -> Result<Self> {
        let embed_vb = if vb.contains_tensor("shared.weight") {
            vb.pp("shared")
        } else {
            vb.pp("encoder").pp("embed_tokens")
        };
        let embed = embedding(cfg.vocab_size, cfg.d_model, embed_vb)?;
        let enc = vb.pp("encoder");
        let blocks = (0..cfg.num_layers)
            .map(|i| Block::new(cfg, enc.pp("block").pp(i)))
            .collect::<Result<Vec<_>>>()?;
        let relative_bias = embedding(
            cfg.relative_attention_num_buckets,
            cfg.num_heads,
            enc.pp("block.0.layer.0.SelfAttention.relative_attention_bias"),
        )?;
        let final_norm = RmsNorm::new(
            cfg.d_model,
            cfg.layer_norm_epsilon,
            enc.pp("final_layer_norm"),
        )?;
        Ok(Self {
            embed,
            relative_bias,
            blocks,
            final_norm,
            cfg: cfg.clone(),
        })
    }

    /// Encodes `ids` (batch, seq) with `mask` (batch, seq; 1 = token, 0 = padding) to
    /// (batch, seq, d_model).
    pub fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (_, seq) = ids.dims2()?;
        let mut x = self.embed.forward(ids)?;
        let dtype = x.dtype();
        let rel = &self.relative_bias;
        let buckets = relative_buckets(
            seq,
            self.cfg.relative_attention_num_buckets,
            self.cfg.relative_attention_max_distance,
            ids.device(),
        )?;
        // (seq, seq, heads) -> (1, heads, seq, seq)
        let pos = rel
            .forward(&buckets)?
            .permute((2, 0, 1))?
            .unsqueeze(0)?
            .to_dtype(DType::F32)?;
        let pad = ((1.0 - mask.to_dtype(DType::F32)?)? * f32::MIN as f64)?
            .unsqueeze(1)?
            .unsqueeze(1)?;
        let bias = pos.broadcast_add(&pad)?.to_dtype(dtype)?;
        for b in &self.blocks {
            x = b.forward(&x, &bias)?;
        }
        self.final_norm.forward(&x)
    }
}

/// T5's bidirectional relative position buckets for a (query, key) grid, as a (seq, seq) u32 tensor.
fn relative_buckets(
    seq: usize,
    num_buckets: usize,
    max_distance: usize,
    dev: &Device,
) -> Result<Tensor> {
    let half = num_buckets / 2;
    let max_exact = half / 2;
    let mut out = Vec::with_capacity(seq * seq);
    for q in 0..seq {
        for k in 0..seq {
            let rel = k as i64 - q as i64;
            let mut bucket = if rel > 0 { half } else { 0 };
            let n = rel.unsigned_abs() as usize;
            bucket += if n < max_exact {
                n
            } else {
                let scaled = (n as f32 / max_exact as f32).ln()
                    / (max_distance as f32 / max_exact as f32).ln()
                    * (half - max_exact) as f32;
                (max_exact + scaled as usize).min(half - 1)
            };
            out.push(bucket as u32);
        }
    }
    Tensor::from_vec(out, (seq, seq), dev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_match_t5_reference_values() {
        // Values from transformers' T5Attention._relative_position_bucket (bidirectional, 32 buckets,
        // max distance 128) for query 0 and keys 0..=20, and for key 0 with queries 1, 9, 100.
        let t = relative_buckets(130, 32, 128, &Device::Cpu)
            .unwrap()
            .to_vec2::<u32>()
            .unwrap();
        let row0: Vec<u32> = t[0][..21].to_vec();
        assert_eq!(
            row0,
            vec![0, 17, 18, 19, 20, 21, 22, 23, 24, 24, 24, 24, 25, 25, 25, 25, 26, 26, 26, 26, 26]
        );
        assert_eq!(t[1][0], 1);
        assert_eq!(t[9][0], 8);
        assert_eq!(t[100][0], 15);
        assert_eq!(t[129][0], 15);
    }
}
