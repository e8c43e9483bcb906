//! The one error type of the core. Most variants are a bad value supplied by the caller
//! (`ValueError` in Python); an unmet memory limit and cancellation have their own.

/// What went wrong, in words that name the offending input and what would be right.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A profile with no observations (N = 0).
    #[error("the sample is empty (N = 0): entropy needs at least one observation")]
    Empty,
    /// A method needs repeated outcomes (N > K_obs) and the sample has none or too few.
    #[error(
        "{method} needs at least {needed} coincidence(s) (an outcome seen more than once: \
         N - distinct >= {needed}), but N = {n} and distinct = {distinct}; {remedy}"
    )]
    TooFewCoincidences {
        /// The method's name.
        method: &'static str,
        /// Coincidences it needs.
        needed: u64,
        /// Observations in the sample.
        n: u64,
        /// Distinct outcomes observed.
        distinct: u64,
        /// What the caller can do instead.
        remedy: &'static str,
    },
    /// Any other invalid argument; the message says which and why.
    #[error("{0}")]
    Invalid(String),
    /// The work cannot be done within the caller's memory limit.
    #[error("memory_limit = {limit} bytes is too small: {reason}; a limit of at least {needed} bytes would work")]
    MemoryLimit {
        /// The caller's limit in bytes.
        limit: u64,
        /// Bytes that would do.
        needed: u64,
        /// What needs the memory.
        reason: String,
    },
    /// A file could not be read or written (`OSError` in Python); `kind` says why.
    #[error("{path}: {message}")]
    Io {
        /// The file's path, as displayed.
        path: String,
        /// The kind of the underlying I/O error.
        kind: std::io::ErrorKind,
        /// The operating system's error number, when the error came from the OS (Python's
        /// `OSError.errno`: callers tell a full disk from a missing file by it, not by words).
        errno: Option<i32>,
        /// The underlying I/O error's message.
        message: String,
    },
    /// The caller's cancel flag was set (e.g. Ctrl-C).
    #[error("cancelled")]
    Cancelled,
}

impl Error {
    /// The error of an I/O operation on `path`.
    pub fn io(path: &std::path::Path, e: &std::io::Error) -> Self {
        Self::Io {
            path: path.display().to_string(),
            kind: e.kind(),
            errno: e.raw_os_error(),
            message: e.to_string(),
        }
    }
}

/// Result with the core's error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
