"""What a check returns: the verdict, its epoch boundaries, artefacts and per-example part."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt

from .._types import FloatArray, PathLike
from .log import LossLog

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Artefact", "EpochBoundary", "PerSample", "Status", "Verdict"]

Status = Literal["memorization", "approaching", "above", "inconclusive"]


@dataclass(frozen=True)
class EpochBoundary:
    """The start of an epoch, and the training loss on either side of it.

    Attributes
    ----------
    step : int
        Where the epoch changes: interpolated where the Trainer's fractional epoch crosses
        the whole number, or midway between the logged points either side (Lightning's
        epoch index has no fraction).
    epoch : float
        The number of the epoch that starts there, counted from 1 (2 at the first boundary)
        whichever way the log numbers epochs.
    loss_before, loss_after : float
        The training loss level of each epoch, nats/token: the epoch means where the log has
        them (Lightning's ``train_loss_epoch``), else the median of up to 5 logged points.
    lr_before, lr_after : float
        Learning rate at the last point before and the highest of the first points after
        (``NaN`` when not logged).
    noise : float
        Twice the standard error of ``drop`` from the spread of the points either side
        (``NaN`` when it cannot be told: fewer than 3 points, or logged epoch means).
    """

    step: int
    epoch: float
    loss_before: float
    loss_after: float
    lr_before: float
    lr_after: float
    noise: float = math.nan

    @property
    def drop(self) -> float:
        """How far the loss fell across the boundary, nats/token (negative: it rose)."""
        return self.loss_before - self.loss_after

    @property
    def within_noise(self) -> bool:
        """Whether the drop is smaller than the noise of the levels it compares."""
        return bool(abs(self.drop) <= self.noise)


@dataclass(frozen=True)
class Artefact:
    """A logging or schedule pattern that changes the loss curve without memorization.

    Attributes
    ----------
    kind : {"grad_accumulation", "running_average", "lr_restart"}
        Which pattern.
    step : int
        Where it shows.
    message : str
        What was seen and what it means.
    """

    kind: str
    step: int
    message: str


@dataclass(frozen=True)
class PerSample:
    """Per-example losses against the floor.

    Attributes
    ----------
    ids : tuple of str
        Example ids (row numbers when the file has none).
    loss : numpy.ndarray
        Mean loss of each example, nats/token.
    tokens : numpy.ndarray
        Tokens of each example (``NaN`` when not given).
    share_below_lower, share_below_point : float
        Share of examples whose loss is under the floor's lower end / point.
    token_share_below_lower : float or None
        The same weighted by tokens, when token counts are given.
    worst : tuple of (str, float) pairs
        Up to 10 examples furthest below the floor: id and margin (loss - point, negative).
    histogram : tuple of (numpy.ndarray, numpy.ndarray)
        Counts and bin edges of the losses (20 bins).
    notes : tuple of str
        What the reader dropped.
    """

    ids: tuple[str, ...]
    loss: FloatArray
    tokens: FloatArray
    share_below_lower: float
    share_below_point: float
    token_share_below_lower: float | None
    worst: tuple[tuple[str, float], ...]
    histogram: tuple[npt.NDArray[np.int64], FloatArray]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """A training log checked against the entropy floor, as returned by :func:`check`.

    Every loss and floor figure is in nats per token of the model's tokenizer (the floor is
    converted when it was estimated with another tokenizer; see ``conversion``).

    Attributes
    ----------
    status : {"memorization", "approaching", "above", "inconclusive"}
        Where the training loss goes. ``memorization``: a sustained stretch under the floor
        (the entropy rate's lower end) after the first epoch. ``inconclusive``: inside the
        rate's interval; or under it where an honest model cannot go (in the first epoch, or
        with the evaluation loss under it too), which says the floor is too high; or a floor
        too uncertain to call it; or a loss that is not a cross-entropy (``log.objective``:
        DPO, GRPO), where the check does not apply. ``approaching``: under h_n of n-gram
        statistics but above the rate, normal for a model with long context. ``above``:
        none of these (isolated points under or inside the floor, fewer than 3 in a row, are
        named in the headline).
    headline : str
        The verdict in one plain sentence, with step, epoch and margin; for memorization,
        the whole extent under the floor and its deepest point.
    caveats : tuple of str
        What qualifies it: floor quality, unit conversion, loss masks, logging artefacts.
    floor_point, floor_lower, floor_upper : float
        The floor and its interval.
    conversion : str or None
        How the floor was converted to the model's tokenizer, if it was.
    step, epoch, loss, margin : numpy.ndarray
        Each logged training loss, its step and epoch, and ``loss - floor_point``. A loss
        logged multiplied by the gradient-accumulation steps over the whole run (a whole
        multiple of the evaluation loss, only one multiple fitting) is divided by it here,
        and the status is read from the divided loss (the headline says so).
    first_under_lower, first_under_point : int or None
        First step whose training loss is under the floor's lower end / point.
    sustained_from, sustained_until : int or None
        The first stretch of at least 3 consecutive logged losses under the lower end.
    points_under_lower : int
        How many logged training losses are under the lower end.
    boundaries : tuple of EpochBoundary
        Epoch boundaries and the loss drop across each.
    artefacts : tuple of Artefact
        Logging and schedule patterns that can fake or explain a drop.
    eval_step, eval_loss, eval_gap : numpy.ndarray
        Evaluation losses, and their gap to the latest training loss logged at or before.
    per_sample : PerSample or None
        Per-example losses, when given.
    log : LossLog
        The log checked (with its training losses divided, as above, when they were).
    tokenizer : dict or None
        The floor's tokenizer (``name`` and ``hash``), when the floor names one.

    Examples
    --------
    >>> import fastentropy as fe
    >>> floor = fe.Floor.from_summary(2.0, 1.9, 2.1)
    >>> log = fe.LossLog(step=[1, 2, 3, 4, 5], loss=[2.6, 2.4, 1.5, 1.4, 1.4])
    >>> v = fe.check(log, floor)
    >>> v.status, v.first_under_lower, v.margin.round(2).tolist()
    ('memorization', 3, [0.6, 0.4, -0.5, -0.6, -0.6])
    """

    status: Status
    headline: str
    caveats: tuple[str, ...]
    floor_point: float
    floor_lower: float
    floor_upper: float
    conversion: str | None
    step: npt.NDArray[np.int64]
    epoch: FloatArray
    loss: FloatArray
    margin: FloatArray
    first_under_lower: int | None
    first_under_point: int | None
    sustained_from: int | None
    sustained_until: int | None
    points_under_lower: int
    boundaries: tuple[EpochBoundary, ...]
    artefacts: tuple[Artefact, ...]
    eval_step: npt.NDArray[np.int64]
    eval_loss: FloatArray
    eval_gap: FloatArray
    per_sample: PerSample | None
    log: LossLog
    tokenizer: Mapping[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The verdict as plain JSON-ready data (``None`` for NaN)."""
        ps = self.per_sample
        return {
            "status": self.status,
            "headline": self.headline,
            "caveats": list(self.caveats),
            "unit": "nats/token",
            "floor": {
                "point": self.floor_point,
                "lower": self.floor_lower,
                "upper": self.floor_upper,
                "conversion": self.conversion,
                "tokenizer": None if self.tokenizer is None else dict(self.tokenizer),
            },
            "log": {
                "source": self.log.source,
                "format": self.log.format,
                "loss_field": self.log.loss_field,
                "objective": self.log.objective,
                "notes": list(self.log.notes),
            },
            "first_under_lower": self.first_under_lower,
            "first_under_point": self.first_under_point,
            "sustained_from": self.sustained_from,
            "sustained_until": self.sustained_until,
            "points_under_lower": self.points_under_lower,
            "steps": {
                "step": self.step.tolist(),
                "epoch": _plain(self.epoch),
                "loss": _plain(self.loss),
                "margin": _plain(self.margin),
            },
            "boundaries": [
                {
                    "step": b.step,
                    "epoch": _plain(b.epoch),
                    "loss_before": b.loss_before,
                    "loss_after": b.loss_after,
                    "drop": b.drop,
                    "lr_before": _plain(b.lr_before),
                    "lr_after": _plain(b.lr_after),
                    "noise": _plain(b.noise),
                }
                for b in self.boundaries
            ],
            "artefacts": [
                {"kind": a.kind, "step": a.step, "message": a.message} for a in self.artefacts
            ],
            "eval": {
                "step": self.eval_step.tolist(),
                "loss": _plain(self.eval_loss),
                "gap": _plain(self.eval_gap),
            },
            "per_sample": None
            if ps is None
            else {
                "examples": len(ps.ids),
                "share_below_lower": ps.share_below_lower,
                "share_below_point": ps.share_below_point,
                "token_share_below_lower": ps.token_share_below_lower,
                "worst": [{"id": i, "margin": m} for i, m in ps.worst],
                "histogram": {
                    "counts": ps.histogram[0].tolist(),
                    "edges": ps.histogram[1].tolist(),
                },
                "notes": list(ps.notes),
            },
        }

    def to_json(self, path: PathLike | None = None) -> str:
        """The verdict as JSON text (written to ``path`` too, if given)."""
        text = json.dumps(self.to_dict(), indent=1)
        if path is not None:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        return text

    def __str__(self) -> str:
        from .report import report

        return report(self)

    def __repr__(self) -> str:
        low = int(np.argmin(self.loss))
        return (
            f"Verdict({self.status}: lowest {self.loss[low]:.4g} nats/token at step "
            f"{self.step[low]}, floor {self.floor_point:.4g} [{self.floor_lower:.4g}, "
            f"{self.floor_upper:.4g}] nats/token, {len(self.step)} losses)"
        )

    def _repr_html_(self) -> str:
        """A notebook's view: the status and headline, then the figures as a table."""
        from html import escape

        low = int(np.argmin(self.loss))
        rows = [
            ("floor", f"{self.floor_point:.4g} nats/token, interval "
             f"{self.floor_lower:.4g}-{self.floor_upper:.4g}"),
            ("lowest loss", f"{self.loss[low]:.4g} nats/token at step {self.step[low]}"),
            ("under the lower end", f"{self.points_under_lower} of {len(self.step)} losses"),
            ("epoch boundaries", str(len(self.boundaries))),
            ("log", f"{self.log.source or '(in memory)'} ({self.log.format})"),
            *(("caveat", c) for c in self.caveats),
        ]  # fmt: skip
        body = "".join(
            f"<tr><th style='text-align:left'>{escape(k)}</th>"
            f"<td style='text-align:left'>{escape(v)}</td></tr>"
            for k, v in rows
        )
        return f"<p><b>{escape(self.status)}</b>: {escape(self.headline)}</p><table>{body}</table>"

    def to_frame(self) -> Any:
        """The logged training losses as a pandas DataFrame (pandas is imported here).

        Columns: ``step``, ``epoch``, ``loss``, ``margin`` (``loss - floor_point``) and
        ``under_lower`` (under the floor's lower end), one row per logged training loss.

        Raises
        ------
        ImportError
            pandas is not installed.
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Verdict.to_frame needs pandas: pip install pandas") from None
        return pd.DataFrame(
            {
                "step": self.step,
                "epoch": self.epoch,
                "loss": self.loss,
                "margin": self.margin,
                "under_lower": self.loss < self.floor_lower,
            }
        )

    def plot(
        self,
        path: PathLike | None = None,
        *,
        ax: Axes | None = None,
        width: int = 960,
        height: int = 540,
        dpi: int = 100,
    ) -> Figure:
        """Draw the loss curves against the floor band; return the figure.

        Training (and evaluation) loss against step, the floor's interval as a band with its
        point as a line, epoch boundaries as dotted lines, and the stretches where the
        training loss is under the lower end shaded. No pyplot and no global backend: the
        figure is a ``matplotlib.figure.Figure`` of its own (shown by a notebook, saved by
        ``path`` or ``fig.savefig``).

        Parameters
        ----------
        path : str or os.PathLike, optional
            Write the figure here too; the extension picks the format (.png, .pdf, .svg).
        ax : matplotlib.axes.Axes, optional
            Draw into these axes (of a figure of yours) instead of a new figure.
        width, height : int, default 960, 540
            Size in pixels of a new figure (for raster formats, at ``dpi``).
        dpi : int, default 100
            Dots per inch.

        Returns
        -------
        matplotlib.figure.Figure
            The figure drawn on (``ax.figure`` when ``ax`` is given).

        Raises
        ------
        ImportError
            matplotlib is not installed (``pip install 'fastentropy[plot]'``).
        """
        from .plot import draw

        return draw(self, path, ax=ax, width=width, height=height, dpi=dpi)


def _plain(x: Any) -> Any:
    """NaN as None (JSON has no NaN), arrays as lists."""
    if isinstance(x, np.ndarray):
        return [_plain(v) for v in x.tolist()]
    return None if isinstance(x, float) and not math.isfinite(x) else x
