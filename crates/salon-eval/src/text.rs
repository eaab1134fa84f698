//! Text-generation scoring by reproduction: the validator regenerates the continuation with the
//! honest engine and compares word tokens. An exact token match scores 1; otherwise
//! `0.9 * (0.5 * bigram F1 + 0.3 * unigram F1 + 0.2 * positional agreement)`; empty text scores 0.
//! Fingerprints are SimHash bits over word 3-shingles, so near-copies share most bits.

use crate::{Challenge, Evaluation, Evaluator, Fingerprint, Truth};
use salon_core::{Response, Task};
use std::collections::HashMap;

/// Lowercased words with surrounding punctuation removed.
pub fn tokens(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// F1 of two multisets of n-grams (0 when either side has none).
pub fn ngram_f1(a: &[String], b: &[String], n: usize) -> f64 {
    if a.len() < n || b.len() < n {
        return 0.0;
    }
    let mut counts: HashMap<&[String], i64> = HashMap::new();
    for g in b.windows(n) {
        *counts.entry(g).or_default() += 1;
    }
    let mut overlap = 0;
    for g in a.windows(n) {
        if let Some(c) = counts.get_mut(g) {
            if *c > 0 {
                *c -= 1;
                overlap += 1;
            }
        }
    }
    let (na, nb) = ((a.len() + 1 - n) as f64, (b.len() + 1 - n) as f64);
    if overlap == 0 {
        return 0.0;
    }
    let (p, r) = (overlap as f64 / na, overlap as f64 / nb);
    2.0 * p * r / (p + r)
}

/// Share of positions (over the longer text) holding the same token.
pub fn positional_agreement(a: &[String], b: &[String]) -> f64 {
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 0.0;
    }
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / longest as f64
}

/// Scores `Response::Text` against `Truth::Reproduction(Response::Text)`.
#[derive(Clone, Debug, Default)]
pub struct TextEvaluator;

impl Evaluator for TextEvaluator {
    fn supports(&self, task: Task) -> bool {
        task == Task::TextGeneration
    }

    fn evaluate(&self, challenge: &Challenge, response: &Response) -> Evaluation {
        let Response::Text { text } = response else {
            return Evaluation::zero("not a text response");
        };
        let Truth::Reproduction(Response::Text { text: truth }) = &challenge.truth else {
            return Evaluation::zero(
                "no reproduction to compare with; text scoring needs Truth::Reproduction",
            );
        };
        let (a, b) = (tokens(text), tokens(truth));
        if a.is_empty() {
            return Evaluation::zero("empty text");
        }
        let (bi, uni, pos) = (
            ngram_f1(&a, &b, 2),
            ngram_f1(&a, &b, 1),
            positional_agreement(&a, &b),
        );
        let score = if a == b {
            1.0
        } else {
            0.9 * (0.5 * bi + 0.3 * uni + 0.2 * pos)
        };
        let mut ev = Evaluation {
            score,
            ..Default::default()
        };
        ev.metrics.insert("bigram_f1".into(), bi);
        ev.metrics.insert("unigram_f1".into(), uni);
        ev.metrics.insert("positional".into(), pos);
        if score < 1.0 {
            ev.note = Some("does not match the reproduction".into());
        }
        ev
    }

    fn fingerprint(&self, response: &Response) -> Option<Fingerprint> {
        match response {
            Response::Text { text } => Some(text_fingerprint(text)),
            _ => None,
        }
    }
}

fn fnv(bytes: impl Iterator<Item = u8>, basis: u64) -> u64 {
    let mut h = basis;
    for b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Final avalanche so nearby inputs spread over all bits.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// 128-bit SimHash over word 3-shingles (or the words themselves for texts under 3 words).
pub fn text_fingerprint(text: &str) -> Fingerprint {
    let t = tokens(text);
    let shingles: Vec<String> = if t.len() >= 3 {
        t.windows(3).map(|w| w.join(" ")).collect()
    } else {
        t
    };
    let mut votes = [0i64; 128];
    for s in &shingles {
        let h = [
            fnv(s.bytes(), 0xcbf2_9ce4_8422_2325),
            fnv(s.bytes(), 0x8422_2325_cbf2_9ce4),
        ];
        for (i, v) in votes.iter_mut().enumerate() {
            *v += if h[i / 64] >> (i % 64) & 1 == 1 {
                1
            } else {
                -1
            };
        }
    }
    Fingerprint::from_bools(votes.iter().map(|&v| v > 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use salon_core::task::TextRequest;
    use salon_core::Request;
    use salon_engines::builtin::text::MarkovWriter;
    use salon_engines::builtin::Fidelity;
    use salon_engines::Engine;

    fn req(seed: u64) -> Request {
        Request::TextGeneration(TextRequest {
            prompt: "At night the city".into(),
            max_tokens: 60,
            seed,
        })
    }

    fn write(f: f32, r: &Request) -> Response {
        MarkovWriter::new(Fidelity(f)).generate(r).unwrap()
    }

    #[test]
    fn honest_matches_weak_lower_empty_and_unrelated_lowest() {
        let r = req(5);
        let c = Challenge {
            request: r.clone(),
            truth: Truth::Reproduction(write(1.0, &r)),
        };
        let e = TextEvaluator;
        assert_eq!(e.evaluate(&c, &write(1.0, &r)).score, 1.0);
        let weak = e.evaluate(&c, &write(0.3, &r)).score;
        assert!(weak < 0.7 && weak > 0.0, "weak {weak}");
        assert_eq!(
            e.evaluate(&c, &Response::Text { text: "  ".into() }).score,
            0.0
        );
        let unrelated = Response::Text {
            text: "zebra quantum violin ".repeat(20),
        };
        assert!(e.evaluate(&c, &unrelated).score < weak);
        let none = Challenge {
            request: r.clone(),
            truth: Truth::None,
        };
        assert_eq!(e.evaluate(&none, &write(1.0, &r)).score, 0.0);
    }

    #[test]
    fn fingerprints_see_near_copies_and_separate_texts() {
        let Response::Text { text: a } = write(1.0, &req(1)) else {
            panic!()
        };
        let Response::Text { text: b } = write(1.0, &req(2)) else {
            panic!()
        };
        let fa = text_fingerprint(&a);
        // Changing case and punctuation and dropping the last word keeps most shingles.
        let mut near: Vec<&str> = a.split_whitespace().collect();
        near.pop();
        let near = near.join(" ").to_uppercase();
        assert!(fa.similarity(&text_fingerprint(&near)) > 0.85);
        assert!(
            fa.similarity(&text_fingerprint(&b)) < 0.75,
            "{}",
            fa.similarity(&text_fingerprint(&b))
        );
    }
}
