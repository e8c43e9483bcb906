//! N-gram counting: numpy token arrays in, profiles and counts out, through [`detached`]
//! (GIL released, Ctrl-C and progress polled from the calling thread).

use fastentropy_core::CountOptions;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

use crate::array::{into_arrays, with_slice, IntArray, Pairs};
use crate::error::CoreError;
use crate::npy::NpyWriter;
use crate::run::detached;

/// `(ngrams[rows, order], counts[rows])`.
type MostCommon<'py> = (Bound<'py, PyArray2<u64>>, Bound<'py, PyArray1<u64>>);

/// The n-gram counts of one order (the result of `count_ngrams`).
#[pyclass(frozen, module = "fastentropy._core", name = "NgramCounts")]
pub struct NgramCounts(fastentropy_core::NgramCounts);

#[pymethods]
impl NgramCounts {
    /// The n-gram order.
    #[getter]
    fn order(&self) -> usize {
        self.0.order()
    }

    /// Number of n-gram occurrences counted.
    #[getter]
    fn n(&self) -> u64 {
        self.0.n()
    }

    /// Number of distinct n-grams.
    #[getter]
    fn distinct(&self) -> u64 {
        self.0.distinct()
    }

    /// The count profile as `(ks, mks)`.
    fn profile<'py>(&self, py: Python<'py>) -> Pairs<'py> {
        into_arrays(py, &self.0.profile())
    }

    /// The `k` most common n-grams as `(ngrams[k, order], counts[k])`, original ids.
    fn most_common<'py>(&self, py: Python<'py>, k: usize) -> PyResult<MostCommon<'py>> {
        let (ngrams, counts) = self.0.most_common(k).map_err(CoreError)?;
        let rows = counts.len();
        let ngrams = ngrams.into_pyarray(py).reshape([rows, self.0.order()])?;
        Ok((ngrams, counts.into_pyarray(py)))
    }

    fn __repr__(&self) -> String {
        format!(
            "NgramCounts(order={}, n={}, distinct={})",
            self.0.order(),
            self.0.n(),
            self.0.distinct()
        )
    }
}

/// Counts the n-grams of one order.
#[pyfunction]
#[pyo3(signature = (tokens, order, *, separator=None, mask=None, memory_limit=None, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn count_ngrams(
    py: Python<'_>,
    tokens: IntArray<'_>,
    order: usize,
    separator: Option<u64>,
    mask: Option<PyReadonlyArray1<'_, bool>>,
    memory_limit: Option<usize>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<NgramCounts> {
    let opts = CountOptions {
        separator,
        mask: mask.as_ref().map(|m| m.as_slice()).transpose()?,
        memory_limit,
    };
    let counts = with_slice!(tokens, |s| detached(
        py,
        threads,
        progress.as_ref(),
        |ctl| { fastentropy_core::count_ngrams(s, order, &opts, ctl) }
    ))?;
    Ok(NgramCounts(counts))
}

/// Count profiles of several orders from one pass: a list of `(order, (ks, mks))`.
#[pyfunction]
#[pyo3(signature = (tokens, orders, *, separator=None, mask=None, memory_limit=None, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn ngram_profiles<'py>(
    py: Python<'py>,
    tokens: IntArray<'py>,
    orders: Vec<usize>,
    separator: Option<u64>,
    mask: Option<PyReadonlyArray1<'py, bool>>,
    memory_limit: Option<usize>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Vec<(usize, Pairs<'py>)>> {
    let opts = CountOptions {
        separator,
        mask: mask.as_ref().map(|m| m.as_slice()).transpose()?,
        memory_limit,
    };
    let profiles = with_slice!(tokens, |s| detached(
        py,
        threads,
        progress.as_ref(),
        |ctl| { fastentropy_core::ngram_profiles(s, &orders, &opts, ctl) }
    ))?;
    Ok(profiles
        .iter()
        .map(|(n, p)| (*n, into_arrays(py, p)))
        .collect())
}

/// Writes every n-gram of `order` seen at least `min_count` times and its count to two
/// `.npy` files (`ngrams[rows, order]`, `counts[rows]`, uint64), in n-gram order, streaming
/// within the memory limit. Returns the number of rows.
#[pyfunction]
#[pyo3(signature = (tokens, order, ngrams_path, counts_path, *, min_count=1, separator=None, mask=None, memory_limit=None, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn ngram_table(
    py: Python<'_>,
    tokens: IntArray<'_>,
    order: usize,
    ngrams_path: std::path::PathBuf,
    counts_path: std::path::PathBuf,
    min_count: u64,
    separator: Option<u64>,
    mask: Option<PyReadonlyArray1<'_, bool>>,
    memory_limit: Option<usize>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<u64> {
    let opts = CountOptions {
        separator,
        mask: mask.as_ref().map(|m| m.as_slice()).transpose()?,
        memory_limit,
    };
    let rows = with_slice!(tokens, |s| detached(
        py,
        threads,
        progress.as_ref(),
        |ctl| {
            let mut ngrams = NpyWriter::create(&ngrams_path, Some(order))?;
            let mut counts = NpyWriter::create(&counts_path, None)?;
            let rows = fastentropy_core::ngram_table(
                s,
                order,
                min_count,
                &opts,
                ctl,
                &mut |g: &[u64], c: &[u64]| {
                    ngrams.append(g)?;
                    counts.append(c)
                },
            )?;
            ngrams.finish()?;
            counts.finish()?;
            Ok(rows)
        }
    ))?;
    Ok(rows)
}

/// What `ngram_runs` returns: `(ids, unigrams, bits, masked, rows)`.
type RunInfo<'py> = (
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<u64>>,
    u32,
    bool,
    u64,
);

/// The map step of a count over shards: writes every distinct window of up to `order`
/// tokens and its count, sorted by (first token, tail), to three `.npy` files: `tails[rows,
/// words]` (uint64), `counts[rows]` (uint32 for fewer than 2^32 tokens, else uint64) and
/// `index[firsts, 2]` (first rank, end row). Returns the local vocabulary (`ids`, and the
/// masked-in `unigrams` of each rank), bits per field, whether tails carry mask flags, rows.
#[pyfunction]
#[pyo3(signature = (tokens, order, tails_path, counts_path, index_path, *, separator=None, mask=None, memory_limit=None, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn ngram_runs<'py>(
    py: Python<'py>,
    tokens: IntArray<'_>,
    order: usize,
    tails_path: std::path::PathBuf,
    counts_path: std::path::PathBuf,
    index_path: std::path::PathBuf,
    separator: Option<u64>,
    mask: Option<PyReadonlyArray1<'_, bool>>,
    memory_limit: Option<usize>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<RunInfo<'py>> {
    let opts = CountOptions {
        separator,
        mask: mask.as_ref().map(|m| m.as_slice()).transpose()?,
        memory_limit,
    };
    let (info, rows) = with_slice!(tokens, |s| detached(
        py,
        threads,
        progress.as_ref(),
        |ctl| {
            // A count never exceeds the windows of the shard.
            let count_width = if (s.len() as u64) < 1 << 32 { 4 } else { 8 };
            let mut writers: Option<(NpyWriter, NpyWriter)> = None;
            let mut index = NpyWriter::create(&index_path, Some(2))?;
            let (mut last, mut rows) = (None, 0u64);
            let info = fastentropy_core::ngram_runs(s, order, &opts, ctl, &mut |b| {
                let (tails, counts) = match writers.as_mut() {
                    Some(w) => w,
                    None => writers.insert((
                        NpyWriter::create(&tails_path, Some(b.words))?,
                        NpyWriter::with_width(&counts_path, None, count_width)?,
                    )),
                };
                tails.append(b.tails)?;
                counts.append(b.counts)?;
                // One index entry per first token, written when the next one starts (a first
                // token split by its second may come in several stretches).
                for &(f, n) in b.firsts {
                    if last.is_some_and(|(l, _)| l != f) {
                        let (l, end) = last.unwrap_or_default();
                        index.append(&[u64::from(l), end])?;
                    }
                    rows += n;
                    last = Some((f, rows));
                }
                Ok(())
            })?;
            if let Some((l, end)) = last {
                index.append(&[u64::from(l), end])?;
            }
            let (tails, counts) = match writers {
                Some(w) => w,
                None => (
                    NpyWriter::create(&tails_path, Some(1))?,
                    NpyWriter::with_width(&counts_path, None, count_width)?,
                ),
            };
            tails.finish()?;
            counts.finish()?;
            index.finish()?;
            Ok((info, rows))
        }
    ))?;
    Ok((
        info.ids.into_pyarray(py),
        info.unigrams.into_pyarray(py),
        info.bits,
        info.masked,
        rows,
    ))
}

/// A run's counts, as wide as its file.
#[derive(FromPyObject)]
pub enum RunCounts<'py> {
    U32(PyReadonlyArray1<'py, u32>),
    U64(PyReadonlyArray1<'py, u64>),
}

/// One run for `merge_ngram_runs`: `(tails, counts, index, global, unigrams, bits, masked)`.
type RunArrays<'py> = (
    PyReadonlyArray2<'py, u64>,
    RunCounts<'py>,
    PyReadonlyArray2<'py, u64>,
    PyReadonlyArray1<'py, u32>,
    PyReadonlyArray1<'py, u64>,
    u32,
    bool,
);

/// The reduce step: the count profiles of `orders` over the runs taken together, for the
/// n-grams whose first token's merged rank lies in `first_lo..first_hi`: `[(n, (ks, mks))]`.
#[pyfunction]
#[pyo3(signature = (runs, order, orders, distinct, first_lo, first_hi, *, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn merge_ngram_runs<'py>(
    py: Python<'py>,
    runs: Vec<RunArrays<'py>>,
    order: usize,
    orders: Vec<usize>,
    distinct: usize,
    first_lo: u32,
    first_hi: u32,
    progress: Option<Py<PyAny>>,
) -> PyResult<Vec<(usize, Pairs<'py>)>> {
    let files = runs
        .iter()
        .map(|(tails, counts, index, global, unigrams, bits, masked)| {
            Ok(fastentropy_core::RunFile {
                tails: tails.as_slice()?,
                counts: match counts {
                    RunCounts::U32(c) => fastentropy_core::RunCounts::U32(c.as_slice()?),
                    RunCounts::U64(c) => fastentropy_core::RunCounts::U64(c.as_slice()?),
                },
                index: index.as_slice()?,
                global: global.as_slice()?,
                unigrams: unigrams.as_slice()?,
                bits: *bits,
                masked: *masked,
            })
        })
        .collect::<PyResult<Vec<_>>>()?;
    let merge = fastentropy_core::RunMerge {
        order,
        orders: &orders,
        distinct,
        firsts: first_lo..first_hi,
    };
    let profiles = detached(py, Some(1), progress.as_ref(), |ctl| {
        fastentropy_core::merge_ngram_runs(&files, &merge, ctl)
    })?;
    Ok(profiles
        .iter()
        .map(|(n, p)| (*n, into_arrays(py, p)))
        .collect())
}
