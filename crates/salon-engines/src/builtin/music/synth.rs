//! Instrument voices for the composer: additive and FM tones from one sine table, plucked strings
//! by Karplus-Strong, and drums from noise bursts and pitch sweeps. Each voice adds into a buffer.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use salon_core::Instrument;

const TABLE_BITS: u32 = 12;
const TABLE_LEN: usize = 1 << TABLE_BITS;

/// A one-period sine table read with a 32-bit phase accumulator.
pub struct SineTable {
    table: Vec<f32>,
}

impl SineTable {
    /// Builds the table.
    pub fn new() -> Self {
        let table = (0..TABLE_LEN)
            .map(|i| (i as f64 / TABLE_LEN as f64 * std::f64::consts::TAU).sin() as f32)
            .collect();
        Self { table }
    }

    /// The sine of a phase given as a fraction of a turn scaled to u32.
    #[inline]
    fn at(&self, phase: u32) -> f32 {
        self.table[(phase >> (32 - TABLE_BITS)) as usize]
    }
}

/// One note to render.
#[derive(Clone, Copy, Debug)]
pub struct Note {
    /// First sample.
    pub start: usize,
    /// Held length in samples (the release tail follows).
    pub len: usize,
    /// Fundamental in Hz.
    pub freq: f32,
    /// Loudness, about [0, 1].
    pub velocity: f32,
    /// Timbre.
    pub instrument: Instrument,
}

/// Drum sounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drum {
    /// Low pitch sweep.
    Kick,
    /// Noise burst with a body tone.
    Snare,
    /// Short high-passed noise.
    HiHat,
}

/// Renders notes and drums into a mono buffer at a fixed sample rate.
pub struct Synth {
    rate: f32,
    sine: SineTable,
    pluck: Vec<f32>,
}

fn phase_step(freq: f32, rate: f32) -> u32 {
    ((freq / rate).clamp(0.0, 0.499) as f64 * 4_294_967_296.0) as u32
}

impl Synth {
    /// A synth at `rate` Hz.
    pub fn new(rate: u32) -> Self {
        Self {
            rate: rate as f32,
            sine: SineTable::new(),
            pluck: Vec::new(),
        }
    }

    /// Adds `note` into `out` (samples past the end are dropped).
    pub fn note(&mut self, out: &mut [f32], note: &Note, rng: &mut ChaCha8Rng) {
        if note.start >= out.len() || note.freq <= 0.0 {
            return;
        }
        match note.instrument {
            Instrument::Guitar => self.pluck(out, note, rng),
            Instrument::Synth => self.fm(out, note, 2.0, 1.8, 0.35),
            Instrument::Bells => self.fm(out, note, 3.5, 3.0, 1.2),
            other => self.additive(out, note, other, rng),
        }
    }

    /// Harmonic partials with an instrument's amplitudes and envelope.
    fn additive(&self, out: &mut [f32], note: &Note, instrument: Instrument, rng: &mut ChaCha8Rng) {
        let r = self.rate;
        // (partial amplitudes, attack s, decay time constant s or 0 for sustain, release s, vibrato depth)
        let (partials, attack, decay, release, vibrato): (&[f32], f32, f32, f32, f32) =
            match instrument {
                Instrument::Piano => (&[1.0, 0.45, 0.25, 0.12, 0.06, 0.03], 0.004, 0.55, 0.08, 0.0),
                Instrument::Strings => (
                    &[1.0, 0.5, 0.33, 0.25, 0.2, 0.16, 0.12],
                    0.12,
                    0.0,
                    0.2,
                    0.004,
                ),
                Instrument::Bass => (&[1.0, 0.5, 0.2], 0.005, 0.5, 0.05, 0.0),
                Instrument::Flute => (&[1.0, 0.2, 0.08], 0.06, 0.0, 0.1, 0.006),
                Instrument::Organ => (
                    &[1.0, 0.7, 0.5, 0.35, 0.0, 0.25, 0.0, 0.2],
                    0.01,
                    0.0,
                    0.05,
                    0.0,
                ),
                Instrument::Brass => (
                    &[1.0, 0.8, 0.6, 0.45, 0.35, 0.25, 0.18, 0.12],
                    0.05,
                    0.0,
                    0.08,
                    0.003,
                ),
                // Drums are rendered by `drum`; guitar, synth and bells have their own paths.
                _ => (&[1.0], 0.01, 0.3, 0.05, 0.0),
            };
        let total = note.len + (release * r) as usize;
        let end = (note.start + total).min(out.len());
        let attack_n = (attack * r).max(1.0);
        let decay_k = if decay > 0.0 {
            (-1.0 / (decay * r)).exp()
        } else {
            1.0
        };
        let release_k = (-1.0 / (release * r / 5.0)).exp();
        let norm: f32 = partials.iter().sum::<f32>().max(1.0);
        let base_step = phase_step(note.freq, r) as f32;
        // Harmonic k's phase is k times the fundamental's (wrapping), so one accumulator serves all.
        let mut phase: u32 = rng.gen();
        let vib_step = phase_step(5.2, r);
        let mut vib_phase: u32 = rng.gen();
        let breath = if instrument == Instrument::Flute {
            0.04
        } else {
            0.0
        };
        let mut env_decay = 1.0f32;
        let mut env_release = 1.0f32;
        let amp = note.velocity / norm;
        // Brass opens up (more upper partials) as it swells.
        let brass = instrument == Instrument::Brass;
        for (n, sample) in out[note.start..end].iter_mut().enumerate() {
            let t = n as f32;
            let a = if t < attack_n { t / attack_n } else { 1.0 };
            if n >= note.len {
                env_release *= release_k;
            }
            let env = a * env_decay * env_release;
            env_decay *= decay_k;
            if env < 1e-4 && t > attack_n {
                break;
            }
            let step = if vibrato > 0.0 {
                vib_phase = vib_phase.wrapping_add(vib_step);
                base_step * (1.0 + vibrato * self.sine.at(vib_phase))
            } else {
                base_step
            };
            phase = phase.wrapping_add(step as u32);
            let mut s = 0.0;
            for (k, &p) in partials.iter().enumerate() {
                if p > 0.0 {
                    let pk = if brass && k > 1 { p * a } else { p };
                    s += pk * self.sine.at(phase.wrapping_mul(k as u32 + 1));
                }
            }
            if breath > 0.0 {
                s += breath * (rng.gen::<f32>() - 0.5);
            }
            *sample += amp * env * s;
        }
    }

    /// Two-operator FM: carrier at f, modulator at `ratio` f with a decaying index.
    fn fm(&self, out: &mut [f32], note: &Note, ratio: f32, index: f32, decay: f32) {
        let r = self.rate;
        let release = 0.1;
        let total = note.len + (release * r) as usize;
        let end = (note.start + total).min(out.len());
        let c_step = phase_step(note.freq, r);
        let m_step = phase_step(note.freq * ratio, r);
        let idx_k = (-1.0 / (decay * r)).exp();
        let amp_k = (-1.0 / (decay * 3.0 * r)).exp();
        let release_k = (-1.0 / (release * r / 5.0)).exp();
        let attack_n = 0.005 * r;
        let (mut cp, mut mp) = (0u32, 0u32);
        let (mut idx, mut amp, mut rel) = (index, note.velocity * 0.8, 1.0f32);
        for (n, sample) in out[note.start..end].iter_mut().enumerate() {
            let a = (n as f32 / attack_n).min(1.0);
            if n >= note.len {
                rel *= release_k;
            }
            mp = mp.wrapping_add(m_step);
            cp = cp.wrapping_add(c_step);
            let m = self.sine.at(mp) * idx;
            let ph = cp.wrapping_add((m * 0.159_154_94 * 4_294_967_296.0) as i64 as u32);
            *sample += a * amp * rel * self.sine.at(ph);
            idx *= idx_k;
            amp *= amp_k;
        }
    }

    /// Karplus-Strong plucked string.
    fn pluck(&mut self, out: &mut [f32], note: &Note, rng: &mut ChaCha8Rng) {
        let period = (self.rate / note.freq).round().max(2.0) as usize;
        self.pluck.clear();
        self.pluck
            .extend((0..period).map(|_| rng.gen::<f32>() * 2.0 - 1.0));
        // Soften the excitation a little.
        for i in 1..period {
            self.pluck[i] = 0.5 * (self.pluck[i] + self.pluck[i - 1]);
        }
        let total = note.len + (0.05 * self.rate) as usize;
        let end = (note.start + total).min(out.len());
        let damp = 0.996f32;
        let release_k = (-1.0 / (0.01 * self.rate)).exp();
        let mut rel = 1.0f32;
        let mut i = 0usize;
        for (n, sample) in out[note.start..end].iter_mut().enumerate() {
            let j = if i + 1 == period { 0 } else { i + 1 };
            let v = self.pluck[i];
            self.pluck[i] = damp * 0.5 * (v + self.pluck[j]);
            i = j;
            if n >= note.len {
                rel *= release_k;
            }
            *sample += note.velocity * 0.7 * rel * v;
        }
    }

    /// Adds a drum hit at `start`.
    pub fn drum(
        &self,
        out: &mut [f32],
        start: usize,
        drum: Drum,
        velocity: f32,
        rng: &mut ChaCha8Rng,
    ) {
        if start >= out.len() {
            return;
        }
        let r = self.rate;
        match drum {
            Drum::Kick => {
                let n_len = (0.3 * r) as usize;
                let end = (start + n_len).min(out.len());
                let (mut phase, mut env) = (0u32, velocity * 1.1);
                let env_k = (-1.0 / (0.09 * r)).exp();
                for (n, s) in out[start..end].iter_mut().enumerate() {
                    let t = n as f32 / r;
                    let f = 48.0 + 110.0 * (-t * 30.0).exp();
                    phase = phase.wrapping_add(phase_step(f, r));
                    *s += env * self.sine.at(phase);
                    env *= env_k;
                }
            }
            Drum::Snare => {
                let n_len = (0.2 * r) as usize;
                let end = (start + n_len).min(out.len());
                let (mut phase, mut env) = (0u32, velocity * 0.6);
                let env_k = (-1.0 / (0.05 * r)).exp();
                let step = phase_step(185.0, r);
                let mut prev = 0.0f32;
                for s in out[start..end].iter_mut() {
                    phase = phase.wrapping_add(step);
                    let noise = rng.gen::<f32>() * 2.0 - 1.0;
                    let hp = noise - 0.5 * prev;
                    prev = noise;
                    *s += env * (0.7 * hp + 0.4 * self.sine.at(phase));
                    env *= env_k;
                }
            }
            Drum::HiHat => {
                let n_len = (0.06 * r) as usize;
                let end = (start + n_len).min(out.len());
                let mut env = velocity * 0.25;
                let env_k = (-1.0 / (0.012 * r)).exp();
                let mut prev = 0.0f32;
                for s in out[start..end].iter_mut() {
                    let noise = rng.gen::<f32>() * 2.0 - 1.0;
                    *s += env * (noise - prev);
                    prev = noise;
                    env *= env_k;
                }
            }
        }
    }
}
