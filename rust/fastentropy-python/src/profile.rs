//! Profile construction: numpy integer arrays in, `(ks, mks)` uint64 arrays out.

use fastentropy_core::Profile;
use numpy::PyReadonlyArray1;
use pyo3::prelude::*;

use crate::array::{into_arrays, with_slice, IntArray, Pairs};
use crate::error::CoreError;

/// Profile of a vector of outcome counts (zeros ignored).
#[pyfunction]
pub fn profile_from_counts<'py>(py: Python<'py>, counts: IntArray<'py>) -> PyResult<Pairs<'py>> {
    let p = with_slice!(counts, |s| py.detach(|| Profile::from_counts(s))).map_err(CoreError)?;
    Ok(into_arrays(py, &p))
}

/// Profile of a sample of outcome labels.
#[pyfunction]
pub fn profile_from_samples<'py>(py: Python<'py>, samples: IntArray<'py>) -> PyResult<Pairs<'py>> {
    let p = with_slice!(samples, |s| py.detach(|| Profile::from_samples(s))).map_err(CoreError)?;
    Ok(into_arrays(py, &p))
}

/// Normalised profile of explicit pairs (sorted, merged, zero multiplicities dropped).
#[pyfunction]
pub fn profile_from_pairs<'py>(
    py: Python<'py>,
    ks: PyReadonlyArray1<'py, u64>,
    mks: PyReadonlyArray1<'py, u64>,
) -> PyResult<Pairs<'py>> {
    let p = Profile::from_pairs(ks.as_slice()?, mks.as_slice()?).map_err(CoreError)?;
    Ok(into_arrays(py, &p))
}

/// Profile of the union of two samples with disjoint supports.
#[pyfunction]
pub fn profile_add<'py>(
    py: Python<'py>,
    a: (PyReadonlyArray1<'py, u64>, PyReadonlyArray1<'py, u64>),
    b: (PyReadonlyArray1<'py, u64>, PyReadonlyArray1<'py, u64>),
) -> PyResult<Pairs<'py>> {
    let pa = Profile::from_pairs(a.0.as_slice()?, a.1.as_slice()?).map_err(CoreError)?;
    let pb = Profile::from_pairs(b.0.as_slice()?, b.1.as_slice()?).map_err(CoreError)?;
    Ok(into_arrays(py, &pa.add(&pb).map_err(CoreError)?))
}
