//! Markov sources of known entropy rate: the demo's and the tests' ground truth.

use fastentropy_core::MarkovSource as Source;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods};
use pyo3::prelude::*;

use crate::error::CoreError;

/// An order-k Markov chain over a Zipfian vocabulary (see the core's `markov` module).
#[pyclass(frozen, module = "fastentropy._core")]
pub struct MarkovSource(Source);

#[pymethods]
impl MarkovSource {
    #[new]
    fn new(
        py: Python<'_>,
        vocab: usize,
        order: usize,
        exponents: (f64, f64),
        seed: u64,
    ) -> PyResult<Self> {
        let source = py
            .detach(|| Source::new(vocab, order, exponents, seed))
            .map_err(CoreError)?;
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

    fn sample<'py>(&self, py: Python<'py>, n: usize, seed: u64) -> Bound<'py, PyArray1<u32>> {
        py.detach(|| self.0.sample(n, seed)).into_pyarray(py)
    }
}
