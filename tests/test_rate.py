"""Rate estimators on plain arrays: closed forms, brute-force match lengths, the rule."""

from __future__ import annotations

import itertools
import json
import math
import os
from pathlib import Path
from typing import Any

import fastentropy as fe
import numpy as np
import pytest
from fastentropy._floor.model import Value
from hypothesis import given
from hypothesis import strategies as st


def _grid(end: float) -> np.ndarray:
    n = [2.0**e for e in range(10, 64) if 2.0**e < end]
    return np.array([*n, end])


def _lpf(x: list[int]) -> list[int]:
    """Longest previous match by first occurrences of every l-gram: O(n·L)."""
    out = [0] * len(x)
    length = 1
    while True:
        first: dict[tuple[int, ...], int] = {}
        found = False
        for i in range(len(x) - length + 1):
            j = first.setdefault(tuple(x[i : i + length]), i)
            if j < i:
                out[i] = length
                found = True
        if not found:
            return out
        length += 1


def test_curve_recovers_an_exact_stretched_exponential() -> None:
    n = _grid(3e7)
    r = fe.rate_from_curve(n, n * 3.78 * np.exp(0.9 * n ** (0.88 - 1)))
    assert r.value == pytest.approx(3.78, rel=1e-5)
    assert r.detail["stretched_exponential"]["beta"] == pytest.approx(0.88, abs=1e-4)
    assert r.lower <= 3.78 + 1e-9 and 3.78 - 1e-9 <= r.upper
    # The power law misfits an exact stretched exponential; the union still holds both.
    pl = r.detail["power_law"]
    assert r.lower <= pl["lower"] and pl["upper"] <= r.upper


def test_noisy_power_law_curves_are_covered() -> None:
    rng = np.random.default_rng(0)
    h, covered = 2.5, 0
    for _ in range(20):
        n = _grid(1e7)
        exact = h * n + 3.0 * n**0.6
        increments = np.diff(np.concatenate([[0.0], exact]))
        noise = rng.normal(0, 1.5 * np.sqrt(np.diff(np.concatenate([[0.0], n]))))
        r = fe.rate_from_curve(n, np.cumsum(increments + noise))
        covered += r.lower <= h <= r.upper
    assert covered >= 17


def test_curve_failures_say_why() -> None:
    r = fe.rate_from_curve([1e3, 2e3, 4e3], [3e3, 5e3, 9e3])
    assert not r.ok and "at least 5 points" in (r.reason or "")
    with pytest.raises(ValueError):
        fe.rate_from_curve(np.ones((2, 3)), np.ones((2, 3)))


def test_orders_from_a_floor_of_a_markov_chain_cover_its_rate() -> None:
    src = fe.MarkovSource(6, 1, seed=3)
    floor = fe.estimate_floor(src.sample(400_000, seed=1), orders=range(1, 7))
    r = fe.rate_from_orders(floor)
    assert r.ok, r.reason
    assert r.lower <= src.entropy_rate <= r.upper
    assert r.upper <= r.detail["cap"]


def test_orders_need_three() -> None:
    r = fe.rate_from_orders([(1, 3.0, 0.01), (2, 2.5, 0.01)])
    assert not r.ok and "at least 3" in (r.reason or "")
    # Three orders of an exact exponential approach (σ² = 1, no degree of freedom left).
    table = [(n, 2.0 + 1.5 * math.exp(-0.8 * n), 0.002) for n in (1, 2, 3)]
    r3 = fe.rate_from_orders(table)
    assert r3.ok and r3.lower <= 2.0 <= r3.upper <= table[-1][1] + 0.004, r3


def test_match_estimator_is_the_formula_on_brute_force_lengths() -> None:
    x = [2, 0, 1, 0, 2, 0, 1, 1, 0, 2, 0, 1]
    naive = [
        max(
            (
                next((k for k in range(len(x) - i) if x[j + k] != x[i + k]), len(x) - i)
                for j in range(i)
            ),
            default=0,
        )
        for i in range(len(x))
    ]
    assert _lpf(x) == naive
    lam = np.array(naive[1:]) + 1.0
    ln_i = np.log(np.arange(2, len(x) + 1))
    r = fe.rate_from_matches(naive)
    # Too short for the slope estimate: the point is KASW's formula.
    assert "octaves" in r.detail["slope"]["error"]
    assert r.value == pytest.approx(1 / np.mean(lam / ln_i), rel=1e-14)
    assert r.detail["gao"]["value"] == pytest.approx(np.mean(ln_i / lam), rel=1e-14)


def _slope_reference(lengths: np.ndarray) -> tuple[float, float, float]:
    """Weighted least squares of octave means of Λ on mean ln i, written out with numpy:
    octaves 2^k <= i < 2^(k+1) from k = 10 with >= 4096 positions, weights from 16
    sub-block means, se with sigma² = max(chi²/dof, 1). Returns (1/slope, its se, chi²/dof)."""
    n = lengths.size
    i = np.arange(1, n + 1)
    lam = lengths.astype(np.float64) + 1.0
    xs, ys, vs = [], [], []
    for k in range(10, 64):
        lo, hi = 2**k, min(2 ** (k + 1), n + 1)
        if lo > n:
            break
        if hi - lo < 4096:
            continue
        block = lam[lo - 1 : hi - 1]
        size = block.size // 16
        subs = block[: 16 * size].reshape(16, size).mean(axis=1)
        xs.append(np.log(i[lo - 1 : hi - 1]).mean())
        ys.append(block.mean())
        vs.append(subs.var(ddof=1) / 16)
    x, y, w = np.array(xs), np.array(ys), 1 / np.array(vs)
    design = np.stack([np.ones_like(x), x], axis=1) * np.sqrt(w)[:, None]
    coef, *_ = np.linalg.lstsq(design, y * np.sqrt(w), rcond=None)
    chi2 = float(np.sum(w * (y - coef[0] - coef[1] * x) ** 2)) / (len(x) - 2)
    cov = np.linalg.inv(design.T @ design) * max(chi2, 1.0)
    b = coef[1]
    return 1 / b, math.sqrt(cov[1, 1]) / b**2, chi2


def test_slope_estimate_is_weighted_least_squares_over_octaves() -> None:
    # Any lengths will do for the arithmetic: noisy growth 0.4·ln i + 2.
    rng = np.random.default_rng(9)
    n = 2**17 + 3000
    lengths = np.floor(0.4 * np.log(np.arange(1, n + 1)) + 2 + rng.random(n) * 2).astype(np.int64)
    r = fe.rate_from_matches(lengths)
    value, se, chi2 = _slope_reference(lengths)
    s = r.detail["slope"]
    assert s["octaves"] == 5  # octaves 12..16; the partial 17th (3001 positions) is dropped
    assert s["value"] == pytest.approx(value, rel=1e-9)
    assert s["std"] == pytest.approx(se, rel=1e-6)
    assert s["chi2_dof"] == pytest.approx(chi2, rel=1e-6)
    assert r.value == s["value"]
    kasw = r.detail["kasw"]
    assert r.lower == pytest.approx(min(value - 2 * se, kasw["value"] - 2 * kasw["std"]))
    assert r.upper == pytest.approx(max(value + 2 * se, kasw["value"] + 2 * kasw["std"]))


def test_matches_cover_a_markov_rate_where_kasw_alone_is_low() -> None:
    # V = 16, order 1, 3·10^5 tokens: KASW is low by its O(1/ln n) constant; the corrected
    # interval holds the exact rate.
    src = fe.MarkovSource(16, 1, seed=1)
    x = src.sample(300_000, seed=4)
    lengths = fe.SuffixIndex.build(x).match_lengths("previous")
    r = fe.rate_from_matches(lengths)
    h = src.entropy_rate
    assert r.detail["kasw"]["value"] < h - 0.1
    assert abs(r.value - h) < abs(r.detail["kasw"]["value"] - h)
    assert r.lower <= h <= r.upper, (r, h)


def test_match_estimator_on_iid_data_is_biased_low_within_the_known_order() -> None:
    # Uniform over 8 symbols, h = ln 8: KASW is biased low by a relative O(1/ln n);
    # 3/ln n (~30% at n = 2e4) is a loose but honest bound; Gao lies above KASW.
    rng = np.random.default_rng(5)
    x = rng.integers(0, 8, 20_000).tolist()
    r = fe.rate_from_matches(_lpf(x))
    h = math.log(8)
    kasw = r.detail["kasw"]["value"]
    assert h * (1 - 3 / math.log(len(x))) < kasw < h
    assert r.detail["gao"]["value"] >= kasw
    assert r.lower <= r.value <= r.upper


def test_match_bad_input() -> None:
    assert not fe.rate_from_matches([3]).ok
    with pytest.raises(TypeError):
        fe.rate_from_matches([0.5, 1.0])
    with pytest.raises(ValueError):
        fe.rate_from_matches([0, -1])


intervals = st.lists(
    st.tuples(st.floats(0, 10), st.floats(0, 2), st.floats(0, 2)).map(
        lambda t: fe.MethodResult("m", t[0], t[0] - t[1], t[0] + t[2])
    ),
    min_size=1,
    max_size=4,
)


@given(intervals, st.one_of(st.none(), st.floats(0, 12)))
def test_combination_is_a_capped_union(ms: list[fe.MethodResult], bound: float | None) -> None:
    ms = [fe.MethodResult(f"m{i}", m.value, m.lower, m.upper) for i, m in enumerate(ms)]
    r = fe.combine_rates(ms, bound=bound)
    if math.isnan(r.point):
        # Nothing narrow enough to use and no bound: nothing is known, said with NaNs.
        assert bound is None and not r.used and not r.informative
        return
    assert 0 <= r.lower <= r.point <= r.upper
    if bound is not None:
        # The predictor's code length is the upper end: nothing above it, nothing cut below.
        assert r.upper == bound
    for m in ms:
        assert (m.name in r.used) == (m.upper - m.lower <= 0.25 * m.value)  # type: ignore[operator]
        if m.name in r.used and r.informative:
            assert r.lower <= max(m.lower or 0, 0)
            assert min(m.upper or 0, math.inf if bound is None else bound) <= r.upper


def _mixture_reference(costs: list[Any], alphas: tuple[float, ...] = (0.002, 0.02, 0.2)) -> Any:
    """Fixed share over the predictors at each share rate, those mixed by Bayes: per token,
    in plain Python floats (Herbster & Warmuth 1998; the weights before each token)."""
    k, a = len(costs), len(alphas)
    w = [[1 / k] * k for _ in alphas]
    v = [1 / a] * a
    out = []
    for cs in zip(*(c.tolist() for c in costs), strict=True):
        q = [math.exp(-c) for c in cs]
        qa = [sum(x * y for x, y in zip(wi, q, strict=True)) for wi in w]
        p = sum(x * y for x, y in zip(v, qa, strict=True))
        out.append(-math.log(p))
        v = [x * y / p for x, y in zip(v, qa, strict=True)]
        w = [
            [(1 - al) * x * y / qi + al / k for x, y in zip(wi, q, strict=True)]
            for wi, qi, al in zip(w, qa, alphas, strict=True)
        ]
    return np.array(out)


def test_the_mixture_of_predictors_against_brute_force() -> None:
    rng = np.random.default_rng(3)
    a = rng.exponential(2.0, 3000).astype(np.float32)
    b = np.where(np.arange(3000) < 1500, a + 1.0, a - 0.5).clip(0).astype(np.float32)
    ref = _mixture_reference([a, b])
    curve = fe.Curve([1024, 2048, 3000], [0.0, 0.0, 0.0])
    codes = [fe.CodeLength(3000, float(c.sum()), curve, per_token=c.copy()) for c in (a, b)]
    mix = fe.mixed_code_length(codes)
    assert mix.per_token is not None
    np.testing.assert_allclose(mix.per_token, ref, rtol=1e-5)
    np.testing.assert_allclose(mix.curve.nats, np.cumsum(ref)[[1023, 2047, 2999]], rtol=1e-9)
    assert mix.nats == pytest.approx(ref.sum(), rel=1e-9)
    # It follows the better model in each half: below both single code lengths.
    assert mix.nats < min(a.sum(), b.sum())
    with pytest.raises(ValueError, match="at least two"):
        fe.mixed_code_length(codes[:1])
    with pytest.raises(ValueError, match="per-token costs"):
        fe.mixed_code_length([codes[1], fe.CodeLength(3000, 1.0, curve)])
    shifted = np.r_[np.float32(np.nan), b[1:]]
    with pytest.raises(ValueError, match="same positions"):
        fe.mixed_code_length([codes[1], fe.CodeLength(3000, 1.0, curve, per_token=shifted)])


def test_rate_round_trips_and_prints(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    src = fe.MarkovSource(8, 1, seed=1)
    tokens = src.sample(200_000, seed=2)
    rate = fe.estimate_rate(tokens)
    assert set(rate.methods) == {"curve", "orders", "matches"}
    assert all(m.ok for m in rate.methods.values()), rate.methods
    # The bound is the predictor's code length on the same tokens; the upper end is the
    # lower of it and the final half's mean cost + 2 batch-means se (numpy on the costs).
    # 8 ids: the rate reads the mixture of the bit and the token model (brute force below).
    bits, toks = (fe.prequential(tokens, per_token=True, model=m) for m in ("bits", "tokens"))
    assert bits.per_token is not None and toks.per_token is not None
    mixed = _mixture_reference([bits.per_token, toks.per_token])
    assert rate.bound == pytest.approx(mixed.mean(), rel=1e-9)
    assert rate.bound <= min(bits.nats, toks.nats) / tokens.size + math.log(3) / tokens.size
    assert rate.tail is not None
    last = mixed[100_000:]
    se = last.reshape(32, -1).mean(axis=1).std(ddof=1) / math.sqrt(32)
    assert rate.tail["mean"] == pytest.approx(last.mean(), rel=1e-9)
    assert rate.tail["std"] == pytest.approx(se, rel=1e-6)
    assert rate.upper == pytest.approx(min(rate.bound, last.mean() + 2 * se), rel=1e-9)
    # The final half leaves out the learning cost (whether + 2 se still undercuts L/N on so
    # quick a learner depends on the predictor: min() above is the rule).
    assert last.mean() < mixed.mean()
    assert rate.lower <= src.entropy_rate <= rate.upper
    assert rate.curve is not None and rate.curve["n"][-1] == 200_000
    again = fe.Rate.from_json(rate.to_json())
    assert again == rate
    p, lo, up = rate.interval("bits/token")
    assert p == pytest.approx(rate.point / math.log(2))
    with pytest.raises(ValueError, match="bits/byte"):
        rate.interval("bits/byte")
    text = str(rate)
    assert "Entropy rate" in text and "matches" in text and "Prequential bound" in text
    assert "Final half's code rate" in text
    rate.print()
    assert capsys.readouterr().out == text + "\n"
    # A rate written before the final stretch existed (no "tail" key) still loads.
    plain = json.loads(rate.to_json())
    del plain["tail"]
    assert fe.Rate.from_json(json.dumps(plain)).tail is None
    only = fe.estimate_rate(tokens, methods=["orders"])
    assert not only.methods.keys() - {"orders"}
    with pytest.raises(ValueError, match="rate_methods must be a selection"):
        fe.estimate_rate([1, 2], methods=["bogus"])


def test_final_stretch_is_the_batch_mean_of_the_last_half() -> None:
    rng = np.random.default_rng(5)
    # 10_001 positions, every third unscored (NaN): the last half of the scored ones.
    costs = rng.exponential(2.0, 10_001).astype(np.float32)
    costs[::3] = np.nan
    scored = np.flatnonzero(~np.isnan(costs))
    last = scored[scored.size // 2 :]
    t = fe.final_stretch_rate(costs)
    assert (t["tokens"], t["start"]) == (last.size, last[0])
    x = costs[last].astype(np.float64)
    # Token k of the stretch is in batch floor(32·k/m) (sizes differ by at most 1).
    batch = np.arange(x.size) * 32 // x.size
    cuts = [int(np.searchsorted(batch, b)) for b in range(33)]
    means = np.array([x[a:b].mean() for a, b in itertools.pairwise(cuts)])
    assert t["mean"] == pytest.approx(x.mean(), rel=1e-12)
    assert t["std"] == pytest.approx(means.std(ddof=1) / math.sqrt(32), rel=1e-9)
    assert t["upper"] == pytest.approx(t["mean"] + 2 * t["std"], rel=1e-12)
    with pytest.raises(ValueError, match="at least 1024"):
        fe.final_stretch_rate(np.ones(2000, dtype=np.float32))


def test_costs_of_a_large_corpus_go_through_a_temporary_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from fastentropy._floor import estimate as floor_estimate

    tokens = fe.MarkovSource(8, 1, seed=1).sample(50_000, seed=2)
    in_memory = fe.estimate_rate(tokens, methods=["matches"])
    monkeypatch.setattr(floor_estimate, "COSTS_IN_MEMORY", 1000)
    asked: list[Any] = []
    real = floor_estimate.prequential

    def spy(*args: Any, **kwargs: Any) -> Any:
        asked.append(kwargs["per_token"])
        return real(*args, **kwargs)

    monkeypatch.setattr(floor_estimate, "prequential", spy)
    on_disk = fe.estimate_rate(tokens, methods=["matches"])
    assert on_disk.tail == in_memory.tail and on_disk.upper == in_memory.upper
    assert len(asked) == 2  # 8 ids: the bit model and the token model, each to its file
    for path in asked:
        assert isinstance(path, str) and path.endswith(".npy")
        assert not os.path.exists(path)  # removed with its directory


def test_the_final_stretch_sets_the_upper_end_when_lower() -> None:
    ms = [fe.MethodResult("matches", 3.0, 2.8, 3.1)]
    tail = {"mean": 3.3, "std": 0.05, "upper": 3.4, "tokens": 5000, "start": 5000}
    r = fe.combine_rates(ms, bound=3.6, tail=tail)
    assert (r.lower, r.upper, r.bound, r.tail) == (2.8, 3.4, 3.6, tail)
    assert fe.combine_rates(ms, bound=3.2, tail=tail).upper == 3.2
    # Under every estimator's lower end: they are contradicted, nothing known below it.
    low = {**tail, "upper": 2.7}
    r = fe.combine_rates(ms, bound=3.6, tail=low)
    assert (r.lower, r.upper, r.informative) == (0.0, 2.7, False)


def _matches(slope: float, se: float, kasw_lower: float, chi2: float = 0.5) -> fe.MethodResult:
    # A match-length answer as rate_from_matches gives it: slope ± 2 se unioned with KASW.
    detail = {
        "slope": {"value": slope, "std": se, "chi2_dof": chi2},
        "kasw": {"value": kasw_lower + 0.01},
    }
    return fe.MethodResult("matches", slope, kasw_lower, slope + 2 * se, detail=detail)


def test_the_slope_alone_sets_the_lower_end_beside_a_curve_that_agrees() -> None:
    m = _matches(3.45, 0.05, 3.10)
    agrees = fe.MethodResult("curve", 3.50, 3.40, 3.60)
    r = fe.combine_rates([agrees, m], bound=3.9)
    assert r.lower == pytest.approx(3.35) and r.methods["matches"].lower == pytest.approx(3.35)
    assert "slope alone" in r.methods["matches"].detail["interval"]
    assert "slope alone" in str(r)
    # A curve too wide to count (26% of its point), or one wholly below the slope: KASW's
    # lower end.
    wide = fe.MethodResult("curve", 3.50, 2.60, 3.51)
    below = fe.MethodResult("curve", 3.22, 3.15, 3.28)
    for curve in (wide, below):
        r = fe.combine_rates([curve, m], bound=3.9)
        assert r.lower == 3.10 and r.methods["matches"].lower == 3.10
    # No curve at all: the same.
    assert fe.combine_rates([m], bound=3.9).lower == 3.10
    # A slope whose regression over octaves misfits (chi2/dof 2.1 > 1.5): KASW's lower end.
    misfit = _matches(3.45, 0.05, 3.10, chi2=2.1)
    assert fe.combine_rates([agrees, misfit], bound=3.9).lower == 3.10


def test_a_narrow_curve_above_a_slope_that_fits_does_not_veto_it() -> None:
    # The 16-state source at 10^8 tokens (docs/rate.md; truth 3.4435 ± 0.0013): the slope
    # 3.435062 ± 0.016850 fits (chi2/dof 0.232); the curve, 0.012 wide, sits at the
    # predictor's limit wholly above it; KASW 3.191955 ± 0.002538. The curve's veto made the
    # floor KASW's 3.186880, 0.257 under the truth, and the interval 0.378 wide.
    truth, v, se = 3.4435, 3.435062, 0.016850
    kasw = {"value": 3.191955, "std": 0.002538}
    slope = {"value": v, "std": se, "chi2_dof": 0.232}
    union = (kasw["value"] - 2 * kasw["std"], v + 2 * se)
    m = fe.MethodResult("matches", v, *union, detail={"slope": slope, "kasw": kasw})
    curve = fe.MethodResult("curve", 3.496153, 3.486310, 3.498216)
    orders = fe.MethodResult("orders", 3.493450, 2.856737, 3.645473)
    tail = {"mean": 3.563659, "std": 0.000677, "upper": 3.565012, "tokens": 5e7, "start": 5e7}
    r = fe.combine_rates([orders, curve, m], bound=3.578105, tail=tail)
    # The slope alone: its lower end is the floor (the orders' reach is cut to it, rule 6).
    assert r.informative and r.used == ("orders", "curve", "matches")
    assert r.lower == pytest.approx(v - 2 * se, abs=1e-12)
    assert (r.point, r.upper) == (3.493450, 3.565012)
    assert r.lower < truth < r.upper and r.upper - r.lower < 0.17
    note = r.methods["matches"].detail["interval"]
    assert "slope alone" in note and "above it" in note
    # Its point above the slope's interval: the curve is not absorbed (it keeps its reach).
    assert "raised to the slope's" not in r.methods["curve"].detail.get("enters", "")
    # A curve wholly below the fitting slope still refuses it: Markov V=40, k=2 at 10^6
    # tokens (slope 2.756462 ± 0.033549, chi2/dof 0.54; curve 2.538 [2.143, 2.654]).
    mk = _matches(2.756462, 0.033549, 2.630273, chi2=0.54)
    low = fe.MethodResult("curve", 2.538062, 2.142938, 2.654450)
    r = fe.combine_rates([low, mk], bound=2.81059)
    assert "interval" not in r.methods["matches"].detail
    # A slope that fits beside a curve too wide to count stays refused: the 64-state source at
    # 10^6, slope 4.177051 ± 0.068786 (chi2/dof 0.51) 0.34 above the truth 3.8398, curve
    # 3.655 [1.667, 4.072]; KASW's lower end 3.7492 keeps the floor under the truth.
    hi = _matches(4.177051, 0.068786, 3.749218, chi2=0.51)
    wide = fe.MethodResult("curve", 3.654810, 1.666532, 4.071545)
    r = fe.combine_rates([wide, hi], bound=4.793761)
    assert r.lower == 3.749218 and r.lower < 3.8398


def test_a_curve_that_vouched_for_the_slope_and_agrees_does_not_widen_the_floor() -> None:
    # The 16-state source with the bit model (10^6 tokens): the curve, 23% of its point
    # wide, reached 2.61 beside the slope's [3.03, 3.25]; the truth was 3.24.
    m = _matches(3.14, 0.055, 3.0)
    curve = fe.MethodResult("curve", 3.16, 2.61, 3.35)
    r = fe.combine_rates([curve, m], bound=3.61)
    assert r.lower == pytest.approx(3.14 - 0.11)  # the slope's lower end, not the curve's
    assert r.used == ("curve", "matches") and r.point == pytest.approx((3.16 + 3.14) / 2)
    # The reported curve keeps its own interval; its detail says how it entered.
    assert (r.methods["curve"].lower, r.methods["curve"].upper) == (2.61, 3.35)
    assert "raised to the slope's" in r.methods["curve"].detail["enters"]
    # Its point below the slope's interval: a disagreement, not absorbed; but more than twice
    # as wide as the slope (0.74 > 2 x 0.22), so its reach stops at its point (rule 6).
    below = fe.MethodResult("curve", 3.02, 2.61, 3.35)
    r = fe.combine_rates([below, m], bound=3.61)
    assert r.lower == 3.02 and "2x as wide" in r.methods["curve"].detail["enters"]
    # ... and when it is not that wide, the union's lower end stands.
    near = fe.MethodResult("curve", 3.02, 2.95, 3.35)  # 0.40 <= 2 x 0.22
    assert fe.combine_rates([near, m], bound=3.61).lower == 2.95
    # Without rule 4 (a misfitting slope) the matches interval is the union with KASW's,
    # [3.0, 3.25]: the curve is not absorbed, and rule 6 stops it at the others' 3.0.
    misfit = _matches(3.14, 0.055, 3.0, chi2=2.1)
    r = fe.combine_rates([curve, misfit], bound=3.61)
    assert r.lower == 3.0 and "raised to the slope's" not in r.methods["curve"].detail["enters"]
    wide_kasw = _matches(3.14, 0.055, 2.7, chi2=2.1)  # union 0.55 wide: the curve counts
    assert fe.combine_rates([curve, wide_kasw], bound=3.61).lower == 2.61


def test_an_imprecise_extrapolation_does_not_reach_below_the_others() -> None:
    # Markov V=40, order 2, 10^6 tokens (truth 2.728): the curve, 20% of its point wide,
    # read 2.538 [2.143, 2.655] beside matches 2.759 [2.632, 2.828]; the floor went to 2.143.
    m = fe.MethodResult("matches", 2.759, 2.632, 2.828)
    curve = fe.MethodResult("curve", 2.538, 2.143, 2.655)
    r = fe.combine_rates([curve, m], bound=2.772)
    # 0.512 > 2 x 0.196: its reach below the matches' 2.632 is cut, its point still counts.
    assert r.lower == 2.538 and r.used == ("curve", "matches")
    assert r.methods["curve"].lower == 2.143 and "2x as wide" in r.methods["curve"].detail["enters"]
    # Its point above the others' lower end: it does not lower the floor at all.
    high = fe.MethodResult("curve", 2.70, 2.30, 2.80)
    assert fe.combine_rates([high, m], bound=2.9).lower == 2.632
    # At most twice as wide: the union's lowest lower end, as before.
    close = fe.MethodResult("curve", 2.60, 2.40, 2.78)
    assert fe.combine_rates([close, m], bound=2.9).lower == 2.40
    # The match-length interval is never cut, however wide beside a narrow curve.
    narrow = fe.MethodResult("curve", 2.80, 2.78, 2.82)
    assert fe.combine_rates([narrow, m], bound=2.9).lower == 2.632
    # orders is an extrapolation too.
    orders = fe.MethodResult("orders", 2.538, 2.143, 2.655)
    assert fe.combine_rates([orders, m], bound=2.772).lower == 2.538


def test_where_the_estimators_say_nothing_the_floor_is_kasw_with_a_margin() -> None:
    # 4 MB of a dictionary as bytes (nats/byte, docs/rate.md): the curve and the matches
    # both too wide, KASW 1.036 ± 0.0078, the predictor's code length 1.027.
    kasw = {"value": 1.036, "std": 0.0078}
    m = fe.MethodResult("matches", 1.531, 0.263, 2.798, detail={"kasw": kasw})
    curve = fe.MethodResult("curve", 0.889, 0.0, 1.045)
    r = fe.combine_rates([curve, m], bound=1.027)
    assert not r.informative and r.used == ()
    assert r.lower == pytest.approx((1.036 - 2 * 0.0078) / 4) and r.upper == 1.027
    assert "margin floor" in str(r)
    # KASW above the upper end: the upper end is the anchor; without KASW, 0 as before.
    high = fe.MethodResult("matches", 1.531, 0.263, 2.798, detail={"kasw": {"value": 1.4}})
    assert fe.combine_rates([curve, high], bound=1.027).lower == pytest.approx(1.027 / 4)
    bare = fe.MethodResult("matches", 1.531, 0.263, 2.798)
    assert fe.combine_rates([curve, bare], bound=1.027).lower == 0.0
    # Where an estimator is narrow, the margin floor plays no part.
    narrow = fe.MethodResult("matches", 1.0, 0.95, 1.02, detail={"kasw": kasw})
    r = fe.combine_rates([curve, narrow], bound=1.027)
    assert r.informative and r.lower == 0.95


def test_the_learning_curve_never_sets_the_floor_alone() -> None:
    # The 64-state source at 10^7 tokens with the long-memory predictor (docs/rate.md; truth
    # 3.8398): the curve 4.0187 [3.9446, 4.0484] is the predictor's limit, 0.105 above the
    # truth at its lower end; KASW 3.7794 ± 0.0022; the final half's upper end 4.1280. With
    # the match-length interval too wide to count (as on text), the curve alone set the floor
    # at 3.9446, and a model 0.05 over the rate from epoch 2 was called memorization.
    truth, kasw = 3.8398, {"value": 3.7794, "std": 0.0022}
    curve = fe.MethodResult("curve", 4.0187, 3.9446, 4.0484)
    wide = fe.MethodResult("matches", 3.9364, 0.5, 5.0, detail={"kasw": kasw})
    tail = {"mean": 4.1230, "std": 0.0025, "upper": 4.1280, "tokens": 5e6, "start": 5e6}
    r = fe.combine_rates([curve, wide], bound=4.1506, tail=tail)
    assert r.used == ("curve",) and not r.informative
    assert r.lower == pytest.approx((3.7794 - 2 * 0.0022) / 4)
    assert (r.point, r.upper) == (4.0187, 4.1280)
    assert "margin floor" in str(r)
    floor = fe.Floor(r.point, r.lower, r.upper, order=2, method="nsb", reliable=True, rate=r)
    honest = fe.check(_log_at([truth + 0.05, truth + 0.05, truth + 0.05]), floor)
    assert honest.status != "memorization", honest.headline
    # Beside a match-length interval that counts: the union, as before (KASW's side).
    m = fe.MethodResult("matches", 3.9364, 3.7749, 4.0032, detail={"kasw": kasw})
    both = fe.combine_rates([curve, m], bound=4.1506, tail=tail)
    assert both.informative and both.lower == 3.7749 and both.used == ("curve", "matches")


def _s16_rate() -> fe.Rate:
    """The 16-state source at 10^8 tokens (docs/rate.md): the slope alone (rule 4) and the
    orders' reach cut (rule 6), so two estimators carry a note of the combination."""
    v, se = 3.435062, 0.016850
    kasw = {"value": 3.191955, "std": 0.002538}
    detail = {"slope": {"value": v, "std": se, "chi2_dof": 0.232}, "kasw": kasw}
    m = fe.MethodResult("matches", v, 3.186879, v + 2 * se, detail=detail)
    curve = fe.MethodResult("curve", 3.496153, 3.486310, 3.498216)
    orders = fe.MethodResult("orders", 3.493450, 2.856737, 3.645473)
    tail = {"mean": 3.563659, "std": 0.000677, "upper": 3.565012, "tokens": 5e7, "start": 5e7}
    return fe.combine_rates([orders, curve, m], bound=3.578105, tail=tail)


def test_the_floor_report_shows_how_each_estimator_entered() -> None:
    r = _s16_rate()
    notes = [r.methods["matches"].detail["interval"], r.methods["orders"].detail["enters"]]
    assert "slope alone" in notes[0] and "2x as wide" in notes[1]
    floor = fe.Floor(r.point, r.lower, r.upper, order=2, method="nsb", reliable=True, rate=r)
    text = str(floor)
    assert all(len(line) <= 100 for line in text.splitlines())
    # Every note, whole, under its estimator's line (wrapped to the report's width).
    flat = " ".join(text.split())
    lines = text.splitlines()
    for name, note in zip(("matches", "orders"), notes, strict=True):
        assert " ".join(note.split()) in flat
        at = next(i for i, line in enumerate(lines) if line.startswith(f"  {name} "))
        assert lines[at + 1].startswith("    ") and note.split()[0] in lines[at + 1]
    # The rate's own text shows both kinds of note too.
    assert notes[0] in str(r) and notes[1] in str(r)


def test_when_only_the_curve_counts_the_notes_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # Rule 9 on a real (small) corpus: the estimators replaced by hand-built answers, a narrow
    # curve under the predictor's upper end beside a match-length interval too wide to count.
    import fastentropy._floor.estimate as estimate

    def only_the_curve(results: Any, **kw: Any) -> fe.Rate:
        top = min(kw["bound"], kw["tail"]["upper"])
        curve = fe.MethodResult("curve", 0.97 * top, 0.96 * top, 0.98 * top)
        kasw = {"value": 0.9 * top, "std": 0.001}
        wide = fe.MethodResult("matches", top, 0.1 * top, 2 * top, detail={"kasw": kasw})
        return fe.combine_rates([curve, wide], **kw)

    monkeypatch.setattr(estimate, "combine_rates", only_the_curve)
    x = fe.MarkovSource(8, 1, seed=1).sample(20_000, seed=2)
    floor = fe.estimate_floor(x, orders=[1, 2])
    assert floor.rate is not None and floor.rate.used == ("curve",)
    assert not floor.rate.informative
    (note,) = [n for n in floor.notes if "margin floor" in n]
    assert note.startswith("only the learning-curve extrapolation is narrow enough to count")
    assert "predictor's own limit" in note
    assert "Note: only the learning-curve" in str(floor)
    verdict = fe.check(_log_at([floor.upper, 0.05, 0.05]), floor)
    assert any(c.startswith("only the learning-curve") for c in verdict.caveats)
    # Where nothing counts, the old wording.
    none = fe.combine_rates(
        [fe.MethodResult("matches", 1.0, 0.1, 2.0, detail={"kasw": {"value": 0.9}})], bound=1.0
    )
    assert fe.rate._estimators.uninformed_why(none).startswith("no rate estimator")


def test_real_text_gets_a_floor_that_catches_a_collapse_and_not_an_honest_model() -> None:
    # Real text: this repository's docs as bytes (~180 kB of English prose and tables).
    # Every estimator is too wide here (non-stationary text), so without rule 7 the floor was
    # [0, upper end] and no loss, however low, was called memorization.
    docs = sorted((Path(__file__).resolve().parents[1] / "docs").glob("*.md"))
    x = np.frombuffer(b"".join(p.read_bytes() for p in docs), dtype=np.uint8)
    floor = fe.estimate_floor(x, meta={"n_tokens": x.size, "n_bytes": x.size})
    rate = floor.rate
    assert rate is not None and not rate.informative and rate.used == ()
    kasw = rate.methods["matches"].detail["kasw"]
    anchor = min(kasw["value"] - 2 * kasw["std"], rate.upper)
    assert rate.lower == pytest.approx(anchor / 4) and floor.lower == rate.lower
    # Honest: under every credible figure for the rate of English (Shannon's 1951 lower
    # estimate 0.6 bits/char; cmix 0.83 bits/byte on Webster's).
    assert 0 < rate.interval("bits/byte")[1] < 0.6
    # A loss at the online compressor's level is not memorization; one that collapses to
    # 0.05 nats/token from epoch 2 is, from the first point of epoch 2.
    honest = fe.check(_log_at([rate.upper, rate.upper, rate.upper]), floor)
    assert honest.status != "memorization", honest.headline
    collapsed = fe.check(_log_at([rate.upper, 0.05, 0.05]), floor)
    assert collapsed.status == "memorization", collapsed.headline
    assert collapsed.sustained_from == 210
    assert any("margin floor" in c for c in collapsed.caveats)


def test_nothing_to_combine_is_nan_not_an_error() -> None:
    r = fe.combine_rates([fe.MethodResult.failed("orders", "too few orders")])
    assert math.isnan(r.point) and not r.informative
    assert "too few orders" in str(r)


def _log_at(levels: list[float], per_epoch: int = 20) -> fe.LossLog:
    """A training log: ``per_epoch`` logged points per epoch at each epoch's level (an
    approach from 2 nats above the first level in its first half), ±0.01 nats of noise."""
    rng = np.random.default_rng(1)
    n = per_epoch * len(levels)
    level = np.repeat(levels, per_epoch)
    ramp = np.clip(1 - np.arange(n) / (per_epoch / 2), 0, 1) * 2.0
    loss = level + ramp + rng.uniform(-0.01, 0.01, n)
    epoch = np.arange(1, n + 1) / per_epoch
    return fe.LossLog(step=10 * np.arange(1, n + 1), loss=loss, epoch=epoch)


@pytest.fixture(scope="module")
def hmm_floor() -> tuple[fe.Floor, float]:
    # The source: 64 hidden states, V = 2000, long memory (stickiness 0.95); its
    # rate by the forward algorithm over 4·10^5 independent tokens.
    src = fe.HiddenMarkovSource(64, 2000, stickiness=0.95, seed=1)
    truth = src.entropy_rate(tokens=400_000, block=10_000)
    floor = fe.estimate_floor(src.sample(500_000, seed=3))
    assert truth.std < 0.02
    return floor, truth.value


def test_a_log_at_the_rate_is_not_memorization_and_one_under_it_is(
    hmm_floor: tuple[fe.Floor, float],
) -> None:
    floor, h = hmm_floor
    assert floor.rate is not None and floor.rate.informative
    assert floor.lower <= h <= floor.upper, (floor.lower, h, floor.upper)
    honest = fe.check(_log_at([h + 0.05, h + 0.05, h + 0.05]), floor)
    assert honest.status != "memorization", honest.headline
    memorized = fe.check(_log_at([h + 0.05, h - 0.3, h - 0.3]), floor)
    assert memorized.status == "memorization", memorized.headline
    assert memorized.sustained_from == 210  # the first point of epoch 2


def test_the_same_checks_on_the_16_state_source() -> None:
    # 16 hidden states, V = 256, stickiness 0.9: KASW's lower end is 0.3 under the rate here
    # (docs/rate.md), so a loss 0.3 under the rate was "inconclusive" until the slope could
    # set the lower end (rule 4 of rate/combine.rs); 10^6 tokens, as in the bench.
    src = fe.HiddenMarkovSource(16, 256, stickiness=0.9, seed=1)
    truth = src.entropy_rate(tokens=400_000, block=10_000)
    assert truth.std < 0.02
    h = truth.value
    floor = fe.estimate_floor(src.sample(1_000_000, seed=3))
    assert floor.rate is not None and floor.rate.informative
    assert "slope alone" in floor.rate.methods["matches"].detail.get("interval", "")
    assert floor.lower <= h <= floor.upper, (floor.lower, h, floor.upper)
    assert floor.lower > h - 0.3
    honest = fe.check(_log_at([h + 0.05, h + 0.05, h + 0.05]), floor)
    assert honest.status != "memorization", honest.headline
    memorized = fe.check(_log_at([h + 0.05, h - 0.3, h - 0.3]), floor)
    assert memorized.status == "memorization", memorized.headline
    assert memorized.sustained_from == 210  # the first point of epoch 2


def test_plot_draws_the_curve_the_fits_the_methods_and_the_band(
    hmm_floor: tuple[fe.Floor, float], tmp_path: Any
) -> None:
    pytest.importorskip("matplotlib")
    import matplotlib

    backend = matplotlib.get_backend()
    rate = hmm_floor[0].rate
    assert rate is not None
    path = tmp_path / "rate.png"
    fig = rate.plot(path)
    assert matplotlib.get_backend() == backend  # no global backend switch
    assert path.stat().st_size > 10_000
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("predictor's code length") for t in labels)
    assert any(t.startswith("fit: stretched exponential") for t in labels)
    assert any(t.startswith("matches") for t in labels)
    assert any(t.startswith(f"rate {rate.point:.3f}") for t in labels)
    assert any(t.startswith(f"bound {rate.bound:.3f}") for t in labels)
    assert ax.get_ylabel() == "nats/token" and ax.get_xscale() == "log"
    # The curve drawn is L(N)/N at the curve's points.
    line = ax.get_lines()[0]
    assert rate.curve is not None
    n = np.asarray(rate.curve["n"])
    np.testing.assert_allclose(line.get_ydata(), np.asarray(rate.curve["nats"]) / n)
    # Into given axes: that figure is returned, nothing written.
    from matplotlib.figure import Figure

    mine = Figure()
    ax2 = mine.add_subplot()
    assert rate.plot(ax=ax2) is mine and ax2.get_lines()


def test_plot_of_a_rate_without_a_curve() -> None:
    pytest.importorskip("matplotlib")
    r = fe.combine_rates([fe.MethodResult("matches", 2.0, 1.9, 2.1)], bound=2.3)
    fig = r.plot()
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert sorted(labels) == [
        "bound 2.300 (predictor's code length)",
        "matches 2.000 [1.900, 2.100]",
        "rate 2.000 [1.900, 2.300]",
    ]


def test_an_order_whose_estimators_disagree_is_not_well_sampled() -> None:
    # Counts that pass both count criteria (coverage 0.99, plug-in bias 0.02 nats).
    def at(spread: float) -> fe.OrderReport:
        values = {"grassberger": 2.0, "nsb": 2.0 + spread / 2, "pym": 2.0 + spread}
        return fe.OrderReport(
            order=3,
            n=10_000,
            distinct=500,
            singletons=100,
            contexts=100,
            conditional={m: Value(x) for m, x in values.items()},
        )

    assert at(0.0).plugin_bias == pytest.approx(0.02) and at(0.0).coverage == 0.99
    assert [at(s).regime for s in (0.0, 0.029, 0.031, 0.059, 0.061)] == [
        "reliable",
        "reliable",
        "marginal",
        "marginal",
        "unreliable",
    ]
    assert at(0.05).spread == pytest.approx(0.05)
    # Without the estimators (a report of counts alone) only the counts decide.
    bare = fe.OrderReport(order=3, n=10_000, distinct=500, singletons=100, contexts=100)
    assert bare.spread == 0.0 and bare.regime == "reliable"


def test_a_short_text_gives_a_floor_not_an_error() -> None:
    # 33 kB of real text (Python's own argparse.py, as bytes): the learning curve is still
    # falling steeply and the power law extrapolated it below zero, which made the whole
    # floor fail ("estimate 0 must be finite with lower <= point <= upper"). A fit below
    # zero is no rate; the floor is still reported, inside [0, bound].
    import argparse

    with open(argparse.__file__, "rb") as f:
        tokens = np.frombuffer(f.read()[:33_000], np.uint8)
    floor = fe.estimate_floor(tokens)
    assert floor.bound is not None
    assert 0.0 <= floor.lower <= floor.point <= floor.upper <= floor.bound + 1e-12
    curve = floor.rate.methods["curve"] if floor.rate is not None else None
    if curve is not None and curve.value is not None:
        assert curve.value >= 0.0


def test_above_256_ids_the_rate_reads_the_mixture_with_the_wide_bit_model() -> None:
    """The pairing the rate's rules were validated on (docs/rate.md: up to 2^20 ids, the
    mixture of the bit and token models), built here from the two models' own costs."""
    tokens = fe.MarkovSource(300, 1, seed=4).sample(20_000, seed=5)
    rate = fe.estimate_rate(tokens)
    a, b = (fe.prequential(tokens, model=m, per_token=True) for m in ("bits", "tokens"))
    mix = fe.mixed_code_length([a, b])
    assert rate.bound == pytest.approx(mix.nats_per_token, rel=1e-12)
    assert rate.bound != pytest.approx(b.nats_per_token, rel=1e-6)
