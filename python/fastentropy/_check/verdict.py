"""The verdict: where, by how much and how surely a run's training loss went under the
entropy floor of its data, with what qualifies it."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Union

import numpy as np
import numpy.typing as npt

from .._floor import Floor
from .._units import LN2
from .detectors import MIN_RUN, artefacts_at, boundaries_of, epoch_index, scaling
from .log import FloatArray, LossLog, PathLike
from .per_sample import per_sample_losses
from .read import read_losses
from .result import Artefact, Status, Verdict

__all__ = ["check"]

Tokenizer = Union[str, Mapping[str, str], None]

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
        The model's tokenizer (a name, or a dict with ``name`` and ``hash``). When it differs
        from the floor's, ``bytes_per_token`` is required.
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
    """
    if not isinstance(log, LossLog):
        log = read_losses(log)
    if not isinstance(floor, Floor):
        floor = Floor.from_json(floor)
    scale, conversion = _conversion(floor, tokenizer, bytes_per_token)
    point, lower, upper = floor.point * scale, floor.lower * scale, floor.upper * scale
    train = np.isfinite(log.loss)
    step, loss, epoch = log.step[train], log.loss[train], log.epoch[train]
    if (loss < 0).any():
        i = int(np.argmax(loss < 0))
        raise ValueError(
            f"the training loss at step {step[i]} is {loss[i]}: a cross-entropy cannot be "
            "negative; is this the right loss field (loss_column=)?"
        )
    under_lower, under_upper = loss < lower, loss < upper
    run = _first_run(under_lower)
    boundaries = boundaries_of(log, step, loss, epoch)
    artefacts = scaling(step, loss) + artefacts_at(boundaries, log, step, loss, epoch)
    eval_rows = np.isfinite(log.eval_loss)
    eval_step, eval_loss = log.step[eval_rows], log.eval_loss[eval_rows]
    before = np.searchsorted(step, eval_step, side="right") - 1
    eval_gap = np.where(before >= 0, eval_loss - loss[np.maximum(before, 0)], np.nan)

    wide = upper - lower > WIDE_INTERVAL * point
    # A rate floor's lower end is conservative by construction (the union of its
    # estimators' intervals); it is uninformative only when no estimator came in under the
    # predictor's code length. A floor given by hand is judged by its width and sampling.
    conclusive = floor.rate.informative if floor.rate is not None else floor.reliable and not wide
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
    if (run or band_run) and not conclusive:
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

    def at(i: int) -> str:
        e = f" (epoch {epoch[i]:.3g})" if np.isfinite(epoch[i]) else ""
        return f"step {step[i]}{e}"

    def extent(under: npt.NDArray[np.bool_], bound: float) -> str:
        deepest = int(np.argmin(np.where(under, loss, np.inf)))
        return (
            f"{int(under.sum())} of {len(loss)} logged points are under its lower end, the "
            f"last at step {step[np.flatnonzero(under)[-1]]}, the deepest "
            f"{bound - loss[deepest]:.2f} nats/token under it at step {step[deepest]}"
        )

    interval = f"{lower:.3g}-{upper:.3g} nats/token"
    if status == "memorization":
        assert run is not None
        a, b = run
        depth = float(np.median(point - loss[a : b + 1]))
        until = "to the end of the log" if b == len(loss) - 1 else f"until step {step[b]}"
        headline = (
            f"from {at(a)} the training loss is {depth:.2f} nats/token below the entropy floor "
            f"of this data ({point:.3f}, interval {lower:.3f}-{upper:.3f}), {until}: the model "
            f"is reproducing training text ({extent(under_lower, lower)})"
        )
    elif status == "approaching":
        assert ngram_run is not None and ngram_lower is not None
        low = int(np.argmin(loss))
        headline = (
            f"from {at(ngram_run[0])} the training loss is below what n-gram statistics of this "
            f"data reach (h_{floor.order} >= {ngram_lower:.3g} nats/token) and reaches "
            f"{loss[low]:.3g} at step {step[low]}, still above the entropy rate ({interval}): "
            "normal for a model that uses longer contexts than n-grams"
        )
    elif status == "above":
        low = int(np.argmin(loss))
        headline = (
            f"the training loss stays above the entropy floor: its lowest, {loss[low]:.3g} "
            f"nats/token at step {step[low]}, is {loss[low] - upper:.2g} nats/token above the "
            f"upper end of the floor ({upper:.3g})"
        )
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
            f"({interval}) and reaches {loss[low]:.3g} at step {step[low]}: the data cannot "
            "tell a model at the rate from one just under it; a loss under the lower end "
            "would be memorization"
        )
    caveats = _caveats(floor, status, wide, conversion, artefacts, eval_gap, eval_step)
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
    )


def _conversion(
    floor: Floor, tokenizer: Tokenizer, bytes_per_token: float | None
) -> tuple[float, str | None]:
    """The factor from nats per floor token to nats per model token, and what it assumed."""
    ours, theirs = _tokenizer_id(tokenizer), _tokenizer_id(floor.tokenizer)
    differs = ours is not None and theirs is not None and ours != theirs
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
    known = np.flatnonzero(np.isfinite(epoch))
    if not known.size or not np.isfinite(epoch[i]) or epoch[known[0]] > 1.0:
        return False
    index = epoch_index(epoch)
    return bool(index[i] == index[known[0]])


def _caveats(
    floor: Floor,
    status: Status,
    wide: bool,
    conversion: str | None,
    artefacts: Sequence[Artefact],
    eval_gap: FloatArray,
    eval_step: npt.NDArray[np.int64],
) -> list[str]:
    caveats = []
    if floor.rate is not None and not floor.rate.informative:
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
            f"the floor's interval ({floor.lower:.3g}-{floor.upper:.3g}) is wider than "
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
    caveats.extend(a.message for a in artefacts)
    finite = np.isfinite(eval_gap)
    if finite.sum() >= 2:
        gaps = eval_gap[finite]
        steps = eval_step[finite]
        if gaps[-1] > gaps[0]:
            caveats.append(
                f"the evaluation-train gap widened from {gaps[0]:.3g} (step {steps[0]}) to "
                f"{gaps[-1]:.3g} nats/token (step {steps[-1]}): the model fits the training "
                "set better than held-out text"
            )
    return caveats
