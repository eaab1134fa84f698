//! The generation loop over the decoder: the delay pattern across codebooks, classifier-free
//! guidance (conditional and unconditional branches as one batch), and greedy or top-k sampling.

use candle_core::{DType, IndexOp, Result, Tensor, D};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::decoder::MusicgenDecoder;

/// How the next token of each codebook is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampling {
    /// The most likely token (deterministic; used by the golden tests).
    Greedy,
    /// Sample among the `k` most likely tokens after dividing logits by `temperature`.
    TopK {
        /// Candidates kept (MusicGen's default is 250).
        k: usize,
        /// Softmax temperature (1.0 by default).
        temperature: f64,
    },
}

/// Generation settings shared by a batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GenerationParams {
    /// Classifier-free guidance scale; 1.0 or less turns guidance off.
    pub guidance_scale: f64,
    /// Token choice.
    pub sampling: Sampling,
}

impl Default for GenerationParams {
    /// MusicGen's released defaults: guidance 3, top-k 250, temperature 1.
    fn default() -> Self {
        Self {
            guidance_scale: 3.0,
            sampling: Sampling::TopK {
                k: 250,
                temperature: 1.0,
            },
        }
    }
}

/// One item of a batch for the token loop.
#[derive(Clone, Debug, PartialEq)]
pub struct CodeRequest {
    /// New decoder tokens to generate (frames + codebooks - 1).
    pub max_new_tokens: usize,
    /// Seed of this item's sampler.
    pub seed: u64,
}

/// MusicGen's delay pattern: codebook `k` lags the first by `k` steps. For a sequence of
/// `len` positions (BOS included) codebook `k` holds real tokens at positions `k+1 ..= len-K+k`
/// and the pad token elsewhere.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DelayPattern {
    /// Number of codebooks.
    pub codebooks: usize,
    /// Positions in the sequence, BOS included (`max_new_tokens + 1`).
    pub len: usize,
}

impl DelayPattern {
    /// Whether position `t` of codebook `k` is forced to the pad token.
    pub fn is_pad(&self, k: usize, t: usize) -> bool {
        t >= self.len || t <= k || t + self.codebooks > self.len + k
    }

    /// Audio frames the pattern yields (`len - codebooks`).
    pub fn frames(&self) -> usize {
        self.len.saturating_sub(self.codebooks)
    }
}

/// What the decoder is conditioned on.
#[derive(Clone, Debug)]
pub enum Conditioning {
    /// MusicGen: text states (batch, seq, text_dim) and their padding mask (batch, seq), attended
    /// through cross-attention; the unconditional branch sees zeros with an empty mask.
    Text {
        /// T5 output.
        states: Tensor,
        /// 1 = token, 0 = padding (f32).
        mask: Tensor,
    },
    /// MusicGen Melody: prefixes (batch, prefix_len, hidden) fed before the tokens, for the
    /// conditional and the unconditional branch.
    Prefix {
        /// Chroma + text prefix.
        cond: Tensor,
        /// Null chroma + zero text prefix.
        uncond: Tensor,
    },
}

/// Runs the token loop for a batch conditioned on `cond`. Returns per item its codes as
/// `codes[k][frame]`. `progress(done, total)` is called after every decoding step.
pub fn generate_codes(
    decoder: &MusicgenDecoder,
    cond: &Conditioning,
    items: &[CodeRequest],
    params: &GenerationParams,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<Vec<Vec<u32>>>> {
    let cfg = decoder.config();
    let (b, k_books, vocab, pad) = (
        items.len(),
        cfg.num_codebooks,
        cfg.vocab_size,
        cfg.pad_token_id,
    );
    let patterns: Vec<DelayPattern> = items
        .iter()
        .map(|it| DelayPattern {
            codebooks: k_books,
            len: it.max_new_tokens + 1,
        })
        .collect();
    let len = patterns.iter().map(|p| p.len).max().unwrap_or(1);
    let guided = params.guidance_scale > 1.0;
    let mut state = match cond {
        Conditioning::Text { states, mask } if guided => decoder.start(
            &Tensor::cat(&[states, &states.zeros_like()?], 0)?,
            &Tensor::cat(&[mask, &mask.zeros_like()?], 0)?,
            len,
        )?,
        Conditioning::Text { states, mask } => decoder.start(states, mask, len)?,
        Conditioning::Prefix { cond, uncond } if guided => {
            decoder.start_prefix(&Tensor::cat(&[cond, uncond], 0)?, len)?
        }
        Conditioning::Prefix { cond, .. } => decoder.start_prefix(cond, len)?,
    };
    let mut rngs: Vec<ChaCha8Rng> = items
        .iter()
        .map(|it| ChaCha8Rng::seed_from_u64(it.seed))
        .collect();
    // tokens[i][k][t]; position 0 is BOS (= pad) for every codebook.
    let mut tokens = vec![vec![vec![pad; len]; k_books]; b];
    let dev = match cond {
        Conditioning::Text { states, .. } => states.device().clone(),
        Conditioning::Prefix { cond, .. } => cond.device().clone(),
    };
    let dev = &dev;
    for t in 0..len - 1 {
        let step: Vec<u32> = tokens
            .iter()
            .flat_map(|books| books.iter().map(move |row| row[t]))
            .collect();
        let ids = Tensor::from_vec(step, (b, k_books, 1), dev)?;
        let ids = if guided {
            Tensor::cat(&[&ids, &ids], 0)?
        } else {
            ids
        };
        let logits = decoder
            .forward(&ids, &mut state)?
            .i((.., .., 0, ..))?
            .to_dtype(DType::F32)?;
        let logits = if guided {
            let cond = logits.narrow(0, 0, b)?;
            let uncond = logits.narrow(0, b, b)?;
            (&uncond + ((cond - &uncond)? * params.guidance_scale)?)?
        } else {
            logits
        };
        let chosen: Vec<Vec<u32>> = match params.sampling {
            Sampling::Greedy => logits
                .argmax(D::Minus1)?
                .to_dtype(DType::U32)?
                .to_vec2::<u32>()?,
            Sampling::TopK { k, temperature } => {
                let all = logits.to_vec3::<f32>()?;
                all.iter()
                    .zip(rngs.iter_mut())
                    .map(|(books, rng)| {
                        books
                            .iter()
                            .map(|row| sample_top_k(row, k, temperature, rng))
                            .collect()
                    })
                    .collect()
            }
        };
        for (i, books) in tokens.iter_mut().enumerate() {
            for (k, row) in books.iter_mut().enumerate() {
                if !patterns[i].is_pad(k, t + 1) {
                    let tok = chosen[i][k];
                    debug_assert!((tok as usize) < vocab);
                    row[t + 1] = tok;
                }
            }
        }
        progress(t + 1, len - 1);
    }
    Ok(tokens
        .iter()
        .zip(&patterns)
        .map(|(books, p)| {
            books
                .iter()
                .enumerate()
                .map(|(k, row)| row[k + 1..k + 1 + p.frames()].to_vec())
                .collect()
        })
        .collect())
}

/// Samples one token among the `k` highest logits of `row` at `temperature`.
fn sample_top_k(row: &[f32], k: usize, temperature: f64, rng: &mut ChaCha8Rng) -> u32 {
    let temperature = temperature.max(1e-6);
    let mut idx: Vec<usize> = (0..row.len()).collect();
    let k = k.clamp(1, row.len());
    if k < row.len() {
        idx.select_nth_unstable_by(k - 1, |a, b| row[*b].total_cmp(&row[*a]));
        idx.truncate(k);
    }
    let max = idx
        .iter()
        .map(|i| row[*i])
        .fold(f32::NEG_INFINITY, f32::max) as f64;
    let weights: Vec<f64> = idx
        .iter()
        .map(|i| ((row[*i] as f64 - max) / temperature).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let mut u = rng.gen::<f64>() * total;
    for (i, w) in idx.iter().zip(&weights) {
        if u < *w {
            return *i as u32;
        }
        u -= w;
    }
    idx[weights.len() - 1] as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_pattern_matches_transformers_docstring() {
        // transformers' build_delay_pattern_mask docstring, 4 codebooks, max length 8:
        // [P, -1, -1, -1, -1, P, P, P]
        // [P, P, -1, -1, -1, -1, P, P]
        // [P, P, P, -1, -1, -1, -1, P]
        // [P, P, P, P, -1, -1, -1, -1]
        let p = DelayPattern {
            codebooks: 4,
            len: 8,
        };
        let rows: Vec<String> = (0..4)
            .map(|k| {
                (0..8)
                    .map(|t| if p.is_pad(k, t) { 'P' } else { '-' })
                    .collect()
            })
            .collect();
        assert_eq!(rows, vec!["P----PPP", "PP----PP", "PPP----P", "PPPP----"]);
        assert_eq!(p.frames(), 4);
    }

    #[test]
    fn top_k_never_leaves_the_top_k_and_follows_the_seed() {
        let row: Vec<f32> = (0..100).map(|i| (i as f32 * 0.37).sin()).collect();
        let mut order: Vec<usize> = (0..100).collect();
        order.sort_by(|a, b| row[*b].total_cmp(&row[*a]));
        let top: Vec<u32> = order[..5].iter().map(|i| *i as u32).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let draws: Vec<u32> = (0..200)
            .map(|_| sample_top_k(&row, 5, 1.0, &mut rng))
            .collect();
        assert!(draws.iter().all(|d| top.contains(d)));
        assert!(
            top.iter().all(|t| draws.contains(t)),
            "all of the top 5 should appear in 200 draws"
        );
        let mut again = ChaCha8Rng::seed_from_u64(9);
        let redo: Vec<u32> = (0..200)
            .map(|_| sample_top_k(&row, 5, 1.0, &mut again))
            .collect();
        assert_eq!(draws, redo);
        // k = 1 is greedy.
        assert_eq!(sample_top_k(&row, 1, 1.0, &mut rng), order[0] as u32);
    }
}
