//! The per-token loss over many rows: input checks, rows split into fixed chunks run in
//! parallel, and slabs between which the caller's [`Control`] may cancel (one relaxed atomic
//! load per slab) and is told the rows done.

use rayon::prelude::*;

use super::dispatch::{rows_nll, Isa};
use super::path::{Format16, Path16};
use super::row::{Bf16, Fault, F16, F32};
use super::sums::{Sums, Total};
use crate::{Control, Error, Result};

/// Logits of `rows × vocab`, row-major. 16-bit formats are given as their bit patterns.
#[derive(Clone, Copy, Debug)]
pub enum Logits<'a> {
    /// IEEE 754 binary32 values.
    F32(&'a [f32]),
    /// IEEE 754 binary16 bits.
    F16(&'a [u16]),
    /// bfloat16 bits (the top half of an `f32`).
    Bf16(&'a [u16]),
}

impl Logits<'_> {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Logits::F32(x) => x.len(),
            Logits::F16(x) | Logits::Bf16(x) => x.len(),
        }
    }

    /// True if there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn value_bytes(&self) -> usize {
        match self {
            Logits::F32(_) => 4,
            _ => 2,
        }
    }

    fn value(&self, i: usize) -> f32 {
        match self {
            Logits::F32(x) => x[i],
            Logits::F16(x) => super::lanes::f16_to_f32(x[i]),
            Logits::Bf16(x) => super::lanes::bf16_to_f32(x[i]),
        }
    }
}

/// How to compute. How the work runs (threads, cancellation, progress) is the
/// [`Control`]'s business.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// Targets equal to this are skipped (loss 0, not counted).
    pub ignore_index: Option<i64>,
    /// Instruction set; `None` picks the best this CPU has.
    pub isa: Option<Isa>,
    /// How 16-bit rows are summed; `None` takes [`Path16::auto`] for the instruction set and
    /// format
    /// (for tests and benchmarks: both paths meet the same accuracy contract).
    pub path16: Option<Path16>,
}

/// Target class ids: any primitive integer.
pub trait Target: Copy + Into<i128> + Send + Sync {}
impl<T: Copy + Into<i128> + Send + Sync> Target for T {}

/// Logits per parallel task (a few tasks per slab keep both cores busy).
const CHUNK_BYTES: usize = 1 << 20;
/// Logits between two progress reports (and checks of the caller's [`Control`]): ~10 ms at
/// memory speed. Each task of a slab checks too (one atomic load per MiB), so that a slow
/// build or a loaded machine still stops within a task.
pub(super) const SLAB_BYTES: usize = 64 << 20;
/// Column marking an ignored row.
const IGNORED: u32 = u32::MAX;

/// A validated call.
struct Job<'a, T> {
    logits: Logits<'a>,
    vocab: usize,
    targets: &'a [T],
    ignore: Option<i64>,
    isa: Isa,
    /// 16-bit rows go to the look-up table first.
    table: bool,
}

impl<'a, T: Target> Job<'a, T> {
    fn new(
        logits: Logits<'a>,
        vocab: usize,
        targets: &'a [T],
        segments: Option<&[i64]>,
        opts: &Options,
    ) -> Result<Self> {
        if vocab == 0 || vocab >= IGNORED as usize {
            return Err(Error::Invalid(format!(
                "the vocabulary size is {vocab}: it must be between 1 and {}",
                IGNORED - 1
            )));
        }
        if !logits.len().is_multiple_of(vocab) {
            return Err(Error::Invalid(format!(
                "{} logits do not make rows of {vocab}",
                logits.len()
            )));
        }
        let rows = logits.len() / vocab;
        if rows == 0 {
            return Err(Error::Invalid("logits is empty (0 rows)".into()));
        }
        if targets.len() != rows {
            return Err(Error::Invalid(format!(
                "logits has {rows} rows but targets has {} entries: one target per row",
                targets.len()
            )));
        }
        if let Some(s) = segments {
            if s.len() != rows {
                return Err(Error::Invalid(format!(
                    "segments has {} entries but there are {rows} tokens: one segment id per token",
                    s.len()
                )));
            }
        }
        check_targets(targets, vocab, opts.ignore_index)?;
        let isa = pick_isa(opts.isa)?;
        Ok(Job {
            logits,
            vocab,
            targets,
            ignore: opts.ignore_index,
            isa,
            table: match (opts.path16, logits) {
                (Some(path), _) => path == Path16::Table,
                (None, Logits::F32(_)) => false,
                (None, Logits::F16(_)) => Path16::auto(isa, Format16::F16) == Path16::Table,
                (None, Logits::Bf16(_)) => Path16::auto(isa, Format16::Bf16) == Path16::Table,
            },
        })
    }

    fn rows(&self) -> usize {
        self.targets.len()
    }

    fn row_bytes(&self) -> usize {
        self.vocab * self.logits.value_bytes()
    }

    fn chunk_rows(&self) -> usize {
        (CHUNK_BYTES / self.row_bytes()).max(1)
    }

    /// Runs `f` on the slabs' row ranges, in order, on `ctl`'s threads, checking `ctl` between
    /// slabs and reporting the rows done after each.
    fn slabs(
        &self,
        ctl: &Control<'_>,
        mut f: impl FnMut(std::ops::Range<usize>) -> Result<()> + Send,
    ) -> Result<()> {
        let chunk = self.chunk_rows();
        let slab = (SLAB_BYTES / self.row_bytes()).div_ceil(chunk).max(1) * chunk;
        let rows = self.rows();
        ctl.run(|| {
            let mut start = 0;
            while start < rows {
                let end = (start + slab).min(rows);
                f(start..end)?;
                ctl.report(end as u64, rows as u64);
                start = end;
                if start < rows {
                    ctl.check()?;
                }
            }
            Ok(())
        })
    }

    /// Losses of rows `first..first + out.len()` into `out`; returns their target columns.
    fn chunk(&self, first: usize, out: &mut [f64]) -> Result<Vec<u32>> {
        let cols: Vec<u32> = self.targets[first..first + out.len()]
            .iter()
            .map(|&t| match self.ignore {
                Some(i) if t.into() == i128::from(i) => IGNORED,
                _ => t.into() as u32,
            })
            .collect();
        let (a, b) = (first * self.vocab, (first + out.len()) * self.vocab);
        let (isa, table) = (self.isa, self.table);
        match self.logits {
            Logits::F32(x) => rows_nll::<F32>(isa, &x[a..b], self.vocab, &cols, table, out),
            Logits::F16(x) => rows_nll::<F16>(isa, &x[a..b], self.vocab, &cols, table, out),
            Logits::Bf16(x) => rows_nll::<Bf16>(isa, &x[a..b], self.vocab, &cols, table, out),
        }
        .map_err(|(i, fault)| self.fault(first + i, cols[i] as usize, fault))?;
        Ok(cols)
    }

    fn fault(&self, row: usize, target: usize, fault: Fault) -> Error {
        Error::Invalid(match fault {
            Fault::NotFinite(col) => format!(
                "logits[{row}, {col}] is {}: NaN and +inf are errors in a row whose target is \
                 used (-inf is allowed: probability 0)",
                self.logits.value(row * self.vocab + col)
            ),
            Fault::TargetImpossible => format!(
                "logits[{row}, {target}] = -inf is the target's logit: probability 0, an \
                 infinite loss"
            ),
        })
    }
}

fn pick_isa(isa: Option<Isa>) -> Result<Isa> {
    match isa {
        None => Ok(Isa::best()),
        Some(i) if Isa::supported().contains(&i) => Ok(i),
        Some(i) => Err(Error::Invalid(format!(
            "instruction set {} is not available on this CPU",
            i.name()
        ))),
    }
}

/// The first target that is neither a class id nor `ignore`.
fn check_targets<T: Target>(targets: &[T], vocab: usize, ignore: Option<i64>) -> Result<()> {
    let ig = ignore.map(i128::from);
    let bad = targets.iter().position(|&t| {
        let t = t.into();
        Some(t) != ig && !(0..vocab as i128).contains(&t)
    });
    let Some(i) = bad else { return Ok(()) };
    let t = targets[i].into();
    let also = ignore.map_or(String::new(), |v| format!(", or ignore_index = {v}"));
    Err(Error::Invalid(if t < 0 {
        format!(
            "targets[{i}] = {t} is negative: class ids are 0..{}{also}",
            vocab - 1
        )
    } else {
        format!(
            "targets[{i}] = {t} is out of range for {vocab} classes (0..{}{also})",
            vocab - 1
        )
    }))
}

/// First error in task order, so that the position named does not depend on scheduling.
fn first_error<R>(results: Vec<Result<R>>) -> Result<Vec<R>> {
    results.into_iter().collect()
}

/// Per-token loss in nats of `rows = targets.len()` rows of `vocab` logits, written to `out`
/// (0 at ignored positions). Runs on `ctl`'s threads, cancellable between slabs, reporting
/// rows done.
///
/// # Errors
/// A bad shape, target or thread count, a NaN or +inf logit in a used row, a target of
/// probability 0, or cancellation.
pub fn token_nll<T: Target>(
    logits: Logits<'_>,
    vocab: usize,
    targets: &[T],
    opts: &Options,
    out: &mut [f64],
    ctl: &Control<'_>,
) -> Result<()> {
    let job = Job::new(logits, vocab, targets, None, opts)?;
    if out.len() != job.rows() {
        return Err(Error::Invalid(format!(
            "the output has {} entries for {} rows",
            out.len(),
            job.rows()
        )));
    }
    let chunk = job.chunk_rows();
    job.slabs(ctl, |range| {
        let first = range.start;
        let results = out[range]
            .par_chunks_mut(chunk)
            .enumerate()
            .map(|(c, o)| {
                ctl.check()?;
                job.chunk(first + c * chunk, o).map(drop)
            })
            .collect();
        first_error(results).map(drop)
    })
}

/// Count and exact sum of the per-token losses (nats), overall and per segment id
/// (`segments[i]` for token `i`, if given). Ignored tokens are not counted. Runs as
/// [`token_nll`].
///
/// # Errors
/// As [`token_nll`], a segments array of the wrong length, or a loss too large to sum.
pub fn nll_sums<T: Target>(
    logits: Logits<'_>,
    vocab: usize,
    targets: &[T],
    segments: Option<&[i64]>,
    opts: &Options,
    ctl: &Control<'_>,
) -> Result<Sums> {
    let job = Job::new(logits, vocab, targets, segments, opts)?;
    let chunk = job.chunk_rows();
    let mut sums = Sums::new();
    job.slabs(ctl, |range| {
        let starts: Vec<usize> = range.clone().step_by(chunk).collect();
        let results = starts
            .par_iter()
            .map(|&first| {
                ctl.check()?;
                let n = chunk.min(range.end - first);
                let mut nll = vec![0f64; n];
                let cols = job.chunk(first, &mut nll)?;
                let fixed = nll
                    .iter()
                    .zip(&cols)
                    .enumerate()
                    .map(|(i, (&v, &c))| match c {
                        IGNORED => Ok(None),
                        _ => Total::fixed_of(v)
                            .map(Some)
                            .ok_or_else(|| too_large(first + i, v)),
                    })
                    .collect::<Result<Vec<_>>>()?;
                Sums::of_tokens(&fixed, segments.map(|s| &s[first..first + n]))
            })
            .collect();
        for part in first_error(results)? {
            sums.merge(&part)?;
        }
        Ok(())
    })?;
    Ok(sums)
}

fn too_large(i: usize, nats: f64) -> Error {
    Error::Invalid(format!(
        "the loss of token {i} is {nats:e} nats, beyond the 2^62 nats an exact sum accepts"
    ))
}

/// Count and exact sum of `-logprobs` (per-token log-probabilities in nats, each finite and
/// `<= 0`), overall and per segment id. One thread; `ctl` is checked between slabs and told
/// the tokens done.
///
/// # Errors
/// An empty input, a segments array of the wrong length, a log-probability that is not
/// finite and `<= 0`, or cancellation.
pub fn logprob_sums<F: Copy + Into<f64>>(
    logprobs: &[F],
    segments: Option<&[i64]>,
    ctl: &Control<'_>,
) -> Result<Sums> {
    if logprobs.is_empty() {
        return Err(Error::Invalid("logprobs is empty".into()));
    }
    if let Some(s) = segments {
        if s.len() != logprobs.len() {
            return Err(Error::Invalid(format!(
                "segments has {} entries but logprobs has {}: one segment id per token",
                s.len(),
                logprobs.len()
            )));
        }
    }
    let slab = SLAB_BYTES / 8;
    let mut sums = Sums::new();
    for (s, lp) in logprobs.chunks(slab).enumerate() {
        let first = s * slab;
        let fixed = lp
            .iter()
            .enumerate()
            .map(|(i, &v)| {
                let v: f64 = v.into();
                if !(v <= 0.0 && v > f64::NEG_INFINITY) {
                    return Err(Error::Invalid(format!(
                        "logprobs[{}] = {v}: log-probabilities must be finite and <= 0",
                        first + i
                    )));
                }
                Total::fixed_of(-v)
                    .map(Some)
                    .ok_or_else(|| too_large(first + i, -v))
            })
            .collect::<Result<Vec<_>>>()?;
        sums.merge(&Sums::of_tokens(
            &fixed,
            segments.map(|x| &x[first..first + lp.len()]),
        )?)?;
        let done = first + lp.len();
        ctl.report(done as u64, logprobs.len() as u64);
        if done < logprobs.len() {
            ctl.check()?;
        }
    }
    Ok(sums)
}
