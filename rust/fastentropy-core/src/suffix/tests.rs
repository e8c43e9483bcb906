//! The index against naive code: sorting suffixes, comparing windows, counting with maps.

use std::collections::HashMap;

use proptest::prelude::*;

use super::lcp::{Lcp, BIG};
use super::*;
use crate::ngram::{ngram_profiles, CountOptions};
use crate::test_rng::Lcg;

/// The counted windows of order `n`: no separator inside; with a mask, the last token in.
fn windows(tokens: &[u16], sep: Option<u64>, mask: Option<&[bool]>, n: usize) -> Vec<usize> {
    (0..tokens.len().saturating_sub(n - 1))
        .filter(|&p| {
            tokens[p..p + n].iter().all(|&t| Some(u64::from(t)) != sep)
                && mask.is_none_or(|m| m[p + n - 1])
        })
        .collect()
}

fn profile_of<K: std::hash::Hash + Eq>(keys: impl Iterator<Item = K>) -> Profile {
    let mut counts: HashMap<K, u64> = HashMap::new();
    keys.for_each(|k| *counts.entry(k).or_insert(0) += 1);
    let c: Vec<u64> = counts.into_values().collect();
    Profile::from_counts(&c).unwrap()
}

fn naive_profile(t: &[u16], sep: Option<u64>, mask: Option<&[bool]>, n: usize) -> Profile {
    profile_of(windows(t, sep, mask, n).into_iter().map(|p| &t[p..p + n]))
}

fn naive_context(t: &[u16], sep: Option<u64>, mask: Option<&[bool]>, n: usize) -> Profile {
    profile_of(
        windows(t, sep, mask, n)
            .into_iter()
            .map(|p| &t[p..p + n - 1]),
    )
}

/// The separator-free common prefix of the suffixes at `a` and `b`, and whether it ended at
/// a separator or the end on either side (the LCP array's stop flag).
pub(super) fn naive_lcp<S: Copy + Into<u64>>(
    t: &[S],
    sep: Option<u64>,
    a: usize,
    b: usize,
) -> (u32, bool) {
    let mut l = 0;
    loop {
        let (Some(&x), Some(&y)) = (t.get(a + l), t.get(b + l)) else {
            return (l as u32, true);
        };
        let (x, y) = (x.into(), y.into());
        if Some(x) == sep || Some(y) == sep {
            return (l as u32, true);
        }
        if x != y {
            return (l as u32, false);
        }
        l += 1;
    }
}

/// Checks `lcp` (values, stop flags, largest value, overflow table) against the naive LCP
/// of the neighbours in `sa`; `what` names it in failures.
pub(super) fn check_lcp<S: Copy + Into<u64>>(
    t: &[S],
    sep: Option<u64>,
    sa: &[u64],
    lcp: &Lcp,
    what: &str,
) {
    let mut max = 0;
    let mut over = Vec::new();
    for i in 1..sa.len() {
        let want = naive_lcp(t, sep, sa[i - 1] as usize, sa[i] as usize);
        assert_eq!(lcp.get(i), want, "{what} at {i}");
        max = max.max(want.0);
        if want.0 >= u32::from(BIG) {
            over.push(i as u64);
        }
    }
    if !sa.is_empty() {
        assert_eq!(lcp.get(0), (0, false), "{what}");
    }
    assert_eq!(lcp.max, max, "{what}");
    assert_eq!(lcp.over_at.as_slice(), &over[..], "{what}");
}

fn ctl(threads: usize) -> Control<'static> {
    Control::with_threads(Some(threads))
}

fn text() -> impl Strategy<Value = (Vec<u16>, Option<u64>, Option<Vec<bool>>)> {
    (0usize..160, 1u16..5).prop_flat_map(|(len, v)| {
        (
            prop::collection::vec(0..v, len),
            prop::option::of(0u64..3),
            prop::option::of(prop::collection::vec(any::<bool>(), len)),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn profiles_match_naive_counts((t, sep, mask) in text(), threads in 1usize..4) {
        let idx = SuffixIndex::build(&t, sep, None, &ctl(threads)).unwrap();
        let m = mask.as_deref();
        let top = t.len() + 2;
        let orders: Vec<usize> = (1..=top).collect();
        let got = idx.profiles(&t, m, Some(&orders), None, &ctl(threads)).unwrap();
        let ctx = idx.context_profiles(&t, m, Some(&orders), None, &ctl(threads)).unwrap();
        for ((n, p), (_, c)) in got.iter().zip(&ctx) {
            prop_assert_eq!(p, &naive_profile(&t, sep, m, *n), "order {}", n);
            prop_assert_eq!(c, &naive_context(&t, sep, m, *n), "context order {}", n);
        }
        // Every order up to the first all-unique one, and nothing past it.
        let all = idx.profiles(&t, m, None, None, &ctl(threads)).unwrap();
        let want: Vec<(usize, Profile)> = if naive_profile(&t, sep, m, 1).n() == 0 {
            Vec::new()
        } else {
            let mut v = Vec::new();
            for n in 1.. {
                let p = naive_profile(&t, sep, m, n);
                let unique = p.pairs().iter().all(|&(k, _)| k == 1);
                v.push((n, p));
                if unique { break; }
            }
            v
        };
        prop_assert_eq!(&all, &want);
        let ctx_all = idx.context_profiles(&t, m, None, None, &ctl(threads)).unwrap();
        prop_assert_eq!(ctx_all.len(), want.len());
        for (n, c) in &ctx_all {
            prop_assert_eq!(c, &naive_context(&t, sep, m, *n), "context order {}", n);
        }
        // Both from one call: the same as from the two.
        let both = idx.profiles_and_contexts(&t, m, None, None, &ctl(threads)).unwrap();
        prop_assert_eq!(&both, &(all, ctx_all));
        let both = idx.profiles_and_contexts(&t, m, Some(&orders), None, &ctl(threads)).unwrap();
        prop_assert_eq!(&both, &(got, ctx));
    }

    #[test]
    fn first_orders_equal_the_counter((t, sep, mask) in text()) {
        let idx = SuffixIndex::build(&t, sep, None, &ctl(2)).unwrap();
        let orders: Vec<usize> = (1..=8).collect();
        let got = idx.profiles(&t, mask.as_deref(), Some(&orders), None, &ctl(2)).unwrap();
        let opts = CountOptions { separator: sep, mask: mask.as_deref(), ..Default::default() };
        prop_assert_eq!(got, ngram_profiles(&t, &orders, &opts, &ctl(2)).unwrap());
    }

    #[test]
    fn array_sorted_and_lcp_capped((t, sep, _m) in text()) {
        let idx = SuffixIndex::build(&t, sep, None, &ctl(2)).unwrap();
        let sa = idx.suffix_array();
        let key = |p: usize| -> Vec<(bool, u16)> {
            t[p..].iter().map(|&x| (Some(u64::from(x)) != sep, x)).collect()
        };
        let mut want: Vec<usize> = (0..t.len()).collect();
        want.sort_by_key(|&p| key(p));
        prop_assert_eq!(sa.iter().map(|&p| p as usize).collect::<Vec<_>>(), want);
        for i in 1..t.len() {
            prop_assert_eq!(idx.lcp(i), naive_lcp(&t, sep, sa[i - 1] as usize, sa[i] as usize).0);
        }
    }

    #[test]
    fn match_lengths_match_naive((t, sep, _m) in text(), threads in 1usize..3) {
        let idx = SuffixIndex::build(&t, sep, None, &ctl(threads)).unwrap();
        let prev = idx.match_lengths(MatchKind::Previous, &ctl(threads)).unwrap();
        let any = idx.match_lengths(MatchKind::Any, &ctl(threads)).unwrap();
        for i in 0..t.len() {
            let p = (0..i).map(|j| naive_lcp(&t, sep, i, j).0).max().unwrap_or(0);
            let a = (0..t.len()).filter(|&j| j != i).map(|j| naive_lcp(&t, sep, i, j).0).max().unwrap_or(0);
            prop_assert_eq!(prev[i], p, "previous at {}", i);
            prop_assert_eq!(any[i], a, "any at {}", i);
        }
    }

    #[test]
    fn queries_match_naive((t, sep, _m) in text(), q in prop::collection::vec(0u64..5, 0..4), k in prop::option::of(0usize..4)) {
        let idx = SuffixIndex::build(&t, sep, None, &ctl(1)).unwrap();
        let occurs = |g: &[u64], p: usize| {
            p + g.len() <= t.len() && g.iter().zip(&t[p..]).all(|(&a, &b)| a == u64::from(b))
        };
        if !q.is_empty() {
            let want = if q.iter().any(|&x| Some(x) == sep) {
                0
            } else {
                (0..t.len()).filter(|&p| occurs(&q, p)).count() as u64
            };
            prop_assert_eq!(idx.count(&t, &q).unwrap(), want);
        }
        let mut next: HashMap<u64, u64> = HashMap::new();
        if !q.iter().any(|&x| Some(x) == sep) {
            for p in 0..t.len() {
                if occurs(&q, p) && p + q.len() < t.len() {
                    let x = u64::from(t[p + q.len()]);
                    if Some(x) != sep {
                        *next.entry(x).or_insert(0) += 1;
                    }
                }
            }
        }
        let mut want: Vec<(u64, u64)> = next.into_iter().collect();
        want.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        if let Some(k) = k { want.truncate(k); }
        let (ids, counts) = idx.next_counts(&t, &q, k).unwrap();
        prop_assert_eq!(ids.into_iter().zip(counts).collect::<Vec<_>>(), want);
    }
}

#[test]
fn large_vocabulary_sorts_32_bit_ranks() {
    // More than 65535 distinct ids over more than 65535 tokens: libsais's 32-bit path.
    let mut rng = Lcg(12345);
    let t: Vec<u32> = (0..150_000)
        .map(|i| {
            let r = rng.below(90_000) as u32;
            if i % 3 == 0 {
                (i / 3) % 500
            } else {
                r * 7
            }
        })
        .collect();
    let sep = Some(7 * 5);
    let idx = SuffixIndex::build(&t, sep, None, &ctl(2)).unwrap();
    let orders: Vec<usize> = (1..=6).collect();
    let mask: Vec<bool> = (0..t.len()).map(|i| i % 5 != 0).collect();
    for m in [None, Some(&mask[..])] {
        let got = idx.profiles(&t, m, Some(&orders), None, &ctl(2)).unwrap();
        let opts = CountOptions {
            separator: sep,
            mask: m,
            ..Default::default()
        };
        assert_eq!(got, ngram_profiles(&t, &orders, &opts, &ctl(2)).unwrap());
    }
    let sa = idx.suffix_array();
    for i in 1..t.len() {
        let (a, b) = (sa[i - 1] as usize, sa[i] as usize);
        let l = idx.lcp(i) as usize;
        assert!(t[a..a + l] == t[b..b + l]);
    }
}

#[test]
fn same_result_for_any_thread_count() {
    let t: Vec<u8> = (0..600_000u64)
        .map(|i| ((i * i) % 7 + (i / 1000) % 3) as u8)
        .collect();
    let one = SuffixIndex::build(&t, Some(6), None, &ctl(1)).unwrap();
    let three = SuffixIndex::build(&t, Some(6), None, &ctl(3)).unwrap();
    assert_eq!(one.suffix_array(), three.suffix_array());
    let p1 = one.profiles(&t, None, None, None, &ctl(1)).unwrap();
    let p3 = three.profiles(&t, None, None, None, &ctl(3)).unwrap();
    assert_eq!(p1, p3);
    assert!(p1.len() > 8);
}

#[test]
fn empty_and_all_separators() {
    let t: Vec<u16> = Vec::new();
    let idx = SuffixIndex::build(&t, None, None, &ctl(1)).unwrap();
    assert!(idx
        .profiles(&t, None, None, None, &ctl(1))
        .unwrap()
        .is_empty());
    assert_eq!(
        idx.profiles(&t, None, Some(&[1, 3]), None, &ctl(1))
            .unwrap()[1]
            .1,
        Profile::default()
    );
    let t = vec![5u16; 10];
    let idx = SuffixIndex::build(&t, Some(5), None, &ctl(1)).unwrap();
    assert!(idx
        .profiles(&t, None, None, None, &ctl(1))
        .unwrap()
        .is_empty());
    assert_eq!(
        idx.match_lengths(MatchKind::Previous, &ctl(1)).unwrap(),
        vec![0; 10]
    );
}

#[test]
fn memory_limit_and_wrong_tokens_refused() {
    let t = vec![1u16, 2, 3];
    let err = SuffixIndex::build(&t, None, Some(10), &ctl(1))
        .err()
        .unwrap();
    assert!(
        matches!(err, Error::MemoryLimit { needed: 27, .. }),
        "{err}"
    );
    let idx = SuffixIndex::build(&t, None, None, &ctl(1)).unwrap();
    assert!(idx.count(&t[..2], &[1]).is_err());
    assert!(idx
        .profiles(&t, Some(&[true]), None, None, &ctl(1))
        .is_err());
    assert!(idx.profiles(&t, None, Some(&[0]), None, &ctl(1)).is_err());
    // A mask indexes the reversed text: 9 bytes per token, refused below; none without.
    let mask = [true, false, true];
    for limit in [Some(26), Some(0)] {
        let err = idx
            .profiles_and_contexts(&t, Some(&mask), None, limit, &ctl(1))
            .unwrap_err();
        assert!(
            matches!(err, Error::MemoryLimit { needed: 27, .. }),
            "{err}"
        );
        assert!(idx.profiles(&t, None, None, limit, &ctl(1)).is_ok());
    }
    assert!(idx
        .profiles(&t, Some(&mask), None, Some(27), &ctl(1))
        .is_ok());
    let neg = vec![1i32, -2];
    let err = SuffixIndex::build(&neg, None, None, &ctl(1)).err().unwrap();
    assert!(
        err.to_string().contains("tokens[1] = -2 is negative"),
        "{err}"
    );
}

#[test]
fn file_round_trip_and_refusals() {
    let dir = std::env::temp_dir().join(format!("fe-suffix-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a.idx");
    let t: Vec<u16> = (0..5000u32)
        .map(|i| ((i * 7) % 13 + (i % 300 == 0) as u32 * 200) as u16)
        .collect();
    let idx = SuffixIndex::build(&t, Some(3), None, &ctl(2)).unwrap();
    idx.save(&path, &t, "uint16", Some("/x/tokens.bin"), &ctl(2))
        .unwrap();
    let header = read_header(&path).unwrap();
    assert_eq!(
        (header.n, header.separator, header.dtype.as_str()),
        (5000, Some(3), "uint16")
    );
    assert_eq!(header.source, "/x/tokens.bin");
    let back = SuffixIndex::open(&path, &t, &ctl(2)).unwrap();
    assert_eq!(back.bytes(), 0);
    assert_eq!(back.suffix_array(), idx.suffix_array());
    let all = |i: &SuffixIndex| i.profiles(&t, None, None, None, &ctl(1)).unwrap();
    assert_eq!(all(&back), all(&idx));
    assert_eq!(
        back.match_lengths(MatchKind::Previous, &ctl(1)).unwrap(),
        idx.match_lengths(MatchKind::Previous, &ctl(1)).unwrap()
    );
    // Changed tokens, fewer tokens.
    let mut changed = t.clone();
    changed[4321] ^= 1;
    let err = SuffixIndex::open(&path, &changed, &ctl(1))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("changed since it was built") && err.contains("a.idx"),
        "{err}"
    );
    let err = SuffixIndex::open(&path, &t[1..], &ctl(1))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("built on 5000 tokens"), "{err}");
    // Truncated, extended, another version, not an index, missing.
    let bytes = std::fs::read(&path).unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (bytes[..bytes.len() - 1].to_vec(), "truncated"),
        ([&bytes[..], &[0]].concat(), "truncated or was changed"),
        (bytes[..40].to_vec(), "truncated"),
        (
            {
                let mut b = bytes.clone();
                b[8] = 9;
                b
            },
            "format version 9",
        ),
        (
            {
                let mut b = bytes.clone();
                b[20] ^= 1;
                b
            },
            "header is corrupted",
        ),
        (b"hello".to_vec(), "does not start as"),
    ];
    for (data, want) in cases {
        let bad = dir.join("bad.idx");
        std::fs::write(&bad, data).unwrap();
        let err = SuffixIndex::open(&bad, &t, &ctl(1))
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains(want) && err.contains("bad.idx"),
            "{want}: {err}"
        );
    }
    let err = SuffixIndex::open(&dir.join("missing.idx"), &t, &ctl(1))
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            Error::Io {
                kind: std::io::ErrorKind::NotFound,
                ..
            }
        ),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn token_hash_is_thread_independent_and_sensitive() {
    let bytes: Vec<u8> = (0..3_000_017u32).map(|i| (i * 31 % 251) as u8).collect();
    let h1 = token_hash(&bytes, &ctl(1)).unwrap();
    let h3 = ctl(3).run(|| token_hash(&bytes, &ctl(3))).unwrap();
    assert_eq!(h1, h3);
    let mut b = bytes.clone();
    b[2_999_999] ^= 4;
    assert_ne!(token_hash(&b, &ctl(1)).unwrap(), h1);
    assert_ne!(token_hash(&bytes[..bytes.len() - 1], &ctl(1)).unwrap(), h1);
}

/// Sorts of a given length that wait, at their start, until the test lets them go: each
/// entry is `(n, told when reached, waited on)`.
type Hold = (
    usize,
    std::sync::mpsc::Sender<()>,
    std::sync::mpsc::Receiver<()>,
);
static HELD: std::sync::Mutex<Vec<Hold>> = std::sync::Mutex::new(Vec::new());

/// Called by every sort's thread before it sorts: waits there if a test holds length `n`.
pub(super) fn hold(n: usize) {
    let entry = {
        let mut held = HELD.lock().unwrap();
        let at = held.iter().position(|(m, ..)| *m == n);
        at.map(|i| held.swap_remove(i))
    };
    if let Some((_, reached, release)) = entry {
        reached.send(()).unwrap();
        let _ = release.recv();
    }
}

#[test]
fn cancelled_sort_returns_without_waiting_and_frees_later() {
    use std::sync::atomic::AtomicBool;
    use std::sync::mpsc;
    // A length no other test uses, so only this build's sort is held.
    let n = 10_007;
    let t: Vec<u16> = (0..n).map(|i| (i * 7919 % 13) as u16).collect();
    let (reached_tx, reached) = mpsc::channel();
    let (release, release_rx) = mpsc::channel();
    HELD.lock().unwrap().push((n, reached_tx, release_rx));
    let flag = AtomicBool::new(false);
    let cancelling = Control {
        cancel: Some(&flag),
        ..Control::default()
    };
    let got = std::thread::scope(|s| {
        let build = s.spawn(|| SuffixIndex::build(&t, None, None, &cancelling));
        reached.recv().unwrap();
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
        build.join().unwrap()
    });
    assert!(matches!(got, Err(Error::Cancelled)));
    // The sort is still held, yet the build has returned: it did not wait for it.
    assert_eq!(background_sorts().1, 1);
    release.send(()).unwrap();
    // Once it finishes, it is no longer counted (its buffers are dropped before that); a
    // new build (which waits for it) gives the same array as the naive sort.
    let idx = SuffixIndex::build(&t, None, None, &ctl(2)).unwrap();
    assert_eq!(background_sorts().1, 0);
    let mut naive: Vec<u64> = (0..n as u64).collect();
    naive.sort_by(|&a, &b| t[a as usize..].cmp(&t[b as usize..]));
    assert_eq!(idx.suffix_array(), &naive[..]);
}

/// Everything an index answers, for comparing two indexes of the same tokens bit for bit.
fn answers<T: crate::tokens::Token>(
    idx: &SuffixIndex,
    t: &[T],
    mask: Option<&[bool]>,
    threads: usize,
) -> impl PartialEq + std::fmt::Debug {
    let c = ctl(threads);
    let lcps: Vec<u32> = (0..idx.len()).map(|i| idx.lcp(i)).collect();
    let orders: Vec<usize> = (1..=idx.max_lcp() as usize + 2).collect();
    let both = idx.profiles_and_contexts(t, mask, None, None, &c).unwrap();
    let fixed = idx.profiles_and_contexts(t, mask, Some(&orders), None, &c);
    let matches = [MatchKind::Previous, MatchKind::Any].map(|k| idx.match_lengths(k, &c).unwrap());
    let queries: Vec<_> = (0..t.len().min(40))
        .map(|p| {
            let ids: Vec<u64> = t[p..(p + 3).min(t.len())]
                .iter()
                .map(|x| x.id().unwrap())
                .collect();
            let count = idx.count(t, &ids).unwrap();
            (
                count,
                idx.next_counts(t, &ids[..ids.len() - 1], None).unwrap(),
            )
        })
        .collect();
    (
        idx.suffix_array(),
        lcps,
        idx.max_lcp(),
        both,
        fixed.unwrap(),
        matches,
        queries,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    /// The 64-bit path (forced at small sizes) answers bit for bit as the 32-bit one.
    #[test]
    fn wide_entries_answer_as_narrow_ones((t, sep, mask) in text(), threads in 1usize..3) {
        let narrow = SuffixIndex::build_entries(&t, sep, None, false, &ctl(threads)).unwrap();
        let wide = SuffixIndex::build_entries(&t, sep, None, true, &ctl(threads)).unwrap();
        prop_assert_eq!((narrow.entry_bytes(), wide.entry_bytes()), (4, 8));
        let m = mask.as_deref();
        prop_assert_eq!(answers(&wide, &t, m, threads), answers(&narrow, &t, m, threads));
    }
}

#[test]
fn wide_entries_on_large_vocabularies_and_on_disk() {
    // More than 65535 distinct ids: libsais64 on 64-bit ranks; then bytes (16-bit path).
    let mut rng = Lcg(99);
    let t: Vec<u32> = (0..120_000)
        .map(|i| {
            let r = rng.below(80_000) as u32;
            if i % 4 == 0 {
                (i / 4) % 300
            } else {
                r * 3
            }
        })
        .collect();
    let mask: Vec<bool> = (0..t.len()).map(|i| i % 7 != 0).collect();
    let sep = Some(3 * 11);
    let narrow = SuffixIndex::build_entries(&t, sep, None, false, &ctl(2)).unwrap();
    let wide = SuffixIndex::build_entries(&t, sep, None, true, &ctl(2)).unwrap();
    assert_eq!(wide.entry_bytes(), 8);
    assert_eq!(
        answers(&wide, &t, Some(&mask), 2),
        answers(&narrow, &t, Some(&mask), 2)
    );
    let b: Vec<u8> = t.iter().map(|&v| (v % 251) as u8).collect();
    let narrow = SuffixIndex::build_entries(&b, None, None, false, &ctl(2)).unwrap();
    let wide = SuffixIndex::build_entries(&b, None, None, true, &ctl(2)).unwrap();
    assert_eq!(answers(&wide, &b, None, 1), answers(&narrow, &b, None, 1));
    // The file records the width and maps the 64-bit array back.
    let dir = std::env::temp_dir().join(format!("fe-suffix-wide-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("w.idx");
    wide.save(&path, &b, "uint8", None, &ctl(2)).unwrap();
    assert_eq!(read_header(&path).unwrap().entry_bytes, 8);
    let back = SuffixIndex::open(&path, &b, &ctl(2)).unwrap();
    assert_eq!((back.entry_bytes(), back.bytes()), (8, 0));
    assert_eq!(answers(&back, &b, None, 1), answers(&narrow, &b, None, 1));
    // 17 bytes per token with 64-bit entries, refused below.
    let err = SuffixIndex::build_entries(&b[..100], None, Some(1699), true, &ctl(1))
        .err()
        .unwrap();
    assert!(
        matches!(err, Error::MemoryLimit { needed: 1700, .. }),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn build_progress_follows_its_stages() {
    // Long enough for several chunks in every pass, so that each stage that reports inside
    // it has reports strictly inside it.
    let n = 3 * CHUNK + 5;
    let t: Vec<u16> = (0..n).map(|i| (i * 7919 % 251) as u16).collect();
    let seen = std::sync::Mutex::new(Vec::new());
    let record = |d, total| seen.lock().unwrap().push((d, total));
    let ctl = Control {
        threads: Some(2),
        progress: Some(&record),
        ..Control::default()
    };
    SuffixIndex::build(&t, None, None, &ctl).unwrap();
    let seen = seen.into_inner().unwrap();
    let units: u64 = BUILD_STAGES.iter().map(|s| s.1).sum();
    let (n, total) = (n as u64, units * n as u64);
    assert!(seen.iter().all(|&(_, t)| t == total));
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "not monotone");
    assert_eq!(seen.last(), Some(&(total, total)));
    // Each stage ends with a report at its boundary; those that report inside do.
    let mut first = 0;
    for &(name, units, inside) in &BUILD_STAGES {
        let end = first + units * n;
        assert!(
            seen.iter().any(|&(d, _)| d == end),
            "{name} does not end at {end}"
        );
        let within = seen.iter().any(|&(d, _)| first < d && d < end);
        assert_eq!(within, inside, "{name}: reports inside it");
        first = end;
    }
}

/// The build's LCP array and every LCP method give the same array (values, stop flags, overflow
/// table) as naive comparison: the direct pass with small caps (so that most entries are finished
/// in text order, in runs), at the byte's cap, Φ, and the automatic choice (which gives up on
/// repetitive texts).
fn lcp_methods_agree(t: &[u16], sep: Option<u64>, threads: usize) {
    use lcp::{build_by, Method};
    let c = ctl(threads);
    let idx = SuffixIndex::build(t, sep, None, &c).unwrap();
    let sa = idx.suffix_array();
    let fwd = Forward {
        tokens: t,
        separator: sep,
    };
    // The build's own (the bucket sort's, or the fallback's).
    check_lcp(t, sep, &sa, &idx.lcp, "build");
    let methods = [
        Method::Auto,
        Method::Phi,
        Method::Direct(1),
        Method::Direct(2),
        Method::Direct(5),
        Method::Direct(127),
    ];
    for method in methods {
        let progress = Progress::new(&c, (0, 1), (1, 1));
        let lcp = with_sa!(&idx.sa, |s| lcp::build_by(&fwd, s, &c, &progress, method)).unwrap();
        check_lcp(t, sep, &sa, &lcp, &format!("{method:?}"));
    }
    let _ = build_by::<Forward<'_, u16>, u32>;
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn lcp_methods_match_naive((t, sep, _m) in text(), threads in 1usize..3) {
        lcp_methods_agree(&t, sep, threads);
    }
}

#[test]
fn lcp_methods_on_long_repeats() {
    // Pseudo-random text with a block of 700 copied three times (runs of long prefixes,
    // over the byte's 127), a periodic text (every prefix long: the automatic choice gives
    // up), one token repeated, and separators inside repeats.
    let mut rng = Lcg(12345);
    let mut t: Vec<u16> = (0..20_000).map(|_| rng.below(50) as u16).collect();
    let block: Vec<u16> = t[1000..1700].to_vec();
    for at in [5000, 9000, 15000] {
        t[at..at + 700].copy_from_slice(&block);
    }
    lcp_methods_agree(&t, None, 2);
    let mut s = t.clone();
    for at in [5300, 9300] {
        s[at] = 50;
    }
    lcp_methods_agree(&s, Some(50), 2);
    let periodic: Vec<u16> = (0..3000).map(|i| (i * 7 % 13) as u16).collect();
    lcp_methods_agree(&periodic, None, 2);
    lcp_methods_agree(&vec![3u16; 600], None, 1);
    lcp_methods_agree(&vec![3u16; 600], Some(3), 1);
}

/// After libsais (a bucket larger than the sort's scratch), the LCP method follows the
/// sampled mean LCP: the direct pass for short prefixes, Φ (`None` here) for long ones.
#[test]
fn sampled_mean_lcp_picks_the_method() {
    // One token in three is 0: its bucket outgrows the scratch's floor of 4,096.
    let short = lcp::tests::text(20_000, 7, false);
    // A period of 13: every prefix is long.
    let long: Vec<u16> = (0..20_000).map(|i| (i * 7 % 13) as u16).collect();
    let c = ctl(2);
    for (t, direct) in [(&short, true), (&long, false)] {
        let (sa, mut text) =
            construct::suffix_array(t, None, false, false, None, &c, &|_| ()).unwrap();
        assert!(text.neighbours.is_none(), "sorted by libsais");
        let progress = Progress::new(&c, (0, 1), (1, 1));
        let lcp = with_sa!(&sa, |s| lcp::on_sort_text(&mut text, s, &c, &progress)).unwrap();
        assert_eq!(lcp.is_some(), direct);
    }
}

#[test]
fn profiles_over_many_chunks_match_naive_counts() {
    // Several chunks without a separator (the windows' closed form per chunk), and with
    // separators in some chunks only.
    let n = 2 * CHUNK + 1000;
    let mut rng = Lcg(99);
    let mut t: Vec<u16> = (0..n).map(|_| rng.below(5) as u16).collect();
    let orders: Vec<usize> = (1..=9).collect();
    for sep in [None, Some(7)] {
        if sep.is_some() {
            for at in [10, CHUNK + 5, CHUNK + 6, n - 2] {
                t[at] = 7;
            }
        }
        let idx = SuffixIndex::build(&t, sep, None, &ctl(2)).unwrap();
        let got = idx
            .profiles_and_contexts(&t, None, Some(&orders), None, &ctl(2))
            .unwrap();
        for ((o, p), (_, c)) in got.0.iter().zip(&got.1) {
            assert_eq!(p, &naive_profile(&t, sep, None, *o), "order {o}");
            assert_eq!(c, &naive_context(&t, sep, None, *o), "context order {o}");
        }
    }
}
