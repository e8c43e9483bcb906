"""Cross-entropy over a Dask cluster: one accumulator per shard of logits, merged.

The accumulator sums losses in fixed point (2^-64 nats) with integer additions, so merging
the shards' accumulators in any order gives the same bits as one accumulator fed every
shard on one machine."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .._progress import Progress, stage
from .._xent import CrossEntropy, Unit
from ._client import resolve_client, worker_threads

__all__ = ["cross_entropy"]


def _open(source: Any) -> Any:
    """A shard as ``CrossEntropy.update`` takes it: a path memory-mapped, an array as it is
    (arrays unpickled on a worker may sit misaligned: ``update`` aligns them, through
    ``_args.in_place``, like every array the core reads)."""
    if isinstance(source, (str, os.PathLike)):
        return np.load(os.fspath(source), mmap_mode="r")
    return source


def _shard(
    index: int,
    logits: Any,
    targets: Any,
    unit: Unit,
    ignore_index: int | None,
    dtype: str | None,
) -> CrossEntropy:
    acc = CrossEntropy(unit=unit, ignore_index=ignore_index, threads=worker_threads())
    try:
        acc.update(_open(logits), _open(targets), dtype=dtype)
    except Exception as e:
        name = logits if isinstance(logits, (str, os.PathLike)) else "(an array)"
        raise type(e)(f"logit shard {index} {name}: {e}") from e
    return acc


def cross_entropy(
    logit_shards: Sequence[Any],
    target_shards: Sequence[Any],
    *,
    unit: Unit = "nats",
    ignore_index: int | None = -100,
    dtype: str | None = None,
    client: Any = None,
    progress: Progress = False,
) -> CrossEntropy:
    """Cross-entropy of logits against targets, shard by shard on a Dask cluster.

    Each task feeds one shard to a :class:`fastentropy.CrossEntropy`; the accumulators come
    back (a few hundred bytes each) and are merged. The totals (``count``, ``sum``,
    ``mean``) are bit-identical to one accumulator fed every shard on one machine.

    Parameters
    ----------
    logit_shards : list
        ``.npy`` paths (memory-mapped on the worker) or arrays, shape ``(..., vocab)``, as
        :func:`fastentropy.cross_entropy` takes them.
    target_shards : list
        The targets of each logit shard: ``.npy`` paths or arrays of int ids.
    unit, ignore_index, dtype
        As in :func:`fastentropy.cross_entropy`.
    client : distributed.Client, optional
        Default: the current client.
    progress : bool, "auto" or callable, default False
        Progress in finished shards.

    Returns
    -------
    CrossEntropy
        The merged accumulator.

    Raises
    ------
    ImportError
        dask or distributed is not installed.
    ValueError
        Shard lists of different lengths, no client, or a shard that cannot be scored (the
        message names it).

    Examples
    --------
    >>> import numpy as np
    >>> from distributed import Client, LocalCluster
    >>> from fastentropy import distributed as fed
    >>> logits = [np.zeros((3, 8), np.float32), np.zeros((2, 8), np.float32)]
    >>> cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=":0")
    >>> with Client(cluster):
    ...     acc = fed.cross_entropy(logits, [np.array([1, 2, 3]), np.array([4, 5])])
    >>> cluster.close()
    >>> acc.count, round(acc.mean, 6)   # ln 8
    (5, 2.079442)
    """
    client = resolve_client(client)
    logit_shards, target_shards = list(logit_shards), list(target_shards)
    if len(logit_shards) != len(target_shards):
        raise ValueError(
            f"{len(logit_shards)} logit shards but {len(target_shards)} target shards: "
            "one target shard per logit shard"
        )
    total = CrossEntropy(unit=unit, ignore_index=ignore_index)
    futures = [
        client.submit(_shard, i, lg, tg, unit, ignore_index, dtype, pure=False)
        for i, (lg, tg) in enumerate(zip(logit_shards, target_shards, strict=True))
    ]
    from distributed import as_completed

    with stage(progress, "distributed cross-entropy", unit="shards") as report:
        finished = as_completed(futures, loop=client.loop)  # type: ignore[no-untyped-call]
        for done, future in enumerate(finished, start=1):
            total.merge(future.result())
            if report is not None:
                report(done, len(futures))
    return total
