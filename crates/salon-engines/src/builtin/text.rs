//! The built-in text engine, [`MarkovWriter`]: a word-level Markov chain (order 2, backing off to
//! order 1) trained on a small corpus of original prose written for Salon, continuing the prompt
//! with seeded sampling. It is a toy language model with no weights, and says so.

use super::Fidelity;
use crate::{Engine, EngineError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use salon_core::task::TextRequest;
use salon_core::{Request, Response, Task};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The training text: original English prose written for this project.
pub const CORPUS: &str = include_str!("text/corpus.txt");

/// Most words one request may ask for.
pub const MAX_TOKENS: u32 = 2048;

struct Chain {
    tokens: Vec<&'static str>,
    order2: HashMap<(String, String), Vec<usize>>,
    order1: HashMap<String, Vec<usize>>,
    starts: Vec<usize>,
}

fn norm(w: &str) -> String {
    w.trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
}

fn chain() -> &'static Chain {
    static CHAIN: OnceLock<Chain> = OnceLock::new();
    CHAIN.get_or_init(|| {
        let tokens: Vec<&'static str> = CORPUS.split_whitespace().collect();
        let keys: Vec<String> = tokens.iter().map(|t| norm(t)).collect();
        let mut order2: HashMap<(String, String), Vec<usize>> = HashMap::new();
        let mut order1: HashMap<String, Vec<usize>> = HashMap::new();
        let mut starts = vec![0];
        for i in 0..tokens.len() {
            if i >= 1 {
                order1.entry(keys[i - 1].clone()).or_default().push(i);
                if tokens[i - 1].ends_with('.') {
                    starts.push(i);
                }
            }
            if i >= 2 {
                order2
                    .entry((keys[i - 2].clone(), keys[i - 1].clone()))
                    .or_default()
                    .push(i);
            }
        }
        Chain {
            tokens,
            order2,
            order1,
            starts,
        }
    })
}

/// Word-level Markov text generator. Below fidelity 1 it more often backs off to order 1 and
/// sometimes drops in a random corpus word (the devnet's `weak` miners).
#[derive(Clone, Debug, Default)]
pub struct MarkovWriter {
    fidelity: Fidelity,
}

impl MarkovWriter {
    /// A writer at the given fidelity.
    pub fn new(fidelity: Fidelity) -> Self {
        Self { fidelity }
    }

    /// The continuation of `req.prompt`: `req.max_tokens` words, space-separated.
    pub fn write(&self, req: &TextRequest) -> Result<String, EngineError> {
        if req.max_tokens == 0 || req.max_tokens > MAX_TOKENS {
            return Err(EngineError::InvalidRequest(format!(
                "max_tokens {} is outside 1..={MAX_TOKENS}",
                req.max_tokens
            )));
        }
        let c = chain();
        let loss = 1.0 - self.fidelity.get();
        let mut rng = ChaCha8Rng::seed_from_u64(req.seed);
        let mut history: Vec<String> = req
            .prompt
            .split_whitespace()
            .map(norm)
            .filter(|w| !w.is_empty())
            .collect();
        let mut out: Vec<&str> = Vec::with_capacity(req.max_tokens as usize);
        for _ in 0..req.max_tokens {
            let n = history.len();
            let two = (n >= 2)
                .then(|| {
                    c.order2
                        .get(&(history[n - 2].clone(), history[n - 1].clone()))
                })
                .flatten();
            let one = (n >= 1).then(|| c.order1.get(&history[n - 1])).flatten();
            let backoff = rng.gen::<f32>() < loss;
            let next = match (two, one) {
                (Some(t), _) if !backoff => t[rng.gen_range(0..t.len())],
                (_, Some(o)) => o[rng.gen_range(0..o.len())],
                (Some(t), None) => t[rng.gen_range(0..t.len())],
                (None, None) => c.starts[rng.gen_range(0..c.starts.len())],
            };
            let next = if rng.gen::<f32>() < loss * 0.3 {
                rng.gen_range(0..c.tokens.len())
            } else {
                next
            };
            let word = c.tokens[next];
            out.push(word);
            history.push(norm(word));
        }
        Ok(out.join(" "))
    }
}

impl Engine for MarkovWriter {
    fn describe(&self) -> String {
        format!("builtin Markov-chain writer (order 2, small original corpus, no model), fidelity {:.2}", self.fidelity.get())
    }

    fn supports(&self, task: Task) -> bool {
        task == Task::TextGeneration
    }

    fn generate(&self, request: &Request) -> Result<Response, EngineError> {
        let Request::TextGeneration(r) = request else {
            return Err(EngineError::Unsupported(request.task()));
        };
        Ok(Response::Text {
            text: self.write(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(prompt: &str, n: u32, seed: u64) -> TextRequest {
        TextRequest {
            prompt: prompt.into(),
            max_tokens: n,
            seed,
        }
    }

    #[test]
    fn continues_from_the_corpus_deterministically() {
        let w = MarkovWriter::default();
        let a = w.write(&req("The harbour town", 40, 1)).unwrap();
        assert_eq!(a.split_whitespace().count(), 40);
        assert_eq!(a, w.write(&req("The harbour town", 40, 1)).unwrap());
        assert_ne!(a, w.write(&req("The harbour town", 40, 2)).unwrap());
        // Order 2 after "harbour town" can only continue with the corpus's next word.
        assert!(a.starts_with("wakes"), "{a}");
        // Every adjacent pair of output words occurs in the corpus (order >= 1 chain).
        let pairs: std::collections::HashSet<(String, String)> = CORPUS
            .split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .map(|p| (norm(p[0]), norm(p[1])))
            .collect();
        let words: Vec<String> = a.split_whitespace().map(norm).collect();
        assert!(
            words
                .windows(2)
                .all(|p| pairs.contains(&(p[0].clone(), p[1].clone()))),
            "{a}"
        );
        assert!(w.write(&req("x", 0, 1)).is_err());
        assert!(
            w.write(&req("zzz qqq", 5, 1))
                .unwrap()
                .split_whitespace()
                .count()
                == 5
        );
    }
}
