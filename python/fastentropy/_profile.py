"""The count profile: what every symmetric entropy estimator needs to know about a sample."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from . import _core
from ._args import as_int_array as _as_int_array
from ._html import table

__all__ = ["Profile"]


def _readonly(arr: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    arr.flags.writeable = False
    return arr


class Profile:
    """The count profile ("fingerprint", count of counts) of a sample.

    For each count value ``k``, ``m_k`` is the number of distinct outcomes seen exactly ``k``
    times. ``N = sum(k * m_k)`` observations, ``distinct = sum(m_k)`` outcomes. Every
    symmetric entropy estimator is a function of the profile alone, and a profile of a
    billion outcomes is usually a few thousand pairs.

    Parameters
    ----------
    ks : array_like of int
        Count values, each >= 1, in any order (repeats are merged).
    mks : array_like of int
        How many distinct outcomes have each count; zeros are dropped.

    Raises
    ------
    ValueError
        Lengths differ, a count value is 0, a value is negative, or N overflows 64 bits.
    TypeError
        Non-integer input.

    Examples
    --------
    >>> p = Profile([1, 3], [2, 1])        # two singletons and one outcome seen 3 times
    >>> p.n, p.distinct
    (5, 3)
    >>> Profile.from_counts([3, 1, 0, 1]) == p
    True
    >>> Profile.from_samples([7, 7, 7, 2, 9]) == p
    True
    >>> (p + Profile([1], [1])).n          # profiles of disjoint supports add
    6
    """

    __slots__ = ("_ks", "_mks", "_n", "_distinct")

    def __init__(self, ks: npt.ArrayLike, mks: npt.ArrayLike) -> None:
        ks_arr = _as_int_array(ks, "ks")
        mks_arr = _as_int_array(mks, "mks")
        for name, arr in (("ks", ks_arr), ("mks", mks_arr)):
            if arr.dtype.kind == "i" and arr.size and int(arr.min()) < 0:
                i = int(np.argmax(arr < 0))
                raise ValueError(f"{name}[{i}] = {arr[i]} is negative")
        self._set(*_core.profile_from_pairs(ks_arr.astype(np.uint64), mks_arr.astype(np.uint64)))

    def _set(self, ks: npt.NDArray[np.uint64], mks: npt.NDArray[np.uint64]) -> None:
        self._ks = _readonly(ks)
        self._mks = _readonly(mks)
        # Exact: the core guarantees N < 2**64, so no partial sum wraps.
        self._n = int(np.dot(ks, mks))
        self._distinct = int(mks.sum())

    @classmethod
    def _from_core(cls, pairs: tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]) -> Profile:
        p = cls.__new__(cls)
        p._set(*pairs)
        return p

    @classmethod
    def from_counts(cls, counts: npt.ArrayLike) -> Profile:
        """Profile of a vector of per-outcome counts.

        Parameters
        ----------
        counts : array_like of int
            1-D non-negative integer counts, one per outcome; zeros are ignored (they are
            outcomes never seen). Any integer dtype; read in place when C-contiguous.

        Raises
        ------
        TypeError
            ``counts`` is not an integer array.
        ValueError
            ``counts`` is not 1-D or holds a negative value (the message names its index).

        Examples
        --------
        >>> Profile.from_counts([5, 0, 1, 1]).ks
        array([1, 5], dtype=uint64)
        """
        return cls._from_core(_core.profile_from_counts(_as_int_array(counts, "counts")))

    @classmethod
    def from_samples(cls, samples: npt.ArrayLike) -> Profile:
        """Profile of a sample of integer outcome labels (each distinct value is an outcome).

        Parameters
        ----------
        samples : array_like of int
            1-D integer labels; negative labels are fine.

        Raises
        ------
        TypeError
            ``samples`` is not an integer array.

        Examples
        --------
        >>> Profile.from_samples([-1, 4, 4]).mks
        array([1, 1], dtype=uint64)
        """
        return cls._from_core(_core.profile_from_samples(_as_int_array(samples, "samples")))

    @property
    def ks(self) -> npt.NDArray[np.uint64]:
        """Count values, strictly increasing (read-only ``uint64`` array)."""
        return self._ks

    @property
    def mks(self) -> npt.NDArray[np.uint64]:
        """Number of distinct outcomes with each count (read-only ``uint64`` array)."""
        return self._mks

    @property
    def n(self) -> int:
        """Number of observations N = sum(k * m_k)."""
        return self._n

    @property
    def distinct(self) -> int:
        """Number of distinct outcomes observed, sum(m_k)."""
        return self._distinct

    @property
    def singletons(self) -> int:
        """Number of outcomes seen exactly once."""
        return int(self._mks[0]) if self._ks.size and self._ks[0] == 1 else 0

    def __add__(self, other: object) -> Profile:
        if not isinstance(other, Profile):
            return NotImplemented
        return Profile._from_core(_core.profile_add((self._ks, self._mks), (other._ks, other._mks)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Profile):
            return NotImplemented
        return bool(np.array_equal(self._ks, other._ks) and np.array_equal(self._mks, other._mks))

    def __hash__(self) -> int:
        return hash((self._ks.tobytes(), self._mks.tobytes()))

    def __len__(self) -> int:
        return int(self._ks.size)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}: {m}" for k, m in zip(self._ks[:6], self._mks[:6], strict=True))
        more = ", ..." if self._ks.size > 6 else ""
        return f"Profile(n={self.n}, distinct={self.distinct}, {{{shown}{more}}})"

    def _repr_html_(self) -> str:
        """The count profile as a table (the first 20 counts), for notebooks."""
        rows: list[list[object]] = [
            [int(k), int(m)] for k, m in zip(self._ks[:20], self._mks[:20], strict=True)
        ]
        if self._ks.size > 20:
            rows.append(["...", f"{self._ks.size - 20} more counts"])
        caption = f"Profile: N = {self.n:,}, {self.distinct:,} distinct"
        return table(caption, ["count k", "outcomes seen k times"], rows)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Profile, (self._ks.copy(), self._mks.copy()))
