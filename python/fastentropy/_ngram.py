"""Exact n-gram counting over (memory-mapped) token arrays, in bounded memory, on all cores."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Iterable
from typing import Any, Callable, TextIO, Union

import numpy as np
import numpy.typing as npt

from . import _core
from ._args import MAX_INDEX as _MAX_INDEX
from ._args import as_int_array as _as_int_array
from ._args import counting_options as _options
from ._args import int_arg as _int_arg
from ._profile import Profile
from ._types import MemoryLimit

__all__ = ["NgramCounts", "count_ngrams", "ngram_profiles"]

ProgressCallback = Callable[[int, int], Any]
Progress = Union[bool, ProgressCallback, None]


class NgramCounts:
    """The n-gram counts of one order, as returned by :func:`count_ngrams`.

    Holds the count profile (what entropy estimators need) and the most common n-grams; it
    does not hold every distinct n-gram.

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

    __slots__ = ("_counts",)

    def __init__(self, counts: _core.NgramCounts) -> None:
        self._counts = counts

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
            ``k`` is negative, or the rows would reach past the n-grams seen once that are
            kept (every n-gram seen twice or more is kept, and the smallest 4096 seen once).

        Examples
        --------
        >>> import fastentropy as fe
        >>> ngrams, counts = fe.count_ngrams([3, 1, 3, 1, 3, 2], order=2).most_common(2)
        >>> ngrams.tolist(), counts.tolist()
        ([[1, 3], [3, 1]], [2, 2])
        """
        # More rows than n-grams means all of them.
        k = min(_int_arg(k, "k", minimum=0), self.distinct)
        return self._counts.most_common(k)

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
    progress : bool or callable, default False
        ``True`` draws a progress line with tokens/s on stderr; a callable is called with
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
    with _progress(progress, "counting n-grams") as callback:
        counts = _core.count_ngrams(arr, order, progress=callback, **kwargs)
    return NgramCounts(counts)


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
    with _progress(progress, "counting n-grams") as callback:
        pairs = _core.ngram_profiles(arr, wanted, progress=callback, **kwargs)
    return {n: Profile._from_core(p) for n, p in pairs}


# --- progress ---------------------------------------------------------------------------


class _ProgressLine:
    """A plain progress line on a stream, redrawn at most ~10 times a second."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
        self.last = -math.inf
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        rate = done / max(now - self.start, 1e-9)
        pct = 100.0 * done / total if total else 100.0
        self.stream.write(
            f"\r{self.label}: {_si(done)}/{_si(total)} tokens ({pct:3.0f}%), {_si(rate)} tokens/s"
        )
        self.stream.flush()
        self.drawn = True

    def __enter__(self) -> _ProgressLine:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


class _NoProgress:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class _CallbackProgress:
    def __init__(self, callback: ProgressCallback) -> None:
        self.callback = callback

    def __enter__(self) -> ProgressCallback:
        return self.callback

    def __exit__(self, *exc: object) -> None:
        return None


def _progress(progress: Any, label: str) -> _ProgressLine | _NoProgress | _CallbackProgress:
    if progress is None or progress is False:
        return _NoProgress()
    if progress is True:
        return _ProgressLine(label)
    if callable(progress):
        return _CallbackProgress(progress)
    raise TypeError(f"progress must be a bool or a callable(done, total), got {progress!r}")


def _si(x: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.1f}{unit}"
    return f"{x:.0f}"
