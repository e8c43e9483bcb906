"""The rate estimators on plain arrays, and the rule that combines their answers.

Each function wraps one family of the Rust core's ``rate`` module (formulas, papers and
validity are in the headers of ``rust/fastentropy-core/src/rate/*.rs``) and returns a
:class:`MethodResult`; :func:`combine_rates` makes one :class:`Rate` of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .. import _core
from .._args import in_place
from .._prequential import CodeLength, Curve
from ._result import MethodResult, Rate, finite_or_none

__all__ = [
    "RULE",
    "combine_rates",
    "final_stretch_rate",
    "mixed_code_length",
    "rate_from_curve",
    "rate_from_matches",
    "rate_from_orders",
]

#: An estimator whose interval is wider than this share of its point does not constrain the
#: rate (the core's ``rate::combine::MAX_RELATIVE_WIDTH``, whose comment gives the evidence).
MAX_RELATIVE_WIDTH: float = _core.RATE_MAX_RELATIVE_WIDTH

RULE = (
    "estimators whose interval is wider than 25% of their point do not constrain the rate; "
    "lower end = the lowest lower end of the others, point = the median of "
    "their points (capped at the upper end), upper end = the lower of the prequential code "
    "length L/N and the final half's code rate + 2 se (the highest upper end when no "
    "predictor ran); if every interval lies above the upper end, the estimators leave the "
    "lower end uninformed (not informative); the match-length interval spans the slope and KASW "
    "estimates, or the slope's alone when its regression fits (chi2/dof <= 1.5) and the "
    "learning-curve extrapolation is narrow enough to count and does not lie wholly below "
    "it (a curve above it is the predictor's limit, at or above the rate); the curve "
    "then enters with its lower end raised to the slope's when its point lies inside the "
    "slope's interval (it vouched for the slope and does not widen the floor); an "
    "extrapolation (curve, orders) whose interval is more than 2x as wide as the narrowest "
    "one used does not reach below the lowest lower end of the others; the learning curve, "
    "whose limit is the predictor's own (above the rate by what it misses), never sets the "
    "lower end alone: with no other estimator narrow enough to count the estimators leave "
    "the lower end uninformed; where they leave it uninformed it is the lower of KASW's "
    "lower end and the upper end, divided by 4 (a margin for what a model knows from "
    "elsewhere; 0 without a match-length estimate; still not informative)"
)


def final_stretch_rate(costs: Any) -> dict[str, float]:
    """The predictor's code rate over the last half of the scored tokens, an upper bound.

    Every token's expected code length is at least H(X_t | X_<t) >= h for a stationary
    source, so the mean over the final half bounds the rate from above without the learning
    cost the cumulative L/N carries. Standard error by batch means over 32 contiguous
    batches; ``upper = mean + 2 std`` (the core's ``rate::tail`` has the formula).

    Parameters
    ----------
    costs : array_like of float32
        ``-ln q(x_t | x_<t)`` per position, NaN where nothing is scored (what
        ``prequential(..., per_token=True).per_token`` holds). At least 2048 scored tokens.

    Returns
    -------
    dict
        ``mean``, ``std``, ``upper`` (nats per token), ``tokens`` (in the stretch) and
        ``start`` (index of its first token).

    Examples
    --------
    >>> import numpy as np
    >>> costs = np.r_[np.full(2048, 5.0), np.full(2048, 2.0)].astype(np.float32)
    >>> t = final_stretch_rate(costs)
    >>> t["mean"], t["std"], t["tokens"], t["start"]
    (2.0, 0.0, 2048, 2048)
    """
    x = in_place(costs, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError("costs must be 1-D")
    mean, std, upper, tokens, start = _core.rate_tail(x)
    return {"mean": mean, "std": std, "upper": upper, "tokens": tokens, "start": start}


#: Share rates of the fixed-share mixtures that :func:`mixed_code_length` mixes by Bayes
#: (the core's ``rate::mix::ALPHAS``, whose comment gives the evidence).
MIX_ALPHAS: tuple[float, ...] = _core.RATE_MIX_ALPHAS


def mixed_code_length(codes: Sequence[CodeLength]) -> CodeLength:
    """The code length of a mixture of online predictors, from their per-token costs.

    A linear mixture ``q = Σ_j w_j q_j`` with weights set before each token is seen is a
    proper causal predictor, and its probability of the token needs only the ``q_j`` of that
    token: ``exp(-cost)``. The weights follow fixed share (Herbster & Warmuth 1998) at each
    share rate in :data:`MIX_ALPHAS`, and those three mixtures are mixed by Bayes (at most
    ln 3 nats in all over the best of them); the core's ``rate::mix`` has the formula. Its
    code length is never far above the better predictor's, and below both where they take
    turns (text: the bit model and the token model).

    Parameters
    ----------
    codes : sequence of CodeLength
        At least two, from :func:`prequential` on the same tokens with ``per_token``; the
        first one's ``per_token`` array is overwritten with the mixture's costs.

    Returns
    -------
    CodeLength
        ``model["kind"] == "mixture"``, ``model["models"]`` the mixed models' descriptions;
        ``per_token`` the mixture's costs (the first input's array).

    Examples
    --------
    >>> import fastentropy as fe
    >>> x = fe.MarkovSource(8, 1, seed=1).sample(20_000, seed=2)
    >>> a, b = (fe.prequential(x, model=m, per_token=True) for m in ("bits", "tokens"))
    >>> best = min(a.nats, b.nats)
    >>> mix = fe.mixed_code_length([a, b])

    The bound over the better model: ln 3 for the Bayes step, ln 2 + (T − 1)·ln 1/(1 − α)
    for fixed share at the smallest α with no switch (about 42 nats here, 5 in fact):

    >>> import math
    >>> bound = math.log(3) + math.log(2) - (x.size - 1) * math.log1p(-min(MIX_ALPHAS))
    >>> mix.model["kind"], bool(mix.nats <= best + bound)
    ('mixture', True)
    """
    if len(codes) < 2:
        raise ValueError("a mixture needs at least two code lengths")
    costs = []
    for c in codes:
        if c.per_token is None:
            raise ValueError("every code length must carry its per-token costs (per_token=...)")
        costs.append(c.per_token)
    first = codes[0]
    if any(c.n != first.n or not np.array_equal(c.curve.n, first.curve.n) for c in codes):
        raise ValueError("the code lengths must score the same tokens")
    target = costs[0]
    if not target.flags.writeable:
        target = np.array(target, dtype=np.float32)
    others = [in_place(c, dtype=np.float32) for c in costs[1:]]
    points = [int(n) for n in first.curve.n]
    end = points[-1:] != [first.n] and first.n > 0  # the total, if the curve lacks it
    cumulative = _core.rate_mix(target, others, points + [first.n] * end)
    total = cumulative.pop() if end else (cumulative[-1] if cumulative else 0.0)
    model = {
        "kind": "mixture",
        "name": "fixed-share mixtures (share rates "
        + ", ".join(f"{a:g}" for a in MIX_ALPHAS)
        + ") mixed by Bayes",
        "models": [dict(c.model) for c in codes],
    }
    return CodeLength(
        n=first.n,
        nats=total,
        curve=Curve(first.curve.n, cumulative),
        model=model,
        bytes_per_token=first.bytes_per_token,
        per_token=target,
    )


def _fits(fits: list[Any], keys: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, values, error in fits:
        out[name] = {"error": error} if values is None else dict(zip(keys, values, strict=True))
    return out


def rate_from_curve(n: Any, nats: Any) -> MethodResult:
    """The rate by extrapolating a prequential learning curve to infinitely many tokens.

    Fits the stretched exponential ``r(N) = h·exp(A·N**(β-1))`` (Takahira, Tanaka-Ishii &
    Dębowski 2016) and the power law ``r(N) = h + A·N**(β-1)`` to the cumulative code length
    per token, through the block means between curve points (nearly independent, unlike the
    nested cumulative averages). Interval: the profile over β, unioned over both ansatzes.

    Parameters
    ----------
    n : array_like of float
        Tokens scored at each curve point, strictly increasing (e.g. 2**10, 2**11, ..., end).
    nats : array_like of float
        Cumulative code length at each point, in nats.

    Returns
    -------
    MethodResult
        ``name="curve"``; on failure (fewer than 5 points, a bad curve) ``value`` is None and
        ``reason`` says why.

    Examples
    --------
    >>> import numpy as np, fastentropy as fe
    >>> n = 2.0 ** np.arange(10, 24)
    >>> r = fe.rate_from_curve(n, n * 3.0 * np.exp(1.2 * n ** (0.85 - 1)))
    >>> round(r.value, 6), r.detail["stretched_exponential"]["beta"].__round__(4)
    (3.0, 0.85)
    """
    n_ = in_place(n, dtype=np.float64)
    nats_ = in_place(nats, dtype=np.float64)
    if n_.ndim != 1 or nats_.ndim != 1:
        raise ValueError("n and nats must be 1-D")
    try:
        point, lower, upper, fits = _core.rate_curve(n_, nats_)
    except ValueError as e:
        return MethodResult.failed("curve", str(e))
    detail = _fits(fits, ("h", "lower", "upper", "a", "beta", "sigma2"))
    return MethodResult("curve", point, lower, upper, detail=detail)


def rate_from_orders(table: Any) -> MethodResult:
    """The rate by extrapolating conditional entropies h_n to infinite order.

    Fits ``h_n = h + A·n**-α`` and ``h_n = h + A·exp(-λn)`` (weights 1/std²) and takes the
    union of their profile intervals, capped above by the lowest ``h_n + 2 std`` (every h_n
    of a stationary source lies above the rate).

    Parameters
    ----------
    table : Floor or iterable of (order, h_n, std)
        The orders to use, in nats per token. From a :class:`Floor`, the orders whose regime
        is ``"reliable"`` (Grassberger's h_n, std the larger of NSB's std and half the spread
        of Grassberger, NSB and PYM) or ``"marginal"`` (NSB's h_n, std at least the whole
        spread). At least 3 orders are needed.

    Returns
    -------
    MethodResult
        ``name="orders"``; ``detail`` holds each form's fit and the orders used.

    Examples
    --------
    >>> import fastentropy as fe
    >>> table = [(n, 2.0 + 1.5 * n**-0.7, 0.01) for n in range(1, 8)]
    >>> r = fe.rate_from_orders(table)
    >>> round(r.detail["power_law"]["h"], 6), r.lower <= 2.0 <= r.upper
    (2.0, True)
    """
    rows = _order_rows(table)
    orders = np.array([r[0] for r in rows], dtype=np.float64)
    h = np.array([r[1] for r in rows], dtype=np.float64)
    std = np.array([r[2] for r in rows], dtype=np.float64)
    try:
        point, lower, upper, cap, fits = _core.rate_orders(orders, h, std)
    except ValueError as e:
        return MethodResult.failed("orders", str(e))
    detail = _fits(fits, ("h", "lower", "upper", "a", "exponent", "chi2_dof"))
    detail["cap"] = cap
    detail["orders"] = orders.astype(int).tolist()
    return MethodResult("orders", point, lower, upper, detail=detail)


def _order_rows(table: Any) -> list[tuple[float, float, float]]:
    reports = getattr(table, "orders", None)
    if reports is None:
        return [(float(o), float(v), float(s)) for o, v, s in table]
    rows = []
    for r in reports:
        # Reliable and marginal orders (a floor's regime includes the estimators' spread);
        # a marginal order's h_n is NSB's, the least biased there, with the spread as std.
        if r.regime not in ("reliable", "marginal"):
            continue
        c = r.conditional
        prefer = ("grassberger", "nsb") if r.regime == "reliable" else ("nsb", "grassberger")
        pick = next((m for m in (*prefer, "miller_madow") if m in c), None)
        if pick is None:
            continue
        std = c["nsb"].std if "nsb" in c and c["nsb"].std is not None else 0.0
        std = max(std, r.spread / 2 if r.regime == "reliable" else r.spread)
        rows.append((float(r.order), c[pick].value, std))
    return rows


def rate_from_matches(lengths: Any) -> MethodResult:
    """The rate from longest-previous-match lengths (Lempel–Ziv type estimators).

    KASW's increasing-window estimator ``[mean_i Λ_i / ln i]**-1`` (Kontoyiannis et al.
    1998), with ``Λ_i`` = 1 + the match length at 1-based position i, is biased **low** by a
    relative O(1/ln n) on finite-memory sources: ``E[Λ_i] = ln i / h + c`` (Szpankowski
    1993), and the constant c is folded into h. The point is the bias-corrected **slope**
    estimate: ``1/slope`` of a weighted regression of octave means of ``Λ_i`` on ``ln i``,
    which removes c. The interval spans the slope estimate ± 2 se and KASW ± 2 batch-means
    std. Gao, Kontoyiannis & Bienenstock's ``mean_i ln i / Λ_i`` (2008) is reported in
    ``detail`` (it sets the interval only when there are too few positions for the slope,
    below ~10**5).

    Parameters
    ----------
    lengths : array_like of int
        ``lengths[j]`` = the longest prefix of the suffix at j that also starts at some
        j' < j (what ``SuffixIndex.match_lengths(kind="previous")`` returns).

    Examples
    --------
    >>> import fastentropy as fe
    >>> r = fe.rate_from_matches([0, 0, 1, 2, 1])   # "abaab"
    >>> round(r.value, 6), r.detail["kasw"]["std"]
    (0.59971, None)
    """
    x = np.asarray(lengths)
    if x.ndim != 1 or (x.size and x.dtype.kind not in "iu"):
        raise TypeError(f"lengths must be a 1-D integer array, got {x.dtype} of shape {x.shape}")
    if x.size and (x.min() < 0 or int(x.max()) > np.iinfo(np.uint32).max):
        raise ValueError("lengths must be in 0..2**32-1")
    try:
        point, lower, upper, kasw, gao, (slope, slope_error) = _core.rate_matches(
            in_place(x, dtype=np.uint32)
        )
    except ValueError as e:
        return MethodResult.failed("matches", str(e))
    keys = ("value", "std", "terms")
    detail: dict[str, Any] = {
        "kasw": dict(zip(keys, kasw, strict=True)),
        "gao": dict(zip(keys, gao, strict=True)),
    }
    detail["slope"] = (
        {"error": slope_error}
        if slope is None
        else dict(zip(("value", "std", "intercept", "chi2_dof", "octaves"), slope, strict=True))
    )
    return MethodResult("matches", point, lower, upper, detail=detail)


Iv = tuple[float, float, float]


def _match_rules(ms: dict[str, MethodResult]) -> tuple[dict[str, MethodResult], dict[str, Iv]]:
    """Rules 4 and 5 (the core's ``rate::combine::slope_alone`` and ``curve_absorbed``;
    evidence in its header). Rule 4: the match estimator's interval narrows to the slope's
    when the slope's regression fits (χ²/dof <= 1.5) and the learning-curve extrapolation is
    narrow enough to count and does not lie wholly below it (the curve's limit is the
    predictor's, at or above the rate, so only a curve below can refute the slope). Rule 5:
    the curve, having vouched for the slope, then enters the combination with its lower end
    raised to the slope's when its point lies inside the slope's interval. Returns the
    (narrowed) results and the intervals that enter the combination in place of a result's
    own."""
    m, c = ms.get("matches"), ms.get("curve")
    slope = None if m is None or not m.ok else m.detail.get("slope")
    if slope is None or slope.get("std") is None or c is None or not c.ok:
        return ms, {}
    assert m is not None and c.value is not None and c.lower is not None and c.upper is not None
    v, se = float(slope["value"]), float(slope["std"])
    iv = (v, v - 2 * se, v + 2 * se)
    chi2 = float(slope.get("chi2_dof", math.inf))
    curve = (c.value, c.lower, c.upper)
    if not _core.rate_slope_alone(iv, chi2, curve):
        return ms, {}
    note = (
        "slope alone: it fits, and the learning curve agrees"
        if curve[1] <= iv[2]
        else "slope alone: it fits, and the learning curve lies above it (the predictor's own "
        "limit, at or above the rate), not below"
    )
    narrowed = replace(m, lower=iv[1], upper=iv[2], detail={**m.detail, "interval": note})
    ms = {**ms, "matches": narrowed}
    if not _core.rate_curve_absorbed(iv, chi2, curve):
        return ms, {}
    note = (
        "its point lies inside the slope's interval it vouched for: it enters the rate with "
        f"its lower end raised to the slope's ({iv[1]:.6g})"
    )
    ms["curve"] = replace(c, detail={**c.detail, "enters": note})
    return ms, {"curve": (c.value, max(c.lower, iv[1]), c.upper)}


#: Rule 6: an extrapolation whose interval is more than this many times as wide as the
#: narrowest interval used does not reach below the others' lowest lower end (the core's
#: ``rate::combine::MAX_WIDTH_RATIO``).
MAX_WIDTH_RATIO: float = _core.RATE_MAX_WIDTH_RATIO
#: Rule 8 (the core's ``rate::combine::combine_marked``): the estimators of a predictor's own
#: limit, which never set the lower end alone.
PREDICTOR_LIMITS = ("curve",)
#: The estimators rule 6 applies to: extrapolations, whose width is their fit's imprecision.
#: The match-length interval always sets the lower end: KASW's part of it is low by design.
EXTRAPOLATIONS = ("curve", "orders")


def _imprecise_extrapolations(ok: list[MethodResult], ivs: list[Iv]) -> dict[str, Iv]:
    """Rule 6 (the core's ``rate::combine::imprecise_extrapolations``): the intervals that
    enter in place of an extrapolation's (``curve``, ``orders``) too imprecise beside the
    narrowest interval used: its lower end raised to the lowest of the others that set it
    (never above its own point)."""
    flags = [m.name in EXTRAPOLATIONS for m in ok]
    cut = _core.rate_imprecise_extrapolations(ivs, flags)
    return {m.name: iv for m, iv in zip(ok, cut, strict=True) if iv is not None}


#: Rule 7: where the estimators leave the lower end uninformed, it is the lower of KASW's
#: lower end and the upper end divided by this (the core's ``rate::combine::MARGIN``).
MARGIN: float = _core.RATE_MARGIN


def _kasw_lower(m: MethodResult | None) -> float | None:
    """KASW's lower end (mean - 2 std), for rule 7's margin floor; None without it."""
    kasw = None if m is None or not m.ok else m.detail.get("kasw")
    if not kasw or kasw.get("value") is None or not math.isfinite(kasw["value"]):
        return None
    std = kasw.get("std")
    return float(kasw["value"]) - (2 * float(std) if std is not None else 0.0)


def uninformed_why(rate: Rate) -> str:
    """Why the estimators leave ``rate``'s lower end uninformed, for the floor's notes and the
    check's caveats: rule 8 (the only estimators that count are a predictor's limit, the
    learning curve, under the upper end), or none counts below the upper end."""
    lows = [rate.methods[n].lower for n in rate.used if n in rate.methods]
    limit_only = bool(rate.used) and all(n in PREDICTOR_LIMITS for n in rate.used)
    if limit_only and any(lo is not None and lo <= rate.upper for lo in lows):
        return (
            "only the learning-curve extrapolation is narrow enough to count, and it "
            "estimates the online predictor's own limit (at or above the rate by what the "
            "predictor misses), which never sets the floor alone"
        )
    return "no rate estimator constrains the rate from below"


def combine_rates(
    methods: Iterable[MethodResult],
    *,
    bound: float | None = None,
    tail: Mapping[str, float] | None = None,
    curve: Mapping[str, Sequence[float]] | None = None,
    bytes_per_token: float | None = None,
    chars_per_token: float | None = None,
) -> Rate:
    """One rate from several estimators' answers, never above the prequential ``bound``.

    The rule (:data:`RULE`): the lowest lower end of the estimators that gave one, the median
    of their points capped at the upper end, and as the upper end the lower of ``bound`` and
    ``tail["upper"]`` (the highest upper end without either); if none is narrow enough, all
    lie above it, or the learning curve (a predictor's own limit) is the only one narrow
    enough, the estimators leave the lower end uninformed (flagged not
    informative) and it is the margin floor: the lower of KASW's lower end (from the
    ``matches`` result's detail) and the upper end, divided by :data:`MARGIN` (4), or 0
    without KASW. With no estimate and no bound the values are NaN (not informative).

    Parameters
    ----------
    methods : iterable of MethodResult
        The estimators' answers (failed ones are kept in ``.methods`` and contribute nothing).
    bound : float, optional
        The prequential code length per token, an upper bound on the rate.
    tail : mapping, optional
        The final stretch's code rate (:func:`final_stretch_rate`); its ``upper`` is an upper
        bound on the rate too, usually the tighter one.
    curve : mapping with ``"n"`` and ``"nats"``, optional
        The learning curve, kept for plots.
    bytes_per_token, chars_per_token : float, optional
        For :meth:`Rate.interval` in bits per byte or character.

    Returns
    -------
    Rate

    Examples
    --------
    >>> import fastentropy as fe
    >>> ms = [fe.MethodResult("curve", 3.75, 3.5, 3.9), fe.MethodResult("matches", 3.55, 3.5, 3.8)]
    >>> r = fe.combine_rates(ms, bound=3.85)
    >>> (r.point, r.lower, r.upper, r.capped)
    (3.65, 3.5, 3.85, True)
    >>> r = fe.combine_rates(ms, bound=3.85, tail={"mean": 3.7, "std": 0.01, "upper": 3.72})
    >>> (r.point, r.lower, r.upper, r.bound)
    (3.65, 3.5, 3.72, 3.85)
    """
    ms, enters = _match_rules({m.name: m for m in methods})
    ok = [
        m
        for m in ms.values()
        if m.value is not None and m.lower is not None and m.upper is not None
    ]
    ivs: list[Iv] = [
        enters.get(m.name, (float(m.value), float(m.lower), float(m.upper)))  # type: ignore[arg-type]
        for m in ok
    ]
    for name, iv in _imprecise_extrapolations(ok, ivs).items():
        i = next(i for i, m in enumerate(ok) if m.name == name)
        note = (
            f"its interval is more than {MAX_WIDTH_RATIO:g}x as wide as the narrowest one used: "
            f"it enters with its lower end raised to {iv[1]:.6g}, the others' lowest"
        )
        ok[i] = ms[name] = replace(ok[i], detail={**ok[i].detail, "enters": note})
        ivs[i] = iv
    used: tuple[str, ...] = ()
    narrow = [up - lo <= MAX_RELATIVE_WIDTH * p for p, lo, up in ivs]
    tail_upper = None if tail is None else finite_or_none(tail["upper"])
    if not any(narrow) and finite_or_none(bound) is None and tail_upper is None:
        # Nothing usable and nothing bounds it: say so with NaNs, not an exception.
        nan = float("nan")
        point, lower, upper, capped, informative = nan, nan, nan, False, False
    else:
        point, lower, upper, capped, informative, flags = _core.rate_combine(
            ivs,
            finite_or_none(bound),
            tail_upper,
            _kasw_lower(ms.get("matches")),
            [m.name in PREDICTOR_LIMITS for m in ok],
        )
        used = tuple(m.name for m, u in zip(ok, flags, strict=True) if u)
    plain_curve = (
        None if curve is None else {k: [float(v) for v in curve[k]] for k in ("n", "nats")}
    )
    return Rate(
        point,
        lower,
        upper,
        ms,
        bound,
        plain_curve,
        capped,
        informative,
        RULE,
        bytes_per_token,
        chars_per_token,
        used,
        None if tail is None else dict(tail),
    )
