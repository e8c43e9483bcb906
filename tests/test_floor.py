"""The floor report: conditional entropies against brute force, known sources, units, JSON."""

from __future__ import annotations

import math
from collections import Counter
from types import SimpleNamespace

import fastentropy as fe
import numpy as np
import pytest
from fastentropy._floor.estimate import context_mask
from hypothesis import given, settings
from hypothesis import strategies as st

LN2 = math.log(2.0)


def plugin(counter: Counter[tuple[int, ...]]) -> float:
    n = sum(counter.values())
    return -sum(c / n * math.log(c / n) for c in counter.values())


def brute_windows(tokens, n, separator=None, mask=None):
    """Counted n-grams: no separator inside, last token masked in."""
    grams: Counter[tuple[int, ...]] = Counter()
    for i in range(len(tokens) - n + 1):
        w = tuple(int(t) for t in tokens[i : i + n])
        if separator is not None and separator in w:
            continue
        if mask is not None and not mask[i + n - 1]:
            continue
        grams[w] += 1
    return grams


# --- conditional entropies against brute force ------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    tokens=st.lists(st.integers(0, 4), min_size=0, max_size=60),
    use_sep=st.booleans(),
    mask_bits=st.lists(st.booleans(), min_size=60, max_size=60),
    use_mask=st.booleans(),
)
def test_conditional_plugin_matches_brute_force(tokens, use_sep, mask_bits, use_mask):
    arr = np.array(tokens, dtype=np.uint8)
    separator = 0 if use_sep else None
    mask = np.array(mask_bits[: len(tokens)], dtype=bool) if use_mask else None
    if not any(brute_windows(arr, 1, separator, mask).values()):
        with pytest.raises(ValueError, match="no order gave an estimate"):
            fe.estimate_floor(arr, orders=[1, 2, 3], separator=separator, mask=mask)
        return
    floor = fe.estimate_floor(
        arr, orders=[1, 2, 3], methods=["plugin"], separator=separator, mask=mask
    )
    for report in floor.orders:
        n = report.order
        grams = brute_windows(arr, n, separator, mask)
        # Contexts: the (n-1)-prefixes of exactly the counted windows.
        contexts: Counter[tuple[int, ...]] = Counter()
        for g, c in grams.items():
            contexts[g[:-1]] += c
        assert report.n == sum(grams.values())
        assert report.distinct == len(grams)
        assert report.singletons == sum(1 for c in grams.values() if c == 1)
        if not grams:
            assert "plugin" in report.failed
            continue
        assert report.contexts == len(contexts)
        want = plugin(grams) - (plugin(contexts) if n > 1 else 0.0)
        assert report.conditional["plugin"].value == pytest.approx(want, abs=1e-12)
        assert report.block["plugin"].value == pytest.approx(plugin(grams), abs=1e-12)


def test_contexts_differ_from_standalone_ngrams():
    # The last bigram has no continuation, and a separator cuts another: the context
    # distribution of the counted trigrams is not the bigram distribution.
    arr = np.array([1, 2, 1, 2, 9, 1, 2, 3, 1, 2], dtype=np.uint8)
    floor = fe.estimate_floor(arr, orders=[3], methods=["plugin"], separator=9)
    grams = brute_windows(arr, 3, 9)
    contexts = Counter()
    for g, c in grams.items():
        contexts[g[:2]] += c
    standalone = brute_windows(arr, 2, 9)
    assert contexts != standalone
    want = plugin(grams) - plugin(contexts)
    assert floor.orders[0].conditional["plugin"].value == pytest.approx(want, abs=1e-12)


def test_context_mask_by_hand():
    tokens = np.array([4, 0, 5, 6, 0, 0, 7])
    mask = np.array([1, 1, 0, 1, 1, 1, 1], dtype=bool)
    got = context_mask(tokens, separator=0, mask=mask)
    # position j is on iff token j+1 exists, is not the separator and is masked in
    assert got.tolist() == [False, False, True, False, False, True, False]
    assert context_mask(tokens[:0], None, None).size == 0
    assert context_mask(tokens[:1], None, None).tolist() == [False]


# --- sources of known entropy -----------------------------------------------------------


def independent_rate(src: fe.MarkovSource) -> tuple[np.ndarray, float]:
    """Stationary distribution by an eigenvector of the full state transition matrix."""
    v, k = src.vocab_size, src.order
    rows = src.transitions()
    states = v**k
    if k == 0:
        pi = np.ones(1)
    else:
        t = np.zeros((states, states))
        for s in range(states):
            for y in range(v):
                t[s, (s * v + y) % states] += rows[s, y]
        w, vecs = np.linalg.eig(t.T)
        pi = np.real(vecs[:, np.argmin(abs(w - 1))])
        pi /= pi.sum()
    h_rows = -(rows * np.log(rows)).sum(axis=1)
    return pi, float(pi @ h_rows)


@pytest.mark.parametrize("vocab,order", [(30, 0), (6, 1), (4, 2), (3, 3)])
def test_markov_source_rate_against_eigenvector(vocab, order):
    src = fe.MarkovSource(vocab, order, seed=7)
    pi, rate = independent_rate(src)
    assert np.allclose(src.stationary(), pi, atol=1e-12)
    assert src.entropy_rate == pytest.approx(rate, rel=1e-12)
    assert np.allclose(src.transitions().sum(axis=1), 1.0, atol=1e-14)


def test_markov_conditional_entropies_by_enumeration():
    # h_1, h_2 of an order-2 chain from the stationary pair distribution, enumerated here.
    src = fe.MarkovSource(5, 2, seed=2)
    pi = src.stationary().reshape(5, 5)
    h1 = -(pi.sum(axis=1) * np.log(pi.sum(axis=1))).sum()
    h12 = -(pi * np.log(pi)).sum()
    h = src.conditional_entropies(4)
    assert h[0] == pytest.approx(h1, rel=1e-12)
    assert h[1] == pytest.approx(h12 - h1, rel=1e-12)
    assert h[2] == h[3] == src.entropy_rate
    assert h[0] > h[1] > h[2]


@pytest.mark.parametrize(
    "vocab,order,n_tokens",
    [(200, 0, 200_000), (30, 1, 400_000), (12, 2, 600_000)],
    ids=["iid", "order1", "order2"],
)
def test_floor_interval_covers_known_rate(vocab, order, n_tokens):
    covered = 0
    seeds = range(8)
    for seed in seeds:
        src = fe.MarkovSource(vocab, order, seed=seed)
        floor = fe.estimate_floor(src.sample(n_tokens, seed=100 + seed), orders=range(1, 6))
        # Read at or past order k + 1, where h_n is the rate.
        assert floor.order >= order + 1
        # The h_n part: from order k + 1 on h_n is the rate, so its interval covers it.
        covered += floor.ngram_lower <= src.entropy_rate <= floor.ngram_upper
        # Never far from the truth: docs/floor.md bounds the errors by regime.
        regime = floor.orders[floor.order - 1].regime
        error = abs(floor.ngram_point - src.entropy_rate)
        assert error < (0.05 if floor.reliable else 0.3), regime
        # The rate's interval covers it too, and never reaches above the predictor's bound.
        assert floor.lower <= src.entropy_rate <= floor.upper <= floor.bound
    assert covered >= 7, f"the interval covered the true rate in {covered}/8 seeds"


def test_plugin_falls_below_the_rate_when_undersampled():
    src = fe.MarkovSource(40, 1, seed=3)
    floor = fe.estimate_floor(src.sample(100_000, seed=1), orders=range(1, 5))
    top = floor.orders[-1]
    assert top.regime == "unreliable"
    assert top.conditional["plugin"].value < src.entropy_rate - 0.5
    assert floor.order < top.order


def test_unreliable_when_nothing_is_well_sampled():
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 60_000, 2_000, dtype=np.uint32)
    floor = fe.estimate_floor(tokens, orders=[1, 2])
    assert not floor.reliable
    assert floor.orders[0].regime == "unreliable"
    assert any("not to be trusted" in n for n in floor.notes)
    assert "NOT well sampled" in str(floor)


def test_regime_thresholds():
    def report(singletons, contexts=43):
        return fe.OrderReport(order=2, n=100, distinct=49, singletons=singletons, contexts=contexts)

    # bias = (49 - contexts) / 200: 0.03 at 43 contexts, 0.10 at 29, 0.105 at 28
    assert report(10).regime == "reliable"  # coverage 0.90, bias 0.03
    assert report(10, contexts=42).regime == "marginal"  # bias 0.035
    assert report(11).regime == "marginal"
    assert report(20, contexts=29).regime == "marginal"  # coverage 0.80, bias 0.10
    assert report(21).regime == "unreliable"
    assert report(10, contexts=28).regime == "unreliable"
    assert report(10).coincidences == 51
    assert report(10).plugin_bias == pytest.approx(0.03)


# --- token files, meta, units -------------------------------------------------------------


def test_token_file_brings_separator_mask_and_meta():
    tokens = np.array([1, 2, 3, 9, 1, 2, 3, 9, 1, 2, 4, 9] * 50, dtype=np.uint16)
    mask = np.tile(np.array([0, 1, 1, 0], dtype=bool), 150)
    tf = SimpleNamespace(
        tokens=lambda: tokens,
        mask=lambda: mask,
        separator=9,
        n_tokens=tokens.size,
        n_bytes=3 * tokens.size,
        n_chars=2 * tokens.size,
        vocab_size=10,
        tokenizer={"name": "test", "hash": "abc"},
    )
    floor = fe.estimate_floor(tf, orders=[1, 2], methods=["plugin"])
    direct = fe.estimate_floor(tokens, orders=[1, 2], methods=["plugin"], separator=9, mask=mask)
    assert floor.orders == direct.orders
    assert floor.masked and floor.bytes_per_token == 3.0 and floor.chars_per_token == 2.0
    assert floor.vocab_size == 10 and floor.tokenizer == {"name": "test", "hash": "abc"}


def test_sidecar_mapping_counts_bytes_per_text_token(tmp_path):
    (tmp_path / "a.txt").write_text("héllo\nwörld, ok\n", encoding="utf-8")
    tf = fe.tokenize(tmp_path / "a.txt", "bytes", tmp_path / "c", doc="line")
    floor = fe.estimate_floor(tf.tokens(), orders=[1], meta=tf.metadata, separator=tf.separator)
    # 2 documents: 5 + 9 characters, 6 + 10 bytes, 16 byte tokens (separators excluded)
    assert floor.bytes_per_token == 1.0 == tf.bytes_per_token
    assert floor.chars_per_token == pytest.approx(14 / 16) == tf.chars_per_token


def test_unit_conversions_by_hand():
    f = fe.Floor.from_summary(2.0, 1.5, 2.5, bytes_per_token=4.0, chars_per_token=3.5)
    assert f.interval() == (2.0, 1.5, 2.5)
    assert f.interval("bits/token")[0] == pytest.approx(2.0 / 0.6931471805599453)
    assert f.interval("bits/byte")[1] == pytest.approx(1.5 / 0.6931471805599453 / 4.0)
    assert f.interval("bits/char")[2] == pytest.approx(2.5 / 0.6931471805599453 / 3.5)
    bare = fe.Floor.from_summary(2.0, 1.5, 2.5)
    with pytest.raises(ValueError, match="bytes of text per token"):
        bare.interval("bits/byte")
    with pytest.raises(ValueError, match="unit must be one of"):
        f.interval("nats/byte")


def test_references_converted_through_chars_per_token():
    f = fe.Floor.from_summary(2.0, 1.5, 2.5, chars_per_token=4.0)
    text = str(f)
    # Shannon's 0.6-1.3 bits/char at 4 chars/token: 0.6*4*ln2 = 1.66, 1.3*4*ln2 = 3.60.
    assert "1.66-3.60 nats/token" in text
    assert "Shannon (1951)" in text and "Cover & King (1978)" in text
    assert "Brown et al. (1992)" in text
    # 2.62 bits/char * 4 chars/token = 10.5 bits = 7.3 nats per token.
    assert "10.5 bits = 7.3 nats per token" in text


def test_from_summary_rejects_bad_intervals():
    with pytest.raises(ValueError, match="lower <= point <= upper"):
        fe.Floor.from_summary(2.0, 2.1, 2.5)
    with pytest.raises(ValueError, match="lower <= point <= upper"):
        fe.Floor.from_summary(math.nan, 1.0, 2.0)
    with pytest.raises(ValueError, match="bytes_per_token"):
        fe.Floor.from_summary(2.0, 1.0, 3.0, bytes_per_token=0.0)


# --- JSON ---------------------------------------------------------------------------------


def test_json_round_trip(tmp_path):
    src = fe.MarkovSource(8, 1, seed=4)
    floor = fe.estimate_floor(
        src.sample(50_000, seed=0), orders=[1, 2, 3], meta={"n_tokens": 50_000, "n_bytes": 1e5}
    )
    assert fe.Floor.from_json(floor.to_json()) == floor
    path = tmp_path / "floor.json"
    floor.to_json(path)
    again = fe.Floor.from_json(path)
    assert again == floor
    assert again.interval("bits/byte") == floor.interval("bits/byte")


def test_json_errors(tmp_path):
    with pytest.raises(ValueError, match="not a floor's JSON"):
        fe.Floor.from_json('{"point": 1}')
    with pytest.raises(ValueError, match="not a floor's JSON"):
        fe.Floor.from_json("{not json")
    with pytest.raises(FileNotFoundError):
        fe.Floor.from_json(tmp_path / "missing.json")
    bad = fe.Floor.from_summary(1.0, 0.5, 1.5).to_json().replace('"point"', '"pt"')
    with pytest.raises(ValueError, match="missing or malformed"):
        fe.Floor.from_json(bad)


# --- arguments and plot ------------------------------------------------------------------


def test_bad_arguments():
    tokens = np.arange(100, dtype=np.uint16) % 7
    with pytest.raises(ValueError, match="methods must be"):
        fe.estimate_floor(tokens, methods=["nope"])
    with pytest.raises(ValueError, match="methods must be"):
        fe.estimate_floor(tokens, methods=["dirichlet"])
    with pytest.raises(TypeError, match="not a single string"):
        fe.estimate_floor(tokens, methods="nsb")
    with pytest.raises(ValueError, match="orders must be"):
        fe.estimate_floor(tokens, orders=[0, 1])
    with pytest.raises(TypeError, match="orders must be an int"):
        fe.estimate_floor(tokens, orders=[2.5])
    with pytest.raises(ValueError, match="at least one order"):
        fe.estimate_floor(tokens, orders=[])
    with pytest.raises(TypeError, match="integers"):
        fe.estimate_floor(np.ones(10, dtype=np.float32))
    with pytest.raises(ValueError, match="no order gave an estimate"):
        fe.estimate_floor(np.zeros(0, dtype=np.uint8))


def test_default_orders_stop_where_sampling_ends():
    # Every token distinct: nothing is sampled, and every n-gram is unique from order 1.
    tokens = (np.arange(5_000, dtype=np.uint32) * 7919) % 100_000
    floor = fe.estimate_floor(tokens, methods=["plugin"])
    assert [r.order for r in floor.orders] == [1]
    assert any("every n-gram is unique from order 1" in n for n in floor.notes)
    # A Markov source: two orders past the last one sampled at least marginally.
    src = fe.MarkovSource(6, 1, seed=2)
    floor = fe.estimate_floor(src.sample(50_000, seed=3), methods=["plugin"])
    sampled = [r.order for r in floor.orders if r.regime != "unreliable"]
    assert [r.order for r in floor.orders] == list(range(1, max(sampled) + 3))
    assert all(r.regime == "unreliable" for r in floor.orders[max(sampled) :])


def test_counter_serves_when_the_index_does_not_fit(monkeypatch):
    def no_room(*args, **kwargs):
        raise MemoryError("memory_limit = 1 bytes is too small")

    monkeypatch.setattr(fe.SuffixIndex, "build", no_room)
    tokens = (np.arange(5_000, dtype=np.uint32) * 7919) % 100_000
    floor = fe.estimate_floor(tokens, methods=["plugin"])
    # 100,000 ids take 17 bits, +1 mask bit for the context pass: 128 // 18 = 7 >= 6.
    assert [r.order for r in floor.orders] == [1, 2, 3, 4, 5, 6]
    assert any("does not fit the memory limit" in n for n in floor.notes)
    assert floor.rate is not None and not floor.rate.methods["matches"].ok
    wide = np.array([0, 2**32 - 1] * 10, dtype=np.uint32)
    floor = fe.estimate_floor(wide, methods=["plugin"])
    assert [r.order for r in floor.orders] == [1, 2, 3]  # 33 bits: 128 // 34 = 3
    # The predictor's tables over 2**32 ids do not fit either: said, not raised.
    assert floor.bound is None
    assert any("online predictor does not fit" in n for n in floor.notes)


def test_plot_writes_png(tmp_path):
    src = fe.MarkovSource(10, 1, seed=1)
    floor = fe.estimate_floor(
        src.sample(20_000, seed=0), orders=[1, 2, 3, 4], meta={"n_tokens": 1, "n_bytes": 3}
    )
    path = tmp_path / "floor.png"
    floor.plot(path, truth=src.entropy_rate)
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    assert (width, height) == (800, 500)
    with pytest.raises(ValueError, match="no per-order estimates"):
        fe.Floor.from_summary(1.0, 0.5, 1.5).plot(tmp_path / "x.png")
