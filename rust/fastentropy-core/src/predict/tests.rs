//! Tests of the predictor: exact normalisation by summing over every id, the code length
//! against independent references, the curve, bad input.

use std::sync::atomic::AtomicBool;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::ranks::Ranks;
use super::testing::{assert_costs_follow_distributions, assert_normalised, stream};
use super::*;
use crate::MarkovSource;

#[test]
fn normalised_at_every_order_and_under_collisions() {
    let tokens = stream(3000, 6, 1);
    let positions: Vec<usize> = (0..=3000).step_by(37).collect();
    for order in [0, 1, 2, 3, 6, 12] {
        // The smallest memory the tables accept: two buckets per order, heavy collisions.
        for memory in [Some(1 << 20), Some(12_000)] {
            let opts = PredictOptions {
                order: Some(order),
                memory_limit: memory,
                ..Default::default()
            };
            let dists = distributions(&tokens, &opts, &positions).unwrap();
            assert_eq!(dists[0].len(), 6);
            assert_normalised(&dists, None);
        }
    }
}

#[test]
fn normalised_with_hashed_order_one_and_separator() {
    // V > DENSE_ORDER1, so order 1 is hashed too; the separator's id gets no mass.
    let vocab = 1100u32;
    let mut tokens = stream(4000, 30, 2);
    for t in tokens.iter_mut().step_by(97) {
        *t = vocab - 1;
    }
    tokens[5] = 1000;
    let opts = PredictOptions {
        order: Some(4),
        separator: Some(u64::from(vocab - 1)),
        vocab_size: Some(u64::from(vocab)),
        memory_limit: Some(40_000),
        ..Default::default()
    };
    let positions: Vec<usize> = (0..=4000).step_by(250).collect();
    let dists = distributions(&tokens, &opts, &positions).unwrap();
    assert!(dists
        .iter()
        .all(|d| d[vocab as usize - 1] == 0.0 || d.len() == 1100));
    assert_normalised(&dists, Some(vocab as usize - 1));
}

#[test]
fn first_token_costs_ln_vocab_and_per_token_matches_the_distribution() {
    let tokens = stream(2000, 9, 3);
    let opts = PredictOptions {
        order: Some(4),
        ..Default::default()
    };
    let mut per = vec![0f32; tokens.len()];
    let cl = prequential(&tokens, &opts, Some(&mut per), &Control::default()).unwrap();
    assert!((f64::from(per[0]) - 9f64.ln()).abs() < 1e-6);
    let positions = [0usize, 1, 2, 10, 500, 1999];
    assert_costs_follow_distributions(&tokens, &opts, &per, &positions);
    let sum: f64 = per.iter().map(|&c| f64::from(c)).sum();
    assert!((sum - cl.nats).abs() < 1e-3, "{sum} vs {}", cl.nats);
    assert_eq!(cl.n, 2000);
}

#[test]
fn curve_marks_powers_of_two_and_the_end() {
    let tokens = stream(5000, 7, 4);
    let mut mask = vec![true; tokens.len()];
    for m in mask.iter_mut().step_by(3) {
        *m = false;
    }
    let opts = PredictOptions {
        mask: Some(&mask),
        ..Default::default()
    };
    let mut per = vec![0f32; tokens.len()];
    let cl = prequential(&tokens, &opts, Some(&mut per), &Control::default()).unwrap();
    let scored = mask.iter().filter(|&&m| m).count() as u64;
    assert_eq!(cl.n, scored);
    let ns: Vec<u64> = cl.curve.iter().map(|&(n, _)| n).collect();
    assert_eq!(ns, vec![1024, 2048, scored]);
    // Each mark is the running sum of the scored tokens' costs.
    let mut running = 0.0;
    let mut seen = 0u64;
    let mut marks = cl.curve.iter();
    let mut next = marks.next();
    for (&c, &m) in per.iter().zip(&mask) {
        assert_eq!(c.is_nan(), !m);
        if m {
            running += f64::from(c);
            seen += 1;
            if let Some(&(n, l)) = next {
                if n == seen {
                    assert!(
                        (l - running).abs() < 1e-6 * running,
                        "{n}: {l} vs {running}"
                    );
                    next = marks.next();
                }
            }
        }
    }
    assert!(next.is_none());
}

#[test]
fn masked_out_tokens_still_teach() {
    // Scoring with a mask gives, at the scored positions, exactly the costs of the unmasked
    // run: the mask changes what is summed, not what is learned.
    let tokens = stream(3000, 5, 5);
    let mask: Vec<bool> = (0..tokens.len()).map(|i| i % 4 == 0).collect();
    let mut all = vec![0f32; tokens.len()];
    let mut some = vec![0f32; tokens.len()];
    let ctl = Control::default();
    prequential(&tokens, &PredictOptions::default(), Some(&mut all), &ctl).unwrap();
    let masked = PredictOptions {
        mask: Some(&mask),
        ..Default::default()
    };
    let cl = prequential(&tokens, &masked, Some(&mut some), &ctl).unwrap();
    for i in 0..tokens.len() {
        if mask[i] {
            assert_eq!(all[i].to_bits(), some[i].to_bits());
        } else {
            assert!(some[i].is_nan());
        }
    }
    let want: f64 = (0..tokens.len())
        .filter(|&i| mask[i])
        .map(|i| f64::from(all[i]))
        .sum();
    assert!((cl.nats - want).abs() < 1e-3);
}

#[test]
fn separator_resets_context_not_statistics() {
    // "a b" repeated as documents: after the first few, b after a is near certain, and the
    // first token of each document (predicted from the empty context) is a with ~1/2.
    let (a, b, sep) = (0u8, 1u8, 2u8);
    let mut tokens = Vec::new();
    for _ in 0..2000 {
        tokens.extend([a, b, sep]);
    }
    let opts = PredictOptions {
        separator: Some(u64::from(sep)),
        order: Some(3),
        ..Default::default()
    };
    let mut per = vec![0f32; tokens.len()];
    let cl = prequential(&tokens, &opts, Some(&mut per), &Control::default()).unwrap();
    assert_eq!(cl.n, 4000);
    assert!(per[3 * 1999 + 2].is_nan());
    let first = f64::from(per[3 * 1999]);
    let second = f64::from(per[3 * 1999 + 1]);
    assert!((first - 2f64.ln()).abs() < 0.05, "{first}");
    assert!(second < 0.01, "{second}");
}

#[test]
fn same_bits_for_any_thread_count() {
    let tokens = stream(20_000, 50, 6);
    let runs: Vec<CodeLength> = [1, 2, 5]
        .iter()
        .map(|&t| {
            prequential(
                &tokens,
                &PredictOptions::default(),
                None,
                &Control::with_threads(Some(t)),
            )
            .unwrap()
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
}

/// The code length per token on an order-1 chain approaches the entropy rate from above,
/// and stays above what the true model itself spends on the same sample (computed here
/// from the chain's rows, independently of the predictor).
fn markov_check(n: usize, tolerance: f64) {
    let src = MarkovSource::new(40, 1, (0.8, 1.6), 7).unwrap();
    let tokens = src.sample(n, 8);
    let cl = prequential(
        &tokens,
        &PredictOptions::default(),
        None,
        &Control::default(),
    )
    .unwrap();
    let rows = src.rows();
    let stationary = src.stationary();
    let mut truth = -stationary[tokens[0] as usize].ln();
    for w in tokens.windows(2) {
        truth -= rows[w[0] as usize * 40 + w[1] as usize].ln();
    }
    let ours = cl.nats / n as f64;
    let rate = src.entropy_rate();
    let truth = truth / n as f64;
    eprintln!("n = {n}: ours {ours:.5}, true model {truth:.5}, rate {rate:.5} nats/token");
    assert!(ours > truth, "{ours} <= {truth}");
    assert!(ours > rate, "{ours} <= {rate}");
    assert!(ours - rate < tolerance, "{ours} - {rate} >= {tolerance}");
}

#[test]
fn learns_an_order_one_chain() {
    // A debug build's check: 3·10^5 tokens. tests/test_prequential.py checks 10^6 tokens
    // within 0.02 nats, and benches/prequential_speed.py records 10^7.
    markov_check(300_000, 0.06);
}

#[test]
fn bad_input_is_refused() {
    let ctl = Control::default();
    let err = |tokens: &[i32], opts: &PredictOptions<'_>| {
        prequential(tokens, opts, None, &ctl)
            .unwrap_err()
            .to_string()
    };
    assert!(err(&[], &PredictOptions::default()).contains("empty"));
    assert!(err(&[1, -2], &PredictOptions::default()).contains("tokens[1] = -2"));
    let v3 = PredictOptions {
        vocab_size: Some(3),
        ..Default::default()
    };
    assert!(err(&[1, 3], &v3).contains("tokens[1] = 3 is out of range"));
    let sep = PredictOptions {
        vocab_size: Some(3),
        separator: Some(3),
        ..Default::default()
    };
    assert!(err(&[1, 2], &sep).contains("separator = 3"));
    let mask = [true];
    let short = PredictOptions {
        mask: Some(&mask),
        ..Default::default()
    };
    assert!(err(&[1, 2], &short).contains("mask has 1"));
    let deep = PredictOptions {
        order: Some(MAX_ORDER + 1),
        ..Default::default()
    };
    assert!(err(&[1, 2], &deep).contains("too long"));
    let tiny = PredictOptions {
        memory_limit: Some(100),
        ..Default::default()
    };
    assert!(matches!(
        prequential(&[1u8, 2], &tiny, None, &ctl),
        Err(Error::MemoryLimit { .. })
    ));
}

#[test]
fn cancel_stops_the_run() {
    let flag = AtomicBool::new(true);
    let ctl = Control {
        cancel: Some(&flag),
        ..Control::default()
    };
    let r = prequential(&[1u8, 2, 3], &PredictOptions::default(), None, &ctl);
    assert_eq!(r, Err(Error::Cancelled));
}

/// `count` increasing ids below `vocab`, the first ones given.
fn sparse_ids(count: usize, vocab: u64, given: &[u64], seed: u64) -> Vec<u64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut ids: Vec<u64> = given.to_vec();
    while ids.len() < count {
        let x = rng.random_range(0..vocab);
        if !ids.contains(&x) {
            ids.push(x);
        }
    }
    ids.sort_unstable();
    ids
}

#[test]
fn sparse_ids_code_as_their_ranks() {
    let vocab = 1u64 << 32;
    let ranks = stream(5000, 30, 11);
    let run = |tokens: &[u64]| {
        let mut per = vec![0f32; tokens.len()];
        let opts = PredictOptions {
            vocab_size: Some(vocab),
            order: Some(4),
            memory_limit: Some(1 << 20),
            ..Default::default()
        };
        let cl = prequential(tokens, &opts, Some(&mut per), &Control::default()).unwrap();
        (cl, per)
    };
    let dense: Vec<u64> = ranks.iter().map(|&r| u64::from(r)).collect();
    let (want, want_per) = run(&dense);
    for (seed, given) in [(1, vec![0, (1 << 31) + 5, 7]), (2, vec![vocab - 1])] {
        let ids = sparse_ids(30, vocab, &given, seed);
        let sparse: Vec<u64> = ranks.iter().map(|&r| ids[r as usize]).collect();
        let (got, got_per) = run(&sparse);
        assert_eq!(got, want);
        assert_eq!(got_per, want_per);
    }
    // The first token costs ln of the declared vocabulary, not of the ids that occur.
    assert!((f64::from(want_per[0]) - (vocab as f64).ln()).abs() < 1e-5);
    assert!(want.nats / want.n as f64 > 0.0);
}

#[test]
fn an_unused_id_codes_as_the_model_over_ids() {
    // Ids 0..30 all occur, the vocabulary declares 31: the remapped model (ranks = ids, the
    // shared unseen symbol = id 30) is the model over ids, run here without the remap.
    let tokens = stream(6000, 30, 12);
    let opts = PredictOptions {
        vocab_size: Some(31),
        order: Some(3),
        ..Default::default()
    };
    let ctl = Control::default();
    let remapped = prequential(&tokens, &opts, None, &ctl).unwrap();
    let mut model = driver::build(ModelKind::Tokens, 31, 31, tokens.len(), &opts).unwrap();
    let direct = driver::run(&tokens, &Ranks::Identity, &mut model, &opts, None, &ctl).unwrap();
    assert_eq!(remapped, direct);
    assert!(matches!(
        Ranks::of(&tokens, 31, None, &ctl).unwrap(),
        Ranks::Table { unseen: 30, .. }
    ));
}

#[test]
fn normalised_over_the_whole_declared_vocabulary_when_sparse() {
    let vocab = 3000u64;
    let ids = sparse_ids(12, vocab, &[0, 2999], 5);
    let mut tokens: Vec<u32> = stream(2500, 12, 13)
        .iter()
        .map(|&r| ids[r as usize] as u32)
        .collect();
    // A separator that is itself a sparse id.
    for t in tokens.iter_mut().step_by(97) {
        *t = 1234;
    }
    let positions: Vec<usize> = (0..=2500).step_by(250).collect();
    for order in [0, 2, 5] {
        let opts = PredictOptions {
            vocab_size: Some(vocab),
            separator: Some(1234),
            order: Some(order),
            memory_limit: Some(1 << 20),
            ..Default::default()
        };
        let dists = distributions(&tokens, &opts, &positions).unwrap();
        assert_eq!(dists[0].len(), 3000);
        assert_normalised(&dists, Some(1234));
    }
}

/// A random block of `len` ids over `vocab`, repeated to `n` tokens: beyond any short
/// order, predictable only by matching the earlier copies.
fn repeats(n: usize, len: usize, vocab: u32, seed: u64) -> Vec<u32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let block: Vec<u32> = (0..len).map(|_| rng.random_range(0..vocab)).collect();
    block.iter().copied().cycle().take(n).collect()
}

#[test]
fn match_stage_learns_repeats_beyond_the_order_and_stays_normalised() {
    // Order 1 over 16 ids cannot tell the block's positions apart (each id has several
    // successors in a block of 60), so what it codes in the last copies near 0 nats is the
    // match model's doing: the exact cost of the order-1 frequencies is the reference.
    let tokens = repeats(3000, 60, 16, 21);
    let opts = PredictOptions {
        order: Some(1),
        vocab_size: Some(16),
        ..Default::default()
    };
    let mut per = vec![0f32; tokens.len()];
    prequential(&tokens, &opts, Some(&mut per), &Control::default()).unwrap();
    let tail: f64 = per[2400..].iter().map(|&c| f64::from(c)).sum::<f64>() / 600.0;
    // The conditional entropy of the block's order-1 transitions (what counts alone reach).
    let mut pairs: std::collections::HashMap<(u32, u32), f64> = std::collections::HashMap::new();
    let mut firsts: std::collections::HashMap<u32, f64> = std::collections::HashMap::new();
    for w in tokens[..61].windows(2) {
        *pairs.entry((w[0], w[1])).or_insert(0.0) += 1.0;
        *firsts.entry(w[0]).or_insert(0.0) += 1.0;
    }
    let h1: f64 = pairs
        .iter()
        .map(|(&(a, _), &c)| -c / 60.0 * (c / firsts[&a]).ln())
        .sum();
    assert!(h1 > 0.3, "{h1}");
    assert!(tail < 0.05, "{tail} nats/token with order-1 entropy {h1}");
    // Normalised over every id where the stages are at work.
    let positions: Vec<usize> = (300..3000).step_by(271).collect();
    for order in [1, 3] {
        let opts = PredictOptions {
            order: Some(order),
            vocab_size: Some(16),
            ..Default::default()
        };
        let dists = distributions(&tokens, &opts, &positions).unwrap();
        assert_normalised(&dists, None);
        // The stage is active: the next token is near certain.
        for (d, &p) in dists.iter().zip(&positions) {
            assert!(d[tokens[p] as usize] > 0.9, "q = {}", d[tokens[p] as usize]);
        }
    }
}

#[test]
fn a_vocabulary_of_2_to_the_32_symbols_is_refused_by_memory_not_an_overflow() {
    // Dense rows over 2^32 symbols: the sizes saturate and the memory check refuses them.
    assert_eq!(
        super::table::Dense::bytes(usize::MAX / 2, 1 << 32),
        usize::MAX
    );
    let built = super::model::Model::new(3, 1 << 32, 1 << 32, false, 1 << 30, 1000);
    assert!(matches!(built, Err(Error::MemoryLimit { .. })));
}
