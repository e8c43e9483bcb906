"""Exact n-gram counting over (memory-mapped) token arrays, in bounded memory, on all cores."""

from __future__ import annotations

import math
import numbers
import os
import re
import tempfile
from collections.abc import Iterable
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from . import _core
from ._profile import Profile, _as_int_array, check_mapped

# Progress is re-exported: the modules that take a progress argument import it from here too.
from ._progress import Progress as Progress
from ._progress import stage

__all__ = ["NgramCounts", "count_ngrams", "ngram_profiles"]

MemoryLimit = Union[int, str, None]

_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "ki": 2**10,
    "kib": 2**10,
    "mi": 2**20,
    "mib": 2**20,
    "gi": 2**30,
    "gib": 2**30,
    "ti": 2**40,
    "tib": 2**40,
}
#: The most worker threads a function accepts: the core's bound (``Control``), defined there.
MAX_THREADS: int = _core.MAX_THREADS
#: Largest count-like argument passed to the core (its sizes are 64-bit).
_MAX_INDEX = 2**63 - 1
#: Rows per Parquet row group written by :meth:`NgramCounts.write`.
_PARQUET_ROWS = 1 << 20
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-z]*)\s*$", re.I)


class NgramCounts:
    """The n-gram counts of one order, as returned by :func:`count_ngrams`.

    Holds the count profile (what entropy estimators need) and the most common n-grams;
    every distinct n-gram with its count is had with :meth:`write` (a second pass over the
    tokens, streamed to files within the memory limit).

    Examples
    --------
    >>> import numpy as np
    >>> import fastentropy as fe
    >>> c = fe.count_ngrams(np.array([1, 2, 1, 2, 1], dtype=np.uint8), order=2)
    >>> c.order, c.n, c.distinct
    (2, 4, 2)
    >>> c.profile()
    Profile(n=4, distinct=2, {2: 2})
    >>> round(fe.entropy(c, "plugin").value, 6)   # ln 2
    0.693147
    """

    __slots__ = ("_counts", "_source")

    def __init__(
        self,
        counts: _core.NgramCounts,
        source: tuple[npt.NDArray[np.integer[Any]], dict[str, Any]] | None = None,
    ) -> None:
        self._counts = counts
        # The tokens and options counted, for the passes that need every n-gram again.
        self._source = source

    @property
    def order(self) -> int:
        """The n-gram order."""
        return self._counts.order

    @property
    def n(self) -> int:
        """Number of n-gram occurrences counted (N)."""
        return self._counts.n

    @property
    def distinct(self) -> int:
        """Number of distinct n-grams observed."""
        return self._counts.distinct

    def profile(self) -> Profile:
        """The count profile of the n-grams.

        Returns
        -------
        Profile
            For each count ``k``, the number of distinct n-grams seen exactly ``k`` times.

        Examples
        --------
        >>> import fastentropy as fe
        >>> fe.count_ngrams([7, 7, 7], order=1).profile().ks
        array([3], dtype=uint64)
        """
        return Profile._from_core(self._counts.profile())

    def most_common(self, k: int = 10) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
        """The ``k`` most common n-grams and their counts.

        Parameters
        ----------
        k : int, default 10
            How many rows; all n-grams if ``k`` is larger than :attr:`distinct`.

        Returns
        -------
        ngrams : numpy.ndarray of uint64, shape (rows, order)
            The n-grams as original token ids, most common first; equal counts in ascending
            n-gram order (lexicographic by id).
        counts : numpy.ndarray of uint64, shape (rows,)
            Their counts.

        Raises
        ------
        TypeError
            ``k`` is not an int.
        ValueError
            ``k`` is negative.

        Notes
        -----
        Every n-gram seen twice or more is kept by the count, and the smallest 4096 seen
        once; rows past those come from a second pass over the tokens (as :meth:`write`),
        through a temporary file.

        Examples
        --------
        >>> import fastentropy as fe
        >>> ngrams, counts = fe.count_ngrams([3, 1, 3, 1, 3, 2], order=2).most_common(2)
        >>> ngrams.tolist(), counts.tolist()
        ([[1, 3], [3, 1]], [2, 2])
        """
        # More rows than n-grams means all of them.
        k = min(_int_arg(k, "k", minimum=0), self.distinct)
        try:
            return self._counts.most_common(k)
        except ValueError:
            if self._source is None:
                raise
        # Past the kept singletons: the whole table, most common first (a stable sort of
        # rows in n-gram order keeps ties in n-gram order).
        with tempfile.TemporaryDirectory(prefix="fastentropy-") as folder:
            stem = os.path.join(folder, "table")
            self.write(stem)
            ngrams = np.load(stem + ".ngrams.npy", mmap_mode="r")
            counts = np.load(stem + ".counts.npy")
            rows = np.argsort(-counts.astype(np.int64), kind="stable")[:k]
            return np.array(ngrams[rows], dtype=np.uint64), counts[rows]

    def write(
        self,
        path: str | os.PathLike[str],
        min_count: int = 1,
        *,
        progress: Progress = False,
    ) -> int:
        """Write every n-gram seen at least ``min_count`` times, with its count.

        A second pass over the tokens counted, with the same options (``separator``,
        ``mask``, ``memory_limit``, ``threads``): the rows stream to disk partition by
        partition, so memory stays within ``memory_limit`` however many n-grams there are.

        Parameters
        ----------
        path : str or os.PathLike
            Ending in ``.parquet``: one Parquet file (extra ``parquet``) with columns
            ``token_1`` .. ``token_<order>`` and ``count``. Otherwise a stem: writes
            ``<path>.ngrams.npy`` (uint64, shape ``(rows, order)``) and
            ``<path>.counts.npy`` (uint64, shape ``(rows,)``), readable with
            ``numpy.load(..., mmap_mode="r")``.
        min_count : int, default 1
            Rows seen fewer times are left out (``1``: every n-gram, singletons included).
        progress : bool, "auto" or callable, default False
            As in :func:`count_ngrams`.

        Returns
        -------
        int
            The number of rows written, in n-gram order (lexicographic by token id).

        Raises
        ------
        ValueError
            ``min_count < 1``, or counts made without their tokens.
        ImportError
            A ``.parquet`` path without pyarrow.
        OSError
            A file cannot be written.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> import fastentropy as fe
        >>> stem = os.path.join(tempfile.mkdtemp(), "bigrams")
        >>> fe.count_ngrams([1, 2, 1, 2, 3], order=2).write(stem)
        3
        >>> np.load(stem + ".ngrams.npy").tolist(), np.load(stem + ".counts.npy").tolist()
        ([[1, 2], [2, 1], [2, 3]], [2, 1, 1])
        """
        if self._source is None:
            raise ValueError("these counts were made without their tokens: nothing to write")
        min_count = _int_arg(min_count, "min_count", minimum=1, maximum=_MAX_INDEX)
        tokens, options = self._source
        target = os.fspath(path)
        if not target.endswith(".parquet"):
            with stage(progress, "writing n-grams") as callback:
                return _core.ngram_table(
                    tokens,
                    self.order,
                    target + ".ngrams.npy",
                    target + ".counts.npy",
                    min_count=min_count,
                    progress=callback,
                    **options,
                )
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as e:
            raise ImportError(
                "writing Parquet needs pyarrow: pip install 'fastentropy[parquet]'"
            ) from e
        folder = os.path.dirname(os.path.abspath(target))
        with tempfile.TemporaryDirectory(prefix=".fastentropy-", dir=folder) as tmp:
            stem = os.path.join(tmp, "table")
            rows = self.write(stem, min_count, progress=progress)
            ngrams = np.load(stem + ".ngrams.npy", mmap_mode="r")
            counts = np.load(stem + ".counts.npy", mmap_mode="r")
            names = [f"token_{j + 1}" for j in range(self.order)] + ["count"]
            schema = pa.schema([(name, pa.uint64()) for name in names])
            with pq.ParquetWriter(target, schema) as out:
                for start in range(0, max(rows, 1), _PARQUET_ROWS):
                    stop = min(start + _PARQUET_ROWS, rows)
                    block = ngrams[start:stop]
                    columns = [pa.array(block[:, j]) for j in range(self.order)]
                    columns.append(pa.array(counts[start:stop]))
                    out.write_table(pa.Table.from_arrays(columns, schema=schema))
        return rows

    def __repr__(self) -> str:
        return f"NgramCounts(order={self.order}, n={self.n}, distinct={self.distinct})"


def count_ngrams(
    tokens: npt.ArrayLike,
    order: int = 3,
    *,
    separator: int | None = None,
    mask: npt.ArrayLike | None = None,
    memory_limit: MemoryLimit = None,
    threads: int | None = None,
    progress: Progress = False,
) -> NgramCounts:
    """Count the n-grams of one order exactly.

    Parameters
    ----------
    tokens : array_like of int
        1-D token ids: a numpy array of any integer dtype (read in place, the GIL released)
        or what :func:`open_tokens` returns; non-contiguous arrays are copied once.
    order : int, default 3
        The n-gram length, >= 1. Orders longer than the input give empty counts.
    separator : int, optional
        A token id that ends a document: no counted n-gram contains it or spans it.
    mask : array_like of bool, optional
        Same length as ``tokens``: only n-grams whose *last* token is masked in are counted
        (e.g. the tokens a fine-tuning loss is computed on).
    memory_limit : int or str, optional
        Bytes the engine may allocate (the input itself is not counted), as an int or a
        string such as ``"8GB"`` or ``"512MiB"``. Default: half of the available RAM. The key
        space is partitioned to stay within it.
    threads : int, optional
        Worker threads; ``None`` uses all cores. The result is the same for any count.
    progress : bool, "auto" or callable, default False
        ``True`` shows progress on stderr: a bar with tokens/s and ETA on a terminal, else a
        line every few seconds and one at the end. ``"auto"``: the same, but no line at all
        off a terminal for work shorter than a few seconds. A callable is called with
        ``(done, total)`` tokens, ``done`` increasing and ending at ``total``.

    Returns
    -------
    NgramCounts
        ``.order``, ``.n``, ``.distinct``, ``.profile()`` and ``.most_common(k)``.

    Raises
    ------
    TypeError
        ``tokens`` not integers (floats, bool), ``mask`` not bool, an option of the wrong
        type.
    ValueError
        ``tokens`` not 1-D, a negative id, ``order < 1``, an order too long to pack for this
        vocabulary, a mask of the wrong length, a separator outside the dtype's range, an
        invalid ``memory_limit`` or ``threads``.
    MemoryError
        ``memory_limit`` cannot be met; the message says what limit would work.
    KeyboardInterrupt
        Ctrl-C during the count (it stops within about a second).

    Notes
    -----
    Token ids are remapped to dense ranks, each window's n-gram is packed into a 64- or
    128-bit key, and sorted keys are scanned for runs. Counting is exact: no hashing,
    sampling or sketches.

    Examples
    --------
    >>> import numpy as np
    >>> import fastentropy as fe
    >>> tokens = np.array([1, 2, 3, 0, 1, 2, 3], dtype=np.uint16)
    >>> c = fe.count_ngrams(tokens, order=3, separator=0)
    >>> c.n, c.distinct
    (2, 1)
    >>> c.most_common(1)
    (array([[1, 2, 3]], dtype=uint64), array([2], dtype=uint64))
    """
    arr = _as_int_array(tokens, "tokens")
    order = _int_arg(order, "order", minimum=1, maximum=_MAX_INDEX)
    kwargs = _options(arr, separator, mask, memory_limit, threads)
    with stage(progress, "counting n-grams") as callback:
        counts = _core.count_ngrams(arr, order, progress=callback, **kwargs)
    return NgramCounts(counts, (arr, kwargs))


def ngram_profiles(
    tokens: npt.ArrayLike,
    orders: Iterable[int] = range(1, 9),
    *,
    separator: int | None = None,
    mask: npt.ArrayLike | None = None,
    memory_limit: MemoryLimit = None,
    threads: int | None = None,
    progress: Progress = False,
) -> dict[int, Profile]:
    """Count profiles of several n-gram orders, sharing one pass over the data.

    Parameters
    ----------
    tokens : array_like of int
        As in :func:`count_ngrams`.
    orders : iterable of int, default range(1, 9)
        The n-gram orders, each >= 1; repeats are merged.
    separator, mask, memory_limit, threads, progress
        As in :func:`count_ngrams`.

    Returns
    -------
    dict of int to Profile
        The profile of each order, by increasing order. Orders longer than the input have
        empty profiles.

    Raises
    ------
    TypeError, ValueError, MemoryError, KeyboardInterrupt
        As in :func:`count_ngrams`.

    Examples
    --------
    >>> import fastentropy as fe
    >>> profiles = fe.ngram_profiles([1, 2, 1, 2, 1], orders=[1, 2, 3])
    >>> {n: (p.n, p.distinct) for n, p in profiles.items()}
    {1: (5, 2), 2: (4, 2), 3: (3, 2)}
    >>> round(fe.entropy(profiles[1], "plugin", unit="bits").value, 4)
    0.971
    """
    arr = _as_int_array(tokens, "tokens")
    if isinstance(orders, (str, bytes)) or not isinstance(orders, Iterable):
        raise TypeError(f"orders must be an iterable of ints, got {type(orders).__name__}")
    wanted = [_int_arg(n, "orders", minimum=1, maximum=_MAX_INDEX) for n in orders]
    kwargs = _options(arr, separator, mask, memory_limit, threads)
    with stage(progress, "counting n-grams") as callback:
        pairs = _core.ngram_profiles(arr, wanted, progress=callback, **kwargs)
    return {n: Profile._from_core(p) for n, p in pairs}


# --- validation -------------------------------------------------------------------------


def _int_arg(value: Any, name: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {_shown(value)}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {_shown(value)}")
    return int(value)


def _threads_arg(threads: Any) -> int | None:
    """``threads`` checked as every function takes it: ``None`` (all cores) or 1..1024."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(f"threads must be an int or None, got {type(threads).__name__}")
    threads = int(threads)
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(
            f"threads must be from 1 to {MAX_THREADS} (or None for all cores), "
            f"got {_shown(threads)}"
        )
    return int(threads)


def _shown(value: Any) -> str:
    """``value`` for a message: huge integers by their size, not by all their digits."""
    text = repr(value)
    if isinstance(value, numbers.Integral) and len(text) > 24:
        return f"{text[:6]}...{text[-3:]} ({len(text.lstrip('-'))} digits)"
    return text


def _options(
    tokens: npt.NDArray[np.integer[Any]],
    separator: Any,
    mask: Any,
    memory_limit: Any,
    threads: Any,
) -> dict[str, Any]:
    if separator is not None:
        if isinstance(separator, bool) or not isinstance(separator, numbers.Integral):
            raise TypeError(f"separator must be an int token id, got {type(separator).__name__}")
        top = int(np.iinfo(tokens.dtype).max)
        separator = int(separator)
        if not 0 <= separator <= top:
            raise ValueError(
                f"separator = {separator} is outside the id range 0..{top} of {tokens.dtype} tokens"
            )
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != np.bool_:
            raise TypeError(f"mask must be a bool array, got dtype {m.dtype}")
        if m.shape != tokens.shape:
            raise ValueError(
                f"mask has shape {m.shape} but tokens has {tokens.shape}: they must be 1-D "
                "and the same length"
            )
        check_mapped(m, "mask")
        mask = np.ascontiguousarray(m)
    threads = _threads_arg(threads)
    limit = _default_memory_limit() if memory_limit is None else parse_size(memory_limit)
    return {"separator": separator, "mask": mask, "memory_limit": limit, "threads": threads}


def parse_size(size: int | str) -> int:
    """Bytes from an int or a string such as ``"8GB"``, ``"512MiB"`` or ``"1.5g"``.

    Decimal units (``kB``, ``MB``, ``GB``, ``TB``, or ``k``/``M``/``G``/``T``) are powers of
    1000, binary ones (``KiB``, ``MiB``, ``GiB``, ``TiB``) powers of 1024.

    Parameters
    ----------
    size : int or str
        A positive number of bytes, or a number with a unit.

    Raises
    ------
    TypeError
        Not an int or str.
    ValueError
        Not positive, or not a number with a known unit.

    Examples
    --------
    >>> parse_size("8GB"), parse_size("512MiB"), parse_size(4096)
    (8000000000, 536870912, 4096)
    """
    if isinstance(size, str):
        m = _SIZE.match(size)
        unit = m.group(2).lower() if m else ""
        if not m or unit not in _UNITS:
            raise ValueError(
                f"memory_limit = {size!r} is not a size: use bytes as an int, or a number with "
                "a unit such as '8GB' or '512MiB'"
            )
        number = float(m.group(1)) * _UNITS[unit]
        value = math.floor(number) if math.isfinite(number) else _MAX_INDEX
    elif isinstance(size, numbers.Integral) and not isinstance(size, bool):
        value = int(size)
    else:
        raise TypeError(f"memory_limit must be an int or a str, got {type(size).__name__}")
    if value <= 0:
        raise ValueError(f"memory_limit must be positive, got {_shown(size)}")
    # A limit beyond any machine's memory is no limit: the largest the core takes says the same.
    return min(value, _MAX_INDEX)


def _default_memory_limit() -> int | None:
    """Half of the available RAM (``MemAvailable``), or ``None`` if it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 // 2
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, OSError, ValueError):
        return None
