"""Shards: the token files a distributed count reads, described so a worker can open them.

A shard travels to a worker as a small picklable :class:`Shard` (a path, an fsspec URL, or
for tests and small inputs an array), never as its tokens; the worker opens it with the same
readers as one machine (:func:`fastentropy.open_tokens`, :class:`fastentropy.TokenFile`), so
a separator and a loss mask written by :func:`fastentropy.tokenize` come along. A shard (or
mask) at a URL is first copied to the worker's temp directory and read from there.
"""

from __future__ import annotations

import errno
import glob
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .._args import as_int_array, in_place
from .._text.tokenize import TokenFile, open_tokens
from ._scratch import filesystem, is_url

__all__ = ["Shard", "ShardSpec", "named", "shard_list"]

#: What a caller may give for one shard: a path, a TokenFile or an array of token ids.
ShardSpec = str | os.PathLike[str] | TokenFile | npt.NDArray[np.integer[Any]]


@dataclass(frozen=True)
class Shard:
    """One shard as a worker opens it.

    ``source`` is a path (a ``.npy`` file, a raw file with ``dtype``, or a tokenize output
    with its sidecar) or an in-memory array; ``mask`` likewise a path (``.npy`` of bool, or
    a raw file of one byte per token), an array, or None (the TokenFile's own mask, if any).
    """

    index: int
    source: str | npt.NDArray[np.integer[Any]]
    dtype: str | None = None
    mask: str | npt.NDArray[np.bool_] | None = None

    @property
    def name(self) -> str:
        """How errors name the shard: its position and path."""
        if isinstance(self.source, str):
            return f"shard {self.index} ({self.source})"
        return f"shard {self.index} (an array of {self.source.size} tokens)"

    def open(self) -> tuple[npt.NDArray[np.integer[Any]], npt.NDArray[np.bool_] | None, Any]:
        """``(tokens, mask or None, the TokenFile's separator or None)``, memory-mapped."""
        separator = None
        mask: Any = None
        if isinstance(self.source, str):
            with _local(self.source) as path:
                opened = open_tokens(path, self.dtype)
                if isinstance(opened, TokenFile):
                    separator = opened.separator
                    mask = opened.mask()
                    tokens = as_int_array(opened.tokens(), "tokens")
                else:
                    tokens = as_int_array(opened, "tokens")
        else:
            # Arrays unpickled on a worker may sit misaligned: as_int_array aligns them.
            tokens = as_int_array(self.source, "tokens")
        if self.mask is not None:
            mask = _open_mask(self.mask)
        if mask is not None:
            mask = in_place(mask)
            if mask.dtype != np.bool_:
                raise TypeError(f"its mask must be bool, got dtype {mask.dtype}")
            if mask.shape != tokens.shape:
                raise ValueError(
                    f"its mask has {mask.size} entries but it has {tokens.size} tokens"
                )
        return tokens, mask, separator


@contextmanager
def _local(path: str) -> Iterator[str]:
    """``path`` itself, or for a URL a copy in the temp directory, removed on leaving (the
    memory maps opened on it stay readable: POSIX keeps an unlinked file while mapped)."""
    if not is_url(path):
        yield path
        return
    fs, remote = filesystem(path)
    folder = tempfile.mkdtemp(prefix="fastentropy-shard-")
    try:
        local = os.path.join(folder, os.path.basename(remote.rstrip("/")) or "shard")
        fs.get_file(remote, local)
        yield local
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _open_mask(mask: str | npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    if not isinstance(mask, str):
        return np.asarray(mask)
    with _local(mask) as path:
        if path.lower().endswith(".npy"):
            return np.asarray(np.load(path, mmap_mode="r"))
        if not os.path.getsize(path):
            return np.zeros(0, bool)
        return np.memmap(path, dtype=np.bool_, mode="r")


def shard_list(
    shards: str | Sequence[ShardSpec], dtype: str | None, masks: Sequence[Any] | None
) -> list[Shard]:
    """The shards of ``shards`` (a glob, or a list), each with its mask."""
    if isinstance(shards, (str, os.PathLike)):
        pattern = os.fspath(shards)
        if is_url(pattern):
            fs, path = filesystem(pattern)
            found = sorted(fs.unstrip_protocol(p) for p in fs.glob(path))
        else:
            found = sorted(glob.glob(pattern))
        if not found:
            raise FileNotFoundError(
                errno.ENOENT, f"no shard matches {pattern!r}: give a glob or a list of files"
            )
        # A tokenize output is two files per shard: keep the token file of each pair.
        items: list[Any] = [p for p in found if not p.endswith((".json", ".mask"))]
    elif isinstance(shards, np.ndarray):
        raise TypeError("shards must be a list of token files (or arrays), not one array")
    else:
        items = list(shards)
    if not items:
        raise ValueError("shards is empty: give at least one token file")
    if masks is not None:
        masks = list(masks)
        if len(masks) != len(items):
            raise ValueError(f"mask has {len(masks)} entries for {len(items)} shards: one each")
    out = []
    for i, item in enumerate(items):
        mask = None if masks is None else masks[i]
        if isinstance(mask, os.PathLike):
            mask = os.fspath(mask)
        if isinstance(mask, str) and not is_url(mask):
            mask = os.path.abspath(mask)
        if isinstance(item, TokenFile):
            source: Any = item.path
        elif isinstance(item, str) and is_url(item):
            source = item
        elif isinstance(item, (str, os.PathLike)):
            source = os.path.abspath(os.fspath(item))
        elif isinstance(item, np.ndarray):
            source = item
        else:
            raise TypeError(
                f"shard {i} is a {type(item).__name__}: give paths, TokenFiles or arrays"
            )
        out.append(Shard(i, source, dtype, mask))
    return out


def named(shard: Shard, error: BaseException) -> BaseException:
    """``error`` again, of the same type where it can be, with the shard's name in front."""
    text = f"{shard.name}: {error}"
    try:
        if isinstance(error, OSError) and error.errno is not None:
            return type(error)(error.errno, text)
        return type(error)(text)
    except Exception:
        return RuntimeError(text)
