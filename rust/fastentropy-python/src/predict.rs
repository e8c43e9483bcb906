//! The online predictor: token arrays in, the prequential code length and its curve out,
//! through [`detached`] (GIL released, Ctrl-C and progress polled from the calling thread).

use fastentropy_core::predict::{self, CodeLength, ModelKind, PredictOptions};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadwriteArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::array::{with_slice, IntArray};
use crate::error::CoreError;
use crate::run::detached;

/// `(n, nats, curve_n, curve_nats, settings)`.
type Outcome<'py> = (
    u64,
    f64,
    Bound<'py, PyArray1<u64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyDict>,
);

/// The prequential code length of `tokens`; `per_token` (float32, same length), if given,
/// receives each token's cost in nats (NaN where nothing is scored).
#[pyfunction]
#[pyo3(signature = (tokens, *, order=None, vocab_size=None, separator=None, mask=None, memory_limit=None, per_token=None, threads=None, progress=None, model=None))]
#[allow(clippy::too_many_arguments)]
pub fn prequential<'py>(
    py: Python<'py>,
    tokens: IntArray<'py>,
    order: Option<usize>,
    vocab_size: Option<u64>,
    separator: Option<u64>,
    mask: Option<PyReadonlyArray1<'py, bool>>,
    memory_limit: Option<usize>,
    per_token: Option<PyReadwriteArray1<'py, f32>>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
    model: Option<&str>,
) -> PyResult<Outcome<'py>> {
    let opts = PredictOptions {
        order,
        vocab_size,
        separator,
        mask: mask.as_ref().map(|m| m.as_slice()).transpose()?,
        memory_limit,
        model: model_kind(model)?,
        trim: None,
    };
    let mut per_token = per_token;
    let out = per_token.as_mut().map(|a| a.as_slice_mut()).transpose()?;
    let cl: CodeLength = with_slice!(tokens, |s| detached(
        py,
        threads,
        progress.as_ref(),
        |ctl| predict::prequential(s, &opts, out, ctl)
    ))?;
    let (ns, nats): (Vec<u64>, Vec<f64>) = cl.curve.iter().copied().unzip();
    let settings = PyDict::new(py);
    let st = &cl.settings;
    settings.set_item("kind", st.name)?;
    for (name, value) in &st.parts {
        settings.set_item(*name, *value)?;
    }
    settings.set_item("order", st.order)?;
    settings.set_item("vocab_size", st.vocab)?;
    settings.set_item("memory_bytes", st.memory)?;
    settings.set_item("dense_orders", st.dense)?;
    settings.set_item("hashed", st.hashed.clone())?;
    Ok((
        cl.n,
        cl.nats,
        ns.into_pyarray(py),
        nats.into_pyarray(py),
        settings,
    ))
}

/// The full predictive distribution over every id after `tokens[:p]`, one row per position
/// (for tests of normalisation).
#[pyfunction]
#[pyo3(signature = (tokens, positions, *, order=None, vocab_size=None, separator=None, memory_limit=None, model=None))]
#[allow(clippy::too_many_arguments)]
pub fn prequential_distributions<'py>(
    py: Python<'py>,
    tokens: IntArray<'py>,
    positions: Vec<usize>,
    order: Option<usize>,
    vocab_size: Option<u64>,
    separator: Option<u64>,
    memory_limit: Option<usize>,
    model: Option<&str>,
) -> PyResult<Bound<'py, PyArray2<f64>>> {
    let opts = PredictOptions {
        order,
        vocab_size,
        separator,
        mask: None,
        memory_limit,
        model: model_kind(model)?,
        trim: None,
    };
    let rows = with_slice!(tokens, |s| py
        .detach(|| predict::distributions(s, &opts, &positions))
        .map_err(CoreError))?;
    let width = rows.first().map_or(0, Vec::len);
    let flat: Vec<f64> = rows.into_iter().flatten().collect();
    flat.into_pyarray(py).reshape([positions.len(), width])
}

/// `"tokens"`, `"bits"` or `None` (the core chooses).
fn model_kind(model: Option<&str>) -> PyResult<Option<ModelKind>> {
    match model {
        None => Ok(None),
        Some("tokens") => Ok(Some(ModelKind::Tokens)),
        Some("bits") => Ok(Some(ModelKind::Bits)),
        Some(other) => Err(pyo3::exceptions::PyValueError::new_err(format!(
            "model must be 'tokens' or 'bits', got {other:?}"
        ))),
    }
}
