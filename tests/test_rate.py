"""Rate estimators on plain arrays: closed forms, brute-force match lengths, the rule."""

from __future__ import annotations

import math

import fastentropy as fe
import numpy as np
import pytest
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


def test_orders_need_four() -> None:
    r = fe.rate_from_orders([(1, 3.0, 0.01), (2, 2.5, 0.01), (3, 2.4, 0.01)])
    assert not r.ok and "at least 4" in (r.reason or "")


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
    assert r.value == pytest.approx(1 / np.mean(lam / ln_i), rel=1e-14)
    assert r.detail["gao"]["value"] == pytest.approx(np.mean(ln_i / lam), rel=1e-14)


def test_match_estimator_on_iid_data_is_biased_low_within_the_known_order() -> None:
    # Uniform over 8 symbols, h = ln 8: KASW is biased low by a relative O(1/ln n);
    # 3/ln n (~30% at n = 2e4) is a loose but honest bound; Gao lies above KASW.
    rng = np.random.default_rng(5)
    x = rng.integers(0, 8, 20_000).tolist()
    r = fe.rate_from_matches(_lpf(x))
    h = math.log(8)
    assert h * (1 - 3 / math.log(len(x))) < r.value < h
    assert r.detail["gao"]["value"] >= r.value
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


def test_rate_round_trips_and_prints(tmp_path: object) -> None:
    src = fe.MarkovSource(8, 1, seed=1)
    tokens = src.sample(200_000, seed=2)
    rate = fe.estimate_rate(tokens)
    assert set(rate.methods) == {"curve", "orders", "matches"}
    assert all(m.ok for m in rate.methods.values()), rate.methods
    # The bound is the predictor's code length on the same tokens, and the upper end.
    code = fe.prequential(tokens)
    assert rate.bound == pytest.approx(code.nats_per_token, rel=1e-12)
    assert rate.upper == rate.bound and rate.lower <= src.entropy_rate <= rate.upper
    assert rate.curve is not None and rate.curve["n"][-1] == 200_000
    again = fe.Rate.from_json(rate.to_json())
    assert again == rate
    p, lo, up = rate.interval("bits/token")
    assert p == pytest.approx(rate.point / math.log(2))
    with pytest.raises(ValueError, match="bits/byte"):
        rate.interval("bits/byte")
    text = str(rate)
    assert "Entropy rate" in text and "matches" in text and "Prequential bound" in text
    only = fe.estimate_rate(tokens, methods=["orders"])
    assert not only.methods.keys() - {"orders"}
    with pytest.raises(ValueError, match="rate_methods must be a selection"):
        fe.estimate_rate([1, 2], methods=["bogus"])


def test_nothing_to_combine_is_nan_not_an_error() -> None:
    r = fe.combine_rates([fe.MethodResult.failed("orders", "too few orders")])
    assert math.isnan(r.point) and not r.informative
    assert "too few orders" in str(r)
