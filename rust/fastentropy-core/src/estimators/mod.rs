//! Entropy estimators. Each works from a [`Profile`] alone, in time proportional to the
//! number of distinct count values (times a quadrature's node count for the Bayesian
//! mixtures), never to N or to the alphabet size. All values are in nats.
//!
//! One file per family; each starts with its formula, reference and domain of validity.

mod ansb;
mod chao_shen;
mod dirichlet;
mod grassberger;
mod jackknife;
mod nsb;
mod pitman_yor;
mod plugin;
mod pym;
mod shrinkage;
mod zhang;

use std::fmt;
use std::str::FromStr;

pub use ansb::ANSB_REGIME_LIMIT;
pub use dirichlet::Concentration;

use crate::error::{Error, Result};
use crate::profile::Profile;

/// An entropy estimation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// Maximum likelihood (`plugin.rs`).
    Plugin,
    /// Plug-in plus (K_obs − 1)/(2N) (`plugin.rs`).
    MillerMadow,
    /// Delete-one jackknife of the plug-in (`jackknife.rs`).
    Jackknife,
    /// Grassberger 2003, the ψ(N) form (`grassberger.rs`).
    Grassberger,
    /// Grassberger's estimator with ln N for ψ(N) (`grassberger.rs`).
    GrassbergerLnN,
    /// Chao–Shen coverage-adjusted (`chao_shen.rs`).
    ChaoShen,
    /// Zhang 2012 (`zhang.rs`).
    Zhang,
    /// James–Stein shrinkage (`shrinkage.rs`).
    Shrinkage,
    /// Dirichlet posterior mean at a given concentration (`dirichlet.rs`).
    Dirichlet,
    /// Nemenman–Shafee–Bialek (`nsb.rs`).
    Nsb,
    /// Nemenman's asymptotic NSB (`ansb.rs`).
    Ansb,
    /// Pitman–Yor mixture (`pym.rs`).
    Pym,
}

impl Method {
    /// Every method, in the order tables list them.
    pub const ALL: [Method; 12] = [
        Method::Plugin,
        Method::MillerMadow,
        Method::Jackknife,
        Method::Grassberger,
        Method::GrassbergerLnN,
        Method::ChaoShen,
        Method::Zhang,
        Method::Shrinkage,
        Method::Dirichlet,
        Method::Nsb,
        Method::Ansb,
        Method::Pym,
    ];

    /// The method's public name.
    pub fn name(self) -> &'static str {
        match self {
            Method::Plugin => "plugin",
            Method::MillerMadow => "miller_madow",
            Method::Jackknife => "jackknife",
            Method::Grassberger => "grassberger",
            Method::GrassbergerLnN => "grassberger_lnN",
            Method::ChaoShen => "chao_shen",
            Method::Zhang => "zhang",
            Method::Shrinkage => "shrinkage",
            Method::Dirichlet => "dirichlet",
            Method::Nsb => "nsb",
            Method::Ansb => "ansb",
            Method::Pym => "pym",
        }
    }

    /// Whether the method needs `alphabet_size` (a Dirichlet prior needs its K bins).
    pub fn needs_alphabet(self) -> bool {
        matches!(self, Method::Dirichlet)
    }

    /// Coincidences (N − K_obs, outcomes seen again) the method needs, given whether an
    /// alphabet size is known: the Bayesian mixtures over an unbounded alphabet learn the
    /// concentration from coincidences alone, and with none the posterior is improper
    /// (Nemenman et al. 2004; Archer et al. 2014). Finite-K NSB needs none.
    pub fn needs_coincidences(self, alphabet_known: bool) -> u64 {
        match self {
            Method::Ansb | Method::Pym => 1,
            Method::Nsb if !alphabet_known => 1,
            _ => 0,
        }
    }

    /// Observations the method needs: the jackknife deletes one and needs one left.
    pub fn needs_observations(self) -> u64 {
        match self {
            Method::Jackknife => 2,
            _ => 1,
        }
    }

    /// Whether this method can estimate from `profile` with `alphabet` (None: unknown); the
    /// error says why not. The one place these requirements are enforced: [`estimate`]
    /// calls it, and callers choosing methods for a sample ask it.
    ///
    /// # Errors
    /// An empty profile, a sample with fewer observations or coincidences than the method
    /// needs, a missing alphabet size where the method needs one.
    pub fn check(self, profile: &Profile, alphabet: Option<f64>) -> Result<()> {
        if profile.n() == 0 {
            return Err(Error::Empty);
        }
        if self.needs_alphabet() && alphabet.is_none() {
            return Err(Error::Invalid(format!(
                "{self} needs alphabet_size (the number of bins K)"
            )));
        }
        let needed = self.needs_observations();
        if profile.n() < needed {
            return Err(Error::Invalid(format!(
                "{self} needs at least two observations (N >= {needed})"
            )));
        }
        let needed = self.needs_coincidences(alphabet.is_some());
        if profile.coincidences() < needed {
            return Err(Error::TooFewCoincidences {
                method: match self {
                    Method::Nsb => "nsb with alphabet_size=None",
                    _ => self.name(),
                },
                needed,
                n: profile.n(),
                distinct: profile.distinct(),
                remedy: match self {
                    Method::Nsb => {
                        "give alphabet_size (finite-K NSB needs none) or use a method that \
                         does not need them"
                    }
                    _ => {
                        "use a method that does not need coincidences (e.g. chao_shen), or \
                         nsb with alphabet_size"
                    }
                },
            });
        }
        Ok(())
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Method {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Method::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
                Error::Invalid(format!(
                    "unknown method {s:?}; choose one of {}",
                    names.join(", ")
                ))
            })
    }
}

/// Options shared by the estimators.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Options {
    /// The number K of possible outcomes, when known (a float: K may exceed 2^64).
    pub alphabet_size: Option<f64>,
    /// Prior concentration of `dirichlet`; Jeffreys (1/2) when `None`.
    pub concentration: Option<Concentration>,
}

/// An entropy estimate in nats.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The estimate.
    pub value: f64,
    /// Its standard deviation (posterior std, or standard error), where the method has one.
    pub std: Option<f64>,
    /// How the estimate was made, where an option was absent (e.g. the alphabet assumed).
    pub notes: Vec<String>,
    /// Reasons to distrust this estimate (e.g. a method used outside its regime).
    pub warnings: Vec<String>,
}

impl Estimate {
    fn new(value: f64, std: Option<f64>) -> Self {
        Self {
            value,
            std,
            notes: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// Estimates the entropy (nats) of the distribution behind `profile` with `method`.
///
/// # Errors
/// An empty profile, an alphabet size smaller than the observed support or not finite, a
/// missing alphabet size where the method needs one, too few coincidences for the method.
pub fn estimate(profile: &Profile, method: Method, options: &Options) -> Result<Estimate> {
    if profile.n() == 0 {
        return Err(Error::Empty);
    }
    let alphabet = options
        .alphabet_size
        .map(|k| checked_alphabet(k, profile))
        .transpose()?;
    method.check(profile, alphabet)?;
    let mut est = match method {
        Method::Plugin => Estimate::new(plugin::plugin(profile), None),
        Method::MillerMadow => Estimate::new(plugin::miller_madow(profile), None),
        Method::Jackknife => {
            let (value, se) = jackknife::jackknife(profile);
            Estimate::new(value, Some(se))
        }
        Method::Grassberger => Estimate::new(grassberger::grassberger(profile), None),
        Method::GrassbergerLnN => Estimate::new(grassberger::grassberger_ln_n(profile), None),
        Method::ChaoShen => Estimate::new(chao_shen::chao_shen(profile), None),
        Method::Zhang => Estimate::new(zhang::zhang(profile), None),
        Method::Shrinkage => {
            let k = alphabet.unwrap_or(profile.distinct() as f64);
            let mut est = Estimate::new(shrinkage::shrinkage(profile, k), None);
            if alphabet.is_none() {
                est.notes.push(format!(
                    "no alphabet_size given: shrinking toward uniform over the {} observed \
                     outcomes",
                    profile.distinct()
                ));
            }
            est
        }
        Method::Dirichlet => {
            // `Method::check` refused a missing K above.
            let k = alphabet.unwrap_or(profile.distinct() as f64);
            let c = options.concentration.unwrap_or(Concentration::Jeffreys);
            let (value, std) = dirichlet::dirichlet(profile, c, k)?;
            Estimate::new(value, Some(std))
        }
        Method::Nsb => {
            let (value, std) = nsb::nsb(profile, alphabet)?;
            Estimate::new(value, Some(std))
        }
        Method::Ansb => {
            let (value, std, outside) = ansb::ansb(profile);
            let mut est = Estimate::new(value, Some(std));
            if outside {
                est.warnings.push(format!(
                    "ansb is an asymptotic approximation valid when coincidences are few \
                     (N - distinct << N); here N - distinct = {} is more than {:.0}% of N = {}: \
                     prefer nsb",
                    profile.coincidences(),
                    100.0 * ansb::ANSB_REGIME_LIMIT,
                    profile.n()
                ));
            }
            est
        }
        Method::Pym => {
            let (value, std) = pym::pym(profile)?;
            Estimate::new(value, Some(std))
        }
    };
    // −0.0 (from −q ln q at q = 1) prints oddly; + 0.0 makes it +0.0 and changes nothing else.
    est.value += 0.0;
    if !est.value.is_finite() || est.std.is_some_and(|s| !s.is_finite()) {
        // A non-finite number here is a bug; say so rather than return it.
        return Err(Error::Invalid(format!(
            "{method} produced a non-finite result for this profile (N = {}, distinct = {}); \
             please report it",
            profile.n(),
            profile.distinct()
        )));
    }
    Ok(est)
}

/// √var, with a variance rounded just below zero read as zero (a NaN stays NaN, to be
/// reported, never hidden).
pub(crate) fn std_of(var: f64) -> f64 {
    if var < 0.0 {
        0.0
    } else {
        var.sqrt()
    }
}

fn checked_alphabet(k: f64, profile: &Profile) -> Result<f64> {
    let distinct = profile.distinct() as f64;
    if !k.is_finite() || k < distinct || k < 1.0 {
        return Err(Error::Invalid(format!(
            "alphabet_size must be a finite number >= the {} distinct outcomes observed, got {k}",
            profile.distinct()
        )));
    }
    Ok(k)
}

#[cfg(test)]
mod tests;
