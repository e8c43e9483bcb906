"""The floor's n-gram part: h_n's std from brute-force counts, the interval at the chosen
order recomputed from every method's value and std, and which method gives the point.

Written through the per-order values (``floor.orders[i].conditional[m]``) and the private
``_choose``, so they keep their meaning when the floor's summary changes."""

from __future__ import annotations

import math
from collections import Counter

import fastentropy as fe
import numpy as np
import pytest
from fastentropy._floor.estimate import _choose
from fastentropy._floor.model import Value
from reference import nsb as nsb_reference

V = Value
#: The documented rule (docs, ``RULE``): every method's h_n ± 2 of its stds.
STDS = 2.0


def windows(tokens, n) -> Counter[tuple[int, ...]]:
    t = [int(x) for x in tokens]
    return Counter(tuple(t[i : i + n]) for i in range(len(t) - n + 1))


# --- h_n's std -------------------------------------------------------------------------------


def test_conditional_std_combines_block_and_context_stds():
    # h_n = H(n-grams) - H(their contexts): std = hypot(std_n, std_ctx), both estimated here
    # from Counter counts of the same windows (the contexts are the n-grams' prefixes).
    tokens = fe.MarkovSource(6, 1, seed=4).sample(3000, seed=2)
    methods = ["grassberger", "nsb", "pym", "jackknife"]
    floor = fe.estimate_floor(tokens, orders=[1, 2, 3], methods=methods)
    for report in floor.orders:
        grams = windows(tokens, report.order)
        contexts: Counter[tuple[int, ...]] = Counter()
        for g, c in grams.items():
            contexts[g[:-1]] += c
        for m in methods:
            got = report.conditional[m]
            block = fe.entropy(list(grams.values()), m)
            if m == "grassberger":
                assert got.std is None and report.block[m].std is None
                continue
            assert report.block[m].std == pytest.approx(block.std, rel=1e-12), m
            if report.order == 1:  # no context: h_1 is H_1
                assert got.std == pytest.approx(block.std, rel=1e-12), m
                continue
            ctx = fe.entropy(list(contexts.values()), m)
            want = math.hypot(block.std, ctx.std)
            assert got.std == pytest.approx(want, rel=1e-12), (report.order, m)
            # The context's share is not negligible: without it the std is visibly smaller.
            assert got.std > block.std * (1 + 1e-3), (report.order, m)


def test_conditional_nsb_std_against_the_mpmath_reference():
    tokens = fe.MarkovSource(5, 1, seed=1).sample(1500, seed=3)
    (report,) = fe.estimate_floor(tokens, orders=[2], methods=["nsb"]).orders
    grams = windows(tokens, 2)
    contexts: Counter[tuple[int, ...]] = Counter()
    for g, c in grams.items():
        contexts[g[:-1]] += c
    hb, sb = nsb_reference(list(grams.values()))
    hc, sc = nsb_reference(list(contexts.values()))
    got = report.conditional["nsb"]
    assert got.value == pytest.approx(float(hb - hc), rel=1e-8)
    assert got.std == pytest.approx(float(math.hypot(sb, sc)), rel=1e-8)


# --- the interval at the chosen order ----------------------------------------------------


def report(order, regime, conditional):
    """An order report of the given regime (coverage and plug-in bias of 10,000 windows)."""
    singletons, distinct = {"reliable": (100, 500), "marginal": (1500, 1500)}.get(
        regime, (5000, 6000)
    )
    r = fe.OrderReport(
        order=order,
        n=10_000,
        distinct=distinct,
        singletons=singletons,
        contexts=100,
        conditional=conditional,
    )
    assert r.regime == regime
    return r


def spread(r: fe.OrderReport) -> tuple[float, float]:
    values = r.conditional.values()
    lower = min(v.value - STDS * (v.std or 0.0) for v in values)
    upper = max(v.value + STDS * (v.std or 0.0) for v in values)
    return lower, upper


def test_interval_is_every_method_within_two_stds_by_hand():
    # pym's wide std sets both ends; with ±1 std they would be 1.82 and 2.22.
    values = {
        "plugin": V(1.95),
        "grassberger": V(2.00),
        "nsb": V(2.05, 0.05),
        "pym": V(2.02, 0.2),
    }
    low = report(1, "reliable", {"plugin": V(3.0), "nsb": V(3.0, 0.5)})
    floor = _choose((low, report(2, "reliable", values)), list(values))
    assert floor.order == 2 and floor.method == "grassberger" and floor.point == 2.00
    assert (floor.lower, floor.upper) == pytest.approx((1.62, 2.42), abs=1e-12)


def test_interval_of_an_estimated_floor_recomputed_from_its_orders():
    src = fe.MarkovSource(8, 1, seed=5)
    floor = fe.estimate_floor(src.sample(50_000, seed=6), orders=[1, 2, 3])
    again = _choose(floor.orders, list(floor.methods))
    chosen = next(r for r in floor.orders if r.order == again.order)
    assert again.point == chosen.conditional[again.method].value
    assert (again.lower, again.upper) == pytest.approx(spread(chosen), abs=1e-12)
    stds = [v.std for v in chosen.conditional.values() if v.std]
    assert stds and max(stds) > 1e-4  # the stds move the ends, or this proves nothing


# --- which method gives the point ------------------------------------------------------------


METHODS = ("plugin", "miller_madow", "grassberger", "chao_shen", "nsb", "pym")
ALL = {m: V(2.0 + i / 100, 0.01) for i, m in enumerate(METHODS)}


def without(*names):
    return {m: v for m, v in ALL.items() if m not in names}


@pytest.mark.parametrize(
    "regime, values, method",
    [
        # Well sampled, Grassberger is the most accurate; NSB is biased high there.
        ("reliable", ALL, "grassberger"),
        ("reliable", without("grassberger"), "miller_madow"),
        ("reliable", without("grassberger", "miller_madow"), "nsb"),
        # Marginally sampled (and worse), NSB is the least biased; then Chao-Shen.
        ("marginal", ALL, "nsb"),
        ("marginal", without("nsb"), "chao_shen"),
        ("marginal", without("nsb", "chao_shen"), "grassberger"),
        ("unreliable", ALL, "nsb"),
    ],
)
def test_point_method_by_regime(regime, values, method):
    # The methods as given (nsb before grassberger, plugin first) do not set the preference.
    order = ["plugin", "pym", "nsb", "chao_shen", "miller_madow", "grassberger"]
    floor = _choose((report(3, regime, values),), [m for m in order if m in values])
    assert floor.method == method
    assert floor.point == values[method].value
    assert floor.reliable == (regime == "reliable")


def test_point_method_follows_the_chosen_orders_regime():
    reliable = report(1, "reliable", ALL)
    marginal = report(2, "marginal", ALL)
    assert _choose((reliable, marginal), list(ALL)).method == "nsb"
    assert _choose((marginal, report(2, "reliable", ALL)), list(ALL)).method == "grassberger"


def test_point_method_on_a_well_sampled_source_is_grassberger():
    src = fe.MarkovSource(6, 1, seed=2)
    floor = fe.estimate_floor(src.sample(100_000, seed=3), orders=[1, 2, 3])
    chosen = next(r for r in floor.orders if r.order == floor.order)
    assert chosen.regime == "reliable" and floor.method == "grassberger"
    assert floor.ngram_point == chosen.conditional["grassberger"].value
    assert not np.isclose(floor.ngram_point, chosen.conditional["nsb"].value, rtol=0, atol=1e-9)


# --- the figure ------------------------------------------------------------------------------


def test_plot_draws_every_methods_h_n_and_the_floor(tmp_path, saved_figures):
    from matplotlib.colors import to_rgb

    src = fe.MarkovSource(10, 1, seed=1)
    floor = fe.estimate_floor(
        src.sample(20_000, seed=0),
        orders=[1, 2, 3, 4],
        methods=["plugin", "grassberger", "nsb"],
        meta={"n_tokens": 1, "n_bytes": 3},
    )
    floor.plot(tmp_path / "floor.png", truth=src.entropy_rate)
    (fig,) = saved_figures
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches() * fig.dpi) == (800, 500)
    # One error bar series per method: h_n by order (x shifted a little per method), ± std.
    bars = {c.get_label(): c for c in ax.containers}
    assert set(bars) == {"plugin", "grassberger", "nsb"}
    for m, bar in bars.items():
        line, _, (segments,) = bar.lines
        xs, ys = (np.asarray(a, dtype=float) for a in line.get_data())
        assert np.allclose(np.round(xs), [1, 2, 3, 4]) and np.all(abs(xs - np.round(xs)) < 0.2)
        want = [r.conditional[m] for r in floor.orders]
        assert np.allclose(ys, [v.value for v in want], rtol=0, atol=1e-12), m
        half = [(seg[1][1] - seg[0][1]) / 2 for seg in segments.get_segments()]
        assert np.allclose(half, [v.std or 0.0 for v in want], rtol=1e-9, atol=1e-12), m
    lines = {line.get_label(): line for line in ax.lines}
    (point,) = [v for k, v in lines.items() if k.startswith("floor ")]
    assert np.allclose(point.get_ydata(), floor.point)
    (truth,) = [v for k, v in lines.items() if k.startswith("true rate")]
    assert np.allclose(truth.get_ydata(), src.entropy_rate)
    # The floor band spans the interval; bits/byte on a second axis (3 bytes per token).
    (band,) = [p for p in ax.patches if p.get_facecolor()[:3] == to_rgb("tab:red")]
    ys = band.get_patch_transform().transform(band.get_path().vertices)[:, 1]
    assert (ys.min(), ys.max()) == pytest.approx((floor.lower, floor.upper), abs=1e-12)
    (right,) = ax.child_axes
    assert right.get_ylabel() == "bits/byte"
