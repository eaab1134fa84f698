//! CLAP's RoBERTa text tower on candle, in transformers' `ClapTextModel` layout: token, position
//! (counted from the padding index, as RoBERTa does) and type embeddings, post-norm encoder
//! layers, and the tanh pooler over the first token.

use super::fused::{self, Act, Linear};
use candle_core::{Module, Result, Tensor};
use candle_nn::{Embedding, LayerNorm, VarBuilder};
use serde::Deserialize;

/// `text_config` of a `ClapModel` checkpoint; defaults are transformers' `ClapTextConfig`'s
/// (RoBERTa-base).
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct ClapTextConfig {
    /// Tokens in the vocabulary.
    pub vocab_size: usize,
    /// Model width.
    pub hidden_size: usize,
    /// Encoder layers.
    pub num_hidden_layers: usize,
    /// Attention heads.
    pub num_attention_heads: usize,
    /// MLP width.
    pub intermediate_size: usize,
    /// MLP activation.
    pub hidden_act: String,
    /// Rows of the position table (RoBERTa: usable length + padding index + 1).
    pub max_position_embeddings: usize,
    /// Rows of the token type table.
    pub type_vocab_size: usize,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f64,
    /// Padding token id (also RoBERTa's position offset).
    pub pad_token_id: u32,
}

impl Default for ClapTextConfig {
    fn default() -> Self {
        Self {
            vocab_size: 50265,
            hidden_size: 768,
            num_hidden_layers: 12,
            num_attention_heads: 12,
            intermediate_size: 3072,
            hidden_act: "gelu".into(),
            max_position_embeddings: 514,
            type_vocab_size: 1,
            layer_norm_eps: 1e-12,
            pad_token_id: 1,
        }
    }
}

impl ClapTextConfig {
    /// The most tokens (specials included) one text may have.
    pub fn max_tokens(&self) -> usize {
        self.max_position_embeddings
            .saturating_sub(self.pad_token_id as usize + 1)
    }

    /// Why this config cannot be run here, if it cannot.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.num_attention_heads == 0
            || !self.hidden_size.is_multiple_of(self.num_attention_heads)
        {
            return Err(format!(
                "hidden_size {} is not divisible by {} heads",
                self.hidden_size, self.num_attention_heads
            ));
        }
        if self.max_tokens() < 2 || self.type_vocab_size == 0 {
            return Err("max_position_embeddings leaves no room for tokens".into());
        }
        Act::from_name(&self.hidden_act)?;
        Ok(())
    }
}

/// One post-norm encoder layer.
#[derive(Clone, Debug)]
struct TextLayer {
    query: Linear,
    key: Linear,
    value: Linear,
    attn_out: Linear,
    attn_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    out_norm: LayerNorm,
    heads: usize,
    act: Act,
}

impl TextLayer {
    fn new(cfg: &ClapTextConfig, act: Act, vb: VarBuilder) -> Result<Self> {
        let h = cfg.hidden_size;
        let sa = vb.pp("attention").pp("self");
        let ao = vb.pp("attention").pp("output");
        Ok(Self {
            query: fused::linear(h, h, sa.pp("query"))?,
            key: fused::linear(h, h, sa.pp("key"))?,
            value: fused::linear(h, h, sa.pp("value"))?,
            attn_out: fused::linear(h, h, ao.pp("dense"))?,
            attn_norm: candle_nn::layer_norm(h, cfg.layer_norm_eps, ao.pp("LayerNorm"))?,
            intermediate: fused::linear(
                h,
                cfg.intermediate_size,
                vb.pp("intermediate").pp("dense"),
            )?,
            output: fused::linear(cfg.intermediate_size, h, vb.pp("output").pp("dense"))?,
            out_norm: candle_nn::layer_norm(
                h,
                cfg.layer_norm_eps,
                vb.pp("output").pp("LayerNorm"),
            )?,
            heads: cfg.num_attention_heads,
            act,
        })
    }

    /// `x`: `[b, S, H]`; `mask`: additive `[b, 1, 1, S]`.
    fn forward(&self, x: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let (b, s, h) = x.dims3()?;
        let d = h / self.heads;
        let split = |t: Tensor| fused::transpose12(&t.reshape((b, s, self.heads, d))?);
        let q = split(self.query.forward(x)?)?;
        let k = split(self.key.forward(x)?)?;
        let v = split(self.value.forward(x)?)?;
        let scores = (q.matmul(&k.t()?)? * (d as f64).powf(-0.5))?.broadcast_add(mask)?;
        let probs = fused::softmax_last_dim(&scores)?;
        let ctx = fused::transpose12(&probs.matmul(&v)?)?.reshape((b, s, h))?;
        let x = self
            .attn_norm
            .forward(&(self.attn_out.forward(&ctx)? + x)?)?;
        let y = self.intermediate.forward_act(&x, Some(self.act))?;
        self.out_norm.forward(&(self.output.forward(&y)? + x)?)
    }
}

/// The RoBERTa text model (`text_model`): token ids in, pooled `[b, hidden_size]` out
/// (`ClapTextModel`'s `pooler_output`).
#[derive(Clone, Debug)]
pub struct RobertaText {
    cfg: ClapTextConfig,
    words: Embedding,
    positions: Embedding,
    /// Row 0 of the token type table, `[H]` (type ids are always 0).
    token_type: Tensor,
    emb_norm: LayerNorm,
    layers: Vec<TextLayer>,
    pooler: Linear,
}

impl RobertaText {
    /// Builds the tower from tensors under `text_model`.
    pub fn new(cfg: &ClapTextConfig, vb: VarBuilder) -> Result<Self> {
        cfg.check().map_err(candle_core::Error::msg)?;
        let act = Act::from_name(&cfg.hidden_act).map_err(candle_core::Error::msg)?;
        let h = cfg.hidden_size;
        let ve = vb.pp("embeddings");
        let words = candle_nn::embedding(cfg.vocab_size, h, ve.pp("word_embeddings"))?;
        let positions =
            candle_nn::embedding(cfg.max_position_embeddings, h, ve.pp("position_embeddings"))?;
        let token_type = ve
            .get((cfg.type_vocab_size, h), "token_type_embeddings.weight")?
            .get(0)?;
        let emb_norm = candle_nn::layer_norm(h, cfg.layer_norm_eps, ve.pp("LayerNorm"))?;
        let layers = (0..cfg.num_hidden_layers)
            .map(|i| TextLayer::new(cfg, act, vb.pp(format!("encoder.layer.{i}"))))
            .collect::<Result<Vec<_>>>()?;
        let pooler = fused::linear(h, h, vb.pp("pooler").pp("dense"))?;
        Ok(Self {
            cfg: cfg.clone(),
            words,
            positions,
            token_type,
            emb_norm,
            layers,
            pooler,
        })
    }

    /// The config it was built from.
    pub fn config(&self) -> &ClapTextConfig {
        &self.cfg
    }

    /// Pooled output `[b, H]` of right-padded token ids (`pad_token_id` marks padding; each row
    /// must start with a real token, `<s>` as the tokenizer adds it).
    pub fn forward(&self, ids: &[Vec<u32>]) -> Result<Tensor> {
        let dev = self.words.embeddings().device();
        let b = ids.len();
        let s = ids.iter().map(Vec::len).max().unwrap_or(0);
        if b == 0 || s == 0 {
            candle_core::bail!("no tokens to embed");
        }
        if s > self.cfg.max_tokens() {
            candle_core::bail!(
                "{s} tokens, the text tower takes at most {}",
                self.cfg.max_tokens()
            );
        }
        let pad = self.cfg.pad_token_id;
        let mut flat = Vec::with_capacity(b * s);
        let mut pos = Vec::with_capacity(b * s);
        let mut mask = Vec::with_capacity(b * s);
        for row in ids {
            let mut count = 0u32;
            for k in 0..s {
                let id = row.get(k).copied().unwrap_or(pad);
                flat.push(id);
                let real = k < row.len() && id != pad;
                if real {
                    count += 1;
                }
                // RoBERTa: real tokens count up from pad + 1; padding sits at the pad index.
                pos.push(if real { pad + count } else { pad });
                mask.push(if k < row.len() { 0.0f32 } else { f32::MIN });
            }
        }
        let ids_t = Tensor::from_vec(flat, (b, s), dev)?;
        let pos_t = Tensor::from_vec(pos, (b, s), dev)?;
        let mask_t = Tensor::from_vec(mask, (b, 1, 1, s), dev)?;
        let x = (self.words.forward(&ids_t)? + self.positions.forward(&pos_t)?)?
            .broadcast_add(&self.token_type)?;
        let mut x = self.emb_norm.forward(&x)?;
        for layer in &self.layers {
            x = layer.forward(&x, &mask_t)?;
        }
        let first = x.narrow(1, 0, 1)?.squeeze(1)?.contiguous()?;
        self.pooler.forward(&first)?.tanh()
    }

    /// Width of the pooled output.
    pub fn hidden_size(&self) -> usize {
        self.cfg.hidden_size
    }
}
