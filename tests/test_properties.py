"""Properties of profiles and estimates, checked with hypothesis on random samples.

References are numpy / closed forms; the library is only compared with itself where the
property is an invariance (permutation, units, additivity).
"""

from __future__ import annotations

import math
import warnings

import fastentropy as fe
import numpy as np
import pytest
import reference as ref
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Tests that run every method per example (pym's 2-D posterior integral is ~0.1-0.5 s): fewer.
EVERY_METHOD_SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
LN2 = math.log(2.0)

pytestmark = pytest.mark.filterwarnings("ignore:ansb is an asymptotic:RuntimeWarning")

# Count vectors: mostly small counts (many singletons, like text), sometimes large ones.
count_values = st.one_of(
    st.integers(0, 3),
    st.integers(0, 40),
    st.integers(0, 10**6),
)
counts_st = st.lists(count_values, min_size=1, max_size=60)
nonempty_counts_st = counts_st.filter(lambda c: sum(c) > 0)
INT_DTYPES = ["u1", "u2", "u4", "u8", "i1", "i2", "i4", "i8"]


def applicable(method: str, counts, k) -> bool:
    n, distinct = sum(counts), sum(1 for c in counts if c)
    if method == "dirichlet" and k is None:
        return False
    if method == "ansb":  # defaults run it only in its regime, N - distinct <= 0.1 N
        return 0 < n - distinct <= 0.1 * n
    if method in ("pym",) or (method == "nsb" and k is None):
        return n > distinct
    if method == "jackknife":
        return n >= 2
    return True


def plugin_ref(counts) -> float:
    c = np.asarray(counts, dtype=np.float64)
    c = c[c > 0]
    p = c / c.sum()
    return float(-(p * np.log(p)).sum())


def ref_pairs(counts):
    c = np.asarray(counts)
    c = c[c != 0]
    ks, mks = np.unique(c, return_counts=True)
    return ks.astype(np.uint64), mks.astype(np.uint64)


# --------------------------------------------------------------------------------------------
# Profiles
# --------------------------------------------------------------------------------------------


@SETTINGS
@given(
    counts=st.lists(st.integers(0, 30), max_size=80),
    dtype=st.sampled_from(INT_DTYPES),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_profile_from_counts_equals_profile_from_samples(counts, dtype, seed, data):
    rng = np.random.default_rng(seed)
    info = np.iinfo(dtype)
    # distinct labels for the outcomes, drawn from the whole range of the dtype
    n_labels = len(counts)
    assume(n_labels <= int(info.max) - int(info.min) + 1)
    labels = data.draw(
        st.lists(
            st.integers(int(info.min), int(info.max)),
            min_size=n_labels,
            max_size=n_labels,
            unique=True,
        )
    )
    samples = np.repeat(np.array(labels, dtype=dtype), counts)
    samples = rng.permutation(samples)
    from_samples = fe.Profile.from_samples(samples)
    from_counts = fe.Profile.from_counts(np.array(counts, dtype=np.int64))
    assert from_samples == from_counts
    ks, mks = ref_pairs(counts)
    np.testing.assert_array_equal(from_counts.ks, ks)
    np.testing.assert_array_equal(from_counts.mks, mks)
    assert from_counts.n == sum(counts)
    assert from_counts.distinct == sum(1 for c in counts if c)
    assert from_counts.singletons == counts.count(1)


@SETTINGS
@given(
    arr=hnp.arrays(
        dtype=st.sampled_from(INT_DTYPES), shape=st.integers(0, 200), elements=st.integers(0, 100)
    ),
    step=st.integers(1, 4),
    big_endian=st.booleans(),
)
def test_profile_from_counts_matches_numpy_any_layout(arr, step, big_endian):
    if big_endian:
        arr = arr.astype(arr.dtype.newbyteorder(">"))
    view = arr[::step]
    p = fe.Profile.from_counts(view)
    ks, mks = ref_pairs(np.array(view, dtype=np.int64))
    np.testing.assert_array_equal(p.ks, ks)
    np.testing.assert_array_equal(p.mks, mks)


@SETTINGS
@given(a=st.lists(st.integers(0, 50), max_size=60), b=st.lists(st.integers(0, 50), max_size=60))
def test_profiles_of_disjoint_supports_add(a, b):
    pa, pb = fe.Profile.from_counts(a), fe.Profile.from_counts(b)
    joint = fe.Profile.from_counts(a + b)
    assert pa + pb == joint
    assert pb + pa == joint
    assert (pa + pb).n == sum(a) + sum(b)
    assert (pa + pb).distinct == pa.distinct + pb.distinct
    ks, mks = ref_pairs(a + b)
    np.testing.assert_array_equal(joint.ks, ks)
    np.testing.assert_array_equal(joint.mks, mks)


@SETTINGS
@given(pairs=st.lists(st.tuples(st.integers(1, 10**6), st.integers(0, 10**6)), max_size=40))
def test_profile_from_pairs_normalises(pairs):
    ks = [k for k, _ in pairs]
    mks = [m for _, m in pairs]
    p = fe.Profile(ks, mks)
    merged: dict[int, int] = {}
    for k, m in pairs:
        if m:
            merged[k] = merged.get(k, 0) + m
    want = sorted(merged.items())
    assert [int(k) for k in p.ks] == [k for k, _ in want]
    assert [int(m) for m in p.mks] == [m for _, m in want]
    assert p.n == sum(k * m for k, m in want)
    assert p.distinct == sum(m for _, m in want)


# --------------------------------------------------------------------------------------------
# Estimates
# --------------------------------------------------------------------------------------------


@EVERY_METHOD_SETTINGS
@given(
    counts=nonempty_counts_st,
    seed=st.integers(0, 2**32 - 1),
    extra=st.one_of(st.none(), st.integers(0, 1000)),
)
def test_permutation_invariance_every_method(counts, seed, extra):
    k = None if extra is None else sum(1 for c in counts if c) + extra
    rng = np.random.default_rng(seed)
    shuffled = rng.permutation(np.array(counts + [0] * int(rng.integers(0, 5)), dtype=np.int64))
    for method in fe.METHODS:
        if not applicable(method, counts, k):
            continue
        a = fe.entropy(counts, method, alphabet_size=k)
        b = fe.entropy(shuffled, method, alphabet_size=k)
        assert a.value == b.value, method
        assert a.std == b.std, method


@EVERY_METHOD_SETTINGS
@given(counts=nonempty_counts_st, extra=st.one_of(st.none(), st.integers(0, 1000)))
def test_bits_equal_nats_over_ln2(counts, extra):
    k = None if extra is None else sum(1 for c in counts if c) + extra
    for method in fe.METHODS:
        if not applicable(method, counts, k):
            continue
        nats = fe.entropy(counts, method, alphabet_size=k, unit="nats")
        bits = fe.entropy(counts, method, alphabet_size=k, unit="bits")
        assert bits.value == pytest.approx(nats.value / LN2, rel=1e-13, abs=1e-300), method
        assert (bits.std is None) == (nats.std is None)
        if nats.std is not None:
            assert bits.std == pytest.approx(nats.std / LN2, rel=1e-13, abs=1e-300), method


def _no_std(f):
    return lambda counts, k: (float(f(counts)), None)


#: The mpmath reference of every closed-form method (value, std), as f(counts, K).
CLOSED_FORMS = {
    "plugin": _no_std(ref.plugin),
    "miller_madow": _no_std(ref.miller_madow),
    "grassberger": _no_std(ref.grassberger),
    "grassberger_lnN": _no_std(ref.grassberger_lnN),
    "chao_shen": _no_std(ref.chao_shen),
    "shrinkage": lambda counts, k: (float(ref.shrinkage(counts, k)), None),
    "jackknife": lambda counts, k: tuple(map(float, ref.jackknife(counts))),
    "ansb": lambda counts, k: tuple(map(float, ref.ansb(counts))),
}


@EVERY_METHOD_SETTINGS
@given(
    counts=nonempty_counts_st,
    extra=st.one_of(st.none(), st.integers(0, 10**4), st.sampled_from([10**9, 50000**5])),
)
@example(counts=[1], extra=1)  # N = 1: shrinkage's lambda has n - 1 = 0 in its denominator
def test_all_estimates_finite_with_nonnegative_std(counts, extra):
    k = None if extra is None else sum(1 for c in counts if c) + extra
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = fe.entropies(counts, alphabet_size=k)
    want = [m for m in fe.METHODS if applicable(m, counts, k)]
    assert list(res) == want
    for method, est in res.items():
        assert math.isfinite(est.value), method
        if est.std is not None:
            assert math.isfinite(est.std) and est.std >= 0, method
        assert est.n == sum(counts) and est.distinct == sum(1 for c in counts if c)
        # Not only finite: the closed forms equal the mpmath reference (the mixtures are
        # held to it in test_reference.py; their integrals are too slow for every example).
        # (The jackknife's reference is brute force over the N leave-one-out samples.)
        if method in CLOSED_FORMS and (method != "jackknife" or est.n <= 2000):
            value, std = CLOSED_FORMS[method](counts, k)
            assert est.value == pytest.approx(value, rel=1e-9, abs=1e-12), method
            assert est.std == (None if std is None else pytest.approx(std, rel=1e-9)), method


@SETTINGS
@given(
    counts=nonempty_counts_st,
    extra=st.one_of(
        st.integers(0, 50), st.integers(0, 10**5), st.sampled_from([10**9, 10**15, 50000**5])
    ),
)
def test_bayesian_means_within_zero_and_ln_k(counts, extra):
    k = sum(1 for c in counts if c) + extra
    assume(k >= 1)
    ln_k = math.log(k)
    for method in ("nsb", "dirichlet"):
        est = fe.entropy(counts, method, alphabet_size=k)
        assert -1e-12 <= est.value <= ln_k * (1 + 1e-12) + 1e-12, (method, est)
        assert est.std is not None and est.std <= ln_k + 1e-12


@SETTINGS
@given(counts=nonempty_counts_st)
def test_plugin_bounds_and_closed_form(counts):
    distinct = sum(1 for c in counts if c)
    plugin = fe.entropy(counts, "plugin").value
    assert plugin == pytest.approx(plugin_ref(counts), rel=1e-12, abs=1e-13)
    assert 0.0 <= plugin <= math.log(distinct) + 1e-12
    assert plugin <= math.log(sum(counts)) + 1e-12


@SETTINGS
@given(counts=nonempty_counts_st)
def test_miller_madow_at_least_plugin(counts):
    distinct = sum(1 for c in counts if c)
    n = sum(counts)
    plugin = fe.entropy(counts, "plugin").value
    mm = fe.entropy(counts, "miller_madow").value
    assert mm >= plugin
    assert mm - plugin == pytest.approx((distinct - 1) / (2 * n), rel=1e-9, abs=1e-15)


@SETTINGS
@given(counts=nonempty_counts_st)
def test_uniform_counts_give_ln_k(counts):
    # c outcomes each seen m times: the plug-in is exactly ln c
    c = max(1, len(counts))
    m = max(1, counts[0])
    est = fe.entropy([m] * c, "plugin")
    assert est.value == pytest.approx(math.log(c), rel=1e-12, abs=1e-13)
