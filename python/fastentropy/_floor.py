"""The entropy floor: conditional entropies by order, and the floor they put under a loss.

Cross-entropy loss = H(Q) + KL(Q || P) >= H(Q): no honest model's loss, in nats per token,
goes below the entropy rate of the text. The rate is the limit of the conditional entropies
``h_n = H(X_n | X_1..X_{n-1}) = H_n - H_{n-1}``, which decrease with n; each is estimated
from the n-gram counts of the corpus, and the floor is read off the highest order whose
estimates the sample still supports.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from ._core import __version__
from ._estimate import METHODS, entropy
from ._ngram import MemoryLimit, Progress, _int_arg, ngram_profiles
from ._profile import Profile, _as_int_array

__all__ = ["DEFAULT_METHODS", "Floor", "OrderReport", "Value", "estimate_floor"]

LN2 = math.log(2.0)

#: Methods ``estimate_floor`` runs by default.
DEFAULT_METHODS: tuple[str, ...] = (
    "plugin",
    "miller_madow",
    "grassberger",
    "chao_shen",
    "nsb",
    "pym",
)
#: Which method gives the point estimate, by regime: the first one that produced a value.
#: Well sampled, Grassberger has the lowest error (docs/accuracy.md: lowest RMSE at
#: N/K >= 3; docs/floor.md: within 0.003 nats of the exact h_n on Markov sources) and NSB is
#: biased high (+0.01 nats there; +0.07-0.10 bits on Zipf in docs/accuracy.md); marginally
#: sampled, NSB is the least biased.
POINT_PREFERENCE: dict[str, tuple[str, ...]] = {
    "reliable": ("grassberger", "miller_madow", "nsb", "chao_shen", "pym", "plugin"),
    "marginal": ("nsb", "chao_shen", "grassberger", "pym", "miller_madow", "plugin"),
    "unreliable": ("nsb", "chao_shen", "grassberger", "pym", "miller_madow", "plugin"),
}

# Sampling regimes. Two measures, both needed:
# - Good-Turing coverage 1 - f1/N of the n-grams. In docs/accuracy.md coverage >= 0.9 goes
#   with N/K >= 3 on every distribution (Zipf 0.91-0.93, uniform 0.95, Dirichlet 0.98), where
#   bias-corrected block entropies are within 0.03 bits; 0.8-0.9 with N/K ~ 1; below 0.8
#   every method is >= 0.25 bits off.
# - the plug-in's first-order bias of h_n, (distinct n-grams - distinct contexts) / 2N nats
#   (Miller 1955, applied to H_n and H_ctx). Coverage alone misses orders where contexts
#   are sampled far better than n-grams: on Markov sources (docs/floor.md) Grassberger's h_n
#   was up to 0.13 nats low at coverage 0.90-0.93 with this bias at 0.05-0.07, but within
#   0.04 nats (and NSB within 0.025) wherever it was <= 0.03 with coverage >= 0.9. A lower
#   threshold buys little accuracy and reads the floor at a lower order, further above the
#   entropy rate: an overstated floor is the costly error when checking a loss against it.
RELIABLE_COVERAGE = 0.90
MARGINAL_COVERAGE = 0.80
RELIABLE_BIAS = 0.03
MARGINAL_BIAS = 0.10
#: The interval spans every method's estimate ± this many of its stds.
INTERVAL_STDS = 2.0
#: Orders counted when none are given, at most (fewer when the key cannot hold them).
DEFAULT_MAX_ORDER = 6

UNITS = ("nats/token", "bits/token", "bits/byte", "bits/char")

RULE = (
    f"an order is reliable when its n-gram coverage 1 - f1/N is >= {RELIABLE_COVERAGE} and "
    f"the plug-in's first-order bias (distinct n-grams - distinct contexts)/2N is <= "
    f"{RELIABLE_BIAS} nats, marginal at >= {MARGINAL_COVERAGE} and <= {MARGINAL_BIAS}; "
    "floor = h_n at the highest order that is reliable or marginal, by grassberger where "
    "reliable and nsb where marginal (then flagged); else at n = 1, flagged unreliable; "
    f"interval = the range of every method's h_n ± {INTERVAL_STDS:g} std at that order"
)


@dataclass(frozen=True)
class Value:
    """An entropy estimate in nats (per n-gram for block entropies, per token for h_n)."""

    value: float
    std: float | None = None


@dataclass(frozen=True)
class OrderReport:
    """What the counts of one order n say.

    Attributes
    ----------
    order : int
        n.
    n : int
        N_n, the number of n-gram windows counted.
    distinct, singletons : int
        Distinct n-grams, and how many were seen once (f1).
    contexts : int
        Distinct (n-1)-token prefixes of the counted windows.
    block : dict of str to Value
        The block entropy H_n by method, in nats per n-gram.
    conditional : dict of str to Value
        h_n = H_n - H(contexts) by method, in nats per token. The contexts are the
        (n-1)-prefixes of the same counted windows, so with a mask or separators this is
        the conditional entropy of exactly the tokens counted. The std of a difference is
        sqrt(std_n² + std_ctx²), conservative since the two estimates err together.
    failed : dict of str to str
        Methods that gave no estimate at this order, with the reason.

    Examples
    --------
    >>> import fastentropy as fe
    >>> floor = fe.estimate_floor([1, 2, 1, 2, 1, 2, 1, 3], orders=[2], methods=["plugin"])
    >>> r = floor.orders[0]
    >>> r.n, r.distinct, r.contexts, r.singletons, r.regime
    (7, 3, 2, 1, 'marginal')
    >>> round(r.conditional["plugin"].value, 4)   # H(2-grams) - H(their first tokens)
    0.3213
    """

    order: int
    n: int
    distinct: int
    singletons: int
    contexts: int
    block: Mapping[str, Value] = field(default_factory=dict)
    conditional: Mapping[str, Value] = field(default_factory=dict)
    failed: Mapping[str, str] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        """Good-Turing coverage 1 - f1/N: the estimated probability of an n-gram seen."""
        return 1.0 - self.singletons / self.n if self.n else math.nan

    @property
    def coincidences(self) -> int:
        """N - distinct: repeated observations, what Bayesian estimators learn from."""
        return self.n - self.distinct

    @property
    def plugin_bias(self) -> float:
        """(distinct - contexts) / 2N: the plug-in h_n's first-order bias, in nats (Miller
        1955: the bias of a plug-in entropy is -(K - 1)/2N + O(1/N²))."""
        return (self.distinct - self.contexts) / (2 * self.n) if self.n else math.nan

    @property
    def regime(self) -> str:
        """``"reliable"``, ``"marginal"`` or ``"unreliable"``: see :data:`RULE`."""
        if self.coverage >= RELIABLE_COVERAGE and self.plugin_bias <= RELIABLE_BIAS:
            return "reliable"
        if self.coverage >= MARGINAL_COVERAGE and self.plugin_bias <= MARGINAL_BIAS:
            return "marginal"
        return "unreliable"


@dataclass(frozen=True)
class Floor:
    """The entropy floor of a corpus, and the per-order estimates it was read from.

    ``point``, ``lower`` and ``upper`` are in nats per token; :meth:`interval` gives them in
    bits per token, byte or character. ``print(floor)`` shows the full report.

    Attributes
    ----------
    point, lower, upper : float
        The floor's estimate and interval, nats/token.
    order, method : int, str
        Where the point estimate comes from (see ``rule``).
    reliable : bool
        Whether that order is reliably sampled (see ``rule``); False for a marginal order.
    n_tokens : int
        Tokens in the input (with separators), or 0 for a floor given by hand.
    bytes_per_token, chars_per_token : float or None
        UTF-8 bytes and characters of text per token, from the tokenization sidecar.
    vocab_size : int or None
        The tokenizer's vocabulary size, if known.
    tokenizer : dict or None
        The tokenizer's identity (``name`` and ``hash``), if known.
    masked : bool
        Whether only loss-masked tokens were counted.
    methods : tuple of str
        The estimators run.
    orders : tuple of OrderReport
        The per-order report, by increasing order.
    rule : str
        How the floor was chosen.
    notes : tuple of str
        Anything the reader should know about this estimate.
    version : str
        The fastentropy version that made it.

    Examples
    --------
    >>> import fastentropy as fe
    >>> src = fe.MarkovSource(vocab_size=6, order=1, seed=2)
    >>> floor = fe.estimate_floor(src.sample(100_000, seed=3), orders=[1, 2, 3])
    >>> floor.order, floor.method, floor.reliable
    (3, 'grassberger', True)
    >>> point, lower, upper = floor.interval("bits/token")
    >>> lower <= point <= upper
    True
    """

    point: float
    lower: float
    upper: float
    order: int
    method: str
    reliable: bool
    n_tokens: int = 0
    bytes_per_token: float | None = None
    chars_per_token: float | None = None
    vocab_size: int | None = None
    tokenizer: Mapping[str, str] | None = None
    masked: bool = False
    methods: tuple[str, ...] = ()
    orders: tuple[OrderReport, ...] = ()
    rule: str = RULE
    notes: tuple[str, ...] = ()
    version: str = __version__

    def __post_init__(self) -> None:
        # Every floor, computed, given or loaded, is checked here: a NaN or inverted floor
        # would make every comparison against it false and a check say "above".
        values = (self.lower, self.point, self.upper)
        finite = all(_is_real(v) and math.isfinite(v) for v in values)
        if not (finite and 0.0 <= self.lower <= self.point <= self.upper):
            raise ValueError(
                "a floor needs finite numbers 0 <= lower <= point <= upper (nats/token; an "
                f"entropy is not negative), got lower={self.lower!r}, point={self.point!r}, "
                f"upper={self.upper!r}"
            )
        for name in ("bytes_per_token", "chars_per_token"):
            per = getattr(self, name)
            if per is not None and not (_is_real(per) and math.isfinite(per) and per > 0):
                raise ValueError(f"{name} must be a positive number, got {per!r}")
        for name, low in (("order", 1), ("n_tokens", 0)):
            value = getattr(self, name)
            if not _is_int(value) or value < low:
                raise ValueError(f"a floor's {name} must be an integer >= {low}, got {value!r}")
        if self.vocab_size is not None and (not _is_int(self.vocab_size) or self.vocab_size < 1):
            raise ValueError(f"vocab_size must be a positive integer, got {self.vocab_size!r}")
        for name in ("reliable", "masked"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(
                    f"a floor's {name} must be true or false, got {getattr(self, name)!r}"
                )
        for name in ("method", "rule", "version"):
            if not isinstance(getattr(self, name), str):
                raise ValueError(f"a floor's {name} must be a string, got {getattr(self, name)!r}")
        if self.tokenizer is not None and not (
            isinstance(self.tokenizer, Mapping)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in self.tokenizer.items())
        ):
            raise ValueError(
                f"a floor's tokenizer must map names to strings, got {self.tokenizer!r}"
            )

    @classmethod
    def from_summary(
        cls,
        point: float,
        lower: float,
        upper: float,
        *,
        bytes_per_token: float | None = None,
        chars_per_token: float | None = None,
        tokenizer: Mapping[str, str] | None = None,
        masked: bool = False,
        n_tokens: int = 0,
        order: int = 1,
        method: str = "given",
        reliable: bool = True,
    ) -> Floor:
        """A floor known from elsewhere (nats/token), without per-order estimates.

        Examples
        --------
        >>> f = Floor.from_summary(2.0, 1.9, 2.1, bytes_per_token=4.0)
        >>> [round(x, 4) for x in f.interval("bits/byte")]
        [0.7213, 0.6853, 0.7574]
        """
        for name, v in (("point", point), ("lower", lower), ("upper", upper)):
            if not _is_real(v):
                raise TypeError(f"{name} must be a number, got {type(v).__name__}")
        values = [float(point), float(lower), float(upper)]
        return cls(
            values[0],
            values[1],
            values[2],
            order,
            method,
            reliable,
            n_tokens=n_tokens,
            bytes_per_token=bytes_per_token,
            chars_per_token=chars_per_token,
            tokenizer=dict(tokenizer) if tokenizer is not None else None,
            masked=masked,
            rule="given",
        )

    def interval(self, unit: str = "nats/token") -> tuple[float, float, float]:
        """``(point, lower, upper)`` in ``unit``: one of :data:`UNITS`.

        Raises
        ------
        ValueError
            An unknown unit, or bits per byte/character without the text sidecar's figure.
        """
        scale = unit_scale(unit, self.bytes_per_token, self.chars_per_token)
        return (self.point * scale, self.lower * scale, self.upper * scale)

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The floor as JSON text (written to ``path`` too, if given)."""
        text = json.dumps(_to_plain(self), indent=1, allow_nan=True)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        return text

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> Floor:
        """A floor from :meth:`to_json` output: JSON text, or the path of a file holding it.

        Raises
        ------
        ValueError
            Text that is not a floor's JSON (the message names the file and says what is
            missing or out of range).
        TypeError
            ``source`` is neither a str nor a path (an int would be read as a file
            descriptor).
        FileNotFoundError
            A path that does not exist.

        Examples
        --------
        >>> f = Floor.from_summary(2.0, 1.9, 2.1)
        >>> Floor.from_json(f.to_json()) == f
        True
        """
        if not isinstance(source, (str, os.PathLike)):
            raise TypeError(f"source must be JSON text or a path, got {type(source).__name__}")
        text = os.fspath(source)
        where = "the text"
        if not isinstance(text, str):
            raise TypeError(f"source must be a str path, got {type(text).__name__}")
        if not text.lstrip().startswith("{"):
            where = text
            with open(text, "rb") as f:
                raw = f.read()
            try:
                text = raw.decode("utf-8-sig")
            except UnicodeDecodeError as e:
                raise ValueError(
                    f"{where}: not a floor's JSON (byte {e.start} is not UTF-8 text)"
                ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            cut = e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated")
            hint = " (truncated?)" if cut else ""
            raise ValueError(f"{where}: not a floor's JSON{hint}: {e}") from None
        try:
            return _from_plain(data)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None

    def __str__(self) -> str:
        from ._floor_text import report

        return report(self)

    def plot(self, path: str | os.PathLike[str], *, truth: float | None = None) -> None:
        """Write a figure of h_n by order, the floor band and the literature band.

        ``truth`` draws a known entropy rate (nats/token), for sources of known entropy.
        The format follows the extension of ``path`` (.png, .pdf, .svg). Needs matplotlib
        (``pip install fastentropy[plot]``).
        """
        from ._floor_plot import plot

        plot(self, path, truth)


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def unit_scale(unit: str, bytes_per_token: float | None, chars_per_token: float | None) -> float:
    """The factor from nats/token to ``unit``."""
    if unit == "nats/token":
        return 1.0
    if unit == "bits/token":
        return 1.0 / LN2
    per = {"bits/byte": (bytes_per_token, "bytes"), "bits/char": (chars_per_token, "characters")}
    if unit not in per:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}; got {unit!r}")
    value, what = per[unit]
    if value is None:
        raise ValueError(
            f"{unit} needs the {what} of text per token, which this floor does not have: "
            "estimate it from a tokenized corpus with its sidecar (fe.tokenize) or pass meta="
        )
    return 1.0 / (LN2 * value)


# --- estimation ---------------------------------------------------------------------------


TokensLike = Union[npt.ArrayLike, Any]


def estimate_floor(
    tokens: TokensLike,
    *,
    orders: Iterable[int] | None = None,
    methods: Iterable[str] = DEFAULT_METHODS,
    separator: int | None = None,
    mask: npt.ArrayLike | None = None,
    meta: Any = None,
    memory_limit: MemoryLimit = None,
    threads: int | None = None,
    progress: Progress = False,
) -> Floor:
    """Estimate the entropy floor of a token corpus: h_n by order and method, then the floor.

    Parameters
    ----------
    tokens : array_like of int, or a TokenFile
        The corpus (numpy array, memory-mapped file from :func:`open_tokens`, or the
        :class:`TokenFile` of :func:`tokenize`, which brings its separator, mask and
        text statistics).
    orders : iterable of int, optional
        n-gram orders. Default 1..6, fewer if this vocabulary's keys cannot hold 6 tokens.
    methods : iterable of str
        Estimators to run (see :data:`METHODS`). Without an alphabet size: ``nsb`` is its
        infinite-alphabet limit.
    separator, mask
        As in :func:`count_ngrams`; default to the TokenFile's when ``tokens`` is one.
    meta : TokenFile or mapping, optional
        The tokenization sidecar (``n_bytes``, ``n_chars``, ``n_tokens``, ``vocab_size``,
        ``tokenizer``) for bits per byte and per character.
    memory_limit, threads, progress
        As in :func:`count_ngrams`. Two counting passes run: one for the n-grams and one for
        their contexts; with neither a mask nor separators the second needs a byte per token
        for its context mask, outside ``memory_limit``.

    Returns
    -------
    Floor

    Examples
    --------
    >>> import fastentropy as fe
    >>> src = fe.MarkovSource(vocab_size=8, order=1, seed=3)
    >>> floor = fe.estimate_floor(src.sample(200_000, seed=1), orders=[1, 2, 3])
    >>> floor.order, floor.reliable
    (3, True)
    >>> bool(floor.lower <= src.entropy_rate <= floor.upper)
    True
    """
    tokens_file: Any = tokens if _is_token_file(tokens) else None
    meta = meta if meta is not None else tokens_file
    if tokens_file is not None:
        arr = _as_int_array(tokens_file.tokens(), "tokens")
        separator = tokens_file.separator if separator is None else separator
        mask = tokens_file.mask() if mask is None else mask
    else:
        arr = _as_int_array(tokens, "tokens")
    method_list = _methods(methods)
    stats = _meta_stats(meta)
    mask_arr = None if mask is None else np.asarray(mask)
    wanted = _orders(orders, arr, stats.get("vocab_size"), mask_arr is not None)
    common: dict[str, Any] = dict(separator=separator, memory_limit=memory_limit, threads=threads)
    blocks = ngram_profiles(arr, wanted, mask=mask_arr, progress=progress, **common)
    context_orders = sorted({n - 1 for n in wanted if n >= 2})
    contexts: dict[int, Profile] = {}
    if context_orders:
        ctx_mask = context_mask(arr, separator, mask_arr)
        contexts = ngram_profiles(arr, context_orders, mask=ctx_mask, progress=progress, **common)
    reports = tuple(_order_report(n, blocks[n], contexts.get(n - 1), method_list) for n in wanted)
    return _choose(
        reports,
        method_list,
        n_tokens=int(arr.size),
        masked=mask_arr is not None,
        **stats,
    )


def context_mask(
    tokens: npt.NDArray[np.integer[Any]], separator: int | None, mask: npt.ArrayLike | None
) -> npt.NDArray[np.bool_]:
    """The mask under which (n-1)-gram counts are the contexts of the counted n-grams.

    The n-gram at i is counted when it holds no separator and its last token, at i+n-1, is
    masked in; the (n-1)-gram at i ends at i+n-2, so it is a counted context exactly when
    the token after it is neither a separator nor masked out. The same shifted mask serves
    every order.

    Examples
    --------
    >>> context_mask(np.array([5, 6, 0, 7]), separator=0, mask=None)
    array([ True, False,  True, False])
    """
    out = np.zeros(tokens.size, dtype=np.bool_)
    step = 1 << 24
    for start in range(0, max(tokens.size - 1, 0), step):
        stop = min(start + step, tokens.size - 1)
        nxt = slice(start + 1, stop + 1)
        ok = np.ones(stop - start, dtype=np.bool_)
        if separator is not None:
            ok &= tokens[nxt] != separator
        if mask is not None:
            ok &= np.asarray(mask)[nxt]
        out[start:stop] = ok
    return out


def _order_report(
    n: int, block: Profile, context: Profile | None, methods: list[str]
) -> OrderReport:
    blocks: dict[str, Value] = {}
    conditional: dict[str, Value] = {}
    failed: dict[str, str] = {}
    if block.n == 0:
        failed = {m: "no n-grams of this order were counted" for m in methods}
    for m in methods if block.n else ():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                h = entropy(block, m)  # type: ignore[arg-type]
                hc = entropy(context, m) if context is not None else None  # type: ignore[arg-type]
        except ValueError as e:
            failed[m] = str(e)
            continue
        blocks[m] = Value(h.value, h.std)
        if hc is None:
            conditional[m] = Value(h.value, h.std)
        else:
            std = None if h.std is None or hc.std is None else math.hypot(h.std, hc.std)
            conditional[m] = Value(h.value - hc.value, std)
    return OrderReport(
        order=n,
        n=block.n,
        distinct=block.distinct,
        singletons=block.singletons,
        contexts=context.distinct if context is not None else (1 if block.n else 0),
        block=blocks,
        conditional=conditional,
        failed=failed,
    )


def _choose(reports: tuple[OrderReport, ...], methods: list[str], **meta: Any) -> Floor:
    usable = [r for r in reports if r.conditional]
    if not usable:
        raise ValueError(
            "no order gave an estimate: the corpus has no counted n-grams "
            f"({', '.join(f'order {r.order}: N={r.n}' for r in reports)})"
        )
    notes: list[str] = []
    # The highest order that is at least marginal: h_n only falls with n, so a lower order
    # overstates the floor (on Markov sources by up to 1.7 nats, docs/floor.md), and an
    # overstated floor is what would wrongly call an honest loss memorization.
    sampled = [r for r in usable if r.regime in ("reliable", "marginal")]
    chosen = sampled[-1] if sampled else None
    if chosen is None:
        chosen = usable[0]
        notes.append(
            "no order is even marginally sampled; the floor from "
            f"order {chosen.order} is not to be trusted: count a larger corpus"
        )
    reliable = chosen.regime == "reliable"
    if chosen.regime == "marginal":
        notes.append(
            f"order {chosen.order} is only marginally sampled (coverage "
            f"{chosen.coverage:.3f}, plug-in bias {chosen.plugin_bias:.3f} nats): NSB's error "
            "was up to 0.3 nats/token at such orders on sources of known rate (docs/floor.md)"
        )
    preferred = (*POINT_PREFERENCE[chosen.regime], *methods)
    method = next(m for m in preferred if m in chosen.conditional)
    point = chosen.conditional[method]
    values = chosen.conditional.values()
    # An entropy is not negative: the interval stops at 0 (a degenerate corpus, such as one
    # token repeated, gives h_n = 0 with a std that would reach below it).
    lower = max(0.0, min(v.value - INTERVAL_STDS * (v.std or 0.0) for v in values))
    upper = max(0.0, max(v.value + INTERVAL_STDS * (v.std or 0.0) for v in values))
    rising = [(a.order, b.order) for a, b in zip(usable, usable[1:]) if _rises(a, b, method)]
    if rising:
        notes.append(
            f"{method} h_n rises beyond its error between orders {rising}: h_n cannot rise "
            "for a stationary source, so those estimates are noise- or bias-dominated"
        )
    return Floor(
        point=min(max(point.value, lower), upper),
        lower=lower,
        upper=upper,
        order=chosen.order,
        method=method,
        reliable=reliable,
        methods=tuple(methods),
        orders=reports,
        notes=tuple(notes),
        **meta,
    )


def _rises(a: OrderReport, b: OrderReport, method: str) -> bool:
    """Whether h_n of ``method`` rises from order a to b by more than 2 combined stds."""
    if method not in a.conditional or method not in b.conditional:
        return False
    va, vb = a.conditional[method], b.conditional[method]
    noise = 2.0 * math.hypot(va.std or 0.0, vb.std or 0.0)
    return vb.value - va.value > max(noise, 1e-9)


def _methods(methods: Iterable[str]) -> list[str]:
    if isinstance(methods, str):
        raise TypeError("methods must be an iterable of method names, not a single string")
    chosen = list(dict.fromkeys(methods))
    # dirichlet needs an alphabet size, which n-grams of an open vocabulary do not have.
    allowed = [m for m in METHODS if m != "dirichlet"]
    unknown = [m for m in chosen if m not in allowed]
    if unknown or not chosen:
        raise ValueError(
            f"methods must be a non-empty selection of {', '.join(allowed)}; "
            f"got {unknown or chosen}"
        )
    return chosen


def _orders(
    orders: Iterable[int] | None,
    tokens: npt.NDArray[np.integer[Any]],
    vocab_size: int | None,
    masked: bool,
) -> list[int]:
    if orders is not None:
        if isinstance(orders, (str, bytes)) or not isinstance(orders, Iterable):
            raise TypeError(f"orders must be an iterable of ints, got {type(orders).__name__}")
        wanted = sorted({_int_arg(n, "orders", 1) for n in orders})
        if not wanted:
            raise ValueError("orders must name at least one order")
        return wanted
    # The context pass always uses a mask (one flag bit per token in the key).
    top = vocab_size if vocab_size is not None else (int(tokens.max()) + 1 if tokens.size else 1)
    bits = max(int(top).bit_length(), 1)
    return list(range(1, min(DEFAULT_MAX_ORDER, 128 // (bits + 1)) + 1))


def _is_token_file(obj: Any) -> bool:
    return callable(getattr(obj, "tokens", None)) and hasattr(obj, "separator")


def _meta_stats(meta: Any) -> dict[str, Any]:
    """bytes_per_token, chars_per_token, vocab_size and tokenizer from a sidecar, if any."""
    if meta is None:
        return {}

    def get(key: str) -> Any:
        return meta.get(key) if isinstance(meta, Mapping) else getattr(meta, key, None)

    # Counts must be counts: a negative n_bytes would give a negative bytes/token and an
    # interval whose ends swap when converted.
    for key in ("n_tokens", "n_documents", "n_bytes", "n_chars", "vocab_size"):
        value = get(key)
        if value is not None and not (_is_real(value) and math.isfinite(value) and value >= 0):
            raise ValueError(f"meta: {key} must be a count (a number >= 0), got {value!r}")
    for key in ("bytes_per_token", "chars_per_token"):
        value = get(key)
        if value is not None and not (_is_real(value) and math.isfinite(value) and value > 0):
            raise ValueError(f"meta: {key} must be a positive number, got {value!r}")
    # Per text token, as TokenFile counts them: a sidecar's n_tokens includes one separator
    # per document.
    n_tokens = get("n_tokens")
    if n_tokens and get("separator") is not None and get("n_documents"):
        n_tokens -= get("n_documents")
    stats: dict[str, Any] = {}
    for key, source in (("bytes_per_token", "n_bytes"), ("chars_per_token", "n_chars")):
        value = get(key)
        if value is None and n_tokens and get(source):
            value = get(source) / n_tokens
        if value is not None:
            stats[key] = float(value)
    if get("vocab_size") is not None:
        stats["vocab_size"] = int(get("vocab_size"))
    if get("tokenizer") is not None:
        stats["tokenizer"] = dict(get("tokenizer"))
    return stats


# --- JSON -------------------------------------------------------------------------------

_FORMAT = "fastentropy.floor/1"


def _to_plain(floor: Floor) -> dict[str, Any]:
    out: dict[str, Any] = {"format": _FORMAT}
    for f in fields(floor):
        value = getattr(floor, f.name)
        if f.name == "orders":
            value = [_order_plain(r) for r in value]
        elif isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        out[f.name] = value
    return out


def _order_plain(r: OrderReport) -> dict[str, Any]:
    def values(d: Mapping[str, Value]) -> dict[str, list[float | None]]:
        return {m: [v.value, v.std] for m, v in d.items()}

    return {
        "order": r.order,
        "n": r.n,
        "distinct": r.distinct,
        "singletons": r.singletons,
        "contexts": r.contexts,
        "coverage": r.coverage,
        "plugin_bias": r.plugin_bias,
        "regime": r.regime,
        "block": values(r.block),
        "conditional": values(r.conditional),
        "failed": dict(r.failed),
    }


def _from_plain(data: Any) -> Floor:
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise ValueError(f"not a floor's JSON: expected an object with format {_FORMAT!r}")
    try:
        orders = tuple(
            OrderReport(
                order=int(r["order"]),
                n=int(r["n"]),
                distinct=int(r["distinct"]),
                singletons=int(r["singletons"]),
                contexts=int(r["contexts"]),
                block={m: _value(v) for m, v in r["block"].items()},
                conditional={m: _value(v) for m, v in r["conditional"].items()},
                failed=dict(r["failed"]),
            )
            for r in data.get("orders", [])
        )
        kwargs = {
            f.name: data[f.name] for f in fields(Floor) if f.name in data and f.name != "orders"
        }
        for key in ("methods", "notes"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        floor = Floor(orders=orders, **kwargs)
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"not a floor's JSON: missing or malformed field {e}") from None
    except ValueError as e:
        raise ValueError(f"not a floor's JSON: {e}") from None
    return floor


def _value(v: Any) -> Value:
    """A ``[value, std]`` pair of a floor's JSON."""
    ok = isinstance(v, list) and len(v) == 2 and _is_real(v[0])
    if not ok or not (v[1] is None or (_is_real(v[1]) and v[1] >= 0)):
        raise ValueError(f"an estimate must be [value, std or null], got {v!r}")
    return Value(float(v[0]), None if v[1] is None else float(v[1]))
