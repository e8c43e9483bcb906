"""The result types of the rate estimators: one estimator's answer, and the combined rate."""

from __future__ import annotations

import math
import os
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from .._html import num, table
from .._jsonfile import read_json, write_json
from .._units import UNITS, unit_scale

__all__ = ["MethodResult", "Rate"]

#: Version of the JSON written by :meth:`Rate.to_json`.
FORMAT = 1


@dataclass(frozen=True)
class MethodResult:
    """One estimator's answer, in nats per token, or why it gave none.

    Attributes
    ----------
    name : str
        ``"curve"``, ``"orders"`` or ``"matches"``.
    value, lower, upper : float or None
        Point and interval; ``None`` when the estimator failed.
    reason : str or None
        Why it failed (``None`` when it did not).
    detail : dict
        What the estimator saw: each ansatz's fit, each form's, the KASW and Gao values.

    Examples
    --------
    >>> m = MethodResult("orders", 2.0, 1.8, 2.3)
    >>> m.ok, MethodResult.failed("matches", "no lengths").ok
    (True, False)
    """

    name: str
    value: float | None = None
    lower: float | None = None
    upper: float | None = None
    reason: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether the estimator produced a value."""
        return self.value is not None

    @classmethod
    def failed(cls, name: str, reason: str) -> MethodResult:
        """An estimator that gave no value, and why."""
        return cls(name, reason=reason)


@dataclass(frozen=True)
class Rate:
    """The entropy rate of a corpus with an interval, in nats per token.

    Attributes
    ----------
    point, lower, upper : float
        The combined estimate and interval; ``lower`` is the floor a loss is checked
        against.
    methods : dict of str to MethodResult
        Each estimator's value and interval, or why it failed.
    bound : float or None
        The prequential code length per token: an upper bound on the rate that no reported
        value exceeds. ``None`` when no predictor was run.
    curve : dict or None
        The learning curve (``"n"``, ``"nats"``: cumulative code lengths) for plotting.
    capped, informative : bool
        The bound lowered the estimate; the estimators inform the lower end (False when none
        was narrow enough or all lay above the bound: the lower end is then the margin
        floor, the lower of KASW's lower end and the upper end divided by 4, or 0 without
        KASW; docs/rate.md).
    rule : str
        How the interval was made.
    bytes_per_token, chars_per_token : float or None
        For :meth:`interval` in bits per byte or character.
    used : tuple of str
        The estimators that set the interval (the others failed, or their interval was too
        wide to constrain the rate).
    tail : dict or None
        The predictor's code rate over the final half of the tokens (``mean``, ``std``,
        ``upper`` = mean + 2 std, ``tokens``, ``start``): an upper bound on the rate without
        the learning cost ``bound`` carries; the upper end when it is the lower of the two.

    Examples
    --------
    >>> import fastentropy as fe
    >>> r = fe.combine_rates([fe.MethodResult("orders", 2.0, 1.8, 2.3)], bound=2.2)
    >>> r.interval("nats/token")
    (2.0, 1.8, 2.2)
    >>> fe.Rate.from_json(r.to_json()) == r
    True
    """

    point: float
    lower: float
    upper: float
    methods: dict[str, MethodResult]
    bound: float | None = None
    curve: dict[str, list[float]] | None = None
    capped: bool = False
    informative: bool = True
    rule: str = ""
    bytes_per_token: float | None = None
    chars_per_token: float | None = None
    used: tuple[str, ...] = ()
    tail: dict[str, float] | None = None

    def __repr__(self) -> str:
        bound = "" if self.bound is None else f", bound={self.bound:.4g}"
        used = ",".join(self.used) or "none"
        return (
            f"Rate({self.point:.4g} [{self.lower:.4g}, {self.upper:.4g}] nats/token, "
            f"used={used}{bound})"
        )

    def _repr_html_(self) -> str:
        """Each estimator's value and interval, and the combined rate, for notebooks."""
        rows: list[list[object]] = []
        for name, m in self.methods.items():
            if m.ok:
                rows.append([name, num(m.value), num(m.lower), num(m.upper), name in self.used])
            else:
                rows.append([name, "-", "-", "-", f"failed: {m.reason}"])
        rows.append(["rate", num(self.point), num(self.lower), num(self.upper), ""])
        if self.bound is not None:
            rows.append(["bound (prequential)", num(self.bound), "", "", ""])
        if self.tail is not None:
            t = self.tail
            rows.append(["final half", num(t["mean"]), "", num(t["upper"]), ""])
        header = ["estimator", "point", "lower", "upper", "used"]
        return table("Rate (nats/token)", header, rows)

    def interval(self, unit: str = "nats/token") -> tuple[float, float, float]:
        """``(point, lower, upper)`` in ``unit``: one of ``nats/token``, ``bits/token``,
        ``bits/byte``, ``bits/char`` (the last two need the text's bytes/chars per token).
        """
        scale = unit_scale(unit, self.bytes_per_token, self.chars_per_token)
        return (self.point * scale, self.lower * scale, self.upper * scale)

    def print(self, file: TextIO | None = None) -> None:
        """Write the report (``str(rate)``: the interval in every unit the corpus allows, the
        prequential bound, each estimator and the rule) to ``file`` (default: stdout).

        Examples
        --------
        >>> import io
        >>> import fastentropy as fe
        >>> rate = fe.estimate_rate(fe.MarkovSource(8, order=1, seed=0).sample(20_000, seed=1))
        >>> out = io.StringIO()
        >>> rate.print(out)
        >>> out.getvalue().startswith("Entropy rate ")
        True
        """
        stream = sys.stdout if file is None else file
        stream.write(str(self) + "\n")

    def plot(self, path: str | os.PathLike[str] | None = None, ax: Any = None) -> Any:
        """The rate figure: the predictor's learning curve L(N)/N with its fitted
        extrapolations, each estimator's interval (at the right), the combined band and the
        prequential bound, in nats/token (and bits/byte on the right axis when known).

        Parameters
        ----------
        path : path, optional
            Also write the figure there (format from the extension: .png, .pdf, .svg).
        ax : matplotlib Axes, optional
            Draw into these axes instead of a new figure.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on (a new one unless ``ax`` is given). Matplotlib's global
            backend is not touched: the figure is made from ``matplotlib.figure.Figure``.

        Examples
        --------
        >>> import fastentropy as fe
        >>> r = fe.combine_rates([fe.MethodResult("matches", 2.0, 1.9, 2.1)], bound=2.3)
        >>> fig = r.plot()
        >>> fig.axes[0].get_ylabel()
        'nats/token'
        """
        from ._plot import plot

        return plot(self, path, ax)

    def to_json(self, path: str | os.PathLike[str] | None = None) -> str:
        """The rate as JSON text (written to ``path`` too, if given)."""
        plain = {
            "format": FORMAT,
            "kind": "fastentropy.rate",
            "point": self.point,
            "lower": self.lower,
            "upper": self.upper,
            "bound": self.bound,
            "capped": self.capped,
            "informative": self.informative,
            "rule": self.rule,
            "bytes_per_token": self.bytes_per_token,
            "chars_per_token": self.chars_per_token,
            "used": list(self.used),
            "tail": self.tail,
            "curve": self.curve,
            "methods": {
                k: {
                    "value": m.value,
                    "lower": m.lower,
                    "upper": m.upper,
                    "reason": m.reason,
                    "detail": m.detail,
                }
                for k, m in self.methods.items()
            },
        }
        return write_json(plain, path)

    @classmethod
    def from_json(cls, source: str | os.PathLike[str]) -> Rate:
        """A rate from :meth:`to_json` output: JSON text, or the path of a file holding it."""
        data, where = read_json(source, "a rate's JSON")
        if not isinstance(data, dict) or data.get("kind") != "fastentropy.rate":
            raise ValueError(f"{where}: not a rate's JSON (no kind 'fastentropy.rate')")
        if not isinstance(data.get("format"), int) or data["format"] > FORMAT:
            raise ValueError(
                f"{where}: rate JSON format {data.get('format')!r} is not one this fastentropy "
                f"reads (<= {FORMAT}): upgrade fastentropy"
            )
        try:
            methods = {
                k: MethodResult(k, m["value"], m["lower"], m["upper"], m["reason"], m["detail"])
                for k, m in data["methods"].items()
            }
            return cls(
                data["point"],
                data["lower"],
                data["upper"],
                methods,
                data["bound"],
                data["curve"],
                data["capped"],
                data["informative"],
                data["rule"],
                data["bytes_per_token"],
                data["chars_per_token"],
                tuple(data.get("used", ())),
                data.get("tail"),
            )
        except (KeyError, TypeError, AttributeError) as e:
            raise ValueError(f"{where}: a rate's JSON with a missing or malformed {e}") from None

    def __str__(self) -> str:
        lines = [
            f"Entropy rate {self.point:.4f} [{self.lower:.4f}, {self.upper:.4f}] nats/token"
            + _flag(self),
        ]
        if self.bound is not None:
            lines.append(
                f"Prequential bound {self.bound:.4f} nats/token"
                + ("  (it capped the estimate)" if self.capped and self.tail is None else "")
            )
        if self.tail is not None:
            t = self.tail
            lines.append(
                f"Final half's code rate {t['mean']:.4f} ± {t['std']:.4f} nats/token over "
                f"{int(t['tokens']):,} tokens: the upper end is the lower of L/N and "
                f"{t['upper']:.4f}" + ("  (it capped the estimate)" if self.capped else "")
            )
        for unit in UNITS[1:]:
            try:
                p, lo, up = self.interval(unit)
            except ValueError:
                continue
            lines.append(f"  = {p:.4f} [{lo:.4f}, {up:.4f}] {unit}")
        lines.append("By estimator (nats/token):")
        for name, m in self.methods.items():
            if m.ok:
                mark = "" if name in self.used else "  (too wide to constrain the rate)"
                mark += "".join(f"  ({note})" for note in method_notes(m))
                lines.append(f"  {name:<8} {m.value:.4f} [{m.lower:.4f}, {m.upper:.4f}]{mark}")
            else:
                lines.append(f"  {name:<8} -  ({m.reason})")
        if self.rule:
            lines.append(f"Rule: {self.rule}")
        return "\n".join(lines)


def finite_or_none(x: float | None) -> float | None:
    """``x`` unless it is None or not finite."""
    return None if x is None or not math.isfinite(x) else float(x)


#: The notes the combination leaves in an estimator's ``detail``: how its interval was formed
#: (the matches' "slope alone", rule 4) and how it entered the rate (rules 5 and 6).
NOTE_KEYS = ("interval", "enters")


def method_notes(m: MethodResult) -> list[str]:
    """The combination's notes on one estimator (``detail["interval"]``, ``["enters"]``)."""
    return [str(m.detail[k]) for k in NOTE_KEYS if k in m.detail]


def _flag(rate: Rate) -> str:
    """What the first line of a rate's report says about a lower end not from the estimators."""
    if rate.informative:
        return ""
    if rate.lower > 0:
        return "  (lower end: margin floor, not from the estimators)"
    return "  (lower end not informative)"
