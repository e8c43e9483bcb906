"""The loss curve of one training run, as arrays (what the log readers return)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .._types import FloatArray

__all__ = ["FORMATS", "STEP_LIMIT", "Format", "LossLog"]

Format = Literal["trainer_state", "jsonl", "console", "csv", "tensorboard"]
FORMATS: tuple[str, ...] = ("trainer_state", "jsonl", "console", "csv", "tensorboard")

#: Steps are int64: |step| below this.
STEP_LIMIT = 2**63


def _has_float(values: Any) -> bool:
    """Whether ``values`` holds a float (so it is read as float64, and 1e30 is not an int)."""
    if isinstance(values, np.ndarray):
        return bool(values.dtype.kind == "f")
    try:
        return any(isinstance(v, float) for v in values)
    except TypeError:
        return False


class LossLog:
    """The loss curve of one training run: one row per logged step, in step order.

    Returned by :func:`read_losses`; also built directly from arrays (losses from your own
    training loop or the W&B API). A row holds a training loss, an evaluation loss or both;
    every array has one entry per row and ``NaN`` where the row has no value.

    Parameters
    ----------
    step : array_like of int
        Optimizer steps, strictly increasing.
    loss : array_like of float
        Training loss in nats/token (``NaN`` where the row is evaluation only).
    epoch, eval_loss, learning_rate, tokens : array_like of float, optional
        Epoch (fractional as the Hugging Face Trainer logs it, or the 0-based epoch index as
        Lightning logs it), evaluation loss, learning rate and tokens seen so far.
    epoch_loss : array_like of float, optional
        The mean training loss of the epoch, on the row where the log gives it (Lightning's
        ``train_loss_epoch``): the level compared across an epoch boundary when present.
    objective : {"preference", "policy-gradient"}, optional
        Set when the loss is not a cross-entropy: a preference loss (DPO and kin) or a
        policy-gradient loss (GRPO, PPO), told by the fields logged beside it.
    format : str, default "arrays"
        Where the rows came from (a :func:`read_losses` format name).
    source : str, optional
        The file read.
    loss_field : str, default "loss"
        The name of the training-loss field in the source.
    notes : sequence of str
        What the reader did that the user should know (dropped NaN losses, repeated steps).

    Raises
    ------
    ValueError
        Arrays of different lengths, steps not strictly increasing, or no training loss.

    Examples
    --------
    >>> import fastentropy as fe
    >>> log = fe.LossLog(step=[10, 20, 30], loss=[2.5, 2.25, 2.0], epoch=[0.5, 1.0, 1.5])
    >>> len(log), log.loss.tolist(), log.eval_loss.tolist()
    (3, [2.5, 2.25, 2.0], [nan, nan, nan])
    """

    step: npt.NDArray[np.int64]
    epoch: FloatArray
    loss: FloatArray
    eval_loss: FloatArray
    learning_rate: FloatArray
    tokens: FloatArray
    epoch_loss: FloatArray

    def __init__(
        self,
        step: npt.ArrayLike,
        loss: npt.ArrayLike,
        *,
        epoch: npt.ArrayLike | None = None,
        eval_loss: npt.ArrayLike | None = None,
        learning_rate: npt.ArrayLike | None = None,
        tokens: npt.ArrayLike | None = None,
        epoch_loss: npt.ArrayLike | None = None,
        objective: str | None = None,
        format: str = "arrays",
        source: str | None = None,
        loss_field: str = "loss",
        notes: Sequence[str] = (),
    ) -> None:
        try:
            steps = np.asarray(step, dtype=np.float64 if _has_float(step) else None)
        except OverflowError:
            steps = np.asarray(step, dtype=object)
        if steps.ndim != 1 or (steps.size and not np.all(np.equal(np.mod(steps, 1), 0))):
            raise ValueError("step must be a 1-D array of whole numbers")
        if steps.size and not all(
            -STEP_LIMIT <= int(s) < STEP_LIMIT for s in (steps.min(), steps.max())
        ):
            raise ValueError(
                f"step must be whole numbers below 2**63 in size, got {steps.min()}..{steps.max()}"
            )
        self.step = steps.astype(np.int64)
        n = len(self.step)
        columns = {"loss": loss, "epoch": epoch, "eval_loss": eval_loss}
        columns.update(learning_rate=learning_rate, tokens=tokens, epoch_loss=epoch_loss)
        for name, values in columns.items():
            array = np.full(n, np.nan) if values is None else np.asarray(values, dtype=np.float64)
            if array.shape != (n,):
                raise ValueError(f"{name} has shape {array.shape}; step has {n} rows")
            array.setflags(write=False)
            setattr(self, name, array)
        self.step.setflags(write=False)
        if n > 1 and not np.all(np.diff(self.step) > 0):
            i = int(np.argmin(np.diff(self.step) > 0))
            raise ValueError(
                f"steps must increase: step[{i + 1}] = {self.step[i + 1]} follows {self.step[i]}"
            )
        if not np.any(np.isfinite(self.loss)):
            raise ValueError("the log has no finite training loss")
        if objective not in (None, "preference", "policy-gradient"):
            raise ValueError(
                f"objective must be None, 'preference' or 'policy-gradient', got {objective!r}"
            )
        self.objective = objective
        self.format = format
        self.source = source
        self.loss_field = loss_field
        self.notes = tuple(notes)

    def __len__(self) -> int:
        return len(self.step)

    def __repr__(self) -> str:
        where = f" from {self.source}" if self.source else ""
        train = int(np.isfinite(self.loss).sum())
        evals = int(np.isfinite(self.eval_loss).sum())
        return (
            f"LossLog({self.format}{where}: {len(self)} rows, "
            f"steps {self.step[0]}..{self.step[-1]}, {train} training losses "
            f"({self.loss_field!r}), {evals} evaluation losses)"
        )
