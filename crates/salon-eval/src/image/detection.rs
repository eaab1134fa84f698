//! Scoring real-vs-generated image detection (BitMind): per-challenge correctness, the Matthews
//! correlation coefficient, and rolling per-miner statistics with BitMind v2's reward
//! `0.5 * MCC(last 100) + 0.5 * accuracy(last 10)`.

use crate::{Challenge, Evaluation, Evaluator, Fingerprint, Truth};
use salon_core::{Response, Task};
use std::collections::VecDeque;

/// Matthews correlation coefficient from a confusion matrix; 0 when any marginal is empty.
pub fn mcc(tp: u64, tn: u64, fp: u64, fn_: u64) -> f64 {
    let (tp, tn, fp, fn_) = (tp as f64, tn as f64, fp as f64, fn_ as f64);
    let denom = ((tp + fp) * (tp + fn_) * (tn + fp) * (tn + fn_)).sqrt();
    if denom == 0.0 {
        0.0
    } else {
        (tp * tn - fp * fn_) / denom
    }
}

/// Whether `prediction` is a valid probability (finite, in [0, 1]).
pub fn valid_prediction(prediction: f32) -> bool {
    prediction.is_finite() && (0.0..=1.0).contains(&prediction)
}

/// Scores `Response::Detection` against `Truth::Label`: 1 if the rounded prediction is the label,
/// else 0; 0 for a prediction outside [0, 1] or NaN (BitMind v1).
#[derive(Clone, Debug, Default)]
pub struct DetectionEvaluator;

impl Evaluator for DetectionEvaluator {
    fn supports(&self, task: Task) -> bool {
        task == Task::ImageDetection
    }

    fn evaluate(&self, challenge: &Challenge, response: &Response) -> Evaluation {
        let Response::Detection { prediction } = response else {
            return Evaluation::zero("not a detection response");
        };
        let Truth::Label { generated } = challenge.truth else {
            return Evaluation::zero(
                "no label to compare with; detection scoring needs Truth::Label",
            );
        };
        if !valid_prediction(*prediction) {
            return Evaluation::zero(format!(
                "prediction {prediction} is not a probability in [0, 1]"
            ));
        }
        let said_generated = *prediction > 0.5;
        let mut ev = Evaluation {
            score: if said_generated == generated {
                1.0
            } else {
                0.0
            },
            ..Default::default()
        };
        ev.metrics.insert("prediction".into(), *prediction as f64);
        ev.metrics
            .insert("label".into(), if generated { 1.0 } else { 0.0 });
        if ev.score == 0.0 {
            ev.note = Some("wrong label".into());
        }
        ev
    }

    fn fingerprint(&self, _response: &Response) -> Option<Fingerprint> {
        None
    }
}

/// One miner's recent detection record: the last 100 (prediction, label) outcomes.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DetectionStats {
    history: VecDeque<(bool, bool)>,
}

impl DetectionStats {
    /// How many outcomes the MCC window keeps.
    pub const MCC_WINDOW: usize = 100;
    /// How many outcomes the accuracy window keeps.
    pub const ACCURACY_WINDOW: usize = 10;

    /// Records a prediction (`None` for an invalid one, which counts as wrong) and the true label.
    pub fn record(&mut self, prediction: Option<f32>, generated: bool) {
        let said = match prediction.filter(|p| valid_prediction(*p)) {
            Some(p) => p > 0.5,
            None => !generated,
        };
        self.history.push_back((said, generated));
        while self.history.len() > Self::MCC_WINDOW {
            self.history.pop_front();
        }
    }

    /// Number of outcomes held.
    pub fn len(&self) -> usize {
        self.history.len()
    }

    /// Whether nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.history.is_empty()
    }

    /// Accuracy over the last 10 outcomes (0 when empty).
    pub fn accuracy(&self) -> f64 {
        let recent: Vec<_> = self
            .history
            .iter()
            .rev()
            .take(Self::ACCURACY_WINDOW)
            .collect();
        if recent.is_empty() {
            return 0.0;
        }
        recent.iter().filter(|(s, g)| s == g).count() as f64 / recent.len() as f64
    }

    /// MCC over the last 100 outcomes.
    pub fn mcc(&self) -> f64 {
        let (mut tp, mut tn, mut fp, mut fn_) = (0, 0, 0, 0);
        for &(said, truth) in &self.history {
            match (said, truth) {
                (true, true) => tp += 1,
                (false, false) => tn += 1,
                (true, false) => fp += 1,
                (false, true) => fn_ += 1,
            }
        }
        mcc(tp, tn, fp, fn_)
    }

    /// BitMind v2 reward: `0.5 * MCC + 0.5 * accuracy`, floored at 0.
    pub fn reward(&self) -> f64 {
        (0.5 * self.mcc() + 0.5 * self.accuracy()).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use salon_core::task::DetectionRequest;
    use salon_core::{Image, Request};

    #[test]
    fn mcc_matches_hand_computed_values() {
        assert_eq!(mcc(50, 50, 0, 0), 1.0);
        assert_eq!(mcc(0, 0, 50, 50), -1.0);
        assert_eq!(mcc(10, 0, 5, 0), 0.0);
        // tp=6 tn=3 fp=1 fn=2: (18-2)/sqrt(7*8*4*5) = 16/sqrt(1120)
        assert!((mcc(6, 3, 1, 2) - 16.0 / 1120f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn evaluator_rounds_and_rejects_invalid() {
        let c = Challenge {
            request: Request::ImageDetection(DetectionRequest {
                image: Image::filled(2, 2, [0; 3]),
            }),
            truth: Truth::Label { generated: true },
        };
        let e = DetectionEvaluator;
        assert_eq!(
            e.evaluate(&c, &Response::Detection { prediction: 0.8 })
                .score,
            1.0
        );
        assert_eq!(
            e.evaluate(&c, &Response::Detection { prediction: 0.2 })
                .score,
            0.0
        );
        assert_eq!(
            e.evaluate(&c, &Response::Detection { prediction: 1.5 })
                .score,
            0.0
        );
        assert_eq!(
            e.evaluate(
                &c,
                &Response::Detection {
                    prediction: f32::NAN
                }
            )
            .score,
            0.0
        );
        assert_eq!(
            e.evaluate(&c, &Response::Text { text: "yes".into() }).score,
            0.0
        );
    }

    #[test]
    fn stats_keep_windows_and_reward() {
        let mut s = DetectionStats::default();
        for i in 0..150 {
            s.record(Some(if i % 2 == 0 { 0.9 } else { 0.1 }), i % 2 == 0);
        }
        assert_eq!(s.len(), 100);
        assert_eq!(s.reward(), 1.0);
        for i in 0..10 {
            s.record(Some(0.9), i % 2 == 1);
        }
        assert!((s.accuracy() - 0.5).abs() < 1e-12);
        assert!(s.mcc() < 1.0 && s.mcc() > 0.5);
        let mut bad = DetectionStats::default();
        for i in 0..20 {
            bad.record(None, i % 2 == 0);
        }
        assert_eq!(bad.reward(), 0.0);
    }
}
