"""The Dask client a distributed count runs on, and the threads of the worker a task is on.

dask and distributed are imported here, when a distributed function is called, never by
``import fastentropy``: they are the optional extra ``fastentropy[dask]``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["cluster_client", "resolve_client", "worker_threads"]

START = (
    "start one first, e.g. `from distributed import Client, LocalCluster; "
    "client = Client(LocalCluster(n_workers=4, threads_per_worker=1))` on one machine, or "
    "`Client('tcp://scheduler:8786')` for a running cluster, then pass client= (or call "
    "inside `with client:`)"
)


def resolve_client(client: Any) -> Any:
    """``client``, or the current client; a clear error when there is none."""
    try:
        import distributed
    except ImportError as e:
        raise ImportError(
            "fastentropy.distributed needs dask and distributed: pip install 'fastentropy[dask]'"
        ) from e
    if client is not None:
        if not isinstance(client, distributed.Client):
            raise TypeError(f"client must be a distributed.Client, got {type(client).__name__}")
        return client
    try:
        return distributed.get_client()
    except ValueError:
        raise ValueError(f"no Dask client is running: {START}") from None


def worker_threads() -> int | None:
    """Threads of the Dask worker running the calling task (None outside a worker)."""
    try:
        from distributed import get_worker

        return int(get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return None


@contextmanager
def cluster_client(
    scheduler: str | None, workers: int | None, threads: int | None
) -> Iterator[Any]:
    """A client of the cluster at ``scheduler``, or of a new local cluster of ``workers``
    processes with ``threads`` each (default 1), closed at the end."""
    try:
        dd: Any = importlib.import_module("distributed")
    except ImportError as e:
        raise ImportError("a Dask cluster needs dask: pip install 'fastentropy[dask]'") from e
    cluster = None
    if scheduler is None:
        cluster = dd.LocalCluster(
            n_workers=workers, threads_per_worker=threads or 1, dashboard_address=":0"
        )
    try:
        client = dd.Client(scheduler if cluster is None else cluster, set_as_default=False)
        try:
            yield client
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
