"""HiddenMarkovSource against brute force: path enumeration, exact block-entropy bounds."""

from __future__ import annotations

import itertools

import fastentropy as fe
import numpy as np
import pytest


def _forward_probs(a: np.ndarray, b: np.ndarray, start: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """P(y_1..n) for every row of ys at once, by the plain (unscaled) forward recursion."""
    alpha = start[None, :] * b[:, ys[:, 0]].T
    for t in range(1, ys.shape[1]):
        alpha = (alpha @ a) * b[:, ys[:, t]].T
    return np.asarray(alpha.sum(axis=1))


def _entropy(p: np.ndarray) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


def test_log_likelihood_is_the_sum_over_hidden_paths() -> None:
    src = fe.HiddenMarkovSource(3, 4, stickiness=0.6, seed=5)
    a, b, pi = src.transitions(), src.emissions(), src.stationary()
    tokens = src.sample(6, seed=1)
    total = 0.0
    for path in itertools.product(range(3), repeat=6):
        p = pi[path[0]] * b[path[0], tokens[0]]
        for t in range(1, 6):
            p *= a[path[t - 1], path[t]] * b[path[t], tokens[t]]
        total += p
    assert src.log_likelihood(tokens) == pytest.approx(np.log(total), rel=1e-12)


def test_rate_lies_between_the_exact_cover_thomas_bounds() -> None:
    # H(Y_n | Y^(n-1), S_1) <= h <= H(Y_n | Y^(n-1)) (Cover & Thomas, Thm 4.5.1), both
    # computed exactly by enumerating every sequence of length n.
    src = fe.HiddenMarkovSource(2, 3, stickiness=0.5, exponents=(0.5, 2.0), seed=3)
    a, b, pi = src.transitions(), src.emissions(), src.stationary()
    n = 9
    seqs = {m: np.array(list(itertools.product(range(3), repeat=m))) for m in (n - 1, n)}

    def block(m: int, start: np.ndarray) -> float:
        return _entropy(_forward_probs(a, b, start, seqs[m]))

    upper = block(n, pi) - block(n - 1, pi)
    lower = sum(pi[s] * (block(n, np.eye(2)[s]) - block(n - 1, np.eye(2)[s])) for s in range(2))
    assert lower < upper < lower + 0.01  # tight enough to be a sharp check
    rate = src.entropy_rate(tokens=800_000, block=5_000, seed=2)
    assert lower - 4 * rate.std <= rate.value <= upper + 4 * rate.std
    assert rate.std < 0.005


def test_identity_emissions_give_the_chain_rate_in_closed_form() -> None:
    a = np.array([[0.8, 0.15, 0.05], [0.1, 0.6, 0.3], [0.25, 0.25, 0.5]])
    src = fe.HiddenMarkovSource.from_matrices(a, np.eye(3))
    pi = src.stationary()
    np.testing.assert_allclose(pi @ a, pi, atol=1e-14)
    exact = sum(pi[i] * _entropy(a[i]) for i in range(3))
    rate = src.entropy_rate(tokens=480_000, block=5_000)
    assert abs(rate.value - exact) < 4 * rate.std
    assert rate.tokens == 8 * (60_000 // 5_000 - 1) * 5_000


def test_one_state_rate_is_the_emission_entropy() -> None:
    src = fe.HiddenMarkovSource(1, 30, stickiness=0.0, seed=2)
    exact = _entropy(src.emissions()[0])
    rate = src.entropy_rate(tokens=480_000, block=5_000)
    assert abs(rate.value - exact) < 4 * rate.std


def test_rate_is_the_same_on_any_thread_count_and_remembered() -> None:
    src = fe.HiddenMarkovSource(8, 40, seed=1)
    one = src.entropy_rate(tokens=96_000, block=4_000, threads=1)
    src2 = fe.HiddenMarkovSource(8, 40, seed=1)
    assert src2.entropy_rate(tokens=96_000, block=4_000, threads=2) == one
    assert src.entropy_rate(tokens=96_000, block=4_000) is one


def test_samples_follow_the_emissions_and_are_reproducible() -> None:
    src = fe.HiddenMarkovSource(3, 5, stickiness=0.9, seed=4)
    x = src.sample(300_000, seed=3)
    assert x.dtype == np.uint16 and len(x) == 300_000
    np.testing.assert_array_equal(x, src.sample(300_000, seed=3))
    # Token frequencies approach π B (the chain is sticky: allow a wide margin).
    freq = np.bincount(x, minlength=5) / len(x)
    np.testing.assert_allclose(freq, src.stationary() @ src.emissions(), atol=0.02)
    seen = []
    src.sample(10, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (10, 10)


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="stickiness"):
        fe.HiddenMarkovSource(3, 10, stickiness=1.0)
    with pytest.raises(ValueError, match="states"):
        fe.HiddenMarkovSource(0, 10)
    with pytest.raises(ValueError, match="exceeds"):
        fe.HiddenMarkovSource(5000, 5000)
    with pytest.raises(ValueError, match="probability vector"):
        fe.HiddenMarkovSource.from_matrices([[0.5, 0.6], [0.5, 0.5]], np.eye(2))
    with pytest.raises(ValueError, match="S x S"):
        fe.HiddenMarkovSource.from_matrices(np.eye(3), np.eye(2))
    src = fe.HiddenMarkovSource(2, 10)
    with pytest.raises(ValueError, match="out of range"):
        src.log_likelihood([1, 10])
    with pytest.raises(ValueError, match="at least 3 blocks"):
        src.entropy_rate(tokens=1000, block=1000)
    with pytest.raises(TypeError):
        src.sample(1.5)  # type: ignore[arg-type]
