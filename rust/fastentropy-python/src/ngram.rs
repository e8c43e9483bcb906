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

/// The count profile of sorted n-gram tables taken together (`ngram_table`'s rows, one
/// `(ngrams[rows, order], counts[rows])` pair per run), equal rows adding: `(ks, mks)`.
#[pyfunction]
#[pyo3(signature = (runs, order, *, progress=None))]
pub fn merge_ngram_tables<'py>(
    py: Python<'py>,
    runs: Vec<(PyReadonlyArray2<'py, u64>, PyReadonlyArray1<'py, u64>)>,
    order: usize,
    progress: Option<Py<PyAny>>,
) -> PyResult<Pairs<'py>> {
    let slices = runs
        .iter()
        .map(|(g, c)| Ok((g.as_slice()?, c.as_slice()?)))
        .collect::<PyResult<Vec<_>>>()?;
    let profile = detached(py, Some(1), progress.as_ref(), |ctl| {
        fastentropy_core::merge_ngram_tables(&slices, order, ctl)
    })?;
    Ok(into_arrays(py, &profile))
}
