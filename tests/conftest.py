"""Shared test hygiene: no test may leave mpmath's global precision changed behind it."""

from __future__ import annotations

import mpmath
import pytest


@pytest.fixture(autouse=True)
def _mpmath_precision_unchanged():
    """Tests set precision with ``mpmath.workdps``; a global ``mp.dps = ...`` would leak
    into whichever test runs next and make its reference more (or less) precise than it
    says."""
    before = mpmath.mp.prec
    yield
    assert mpmath.mp.prec == before, (
        f"this test left mpmath.mp.prec at {mpmath.mp.prec} (was {before}): use mpmath.workdps"
    )


@pytest.fixture
def saved_figures(monkeypatch):
    """Every matplotlib Figure saved during the test, to check what a plot draws."""
    from matplotlib.figure import Figure

    figures = []
    save = Figure.savefig

    def spy(self, *args, **kwargs):
        figures.append(self)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", spy)
    return figures
