use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use proptest::prelude::*;

use super::*;
use crate::control::MAX_THREADS;

/// Brute force: every window, checked against separator and mask, into a hash map.
fn naive(
    tokens: &[u64],
    n: usize,
    separator: Option<u64>,
    mask: Option<&[bool]>,
) -> HashMap<Vec<u64>, u64> {
    let mut h = HashMap::new();
    for (i, w) in tokens.windows(n).enumerate() {
        let sep = separator.is_some_and(|s| w.contains(&s));
        let on = mask.is_none_or(|m| m[i + n - 1]);
        if !sep && on {
            *h.entry(w.to_vec()).or_default() += 1;
        }
    }
    h
}

fn naive_profile(counts: &HashMap<Vec<u64>, u64>) -> Profile {
    Profile::from_counts(&counts.values().copied().collect::<Vec<_>>()).unwrap()
}

/// Rows most common first, ties by n-gram ascending.
fn naive_most_common(counts: &HashMap<Vec<u64>, u64>) -> Vec<(Vec<u64>, u64)> {
    let mut rows: Vec<_> = counts.iter().map(|(g, &c)| (g.clone(), c)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows
}

/// What `count` gives under `o`'s memory limit or, where it refuses that limit, under the
/// limit it says it needs (which must then do).
fn at_limit_or_needed<R>(o: CountOptions<'_>, count: impl Fn(&CountOptions<'_>) -> Result<R>) -> R {
    match count(&o) {
        Err(Error::MemoryLimit { needed, .. }) => count(&CountOptions {
            memory_limit: Some(needed as usize),
            ..o
        })
        .unwrap(),
        got => got.unwrap(),
    }
}

/// All cores, neither cancelled nor reporting progress.
const ALL: Control<'static> = Control {
    threads: None,
    cancel: None,
    progress: None,
};

/// `threads` workers, neither cancelled nor reporting progress.
fn on(threads: usize) -> Control<'static> {
    Control::with_threads(Some(threads))
}

fn opts<'a>(separator: Option<u64>, mask: Option<&'a [bool]>) -> CountOptions<'a> {
    CountOptions {
        separator,
        mask,
        ..Default::default()
    }
}

/// Checks every order 1..=max against brute force, under the given options.
fn check_all<T: Token + Into<i128>>(
    tokens: &[T],
    max: usize,
    o: &CountOptions<'_>,
    ctl: &Control<'_>,
) {
    let ids: Vec<u64> = tokens.iter().map(|&t| t.id().unwrap()).collect();
    let orders: Vec<usize> = (1..=max).collect();
    let got = ngram_profiles(tokens, &orders, o, ctl).unwrap();
    assert_eq!(got.len(), max);
    for (n, p) in got {
        let want = naive_profile(&naive(&ids, n, o.separator, o.mask));
        assert_eq!(p, want, "order {n}");
    }
}

fn check_most_common<T: Token>(tokens: &[T], n: usize, o: &CountOptions<'_>, ctl: &Control<'_>) {
    let ids: Vec<u64> = tokens.iter().map(|&t| t.id().unwrap()).collect();
    let want = naive(&ids, n, o.separator, o.mask);
    let c = count_ngrams(tokens, n, o, ctl).unwrap();
    assert_eq!(c.order(), n);
    assert_eq!(c.profile(), naive_profile(&want));
    assert_eq!((c.n(), c.distinct()), (c.profile().n(), want.len() as u64));
    let (grams, counts) = c.most_common(usize::MAX).unwrap();
    let got: Vec<(Vec<u64>, u64)> = grams.chunks(n).map(<[u64]>::to_vec).zip(counts).collect();
    assert_eq!(got, naive_most_common(&want));
}

fn tokens_and_options(
    vocab: u32,
    len: usize,
) -> impl Strategy<Value = (Vec<u32>, Option<u32>, Option<Vec<bool>>)> {
    prop::collection::vec(0..vocab, 0..len).prop_flat_map(move |t| {
        let n = t.len();
        (
            Just(t),
            prop::option::of(0..vocab),
            prop::option::of(prop::collection::vec(any::<bool>(), n)),
        )
    })
}

proptest! {
    #[test]
    fn small_vocab_matches_brute_force(
        (tokens, sep, mask) in tokens_and_options(5, 300),
        threads in 1usize..3,
    ) {
        let (o, ctl) = (opts(sep.map(u64::from), mask.as_deref()), on(threads));
        check_all(&tokens, 6, &o, &ctl);
        check_most_common(&tokens, 3, &o, &ctl);
        check_most_common(&tokens, 1, &o, &ctl);
    }

    #[test]
    fn large_vocab_matches_brute_force(
        (tokens, sep, mask) in tokens_and_options(200, 400),
        spread in 0u8..3,
    ) {
        // Ids near 2^32 - 1 or spread over all of u32 (ranked through a hash map), or
        // between 2^16 and 2^22 (through a table, without a histogram by id).
        let shift = |t: u32| match spread {
            0 => u32::MAX - t,
            1 => t.wrapping_mul(2_654_435_761),
            _ => 70_000 + 997 * t,
        };
        let tokens: Vec<u32> = tokens.into_iter().map(shift).collect();
        let o = opts(sep.map(|s| shift(s) as u64), mask.as_deref());
        check_all(&tokens, 6, &o, &ALL);
        check_most_common(&tokens, 2, &o, &ALL);
    }

    #[test]
    fn i64_ids_match_brute_force((tokens, sep, mask) in tokens_and_options(30, 300)) {
        let big = |t: u32| i64::MAX - 7 * t as i64;
        let tokens: Vec<i64> = tokens.into_iter().map(big).collect();
        let o = opts(sep.map(|s| big(s) as u64), mask.as_deref());
        check_all(&tokens, 5, &o, &ALL);
    }

    #[test]
    fn many_first_tokens_match_brute_force(
        (tokens, sep, mask) in tokens_and_options(3000, 8000),
        threads in 1usize..3,
    ) {
        // Partitions of hundreds to thousands of first tokens: several groups each, most
        // starting inside a cache line.
        let (o, ctl) = (opts(sep.map(u64::from), mask.as_deref()), on(threads));
        check_all(&tokens, 5, &o, &ctl);
    }

    #[test]
    fn same_for_threads_and_memory_limits(
        (tokens, sep, mask) in tokens_and_options(40, 3000),
        slack in 0usize..400,
    ) {
        let base = opts(sep.map(u64::from), mask.as_deref());
        let want = ngram_profiles(&tokens, &[1, 2, 3, 4, 5], &base, &ALL).unwrap();
        // Ranks (2 bytes each) + tables + a few keys per thread: many partitions.
        let distinct = 41;
        let limit = 2 * tokens.len() + 24 * (distinct + 1) + 2 * 8 * (tokens.len() / 8 + slack);
        for threads in [1, 2] {
            let (o, ctl) = (CountOptions { memory_limit: Some(limit), ..base }, on(threads));
            let got = at_limit_or_needed(o, |o| ngram_profiles(&tokens, &[1, 2, 3, 4, 5], o, &ctl));
            prop_assert_eq!(&got, &want);
        }
    }
    #[test]
    fn skewed_same_for_tight_memory_limits(
        (tokens, sep, mask) in tokens_and_options(40, 3000),
        hot in prop::collection::vec(any::<bool>(), 3000),
        cap in 1usize..200,
    ) {
        // Token 0 starts over half the windows: tight limits split it by its second token.
        let tokens: Vec<u32> = tokens.iter().zip(&hot).map(|(&t, &h)| if h { 0 } else { t }).collect();
        let base = opts(sep.map(u64::from), mask.as_deref());
        let want = ngram_profiles(&tokens, &[1, 2, 3, 4, 5], &base, &ALL).unwrap();
        for threads in [1, 2] {
            let limit = limit_for(tokens.len(), 40, threads, cap);
            let (o, ctl) = (CountOptions { memory_limit: Some(limit), ..base }, on(threads));
            let got = at_limit_or_needed(o, |o| ngram_profiles(&tokens, &[1, 2, 3, 4, 5], o, &ctl));
            prop_assert_eq!(&got, &want);
        }
    }
}

/// Every row [`ngram_table`] hands on, as `(n-gram, count)`.
fn table<T: Token>(
    tokens: &[T],
    n: usize,
    min: u64,
    o: &CountOptions<'_>,
    ctl: &Control<'_>,
) -> Result<Vec<(Vec<u64>, u64)>> {
    let rows = Mutex::new(Vec::new());
    let mut sink = |ngrams: &[u64], counts: &[u64]| {
        assert_eq!(ngrams.len(), counts.len() * n);
        let mut rows = rows.lock().unwrap();
        rows.extend(
            ngrams
                .chunks(n)
                .map(|g| g.to_vec())
                .zip(counts.iter().copied()),
        );
        Ok(())
    };
    let total = ngram_table(tokens, n, min, o, ctl, &mut sink)?;
    let rows = rows.into_inner().unwrap();
    assert_eq!(total, rows.len() as u64);
    Ok(rows)
}

proptest! {
    #[test]
    fn count_table_is_every_ngram_in_order(
        (tokens, sep, mask) in tokens_and_options(40, 3000),
        hot in prop::collection::vec(any::<bool>(), 3000),
        n in 1usize..6,
        min in 1u64..4,
        cap in 1usize..200,
    ) {
        // A hot token 0 makes tight limits split it by its second token.
        let tokens: Vec<u32> = tokens.iter().zip(&hot).map(|(&t, &h)| if h { 0 } else { t }).collect();
        let wide: Vec<u64> = tokens.iter().map(|&t| u64::from(t)).collect();
        let mut want: Vec<(Vec<u64>, u64)> = naive(&wide, n, sep.map(u64::from), mask.as_deref())
            .into_iter()
            .filter(|&(_, c)| c >= min)
            .collect();
        want.sort();
        let base = opts(sep.map(u64::from), mask.as_deref());
        prop_assert_eq!(&table(&tokens, n, min, &base, &ALL).unwrap(), &want);
        for threads in [1, 3] {
            let limit = limit_for(tokens.len(), 40, threads, cap);
            let (o, ctl) = (CountOptions { memory_limit: Some(limit), ..base }, on(threads));
            prop_assert_eq!(&at_limit_or_needed(o, |o| table(&tokens, n, min, o, &ctl)), &want);
        }
    }
}

#[test]
fn count_table_of_large_ids_and_a_failing_sink() {
    let tokens: Vec<u64> = [5u64 << 40, 3, 5 << 40, 3, 9].repeat(50);
    let rows = table(&tokens, 2, 1, &opts(None, None), &ALL).unwrap();
    assert_eq!(
        rows,
        vec![
            (vec![3, 9], 50),
            (vec![3, 5 << 40], 50),
            (vec![9, 5 << 40], 49),
            (vec![5 << 40, 3], 100)
        ]
    );
    let mut failing = |_: &[u64], _: &[u64]| Err(Error::Invalid("disk full".into()));
    let err = ngram_table(&tokens, 2, 1, &opts(None, None), &ALL, &mut failing).unwrap_err();
    assert_eq!(err, Error::Invalid("disk full".into()));
}

/// The limit that gives each of `threads` workers room for `keys` u64 keys, for `len`
/// tokens of the `distinct` ids below `distinct`: ranks, vocabulary tables and the workers'
/// buffers.
fn limit_for(len: usize, distinct: usize, threads: usize, keys: usize) -> usize {
    let worker = scatter::worker_bytes(keys as u64, distinct + 1, 8) as usize;
    let rank = vocab::rank_bytes(len, Some(distinct.saturating_sub(1) as u64));
    rank * len + 8 * distinct + 16 * (distinct + 1) + threads * worker
}

/// Half the windows start with the hot token 7, followed by one of 40 others (or by itself,
/// a separator, a mask gap): no budget below its count fits it without a split.
fn skewed(len: usize) -> Vec<u32> {
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i % 2 == 0 || x.is_multiple_of(9) {
                7
            } else {
                (x % 41) as u32 + 100
            }
        })
        .collect()
}

#[test]
fn skewed_first_token_splits_by_second_token() {
    let t = skewed(20_000);
    let hot = t.iter().filter(|&&x| x == 7).count();
    let distinct = 42;
    let mask: Vec<bool> = (0..t.len()).map(|i| i % 7 != 3).collect();
    for (sep, mask) in [
        (None, None),
        (Some(100), None),
        (None, Some(&mask[..])),
        (Some(101), Some(&mask[..])),
    ] {
        let base = opts(sep, mask);
        let want = ngram_profiles(&t, &[1, 2, 3, 4, 5], &base, &ALL).unwrap();
        for threads in [1, 2] {
            // Keys for a quarter of the hot token's windows per worker: more than its largest
            // pair, (7, 7).
            let limit = limit_for(t.len(), distinct, threads, hot / 4);
            let o = CountOptions {
                memory_limit: Some(limit),
                ..base
            };
            let ctl = on(threads);
            assert_eq!(
                ngram_profiles(&t, &[1, 2, 3, 4, 5], &o, &ctl).unwrap(),
                want
            );
            check_all(&t, 5, &o, &ctl);
            check_most_common(&t, 3, &o, &ctl);
            check_most_common(&t, 1, &o, &ctl);
        }
    }
}

/// One first token with more windows than a group of several may hold (a group of its own,
/// sorted where it was scattered) among hundreds of rare ones (groups of many first tokens).
#[test]
fn huge_first_token_among_many_rare_ones() {
    let n = 3 * scatter::GROUP_KEYS as usize;
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let t: Vec<u32> = (0..n)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if i % 2 == 0 {
                500
            } else {
                (x % 1000) as u32
            }
        })
        .collect();
    let mask: Vec<bool> = (0..n).map(|i| i % 11 != 4).collect();
    for (sep, mask) in [(None, None), (Some(17), Some(&mask[..]))] {
        for threads in [1, 2] {
            let (o, ctl) = (opts(sep, mask), on(threads));
            check_all(&t, 4, &o, &ctl);
            check_most_common(&t, 2, &o, &ctl);
        }
    }
}

#[test]
fn plan_splits_oversized_first_tokens_into_disjoint_second_ranges() {
    // Rank 2 starts 100 windows: 10 after a separator, 30 before rank 1, 60 before rank 3.
    let counts = [0, 5, 100, 7];
    let pairs = vec![vec![10, 30, 0, 60]];
    let parts = partition::plan(&counts, 60, 4, &[2], &pairs).unwrap();
    let seen: Vec<_> = parts
        .iter()
        .map(|p| (p.firsts.clone(), p.seconds.clone(), p.keys, p.windows))
        .collect();
    assert_eq!(
        seen,
        vec![
            (1..2, None, 5, 5),
            (2..3, Some(0..3), 30, 40),
            (2..3, Some(3..4), 60, 60),
            (3..4, None, 7, 7),
        ]
    );
    // No budget holds the (2, 3) pair.
    assert_eq!(
        partition::plan(&counts, 60, 1, &[2], &[vec![0, 30, 0, 61]]),
        Err(61)
    );
}

#[test]
fn pair_too_large_names_a_limit_that_works() {
    // The hot pair (7, 7) alone starts most windows.
    let t: Vec<u16> = (0..20_000)
        .map(|i| if i % 10 == 9 { (i % 7) as u16 } else { 7 })
        .collect();
    let want = ngram_profiles(&t, &[1, 2, 3], &CountOptions::default(), &ALL).unwrap();
    let tight = CountOptions {
        memory_limit: Some(limit_for(t.len(), 8, 2, 2000)),
        ..Default::default()
    };
    let err = ngram_profiles(&t, &[1, 2, 3], &tight, &on(2)).unwrap_err();
    let Error::MemoryLimit { needed, .. } = err else {
        panic!("expected a memory-limit error, got {err}");
    };
    assert!(
        err.to_string()
            .contains("one pair of first and second tokens starts"),
        "{err}"
    );
    let enough = CountOptions {
        memory_limit: Some(needed as usize),
        ..tight
    };
    assert_eq!(
        ngram_profiles(&t, &[1, 2, 3], &enough, &on(2)).unwrap(),
        want
    );
}

#[test]
fn adversarial_inputs() {
    let none = CountOptions::default();
    check_all::<u8>(&[], 4, &none, &ALL);
    check_all(&[7u8], 4, &none, &ALL);
    check_all(&[7u8; 50], 6, &none, &ALL);
    check_all(&[1u16, 2, 3], 9, &none, &ALL);
    for sep in [0u64, 9] {
        let o = opts(Some(sep), None);
        check_all(&[9u16, 9, 1, 2, 9, 9, 3, 9, 9], 4, &o, &ALL);
        check_all(&[9u16; 10], 3, &o, &ALL);
        check_all(&[0u16, 1, 0, 1, 0], 3, &o, &ALL);
    }
    let t: Vec<u32> = (0..100).map(|i| (i * i % 7) as u32).collect();
    // Up to 9 tail orders: every unrolled scan (1..=7 orders) and the general one.
    for max in 2..=10 {
        check_all(&t, max, &none, &ALL);
    }
    for fill in [true, false] {
        let m = vec![fill; t.len()];
        check_all(&t, 5, &opts(None, Some(&m)), &ALL);
        check_most_common(&t, 2, &opts(Some(3), Some(&m)), &ALL);
    }
    let empty = ngram_profiles(&[5u32, 6], &[3, 1], &none, &ALL).unwrap();
    assert_eq!(empty[1], (3, Profile::default()));
    assert_eq!(empty[0].1.n(), 2);
    let c = count_ngrams::<u8>(&[], 2, &none, &ALL).unwrap();
    assert_eq!((c.n(), c.distinct()), (0, 0));
    assert_eq!(c.most_common(10).unwrap(), (vec![], vec![]));
}

#[test]
fn wide_keys_use_u128() {
    // ~2^19 distinct ids (20 bits each): order 5 needs 100-bit keys. Repeating the sequence
    // gives every 5-gram a count of at least 2.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let half: Vec<u32> = (0..(1 << 19))
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u32
        })
        .collect();
    let tokens: Vec<u32> = half.iter().chain(&half).copied().collect();
    let got = ngram_profiles(&tokens, &[5], &CountOptions::default(), &ALL).unwrap();
    let mut h: HashMap<&[u32], u64> = HashMap::new();
    for w in tokens.windows(5) {
        *h.entry(w).or_default() += 1;
    }
    let want = Profile::from_counts(&h.values().copied().collect::<Vec<_>>()).unwrap();
    assert_eq!(got, vec![(5, want)]);
    let c = count_ngrams(&tokens, 5, &CountOptions::default(), &ALL).unwrap();
    let (grams, counts) = c.most_common(1).unwrap();
    let top = naive_most_common(
        &h.iter()
            .map(|(g, &c)| (g.iter().map(|&t| t as u64).collect(), c))
            .collect(),
    );
    assert_eq!((grams, counts), (top[0].0.clone(), vec![top[0].1]));
}

#[test]
fn most_common_breaks_ties_by_ngram() {
    let t = [5u32, 1, 5, 1, 9, 9, 2, 2, 3];
    let c = count_ngrams(&t, 1, &CountOptions::default(), &ALL).unwrap();
    assert_eq!(
        c.most_common(4).unwrap(),
        (vec![1, 2, 5, 9], vec![2, 2, 2, 2])
    );
    let c = count_ngrams(&t, 2, &CountOptions::default(), &ALL).unwrap();
    assert_eq!(c.most_common(2).unwrap(), (vec![5, 1, 1, 5], vec![2, 1]));
}

#[test]
fn most_common_reports_rows_it_does_not_keep() {
    let t: Vec<u32> = (0..10_000).collect();
    let c = count_ngrams(&t, 1, &CountOptions::default(), &ALL).unwrap();
    assert_eq!(c.most_common(3).unwrap(), (vec![0, 1, 2], vec![1, 1, 1]));
    assert_eq!(c.most_common(4096).unwrap().0.len(), 4096);
    let err = c.most_common(5000).unwrap_err().to_string();
    assert!(
        err.starts_with("most_common(5000) asks for 5000 rows"),
        "{err}"
    );
}

#[test]
fn negative_id_reports_first_position() {
    let mut t = vec![1i64; 3 * CHUNK];
    t[2 * CHUNK + 5] = -1;
    t[CHUNK + 1] = -3;
    for threads in [1, 2] {
        let o = CountOptions::default();
        let err = ngram_profiles(&t, &[2], &o, &on(threads))
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            format!(
                "tokens[{}] = -3 is negative: token ids must be >= 0",
                CHUNK + 1
            )
        );
    }
}

#[test]
fn bad_arguments() {
    let t = [1u32, 2, 3];
    let none = CountOptions::default();
    let err = ngram_profiles(&t, &[0, 2], &none, &ALL)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("order 0 is not an n-gram order"), "{err}");
    let m = [true; 2];
    let err = count_ngrams(&t, 2, &opts(None, Some(&m)), &ALL).unwrap_err();
    assert_eq!(
        err.to_string(),
        "mask has 2 entries but tokens has 3: they must have the same length"
    );
    for threads in [0, MAX_THREADS + 1] {
        let err = ngram_profiles(&t, &[1], &none, &on(threads)).unwrap_err();
        assert!(err.to_string().starts_with("threads = "), "{err}");
    }
}

#[test]
fn order_too_large_for_the_vocabulary() {
    let t: Vec<u32> = (0..1000).collect(); // 10 bits per token
    assert!(count_ngrams(&t, 12, &CountOptions::default(), &ALL).is_ok());
    let err = count_ngrams(&t, 13, &CountOptions::default(), &ALL)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("order 13 is too large for a vocabulary of 1000 distinct ids"),
        "{err}"
    );
}

#[test]
fn memory_limit_error_names_a_limit_that_works() {
    let t: Vec<u16> = (0..20_000).map(|i| (i % 3) as u16).collect();
    let want = ngram_profiles(&t, &[1, 2, 3], &CountOptions::default(), &ALL).unwrap();
    let tight = CountOptions {
        // Room for the ranks (3 ids: 2 bytes each) and almost nothing else.
        memory_limit: Some(2 * t.len() + 200),
        ..Default::default()
    };
    let Err(Error::MemoryLimit { needed, .. }) = ngram_profiles(&t, &[1, 2, 3], &tight, &on(2))
    else {
        panic!("expected a memory-limit error");
    };
    let enough = CountOptions {
        memory_limit: Some(needed as usize),
        ..tight
    };
    assert_eq!(
        ngram_profiles(&t, &[1, 2, 3], &enough, &on(2)).unwrap(),
        want
    );
    let tiny = CountOptions {
        memory_limit: Some(10),
        ..Default::default()
    };
    let err = ngram_profiles(&t, &[2], &tiny, &ALL)
        .unwrap_err()
        .to_string();
    assert!(err.contains("(2 bytes each)"), "{err}");
    assert!(err.contains("a limit of at least 40000 bytes"), "{err}");
}

#[test]
fn ranks_take_two_bytes_while_every_rank_fits() {
    let tiny = CountOptions {
        memory_limit: Some(10),
        ..Default::default()
    };
    // Ids up to 65,534 (65,535 ranks) fit two bytes; one more id needs four.
    for (max_id, bytes) in [(65_534u32, 2), (65_535, 4)] {
        let t: Vec<u32> = (0..=max_id).chain(0..1000).collect();
        let err = ngram_profiles(&t, &[2], &tiny, &ALL)
            .unwrap_err()
            .to_string();
        let want = format!("({bytes} bytes each) alone take {}", bytes * t.len());
        assert!(err.contains(&want), "{err}");
        // The largest ranks survive the width: profiles as counted naively.
        check_all(&t, 3, &CountOptions::default(), &ALL);
    }
    // A short input cannot have more ranks than tokens, whatever its ids.
    let t = [u32::MAX - 1, 7, u32::MAX - 1];
    let tiny = CountOptions {
        memory_limit: Some(5),
        ..tiny
    };
    let err = ngram_profiles(&t, &[2], &tiny, &ALL)
        .unwrap_err()
        .to_string();
    assert!(err.contains("(2 bytes each) alone take 6 bytes"), "{err}");
}

#[test]
fn progress_increases_to_the_total() {
    let t: Vec<u32> = (0..50_000).map(|i| (i * 7919 % 1000) as u32).collect();
    let seen = Mutex::new(Vec::new());
    let report = |done, total| seen.lock().unwrap().push((done, total));
    let ctl = Control {
        progress: Some(&report),
        ..on(2)
    };
    ngram_profiles(&t, &[1, 2, 3], &CountOptions::default(), &ctl).unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(seen.len() > 2);
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    assert_eq!(seen.last(), Some(&(50_000, 50_000)));
}

#[test]
fn cancellation_stops_the_count() {
    let t: Vec<u32> = (0..50_000).map(|i| (i * 7919 % 1000) as u32).collect();
    let none = CountOptions::default();
    let flag = AtomicBool::new(true);
    let ctl = Control {
        cancel: Some(&flag),
        ..ALL
    };
    assert_eq!(ngram_profiles(&t, &[3], &none, &ctl), Err(Error::Cancelled));
    // Cancelled from inside, after the first partition.
    let flag = AtomicBool::new(false);
    let stop = |_, _| flag.store(true, Ordering::Relaxed);
    let ctl = Control {
        cancel: Some(&flag),
        progress: Some(&stop),
        ..on(1)
    };
    assert_eq!(ngram_profiles(&t, &[3], &none, &ctl), Err(Error::Cancelled));
}

#[test]
fn progress_reports_the_remap_pass() {
    let t: Vec<u32> = (0..5 * CHUNK).map(|i| (i * 7919 % 1000) as u32).collect();
    let seen = Mutex::new(Vec::new());
    let report = |done, total| seen.lock().unwrap().push((done, total));
    let ctl = Control {
        progress: Some(&report),
        ..on(1)
    };
    ngram_profiles(&t, &[3], &CountOptions::default(), &ctl).unwrap();
    let seen = seen.into_inner().unwrap();
    // One report per chunk remapped, each within the remap pass's fifth of the total.
    let total = t.len() as u64;
    let remap: Vec<u64> = (seen.iter().map(|&(d, _)| d))
        .take_while(|&d| d <= total / 5)
        .collect();
    assert_eq!(remap.len(), 5, "{seen:?}");
    assert!(remap.windows(2).all(|w| w[0] < w[1]), "{seen:?}");
    assert_eq!(seen.last(), Some(&(total, total)));
}

#[test]
fn cancellation_stops_a_partition() {
    let t: Vec<u32> = (0..3 * CHUNK as u32).map(|i| i % 1000 + 1).collect();
    let counts: Vec<u64> = std::iter::once(0)
        .chain((1..=1000).map(|r| t.iter().filter(|&&x| x == r).count() as u64))
        .collect();
    let tail = Layout::new(2, 1000, false, 3).unwrap();
    let job = Job {
        ranks: &t,
        mask: None,
        tail,
        orders: &[2],
        keep: None,
        table: None,
        rows: false,
        starts: usize::MAX,
    };
    let parts = partition::plan(&counts, u64::MAX, 1, &[], &[]).unwrap();
    let mut keys = scatter::Buffers::<u64>::new(t.len(), None).unwrap();
    let flag = AtomicBool::new(false);
    let ctl = Control {
        cancel: Some(&flag),
        ..ALL
    };
    let part = &parts[0];
    let ok = partition::count_partition::<u64, u32>(&job, &counts, part, &mut keys, &ctl);
    assert!(ok.is_ok());
    flag.store(true, Ordering::Relaxed);
    let stopped = partition::count_partition::<u64, u32>(&job, &counts, part, &mut keys, &ctl);
    assert_eq!(stopped.err(), Some(Error::Cancelled));
}

#[test]
fn masks_and_separators_across_chunks() {
    let n = 2 * CHUNK + 100;
    let t: Vec<u16> = (0..n).map(|i| (i * 7919 % 13) as u16).collect();
    let m: Vec<bool> = (0..n).map(|i| i % 5 != 0).collect();
    check_all(&t, 3, &opts(Some(4), Some(&m)), &ALL);
}

/// Whether `remap` reads the tokens in place as ranks.
fn in_place<T: Token>(tokens: &[T], separator: Option<u64>) -> bool {
    let pass = vocab::Pass {
        separator,
        mask: None,
        ctl: &ALL,
        limit: None,
        progress: &|_| {},
    };
    let vocab = vocab::remap(tokens, &pass).unwrap();
    matches!(vocab.ranks, Ranks::Ids16(_) | Ranks::Ids32(_))
}

#[test]
fn ids_serve_as_ranks_only_when_every_id_occurs() {
    let every: Vec<u16> = (0..50).chain([3, 3, 49]).collect();
    let wide: Vec<u32> = every.iter().map(|&t| t.into()).collect();
    assert!(in_place(&every, None));
    assert!(in_place(&wide, None));
    // A separator must become rank 0; a missing id would leave a gap; other types are copied.
    assert!(!in_place(&every, Some(60)));
    assert!(!in_place(&every[1..], None));
    let bytes: Vec<u8> = every.iter().map(|&t| t as u8).collect();
    assert!(!in_place(&bytes, None));
}

proptest! {
    #[test]
    fn ids_in_place_match_brute_force(
        (tail, _, mask) in tokens_and_options(60, 500),
        head in 1u32..60,
        threads in 1usize..3,
    ) {
        // Every id below `head` occurs, and ids past it only if the tail has them.
        let t32: Vec<u32> = (0..head).rev().chain(tail.iter().map(|&t| t % head)).collect();
        let mask = mask.map(|m| {
            let mut m = m;
            m.resize(t32.len(), true);
            m
        });
        let t16: Vec<u16> = t32.iter().map(|&t| t as u16).collect();
        let (o, ctl) = (opts(None, mask.as_deref()), on(threads));
        prop_assert!(in_place(&t32, None) && in_place(&t16, None));
        check_all(&t32, 6, &o, &ctl);
        check_all(&t16, 6, &o, &ctl);
        check_most_common(&t32, 3, &o, &ctl);
        check_most_common(&t16, 1, &o, &ctl);
        // Tight limits: many partitions, or first tokens split by their second token.
        let want = ngram_profiles(&t16, &[1, 2, 3, 4], &o, &ctl).unwrap();
        let limit = limit_for(t16.len(), head as usize, threads, 8);
        let tight = CountOptions { memory_limit: Some(limit), ..o };
        let got = at_limit_or_needed(tight, |o| ngram_profiles(&t16, &[1, 2, 3, 4], o, &ctl));
        prop_assert_eq!(got, want);
    }
}
