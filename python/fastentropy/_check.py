"""A training run against the entropy floor: where, by how much and how surely the loss went
under it, and the logging artefacts that only look like it did."""

from __future__ import annotations

import argparse
import json
import math
import os
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union

import numpy as np
import numpy.typing as npt

from ._floor import Floor
from ._losslog import FORMATS, LossLog, read_losses
from ._records import csv_records as _csv
from ._records import jsonl_records as _jsonl
from ._records import number as _number
from ._types import FloatArray, PathLike
from ._units import LN2

__all__ = [
    "Artefact",
    "EpochBoundary",
    "PerSample",
    "Verdict",
    "add_check_arguments",
    "check",
    "run_check",
]

Status = Literal["memorization", "approaching", "above", "inconclusive"]
Tokenizer = Union[str, Mapping[str, str], None]

#: Consecutive logged losses under a bound before it counts: one noisy batch is not a trend.
MIN_RUN = 3
#: A floor interval wider than this share of its point cannot tell "just under" from "just
#: above", so crossings of it are inconclusive.
WIDE_INTERVAL = 0.25
#: Logged points each side of an epoch boundary or a jump that are compared (medians).
WINDOW = 5
#: How close a loss ratio must be to an integer (relative) to suggest a scaling factor.
INTEGER_TOLERANCE = 0.03


@dataclass(frozen=True)
class EpochBoundary:
    """The start of an epoch, and the training loss on either side of it.

    Attributes
    ----------
    step : int
        The first logged step of the new epoch.
    epoch : float
        The epoch value logged there.
    loss_before, loss_after : float
        Median training loss of up to 5 logged points before and after, nats/token.
    lr_before, lr_after : float
        Learning rate at the last point before and the highest of the first points after
        (``NaN`` when not logged).
    """

    step: int
    epoch: float
    loss_before: float
    loss_after: float
    lr_before: float
    lr_after: float

    @property
    def drop(self) -> float:
        """How far the loss fell across the boundary, nats/token (negative: it rose)."""
        return self.loss_before - self.loss_after


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
        too uncertain to call it. ``approaching``: under h_n of n-gram statistics but above
        the rate, normal for a model with long context. ``above``: none of these.
    headline : str
        The verdict in one plain sentence, with step, epoch and margin.
    caveats : tuple of str
        What qualifies it: floor quality, unit conversion, loss masks, logging artefacts.
    floor_point, floor_lower, floor_upper : float
        The floor and its interval.
    conversion : str or None
        How the floor was converted to the model's tokenizer, if it was.
    step, epoch, loss, margin : numpy.ndarray
        Each logged training loss, its step and epoch, and ``loss - floor_point``.
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
        The log checked.

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
            },
            "log": {
                "source": self.log.source,
                "format": self.log.format,
                "loss_field": self.log.loss_field,
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
        return _report(self)

    def plot(self, path: PathLike, *, width: int = 960, height: int = 540, dpi: int = 100) -> None:
        """Draw the loss curves against the floor band and write the figure to ``path``.

        Training (and evaluation) loss against step, the floor's interval as a band with its
        point as a line, epoch boundaries as dotted lines, and the stretches where the
        training loss is under the lower end shaded.

        Parameters
        ----------
        path : str or os.PathLike
            The file; its extension picks the format (.png, .pdf, .svg).
        width, height : int, default 960, 540
            Size in pixels (for raster formats, at ``dpi``).
        dpi : int, default 100
            Dots per inch.

        Raises
        ------
        ImportError
            matplotlib is not installed (``pip install 'fastentropy[plot]'``).
        """
        try:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure
        except ImportError:
            raise ImportError(
                "Verdict.plot needs matplotlib: pip install 'fastentropy[plot]'"
            ) from None
        # A Figure of its own (no pyplot): no global state, safe from threads, nothing to close.
        fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ax.axhspan(
            self.floor_lower,
            self.floor_upper,
            color="tab:red",
            alpha=0.15,
            lw=0,
            label=f"floor interval [{self.floor_lower:.3g}, {self.floor_upper:.3g}]",
        )
        ax.axhline(
            self.floor_point,
            color="tab:red",
            lw=1.2,
            label=f"floor {self.floor_point:.3g} nats/token",
        )
        ax.plot(self.step, self.loss, color="tab:blue", lw=1.3, label="training loss")
        under = self.loss < self.floor_lower
        if under.any():
            ax.fill_between(
                self.step,
                self.loss,
                self.floor_lower,
                where=under,
                interpolate=True,
                color="tab:red",
                alpha=0.45,
                lw=0,
                label="under the floor",
            )
        if self.eval_step.size:
            ax.plot(
                self.eval_step,
                self.eval_loss,
                "o-",
                color="tab:orange",
                ms=4,
                lw=1,
                label="evaluation loss",
            )
        for i, b in enumerate(self.boundaries):
            ax.axvline(
                b.step, color="0.4", ls=":", lw=1, label="epoch boundary" if i == 0 else None
            )
        for a in self.artefacts:
            ax.annotate(
                a.kind.replace("_", " "),
                (a.step, ax.get_ylim()[1]),
                va="top",
                fontsize=7,
                color="0.3",
                rotation=90,
            )
        ax.set_xlabel("step")
        ax.set_ylabel("loss, nats/token")
        ax.set_title(f"Training loss vs entropy floor: {self.status}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")
        fig.tight_layout()
        fig.savefig(os.fspath(path), dpi=dpi)


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
    boundaries = _boundaries(log, step, loss, epoch)
    artefacts = _scaling(step, loss) + _artefacts_at(boundaries, log, step, loss, epoch)
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
        per_sample=None if per_sample is None else _per_sample(per_sample, point, lower),
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
    index = _epoch_index(epoch)
    return bool(index[i] == index[known[0]])


def _epoch_index(epoch: FloatArray) -> FloatArray:
    # The Trainer logs fractional progress (epoch 1 ends at 1.0, 1.01 is in epoch 2); Lightning
    # logs the 0-based index. Rounding up numbers both consistently.
    return np.ceil(epoch - 1e-9)


def _boundaries(
    log: LossLog, step: npt.NDArray[np.int64], loss: FloatArray, epoch: FloatArray
) -> tuple[EpochBoundary, ...]:
    known = np.isfinite(epoch)
    index = _epoch_index(epoch)
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


def _scaling(step: npt.NDArray[np.int64], loss: FloatArray) -> list[Artefact]:
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


def _artefacts_at(
    boundaries: Sequence[EpochBoundary],
    log: LossLog,
    step: npt.NDArray[np.int64],
    loss: FloatArray,
    epoch: FloatArray,
) -> list[Artefact]:
    found = []
    index = _epoch_index(epoch)
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


_ID = ("id", "idx", "index", "example_id", "sample_id", "uid")
_SAMPLE_LOSS = ("loss", "nll", "mean_loss", "loss_per_token")
_SAMPLE_TOKENS = ("tokens", "n_tokens", "num_tokens", "token_count", "ntokens", "length")


def _per_sample(path: PathLike, point: float, lower: float) -> PerSample:
    name = os.fspath(path)
    with open(name, encoding="utf-8-sig") as f:
        text = f.read()
    reader = _jsonl if text.lstrip().startswith("{") else _csv
    records = list(reader(text, str(name)))
    if not records:
        raise ValueError(f"{name}: no per-example losses")
    keys = {k.lower(): k for k in records[0][1]}
    loss_key = next((keys[k] for k in _SAMPLE_LOSS if k in keys), None)
    if loss_key is None:
        raise ValueError(
            f"{name}: no loss column (one of {list(_SAMPLE_LOSS)}) in {sorted(records[0][1])}"
        )
    id_key = next((keys[k] for k in _ID if k in keys), None)
    tokens_key = next((keys[k] for k in _SAMPLE_TOKENS if k in keys), None)
    ids, losses, tokens = [], [], []
    dropped = 0
    for number, (where, record) in enumerate(records):
        if loss_key not in record:
            raise ValueError(f"{name}: {where}: no {loss_key!r}")
        value = _number(record[loss_key], name, where, loss_key)
        if not math.isfinite(value):
            dropped += 1
            continue
        if value < 0:
            raise ValueError(
                f"{name}: {where}: {loss_key!r} is {value}: a cross-entropy cannot be negative; "
                "is this the right column?"
            )
        count = record.get(tokens_key) if tokens_key else None
        n = math.nan if count is None else _number(count, name, where, str(tokens_key))
        if n < 0 or math.isinf(n):
            raise ValueError(f"{name}: {where}: {tokens_key!r} is {n}, not a token count")
        ids.append(str(record[id_key]) if id_key and id_key in record else str(number))
        losses.append(value)
        tokens.append(n)
    if not losses:
        raise ValueError(f"{name}: every per-example loss is non-finite")
    loss = np.array(losses)
    weights = np.array(tokens)
    below = loss < lower
    weighted = bool(np.isfinite(weights).all())
    order = np.argsort(loss - point, kind="stable")[:10]
    counts, edges = np.histogram(loss, bins=20)
    return PerSample(
        ids=tuple(ids),
        loss=loss,
        tokens=weights,
        share_below_lower=float(below.mean()),
        share_below_point=float((loss < point).mean()),
        token_share_below_lower=float(weights[below].sum() / weights.sum()) if weighted else None,
        worst=tuple((ids[i], float(loss[i] - point)) for i in order if loss[i] < point),
        histogram=(counts.astype(np.int64), edges),
        notes=(f"dropped {dropped} non-finite per-example loss(es)",) if dropped else (),
    )


def _plain(x: Any) -> Any:
    """NaN as None (JSON has no NaN), arrays as lists."""
    if isinstance(x, np.ndarray):
        return [_plain(v) for v in x.tolist()]
    return None if isinstance(x, float) and not math.isfinite(x) else x


def _report(v: Verdict) -> str:
    wrap = textwrap.TextWrapper(width=92, initial_indent="  ", subsequent_indent="  ")
    bullet = textwrap.TextWrapper(width=92, initial_indent="  - ", subsequent_indent="    ")
    log = v.log
    lines = [
        f"Training loss vs entropy floor: {v.status.upper()}",
        *wrap.wrap(v.headline),
        "",
        f"  log     {log.source or '(in memory)'} ({log.format}, loss field {log.loss_field!r}, "
        f"{len(v.step)} training losses, steps {v.step[0]}-{v.step[-1]})",
        f"  floor   {v.floor_point:.3f} nats/token, interval {v.floor_lower:.3f}-"
        f"{v.floor_upper:.3f}",
        f"  lowest  {v.loss.min():.4g} nats/token at step {v.step[np.argmin(v.loss)]} "
        f"(margin {v.margin.min():+.3g})",
    ]
    firsts = [
        ("under the lower end", v.first_under_lower),
        ("under the point", v.first_under_point),
    ]
    for label, first in firsts:
        if first is not None:
            lines.append(f"  first   {label} at step {first}")
    if v.sustained_from is not None:
        lines.append(
            f"  under   the lower end from step {v.sustained_from} to {v.sustained_until}; "
            f"{v.points_under_lower} of {len(v.step)} logged losses under it"
        )
    if v.boundaries:
        lines += ["", "  epoch boundaries (median loss of up to 5 logged points each side):"]
        lines.append(
            f"  {'step':>9} {'epoch':>7} {'before':>8} {'after':>8} {'drop':>8}"
            f" {'lr before':>10} {'lr after':>10}"
        )
        for b in v.boundaries:
            lines.append(
                f"  {b.step:>9} {b.epoch:>7.3g} {b.loss_before:>8.4g} {b.loss_after:>8.4g} "
                f"{b.drop:>+8.3g} {b.lr_before:>10.3g} {b.lr_after:>10.3g}"
            )
    if v.eval_step.size:
        lines += [
            "",
            f"  evaluation: {v.eval_step.size} losses; last {v.eval_loss[-1]:.4g} at "
            f"step {v.eval_step[-1]} (eval - train gap {v.eval_gap[-1]:+.3g})",
        ]
    ps = v.per_sample
    if ps is not None:
        lines += [
            "",
            f"  per example: {len(ps.ids)} examples, {ps.share_below_lower:.1%} under "
            f"the floor's lower end, {ps.share_below_point:.1%} under its point",
        ]
        if ps.token_share_below_lower is not None:
            lines.append(f"    ({ps.token_share_below_lower:.1%} of their tokens)")
        for i, m in ps.worst[:5]:
            lines.append(f"    {i}: {m:+.3g} nats/token")
        lines += [f"    {n}" for n in ps.notes]
    if v.caveats:
        lines += ["", "  caveats:"]
        for c in v.caveats:
            lines += bullet.wrap(c)
    if log.notes:
        lines += ["", "  reading the log:"]
        for n in log.notes:
            lines += bullet.wrap(n)
    return "\n".join(lines)


# --- the `fastentropy check` subcommand (wired into the CLI by _cli.py) -------------------


CHECK_SUMMARY = "check a training log against the entropy floor of its data"


def add_check_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``fastentropy check``."""
    p.add_argument(
        "log",
        metavar="LOG",
        help="training log: trainer_state.json, JSON Lines, "
        "console output, CSV/TSV, or TensorBoard event file/directory",
    )
    p.add_argument(
        "--floor",
        required=True,
        metavar="FLOOR_JSON",
        help="the floor of the training data (fastentropy floor -o floor.json)",
    )
    p.add_argument("--format", choices=FORMATS, help="log format (default: detected)")
    p.add_argument("--loss-column", help="the training-loss field, if not a usual name")
    p.add_argument("--per-sample", metavar="FILE", help="per-example losses (JSONL or CSV)")
    p.add_argument("--tokenizer", help="the model's tokenizer name or hash, if not the floor's")
    p.add_argument(
        "--bytes-per-token",
        type=float,
        help="the model tokenizer's UTF-8 bytes per token on this data (converts the "
        "floor through bits per byte)",
    )
    p.add_argument("--plot", metavar="PNG", help="write the loss-vs-floor figure here")
    p.add_argument("--json", action="store_true", help="the verdict as JSON")


def run_check(args: argparse.Namespace) -> int:
    """Run ``fastentropy check``; errors are raised for the CLI to report (exit code 1)."""
    if args.plot and os.path.exists(args.plot):
        for given in (args.log, args.floor, args.per_sample):
            if given and os.path.exists(given) and os.path.samefile(args.plot, given):
                raise ValueError(f"--plot {args.plot} is the input {given}: choose another file")
    log = read_losses(args.log, format=args.format, loss_column=args.loss_column)
    verdict = check(
        log,
        args.floor,
        per_sample=args.per_sample,
        tokenizer=args.tokenizer,
        bytes_per_token=args.bytes_per_token,
    )
    if args.plot:
        verdict.plot(args.plot)
    print(verdict.to_json() if args.json else verdict)
    return 0
