//! Challenge prompts: a word-level Markov chain over a prompt corpus written for this project
//! (`corpus/*.txt`), as Vision generates synthetic captions. Fresh prompts each step stop miners
//! from caching answers to a fixed list.

use rand::Rng;
use std::collections::HashMap;

const MUSIC: &str = include_str!("corpus/music.txt");
const IMAGES: &str = include_str!("corpus/images.txt");
const SPEECH: &str = include_str!("corpus/speech.txt");

/// Which corpus a generator learns from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    /// Music descriptions.
    Music,
    /// Image captions.
    Image,
    /// Sentences to speak (also used to seed text generation).
    Speech,
}

/// A second-order word Markov chain: (w[i-2], w[i-1]) -> candidates for w[i].
#[derive(Debug)]
pub struct PromptGenerator {
    starts: Vec<(String, String)>,
    next: HashMap<(String, String), Vec<String>>,
    max_words: usize,
}

const END: &str = "\u{0}";

impl PromptGenerator {
    /// A generator trained on the built-in corpus of `kind`.
    pub fn builtin(kind: PromptKind) -> Self {
        let (text, max_words) = match kind {
            PromptKind::Music => (MUSIC, 28),
            PromptKind::Image => (IMAGES, 20),
            PromptKind::Speech => (SPEECH, 24),
        };
        Self::train(text, max_words)
    }

    /// A generator trained on one prompt per line of `text`.
    pub fn train(text: &str, max_words: usize) -> Self {
        let mut starts = Vec::new();
        let mut next: HashMap<(String, String), Vec<String>> = HashMap::new();
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.len() < 2 {
                continue;
            }
            starts.push((words[0].to_string(), words[1].to_string()));
            for i in 2..=words.len() {
                let w = words.get(i).copied().unwrap_or(END);
                next.entry((words[i - 2].to_string(), words[i - 1].to_string()))
                    .or_default()
                    .push(w.to_string());
            }
        }
        Self {
            starts,
            next,
            max_words,
        }
    }

    /// A fresh prompt drawn with `rng`; always non-empty and at most the generator's word limit.
    pub fn generate(&self, rng: &mut impl Rng) -> String {
        let (a, b) = &self.starts[rng.gen_range(0..self.starts.len())];
        let mut words = vec![a.clone(), b.clone()];
        while words.len() < self.max_words {
            let key = (
                words[words.len() - 2].clone(),
                words[words.len() - 1].clone(),
            );
            let Some(cands) = self.next.get(&key) else {
                break;
            };
            let w = &cands[rng.gen_range(0..cands.len())];
            if w == END {
                break;
            }
            words.push(w.clone());
        }
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn prompts_are_varied_bounded_and_reproducible() {
        let g = PromptGenerator::builtin(PromptKind::Music);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let prompts: Vec<String> = (0..50).map(|_| g.generate(&mut rng)).collect();
        let distinct: std::collections::BTreeSet<_> = prompts.iter().collect();
        assert!(
            distinct.len() > 25,
            "only {} distinct prompts",
            distinct.len()
        );
        assert!(prompts
            .iter()
            .all(|p| !p.is_empty() && p.split_whitespace().count() <= 28));
        let mut again = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        assert_eq!(g.generate(&mut again), prompts[0]);
        // The chain recombines: some prompt is not a corpus line.
        assert!(prompts
            .iter()
            .any(|p| !MUSIC.lines().any(|l| l.trim() == p)));
    }
}
