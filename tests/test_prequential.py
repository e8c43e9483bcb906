"""fe.prequential at the boundary: normalisation summed over every id, the learning curve on a
Markov chain of known rate, TokenFile inputs, per-token output, JSON, bad input, Ctrl-C."""

from __future__ import annotations

import _thread
import math
import threading
import time

import fastentropy as fe
import numpy as np
import pytest
from fastentropy import _core


def _stream(n: int, vocab: int, seed: int) -> np.ndarray:
    """Random ids with copied stretches, so contexts of many orders recur."""
    rng = np.random.default_rng(seed)
    out: list[int] = []
    while len(out) < n:
        if len(out) > 20 and rng.random() < 0.6:
            start = int(rng.integers(0, len(out) - 10))
            out += out[start : start + int(rng.integers(1, 10))]
        else:
            out.append(int(rng.integers(0, vocab)))
    return np.array(out[:n], dtype=np.uint16)


# --- normalisation -------------------------------------------------------------------------


@pytest.mark.parametrize("order", [0, 1, 3, 8])
@pytest.mark.parametrize("memory", [1 << 20, 20_000])
def test_distribution_sums_to_one_over_every_id(order, memory):
    tokens = _stream(2000, 7, order)
    positions = list(range(0, 2001, 50))
    q = _core.prequential_distributions(tokens, positions, order=order, memory_limit=memory)
    assert q.shape == (len(positions), 7)
    assert (q > 0).all()
    np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize(("vocab", "separator"), [(257, None), (700, None), (1030, 3)])
def test_bit_model_over_tokens_sums_to_one_over_every_id(vocab, separator):
    # Above 256 ids the bit model's contexts are whole tokens and the id's bits come in
    # chunks: q is still proper over exactly the ids (the separator gets none).
    tokens = _stream(1200, vocab, vocab).astype(np.uint16)
    if separator is not None:
        tokens[::97] = separator
    positions = [0, 1, 400, 1200]
    q = _core.prequential_distributions(
        tokens, positions, vocab_size=vocab, separator=separator, model="bits"
    )
    assert q.shape == (len(positions), vocab)
    codable = np.ones(vocab, dtype=bool)
    if separator is not None:
        codable[separator] = False
        assert (q[:, separator] == 0).all()
    assert (q[:, codable] > 0).all()
    np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("vocab", [1, 2, 3, 5, 7, 40, 255, 256])
@pytest.mark.parametrize("order", [0, 2, None])
def test_bit_model_sums_to_one_over_every_id(vocab, order):
    # ceil(log2 V) bits with the branches that lead past V forced: q is proper over exactly
    # the V ids, summed here by brute force over all of them.
    tokens = _stream(1500, vocab, vocab).astype(np.uint16)
    positions = list(range(0, 1501, 125))
    q = _core.prequential_distributions(
        tokens, positions, order=order, vocab_size=vocab, model="bits"
    )
    assert q.shape == (len(positions), vocab)
    assert (q > 0).all()
    np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_bit_model_with_a_separator_gives_it_no_mass():
    tokens = _stream(2000, 257, 3).astype(np.uint16)
    tokens[::53] = 256
    q = _core.prequential_distributions(
        tokens, [0, 700, 2000], vocab_size=257, separator=256, model="bits"
    )
    assert (q[:, 256] == 0).all()
    assert (q[:, :256] > 0).all()
    np.testing.assert_allclose(q.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_the_bit_model_is_chosen_unless_an_order_or_model_is_given():
    tokens = _stream(3000, 256, 4).astype(np.uint8)
    assert fe.prequential(tokens).model["kind"] == "bits"
    assert fe.prequential(tokens).model["name"] == "bit-level context mixing"
    assert fe.prequential(tokens, order=4).model["kind"] == "tokens"
    assert fe.prequential(tokens, model="tokens").model["kind"] == "tokens"
    assert fe.prequential(tokens, order=3, model="bits").model["order"] == 3
    wide = _stream(3000, 300, 4)
    assert fe.prequential(wide).model["kind"] == "bits"
    assert fe.prequential(wide).model["bits_per_symbol"] == 9
    assert fe.prequential(wide, order=4).model["kind"] == "tokens"
    widest = {"vocab_size": 2**20 + 1}
    assert fe.prequential(wide, **widest).model["kind"] == "tokens"
    with pytest.raises(ValueError, match="at most 2\\^20"):
        fe.prequential(wide, model="bits", **widest)
    with pytest.raises(ValueError, match="model must be"):
        fe.prequential(tokens, model="paq")
    with pytest.raises(ValueError, match="too long"):
        fe.prequential(tokens, order=9, model="bits")


def test_distribution_with_separator_and_a_large_vocabulary():
    tokens = _stream(3000, 40, 9).astype(np.uint32)
    tokens[::101] = 1999  # the separator
    q = _core.prequential_distributions(
        tokens, [0, 500, 3000], order=4, vocab_size=2000, separator=1999, memory_limit=50_000
    )
    assert q.shape == (3, 2000)
    assert (q[:, :1999] > 0).all()
    np.testing.assert_allclose(q[:, :1999].sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_sparse_ids_near_2_to_the_31_code_as_their_ranks():
    # Ids spread over 32 bits (a vocabulary of 2^32 declared): held as dense ranks, they
    # code exactly as the ranks themselves do under the same declared vocabulary.
    ranks = _stream(3000, 20, 4).astype(np.int64)
    ids = np.sort(
        np.concatenate([[0, 7, 2**31 + 5], np.random.default_rng(1).choice(2**32, 17, False)])
    )
    assert len(np.unique(ids)) == 20
    sparse = fe.prequential(ids[ranks], vocab_size=2**32, order=4, per_token=True)
    dense = fe.prequential(ranks, vocab_size=2**32, order=4, per_token=True)
    assert sparse.nats == dense.nats
    np.testing.assert_array_equal(sparse.per_token, dense.per_token)
    assert sparse.per_token[0] == pytest.approx(32 * math.log(2), rel=1e-6)


def test_per_token_cost_is_minus_log_of_the_distribution():
    tokens = _stream(1500, 6, 2)
    cl = fe.prequential(tokens, order=3, per_token=True)
    positions = [0, 1, 7, 300, 1499]
    q = _core.prequential_distributions(tokens, positions, order=3)
    for row, p in zip(q, positions, strict=True):
        assert cl.per_token[p] == pytest.approx(-math.log(row[tokens[p]]), rel=1e-6)
    assert cl.per_token[0] == pytest.approx(math.log(6), rel=1e-6)  # uniform first guess
    assert float(cl.per_token.astype(np.float64).sum()) == pytest.approx(cl.nats, rel=1e-6)


# --- the learning curve on a chain of known rate -------------------------------------------


def test_markov_chain_code_length_approaches_the_rate_from_above():
    # 10^6 tokens here (debug builds); benches/prequential_speed.py records 10^7.
    src = fe.MarkovSource(vocab_size=40, order=1, seed=7)
    tokens = src.sample(1_000_000, seed=8)
    cl = fe.prequential(tokens)
    rate = src.entropy_rate
    # What the true chain spends on this very sample, from its own transition matrix.
    rows = src.transitions()
    truth = -np.log(rows[tokens[:-1], tokens[1:]]).sum() - math.log(src.stationary()[tokens[0]])
    assert cl.nats > truth
    assert rate < cl.nats_per_token < rate + 0.02
    per = cl.curve.per_token()
    assert per[-1] < per[len(per) // 2] < per[0]  # the curve falls as the model learns
    assert (np.diff(cl.curve.nats) > 0).all()


def test_curve_points_are_powers_of_two_and_the_end():
    tokens = _stream(5000, 9, 3)
    mask = np.arange(5000) % 5 != 0
    cl = fe.prequential(tokens, mask=mask)
    assert cl.n == int(mask.sum()) == 4000
    assert cl.curve.n.tolist() == [1024, 2048, 4000]
    assert cl.curve.nats[-1] == cl.nats
    assert cl.model["masked"] is True


# --- inputs ---------------------------------------------------------------------------------


def test_same_result_for_every_dtype_and_thread_count():
    tokens = _stream(4000, 50, 4)
    ref = fe.prequential(tokens)
    for dtype in (np.uint8, np.int32, np.uint32, np.int64, np.uint64):
        for threads in (1, 2):
            assert fe.prequential(tokens.astype(dtype), threads=threads) == ref
    assert fe.prequential(tokens.tolist()) == ref
    assert fe.prequential(np.repeat(tokens, 2)[::2]) == ref  # non-contiguous


def test_token_file_brings_separator_vocab_and_bytes(tmp_path):
    (tmp_path / "a.txt").write_text("the cat sat on the mat. " * 200, encoding="utf-8")
    tf = fe.tokenize(tmp_path / "a.txt", "bytes", tmp_path / "tok")
    cl = fe.prequential(tf)
    assert cl.model["separator"] == 256 and cl.model["vocab_size"] == 257
    assert cl.n == tf.n_text_tokens
    assert cl.bytes_per_token == 1.0
    assert cl.bits_per_byte == pytest.approx(cl.nats_per_token / math.log(2))
    assert cl.bits_per_byte < 1.0  # a repeated sentence is learned
    explicit = fe.prequential(tf.tokens(), separator=256, vocab_size=257, bytes_per_token=1.0)
    assert explicit == cl


def test_mask_scores_only_masked_in_tokens_but_all_teach():
    tokens = _stream(3000, 5, 5)
    mask = np.arange(3000) % 3 == 0
    full = fe.prequential(tokens, per_token=True)
    part = fe.prequential(tokens, mask=mask, per_token=True)
    np.testing.assert_array_equal(part.per_token[mask], full.per_token[mask])
    assert np.isnan(part.per_token[~mask]).all()


def test_per_token_to_a_file(tmp_path):
    tokens = _stream(3000, 5, 6)
    path = tmp_path / "costs.npy"
    cl = fe.prequential(tokens, per_token=path)
    saved = np.load(path)
    assert saved.dtype == np.float32 and saved.shape == (3000,)
    np.testing.assert_array_equal(saved, fe.prequential(tokens, per_token=True).per_token)
    assert cl.per_token is not None


def test_json_round_trip(tmp_path):
    cl = fe.prequential(_stream(3000, 5, 7), bytes_per_token=2.0)
    again = fe.CodeLength.from_json(cl.to_json(tmp_path / "cl.json"))
    assert again == cl
    assert fe.CodeLength.from_json(tmp_path / "cl.json") == cl
    assert isinstance(again.curve.n, np.ndarray) and again.curve.n.dtype == np.uint64
    assert again.bits_per_byte == pytest.approx(cl.bits_per_token / 2.0)
    with pytest.raises(ValueError, match="prequential"):
        fe.CodeLength.from_json('{"format": "other"}')


def test_memory_limit_is_obeyed_and_stated():
    tokens = _stream(20_000, 200, 8)
    small = fe.prequential(tokens, memory_limit="2MB")
    assert small.model["memory_bytes"] <= 2_000_000
    large = fe.prequential(tokens, memory_limit="64MB")
    assert large.model["memory_bytes"] <= 64_000_000
    assert small.nats >= large.nats * 0.99  # collisions may cost, never help much


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"tokens": np.array([1.0, 2.0])}, TypeError, "integers"),
        ({"tokens": np.array([True, False])}, TypeError, "integers"),
        ({"tokens": np.array([[1, 2]])}, ValueError, "1-D"),
        ({"tokens": np.array([], dtype=np.uint8)}, ValueError, "empty"),
        ({"tokens": np.array([1, -2])}, ValueError, "negative"),
        ({"tokens": [1, 5], "vocab_size": 5}, ValueError, r"tokens\[1\] = 5 is out of range"),
        ({"tokens": [1, 2], "vocab_size": 3, "separator": 3}, ValueError, "separator = 3"),
        ({"tokens": np.array([1, 2], np.uint8), "separator": 300}, ValueError, "separator"),
        ({"tokens": [1, 2], "mask": [True]}, ValueError, "mask"),
        ({"tokens": [1, 2], "mask": [1, 0]}, TypeError, "bool"),
        ({"tokens": [1, 2], "order": 49}, ValueError, "order"),
        ({"tokens": [1, 2], "order": -1}, ValueError, "order"),
        ({"tokens": [1, 2], "order": 2.0}, TypeError, "order"),
        ({"tokens": [1, 2], "threads": 0}, ValueError, "threads"),
        ({"tokens": [1, 2], "memory_limit": "lots"}, ValueError, "memory_limit"),
        ({"tokens": [1, 2], "memory_limit": 100}, MemoryError, "memory_limit"),
        ({"tokens": [1, 2], "bytes_per_token": 0.0}, ValueError, "bytes_per_token"),
        ({"tokens": [1, 2], "per_token": 3}, TypeError, "per_token"),
    ],
)
def test_bad_input(kwargs, error, match):
    tokens = kwargs.pop("tokens")
    with pytest.raises(error, match=match):
        fe.prequential(tokens, **kwargs)


def test_bad_input_is_refused_before_any_work():
    calls: list[tuple[int, int]] = []
    tokens = np.arange(100_000, dtype=np.uint32) % 50
    tokens[-1] = 60
    with pytest.raises(ValueError, match=r"tokens\[99999\] = 60"):
        fe.prequential(tokens, vocab_size=50, progress=lambda d, t: calls.append((d, t)))
    assert calls == []


# --- progress and interruption -------------------------------------------------------------


def test_progress_callable():
    tokens = _stream(200_000, 30, 10)
    calls: list[tuple[int, int]] = []
    fe.prequential(tokens, order=2, progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1] == (len(tokens), len(tokens))
    dones = [d for d, _ in calls]
    assert dones == sorted(dones)


def test_ctrl_c_stops_a_long_run():
    tokens = np.random.default_rng(5).integers(0, 50_000, 50_000_000, dtype=np.uint32)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    returned = False
    start = time.perf_counter()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            fe.prequential(tokens, memory_limit="64MB")
            returned = True
            time.sleep(10)  # the interrupt lands here if the run was too quick
    finally:
        timer.cancel()
    assert not returned, "the run finished before the interrupt: make it longer"
    assert time.perf_counter() - start < 5
    assert fe.prequential([1, 2, 1]).n == 3
