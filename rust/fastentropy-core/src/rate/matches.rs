//! Match-length (Lempel–Ziv type) estimators of the entropy rate, from the longest-previous-
//! match lengths `L_j` of a sequence (the longest prefix of the suffix at position j that
//! also starts at some earlier position, overlap allowed; `L_0 = 0`). With the 1-based
//! position `i = j + 1` and `Λ_i = L_j + 1` (the length of the shortest substring starting
//! at i that does *not* start earlier — Kontoyiannis et al.'s definition):
//!
//! - **KASW** increasing window (Kontoyiannis, Algoet, Suhov & Wyner 1998, *IEEE TIT*
//!   44:1319, estimator (b) of Theorem 1): `Ĥ = [ (1/(n−1)) Σ_{i=2..n} Λ_i / ln i ]⁻¹`,
//!   nats with natural logs. Consistent (a.s. and in L¹) for stationary ergodic sources under
//!   a Doeblin-type mixing condition (finite-order Markov chains and HMMs with full-support
//!   emissions satisfy it).
//! - **Gao** (Gao, Kontoyiannis & Bienenstock 2008, *Entropy* 10:71, eq. 6):
//!   `H̃ = (1/(n−1)) Σ_{i=2..n} ln i / Λ_i`; universally consistent for stationary ergodic
//!   sources. By Jensen, `H̃ ≥ Ĥ` on every sequence.
//! - **Grassberger** (1989, *IEEE TIT* 35:669) from match lengths *anywhere else* in the
//!   sequence (the suffix-tree depth of each position, `kind="any"` of the index):
//!   `Ĥ_G = ln n / mean(Λ)`, without his finite-N corrections.
//!
//! Bias at finite n: for memoryless and Markov sources the match depth grows like
//! `(ln i + γ + h₂/(2h))/h` (Szpankowski 1993; h₂ = Σ p ln² p; recalled, not verified), so
//! `Λ_i/ln i` exceeds `1/h` by O(1/ln i) and all three are biased **low** by a relative
//! O(1/ln n) — for 10⁶ tokens (ln n ≈ 14) a bias of the order of 10%, falling only
//! logarithmically. On text with long exact repeats (boilerplate, duplicated documents) the
//! matches are long and the estimators can be far too low. The interval here is statistical
//! only (batch means); the bias is not in it, and the combination rule must allow for it.
//!
//! Standard error: the sequence of terms is cut into [`BLOCKS`] contiguous blocks; the std
//! of the block means over √BLOCKS is the std of the overall mean (consecutive match lengths
//! are strongly dependent, `L_{j+1} ≥ L_j − 1`, blocks of thousands of positions are not);
//! the delta method carries it to the reciprocal forms.

use crate::error::{Error, Result};

/// Blocks of the batch-means standard error.
pub const BLOCKS: usize = 32;
/// Fewest positions per block for a standard error.
pub const MIN_BLOCK: usize = 256;
const STDS: f64 = 2.0;

/// One match-length estimate, in nats per token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchEstimate {
    /// The estimate, nats per token.
    pub value: f64,
    /// Batch-means standard error; `None` below `BLOCKS * MIN_BLOCK` terms.
    pub std: Option<f64>,
    /// Positions the estimate averages over.
    pub terms: usize,
}

/// The match-length estimate of the rate: KASW as the point, the interval the range of the
/// KASW and Gao estimates ± 2 std.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchRate {
    /// The KASW increasing-window estimate.
    pub kasw: MatchEstimate,
    /// The Gao et al. estimate.
    pub gao: MatchEstimate,
    /// The point: KASW's value.
    pub point: f64,
    /// Lower end: the lower of the two estimates − 2 std, at least 0.
    pub lower: f64,
    /// Upper end: the highest of the two estimates + 2 std.
    pub upper: f64,
}

/// KASW's increasing-window estimator from previous-match lengths `lpf` (see the module).
///
/// # Errors
/// Fewer than 2 positions.
pub fn kasw(lpf: &[u32]) -> Result<MatchEstimate> {
    let terms = previous_terms(lpf, |lam, ln_i| lam / ln_i)?;
    let (mean, se) = batch_mean(&terms);
    Ok(MatchEstimate {
        value: 1.0 / mean,
        std: se.map(|s| s / (mean * mean)),
        terms: terms.len(),
    })
}

/// Gao, Kontoyiannis & Bienenstock's estimator from previous-match lengths.
///
/// # Errors
/// Fewer than 2 positions.
pub fn gao(lpf: &[u32]) -> Result<MatchEstimate> {
    let terms = previous_terms(lpf, |lam, ln_i| ln_i / lam)?;
    let (mean, se) = batch_mean(&terms);
    Ok(MatchEstimate {
        value: mean,
        std: se,
        terms: terms.len(),
    })
}

/// Grassberger's estimator `ln n / mean(Λ)` from match lengths anywhere else (`kind="any"`).
///
/// # Errors
/// Fewer than 2 positions.
pub fn grassberger(any: &[u32]) -> Result<MatchEstimate> {
    if any.len() < 2 {
        return Err(too_short(any.len()));
    }
    let terms: Vec<f64> = any.iter().map(|&l| f64::from(l) + 1.0).collect();
    let (mean, se) = batch_mean(&terms);
    let ln_n = (any.len() as f64).ln();
    Ok(MatchEstimate {
        value: ln_n / mean,
        std: se.map(|s| ln_n * s / (mean * mean)),
        terms: terms.len(),
    })
}

/// KASW and Gao from the same previous-match lengths, and their interval.
///
/// # Errors
/// Fewer than 2 positions.
pub fn match_rate(lpf: &[u32]) -> Result<MatchRate> {
    let (kasw, gao) = (kasw(lpf)?, gao(lpf)?);
    let ends = |e: &MatchEstimate| {
        let s = STDS * e.std.unwrap_or(0.0);
        (e.value - s, e.value + s)
    };
    let ((k0, k1), (g0, g1)) = (ends(&kasw), ends(&gao));
    Ok(MatchRate {
        kasw,
        gao,
        point: kasw.value,
        lower: k0.min(g0).max(0.0),
        upper: k1.max(g1),
    })
}

/// `f(Λ_i, ln i)` for `i = 2..=n`.
fn previous_terms(lpf: &[u32], f: impl Fn(f64, f64) -> f64) -> Result<Vec<f64>> {
    if lpf.len() < 2 {
        return Err(too_short(lpf.len()));
    }
    Ok((1..lpf.len())
        .map(|j| f(f64::from(lpf[j]) + 1.0, ((j + 1) as f64).ln()))
        .collect())
}

fn too_short(n: usize) -> Error {
    Error::Invalid(format!(
        "match-length estimators need at least 2 positions, got {n}"
    ))
}

/// Mean, and its batch-means standard error when there are enough terms.
fn batch_mean(terms: &[f64]) -> (f64, Option<f64>) {
    let n = terms.len();
    let mean = terms.iter().sum::<f64>() / n as f64;
    if n < BLOCKS * MIN_BLOCK {
        return (mean, None);
    }
    // Blocks of equal length (the last n mod BLOCKS terms join the last block's mean only
    // through `mean`; they are a negligible share).
    let size = n / BLOCKS;
    let means: Vec<f64> = terms
        .chunks_exact(size)
        .take(BLOCKS)
        .map(|c| c.iter().sum::<f64>() / size as f64)
        .collect();
    let m = means.iter().sum::<f64>() / BLOCKS as f64;
    let var = means.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (BLOCKS - 1) as f64;
    (mean, Some((var / BLOCKS as f64).sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;
    use std::collections::HashMap;

    /// O(n²·L) reference: for each i, the longest match starting at any j < i.
    fn naive_lpf(x: &[u32]) -> Vec<u32> {
        (0..x.len())
            .map(|i| {
                (0..i)
                    .map(|j| {
                        (0..x.len() - i)
                            .take_while(|&k| x[j + k] == x[i + k])
                            .count()
                    })
                    .max()
                    .unwrap_or(0) as u32
            })
            .collect()
    }

    /// O(n·L) reference: first occurrence of every l-gram; `L_i` = the longest l whose
    /// l-gram at i first occurs before i.
    fn hashed_lpf(x: &[u32]) -> Vec<u32> {
        let mut lpf = vec![0u32; x.len()];
        for l in 1..=x.len() {
            let mut first: HashMap<&[u32], usize> = HashMap::new();
            let mut any = false;
            for i in 0..=x.len() - l {
                let j = *first.entry(&x[i..i + l]).or_insert(i);
                if j < i {
                    lpf[i] = l as u32;
                    any = true;
                }
            }
            if !any {
                break;
            }
        }
        lpf
    }

    #[test]
    fn the_references_agree() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for v in [2, 3, 5] {
            let x: Vec<u32> = (0..300).map(|_| rng.random_range(0..v)).collect();
            assert_eq!(naive_lpf(&x), hashed_lpf(&x));
        }
    }

    #[test]
    fn a_hand_example_gives_the_formula() {
        // "abaab": L = [0, 0, 1, 2, 1] (the "ab" at 3 matches the one at 0).
        let x = [0, 1, 0, 0, 1];
        let lpf = naive_lpf(&x);
        assert_eq!(lpf, vec![0, 0, 1, 2, 1]);
        let lam = [1.0, 2.0, 3.0, 2.0];
        let ln_i = [2f64.ln(), 3f64.ln(), 4f64.ln(), 5f64.ln()];
        let mean: f64 = (0..4).map(|k| lam[k] / ln_i[k]).sum::<f64>() / 4.0;
        let k = kasw(&lpf).unwrap();
        assert!((k.value - 1.0 / mean).abs() < 1e-15);
        assert_eq!((k.std, k.terms), (None, 4));
        let g: f64 = (0..4).map(|k| ln_i[k] / lam[k]).sum::<f64>() / 4.0;
        assert!((gao(&lpf).unwrap().value - g).abs() < 1e-15);
        let any = [2, 1, 1, 2, 1];
        let gr = grassberger(&any).unwrap().value;
        assert!((gr - 5f64.ln() / (12.0 / 5.0)).abs() < 1e-15);
    }

    #[test]
    fn iid_estimates_are_biased_low_by_the_known_order_and_the_bias_shrinks() {
        // Uniform over 4 symbols: h = ln 4. Biased low by O(1/ln n): at n = 2e5 within
        // 4/ln n relative (≈ 33%) below h, and never above h by more than 2 std.
        let h = 4f64.ln();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let err_at = |n: usize, rng: &mut Xoshiro256PlusPlus| {
            let x: Vec<u32> = (0..n).map(|_| rng.random_range(0..4)).collect();
            let r = match_rate(&hashed_lpf(&x)).unwrap();
            (r, h - r.kasw.value)
        };
        let (big, big_err) = err_at(200_000, &mut rng);
        let ln_n = 200_000f64.ln();
        assert!(big_err > 0.0 && big_err < 4.0 / ln_n * h, "{big:?}");
        assert!(big.gao.value >= big.kasw.value);
        assert!(big.kasw.value < h + 2.0 * big.kasw.std.unwrap());
        let small_err: f64 = (0..20).map(|_| err_at(1_000, &mut rng).1).sum::<f64>() / 20.0;
        assert!(small_err > big_err, "{small_err} vs {big_err}");
    }

    #[test]
    fn gao_is_never_below_kasw() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        for _ in 0..20 {
            let x: Vec<u32> = (0..500).map(|_| rng.random_range(0..3)).collect();
            let lpf = hashed_lpf(&x);
            assert!(gao(&lpf).unwrap().value >= kasw(&lpf).unwrap().value - 1e-12);
        }
    }

    #[test]
    fn too_short_is_an_error() {
        assert!(kasw(&[0]).is_err());
        assert!(gao(&[]).is_err());
        assert!(grassberger(&[3]).is_err());
    }
}
