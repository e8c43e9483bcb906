//! The one error type of the core. Every variant is a bad value supplied by the caller; the
//! bindings map them all to `ValueError` with the message as written here.

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
        method: &'static str,
        needed: u64,
        n: u64,
        distinct: u64,
        /// What the caller can do instead.
        remedy: &'static str,
    },
    /// Any other invalid argument; the message says which and why.
    #[error("{0}")]
    Invalid(String),
}

/// Result with the core's error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
