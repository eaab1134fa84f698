//! The built-in image embedder, [`Embedder`]: a handcrafted 256-dimensional descriptor (no
//! weights) made of a colour histogram in an opponent colour space, gradient-orientation
//! histograms on a 4x4 grid and the low DCT frequencies of a grey thumbnail, L2-normalised.

use super::image::canvas::{luma, Canvas};
use super::Fidelity;
use crate::{Engine, EngineError};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use salon_core::{Image, Request, Response, Task};

/// Length of every embedding.
pub const DIM: usize = 256;

/// Handcrafted image embedder. Below fidelity 1 it adds seeded noise to each vector (the devnet's
/// `weak` miners), so its rows drift from an honest reproduction.
#[derive(Clone, Debug, Default)]
pub struct Embedder {
    fidelity: Fidelity,
}

impl Embedder {
    /// An embedder at the given fidelity.
    pub fn new(fidelity: Fidelity) -> Self {
        Self { fidelity }
    }

    /// The embedding of one image: [`DIM`] values with unit L2 norm.
    pub fn embed(&self, img: &Image) -> Result<Vec<f32>, EngineError> {
        if img.width == 0
            || img.height == 0
            || img.rgb.len() != img.width as usize * img.height as usize * 3
        {
            return Err(EngineError::InvalidRequest(format!(
                "image of {}x{} with {} bytes is empty or malformed",
                img.width,
                img.height,
                img.rgb.len()
            )));
        }
        let mut v = describe(&Canvas::from_image(img));
        let loss = 1.0 - self.fidelity.get();
        if loss > 0.0 {
            let seed = img.rgb.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
                (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
            });
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            // Noise of norm about `loss` against a unit vector.
            let sd = loss / (DIM as f32).sqrt() * 1.7;
            for x in &mut v {
                *x += (rng.gen::<f32>() - 0.5) * sd * 3.46;
            }
            normalise(&mut v);
        }
        Ok(v)
    }
}

fn normalise(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Subtracts the block's mean and scales it to norm `weight`, so blocks count as chosen and
/// unrelated images are not similar merely because histograms are positive.
fn centre_block(v: &mut [f32], weight: f32) {
    let mean = v.iter().sum::<f32>() / v.len() as f32;
    v.iter_mut().for_each(|x| *x -= mean);
    normalise(v);
    v.iter_mut().for_each(|x| *x *= weight);
}

fn describe(c: &Canvas) -> Vec<f32> {
    let t = c.area_resize(64, 64);
    // 64 colour bins: 4 x 4 x 4 over luma and two opponent axes.
    let mut colour = vec![0.0f32; 64];
    for p in &t.px {
        let l = luma(*p);
        let a = (p[0] - p[1]) * 0.5 + 0.5;
        let b = (p[2] - 0.5 * (p[0] + p[1])) * 0.5 + 0.5;
        let q = |v: f32| ((v.clamp(0.0, 0.999) * 4.0) as usize).min(3);
        colour[q(l) * 16 + q(a) * 4 + q(b)] += 1.0;
    }
    // 128 gradient bins: 4 x 4 cells x 8 unsigned orientations, magnitude-weighted.
    let g: Vec<f32> = t.px.iter().map(|p| luma(*p)).collect();
    let mut hog = vec![0.0f32; 128];
    for y in 1..63 {
        for x in 1..63 {
            let gx = g[y * 64 + x + 1] - g[y * 64 + x - 1];
            let gy = g[(y + 1) * 64 + x] - g[(y - 1) * 64 + x];
            let mag = (gx * gx + gy * gy).sqrt();
            let angle = gy.atan2(gx).rem_euclid(std::f32::consts::PI);
            let bin = ((angle / std::f32::consts::PI * 8.0) as usize).min(7);
            hog[((y / 16) * 4 + x / 16) * 8 + bin] += mag;
        }
    }
    // 64 DCT coefficients: the 8x8 lowest frequencies of a 32x32 grey thumbnail.
    let small: Vec<f32> = c.area_resize(32, 32).px.iter().map(|p| luma(*p)).collect();
    let n = 32;
    let cosines: Vec<f32> = (0..8 * n)
        .map(|k| {
            (std::f32::consts::PI * (2 * (k % n) + 1) as f32 * (k / n) as f32 / (2 * n) as f32)
                .cos()
        })
        .collect();
    let mut dct = vec![0.0f32; 64];
    for v in 0..8 {
        for u in 0..8 {
            let mut s = 0.0;
            for y in 0..n {
                let cy = cosines[v * n + y];
                for x in 0..n {
                    s += small[y * n + x] * cosines[u * n + x] * cy;
                }
            }
            dct[v * 8 + u] = s;
        }
    }
    centre_block(&mut colour, 0.5);
    centre_block(&mut hog, 0.6);
    centre_block(&mut dct, 0.6);
    let mut out = colour;
    out.extend(hog);
    out.extend(dct);
    normalise(&mut out);
    out
}

impl Engine for Embedder {
    fn describe(&self) -> String {
        format!("builtin handcrafted image embedder (colour, gradients, DCT; {DIM} dims), fidelity {:.2}", self.fidelity.get())
    }

    fn supports(&self, task: Task) -> bool {
        task == Task::ImageEmbedding
    }

    fn generate(&self, request: &Request) -> Result<Response, EngineError> {
        let Request::ImageEmbedding(r) = request else {
            return Err(EngineError::Unsupported(request.task()));
        };
        if r.images.is_empty() {
            return Err(EngineError::InvalidRequest(
                "no images to embed; send at least one".into(),
            ));
        }
        let embeddings = r
            .images
            .iter()
            .map(|img| self.embed(img))
            .collect::<Result<_, _>>()?;
        Ok(Response::Embeddings { embeddings })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    fn scene(seed: u64, prompt: &str) -> Image {
        let req = salon_core::task::ImageRequest {
            prompt: prompt.into(),
            width: 96,
            height: 96,
            steps: 20,
            cfg_scale: 7.0,
            seed,
        };
        super::super::image::Painter::default().paint(&req).unwrap()
    }

    #[test]
    fn embeddings_are_unit_deterministic_and_separate_images() {
        let e = Embedder::default();
        let a = scene(1, "a lake under mountains");
        let va = e.embed(&a).unwrap();
        assert_eq!(va.len(), DIM);
        assert!((cos(&va, &va) - 1.0).abs() < 1e-4);
        assert_eq!(va, e.embed(&a).unwrap());
        let vb = e.embed(&scene(2, "neon city at night")).unwrap();
        assert!(cos(&va, &vb) < 0.8, "unrelated images {}", cos(&va, &vb));
        // A slightly resized copy stays close.
        let vr = e.embed(&a.resized(90, 90).unwrap()).unwrap();
        assert!(cos(&va, &vr) > 0.95, "resized {}", cos(&va, &vr));
        let weak = Embedder::new(Fidelity(0.5)).embed(&a).unwrap();
        let c = cos(&va, &weak);
        assert!(c < 0.99 && c > 0.7, "weak {c}");
        assert!(e
            .embed(&Image {
                width: 2,
                height: 2,
                rgb: vec![0; 5]
            })
            .is_err());
    }
}
