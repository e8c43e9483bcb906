//! Hidden-Markov sources: long-memory corpora whose rate comes from the forward algorithm.

use fastentropy_core::HiddenMarkovSource as Source;
use numpy::{
    IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2,
    PyUntypedArrayMethods,
};
use pyo3::prelude::*;

use crate::error::CoreError;
use crate::run::detached;

/// `(rate, std, tokens, blocks)` of the forward-algorithm rate.
type Rate = (f64, f64, u64, u64);

/// A hidden-Markov source (see the core's `hmm` module).
#[pyclass(frozen, module = "fastentropy._core")]
pub struct HiddenMarkovSource(Source);

#[pymethods]
impl HiddenMarkovSource {
    #[new]
    fn new(
        py: Python<'_>,
        states: usize,
        vocab: usize,
        stickiness: f64,
        exponents: (f64, f64),
        seed: u64,
    ) -> PyResult<Self> {
        let source = py
            .detach(|| Source::new(states, vocab, stickiness, exponents, seed))
            .map_err(CoreError)?;
        Ok(Self(source))
    }

    #[staticmethod]
    fn from_matrices(
        transitions: PyReadonlyArray2<'_, f64>,
        emissions: PyReadonlyArray2<'_, f64>,
    ) -> PyResult<Self> {
        let (states, vocab) = (emissions.shape()[0], emissions.shape()[1]);
        let a = transitions.as_slice()?.to_vec();
        let b = emissions.as_slice()?.to_vec();
        let source = Source::from_matrices(states, vocab, a, b).map_err(CoreError)?;
        Ok(Self(source))
    }

    fn transitions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let s = self.0.states();
        self.0
            .transitions()
            .to_vec()
            .into_pyarray(py)
            .reshape([s, s])
    }

    fn emissions<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let (s, v) = (self.0.states(), self.0.vocab());
        self.0.emissions().to_vec().into_pyarray(py).reshape([s, v])
    }

    fn stationary<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        self.0.stationary().to_vec().into_pyarray(py)
    }

    #[pyo3(signature = (n, seed, *, threads=None, progress=None))]
    fn sample<'py>(
        &self,
        py: Python<'py>,
        n: usize,
        seed: u64,
        threads: Option<usize>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyArray1<u32>>> {
        let tokens = detached(py, threads, progress.as_ref(), |ctl| {
            self.0.sample(n, seed, ctl)
        })?;
        Ok(tokens.into_pyarray(py))
    }

    fn log_likelihood(&self, py: Python<'_>, tokens: PyReadonlyArray1<'_, u32>) -> PyResult<f64> {
        let x = tokens.as_slice()?;
        Ok(py.detach(|| self.0.log_likelihood(x)).map_err(CoreError)?)
    }

    #[pyo3(signature = (tokens, block, seed, *, threads=None, progress=None))]
    fn entropy_rate(
        &self,
        py: Python<'_>,
        tokens: usize,
        block: usize,
        seed: u64,
        threads: Option<usize>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Rate> {
        let r = detached(py, threads, progress.as_ref(), |ctl| {
            self.0.entropy_rate(tokens, block, seed, ctl)
        })?;
        Ok((r.rate, r.std, r.tokens, r.blocks))
    }
}
