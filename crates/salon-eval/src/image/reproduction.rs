//! Reproduce-and-match scoring for generated images (NicheImage / Vision style): the validator
//! regenerates the request with the honest engine and compares the miner's image with it using
//! perceptual hashes, SSIM and colour distance.
//!
//! Thresholds (all must hold for a match, which scores 1.0): aHash 8x8 distance <= 6 of 64 (NicheImage
//! uses <= 6), dHash <= 10 of 64, pHash <= 8 of 63, colour hash <= 8 of 48, SSIM >= 0.90 on the
//! grey thumbnail and mean colour difference <= 0.04 (about 10 of 255 levels). These accept
//! re-encoding and cross-platform float noise but reject blurred, noisy or colour-cast output.
//! Otherwise the score is `0.9 * similarity^2` (below any match), where similarity blends hash
//! agreement (a Hamming distance of half the bits, i.e. unrelated, counts 0), SSIM and colour
//! closeness; unrelated images land near 0.

use super::hash::{ahash, colour_hash, dhash, hamming, luma, phash, thumbnail_grey, thumbnail_rgb};
use super::ssim::ssim;
use crate::{Challenge, Evaluation, Evaluator, Fingerprint, Truth};
use salon_core::{Image, Request, Response, Task};

/// How two images compare.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// aHash (8x8) Hamming distance, of 64.
    pub ahash: usize,
    /// dHash Hamming distance, of 64.
    pub dhash: usize,
    /// pHash Hamming distance, of 63.
    pub phash: usize,
    /// Colour-layout hash distance, of 48.
    pub colour: usize,
    /// SSIM of grey thumbnails (longest side at most 128).
    pub ssim: f64,
    /// Mean absolute colour difference of 16x16 thumbnails, in [0, 1].
    pub colour_diff: f64,
    /// Blend of the above in [0, 1]; 1 for identical images, about 0 for unrelated ones.
    pub similarity: f64,
    /// Whether every match threshold holds.
    pub matched: bool,
}

impl Comparison {
    /// Score: 1 for a match, else `0.9 * similarity^2`.
    pub fn score(&self) -> f64 {
        if self.matched {
            1.0
        } else {
            0.9 * self.similarity * self.similarity
        }
    }

    fn record(&self, ev: &mut Evaluation, prefix: &str) {
        for (k, v) in [
            ("ahash", self.ahash as f64),
            ("dhash", self.dhash as f64),
            ("phash", self.phash as f64),
            ("colour_hash", self.colour as f64),
            ("ssim", self.ssim),
            ("colour_diff", self.colour_diff),
            ("similarity", self.similarity),
        ] {
            ev.metrics.insert(format!("{prefix}{k}"), v);
        }
    }
}

/// Compares two images of any size (thumbnails make them comparable).
pub fn compare(a: &Image, b: &Image) -> Comparison {
    let ah = hamming(&ahash(a, 8), &ahash(b, 8));
    let dh = hamming(&dhash(a), &dhash(b));
    let ph = hamming(&phash(a, 8), &phash(b, 8));
    let ch = hamming(&colour_hash(a), &colour_hash(b));
    let (tw, th) = thumb_size(
        a.width.max(b.width) as usize,
        a.height.max(b.height) as usize,
    );
    let s = ssim(&thumbnail_grey(a, tw, th), &thumbnail_grey(b, tw, th));
    let (ta, tb) = (thumbnail_rgb(a, 16, 16), thumbnail_rgb(b, 16, 16));
    let colour_diff = ta
        .iter()
        .zip(&tb)
        .map(|(p, q)| (0..3).map(|c| (p[c] - q[c]).abs() as f64).sum::<f64>() / 3.0)
        .sum::<f64>()
        / ta.len() as f64;
    let agree = |d: usize, n: f64| (1.0 - 2.0 * d as f64 / n).clamp(0.0, 1.0);
    let hash_sim = (agree(ah, 64.0) + agree(dh, 64.0) + agree(ph, 63.0) + agree(ch, 48.0)) / 4.0;
    let similarity = 0.35 * hash_sim
        + 0.4 * s.clamp(0.0, 1.0)
        + 0.25 * (1.0 - colour_diff / 0.2).clamp(0.0, 1.0);
    let matched = ah <= 6 && dh <= 10 && ph <= 8 && ch <= 8 && s >= 0.90 && colour_diff <= 0.04;
    Comparison {
        ahash: ah,
        dhash: dh,
        phash: ph,
        colour: ch,
        ssim: s,
        colour_diff,
        similarity,
        matched,
    }
}

fn thumb_size(w: usize, h: usize) -> (usize, usize) {
    let long = w.max(h).max(1);
    let target = long.min(128);
    (((w * target) / long).max(8), ((h * target) / long).max(8))
}

/// Standard deviation of the grey 64x64 thumbnail; below 0.01 the image counts as uniform.
pub fn grey_spread(img: &Image) -> f64 {
    let g = thumbnail_grey(img, 64, 64);
    let n = g.v.len() as f64;
    let mean = g.v.iter().map(|&v| v as f64).sum::<f64>() / n;
    (g.v.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt()
}

/// Mean absolute colour difference of 64x64 thumbnails, in [0, 1].
fn mean_abs_diff(a: &Image, b: &Image) -> f64 {
    let (ta, tb) = (thumbnail_rgb(a, 64, 64), thumbnail_rgb(b, 64, 64));
    ta.iter()
        .zip(&tb)
        .map(|(p, q)| (0..3).map(|c| (p[c] - q[c]).abs() as f64).sum::<f64>())
        .sum::<f64>()
        / (3 * ta.len()) as f64
}

/// Crops `img` to the rectangle `[x0, x1) x [y0, y1)`.
fn crop(img: &Image, (x0, y0, x1, y1): (usize, usize, usize, usize)) -> Image {
    let w = img.width as usize;
    let mut rgb = Vec::with_capacity((x1 - x0) * (y1 - y0) * 3);
    for y in y0..y1 {
        rgb.extend_from_slice(&img.rgb[(y * w + x0) * 3..(y * w + x1) * 3]);
    }
    Image {
        width: (x1 - x0) as u32,
        height: (y1 - y0) as u32,
        rgb,
    }
}

/// The white region's bounding box, grown by 8 pixels; `None` if it is empty or too small.
fn mask_box(mask: &Image) -> Option<(usize, usize, usize, usize)> {
    let (w, h) = (mask.width as usize, mask.height as usize);
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for (i, p) in mask.rgb.chunks_exact(3).enumerate() {
        if luma([p[0] as f32, p[1] as f32, p[2] as f32]) > 127.0 {
            let (x, y) = (i % w, i / w);
            x0 = x0.min(x);
            y0 = y0.min(y);
            x1 = x1.max(x + 1);
            y1 = y1.max(y + 1);
        }
    }
    if x0 == usize::MAX {
        return None;
    }
    let b = (
        x0.saturating_sub(8),
        y0.saturating_sub(8),
        (x1 + 8).min(w),
        (y1 + 8).min(h),
    );
    (b.2 - b.0 >= 16 && b.3 - b.1 >= 16).then_some(b)
}

/// Scores generated images (text-to-image, image-to-image, inpaint, upscale) against the
/// validator's reproduction (`Truth::Reproduction`).
#[derive(Clone, Debug, Default)]
pub struct ReproductionEvaluator;

impl Evaluator for ReproductionEvaluator {
    fn supports(&self, task: Task) -> bool {
        matches!(
            task,
            Task::TextToImage | Task::ImageToImage | Task::Inpaint | Task::Upscale
        )
    }

    fn evaluate(&self, challenge: &Challenge, response: &Response) -> Evaluation {
        let Response::Image { image } = response else {
            return Evaluation::zero("not an image response");
        };
        let Truth::Reproduction(Response::Image { image: truth }) = &challenge.truth else {
            return Evaluation::zero(
                "no reproduction to compare with; image scoring needs Truth::Reproduction",
            );
        };
        if image.rgb.len() != image.width as usize * image.height as usize * 3
            || image.rgb.is_empty()
        {
            return Evaluation::zero("malformed image (byte count does not match its size)");
        }
        if (image.width, image.height) != (truth.width, truth.height) {
            return Evaluation::zero(format!(
                "wrong size: {}x{}, expected {}x{}",
                image.width, image.height, truth.width, truth.height
            ));
        }
        let spread = grey_spread(image);
        if spread < 0.01 {
            return Evaluation::zero("blank (uniform) image");
        }
        let init = match &challenge.request {
            Request::ImageToImage(r) => Some(&r.init_image),
            Request::Inpaint(r) => Some(&r.init_image),
            _ => None,
        };
        if let Some(init) = init {
            if (init.width, init.height) == (image.width, image.height) && image != truth {
                // An edit must move toward the reproduction: an answer at least as close to the
                // input as to the reproduction (the input returned as is, or barely touched) is
                // not an edit, however similar the two may look at low strength.
                if mean_abs_diff(image, init) <= mean_abs_diff(image, truth) {
                    return Evaluation::zero(
                        "closer to the input image than to the reproduction: the edit was not done",
                    );
                }
            }
        }
        let mut ev = Evaluation::default();
        let whole = compare(image, truth);
        whole.record(&mut ev, "");
        let mut score = whole.score();
        if let Request::Inpaint(r) = &challenge.request {
            if (r.mask_image.width, r.mask_image.height) == (image.width, image.height) {
                if let Some(b) = mask_box(&r.mask_image) {
                    let region = compare(&crop(image, b), &crop(truth, b));
                    region.record(&mut ev, "mask_");
                    score = score.min(region.score());
                }
            }
        }
        ev.score = score;
        if score < 1.0 {
            ev.note = Some("does not match the reproduction".into());
        }
        ev
    }

    fn fingerprint(&self, response: &Response) -> Option<Fingerprint> {
        match response {
            Response::Image { image } => Some(super::image_fingerprint(image)),
            _ => None,
        }
    }
}
