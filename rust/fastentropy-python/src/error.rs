//! The one mapping from core errors to Python exceptions.

use pyo3::exceptions::{PyKeyboardInterrupt, PyMemoryError, PyValueError};
use pyo3::PyErr;

/// A core error on its way to Python.
pub struct CoreError(pub fastentropy_core::Error);

impl From<fastentropy_core::Error> for CoreError {
    fn from(e: fastentropy_core::Error) -> Self {
        Self(e)
    }
}

impl From<CoreError> for PyErr {
    fn from(CoreError(e): CoreError) -> PyErr {
        use fastentropy_core::Error;
        match e {
            Error::Empty | Error::TooFewCoincidences { .. } | Error::Invalid(_) => {
                PyValueError::new_err(e.to_string())
            }
            Error::MemoryLimit { .. } => PyMemoryError::new_err(e.to_string()),
            Error::Cancelled => PyKeyboardInterrupt::new_err(e.to_string()),
        }
    }
}
