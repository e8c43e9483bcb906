//! Helpers shared by the tests of both predictors (the token model's and the bit models').

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

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
