"""The floor figure: h_n by order and method, the entropy rate's band (the floor is its lower
end), the online predictor's code length, and the literature band."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from .._plotting import pyplot
from .._units import LN2
from .references import REFERENCES

if TYPE_CHECKING:
    from .model import Floor


def plot(floor: Floor, path: str | os.PathLike[str], truth: float | None = None) -> None:
    """Write the floor figure to ``path`` (format from its extension, e.g. .png, .pdf).

    ``truth``: a known entropy rate (nats/token) to draw, for sources of known entropy.
    """
    if not floor.orders:
        raise ValueError("this floor has no per-order estimates to plot (it was given by hand)")
    plt = pyplot("Floor.plot")
    fig, ax = plt.subplots(figsize=(8, 5), dpi=100)
    try:
        methods = list(floor.methods)
        width = 0.3
        for i, m in enumerate(methods):
            shift = (i - (len(methods) - 1) / 2) * width / max(len(methods) - 1, 1)
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
                f"floor {floor.lower:.3f}: the lower end of the entropy rate {span}"
                if floor.rate is not None
                else f"floor {span} ({floor.method}, n={floor.order})"
            ),
        )
        if floor.bound is not None:
            ax.axhline(
                floor.bound,
                color="tab:blue",
                ls="-.",
                lw=1.2,
                label=f"online predictor {floor.bound:.3f} (upper bound on the rate)",
            )
        if truth is not None:
            ax.axhline(truth, color="k", ls="--", lw=1.2, label=f"true rate {truth:.3f}")
        if floor.chars_per_token is not None:
            shannon = REFERENCES[0]
            lo, hi = (x * LN2 * floor.chars_per_token for x in (shannon.low, shannon.high))
            ax.axhspan(
                lo, hi, color="tab:gray", alpha=0.15, lw=0, label="Shannon (1951) 0.6-1.3 bits/char"
            )
        unreliable = [r.order for r in floor.orders if r.regime == "unreliable"]
        if unreliable:
            ax.axvspan(min(unreliable) - 0.5, max(unreliable) + 0.5, color="k", alpha=0.05, lw=0)
            ax.text(
                min(unreliable) - 0.45,
                ax.get_ylim()[1],
                "under-sampled",
                va="top",
                fontsize=8,
                color="0.4",
            )
        ax.set_xticks([r.order for r in floor.orders])
        ax.set_xlabel("order n (context of n-1 tokens)")
        ax.set_ylabel("h_n, nats/token")
        ax.set_title("h_n by order, the predictor's code length, and the entropy rate")
        if floor.bytes_per_token is not None:
            scale = 1.0 / (LN2 * floor.bytes_per_token)
            right = ax.secondary_yaxis(
                "right", functions=(lambda y: y * scale, lambda y: y / scale)
            )
            right.set_ylabel("bits/byte")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower left")
        fig.tight_layout()
        fig.savefig(os.fspath(path))
    finally:
        plt.close(fig)
