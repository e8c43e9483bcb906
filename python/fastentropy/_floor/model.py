"""The entropy floor and its per-order report: what an estimate holds, how an order's sampling
regime is judged, and the floor's JSON form.

Cross-entropy loss = H(Q) + KL(Q || P) >= H(Q): no honest model's loss, in nats per token,
goes below the entropy rate of the text. ``Floor`` holds the rate's interval beside h_n of
the n-gram counts and the online predictor's code length (``estimate.py`` makes one).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from .._args import is_int as _is_int
from .._args import is_real as _is_real
from .._core import __version__
from .._html import num, table
from .._jsonfile import read_json, write_json
from .._units import unit_scale
from ..rate._result import Rate

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["RULE", "Floor", "OrderReport", "Value"]


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
# - the spread of the bias-corrected estimators (Grassberger, NSB, PYM) at the order, once
#   they have run. Counts alone miss text with long repeats: on the first 4 MB of a
#   dictionary (bytes) order 7 passed both count criteria (coverage 0.84, bias 0.046) while
#   its h_7 was 1.18 (Grassberger), 1.30 (NSB) or 1.46 (PYM) bits/byte -- NSB's value under
#   zpaq's code length of the same bytes (1.475), so not an upper-side statistic at all.
#   Duplicated passages make the counts overdispersed, the first-order bias formula assumes
#   independent draws; estimators built on different priors then disagree, which is the
#   symptom. On Markov and hidden-Markov sources the spread at reliable orders was
#   0.012-0.022 nats (docs/rate.md), on that text 0.037 nats at order 5 and 0.10 at 6.
RELIABLE_COVERAGE = 0.90
MARGINAL_COVERAGE = 0.80
RELIABLE_BIAS = 0.03
MARGINAL_BIAS = 0.10
RELIABLE_SPREAD = 0.03
MARGINAL_SPREAD = 0.06
#: The estimators whose spread marks an order under-sampled.
SPREAD_METHODS = ("grassberger", "nsb", "pym")
#: The interval spans every method's estimate ± this many of its stds.
INTERVAL_STDS = 2.0
RULE = (
    f"an order is reliable when its n-gram coverage 1 - f1/N is >= {RELIABLE_COVERAGE} and "
    f"the plug-in's first-order bias (distinct n-grams - distinct contexts)/2N is <= "
    f"{RELIABLE_BIAS} nats and {'/'.join(SPREAD_METHODS)} agree within {RELIABLE_SPREAD} "
    f"nats, marginal at >= {MARGINAL_COVERAGE}, <= {MARGINAL_BIAS} and within "
    f"{MARGINAL_SPREAD}; "
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
    def spread(self) -> float:
        """Highest minus lowest h_n of Grassberger, NSB and PYM (0 with fewer than two)."""
        values = [self.conditional[m].value for m in SPREAD_METHODS if m in self.conditional]
        return max(values) - min(values) if len(values) > 1 else 0.0

    @property
    def regime(self) -> str:
        """``"reliable"``, ``"marginal"`` or ``"unreliable"``: see :data:`RULE`."""
        cov, bias, spread = self.coverage, self.plugin_bias, self.spread
        if cov >= RELIABLE_COVERAGE and bias <= RELIABLE_BIAS and spread <= RELIABLE_SPREAD:
            return "reliable"
        if cov >= MARGINAL_COVERAGE and bias <= MARGINAL_BIAS and spread <= MARGINAL_SPREAD:
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

    def plot(
        self,
        path: str | os.PathLike[str] | None = None,
        ax: Axes | None = None,
        *,
        truth: float | None = None,
    ) -> Figure:
        """A figure of h_n by order, the rate's band with the floor, the predictor's code
        length, the under-sampled orders and, for text, the literature band.

        Parameters
        ----------
        path : str or os.PathLike, optional
            Write the figure here too; the format follows the extension (.png, .pdf, .svg).
        ax : matplotlib.axes.Axes, optional
            Draw on these axes (the legend goes to their right); default: a new figure.
        truth : float, optional
            A known entropy rate (nats/token) to draw, for sources of known entropy.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on; matplotlib's global state (pyplot, its backend) is not
            touched. Needs matplotlib (``pip install 'fastentropy[plot]'``).
        """
        from .plot import plot

        return plot(self, path, ax, truth)


def _check_interval(what: str, lower: Any, point: Any, upper: Any) -> None:
    values = (lower, point, upper)
    finite = all(_is_real(v) and math.isfinite(v) for v in values)
    if not (finite and 0.0 <= lower <= point <= upper):
        raise ValueError(
            f"{what} needs finite numbers 0 <= lower <= point <= upper (nats/token; an "
            f"entropy is not negative), got lower={lower!r}, point={point!r}, upper={upper!r}"
        )


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
