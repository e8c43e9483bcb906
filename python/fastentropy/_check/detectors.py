"""Detectors on a loss curve: epoch boundaries and the logging or schedule artefacts that
change the curve without memorization (gradient-accumulation scaling, running means that
reset each epoch, learning-rate restarts)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .._types import FloatArray
from .log import LossLog
from .result import Artefact, EpochBoundary

__all__ = [
    "MIN_RUN",
    "NOISE_SE",
    "WINDOW",
    "artefacts_at",
    "boundaries_of",
    "epoch_number",
    "eval_levels",
    "eval_scaling",
    "scaling",
    "sparse_epochs",
]


#: Consecutive logged losses under a bound before it counts: one noisy batch is not a trend.
MIN_RUN = 3
#: Logged points each side of an epoch boundary, or around an evaluation, whose median is the
#: level compared: five damp one odd batch without reaching back over a fast-moving curve.
WINDOW = 5
#: How close a loss ratio must be to an integer (relative) to suggest a scaling factor: the
#: flat stretches either side of a scaling jump vary by a few percent.
INTEGER_TOLERANCE = 0.03
#: A jump is a scaling artefact only if each side varies by less than this share of the jump
#: (a real drop of that size comes with a moving curve).
FLAT_SHARE = 0.25
#: Training over evaluation loss within this share of an integer factor >= 2 at every
#: evaluation is logging scaled by that factor: an honest training loss stays within a few
#: percent of the evaluation loss (issue 24's run: 16.5-16.9 times, 16 accumulation steps).
SCALED_SLACK = 0.1
#: A learning rate more than this factor higher after a boundary than before it (a schedule's
#: own change over a few logged steps is far smaller)...
RESTART_RISE = 1.5
#: ...having first decayed to under this share of its earlier peak, restarted; a rate still
#: at its peak (warmup) rising further is the warmup, not a restart.
DECAYED_SHARE = 0.5
#: A running mean can only be told from a slowing raw curve with this many points in the
#: epoch (thirds of >= 3 changes each compared).
RUNNING_MEAN_POINTS = 12
#: A running mean's late changes are under this share of its early ones (1/n shrinkage).
SHRINK = 0.5
#: The per-step losses a running mean implies must land within this share of the drop of
#: the loss after the boundary for the reset to explain it.
RESET_MATCH = 0.5
#: Formats whose loss is never a running mean: the Hugging Face Trainer (and LLaMA-Factory,
#: which copies its logs) log the mean over each logging interval, reset at every log.
INTERVAL_MEAN_FORMATS = ("trainer_state", "jsonl")
#: A drop or gap counts when larger than this many standard errors (about 1 in 20 by chance).
NOISE_SE = 2
#: Float slack when numbering fractional epochs: 1.0000000001 from float sums is epoch 1.
EPOCH_SLACK = 1e-9
#: Median absolute deviation to the standard deviation of a normal distribution.
MAD_SIGMA = 1.4826
#: The standard error of a median is this many times that of a mean (normal data).
MEDIAN_SE = 1.2533


def epoch_number(epoch: FloatArray) -> FloatArray:
    """The 1-based epoch each logged point is in (NaN where not logged).

    Lightning logs the 0-based index (whole numbers from 0); the Trainer logs fractional
    progress: epoch 1 ends at 1.0, 1.01 is in epoch 2, and older versions round to two
    decimals, so the first records read 0.0 (epoch 1, not epoch 0).
    """
    if _is_index(epoch):
        return epoch + 1
    return np.maximum(np.ceil(epoch - EPOCH_SLACK), 1)


def _is_index(epoch: FloatArray) -> bool:
    """Whether ``epoch`` is a 0-based epoch index (whole numbers from 0), as Lightning logs."""
    known = epoch[np.isfinite(epoch)]
    return bool(known.size and known.min() == 0 and np.all(known == np.round(known)))


def sparse_epochs(epoch: FloatArray) -> str | None:
    """A caveat when the logged points are more than an epoch apart on average."""
    known = epoch[np.isfinite(epoch)]
    if known.size < 2:
        return None
    apart = float(known[-1] - known[0]) / (known.size - 1)
    if apart <= 1:
        return None
    return (
        f"the log has {known.size} training losses from epoch {known[0]:.4g} to "
        f"{known[-1]:.4g}, one every {apart:.3g} epochs: too sparse to see epoch boundaries, "
        "so none are reported"
    )


def _level(values: FloatArray) -> tuple[float, float]:
    """Median of ``values`` and the standard error of that median (NaN under 3 values)."""
    median = float(np.median(values))
    if values.size < MIN_RUN:
        return median, math.nan
    sigma = MAD_SIGMA * float(np.median(np.abs(values - median)))
    return median, MEDIAN_SE * sigma / math.sqrt(values.size)


def boundaries_of(
    log: LossLog, step: npt.NDArray[np.int64], loss: FloatArray, epoch: FloatArray
) -> tuple[EpochBoundary, ...]:
    """Where the epoch changes between logged training losses, and the levels either side.

    The step is interpolated where the fractional epoch crosses the whole number (Lightning's
    index gives no fraction: the midpoint). Levels are the epoch means where the log has them
    (Lightning's ``train_loss_epoch``), else medians of up to ``WINDOW`` points of each epoch.
    """
    if sparse_epochs(epoch) is not None:
        return ()
    number = epoch_number(epoch)
    known = np.isfinite(number)
    index = _is_index(epoch)
    means = _epoch_means(log)
    out = []
    for i in np.flatnonzero(known[1:] & known[:-1] & (number[1:] != number[:-1])) + 1:
        old, new = number[i - 1], number[i]
        if index:
            at = (step[i - 1] + step[i]) / 2
        else:
            crossing = (old - epoch[i - 1]) / (epoch[i] - epoch[i - 1])
            at = step[i - 1] + crossing * (step[i] - step[i - 1])
        before = loss[max(0, i - WINDOW) : i][number[max(0, i - WINDOW) : i] == old]
        after = loss[i : i + WINDOW][number[i : i + WINDOW] == new]
        (lb, se_b), (la, se_a) = _level(before), _level(after)
        if means is not None and old in means and new in means:
            lb, la, se_b, se_a = means[old], means[new], math.nan, math.nan
        lr = log.learning_rate[np.isin(log.step, step[i - 1 : i + WINDOW])]
        lr_after = lr[1:][np.isfinite(lr[1:])]
        out.append(
            EpochBoundary(
                step=int(round(at)),
                epoch=float(new),
                loss_before=lb,
                loss_after=la,
                lr_before=float(lr[0]) if lr.size else math.nan,
                lr_after=float(lr_after.max()) if lr_after.size else math.nan,
                noise=NOISE_SE * math.hypot(se_b, se_a),
            )
        )
    return tuple(out)


def _epoch_means(log: LossLog) -> dict[float, float] | None:
    """The logged mean training loss of each epoch, by 1-based epoch number, if any."""
    rows = np.isfinite(log.epoch_loss) & np.isfinite(log.epoch)
    if not rows.any():
        return None
    number = epoch_number(log.epoch)
    return {float(n): float(v) for n, v in zip(number[rows], log.epoch_loss[rows], strict=True)}


def eval_levels(
    step: npt.NDArray[np.int64], loss: FloatArray, eval_step: npt.NDArray[np.int64]
) -> tuple[FloatArray, FloatArray]:
    """The training level at each evaluation (median of the ``WINDOW`` training losses
    logged nearest it, centred on the latest at or before it) and that median's standard
    error; NaN before the first training loss."""
    levels = np.full(eval_step.size, np.nan)
    errors = np.full(eval_step.size, np.nan)
    for k, s in enumerate(eval_step):
        j = int(np.searchsorted(step, s, side="right")) - 1
        if j < 0:
            continue
        half = WINDOW // 2
        levels[k], errors[k] = _level(loss[max(0, j - half) : j + half + 1])
    return levels, errors


def eval_scaling(
    eval_step: npt.NDArray[np.int64], eval_loss: FloatArray, train_level: FloatArray
) -> tuple[list[Artefact], int | None]:
    """Training losses a near-integer multiple of the evaluation losses at every evaluation:
    the loss logged multiplied by the gradient-accumulation steps, over the whole run. Also
    the factor when it is certain (the only integer that fits), which the check divides out;
    ``None`` when several fit or none."""
    ok = np.isfinite(train_level) & (eval_loss > 0)
    if ok.sum() < 2:
        return [], None
    ratio = train_level[ok] / eval_loss[ok]
    # The factor is an integer the ratio sits within SCALED_SLACK of at every evaluation;
    # the training loss may honestly sit a little above or below the evaluation loss, so
    # the integers on either side of the ratio can both fit (16.6 times: 16 or 17).
    factors = [
        f
        for f in range(
            max(2, math.floor(ratio.min() / (1 + SCALED_SLACK))),
            math.floor(ratio.max() / (1 - SCALED_SLACK)) + 1,
        )
        if np.all(np.abs(ratio / f - 1) <= SCALED_SLACK)
    ]
    if not factors:
        return [], None
    steps = eval_step[ok]
    times = f"{ratio.min():.3g}-{ratio.max():.3g}"
    if f"{ratio.min():.3g}" == f"{ratio.max():.3g}":
        times = f"{ratio.min():.3g}"
    if len(factors) == 1:
        (factor,) = factors
        which = f"{factor}"
        then = f"the check divides it by {factor} before reading it against the floor"
    else:
        factor = None
        which = " or ".join(map(str, factors)).replace(" or ", ", ", len(factors) - 2)
        which += ", whichever the run used"
        then = "divide it by that number before reading it against the floor"
    message = (
        f"the training loss is {times} times the evaluation loss at every evaluation (steps "
        f"{steps[0]}-{steps[-1]}): logged multiplied by the gradient-accumulation steps "
        f"({which}), as some Trainer versions do; {then}"
    )
    return [Artefact("grad_accumulation", int(steps[0]), message)], factor


def scaling(
    step: npt.NDArray[np.int64], loss: FloatArray, boundaries: Sequence[EpochBoundary] = ()
) -> list[Artefact]:
    """Jumps of the loss by a near-integer factor between two flat stretches. A drop at an
    epoch boundary is named but not explained away: memorization drops the loss there too,
    and an exact factor (a halving) is no proof of a logging bug."""
    found = []
    w = MIN_RUN
    at = [b.step for b in boundaries]
    for i in range(w, len(loss) - w + 1):
        before, after = loss[i - w : i], loss[i : i + w]
        hi, lo = np.median(before), np.median(after)
        if lo <= 0 or hi <= 0:
            continue
        ratio = max(hi / lo, lo / hi)
        factor = round(ratio)
        jump = abs(hi - lo)
        flat = np.ptp(before) < FLAT_SHARE * jump and np.ptp(after) < FLAT_SHARE * jump
        if factor >= 2 and abs(ratio - factor) <= INTEGER_TOLERANCE * factor and flat:
            direction = "falls" if hi > lo else "rises"
            seen = (
                f"at step {step[i]} the loss {direction} from {hi:.3g} to {lo:.3g}, a factor of "
                f"{ratio:.3f}, close to {factor}: with gradient accumulation of {factor} "
            )
            if hi > lo and any(step[i - 1] <= b <= step[i] for b in at):
                why = (
                    "this may be the logging bug of some Trainer versions (loss multiplied by "
                    "the accumulation steps), but it is at an epoch boundary, where a model "
                    "that reproduces its training text drops too: the factor alone does not "
                    "explain it"
                )
            else:
                why = (
                    "this is the logging bug of some Trainer versions (loss multiplied by the "
                    "accumulation steps), not a change in the model"
                )
            found.append(Artefact("grad_accumulation", int(step[i]), seen + why))
    return found


def artefacts_at(
    boundaries: Sequence[EpochBoundary],
    log: LossLog,
    step: npt.NDArray[np.int64],
    loss: FloatArray,
    epoch: FloatArray,
) -> list[Artefact]:
    """Learning-rate restarts and running-mean resets at the epoch boundaries."""
    found = []
    number = epoch_number(epoch)
    lr = log.learning_rate[np.isfinite(log.learning_rate)]
    lr_step = log.step[np.isfinite(log.learning_rate)]
    running = log.format not in INTERVAL_MEAN_FORMATS and not log.loss_field.endswith("_step")
    for b in boundaries:
        seen = lr[lr_step <= b.step]
        peak = float(seen.max()) if seen.size else math.nan
        decayed = b.lr_before < DECAYED_SHARE * peak
        if np.isfinite(b.lr_before) and b.lr_after > RESTART_RISE * b.lr_before and decayed:
            found.append(
                Artefact(
                    "lr_restart",
                    b.step,
                    f"the learning rate restarts at step {b.step} (from {b.lr_before:.3g} to "
                    f"{b.lr_after:.3g}, after a peak of {peak:.3g}): a new schedule or a "
                    "resumed run; a loss change here may come from the schedule",
                )
            )
        epoch_rows = np.flatnonzero(number == b.epoch - 1)
        implied = _running_average_end(step, loss, epoch_rows) if running else None
        if (
            implied is not None
            and b.drop > 0
            and abs(implied - b.loss_after) <= RESET_MATCH * b.drop
        ):
            found.append(
                Artefact(
                    "running_average",
                    b.step,
                    f"the loss before step {b.step} looks like a running mean since the start "
                    f"of the epoch: its changes shrink as the epoch goes on, and the per-step "
                    f"losses it implies (n*A_n - (n-1)*A_(n-1)) reach {implied:.3g} by the end "
                    f"of the epoch, which explains the drop from {b.loss_before:.3g} to "
                    f"{b.loss_after:.3g} as the average resetting, not as memorization",
                )
            )
    return found


def _running_average_end(
    step: npt.NDArray[np.int64], loss: FloatArray, rows: npt.NDArray[np.intp]
) -> float | None:
    """If the epoch's logged losses ``rows`` are a running mean since its start, the per-step
    loss they imply at its end; else None."""
    if len(rows) < RUNNING_MEAN_POINTS:
        return None
    first = rows[0]
    interval = step[first + 1] - step[first]
    start = step[first - 1] if first > 0 else step[first] - interval
    n = (step[rows] - start).astype(np.float64)
    a = loss[rows]
    changes = np.abs(np.diff(a))
    third = len(changes) // 3
    # A running mean's changes shrink like 1/n; a raw (noisy) loss's do not.
    if not np.median(changes[-third:]) < SHRINK * np.median(changes[:third]):
        return None
    implied = np.diff(a * n) / np.diff(n)
    if (implied <= 0).any():
        return None
    return float(np.median(implied[-MIN_RUN:]))
