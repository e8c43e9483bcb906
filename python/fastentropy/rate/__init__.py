"""The entropy rate with an interval: estimators on plain arrays and their combination.

Public names are re-exported by :mod:`fastentropy`; the modules here are private.
"""

from ._estimate import estimate_rate
from ._estimators import (
    combine_rates,
    final_stretch_rate,
    mixed_code_length,
    rate_from_curve,
    rate_from_matches,
    rate_from_orders,
)
from ._result import MethodResult, Rate

__all__ = [
    "MethodResult",
    "Rate",
    "combine_rates",
    "estimate_rate",
    "final_stretch_rate",
    "mixed_code_length",
    "rate_from_curve",
    "rate_from_matches",
    "rate_from_orders",
]
