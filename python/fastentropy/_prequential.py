"""The prequential code length of an online n-gram predictor: what an honest model reaches.

Each token is scored by ``-ln q(x_t | x_<t)`` *before* the model learns from it (Dawid
1984), so the total is a code length an arithmetic coder would reach, and its mean per token
is an upper bound, in expectation, on the entropy rate; the running total is the model's
learning curve. Two models in the core: by default, for up to 2^20 codable ids, a bit-level
context-mixing model in the family of PAQ8/lpaq (Mahoney 2005), its contexts bytes for up to
256 ids and whole previous tokens above; or a Pitman–Yor blend of context orders 0..K with
discounts learned online, mixed by learned weights (see ``docs/prequential.md``).
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from . import _core
from ._args import as_int_array as _as_int_array
from ._args import counting_options as _options
from ._args import int_arg as _int_arg
from ._args import parse_size
from ._jsonfile import read_json, write_json
from ._progress import Progress, stage
from ._types import MemoryLimit
from ._units import LN2

__all__ = ["CodeLength", "Curve", "prequential"]

#: Default bytes for the model's count tables (the core's default).
DEFAULT_MEMORY = 1 << 30
_FORMAT = "fastentropy.prequential/1"

PerToken = Union[bool, str, "os.PathLike[str]"]


class Curve:
    """The learning curve: cumulative code length ``L_N`` (nats) after ``N`` scored tokens.

    Recorded at ``N = 2**10, 2**11, ...`` and at the end. ``nats / n`` is the code length per
    token up to each point; the increments between points are what a model of the rate
    extrapolates.

    Attributes
    ----------
    n : numpy.ndarray of uint64
        Tokens scored, increasing.
    nats : numpy.ndarray of float64
        Cumulative code length in nats at each ``n``.

    Examples
    --------
    >>> import numpy as np
    >>> c = Curve(np.array([1024, 1500], dtype=np.uint64), np.array([700.0, 1000.0]))
    >>> c.per_token().round(4).tolist()
    [0.6836, 0.6667]
    """

    __slots__ = ("n", "nats")

    def __init__(self, n: npt.ArrayLike, nats: npt.ArrayLike) -> None:
        self.n = np.array(n, dtype=np.uint64)
        self.nats = np.array(nats, dtype=np.float64)
        if self.n.shape != self.nats.shape or self.n.ndim != 1:
            raise ValueError("curve n and nats must be 1-D and of the same length")
        self.n.flags.writeable = False
        self.nats.flags.writeable = False

    def per_token(self) -> npt.NDArray[np.float64]:
        """``L_N / N``: mean code length per token up to each point, nats."""
        return self.nats / np.maximum(self.n, 1).astype(np.float64)

    def __len__(self) -> int:
        return int(self.n.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Curve):
            return NotImplemented
        return bool(np.array_equal(self.n, other.n) and np.array_equal(self.nats, other.nats))

    def __repr__(self) -> str:
        return f"Curve({len(self)} points, last n={int(self.n[-1]) if len(self) else 0})"


class CodeLength:
    """What :func:`prequential` measured: the code length, its curve, the model that ran.

    Attributes
    ----------
    n : int
        Tokens scored (masked-in, not separators).
    nats : float
        Total code length of the scored tokens, nats.
    curve : Curve
        Cumulative code length at ``N = 2**10, 2**11, ...`` and at the end.
    per_token : numpy.ndarray of float32 or None
        ``-ln q(x_t | x_<t)`` for every input position (NaN where nothing is scored), when
        asked for; a memory-mapped ``.npy`` when written to a file.
    model : dict
        What ran: ``kind`` (``"bits"`` or ``"tokens"``), ``name``, ``order``,
        ``vocab_size``, ``memory_bytes`` (its tables), ``dense_orders``, ``hashed`` (order,
        buckets, entries per bucket), ``separator``, ``masked``; the bit model adds
        ``bits_per_symbol``, ``slot_buckets``, ``slots_per_bucket``, ``text_contexts``,
        ``mixer_weight_sets``, ``sse_stages``, ``match_window``, ``match_min_len``; over
        more than 256 ids also ``sparse_contexts`` and ``recent_tokens`` (its long memory).
    bytes_per_token : float or None
        UTF-8 bytes per token of the text, when known (from a TokenFile or given).

    Examples
    --------
    >>> cl = CodeLength(n=2048, nats=1400.0, curve=Curve([1024, 2048], [800.0, 1400.0]),
    ...                 bytes_per_token=1.0)
    >>> round(cl.nats_per_token, 4), round(cl.bits_per_byte, 4)
    (0.6836, 0.9862)
    >>> CodeLength.from_json(cl.to_json()) == cl
    True
    """

    __slots__ = ("bytes_per_token", "curve", "model", "n", "nats", "per_token")

    def __init__(
        self,
        n: int,
        nats: float,
        curve: Curve,
        model: dict[str, Any] | None = None,
        bytes_per_token: float | None = None,
        per_token: npt.NDArray[np.float32] | None = None,
    ) -> None:
        self.n = int(n)
        self.nats = float(nats)
        self.curve = curve
        self.model = dict(model or {})
        self.bytes_per_token = None if bytes_per_token is None else float(bytes_per_token)
        self.per_token = per_token

    @property
    def nats_per_token(self) -> float:
        """Mean code length per scored token, nats (NaN if nothing was scored)."""
        return self.nats / self.n if self.n else math.nan

    @property
    def bits_per_token(self) -> float:
        """Mean code length per scored token, bits."""
        return self.nats_per_token / LN2

    @property
    def bits_per_byte(self) -> float | None:
        """Bits per byte of text: ``bits_per_token / bytes_per_token`` (None if unknown)."""
        if self.bytes_per_token is None:
            return None
        return self.bits_per_token / self.bytes_per_token

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The result as JSON text (written to ``path`` too, if given); no per-token costs."""
        data = {
            "format": _FORMAT,
            "n": self.n,
            "nats": self.nats,
            "nats_per_token": self.nats_per_token,
            "bits_per_byte": self.bits_per_byte,
            "bytes_per_token": self.bytes_per_token,
            "curve": {"n": self.curve.n.tolist(), "nats": self.curve.nats.tolist()},
            "model": self.model,
        }
        return write_json(data, path)

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> CodeLength:
        """A result from :meth:`to_json` output: JSON text, or the path of a file holding it.

        Raises
        ------
        ValueError
            Text that is not a prequential result's JSON (the message names the file).
        TypeError
            ``source`` is neither a str nor a path.
        FileNotFoundError
            A path that does not exist.
        """
        data, where = read_json(source, "a prequential result's JSON")
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise ValueError(f"{where}: not a prequential result's JSON (format {_FORMAT!r})")
        try:
            curve = Curve(data["curve"]["n"], data["curve"]["nats"])
            return cls(
                n=data["n"],
                nats=data["nats"],
                curve=curve,
                model=data["model"],
                bytes_per_token=data["bytes_per_token"],
            )
        except (KeyError, TypeError) as e:
            raise ValueError(f"{where}: a prequential result's JSON lacks {e}") from None

    def plot(self, path: str | os.PathLike[str]) -> None:
        """Write the learning curve figure to ``path`` (needs matplotlib).

        Two lines against ``N`` (log scale): the mean code length ``L_N / N`` so far, and the
        local one ``ΔL / ΔN`` between curve points, which falls toward the rate.
        """
        from ._plotting import figure_and_axes, second_scale

        if len(self.curve) == 0:
            raise ValueError("this result has no curve points to plot")
        fig, ax = figure_and_axes("CodeLength.plot")
        n = self.curve.n.astype(np.float64)
        ax.plot(n, self.curve.per_token(), marker="o", ms=3, label="mean so far, L_N / N")
        if len(n) > 1:
            local = np.diff(self.curve.nats) / np.diff(n)
            ax.step(n[1:], local, where="pre", label="between points, dL / dN")
        ax.set_xscale("log")
        ax.set_xlabel("tokens scored N")
        ax.set_ylabel("code length, nats/token")
        ax.set_title(f"Prequential code length (order {self.model.get('order')})")
        if self.bytes_per_token is not None:
            second_scale(ax, 1.0 / (LN2 * self.bytes_per_token), "bits/byte")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.savefig(os.fspath(path))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CodeLength):
            return NotImplemented
        return (
            self.n == other.n
            and self.nats == other.nats
            and self.curve == other.curve
            and self.model == other.model
            and self.bytes_per_token == other.bytes_per_token
        )

    def __repr__(self) -> str:
        bpb = self.bits_per_byte
        per_byte = "" if bpb is None else f", {bpb:.4f} bits/byte"
        return (
            f"CodeLength(n={self.n}, {self.nats_per_token:.4f} nats/token{per_byte}, "
            f"order={self.model.get('order')})"
        )


def prequential(
    tokens: Any,
    *,
    order: int | None = None,
    vocab_size: int | None = None,
    separator: int | None = None,
    mask: npt.ArrayLike | None = None,
    bytes_per_token: float | None = None,
    memory_limit: MemoryLimit = None,
    threads: int | None = None,
    progress: Progress = False,
    per_token: PerToken = False,
    model: str | None = None,
) -> CodeLength:
    """The prequential code length of a token stream under an online n-gram predictor.

    Every token is predicted from the tokens before it in its document, scored by
    ``-ln q(x_t | x_<t)``, and only then learned from. ``q`` is a proper distribution over
    the whole vocabulary at every step (an unseen token gets escape mass, never ``-ln 0``).

    Parameters
    ----------
    tokens : array_like of int, or a TokenFile
        1-D token ids (numpy array of any integer dtype, read in place; or what
        :func:`open_tokens` returns), or the :class:`TokenFile` of :func:`tokenize`, which
        brings its separator, mask, vocabulary size and bytes per token.
    order : int, optional
        Longest context. The token model: 0..48, default 6 up to 4096 ids, else 4 (12 for
        bytes). The bit model: 0..8, default 8 for bytes, 6 above 256 ids. Giving an order
        selects the token model unless ``model="bits"``.
    vocab_size : int, optional
        Ids are below this. Default: the TokenFile's (at least the separator + 1), else the
        largest id (or separator) + 1.
    separator : int, optional
        The id that ends a document: never scored nor learned; the next token is predicted
        from an empty context (the statistics are kept).
    mask : array_like of bool, optional
        Same length as ``tokens``: every token teaches the model, only masked-in tokens are
        scored (prompts as context, responses scored).
    bytes_per_token : float, optional
        UTF-8 bytes of text per token, for :attr:`CodeLength.bits_per_byte` (a TokenFile
        brings its own).
    memory_limit : int or str, optional
        Bytes for the count tables (e.g. ``"2GB"``); default 1 GiB. Short inputs use less.
        A smaller limit costs compression (more hash collisions), never correctness.
    threads : int, optional
        Accepted and checked (1..1024) for a uniform API, but the predictor is sequential:
        the result is the same bits for any value.
    progress : bool or callable, default False
        ``True`` draws a progress line on stderr; a callable gets ``(done, total)`` tokens.
    per_token : bool or path, default False
        ``True`` keeps each token's cost as a float32 array in :attr:`CodeLength.per_token`;
        a path writes it as a ``.npy`` file there (memory-mapped, for huge corpora).
    model : {"bits", "tokens"}, optional
        Which predictor. Default: ``"bits"`` (bit-level context mixing) for at most 2^20
        codable ids (the separator not counted) when no ``order`` is given and
        ``memory_limit`` holds its fixed tables (for bytes about 1 MB, 5 MB with the full
        SSE table; for 16k ids about 2 MB), else ``"tokens"`` (the blend of whole-token
        distributions).

    Returns
    -------
    CodeLength

    Raises
    ------
    TypeError
        Tokens that are not integers, a mask that is not bool, an option of the wrong type.
    ValueError
        Empty or non-1-D tokens, a negative id, an id >= ``vocab_size``, a separator outside
        the vocabulary, a mask of the wrong length, an order above 48 (above 8 for the bit
        model), ``model="bits"`` for more than 2^20 codable ids, an unknown ``model``.
    MemoryError
        ``memory_limit`` too small for the model's smallest tables.
    KeyboardInterrupt
        Ctrl-C (the run stops within about a second).

    Notes
    -----
    Bit model (Mahoney 2005, 2007 lpaq1; "Data Compression Explained" ch. 4.3): each id is
    coded as its ``ceil(log2 V)`` bits, branches with no ids forced, so ``q`` is proper over
    exactly the ``V`` ids; each bit is predicted by two logistic mixers of order-0/1 counters,
    hashed orders 2-6 and 8 and two word contexts (bit-history states mapped to
    probabilities) and a match model, then an SSE stage. Above 256 ids the contexts are
    whole previous tokens: order 0 exact, order 1 as adaptive probabilities, orders 1-4 and
    6 as bit-history states in slots of up to 4 bits of the id, each with the last token
    seen in it and how often in a row (PAQ8's run model), and a match model.

    Token model (Teh 2006; Cleary & Witten 1984; Steinruecken, Ghahramani & MacKay 2015):
    ``q_k(x) = (c_x - d [c_x>0] + (θ + d T) q_{k-1}(x)) / (C + θ)`` over orders ``k = 0..K``
    from a uniform base, with ``(d, θ)`` per order and context class learned by gradient
    steps on ``ln q``, then a learned mixture of the levels ``q_0..q_K``, then binary
    stages on the symbols two match models expect (Cleary, Teahan & Witten 1995; Mahoney
    2005): ``q(s) = h``, ``q(x) = (1 - h) b(x) / (1 - b(s))``, with ``h`` mixed
    logistically from ``b(s)``, the hit rate by match length and an SSE map. Sparse ids are
    held as dense ranks; ``q`` is proper over the whole declared vocabulary.

    Examples
    --------
    >>> import fastentropy as fe
    >>> src = fe.MarkovSource(vocab_size=8, order=1, seed=3)
    >>> cl = fe.prequential(src.sample(100_000, seed=1))
    >>> cl.n, len(cl.curve.n), int(cl.curve.n[0])
    (100000, 8, 1024)
    >>> cl.model["kind"]                                   # 8 ids: the bit model
    'bits'
    >>> 0 < cl.nats_per_token - src.entropy_rate < 0.02  # above the exact rate, learning
    True
    """
    tf = tokens if _is_token_file(tokens) else None
    if tf is not None:
        arr = _as_int_array(tf.tokens(), "tokens")
        separator = tf.separator if separator is None else separator
        mask = tf.mask() if mask is None else mask
        if vocab_size is None:
            vocab_size = max(tf.vocab_size, -1 if separator is None else separator + 1)
        if bytes_per_token is None and tf.n_text_tokens:
            bytes_per_token = tf.bytes_per_token
    else:
        arr = _as_int_array(tokens, "tokens")
    if arr.size == 0:
        raise ValueError("tokens is empty: the prequential code length needs at least one token")
    if order is not None:
        order = _int_arg(order, "order", minimum=0)
    if model is not None and model not in ("bits", "tokens"):
        raise ValueError(f"model must be 'bits' or 'tokens', got {model!r}")
    if vocab_size is not None:
        vocab_size = _int_arg(vocab_size, "vocab_size", minimum=1)
    if bytes_per_token is not None:
        if isinstance(bytes_per_token, bool) or not isinstance(bytes_per_token, numbers.Real):
            raise TypeError("bytes_per_token must be a number")
        if not (math.isfinite(bytes_per_token) and bytes_per_token > 0):
            raise ValueError(f"bytes_per_token must be positive, got {bytes_per_token}")
    opts = _options(arr, separator, mask, DEFAULT_MEMORY, threads)
    if memory_limit is not None:
        opts["memory_limit"] = parse_size(memory_limit)
    out = _per_token_array(per_token, arr.size)
    with stage(progress, "prequential") as callback:
        n, nats, curve_n, curve_nats, settings = _core.prequential(
            arr,
            order=order,
            vocab_size=vocab_size,
            per_token=out,
            progress=callback,
            model=model,
            **opts,
        )
    if isinstance(out, np.memmap):
        out.flush()
    names = {"bits": "bit-level context mixing", "tokens": "pitman-yor blend + mixture"}
    model_info = {
        "name": names[settings["kind"]],
        **settings,
        "hashed": [list(h) for h in settings["hashed"]],
        "separator": opts["separator"],
        "masked": opts["mask"] is not None,
    }
    return CodeLength(
        n=n,
        nats=nats,
        curve=Curve(curve_n, curve_nats),
        model=model_info,
        bytes_per_token=bytes_per_token,
        per_token=out,
    )


def _per_token_array(per_token: Any, size: int) -> npt.NDArray[np.float32] | None:
    if per_token is False or per_token is None:
        return None
    if per_token is True:
        return np.empty(size, dtype=np.float32)
    if isinstance(per_token, (str, os.PathLike)):
        out: npt.NDArray[np.float32] = np.lib.format.open_memmap(
            os.fspath(per_token), mode="w+", dtype=np.float32, shape=(size,)
        )
        return out
    raise TypeError(f"per_token must be a bool or a path, got {type(per_token).__name__}")


def _is_token_file(obj: Any) -> bool:
    return callable(getattr(obj, "tokens", None)) and hasattr(obj, "separator")
