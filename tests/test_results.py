"""Results out, as a notebook shows them: one-line reprs, HTML tables, the floor's per-order
table as a DataFrame."""

from __future__ import annotations

import math

import fastentropy as fe
import numpy as np
import pytest


@pytest.fixture(scope="module")
def floor():
    src = fe.MarkovSource(vocab_size=8, order=1, seed=3)
    return fe.estimate_floor(src.sample(50_000, seed=1), orders=[1, 2, 3])


def results(floor):
    counts = fe.count_ngrams(np.array([1, 2, 1, 2, 3], dtype=np.uint8), 2)
    return {
        "Floor": floor,
        "Rate": floor.rate,
        "Estimate": fe.entropy([5, 3, 1, 1], "nsb"),
        "Profile": fe.Profile.from_counts(np.arange(1, 200)),
        "NgramCounts": counts,
    }


def test_reprs_are_one_short_line(floor):
    for name, obj in results(floor).items():
        text = repr(obj)
        assert text.startswith(name + "(") and "\n" not in text and len(text) <= 120, text
    text = repr(floor)
    point, lower, upper = floor.point, floor.lower, floor.upper
    assert f"{point:.4g} [{lower:.4g}, {upper:.4g}] nats/token" in text
    assert f"order={floor.order}" in text and f"n_tokens={floor.n_tokens:,}" in text


def test_html_tables(floor):
    for name, obj in results(floor).items():
        page = obj._repr_html_()
        assert page.startswith("<table>") and f"<caption>{name}" in page, name
    page = floor._repr_html_()
    rate = f"rate {floor.point:.4g} [{floor.lower:.4g}, {floor.upper:.4g}] nats/token"
    assert rate in page and "<th>order</th>" in page
    assert page.count("<tr>") == 1 + len(floor.orders)  # the header, then one row per order
    est = fe.entropy([5, 3, 1, 1], "nsb")
    assert f"<td>{est.value:.4g}</td>" in est._repr_html_()


def test_floor_to_frame(floor):
    pd = pytest.importorskip("pandas")
    frame = floor.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert frame["order"].tolist() == [r.order for r in floor.orders]
    assert frame["distinct"].tolist() == [r.distinct for r in floor.orders]
    assert frame["regime"].tolist() == [r.regime for r in floor.orders]
    for method in floor.methods:
        want = [
            r.conditional[method].value if method in r.conditional else math.nan
            for r in floor.orders
        ]
        np.testing.assert_array_equal(frame[f"h_n {method}"].to_numpy(), want)


def test_to_frame_without_pandas_says_what_to_install(floor, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_pandas(name, *args, **kwargs):
        if name == "pandas":
            raise ImportError("no pandas")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pandas)
    with pytest.raises(ImportError, match="pip install pandas"):
        floor.to_frame()
