"""A suffix-array index of a token corpus: profiles of every n-gram order from one scan,
match lengths at every position, and n-gram count queries."""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from . import _core
from ._args import as_int_array as _as_int_array
from ._args import counting_options as _options
from ._args import int_arg as _int_arg
from ._args import parse_size
from ._args import threads_arg as _threads_arg
from ._profile import Profile
from ._progress import Progress, Stages, StageTimes, stage
from ._tokens import open_array
from ._types import MemoryLimit, PathLike

__all__ = ["SuffixIndex"]

MatchKind = Literal["previous", "any"]

#: Per thread count, the last measured run of each silent build stage (the suffix sort):
#: what the next build's estimate of its time left is taken from.
_BUILD_TIMES: dict[int | None, StageTimes] = {}


class SuffixIndex:
    """The suffix array and LCP array of a token sequence, with the queries they answer.

    Build one with :meth:`build` (optionally writing it to disk), or memory-map a saved one
    with :meth:`open`. The index refers to its tokens (and mask) but does not copy them.

    Examples
    --------
    >>> import numpy as np
    >>> import fastentropy as fe
    >>> tokens = np.array([1, 2, 3, 1, 2, 4, 0, 1, 2, 3], dtype=np.uint16)
    >>> idx = fe.SuffixIndex.build(tokens, separator=0)
    >>> idx.count([1, 2]), idx.count([1, 2, 3])
    (3, 2)
    >>> ids, counts = idx.next_counts([1, 2])
    >>> ids.tolist(), counts.tolist()
    ([3, 4], [2, 1])
    >>> {n: p.n for n, p in idx.profiles().items()}
    {1: 9, 2: 7, 3: 5, 4: 3}
    >>> idx.match_lengths().tolist()
    [0, 0, 0, 2, 1, 0, 0, 3, 2, 1]
    """

    __slots__ = ("_index", "_mask", "_memory_limit")

    def __init__(self, index: _core.SuffixIndex, mask: Any, memory_limit: int) -> None:
        self._index = index  # holds the tokens too
        self._mask = mask
        # What profiles under a mask may use (they index the reversed text for the call).
        self._memory_limit = memory_limit

    @classmethod
    def build(
        cls,
        tokens: Any,
        *,
        separator: int | None = None,
        mask: npt.ArrayLike | None = None,
        threads: int | None = None,
        memory_limit: MemoryLimit = None,
        progress: Progress = False,
        path: PathLike | None = None,
    ) -> SuffixIndex:
        """Build the index of ``tokens``.

        Parameters
        ----------
        tokens : array_like of int, or TokenFile
            1-D token ids (any integer dtype, read in place; what :func:`open_tokens`
            returns) or a :class:`TokenFile`, which brings its separator and mask.
        separator : int, optional
            A token id that ends a document: no n-gram or match contains or spans it.
        mask : array_like of bool, optional
            Same length as ``tokens``: :meth:`profiles` then counts only n-grams whose last
            token is masked in (kept by the index for its calls).
        threads : int, optional
            Worker threads; ``None`` uses all cores. The index is the same for any count.
        memory_limit : int or str, optional
            Bytes the build may use beside the tokens (9 per token at its peak, 17 past
            about 2**31 tokens), e.g. ``"8GB"``; default half of the available RAM. Refused
            up front if too small. Also the default limit of :meth:`profiles` under a mask.
        progress : bool, "auto" or callable, default False
            ``True`` draws each stage on stderr: remapping ids, sorting suffixes, LCP. The
            sort reports nothing until it ends (libsais gives no progress): it shows the
            time it has run, and, once a sort on as many threads was measured in this
            process, about how long it has left at that sort's throughput. A callable gets
            ``(done, total)``, done never decreasing; ``total`` is 4 per token, the sort
            the second quarter (``done`` stays at its start while it runs).
        path : str or os.PathLike, optional
            Also write the index there. The tokens are not copied: the file records their
            dtype, source file (when they are memory-mapped from one) and a hash of their
            bytes, so :meth:`open` can find them and refuses them if they changed.

        Returns
        -------
        SuffixIndex

        Raises
        ------
        TypeError
            ``tokens`` not integers, ``mask`` not bool, an option of the wrong type.
        ValueError
            ``tokens`` not 1-D, a negative id, a mask of the wrong length, a separator
            outside the dtype's range, bad ``threads``.
        MemoryError
            ``memory_limit`` is below what the build needs; the message says how much.
        OSError
            ``path`` cannot be written.
        KeyboardInterrupt
            Ctrl-C, within about a tenth of a second. The suffix sort is one call into
            libsais that cannot be stopped: it runs on a thread of its own, which is left
            to finish in the background and then frees its memory; the next build waits
            for it.

        Notes
        -----
        The suffix array is sorted by induced sorting (SA-IS; libsais) on dense ranks of
        the ids, the LCP array by the permuted-LCP method (Kärkkäinen, Manzini & Puglisi
        2009), capped at separators and stored in one byte per entry with an overflow table.
        The index holds 5 bytes per token (plus 12 per LCP >= 127); past about 2**31
        tokens its entries are 64-bit: 9 bytes per token, 17 while it is built.
        """
        arr, separator, mask, source = _tokens_of(tokens, separator, mask)
        kwargs = _options(arr, separator, mask, memory_limit, threads)
        times = _BUILD_TIMES.setdefault(kwargs["threads"], {})
        with Stages(progress, _core.SUFFIX_BUILD_STAGES, times=times) as staged:
            index = _core.suffix_build(
                arr,
                separator=kwargs["separator"],
                memory_limit=kwargs["memory_limit"],
                threads=kwargs["threads"],
                progress=None if progress is None or progress is False else staged,
            )
        out = cls(index, kwargs["mask"], kwargs["memory_limit"])
        if path is not None:
            index.save(
                os.fspath(path), dtype=arr.dtype.name, source=source, threads=kwargs["threads"]
            )
        return out

    @classmethod
    def open(
        cls,
        path: PathLike,
        tokens: Any = None,
        *,
        mask: npt.ArrayLike | None = None,
        threads: int | None = None,
    ) -> SuffixIndex:
        """Memory-map an index written by :meth:`build` with ``path``.

        Parameters
        ----------
        path : str or os.PathLike
            The index file.
        tokens : array_like of int, or TokenFile, optional
            The tokens it was built on; by default the token file it recorded (its
            :class:`TokenFile` sidecar, if any, brings the mask).
        mask : array_like of bool, optional
            The mask for :meth:`profiles`.
        threads : int, optional
            Threads for hashing the tokens.

        Returns
        -------
        SuffixIndex

        Raises
        ------
        FileNotFoundError
            No index (or no recorded token file) at the path.
        ValueError
            The file is not an index, is of another format version, is truncated, or its
            tokens changed since it was built (the message names the file); ``tokens`` were
            not given and the index was built from memory.

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> import fastentropy as fe
        >>> d = tempfile.mkdtemp()
        >>> np.save(os.path.join(d, "t.npy"), np.array([5, 6, 5, 6, 5], dtype=np.uint16))
        >>> tokens = fe.open_tokens(os.path.join(d, "t.npy"))
        >>> _ = fe.SuffixIndex.build(tokens, path=os.path.join(d, "t.idx"))
        >>> fe.SuffixIndex.open(os.path.join(d, "t.idx")).count([5, 6])
        2
        """
        path = os.fspath(path)
        header = _core.suffix_header(path)
        if tokens is None:
            source = header["source"]
            if not source:
                raise ValueError(f"{path} was built from tokens in memory: pass them as tokens=...")
            tf = _sidecar_of(source)
            if tf is not None:
                tokens = tf
            else:
                tokens = open_array(source, dtype=header["dtype"])
        arr, _, mask, _ = _tokens_of(tokens, header["separator"], mask)
        kwargs = _options(arr, header["separator"], mask, None, threads)
        index = _core.suffix_open(path, arr, threads=kwargs["threads"])
        return cls(index, kwargs["mask"], kwargs["memory_limit"])

    @property
    def n(self) -> int:
        """Number of tokens indexed."""
        return self._index.n

    def __len__(self) -> int:
        return self._index.n

    @property
    def separator(self) -> int | None:
        """The separator token id, or ``None``."""
        return self._index.separator

    @property
    def max_lcp(self) -> int:
        """Length of the longest repeat (separator-free): profiles end one order above."""
        return self._index.max_lcp

    @property
    def entry_bytes(self) -> int:
        """Bytes per suffix-array entry: 4, or 8 for more than about 2**31 tokens."""
        return self._index.entry_bytes

    @property
    def nbytes(self) -> int:
        """Bytes the index holds in memory (0 when memory-mapped: the OS pages it)."""
        return self._index.nbytes

    def profiles(
        self,
        orders: Iterable[int] | None = None,
        *,
        memory_limit: MemoryLimit = None,
        threads: int | None = None,
        progress: Progress = False,
    ) -> dict[int, Profile]:
        """Count profiles of n-grams of many orders, all from one scan of the LCP array.

        Parameters
        ----------
        orders : iterable of int, optional
            The orders (each >= 1). Default: every order from 1 up to the first at which
            every n-gram is unique (that order included); ``{}`` when nothing is counted.
        memory_limit : int or str, optional
            Under a mask, the bytes the call may use (9 per token, for the reversed text's
            index); default the limit the index was built with. Unused without a mask.
        threads : int, optional
            Worker threads; the result is the same for any count.
        progress : bool, "auto" or callable, default False
            As in :meth:`build`: under a mask, the reversed text's build stages come
            first, then "profiles".

        Returns
        -------
        dict of int to Profile
            By increasing order. Orders 1..8 are identical to :func:`ngram_profiles` with
            the same separator and mask: no n-gram contains the separator; with a mask only
            n-grams whose last token is masked in are counted.

        Raises
        ------
        MemoryError
            Under a mask, ``memory_limit`` is below 9 bytes per token; the message says how
            much is needed.

        Notes
        -----
        The n-gram classes of order n are the maximal runs of the suffix array with
        LCP >= n; one bottom-up pass over the LCP-interval tree (Abouelhoda, Kurtz &
        Ohlebusch 2004) adds each interval's count to its range of orders through a
        difference array, so the cost is O(N) plus the output. With a mask, the reversed
        text is indexed for the call (an n-gram's last token is where its reversed suffix
        starts): about the cost and memory of :meth:`build` again.

        Examples
        --------
        >>> import fastentropy as fe
        >>> idx = fe.SuffixIndex.build([1, 2, 1, 2, 1])
        >>> for n, p in idx.profiles().items():
        ...     print(n, p)
        1 Profile(n=5, distinct=2, {2: 1, 3: 1})
        2 Profile(n=4, distinct=2, {2: 2})
        3 Profile(n=3, distinct=2, {1: 1, 2: 1})
        4 Profile(n=2, distinct=2, {1: 2})
        """
        return self._profiles(orders, True, False, memory_limit, threads, progress)[0]

    def context_profiles(
        self,
        orders: Iterable[int] | None = None,
        *,
        memory_limit: MemoryLimit = None,
        threads: int | None = None,
        progress: Progress = False,
    ) -> dict[int, Profile]:
        """Count profiles of the (n-1)-token contexts of the n-grams that :meth:`profiles`
        counts: one occurrence per counted n-gram window, so each sums to that order's N.

        Parameters
        ----------
        orders, memory_limit, threads, progress
            As in :meth:`profiles` (the default orders are the same).

        Returns
        -------
        dict of int to Profile
            Order 1's context is empty: one outcome seen once per counted unigram.

        Examples
        --------
        >>> import fastentropy as fe
        >>> idx = fe.SuffixIndex.build([1, 2, 1, 2, 1])
        >>> for n, p in idx.context_profiles([1, 2, 3]).items():
        ...     print(n, p)
        1 Profile(n=5, distinct=1, {5: 1})
        2 Profile(n=4, distinct=2, {2: 2})
        3 Profile(n=3, distinct=2, {1: 1, 2: 1})
        """
        return self._profiles(orders, False, True, memory_limit, threads, progress)[1]

    def profiles_and_contexts(
        self,
        orders: Iterable[int] | None = None,
        *,
        memory_limit: MemoryLimit = None,
        threads: int | None = None,
        progress: Progress = False,
    ) -> tuple[dict[int, Profile], dict[int, Profile]]:
        """:meth:`profiles` and :meth:`context_profiles` of the same orders in one call.

        Under a mask, each of those two indexes the reversed text for its call; this does
        it once for both.

        Parameters
        ----------
        orders, memory_limit, threads, progress
            As in :meth:`profiles`.

        Returns
        -------
        profiles, contexts : dict of int to Profile
            What :meth:`profiles` and :meth:`context_profiles` return.

        Raises
        ------
        MemoryError
            Under a mask, ``memory_limit`` is below 9 bytes per token.

        Examples
        --------
        >>> import fastentropy as fe
        >>> idx = fe.SuffixIndex.build([1, 2, 1, 2, 1], mask=[True, True, False, True, True])
        >>> blocks, contexts = idx.profiles_and_contexts([1, 2])
        >>> print(blocks[2])
        Profile(n=3, distinct=2, {1: 1, 2: 1})
        >>> print(contexts[2])
        Profile(n=3, distinct=2, {1: 1, 2: 1})
        """
        return self._profiles(orders, True, True, memory_limit, threads, progress)

    def _profiles(
        self,
        orders: Any,
        ngrams: bool,
        contexts: bool,
        memory_limit: Any,
        threads: Any,
        progress: Any,
    ) -> tuple[dict[int, Profile], dict[int, Profile]]:
        wanted = None
        if orders is not None:
            if isinstance(orders, (str, bytes)) or not isinstance(orders, Iterable):
                raise TypeError(f"orders must be an iterable of ints, got {type(orders).__name__}")
            wanted = [_int_arg(n, "orders", minimum=1) for n in orders]
        threads = _threads_arg(threads)
        limit = self._memory_limit if memory_limit is None else parse_size(memory_limit)
        # Under a mask the reversed text is indexed first: the build's stages, then the scans.
        stages = [("profiles", 0, True)]
        if self._mask is not None:
            stages = [*_core.SUFFIX_BUILD_STAGES, *stages]
        times = _BUILD_TIMES.setdefault(threads, {})
        with Stages(progress, stages, times=times, size=len(self)) as staged:
            blocks, ctx = self._index.profiles(
                mask=self._mask,
                orders=wanted,
                ngrams=ngrams,
                contexts=contexts,
                memory_limit=limit,
                threads=threads,
                progress=None if progress is None or progress is False else staged,
            )
        return (
            {n: Profile._from_core(p) for n, p in blocks},
            {n: Profile._from_core(p) for n, p in ctx},
        )

    def match_lengths(
        self,
        kind: MatchKind = "previous",
        *,
        threads: int | None = None,
        progress: Progress = False,
    ) -> npt.NDArray[np.uint32]:
        """The match length at every position, capped at separators.

        Parameters
        ----------
        kind : {"previous", "any"}, default "previous"
            ``"previous"``: the length of the longest prefix of the suffix at ``i`` that
            also starts at some earlier ``j < i`` (the longest previous factor; Crochemore &
            Ilie 2008, linear time). ``"any"``: the longest that starts anywhere else.

        Returns
        -------
        numpy.ndarray of uint32
            One per token; 0 at a separator. The inputs of the match-length entropy-rate
            estimators (Grassberger 1989; Kontoyiannis et al. 1998).

        Raises
        ------
        ValueError
            An unknown ``kind``.

        Examples
        --------
        >>> import fastentropy as fe
        >>> idx = fe.SuffixIndex.build([7, 8, 7, 8, 9])
        >>> idx.match_lengths("previous").tolist(), idx.match_lengths("any").tolist()
        ([0, 0, 2, 1, 0], [2, 1, 2, 1, 0])
        """
        if not isinstance(kind, str):
            raise TypeError(f"kind must be a str, got {type(kind).__name__}")
        threads = _threads_arg(threads)
        with stage(progress, "match lengths") as callback:
            return self._index.match_lengths(kind, threads=threads, progress=callback)

    def count(self, ngram: npt.ArrayLike) -> int:
        """Occurrences of a token sequence of any length >= 1 (binary search, microseconds).

        Every occurrence counts (the mask is not applied); one holding the separator is 0.

        Examples
        --------
        >>> import fastentropy as fe
        >>> fe.SuffixIndex.build([1, 2, 1, 2, 1]).count([2, 1])
        2
        """
        ids = _ids(ngram, "ngram")
        if not ids:
            raise ValueError("ngram is empty: give at least one token id")
        return self._index.count(ids)

    def next_counts(
        self, context: npt.ArrayLike, k: int | None = None
    ) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
        """The tokens that follow ``context`` and how often.

        Parameters
        ----------
        context : array_like of int
            Token ids, possibly empty (then: every token's count).
        k : int, optional
            At most this many, the most frequent.

        Returns
        -------
        ids, counts : numpy.ndarray of uint64
            Most frequent first, ties by increasing id. A following separator or the end of
            the text is not a token.

        Examples
        --------
        >>> import fastentropy as fe
        >>> ids, counts = fe.SuffixIndex.build([1, 2, 1, 3, 1, 2]).next_counts([1])
        >>> ids.tolist(), counts.tolist()
        ([2, 3], [2, 1])
        """
        ids = _ids(context, "context")
        if k is not None:
            k = _int_arg(k, "k", minimum=0)
        return self._index.next_counts(ids, k)

    def __repr__(self) -> str:
        return f"SuffixIndex(n={self.n}, separator={self.separator}, max_lcp={self.max_lcp})"


def _ids(values: Any, name: str) -> list[int]:
    """Token ids of a query as Python ints, checked. A query costs a few microseconds in the
    core, so a list or tuple of ints in range (the usual query) skips numpy (~10 µs a call);
    anything else, or an id out of range, goes through it (and its errors)."""
    plain = type(values) in (list, tuple) and all(type(v) is int for v in values)
    if plain and (not values or (min(values) >= 0 and max(values) <= _MAX_ID)):
        return list(values)
    if isinstance(values, numbers.Integral):
        raise TypeError(f"{name} must be a sequence of token ids, got a single int")
    arr = _as_int_array(values, name)
    if arr.size and arr.dtype.kind == "i" and int(arr.min()) < 0:
        raise ValueError(f"{name} holds a negative id: token ids are >= 0")
    ids: list[int] = arr.astype(np.uint64).tolist()
    return ids


_MAX_ID = 2**64 - 1


def _tokens_of(tokens: Any, separator: Any, mask: Any) -> tuple[Any, Any, Any, str | None]:
    """Array, separator, mask and source file of ``tokens`` (a TokenFile brings its own)."""
    from ._text.tokenize import TokenFile

    if isinstance(tokens, TokenFile):
        arr = _as_int_array(tokens.tokens(), "tokens")
        sep = tokens.separator if separator is None else separator
        return arr, sep, tokens.mask() if mask is None else mask, os.path.abspath(tokens.path)
    arr = _as_int_array(tokens, "tokens")
    source = getattr(tokens, "filename", None)
    if source is not None:
        # A slice of a memory-mapped file is a memmap of the same file name: record the file
        # only if the tokens are (about) all of it, past a header (an .npy's).
        try:
            extra = os.path.getsize(source) - arr.nbytes
        except OSError:
            extra = -1
        if not 0 <= extra < 1 << 16:
            source = None
    return arr, separator, mask, os.path.abspath(source) if source else None


def _sidecar_of(source: str) -> Any:
    """The TokenFile of a recorded ``.bin`` token file, if it has a sidecar."""
    from ._text.tokenize import TokenFile

    sidecar = os.path.splitext(source)[0] + ".json"
    if source.endswith(".bin") and os.path.isfile(sidecar):
        try:
            return TokenFile.open(sidecar)
        except (ValueError, OSError, KeyError):
            return None
    return None
