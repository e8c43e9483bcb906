//! The one mapping from core errors to Python exceptions.

use pyo3::exceptions::{
    PyFileNotFoundError, PyKeyboardInterrupt, PyMemoryError, PyOSError, PyPermissionError,
    PyValueError,
};
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
            // With the OS's error number, OSError(errno, strerror, filename): Python then picks
            // the subclass (FileNotFoundError, PermissionError, ...) and sets .errno/.filename.
            Error::Io {
                errno: Some(code),
                ref path,
                ref message,
                ..
            } => {
                let suffix = format!(" (os error {code})");
                let strerror = message.strip_suffix(&suffix).unwrap_or(message);
                PyOSError::new_err((code, strerror.to_owned(), path.clone()))
            }
            Error::Io { kind, .. } => match kind {
                std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(e.to_string()),
                std::io::ErrorKind::PermissionDenied => PyPermissionError::new_err(e.to_string()),
                _ => PyOSError::new_err(e.to_string()),
            },
        }
    }
}
