//! Ids to the symbols the tables hold: the ids themselves when every id of the vocabulary
//! occurs, else dense ranks of the ids that occur (in id order) plus one symbol shared by
//! every id that never does.
//!
//! Why: the tables are sized by the number of symbols (dense rows of `symbols` counts, a
//! base-`symbols` row index), so sparse 32-bit ids (ids near 2^31 from a hashing
//! tokenizer, a vocabulary of 2^32 declared for a few thousand ids that occur) could not
//! run over ids. The vocabulary the probabilities are proper over is still the declared
//! one: the base of the blend gives each of its ids `1/(vocab - separator)`, and every id
//! that never occurs is scored, if asked, as the shared symbol, which is never counted,
//! so it gets exactly the escape mass an unseen id gets in the model over ids (the same
//! counts everywhere: none). When ids are dense nothing is remapped and the model is the
//! model over ids. The model depends on the ids only through their order, so sparse ids
//! code exactly as their ranks do under the same declared vocabulary (tested).
//!
//! Memory beside the tables: a rank per id below [`TABLE_IDS`] (a vocabulary up to it), or
//! a hash map of the distinct ids (16 bytes each and its slack) above.

use rustc_hash::FxHashMap;

use crate::control::Control;
use crate::error::Result;
use crate::tokens::Token;

/// Vocabularies up to this size remap through a table indexed by id (16 MiB at most).
const TABLE_IDS: u64 = 1 << 22;
/// Tokens between cancellation checks.
const CHUNK: usize = 1 << 16;
/// Marks an id absent from the table while it is built.
const ABSENT: u32 = u32::MAX;

/// How ids map to symbols.
pub enum Ranks {
    /// Every id occurs: symbol = id.
    Identity,
    /// Rank of each id below the vocabulary size, `unseen` for ids that never occur.
    Table { ranks: Vec<u32>, unseen: u32 },
    /// Rank of each id that occurs, `unseen` for the rest.
    Map {
        ranks: FxHashMap<u64, u32>,
        unseen: u32,
    },
}

impl Ranks {
    /// The map for `tokens` (validated: ids below `vocab`) over a vocabulary of `vocab` ids;
    /// the separator, if any, always gets a symbol of its own.
    ///
    /// # Errors
    /// Cancellation.
    pub fn of<T: Token>(
        tokens: &[T],
        vocab: u64,
        separator: Option<u64>,
        ctl: &Control<'_>,
    ) -> Result<Self> {
        let id = |t: T| t.id().unwrap_or(0);
        if vocab <= TABLE_IDS {
            let mut ranks = vec![ABSENT; vocab as usize];
            if let Some(s) = separator {
                ranks[s as usize] = 0;
            }
            for chunk in tokens.chunks(CHUNK) {
                ctl.check()?;
                for &t in chunk {
                    ranks[id(t) as usize] = 0;
                }
            }
            let mut next = 0u32;
            for r in &mut ranks {
                if *r != ABSENT {
                    *r = next;
                    next += 1;
                }
            }
            if u64::from(next) == vocab {
                return Ok(Self::Identity);
            }
            for r in &mut ranks {
                if *r == ABSENT {
                    *r = next;
                }
            }
            return Ok(Self::Table {
                ranks,
                unseen: next,
            });
        }
        let mut ranks: FxHashMap<u64, u32> = FxHashMap::default();
        if let Some(s) = separator {
            ranks.insert(s, 0);
        }
        for chunk in tokens.chunks(CHUNK) {
            ctl.check()?;
            for &t in chunk {
                ranks.insert(id(t), 0);
            }
        }
        if ranks.len() as u64 == vocab {
            return Ok(Self::Identity);
        }
        let mut ids: Vec<u64> = ranks.keys().copied().collect();
        ids.sort_unstable();
        for (r, x) in ids.iter().enumerate() {
            ranks.insert(*x, r as u32);
        }
        Ok(Self::Map {
            unseen: ids.len() as u32,
            ranks,
        })
    }

    /// The number of symbols the tables need.
    pub fn symbols(&self, vocab: u64) -> u64 {
        match self {
            Self::Identity => vocab,
            Self::Table { unseen, .. } | Self::Map { unseen, .. } => u64::from(*unseen) + 1,
        }
    }

    /// The symbol of id `x` (below the vocabulary size).
    #[inline]
    pub fn rank(&self, x: u64) -> u32 {
        match self {
            Self::Identity => x as u32,
            Self::Table { ranks, .. } => ranks[x as usize],
            Self::Map { ranks, unseen } => ranks.get(&x).copied().unwrap_or(*unseen),
        }
    }
}
