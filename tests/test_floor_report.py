"""The floor's figure and text report as a reader meets them: a Figure object without
pyplot, a legend that covers no point, distinct shadings, where the table ends; a report of at
most 100 columns with the English references only where they can be compared."""

from __future__ import annotations

import subprocess
import sys

import fastentropy as fe
import numpy as np
import pytest

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def floor():
    src = fe.MarkovSource(30, 2, seed=3)
    tokens = src.sample(60_000, seed=4)
    return fe.estimate_floor(
        tokens,
        methods=["plugin", "miller_madow", "grassberger", "chao_shen", "nsb", "pym", "zhang"],
        meta={"n_tokens": tokens.size, "n_bytes": 3 * tokens.size, "n_chars": 3 * tokens.size},
    )


def test_plot_returns_a_figure_without_touching_pyplot(tmp_path):
    # In a fresh interpreter: drawing neither imports pyplot nor switches the backend.
    code = (
        "import sys, matplotlib, fastentropy as fe\n"
        # rcParams' raw entry: get_backend() would itself import pyplot.
        "backend = dict.__getitem__(matplotlib.rcParams, 'backend')\n"
        "f = fe.estimate_floor(fe.MarkovSource(8, 1, seed=1).sample(5000, seed=2), orders=[1, 2])\n"
        f"fig = f.plot({str(tmp_path / 'a.png')!r})\n"
        "from matplotlib.figure import Figure\n"
        "assert isinstance(fig, Figure), type(fig)\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
        "assert dict.__getitem__(matplotlib.rcParams, 'backend') == backend\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert (tmp_path / "a.png").stat().st_size > 0


def test_legend_covers_no_point(floor):
    from matplotlib.legend import Legend

    fig = floor.plot()
    fig.canvas.draw()
    (ax,) = [a for a in fig.axes if a.containers]
    (legend,) = [c for c in fig.get_children() if isinstance(c, Legend)]
    box = legend.get_window_extent()
    axes_box = ax.get_window_extent()
    assert box.y1 <= axes_box.y0  # below the axes, outside them
    for bars in ax.containers:
        xy = ax.transData.transform(np.column_stack(bars.lines[0].get_data()))
        assert not any(box.contains(x, y) for x, y in xy)


def test_undersampled_orders_and_literature_band_look_different(floor):
    fig = floor.plot()
    ax = fig.axes[0]
    labels = {p.get_label(): p for p in ax.patches}
    (under,) = [p for k, p in labels.items() if k.startswith("under-sampled")]
    (english,) = [p for k, p in labels.items() if k.startswith("English")]
    assert under.get_hatch() and not english.get_hatch()
    assert under.get_facecolor()[3] == 0 and english.get_facecolor()[3] > 0
    # The table's end is drawn, at the last order + 1/2.
    (end,) = [line for line in ax.lines if line.get_label().startswith("the table ends")]
    assert np.allclose(end.get_xdata(), floor.orders[-1].order + 0.5)
    assert str(floor.orders[-1].order) in end.get_label()


def test_plot_draws_on_given_axes(floor, tmp_path):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    mine = Figure(figsize=(10, 4))
    FigureCanvasAgg(mine)
    left, right = mine.subplots(1, 2)
    assert floor.plot(ax=right) is mine
    assert right.containers and not left.containers
    assert right.get_legend() is not None
    with pytest.raises(TypeError, match="matplotlib Axes"):
        floor.plot(ax="axes")


def test_report_fits_100_columns(floor):
    text = str(floor)
    assert max(len(line) for line in text.splitlines()) <= 100
    # Seven methods do not fit one row of 100 columns: the h_n table continues below, and
    # every method's column is there.
    head = [line.split() for line in text.splitlines() if line.startswith("n ")]
    assert sorted(m for h in head for m in h if m in floor.methods) == sorted(floor.methods)


def test_references_only_where_they_compare():
    text = str(fe.Floor.from_summary(2.0, 1.5, 2.5, chars_per_token=4.0))
    assert "Shannon (1951)" in text and "Unit warning" in text
    bare = str(fe.Floor.from_summary(2.0, 1.5, 2.5, bytes_per_token=4.0))
    assert "Shannon" not in bare and "Unit warning" not in bare
