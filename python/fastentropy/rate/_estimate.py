"""``estimate_rate``: the rate of a token corpus from the engines that exist."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy.typing as npt

from .._ngram import Progress
from .._types import MemoryLimit
from ._result import Rate

__all__ = ["estimate_rate"]


def estimate_rate(
    tokens: Any,
    *,
    methods: Iterable[str] | None = None,
    orders: Iterable[int] | None = None,
    separator: int | None = None,
    mask: npt.ArrayLike | None = None,
    meta: Any = None,
    threads: int | None = None,
    memory_limit: MemoryLimit = None,
    progress: Progress = False,
) -> Rate:
    """Estimate the entropy rate of a token corpus, with an interval, in nats per token.

    Runs the suffix index, the online predictor of :func:`prequential` (for at most 2^20 ids
    the mixture of its bit and token models) and the entropy estimators (as
    :func:`estimate_floor` does) and combines three estimators of the rate: the
    extrapolation of the predictor's learning curve (``"curve"``), the extrapolation of h_n in
    the order (``"orders"``) and the match-length estimators (``"matches"``). The
    predictor's code length per token is an upper bound (``.bound``) that nothing reported
    exceeds.

    Parameters
    ----------
    tokens
        As for :func:`estimate_floor`.
    methods : iterable of str, optional
        A subset of ``("curve", "orders", "matches")``; all by default.
    orders : iterable of int, optional
        Orders of the h_n table (default: every order the corpus samples, and two more).
    separator, mask, meta, threads, memory_limit, progress
        As for :func:`estimate_floor`.

    Returns
    -------
    Rate

    Examples
    --------
    >>> import fastentropy as fe
    >>> src = fe.MarkovSource(8, 1, seed=1)
    >>> rate = fe.estimate_rate(src.sample(200_000, seed=2))
    >>> bool(rate.lower <= src.entropy_rate <= rate.upper <= rate.bound)
    True
    >>> sorted(rate.methods)
    ['curve', 'matches', 'orders']
    """
    # Imported here: the floor module imports this package's result types.
    from .._floor import estimate_floor

    floor = estimate_floor(
        tokens,
        orders=orders,
        rate_methods=methods,
        separator=separator,
        mask=mask,
        meta=meta,
        threads=threads,
        memory_limit=memory_limit,
        progress=progress,
    )
    if floor.rate is None:
        raise ValueError("no rate: the corpus has no scored tokens")
    return floor.rate
