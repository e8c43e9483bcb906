"""Each method's requirements are stated once, in the core, and the Python side asks it: the
default method set, the floor's methods, the concentration names, the largest countable
order, and warnings as data."""

from __future__ import annotations

import typing
import warnings

import fastentropy as fe
import fastentropy._core as core
import numpy as np
import pytest
from fastentropy._estimate import ConcentrationName
from fastentropy._floor.estimate import DEFAULT_MAX_ORDER, _counter_orders

# By hand, from the methods' papers: the jackknife deletes one of N >= 2 observations;
# dirichlet needs its K bins; ansb, pym and nsb without K learn from coincidences.
REFUSED = {
    ((1,), None): {"ansb", "dirichlet", "jackknife", "nsb", "pym"},
    ((1,), 4.0): {"ansb", "jackknife", "pym"},
    ((1, 1, 1), None): {"ansb", "dirichlet", "nsb", "pym"},
    ((2, 1), None): {"dirichlet"},
    ((2, 1), 3.0): set(),
}


@pytest.mark.filterwarnings("ignore:ansb is an asymptotic approximation:RuntimeWarning")
@pytest.mark.parametrize(("case", "refused"), REFUSED.items(), ids=str)
def test_default_methods_are_those_the_core_accepts(case, refused):
    counts, k = case
    chosen = set(fe.entropies(list(counts), alphabet_size=k))
    # ansb is also left out of the defaults outside its regime (N - distinct > 0.1 N): in
    # every case here it is refused or outside (counts (2, 1): N - distinct = 1 > 0.3).
    assert chosen == set(fe.METHODS) - refused - {"ansb"}
    # Each refused method, named explicitly, raises the core's reason.
    p = fe.Profile.from_counts(list(counts))
    for m in refused:
        reason = core.method_refusal(p.ks, p.mks, m, alphabet_size=k)
        with pytest.raises(ValueError) as e:
            fe.entropy(p, m, alphabet_size=k)
        assert str(e.value) == reason


def test_the_floor_offers_every_method_but_those_needing_an_alphabet():
    tokens = np.array([1, 2, 1, 2, 3] * 20, dtype=np.uint8)
    with pytest.raises(ValueError, match="non-empty selection of") as e:
        fe.estimate_floor(tokens, methods=["dirichlet"])
    offered = str(e.value).split("selection of ")[1].split(";")[0].split(", ")
    assert offered == [m for m in fe.METHODS if m != "dirichlet"]
    assert core.NEEDS_ALPHABET == ("dirichlet",)


def test_concentration_names_are_the_cores():
    assert typing.get_args(ConcentrationName) == core.CONCENTRATIONS
    for name in core.CONCENTRATIONS:
        fe.entropy([3, 1], "dirichlet", alphabet_size=4, concentration=name)
    with pytest.raises(TypeError, match="'jeffreys', 'laplace', 'perks', 'minimax'"):
        fe.entropy([3, 1], "dirichlet", alphabet_size=4, concentration=[1])


@pytest.mark.parametrize(
    ("vocab", "masked", "most"),
    # bit_length(V) bits per token (+1 mask bit) in a 128-bit key, worked by hand.
    [(255, False, 16), (256, True, 12), (50_257, True, 7), (2**32, True, 3), (1, False, 128)],
)
def test_largest_countable_order(vocab, masked, most):
    assert core.max_ngram_order(vocab, masked=masked) == most


def test_the_counter_defaults_to_the_orders_a_key_holds():
    # A 2**31 vocabulary takes 32 bits: 3 orders with a mask bit each (3 x 33 = 99 <= 128).
    assert _counter_orders(np.zeros(3, np.uint32), vocab_size=2**31) == [1, 2, 3]
    assert _counter_orders(np.zeros(3, np.uint8), None) == list(range(1, DEFAULT_MAX_ORDER + 1))
    # The counter packs the largest order and refuses one more, on 65,536 distinct ids.
    tokens = np.arange(2**16, dtype=np.uint32)
    most = core.max_ngram_order(tokens.size, masked=True)
    assert most == 7  # 17 bits + 1 mask bit per token: 7 x 18 = 126 <= 128
    mask = np.ones(tokens.size, bool)
    assert fe.ngram_profiles(tokens, [most], mask=mask)[most].n == tokens.size - most + 1
    with pytest.raises(ValueError, match=f"the largest order for this vocabulary is {most}"):
        fe.ngram_profiles(tokens, [most + 1], mask=mask)


def test_warnings_are_data():
    # ansb far outside its regime (coincidences are most of N).
    with pytest.warns(RuntimeWarning, match="ansb is an asymptotic approximation"):
        est = fe.entropy([50, 40, 1], "ansb")
    assert len(est.warnings) == 1 and "prefer nsb" in est.warnings[0]
    assert est.to("bits").warnings == est.warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fe.entropy([50, 40, 1], "nsb").warnings == ()


def test_the_demo_marks_methods_from_their_warnings():
    from fastentropy._floor.demo import zipf_demo

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the demo shows warnings in its table, not on stderr
        text = zipf_demo(sizes=(100_000,))
    marked = [line.split()[0] for line in text.splitlines() if "outside its regime" in line]
    assert marked == ["ansb"]
