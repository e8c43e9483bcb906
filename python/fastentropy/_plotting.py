"""matplotlib for the figures, imported only when a figure is drawn (it is an optional extra).

Figures are ``matplotlib.figure.Figure`` objects with their own Agg canvas, never pyplot's:
no global backend is switched, nothing is left open, and drawing is safe from any thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["bound_line", "figure_and_axes", "interval_band", "label_axes", "second_scale"]


def figure_and_axes(
    what: str, ax: Axes | None = None, size: tuple[float, float] = (8.0, 5.0), dpi: int = 100
) -> tuple[Figure, Axes]:
    """A new figure of ``size`` inches with one axes (constrained layout, so a legend placed
    outside the axes fits), or the figure of the caller's ``ax``. ImportError says how to
    install matplotlib; ``what`` names the caller in it."""
    try:
        from matplotlib.axes import Axes
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError(f"{what} needs matplotlib: pip install 'fastentropy[plot]'") from None
    if ax is not None:
        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
        parent = ax.get_figure()
        assert isinstance(parent, Figure)
        return parent, ax
    fig = Figure(figsize=size, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def second_scale(ax: Axes, scale: float, label: str) -> None:
    """A second y axis on the right of ``ax`` reading its values times ``scale`` (e.g.
    nats/token to bits/byte)."""

    def forward(y: Any) -> Any:
        return np.asarray(y) * scale

    def inverse(y: Any) -> Any:
        return np.asarray(y) / scale

    ax.secondary_yaxis("right", functions=(forward, inverse)).set_ylabel(label)


def interval_band(ax: Axes, lower: float, upper: float, label: str) -> None:
    """An interval of values (the floor's, the rate's) as a light red band across ``ax``."""
    ax.axhspan(lower, upper, color="tab:red", alpha=0.15, lw=0, label=label)


def bound_line(ax: Axes, bound: float, label: str) -> None:
    """The online predictor's code length (an upper bound on the rate): a blue dash-dot line."""
    ax.axhline(bound, color="tab:blue", ls="-.", lw=1.2, label=label)


def label_axes(
    ax: Axes, xlabel: str, ylabel: str, title: str, scale: tuple[float, str] | None = None
) -> None:
    """Axis labels, title and a light grid; with ``scale``, a second y axis (see
    :func:`second_scale`)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if scale is not None:
        second_scale(ax, *scale)
    ax.grid(alpha=0.3)
