"""The check's figure: training and evaluation loss against the floor band."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from .._plotting import interval_band, label_axes
from .._types import PathLike

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .result import Verdict

__all__ = ["draw"]


def draw(
    v: Verdict,
    path: PathLike | None,
    *,
    ax: Axes | None,
    width: int,
    height: int,
    dpi: int,
) -> Figure:
    """Draw ``v`` (see :meth:`Verdict.plot`)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(
            "Verdict.plot needs matplotlib: pip install 'fastentropy[plot]'"
        ) from None
    if ax is None:
        # A Figure of its own (no pyplot): no global state, safe from threads, nothing to
        # close; the Agg canvas lets it be saved without choosing a backend for the process.
        fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        own = True
    else:
        fig, own = ax.figure.figure, False  # the root figure, also for a subfigure's axes
    span = f"floor interval [{v.floor_lower:.4g}, {v.floor_upper:.4g}]"
    interval_band(ax, v.floor_lower, v.floor_upper, span)
    ax.axhline(
        v.floor_point,
        color="tab:red",
        lw=1.2,
        label=f"floor {v.floor_point:.4g} nats/token",
    )
    ax.plot(v.step, v.loss, color="tab:blue", lw=1.3, label="training loss")
    under = v.loss < v.floor_lower
    if under.any():
        ax.fill_between(
            v.step,
            v.loss,
            v.floor_lower,
            where=under,
            interpolate=True,
            color="tab:red",
            alpha=0.45,
            lw=0,
            label="under the floor",
        )
    if v.eval_step.size:
        ax.plot(
            v.eval_step,
            v.eval_loss,
            "o-",
            color="tab:orange",
            ms=4,
            lw=1,
            label="evaluation loss",
        )
    means = np.isfinite(v.log.epoch_loss)
    if means.any():
        # Per-batch losses are noisy; the logged epoch means are the levels compared.
        ax.plot(
            v.log.step[means],
            v.log.epoch_loss[means],
            "s",
            color="tab:green",
            ms=5,
            label="epoch mean (logged)",
        )
    for i, b in enumerate(v.boundaries):
        ax.axvline(b.step, color="0.4", ls=":", lw=1, label="epoch boundary" if i == 0 else None)
    for a in v.artefacts:
        ax.annotate(
            a.kind.replace("_", " "),
            (a.step, ax.get_ylim()[1]),
            va="top",
            fontsize=7,
            color="0.3",
            rotation=90,
        )
    label_axes(ax, "step", "loss, nats/token", f"Training loss vs entropy floor: {v.status}")
    ax.legend(fontsize=8, loc="upper right")
    if own:
        fig.tight_layout()
    if path is not None:
        fig.savefig(os.fspath(path), dpi=dpi)
    return fig
