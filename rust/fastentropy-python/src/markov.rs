//! Markov sources of known entropy rate: the demo's and the tests' ground truth. Building a
//! large chain and drawing many tokens go through [`detached`] (GIL released, Ctrl-C and
//! progress polled from the calling thread).

use fastentropy_core::MarkovSource as Source;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods};
use pyo3::prelude::*;

use crate::run::detached;

/// An order-k Markov chain over a Zipfian vocabulary (see the core's `markov` module).
#[pyclass(frozen, module = "fastentropy._core")]
pub struct MarkovSource(Source);

#[pymethods]
impl MarkovSource {
    /// Builds the chain; `progress` hears `(done, total)` in transition probabilities' worth
    /// of work.
    #[new]
    #[pyo3(signature = (vocab, order, exponents, seed, *, progress=None))]
    fn new(
        py: Python<'_>,
        vocab: usize,
        order: usize,
        exponents: (f64, f64),
        seed: u64,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let source = detached(py, None, progress.as_ref(), |ctl| {
            Source::new_with(vocab, order, exponents, seed, ctl)
        })?;
        Ok(Self(source))
    }

    fn entropy_rate(&self) -> f64 {
        self.0.entropy_rate()
    }

    fn stationary<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.0.stationary().to_vec().into_pyarray(py)
    }

    fn rows<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let v = self.0.vocab();
        let states = self.0.rows().len() / v;
        let rows = self.0.rows().to_vec().into_pyarray(py);
        rows.reshape([states, v])
    }

    /// `n` tokens; `progress` hears `(tokens drawn, n)`.
    #[pyo3(signature = (n, seed, *, progress=None))]
    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        seed: u64,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyArray1<u32>>> {
        let tokens = detached(py, None, progress.as_ref(), |ctl| {
            self.0.sample_with(n, seed, ctl)
        })?;
        Ok(tokens.into_pyarray(py))
    }
}
