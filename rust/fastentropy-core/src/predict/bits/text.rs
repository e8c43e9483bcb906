//! Text contexts of the byte model: what a byte of text depends on beyond its last few
//! bytes. Ideas from Mahoney's PAQ family (the word unigram/bigram and positional models of
//! PAQ1, "The PAQ1 data compression program", 2002; PAQ8's word model with its column
//! contexts, paq8l 2007; "Data Compression Explained", 2013, sec. 6.1 on text), written here
//! from their description:
//!
//! - **Words**: the hash of the current word's letters (ASCII, case-folded) with the last
//!   byte; the current word with the previous one; with the two previous ones.
//! - **Brackets**: the innermost two open brackets (`( [ { <`) with the last two bytes: a
//!   span in brackets (a pronunciation, a markup tag, an aside) has its own byte statistics.
//! - **Columns**: the byte above (same column of the previous line), the last byte and the
//!   column; the last two bytes and the column. Text wrapped into lines, indented
//!   paragraphs and tables repeat by column.
//!
//! 4 MB of English dictionary text (dict-gcide), the byte model's bits/byte: without these
//! but the first two word contexts 1.5113; with the column context 1.4740; all six with the
//! SSE and mixer changes of [`super`] 1.4346 (the words' trigram 0.0048, the brackets
//! 0.0090, the columns' order 2 0.0104 of it). The contexts only ever feed predictions, so
//! they can cost compression on other data, never normalisation.

use super::contexts::mix;

/// Hashes each byte contributes (the slots of [`Text::hashes`]).
pub const TEXT_CONTEXTS: usize = 6;
/// Bytes of a line kept for the column contexts (a longer line's tail has no byte above).
const LINE: usize = 256;

/// The text state of the current document, moved on by each byte.
#[derive(Clone)]
pub struct Text {
    word: u64,
    prev_word: u64,
    prev2_word: u64,
    /// Open brackets, innermost in the low byte.
    brackets: u64,
    /// The current line (`lines[0]`) and the previous one.
    lines: [[u8; LINE]; 2],
    prev_len: usize,
    col: usize,
}

impl Text {
    pub fn new() -> Self {
        Self {
            word: 0,
            prev_word: 0,
            prev2_word: 0,
            brackets: 0,
            lines: [[0; LINE]; 2],
            prev_len: 0,
            col: 0,
        }
    }

    /// A new document: no words, brackets or lines.
    pub fn reset(&mut self) {
        let lines = self.lines;
        *self = Self {
            lines,
            ..Self::new()
        };
    }

    /// Moves on by the byte `b`.
    #[inline]
    pub fn update(&mut self, b: u8) {
        let lower = b.to_ascii_lowercase();
        if lower.is_ascii_lowercase() {
            self.word = (self.word ^ u64::from(lower)).wrapping_mul(0x2f0f_3c4b_6a5d_1e87) | 1;
        } else if self.word != 0 {
            self.prev2_word = self.prev_word;
            self.prev_word = self.word;
            self.word = 0;
        }
        match b {
            b'(' | b'[' | b'{' | b'<' => self.brackets = (self.brackets << 8) | u64::from(b),
            b')' | b']' | b'}' | b'>' => self.brackets >>= 8,
            _ => {}
        }
        if b == b'\n' {
            self.lines.swap(0, 1);
            self.prev_len = self.col;
            self.col = 0;
        } else {
            if self.col < LINE {
                self.lines[0][self.col] = b;
            }
            self.col += 1;
        }
    }

    /// The context hashes of the next byte after `hist` (the document's last bytes, newest
    /// in the low byte, 0 before its start) whose last byte is `c1` (256 at its start).
    #[inline]
    pub fn hashes(&self, hist: u64, c1: usize) -> [u64; TEXT_CONTEXTS] {
        let c1 = c1 as u64;
        let c2 = (hist >> 8) & 0xff;
        let col = self.col.min(LINE - 1) as u64;
        let above = if self.col < self.prev_len.min(LINE) {
            u64::from(self.lines[1][self.col])
        } else {
            0
        };
        [
            mix(self.word ^ mix(0x100 | c1 | (1 << 40))),
            mix(self.word ^ mix(self.prev_word ^ (2 << 40))),
            mix(self.word ^ mix(self.prev_word ^ mix(self.prev2_word ^ (3 << 40)))),
            mix((self.brackets & 0xffff) ^ (c1 << 16) ^ (c2 << 24) ^ (4 << 40)),
            mix(above ^ (c1 << 8) ^ (col << 16) ^ (5 << 40)),
            mix((hist & 0xffff) ^ (col << 16) ^ (7 << 40)),
        ]
    }
}
