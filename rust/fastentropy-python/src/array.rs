//! numpy arrays at the boundary: integer arrays borrowed in, profiles moved out.

use fastentropy_core::Profile;
use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;

/// A 1-D integer numpy array of any width and signedness (C-contiguous: the Python layer
/// makes it so), read in place.
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

/// Evaluates `$body` with `$s` bound to the array's slice, whatever its dtype (one
/// monomorphised copy of `$body` per dtype; `?` on a non-contiguous array).
macro_rules! with_slice {
    ($arr:expr, |$s:ident| $body:expr) => {
        with_slice!(@arms $arr, $s, $body, I64, U64, I32, U32, I16, U16, I8, U8)
    };
    (@arms $arr:expr, $s:ident, $body:expr, $($variant:ident),*) => {
        match $arr {
            $($crate::array::IntArray::$variant(a) => {
                let $s = a.as_slice()?;
                $body
            })*
        }
    };
}
pub(crate) use with_slice;

/// A profile as `(ks, mks)` uint64 arrays.
pub type Pairs<'py> = (Bound<'py, PyArray1<u64>>, Bound<'py, PyArray1<u64>>);

/// Moves a profile out as `(ks, mks)`.
pub fn into_arrays<'py>(py: Python<'py>, p: &Profile) -> Pairs<'py> {
    let (ks, mks): (Vec<u64>, Vec<u64>) = p.pairs().iter().copied().unzip();
    (ks.into_pyarray(py), mks.into_pyarray(py))
}
