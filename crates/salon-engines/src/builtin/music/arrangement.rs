//! From a [`MusicIntent`] to notes: chord progression, melody, bass line and drum pattern, with the
//! degradations a low fidelity asks for (wrong tempo, off-key notes, timing jitter, thin parts).

use super::synth::{Drum, Note};
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use salon_core::{Instrument, MusicIntent};

const MAJOR_SCALE: [i32; 7] = [0, 2, 4, 5, 7, 9, 11];
const MINOR_SCALE: [i32; 7] = [0, 2, 3, 5, 7, 8, 10];

/// Progressions as scale degrees (0 = tonic) of the chord roots, one chord per bar.
const MAJOR_PROGRESSIONS: [[usize; 4]; 4] =
    [[0, 4, 5, 3], [0, 3, 4, 0], [0, 5, 3, 4], [0, 3, 0, 4]];
const MINOR_PROGRESSIONS: [[usize; 4]; 4] =
    [[0, 3, 4, 0], [0, 5, 3, 4], [0, 3, 0, 4], [0, 5, 4, 0]];

/// How a low fidelity bends the arrangement.
#[derive(Clone, Copy, Debug)]
pub struct Degradation {
    /// 0 = none, 1 = worst.
    pub amount: f32,
}

/// Everything to render: pitched notes and drum hits.
#[derive(Default)]
pub struct Arrangement {
    /// Pitched notes.
    pub notes: Vec<Note>,
    /// Drum hits (start sample, drum, velocity).
    pub drums: Vec<(usize, Drum, f32)>,
}

fn midi_hz(m: f32) -> f32 {
    440.0 * 2f32.powf((m - 69.0) / 12.0)
}

/// Scale degree (any integer, wraps into octaves) to a MIDI note above `tonic_midi`.
fn degree_midi(tonic_midi: i32, scale: &[i32; 7], degree: i32) -> i32 {
    let oct = degree.div_euclid(7);
    tonic_midi + 12 * oct + scale[degree.rem_euclid(7) as usize]
}

/// Builds the arrangement for `total` samples at `rate`.
pub fn arrange(
    intent: &MusicIntent,
    total: usize,
    rate: u32,
    deg: Degradation,
    rng: &mut ChaCha8Rng,
) -> Arrangement {
    let d = deg.amount.clamp(0.0, 1.0);
    let r = rate as f32;
    // Wrong tempo: off by up to 30% at the lowest fidelity, plus a drift across the clip.
    let tempo_sign = if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
    let tempo = (intent.tempo_bpm * (1.0 + tempo_sign * 0.3 * d)).clamp(40.0, 240.0);
    let drift = 0.12 * d;
    let clip_secs = total as f32 / r;
    // Time of beat b (seconds), with the drift accelerating the beat over the clip.
    let beat_secs = 60.0 / tempo;
    let beat_time = |b: f32| -> f32 {
        let t = b * beat_secs;
        t * (1.0 - drift * 0.5 * (t / clip_secs.max(1.0)))
    };
    let jitter = 0.04 * d;
    let to_sample = |t: f32| -> usize { (t.max(0.0) * r) as usize };

    let minor = intent.minor;
    let scale = if minor { &MINOR_SCALE } else { &MAJOR_SCALE };
    let tonic_pc = intent.key as i32;
    // Chords around C4..C5, melody an octave above, bass two octaves below.
    let chord_tonic = 57 + (tonic_pc - 9).rem_euclid(12);
    let melody_tonic = chord_tonic + 12;
    let bass_tonic = chord_tonic - 24;
    let progression = if minor {
        MINOR_PROGRESSIONS
    } else {
        MAJOR_PROGRESSIONS
    }
    .choose(rng)
    .copied()
    .unwrap_or([0, 3, 4, 0]);

    let energy = intent.energy;
    let thin = d > 0.3;
    let harmonic: Vec<Instrument> = intent
        .instruments
        .iter()
        .copied()
        .filter(|i| !matches!(i, Instrument::Drums | Instrument::Bass))
        .collect();
    let harmonic = if harmonic.is_empty() {
        vec![Instrument::Synth]
    } else {
        harmonic
    };
    // Lead: a melodic instrument if there is one; comp: the first harmonic instrument.
    let lead = harmonic
        .iter()
        .copied()
        .find(|i| {
            matches!(
                i,
                Instrument::Flute | Instrument::Brass | Instrument::Strings | Instrument::Bells
            )
        })
        .unwrap_or(harmonic[harmonic.len() - 1]);
    let comp = harmonic[0];
    let pad = harmonic
        .iter()
        .copied()
        .find(|&i| i != comp && i != lead && matches!(i, Instrument::Strings | Instrument::Organ));
    // Every arrangement has a bass line; it is louder when the prompt asks for bass.
    let bass_gain = if intent.has(Instrument::Bass) {
        1.0
    } else {
        0.6
    };
    let drums = intent.has(Instrument::Drums) && !thin;
    let sustained = |i: Instrument| {
        matches!(
            i,
            Instrument::Strings | Instrument::Organ | Instrument::Flute | Instrument::Brass
        )
    };

    let total_beats = (clip_secs / beat_secs * 1.2).ceil() as usize + 4;
    let bars = total_beats / 4 + 1;
    let mut arr = Arrangement::default();
    let off_key = |rng: &mut ChaCha8Rng, m: i32| -> i32 {
        if d > 0.0 && rng.gen::<f32>() < 0.45 * d {
            m + if rng.gen_bool(0.5) { 1 } else { -1 }
        } else {
            m
        }
    };

    // A two-bar melodic motif (rhythm in eighths, degrees relative to the chord root), reused.
    let dense = energy > 0.6;
    let motif_rhythm: Vec<(u32, u32)> = {
        // (start eighth within two bars, length in eighths)
        let mut v = Vec::new();
        let mut pos = 0u32;
        while pos < 16 {
            let choices: &[u32] = if dense {
                &[1, 1, 2, 2, 3]
            } else {
                &[2, 2, 4, 3, 2]
            };
            let len = (*choices.choose(rng).unwrap_or(&2)).min(16 - pos);
            v.push((pos, len));
            pos += len;
        }
        v
    };
    let motif_steps: Vec<i32> = motif_rhythm.iter().map(|_| rng.gen_range(-2..=2)).collect();

    for bar in 0..bars {
        let root_degree = progression[bar % 4] as i32;
        let bar_beat = (bar * 4) as f32;
        let bar_start = beat_time(bar_beat);
        if to_sample(bar_start) >= total {
            break;
        }
        // Chord tones: root, third, fifth on the scale; the minor dominant gets its leading tone.
        let mut chord: Vec<i32> = [0, 2, 4]
            .iter()
            .map(|&k| degree_midi(chord_tonic, scale, root_degree + k))
            .collect();
        if minor && root_degree == 4 {
            chord[1] += 1;
        }
        let chord: Vec<i32> = chord.iter().map(|&m| off_key(rng, m)).collect();

        // Comping: the chord on every beat (accent on the downbeat), so the pulse is audible; a
        // thin low-fidelity arrangement only holds it.
        if thin && d > 0.45 {
            for &m in &chord {
                arr.notes.push(Note {
                    start: to_sample(bar_start),
                    len: to_sample(beat_time(bar_beat + 4.0) - bar_start),
                    freq: midi_hz(m as f32),
                    velocity: 0.35,
                    instrument: comp,
                });
            }
        } else {
            for beat in 0..4 {
                let t0 = beat_time(bar_beat + beat as f32) + jitter * (rng.gen::<f32>() - 0.5);
                let vel = if beat == 0 { 0.5 } else { 0.36 };
                let len = if sustained(comp) { 0.95 } else { 0.9 };
                for &m in &chord {
                    arr.notes.push(Note {
                        start: to_sample(t0),
                        len: to_sample(beat_secs * len),
                        freq: midi_hz(m as f32),
                        velocity: vel,
                        instrument: comp,
                    });
                }
            }
        }
        if let Some(p) = pad.filter(|_| !thin) {
            for &m in &chord {
                arr.notes.push(Note {
                    start: to_sample(bar_start),
                    len: to_sample(beat_time(bar_beat + 4.0) - bar_start),
                    freq: midi_hz(m as f32),
                    velocity: 0.2,
                    instrument: p,
                });
            }
        }

        // Bass: the root on every beat, the fifth on beat 3 sometimes.
        if d <= 0.55 {
            let root = degree_midi(bass_tonic, scale, root_degree);
            for beat in 0..4 {
                let m = if beat == 2 && rng.gen_bool(0.3) {
                    root + 7
                } else {
                    root
                };
                let len_beats = 0.9;
                arr.notes.push(Note {
                    start: to_sample(beat_time(bar_beat + beat as f32)),
                    len: to_sample(beat_secs * len_beats),
                    freq: midi_hz(m as f32),
                    velocity: bass_gain * if beat == 0 { 0.9 } else { 0.75 },
                    instrument: Instrument::Bass,
                });
            }
        }

        // Melody: the motif over the chord, second half of a four-bar phrase varied.
        if bar % 2 == 0 {
            let vary = (bar / 2) % 2 == 1;
            for (i, (&(pos, len), &step)) in motif_rhythm.iter().zip(&motif_steps).enumerate() {
                let bar_of = bar + (pos / 8) as usize;
                let root_here = progression[bar_of % 4] as i32;
                let on_beat = pos % 2 == 0;
                let chord_tone = [0, 2, 4][i % 3];
                let degree = if on_beat {
                    root_here + chord_tone
                } else {
                    root_here + chord_tone + step
                };
                let degree = if vary && i == motif_rhythm.len() - 1 {
                    7
                } else {
                    degree
                };
                let mut m = degree_midi(melody_tonic, scale, degree);
                if minor && root_here == 4 && (m - melody_tonic).rem_euclid(12) == 10 {
                    m += 1;
                }
                let m = off_key(rng, m);
                let t0 = beat_time(bar_beat + pos as f32 / 2.0) + jitter * (rng.gen::<f32>() - 0.5);
                let vel = if pos % 4 == 0 {
                    0.6
                } else if on_beat {
                    0.5
                } else {
                    0.38
                };
                arr.notes.push(Note {
                    start: to_sample(t0),
                    len: to_sample(beat_secs * len as f32 / 2.0 * 0.95),
                    freq: midi_hz(m as f32),
                    velocity: vel,
                    instrument: lead,
                });
            }
        }

        // Drums: kick on 1 and 3, snare on 2 and 4, hats on the eighths.
        if drums {
            for eighth in 0..8 {
                let t = beat_time(bar_beat + eighth as f32 / 2.0);
                let s = to_sample(t);
                if eighth % 4 == 0 {
                    arr.drums.push((s, Drum::Kick, 1.0));
                }
                if eighth % 4 == 2 {
                    arr.drums.push((s, Drum::Snare, 0.8));
                }
                arr.drums
                    .push((s, Drum::HiHat, if eighth % 2 == 0 { 0.6 } else { 0.35 }));
            }
        }
    }
    arr
}
