//! Tests of the cross-entropy kernels and reductions against a plain `f64` computation.

use super::lanes::f16_to_f32;
use super::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::driver::SLAB_BYTES;
use crate::{Control, Error, Result};

/// xorshift64*: reproducible inputs without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The loss in `f64`: `log1p(Σ_{x<m} e^(x-m) + k - 1) + m - x_t`.
fn reference(row: &[f32], t: usize) -> f64 {
    let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let k = row.iter().filter(|&&x| x as f64 == m).count() as f64;
    let r: f64 = row
        .iter()
        .map(|&x| x as f64)
        .filter(|&x| x < m)
        .map(|x| (x - m).exp())
        .sum();
    (r + (k - 1.0)).ln_1p() + (m - row[t] as f64)
}

fn nlls(logits: Logits<'_>, vocab: usize, targets: &[i64], isa: Isa) -> Result<Vec<f64>> {
    nlls_on(logits, vocab, targets, isa, None)
}

/// Both ways of summing 16-bit rows, forced.
const PATHS: [Path16; 2] = [Path16::Table, Path16::Widen];

/// [`nlls`] with the 16-bit path forced (`None`: this CPU's default).
fn nlls_on(
    logits: Logits<'_>,
    vocab: usize,
    targets: &[i64],
    isa: Isa,
    path16: Option<Path16>,
) -> Result<Vec<f64>> {
    let mut out = vec![0.0; targets.len()];
    let opts = Options {
        isa: Some(isa),
        path16,
        ..Options::default()
    };
    token_nll(logits, vocab, targets, &opts, &mut out, &Control::default())?;
    Ok(out)
}

fn assert_close(got: &[f64], rows: &[f32], vocab: usize, targets: &[i64], what: &str) {
    for (i, &g) in got.iter().enumerate() {
        let want = reference(&rows[i * vocab..(i + 1) * vocab], targets[i] as usize);
        let err = (g - want).abs() / want.abs().max(f64::MIN_POSITIVE);
        assert!(
            err <= 1e-6 || g == want,
            "{what} row {i}: {g:e} vs {want:e} (rel {err:e})"
        );
    }
}

/// Random f32 values, f16 bits and values, bf16 bits and values.
type AllTypes = (Vec<f32>, Vec<u16>, Vec<f32>, Vec<u16>, Vec<f32>);

/// Random f32 rows (scale `s`) and their f16 and bf16 roundings (bits and widened values).
fn rows_all_types(rng: &mut Rng, n: usize, s: f32) -> AllTypes {
    let f32s: Vec<f32> = (0..n).map(|_| rng.unit() * s).collect();
    let bf: Vec<u16> = f32s.iter().map(|x| (x.to_bits() >> 16) as u16).collect();
    let bfw: Vec<f32> = bf
        .iter()
        .map(|&b| f32::from_bits(u32::from(b) << 16))
        .collect();
    // f16: random sign, exponent and mantissa: magnitudes 2^-6 .. 2^6.
    let h: Vec<u16> = (0..n)
        .map(|_| {
            let e = 9 + rng.below(13) as u16;
            ((rng.next() & 0x8000) as u16) | (e << 10) | (rng.next() & 0x3ff) as u16
        })
        .collect();
    let hw: Vec<f32> = h.iter().map(|&b| f16_to_f32(b)).collect();
    (f32s, h, hw, bf, bfw)
}

#[test]
fn matches_f64_for_every_type_isa_and_shape() {
    let mut rng = Rng(7);
    for isa in Isa::supported() {
        for &vocab in &[1usize, 2, 3, 17, 64, 100, 2047, 2048, 2049, 5003] {
            let rows = 3 + 3000 / vocab;
            for &s in &[1f32, 30.0, 1e4] {
                let (x, h, hw, b, bw) = rows_all_types(&mut rng, rows * vocab, s);
                let t: Vec<i64> = (0..rows).map(|_| rng.below(vocab) as i64).collect();
                let what = format!("{isa:?} V={vocab} s={s}");
                assert_close(
                    &nlls(Logits::F32(&x), vocab, &t, isa).unwrap(),
                    &x,
                    vocab,
                    &t,
                    &what,
                );
                for path in PATHS {
                    let what = format!("{what} {path:?}");
                    let got = nlls_on(Logits::F16(&h), vocab, &t, isa, Some(path)).unwrap();
                    assert_close(&got, &hw, vocab, &t, &what);
                    let got = nlls_on(Logits::Bf16(&b), vocab, &t, isa, Some(path)).unwrap();
                    assert_close(&got, &bw, vocab, &t, &what);
                }
            }
        }
    }
}

#[test]
fn hard_rows() {
    let ninf = f32::NEG_INFINITY;
    let rows: Vec<(Vec<f32>, usize)> = vec![
        (vec![0.0, -20.345_678], 0),     // confident and right: loss ~ 1.5e-9
        (vec![20.123457, 0.1234567], 0), // x - max would round in f32
        (vec![0.0, -60.0, -61.5], 0),    // margin > 41 nats: the rescue path
        (vec![0.0, -95.0], 0),           // loss below f32's normal range
        (vec![41.5, 0.0, 0.3, -0.7], 0), // R made of terms 60 octaves down: the largest error
        (vec![0.0, -95.0, -200.0], 1),
        (vec![1e4, -1e4, 1e4 - 3.0], 2),
        (vec![5.0, 5.0, 5.0], 1), // ties: loss ln 3
        (vec![5.0, 5.0, -1.0], 0),
        (vec![ninf, 1.0, ninf, 2.0], 1), // -inf is probability 0
        (vec![1e6, 1e6 - 1.5, -1e6], 0), // the top of the fast range
        (vec![-1e6, -1e6 - 2.0, -1e6 - 3.0], 0),
        (vec![2e6, 2e6 - 1.0, -2e6], 1), // beyond it: exact path
        (vec![-2e6, -2e6 - 2.0, -2e6 - 3.0], 0),
        (vec![3e6, 3e6 - 1.0, -3e6], 1),
        (vec![-3e6, -3e6 - 2.0], 0),
        (vec![1e30, 0.0], 1),
        (vec![3e38, -3e38], 0),
    ];
    for isa in Isa::supported() {
        for (row, t) in &rows {
            // Repeated so that rows span several blocks and the raise paths run.
            for reps in [1usize, 1500] {
                let row: Vec<f32> = (0..reps).flat_map(|_| row.iter().copied()).collect();
                let got = nlls(Logits::F32(&row), row.len(), &[*t as i64], isa).unwrap();
                assert_close(
                    &got,
                    &row,
                    row.len(),
                    &[*t as i64],
                    &format!("{isa:?} {row:?}"),
                );
            }
        }
    }
}

/// `x` as IEEE binary16 bits; `x` must be representable (0, ±inf, NaN, a normal or subnormal
/// f16).
fn f16_bits(x: f32) -> u16 {
    let bits = match x {
        x if x.is_nan() => 0x7e00,
        x if x.is_infinite() => ((x.to_bits() >> 16) & 0x8000) as u16 | 0x7c00,
        0.0 => 0,
        // Subnormal: |x| / 2^-24 is the mantissa.
        x if x.abs() < 6.103_515_6e-5 => {
            ((x.to_bits() >> 16) & 0x8000) as u16 | (x.abs() * 16_777_216.0) as u16
        }
        x => {
            (((x.to_bits() >> 16) & 0x8000) | (((x.to_bits() & 0x7fff_ffff) >> 13) - (112 << 10)))
                as u16
        }
    };
    assert_eq!(f16_to_f32(bits).to_bits(), x.to_bits(), "{x} is not an f16");
    bits
}

/// 16-bit rows go through the look-up table of `table.rs`: exact to `f64` rounding where it
/// applies, and left to the vector kernel (within 1e-6) where the table's range ends.
#[test]
fn sixteen_bit_rows_by_table() {
    let ninf = f32::NEG_INFINITY;
    // (row, target, within the table's range)
    let rows: Vec<(Vec<f32>, usize, bool)> = vec![
        (vec![0.0, -20.375], 0, true),      // tiny loss
        (vec![0.0, -60.0, -61.5], 0, true), // tinier: R ~ 1e-26
        (vec![5.0, 5.0, 5.0], 1, true),     // ties: ln 3
        (vec![ninf, 1.0, ninf, 2.0], 1, true),
        (vec![688.0, 684.0, -3.0], 1, true), // near the top of the table
        (vec![-600.0, -604.0, -608.0], 1, true), // and the bottom
        (vec![-704.0, -700.0, -696.0], 0, false), // the others' sum is below 1e-270
        (vec![712.0, 700.0], 1, false),      // e^712 overflows f64
        (vec![704.0, 700.0, -3.0], 1, false), // 3000 times e^704 overflows
        (vec![-800.0, -804.0, -808.0], 2, false), // the others underflow
        (vec![3.0], 0, false),               // no other entry: S = 0
        (vec![ninf, 2.0], 1, false),         // nor any finite one
    ];
    for isa in Isa::supported() {
        for (row, t, in_range) in &rows {
            for reps in [1usize, 3000] {
                let row: Vec<f32> = (0..reps).flat_map(|_| row.iter().copied()).collect();
                let b: Vec<u16> = row.iter().map(|x| (x.to_bits() >> 16) as u16).collect();
                assert!(b
                    .iter()
                    .zip(&row)
                    .all(|(&b, &x)| x.is_nan() || f32::from_bits(u32::from(b) << 16) == x));
                let h: Vec<u16> = row.iter().map(|&x| f16_bits(x)).collect();
                let want = reference(&row, *t);
                for (name, logits) in [("bf16", Logits::Bf16(&b)), ("f16", Logits::F16(&h))] {
                    let table = Some(Path16::Table);
                    let got = nlls_on(logits, row.len(), &[*t as i64], isa, table).unwrap()[0];
                    let err = (got - want).abs() / want.abs().max(f64::MIN_POSITIVE);
                    let tol = if *in_range { 1e-13 } else { 1e-6 };
                    assert!(
                        err <= tol || got == want,
                        "{isa:?} {name} {:?}.. x{reps}: {got:e} vs {want:e}",
                        &row[..row.len().min(3)]
                    );
                }
            }
        }
    }
    // Random rows: the table's error is that of f64 arithmetic.
    let mut rng = Rng(11);
    for vocab in [2usize, 7, 8, 9, 1000, 50_257] {
        let rows = 2 + 20_000 / vocab;
        let (_, h, hw, b, bw) = rows_all_types(&mut rng, rows * vocab, 30.0);
        let t: Vec<i64> = (0..rows).map(|_| rng.below(vocab) as i64).collect();
        for (logits, wide) in [(Logits::F16(&h), &hw), (Logits::Bf16(&b), &bw)] {
            let got = nlls_on(logits, vocab, &t, Isa::best(), Some(Path16::Table)).unwrap();
            for (i, &g) in got.iter().enumerate() {
                let want = reference(&wide[i * vocab..(i + 1) * vocab], t[i] as usize);
                assert!(
                    (g - want).abs() <= 1e-13 * want.abs(),
                    "V={vocab}: {g} vs {want}"
                );
            }
        }
    }
}

#[test]
fn growing_maximum_across_blocks() {
    // Each block raises the maximum: the running sum is rescaled every block.
    let row: Vec<f32> = (0..20_000)
        .map(|i| i as f32 * 0.001 + ((i * 7919) % 13) as f32)
        .collect();
    for isa in Isa::supported() {
        for t in [0usize, 19_999, 12_345] {
            let got = nlls(Logits::F32(&row), row.len(), &[t as i64], isa).unwrap();
            assert_close(&got, &row, row.len(), &[t as i64], "growing");
        }
    }
}

/// The one-pass blocks of `row.rs` (online normalisation): a later block raising the maximum
/// a little (rescaled) or beyond the one-pass limit of 64 (two passes), tying it, and
/// confident rows whose `k + R` is below e (those blocks summed again with the maximum
/// masked), for `f32` and widened `f16`, against the `f64` reference.
#[test]
fn one_pass_blocks_raise_tie_and_jump() {
    let mut rng = Rng(23);
    let n = 3 * 2048 + 100;
    // Quarter-integers in [-4, 4): exact in f16.
    let base: Vec<f32> = (0..n).map(|_| rng.below(32) as f32 * 0.25 - 4.0).collect();
    // (entries set, target)
    let cases: Vec<(Vec<(usize, f32)>, usize)> = vec![
        (vec![(5000, 30.0)], 5000),               // confident, raised in block 2
        (vec![(5000, 30.0)], 7),                  // the same, wrong target
        (vec![(3000, 30.0), (5000, 30.0)], 3000), // tie across one-pass blocks: ln 2 + ..
        (vec![(10, 40.0), (4500, 40.0)], 10),     // tie with the first block's maximum
        (vec![(10, 8.0), (4500, 8.0), (6200, 8.0)], 4500), // ties, k + R above e
        (vec![(2100, 20.0), (4200, 63.5)], 4200), // raised twice, near the limit
        (vec![(2100, 2.0), (4200, 120.0)], 2100), // a jump beyond it: two passes
        (vec![(2100, 20.0), (6200, 21.0)], 2100), // raised a little, loss ~1.3
        (vec![(0, -10.0), (2048, 5.0)], 2048),    // raised at the first one-pass block
    ];
    for isa in Isa::supported() {
        for (set, t) in &cases {
            let mut row = base.clone();
            for &(i, v) in set {
                row[i] = v;
            }
            let what = format!("{isa:?} {set:?} target {t}");
            let got = nlls(Logits::F32(&row), n, &[*t as i64], isa).unwrap();
            assert_close(&got, &row, n, &[*t as i64], &what);
            let h: Vec<u16> = row.iter().map(|&x| f16_bits(x)).collect();
            let got = nlls_on(Logits::F16(&h), n, &[*t as i64], isa, Some(Path16::Widen));
            assert_close(&got.unwrap(), &row, n, &[*t as i64], &format!("{what} f16"));
        }
    }
}

/// Widened float16 blocks take the next block's range beside their sums (`row.rs`,
/// `lag_ranges`): the next block whole, a last block shorter than a block (its full groups, the
/// last one read again, and a tail of fewer than a group's values), and blocks of negative
/// values only (whose range the block then takes itself). A confident, correct target
/// placed there (loss ~1e-5, where `log1p` needs the maximum masked and counted exactly),
/// alone or tied with an entry of the first block, against the `f64` reference: a range
/// that misses the maximum breaks the masking, and the loss (tried: a tail left out, the
/// last full group not read).
#[test]
fn lagged_ranges_of_widened_float16_blocks() {
    let mut rng = Rng(29);
    for &v in &[
        2048usize + 64,
        4096 + 1,
        4096 + 63,
        4096 + 64,
        4096 + 65,
        4096 + 1000,
        6143,
        6144,
    ] {
        for neg in [false, true] {
            // Multiples of 1/64 in [-8, 8) (or [-32, -16)): exact in f16.
            let base: Vec<f32> = (0..v)
                .map(|_| rng.below(1024) as f32 / 64.0 - if neg { 32.0 } else { 8.0 })
                .collect();
            let top = if neg { -2.0 } else { 28.0 };
            let last = v - 1;
            let last_group = 4096 + v.saturating_sub(4097) / 64 * 64;
            for t in [2048, 2048 + 63, 4096, 4096 + 31, last_group.min(last), last] {
                if t >= v {
                    continue;
                }
                for tie in [None, Some(100)] {
                    let mut row = base.clone();
                    row[t] = top;
                    if let Some(i) = tie {
                        row[i] = top;
                    }
                    let h: Vec<u16> = row.iter().map(|&x| f16_bits(x)).collect();
                    for isa in Isa::supported() {
                        let got =
                            nlls_on(Logits::F16(&h), v, &[t as i64], isa, Some(Path16::Widen));
                        let what = format!("{isa:?} V={v} neg={neg} target {t} tie {tie:?}");
                        assert_close(&got.unwrap(), &row, v, &[t as i64], &what);
                    }
                }
            }
        }
    }
}

#[test]
fn bad_inputs_name_their_position() {
    let msg = |e: Error| e.to_string();
    let x = [0.0f32, 1.0, f32::NAN, 2.0, 0.0, 0.0];
    let e = nlls(Logits::F32(&x), 3, &[0, 1], Isa::best()).unwrap_err();
    assert!(msg(e).starts_with("logits[0, 2] is NaN"));
    // The same NaN in an ignored row is never read.
    let opts = Options {
        ignore_index: Some(-100),
        ..Options::default()
    };
    let mut out = [9.0; 2];
    token_nll(
        Logits::F32(&x),
        3,
        &[-100i64, 1],
        &opts,
        &mut out,
        &Control::default(),
    )
    .unwrap();
    assert_eq!(out[0], 0.0);
    let y = [0.0f32, 1.0, 2.0, 0.0, f32::INFINITY, 0.0];
    assert!(
        msg(nlls(Logits::F32(&y), 3, &[0, 1], Isa::best()).unwrap_err())
            .starts_with("logits[1, 1] is inf")
    );
    let z = [0.0f32, f32::NEG_INFINITY];
    assert!(
        msg(nlls(Logits::F32(&z), 2, &[1], Isa::best()).unwrap_err())
            .starts_with("logits[0, 1] = -inf is the target's logit")
    );
    let ok = [0.0f32; 6];
    let e = nlls(Logits::F32(&ok), 3, &[0, 3], Isa::best()).unwrap_err();
    assert_eq!(
        msg(e),
        "targets[1] = 3 is out of range for 3 classes (0..2)"
    );
    let e = nlls(Logits::F32(&ok), 3, &[-1, 0], Isa::best()).unwrap_err();
    assert!(msg(e).starts_with("targets[0] = -1 is negative"));
    assert!(nlls(Logits::F32(&ok), 3, &[0], Isa::best()).is_err());
    assert!(nlls(Logits::F32(&[]), 3, &[], Isa::best()).is_err());
    assert!(nlls(Logits::F32(&ok), 0, &[], Isa::best()).is_err());
    assert!(logprob_sums(&[-1.0f64, 0.5], None, &Control::default()).is_err());
    assert!(logprob_sums(&[f32::NAN], None, &Control::default()).is_err());
}

/// NaN is found through the sum, not by the first pass: wherever it sits (a block that
/// holds the maximum or not, after the maximum in its lane so that it hides it, in a block
/// of -inf only), for every type and instruction set, the error names its first position.
#[test]
fn nan_is_found_wherever_it_is() {
    let v = 3 * 2048 + 77;
    let base: Vec<f32> = (0..v).map(|i| ((i * 7919) % 1000) as f32 * 0.01).collect();
    let ninf = f32::NEG_INFINITY;
    // (values written, NaN column)
    let cases: Vec<(Vec<(usize, f32)>, usize)> = vec![
        (vec![], 5),                                       // first block, below the maximum
        (vec![], 4000),                                    // a block that does not hold the maximum
        (vec![(4000, 50.0)], 4008), // after the maximum in its lane: hides it
        (vec![(6000, 50.0), (6001, 50.0)], 6005), // a block with ties at the maximum
        (vec![], v - 1),            // the padded tail
        ((2048..4096).map(|i| (i, ninf)).collect(), 3000), // a block of -inf
        ((0..v).map(|i| (i, ninf)).collect(), 100), // a row of -inf
    ];
    for isa in Isa::supported() {
        for (writes, col) in &cases {
            let mut row = base.clone();
            for &(i, x) in writes {
                row[i] = x;
            }
            row[*col] = f32::NAN;
            let b16: Vec<u16> = row.iter().map(|x| (x.to_bits() >> 16) as u16).collect();
            // f16 by truncation (these values are 0, -inf, NaN or normal f16 numbers).
            let h16: Vec<u16> = row
                .iter()
                .map(|&x| match x {
                    x if x.is_nan() => 0x7e00,
                    x if x == ninf => 0xfc00,
                    0.0 => 0,
                    x => ((x.to_bits() >> 13) - (112 << 10)) as u16,
                })
                .collect();
            let want = format!("logits[0, {col}] is NaN");
            let all = [
                ("f32", Logits::F32(&row)),
                ("bf16", Logits::Bf16(&b16)),
                ("f16", Logits::F16(&h16)),
            ];
            for (name, logits) in all {
                for path in PATHS {
                    let e = nlls_on(logits, v, &[1], isa, Some(path));
                    let e = e.unwrap_err().to_string();
                    assert!(
                        e.starts_with(&want),
                        "{isa:?} {path:?} {name} NaN at {col}: {e}"
                    );
                }
            }
        }
    }
}

#[test]
fn sums_are_exact_whatever_the_threads_and_chunking() {
    let mut rng = Rng(3);
    let (vocab, rows) = (1000, 3000);
    let x: Vec<f32> = (0..rows * vocab).map(|_| rng.unit() * 8.0).collect();
    let t: Vec<i64> = (0..rows)
        .map(|i| {
            if i % 10 == 3 {
                -100
            } else {
                rng.below(vocab) as i64
            }
        })
        .collect();
    let seg: Vec<i64> = (0..rows as i64).map(|i| i / 700).collect();
    let run = |lo: usize, hi: usize, threads: usize| {
        let opts = Options {
            ignore_index: Some(-100),
            ..Options::default()
        };
        let logits = Logits::F32(&x[lo * vocab..hi * vocab]);
        nll_sums(
            logits,
            vocab,
            &t[lo..hi],
            Some(&seg[lo..hi]),
            &opts,
            &Control::with_threads(Some(threads)),
        )
        .unwrap()
    };
    let whole = run(0, rows, 1);
    assert_eq!(whole.total().count, 2700);
    assert_eq!(run(0, rows, 2), whole);
    assert_eq!(run(0, rows, 3), whole);
    let mut pieces = run(0, 1234, 2);
    pieces.merge(&run(1234, 1235, 1)).unwrap();
    pieces.merge(&run(1235, rows, 2)).unwrap();
    assert_eq!(pieces, whole);
    let mut per_token = vec![0.0; rows];
    let opts = Options {
        ignore_index: Some(-100),
        ..Options::default()
    };
    token_nll(
        Logits::F32(&x),
        vocab,
        &t,
        &opts,
        &mut per_token,
        &Control::default(),
    )
    .unwrap();
    let plain: f64 = per_token.iter().sum();
    assert!((whole.total().nats() - plain).abs() < 1e-9 * plain);
    let seg0: f64 = per_token[..700].iter().sum();
    assert!((whole.segments()[&0].nats() - seg0).abs() < 1e-9 * seg0);
}

#[test]
fn cancel_interrupts_between_slabs() {
    let x = vec![0f32; 2 * SLAB_BYTES / 4]; // two slabs of f32
    let t = vec![0i64; x.len() / 4096];
    let rows = t.len() as u64;
    // Cancelled by the report after the first slab: the second never runs.
    let flag = AtomicBool::new(false);
    let seen = Mutex::new(Vec::new());
    let stop = |d, t| {
        seen.lock().unwrap().push((d, t));
        flag.store(true, Ordering::Relaxed);
    };
    let ctl = Control {
        threads: Some(2),
        cancel: Some(&flag),
        progress: Some(&stop),
    };
    let mut out = vec![0.0; t.len()];
    let e = token_nll(
        Logits::F32(&x),
        4096,
        &t,
        &Options::default(),
        &mut out,
        &ctl,
    );
    assert_eq!(e, Err(Error::Cancelled));
    assert_eq!(*seen.lock().unwrap(), vec![(rows / 2, rows)]);
    // Uncancelled, every slab is reported, ending at the total.
    let seen = Mutex::new(Vec::new());
    let record = |d, t| seen.lock().unwrap().push((d, t));
    let ctl = Control {
        progress: Some(&record),
        ..Control::default()
    };
    let sums = nll_sums(Logits::F32(&x), 4096, &t, None, &Options::default(), &ctl).unwrap();
    assert_eq!(sums.total().count, rows);
    assert_eq!(*seen.lock().unwrap(), vec![(rows / 2, rows), (rows, rows)]);
}

#[test]
fn logprob_sums_stop_between_slabs() {
    let lp = vec![-0.5f64; 3 * (SLAB_BYTES / 8) / 2]; // a slab and a half
    let n = lp.len() as u64;
    let flag = AtomicBool::new(false);
    let stop = |d, t| {
        assert_eq!((d, t), ((SLAB_BYTES / 8) as u64, n));
        flag.store(true, Ordering::Relaxed);
    };
    let ctl = Control {
        cancel: Some(&flag),
        progress: Some(&stop),
        ..Control::default()
    };
    assert_eq!(logprob_sums(&lp, None, &ctl), Err(Error::Cancelled));
    let s = logprob_sums(&lp, None, &Control::default()).unwrap();
    assert_eq!(s.total().count, n);
}

#[test]
fn thread_counts_out_of_range_are_refused() {
    let x = [0f32; 6];
    for threads in [0, crate::control::MAX_THREADS + 1] {
        let mut out = [0.0; 2];
        let ctl = Control::with_threads(Some(threads));
        let e = token_nll(
            Logits::F32(&x),
            3,
            &[0i64, 1],
            &Options::default(),
            &mut out,
            &ctl,
        );
        assert!(e.unwrap_err().to_string().starts_with("threads = "));
    }
}

#[test]
fn logprob_sums_equal_logit_sums() {
    let lp = [-0.5f32, -1.25, 0.0, -3.0];
    let s = logprob_sums(&lp, Some(&[1, 1, 2, 1]), &Control::default()).unwrap();
    assert_eq!(s.total().count, 4);
    assert_eq!(s.total().nats(), 4.75);
    assert_eq!(s.segments()[&1].nats(), 4.75);
    assert_eq!(s.segments()[&2].count, 1);
}

/// The two 16-bit paths, forced, on rows with the formats' extremes: each within 1e-6 of the
/// `f64` reference on the exactly widened values, hence of each other; the same errors for
/// NaN, +inf and an impossible target; sums bit-identical for any thread count on each path.
#[test]
fn both_sixteen_bit_paths_on_extremes() {
    let (ninf, max16) = (f32::NEG_INFINITY, 65504.0f32);
    let sub16 = f16_to_f32(1); // 2^-24, the smallest float16 subnormal
    let sub16_max = f16_to_f32(0x3ff); // the largest subnormal
    let rows: Vec<(Vec<f32>, usize)> = vec![
        (vec![max16, -max16, 0.0], 0), // loss 1/e^65504: 0 to f64 accuracy
        (vec![max16, max16 - 32.0, -max16], 1), // the top of the range
        (vec![-max16, -max16 + 32.0, -max16 + 64.0], 0), // its bottom, beyond the table
        (vec![sub16, -sub16, sub16_max, 0.0], 2), // subnormals
        (vec![sub16, 0.0, -sub16], 0),
        (vec![ninf, 1.0, ninf, sub16], 3), // -inf: probability 0
        (vec![ninf, max16, -max16], 2),
        (vec![3.0, 3.0, ninf, -2.0], 1), // ties
        (vec![0.0, -20.375, -60.0], 0),  // confident: the rescue path of the kernel
    ];
    for isa in Isa::supported() {
        for (row, t) in &rows {
            for reps in [1usize, 2500] {
                let row: Vec<f32> = (0..reps).flat_map(|_| row.iter().copied()).collect();
                let h: Vec<u16> = row.iter().map(|&x| f16_bits(x)).collect();
                // bfloat16 keeps these values' top bits: compare with what it holds.
                let b: Vec<u16> = row.iter().map(|x| (x.to_bits() >> 16) as u16).collect();
                let bw: Vec<f32> = b
                    .iter()
                    .map(|&b| f32::from_bits(u32::from(b) << 16))
                    .collect();
                let tt = [*t as i64];
                for (name, logits, wide) in [
                    ("f16", Logits::F16(&h), &row),
                    ("bf16", Logits::Bf16(&b), &bw),
                ] {
                    let want = reference(wide, *t);
                    let mut got = [0.0; 2];
                    for (g, path) in got.iter_mut().zip(PATHS) {
                        *g = nlls_on(logits, row.len(), &tt, isa, Some(path)).unwrap()[0];
                        let err = (*g - want).abs() / want.abs().max(f64::MIN_POSITIVE);
                        assert!(
                            err <= 1e-6 || *g == want,
                            "{isa:?} {path:?} {name} {:?} x{reps}: {g:e} vs {want:e}",
                            &row[..row.len().min(4)]
                        );
                    }
                    let gap = (got[0] - got[1]).abs();
                    assert!(gap <= 1e-6 * want.abs() || got[0] == got[1], "{got:?}");
                }
            }
        }
    }
    // Errors: NaN and +inf name their column, a -inf target is impossible, on both paths.
    let cases: [(&[f32], usize, &str); 3] = [
        (&[1.0, f32::NAN, max16], 0, "logits[0, 1] is NaN"),
        (&[1.0, -max16, f32::INFINITY], 0, "logits[0, 2] is inf"),
        (&[1.0, ninf, sub16], 1, "logits[0, 1] = -inf is the target"),
    ];
    for isa in Isa::supported() {
        for (row, t, want) in cases {
            let h: Vec<u16> = row.iter().map(|&x| f16_bits(x)).collect();
            let b: Vec<u16> = row.iter().map(|x| (x.to_bits() >> 16) as u16).collect();
            for logits in [Logits::F16(&h), Logits::Bf16(&b)] {
                for path in PATHS {
                    let e = nlls_on(logits, row.len(), &[t as i64], isa, Some(path));
                    let e = e.unwrap_err().to_string();
                    assert!(e.starts_with(want), "{isa:?} {path:?} {e}");
                }
            }
        }
    }
    // Deterministic on each path: the same sums for 1, 2 and 3 threads.
    let mut rng = Rng(5);
    let (vocab, n) = (3000, 400);
    let (_, h, _, b, _) = rows_all_types(&mut rng, vocab * n, 20.0);
    let t: Vec<i64> = (0..n).map(|_| rng.below(vocab) as i64).collect();
    for path in PATHS {
        for logits in [Logits::F16(&h), Logits::Bf16(&b)] {
            let opts = Options {
                path16: Some(path),
                ..Options::default()
            };
            let run = |threads| {
                nll_sums(
                    logits,
                    vocab,
                    &t,
                    None,
                    &opts,
                    &Control::with_threads(Some(threads)),
                )
                .unwrap()
            };
            let one = run(1);
            assert_eq!(run(2), one, "{path:?}");
            assert_eq!(run(3), one, "{path:?}");
        }
    }
}

/// The CPU-family rule of `path.rs` reads cpuid's fields as the vendors document them.
#[test]
fn family_and_model_from_cpuid() {
    // Zen 1 EPYC 7601: family 0x17 model 0x01; Zen 3 EPYC 7xx3: 0x19 model 0x01; Zen 2
    // EPYC 7xx2: 0x17 model 0x31; Intel Skylake-SP: family 6 model 0x55.
    assert_eq!(path::family_model(0x0080_0f12), (0x17, 0x01));
    assert_eq!(path::family_model(0x00a0_0f11), (0x19, 0x01));
    assert_eq!(path::family_model(0x0083_0f10), (0x17, 0x31));
    assert_eq!(path::family_model(0x0005_0654), (6, 0x55));
    for format in [Format16::F16, Format16::Bf16] {
        assert_eq!(Path16::auto(Isa::Portable, format), Path16::Table);
    }
    assert_eq!(Path16::auto(Isa::Avx512, Format16::F16), Path16::Widen);
    // bfloat16's table stays ahead of the kernel on every CPU measured.
    assert_eq!(Path16::auto(Isa::Avx2, Format16::Bf16), Path16::Table);
    assert_eq!(Path16::auto(Isa::Avx512, Format16::Bf16), Path16::Table);
}

/// The AVX-512 kernels are compiled into every x86_64 build and tested (every test above
/// loops over [`Isa::supported`]) wherever the CPU has AVX-512F and BW: nothing hides them.
#[test]
fn avx512_is_tested_where_the_cpu_has_it() {
    #[cfg(target_arch = "x86_64")]
    assert_eq!(
        Isa::supported().contains(&Isa::Avx512),
        is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw")
    );
    assert_eq!(Isa::supported().last(), Some(&Isa::Portable));
}

/// The 16-bit block range of the widened path, read off integer extremes of the bit
/// patterns, against the widened values compared as floats: the maximum exactly, the
/// minimum bound never above the true minimum, NaN shown wherever it is, for both formats,
/// on every instruction set, at lengths around the vector widths.
#[test]
fn sixteen_bit_range_from_bit_patterns() {
    use super::lanes::{bf16_to_f32, range16};
    let mut rng = Rng(23);
    let specials: [u16; 12] = [
        0x0000, 0x8000, 0x0001, 0x8001, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x3c00, 0xbc00, 0x7f80,
        0xff80,
    ];
    let nans: [u16; 4] = [0x7e00, 0xfe00, 0x7fc0, 0xffc1];
    for isa in Isa::supported() {
        for len in [1usize, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 200, 2048] {
            for trial in 0..40 {
                let mut xs: Vec<u16> = (0..len)
                    .map(|_| match rng.below(4) {
                        0 => specials[rng.below(specials.len())],
                        _ => rng.next() as u16,
                    })
                    .collect();
                // Every fourth trial all one sign, every eighth with a NaN.
                if trial % 4 == 1 {
                    xs.iter_mut().for_each(|x| *x |= 0x8000);
                } else if trial % 4 == 2 {
                    xs.iter_mut().for_each(|x| *x &= 0x7fff);
                }
                if trial % 8 == 3 {
                    let i = rng.below(len);
                    xs[i] = nans[rng.below(nans.len())];
                }
                let e = dispatch::extremes16_on(isa, &xs);
                for (name, widen) in [
                    ("f16", f16_to_f32 as fn(u16) -> f32),
                    ("bf16", bf16_to_f32 as fn(u16) -> f32),
                ] {
                    let v: Vec<f32> = xs.iter().map(|&x| widen(x)).collect();
                    let (top, low) = range16(e, widen);
                    if v.iter().any(|x| x.is_nan()) {
                        assert!(top.is_nan() || low.is_nan(), "{isa:?} {name} {xs:x?}");
                        continue;
                    }
                    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let min = v.iter().copied().fold(f32::INFINITY, f32::min);
                    assert_eq!(top, max, "{isa:?} {name} {xs:x?}");
                    assert!(low <= min, "{isa:?} {name} {xs:x?}: {low} > {min}");
                    if min < 0.0 {
                        assert_eq!(low, min, "{isa:?} {name} {xs:x?}");
                    }
                }
            }
        }
    }
}
