//! Scoring image embeddings against the validator's reproduction by cosine similarity.
//!
//! One row per image is required. A row with cosine > 0.995 (Vision's "same" threshold) matches;
//! the score is the mean over rows of 1 for a match, else `0.9 * max(cos, 0)^4` (so a loosely
//! related vector scores well below a match and an unrelated one near 0).

use crate::{Challenge, Evaluation, Evaluator, Fingerprint, Truth};
use salon_core::{Response, Task};

/// Cosine similarity; 0 when either vector is zero, the lengths differ or a value is not finite.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() || a.is_empty() || a.iter().chain(b).any(|v| !v.is_finite()) {
        return 0.0;
    }
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let na: f64 = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// Scores `Response::Embeddings` against `Truth::Reproduction(Response::Embeddings)`.
#[derive(Clone, Debug, Default)]
pub struct EmbeddingEvaluator;

impl Evaluator for EmbeddingEvaluator {
    fn supports(&self, task: Task) -> bool {
        task == Task::ImageEmbedding
    }

    fn evaluate(&self, challenge: &Challenge, response: &Response) -> Evaluation {
        let Response::Embeddings { embeddings } = response else {
            return Evaluation::zero("not an embeddings response");
        };
        let Truth::Reproduction(Response::Embeddings { embeddings: truth }) = &challenge.truth
        else {
            return Evaluation::zero(
                "no reproduction to compare with; embedding scoring needs Truth::Reproduction",
            );
        };
        if embeddings.len() != truth.len() || truth.is_empty() {
            return Evaluation::zero(format!(
                "{} rows for {} images",
                embeddings.len(),
                truth.len()
            ));
        }
        let cos: Vec<f64> = embeddings
            .iter()
            .zip(truth)
            .map(|(a, b)| cosine(a, b))
            .collect();
        let score = cos
            .iter()
            .map(|&c| {
                if c > 0.995 {
                    1.0
                } else {
                    0.9 * c.max(0.0).powi(4)
                }
            })
            .sum::<f64>()
            / cos.len() as f64;
        let mut ev = Evaluation {
            score,
            ..Default::default()
        };
        ev.metrics.insert(
            "mean_cosine".into(),
            cos.iter().sum::<f64>() / cos.len() as f64,
        );
        ev.metrics.insert(
            "min_cosine".into(),
            cos.iter().cloned().fold(f64::INFINITY, f64::min),
        );
        if score < 1.0 {
            ev.note = Some("embeddings differ from the reproduction".into());
        }
        ev
    }

    fn fingerprint(&self, response: &Response) -> Option<Fingerprint> {
        let Response::Embeddings { embeddings } = response else {
            return None;
        };
        // Sign bits of the first row: identical vectors give identical bits.
        embeddings
            .first()
            .map(|row| Fingerprint::from_bools(row.iter().map(|v| *v > 0.0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salon_core::task::EmbeddingRequest;
    use salon_core::Request;

    fn challenge(rows: Vec<Vec<f32>>) -> Challenge {
        Challenge {
            request: Request::ImageEmbedding(EmbeddingRequest { images: vec![] }),
            truth: Truth::Reproduction(Response::Embeddings { embeddings: rows }),
        }
    }

    #[test]
    fn same_rows_match_perturbed_score_lower_wrong_count_zero() {
        let truth = vec![vec![1.0, 0.0, 0.5], vec![0.0, 1.0, 0.0]];
        let c = challenge(truth.clone());
        let e = EmbeddingEvaluator;
        assert_eq!(
            e.evaluate(
                &c,
                &Response::Embeddings {
                    embeddings: truth.clone()
                }
            )
            .score,
            1.0
        );
        let near = vec![vec![1.0, 0.3, 0.5], vec![0.1, 1.0, 0.2]];
        let s = e
            .evaluate(&c, &Response::Embeddings { embeddings: near })
            .score;
        assert!(s > 0.3 && s < 0.9, "{s}");
        assert_eq!(
            e.evaluate(
                &c,
                &Response::Embeddings {
                    embeddings: vec![truth[0].clone()]
                }
            )
            .score,
            0.0
        );
        let nan = vec![vec![f32::NAN, 0.0, 0.5], truth[1].clone()];
        assert!(
            e.evaluate(&c, &Response::Embeddings { embeddings: nan })
                .score
                <= 0.5
        );
    }

    #[test]
    fn builtin_embedder_honest_matches_weak_and_wrong_images_lower() {
        use salon_core::task::ImageRequest;
        use salon_engines::builtin::{embedding::Embedder, image::Painter, Fidelity};
        use salon_engines::Engine;
        let paint = |prompt: &str, seed| {
            let r = ImageRequest {
                prompt: prompt.into(),
                width: 128,
                height: 96,
                steps: 20,
                cfg_scale: 7.0,
                seed,
            };
            Painter::default().paint(&r).unwrap()
        };
        let images = vec![
            paint("a lake under mountains", 1),
            paint("abstract red circles", 2),
        ];
        let req = Request::ImageEmbedding(EmbeddingRequest {
            images: images.clone(),
        });
        let honest = Embedder::default().generate(&req).unwrap();
        let c = Challenge {
            request: req.clone(),
            truth: Truth::Reproduction(honest.clone()),
        };
        let e = EmbeddingEvaluator;
        assert_eq!(e.evaluate(&c, &honest).score, 1.0);
        let weak = e
            .evaluate(&c, &Embedder::new(Fidelity(0.5)).generate(&req).unwrap())
            .score;
        assert!(weak > 0.05 && weak < 0.9, "weak {weak}");
        let other = EmbeddingRequest {
            images: vec![paint("neon city at night", 3), paint("a forest", 4)],
        };
        let wrong = Embedder::default()
            .generate(&Request::ImageEmbedding(other))
            .unwrap();
        let wrong = e.evaluate(&c, &wrong).score;
        assert!(wrong < weak, "wrong images {wrong} vs weak {weak}");
    }
}
