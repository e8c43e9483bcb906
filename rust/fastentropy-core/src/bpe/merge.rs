//! Byte-pair merging of one piece with the semantics of Hugging Face `tokenizers`' BPE model
//! (Sennrich et al. 2016, "Neural Machine Translation of Rare Words with Subword Units"):
//! while some adjacent pair of symbols has a merge, apply the merge of lowest rank (its index
//! in the file's `merges` list), the leftmost occurrence first. This is not tiktoken's rule
//! (the rank of the merged token), which differs when a token can be made by two merges.
//!
//! Short pieces scan for the best pair (quadratic in the piece, fastest for the few symbols
//! of a word); long ones keep candidate pairs in a heap ordered by (rank, position), checked
//! against the current symbols when popped, so a run of a million digits stays n log n.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

/// Pieces of at most this many symbols are merged by scanning.
const SCAN_MAX: usize = 48;

/// The merges of a vocabulary: `(left, right) -> (rank, merged)`.
pub type Merges = FxHashMap<(u32, u32), (u32, u32)>;

/// Merges `symbols` in place until no pair has a merge.
pub fn merge(symbols: &mut Vec<u32>, merges: &Merges) {
    if symbols.len() <= SCAN_MAX {
        merge_scan(symbols, merges);
    } else {
        merge_heap(symbols, merges);
    }
}

/// The direct rule: find the lowest-ranked pair (leftmost among equals), merge it, repeat.
pub fn merge_scan(symbols: &mut Vec<u32>, merges: &Merges) {
    while symbols.len() > 1 {
        let mut best: Option<(u32, usize, u32)> = None;
        for (i, pair) in symbols.windows(2).enumerate() {
            if let Some(&(rank, merged)) = merges.get(&(pair[0], pair[1])) {
                if best.is_none_or(|(r, _, _)| rank < r) {
                    best = Some((rank, i, merged));
                }
            }
        }
        let Some((_, i, merged)) = best else { break };
        symbols[i] = merged;
        symbols.remove(i + 1);
    }
}

/// The same rule with a heap of candidate pairs, each keyed by the position of its left
/// symbol in the original piece (positions keep their order as symbols merge).
pub fn merge_heap(symbols: &mut Vec<u32>, merges: &Merges) {
    let n = symbols.len();
    const NONE: usize = usize::MAX;
    // A doubly linked list over the original positions; a merged-away symbol is dead.
    let mut next: Vec<usize> = (1..=n).map(|i| if i == n { NONE } else { i }).collect();
    let mut prev: Vec<usize> = (0..n).map(|i| i.wrapping_sub(1)).collect();
    prev[0] = NONE;
    let mut alive = vec![true; n];
    let mut heap = BinaryHeap::new();
    let push = |heap: &mut BinaryHeap<_>, symbols: &[u32], at: usize, right: usize| {
        if let Some(&(rank, _)) = merges.get(&(symbols[at], symbols[right])) {
            heap.push(Reverse((rank, at)));
        }
    };
    for i in 0..n - 1 {
        push(&mut heap, symbols, i, i + 1);
    }
    while let Some(Reverse((rank, at))) = heap.pop() {
        let right = next[at];
        if !alive[at] || right == NONE {
            continue;
        }
        // Stale unless the pair now at `at` is the one of this rank (ranks are unique).
        let Some(&(r, merged)) = merges.get(&(symbols[at], symbols[right])) else {
            continue;
        };
        if r != rank {
            continue;
        }
        symbols[at] = merged;
        alive[right] = false;
        let after = next[right];
        next[at] = after;
        if after != NONE {
            prev[after] = at;
            push(&mut heap, symbols, at, after);
        }
        if prev[at] != NONE {
            push(&mut heap, symbols, prev[at], at);
        }
    }
    let mut w = 0;
    for i in 0..n {
        if alive[i] {
            symbols[w] = symbols[i];
            w += 1;
        }
    }
    symbols.truncate(w);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn merges_of(list: &[(u32, u32, u32)]) -> Merges {
        let mut m = Merges::default();
        for (rank, &(a, b, c)) in list.iter().enumerate() {
            m.insert((a, b), (rank as u32, c));
        }
        m
    }

    #[test]
    fn lowest_rank_then_leftmost() {
        // a=0 b=1; ab=2 (rank 0), bb=3 (rank 1), abb=4 from (ab, b) rank 2.
        let m = merges_of(&[(0, 1, 2), (1, 1, 3), (2, 1, 4)]);
        let mut s = vec![0, 1, 1, 1, 1];
        merge_scan(&mut s, &m);
        // ab b b b -> abb b b -> abb bb  (rank 1 (b,b) beats rank 2 (ab,b) after the first)
        // Worked by hand: after ab: pairs (ab,b)=2,(b,b)=1,(b,b)=1 -> leftmost (b,b): ab bb b;
        // pairs (ab,bb) none, (bb,b) none -> done.
        assert_eq!(s, [2, 3, 1]);
    }

    proptest! {
        // The heap must give exactly what the direct rule gives, on random merge tables.
        #[test]
        fn heap_equals_scan(
            table in prop::collection::vec((0u32..6, 0u32..6, 0u32..6), 0..12),
            piece in prop::collection::vec(0u32..6, 0..200),
        ) {
            let m = merges_of(&table);
            let (mut a, mut b) = (piece.clone(), piece);
            merge_scan(&mut a, &m);
            if !b.is_empty() { merge_heap(&mut b, &m); }
            prop_assert_eq!(a, b);
        }
    }
}
