//! Tests of the bit model: `q` summed over every id of small vocabularies (with forced
//! bits and a separator), documents, repeats, refusals. References are closed forms or
//! brute-force sums, never the model's own figures.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::super::testing::{assert_costs_follow_distributions, assert_normalised, stream};
use super::super::{distributions, prequential, ModelKind, PredictOptions};
use crate::control::Control;
use crate::error::Error;

/// [`stream`] as the u64 ids the bit model's tests use.
fn random(n: usize, vocab: u64, seed: u64) -> Vec<u64> {
    stream(n, vocab as u32, seed)
        .into_iter()
        .map(u64::from)
        .collect()
}

fn bits(order: Option<usize>) -> PredictOptions<'static> {
    PredictOptions {
        model: Some(ModelKind::Bits),
        order,
        ..Default::default()
    }
}

/// Sums to 1 over every id but `skip` (the separator), which gets exactly 0.
fn assert_sums_to_one(dists: &[Vec<f64>], skip: Option<usize>) {
    assert_normalised(dists, skip);
    if let Some(s) = skip {
        assert!(
            dists.iter().all(|d| d[s] == 0.0),
            "the separator gets no mass"
        );
    }
}

/// `q` sums to 1 over exactly the `vocab` ids at every `step`-th position of `n` random
/// tokens (seed `seed`), for each of `orders`.
fn assert_normalised_at_orders(
    vocab: u64,
    n: usize,
    step: usize,
    seed: u64,
    orders: &[Option<usize>],
) {
    let tokens = random(n, vocab, seed);
    let positions: Vec<usize> = (0..=n).step_by(step).collect();
    for &order in orders {
        let opts = PredictOptions {
            vocab_size: Some(vocab),
            ..bits(order)
        };
        let dists = distributions(&tokens, &opts, &positions).unwrap();
        assert_eq!(dists[0].len(), vocab as usize);
        assert_sums_to_one(&dists, None);
    }
}

/// The same with the separator `sep` at every `every`-th of `n` random tokens (seed
/// `seed`), within `memory`: the separator gets 0, the other ids sum to 1.
fn assert_normalised_with_separator(
    (vocab, sep): (u64, u64),
    (n, every, step): (usize, usize, usize),
    seed: u64,
    memory: Option<usize>,
) {
    let mut tokens = random(n, vocab, seed);
    for t in tokens.iter_mut().step_by(every) {
        *t = sep;
    }
    let opts = PredictOptions {
        vocab_size: Some(vocab),
        separator: Some(sep),
        memory_limit: memory,
        ..bits(None)
    };
    let positions: Vec<usize> = (0..=n).step_by(step).collect();
    let dists = distributions(&tokens, &opts, &positions).unwrap();
    assert_sums_to_one(&dists, Some(sep as usize));
}

#[test]
fn normalised_over_every_id_with_forced_bits() {
    // Vocabularies that are not powers of two leave branches with no ids: their bits are
    // forced, and q must still sum to 1 over exactly the V ids.
    for vocab in [1u64, 2, 3, 5, 7, 17, 40, 255, 256] {
        assert_normalised_at_orders(vocab, 1500, 149, vocab, &[Some(0), Some(1), Some(3), None]);
    }
}

#[test]
fn normalised_with_a_separator_anywhere_in_the_vocabulary() {
    for (vocab, sep) in [(257u64, 256u64), (257, 0), (6, 2), (2, 1)] {
        assert_normalised_with_separator((vocab, sep), (2000, 41, 199), sep + 7, None);
    }
}

#[test]
fn one_codable_id_costs_nothing() {
    // ln 1 = 0: a single possible id (here beside a separator) is certain.
    let tokens = [0u8, 0, 1, 0, 0, 1, 0];
    let opts = PredictOptions {
        separator: Some(1),
        ..bits(None)
    };
    let cl = prequential(&tokens, &opts, None, &Control::default()).unwrap();
    assert_eq!(cl.n, 5);
    assert_eq!(cl.nats, 0.0);
}

#[test]
fn per_token_costs_are_the_distribution_and_sum_to_the_total() {
    let tokens = random(3000, 30, 9);
    let mut per = vec![0f32; tokens.len()];
    let cl = prequential(&tokens, &bits(None), Some(&mut per), &Control::default()).unwrap();
    assert_eq!(cl.settings.name, "bits");
    let positions = [0usize, 1, 2, 77, 1500, 2999];
    assert_costs_follow_distributions(&tokens, &bits(None), &per, &positions);
    let sum: f64 = per.iter().map(|&c| f64::from(c)).sum();
    assert!((sum - cl.nats).abs() < 1e-3 * cl.nats);
}

#[test]
fn a_separator_resets_the_context_and_keeps_what_was_learned() {
    // Documents of 1-3 tokens over {a, b}: the first is always a, the rest random. Only the
    // start of a document tells that a comes: after many documents its cost must be near 0
    // (the statistics of the start context were kept), the random ones near ln 2.
    let (a, b, sep) = (0u8, 1u8, 2u8);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let mut tokens = Vec::new();
    let mut firsts = Vec::new();
    for _ in 0..3000 {
        firsts.push(tokens.len());
        tokens.push(a);
        for _ in 0..rng.random_range(0..3) {
            tokens.push(if rng.random_bool(0.5) { a } else { b });
        }
        tokens.push(sep);
    }
    let opts = PredictOptions {
        separator: Some(u64::from(sep)),
        ..bits(None)
    };
    let mut per = vec![0f32; tokens.len()];
    prequential(&tokens, &opts, Some(&mut per), &Control::default()).unwrap();
    let late = &firsts[2000..];
    let first: f64 = late.iter().map(|&i| f64::from(per[i])).sum::<f64>() / late.len() as f64;
    let start = firsts[2000];
    let others: Vec<f64> = (start..tokens.len())
        .filter(|i| !firsts.contains(i) && tokens[*i] != sep)
        .map(|i| f64::from(per[i]))
        .collect();
    let other = others.iter().sum::<f64>() / others.len() as f64;
    assert!(first < 0.05, "first tokens: {first} nats");
    assert!(
        (other - 2f64.ln()).abs() < 0.1,
        "random tokens: {other} nats"
    );
}

#[test]
fn the_match_model_codes_repeats_beyond_the_longest_order() {
    // A random block of 300 bytes repeated: order 8 and less cannot tell where in the block
    // it is only at its first pass; later copies are predictable by the match model.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let block: Vec<u8> = (0..300).map(|_| rng.random_range(0..=255)).collect();
    let tokens: Vec<u8> = block.iter().copied().cycle().take(6000).collect();
    let mut per = vec![0f32; tokens.len()];
    prequential(&tokens, &bits(None), Some(&mut per), &Control::default()).unwrap();
    let head: f64 = per[..300].iter().map(|&c| f64::from(c)).sum::<f64>() / 300.0;
    let tail: f64 = per[5400..].iter().map(|&c| f64::from(c)).sum::<f64>() / 600.0;
    assert!(
        head > 4.0,
        "first pass {head} nats (random bytes: ln 256 = 5.55)"
    );
    assert!(tail < 0.02, "repeats {tail} nats");
}

#[test]
fn refuses_what_it_cannot_code() {
    let ctl = Control::default();
    let wide = PredictOptions {
        vocab_size: Some((1 << 20) + 1),
        ..bits(None)
    };
    let err = prequential(&[1u32, 2], &wide, None, &ctl).unwrap_err();
    assert!(err.to_string().contains("at most 2^20"), "{err}");
    let deep = bits(Some(9));
    let err = prequential(&[1u8, 2], &deep, None, &ctl).unwrap_err();
    assert!(err.to_string().contains("too long"), "{err}");
    let tiny = PredictOptions {
        memory_limit: Some(100_000),
        ..bits(None)
    };
    assert!(matches!(
        prequential(&[1u8, 2], &tiny, None, &ctl),
        Err(Error::MemoryLimit { .. })
    ));
}

#[test]
fn chosen_without_an_order_up_to_2_20_ids() {
    let ctl = Control::default();
    let bytes = random(500, 256, 1);
    let run =
        |opts: &PredictOptions<'_>| prequential(&bytes, opts, None, &ctl).unwrap().settings.name;
    assert_eq!(run(&PredictOptions::default()), "bits");
    let ordered = PredictOptions {
        order: Some(3),
        ..Default::default()
    };
    assert_eq!(run(&ordered), "tokens");
    let wide = PredictOptions {
        vocab_size: Some(258),
        ..Default::default()
    };
    assert_eq!(run(&wide), "bits");
    let widest = PredictOptions {
        vocab_size: Some((1 << 20) + 1),
        ..Default::default()
    };
    assert_eq!(run(&widest), "tokens");
    let with_sep = PredictOptions {
        vocab_size: Some(257),
        separator: Some(256),
        ..Default::default()
    };
    assert_eq!(run(&with_sep), "bits");
    // Below the bit model's fixed tables (~0.8 MB), the choice falls back to the token model.
    let small = PredictOptions {
        memory_limit: Some(200_000),
        ..Default::default()
    };
    assert_eq!(run(&small), "tokens");
}

#[test]
fn wide_vocabularies_are_normalised_over_every_id() {
    // Ids of more than 8 bits: chunks of 1-4 bits, each with its own slots; vocabularies
    // just above a power of two force most of the first bit's subtree.
    for (vocab, n) in [
        (257u64, 1500usize),
        (300, 1500),
        (1000, 1200),
        (1025, 800),
        (4099, 600),
    ] {
        assert_normalised_at_orders(
            vocab,
            n,
            n / 4,
            vocab + 1,
            &[Some(0), Some(1), Some(2), None],
        );
    }
}

#[test]
fn wide_normalised_with_a_separator_and_a_small_limit() {
    // The separator anywhere (ids above it code one lower); the smallest tables the limit
    // allows (heavy collisions, runs overwritten by other contexts).
    for (vocab, sep, memory) in [
        (1001u64, 500u64, None),
        (4097, 4096, Some(1_300_000)),
        (300, 0, Some(700_000)),
    ] {
        assert_normalised_with_separator((vocab, sep), (1200, 37, 300), sep, memory);
    }
}

#[test]
fn wide_per_token_costs_are_the_distribution() {
    let tokens = random(2000, 700, 4);
    let opts = PredictOptions {
        vocab_size: Some(700),
        ..bits(None)
    };
    let mut per = vec![0f32; tokens.len()];
    let cl = prequential(&tokens, &opts, Some(&mut per), &Control::default()).unwrap();
    assert_eq!(cl.settings.name, "bits");
    let positions = [0usize, 1, 5, 999, 1999];
    assert_costs_follow_distributions(&tokens, &opts, &per, &positions);
}

#[test]
fn wide_repeats_cost_little() {
    // A random block of 300 ids of 5000 repeated: the first pass costs about ln 5000 (8.5
    // nats) a token, the copies (contexts seen before, their runs, the match) very little.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(6);
    let block: Vec<u32> = (0..300).map(|_| rng.random_range(0..5000)).collect();
    let tokens: Vec<u32> = block.iter().copied().cycle().take(6000).collect();
    let opts = PredictOptions {
        vocab_size: Some(5000),
        ..bits(None)
    };
    let mut per = vec![0f32; tokens.len()];
    prequential(&tokens, &opts, Some(&mut per), &Control::default()).unwrap();
    let head: f64 = per[..300].iter().map(|&c| f64::from(c)).sum::<f64>() / 300.0;
    let tail: f64 = per[5400..].iter().map(|&c| f64::from(c)).sum::<f64>() / 600.0;
    assert!(head > 7.0, "first pass {head} nats (ln 5000 = 8.52)");
    assert!(tail < 0.02, "repeats {tail} nats");
}

/// Lines of words, brackets and indentation (what the text contexts key on), long lines
/// past the kept column, documents cut by the separator 0.
fn text_like(n: usize, seed: u64) -> Vec<u8> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let words: [&[u8]; 8] = [
        b"the",
        b"Abacus",
        b"(a^)",
        b"[1913 Webster]",
        b"{Musa}",
        b"<hw>",
        b"of",
        b"pl.",
    ];
    let mut out = Vec::with_capacity(n + 300);
    while out.len() < n {
        match rng.random_range(0..40) {
            0 => out.push(0),
            1 => out.extend(std::iter::repeat_n(b'x', 300)),
            2..=6 => out.extend_from_slice(b"\n   "),
            _ => {
                out.extend_from_slice(words[rng.random_range(0..words.len())]);
                out.push(b' ');
            }
        }
    }
    out.truncate(n);
    out
}

#[test]
fn text_contexts_keep_q_normalised_and_the_costs_exact() {
    // The text state (words, brackets, columns) feeds every context slot from order 2 on:
    // at positions inside words, brackets, long lines and after separators q still sums to
    // 1 over the 255 codable bytes, and the driver's costs (with its prefetching copy of the
    // text state) are those of the distributions computed afresh.
    let tokens = text_like(4000, 3);
    let opts = PredictOptions {
        separator: Some(0),
        vocab_size: Some(256),
        // Small SSE tables: each q(x) below clones the model.
        memory_limit: Some(4 << 20),
        ..bits(None)
    };
    let positions: Vec<usize> = (0..tokens.len())
        .step_by(331)
        .filter(|&p| tokens[p] != 0)
        .collect();
    let dists = distributions(&tokens, &opts, &positions).unwrap();
    assert_sums_to_one(&dists, Some(0));
    let mut per = vec![0f32; tokens.len()];
    prequential(&tokens, &opts, Some(&mut per), &Control::default()).unwrap();
    assert_costs_follow_distributions(&tokens, &opts, &per, &positions);
}

#[test]
fn trimmed_models_keep_q_normalised_and_the_costs_exact() {
    // The speed frontier's models (docs/prequential.md: parts switched off with `Trim`) are
    // proper predictors too, so their code lengths are honest upper bounds.
    let tokens = text_like(3000, 5);
    let opts = |trim: Option<super::Trim>| PredictOptions {
        separator: Some(0),
        vocab_size: Some(256),
        memory_limit: Some(4 << 20),
        trim,
        ..bits(None)
    };
    let lean = |orders: Option<Vec<usize>>, texts: Option<usize>| super::Trim {
        orders,
        texts,
        no_mixer2: true,
        no_sse: true,
    };
    let positions: Vec<usize> = (0..tokens.len())
        .step_by(257)
        .filter(|&p| tokens[p] != 0)
        .collect();
    let whole = prequential(&tokens, &opts(None), None, &Control::default()).unwrap();
    for trim in [
        lean(None, None),
        lean(Some(vec![2, 4, 6]), Some(1)),
        lean(Some(vec![3]), Some(0)),
        lean(Some(vec![]), Some(0)),
    ] {
        let o = opts(Some(trim.clone()));
        let dists = distributions(&tokens, &o, &positions).unwrap();
        assert_sums_to_one(&dists, Some(0));
        let mut per = vec![0f32; tokens.len()];
        let trimmed = prequential(&tokens, &o, Some(&mut per), &Control::default()).unwrap();
        assert_costs_follow_distributions(&tokens, &o, &per, &positions);
        // The parts are really off: the whole model codes this text differently.
        assert_ne!(whole.nats, trimmed.nats, "{trim:?}");
    }
}
