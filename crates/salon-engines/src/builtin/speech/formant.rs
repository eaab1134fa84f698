//! A small cascade formant synthesizer (in the spirit of Klatt's): a glottal pulse source and a
//! noise source through two-pole resonators whose frequencies glide from unit to unit.

use super::phonemes::{Kind, Unit};
use super::Voice;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// Schwa formants, where smeared (low-fidelity) speech drifts to.
const NEUTRAL: [f32; 3] = [500.0, 1500.0, 2500.0];
const BANDWIDTHS: [f32; 4] = [60.0, 90.0, 150.0, 250.0];
/// Samples between parameter updates.
const BLOCK: usize = 16;

/// Two-pole resonator y[n] = a x[n] + b y[n-1] + c y[n-2].
#[derive(Clone, Copy, Default)]
struct Resonator {
    a: f32,
    b: f32,
    c: f32,
    y1: f32,
    y2: f32,
}

impl Resonator {
    /// Unity gain at DC (cascade formants) or about unity at the peak (noise bands).
    fn set(&mut self, freq: f32, bw: f32, rate: f32, peak_unity: bool) {
        let t = 1.0 / rate;
        let r = (-std::f32::consts::PI * bw * t).exp();
        let theta = std::f32::consts::TAU * freq.min(rate * 0.45) * t;
        self.c = -r * r;
        self.b = 2.0 * r * theta.cos();
        self.a = if peak_unity {
            (1.0 - r) * (1.0 - 2.0 * r * (2.0 * theta).cos() + r * r).sqrt()
        } else {
            1.0 - self.b - self.c
        };
    }

    #[inline]
    fn run(&mut self, x: f32) -> f32 {
        let y = self.a * x + self.b * self.y1 + self.c * self.y2;
        self.y2 = self.y1;
        self.y1 = y;
        y
    }
}

/// A unit laid out in time with its synthesis targets.
struct Segment {
    kind: Kind,
    formants: [f32; 3],
    start: usize,
    len: usize,
    f0: f32,
}

/// How a low fidelity degrades the voice.
#[derive(Clone, Copy, Debug)]
pub struct Degradation {
    /// 0 = none, 1 = worst.
    pub amount: f32,
}

/// Renders `units` in `voice` at `rate` Hz.
pub fn render(
    units: &[Unit],
    voice: &Voice,
    rate: u32,
    deg: Degradation,
    rng: &mut ChaCha8Rng,
) -> Vec<f32> {
    let d = deg.amount.clamp(0.0, 1.0);
    let r = rate as f32;
    let speed = voice.rate.clamp(0.5, 2.0);
    let prosody = 1.0 - d;
    let mut segments = Vec::with_capacity(units.len());
    let mut pos = 0usize;
    for u in units {
        let p = u.phone;
        let mut ms = p.dur_ms * if p.stressed { 1.3 } else { 1.0 } / speed;
        if d > 0.0 {
            ms *= 1.0 + 0.6 * d * (rng.gen::<f32>() * 2.0 - 1.0);
        }
        let len = ((ms / 1000.0) * r) as usize;
        let formants = [0, 1, 2].map(|k| {
            let f = p.formants[k] + 0.6 * d * (NEUTRAL[k] - p.formants[k]);
            f * voice.formant_scale
        });
        // Declination across the sentence, an accent on stressed vowels, a rise for questions.
        let progress = u.word as f32 / u.words_in_sentence.max(1) as f32;
        let mut contour = 1.12 - 0.24 * progress;
        if p.stressed {
            contour += 0.1;
        }
        if u.question && u.word + 1 >= u.words_in_sentence {
            contour += 0.3;
        }
        let f0 = voice.pitch_hz * (1.0 + prosody * (contour - 1.0));
        segments.push(Segment {
            kind: p.kind,
            formants,
            start: pos,
            len: len.max(1),
            f0,
        });
        pos += len.max(1);
    }
    let total = pos + (0.05 * r) as usize;
    let mut out = vec![0.0f32; total];
    let bw_scale = 1.0 + 2.0 * d;
    let mut cascade = [Resonator::default(); 4];
    let mut frication = Resonator::default();
    let (mut phase, mut f0, mut av, mut an) = (0.0f32, voice.pitch_hz, 0.0f32, 0.0f32);
    let (mut prev_glottal, mut tilt) = (0.0f32, 0.0f32);
    let smooth = (-1.0 / (0.006 * r)).exp();
    let f0_smooth = (-1.0 / (0.04 * r)).exp();
    let mut prev_formants = NEUTRAL.map(|f| f * voice.formant_scale);
    for (si, seg) in segments.iter().enumerate() {
        let from = prev_formants;
        let next_formants = segments
            .get(si + 1)
            .map(|s| s.formants)
            .unwrap_or(seg.formants);
        let mut n = 0usize;
        while n < seg.len {
            let frac = n as f32 / seg.len as f32;
            // Formant targets: glide in from the previous unit over the first 35%.
            let target = match seg.kind {
                Kind::Diphthong(to) => {
                    let to = [0, 1, 2]
                        .map(|k| (to[k] + 0.6 * d * (NEUTRAL[k] - to[k])) * voice.formant_scale);
                    [0, 1, 2].map(|k| seg.formants[k] + (to[k] - seg.formants[k]) * frac)
                }
                Kind::Pause(_) | Kind::Plosive { .. } | Kind::Fricative { .. } => {
                    [0, 1, 2].map(|k| seg.formants[k] + (next_formants[k] - seg.formants[k]) * frac)
                }
                _ => seg.formants,
            };
            let w = (frac / 0.35).min(1.0);
            let formants = [0, 1, 2].map(|k| from[k] + (target[k] - from[k]) * w);
            let (voicing, noise, center, bw) = match seg.kind {
                Kind::Vowel | Kind::Diphthong(_) => (1.0, 0.0, 0.0, 0.0),
                Kind::Liquid => (0.7, 0.0, 0.0, 0.0),
                Kind::Nasal => (0.45, 0.0, 0.0, 0.0),
                Kind::Pause(_) => (0.0, 0.0, 0.0, 0.0),
                Kind::Fricative {
                    center,
                    bandwidth,
                    voiced,
                } => {
                    let strength = if center < 2000.0 {
                        0.25
                    } else if bandwidth > 3000.0 {
                        0.35
                    } else {
                        0.8
                    };
                    (if voiced { 0.35 } else { 0.0 }, strength, center, bandwidth)
                }
                Kind::Plosive { center, voiced } => {
                    if frac < 0.6 {
                        (if voiced { 0.12 } else { 0.0 }, 0.0, center, 1500.0)
                    } else if frac < 0.8 {
                        (0.0, 1.0, center, 1500.0)
                    } else {
                        (
                            if voiced { 0.6 } else { 0.0 },
                            if voiced { 0.0 } else { 0.3 },
                            center,
                            2000.0,
                        )
                    }
                }
            };
            for (k, res) in cascade.iter_mut().enumerate() {
                let f = if k < 3 {
                    formants[k]
                } else {
                    3300.0 * voice.formant_scale
                };
                let bw = BANDWIDTHS[k]
                    * bw_scale
                    * if k == 0 && seg.kind == Kind::Nasal {
                        2.0
                    } else {
                        1.0
                    };
                res.set(f, bw, r, false);
            }
            if noise > 0.0 {
                frication.set(center, bw, r, true);
            }
            let end = (n + BLOCK).min(seg.len);
            for i in n..end {
                av = smooth * av + (1.0 - smooth) * voicing;
                an = smooth * an + (1.0 - smooth) * noise;
                f0 = f0_smooth * f0 + (1.0 - f0_smooth) * seg.f0;
                let jitter = if d < 0.5 {
                    1.0 + 0.01 * (rng.gen::<f32>() - 0.5)
                } else {
                    1.0
                };
                phase += f0 * jitter / r;
                if phase >= 1.0 {
                    phase -= 1.0;
                }
                // KLGLOTT88-like open phase (cubic), closed for the last 40% of the period.
                let oq = 0.6;
                let g = if phase < oq {
                    let x = phase / oq;
                    6.75 * (x * x - x * x * x)
                } else {
                    0.0
                };
                let dg = g - prev_glottal;
                prev_glottal = g;
                tilt = 0.7 * tilt + 0.3 * dg;
                let white = rng.gen::<f32>() * 2.0 - 1.0;
                let source = av * (tilt * 8.0 + voice.breathiness * 0.3 * white);
                let mut v = source;
                for res in cascade.iter_mut() {
                    v = res.run(v);
                }
                let fr = if an > 1e-4 {
                    frication.run(an * white)
                } else {
                    frication.run(0.0)
                };
                out[seg.start + i] = v + 0.5 * fr;
            }
            n = end;
        }
        prev_formants = match seg.kind {
            Kind::Diphthong(to) => to.map(|f| f * voice.formant_scale),
            _ => seg.formants,
        };
    }
    // Level, then the low-fidelity hiss.
    let peak = out.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if peak > 0.0 {
        let g = 0.8 / peak;
        let hiss = 0.05 * d;
        for x in out.iter_mut() {
            *x = *x * g + hiss * (rng.gen::<f32>() * 2.0 - 1.0);
        }
    }
    out
}
