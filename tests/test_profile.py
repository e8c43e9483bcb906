"""The Python boundary of ``fastentropy.Profile``: dtypes, memory layouts, errors, arithmetic.

Every expected profile is computed independently with ``np.unique`` (or written out by hand),
never by the library itself.
"""

from __future__ import annotations

import copy
import pickle

import fastentropy as fe
import numpy as np
import pytest


def U64(values) -> np.ndarray:
    return np.array(values, dtype=np.uint64)


INT_DTYPES = [
    np.uint8,
    np.uint16,
    np.uint32,
    np.uint64,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
]


# --------------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------------


def ref_pairs_from_counts(counts) -> tuple[np.ndarray, np.ndarray]:
    """(ks, mks) of a count vector, by np.unique on the non-zero counts."""
    c = np.asarray(counts)
    c = c[c != 0]
    ks, mks = np.unique(c, return_counts=True)
    return ks.astype(np.uint64), mks.astype(np.uint64)


def ref_pairs_from_samples(samples) -> tuple[np.ndarray, np.ndarray]:
    """(ks, mks) of a sample of labels: np.unique twice."""
    s = np.asarray(samples)
    if s.size == 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.uint64)
    _, counts = np.unique(s, return_counts=True)
    return ref_pairs_from_counts(counts)


def assert_profile(p: fe.Profile, ks, mks) -> None:
    ks = np.asarray(ks, dtype=np.uint64)
    mks = np.asarray(mks, dtype=np.uint64)
    assert isinstance(p, fe.Profile)
    assert p.ks.dtype == np.uint64 and p.mks.dtype == np.uint64
    assert p.ks.ndim == 1 and p.mks.ndim == 1
    np.testing.assert_array_equal(p.ks, ks)
    np.testing.assert_array_equal(p.mks, mks)
    # Totals: exact Python integers, from the expected pairs.
    n = sum(int(k) * int(m) for k, m in zip(ks, mks, strict=True))
    distinct = sum(int(m) for m in mks)
    singletons = int(mks[0]) if ks.size and int(ks[0]) == 1 else 0
    assert type(p.n) is int and p.n == n
    assert type(p.distinct) is int and p.distinct == distinct
    assert type(p.singletons) is int and p.singletons == singletons
    assert len(p) == ks.size


# --------------------------------------------------------------------------------------------
# Basic construction and invariants
# --------------------------------------------------------------------------------------------


def test_from_counts_hand_example():
    p = fe.Profile.from_counts([3, 0, 1, 3, 5000, 1, 1])
    assert_profile(p, [1, 3, 5000], [3, 2, 1])
    assert p.n == 5009 and p.distinct == 6 and p.singletons == 3


def test_from_samples_hand_example():
    p = fe.Profile.from_samples([7, 7, 7, 2, 9, -4, -4])
    assert_profile(p, [1, 2, 3], [2, 1, 1])


def test_ks_strictly_increasing_and_readonly():
    rng = np.random.default_rng(1)
    p = fe.Profile.from_counts(rng.integers(0, 3000, size=5000))
    assert np.all(np.diff(p.ks.astype(np.float64)) > 0)
    assert np.all(p.mks > 0)
    assert np.all(p.ks >= 1)
    for arr in (p.ks, p.mks):
        assert not arr.flags.writeable
        with pytest.raises(ValueError):
            arr[0] = 99
    # The arrays of the profile are not changed by an attempt through a view either.
    with pytest.raises(ValueError):
        p.ks.view()[0] = 99


def test_profile_attributes_cannot_be_rebound():
    p = fe.Profile([1], [1])
    with pytest.raises(AttributeError):
        p.ks = np.array([2], dtype=np.uint64)
    with pytest.raises(AttributeError):
        p.n = 5


def test_profile_does_not_alias_input():
    ks = np.array([3, 1], dtype=np.uint64)
    mks = np.array([1, 2], dtype=np.uint64)
    p = fe.Profile(ks, mks)
    ks[0] = 50
    mks[1] = 50
    assert_profile(p, [1, 3], [2, 1])


def test_input_arrays_are_not_modified():
    counts = np.array([5, 0, 2, 2, 0, 1], dtype=np.int32)
    before = counts.copy()
    fe.Profile.from_counts(counts)
    fe.Profile.from_samples(counts)
    np.testing.assert_array_equal(counts, before)
    assert counts.flags.writeable


# --------------------------------------------------------------------------------------------
# dtypes, layouts, byte order, lists, memory maps
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_from_counts_every_dtype(dtype):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(int(info.bits) + int(info.min < 0))
    counts = rng.integers(0, min(int(info.max), 2000) + 1, size=3000).astype(dtype)
    # the largest count the dtype can hold (for 64 bits: one whose double still fits N), twice
    big = int(info.max) if info.bits <= 32 else 2**40
    counts[:4] = [0, big, big, 1]
    p = fe.Profile.from_counts(counts)
    assert_profile(p, *ref_pairs_from_counts(counts))
    assert p.n == int(counts.astype(np.uint64).sum(dtype=np.uint64))
    assert p.distinct == int(np.count_nonzero(counts))


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_from_samples_every_dtype(dtype):
    info = np.iinfo(dtype)
    rng = np.random.default_rng(7 * int(info.bits) + int(info.min < 0))
    # Labels across the full range of the dtype, including both extremes and (for signed
    # types) negatives, with repeats.
    lo, hi = int(info.min), int(info.max)
    pool = np.unique(
        np.array(
            [lo, hi, 0, 1, lo + 1, hi - 1]
            + list(rng.integers(lo, hi, size=50, endpoint=True, dtype=dtype)),
            dtype=dtype,
        )
    )
    samples = rng.choice(pool, size=4000, p=rng.dirichlet(np.ones(pool.size))).astype(dtype)
    samples = np.concatenate([samples, np.array([lo, hi, hi], dtype=dtype)])
    p = fe.Profile.from_samples(samples)
    assert_profile(p, *ref_pairs_from_samples(samples))
    assert p.n == samples.size


@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_non_contiguous_input(dtype):
    rng = np.random.default_rng(3)
    base = rng.integers(0, 100, size=2001).astype(dtype)
    for view in (base[::2], base[1::3], base[::-1], base[::-7]):
        assert_profile(fe.Profile.from_counts(view), *ref_pairs_from_counts(view.copy()))
        assert_profile(fe.Profile.from_samples(view), *ref_pairs_from_samples(view.copy()))


def test_non_contiguous_column_of_2d_array():
    rng = np.random.default_rng(4)
    table = rng.integers(0, 30, size=(500, 3)).astype(np.int64)
    col = table[:, 1]
    assert not col.flags.c_contiguous
    assert_profile(fe.Profile.from_counts(col), *ref_pairs_from_counts(col.copy()))
    assert_profile(fe.Profile.from_samples(col), *ref_pairs_from_samples(col.copy()))


@pytest.mark.parametrize("dtype", [d for d in INT_DTYPES if np.dtype(d).itemsize > 1])
def test_big_endian_input(dtype):
    rng = np.random.default_rng(5)
    native = rng.integers(0, 120, size=1000).astype(dtype)
    native[:3] = [1, 258, 258 if np.iinfo(dtype).max >= 258 else 1]  # bytes differ by order
    big = native.astype(np.dtype(dtype).newbyteorder(">"))
    assert not big.dtype.isnative
    np.testing.assert_array_equal(big, native)
    assert_profile(fe.Profile.from_counts(big), *ref_pairs_from_counts(native))
    assert_profile(fe.Profile.from_samples(big), *ref_pairs_from_samples(native))
    # big-endian and non-contiguous at once
    view = big[::3]
    assert_profile(fe.Profile.from_counts(view), *ref_pairs_from_counts(native[::3]))
    assert_profile(fe.Profile.from_samples(view), *ref_pairs_from_samples(native[::3]))


def test_readonly_input():
    counts = np.array([4, 0, 1, 1, 9], dtype=np.uint32)
    counts.flags.writeable = False
    assert_profile(fe.Profile.from_counts(counts), [1, 4, 9], [2, 1, 1])
    assert_profile(fe.Profile.from_samples(counts), [1, 2], [3, 1])


def test_memory_mapped_npy_input(tmp_path):
    rng = np.random.default_rng(6)
    counts = rng.poisson(2.0, size=100_000).astype(np.uint16)
    path = tmp_path / "counts.npy"
    np.save(path, counts)
    mm = np.load(path, mmap_mode="r")
    assert isinstance(mm, np.memmap)
    assert_profile(fe.Profile.from_counts(mm), *ref_pairs_from_counts(counts))
    assert_profile(fe.Profile.from_samples(mm), *ref_pairs_from_samples(counts))
    assert_profile(fe.Profile.from_counts(mm[::2]), *ref_pairs_from_counts(counts[::2]))


def test_lists_and_tuples_work():
    assert_profile(fe.Profile.from_counts([2, 0, 1, 1]), [1, 2], [2, 1])
    assert_profile(fe.Profile.from_counts((2, 0, 1, 1)), [1, 2], [2, 1])
    assert_profile(fe.Profile.from_samples([-5, 3, 3, 10**12]), [1, 2], [2, 1])
    assert_profile(fe.Profile([3, 1], [1, 2]), [1, 3], [2, 1])
    assert_profile(fe.Profile((1,), (4,)), [1], [4])


def test_list_with_large_python_ints():
    # Values beyond int32 in a list: N is exact.
    p = fe.Profile.from_counts([2**40, 3, 2**33])
    assert_profile(p, [3, 2**33, 2**40], [1, 1, 1])
    assert p.n == 2**40 + 2**33 + 3


def test_list_of_uint64_range_python_ints():
    # 2**63 + 1 fits in uint64; a plain list of non-negative Python ints is valid input.
    # (np.asarray of such a list is float64 -- the library must not reject it as "floats".)
    p = fe.Profile.from_counts([2**63, 1])
    assert_profile(p, [1, 2**63], [1, 1])
    assert p.n == 2**63 + 1
    assert_profile(fe.Profile.from_samples([2**64 - 1, 0, 0]), [1, 2], [1, 1])
    assert_profile(fe.Profile([1, 2**63], [2**63 - 1, 1]), [1, 2**63], [2**63 - 1, 1])


def test_empty_inputs_give_empty_profile():
    for p in (
        fe.Profile.from_counts([]),
        fe.Profile.from_counts(np.array([], dtype=np.int32)),
        fe.Profile.from_counts([0, 0, 0]),
        fe.Profile.from_samples([]),
        fe.Profile.from_samples(np.array([], dtype=np.uint8)),
        fe.Profile([], []),
        fe.Profile([1, 2], [0, 0]),
    ):
        assert_profile(p, [], [])
        assert p.n == 0 and p.distinct == 0 and p.singletons == 0
        assert p == fe.Profile([], [])


def test_scalar_zero_dim_array_is_rejected():
    with pytest.raises(ValueError, match="1-D"):
        fe.Profile.from_counts(np.int64(5))
    with pytest.raises(ValueError, match="1-D"):
        fe.Profile.from_counts(5)


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        np.array([1.0, 2.0]),
        np.array([1.0, 2.0], dtype=np.float32),
        np.array([1.5]),
        [1.0, 2.0],
        [1, 2.5],
        np.array([1 + 0j]),
        np.array(["1", "2"]),
        np.array([1, 2], dtype=object),
    ],
    ids=["f64", "f32", "f64-frac", "list-float", "list-mixed", "complex", "str", "object"],
)
def test_non_integer_is_type_error(bad):
    with pytest.raises(TypeError):
        fe.Profile.from_counts(bad)
    with pytest.raises(TypeError):
        fe.Profile.from_samples(bad)
    with pytest.raises(TypeError):
        fe.Profile(bad, [1] * len(bad))
    with pytest.raises(TypeError):
        fe.Profile([1] * len(bad), bad)


@pytest.mark.parametrize("bad", [np.array([True, False]), [True, True, False]])
def test_bool_is_type_error(bad):
    with pytest.raises(TypeError):
        fe.Profile.from_counts(bad)
    with pytest.raises(TypeError):
        fe.Profile.from_samples(bad)
    with pytest.raises(TypeError):
        fe.Profile(bad, [1, 1, 1][: len(bad)])


@pytest.mark.parametrize("shape", [(2, 2), (1, 3), (3, 1), (2, 0, 2)])
def test_multi_dimensional_is_value_error(shape):
    arr = np.ones(shape, dtype=np.int64)
    with pytest.raises(ValueError, match="1-D"):
        fe.Profile.from_counts(arr)
    with pytest.raises(ValueError, match="1-D"):
        fe.Profile.from_samples(arr)
    with pytest.raises(ValueError):
        fe.Profile(arr, arr)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
def test_negative_count_names_index(dtype):
    counts = np.array([1, 2, -7, 4, -1], dtype=dtype)
    with pytest.raises(ValueError, match=r"counts\[2\] = -7"):
        fe.Profile.from_counts(counts)


def test_negative_count_in_list_names_index():
    with pytest.raises(ValueError, match=r"counts\[2\] = -7"):
        fe.Profile.from_counts([1, 2, -7])


def test_negative_count_index_of_non_contiguous_view():
    # The index is the position in the array the caller passed, not in a buffer.
    base = np.array([5, 0, 5, 0, -3, 0, 5], dtype=np.int32)
    with pytest.raises(ValueError, match=r"counts\[2\] = -3"):
        fe.Profile.from_counts(base[::2])


def test_negative_count_first_index_reported_in_large_array():
    counts = np.ones(1_000_000, dtype=np.int64)
    counts[700_003] = -9
    counts[300_001] = -2  # the first negative, in a different chunk of work
    for _ in range(3):  # and the same message every time
        with pytest.raises(ValueError, match=r"counts\[300001\] = -2\b"):
            fe.Profile.from_counts(counts)


def test_negative_ks_or_mks_is_value_error():
    with pytest.raises(ValueError, match=r"ks\[1\] = -2"):
        fe.Profile([1, -2], [1, 1])
    with pytest.raises(ValueError, match=r"mks\[0\] = -1"):
        fe.Profile([1, 2], [-1, 1])


def test_negative_samples_are_fine():
    assert_profile(fe.Profile.from_samples([-1, -1, -2]), [1, 2], [1, 1])


def test_k_zero_is_value_error():
    with pytest.raises(ValueError, match=r"ks\[1\] = 0"):
        fe.Profile([2, 0, 3], [1, 1, 1])
    # even with a zero multiplicity
    with pytest.raises(ValueError):
        fe.Profile([0], [0])


@pytest.mark.parametrize("ks, mks", [([1, 2], [1]), ([1], [1, 2]), ([], [1]), ([1], [])])
def test_length_mismatch_is_value_error(ks, mks):
    with pytest.raises(ValueError, match="length"):
        fe.Profile(ks, mks)


def test_overflow_of_n_is_value_error():
    big = np.array([2**63, 2**63], dtype=np.uint64)
    with pytest.raises(ValueError, match="overflow"):
        fe.Profile.from_counts(big)
    with pytest.raises(ValueError, match="overflow"):
        fe.Profile.from_counts(np.array([2**64 - 1, 1], dtype=np.uint64))
    with pytest.raises(ValueError, match="overflow"):
        fe.Profile(U64([2**63]), [2])
    with pytest.raises(ValueError, match="overflow"):
        fe.Profile(U64([2**63, 2**62, 2**62]), [1, 1, 1])
    with pytest.raises(ValueError, match="overflow"):
        fe.Profile([1, 2], U64([2**64 - 1, 2**63]))
    with pytest.raises(ValueError, match="overflow"):
        fe.Profile(U64([2**63]), [1]) + fe.Profile(U64([2**63]), [1])
    with pytest.raises(ValueError, match="overflow"):
        fe.Profile(U64([2**63]), [1]) + fe.Profile([1], U64([2**63]))


def test_n_just_below_overflow_is_exact():
    p = fe.Profile(U64([1, 2**63]), U64([2**63 - 1, 1]))
    assert p.n == 2**64 - 1
    assert p.distinct == 2**63
    q = fe.Profile.from_counts(np.array([2**64 - 2, 1], dtype=np.uint64))
    assert q.n == 2**64 - 1


# --------------------------------------------------------------------------------------------
# Explicit pairs: merging, sorting, dropping zeros
# --------------------------------------------------------------------------------------------


def test_pairs_are_sorted_merged_and_zeros_dropped():
    p = fe.Profile([5, 1, 5, 2, 7], [1, 2, 3, 0, 0])
    assert_profile(p, [1, 5], [2, 4])


def test_pairs_any_integer_dtype():
    for dk in INT_DTYPES:
        for dm in (np.uint8, np.int64):
            p = fe.Profile(np.array([3, 1, 3], dtype=dk), np.array([2, 1, 0], dtype=dm))
            assert_profile(p, [1, 3], [1, 2])


def test_pairs_merge_matches_counts_reference():
    rng = np.random.default_rng(11)
    ks = rng.integers(1, 40, size=300)
    mks = rng.integers(0, 5, size=300)
    counts = np.repeat(ks, mks)  # the count vector those pairs describe
    assert fe.Profile(ks, mks) == fe.Profile.from_counts(counts)
    assert_profile(fe.Profile(ks, mks), *ref_pairs_from_counts(counts))


# --------------------------------------------------------------------------------------------
# Equality, hashing, addition, pickling
# --------------------------------------------------------------------------------------------


def test_equality_and_hash():
    a = fe.Profile.from_counts([3, 1, 1])
    b = fe.Profile([1, 3], [2, 1])
    c = fe.Profile([1, 3], [1, 1])
    assert a == b and not (a != b)
    assert a != c
    assert hash(a) == hash(b)
    assert len({a, b, c}) == 2
    assert (a == "not a profile") is False
    assert a != [1, 3]


def test_add_disjoint_equals_concatenated_counts():
    rng = np.random.default_rng(12)
    a = rng.poisson(1.5, size=2000)
    b = rng.poisson(30.0, size=700)
    b[:5] = [5000, 5000, 10**6, 0, 1]
    pa, pb = fe.Profile.from_counts(a), fe.Profile.from_counts(b)
    total = pa + pb
    assert_profile(total, *ref_pairs_from_counts(np.concatenate([a, b])))
    assert total.n == pa.n + pb.n
    assert total.distinct == pa.distinct + pb.distinct
    assert pb + pa == total
    # the operands are unchanged
    assert_profile(pa, *ref_pairs_from_counts(a))


def test_add_empty_is_identity_and_is_associative():
    empty = fe.Profile([], [])
    p = fe.Profile.from_counts([4, 4, 1])
    q = fe.Profile.from_counts([2])
    r = fe.Profile.from_counts([1, 1, 9])
    assert p + empty == p and empty + p == p
    assert empty + empty == empty
    assert (p + q) + r == p + (q + r)
    assert sum([p, q, r], empty) == fe.Profile.from_counts([4, 4, 1, 2, 1, 1, 9])


def test_add_other_types_is_type_error():
    p = fe.Profile([1], [1])
    with pytest.raises(TypeError):
        p + 1
    with pytest.raises(TypeError):
        p + np.array([1], dtype=np.uint64)
    with pytest.raises(TypeError):
        "x" + p


@pytest.mark.parametrize(
    "p",
    [
        fe.Profile([], []),
        fe.Profile([1, 3], [2, 1]),
        "near-overflow",
        fe.Profile.from_counts(np.arange(5000)),
    ],
    ids=["empty", "small", "near-overflow", "wide"],
)
def test_pickle_and_copy_round_trip(p):
    if p == "near-overflow":
        p = fe.Profile(U64([1, 2**63]), U64([2**63 - 1, 1]))
    for proto in range(pickle.HIGHEST_PROTOCOL + 1):
        q = pickle.loads(pickle.dumps(p, protocol=proto))
        assert isinstance(q, fe.Profile)
        assert q == p and hash(q) == hash(p)
        assert_profile(q, p.ks.copy(), p.mks.copy())
        assert not q.ks.flags.writeable
    assert copy.copy(p) == p
    assert copy.deepcopy(p) == p


def test_repr_mentions_totals():
    r = repr(fe.Profile.from_counts([3, 1, 1]))
    assert "n=5" in r and "distinct=3" in r


# --------------------------------------------------------------------------------------------
# Large inputs
# --------------------------------------------------------------------------------------------


def test_large_poisson_counts_agree_with_numpy():
    rng = np.random.default_rng(2024)
    counts = rng.poisson(3.0, size=10**7).astype(np.int64)
    # some counts beyond the dense-histogram range and beyond 2**32
    idx = rng.choice(counts.size, size=200, replace=False)
    counts[idx] = rng.integers(1000, 10**6, size=200)
    counts[idx[:3]] = [2**33, 2**33, 2**40]
    p = fe.Profile.from_counts(counts)
    assert_profile(p, *ref_pairs_from_counts(counts))
    assert p.n == int(counts.sum())
    # the same counts as uint32 after dropping the huge ones
    small = counts.copy()
    small[idx[:3]] = 7
    assert_profile(fe.Profile.from_counts(small.astype(np.uint32)), *ref_pairs_from_counts(small))


def test_large_samples_agree_with_numpy():
    rng = np.random.default_rng(2025)
    samples = rng.zipf(1.3, size=2 * 10**6).astype(np.int64) * rng.choice([-1, 1], 2 * 10**6)
    p = fe.Profile.from_samples(samples)
    assert_profile(p, *ref_pairs_from_samples(samples))
    s16 = (samples % 65536).astype(np.uint16)
    assert_profile(fe.Profile.from_samples(s16), *ref_pairs_from_samples(s16))


def test_from_samples_int64_full_range():
    i64 = np.iinfo(np.int64)
    values = np.array(
        [
            i64.min,
            i64.min + 1,
            -(2**62),
            -(2**32),
            -1,
            0,
            1,
            2**32,
            2**62,
            2**62 + 1,
            i64.max - 1,
            i64.max,
        ],
        dtype=np.int64,
    )
    rng = np.random.default_rng(8)
    reps = rng.integers(1, 6, size=values.size)
    samples = rng.permutation(np.repeat(values, reps))
    p = fe.Profile.from_samples(samples)
    _, counts = np.unique(samples, return_counts=True)
    assert counts.size == values.size
    assert_profile(p, *ref_pairs_from_counts(counts))
    # -1 and i64.max, i64.min and 0 etc. are distinct labels; no wrap-around merges them
    p2 = fe.Profile.from_samples(np.array([-1, -1, i64.max, 2**63 - 1, 0, i64.min], np.int64))
    assert_profile(p2, [1, 2], [2, 2])


def test_from_samples_uint64_full_range():
    u64 = np.iinfo(np.uint64)
    samples = np.array([0, u64.max, u64.max, 2**63, 2**63 - 1, 2**63, 2**63], dtype=np.uint64)
    assert_profile(fe.Profile.from_samples(samples), [1, 2, 3], [2, 1, 1])
