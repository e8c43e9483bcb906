"""The floor's n-gram table over a Dask cluster: the profiles of every order and of their
contexts are counted by map and reduce (:mod:`._ngram`), then read by the one-machine code
(:func:`fastentropy._floor.estimate.ngram_floor`), so the table is the same as one
machine's."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from .._floor.estimate import DEFAULT_MAX_ORDER, DEFAULT_METHODS, ngram_floor
from .._floor.model import Floor
from .._progress import Progress
from ._ngram import TableKey, count_tables, shard_options, wanted_orders
from ._shards import ShardSpec

__all__ = ["estimate_floor"]


def estimate_floor(
    shards: str | Sequence[ShardSpec],
    *,
    orders: Iterable[int] = range(1, DEFAULT_MAX_ORDER + 1),
    methods: Iterable[str] = DEFAULT_METHODS,
    separator: int | None = None,
    mask: Sequence[Any] | None = None,
    dtype: str | None = None,
    meta: Any = None,
    continued: bool = False,
    client: Any = None,
    partitions: int | None = None,
    scratch: str | os.PathLike[str] | None = None,
    memory_limit_per_task: int | str | None = None,
    strategy: str | None = None,
    progress: Progress = False,
) -> Floor:
    """The floor's n-gram table (h_n by order and the floor read off it) over token shards.

    The table is :func:`fastentropy.estimate_floor`'s on the shards concatenated as in
    :func:`ngram_profiles` (with a separator between shards, or none with
    ``continued=True``): the same profiles of n-grams and of their contexts, read by the
    same code. Only the n-gram part is made: no online predictor and no suffix index, so
    the result has no ``rate`` and its point is h_n at the chosen order.

    Parameters
    ----------
    shards, separator, mask, dtype, continued, client, partitions, scratch
        As in :func:`ngram_profiles`.
    orders : iterable of int, default 1..6
        Orders of the h_n table.
    methods : iterable of str
        Entropy estimators, as in :func:`fastentropy.estimate_floor`.
    meta : TokenFile or mapping, optional
        The tokenization sidecar (bytes and characters per token, vocabulary size).
    memory_limit_per_task, strategy, progress
        As in :func:`ngram_profiles`.

    Returns
    -------
    Floor
        ``n_tokens`` counts the tokens of the concatenation (one separator between shards).

    Raises
    ------
    ImportError, ValueError, OSError
        As in :func:`ngram_profiles`; ``ValueError`` also when no order has an estimate.

    Examples
    --------
    >>> import numpy as np
    >>> import fastentropy as fe
    >>> from distributed import Client, LocalCluster
    >>> from fastentropy import distributed as fed
    >>> src = fe.MarkovSource(vocab_size=4, order=1, seed=0)
    >>> shards = [src.sample(20_000, seed=s) for s in (1, 2)]
    >>> cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=":0")
    >>> with Client(cluster):
    ...     floor = fed.estimate_floor(shards, orders=[1, 2, 3])
    >>> cluster.close()
    >>> floor.order, floor.n_tokens
    (3, 40001)
    """
    wanted = wanted_orders(orders)
    tables: list[TableKey] = [("ngrams", n) for n in wanted]
    tables += [("contexts", n - 1) for n in wanted if n >= 2]
    profiles, summary = count_tables(shards, tables, **shard_options(locals()))
    blocks = {n: profiles[("ngrams", n)] for n in wanted}
    contexts = {n: profiles[("contexts", n - 1)] for n in wanted if n >= 2}
    return ngram_floor(
        blocks, contexts, methods, n_tokens=summary.tokens, masked=summary.masked, meta=meta
    )
