"""The rate figure: the predictor's learning curve with its fitted extrapolations, each
estimator's interval, the combined band and the prequential bound.

Built on :class:`matplotlib.figure.Figure` directly, so plotting never switches the global
backend (pyplot is not imported): it works in scripts, notebooks and headless servers alike.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

import numpy as np

from .._plotting import bound_line, interval_band, label_axes
from .._units import LN2

if TYPE_CHECKING:
    from ._result import Rate

#: How far right of the last curve point the fitted curves are drawn (a factor in N).
EXTEND = 100.0
#: Estimator colours (the combined band is red, the bound blue).
COLOURS = {"curve": "tab:green", "orders": "tab:purple", "matches": "tab:orange"}


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("Rate.plot needs matplotlib: pip install 'fastentropy[plot]'") from None
    return Figure


def _fitted(name: str, n: Any, fit: dict[str, Any]) -> Any:
    """r(N) of one learning-curve ansatz (rust/fastentropy-core/src/rate/curve.rs)."""
    x = n ** (fit["beta"] - 1.0)
    if name == "stretched_exponential":
        return fit["h"] * np.exp(fit["a"] * x)
    return fit["h"] + fit["a"] * x


def plot(rate: Rate, path: str | os.PathLike[str] | None = None, ax: Any = None) -> Any:
    """Draw the rate figure; see :meth:`Rate.plot`."""
    if ax is None:
        fig = _figure_class()(figsize=(8.5, 5.2), dpi=100)
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    curve = rate.curve
    n_max = 1.0
    if curve is not None and len(curve["n"]) > 0:
        n = np.asarray(curve["n"], dtype=np.float64)
        nats = np.asarray(curve["nats"], dtype=np.float64)
        keep = n > 0
        n, nats = n[keep], nats[keep]
        n_max = float(n[-1])
        ax.plot(n, nats / n, "o-", color="k", ms=3, lw=1.2, label="predictor's code length L(N)/N")
        fits = rate.methods["curve"].detail if "curve" in rate.methods else {}
        grid = np.geomspace(n[0], n_max * EXTEND, 200)
        for name, style in (("stretched_exponential", "--"), ("power_law", ":")):
            fit = fits.get(name)
            if not isinstance(fit, dict) or "beta" not in fit:
                continue
            ax.plot(
                grid,
                _fitted(name, grid, fit),
                style,
                color=COLOURS["curve"],
                lw=1.3,
                label=f"fit: {name.replace('_', ' ')} → h = {fit['h']:.3f}",
            )
    ax.set_xscale("log")
    # Each estimator's interval as a bar at the right of the curve, the combined band across.
    right = n_max * EXTEND * 2.0
    ms = [m for m in rate.methods.values() if m.ok]
    for i, m in enumerate(ms):
        x = right * 2.0 ** (0.6 * i)
        used = m.name in rate.used
        assert m.value is not None and m.lower is not None and m.upper is not None
        ax.errorbar(
            [x],
            [m.value],
            yerr=[[m.value - m.lower], [m.upper - m.value]],
            fmt="s" if used else "x",
            color=COLOURS.get(m.name, "tab:gray"),
            capsize=4,
            lw=1.6,
            alpha=1.0 if used else 0.45,
            label=f"{m.name} {m.value:.3f} [{m.lower:.3f}, {m.upper:.3f}]"
            + ("" if used else " (too wide: not used)"),
        )
    if ms:
        # The estimators are limits N → ∞: set apart from the curve by a rule and a label.
        ax.axvline(right / 1.6, color="0.5", lw=0.8)
        ax.annotate(
            "N → ∞",
            xy=(right * 2.0 ** (0.3 * (len(ms) - 1)), 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(0, -4),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=8,
            color="0.3",
        )
    if math.isfinite(rate.point):
        span = f"rate {rate.point:.3f} [{rate.lower:.3f}, {rate.upper:.3f}]"
        flag = (
            ""
            if rate.informative
            else " (margin floor)"
            if rate.lower > 0
            else " (not informative)"
        )
        interval_band(ax, rate.lower, rate.upper, span + flag)
        ax.axhline(rate.point, color="tab:red", lw=1.2)
        ax.axhline(rate.lower, color="tab:red", lw=0.8, ls="--")
    if rate.bound is not None:
        bound_line(ax, rate.bound, f"bound {rate.bound:.3f} (predictor's code length)")
    if rate.tail is not None and curve is not None and len(curve["n"]) > 0:
        # The final half's mean cost ± 2 se, drawn over the stretch it covers.
        t = rate.tail
        last = float(curve["n"][-1])
        ax.errorbar(
            [math.sqrt(last * (last - t["tokens"]))],
            [t["mean"]],
            yerr=[[t["upper"] - t["mean"]], [t["upper"] - t["mean"]]],
            xerr=None,
            fmt="D",
            color="tab:blue",
            capsize=4,
            ms=4,
            label=f"final half {t['mean']:.3f} (+2 se {t['upper']:.3f}, an upper bound)",
        )
    label_axes(
        ax,
        "tokens N (learning curve; estimator intervals at the right)",
        "nats/token",
        "Entropy rate: learning curve, estimators and combined interval",
        None if rate.bytes_per_token is None else (1.0 / (LN2 * rate.bytes_per_token), "bits/byte"),
    )
    ax.legend(fontsize=7.5, loc="lower left", framealpha=0.9)
    if path is not None:
        fig.tight_layout()
        fig.savefig(os.fspath(path))
    return fig
