"""Detectors on a loss curve: epoch boundaries and the logging or schedule artefacts that
change the curve without memorization (gradient-accumulation scaling, running means that
reset each epoch, learning-rate restarts)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .log import FloatArray, LossLog
from .result import Artefact, EpochBoundary

__all__ = ["MIN_RUN", "artefacts_at", "boundaries_of", "epoch_index", "scaling"]


#: Consecutive logged losses under a bound before it counts: one noisy batch is not a trend.
MIN_RUN = 3
#: Logged points each side of an epoch boundary or a jump that are compared (medians).
WINDOW = 5
#: How close a loss ratio must be to an integer (relative) to suggest a scaling factor.
INTEGER_TOLERANCE = 0.03


def epoch_index(epoch: FloatArray) -> FloatArray:
    # The Trainer logs fractional progress (epoch 1 ends at 1.0, 1.01 is in epoch 2); Lightning
    # logs the 0-based index. Rounding up numbers both consistently.
    return np.ceil(epoch - 1e-9)


def boundaries_of(
    log: LossLog, step: npt.NDArray[np.int64], loss: FloatArray, epoch: FloatArray
) -> tuple[EpochBoundary, ...]:
    known = np.isfinite(epoch)
    index = epoch_index(epoch)
    out = []
    for i in np.flatnonzero(known[1:] & known[:-1] & (index[1:] != index[:-1])) + 1:
        start = max(0, i - WINDOW)
        same_before = index[start:i] == index[i - 1]
        same_after = index[i : i + WINDOW] == index[i]
        lr = log.learning_rate[np.isin(log.step, step[i - 1 : i + WINDOW])]
        lr_before = float(lr[0]) if lr.size else math.nan
        after = lr[1:][np.isfinite(lr[1:])]
        out.append(
            EpochBoundary(
                step=int(step[i]),
                epoch=float(epoch[i]),
                loss_before=float(np.median(loss[start:i][same_before])),
                loss_after=float(np.median(loss[i : i + WINDOW][same_after])),
                lr_before=lr_before,
                lr_after=float(after.max()) if after.size else math.nan,
            )
        )
    return tuple(out)


def scaling(step: npt.NDArray[np.int64], loss: FloatArray) -> list[Artefact]:
    """Jumps of the loss by a near-integer factor between two flat stretches."""
    found = []
    w = MIN_RUN
    for i in range(w, len(loss) - w + 1):
        before, after = loss[i - w : i], loss[i : i + w]
        hi, lo = np.median(before), np.median(after)
        if lo <= 0 or hi <= 0:
            continue
        ratio = max(hi / lo, lo / hi)
        factor = round(ratio)
        jump = abs(hi - lo)
        flat = np.ptp(before) < 0.25 * jump and np.ptp(after) < 0.25 * jump
        if factor >= 2 and abs(ratio - factor) <= INTEGER_TOLERANCE * factor and flat:
            direction = "falls" if hi > lo else "rises"
            found.append(
                Artefact(
                    "grad_accumulation",
                    int(step[i]),
                    f"at step {step[i]} the loss {direction} from {hi:.3g} to {lo:.3g}, a "
                    f"factor of {ratio:.3f}, close to {factor}: with gradient accumulation of "
                    f"{factor} this is the logging bug of some Trainer versions (loss multiplied "
                    "by the accumulation steps), not a change in the model",
                )
            )
    return found


def artefacts_at(
    boundaries: Sequence[EpochBoundary],
    log: LossLog,
    step: npt.NDArray[np.int64],
    loss: FloatArray,
    epoch: FloatArray,
) -> list[Artefact]:
    found = []
    index = epoch_index(epoch)
    for b in boundaries:
        if np.isfinite(b.lr_before) and b.lr_after > 1.5 * b.lr_before:
            found.append(
                Artefact(
                    "lr_restart",
                    b.step,
                    f"the learning rate restarts at step {b.step} (from {b.lr_before:.3g} to "
                    f"{b.lr_after:.3g}): a new schedule or a resumed run; a loss change here may "
                    "come from the schedule",
                )
            )
        i = int(np.searchsorted(step, b.step))
        epoch_rows = np.flatnonzero(index[:i] == index[i - 1])
        implied = _running_average_end(step, loss, epoch_rows)
        if implied is not None and b.drop > 0 and abs(implied - b.loss_after) <= 0.5 * b.drop:
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
    if len(rows) < 6:
        return None
    first = rows[0]
    interval = step[first + 1] - step[first]
    start = step[first - 1] if first > 0 else step[first] - interval
    n = (step[rows] - start).astype(np.float64)
    a = loss[rows]
    changes = np.abs(np.diff(a))
    third = len(changes) // 3
    # A running mean's changes shrink like 1/n; a raw (noisy) loss's do not.
    if not np.median(changes[-third:]) < 0.5 * np.median(changes[:third]):
        return None
    implied = np.diff(a * n) / np.diff(n)
    if (implied <= 0).any():
        return None
    return float(np.median(implied[-MIN_RUN:]))
