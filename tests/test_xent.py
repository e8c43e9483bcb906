"""Cross-entropy against float64 numpy (and mpmath on hard rows): every dtype, shapes, extreme
values, ignore_index, segments, streaming, threads, merge, pickling, the exp kernel, and
every bad input."""

from __future__ import annotations

import _thread
import math
import pickle
import threading
import time

import fastentropy as fe
import mpmath
import numpy as np
import pytest
from fastentropy import _core
from scipy.special import logsumexp

RNG = np.random.default_rng(20240604)
ISAS = _core.xent_isas()
TOL = 1e-6


def as_bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bits, rounding to nearest even (as ml_dtypes and torch do)."""
    b = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)


def bf16_value(bits: np.ndarray) -> np.ndarray:
    return (bits.astype(np.uint32) << 16).view(np.float32)


def typed(x32: np.ndarray, dtype: str) -> tuple[np.ndarray, dict, np.ndarray]:
    """(array passed, extra kwargs, its exact values as float64) for a float32 array."""
    if dtype == "float32":
        return x32, {}, x32.astype(np.float64)
    if dtype == "float16":
        h = x32.astype(np.float16)
        return h, {}, h.astype(np.float64)
    bits = as_bf16_bits(x32)
    return bits, {"dtype": "bfloat16"}, bf16_value(bits).astype(np.float64)


def reference(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per-row loss in float64: log1p(sum_{x<m} e^(x-m) + k - 1) + (m - x_t).

    The log1p form keeps tiny losses accurate; checked against scipy's logsumexp below.
    """
    m = x.max(axis=1, keepdims=True)
    below = np.where(x < m, np.exp(np.where(x < m, x - m, 0.0)), 0.0).sum(axis=1)
    k = (x == m).sum(axis=1)
    xt = x[np.arange(len(t)), t]
    return np.log1p(below + (k - 1)) + (m[:, 0] - xt)


def rel_err(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300)))


def test_reference_agrees_with_logsumexp():
    x = RNG.normal(size=(50, 300)) * 3
    t = RNG.integers(0, 300, 50)
    plain = logsumexp(x, axis=1) - x[np.arange(50), t]
    assert rel_err(reference(x, t), plain) < 1e-12


# Vocab sizes 2..128k; large vocabularies with few rows to keep the suite fast.
SHAPES = [(200, 2), (100, 3), (50, 1000), (8, 32000), (3, 128256)]


@pytest.mark.parametrize("dtype", ["float32", "float16", "bfloat16"])
@pytest.mark.parametrize("scale", [1.0, 20.0, 1e4])
def test_matches_float64_reference(dtype, scale):
    worst = 0.0
    for rows, vocab in SHAPES:
        x32 = (RNG.standard_normal((rows, vocab)) * scale).astype(np.float32)
        if dtype == "float16":
            x32 = np.clip(x32, -6e4, 6e4)
        t = RNG.integers(0, vocab, rows)
        arr, kw, x64 = typed(x32, dtype)
        want = reference(x64, t)
        for isa in ISAS:
            got = _core.xent_tokens(
                arr.reshape(rows, vocab).view(np.float32 if dtype == "float32" else np.uint16),
                t,
                dtype=dtype,
                isa=isa,
            )
            worst = max(worst, rel_err(got, want))
        assert rel_err(fe.cross_entropy(arr, t, reduction="none", **kw), want) <= TOL
    assert worst <= TOL, f"{dtype} scale {scale}: max relative error {worst:.2e}"


def hard_rows() -> list[tuple[list[float], int]]:
    ninf = -np.inf
    return [
        ([0.0, -20.3456789], 0),  # confident and right: loss ~1e-9
        ([20.123457, 0.1234567], 0),  # x - max would round in float32
        ([0.0, -60.0, -61.5], 0),  # margin over 41 nats
        ([0.0, -95.0], 0),  # loss below float32's normal range
        ([1e4, -1e4, 1e4 - 3.0], 2),
        ([-1e4, 1e4, 0.0], 0),  # loss 2e4
        ([5.0, 5.0, 5.0], 1),  # ties: ln 3
        ([ninf, 1.0, ninf, 2.0], 1),  # -inf: probability 0
        ([3e6, 3e6 - 1.0, -3e6], 1),  # beyond the fast path's range
        ([3e38, -3e38], 0),
    ]


def mp_loss(row: list[float], t: int) -> float:
    with mpmath.workdps(50):
        vals = [mpmath.mpf(float(np.float32(v))) for v in row if v != -np.inf]
        return float(
            mpmath.log(mpmath.fsum(mpmath.exp(v) for v in vals)) - float(np.float32(row[t]))
        )


@pytest.mark.parametrize("isa", ISAS)
def test_hard_rows_against_mpmath(isa):
    for row, t in hard_rows():
        for reps in (1, 3000):  # long rows span several blocks
            x = np.tile(np.array(row, dtype=np.float32), reps)[None, :]
            got = _core.xent_tokens(x, np.array([t]), dtype="float32", isa=isa)[0]
            want = mp_loss(list(x[0]), t) if reps == 1 else reference(x.astype(np.float64), [t])[0]
            assert abs(got - want) <= TOL * abs(want) or got == want, (row, reps, got, want)


def test_one_huge_logit_every_dtype():
    x = RNG.standard_normal((20, 5000)).astype(np.float32)
    x[:, 17] = 40.0
    t = np.where(np.arange(20) % 2 == 0, 17, 3)
    for dtype in ("float32", "float16", "bfloat16"):
        arr, kw, x64 = typed(x, dtype)
        got = fe.cross_entropy(arr, t, reduction="none", **kw)
        assert rel_err(got, reference(x64, t)) <= TOL


def test_ml_dtypes_bfloat16():
    import ml_dtypes

    x = RNG.standard_normal((10, 300)).astype(np.float32)
    t = RNG.integers(0, 300, 10)
    b = x.astype(ml_dtypes.bfloat16)
    assert np.array_equal(b.view(np.uint16), as_bf16_bits(x))
    got = fe.cross_entropy(b, t, reduction="none")
    assert rel_err(got, reference(b.astype(np.float64), t)) <= TOL
    assert fe.cross_entropy(b, t) == fe.cross_entropy(b.view(np.uint16), t, dtype="bfloat16")


def test_reductions_units_and_ignore_index():
    x = RNG.standard_normal((40, 50)).astype(np.float32)
    t = RNG.integers(0, 50, 40)
    t[::7] = -100
    per = reference(x.astype(np.float64), np.where(t < 0, 0, t))
    per[t < 0] = 0.0
    none = fe.cross_entropy(x, t, reduction="none")
    assert none[t < 0].tolist() == [0.0] * int((t < 0).sum())
    assert rel_err(none, per) <= TOL
    assert fe.cross_entropy(x, t, reduction="sum") == pytest.approx(per.sum(), rel=TOL)
    mean = fe.cross_entropy(x, t)
    assert mean == pytest.approx(per.sum() / (t >= 0).sum(), rel=TOL)
    assert fe.cross_entropy(x, t, unit="bits") == pytest.approx(mean / math.log(2), rel=1e-15)
    bits = fe.cross_entropy(x, t, reduction="none", unit="bits")
    assert np.allclose(bits, none / math.log(2), rtol=1e-15)
    t2 = np.where(t < 0, 7, t)
    t2[0] = 9
    assert fe.cross_entropy(x, t2, ignore_index=9) == pytest.approx(
        np.delete(reference(x.astype(np.float64), t2), 0).mean(), rel=TOL
    )
    with pytest.raises(ValueError, match=r"targets\[0\] = -100 is negative"):
        fe.cross_entropy(x, t, ignore_index=None)
    with pytest.raises(ValueError, match="every target is ignore_index"):
        fe.cross_entropy(x, np.full(40, -100))
    assert fe.cross_entropy(x, np.full(40, -100), reduction="sum") == 0.0


def test_three_d_logits_are_flattened():
    x = RNG.standard_normal((3, 5, 40)).astype(np.float16)
    t = RNG.integers(0, 40, (3, 5))
    none = fe.cross_entropy(x, t, reduction="none")
    assert none.shape == (3, 5)
    flat = fe.cross_entropy(x.reshape(15, 40), t.reshape(15), reduction="none")
    assert np.array_equal(none.reshape(15), flat)
    with pytest.raises(ValueError, match="targets has shape"):
        fe.cross_entropy(x, t.reshape(15))


def test_strided_and_foreign_endian_inputs():
    x = RNG.standard_normal((30, 64)).astype(np.float32)
    t = RNG.integers(0, 32, 30)
    want = fe.cross_entropy(np.ascontiguousarray(x[:, :32]), t, reduction="none")
    assert np.array_equal(fe.cross_entropy(x[:, :32], t, reduction="none"), want)
    swapped = x[:, :32].astype(">f4")
    assert np.array_equal(fe.cross_entropy(swapped, t.astype(">i8"), reduction="none"), want)
    assert np.array_equal(fe.cross_entropy(x[::2, :32], t[::2], reduction="none"), want[::2])


@pytest.mark.parametrize("tdtype", [np.uint8, np.uint16, np.int32, np.uint32, np.int64])
def test_target_dtypes(tdtype):
    x = RNG.standard_normal((20, 200)).astype(np.float32)
    t = RNG.integers(0, 200, 20)
    assert fe.cross_entropy(x, t.astype(tdtype)) == fe.cross_entropy(x, t)


def test_threads_do_not_change_a_bit():
    x = RNG.standard_normal((600, 3000)).astype(np.float32)
    t = RNG.integers(0, 3000, 600)
    base_none = fe.cross_entropy(x, t, reduction="none", threads=1)
    base_sum = fe.cross_entropy(x, t, reduction="sum", threads=1)
    for threads in (2, 3, None):
        assert np.array_equal(fe.cross_entropy(x, t, reduction="none", threads=threads), base_none)
        assert fe.cross_entropy(x, t, reduction="sum", threads=threads) == base_sum


def test_streaming_memmap_in_chunks_equals_one_shot(tmp_path):
    x = RNG.standard_normal((1000, 700)).astype(np.float16)
    t = RNG.integers(0, 700, 1000)
    t[::13] = -100
    seg = np.repeat(np.arange(10), 100)
    np.save(tmp_path / "logits.npy", x)
    mm = np.load(tmp_path / "logits.npy", mmap_mode="r")
    one = fe.CrossEntropy()
    one.update(x, t, segments=seg)
    acc = fe.CrossEntropy()
    for lo, hi in [(0, 1), (1, 333), (333, 334), (334, 1000)]:
        acc.update(mm[lo:hi], t[lo:hi], segments=seg[lo:hi])
    assert (acc.count, acc.sum) == (one.count, one.sum)
    for a, b in zip(acc.per_segment(), one.per_segment(), strict=True):
        assert np.array_equal(a, b)
    assert acc.sum == fe.cross_entropy(x, t, reduction="sum")


def test_per_segment_against_numpy_groupby():
    x = RNG.standard_normal((500, 64)).astype(np.float32)
    t = RNG.integers(0, 64, 500)
    t[RNG.random(500) < 0.1] = -100
    seg = RNG.integers(-3, 4, 500)  # unsorted, negative ids too
    seg[seg == 2] = 1  # id 2 never appears
    acc = fe.CrossEntropy(unit="bits")
    acc.update(x, t, segments=seg)
    per = fe.cross_entropy(x, t, reduction="none", unit="bits")
    ids, counts, sums, means = acc.per_segment()
    used = t != -100
    want_ids = np.unique(seg[used])
    assert ids.tolist() == want_ids.tolist()
    for i, s in enumerate(want_ids):
        mask = used & (seg == s)
        assert counts[i] == mask.sum()
        assert sums[i] == pytest.approx(per[mask].sum(), rel=1e-12)
        assert means[i] == pytest.approx(per[mask].mean(), rel=1e-12)
    assert acc.per_segment().ids.dtype == np.int64


def test_merge_and_pickle_equal_one_accumulator():
    x = RNG.standard_normal((300, 100)).astype(np.float32)
    t = RNG.integers(0, 100, 300)
    seg = np.arange(300) // 50
    one = fe.CrossEntropy()
    one.update(x, t, segments=seg)
    a, b = fe.CrossEntropy(), fe.CrossEntropy()
    a.update(x[:120], t[:120], segments=seg[:120])
    b.update(x[120:], t[120:], segments=seg[120:])
    b = pickle.loads(pickle.dumps(b))
    b.merge(a)
    assert (b.count, b.sum) == (one.count, one.sum)
    assert all(
        np.array_equal(p, q) for p, q in zip(b.per_segment(), one.per_segment(), strict=True)
    )
    b.merge(b)
    assert b.count == 2 * one.count
    c = pickle.loads(pickle.dumps(one))
    assert (c.count, c.sum, c.unit) == (one.count, one.sum, "nats")
    assert "count=300" in repr(c)


def test_accumulator_figures_and_logprobs():
    acc = fe.CrossEntropy()
    lp = np.log(RNG.random(1000))
    acc.update_logprobs(lp.astype(np.float32), segments=np.arange(1000) % 3)
    acc.update_logprobs(lp)
    total = -lp.astype(np.float32).astype(np.float64).sum() - lp.sum()
    assert acc.count == 2000
    assert acc.sum == pytest.approx(total, rel=1e-14)
    assert acc.mean == pytest.approx(total / 2000, rel=1e-14)
    assert acc.perplexity == pytest.approx(math.exp(total / 2000), rel=1e-14)
    assert acc.bits_per_byte(4000) == pytest.approx(total / math.log(2) / 4000, rel=1e-14)
    assert acc.per_segment().counts.tolist() == [334, 333, 333]
    with pytest.raises(ValueError, match="no tokens"):
        _ = fe.CrossEntropy().mean
    with pytest.raises(ValueError, match="n_bytes"):
        acc.bits_per_byte(0)


def test_logprobs_of_log_softmax_match_logits():
    x = RNG.standard_normal((100, 30)).astype(np.float32)
    t = RNG.integers(0, 30, 100)
    x64 = x.astype(np.float64)
    lp = x64[np.arange(100), t] - logsumexp(x64, axis=1)
    a, b = fe.CrossEntropy(), fe.CrossEntropy()
    a.update(x, t)
    b.update_logprobs(lp)
    assert a.sum == pytest.approx(b.sum, rel=TOL)


def test_concurrent_updates_are_all_counted():
    acc = fe.CrossEntropy()
    x = RNG.standard_normal((200, 500)).astype(np.float32)
    t = RNG.integers(0, 500, 200)

    def work():
        for _ in range(10):
            acc.update(x, t, segments=np.zeros(200, dtype=np.int64))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    one = fe.CrossEntropy()
    one.update(x, t)
    assert acc.count == 40 * 200
    assert acc.sum == pytest.approx(40 * one.sum, rel=1e-15)
    assert acc.per_segment().counts.tolist() == [8000]


def test_exp_kernel_against_math_exp_over_its_whole_range():
    lo, hi = np.float32(-87.33654), np.float32(88.72283)
    # Every 211th float32 bit pattern of each sign, within [lo, hi].
    pos = np.arange(0, hi.view(np.uint32) + 1, 211, dtype=np.uint32).view(np.float32)
    neg = np.arange(0, lo.view(np.uint32) - 0x80000000 + 1, 211, dtype=np.uint32) | 0x80000000
    xs = np.concatenate([pos, neg.view(np.float32), [lo, hi, 0.0]]).astype(np.float32)
    want = np.exp(xs.astype(np.float64))
    # numpy's float64 exp is the reference; it agrees with math.exp on a sample to a few
    # float64 ulps (not to the bit: numpy's AVX-512 exp is not correctly rounded, and differs
    # by one ulp on ~2.6% of these), 10^8 times finer than the bound tested below.
    step = max(1, len(xs) // 20000)
    sample = np.array([math.exp(v) for v in xs[::step].astype(float)])
    assert rel_err(want[::step], sample) <= 4 * np.finfo(np.float64).eps
    for isa in ISAS:
        got = _core.xent_exp(xs, isa=isa).astype(np.float64)
        assert rel_err(got, want) < 2e-7, isa
        edge = _core.xent_exp(
            np.array([np.nextafter(lo, -np.inf), 88.72284, -np.inf, np.nan], dtype=np.float32),
            isa=isa,
        )
        assert edge[0] == 0.0 and edge[1] == np.inf and edge[2] == 0.0 and np.isnan(edge[3])


def test_ctrl_c_stops_a_long_call():
    # 2 GB of zero pages: read-only access maps the shared zero page, so no RAM is used.
    x = np.zeros((1 << 17, 4096), dtype=np.float32)
    t = np.zeros(1 << 17, dtype=np.int64)
    timer = threading.Timer(0.05, _thread.interrupt_main)
    returned = False
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            fe.cross_entropy(x, t, threads=1)
            returned = True
            time.sleep(10)  # the interrupt lands here if the call was too quick
    finally:
        timer.cancel()
    assert not returned, "the call finished before the interrupt: make it longer"
    assert time.perf_counter() - start < 3


def test_bad_inputs():
    x = RNG.standard_normal((4, 5)).astype(np.float32)
    t = np.array([0, 1, 2, 3])
    acc = fe.CrossEntropy()
    with pytest.raises(TypeError, match="not float64"):
        fe.cross_entropy(x.astype(np.float64), t)
    with pytest.raises(TypeError, match="not int64"):
        fe.cross_entropy(x.astype(np.int64), t)
    with pytest.raises(TypeError, match="targets must be integers"):
        fe.cross_entropy(x, t.astype(np.float64))
    with pytest.raises(TypeError, match="targets must be integers"):
        fe.cross_entropy(x, t > 1)
    with pytest.raises(TypeError, match="does not match"):
        fe.cross_entropy(x, t, dtype="bfloat16")
    with pytest.raises(ValueError, match="2-D"):
        fe.cross_entropy(x[0], t[:1])
    with pytest.raises(ValueError, match="2-D"):
        fe.cross_entropy(x.reshape(1, 1, 4, 5), t)
    with pytest.raises(ValueError, match="targets has shape"):
        fe.cross_entropy(x, t[:3])
    with pytest.raises(ValueError, match=r"targets\[2\] = 5 is out of range for 5 classes"):
        fe.cross_entropy(x, [0, 1, 5, 7])
    with pytest.raises(ValueError, match=r"targets\[1\] = -3 is negative"):
        fe.cross_entropy(x, [0, -3, 0, 0])
    bad = x.copy()
    bad[2, 4] = np.nan
    with pytest.raises(ValueError, match=r"logits\[2, 4\] is NaN"):
        fe.cross_entropy(bad, t)
    assert np.isfinite(fe.cross_entropy(bad, [0, 1, -100, 3]))  # ignored rows are not read
    bad[2, 4] = np.inf
    with pytest.raises(ValueError, match=r"logits\[2, 4\] is inf"):
        acc.update(bad, t)
    bad[2, 4] = -np.inf
    with pytest.raises(ValueError, match=r"logits\[2, 4\] = -inf is the target's logit"):
        acc.update(bad, [0, 1, 4, 0])
    assert acc.count == 0  # nothing added by failed updates
    with pytest.raises(ValueError, match="empty"):
        fe.cross_entropy(np.zeros((0, 5), np.float32), np.zeros(0, np.int64))
    with pytest.raises(ValueError, match="vocabulary size is 0"):
        fe.cross_entropy(np.zeros((2, 0), np.float32), [0, 0])
    with pytest.raises(ValueError, match="unit"):
        fe.cross_entropy(x, t, unit="bytes")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="reduction"):
        fe.cross_entropy(x, t, reduction="max")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="dtype must be"):
        fe.cross_entropy(x, t, dtype="int8")
    with pytest.raises(ValueError, match="threads"):
        fe.cross_entropy(x, t, threads=0)
    with pytest.raises(ValueError, match="segments has shape"):
        acc.update(x, t, segments=[1, 2])
    with pytest.raises(ValueError, match=r"logprobs\[1\] = 0.5"):
        acc.update_logprobs([-1.0, 0.5])
    with pytest.raises(ValueError, match=r"logprobs\[0\] = NaN"):
        acc.update_logprobs(np.array([np.nan], np.float32))
    with pytest.raises(ValueError, match=r"logprobs\[0\] = -inf"):
        acc.update_logprobs([-np.inf])
    with pytest.raises(TypeError, match="float32 or float64"):
        acc.update_logprobs([1, 2])
    with pytest.raises(TypeError, match="merge"):
        acc.merge(3)  # type: ignore[arg-type]
    assert acc.count == 0
