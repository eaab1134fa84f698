//! BIP39 mnemonics (English word list) turned into sr25519 mini secrets the Substrate way:
//! PBKDF2-HMAC-SHA512 over the phrase's *entropy*, not the standard BIP39 seed.

use crate::KeyError;
use zeroize::Zeroizing;

/// The word counts a mnemonic may have.
pub const WORD_COUNTS: [usize; 5] = [12, 15, 18, 21, 24];

/// A fresh random English mnemonic of `words` words (12, 15, 18, 21 or 24).
pub fn generate(words: usize) -> Result<Zeroizing<String>, KeyError> {
    if !WORD_COUNTS.contains(&words) {
        return Err(KeyError::Mnemonic(format!(
            "a mnemonic has 12, 15, 18, 21 or 24 words, not {words}"
        )));
    }
    let mut entropy = Zeroizing::new([0u8; 32]);
    let len = words / 3 * 4;
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut entropy[..len]);
    let mnemonic = bip39::Mnemonic::from_entropy(&entropy[..len])
        .map_err(|e| KeyError::Mnemonic(e.to_string()))?;
    Ok(Zeroizing::new(mnemonic.to_string()))
}

/// The phrase with words lower-cased and single-spaced, as wallet files store it.
pub fn normalize(phrase: &str) -> Zeroizing<String> {
    let words: Vec<String> = phrase.split_whitespace().map(str::to_lowercase).collect();
    Zeroizing::new(words.join(" "))
}

/// The BIP39 entropy of a phrase, after checking its words and checksum.
pub fn entropy(phrase: &str) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let normalized = normalize(phrase);
    let mnemonic = bip39::Mnemonic::parse_in_normalized(bip39::Language::English, &normalized)
        .map_err(|e| {
            KeyError::Mnemonic(format!(
                "{e}; check the spelling and order of the words (English BIP39 list, 12-24 words)"
            ))
        })?;
    Ok(Zeroizing::new(mnemonic.to_entropy()))
}

/// The 32-byte sr25519 mini secret of a phrase and optional BIP39 password (substrate-bip39).
pub fn mini_secret(phrase: &str, password: Option<&str>) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let entropy = entropy(phrase)?;
    let mini = substrate_bip39::mini_secret_from_entropy(&entropy, password.unwrap_or(""))
        .map_err(|e| KeyError::Mnemonic(format!("{e:?}")))?;
    Ok(Zeroizing::new(mini.to_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_phrases_have_the_asked_length_and_parse() {
        for n in WORD_COUNTS {
            let phrase = generate(n).unwrap();
            assert_eq!(phrase.split(' ').count(), n);
            assert_eq!(entropy(&phrase).unwrap().len(), n / 3 * 4);
        }
        assert!(generate(13).is_err());
        assert_ne!(*generate(12).unwrap(), *generate(12).unwrap());
    }

    #[test]
    fn bad_checksum_and_unknown_words_are_rejected() {
        // Valid words, wrong last word: the checksum fails.
        let bad = "bottom drive obey lake curtain smoke basket hold race lonely fit fit";
        assert!(matches!(entropy(bad), Err(KeyError::Mnemonic(_))));
        assert!(
            entropy("bottom drive obey lake curtain smoke basket hold race lonely fit walkk")
                .is_err()
        );
        // Case and spacing do not matter.
        let messy = "  Bottom DRIVE obey lake curtain smoke basket hold race lonely fit   walk ";
        assert!(entropy(messy).is_ok());
    }
}
