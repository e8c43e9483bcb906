//! The suffix index: build, profiles of every order, match lengths, count queries and the
//! index file, each long call through [`detached`] (GIL released, Ctrl-C and progress
//! polled). The Python wrapper keeps the tokens and the mask and passes them to each call.

use std::path::PathBuf;

use fastentropy_core::suffix::{read_header, MatchKind};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::array::{into_arrays, with_slice, IntArray, Pairs};
use crate::error::CoreError;
use crate::run::detached;

/// The suffix array and capped LCP array of a token sequence (tokens not held).
#[pyclass(frozen, module = "fastentropy._core", name = "SuffixIndex")]
pub struct SuffixIndex(fastentropy_core::SuffixIndex);

type Profiles<'py> = Vec<(usize, Pairs<'py>)>;

#[pymethods]
impl SuffixIndex {
    /// Number of tokens indexed.
    #[getter]
    fn n(&self) -> usize {
        self.0.len()
    }

    /// The separator the index was built with.
    #[getter]
    fn separator(&self) -> Option<u64> {
        self.0.separator()
    }

    /// The largest separator-free LCP.
    #[getter]
    fn max_lcp(&self) -> u64 {
        self.0.max_lcp()
    }

    /// Bytes the index holds in memory (0 when memory-mapped).
    #[getter]
    fn nbytes(&self) -> usize {
        self.0.bytes()
    }

    /// A copy of the suffix array.
    fn suffix_array<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u32>> {
        self.0.suffix_array().to_vec().into_pyarray(py)
    }

    /// `[(order, (ks, mks))]` of the n-grams (or with `contexts`, of their contexts).
    #[pyo3(signature = (tokens, *, mask=None, orders=None, contexts=false, threads=None, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn profiles<'py>(
        &self,
        py: Python<'py>,
        tokens: IntArray<'py>,
        mask: Option<PyReadonlyArray1<'py, bool>>,
        orders: Option<Vec<usize>>,
        contexts: bool,
        threads: Option<usize>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Profiles<'py>> {
        let mask = mask.as_ref().map(|m| m.as_slice()).transpose()?;
        let orders = orders.as_deref();
        let index = &self.0;
        let profiles = with_slice!(tokens, |s| detached(
            py,
            threads,
            progress.as_ref(),
            |ctl| {
                if contexts {
                    index.context_profiles(s, mask, orders, ctl)
                } else {
                    index.profiles(s, mask, orders, ctl)
                }
            }
        ))?;
        Ok(profiles
            .iter()
            .map(|(n, p)| (*n, into_arrays(py, p)))
            .collect())
    }

    /// One match length per position (uint32): `kind` is "previous" or "any".
    #[pyo3(signature = (kind, *, threads=None, progress=None))]
    fn match_lengths<'py>(
        &self,
        py: Python<'py>,
        kind: &str,
        threads: Option<usize>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyArray1<u32>>> {
        let kind = match kind {
            "previous" => MatchKind::Previous,
            "any" => MatchKind::Any,
            other => {
                return Err(PyValueError::new_err(format!(
                    "kind = {other:?} is not a match kind: use \"previous\" or \"any\""
                )))
            }
        };
        let index = &self.0;
        let out = detached(py, threads, progress.as_ref(), |ctl| {
            index.match_lengths(kind, ctl)
        })?;
        Ok(out.into_pyarray(py))
    }

    /// Occurrences of `ngram` in `tokens`.
    fn count(&self, tokens: IntArray<'_>, ngram: Vec<u64>) -> PyResult<u64> {
        Ok(with_slice!(tokens, |s| self.0.count(s, &ngram)).map_err(CoreError)?)
    }

    /// `(ids, counts)` of the tokens that follow `context`, most frequent first.
    #[pyo3(signature = (tokens, context, k=None))]
    fn next_counts<'py>(
        &self,
        py: Python<'py>,
        tokens: IntArray<'py>,
        context: Vec<u64>,
        k: Option<usize>,
    ) -> PyResult<Pairs<'py>> {
        let (ids, counts) =
            with_slice!(tokens, |s| self.0.next_counts(s, &context, k)).map_err(CoreError)?;
        Ok((ids.into_pyarray(py), counts.into_pyarray(py)))
    }

    /// Writes the index to `path`, recording the tokens' dtype, source file and hash.
    #[pyo3(signature = (path, tokens, *, dtype, source=None, threads=None))]
    fn save(
        &self,
        py: Python<'_>,
        path: PathBuf,
        tokens: IntArray<'_>,
        dtype: &str,
        source: Option<&str>,
        threads: Option<usize>,
    ) -> PyResult<()> {
        let index = &self.0;
        with_slice!(tokens, |s| detached(py, threads, None, |ctl| {
            index.save(&path, s, dtype, source, ctl)
        }))
    }

    fn __repr__(&self) -> String {
        format!(
            "SuffixIndex(n={}, max_lcp={})",
            self.0.len(),
            self.0.max_lcp()
        )
    }
}

/// Builds the suffix index of `tokens`.
#[pyfunction]
#[pyo3(signature = (tokens, *, separator=None, memory_limit=None, threads=None, progress=None))]
pub fn suffix_build(
    py: Python<'_>,
    tokens: IntArray<'_>,
    separator: Option<u64>,
    memory_limit: Option<usize>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<SuffixIndex> {
    let index = with_slice!(tokens, |s| detached(
        py,
        threads,
        progress.as_ref(),
        |ctl| { fastentropy_core::SuffixIndex::build(s, separator, memory_limit, ctl) }
    ))?;
    Ok(SuffixIndex(index))
}

/// Memory-maps the index file at `path`, checked against `tokens`.
#[pyfunction]
#[pyo3(signature = (path, tokens, *, threads=None))]
pub fn suffix_open(
    py: Python<'_>,
    path: PathBuf,
    tokens: IntArray<'_>,
    threads: Option<usize>,
) -> PyResult<SuffixIndex> {
    let index = with_slice!(tokens, |s| detached(py, threads, None, |ctl| {
        fastentropy_core::SuffixIndex::open(&path, s, ctl)
    }))?;
    Ok(SuffixIndex(index))
}

/// The header of an index file, as a dict.
#[pyfunction]
pub fn suffix_header<'py>(py: Python<'py>, path: PathBuf) -> PyResult<Bound<'py, PyDict>> {
    let h = read_header(&path).map_err(CoreError)?;
    let d = PyDict::new(py);
    d.set_item("n", h.n)?;
    d.set_item("separator", h.separator)?;
    d.set_item("dtype", h.dtype)?;
    d.set_item("source", h.source)?;
    d.set_item("token_bytes", h.token_bytes)?;
    d.set_item("token_hash", h.token_hash)?;
    d.set_item("max_lcp", h.max_lcp)?;
    Ok(d)
}
