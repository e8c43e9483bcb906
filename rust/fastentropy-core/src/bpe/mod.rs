//! Exact byte-level BPE encoding of Hugging Face `tokenizer.json` vocabularies (GPT-2,
//! Llama 3, what `tokenizers`' trainer makes): the same ids as `tokenizers`, many times
//! faster, for the files whose pre-tokenizer we reproduce ([`split::Pattern`]).
//!
//! Text is split by the pattern, each piece's UTF-8 bytes become the ids of the 256 byte
//! tokens (the byte-level alphabet maps bytes to tokens one to one), and the piece is merged
//! ([`merge`]). Pieces repeat (words), so each worker keeps a cache of merged pieces; what it
//! holds never changes a result. Texts are encoded in chunks on the caller's threads and
//! concatenated in order: the ids are the same for any thread count.

pub mod merge;
pub mod split;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};
use crate::Control;
use merge::Merges;
pub use split::{Pattern, Splitter};

/// Pieces longer than this are not cached (they rarely repeat and would fill the cache).
const CACHE_PIECE_MAX: usize = 64;
/// A worker's cache is emptied when it holds this many ids: at most as many pieces of at
/// most [`CACHE_PIECE_MAX`] bytes, about 110 MB in the worst case (every piece new and
/// long), a few MB for natural text (most pieces are short and repeat).
const CACHE_IDS_MAX: usize = 1 << 20;
/// Texts are handed to workers in chunks of about this many bytes.
const CHUNK_BYTES: usize = 1 << 16;

/// The vocabulary of a byte-level BPE and how text is pre-tokenized for it.
pub struct BpeSpec {
    /// Every token as its bytes (byte-level characters decoded) with its id.
    pub tokens: Vec<(Vec<u8>, u32)>,
    /// The merges in rank order, as the ids of the left and right tokens.
    pub merges: Vec<(u32, u32)>,
    /// The split pattern.
    pub pattern: Pattern,
    /// `ByteLevel(add_prefix_space=true)`: a space before a text that does not start with one.
    pub add_prefix_space: bool,
    /// `ignore_merges`: a piece that is itself a token is that token, merges unapplied.
    pub ignore_merges: bool,
}

/// A byte-level BPE encoder (see the module doc).
pub struct BpeEncoder {
    byte_ids: [u32; 256],
    merges: Merges,
    whole: Option<FxHashMap<Box<[u8]>, u32>>,
    splitter: Splitter,
    add_prefix_space: bool,
    caches: Mutex<Vec<Worker>>,
}

/// What one worker keeps between pieces: the regex cache and the merged pieces.
struct Worker {
    regex: regex_automata::meta::Cache,
    pieces: FxHashMap<Box<[u8]>, (u32, u32)>,
    ids: Vec<u32>,
    symbols: Vec<u32>,
}

impl BpeEncoder {
    /// The encoder of `spec`.
    ///
    /// # Errors
    /// A byte without a token, a merge whose result is not a token, an id used twice.
    pub fn new(spec: BpeSpec) -> Result<Self> {
        let mut by_bytes: FxHashMap<Box<[u8]>, u32> = FxHashMap::default();
        let mut by_id: FxHashMap<u32, usize> = FxHashMap::default();
        for (i, (bytes, id)) in spec.tokens.iter().enumerate() {
            if by_id.insert(*id, i).is_some() {
                return Err(Error::Invalid(format!("token id {id} is given twice")));
            }
            if by_bytes
                .insert(bytes.clone().into_boxed_slice(), *id)
                .is_some()
            {
                return Err(Error::Invalid(format!("token {bytes:?} is given twice")));
            }
        }
        let mut byte_ids = [0u32; 256];
        for (b, slot) in byte_ids.iter_mut().enumerate() {
            *slot = *by_bytes.get(&[b as u8][..]).ok_or_else(|| {
                Error::Invalid(format!("byte {b:#04x} has no token: not a byte-level BPE"))
            })?;
        }
        let mut merges = Merges::default();
        for (rank, &(left, right)) in spec.merges.iter().enumerate() {
            let bytes = |id: u32| {
                by_id
                    .get(&id)
                    .map(|&i| spec.tokens[i].0.as_slice())
                    .ok_or_else(|| Error::Invalid(format!("merge {rank}: no token has id {id}")))
            };
            let joined = [bytes(left)?, bytes(right)?].concat();
            let merged = *by_bytes.get(joined.as_slice()).ok_or_else(|| {
                Error::Invalid(format!(
                    "merge {rank}: the merged token {joined:?} is missing"
                ))
            })?;
            // A pair listed twice keeps its last rank, as `tokenizers` does.
            merges.insert((left, right), (rank as u32, merged));
        }
        Ok(Self {
            byte_ids,
            merges,
            whole: spec.ignore_merges.then_some(by_bytes),
            splitter: Splitter::new(spec.pattern)?,
            add_prefix_space: spec.add_prefix_space,
            caches: Mutex::new(Vec::new()),
        })
    }

    /// The ids of `texts`, all in one array, and how many each text has.
    ///
    /// Work runs inside `ctl.run` (its threads), checks `ctl` between chunks and reports
    /// bytes done of the total.
    ///
    /// # Errors
    /// [`Error::Cancelled`], or a bad thread count.
    pub fn encode(&self, texts: &[&str], ctl: &Control<'_>) -> Result<(Vec<u32>, Vec<u64>)> {
        let total: u64 = texts.iter().map(|t| t.len() as u64).sum();
        let mut chunks = Vec::new();
        let (mut start, mut bytes) = (0, 0);
        for (i, t) in texts.iter().enumerate() {
            bytes += t.len();
            if bytes >= CHUNK_BYTES {
                chunks.push(start..i + 1);
                (start, bytes) = (i + 1, 0);
            }
        }
        if start < texts.len() {
            chunks.push(start..texts.len());
        }
        let done = AtomicU64::new(0);
        let parts = ctl.run(|| {
            chunks
                .into_par_iter()
                .map(|range| {
                    ctl.check()?;
                    let mut worker = self.worker();
                    let mut ids = Vec::new();
                    let mut lengths = Vec::with_capacity(range.len());
                    let mut bytes = 0;
                    for text in &texts[range] {
                        let before = ids.len();
                        self.encode_text(&mut worker, text, &mut ids);
                        lengths.push((ids.len() - before) as u64);
                        bytes += text.len() as u64;
                    }
                    self.caches
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(worker);
                    let d = done.fetch_add(bytes, Ordering::Relaxed) + bytes;
                    ctl.report(d, total);
                    Ok((ids, lengths))
                })
                .collect::<Result<Vec<_>>>()
        })?;
        let n: usize = parts.iter().map(|(ids, _)| ids.len()).sum();
        let mut ids = Vec::with_capacity(n);
        let mut lengths = Vec::with_capacity(texts.len());
        for (i, l) in parts {
            ids.extend_from_slice(&i);
            lengths.extend_from_slice(&l);
        }
        Ok((ids, lengths))
    }

    /// The ids of one text, appended to `out` (single-threaded; for tests and small calls).
    pub fn encode_one(&self, text: &str, out: &mut Vec<u32>) {
        let mut worker = self.worker();
        self.encode_text(&mut worker, text, out);
        self.caches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(worker);
    }

    fn worker(&self) -> Worker {
        let reused = self.caches.lock().unwrap_or_else(|e| e.into_inner()).pop();
        reused.unwrap_or_else(|| Worker {
            regex: self.splitter.cache(),
            pieces: FxHashMap::default(),
            ids: Vec::new(),
            symbols: Vec::new(),
        })
    }

    fn encode_text(&self, w: &mut Worker, text: &str, out: &mut Vec<u32>) {
        let Worker {
            regex,
            pieces,
            ids,
            symbols,
        } = w;
        let mut piece = |p: &str| self.encode_piece(pieces, ids, symbols, p.as_bytes(), out);
        // `tokenizers` adds no space to an empty text.
        if self.add_prefix_space && !text.is_empty() && !text.starts_with(' ') {
            // The space joins the first piece as the regex would see it: split " " + text.
            let spaced = format!(" {text}");
            self.splitter.split(regex, &spaced, &mut piece);
        } else {
            self.splitter.split(regex, text, &mut piece);
        }
    }

    fn encode_piece(
        &self,
        pieces: &mut FxHashMap<Box<[u8]>, (u32, u32)>,
        cached: &mut Vec<u32>,
        symbols: &mut Vec<u32>,
        piece: &[u8],
        out: &mut Vec<u32>,
    ) {
        if let Some(whole) = &self.whole {
            if let Some(&id) = whole.get(piece) {
                out.push(id);
                return;
            }
        }
        if piece.len() == 1 {
            out.push(self.byte_ids[piece[0] as usize]);
            return;
        }
        let cacheable = piece.len() <= CACHE_PIECE_MAX;
        if cacheable {
            if let Some(&(at, len)) = pieces.get(piece) {
                out.extend_from_slice(&cached[at as usize..(at + len) as usize]);
                return;
            }
        }
        symbols.clear();
        symbols.extend(piece.iter().map(|&b| self.byte_ids[b as usize]));
        merge::merge(symbols, &self.merges);
        out.extend_from_slice(symbols);
        if cacheable {
            if cached.len() + symbols.len() > CACHE_IDS_MAX {
                cached.clear();
                pieces.clear();
            }
            pieces.insert(piece.into(), (cached.len() as u32, symbols.len() as u32));
            cached.extend_from_slice(symbols);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A toy vocabulary: the 256 bytes as ids 0..255, then "he", "ll", "hell", "hello", " w".
    fn toy(pattern: Pattern, add_prefix_space: bool, ignore_merges: bool) -> BpeEncoder {
        let mut tokens: Vec<(Vec<u8>, u32)> = (0..=255u8).map(|b| (vec![b], b as u32)).collect();
        for (i, t) in ["he", "ll", "hell", "hello", " w", "xyz"]
            .iter()
            .enumerate()
        {
            tokens.push((t.as_bytes().to_vec(), 256 + i as u32));
        }
        let b = |c: u8| c as u32;
        let merges = vec![
            (b(b'h'), b(b'e')),
            (b(b'l'), b(b'l')),
            (256, 257),
            (258, b(b'o')),
        ];
        let spec = BpeSpec {
            tokens,
            merges,
            pattern,
            add_prefix_space,
            ignore_merges,
        };
        BpeEncoder::new(spec).unwrap()
    }

    fn ids(enc: &BpeEncoder, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        enc.encode_one(text, &mut out);
        out
    }

    #[test]
    fn merges_by_rank_within_pieces() {
        let enc = toy(Pattern::Gpt2, false, false);
        // "hello" -> he ll o -> hell o -> hello; " world" is one piece with no merges but " w"
        // is not a merge (only a token), so it stays bytes.
        assert_eq!(ids(&enc, "hello"), [259]);
        assert_eq!(ids(&enc, "hello hello"), [259, 32, 259]);
        assert_eq!(ids(&enc, " w"), [32, 119]);
        // Cached pieces give the same again.
        assert_eq!(ids(&enc, "hello hello"), [259, 32, 259]);
    }

    #[test]
    fn prefix_space_and_ignore_merges() {
        let enc = toy(Pattern::Gpt2, true, false);
        assert_eq!(ids(&enc, "hello"), [32, 259]);
        assert_eq!(ids(&enc, " hello"), [32, 259]);
        assert_eq!(ids(&enc, ""), [0u32; 0]);
        let enc = toy(Pattern::Gpt2, false, true);
        // " w" and "xyz" are tokens: taken whole, though no merge makes them.
        assert_eq!(ids(&enc, " w"), [260]);
        assert_eq!(ids(&enc, "xyz"), [261]);
    }

    #[test]
    fn same_ids_for_any_thread_count() {
        let enc = toy(Pattern::Cl100k, false, false);
        let text: String = (0..5000).map(|i| format!("hello {i} hell\n")).collect();
        let texts: Vec<&str> = text.split_inclusive('\n').collect();
        let one = enc.encode(&texts, &Control::with_threads(Some(1))).unwrap();
        let three = enc.encode(&texts, &Control::with_threads(Some(3))).unwrap();
        assert_eq!(one, three);
        assert_eq!(one.1.len(), texts.len());
        let mut direct = Vec::new();
        for t in &texts {
            enc.encode_one(t, &mut direct);
        }
        assert_eq!(one.0, direct);
    }

    #[test]
    fn refuses_incomplete_vocabularies() {
        let spec = BpeSpec {
            tokens: vec![(b"a".to_vec(), 0)],
            merges: vec![],
            pattern: Pattern::Gpt2,
            add_prefix_space: false,
            ignore_merges: false,
        };
        assert!(BpeEncoder::new(spec).is_err());
    }
}
