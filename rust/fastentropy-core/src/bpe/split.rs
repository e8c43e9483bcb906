//! The pre-tokenizer of byte-level BPE: the split regexes of GPT-2 and of cl100k / Llama 3,
//! matched exactly as Hugging Face `tokenizers` (Oniguruma, a backtracking engine) matches
//! them, with `regex-automata` (leftmost-first, which is the backtracking priority order).
//!
//! Both patterns end in `\s+(?!\S)|\s+`, a look-ahead `regex-automata` has no syntax for. We
//! match `\s+` instead and then give back what the look-ahead would: at a run of whitespace
//! `[p, q)` that reaches the `\s+` alternative (every earlier one failed), backtracking gives
//! `\s+(?!\S)` the whole run when it ends the text, else the run less its last character when
//! that leaves at least one, else nothing, and then `\s+` takes the lone character. The
//! character given back starts the next piece (typically " word").
//!
//! A match reaches the `\s+` alternative exactly when it is all whitespace and, for cl100k,
//! holds no `\r`/`\n` (its `\s*[\r\n]+` alternative comes first and takes every run with
//! one). The Unicode classes `\p{L}`, `\p{N}` and `\s` of `regex-syntax` 0.8 were checked
//! code point by code point against those of the `tokenizers` 0.23 wheel: the same sets.

use regex_automata::meta::{Cache, Regex};
use regex_automata::{Anchored, Input};

use crate::error::{Error, Result};

/// A split pattern we reproduce exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// GPT-2's, also the one of `ByteLevel(use_regex=true)`.
    Gpt2,
    /// cl100k's, also Llama 3's: case-insensitive contractions, digits in threes, line breaks
    /// kept with the whitespace before them.
    Cl100k,
}

/// The pattern as `tokenizer.json` files write it.
pub const GPT2: &str =
    r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";
/// The pattern as `tokenizer.json` files write it.
pub const CL100K: &str = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

/// The look-ahead alternative and what replaces it.
const LOOKAHEAD: &str = r"|\s+(?!\S)|\s+";
const INSTEAD: &str = r"|\s+";

impl Pattern {
    /// The pattern whose text is `source`, if it is one of ours.
    pub fn from_source(source: &str) -> Option<Self> {
        match source {
            GPT2 => Some(Self::Gpt2),
            CL100K => Some(Self::Cl100k),
            _ => None,
        }
    }

    /// The pattern's text.
    pub fn source(self) -> &'static str {
        match self {
            Self::Gpt2 => GPT2,
            Self::Cl100k => CL100K,
        }
    }
}

/// Splits text into the pieces BPE encodes one by one.
#[derive(Clone, Debug)]
pub struct Splitter {
    regex: Regex,
    pattern: Pattern,
}

impl Splitter {
    /// The splitter of `pattern`.
    ///
    /// # Errors
    /// Only if the regex engine refuses the pattern (a bug).
    pub fn new(pattern: Pattern) -> Result<Self> {
        let source = pattern.source();
        let head = source
            .strip_suffix(LOOKAHEAD)
            .expect("both patterns end in the look-ahead");
        let regex = Regex::new(&format!("{head}{INSTEAD}"))
            .map_err(|e| Error::Invalid(format!("split pattern: {e}")))?;
        Ok(Self { regex, pattern })
    }

    /// A cache for [`Splitter::split`] (one per thread).
    pub fn cache(&self) -> Cache {
        self.regex.create_cache()
    }

    /// Calls `piece` with every piece of `text`, in order; together they are `text`.
    pub fn split(&self, cache: &mut Cache, text: &str, mut piece: impl FnMut(&str)) {
        let mut at = 0;
        while at < text.len() {
            let input = Input::new(text).range(at..).anchored(Anchored::Yes);
            let end = match self.regex.search_with(cache, &input) {
                Some(m) => self.look_ahead(text, at, m.end()),
                None => {
                    // Every character starts a match of either pattern, so this is never
                    // reached; a gap before the next match would be its own piece.
                    let input = Input::new(text).range(at..);
                    match self.regex.search_with(cache, &input) {
                        Some(m) => m.start(),
                        None => text.len(),
                    }
                }
            };
            piece(&text[at..end]);
            at = end;
        }
    }

    /// The end of the match `[start, end)` once `\s+(?!\S)` has had its turn.
    fn look_ahead(&self, text: &str, start: usize, end: usize) -> usize {
        if end == text.len() {
            return end;
        }
        let matched = &text[start..end];
        let mut chars = matched.chars();
        let Some(last) = chars.next_back() else {
            return end;
        };
        if chars.as_str().is_empty() || !matched.chars().all(char::is_whitespace) {
            return end;
        }
        if self.pattern == Pattern::Cl100k && matched.contains(['\r', '\n']) {
            return end;
        }
        end - last.len_utf8()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(pattern: Pattern, text: &str) -> Vec<String> {
        let s = Splitter::new(pattern).unwrap();
        let mut cache = s.cache();
        let mut out = Vec::new();
        s.split(&mut cache, text, |p| out.push(p.to_owned()));
        out
    }

    // Expected pieces worked out by hand from the patterns' backtracking semantics.
    #[test]
    fn gpt2_gives_back_one_space() {
        assert_eq!(
            pieces(Pattern::Gpt2, "Hello   world's 123!!\n\n x  "),
            ["Hello", "  ", " world", "'s", " 123", "!!", "\n\n", " x", "  "]
        );
        assert_eq!(pieces(Pattern::Gpt2, "a\tb"), ["a", "\t", "b"]);
        assert_eq!(pieces(Pattern::Gpt2, " \u{3000}b"), [" ", "\u{3000}", "b"]);
    }

    #[test]
    fn cl100k_keeps_line_breaks_and_digit_triples() {
        assert_eq!(
            pieces(Pattern::Cl100k, "I'LL pay 12345  now\n\n  ok \r\n"),
            ["I", "'LL", " pay", " ", "123", "45", " ", " now", "\n\n", " ", " ok", " \r\n"]
        );
        assert_eq!(pieces(Pattern::Cl100k, "\tx"), ["\tx"]);
    }

    #[test]
    fn sources_round_trip() {
        for p in [Pattern::Gpt2, Pattern::Cl100k] {
            assert_eq!(Pattern::from_source(p.source()), Some(p));
        }
        assert_eq!(Pattern::from_source(r"\w+"), None);
    }
}
