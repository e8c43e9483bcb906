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

__all__ = ["figure_and_axes", "second_scale"]


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
