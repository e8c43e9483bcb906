"""The full count table: ``NgramCounts.write`` streams every (n-gram, count) to a .npy pair
or Parquet, checked against a brute-force Counter."""

from __future__ import annotations

from collections import Counter

import fastentropy as fe
import numpy as np
import pytest


def brute(tokens, order, separator=None, mask=None) -> Counter:
    t = [int(x) for x in tokens]
    c: Counter = Counter()
    for i in range(len(t) - order + 1):
        w = tuple(t[i : i + order])
        if separator is not None and separator in w:
            continue
        if mask is not None and not mask[i + order - 1]:
            continue
        c[w] += 1
    return c


def rows_of(stem):
    ngrams = np.load(f"{stem}.ngrams.npy", mmap_mode="r")
    counts = np.load(f"{stem}.counts.npy", mmap_mode="r")
    assert ngrams.dtype == counts.dtype == np.uint64
    return [(tuple(int(x) for x in g), int(c)) for g, c in zip(ngrams, counts, strict=True)]


@pytest.mark.parametrize("order", [1, 2, 3, 5])
@pytest.mark.parametrize("min_count", [1, 2, 3])
def test_every_ngram_in_order_with_separator_and_mask(tmp_path, order, min_count):
    rng = np.random.default_rng(order * 10 + min_count)
    tokens = rng.zipf(1.3, 20_000).clip(max=3000).astype(np.uint32)
    mask = rng.random(tokens.size) < 0.8
    counts = fe.count_ngrams(tokens, order, separator=1, mask=mask, threads=2)
    rows = counts.write(tmp_path / "t", min_count=min_count)
    want = sorted((g, c) for g, c in brute(tokens, order, 1, mask).items() if c >= min_count)
    assert rows == len(want) and rows_of(tmp_path / "t") == want
    if min_count == 1:
        assert rows == counts.distinct  # singletons included, unlike what the count keeps


def test_tight_memory_limit_and_threads_give_the_same_table(tmp_path):
    tokens = np.random.default_rng(3).integers(0, 200, 60_000).astype(np.uint16)
    tokens[::3] = 7  # a hot first token, split by its second token under a tight limit
    want = sorted(brute(tokens, 4).items())
    for threads, limit in [(1, None), (2, "2MB"), (3, "1MB")]:
        try:
            counts = fe.count_ngrams(tokens, 4, memory_limit=limit, threads=threads)
            stem = tmp_path / f"t{threads}"
            assert counts.write(stem) == len(want)
        except MemoryError as e:  # the limit is checked, and the message says what works
            pytest.fail(str(e))
        assert rows_of(stem) == want


def test_parquet(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    tokens = np.array([5, 2**40, 5, 2**40, 9, 5], dtype=np.uint64)
    # Windows (5, A) twice, (A, 5), (A, 9), (9, 5): rows by n-gram.
    assert fe.count_ngrams(tokens, 2).write(tmp_path / "t.parquet") == 4
    table = pq.read_table(tmp_path / "t.parquet").to_pydict()
    assert table == {
        "token_1": [5, 9, 2**40, 2**40],
        "token_2": [2**40, 5, 5, 9],
        "count": [2, 1, 1, 1],
    }


def test_empty_table_and_bad_arguments(tmp_path):
    counts = fe.count_ngrams(np.array([1, 2], dtype=np.uint8), 3)
    assert counts.write(tmp_path / "e") == 0
    assert np.load(tmp_path / "e.ngrams.npy").shape == (0, 3)
    assert np.load(tmp_path / "e.counts.npy").shape == (0,)
    with pytest.raises(ValueError, match="min_count must be >= 1"):
        counts.write(tmp_path / "x", min_count=0)
    with pytest.raises(TypeError, match="min_count must be an int"):
        counts.write(tmp_path / "x", min_count=1.5)
