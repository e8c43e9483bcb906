//! Helpers shared by the tests of both predictors (the token model's and the bit models').

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::{distributions, PredictOptions};
use crate::tokens::Token;

/// A stream over `vocab` ids with repeats at several lags, so that contexts of many orders
/// recur and the tables fill, collide and evict.
pub fn stream(n: usize, vocab: u32, seed: u64) -> Vec<u32> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut out: Vec<u32> = Vec::with_capacity(n);
    while out.len() < n {
        let copy = out.len() > 20 && rng.random_bool(0.6);
        if copy {
            let from = rng.random_range(0..out.len() - 10);
            let len = rng.random_range(1..10);
            for j in 0..len {
                out.push(out[from + j]);
            }
        } else {
            out.push(rng.random_range(0..vocab));
        }
    }
    out.truncate(n);
    out
}

pub fn assert_normalised(dists: &[Vec<f64>], skip: Option<usize>) {
    for (i, d) in dists.iter().enumerate() {
        let mut sum = 0.0;
        for (x, &q) in d.iter().enumerate() {
            if Some(x) == skip {
                continue;
            }
            assert!(q > 0.0 && q <= 1.0, "position #{i}: q({x}) = {q}");
            sum += q;
        }
        assert!((sum - 1.0).abs() < 1e-12, "position #{i}: sum = {sum}");
    }
}

/// Each scored token's cost in `per` is −ln of its probability in the model's distribution
/// at that position (computed afresh by [`distributions`]).
pub fn assert_costs_follow_distributions<T: Token>(
    tokens: &[T],
    opts: &PredictOptions<'_>,
    per: &[f32],
    positions: &[usize],
) {
    let dists = distributions(tokens, opts, positions).unwrap();
    for (&p, d) in positions.iter().zip(&dists) {
        let want = -d[tokens[p].id().unwrap() as usize].ln();
        assert!(
            (f64::from(per[p]) - want).abs() < 1e-5 * want.max(1.0),
            "{p}"
        );
    }
}
