"""Scratch space of a distributed count: one directory per run, one per map attempt.

A map task writes its tables into a directory of its own attempt (named by the worker's
process id and a random suffix) and publishes it with one ``rename`` to the shard's final
name. A task that dies mid-write leaves only an attempt directory, which no reduce task ever
reads: reduce tasks read the final directories that the map tasks' results name. If two
attempts of one task both finish (Dask may rerun a task whose worker died after finishing),
the first rename wins and the second attempt's files are removed; both hold the same tables,
since a count is deterministic.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

__all__ = ["attempt", "new_run", "on_disk_full"]

T = TypeVar("T")


def new_run(scratch: str | os.PathLike[str] | None) -> str:
    """A fresh directory for one run under ``scratch`` (default: the system's temp dir)."""
    root = tempfile.gettempdir() if scratch is None else os.fspath(scratch)
    os.makedirs(root, exist_ok=True)
    return tempfile.mkdtemp(prefix="fastentropy-run-", dir=root)


@contextmanager
def attempt(run: str, name: str) -> Iterator[tuple[str, Callable[[], str]]]:
    """``(attempt_dir, publish)``: write into ``attempt_dir``, then ``publish()`` renames it
    to ``run/name`` and returns that path. On any error the attempt directory is removed."""
    if not os.path.isdir(run):
        raise FileNotFoundError(
            errno.ENOENT,
            f"the scratch directory {run} is not on this worker ({socket.gethostname()}): "
            "give scratch= a directory every worker and the client share",
        )
    work = os.path.join(run, f"{name}.attempt-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    os.makedirs(work)
    final = os.path.join(run, name)

    def publish() -> str:
        try:
            os.rename(work, final)
        except OSError as e:
            # Another attempt of the same task published first: its tables are the same.
            if e.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not os.path.isdir(final):
                raise
            shutil.rmtree(work, ignore_errors=True)
        return final

    try:
        yield work, publish
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def on_disk_full(run: str, error: OSError) -> OSError:
    """A full scratch disk said plainly: which directory, and what to do."""
    return OSError(
        errno.ENOSPC,
        f"the scratch directory {run} is full (no space left on device) while writing the "
        f"n-gram runs ({error}); give scratch= a directory with more free space (about 12 "
        "bytes per distinct window of the largest order, 20 when a window's tail takes more "
        "than 64 bits, per shard)",
    )
