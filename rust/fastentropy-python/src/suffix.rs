//! The suffix index: build, profiles of every order, match lengths, count queries and the
//! index file, each long call through [`detached`] (GIL released, Ctrl-C and progress
//! polled). The index holds its tokens (borrowed from numpy per call); the Python wrapper
//! keeps the mask and passes it to `profiles`.

use std::path::PathBuf;

use fastentropy_core::suffix::{read_header, MatchKind};
use numpy::{IntoPyArray, PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::array::{into_arrays, with_slice, IntArray, Pairs};
use crate::error::CoreError;
use crate::run::detached;

/// The tokens an index was built on, held with their dtype known, so that a query borrows
/// them directly: extracting an [`IntArray`] tries the dtypes in turn, and each miss builds
/// an error (measured ~25 µs for uint32 tokens, most of a `count`).
enum Stored {
    I64(Py<PyArray1<i64>>),
    U64(Py<PyArray1<u64>>),
    I32(Py<PyArray1<i32>>),
    U32(Py<PyArray1<u32>>),
    I16(Py<PyArray1<i16>>),
    U16(Py<PyArray1<u16>>),
    I8(Py<PyArray1<i8>>),
    U8(Py<PyArray1<u8>>),
}

macro_rules! stored {
    ($arr:expr) => {
        stored!(@arms $arr, I64, U64, I32, U32, I16, U16, I8, U8)
    };
    (@arms $arr:expr, $($v:ident),*) => {
        match $arr {
            $(IntArray::$v(a) => Stored::$v((**a).clone().unbind()),)*
        }
    };
}

/// Evaluates `$body` with `$s` bound to the stored tokens' slice.
macro_rules! with_stored {
    ($st:expr, $py:expr, |$s:ident| $body:expr) => {
        with_stored!(@arms $st, $py, $s, $body, I64, U64, I32, U32, I16, U16, I8, U8)
    };
    (@arms $st:expr, $py:expr, $s:ident, $body:expr, $($v:ident),*) => {
        match $st {
            $(Stored::$v(a) => {
                let r = a.bind($py).readonly();
                let $s = r.as_slice()?;
                $body
            })*
        }
    };
}

/// The suffix array and capped LCP array of a token sequence, with the tokens.
#[pyclass(frozen, module = "fastentropy._core", name = "SuffixIndex")]
pub struct SuffixIndex {
    index: fastentropy_core::SuffixIndex,
    tokens: Stored,
}

type Profiles<'py> = Vec<(usize, Pairs<'py>)>;

#[pymethods]
impl SuffixIndex {
    /// Number of tokens indexed.
    #[getter]
    fn n(&self) -> usize {
        self.index.len()
    }

    /// The separator the index was built with.
    #[getter]
    fn separator(&self) -> Option<u64> {
        self.index.separator()
    }

    /// The largest separator-free LCP.
    #[getter]
    fn max_lcp(&self) -> u64 {
        self.index.max_lcp()
    }

    /// Bytes the index holds in memory (0 when memory-mapped).
    #[getter]
    fn nbytes(&self) -> usize {
        self.index.bytes()
    }

    /// Bytes per suffix-array entry: 4, or 8 past 2^31 tokens.
    #[getter]
    fn entry_bytes(&self) -> usize {
        self.index.entry_bytes()
    }

    /// A copy of the suffix array.
    fn suffix_array<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<u64>> {
        self.index.suffix_array().into_pyarray(py)
    }

    /// `([(order, (ks, mks))], [...])`: the n-grams' profiles (if `ngrams`) and their
    /// contexts' (if `contexts`), from one call (with a mask, one reversed index for both).
    #[pyo3(signature = (*, mask=None, orders=None, ngrams=true, contexts=false, memory_limit=None, threads=None, progress=None))]
    #[allow(clippy::too_many_arguments)]
    fn profiles<'py>(
        &self,
        py: Python<'py>,
        mask: Option<PyReadonlyArray1<'py, bool>>,
        orders: Option<Vec<usize>>,
        ngrams: bool,
        contexts: bool,
        memory_limit: Option<usize>,
        threads: Option<usize>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<(Profiles<'py>, Profiles<'py>)> {
        let mask = mask.as_ref().map(|m| m.as_slice()).transpose()?;
        let orders = orders.as_deref();
        let index = &self.index;
        let (blocks, ctx) = with_stored!(&self.tokens, py, |s| detached(
            py,
            threads,
            progress.as_ref(),
            |ctl| match (ngrams, contexts) {
                (true, true) => index.profiles_and_contexts(s, mask, orders, memory_limit, ctl),
                (false, true) => index
                    .context_profiles(s, mask, orders, memory_limit, ctl)
                    .map(|c| (Vec::new(), c)),
                (true, false) => index
                    .profiles(s, mask, orders, memory_limit, ctl)
                    .map(|p| (p, Vec::new())),
                (false, false) => Ok((Vec::new(), Vec::new())),
            }
        ))?;
        let convert = |v: &[(usize, fastentropy_core::Profile)]| -> Profiles<'py> {
            v.iter().map(|(n, p)| (*n, into_arrays(py, p))).collect()
        };
        Ok((convert(&blocks), convert(&ctx)))
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
        let index = &self.index;
        let out = detached(py, threads, progress.as_ref(), |ctl| {
            index.match_lengths(kind, ctl)
        })?;
        Ok(out.into_pyarray(py))
    }

    /// Occurrences of `ngram` in the tokens.
    fn count(&self, py: Python<'_>, ngram: Vec<u64>) -> PyResult<u64> {
        Ok(with_stored!(&self.tokens, py, |s| self.index.count(s, &ngram)).map_err(CoreError)?)
    }

    /// `(ids, counts)` of the tokens that follow `context`, most frequent first.
    #[pyo3(signature = (context, k=None))]
    fn next_counts<'py>(
        &self,
        py: Python<'py>,
        context: Vec<u64>,
        k: Option<usize>,
    ) -> PyResult<Pairs<'py>> {
        let (ids, counts) =
            with_stored!(&self.tokens, py, |s| self.index.next_counts(s, &context, k))
                .map_err(CoreError)?;
        Ok((ids.into_pyarray(py), counts.into_pyarray(py)))
    }

    /// Writes the index to `path`, recording the tokens' dtype, source file and hash.
    #[pyo3(signature = (path, *, dtype, source=None, threads=None))]
    fn save(
        &self,
        py: Python<'_>,
        path: PathBuf,
        dtype: &str,
        source: Option<&str>,
        threads: Option<usize>,
    ) -> PyResult<()> {
        let index = &self.index;
        with_stored!(&self.tokens, py, |s| detached(py, threads, None, |ctl| {
            index.save(&path, s, dtype, source, ctl)
        }))
    }

    fn __repr__(&self) -> String {
        format!(
            "SuffixIndex(n={}, max_lcp={})",
            self.index.len(),
            self.index.max_lcp()
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
    let index = with_slice!(&tokens, |s| detached(
        py,
        threads,
        progress.as_ref(),
        |ctl| { fastentropy_core::SuffixIndex::build(s, separator, memory_limit, ctl) }
    ))?;
    let tokens = stored!(&tokens);
    Ok(SuffixIndex { index, tokens })
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
    let index = with_slice!(&tokens, |s| detached(py, threads, None, |ctl| {
        fastentropy_core::SuffixIndex::open(&path, s, ctl)
    }))?;
    let tokens = stored!(&tokens);
    Ok(SuffixIndex { index, tokens })
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
    d.set_item("entry_bytes", h.entry_bytes)?;
    Ok(d)
}

/// `(running, left)`: suffix sorts running, and those of them whose caller was interrupted
/// (they free their memory when they finish; a new build waits for them).
#[pyfunction]
pub fn suffix_background_sorts() -> (usize, usize) {
    fastentropy_core::suffix::background_sorts()
}
