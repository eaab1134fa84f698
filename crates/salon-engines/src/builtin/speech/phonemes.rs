//! English text to phoneme-like units by letter rules (digraphs, magic e, soft c, function-word
//! "th"), with word and punctuation boundaries. Crude, but it makes words sound like their spelling.

/// Articulation class of a unit, with what the synthesizer needs for it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// Voiced, steady formants.
    Vowel,
    /// Voiced, formants gliding to the given target.
    Diphthong([f32; 3]),
    /// Voiced, weaker than a vowel (l, r, w, y).
    Liquid,
    /// Voiced with a low murmur (m, n, ng).
    Nasal,
    /// Noise at a centre frequency and bandwidth; voiced or not.
    Fricative {
        /// Centre of the noise band (Hz).
        center: f32,
        /// Width of the noise band (Hz).
        bandwidth: f32,
        /// Whether the vocal folds buzz too.
        voiced: bool,
    },
    /// Closure then a burst of noise at a centre frequency.
    Plosive {
        /// Centre of the burst (Hz).
        center: f32,
        /// Whether voicing starts right after the burst.
        voiced: bool,
    },
    /// Silence (ms).
    Pause(f32),
}

/// One unit of speech.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Phone {
    /// How it is made.
    pub kind: Kind,
    /// F1, F2, F3 in Hz (for a neutral adult voice).
    pub formants: [f32; 3],
    /// Nominal duration in ms.
    pub dur_ms: f32,
    /// First vowel of its word (gets the pitch accent and more length).
    pub stressed: bool,
}

const fn vowel(f1: f32, f2: f32, f3: f32, ms: f32) -> Phone {
    Phone {
        kind: Kind::Vowel,
        formants: [f1, f2, f3],
        dur_ms: ms,
        stressed: false,
    }
}

const fn glide(from: [f32; 3], to: [f32; 3]) -> Phone {
    Phone {
        kind: Kind::Diphthong(to),
        formants: from,
        dur_ms: 170.0,
        stressed: false,
    }
}

const fn liquid(f1: f32, f2: f32, f3: f32) -> Phone {
    Phone {
        kind: Kind::Liquid,
        formants: [f1, f2, f3],
        dur_ms: 60.0,
        stressed: false,
    }
}

const fn nasal(f2: f32) -> Phone {
    Phone {
        kind: Kind::Nasal,
        formants: [260.0, f2, 2500.0],
        dur_ms: 65.0,
        stressed: false,
    }
}

const fn fric(center: f32, bandwidth: f32, voiced: bool, ms: f32) -> Phone {
    Phone {
        kind: Kind::Fricative {
            center,
            bandwidth,
            voiced,
        },
        formants: [500.0, 1500.0, 2500.0],
        dur_ms: ms,
        stressed: false,
    }
}

const fn plosive(center: f32, voiced: bool, f2: f32) -> Phone {
    Phone {
        kind: Kind::Plosive { center, voiced },
        formants: [300.0, f2, 2500.0],
        dur_ms: 70.0,
        stressed: false,
    }
}

const IY: Phone = vowel(270.0, 2290.0, 3010.0, 110.0);
const IH: Phone = vowel(390.0, 1990.0, 2550.0, 80.0);
const EH: Phone = vowel(530.0, 1840.0, 2480.0, 90.0);
const AE: Phone = vowel(660.0, 1720.0, 2410.0, 110.0);
const AA: Phone = vowel(730.0, 1090.0, 2440.0, 115.0);
const AO: Phone = vowel(570.0, 840.0, 2410.0, 115.0);
const UH: Phone = vowel(440.0, 1020.0, 2240.0, 80.0);
const UW: Phone = vowel(300.0, 870.0, 2240.0, 110.0);
const AH: Phone = vowel(640.0, 1190.0, 2390.0, 80.0);
const ER: Phone = vowel(490.0, 1350.0, 1690.0, 110.0);
const AY: Phone = glide([730.0, 1090.0, 2440.0], [300.0, 2200.0, 2950.0]);
const EY: Phone = glide([530.0, 1840.0, 2480.0], [300.0, 2200.0, 2950.0]);
const OW: Phone = glide([570.0, 840.0, 2410.0], [320.0, 870.0, 2240.0]);
const AW: Phone = glide([730.0, 1090.0, 2440.0], [320.0, 870.0, 2240.0]);
const OY: Phone = glide([570.0, 840.0, 2410.0], [300.0, 2200.0, 2950.0]);
const L: Phone = liquid(360.0, 1300.0, 2800.0);
const R: Phone = liquid(420.0, 1300.0, 1600.0);
const W: Phone = liquid(300.0, 610.0, 2200.0);
const Y: Phone = liquid(280.0, 2200.0, 2900.0);
const M: Phone = nasal(1100.0);
const N: Phone = nasal(1700.0);
const NG: Phone = nasal(2300.0);
const S: Phone = fric(5200.0, 1800.0, false, 100.0);
const Z: Phone = fric(5000.0, 1800.0, true, 80.0);
const SH: Phone = fric(2900.0, 1400.0, false, 100.0);
const ZH: Phone = fric(2800.0, 1400.0, true, 70.0);
const F: Phone = fric(4500.0, 3500.0, false, 90.0);
const V: Phone = fric(4000.0, 3000.0, true, 60.0);
const TH: Phone = fric(4200.0, 3500.0, false, 85.0);
const DH: Phone = fric(4000.0, 3000.0, true, 45.0);
const H: Phone = fric(1500.0, 2500.0, false, 55.0);
const P: Phone = plosive(900.0, false, 900.0);
const B: Phone = plosive(800.0, true, 900.0);
const T: Phone = plosive(4000.0, false, 1700.0);
const D: Phone = plosive(3500.0, true, 1700.0);
const K: Phone = plosive(2200.0, false, 2000.0);
const G: Phone = plosive(2000.0, true, 2000.0);

/// Words whose "th" is voiced.
const VOICED_TH: &[&str] = &[
    "the", "this", "that", "these", "those", "there", "then", "they", "them", "their", "than",
    "though", "with", "other", "mother", "father", "brother", "weather", "together",
];

const DIGITS: [&str; 10] = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
];

fn is_vowel(c: u8) -> bool {
    matches!(c, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// Phones of one lowercase ASCII word.
pub fn word_phones(word: &str) -> Vec<Phone> {
    let w = word.as_bytes();
    let n = w.len();
    let mut out = Vec::new();
    // Magic e: vowel + one consonant + final e makes the vowel long and the e silent.
    let magic =
        n >= 3 && w[n - 1] == b'e' && !is_vowel(w[n - 2]) && w[n - 2] != b'r' && is_vowel(w[n - 3]);
    let magic_vowel = if magic { Some(n - 3) } else { None };
    // A final e is silent when an earlier vowel carries the word ("make", "love"; not "he", "the").
    let earlier_vowel = w[..n.saturating_sub(1)]
        .iter()
        .enumerate()
        .any(|(k, &c)| is_vowel(c) || (c == b'y' && k > 0));
    let mut i = 0;
    let at = |k: usize| -> u8 {
        if k < n {
            w[k]
        } else {
            0
        }
    };
    while i < n {
        let (c, c1, c2) = (w[i], at(i + 1), at(i + 2));
        let two = [c, c1];
        let (phones, used): (&[Phone], usize) = match (c, c1, c2) {
            (b'i', b'g', b'h') => (&[AY], 3),
            (b't', b'c', b'h') => (&[T, SH], 3),
            _ => match &two {
                b"th" => (
                    if VOICED_TH.contains(&word) {
                        &[DH]
                    } else {
                        &[TH]
                    },
                    2,
                ),
                b"sh" => (&[SH], 2),
                b"ch" => (&[T, SH], 2),
                b"ph" => (&[F], 2),
                b"wh" => (&[W], 2),
                b"ck" => (&[K], 2),
                b"ng" => (&[NG], 2),
                b"qu" => (&[K, W], 2),
                b"ee" | b"ea" | b"ie" => (&[IY], 2),
                b"oo" => (
                    if matches!(c2, b'k' | b'd') {
                        &[UH]
                    } else {
                        &[UW]
                    },
                    2,
                ),
                b"ou" => (&[AW], 2),
                b"ow" => (if i + 2 >= n { &[OW] } else { &[AW] }, 2),
                b"ai" | b"ay" | b"ei" | b"ey" => (&[EY], 2),
                b"oa" => (&[OW], 2),
                b"oi" | b"oy" => (&[OY], 2),
                b"au" | b"aw" => (&[AO], 2),
                b"ar" => (&[AA, R], 2),
                b"or" => (&[AO, R], 2),
                b"er" | b"ir" | b"ur" => (&[ER], 2),
                _ if c == c1 && !is_vowel(c) => (consonant(c, c2, i + 2 >= n), 2),
                _ => {
                    let p: &[Phone] = if Some(i) == magic_vowel {
                        match c {
                            b'a' => &[EY],
                            b'e' => &[IY],
                            b'i' => &[AY],
                            b'o' => &[OW],
                            _ => &[Y, UW],
                        }
                    } else if i == n - 1 && c == b'e' {
                        if earlier_vowel {
                            &[]
                        } else if word == "the" {
                            &[AH]
                        } else {
                            &[IY]
                        }
                    } else if c == b'y' {
                        if i == 0 {
                            &[Y]
                        } else if i == n - 1 {
                            if n <= 3 {
                                &[AY]
                            } else {
                                &[IY]
                            }
                        } else {
                            &[IH]
                        }
                    } else if i == n - 1 && c == b'o' {
                        &[OW]
                    } else if c == b's'
                        && i == n - 1
                        && n > 2
                        && !matches!(w[n - 2], b'p' | b't' | b'k' | b'f' | b's')
                    {
                        &[Z]
                    } else {
                        match c {
                            b'a' => &[AE],
                            b'e' => &[EH],
                            b'i' => &[IH],
                            b'o' => &[AA],
                            b'u' => &[AH],
                            _ => consonant(c, c1, i + 1 >= n),
                        }
                    };
                    (p, 1)
                }
            },
        };
        out.extend_from_slice(phones);
        i += used;
    }
    if let Some(first) = out
        .iter_mut()
        .find(|p| matches!(p.kind, Kind::Vowel | Kind::Diphthong(_)))
    {
        first.stressed = true;
    }
    out
}

/// A consonant letter (`next` is the following letter, for soft c and g).
fn consonant(c: u8, next: u8, _last: bool) -> &'static [Phone] {
    match c {
        b'b' => &[B],
        b'c' => {
            if matches!(next, b'e' | b'i' | b'y') {
                &[S]
            } else {
                &[K]
            }
        }
        b'd' => &[D],
        b'f' => &[F],
        b'g' => &[G],
        b'h' => &[H],
        b'j' => &[D, ZH],
        b'k' => &[K],
        b'l' => &[L],
        b'm' => &[M],
        b'n' => &[N],
        b'p' => &[P],
        b'q' => &[K],
        b'r' => &[R],
        b's' => &[S],
        b't' => &[T],
        b'v' => &[V],
        b'w' => &[W],
        b'x' => &[K, S],
        b'z' => &[Z],
        _ => &[],
    }
}

/// A unit of an utterance: a phone with its word position, or a pause.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Unit {
    /// The phone.
    pub phone: Phone,
    /// Index of the word in its sentence (for declination), 0-based.
    pub word: usize,
    /// Number of words in the sentence.
    pub words_in_sentence: usize,
    /// The sentence ends with '?'.
    pub question: bool,
}

/// Text to units: words to phones, punctuation to pauses (comma 180 ms, sentence end 380 ms,
/// between words 25 ms), digits spelled out.
pub fn text_units(text: &str) -> Vec<Unit> {
    let mut units = Vec::new();
    let lower = text.to_lowercase();
    // Split into sentences, keeping their terminator.
    let mut sentences: Vec<(String, char)> = Vec::new();
    let mut cur = String::new();
    for ch in lower.chars() {
        if matches!(ch, '.' | '!' | '?' | ';') {
            sentences.push((std::mem::take(&mut cur), ch));
        } else {
            cur.push(ch);
        }
    }
    if !cur.trim().is_empty() {
        sentences.push((cur, '.'));
    }
    let pause = |ms: f32| Unit {
        phone: Phone {
            kind: Kind::Pause(ms),
            formants: [500.0, 1500.0, 2500.0],
            dur_ms: ms,
            stressed: false,
        },
        word: 0,
        words_in_sentence: 1,
        question: false,
    };
    for (sentence, end) in sentences {
        // Tokens: words, and commas as their own token.
        let mut tokens: Vec<String> = Vec::new();
        for raw in sentence.split_whitespace() {
            let mut word = String::new();
            for ch in raw.chars() {
                if ch.is_ascii_alphabetic() {
                    word.push(ch);
                } else if let Some(d) = ch.to_digit(10) {
                    if !word.is_empty() {
                        tokens.push(std::mem::take(&mut word));
                    }
                    tokens.push(DIGITS[d as usize].to_string());
                } else if matches!(ch, ',' | ':' | '-') {
                    if !word.is_empty() {
                        tokens.push(std::mem::take(&mut word));
                    }
                    tokens.push(",".into());
                }
            }
            if !word.is_empty() {
                tokens.push(word);
            }
        }
        let words_in_sentence = tokens.iter().filter(|t| *t != ",").count().max(1);
        let question = end == '?';
        let mut word_index = 0;
        for token in &tokens {
            if token == "," {
                units.push(pause(180.0));
                continue;
            }
            let phones = word_phones(token);
            if phones.is_empty() {
                continue;
            }
            for phone in phones {
                units.push(Unit {
                    phone,
                    word: word_index,
                    words_in_sentence,
                    question,
                });
            }
            units.push(pause(25.0));
            word_index += 1;
        }
        if word_index > 0 {
            units.push(pause(380.0));
        }
    }
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vowels(word: &str) -> usize {
        word_phones(word)
            .iter()
            .filter(|p| matches!(p.kind, Kind::Vowel | Kind::Diphthong(_)))
            .count()
    }

    #[test]
    fn spelling_rules() {
        assert_eq!(
            word_phones("ship"),
            vec![SH, IH, P]
                .into_iter()
                .map(|mut p| {
                    p.stressed = p == IH;
                    p
                })
                .collect::<Vec<_>>()
        );
        assert_eq!(vowels("make"), 1); // magic e
        assert_eq!(word_phones("make")[1].kind, EY.kind);
        assert_eq!(vowels("night"), 1);
        assert_eq!(vowels("garden"), 2);
        assert_eq!(word_phones("the")[0], DH);
        assert_eq!(word_phones("city")[0], S);
        assert_eq!(vowels("brrr"), 0);
    }

    #[test]
    fn punctuation_makes_pauses_and_digits_are_spoken() {
        let units = text_units("Hello, world. Is 7 ok?");
        let pauses: Vec<f32> = units
            .iter()
            .filter_map(|u| {
                if let Kind::Pause(ms) = u.phone.kind {
                    Some(ms)
                } else {
                    None
                }
            })
            .collect();
        assert!(pauses.contains(&180.0) && pauses.iter().filter(|&&p| p == 380.0).count() == 2);
        assert!(units.iter().any(|u| u.question));
        // "seven" was spoken: two more vowels than without the digit.
        let count = |t: &str| {
            text_units(t)
                .iter()
                .filter(|u| matches!(u.phone.kind, Kind::Vowel | Kind::Diphthong(_)))
                .count()
        };
        assert_eq!(count("is 7 ok"), count("is ok") + 2);
    }
}
