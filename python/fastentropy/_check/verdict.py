"""The verdict: where, by how much and how surely a run's training loss went under the
entropy floor of its data, with what qualifies it."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from .._floor import Floor
from .._types import FloatArray, PathLike
from .._units import LN2
from ..rate._estimators import MARGIN, uninformed_why
from .detectors import (
    MIN_RUN,
    NOISE_SE,
    artefacts_at,
    boundaries_of,
    epoch_number,
    eval_levels,
    eval_scaling,
    scaling,
    sparse_epochs,
)
from .log import LossLog
from .per_sample import per_sample_losses
from .read import read_losses
from .result import Status, Verdict

__all__ = ["check"]

Tokenizer = str | Mapping[str, str] | None

#: A floor interval wider than this share of its point cannot tell "just under" from "just
#: above", so crossings of it are inconclusive.
WIDE_INTERVAL = 0.25


def check(
    log: LossLog | PathLike,
    floor: Floor | PathLike,
    *,
    per_sample: PathLike | None = None,
    tokenizer: Tokenizer = None,
    bytes_per_token: float | None = None,
) -> Verdict:
    """Check a training run's loss against the entropy floor of its data.

    Parameters
    ----------
    log : LossLog or path
        The run's losses, or a log file for :func:`read_losses`.
    floor : Floor or path
        The floor of the training data, or its JSON file (``Floor.to_json``). It must be for
        the tokens the loss covers: with a loss mask (responses only), a masked floor.
    per_sample : path, optional
        Per-example losses: JSON Lines or CSV with a loss column (``loss``/``nll``), and
        optionally an id (``id``) and a token count (``tokens``/``n_tokens``).
    tokenizer : str or dict, optional
        The model's tokenizer (a name or hash, or a dict with ``name`` and ``hash``); it
        matches the floor's when either names it. When it differs, ``bytes_per_token`` is
        required (``"bytes"`` needs none: one byte per token).
    bytes_per_token : float, optional
        UTF-8 bytes per token of the model's tokenizer on this data. When given, the floor is
        converted through bits per byte to nats per model token.

    Returns
    -------
    Verdict

    Raises
    ------
    ValueError
        A negative loss (not a cross-entropy), a tokenizer mismatch that cannot be converted
        (no ``bytes_per_token``, or a floor without one), or a malformed file.
    FileNotFoundError, OSError
        A file cannot be read.

    Notes
    -----
    Cross-entropy = H(Q) + KL(Q || P) >= H(Q): a training loss under a good estimate of the
    data's entropy means the model has learnt the sample, not the distribution. Three things
    look like a drop and are not: a running average that resets each epoch, losses logged
    multiplied by the gradient-accumulation steps (a bug in some Trainer versions), and a
    learning-rate restart; the verdict names them where they fit the curve.

    Examples
    --------
    >>> import fastentropy as fe
    >>> floor = fe.Floor.from_summary(2.0, 1.9, 2.1)
    >>> v = fe.check(fe.LossLog(step=[10, 20, 30], loss=[3.0, 2.7, 2.5]), floor)
    >>> v.status
    'above'
    >>> print(v.headline)  # doctest: +NORMALIZE_WHITESPACE
    the training loss stays above the entropy floor: its lowest, 2.5 nats/token at step 30,
    is 0.4 nats/token above the upper end of the floor (2.1)
    >>> fe.check(fe.LossLog(step=[10, 20, 30], loss=[3.0, 2.7, 2.5]), floor)
    Verdict(above: lowest 2.5 nats/token at step 30, floor 2 [1.9, 2.1] nats/token, 3 losses)
    """
    if not isinstance(log, LossLog):
        log = read_losses(log)
    if not isinstance(floor, Floor):
        floor = Floor.from_json(floor)
    scale, conversion = _conversion(floor, tokenizer, bytes_per_token)
    point, lower, upper = floor.point * scale, floor.lower * scale, floor.upper * scale
    step, loss, epoch, eval_step, eval_loss = _rows(log)
    if (loss < 0).any() and log.objective is None:
        i = int(np.argmax(loss < 0))
        raise ValueError(
            f"the training loss at step {step[i]} is {loss[i]}: a cross-entropy cannot be "
            "negative; is this the right loss field (loss_column=)?"
        )
    # Robust training levels at each evaluation: one noisy batch is not the model's loss.
    scaled, factor = eval_scaling(eval_step, eval_loss, eval_levels(step, loss, eval_step)[0])
    if factor is not None and log.objective is None:
        # Logged `factor` times over the whole run, and no other factor fits: everything
        # below reads the loss divided by it.
        log = _divided(log, factor)
        step, loss, epoch, eval_step, eval_loss = _rows(log)
    else:
        factor = None
    under_lower, under_upper = loss < lower, loss < upper
    run = _first_run(under_lower)
    boundaries = boundaries_of(log, step, loss, epoch)
    train_level, train_error = eval_levels(step, loss, eval_step)
    eval_gap = eval_loss - train_level
    artefacts = (
        scaled
        + (scaling(step, loss, boundaries) if not scaled else [])
        + artefacts_at(boundaries, log, step, loss, epoch)
    )

    wide = upper - lower > WIDE_INTERVAL * point
    # A rate floor's lower end is conservative by construction (the union of its
    # estimators' intervals, or where they say nothing the margin floor, rule 7 of
    # rate/combine.rs); it is uninformative only when it is 0. A floor given by hand is
    # judged by its width and sampling.
    conclusive = (
        floor.rate.informative or floor.rate.lower > 0
        if floor.rate is not None
        else floor.reliable and not wide
    )
    band_run = _first_run(under_upper)
    ngram_lower = None
    if floor.rate is not None and floor.ngram_lower is not None:
        ngram_lower = floor.ngram_lower * scale
    ngram_run = _first_run(loss < ngram_lower) if ngram_lower is not None else None
    # An honest model cannot go under the rate on text it has not seen: in the first epoch,
    # or on held-out text, a loss under the floor says the floor is too high.
    first_epoch = run is not None and _in_first_epoch(run[0], epoch)
    eval_under = bool((eval_loss < lower).any())
    status: Status
    if log.objective is not None:
        status = "inconclusive"
    elif (run or band_run) and not conclusive:
        status = "inconclusive"
    elif run and (first_epoch or eval_under):
        status = "inconclusive"
    elif run:
        status = "memorization"
    elif band_run:
        status = "inconclusive"
    elif ngram_run:
        status = "approaching"
    else:
        status = "above"

    number = epoch_number(epoch)

    def at(i: int) -> str:
        if not np.isfinite(epoch[i]):
            return f"step {step[i]}"
        if number[i] == epoch[i] + 1:  # a 0-based index: say which epoch, counted from 1
            return f"step {step[i]} (epoch {number[i]:.0f})"
        return f"step {step[i]} (epoch {epoch[i]:.4g})"

    interval = f"{lower:.4g}-{upper:.4g} nats/token"
    if log.objective is not None:
        headline = (
            f"the check does not apply: this is a {log.objective} loss "
            f"({_OBJECTIVES[log.objective]}), not a cross-entropy, so it cannot be compared "
            "with the entropy of the data"
        )
    elif status == "memorization":
        assert run is not None
        headline = _memorization(run[0], under_lower, loss, step, point, interval, at(run[0]))
    elif status == "approaching":
        assert ngram_run is not None and ngram_lower is not None
        low = int(np.argmin(loss))
        headline = (
            f"from {at(ngram_run[0])} the training loss is below what n-gram statistics of this "
            f"data reach (h_{floor.order} >= {ngram_lower:.4g} nats/token) and reaches "
            f"{loss[low]:.4g} at step {step[low]}, still above the entropy rate ({interval}): "
            "normal for a model that uses longer contexts than n-grams"
        )
    elif status == "above":
        headline = _above(loss, step, lower, upper)
    elif not conclusive:
        first = run or band_run
        assert first is not None
        where = "under the floor's lower end" if run else "into the floor's interval"
        headline = (
            f"from {at(first[0])} the training loss goes {where} ({interval}), but the floor "
            "is too uncertain to call it memorization"
        )
    elif run:
        why = (
            "in the first epoch, before any example can have been seen twice"
            if first_epoch
            else "and so does the evaluation loss, on text the model has not trained on"
        )
        headline = (
            f"from {at(run[0])} the training loss goes under the floor's lower end ({interval}) "
            f"{why}: an honest model cannot do that, so the floor is too high for this data, "
            "not evidence of memorization (is the floor from the same data and tokenizer?)"
        )
    else:
        assert band_run is not None
        low = int(np.argmin(loss))
        headline = (
            f"from {at(band_run[0])} the training loss is inside the entropy rate's interval "
            f"({interval}) and reaches {loss[low]:.4g} at step {step[low]}: the data cannot "
            "tell a model at the rate from one just under it; a loss under the lower end "
            "would be memorization"
        )
    if factor is not None:
        headline += (
            f"; the training loss was divided by {factor} first: it is logged {factor} times "
            "the evaluation loss throughout, multiplied by the gradient-accumulation steps "
            "(see the caveats)"
        )
    elif scaled and log.objective is None:
        headline += (
            "; but the training loss is logged scaled (a whole multiple of the evaluation "
            "loss throughout; see the caveats), so this compares a scaled loss with the floor"
        )
    caveats = _caveats(floor, status, wide, conversion)
    if tokenizer is None and _tokenizer_ids(floor.tokenizer):
        name = (floor.tokenizer or {}).get("name") or _tokenizer_id(floor.tokenizer)
        caveats.append(
            f"the check assumes the model uses the floor's tokenizer ({name}); if it does "
            "not, give the model's tokenizer and its bytes per token to convert the floor"
        )
    sparse = sparse_epochs(epoch)
    if sparse is not None:
        caveats.append(sparse)
    caveats.extend(a.message for a in artefacts)
    if not scaled or factor is not None:
        caveats.extend(_gap_caveat(eval_gap, eval_step, train_error))
    margin = loss - point
    return Verdict(
        status=status,
        headline=headline,
        caveats=tuple(caveats),
        floor_point=point,
        floor_lower=lower,
        floor_upper=upper,
        conversion=conversion,
        step=step,
        epoch=epoch,
        loss=loss,
        margin=margin,
        first_under_lower=int(step[np.argmax(under_lower)]) if under_lower.any() else None,
        first_under_point=int(step[np.argmax(loss < point)]) if (loss < point).any() else None,
        sustained_from=int(step[run[0]]) if run else None,
        sustained_until=int(step[run[1]]) if run else None,
        points_under_lower=int(under_lower.sum()),
        boundaries=boundaries,
        artefacts=tuple(artefacts),
        eval_step=eval_step,
        eval_loss=eval_loss,
        eval_gap=eval_gap,
        per_sample=None if per_sample is None else per_sample_losses(per_sample, point, lower),
        log=log,
        tokenizer=None if floor.tokenizer is None else dict(floor.tokenizer),
    )


def _rows(
    log: LossLog,
) -> tuple[npt.NDArray[np.int64], FloatArray, FloatArray, npt.NDArray[np.int64], FloatArray]:
    """Step, loss and epoch of the training losses; step and loss of the evaluations."""
    train, evals = np.isfinite(log.loss), np.isfinite(log.eval_loss)
    return (
        log.step[train],
        log.loss[train],
        log.epoch[train],
        log.step[evals],
        log.eval_loss[evals],
    )


def _divided(log: LossLog, factor: int) -> LossLog:
    """``log`` with its training losses (and epoch means) divided by ``factor``."""
    return LossLog(
        step=log.step,
        loss=log.loss / factor,
        epoch=log.epoch,
        eval_loss=log.eval_loss,
        learning_rate=log.learning_rate,
        tokens=log.tokens,
        epoch_loss=log.epoch_loss / factor,
        objective=log.objective,
        format=log.format,
        source=log.source,
        loss_field=log.loss_field,
        notes=(
            *log.notes,
            f"training losses divided by {factor}: logged multiplied by the "
            "gradient-accumulation steps",
        ),
    )


def _conversion(
    floor: Floor, tokenizer: Tokenizer, bytes_per_token: float | None
) -> tuple[float, str | None]:
    """The factor from nats per floor token to nats per model token, and what it assumed."""
    ours, theirs = _tokenizer_id(tokenizer), _tokenizer_id(floor.tokenizer)
    known = _tokenizer_ids(tokenizer), _tokenizer_ids(floor.tokenizer)
    differs = all(known) and not known[0] & known[1]
    if bytes_per_token is None and differs and "bytes" in known[0]:
        bytes_per_token = 1.0  # a byte-level model: one byte per token, nothing to measure
    if bytes_per_token is None:
        if differs:
            raise ValueError(
                f"the model's tokenizer ({ours}) is not the floor's ({theirs}): pass "
                "bytes_per_token (the model tokenizer's UTF-8 bytes per token on this data) to "
                "convert the floor through bits per byte, or estimate the floor with the "
                "model's tokenizer"
            )
        return 1.0, None
    if not (math.isfinite(bytes_per_token) and bytes_per_token > 0):
        raise ValueError(f"bytes_per_token must be a positive number, got {bytes_per_token}")
    if floor.bytes_per_token is None:
        raise ValueError(
            "cannot convert the floor to another tokenizer: it has no bytes-per-token figure "
            "(estimate it from a tokenized corpus with its text sidecar, or with the model's "
            "tokenizer)"
        )
    scale = bytes_per_token / floor.bytes_per_token
    per_byte = floor.point / (LN2 * floor.bytes_per_token)
    return scale, (
        f"the floor was estimated with another tokenizer ({theirs or 'unnamed'}, "
        f"{floor.bytes_per_token:.3g} bytes/token) and converted through bits per byte: "
        f"{per_byte:.4g} bits/byte x {bytes_per_token:.3g} bytes per model token = "
        f"{floor.point * scale:.4g} nats/token. This assumes the entropy per byte does not "
        "depend on the tokenizer, which holds for the entropy rate but only roughly for a "
        "finite-order estimate"
    )


def _tokenizer_ids(tokenizer: Tokenizer) -> set[str]:
    """Every name a tokenizer goes by (its name and hash)."""
    if tokenizer is None or isinstance(tokenizer, str):
        return {tokenizer} if tokenizer else set()
    return {v for k, v in tokenizer.items() if k in ("name", "hash") and v}


def _tokenizer_id(tokenizer: Tokenizer) -> str | None:
    if tokenizer is None or isinstance(tokenizer, str):
        return tokenizer
    return tokenizer.get("hash") or tokenizer.get("name")


def _first_run(mask: npt.NDArray[np.bool_]) -> tuple[int, int] | None:
    """First and last index of the first stretch of >= MIN_RUN True values."""
    start = None
    for i, value in enumerate([*mask.tolist(), False]):
        if value and start is None:
            start = i
        elif not value and start is not None:
            if i - start >= MIN_RUN:
                return start, i - 1
            start = None
    return None


def _in_first_epoch(i: int, epoch: FloatArray) -> bool:
    """Whether logged point ``i`` is in the run's first epoch: the log starts in epoch 1 (the
    Trainer's fractional epoch <= 1, Lightning's index 0) and ``i`` is still in it."""
    number = epoch_number(epoch)
    known = np.flatnonzero(np.isfinite(number))
    if not known.size or not np.isfinite(number[i]) or number[known[0]] != 1:
        return False
    return bool(number[i] == 1)


def _caveats(floor: Floor, status: Status, wide: bool, conversion: str | None) -> list[str]:
    caveats = []
    if floor.rate is not None and not floor.rate.informative and floor.rate.lower > 0:
        caveats.append(
            f"{uninformed_why(floor.rate)} on this data: the floor's lower "
            "end is the margin floor (KASW's match-length estimate or the upper end, divided "
            f"by {MARGIN:g}), far under the rate, to catch a loss that collapses; a loss "
            "inside the interval cannot be judged"
        )
    elif floor.rate is not None and not floor.rate.informative:
        caveats.append(
            "the floor's lower end is not informative: no rate estimator came in under the "
            "online predictor's code length; estimate it from more text of the same kind"
        )
    elif floor.rate is None and not floor.reliable:
        caveats.append(
            f"the floor is unreliable: even order {floor.order} is under-sampled"
            + (f" in {floor.n_tokens:,} tokens" if floor.n_tokens else "")
            + "; estimate it from more text of the same kind"
        )
    if wide:
        caveats.append(
            f"the floor's interval ({floor.lower:.4g}-{floor.upper:.4g}) is wider than "
            f"{WIDE_INTERVAL:.0%} of its point: it cannot separate 'just under' from 'just above'"
        )
    if conversion is not None:
        caveats.append(conversion)
    reached = status in ("memorization", "approaching")
    if reached and not floor.masked:
        caveats.append(
            "the floor counts every token: if the loss covers only some (a response-only "
            "loss mask), estimate the floor with the same mask"
        )
    if reached and floor.rate is None and floor.method != "given":
        caveats.append(
            f"the floor is an order-{floor.order} estimate ({floor.method}): a model with a "
            "longer context can honestly go somewhat below an n-gram estimate, though not "
            "below the entropy rate; the depth and duration under it are the evidence"
        )
    return caveats


def _gap_caveat(
    eval_gap: FloatArray, eval_step: npt.NDArray[np.int64], train_error: FloatArray
) -> list[str]:
    """A caveat when held-out text ends further above the training loss than it began,
    by more than the noise of the training levels; a gap that closes says nothing."""
    finite = np.isfinite(eval_gap)
    if finite.sum() < 2:
        return []
    gaps, steps, errors = eval_gap[finite], eval_step[finite], train_error[finite]
    noise = NOISE_SE * math.hypot(*np.nan_to_num(errors[[0, -1]]))
    if not (gaps[-1] > 0 and gaps[-1] - gaps[0] > noise):
        return []
    return [
        f"the evaluation loss went from {gaps[0]:+.3g} (step {steps[0]}) to "
        f"{gaps[-1]:+.3g} nats/token (step {steps[-1]}) above the training loss (its median "
        "over the nearest logged points): the model fits the training set better than "
        "held-out text"
    ]


#: What tells each kind of loss that is not a cross-entropy.
_OBJECTIVES = {
    "preference": "DPO-style: rewards/ and logps/ fields beside it; it starts near ln 2",
    "policy-gradient": "GRPO/PPO-style: reward and kl fields beside it; it sits near 0",
}


def _memorization(
    a: int,
    under: npt.NDArray[np.bool_],
    loss: FloatArray,
    step: npt.NDArray[np.int64],
    point: float,
    interval: str,
    start: str,
) -> str:
    """The whole extent under the floor's lower end from the first sustained stretch on: how
    many points, to which step, how deep at the median and at the deepest."""
    last = int(np.flatnonzero(under)[-1])
    span = slice(a, last + 1)
    inside = under[span]
    deepest = a + int(np.argmin(np.where(inside, loss[span], np.inf)))
    depth = float(np.median(point - loss[span][inside]))
    until = "to the end of the log" if last == len(loss) - 1 else f"until step {step[last]}"
    return (
        f"from {start} the training loss is under the entropy floor of this data "
        f"({point:.4g}, interval {interval}) {until}: {int(inside.sum())} of the "
        f"{last - a + 1} logged points from step {step[a]} to step {step[last]} are under its "
        f"lower end, a median {depth:.2f} and the deepest {point - loss[deepest]:.2f} "
        f"nats/token under the floor ({point:.4g}) at step {step[deepest]}: the model is "
        "reproducing training text"
    )


def _above(loss: FloatArray, step: npt.NDArray[np.int64], lower: float, upper: float) -> str:
    """The headline of a loss above the floor, naming any isolated points under or in it."""
    parts = []
    for mask, where in (
        (loss < lower, "under the floor's lower end"),
        ((loss >= lower) & (loss < upper), "inside the floor's interval"),
    ):
        rows = np.flatnonzero(mask)
        if rows.size == 1:
            (i,) = rows
            parts.append(f"1 isolated point {where} (step {step[i]}, {loss[i]:.4g} nats/token)")
        elif rows.size:
            shown = ", ".join(str(s) for s in step[rows[:5]]) + (", ..." if rows.size > 5 else "")
            parts.append(f"{rows.size} isolated points {where} (steps {shown})")
    others = loss >= upper
    low = int(np.argmin(np.where(others, loss, np.inf)))
    lowest = (
        f"its lowest, {loss[low]:.4g} nats/token at step {step[low]}, is "
        f"{loss[low] - upper:.2g} nats/token above the upper end of the floor ({upper:.4g})"
    )
    if not parts:
        return f"the training loss stays above the entropy floor: {lowest}"
    return (
        f"the training loss is above the entropy floor except for {' and '.join(parts)}, "
        f"fewer than {MIN_RUN} in a row and so not a trend; otherwise {lowest}"
    )
