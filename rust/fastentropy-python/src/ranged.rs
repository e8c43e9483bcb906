//! The scan strategy of a distributed count: a shard's ids and their counts, and a count of
//! the n-grams of one range of first tokens fed shard by shard (each call through
//! [`detached`]: GIL released, Ctrl-C polled).

use numpy::{IntoPyArray, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::array::{into_arrays, with_slice, IntArray, Pairs};
use crate::error::CoreError;
use crate::run::detached;

/// `(ids, counts)`: the distinct ids of `tokens` but the separator, ascending, and how
/// often each occurs.
#[pyfunction]
#[pyo3(signature = (tokens, *, separator=None))]
pub fn token_counts<'py>(
    py: Python<'py>,
    tokens: IntArray<'py>,
    separator: Option<u64>,
) -> PyResult<Pairs<'py>> {
    let (ids, counts) = with_slice!(tokens, |s| detached(py, Some(1), None, |ctl| {
        fastentropy_core::token_counts(s, separator, ctl)
    }))?;
    Ok((ids.into_pyarray(py), counts.into_pyarray(py)))
}

/// A count of the n-grams whose first token's rank (in `vocabulary`) lies in
/// `first..first + len(sizes)`: `add` each shard, then `finish`.
#[pyclass(module = "fastentropy._core", name = "FirstRange")]
pub struct FirstRange(Option<fastentropy_core::FirstRange>);

#[pymethods]
impl FirstRange {
    #[new]
    #[pyo3(signature = (vocabulary, first, sizes, orders, *, separator=None, masked=false, memory_limit=None))]
    fn new(
        vocabulary: PyReadonlyArray1<'_, u64>,
        first: u32,
        sizes: PyReadonlyArray1<'_, u64>,
        orders: Vec<usize>,
        separator: Option<u64>,
        masked: bool,
        memory_limit: Option<usize>,
    ) -> PyResult<Self> {
        let count = fastentropy_core::FirstRange::new(
            vocabulary.as_slice()?,
            first,
            sizes.as_slice()?,
            &orders,
            separator,
            masked,
            memory_limit,
        )
        .map_err(CoreError)?;
        Ok(Self(Some(count)))
    }

    /// Counts the windows of one shard (its end is a document's end), after `before` (the
    /// stream's tokens just before it, masked out) if given. After an error the count is
    /// finished: a shard it stopped in may be counted in part.
    #[pyo3(signature = (tokens, mask=None, before=None))]
    fn add(
        &mut self,
        py: Python<'_>,
        tokens: IntArray<'_>,
        mask: Option<PyReadonlyArray1<'_, bool>>,
        before: Option<PyReadonlyArray1<'_, u64>>,
    ) -> PyResult<()> {
        let count = self.0.as_mut().ok_or_else(finished)?;
        let mask = mask.as_ref().map(|m| m.as_slice()).transpose()?;
        let before = before.as_ref().map(|b| b.as_slice()).transpose()?;
        let added = with_slice!(tokens, |s| detached(
            py,
            Some(1),
            None,
            |ctl| match before {
                Some(b) => count.add_after(b, s, mask, ctl),
                None => count.add(s, mask, ctl),
            }
        ));
        if added.is_err() {
            self.0 = None;
        }
        added
    }

    /// The profile of each order: a list of `(order, (ks, mks))`, ascending.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Vec<(usize, Pairs<'py>)>> {
        let count = self.0.take().ok_or_else(finished)?;
        let profiles = detached(py, Some(1), None, |ctl| count.finish(ctl))?;
        Ok(profiles
            .iter()
            .map(|(n, p)| (*n, into_arrays(py, p)))
            .collect())
    }
}

fn finished() -> PyErr {
    PyValueError::new_err("this count is finished: make a new FirstRange")
}
