"""The built-in demonstrations: sources of exactly known entropy, and what the estimators make
of samples from them."""

from __future__ import annotations

import time
import warnings

import numpy as np

from .._estimate import METHODS, entropies, left_out
from .._hmm import HiddenMarkovSource
from .._markov import MarkovSource
from .._profile import Profile
from .._progress import Progress
from .._units import LN2
from .estimate import estimate_floor
from .model import Floor

__all__ = ["hmm_demo", "markov_demo", "zipf_demo"]


def zipf_demo(
    alphabet_size: int = 10_000,
    exponent: float = 1.1,
    sizes: tuple[int, ...] = (1_000, 100_000),
    seed: int = 0,
) -> str:
    """Table of every estimator on Zipf samples whose true entropy is known exactly.

    Draws ``N`` samples (fixed seed) from p_i ∝ i^-exponent over ``alphabet_size`` outcomes,
    whose entropy is computed exactly from p, and lists each method's estimate, std and error
    in bits. Small N shows the under-sampled regime (plug-in far below the truth), large N
    the well-sampled one.

    Examples
    --------
    >>> print(zipf_demo(sizes=(500,)))  # doctest: +ELLIPSIS
    Zipf(s=1.1) over 10000 outcomes, true entropy ... bits
    ...
    """
    ranks = np.arange(1, alphabet_size + 1, dtype=np.float64)
    p = ranks**-exponent
    p /= p.sum()
    truth = float(-(p * np.log2(p)).sum())
    rng = np.random.default_rng(seed)
    lines = [f"Zipf(s={exponent}) over {alphabet_size} outcomes, true entropy {truth:.4f} bits"]
    for n in sizes:
        profile = Profile.from_counts(rng.multinomial(n, p))
        lines.append("")
        lines.append(
            f"N = {n}: {profile.distinct} distinct outcomes, {profile.singletons} seen once"
        )
        lines.append(f"{'method':<16}{'estimate':>10}{'± std':>10}{'error':>10}   (bits)")
        with warnings.catch_warnings():
            # Shown in the table instead: each estimate's warnings are data.
            warnings.simplefilter("ignore", RuntimeWarning)
            estimates = entropies(profile, alphabet_size=alphabet_size, unit="bits")
        for name in METHODS:
            est = estimates.get(name)
            if est is None:
                reason = left_out(name, profile, float(alphabet_size))
                lines.append(f"{name:<16}{'-':>10}{'':>10}{'':>10}  (left out: {reason})")
                continue
            std = "" if est.std is None else f"{est.std:.4f}"
            mark = "  (outside its regime)" if est.warnings else ""
            lines.append(f"{name:<16}{est.value:>10.4f}{std:>10}{est.value - truth:>+10.4f}{mark}")
    return "\n".join(lines)


def markov_demo(
    n_tokens: int = 2_000_000,
    vocab_size: int = 40,
    order: int = 2,
    seed: int = 0,
    progress: Progress = False,
) -> tuple[Floor, float, str]:
    """The floor pipeline on a corpus from a Markov source of exactly known entropy rate.

    Generates ``n_tokens`` from an order-``order`` :class:`MarkovSource` over
    ``vocab_size`` Zipfian tokens, estimates the floor, and sets each method's h_n beside
    the exact h_n of the source. Returns ``(floor, true rate, comparison text)``.

    Examples
    --------
    >>> floor, rate, text = markov_demo(n_tokens=300_000, vocab_size=10, order=1)
    >>> print(text)  # doctest: +ELLIPSIS
    Source: order-1 Markov chain over 10 Zipfian tokens, exact entropy rate ... nats/token
    ...
    >>> bool(floor.lower <= rate <= floor.upper)
    True
    """
    start = time.perf_counter()
    source = MarkovSource(vocab_size, order, seed=seed)
    tokens = source.sample(n_tokens, seed=seed + 1)
    floor = estimate_floor(tokens, progress=progress)
    elapsed = time.perf_counter() - start
    truth = source.conditional_entropies(max(r.order for r in floor.orders))
    rate = source.entropy_rate
    methods = list(floor.methods)
    lines = [
        f"Source: order-{order} Markov chain over {vocab_size} Zipfian tokens, exact entropy "
        f"rate {rate:.4f} nats/token ({rate / LN2:.4f} bits/token)",
        f"Corpus: {n_tokens:,} tokens drawn from it (seed {seed}); counted and estimated in "
        f"{elapsed:.1f} s",
        "",
        "h_n by order: exact value, then each method's estimate minus the exact value (nats/token)",
        f"{'n':>2} {'regime':>10} {'exact':>8} " + " ".join(f"{m:>13}" for m in methods),
    ]
    for r in floor.orders:
        cells = []
        for m in methods:
            v = r.conditional.get(m)
            cells.append(f"{'-':>13}" if v is None else f"{v.value - truth[r.order - 1]:>+13.4f}")
        lines.append(f"{r.order:>2} {r.regime:>10} {truth[r.order - 1]:>8.4f} " + " ".join(cells))
    lines += [
        "",
        *_three_numbers(floor, rate),
        f"From order {order + 1} = k + 1 on, h_n equals the rate. Where the corpus samples an "
        "order well the estimates agree with it; at under-sampled orders every estimate "
        "drifts (the plug-in far below the rate), which is why h_n is read at the highest "
        "order that is at least marginally sampled, and never beyond.",
    ]
    return floor, rate, "\n".join(lines)


def hmm_demo(
    n_tokens: int = 2_000_000,
    states: int = 64,
    vocab_size: int = 2000,
    seed: int = 0,
    progress: Progress = False,
) -> tuple[Floor, float, str]:
    """The floor pipeline on a hidden-Markov source: long memory, a rate known by the forward
    algorithm, and h_n that converges slowly toward it.

    Returns ``(floor, true rate, comparison text)``; the true rate is the forward
    algorithm's estimate over a long independent stretch (its standard error is printed).

    Examples
    --------
    >>> floor, rate, text = hmm_demo(n_tokens=100_000, states=8, vocab_size=50)
    >>> print(text)  # doctest: +ELLIPSIS
    Source: hidden Markov chain, 8 states over 50 tokens, entropy rate ... nats/token ...
    ...
    >>> bool(floor.upper <= floor.bound)
    True
    """
    start = time.perf_counter()
    source = HiddenMarkovSource(states, vocab_size, seed=seed)
    truth = source.entropy_rate(seed=seed + 2)
    tokens = source.sample(n_tokens, seed=seed + 1)
    floor = estimate_floor(tokens, progress=progress)
    elapsed = time.perf_counter() - start
    lines = [
        f"Source: hidden Markov chain, {states} states over {vocab_size} tokens, entropy rate "
        f"{truth.value:.4f} ± {truth.std:.4f} nats/token by the forward algorithm",
        f"Corpus: {n_tokens:,} tokens drawn from it (seed {seed}); estimated in {elapsed:.1f} s",
        "",
        *_three_numbers(floor, truth.value),
        "A hidden state is remembered for many tokens, so h_n keeps falling past every order "
        "the corpus samples well: h_n stays above the rate, and the rate comes from "
        "extrapolating the predictor's learning curve, h_n, and match lengths.",
    ]
    return floor, truth.value, "\n".join(lines)


def _three_numbers(floor: Floor, truth: float) -> list[str]:
    """The h_n, predictor and rate lines of a demo, each set against the true rate."""
    inside = floor.lower <= truth <= floor.upper
    lines = []
    if floor.ngram_point is not None:
        lines.append(
            f"h_n at order {floor.order} ({floor.method}): {floor.ngram_point:.4f} "
            f"[{floor.ngram_lower:.4f}, {floor.ngram_upper:.4f}] nats/token "
            f"({floor.ngram_point - truth:+.4f} from the true rate)"
        )
    if floor.bound is not None:
        lines.append(
            f"Online predictor's code length: {floor.bound:.4f} nats/token "
            f"({floor.bound - truth:+.4f}): an upper bound on the rate"
        )
    lines.append(
        f"Entropy rate: {floor.point:.4f} [{floor.lower:.4f}, {floor.upper:.4f}] nats/token; "
        f"the floor is {floor.lower:.4f}. The true rate {truth:.4f} is "
        + ("inside the interval." if inside else "OUTSIDE the interval.")
    )
    return lines
