//! Profile construction: numpy integer arrays in, `(ks, mks)` uint64 arrays out.

use fastentropy_core::Profile;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

use crate::error::CoreError;

/// A 1-D integer numpy array of any width and signedness (C-contiguous: the Python layer
/// makes it so).
#[derive(FromPyObject)]
pub enum IntArray<'py> {
    I64(PyReadonlyArray1<'py, i64>),
    U64(PyReadonlyArray1<'py, u64>),
    I32(PyReadonlyArray1<'py, i32>),
    U32(PyReadonlyArray1<'py, u32>),
    I16(PyReadonlyArray1<'py, i16>),
    U16(PyReadonlyArray1<'py, u16>),
    I8(PyReadonlyArray1<'py, i8>),
    U8(PyReadonlyArray1<'py, u8>),
}

/// Runs `$body` with `$s` bound to the array's slice, the GIL released.
macro_rules! with_slice {
    ($py:expr, $arr:expr, |$s:ident| $body:expr) => {
        match $arr {
            IntArray::I64(a) => {
                let $s = a.as_slice()?;
                $py.detach(|| $body)
            }
            IntArray::U64(a) => {
                let $s = a.as_slice()?;
                $py.detach(|| $body)
            }
            IntArray::I32(a) => {
                let $s = a.as_slice()?;
                $py.detach(|| $body)
            }
            IntArray::U32(a) => {
                let $s = a.as_slice()?;
                $py.detach(|| $body)
            }
            IntArray::I16(a) => {
                let $s = a.as_slice()?;
                $py.detach(|| $body)
            }
            IntArray::U16(a) => {
                let $s = a.as_slice()?;
                $py.detach(|| $body)
            }
            IntArray::I8(a) => {
                let $s = a.as_slice()?;
                $py.detach(|| $body)
            }
            IntArray::U8(a) => {
                let $s = a.as_slice()?;
                $py.detach(|| $body)
            }
        }
    };
}

type Pairs<'py> = (Bound<'py, PyArray1<u64>>, Bound<'py, PyArray1<u64>>);

fn into_arrays(py: Python<'_>, p: Profile) -> Pairs<'_> {
    let (ks, mks): (Vec<u64>, Vec<u64>) = p.pairs().iter().copied().unzip();
    (ks.into_pyarray(py), mks.into_pyarray(py))
}

/// Profile of a vector of outcome counts (zeros ignored).
#[pyfunction]
pub fn profile_from_counts<'py>(py: Python<'py>, counts: IntArray<'py>) -> PyResult<Pairs<'py>> {
    let p = with_slice!(py, counts, |s| Profile::from_counts(s)).map_err(CoreError)?;
    Ok(into_arrays(py, p))
}

/// Profile of a sample of outcome labels.
#[pyfunction]
pub fn profile_from_samples<'py>(py: Python<'py>, samples: IntArray<'py>) -> PyResult<Pairs<'py>> {
    let p = with_slice!(py, samples, |s| Profile::from_samples(s)).map_err(CoreError)?;
    Ok(into_arrays(py, p))
}

/// Normalised profile of explicit pairs (sorted, merged, zero multiplicities dropped).
#[pyfunction]
pub fn profile_from_pairs<'py>(
    py: Python<'py>,
    ks: PyReadonlyArray1<'py, u64>,
    mks: PyReadonlyArray1<'py, u64>,
) -> PyResult<Pairs<'py>> {
    let p = Profile::from_pairs(ks.as_slice()?, mks.as_slice()?).map_err(CoreError)?;
    Ok(into_arrays(py, p))
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
    Ok(into_arrays(py, pa.add(&pb).map_err(CoreError)?))
}
