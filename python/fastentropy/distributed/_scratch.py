"""Scratch space of a distributed count: one directory per run, one per map attempt.

A map task writes its runs into a directory of its own attempt (named by the worker's
process id and a random suffix) and publishes it. A task that dies mid-write leaves only an
attempt directory, which no reduce task ever reads: reduce tasks read the directories that
the map tasks' results name.

On a local (or shared, mounted) directory an attempt is published with one ``rename`` to
the shard's final name; if two attempts of one task both finish (Dask may rerun a task
whose worker died after finishing), the first rename wins and the second attempt's files
are removed; both hold the same runs, since a count is deterministic.

Scratch may also be an fsspec URL (``s3://bucket/tmp``, ``gcs://...``, ``file:///...``):
object stores have no atomic rename, so an attempt is written to the worker's temp
directory, uploaded under its own attempt name, and that name is what the map task returns.
"""

from __future__ import annotations

import errno
import importlib
import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["attempt", "is_url", "load_rows", "load_small", "new_run", "on_disk_full", "remove"]


def is_url(path: str) -> bool:
    """Whether ``path`` is an fsspec URL (``protocol://...``) rather than a local path."""
    return "://" in path


def filesystem(url: str) -> tuple[Any, str]:
    """``(fsspec filesystem, path within it)`` of a URL."""
    fsspec: Any = importlib.import_module("fsspec")
    fs, path = fsspec.core.url_to_fs(url)
    return fs, path


def new_run(scratch: str | os.PathLike[str] | None) -> str:
    """A fresh directory for one run under ``scratch`` (default: the system's temp dir)."""
    root = tempfile.gettempdir() if scratch is None else os.fspath(scratch)
    if is_url(root):
        run = f"{root.rstrip('/')}/fastentropy-run-{uuid.uuid4().hex[:12]}"
        fs, path = filesystem(run)
        fs.makedirs(path, exist_ok=True)
        return run
    os.makedirs(root, exist_ok=True)
    return tempfile.mkdtemp(prefix="fastentropy-run-", dir=root)


def remove(run: str) -> None:
    """Removes a run's directory and everything in it (errors ignored)."""
    if not is_url(run):
        shutil.rmtree(run, ignore_errors=True)
        return
    fs, path = filesystem(run)
    try:
        fs.rm(path, recursive=True)
    except (OSError, FileNotFoundError):
        pass


@contextmanager
def attempt(run: str, name: str) -> Iterator[tuple[str, Callable[[], str]]]:
    """``(attempt_dir, publish)``: write into the local ``attempt_dir``, then ``publish()``
    makes it the run's ``name`` (or, under a URL, uploads it under its attempt name) and
    returns where readers find it. On any error the attempt directory is removed."""
    label = f"{name}.attempt-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    if is_url(run):
        work = tempfile.mkdtemp(prefix=f"{label}-")
        target = f"{run}/{label}"

        def publish() -> str:
            fs, path = filesystem(target)
            fs.makedirs(path, exist_ok=True)
            for entry in sorted(os.listdir(work)):
                fs.put_file(os.path.join(work, entry), f"{path}/{entry}")
            shutil.rmtree(work, ignore_errors=True)
            return target

    else:
        if not os.path.isdir(run):
            raise FileNotFoundError(
                errno.ENOENT,
                f"the scratch directory {run} is not on this worker ({socket.gethostname()}): "
                "give scratch= a directory every worker and the client share",
            )
        work = os.path.join(run, label)
        os.makedirs(work)
        final = os.path.join(run, name)

        def publish() -> str:
            try:
                os.rename(work, final)
            except OSError as e:
                # Another attempt of the same task published first: its runs are the same.
                if e.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not os.path.isdir(final):
                    raise
                shutil.rmtree(work, ignore_errors=True)
            return final

    try:
        yield work, publish
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def load_small(path: str) -> npt.NDArray[Any]:
    """A whole (small) ``.npy`` file: memory-mapped locally, read whole from a URL."""
    if not is_url(path):
        return np.asarray(np.load(path, mmap_mode="r"))
    fs, p = filesystem(path)
    with fs.open(p, "rb") as f:
        return np.asarray(np.load(f))


def load_rows(path: str, start: int, stop: int) -> npt.NDArray[Any]:
    """Rows ``start:stop`` of a ``.npy`` file: a view of its memory map locally, from a URL
    only those rows' bytes (one ranged read)."""
    if not is_url(path):
        return np.asarray(np.load(path, mmap_mode="r"))[start:stop]
    fs, p = filesystem(path)
    with fs.open(p, "rb") as f:
        np.lib.format.read_magic(f)
        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        row = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
        f.seek(f.tell() + start * row)
        data = f.read((stop - start) * row)
    return np.frombuffer(data, dtype).reshape((stop - start, *shape[1:]))


def on_disk_full(directory: str, error: OSError) -> OSError:
    """A full scratch disk said plainly: which directory, and what to do."""
    return OSError(
        errno.ENOSPC,
        f"the scratch directory {directory} is full (no space left on device) while writing "
        f"the n-gram runs ({error}); give scratch= a directory with more free space (about 12 "
        "bytes per distinct window of the largest order, 20 when a window's tail takes more "
        "than 64 bits, per shard)",
    )
