//! PyO3 bindings of fastentropy-core: the private module `fastentropy._core`.
//!
//! Each function is a three-step adapter: borrow the numpy input, run the core with the GIL
//! released, move the result out. The public, documented API is the Python package.

use pyo3::prelude::*;

mod array;
mod bpe;
mod error;
mod estimate;
mod hmm;
mod markov;
mod ngram;
mod npy;
mod predict;
mod profile;
mod ranged;
mod rate;
mod run;
mod suffix;
mod xent;

#[pymodule]
mod _core {
    use pyo3::prelude::*;

    #[pymodule_export]
    use super::bpe::BpeEncoder;
    #[pymodule_export]
    use super::estimate::{estimate, max_ngram_order, method_refusal};
    #[pymodule_export]
    use super::hmm::HiddenMarkovSource;
    #[pymodule_export]
    use super::markov::MarkovSource;
    #[pymodule_export]
    use super::ngram::{
        count_ngrams, merge_ngram_runs, ngram_profiles, ngram_runs, ngram_table, NgramCounts,
    };
    #[pymodule_export]
    use super::predict::{prequential, prequential_distributions};
    #[pymodule_export]
    use super::profile::{
        profile_add, profile_from_counts, profile_from_pairs, profile_from_samples,
    };
    #[pymodule_export]
    use super::ranged::{token_counts, FirstRange};

    #[pymodule_export]
    use super::rate::{
        rate_combine, rate_curve, rate_curve_absorbed, rate_grassberger,
        rate_imprecise_extrapolations, rate_matches, rate_mix, rate_orders, rate_slope_alone,
        rate_tail,
    };
    #[pymodule_export]
    use super::suffix::{
        suffix_background_sorts, suffix_build, suffix_header, suffix_open, SuffixIndex,
    };
    #[pymodule_export]
    use super::xent::{xent_exp, xent_isas, xent_path16, xent_tokens, XentSums};

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        let names: Vec<&str> = fastentropy_core::Method::ALL
            .iter()
            .map(|method| method.name())
            .collect();
        m.add("METHODS", pyo3::types::PyTuple::new(m.py(), names)?)?;
        let needs_alphabet: Vec<&str> = (fastentropy_core::Method::ALL.iter())
            .filter(|method| method.needs_alphabet())
            .map(|method| method.name())
            .collect();
        m.add(
            "NEEDS_ALPHABET",
            pyo3::types::PyTuple::new(m.py(), needs_alphabet)?,
        )?;
        m.add(
            "CONCENTRATIONS",
            pyo3::types::PyTuple::new(m.py(), fastentropy_core::Concentration::NAMES)?,
        )?;
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        m.add(
            "RATE_MAX_RELATIVE_WIDTH",
            fastentropy_core::rate::combine::MAX_RELATIVE_WIDTH,
        )?;
        m.add("RATE_MARGIN", fastentropy_core::rate::combine::MARGIN)?;
        m.add(
            "RATE_MAX_WIDTH_RATIO",
            fastentropy_core::rate::combine::MAX_WIDTH_RATIO,
        )?;
        m.add(
            "RATE_MIX_ALPHAS",
            pyo3::types::PyTuple::new(m.py(), fastentropy_core::rate::mix::ALPHAS)?,
        )?;
        m.add("MAX_THREADS", fastentropy_core::control::MAX_THREADS)?;
        m.add(
            "SUFFIX_BUILD_STAGES",
            pyo3::types::PyTuple::new(m.py(), fastentropy_core::suffix::BUILD_STAGES)?,
        )?;
        m.add(
            "ANSB_REGIME_LIMIT",
            fastentropy_core::estimators::ANSB_REGIME_LIMIT,
        )?;
        Ok(())
    }
}
