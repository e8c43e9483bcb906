//! fastentropy-core: entropy estimation from count profiles, in pure Rust.
//!
//! A [`Profile`] is the count of counts of a sample: for each count value `k`, the number
//! `m_k` of distinct outcomes seen exactly `k` times. Every symmetric estimator is a function
//! of it, and profiles of disjoint supports add, so counting engines produce profiles and the
//! [`estimators`] consume them. All estimates are in nats.

pub mod bpe;
pub mod control;
pub mod error;
pub mod estimators;
pub mod hmm;
pub mod markov;
pub mod ngram;
pub mod predict;
pub mod profile;
pub mod quadrature;
pub mod rate;
pub mod special;
pub mod suffix;
#[cfg(test)]
mod test_rng;
pub mod tokens;
pub mod xent;

pub use control::Control;
pub use error::{Error, Result};
pub use estimators::{estimate, Concentration, Estimate, Method, Options};
pub use hmm::{ForwardRate, HiddenMarkovSource};
pub use markov::MarkovSource;
pub use ngram::{
    count_ngrams, max_order, merge_ngram_runs, ngram_profiles, ngram_runs, ngram_table,
    token_counts, CountOptions, FirstRange, NgramCounts, RunBatch, RunCounts, RunFile, RunInfo,
    RunMerge, RunSink, TableSink,
};
pub use predict::{prequential, CodeLength, PredictOptions};
pub use profile::Profile;
pub use suffix::{MatchKind, SuffixIndex};
