"""matplotlib for the figures, imported only when a figure is drawn (it is an optional extra)."""

from __future__ import annotations

from typing import Any

__all__ = ["pyplot"]


def pyplot(what: str) -> Any:
    """``matplotlib.pyplot`` on a non-interactive backend; ImportError says how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(f"{what} needs matplotlib: pip install 'fastentropy[plot]'") from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt
