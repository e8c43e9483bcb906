//! Entropy estimation from a profile given as `(ks, mks)`.

use fastentropy_core::{Concentration, Method, Options, Profile};
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::error::CoreError;

/// `concentration=` as a number or a name.
#[derive(FromPyObject)]
pub enum ConcentrationArg {
    Value(f64),
    Name(String),
}

/// `(value, std or None, notes, warnings)`, value and std in nats.
type EstimateTuple = (f64, Option<f64>, Vec<String>, Vec<String>);

/// Estimates the entropy of the profile `(ks, mks)` with `method`.
#[pyfunction]
#[pyo3(signature = (ks, mks, method, *, alphabet_size=None, concentration=None))]
pub fn estimate(
    py: Python<'_>,
    ks: PyReadonlyArray1<'_, u64>,
    mks: PyReadonlyArray1<'_, u64>,
    method: &str,
    alphabet_size: Option<f64>,
    concentration: Option<ConcentrationArg>,
) -> PyResult<EstimateTuple> {
    let method: Method = method.parse().map_err(CoreError)?;
    let concentration = match concentration {
        None => None,
        Some(ConcentrationArg::Value(a)) => Some(Concentration::Value(a)),
        Some(ConcentrationArg::Name(name)) => {
            Some(Concentration::from_name(&name).map_err(CoreError)?)
        }
    };
    let profile = Profile::from_pairs(ks.as_slice()?, mks.as_slice()?).map_err(CoreError)?;
    let options = Options {
        alphabet_size,
        concentration,
    };
    let est = py
        .detach(|| fastentropy_core::estimate(&profile, method, &options))
        .map_err(CoreError)?;
    Ok((est.value, est.std, est.notes, est.warnings))
}

/// Why `method` cannot estimate from the profile `(ks, mks)` with `alphabet_size`, or `None`
/// when it can: the core's one statement of each method's requirements.
#[pyfunction]
#[pyo3(signature = (ks, mks, method, *, alphabet_size=None))]
pub fn method_refusal(
    ks: PyReadonlyArray1<'_, u64>,
    mks: PyReadonlyArray1<'_, u64>,
    method: &str,
    alphabet_size: Option<f64>,
) -> PyResult<Option<String>> {
    let method: Method = method.parse().map_err(CoreError)?;
    let profile = Profile::from_pairs(ks.as_slice()?, mks.as_slice()?).map_err(CoreError)?;
    Ok(method
        .check(&profile, alphabet_size)
        .err()
        .map(|e| e.to_string()))
}

/// The largest n-gram order the counter can pack for `vocab_size` token ids, with one mask
/// bit per token if `masked`.
#[pyfunction]
#[pyo3(signature = (vocab_size, *, masked))]
pub fn max_ngram_order(vocab_size: u64, masked: bool) -> usize {
    let distinct = usize::try_from(vocab_size).unwrap_or(usize::MAX);
    fastentropy_core::max_order(distinct, masked)
}
