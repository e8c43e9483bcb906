"""``estimate_rate``: the rate of a token corpus from the engines that exist."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy.typing as npt

from .._floor import estimate_floor
from .._ngram import MemoryLimit, Progress
from ._estimators import combine_rates, rate_from_curve, rate_from_matches, rate_from_orders
from ._result import MethodResult, Rate

__all__ = ["METHODS", "estimate_rate"]

#: The estimator families, in the order they are reported.
METHODS = ("curve", "orders", "matches")
#: Orders counted for the h_n table when none are given.
DEFAULT_ORDERS = tuple(range(1, 9))


def estimate_rate(
    tokens: Any,
    *,
    methods: Iterable[str] | None = None,
    orders: Iterable[int] | None = None,
    curve: tuple[Sequence[float], Sequence[float]] | None = None,
    match_lengths: npt.ArrayLike | None = None,
    bound: float | None = None,
    separator: int | None = None,
    mask: npt.ArrayLike | None = None,
    threads: int | None = None,
    memory_limit: MemoryLimit = None,
    progress: Progress = False,
) -> Rate:
    """Estimate the entropy rate of a token corpus, with an interval, in nats per token.

    This first version runs what the library has today: the h_n table of
    :func:`estimate_floor` (orders 1..8 unless given) extrapolated in the order. The
    learning-curve and match-length estimators run when their inputs are passed
    (``curve=(n, nats)`` from a prequential predictor, ``match_lengths`` of the corpus);
    otherwise ``.methods`` says they were not run and why.

    Parameters
    ----------
    tokens
        As for :func:`estimate_floor`.
    methods : iterable of str, optional
        A subset of ``("curve", "orders", "matches")``; all by default.
    orders : iterable of int, optional
        Orders of the h_n table.
    curve : (n, nats), optional
        A prequential learning curve (cumulative nats at n tokens).
    match_lengths : array_like, optional
        Longest-previous-match lengths of the corpus, one per position.
    bound : float, optional
        The prequential code length per token: nothing reported exceeds it. Taken from the
        curve's last point when a curve is given and no bound.
    separator, mask, threads, memory_limit, progress
        As for :func:`estimate_floor`.

    Returns
    -------
    Rate

    Examples
    --------
    >>> import fastentropy as fe
    >>> src = fe.MarkovSource(8, 1, seed=1)
    >>> rate = fe.estimate_rate(src.sample(200_000, seed=2), orders=range(1, 7))
    >>> bool(rate.lower <= src.entropy_rate <= rate.upper)
    True
    >>> rate.methods["matches"].reason
    'not run: needs match_lengths (the suffix index is not available yet)'
    """
    chosen = list(METHODS if methods is None else methods)
    unknown = [m for m in chosen if m not in METHODS]
    if unknown:
        raise ValueError(f"unknown rate methods {unknown}; choose from {METHODS}")
    results: list[MethodResult] = []
    plain_curve = None
    bytes_per_token = chars_per_token = None
    if "curve" in chosen:
        if curve is None:
            results.append(
                MethodResult.failed("curve", "not run: needs curve=(n, nats) from a predictor")
            )
        else:
            n, nats = curve
            plain_curve = {"n": [float(x) for x in n], "nats": [float(x) for x in nats]}
            results.append(rate_from_curve(n, nats))
            if bound is None and len(plain_curve["n"]):
                bound = plain_curve["nats"][-1] / plain_curve["n"][-1]
    if "orders" in chosen:
        floor = estimate_floor(
            tokens,
            orders=DEFAULT_ORDERS if orders is None else orders,
            separator=separator,
            mask=mask,
            memory_limit=memory_limit,
            threads=threads,
            progress=progress,
        )
        bytes_per_token, chars_per_token = floor.bytes_per_token, floor.chars_per_token
        results.append(rate_from_orders(floor))
    if "matches" in chosen:
        if match_lengths is None:
            reason = "not run: needs match_lengths (the suffix index is not available yet)"
            results.append(MethodResult.failed("matches", reason))
        else:
            results.append(rate_from_matches(match_lengths))
    return combine_rates(
        results,
        bound=bound,
        curve=plain_curve,
        bytes_per_token=bytes_per_token,
        chars_per_token=chars_per_token,
    )
