"""Cross-entropy of model outputs: exact, streaming, at memory speed.

Per-token negative log-likelihood ``nll = logsumexp(logits[t]) - logits[t, target]`` from logits
(``float32``, ``float16`` or bfloat16), or from per-token log-probabilities, reduced to exact
sums overall and per segment (document).
"""

from __future__ import annotations

import math
import numbers
import threading
from typing import Any, Literal, NamedTuple, overload

import numpy as np
import numpy.typing as npt

from . import _core
from ._args import as_int_array as _as_int_array
from ._args import check_mapped, in_place
from ._args import shown as _shown
from ._args import threads_arg as _threads_arg
from ._progress import Progress, stage
from ._types import FloatArray
from ._units import LN2

__all__ = ["CrossEntropy", "SegmentLosses", "cross_entropy"]

Unit = Literal["nats", "bits"]
Reduction = Literal["mean", "sum", "none"]
_UNITS: dict[str, float] = {"nats": 1.0, "bits": 1.0 / LN2}
_DTYPES = ("float32", "float16", "bfloat16")


def _unit_factor(unit: str) -> float:
    try:
        return _UNITS[unit]
    except (KeyError, TypeError):
        raise ValueError(f"unit must be 'nats' or 'bits', not {unit!r}") from None


def _logits(logits: Any, dtype: str | None) -> tuple[npt.NDArray[Any], str, tuple[int, ...]]:
    """``(rows, dtype name, shape of the tokens)``: a C-contiguous 2-D view (float32, or the
    uint16 bits of a 16-bit format) of ``logits``; copied only if it is strided or foreign-endian.
    """
    check_mapped(logits, "logits")
    arr = np.asarray(logits)
    name = arr.dtype.name
    if dtype is not None and dtype not in _DTYPES:
        raise ValueError(f"dtype must be one of {_DTYPES} or None, not {dtype!r}")
    if dtype == "bfloat16" and arr.dtype == np.uint16:
        name = "bfloat16"
    elif dtype is not None and dtype != name:
        raise TypeError(f"dtype={dtype!r} does not match logits of dtype {arr.dtype}")
    if name not in _DTYPES:
        raise TypeError(
            f"logits must be float32, float16 or bfloat16 (an ml_dtypes.bfloat16 array, or "
            f"uint16 bits with dtype='bfloat16'), not {arr.dtype}; float64 logits can be "
            f"converted with .astype(np.float32)"
        )
    if arr.ndim not in (2, 3):
        raise ValueError(
            f"logits must be 2-D [tokens, vocab] or 3-D [batch, tokens, vocab], not of "
            f"shape {arr.shape}"
        )
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    arr = in_place(arr)
    lead = arr.shape[:-1]
    rows = arr.reshape(math.prod(lead), arr.shape[-1])
    if name != "float32":
        rows = rows.view(np.uint16)
    return rows, name, lead


def _ignore_index(value: Any) -> int | None:
    """``ignore_index`` checked: an int in the int64 range, or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"ignore_index must be an int or None, got {type(value).__name__}")
    value = int(value)
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"ignore_index must fit in 64 bits, got {_shown(value)}")
    return int(value)


def _ids(values: Any, name: str, lead: tuple[int, ...]) -> npt.NDArray[np.integer[Any]]:
    """A 1-D integer array of ``values``, which must have the tokens' shape ``lead``."""
    arr = np.asarray(values)
    if arr.shape != lead:
        raise ValueError(f"{name} has shape {arr.shape} but the logits hold tokens of shape {lead}")
    return _as_int_array(arr.reshape(-1), name)


def _segments(segments: Any, lead: tuple[int, ...]) -> npt.NDArray[np.int64] | None:
    if segments is None:
        return None
    ids = _ids(segments, "segments", lead)
    if ids.dtype == np.uint64 and ids.size and int(ids.max()) > np.iinfo(np.int64).max:
        raise ValueError("segments holds an id above 2**63-1")
    return in_place(ids, np.int64)


@overload
def cross_entropy(
    logits: Any,
    targets: Any,
    *,
    ignore_index: int | None = ...,
    reduction: Literal["mean", "sum"] = ...,
    unit: Unit = ...,
    dtype: str | None = ...,
    threads: int | None = ...,
    progress: Progress = ...,
) -> float: ...
@overload
def cross_entropy(
    logits: Any,
    targets: Any,
    *,
    ignore_index: int | None = ...,
    reduction: Literal["none"],
    unit: Unit = ...,
    dtype: str | None = ...,
    threads: int | None = ...,
    progress: Progress = ...,
) -> FloatArray: ...
def cross_entropy(
    logits: Any,
    targets: Any,
    *,
    ignore_index: int | None = -100,
    reduction: Reduction = "mean",
    unit: Unit = "nats",
    dtype: str | None = None,
    threads: int | None = None,
    progress: Progress = False,
) -> float | FloatArray:
    """Cross-entropy of logits against target ids: per token, summed, or averaged.

    Parameters
    ----------
    logits : array_like
        ``[tokens, vocab]``, or ``[batch, tokens, vocab]`` (treated as ``batch·tokens`` rows),
        of dtype ``float32``, ``float16`` or bfloat16: an ``ml_dtypes.bfloat16`` array, or its
        ``uint16`` bits with ``dtype="bfloat16"``. Read in place when C-contiguous (a strided
        view, e.g. a slice of the vocabulary, is copied once). A memory-mapped ``.npy`` works.
    targets : array_like of int
        The target id of each token, shape ``[tokens]`` (``[batch, tokens]`` for 3-D logits).
        Row t of ``logits`` is scored against ``targets[t]``: for a causal language model,
        whose logits at position t predict the token at t + 1, shift first, passing
        ``logits[:, :-1]`` with ``input_ids[:, 1:]`` (unshifted, the loss is meaningless).
    ignore_index : int or None, default -100
        Tokens with this target are skipped: loss 0, not counted in the mean. ``None``: none.
    reduction : {"mean", "sum", "none"}
        ``"mean"`` over the counted tokens, ``"sum"``, or ``"none"``: the per-token losses as a
        ``float64`` array of the targets' shape (0 at ignored tokens).
    unit : {"nats", "bits"}
        Unit of the result: nats/token or bits/token.
    dtype : {"float32", "float16", "bfloat16"} or None
        Only needed for bfloat16 given as ``uint16`` bits.
    threads : int or None
        Worker threads; ``None`` uses all cores. The result does not depend on it.
    progress : bool, "auto" or callable, default False
        As in :func:`count_ngrams`: ``True`` or ``"auto"`` shows progress on stderr; a
        callable is called with ``(done, total)`` tokens, ``done`` increasing and ending
        at ``total``.

    Returns
    -------
    float or numpy.ndarray
        The mean or sum in ``unit`` per token, or the per-token losses.

    Raises
    ------
    TypeError
        Logits of another dtype, or targets that are not integers.
    ValueError
        Shapes that do not match, 1-D logits, an empty input, a target out of ``0..vocab-1``
        (other than ``ignore_index``), NaN or +inf in a row whose target is counted, a target
        logit of -inf (probability 0), or every token ignored with ``reduction="mean"``.
        Messages name the first bad position.
    KeyboardInterrupt
        Ctrl-C during the call (it stops within about a second).

    Notes
    -----
    ``nll = log1p(k - 1 + R) + (max - x_target)`` with ``R = Σ_{x_j < max} e^(x_j - max)`` and
    ``k`` the number of entries equal to the row's maximum: one pass over each row in ``f32``
    lanes with a vectorised exponential (AVX-512, AVX2 or portable code, chosen at run time),
    sums in ``f64``. The per-token relative error against a float64 computation on the same
    inputs is below 1e-6 for every dtype (the bound by analysis and the measured worst cases:
    ``docs/xent_speed.md``, Accuracy). bfloat16 rows, and float16 rows on CPUs without
    full-width 256-bit vector units, are computed instead from a table of ``e^x`` in ``f64``
    for each of the 65,536 bit patterns (faster there, and exact to ``f64`` rounding), except
    rows with entries above 709 or whose other terms all lie below 1e-270, which take the
    vector kernel; on AVX-512 and full-width AVX2 CPUs float16 rows are widened exactly to
    ``f32`` and take the vector kernel, which is faster there. The choice is fixed per CPU
    (never timed), so results do not vary between runs on one machine. ``-inf`` logits are
    allowed (probability 0) except at the target.
    Sums and means are exact sums of the per-token losses truncated to multiples of 2^-64
    nats, so they do not depend on ``threads``. Extra memory does not grow with the
    vocabulary; ``reduction="none"`` allocates its output, 8 bytes per token.

    Examples
    --------
    >>> import numpy as np
    >>> import fastentropy as fe
    >>> logits = np.array([[2.0, 0.0, 0.0], [0.0, 0.0, 0.0]], dtype=np.float32)
    >>> round(fe.cross_entropy(logits, [0, 2]), 6)  # (ln(e^2 + 2) - 2 + ln 3) / 2
    0.669079
    >>> fe.cross_entropy(logits, [0, -100], reduction="none").round(6)
    array([0.239545, 0.      ])
    >>> round(fe.cross_entropy(logits, [1, 1], reduction="sum", unit="bits"), 6)
    4.815943
    """
    factor = _unit_factor(unit)
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
    ignore_index = _ignore_index(ignore_index)
    threads = _threads_arg(threads)
    rows, name, lead = _logits(logits, dtype)
    ids = _ids(targets, "targets", lead)
    with stage(progress, "cross-entropy") as callback:
        if reduction == "none":
            out = _core.xent_tokens(
                rows, ids, dtype=name, ignore_index=ignore_index, threads=threads, progress=callback
            )
            return (out * factor if factor != 1.0 else out).reshape(lead)
        sums = _core.XentSums.from_logits(
            rows, ids, dtype=name, ignore_index=ignore_index, threads=threads, progress=callback
        )
    if reduction == "sum":
        return sums.sum * factor
    if sums.count == 0:
        raise ValueError(
            f"every target is ignore_index ({ignore_index}): the mean over no tokens is undefined"
        )
    return sums.sum / sums.count * factor


class SegmentLosses(NamedTuple):
    """Per-segment figures of a :class:`CrossEntropy`, segment ids ascending.

    Examples
    --------
    >>> import numpy as np
    >>> import fastentropy as fe
    >>> acc = fe.CrossEntropy(unit="bits")
    >>> acc.update_logprobs(np.log([0.5, 0.25, 0.125]), segments=[7, 7, 3])
    >>> seg = acc.per_segment()
    >>> seg.ids, seg.counts, seg.sums, seg.means
    (array([3, 7]), array([1, 2], dtype=uint64), array([3., 3.]), array([3. , 1.5]))
    """

    #: Segment ids (int64).
    ids: npt.NDArray[np.int64]
    #: Tokens counted per segment (uint64).
    counts: npt.NDArray[np.uint64]
    #: Loss sums per segment, in the accumulator's unit.
    sums: FloatArray
    #: Mean loss per token per segment, in the accumulator's unit.
    means: FloatArray


class CrossEntropy:
    """A streaming cross-entropy accumulator: feed logits or log-probs chunk by chunk.

    Counts tokens and sums their losses exactly (in fixed point, 2^-64 nats), overall and per
    segment id, so the result is the same whatever the chunking, the thread count, or the
    order of :meth:`merge`. Memory holds one entry per segment id, nothing per token.
    Thread-safe: updates from several threads compute in parallel and add under a lock.
    Picklable, so accumulators from several processes can be merged.

    Parameters
    ----------
    unit : {"nats", "bits"}
        Unit of :attr:`sum`, :attr:`mean` and :meth:`per_segment`.
    ignore_index : int or None, default -100
        Targets skipped by :meth:`update`.
    threads : int or None
        Worker threads per update; ``None`` uses all cores.

    Examples
    --------
    >>> import math
    >>> import numpy as np
    >>> import fastentropy as fe
    >>> acc = fe.CrossEntropy()
    >>> logits = np.zeros((4, 8), dtype=np.float32)  # uniform over 8: ln 8 nats per token
    >>> acc.update(logits[:3], [1, 2, -100], segments=[0, 0, 1])
    >>> acc.update(logits[3:], [5], segments=[1])
    >>> acc.count, round(acc.mean, 6), round(acc.perplexity, 6)
    (3, 2.079442, 8.0)
    >>> acc.update_logprobs(np.log([0.5, 0.25]))
    >>> acc.count, round(acc.sum / math.log(2), 6)  # + 1 bit + 2 bits
    (5, 12.0)
    >>> acc.per_segment().counts
    array([2, 1], dtype=uint64)
    >>> round(acc.bits_per_byte(n_bytes=24), 6)
    0.5
    """

    def __init__(
        self, *, unit: Unit = "nats", ignore_index: int | None = -100, threads: int | None = None
    ) -> None:
        self._factor = _unit_factor(unit)
        self._unit = unit
        self._ignore_index = _ignore_index(ignore_index)
        self._threads = _threads_arg(threads)
        self._sums = _core.XentSums()
        self._lock = threading.Lock()

    def update(
        self,
        logits: Any,
        targets: Any,
        segments: Any = None,
        *,
        dtype: str | None = None,
        progress: Progress = False,
    ) -> None:
        """Adds the losses of ``logits`` against ``targets``.

        ``logits``, ``targets``, ``dtype`` and ``progress`` are as in :func:`cross_entropy`;
        ``segments``, if given, is an integer id per token (e.g. the document it belongs to),
        shaped like ``targets``. On an error (or Ctrl-C) nothing is added.
        """
        rows, name, lead = _logits(logits, dtype)
        ids, seg = _ids(targets, "targets", lead), _segments(segments, lead)
        with stage(progress, "cross-entropy") as callback:
            part = _core.XentSums.from_logits(
                rows,
                ids,
                dtype=name,
                segments=seg,
                ignore_index=self._ignore_index,
                threads=self._threads,
                progress=callback,
            )
        self._add(part)

    def update_logprobs(self, logprobs: Any, segments: Any = None) -> None:
        """Adds tokens given by their log-probabilities (nats, each finite and ``<= 0``), e.g.
        from an inference server. ``float32`` or ``float64``, 1-D. On an error nothing is added.
        """
        check_mapped(logprobs, "logprobs")
        arr = np.asarray(logprobs)
        if arr.dtype not in (np.float32, np.float64):
            raise TypeError(f"logprobs must be float32 or float64, not {arr.dtype}")
        if arr.ndim != 1:
            raise ValueError(f"logprobs must be 1-D, not of shape {arr.shape}")
        arr = in_place(arr, arr.dtype.newbyteorder("="))
        part = _core.XentSums.from_logprobs(arr, segments=_segments(segments, arr.shape))
        self._add(part)

    def merge(self, other: CrossEntropy) -> None:
        """Adds the tokens counted by ``other`` (e.g. from another process, unpickled)."""
        if not isinstance(other, CrossEntropy):
            raise TypeError(f"can only merge a CrossEntropy, not {type(other).__name__}")
        with other._lock:
            part = _core.XentSums.from_state(*other._sums.state())
        self._add(part)

    def _add(self, part: _core.XentSums) -> None:
        with self._lock:
            self._sums.merge(part)

    @property
    def unit(self) -> str:
        """Unit of :attr:`sum`, :attr:`mean` and :meth:`per_segment`."""
        return self._unit

    @property
    def count(self) -> int:
        """Number of tokens counted."""
        with self._lock:
            return self._sums.count

    @property
    def sum(self) -> float:
        """Sum of the token losses, in :attr:`unit`."""
        with self._lock:
            return self._sums.sum * self._factor

    @property
    def mean(self) -> float:
        """Mean loss per token, in :attr:`unit` per token. ``ValueError`` if no token yet."""
        with self._lock:
            count, total = self._sums.count, self._sums.sum
        if count == 0:
            raise ValueError("no tokens counted yet: the mean is undefined")
        return total / count * self._factor

    @property
    def perplexity(self) -> float:
        """``exp`` of the mean loss in nats (unit-free); ``inf`` beyond the float range."""
        try:
            return math.exp(self.mean / self._factor)
        except OverflowError:  # a mean above ~709.78 nats
            return math.inf

    def bits_per_byte(self, n_bytes: int) -> float:
        """The loss in bits per byte of text, for tokens that encode ``n_bytes`` bytes.

        Tokenizer-free: comparable across models with different vocabularies.
        """
        if isinstance(n_bytes, bool) or not isinstance(n_bytes, numbers.Real):
            raise TypeError(f"n_bytes must be a number, not {type(n_bytes).__name__}")
        if not (math.isfinite(n_bytes) and n_bytes > 0):
            raise ValueError(f"n_bytes must be a positive number of bytes, not {_shown(n_bytes)}")
        with self._lock:
            total = self._sums.sum
        return total / LN2 / n_bytes

    def per_segment(self) -> SegmentLosses:
        """Ids, token counts, loss sums and means (in :attr:`unit`) of every segment that has
        a counted token; tokens given without segment ids are in none."""
        with self._lock:
            ids, counts, sums = self._sums.per_segment()
        sums = sums * self._factor
        return SegmentLosses(ids, counts, sums, sums / counts)

    def __getstate__(self) -> dict[str, Any]:
        with self._lock:
            state = self._sums.state()
        return {
            "unit": self._unit,
            "ignore_index": self._ignore_index,
            "threads": self._threads,
            "sums": state,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            unit=state["unit"], ignore_index=state["ignore_index"], threads=state["threads"]
        )
        self._sums = _core.XentSums.from_state(*state["sums"])

    def __repr__(self) -> str:
        with self._lock:
            count, total = self._sums.count, self._sums.sum * self._factor
        return f"CrossEntropy(count={count}, sum={total!r}, unit={self._unit!r})"
