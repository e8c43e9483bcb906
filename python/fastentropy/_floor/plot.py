"""The floor figure: h_n by order and method, the entropy rate's band (the floor is its lower
end), the online predictor's code length, the under-sampled orders, where the table ends, and
the literature band for English."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .._plotting import bound_line, figure_and_axes, label_axes
from .._units import LN2
from .references import REFERENCES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .model import Floor

#: Total horizontal spread of the methods' markers at one order (in orders): the error bars
#: of six methods stay apart without reaching the next order.
METHOD_SPREAD = 0.3
#: Legend columns below the axes: two keep the longest label (the rate's) on one line at the
#: default 8-inch width.
LEGEND_COLUMNS = 2


def plot(
    floor: Floor,
    path: str | os.PathLike[str] | None = None,
    ax: Axes | None = None,
    truth: float | None = None,
) -> Figure:
    """Draw the floor figure on ``ax`` (default: a new 8 x 5 inch figure) and write it to
    ``path`` if given (format from its extension, e.g. .png, .pdf); return the figure.

    ``truth``: a known entropy rate (nats/token) to draw, for sources of known entropy.
    """
    if not floor.orders:
        raise ValueError("this floor has no per-order estimates to plot (it was given by hand)")
    own = ax is None
    fig, ax = figure_and_axes("Floor.plot", ax)
    orders = [r.order for r in floor.orders]
    methods = list(floor.methods)
    for i, m in enumerate(methods):
        shift = (i - (len(methods) - 1) / 2) * METHOD_SPREAD / max(len(methods) - 1, 1)
        pts = [(r.order, r.conditional[m]) for r in floor.orders if m in r.conditional]
        if not pts:
            continue
        xs = [n + shift for n, _ in pts]
        ys = [v.value for _, v in pts]
        errs = [v.std or 0.0 for _, v in pts]
        ax.errorbar(xs, ys, yerr=errs, marker="o", ms=4, capsize=3, lw=1.2, label=m)
    ax.axhspan(floor.lower, floor.upper, color="tab:red", alpha=0.18, lw=0)
    span = f"{floor.point:.3f} [{floor.lower:.3f}, {floor.upper:.3f}]"
    ax.axhline(
        floor.point,
        color="tab:red",
        lw=1.5,
        label=(
            f"floor {floor.lower:.3f} = lower end of the entropy rate {span}"
            if floor.rate is not None
            else f"floor {span} ({floor.method}, n={floor.order})"
        ),
    )
    if floor.bound is not None:
        bound_line(ax, floor.bound, f"online predictor {floor.bound:.3f} (upper bound on the rate)")
    if truth is not None:
        ax.axhline(truth, color="k", ls="--", lw=1.2, label=f"true rate {truth:.3f}")
    if floor.chars_per_token is not None:
        shannon = REFERENCES[0]
        lo, hi = (x * LN2 * floor.chars_per_token for x in (shannon.low, shannon.high))
        ax.axhspan(
            lo,
            hi,
            color="tab:green",
            alpha=0.12,
            lw=0,
            label=f"English, Shannon (1951): {shannon.low:g}-{shannon.high:g} bits/char",
        )
    unreliable = [r.order for r in floor.orders if r.regime == "unreliable"]
    if unreliable:
        # Hatched, not filled: it marks orders (x), where the literature band marks values (y).
        ax.axvspan(
            min(unreliable) - 0.5,
            max(unreliable) + 0.5,
            facecolor="none",
            edgecolor="0.7",
            hatch="///",
            lw=0,
            label="under-sampled orders: their h_n is not to be trusted",
        )
    last = floor.orders[-1]
    unique = last.n > 0 and last.singletons == last.n
    ax.axvline(
        last.order + 0.5,
        color="0.3",
        ls=":",
        lw=1.2,
        label=f"the table ends at order {last.order}"
        + (": every n-gram there is seen once" if unique else ""),
    )
    ax.set_xlim(orders[0] - 0.6, last.order + 0.6)
    ax.set_xticks(orders)
    label_axes(
        ax,
        "order n (context of n-1 tokens)",
        "h_n, nats/token",
        "h_n by order, the predictor's code length, and the entropy rate",
        None
        if floor.bytes_per_token is None
        else (1.0 / (LN2 * floor.bytes_per_token), "bits/byte"),
    )
    # Outside the axes, so that no entry covers a point.
    if own:
        fig.legend(loc="outside lower center", ncols=LEGEND_COLUMNS, fontsize=8)
    else:
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, borderaxespad=0)
    if path is not None:
        fig.savefig(os.fspath(path))
    return fig
