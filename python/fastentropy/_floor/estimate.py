"""Estimating the entropy floor: conditional entropies by order, the online predictor's code
length, and the rate they put under a loss.

The rate is the limit of the conditional entropies
``h_n = H(X_n | X_1..X_{n-1}) = H_n - H_{n-1}``, which decrease with n; each is estimated
from the n-gram counts of the corpus, and the floor is read off the highest order whose
estimates the sample still supports.
"""

from __future__ import annotations

import math
import os
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import replace
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _core
from .._args import as_int_array as _as_int_array
from .._args import check_mapped
from .._args import int_arg as _int_arg
from .._args import is_real as _is_real
from .._estimate import METHODS, entropy
from .._ngram import Progress, ngram_profiles
from .._prequential import CodeLength, prequential
from .._profile import Profile
from .._progress import stage
from .._suffix import SuffixIndex
from .._types import MemoryLimit
from ..rate._estimators import (
    MARGIN,
    combine_rates,
    final_stretch_rate,
    mixed_code_length,
    rate_from_curve,
    rate_from_matches,
    rate_from_orders,
    uninformed_why,
)
from ..rate._result import MethodResult
from .model import INTERVAL_STDS, Floor, OrderReport, Value

__all__ = ["DEFAULT_METHODS", "context_mask", "estimate_floor", "ngram_floor"]


#: Tokens up to which the predictor's per-token costs are kept in memory (4 bytes each);
#: above, in a temporary memory-mapped file.
COSTS_IN_MEMORY = 1 << 26
#: Up to this many codable ids (the bit model's limit, 2^20) the rate reads the mixture of the
#: bit and token models, above it the token model alone: the pairings benches/rate_accuracy.py
#: validated (bytes; ``--wide``: 1000, 512 and 2000 ids at 10^7 tokens, docs/rate.md).
MIXED_MAX_IDS = 1 << 20
#: The rate estimators, in the order they are reported.
RATE_METHODS = ("curve", "orders", "matches")
#: Methods ``estimate_floor`` runs by default.
DEFAULT_METHODS: tuple[str, ...] = (
    "plugin",
    "miller_madow",
    "grassberger",
    "chao_shen",
    "nsb",
    "pym",
)
#: Which method gives the point estimate, by regime: the first one that produced a value.
#: Well sampled, Grassberger has the lowest error (docs/accuracy.md: lowest RMSE at
#: N/K >= 3; docs/floor.md: within 0.003 nats of the exact h_n on Markov sources) and NSB is
#: biased high (+0.01 nats there; +0.07-0.10 bits on Zipf in docs/accuracy.md); marginally
#: sampled, NSB is the least biased.
POINT_PREFERENCE: dict[str, tuple[str, ...]] = {
    "reliable": ("grassberger", "miller_madow", "nsb", "chao_shen", "pym", "plugin"),
    "marginal": ("nsb", "chao_shen", "grassberger", "pym", "miller_madow", "plugin"),
    "unreliable": ("nsb", "chao_shen", "grassberger", "pym", "miller_madow", "plugin"),
}

#: Orders the n-gram counter makes when none are given and the suffix index does not fit, at
#: most (fewer when a key cannot hold them: ``_core.max_ngram_order``): in docs/floor.md no
#: corpus of up to 10^7 tokens sampled an order above 6 even marginally.
DEFAULT_MAX_ORDER = 6
#: h_n "rises" between orders when it grows by more than this many combined stds: the
#: interval's own width, so a rise the interval would call noise is not reported.
RISE_STDS = INTERVAL_STDS
#: ... or, for methods without a std, by more than this many nats: far above the float64
#: rounding of an entropy difference (~1e-15 relative), far below any rise that matters.
RISE_TOLERANCE = 1e-9
#: Tokens per chunk of the context mask: its numpy temporaries stay at 16 MB whatever the
#: corpus size.
CONTEXT_MASK_CHUNK = 1 << 24

TokensLike = npt.ArrayLike | Any


def estimate_floor(
    tokens: TokensLike,
    *,
    orders: Iterable[int] | None = None,
    methods: Iterable[str] = DEFAULT_METHODS,
    rate_methods: Iterable[str] | None = None,
    separator: int | None = None,
    mask: npt.ArrayLike | None = None,
    meta: Any = None,
    memory_limit: MemoryLimit = None,
    threads: int | None = None,
    progress: Progress = False,
) -> Floor:
    """Estimate the entropy floor of a token corpus: its entropy rate with an interval, the
    h_n table of n-gram statistics, and the code length of an online predictor.

    Three engines run: a suffix index of the corpus (count profiles of every order, and the
    longest previous match at every position), the online predictor of :func:`prequential`
    (its code length bounds the rate from above; its learning curve is extrapolated; for at
    most 2^20 ids the mixture of its bit and token models, :func:`mixed_code_length`), and
    the entropy estimators on each order's profile. The rate combines the curve, the order
    extrapolation of h_n and the match-length estimators (see :func:`estimate_rate`); its
    lower end is the floor.

    Parameters
    ----------
    tokens : array_like of int, or a TokenFile
        The corpus (numpy array, memory-mapped file from :func:`open_tokens`, or the
        :class:`TokenFile` of :func:`tokenize`, which brings its separator, mask and
        text statistics).
    orders : iterable of int, optional
        n-gram orders of the h_n table. Default: every order up to two past the highest one
        the corpus samples at least marginally (the notes say where sampling ends and from
        which order every n-gram is unique).
    methods : iterable of str
        Entropy estimators for the h_n table (see :data:`METHODS`). Without an alphabet
        size: ``nsb`` is its infinite-alphabet limit.
    rate_methods : iterable of str, optional
        Rate estimators: a subset of ``("curve", "orders", "matches")``, all by default.
    separator, mask
        As in :func:`count_ngrams`; default to the TokenFile's when ``tokens`` is one.
    meta : TokenFile or mapping, optional
        The tokenization sidecar (``n_bytes``, ``n_chars``, ``n_tokens``, ``vocab_size``,
        ``tokenizer``) for bits per byte and per character.
    memory_limit, threads, progress
        As in :func:`count_ngrams`, for each engine in turn. When the suffix index does not
        fit ``memory_limit`` the n-gram counter makes the h_n table (orders 1..6 at most)
        and the match-length estimator does not run; the notes say so.

    Returns
    -------
    Floor

    Examples
    --------
    >>> import fastentropy as fe
    >>> src = fe.MarkovSource(vocab_size=8, order=1, seed=3)
    >>> floor = fe.estimate_floor(src.sample(200_000, seed=1), orders=[1, 2, 3])
    >>> floor.order, floor.reliable
    (3, True)
    >>> bool(floor.lower <= src.entropy_rate <= floor.upper)
    True
    """
    tokens_file: Any = tokens if _is_token_file(tokens) else None
    meta = meta if meta is not None else tokens_file
    if tokens_file is not None:
        arr = _as_int_array(tokens_file.tokens(), "tokens")
        separator = tokens_file.separator if separator is None else separator
        mask = tokens_file.mask() if mask is None else mask
    else:
        arr = _as_int_array(tokens, "tokens")
    method_list = _methods(methods)
    chosen_rates = _rate_methods(rate_methods)
    stats = _meta_stats(meta)
    mask_arr = None if mask is None else np.asarray(mask)
    common: dict[str, Any] = dict(
        separator=separator, mask=mask_arr, memory_limit=memory_limit, threads=threads
    )
    notes: list[str] = []
    if _meta_value(meta, "round_trip") is False:
        notes.append(
            "the tokenizer does not round-trip (it normalizes case, accents or whitespace): "
            "its bits/byte is not comparable with a lossless tokenizer's"
        )
    try:
        index: SuffixIndex | None = SuffixIndex.build(arr, progress=progress, **common)
    except MemoryError as e:
        index = None
        notes.append(
            f"the suffix index does not fit the memory limit ({e}): h_n from the n-gram "
            "counter at orders 1..6 at most, and no match-length estimate"
        )
    if index is not None:
        blocks, contexts, limit = _index_profiles(index, orders, threads)
        notes += limit
    else:
        blocks, contexts = _counted_profiles(arr, orders, stats, common, progress)
    ngram = ngram_floor(
        blocks,
        contexts,
        method_list,
        n_tokens=int(arr.size),
        masked=mask_arr is not None,
        meta=meta,
    )
    # A sidecar's vocabulary may leave out the separator it added (bytes: 256 ids + 256).
    vocab = stats.get("vocab_size")
    if vocab is not None and separator is not None:
        vocab = max(vocab, separator + 1)
    code, tail, predictor_notes = _predictor(
        arr, vocab, stats.get("bytes_per_token"), progress, common
    )
    notes += predictor_notes
    results = []
    if "curve" in chosen_rates:
        if code is None:
            results.append(MethodResult.failed("curve", "not run: no online predictor"))
        else:
            results.append(rate_from_curve(code.curve.n, code.curve.nats))
    if "orders" in chosen_rates:
        results.append(rate_from_orders(ngram))
    if "matches" in chosen_rates:
        if index is None:
            results.append(MethodResult.failed("matches", "not run: no suffix index"))
        else:
            lengths = index.match_lengths("previous", threads=threads, progress=progress)
            keep = _scored(arr, separator, mask_arr)
            results.append(rate_from_matches(lengths if keep is None else lengths[keep]))
    rate = combine_rates(
        results,
        bound=code.nats_per_token if code is not None and code.n else None,
        tail=tail,
        curve=None
        if code is None
        else {"n": code.curve.n.tolist(), "nats": code.curve.nats.tolist()},
        bytes_per_token=ngram.bytes_per_token,
        chars_per_token=ngram.chars_per_token,
    )
    if not math.isfinite(rate.point):
        # Nothing scored and nothing estimated: the n-gram part is all there is.
        return replace(ngram, notes=(*ngram.notes, *notes, "no rate: nothing was scored"))
    if not rate.informative and not rate.lower > 0:
        notes.append(
            "no rate estimator gave an interval below the predictor's code length: the "
            "floor's lower end is 0, uninformative; a larger corpus may help"
        )
    elif not rate.informative:
        notes.append(
            f"{uninformed_why(rate)} on this corpus: the floor's "
            f"lower end ({rate.lower:.4g} nats/token) is the margin floor, the lower of KASW's "
            f"lower end and the upper end divided by {MARGIN:g} (a margin for what a model "
            "knows from elsewhere): a training loss under it after the first epoch is called "
            "memorization, one inside the interval cannot be judged; a larger corpus may help"
        )
    return replace(
        ngram,
        point=rate.point,
        lower=rate.lower,
        upper=rate.upper,
        rate=rate,
        rule=f"{ngram.rule}. The floor is the rate: {rate.rule}",
        notes=(*ngram.notes, *notes),
    )


def _predictor(
    arr: npt.NDArray[np.integer[Any]],
    vocab: int | None,
    bytes_per_token: float | None,
    progress: Progress,
    common: Mapping[str, Any],
) -> tuple[CodeLength | None, dict[str, float] | None, list[str]]:
    """The online predictor the rate reads, with its final stretch's code rate.

    For at most 2^20 codable ids both of :func:`prequential`'s models run and the rate reads
    their mixture (:func:`mixed_code_length`): the bit model codes text better, the token
    model finite-order and hidden-Markov chains, and the mixture follows whichever predicts
    the current stretch better (docs/rate.md). For more ids the token model alone.
    """
    notes: list[str] = []
    codes: list[CodeLength] = []
    # The rate's rules were validated on these pairings (docs/rate.md); prequential's own
    # default also takes the bit model for larger vocabularies, not validated for the rate.
    size = _id_count(arr, vocab)
    separator = common.get("separator")
    codable = size - (separator is not None and separator < size)
    models = ("bits", "tokens") if codable <= MIXED_MAX_IDS else ("tokens",)
    with tempfile.TemporaryDirectory(prefix="fastentropy-costs-") as tmp:
        for model in models:
            # Each token's cost, for the mixture and the final stretch's code rate: in memory
            # up to 256 MiB, else a memory-mapped file deleted with the directory.
            costs = True if arr.size <= COSTS_IN_MEMORY else os.path.join(tmp, f"{model}.npy")
            try:
                codes.append(
                    prequential(
                        arr,
                        vocab_size=vocab,
                        bytes_per_token=bytes_per_token,
                        progress=progress,
                        per_token=costs,
                        model=model,
                        **common,
                    )
                )
            except MemoryError as e:
                what = "no bound" if not codes else "the rate reads the other model alone"
                notes.append(f"the online predictor does not fit the memory limit ({e}): {what}")
                break
        if not codes:
            return None, None, notes
        code = codes[0] if len(codes) == 1 else mixed_code_length(codes)
        if len(codes) > 1:
            parts = ", ".join(f"{c.model['kind']} model {c.nats_per_token:.4g}" for c in codes)
            notes.append(
                f"the online predictor is the mixture of the bit and token models: "
                f"{code.nats_per_token:.4g} nats/token ({parts})"
            )
        tail = None
        if code.per_token is not None:
            try:
                tail = final_stretch_rate(code.per_token)
            except ValueError as e:
                notes.append(f"no final-stretch code rate: {e}")
        for c in (*codes, code):
            c.per_token = None  # a file goes with the directory
    return code, tail, notes


def ngram_floor(
    blocks: Mapping[int, Profile],
    contexts: Mapping[int, Profile],
    methods: Iterable[str] = DEFAULT_METHODS,
    *,
    n_tokens: int,
    masked: bool,
    meta: Any = None,
) -> Floor:
    """The floor's h_n table from count profiles, and the floor it reads off them (no rate).

    What :func:`estimate_floor` makes of the profiles of any engine: ``blocks[n]`` counts
    the n-grams, ``contexts[n]`` their (n-1)-gram contexts (counted under
    :func:`context_mask`; absent for order 1). Profiles counted elsewhere (on a cluster, by
    :mod:`fastentropy.distributed`) give the same table.

    Examples
    --------
    >>> import fastentropy as fe
    >>> tokens = fe.MarkovSource(vocab_size=4, order=1, seed=0).sample(20_000, seed=1)
    >>> blocks = fe.ngram_profiles(tokens, [1, 2])
    >>> ctx = fe.ngram_profiles(tokens, [1], mask=context_mask(tokens, None, None))
    >>> floor = ngram_floor(blocks, {2: ctx[1]}, ["plugin"], n_tokens=tokens.size, masked=False)
    >>> floor.order, [r.order for r in floor.orders]
    (2, [1, 2])
    """
    method_list = _methods(methods)
    reports = tuple(
        _order_report(n, blocks[n], contexts.get(n), method_list) for n in sorted(blocks)
    )
    return _choose(reports, method_list, n_tokens=n_tokens, masked=masked, **_meta_stats(meta))


#: Orders reported past the highest one sampled at least marginally: they show where the
#: sample runs out.
ORDERS_PAST_SAMPLED = 2


def _index_profiles(
    index: SuffixIndex, orders: Iterable[int] | None, threads: int | None
) -> tuple[dict[int, Profile], dict[int, Profile], list[str]]:
    """Profiles of n-grams and of their contexts from the suffix index, and a note on which
    orders the table stops at and why."""
    wanted = None if orders is None else _orders(orders)
    # One call: under a mask, one reversed index serves both (and the memory limit holds).
    blocks, contexts = index.profiles_and_contexts(wanted, threads=threads)
    contexts = {n: p for n, p in contexts.items() if n >= 2}
    if orders is not None or not blocks:
        return blocks, contexts, []
    unique_from = max(blocks)
    sampled = [
        n
        for n, p in blocks.items()
        if _sampling(n, p, contexts.get(n)).regime in ("reliable", "marginal")
    ]
    last = min(max(sampled, default=1) + ORDERS_PAST_SAMPLED, unique_from)
    note = (
        f"h_n table: orders 1..{last}, where the corpus stops sampling n-grams well (orders "
        f"above {max(sampled, default=0)} are under-sampled); every n-gram is unique from "
        f"order {unique_from}"
    )
    keep = range(1, last + 1)
    return (
        {n: blocks[n] for n in keep if n in blocks},
        {n: contexts[n] for n in keep if n in contexts},
        [note],
    )


def _sampling(n: int, block: Profile, context: Profile | None) -> OrderReport:
    """An order's report without estimates: enough for its regime."""
    return OrderReport(
        order=n,
        n=block.n,
        distinct=block.distinct,
        singletons=block.singletons,
        contexts=context.distinct if context is not None else (1 if block.n else 0),
    )


def _counted_profiles(
    arr: npt.NDArray[np.integer[Any]],
    orders: Iterable[int] | None,
    stats: Mapping[str, Any],
    common: Mapping[str, Any],
    progress: Progress,
) -> tuple[dict[int, Profile], dict[int, Profile]]:
    """Profiles of n-grams and of their contexts from the sort-based counter."""
    mask_arr = common["mask"]
    wanted = _counter_orders(arr, stats.get("vocab_size")) if orders is None else _orders(orders)
    rest = {k: v for k, v in common.items() if k != "mask"}
    blocks = ngram_profiles(arr, wanted, mask=mask_arr, progress=progress, **rest)
    context_orders = sorted({n - 1 for n in wanted if n >= 2})
    contexts: dict[int, Profile] = {}
    if context_orders:
        ctx_mask = context_mask(arr, common["separator"], mask_arr)
        with stage(progress, "counting contexts") as report:
            counted = ngram_profiles(arr, context_orders, mask=ctx_mask, progress=report, **rest)
        contexts = {n + 1: p for n, p in counted.items()}
    return blocks, contexts


def _scored(
    tokens: npt.NDArray[np.integer[Any]], separator: int | None, mask: Any
) -> npt.NDArray[np.bool_] | None:
    """The positions a rate is about (masked in, not a separator), or None for all."""
    keep = None if mask is None else np.asarray(mask, dtype=np.bool_)
    if separator is not None:
        text = tokens != separator
        keep = text if keep is None else keep & text
    return keep


def _rate_methods(methods: Iterable[str] | None) -> list[str]:
    if methods is None:
        return list(RATE_METHODS)
    if isinstance(methods, str):
        raise TypeError("rate_methods must be an iterable of names, not a single string")
    chosen = list(dict.fromkeys(methods))
    unknown = [m for m in chosen if m not in RATE_METHODS]
    if unknown:
        raise ValueError(
            f"rate_methods must be a selection of {', '.join(RATE_METHODS)}; got {unknown}"
        )
    return chosen


def context_mask(
    tokens: npt.NDArray[np.integer[Any]], separator: int | None, mask: npt.ArrayLike | None
) -> npt.NDArray[np.bool_]:
    """The mask under which (n-1)-gram counts are the contexts of the counted n-grams.

    The n-gram at i is counted when it holds no separator and its last token, at i+n-1, is
    masked in; the (n-1)-gram at i ends at i+n-2, so it is a counted context exactly when
    the token after it is neither a separator nor masked out. The same shifted mask serves
    every order.

    Examples
    --------
    >>> context_mask(np.array([5, 6, 0, 7]), separator=0, mask=None)
    array([ True, False,  True, False])
    """
    check_mapped(tokens, "tokens")  # read here by numpy, between the two counts
    out = np.zeros(tokens.size, dtype=np.bool_)
    step = CONTEXT_MASK_CHUNK
    for start in range(0, max(tokens.size - 1, 0), step):
        stop = min(start + step, tokens.size - 1)
        nxt = slice(start + 1, stop + 1)
        ok = np.ones(stop - start, dtype=np.bool_)
        if separator is not None:
            ok &= tokens[nxt] != separator
        if mask is not None:
            ok &= np.asarray(mask)[nxt]
        out[start:stop] = ok
    return out


def _order_report(
    n: int, block: Profile, context: Profile | None, methods: list[str]
) -> OrderReport:
    blocks: dict[str, Value] = {}
    conditional: dict[str, Value] = {}
    failed: dict[str, str] = {}
    if block.n == 0:
        failed = {m: "no n-grams of this order were counted" for m in methods}
    for m in methods if block.n else ():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                h = entropy(block, m)  # type: ignore[arg-type]
                hc = entropy(context, m) if context is not None else None  # type: ignore[arg-type]
        except ValueError as e:
            failed[m] = str(e)
            continue
        blocks[m] = Value(h.value, h.std)
        if hc is None:
            conditional[m] = Value(h.value, h.std)
        else:
            std = None if h.std is None or hc.std is None else math.hypot(h.std, hc.std)
            conditional[m] = Value(h.value - hc.value, std)
    sampling = _sampling(n, block, context)
    return replace(sampling, block=blocks, conditional=conditional, failed=failed)


def _choose(reports: tuple[OrderReport, ...], methods: list[str], **meta: Any) -> Floor:
    usable = [r for r in reports if r.conditional]
    if not usable:
        raise ValueError(
            "no order gave an estimate: the corpus has no counted n-grams "
            f"({', '.join(f'order {r.order}: N={r.n}' for r in reports)})"
        )
    notes: list[str] = []
    # The highest order that is at least marginal: h_n only falls with n, so a lower order
    # overstates the floor (on Markov sources by up to 1.7 nats, docs/floor.md), and an
    # overstated floor is what would wrongly call an honest loss memorization.
    sampled = [r for r in usable if r.regime in ("reliable", "marginal")]
    chosen = sampled[-1] if sampled else None
    if chosen is None:
        chosen = usable[0]
        notes.append(
            "no order is even marginally sampled; the floor from "
            f"order {chosen.order} is not to be trusted: count a larger corpus"
        )
    reliable = chosen.regime == "reliable"
    if chosen.regime == "marginal":
        notes.append(
            f"order {chosen.order} is only marginally sampled (coverage "
            f"{chosen.coverage:.3f}, plug-in bias {chosen.plugin_bias:.3f} nats): NSB's error "
            "was up to 0.3 nats/token at such orders on sources of known rate (docs/floor.md)"
        )
    preferred = (*POINT_PREFERENCE[chosen.regime], *methods)
    method = next(m for m in preferred if m in chosen.conditional)
    point = chosen.conditional[method]
    values = chosen.conditional.values()
    # An entropy is not negative: the interval stops at 0 (a degenerate corpus, such as one
    # token repeated, gives h_n = 0 with a std that would reach below it).
    lower = max(0.0, min(v.value - INTERVAL_STDS * (v.std or 0.0) for v in values))
    upper = max(0.0, max(v.value + INTERVAL_STDS * (v.std or 0.0) for v in values))
    rising = [(a.order, b.order) for a, b in pairwise(usable) if _rises(a, b, method)]
    if rising:
        notes.append(
            f"{method} h_n rises beyond its error between orders {rising}: h_n cannot rise "
            "for a stationary source, so those estimates are noise- or bias-dominated"
        )
    value = min(max(point.value, lower), upper)
    return Floor(
        point=value,
        lower=lower,
        upper=upper,
        ngram_point=value,
        ngram_lower=lower,
        ngram_upper=upper,
        order=chosen.order,
        method=method,
        reliable=reliable,
        methods=tuple(methods),
        orders=reports,
        notes=tuple(notes),
        **meta,
    )


def _rises(a: OrderReport, b: OrderReport, method: str) -> bool:
    """Whether h_n of ``method`` rises from order a to b by more than its combined error."""
    if method not in a.conditional or method not in b.conditional:
        return False
    va, vb = a.conditional[method], b.conditional[method]
    noise = RISE_STDS * math.hypot(va.std or 0.0, vb.std or 0.0)
    return vb.value - va.value > max(noise, RISE_TOLERANCE)


def _methods(methods: Iterable[str]) -> list[str]:
    if isinstance(methods, str):
        raise TypeError("methods must be an iterable of method names, not a single string")
    chosen = list(dict.fromkeys(methods))
    # n-grams of an open vocabulary have no alphabet size to give the methods that need one.
    allowed = [m for m in METHODS if m not in _core.NEEDS_ALPHABET]
    unknown = [m for m in chosen if m not in allowed]
    if unknown or not chosen:
        raise ValueError(
            f"methods must be a non-empty selection of {', '.join(allowed)}; "
            f"got {unknown or chosen}"
        )
    return chosen


def _orders(orders: Iterable[int]) -> list[int]:
    """Orders the caller named, checked: ints >= 1, at least one, sorted, no repeats."""
    if isinstance(orders, (str, bytes)) or not isinstance(orders, Iterable):
        raise TypeError(f"orders must be an iterable of ints, got {type(orders).__name__}")
    wanted = sorted({_int_arg(n, "orders", 1) for n in orders})
    if not wanted:
        raise ValueError("orders must name at least one order")
    return wanted


def _id_count(tokens: npt.NDArray[np.integer[Any]], vocab_size: int | None) -> int:
    """The vocabulary size if known, else the largest id + 1 (1 for no tokens)."""
    return vocab_size if vocab_size is not None else int(tokens.max()) + 1 if tokens.size else 1


def _counter_orders(tokens: npt.NDArray[np.integer[Any]], vocab_size: int | None) -> list[int]:
    """The counter's default orders: 1..6, fewer when a key cannot hold them. The context
    pass always uses a mask (one flag bit per token in the key)."""
    most = _core.max_ngram_order(_id_count(tokens, vocab_size), masked=True)
    return list(range(1, min(DEFAULT_MAX_ORDER, most) + 1))


def _is_token_file(obj: Any) -> bool:
    return callable(getattr(obj, "tokens", None)) and hasattr(obj, "separator")


def _meta_value(meta: Any, key: str) -> Any:
    """A sidecar's field, from a mapping or a TokenFile's metadata, or None."""
    if meta is None:
        return None
    if not isinstance(meta, Mapping):
        meta = getattr(meta, "metadata", None)
    return meta.get(key) if isinstance(meta, Mapping) else None


def _meta_stats(meta: Any) -> dict[str, Any]:
    """bytes_per_token, chars_per_token, vocab_size and tokenizer from a sidecar, if any."""
    if meta is None:
        return {}

    def get(key: str) -> Any:
        return meta.get(key) if isinstance(meta, Mapping) else getattr(meta, key, None)

    # Counts must be counts: a negative n_bytes would give a negative bytes/token and an
    # interval whose ends swap when converted.
    for key in ("n_tokens", "n_documents", "n_bytes", "n_chars", "vocab_size"):
        value = get(key)
        if value is not None and not (_is_real(value) and math.isfinite(value) and value >= 0):
            raise ValueError(f"meta: {key} must be a count (a number >= 0), got {value!r}")
    for key in ("bytes_per_token", "chars_per_token"):
        value = get(key)
        if value is not None and not (_is_real(value) and math.isfinite(value) and value > 0):
            raise ValueError(f"meta: {key} must be a positive number, got {value!r}")
    # Per text token, as TokenFile counts them: a sidecar's n_tokens includes one separator
    # per document.
    n_tokens = get("n_tokens")
    if n_tokens and get("separator") is not None and get("n_documents"):
        n_tokens -= get("n_documents")
    stats: dict[str, Any] = {}
    for key, source in (("bytes_per_token", "n_bytes"), ("chars_per_token", "n_chars")):
        value = get(key)
        if value is None and n_tokens and get(source):
            value = get(source) / n_tokens
        if value is not None:
            stats[key] = float(value)
    if get("vocab_size") is not None:
        stats["vocab_size"] = int(get("vocab_size"))
    if get("tokenizer") is not None:
        stats["tokenizer"] = dict(get("tokenizer"))
    return stats
