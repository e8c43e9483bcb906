"""fastentropy: fast, exact entropy estimation for language-model corpora.

Cross-entropy loss = H(Q) + KL(Q || P), so the entropy H(Q) of text's true next-token
distribution is a floor under any honest loss. fastentropy estimates that floor from the
corpus itself, with bias-corrected and Bayesian estimators and their error bars.

>>> import fastentropy as fe
>>> p = fe.Profile.from_samples([1, 1, 2, 3, 3, 3])
>>> round(fe.entropy(p, "plugin").value, 6)
1.011404
"""

from . import _omp  # noqa: F401  (first: before the extension loads)
from ._check import LossLog, Verdict, check, read_losses
from ._core import __version__
from ._estimate import METHODS, Estimate, entropies, entropy
from ._floor import Floor, OrderReport, estimate_floor
from ._hmm import ForwardRate, HiddenMarkovSource
from ._markov import MarkovSource
from ._ngram import NgramCounts, count_ngrams, ngram_profiles
from ._prequential import CodeLength, Curve, prequential
from ._profile import Profile
from ._suffix import SuffixIndex
from ._text.tokenize import TokenFile, open_tokens, tokenize
from ._xent import CrossEntropy, SegmentLosses, cross_entropy
from .rate import (
    MethodResult,
    Rate,
    combine_rates,
    estimate_rate,
    final_stretch_rate,
    mixed_code_length,
    rate_from_curve,
    rate_from_matches,
    rate_from_orders,
)

__all__ = [
    "METHODS",
    "CodeLength",
    "CrossEntropy",
    "Curve",
    "Estimate",
    "Floor",
    "ForwardRate",
    "HiddenMarkovSource",
    "LossLog",
    "MarkovSource",
    "MethodResult",
    "NgramCounts",
    "OrderReport",
    "Profile",
    "Rate",
    "SegmentLosses",
    "SuffixIndex",
    "TokenFile",
    "Verdict",
    "__version__",
    "check",
    "combine_rates",
    "count_ngrams",
    "cross_entropy",
    "entropies",
    "entropy",
    "estimate_floor",
    "estimate_rate",
    "final_stretch_rate",
    "mixed_code_length",
    "ngram_profiles",
    "open_tokens",
    "prequential",
    "rate_from_curve",
    "rate_from_matches",
    "rate_from_orders",
    "read_losses",
    "tokenize",
]
