"""The two ways of summing 16-bit logits, forced through the hidden ``path16`` switch of
``_core``: the exact per-pattern table and the widening into the float32 kernel. Each against
an independent float64 numpy reference (and mpmath on short rows with the formats'
extremes), against each other, with the same errors, and bit-identical for any thread
count."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from fastentropy import _core

ISAS = _core.xent_isas()
PATHS = ("table", "widen")
TOL = 1e-6
RNG = np.random.default_rng(1623)


def bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bits by truncation (exact for the values used here)."""
    return (np.ascontiguousarray(x, dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)


def bits_and_values(x32: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """(uint16 bits, their exact float64 values) of a float32 array in a 16-bit format."""
    if dtype == "float16":
        h = x32.astype(np.float16)
        return h.view(np.uint16), h.astype(np.float64)
    b = bf16_bits(x32)
    return b, (b.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def reference(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per-row loss in float64: log1p(sum_{x<m} e^(x-m) + k - 1) + (m - x_t)."""
    m = x.max(axis=1, keepdims=True)
    below = np.where(x < m, np.exp(np.where(x < m, x - m, 0.0)), 0.0).sum(axis=1)
    k = (x == m).sum(axis=1)
    return np.log1p(below + (k - 1)) + (m[:, 0] - x[np.arange(len(t)), t])


def mp_loss(row: np.ndarray, t: int) -> float:
    """ln sum e^x - x_t in 60 digits (rows of finite or -inf values)."""
    with mpmath.workdps(60):
        vals = [mpmath.mpf(float(v)) for v in row if v != -np.inf]
        return float(mpmath.log(mpmath.fsum(mpmath.exp(v) for v in vals)) - mpmath.mpf(row[t]))


def losses(bits: np.ndarray, t: np.ndarray, dtype: str, isa: str, path: str, **kw) -> np.ndarray:
    return _core.xent_tokens(bits, t, dtype=dtype, isa=isa, path16=path, **kw)


def close(got: float, want: float) -> bool:
    return got == want or abs(got - want) <= TOL * max(abs(want), 1e-300)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("isa", ISAS)
def test_random_rows_both_paths_against_numpy(dtype, isa):
    for rows, vocab in [(40, 7), (9, 2049), (3, 50_257)]:
        for scale in (1.0, 30.0, 3000.0):
            x32 = (RNG.standard_normal((rows, vocab)) * scale).astype(np.float32)
            x32 = np.clip(x32, -6e4, 6e4)
            bits, x64 = bits_and_values(x32, dtype)
            t = RNG.integers(0, vocab, rows)
            want = reference(x64, t)
            got = {p: losses(bits, t, dtype, isa, p) for p in PATHS}
            for p in PATHS:
                err = np.abs(got[p] - want) / np.maximum(np.abs(want), 1e-300)
                assert err.max() <= TOL, (p, rows, vocab, scale, err.max())
            gap = np.abs(got["table"] - got["widen"]) / np.maximum(np.abs(want), 1e-300)
            assert gap.max() <= TOL


F16_MAX = 65504.0
F16_SUB = 2.0**-24  # smallest subnormal
F16_SUB_MAX = 1023 * 2.0**-24  # largest subnormal
EXTREME_ROWS = [
    ([F16_MAX, -F16_MAX, 0.0], 0),
    ([F16_MAX, F16_MAX - 32.0, -F16_MAX], 1),  # beyond the table's range
    ([-F16_MAX, -F16_MAX + 32.0, -F16_MAX + 64.0], 0),
    ([F16_SUB, -F16_SUB, F16_SUB_MAX, 0.0], 2),
    ([-np.inf, 1.0, -np.inf, F16_SUB], 3),  # -inf: probability 0
    ([-np.inf, F16_MAX, -F16_MAX], 2),
    ([3.0, 3.0, -np.inf, -2.0], 1),  # ties: ln 2 + ...
    ([0.0, -20.375, -60.0], 0),  # confident: loss ~1.4e-9
]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("isa", ISAS)
def test_extremes_both_paths_against_mpmath(dtype, isa):
    for row, t in EXTREME_ROWS:
        for reps in (1, 2500):  # long rows span several kernel blocks
            x32 = np.tile(np.array(row, dtype=np.float32), reps)[None, :]
            bits, x64 = bits_and_values(x32, dtype)
            if dtype == "float16":  # every value is a float16: nothing was rounded
                assert np.array_equal(x64[0, : len(row)], np.array(row))
            want = mp_loss(x64[0], t) if reps == 1 else float(reference(x64, np.array([t]))[0])
            got = [float(losses(bits, np.array([t]), dtype, isa, p)[0]) for p in PATHS]
            for p, g in zip(PATHS, got, strict=True):
                assert close(g, want), (dtype, isa, p, row, reps, g, want)
            assert got[0] == got[1] or abs(got[0] - got[1]) <= TOL * max(abs(want), 1e-300)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_errors_are_the_same_on_both_paths(path, dtype):
    cases = [
        ([1.0, np.nan, F16_MAX], 0, r"logits\[0, 1\] is NaN"),
        ([1.0, -F16_MAX, np.inf], 0, r"logits\[0, 2\] is inf"),
        ([1.0, -np.inf, F16_SUB], 1, r"logits\[0, 1\] = -inf is the target"),
    ]
    for row, t, msg in cases:
        bits, _ = bits_and_values(np.array([row], dtype=np.float32), dtype)
        for isa in ISAS:
            with pytest.raises(ValueError, match=msg):
                losses(bits, np.array([t]), dtype, isa, path)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_each_path_is_deterministic_across_threads(path, dtype):
    x32 = (RNG.standard_normal((600, 3001)) * 10).astype(np.float32)
    bits, _ = bits_and_values(x32, dtype)
    t = RNG.integers(0, 3001, 600)
    sums = [
        _core.XentSums.from_logits(bits, t, dtype=dtype, threads=n, path16=path).state()
        for n in (1, 2, 3)
    ]
    assert sums[0][:2] == sums[1][:2] == sums[2][:2]


def test_default_path_and_bad_names():
    for isa in ISAS:
        assert _core.xent_path16("float16", isa) in PATHS
        # bfloat16's table stays ahead of the widened kernel on every CPU measured.
        assert _core.xent_path16("bfloat16", isa) == "table"
    # Portable lanes widen value by value in scalar code: the table is the default there.
    assert _core.xent_path16("float16", "portable") == "table"
    with pytest.raises(ValueError, match="dtype"):
        _core.xent_path16("float32")
    bits = np.zeros((1, 4), dtype=np.uint16)
    with pytest.raises(ValueError, match="unknown 16-bit path"):
        _core.xent_tokens(bits, np.array([0]), dtype="float16", path16="fast")


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("isa", ISAS)
def test_rows_of_one_sign_and_wide_spreads(dtype, isa):
    """The widened path reads each block's largest and smallest value off integer extremes
    of the bit patterns (the order differs between negative and non-negative values) and
    skips the clamp where the smallest is within range: rows all negative (log-probabilities
    given as logits), all positive, mixed -0/+0, and blocks spread wider than the clamp's
    ~86 nats, against float64 numpy, on both paths."""
    vocab, rows = 5000, 6
    base = (RNG.standard_normal((rows, vocab)) * 3).astype(np.float32)
    logp = base - np.log(np.exp(base.astype(np.float64)).sum(axis=1, keepdims=True))
    spread = base.copy()
    spread[:, ::97] = -150.0  # below the clamp floor in every block
    zeros = np.where(RNG.random((rows, vocab)) < 0.5, -0.0, 0.0).astype(np.float32)
    zeros[:, ::5] = -1.0
    cases = {
        "all negative": logp.astype(np.float32),
        "all positive": np.abs(base) + 100.0,
        "signed zeros": zeros,
        "wide spread": spread,
        "negative, wide": np.minimum(spread, -1.0),
    }
    t = RNG.integers(0, vocab, rows)
    for name, x32 in cases.items():
        bits, x64 = bits_and_values(x32, dtype)
        want = reference(x64, t)
        for p in PATHS:
            got = losses(bits, t, dtype, isa, p)
            err = np.abs(got - want) / np.maximum(np.abs(want), 1e-300)
            assert err.max() <= TOL, (name, p, err.max())


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_negative_nan_is_found(path, dtype):
    """A NaN with its sign bit set sorts below every other pattern as a signed integer and
    above them as an unsigned one: it must still be reported, wherever it is."""
    neg_nan = 0xFE00 if dtype == "float16" else 0xFFC0
    for vocab, col in [(3, 1), (5000, 4321), (5000, 0)]:
        bits, _ = bits_and_values(np.ones((1, vocab), dtype=np.float32), dtype)
        bits[0, col] = neg_nan
        target = 1 if col == 0 else 0
        for isa in ISAS:
            with pytest.raises(ValueError, match=rf"logits\[0, {col}\] is NaN"):
                losses(bits, np.array([target]), dtype, isa, path)
