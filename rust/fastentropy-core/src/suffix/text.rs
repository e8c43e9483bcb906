//! The token sequence as the suffix index reads it: position `i` holds a token id, or
//! `None` for a separator. `None` sorts before every id, as the separator's rank 0 does in
//! the remap that the suffix array is built from, so comparisons here follow the array.
//! A separator never equals anything (itself included): no match runs through it.

use crate::tokens::Token;

/// Random access to a token sequence, forwards or backwards.
pub(crate) trait Text: Sync {
    fn len(&self) -> usize;
    /// The id at `i`, `None` for a separator.
    fn get(&self, i: usize) -> Option<u64>;
    /// Asks the CPU to bring token `i` (< len) into cache: a hint, no effect on results.
    fn prefetch(&self, i: usize);
    /// Whether any position may be a separator (`false`: none is).
    fn has_separator(&self) -> bool;
    /// Whether the [`BLOCK`] tokens from `a` and from `b` all exist, are equal and hold no
    /// separator (`false` when unsure: the caller then compares token by token).
    #[inline]
    fn same_block(&self, _a: usize, _b: usize) -> bool {
        false
    }
}

/// Tokens compared at once by [`Text::same_block`]: long common prefixes (a text's mean LCP
/// is ~14 bytes) cost a block compare per 8 tokens instead of 8 branches.
pub(crate) const BLOCK: usize = 8;

/// Asks the CPU to bring `slot` into cache: a hint, no effect on results.
#[inline(always)]
pub(crate) fn prefetch_at<T>(slot: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch of a valid reference's address; it reads nothing observable.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((slot as *const T).cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = slot;
}

/// As [`prefetch_at`], for an address inside an array written through a raw pointer.
#[inline(always)]
pub(crate) fn prefetch_ptr<T>(slot: *const T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch never faults and reads nothing observable, whatever the address.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>(slot.cast::<i8>());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = slot;
}

/// The tokens as given.
pub(crate) struct Forward<'a, T> {
    pub tokens: &'a [T],
    pub separator: Option<u64>,
}

impl<T: Token> Text for Forward<'_, T> {
    #[inline]
    fn len(&self) -> usize {
        self.tokens.len()
    }

    #[inline]
    fn get(&self, i: usize) -> Option<u64> {
        // Ids were checked non-negative when the index was built (or its file opened).
        let id = self.tokens[i].id().unwrap_or(0);
        (Some(id) != self.separator).then_some(id)
    }

    #[inline]
    fn prefetch(&self, i: usize) {
        prefetch_at(&self.tokens[i]);
    }

    fn has_separator(&self) -> bool {
        self.separator.is_some()
    }

    #[inline]
    fn same_block(&self, a: usize, b: usize) -> bool {
        let (Some(x), Some(y)) = (self.tokens.get(a..a + BLOCK), self.tokens.get(b..b + BLOCK))
        else {
            return false;
        };
        let sep = self.separator;
        // No short circuit: eight independent compares the compiler can do at once.
        x.iter().zip(y).fold(true, |all, (&p, &q)| {
            let p = p.id();
            all & (p == q.id()) & (p != sep)
        })
    }
}

/// The tokens read from the last to the first: an n-gram ending at `e` is the suffix at
/// `len - 1 - e` read `n` long, so a property of its last token (the mask) is a property of
/// where that suffix starts, the same for every order.
pub(crate) struct Reversed<'a, T>(pub Forward<'a, T>);

impl<T: Token> Text for Reversed<'_, T> {
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }

    #[inline]
    fn get(&self, i: usize) -> Option<u64> {
        self.0.get(self.0.len() - 1 - i)
    }

    #[inline]
    fn prefetch(&self, i: usize) {
        self.0.prefetch(self.0.len() - 1 - i);
    }

    fn has_separator(&self) -> bool {
        self.0.has_separator()
    }
}

/// Length of the longest common prefix of the suffixes at `a` and `b` that holds no
/// separator, and whether it stopped at a separator or the end on either side (rather than
/// at two different ids), starting the comparison `known` tokens in.
#[inline]
pub(crate) fn common<X: Text + ?Sized>(
    text: &X,
    a: usize,
    b: usize,
    known: usize,
) -> (usize, bool) {
    match matched(text, a, b, known, usize::MAX) {
        (l, Some(stop)) => (l, stop),
        // Unreachable: no text is usize::MAX tokens long.
        (l, None) => (l, true),
    }
}

/// [`common`] from the start, looking at most `cap` tokens: `None` when the first `cap`
/// tokens all match (the prefix is at least `cap` long, its end unknown).
#[inline]
pub(crate) fn common_upto<X: Text + ?Sized>(
    text: &X,
    a: usize,
    b: usize,
    cap: usize,
) -> Option<(usize, bool)> {
    match matched(text, a, b, 0, cap) {
        (l, Some(stop)) => Some((l, stop)),
        (_, None) => None,
    }
}

/// Matched length from `from` up to `cap`, and how it ended: `Some(stop)` as in [`common`],
/// `None` at the cap.
#[inline(always)]
fn matched<X: Text + ?Sized>(
    text: &X,
    a: usize,
    b: usize,
    from: usize,
    cap: usize,
) -> (usize, Option<bool>) {
    let n = text.len();
    let mut l = from;
    while l + BLOCK <= cap && text.same_block(a + l, b + l) {
        l += BLOCK;
    }
    while l < cap {
        if a + l >= n || b + l >= n {
            return (l, Some(true));
        }
        match (text.get(a + l), text.get(b + l)) {
            (Some(x), Some(y)) if x == y => l += 1,
            (Some(_), Some(_)) => return (l, Some(false)),
            _ => return (l, Some(true)),
        }
    }
    (l, None)
}
