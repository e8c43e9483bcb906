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
from dataclasses import dataclass, field, fields, replace
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from .._args import as_int_array as _as_int_array
from .._args import check_mapped
from .._args import int_arg as _int_arg
from .._core import __version__
from .._estimate import METHODS, entropy
from .._html import num, table
from .._jsonfile import read_json, write_json
from .._ngram import Progress, ngram_profiles
from .._prequential import CodeLength, prequential
from .._profile import Profile
from .._progress import stage
from .._suffix import SuffixIndex
from .._types import MemoryLimit
from .._units import unit_scale
from ..rate._estimators import combine_rates, rate_from_curve, rate_from_matches, rate_from_orders
from ..rate._result import MethodResult, Rate

__all__ = ["DEFAULT_METHODS", "Floor", "OrderReport", "Value", "estimate_floor"]


#: The rate estimators, in the order they are reported.
RATE_METHODS = ("curve", "orders", "matches")
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
    """The entropy floor of a corpus: its entropy rate with an interval, beside the h_n of
    n-gram statistics and the code length an online predictor reaches.

    Three numbers, kept apart: **h_n** of n-gram counts at the highest well-sampled order
    (``ngram_point`` etc.; it lies *above* the rate, since h_n falls with n), the
    **prequential code length** of an online predictor (``bound``: an upper bound on the
    rate), and **the rate** (``point``, ``lower``, ``upper``), whose lower end is the floor a
    loss is checked against. All in nats per token; :meth:`interval` gives bits per token,
    byte or character. ``print(floor)`` shows the full report.

    Attributes
    ----------
    point, lower, upper : float
        The entropy rate's estimate and interval, nats/token (``rate`` says how they were
        made). For a floor given by hand or loaded from a version-1 file, what was given.
    order, method : int, str
        The n-gram part: the order and method of the h_n estimate (see ``rule``).
    reliable : bool
        Whether that order is reliably sampled (see ``rule``); False for a marginal order.
    ngram_point, ngram_lower, ngram_upper : float or None
        h_n at that order and its interval, nats/token: what plain counting says, an upper
        estimate of the rate. ``None`` for a floor given by hand.
    rate : Rate or None
        The rate estimate: each estimator's answer, the prequential bound, the learning
        curve. ``None`` for a floor given by hand or loaded from a version-1 file.
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
    >>> bool(floor.upper <= floor.bound)    # never above what an online predictor reaches
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
    ngram_point: float | None = None
    ngram_lower: float | None = None
    ngram_upper: float | None = None
    rate: Rate | None = None

    @property
    def bound(self) -> float | None:
        """The prequential code length, nats/token: what an online predictor reached on this
        corpus, an upper bound on the rate (``None`` when no predictor ran)."""
        return None if self.rate is None else self.rate.bound

    def __post_init__(self) -> None:
        # Every floor, computed, given or loaded, is checked here: a NaN or inverted floor
        # would make every comparison against it false and a check say "above".
        _check_interval("a floor", self.lower, self.point, self.upper)
        ngram = (self.ngram_lower, self.ngram_point, self.ngram_upper)
        if any(v is not None for v in ngram):
            _check_interval("a floor's h_n", *ngram)
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
        return write_json(_to_plain(self), path)

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
        data, where = read_json(source, "a floor's JSON")
        try:
            return _from_plain(data)
        except ValueError as e:
            raise ValueError(f"{where}: {e}") from None

    def __str__(self) -> str:
        from .report import report

        return report(self)

    def __repr__(self) -> str:
        bound = "" if self.bound is None else f", bound={self.bound:.4g}"
        return (
            f"Floor({self.point:.4g} [{self.lower:.4g}, {self.upper:.4g}] nats/token, "
            f"order={self.order}{bound}, n_tokens={self.n_tokens:,})"
        )

    def _repr_html_(self) -> str:
        """The per-order table (h_n by method, nats/token) and the rate, for notebooks."""
        header = ["order", "N", "distinct", "coverage", "regime", *self.methods]
        rows: list[list[object]] = []
        for r in self.orders:
            h = [num(r.conditional[m].value) if m in r.conditional else "-" for m in self.methods]
            n, distinct, coverage = f"{r.n:,}", f"{r.distinct:,}", num(r.coverage, 3)
            rows.append([r.order, n, distinct, coverage, r.regime, *h])
        bound = "" if self.bound is None else f", prequential bound {num(self.bound)}"
        caption = (
            f"Floor: rate {num(self.point)} [{num(self.lower)}, {num(self.upper)}] "
            f"nats/token{bound}; h_n by order (nats/token)"
        )
        return table(caption, header, rows)

    def to_frame(self) -> Any:
        """The per-order table as a pandas DataFrame (pandas is imported here, not needed
        otherwise): ``order``, ``n``, ``distinct``, ``singletons``, ``contexts``,
        ``coverage``, ``regime``, and ``h_n <method>`` / ``std <method>`` in nats/token
        (NaN where a method gave no value).

        Examples
        --------
        >>> import fastentropy as fe
        >>> floor = fe.estimate_floor([1, 2] * 50, orders=[1, 2], methods=["plugin"])
        >>> floor.to_frame()[["order", "distinct", "h_n plugin"]].round(4).values.tolist()
        [[1.0, 2.0, 0.6931], [2.0, 2.0, 0.0]]
        """
        try:
            import pandas as pd  # type: ignore[import-untyped,unused-ignore]
        except ImportError as e:
            raise ImportError("to_frame needs pandas: pip install pandas") from e
        columns: dict[str, list[Any]] = {
            "order": [r.order for r in self.orders],
            "n": [r.n for r in self.orders],
            "distinct": [r.distinct for r in self.orders],
            "singletons": [r.singletons for r in self.orders],
            "contexts": [r.contexts for r in self.orders],
            "coverage": [r.coverage for r in self.orders],
            "regime": [r.regime for r in self.orders],
        }
        for m in self.methods:
            got = [r.conditional.get(m) for r in self.orders]
            columns[f"h_n {m}"] = [math.nan if v is None else v.value for v in got]
            columns[f"std {m}"] = [math.nan if v is None or v.std is None else v.std for v in got]
        return pd.DataFrame(columns)

    def plot(self, path: str | os.PathLike[str], *, truth: float | None = None) -> None:
        """Write a figure of h_n by order, the floor band and the literature band.

        ``truth`` draws a known entropy rate (nats/token), for sources of known entropy.
        The format follows the extension of ``path`` (.png, .pdf, .svg). Needs matplotlib
        (``pip install fastentropy[plot]``).
        """
        from .plot import plot

        plot(self, path, truth)


def _check_interval(what: str, lower: Any, point: Any, upper: Any) -> None:
    values = (lower, point, upper)
    finite = all(_is_real(v) and math.isfinite(v) for v in values)
    if not (finite and 0.0 <= lower <= point <= upper):
        raise ValueError(
            f"{what} needs finite numbers 0 <= lower <= point <= upper (nats/token; an "
            f"entropy is not negative), got lower={lower!r}, point={point!r}, upper={upper!r}"
        )


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


# --- estimation ---------------------------------------------------------------------------


TokensLike = Union[npt.ArrayLike, Any]


def estimate_floor(
    tokens: TokensLike,
    *,
    orders: Iterable[int] | None = None,
    methods: Iterable[str] = DEFAULT_METHODS,
    rate_methods: Iterable[str] | None = None,
    separator: int | None = None,
    mask: npt.ArrayLike | None = None,
    meta: Any = None,
    memory_limit: MemoryLimit = None,
    threads: int | None = None,
    progress: Progress = False,
) -> Floor:
    """Estimate the entropy floor of a token corpus: its entropy rate with an interval, the
    h_n table of n-gram statistics, and the code length of an online predictor.

    Three engines run: a suffix index of the corpus (count profiles of every order, and the
    longest previous match at every position), the online predictor of :func:`prequential`
    (its code length bounds the rate from above; its learning curve is extrapolated), and the
    entropy estimators on each order's profile. The rate combines the curve, the order
    extrapolation of h_n and the match-length estimators (see :func:`estimate_rate`); its
    lower end is the floor.

    Parameters
    ----------
    tokens : array_like of int, or a TokenFile
        The corpus (numpy array, memory-mapped file from :func:`open_tokens`, or the
        :class:`TokenFile` of :func:`tokenize`, which brings its separator, mask and
        text statistics).
    orders : iterable of int, optional
        n-gram orders of the h_n table. Default: every order up to two past the highest one
        the corpus samples at least marginally (the notes say where sampling ends and from
        which order every n-gram is unique).
    methods : iterable of str
        Entropy estimators for the h_n table (see :data:`METHODS`). Without an alphabet
        size: ``nsb`` is its infinite-alphabet limit.
    rate_methods : iterable of str, optional
        Rate estimators: a subset of ``("curve", "orders", "matches")``, all by default.
    separator, mask
        As in :func:`count_ngrams`; default to the TokenFile's when ``tokens`` is one.
    meta : TokenFile or mapping, optional
        The tokenization sidecar (``n_bytes``, ``n_chars``, ``n_tokens``, ``vocab_size``,
        ``tokenizer``) for bits per byte and per character.
    memory_limit, threads, progress
        As in :func:`count_ngrams`, for each engine in turn. When the suffix index does not
        fit ``memory_limit`` the n-gram counter makes the h_n table (orders 1..6 at most)
        and the match-length estimator does not run; the notes say so.

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
    chosen_rates = _rate_methods(rate_methods)
    stats = _meta_stats(meta)
    mask_arr = None if mask is None else np.asarray(mask)
    common: dict[str, Any] = dict(
        separator=separator, mask=mask_arr, memory_limit=memory_limit, threads=threads
    )
    notes: list[str] = []
    if _meta_value(meta, "round_trip") is False:
        notes.append(
            "the tokenizer does not round-trip (it normalizes case, accents or whitespace): "
            "its bits/byte is not comparable with a lossless tokenizer's"
        )
    try:
        index: SuffixIndex | None = SuffixIndex.build(arr, progress=progress, **common)
    except MemoryError as e:
        index = None
        notes.append(
            f"the suffix index does not fit the memory limit ({e}): h_n from the n-gram "
            "counter at orders 1..6 at most, and no match-length estimate"
        )
    if index is not None:
        blocks, contexts, limit = _index_profiles(index, orders, threads)
        notes += limit
    else:
        blocks, contexts = _counted_profiles(arr, orders, stats, common, progress)
    wanted = sorted(blocks)
    reports = tuple(_order_report(n, blocks[n], contexts.get(n), method_list) for n in wanted)
    ngram = _choose(
        reports,
        method_list,
        n_tokens=int(arr.size),
        masked=mask_arr is not None,
        **stats,
    )
    # A sidecar's vocabulary may leave out the separator it added (bytes: 256 ids + 256).
    vocab = stats.get("vocab_size")
    if vocab is not None and separator is not None:
        vocab = max(vocab, separator + 1)
    try:
        code: CodeLength | None = prequential(
            arr,
            vocab_size=vocab,
            bytes_per_token=stats.get("bytes_per_token"),
            progress=progress,
            **common,
        )
    except MemoryError as e:
        code = None
        notes.append(f"the online predictor does not fit the memory limit ({e}): no bound")
    results = []
    if "curve" in chosen_rates:
        if code is None:
            results.append(MethodResult.failed("curve", "not run: no online predictor"))
        else:
            results.append(rate_from_curve(code.curve.n, code.curve.nats))
    if "orders" in chosen_rates:
        results.append(rate_from_orders(ngram))
    if "matches" in chosen_rates:
        if index is None:
            results.append(MethodResult.failed("matches", "not run: no suffix index"))
        else:
            lengths = index.match_lengths("previous", threads=threads, progress=progress)
            keep = _scored(arr, separator, mask_arr)
            results.append(rate_from_matches(lengths if keep is None else lengths[keep]))
    rate = combine_rates(
        results,
        bound=code.nats_per_token if code is not None and code.n else None,
        curve=None
        if code is None
        else {"n": code.curve.n.tolist(), "nats": code.curve.nats.tolist()},
        bytes_per_token=ngram.bytes_per_token,
        chars_per_token=ngram.chars_per_token,
    )
    if not math.isfinite(rate.point):
        # Nothing scored and nothing estimated: the n-gram part is all there is.
        return replace(ngram, notes=(*ngram.notes, *notes, "no rate: nothing was scored"))
    if not rate.informative:
        notes.append(
            "no rate estimator gave an interval below the predictor's code length: the "
            "floor's lower end is 0, uninformative; a larger corpus may help"
        )
    return replace(
        ngram,
        point=rate.point,
        lower=rate.lower,
        upper=rate.upper,
        rate=rate,
        rule=f"{ngram.rule}. The floor is the rate: {rate.rule}",
        notes=(*ngram.notes, *notes),
    )


#: Orders reported past the highest one sampled at least marginally: they show where the
#: sample runs out.
ORDERS_PAST_SAMPLED = 2


def _index_profiles(
    index: SuffixIndex, orders: Iterable[int] | None, threads: int | None
) -> tuple[dict[int, Profile], dict[int, Profile], list[str]]:
    """Profiles of n-grams and of their contexts from the suffix index, and a note on which
    orders the table stops at and why."""
    wanted = None if orders is None else _orders(orders)
    blocks = index.profiles(wanted, threads=threads)
    contexts = index.context_profiles(sorted(blocks), threads=threads)
    contexts = {n: p for n, p in contexts.items() if n >= 2}
    if orders is not None or not blocks:
        return blocks, contexts, []
    unique_from = max(blocks)
    sampled = [
        n
        for n, p in blocks.items()
        if _sampling(n, p, contexts.get(n)).regime in ("reliable", "marginal")
    ]
    last = min(max(sampled, default=1) + ORDERS_PAST_SAMPLED, unique_from)
    note = (
        f"h_n table: orders 1..{last}, where the corpus stops sampling n-grams well (orders "
        f"above {max(sampled, default=0)} are under-sampled); every n-gram is unique from "
        f"order {unique_from}"
    )
    keep = range(1, last + 1)
    return (
        {n: blocks[n] for n in keep if n in blocks},
        {n: contexts[n] for n in keep if n in contexts},
        [note],
    )


def _sampling(n: int, block: Profile, context: Profile | None) -> OrderReport:
    """An order's report without estimates: enough for its regime."""
    return OrderReport(
        order=n,
        n=block.n,
        distinct=block.distinct,
        singletons=block.singletons,
        contexts=context.distinct if context is not None else (1 if block.n else 0),
    )


def _counted_profiles(
    arr: npt.NDArray[np.integer[Any]],
    orders: Iterable[int] | None,
    stats: Mapping[str, Any],
    common: Mapping[str, Any],
    progress: Progress,
) -> tuple[dict[int, Profile], dict[int, Profile]]:
    """Profiles of n-grams and of their contexts from the sort-based counter."""
    mask_arr = common["mask"]
    wanted = _counter_orders(arr, stats.get("vocab_size")) if orders is None else _orders(orders)
    rest = {k: v for k, v in common.items() if k != "mask"}
    blocks = ngram_profiles(arr, wanted, mask=mask_arr, progress=progress, **rest)
    context_orders = sorted({n - 1 for n in wanted if n >= 2})
    contexts: dict[int, Profile] = {}
    if context_orders:
        ctx_mask = context_mask(arr, common["separator"], mask_arr)
        with stage(progress, "counting contexts") as report:
            counted = ngram_profiles(arr, context_orders, mask=ctx_mask, progress=report, **rest)
        contexts = {n + 1: p for n, p in counted.items()}
    return blocks, contexts


def _scored(
    tokens: npt.NDArray[np.integer[Any]], separator: int | None, mask: Any
) -> npt.NDArray[np.bool_] | None:
    """The positions a rate is about (masked in, not a separator), or None for all."""
    keep = None if mask is None else np.asarray(mask, dtype=np.bool_)
    if separator is not None:
        text = tokens != separator
        keep = text if keep is None else keep & text
    return keep


def _rate_methods(methods: Iterable[str] | None) -> list[str]:
    if methods is None:
        return list(RATE_METHODS)
    if isinstance(methods, str):
        raise TypeError("rate_methods must be an iterable of names, not a single string")
    chosen = list(dict.fromkeys(methods))
    unknown = [m for m in chosen if m not in RATE_METHODS]
    if unknown:
        raise ValueError(
            f"rate_methods must be a selection of {', '.join(RATE_METHODS)}; got {unknown}"
        )
    return chosen


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
    check_mapped(tokens, "tokens")  # read here by numpy, between the two counts
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
    value = min(max(point.value, lower), upper)
    return Floor(
        point=value,
        lower=lower,
        upper=upper,
        ngram_point=value,
        ngram_lower=lower,
        ngram_upper=upper,
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


def _orders(orders: Iterable[int]) -> list[int]:
    """Orders the caller named, checked: ints >= 1, at least one, sorted, no repeats."""
    if isinstance(orders, (str, bytes)) or not isinstance(orders, Iterable):
        raise TypeError(f"orders must be an iterable of ints, got {type(orders).__name__}")
    wanted = sorted({_int_arg(n, "orders", 1) for n in orders})
    if not wanted:
        raise ValueError("orders must name at least one order")
    return wanted


def _counter_orders(tokens: npt.NDArray[np.integer[Any]], vocab_size: int | None) -> list[int]:
    """The counter's default orders: 1..6, fewer when a key cannot hold them. The context
    pass always uses a mask (one flag bit per token in the key)."""
    top = vocab_size if vocab_size is not None else (int(tokens.max()) + 1 if tokens.size else 1)
    bits = max(int(top).bit_length(), 1)
    return list(range(1, min(DEFAULT_MAX_ORDER, 128 // (bits + 1)) + 1))


def _is_token_file(obj: Any) -> bool:
    return callable(getattr(obj, "tokens", None)) and hasattr(obj, "separator")


def _meta_value(meta: Any, key: str) -> Any:
    """A sidecar's field, from a mapping or a TokenFile's metadata, or None."""
    if meta is None:
        return None
    if not isinstance(meta, Mapping):
        meta = getattr(meta, "metadata", None)
    return meta.get(key) if isinstance(meta, Mapping) else None


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

_FORMAT = "fastentropy.floor/2"
#: Version 1 (fastentropy 0.1) held only the n-gram floor: its point and interval were h_n.
_FORMAT_V1 = "fastentropy.floor/1"
_V1_NOTE = (
    "read from a version-1 floor file: its floor is h_n of n-gram statistics, which lies above "
    "the entropy rate; estimate the floor again for the rate"
)


def _to_plain(floor: Floor) -> dict[str, Any]:
    out: dict[str, Any] = {"format": _FORMAT}
    for f in fields(floor):
        value = getattr(floor, f.name)
        if f.name == "orders":
            value = [_order_plain(r) for r in value]
        elif f.name == "rate":
            value = None if value is None else json.loads(value.to_json())
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
    if not isinstance(data, dict) or data.get("format") not in (_FORMAT, _FORMAT_V1):
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
            f.name: data[f.name]
            for f in fields(Floor)
            if f.name in data and f.name not in ("orders", "rate")
        }
        for key in ("methods", "notes"):
            if key in kwargs:
                kwargs[key] = tuple(kwargs[key])
        if data["format"] == _FORMAT_V1:
            if data.get("rule") != "given":
                kwargs["ngram_point"] = data["point"]
                kwargs["ngram_lower"] = data["lower"]
                kwargs["ngram_upper"] = data["upper"]
            kwargs["notes"] = (*kwargs.get("notes", ()), _V1_NOTE)
        rate = data.get("rate")
        if rate is not None:
            kwargs["rate"] = Rate.from_json(json.dumps(rate))
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
