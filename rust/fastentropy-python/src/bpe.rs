//! The byte-level BPE encoder: built once from a vocabulary the Python side read from a
//! `tokenizer.json`, then called per batch of texts with the GIL released ([`detached`]).

use fastentropy_core::bpe::{BpeEncoder as CoreEncoder, BpeSpec, Pattern};
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString};

use crate::error::CoreError;
use crate::run::detached;

/// `(ids, ids per text)`.
type Encoded<'py> = (Bound<'py, PyArray1<u32>>, Bound<'py, PyArray1<u64>>);

/// An exact byte-level BPE encoder (`fastentropy_core::bpe`).
#[pyclass(frozen, module = "fastentropy._core", name = "BpeEncoder")]
pub struct BpeEncoder(CoreEncoder);

#[pymethods]
impl BpeEncoder {
    /// `tokens[i]` (bytes) has id `ids[i]`; `merges` is `[rank, 2]` left/right ids;
    /// `pattern` is the split regex's source text.
    #[new]
    #[pyo3(signature = (tokens, ids, merges, pattern, *, add_prefix_space, ignore_merges))]
    fn new(
        tokens: Vec<Bound<'_, PyBytes>>,
        ids: PyReadonlyArray1<'_, u32>,
        merges: PyReadonlyArray2<'_, u32>,
        pattern: &str,
        add_prefix_space: bool,
        ignore_merges: bool,
    ) -> PyResult<Self> {
        let ids = ids.as_slice()?;
        if ids.len() != tokens.len() {
            return Err(PyValueError::new_err("tokens and ids differ in length"));
        }
        let merges = merges.as_array();
        if merges.ncols() != 2 {
            return Err(PyValueError::new_err("merges must have 2 columns"));
        }
        let pattern = Pattern::from_source(pattern)
            .ok_or_else(|| PyValueError::new_err(format!("unknown split pattern {pattern:?}")))?;
        let spec = BpeSpec {
            tokens: tokens
                .iter()
                .zip(ids)
                .map(|(t, &id)| (t.as_bytes().to_vec(), id))
                .collect(),
            merges: merges.rows().into_iter().map(|r| (r[0], r[1])).collect(),
            pattern,
            add_prefix_space,
            ignore_merges,
        };
        Ok(Self(CoreEncoder::new(spec).map_err(CoreError)?))
    }

    /// `(ids, lengths)`: the ids of all `texts` in order and how many each has.
    #[pyo3(signature = (texts, *, threads=None, progress=None))]
    fn encode<'py>(
        &self,
        py: Python<'py>,
        texts: Vec<Bound<'py, PyString>>,
        threads: Option<usize>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Encoded<'py>> {
        // Borrowed UTF-8 views; a lone surrogate (not encodable) raises here.
        let views = texts
            .iter()
            .map(|t| t.to_str())
            .collect::<PyResult<Vec<&str>>>()?;
        let (ids, lengths) = detached(py, threads, progress.as_ref(), |ctl| {
            self.0.encode(&views, ctl)
        })?;
        Ok((ids.into_pyarray(py), lengths.into_pyarray(py)))
    }
}
