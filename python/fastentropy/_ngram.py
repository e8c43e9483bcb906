"""Exact n-gram counting over (memory-mapped) token arrays, in bounded memory, on all cores."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _core
from ._args import MAX_INDEX as _MAX_INDEX
from ._args import as_int_array as _as_int_array
from ._args import counting_options as _options
from ._args import int_arg as _int_arg
from ._html import table
from ._profile import Profile

# Progress is re-exported: the modules that take a progress argument import it from here too.
from ._progress import Progress as Progress
from ._progress import stage
from ._types import MemoryLimit

__all__ = ["NgramCounts", "count_ngrams", "ngram_profiles"]

#: Rows per Parquet row group written by :meth:`NgramCounts.write`.
_PARQUET_ROWS = 1 << 20


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

    def _repr_html_(self) -> str:
        """The size of the count and its ten most common n-grams, for notebooks."""
        ngrams, counts = self.most_common(10)
        rows = [
            [" ".join(map(str, g.tolist())), int(c)] for g, c in zip(ngrams, counts, strict=True)
        ]
        caption = f"NgramCounts: order {self.order}, N = {self.n:,}, {self.distinct:,} distinct"
        return table(caption, ["n-gram (token ids)", "count"], rows)


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
