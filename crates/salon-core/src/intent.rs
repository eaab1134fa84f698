//! What a music prompt asks for, read the same way by composers and by evaluators.
//!
//! [`MusicIntent::from_prompt`] turns free text ("an upbeat synth track in D minor at 128 bpm") into
//! tempo, key, mode, instruments and energy. Anything the prompt leaves open is derived from a stable
//! hash of the prompt, so the same prompt always means the same music.

use serde::{Deserialize, Serialize};

/// An instrument a prompt can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Instrument {
    /// Struck strings: fast attack, exponential decay.
    Piano,
    /// Plucked strings.
    Guitar,
    /// Bowed strings: slow attack, sustained.
    Strings,
    /// Synthesizer: FM / detuned saw timbres.
    Synth,
    /// Bass line.
    Bass,
    /// Drum kit: kick, snare, hi-hat.
    Drums,
    /// Flute: breathy sine-like tone.
    Flute,
    /// Organ: sustained additive drawbars.
    Organ,
    /// Bells and mallets (FM, inharmonic).
    Bells,
    /// Brass: bright, swelling.
    Brass,
}

impl Instrument {
    /// All instruments, in a fixed order.
    pub const ALL: [Instrument; 10] = [
        Instrument::Piano,
        Instrument::Guitar,
        Instrument::Strings,
        Instrument::Synth,
        Instrument::Bass,
        Instrument::Drums,
        Instrument::Flute,
        Instrument::Organ,
        Instrument::Bells,
        Instrument::Brass,
    ];

    /// Words in a prompt that name this instrument.
    fn words(self) -> &'static [&'static str] {
        match self {
            Instrument::Piano => &["piano", "keys", "keyboard", "rhodes"],
            Instrument::Guitar => &[
                "guitar", "guitars", "acoustic", "strum", "ukulele", "banjo", "harp",
            ],
            Instrument::Strings => &[
                "strings",
                "string",
                "violin",
                "violins",
                "cello",
                "orchestra",
                "orchestral",
                "viola",
            ],
            Instrument::Synth => &[
                "synth",
                "synths",
                "synthesizer",
                "electronic",
                "edm",
                "techno",
                "house",
                "synthwave",
                "trance",
                "arpeggio",
            ],
            Instrument::Bass => &["bass", "bassline", "808", "sub"],
            Instrument::Drums => &[
                "drums",
                "drum",
                "beat",
                "beats",
                "percussion",
                "kick",
                "snare",
                "groove",
                "breakbeat",
            ],
            Instrument::Flute => &["flute", "flutes", "woodwind", "pan", "whistle", "recorder"],
            Instrument::Organ => &["organ", "church", "hammond"],
            Instrument::Bells => &[
                "bells",
                "bell",
                "marimba",
                "xylophone",
                "glockenspiel",
                "chimes",
                "music box",
                "vibraphone",
            ],
            Instrument::Brass => &[
                "brass",
                "trumpet",
                "trumpets",
                "horn",
                "horns",
                "trombone",
                "saxophone",
                "sax",
            ],
        }
    }
}

/// Pitch-class names used to read and print keys (C = 0).
pub const PITCH_CLASS_NAMES: [&str; 12] = [
    "C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B",
];

/// The musical reading of a text prompt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MusicIntent {
    /// Beats per minute, in [50, 200].
    pub tempo_bpm: f32,
    /// Whether the prompt stated the tempo as a number.
    pub tempo_explicit: bool,
    /// Tonic pitch class, 0 = C ... 11 = B.
    pub key: u8,
    /// Minor mode (else major).
    pub minor: bool,
    /// Whether the prompt named the key.
    pub key_explicit: bool,
    /// Instruments to play, never empty, sorted.
    pub instruments: Vec<Instrument>,
    /// Loudness and busyness in [0, 1] (0 = calm, 1 = energetic).
    pub energy: f32,
}

const SLOW_WORDS: &[&str] = &[
    "slow",
    "calm",
    "ballad",
    "ambient",
    "relaxing",
    "relaxed",
    "peaceful",
    "gentle",
    "soft",
    "sleepy",
    "lullaby",
    "meditation",
    "meditative",
    "chill",
    "lofi",
    "lo-fi",
    "dreamy",
    "serene",
    "quiet",
    "tranquil",
    "mellow",
];
const FAST_WORDS: &[&str] = &[
    "fast",
    "upbeat",
    "energetic",
    "dance",
    "danceable",
    "party",
    "driving",
    "intense",
    "rock",
    "punk",
    "metal",
    "edm",
    "techno",
    "house",
    "trance",
    "drum and bass",
    "dnb",
    "uplifting",
    "exciting",
    "powerful",
    "aggressive",
    "running",
    "workout",
    "festival",
    "disco",
    "funky",
    "funk",
];
const MINOR_WORDS: &[&str] = &[
    "sad",
    "dark",
    "melancholic",
    "melancholy",
    "gloomy",
    "somber",
    "sombre",
    "mournful",
    "tragic",
    "haunting",
    "mysterious",
    "eerie",
    "tense",
    "ominous",
    "moody",
    "epic",
    "cinematic",
    "lonely",
    "nostalgic",
    "suspense",
];
const MAJOR_WORDS: &[&str] = &[
    "happy",
    "bright",
    "joyful",
    "cheerful",
    "sunny",
    "uplifting",
    "playful",
    "triumphant",
    "hopeful",
    "fun",
    "festive",
    "romantic",
    "summer",
    "celebration",
    "carefree",
    "optimistic",
    "sweet",
];

impl MusicIntent {
    /// Reads tempo, key, mode, instruments and energy from `prompt` (case-insensitive). Unstated
    /// properties follow the prompt's mood and genre words, then a stable hash of the prompt.
    pub fn from_prompt(prompt: &str) -> MusicIntent {
        let text = prompt.to_lowercase();
        let words: Vec<&str> = text
            .split(|c: char| !(c.is_alphanumeric() || c == '#' || c == '-'))
            .filter(|w| !w.is_empty())
            .collect();
        let has = |list: &[&str]| {
            list.iter().any(|p| {
                if p.contains(' ') {
                    text.contains(p)
                } else {
                    words.contains(p)
                }
            })
        };
        let hash = fnv1a(text.trim().as_bytes());

        let slow = has(SLOW_WORDS);
        let fast = has(FAST_WORDS);
        let mut energy: f32 = match (slow, fast) {
            (true, false) => 0.2,
            (false, true) => 0.85,
            _ => 0.5,
        };

        let explicit_tempo = read_bpm(&words);
        let tempo_bpm = match explicit_tempo {
            Some(bpm) => bpm,
            None => {
                let spread = (hash % 1000) as f32 / 1000.0;
                match (slow, fast) {
                    (true, false) => 64.0 + 20.0 * spread,
                    (false, true) => 120.0 + 24.0 * spread,
                    _ => 90.0 + 24.0 * spread,
                }
            }
        };
        if explicit_tempo.is_some() && !slow && !fast {
            energy = ((tempo_bpm - 60.0) / 100.0).clamp(0.15, 0.9);
        }

        let explicit_key = read_key(&words);
        let (key, minor) = match explicit_key {
            Some(k) => k,
            None => {
                let key = ((hash >> 16) % 12) as u8;
                let minor = match (has(MINOR_WORDS), has(MAJOR_WORDS)) {
                    (true, false) => true,
                    (false, true) => false,
                    _ => (hash >> 32) & 1 == 1,
                };
                (key, minor)
            }
        };

        let mut instruments: Vec<Instrument> = Instrument::ALL
            .into_iter()
            .filter(|i| {
                i.words().iter().any(|w| {
                    if w.contains(' ') {
                        text.contains(w)
                    } else {
                        words.contains(w)
                    }
                })
            })
            .collect();
        if instruments.is_empty() {
            instruments = default_ensemble(&text, &words, energy, hash);
        }
        if energy >= 0.7 && !instruments.contains(&Instrument::Drums) && !slow {
            instruments.push(Instrument::Drums);
        }
        instruments.sort();
        instruments.dedup();

        MusicIntent {
            tempo_bpm: tempo_bpm.clamp(50.0, 200.0),
            tempo_explicit: explicit_tempo.is_some(),
            key,
            minor,
            key_explicit: explicit_key.is_some(),
            instruments,
            energy,
        }
    }

    /// The key as text, e.g. "D minor".
    pub fn key_name(&self) -> String {
        format!(
            "{} {}",
            PITCH_CLASS_NAMES[self.key as usize % 12],
            if self.minor { "minor" } else { "major" }
        )
    }

    /// Whether the prompt's instruments include `instrument`.
    pub fn has(&self, instrument: Instrument) -> bool {
        self.instruments.contains(&instrument)
    }
}

/// FNV-1a, 64-bit: a stable hash that does not change between Rust releases.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// "120 bpm", "120bpm", "tempo 120", "at 120 beats per minute".
fn read_bpm(words: &[&str]) -> Option<f32> {
    for (i, w) in words.iter().enumerate() {
        if let Some(num) = w.strip_suffix("bpm") {
            if let Ok(v) = num.parse::<f32>() {
                return Some(v);
            }
        }
        let next = words.get(i + 1).copied();
        let prev = if i > 0 { Some(words[i - 1]) } else { None };
        if let Ok(v) = w.parse::<f32>() {
            let beats =
                next == Some("bpm") || (next == Some("beats") && words.get(i + 2) == Some(&"per"));
            if (beats || prev == Some("tempo")) && (30.0..=300.0).contains(&v) {
                return Some(v);
            }
        }
    }
    None
}

/// "in D minor", "C# major", "Bb minor", "key of E", "A-minor".
fn read_key(words: &[&str]) -> Option<(u8, bool)> {
    let parse_note = |w: &str| -> Option<u8> {
        let mut chars = w.chars();
        let base = match chars.next()? {
            'c' => 0,
            'd' => 2,
            'e' => 4,
            'f' => 5,
            'g' => 7,
            'a' => 9,
            'b' => 11,
            _ => return None,
        };
        let rest: String = chars.collect();
        let shift: i32 = match rest.as_str() {
            "" => 0,
            "#" | "sharp" => 1,
            "b" | "flat" => -1,
            _ => return None,
        };
        Some(((base + shift).rem_euclid(12)) as u8)
    };
    for (i, w) in words.iter().enumerate() {
        // "a-minor" style.
        if let Some((note, mode)) = w.split_once('-') {
            if let (Some(pc), "minor" | "major") = (parse_note(note), mode) {
                return Some((pc, mode == "minor"));
            }
        }
        let Some(pc) = parse_note(w) else { continue };
        let mut j = i + 1;
        if matches!(words.get(j), Some(&"sharp") | Some(&"flat")) {
            let pc2 = if words[j] == "sharp" {
                (pc + 1) % 12
            } else {
                (pc + 11) % 12
            };
            j += 1;
            if let Some(&m) = words.get(j) {
                if m == "minor" || m == "major" {
                    return Some((pc2, m == "minor"));
                }
            }
            continue;
        }
        match words.get(j) {
            Some(&"minor") => return Some((pc, true)),
            Some(&"major") => return Some((pc, false)),
            _ => {}
        }
        if i >= 2 && words[i - 1] == "of" && words[i - 2] == "key" {
            return Some((pc, false));
        }
    }
    None
}

/// Instruments for a prompt that names none: chosen by genre words, else by energy and the hash.
fn default_ensemble(text: &str, words: &[&str], energy: f32, hash: u64) -> Vec<Instrument> {
    use Instrument::*;
    let any = |list: &[&str]| {
        list.iter()
            .any(|p| words.contains(p) || (p.contains(' ') && text.contains(p)))
    };
    if any(&["jazz", "blues", "lounge"]) {
        return vec![Piano, Bass, Drums];
    }
    if any(&["rock", "punk", "metal", "grunge"]) {
        return vec![Guitar, Bass, Drums];
    }
    if any(&[
        "classical",
        "cinematic",
        "film",
        "score",
        "soundtrack",
        "epic",
    ]) {
        return vec![Strings, Brass, Piano];
    }
    if any(&["folk", "country", "campfire"]) {
        return vec![Guitar, Flute];
    }
    if any(&["hip", "hop", "rap", "trap"]) {
        return vec![Synth, Bass, Drums];
    }
    if energy < 0.35 {
        return match hash % 3 {
            0 => vec![Piano, Strings],
            1 => vec![Synth, Strings],
            _ => vec![Guitar, Flute],
        };
    }
    match hash % 3 {
        0 => vec![Piano, Bass, Drums],
        1 => vec![Synth, Bass, Drums],
        _ => vec![Guitar, Strings, Bass],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_explicit_tempo_and_key() {
        let i = MusicIntent::from_prompt("A dark synth track in D minor at 128 BPM with drums");
        assert_eq!(i.tempo_bpm, 128.0);
        assert!(i.tempo_explicit && i.key_explicit);
        assert_eq!((i.key, i.minor), (2, true));
        assert_eq!(i.key_name(), "D minor");
        assert!(i.has(Instrument::Synth) && i.has(Instrument::Drums));

        let j = MusicIntent::from_prompt("waltz in b flat major, tempo 90, piano");
        assert_eq!((j.key, j.minor, j.tempo_bpm), (10, false, 90.0));
        assert_eq!(MusicIntent::from_prompt("ballad in F# minor").key, 6);
        assert_eq!(MusicIntent::from_prompt("etude in A-minor").key, 9);
    }

    #[test]
    fn reads_mood_words() {
        let calm = MusicIntent::from_prompt("a calm slow piano piece");
        let dance = MusicIntent::from_prompt("an energetic dance anthem");
        assert!(calm.tempo_bpm < 90.0 && calm.energy < 0.4);
        assert!(dance.tempo_bpm >= 120.0 && dance.energy > 0.7);
        assert!(dance.has(Instrument::Drums));
        assert!(MusicIntent::from_prompt("sad rainy evening guitar").minor);
        assert!(!MusicIntent::from_prompt("happy sunny morning guitar").minor);
        assert_eq!(calm.instruments, vec![Instrument::Piano]);
    }

    #[test]
    fn same_prompt_same_intent_and_defaults_are_filled() {
        let a = MusicIntent::from_prompt("lofi beats to study to");
        assert_eq!(a, MusicIntent::from_prompt("lofi beats to study to"));
        assert!(!a.instruments.is_empty());
        let b = MusicIntent::from_prompt("something");
        assert!(!b.instruments.is_empty() && (50.0..=200.0).contains(&b.tempo_bpm));
    }
}
