//! The built-in detector: challenge images for real-vs-generated detection
//! ([`challenge_image`]) and [`Detector`], a fixed logistic classifier over forensic features
//! (noise level, NPR residual, spectral slope, saturation, flatness). No weights files: the few
//! coefficients are fitted offline by `fit_detector_weights` below and written here.

pub mod augment;
pub mod features;
pub mod photo;

use super::image::canvas::Canvas;
use super::image::Painter;
use super::Fidelity;
use crate::{Engine, EngineError};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use salon_core::media::ImageFormat;
use salon_core::task::ImageRequest;
use salon_core::{Image, Request, Response, Task};

/// Side of the source images before augmentation.
const SOURCE: usize = 320;

/// A detection challenge image for `seed`: a procedural photo (`generated = false`) or a painter
/// image upsampled from half resolution (`generated = true`), then augmented as BitMind does and
/// JPEG-compressed as it travels. Deterministic for `(seed, generated)`.
pub fn challenge_image(seed: u64, generated: bool) -> Image {
    let mut rng = ChaCha8Rng::seed_from_u64(
        seed ^ if generated {
            0x6E4E_0000_0000_0001
        } else {
            0x4EA1_0000_0000_0002
        },
    );
    let source = if generated {
        painted(&mut rng)
    } else {
        photo::photo(&mut rng, SOURCE)
    };
    let aug = augment::augment(&source, &mut rng);
    let q = rng.gen_range(85..=95u8);
    aug.encode(ImageFormat::Jpeg(q))
        .ok()
        .and_then(|b| Image::decode(&b).ok())
        .unwrap_or(aug)
}

fn painted(rng: &mut ChaCha8Rng) -> Image {
    const SUBJECTS: &[&str] = &[
        "a lake",
        "mountains",
        "a forest",
        "a city skyline",
        "a beach with the sea",
        "a village",
        "abstract shapes",
        "a desert",
        "hills and trees",
        "a harbour",
    ];
    const MOODS: &[&str] = &[
        "at sunset",
        "at night",
        "on a sunny day",
        "in the fog",
        "in winter",
        "in autumn",
        "",
        "under clouds",
    ];
    const STYLES: &[&str] = &[
        "",
        "",
        "photo",
        "oil painting",
        "watercolor",
        "cinematic",
        "realistic",
        "flat",
    ];
    let prompt = format!(
        "{} {} {} {}",
        SUBJECTS.choose(rng).copied().unwrap_or("a lake"),
        MOODS.choose(rng).copied().unwrap_or(""),
        STYLES.choose(rng).copied().unwrap_or(""),
        ["red", "blue", "green", "golden", "purple", ""]
            .choose(rng)
            .copied()
            .unwrap_or("")
    );
    let req = ImageRequest {
        prompt,
        width: (SOURCE / 2) as u32,
        height: (SOURCE / 2) as u32,
        steps: rng.gen_range(6..40),
        cfg_scale: rng.gen_range(2.0..9.0),
        seed: rng.gen(),
    };
    match Painter::default().paint(&req) {
        // Diffusion decoders upsample latents; the painter's half-size output upsampled likewise.
        Ok(img) => Canvas::from_image(&img)
            .resize_bicubic(SOURCE, SOURCE)
            .to_image(),
        Err(_) => Image::filled(SOURCE as u32, SOURCE as u32, [128; 3]),
    }
}

/// Logistic weights over [`features::NAMES`], then the bias. Fitted by `fit_detector_weights`
/// (run `cargo test -p salon-engines fit_detector_weights -- --ignored --nocapture`): batch gradient
/// descent on the log-loss over 500 challenge images for seeds 1_000_000..1_000_250, disjoint
/// from the test's seeds (training accuracy 0.994). Standardised weights: noise -1.19, NPR 0.58,
/// slope(1,2) 0.38, slope(2,4) -1.20, saturation 3.64, flat share 5.08: generated images are
/// flatter, more saturated and less noisy than the photos.
const WEIGHTS: [f32; features::COUNT + 1] =
    [-3.246, 1.0755, 1.9976, -5.9204, 32.1683, 30.1548, -9.303];

/// Real-vs-generated classifier. Below fidelity 1, a share of its answers are replaced by
/// seeded coin flips (the devnet's `weak` miners).
#[derive(Clone, Debug, Default)]
pub struct Detector {
    fidelity: Fidelity,
}

impl Detector {
    /// A detector at the given fidelity.
    pub fn new(fidelity: Fidelity) -> Self {
        Self { fidelity }
    }

    /// Probability that `img` is generated.
    pub fn predict(&self, img: &Image) -> Result<f32, EngineError> {
        if img.width < 8
            || img.height < 8
            || img.rgb.len() != img.width as usize * img.height as usize * 3
        {
            return Err(EngineError::InvalidRequest(format!(
                "image of {}x{} with {} bytes is too small or malformed; send at least 8x8 RGB",
                img.width,
                img.height,
                img.rgb.len()
            )));
        }
        let p = probability(&features::features(img), &WEIGHTS);
        let loss = 1.0 - self.fidelity.get();
        if loss > 0.0 {
            let seed = img.rgb.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
            });
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            if rng.gen::<f32>() < loss * 0.75 {
                return Ok(rng.gen::<f32>());
            }
        }
        Ok(p)
    }
}

fn probability(f: &[f32; features::COUNT], w: &[f32; features::COUNT + 1]) -> f32 {
    let z: f32 = f.iter().zip(w).map(|(a, b)| a * b).sum::<f32>() + w[features::COUNT];
    1.0 / (1.0 + (-z).exp())
}

impl Engine for Detector {
    fn describe(&self) -> String {
        format!(
            "builtin forensic-feature detector (logistic, no model), fidelity {:.2}",
            self.fidelity.get()
        )
    }

    fn supports(&self, task: Task) -> bool {
        task == Task::ImageDetection
    }

    fn generate(&self, request: &Request) -> Result<Response, EngineError> {
        let Request::ImageDetection(r) = request else {
            return Err(EngineError::Unsupported(request.task()));
        };
        Ok(Response::Detection {
            prediction: self.predict(&r.image)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accuracy(d: &Detector, seeds: std::ops::Range<u64>) -> f64 {
        let mut right = 0;
        let mut total = 0;
        for s in seeds {
            for generated in [false, true] {
                let p = d.predict(&challenge_image(s, generated)).unwrap();
                right += usize::from((p > 0.5) == generated);
                total += 1;
            }
        }
        right as f64 / total as f64
    }

    #[test]
    fn challenge_images_are_deterministic_256_and_differ() {
        let a = challenge_image(7, true);
        assert_eq!((a.width, a.height), (256, 256));
        assert_eq!(a, challenge_image(7, true));
        assert_ne!(a, challenge_image(8, true));
        assert_ne!(challenge_image(7, false), challenge_image(8, false));
    }

    #[test]
    fn honest_detector_is_accurate_and_weak_is_not() {
        let honest = accuracy(&Detector::default(), 0..100);
        eprintln!("honest accuracy {honest}");
        assert!(honest >= 0.9, "honest accuracy {honest}");
        let weak = accuracy(&Detector::new(Fidelity(0.3)), 0..100);
        eprintln!("weak (fidelity 0.3) accuracy {weak}");
        assert!(
            weak < honest - 0.1,
            "weak accuracy {weak} vs honest {honest}"
        );
    }

    /// Fits [`WEIGHTS`]: logistic regression by batch gradient descent on standardised features,
    /// then folded back to raw-feature weights. Prints the constants to paste above.
    #[test]
    #[ignore]
    fn fit_detector_weights() {
        let mut xs = Vec::new();
        let mut ys = Vec::new();
        for s in 1_000_000..1_000_250u64 {
            for generated in [false, true] {
                xs.push(features::features(&challenge_image(s, generated)));
                ys.push(if generated { 1.0f64 } else { 0.0 });
            }
        }
        let n = xs.len() as f64;
        let k = features::COUNT;
        let mean: Vec<f64> = (0..k)
            .map(|j| xs.iter().map(|x| x[j] as f64).sum::<f64>() / n)
            .collect();
        let sd: Vec<f64> = (0..k)
            .map(|j| {
                (xs.iter()
                    .map(|x| (x[j] as f64 - mean[j]).powi(2))
                    .sum::<f64>()
                    / n)
                    .sqrt()
                    .max(1e-6)
            })
            .collect();
        let z: Vec<Vec<f64>> = xs
            .iter()
            .map(|x| (0..k).map(|j| (x[j] as f64 - mean[j]) / sd[j]).collect())
            .collect();
        let mut w = vec![0.0f64; k + 1];
        for _ in 0..5000 {
            let mut grad = vec![0.0f64; k + 1];
            for (x, y) in z.iter().zip(&ys) {
                let s = x.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() + w[k];
                let p = 1.0 / (1.0 + (-s).exp());
                for j in 0..k {
                    grad[j] += (p - y) * x[j];
                }
                grad[k] += p - y;
            }
            for j in 0..=k {
                w[j] -= 0.5 * (grad[j] / n + if j < k { 1e-3 * w[j] } else { 0.0 });
            }
        }
        let mut raw: Vec<f64> = (0..k).map(|j| w[j] / sd[j]).collect();
        raw.push(w[k] - (0..k).map(|j| w[j] * mean[j] / sd[j]).sum::<f64>());
        let acc = xs
            .iter()
            .zip(&ys)
            .filter(|(x, y)| {
                let s = x.iter().zip(&raw).map(|(a, b)| *a as f64 * b).sum::<f64>() + raw[k];
                (s > 0.0) == (**y > 0.5)
            })
            .count() as f64
            / n;
        for j in 0..k {
            println!(
                "{}: mean {:.4} sd {:.4} w {:.4}",
                features::NAMES[j],
                mean[j],
                sd[j],
                w[j]
            );
        }
        println!("training accuracy {acc:.3}");
        println!(
            "const WEIGHTS = {:?};",
            raw.iter()
                .map(|v| (*v as f32 * 1e4).round() / 1e4)
                .collect::<Vec<_>>()
        );
    }
}
