"""N-gram counting from Python: against a brute-force Counter, every dtype and error class,
memory-mapped files, thread counts, memory limits, progress and interruption."""

from __future__ import annotations

import _thread
import json
import math
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter

import fastentropy as fe
import ngram_reference as bruteforce
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

DTYPES = [np.uint8, np.uint16, np.uint32, np.int32, np.int64]


def ref_most_common(c: Counter, k: int):
    return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


def check(tokens, order, separator=None, mask=None, **kw):
    ref = bruteforce.counts(tokens, order, separator, mask)
    c = fe.count_ngrams(tokens, order, separator=separator, mask=mask, **kw)
    assert c.order == order
    assert c.n == sum(ref.values())
    assert c.distinct == len(ref)
    assert c.profile() == bruteforce.profile(ref)
    k = min(len(ref), 50)
    ngrams, counts = c.most_common(k)
    assert ngrams.dtype == np.uint64 and counts.dtype == np.uint64
    assert ngrams.shape == (k, order) and counts.shape == (k,)
    got = [(tuple(int(x) for x in row), int(n)) for row, n in zip(ngrams, counts, strict=True)]
    assert got == ref_most_common(ref, k)
    return c


# --- against a Counter ---------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    tokens=st.lists(st.integers(0, 6), max_size=60),
    order=st.integers(1, 6),
    use_sep=st.booleans(),
    mask_seed=st.one_of(st.none(), st.integers(0, 2**32 - 1)),
)
def test_matches_counter(tokens, order, use_sep, mask_seed):
    arr = np.array(tokens, dtype=np.uint16)
    mask = None
    if mask_seed is not None:
        mask = np.random.default_rng(mask_seed).random(len(arr)) < 0.6
    check(arr, order, separator=0 if use_sep else None, mask=mask)


@settings(max_examples=40, deadline=None)
@given(
    tokens=st.lists(st.integers(0, 2**32 - 1), max_size=40),
    orders=st.lists(st.integers(1, 4), min_size=1, max_size=4),
)
def test_profiles_match_counter_wide_ids(tokens, orders):
    arr = np.array(tokens, dtype=np.uint32)
    profiles = fe.ngram_profiles(arr, orders)
    assert list(profiles) == sorted(set(orders))
    for n, p in profiles.items():
        assert p == bruteforce.profile(bruteforce.counts(tokens, n))


@pytest.mark.parametrize("dtype", DTYPES + [np.uint64, np.int8, np.int16])
def test_every_dtype(dtype):
    rng = np.random.default_rng(1)
    arr = rng.integers(0, 100, 2000).astype(dtype)
    for order in (1, 2, 3):
        check(arr, order, separator=7)
    # The top of each dtype's range is an id like any other.
    top = np.iinfo(dtype).max
    arr = np.array([top, 0, top, 0, top], dtype=dtype)
    check(arr, 2)
    check(arr, 1, separator=int(top))


ADVERSARIAL = {
    "vocab of 1": ([5] * 50, {}),
    "all tokens equal, separator at the ends": ([0, 3, 3, 3, 0], {"separator": 0}),
    "repeated separators": ([0, 0, 1, 2, 0, 0, 1, 2, 0, 0], {"separator": 0}),
    "only separators": ([9, 9, 9], {"separator": 9}),
    "ids near 2**32-1": ([2**32 - 1, 2**32 - 2, 2**32 - 1, 2**32 - 2, 0], {}),
    "separator at the top id": ([2**32 - 1, 1, 2, 2**32 - 1, 1, 2], {"separator": 2**32 - 1}),
    "empty": ([], {}),
    "one token": ([4], {}),
}


@pytest.mark.parametrize("name", list(ADVERSARIAL))
@pytest.mark.parametrize("order", [1, 2, 3, 7])
def test_adversarial(name, order):
    tokens, kw = ADVERSARIAL[name]
    check(np.array(tokens, dtype=np.uint32), order, **kw)


def test_order_longer_than_input_is_empty():
    c = check(np.arange(5, dtype=np.uint8), 6)
    assert (c.n, c.distinct, len(c.profile())) == (0, 0, 0)
    assert fe.ngram_profiles(np.arange(3, dtype=np.uint8), [2, 4])[4] == fe.Profile([], [])


@pytest.mark.parametrize("all_in", [True, False])
def test_masks_all_true_and_all_false(all_in):
    arr = np.random.default_rng(2).integers(0, 5, 500).astype(np.uint8)
    mask = np.full(len(arr), all_in)
    for order in (1, 3):
        c = check(arr, order, mask=mask)
        if all_in:
            assert c.profile() == fe.count_ngrams(arr, order).profile()
        else:
            assert c.n == 0


def test_non_contiguous_input():
    base = np.random.default_rng(3).integers(0, 20, 3001).astype(np.int64)
    view = base[::3]
    assert not view.flags.c_contiguous
    check(view, 3)
    mask = (np.arange(len(base)) % 2 == 0)[::3]
    check(view, 2, mask=mask)


def test_list_input():
    check([1, 2, 1, 2, 1], 2)
    assert fe.count_ngrams([], 2).n == 0


# --- most_common ---------------------------------------------------------------------------


def test_most_common_order_and_bounds():
    arr = np.array([3, 1, 2, 3, 1, 2, 9, 9, 9, 1, 2], dtype=np.uint16)
    c = fe.count_ngrams(arr, 2)
    ref = bruteforce.counts(arr, 2)
    for k in range(0, len(ref) + 3):
        ngrams, counts = c.most_common(k)
        got = [(tuple(int(x) for x in row), int(n)) for row, n in zip(ngrams, counts, strict=True)]
        assert got == ref_most_common(ref, k)
    assert c.most_common(0)[0].shape == (0, 2)


def test_most_common_past_the_kept_singletons():
    # 4096 singletons are kept; more rows take a second pass, as the docstring says.
    arr = np.concatenate([np.arange(10_000), [5, 6, 5, 6]]).astype(np.uint32)
    c = fe.count_ngrams(arr, 2)
    ref = bruteforce.counts(arr, 2)
    for k in (4000, c.distinct, c.distinct + 10):
        ngrams, counts = c.most_common(k)
        got = [(tuple(int(x) for x in row), int(n)) for row, n in zip(ngrams, counts, strict=True)]
        assert got == ref_most_common(ref, k)


@pytest.mark.parametrize("k, exc", [(-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_most_common_bad_k(k, exc):
    with pytest.raises(exc):
        fe.count_ngrams([1, 2, 3], 1).most_common(k)


# --- determinism, threads, memory ----------------------------------------------------------


def _corpus(n=60_000, vocab=300, seed=4):
    # Skewed (token 0 is ~6% of the text) but with no first token dominating.
    rng = np.random.default_rng(seed)
    return (rng.random(n) ** 2 * vocab).astype(np.uint32)


def test_same_profiles_for_threads_and_memory_limits():
    arr = _corpus()
    orders = range(1, 6)
    base = fe.ngram_profiles(arr, orders, separator=0, threads=1)
    assert fe.ngram_profiles(arr, orders, separator=0, threads=2) == base
    # Room for the ranks (2 bytes each) and a little over the largest first-token partition,
    # per thread: many partitions.
    tiny = 2 * len(arr) + 2 * 8 * int(np.bincount(arr).max()) + 32 * 1024
    assert fe.ngram_profiles(arr, orders, separator=0, threads=2, memory_limit=tiny) == base
    for n in (2, 5):
        assert bruteforce.profile(bruteforce.counts(arr, n, separator=0)) == base[n]
    c1 = fe.count_ngrams(arr, 3, threads=1)
    c2 = fe.count_ngrams(arr, 3, threads=2, memory_limit=tiny)
    for a, b in zip(c1.most_common(100), c2.most_common(100), strict=True):
        np.testing.assert_array_equal(a, b)


def test_concurrent_calls_from_python_threads():
    from concurrent.futures import ThreadPoolExecutor

    arr = _corpus(50_000)
    base = fe.ngram_profiles(arr, [1, 2, 3])
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda t: fe.ngram_profiles(arr, [1, 2, 3], threads=t), [1, 2] * 4))
    assert all(r == base for r in results)


def test_impossibly_small_memory_limit():
    arr = _corpus(10_000)
    with pytest.raises(MemoryError, match="would work"):
        fe.count_ngrams(arr, 3, memory_limit=1000)
    with pytest.raises(MemoryError):
        fe.ngram_profiles(arr, [2], memory_limit="1KiB")


def test_memory_limit_strings():
    from fastentropy._args import parse_size

    assert parse_size("8GB") == 8 * 10**9
    assert parse_size("512MiB") == 512 * 2**20
    assert parse_size("1.5 gib") == 3 * 2**29
    assert parse_size("100") == 100
    arr = _corpus(5000)
    base = fe.count_ngrams(arr, 2).profile()
    assert fe.count_ngrams(arr, 2, memory_limit="64MB").profile() == base
    assert fe.count_ngrams(arr, 2, memory_limit=2**26).profile() == base


# A fresh interpreter counts a skewed byte corpus (a quarter of the windows start with one
# token, so it is split by its second) three times under a limit, and prints the growth of
# its peak RSS over its RSS just before (the input resident), in bytes.
_PEAK_SCRIPT = textwrap.dedent(
    """
    import numpy as np, fastentropy as fe

    def status(key):
        with open("/proc/self/status") as f:
            line = next(x for x in f if x.startswith(key + ":"))
        return int(line.split()[1]) * 1024

    rng = np.random.default_rng(11)
    n = {n}
    t = rng.integers(97, 123, n, dtype=np.uint8)
    t[rng.integers(0, n, n // 3)] = 32
    base = fe.ngram_profiles(t[:100_000], range(1, 6))
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    before = status("VmRSS")
    for _ in range(3):
        fe.ngram_profiles(t, range(1, 6), memory_limit={limit}, threads=2)
    print(status("VmHWM") - before)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_memory_limit_bounds_peak_rss_on_skewed_text():
    n, limit = 16_000_000, 96_000_000  # ranks take 64 MB: 32 MB left for keys
    script = _PEAK_SCRIPT.format(n=n, limit=limit)
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=True
    )
    growth = int(out.stdout.split()[-1])
    # A small constant above the limit: partial huge pages, thread stacks, results.
    assert growth <= limit + 16 * 2**20, f"peak RSS grew by {growth} bytes, limit {limit}"


# --- progress and interruption -------------------------------------------------------------


def test_progress_callable():
    arr = _corpus(200_000)
    calls: list[tuple[int, int]] = []
    fe.count_ngrams(arr, 3, progress=lambda d, t: calls.append((d, t)))
    assert calls, "the progress callable was never called"
    dones = [d for d, _ in calls]
    assert dones == sorted(dones) and len(set(dones)) == len(dones)
    assert all(t == len(arr) for _, t in calls)
    assert calls[-1] == (len(arr), len(arr))


def test_progress_line_on_stderr(capsys):
    fe.ngram_profiles(_corpus(20_000), [1, 2], progress=True)
    err = capsys.readouterr().err
    assert "tokens/s" in err and err.endswith("\n")


def test_progress_callable_error_propagates():
    def boom(done, total):
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        fe.count_ngrams(_corpus(1000), 2, progress=boom)
    assert fe.count_ngrams([1, 1], 1).n == 2  # still usable


def test_ctrl_c_stops_a_long_count():
    rng = np.random.default_rng(5)
    arr = rng.integers(0, 60_000, 12_000_000, dtype=np.uint32)
    timer = threading.Timer(0.2, _thread.interrupt_main)
    returned = False
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            fe.count_ngrams(arr, 4, threads=1, memory_limit="2GB")
            returned = True
            time.sleep(10)  # the interrupt lands here if the count was too quick
    finally:
        timer.cancel()
    assert not returned, "the count finished before the interrupt: make it longer"
    assert time.perf_counter() - start < 5
    assert fe.count_ngrams([1, 2], 1).n == 2


# --- entropy -------------------------------------------------------------------------------


def test_entropy_of_counts_is_plugin_of_counter():
    arr = _corpus(5000)
    ref = bruteforce.counts(arr, 2)
    n = sum(ref.values())
    plugin = -sum(c / n * math.log(c / n) for c in ref.values())
    est = fe.entropy(fe.count_ngrams(arr, 2), "plugin")
    assert est.value == pytest.approx(plugin, rel=1e-12)
    assert est.n == n and est.distinct == len(ref)


# --- token files ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32])
def test_bin_round_trip(tmp_path, dtype):
    arr = np.random.default_rng(6).integers(0, np.iinfo(dtype).max, 5000).astype(dtype)
    path = tmp_path / "tokens.bin"
    arr.astype(np.dtype(dtype).newbyteorder("<")).tofile(path)
    tokens = fe.open_tokens(path, dtype=dtype)
    assert isinstance(tokens, np.memmap) and tokens.dtype == dtype
    np.testing.assert_array_equal(tokens, arr)
    assert fe.count_ngrams(tokens, 3).profile() == fe.count_ngrams(arr, 3).profile()


@pytest.mark.parametrize("dtype", DTYPES)
def test_npy_round_trip(tmp_path, dtype):
    arr = np.random.default_rng(7).integers(0, 100, 5000).astype(dtype)
    path = tmp_path / "tokens.npy"
    np.save(path, arr)
    tokens = fe.open_tokens(str(path))
    assert isinstance(tokens, np.memmap) and tokens.dtype == dtype
    np.testing.assert_array_equal(tokens, arr)
    assert fe.open_tokens(path, dtype=dtype).dtype == dtype
    profiles = fe.ngram_profiles(tokens, [1, 2, 3])
    assert profiles == fe.ngram_profiles(arr, [1, 2, 3])


def test_empty_files(tmp_path):
    (tmp_path / "empty.bin").write_bytes(b"")
    assert len(fe.open_tokens(tmp_path / "empty.bin", dtype="uint16")) == 0
    np.save(tmp_path / "empty.npy", np.zeros(0, dtype=np.uint16))
    tokens = fe.open_tokens(tmp_path / "empty.npy")
    assert len(tokens) == 0 and fe.count_ngrams(tokens, 2).n == 0


def test_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        fe.open_tokens(tmp_path / "missing.bin", dtype="uint16")
    with pytest.raises(FileNotFoundError):
        fe.open_tokens(tmp_path / "missing.npy")
    (tmp_path / "odd.bin").write_bytes(b"\x01\x02\x03")
    with pytest.raises(ValueError, match="3 bytes"):
        fe.open_tokens(tmp_path / "odd.bin", dtype="uint16")
    with pytest.raises(ValueError, match="dtype"):
        fe.open_tokens(tmp_path / "odd.bin")
    with pytest.raises(TypeError):
        fe.open_tokens(tmp_path / "odd.bin", dtype="float32")
    with pytest.raises(TypeError):
        fe.open_tokens(tmp_path / "odd.bin", dtype="int64")
    (tmp_path / "fake.npy").write_bytes(b"not a numpy file at all")
    with pytest.raises(ValueError, match="not a .npy"):
        fe.open_tokens(tmp_path / "fake.npy")
    (tmp_path / "short.npy").write_bytes(b"\x93NU")
    with pytest.raises(ValueError):
        fe.open_tokens(tmp_path / "short.npy")
    np.save(tmp_path / "u16.npy", np.arange(10, dtype=np.uint16))
    with pytest.raises(ValueError, match="disagrees"):
        fe.open_tokens(tmp_path / "u16.npy", dtype="uint32")
    np.save(tmp_path / "f.npy", np.zeros(4))
    with pytest.raises(TypeError):
        fe.open_tokens(tmp_path / "f.npy")
    np.save(tmp_path / "2d.npy", np.zeros((2, 2), dtype=np.uint8))
    with pytest.raises(ValueError, match="1-D"):
        fe.open_tokens(tmp_path / "2d.npy")
    with pytest.raises(OSError):
        fe.open_tokens(tmp_path, dtype="uint8")


# --- bad input -----------------------------------------------------------------------------

U8 = np.array([1, 2, 3, 4], dtype=np.uint8)

BAD = [
    ("float tokens", dict(tokens=np.array([1.0, 2.0])), TypeError),
    ("bool tokens", dict(tokens=np.array([True, False])), TypeError),
    ("2-D tokens", dict(tokens=np.zeros((2, 3), dtype=np.uint8)), ValueError),
    ("0-D tokens", dict(tokens=np.uint8(3)), ValueError),
    ("negative id", dict(tokens=np.array([1, -2, 3], dtype=np.int32)), ValueError),
    ("negative int64 id", dict(tokens=np.array([1, 2, -3], dtype=np.int64)), ValueError),
    ("order 0", dict(order=0), ValueError),
    ("order -1", dict(order=-1), ValueError),
    ("float order", dict(order=2.0), TypeError),
    ("mask of ints", dict(mask=np.ones(4, dtype=np.uint8)), TypeError),
    ("short mask", dict(mask=np.ones(3, dtype=bool)), ValueError),
    ("2-D mask", dict(mask=np.ones((4, 1), dtype=bool)), ValueError),
    ("separator above uint8", dict(separator=256), ValueError),
    ("negative separator", dict(separator=-1), ValueError),
    ("float separator", dict(separator=1.0), TypeError),
    ("threads 0", dict(threads=0), ValueError),
    ("float threads", dict(threads=1.5), TypeError),
    ("memory_limit 0", dict(memory_limit=0), ValueError),
    ("memory_limit bad unit", dict(memory_limit="8 parsecs"), ValueError),
    ("memory_limit float", dict(memory_limit=1e9), TypeError),
    ("progress not callable", dict(progress="yes"), TypeError),
]


@pytest.mark.parametrize("name, kw, exc", BAD, ids=[b[0] for b in BAD])
def test_bad_input(name, kw, exc):
    kw = {"tokens": U8, "order": 2, **kw}
    with pytest.raises(exc):
        fe.count_ngrams(**kw)
    kw["orders"] = [kw.pop("order")]
    with pytest.raises(exc):
        fe.ngram_profiles(**kw)


def test_order_too_long_to_pack():
    with pytest.raises(ValueError, match="order"):
        fe.count_ngrams(np.arange(1000, dtype=np.uint32), 20)


def test_bad_orders():
    with pytest.raises(TypeError):
        fe.ngram_profiles(U8, 3)
    with pytest.raises(ValueError):
        fe.ngram_profiles(U8, [1, 0])
    assert fe.ngram_profiles(U8, [2, 2, 1]).keys() == {1, 2}


# --- both scans of sorted keys: AVX2 lanes and the portable scalar scan ---------------------
# Without a mask, up to four tail orders (n - 1 of each order n >= 2) close their runs in
# AVX2 lanes when the CPU has them; five to seven (e.g. orders 1..6), and every call on a
# CPU without AVX2 or under FASTENTROPY_PORTABLE=1, take the scalar scan.

SCAN_ORDERS = [
    [1, 2, 3],
    [2, 3, 4, 5],
    [1, 2, 3, 4, 5, 6],
    [1, 2, 3, 4, 5, 6, 7],
    list(range(1, 9)),
]


def _scan_corpus() -> np.ndarray:
    """Random text, a long run of one token and a repeated pair: counts past the dense
    tally (1016), runs open at a bucket's end, and n-grams seen once."""
    rng = np.random.default_rng(11)
    parts = [
        rng.integers(0, 5, 3000),
        np.full(1500, 2),
        np.tile([1, 3], 900),
        rng.integers(0, 5, 500),
    ]
    return np.concatenate(parts).astype(np.uint16)


def _counter_profile(tokens, n) -> dict[int, int]:
    return dict(Counter(bruteforce.counts(tokens, n).values()))


def _as_dict(p: fe.Profile) -> dict[int, int]:
    return {int(k): int(m) for k, m in zip(p.ks, p.mks, strict=True)}


@pytest.mark.parametrize("orders", SCAN_ORDERS, ids=lambda o: f"orders{o[0]}-{o[-1]}")
def test_profiles_of_many_orders_match_counter(orders):
    tokens = _scan_corpus()
    got = fe.ngram_profiles(tokens, orders)
    assert list(got) == orders
    for n in orders:
        assert _as_dict(got[n]) == _counter_profile(tokens, n), f"order {n}"


def test_portable_scan_matches_counter():
    # A fresh interpreter: the variable is read once per process, at its first count.
    script = textwrap.dedent(
        """
        import json, sys
        import numpy as np
        import fastentropy as fe
        job = json.loads(sys.stdin.read())
        tokens = np.array(job["tokens"], dtype=np.uint16)
        out = []
        for orders in job["orders"]:
            profiles = fe.ngram_profiles(tokens, orders)
            out.append({n: [p.ks.tolist(), p.mks.tolist()] for n, p in profiles.items()})
        print(json.dumps(out))
        """
    )
    tokens = _scan_corpus()
    done = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps({"tokens": tokens.tolist(), "orders": SCAN_ORDERS}),
        capture_output=True,
        text=True,
        env={**os.environ, "FASTENTROPY_PORTABLE": "1"},
        check=True,
    )
    for orders, got in zip(SCAN_ORDERS, json.loads(done.stdout), strict=True):
        for n in orders:
            ks, mks = got[str(n)]
            assert dict(zip(ks, mks, strict=True)) == _counter_profile(tokens, n), (
                f"orders {orders}, n={n}"
            )
