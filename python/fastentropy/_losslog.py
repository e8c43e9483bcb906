"""Training-log readers: the loss curve of a run, from the files trainers write."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from ._records import csv_records as _csv
from ._records import jsonl_records as _jsonl
from ._records import number as _number
from ._records import parse_dict as _parse_dict
from ._types import FloatArray, PathLike

__all__ = ["LossLog", "read_losses"]

Format = Literal["trainer_state", "jsonl", "console", "csv", "tensorboard"]
FORMATS: tuple[str, ...] = ("trainer_state", "jsonl", "console", "csv", "tensorboard")

# Field names by role, most specific first; matched case-insensitively after dropping a
# W&B export's "<run name> - " prefix. The first name present anywhere in a file wins, so
# Lightning's per-step `train_loss_step` is preferred over its per-epoch `train_loss_epoch`.
_STEP = (
    "step",
    "global_step",
    "current_steps",
    "trainer/global_step",
    "train/global_step",
    "_step",
)
_EPOCH = ("epoch", "train/epoch", "epochs")
_LOSS = (
    "loss",
    "train_loss_step",
    "train/loss",
    "train_loss",
    "training_loss",
    "train/loss_step",
    "loss_step",
)
_EVAL = ("eval_loss", "eval/loss", "val_loss", "val/loss", "validation_loss", "valid_loss")
_LR = ("learning_rate", "lr", "train/learning_rate", "train/lr")
_TOKENS = (
    "num_input_tokens_seen",
    "num_tokens",
    "train/num_input_tokens_seen",
    "train/num_tokens",
    "tokens",
)
# A Trainer's closing record: its `train_loss` is the whole run's average, not a step's loss.
_SUMMARY_KEYS = frozenset({"train_runtime", "total_flos", "train_samples_per_second"})
_ROLES = ("epoch", "loss", "eval_loss", "learning_rate", "tokens")
#: Steps are int64: |step| below this.
_STEP_LIMIT = 2**63


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

    def __init__(
        self,
        step: npt.ArrayLike,
        loss: npt.ArrayLike,
        *,
        epoch: npt.ArrayLike | None = None,
        eval_loss: npt.ArrayLike | None = None,
        learning_rate: npt.ArrayLike | None = None,
        tokens: npt.ArrayLike | None = None,
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
            -_STEP_LIMIT <= int(s) < _STEP_LIMIT for s in (steps.min(), steps.max())
        ):
            raise ValueError(
                f"step must be whole numbers below 2**63 in size, got {steps.min()}..{steps.max()}"
            )
        self.step = steps.astype(np.int64)
        n = len(self.step)
        columns = {"loss": loss, "epoch": epoch, "eval_loss": eval_loss}
        columns.update(learning_rate=learning_rate, tokens=tokens)
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


def read_losses(
    path: PathLike, *, format: Format | None = None, loss_column: str | None = None
) -> LossLog:
    """Read the loss curve of a training run from a log file.

    Parameters
    ----------
    path : str or os.PathLike
        The log. Formats (detected from the content when ``format`` is None):

        - ``"trainer_state"``: a Hugging Face Trainer ``trainer_state.json`` (its
          ``log_history``; TRL's extra fields such as ``num_tokens`` are read too);
        - ``"jsonl"``: JSON Lines of dicts, e.g. LLaMA-Factory's ``trainer_log.jsonl``
          (``current_steps``, ``loss``, ``lr``, ``epoch``); Python dict lines are accepted;
        - ``"console"``: captured console output holding the Trainer's printed dicts
          (``{'loss': 2.1, 'learning_rate': 5e-05, 'epoch': 0.5}``) among other lines;
        - ``"csv"``: CSV or TSV with a header, e.g. Lightning's ``metrics.csv``
          (``step``, ``epoch``, ``train_loss_step``, ``val_loss``) or a W&B chart export
          (``Step``, ``<run> - train/loss``);
        - ``"tensorboard"``: an event file, or a directory searched for them (needs the
          ``tensorboard`` extra).
    format : str, optional
        One of the names above, to skip detection.
    loss_column : str, optional
        The training-loss field, when it is not one of the usual names (``loss``,
        ``train_loss_step``, ``train/loss``, ``train_loss``, ...).

    Returns
    -------
    LossLog
        One row per logged step. Without a step field (console dicts), a row's step is the
        number of training losses logged so far, and an evaluation joins the row before it.

    Raises
    ------
    FileNotFoundError, OSError
        The file cannot be read.
    ValueError
        Malformed content (truncated JSON, a non-numeric value, no training loss anywhere),
        named by file and line; an unknown ``format``.
    ImportError
        A TensorBoard event file without the ``tensorboard`` package.

    Notes
    -----
    Non-finite losses (a diverged or overflowed step) are dropped and listed in ``notes``.
    When a step is logged twice (a resumed run), the later value is kept and noted.

    Examples
    --------
    >>> import os, tempfile
    >>> import fastentropy as fe
    >>> path = os.path.join(tempfile.mkdtemp(), "trainer_log.jsonl")
    >>> with open(path, "w") as f:
    ...     _ = f.write('{"current_steps": 10, "loss": 2.5, "lr": 5e-05, "epoch": 0.5}\\n'
    ...                 '{"current_steps": 20, "loss": 2.0, "lr": 4e-05, "epoch": 1.0}\\n')
    >>> log = fe.read_losses(path)
    >>> log.format, log.step.tolist(), log.loss.tolist(), log.learning_rate.tolist()
    ('jsonl', [10, 20], [2.5, 2.0], [5e-05, 4e-05])
    """
    if format is not None and format not in FORMATS:
        raise ValueError(f"format must be one of {list(FORMATS)}, got {format!r}")
    p = Path(os.fspath(path))
    name = str(p)
    if p.is_dir():
        records: Iterable[tuple[str, dict[str, Any]]] = _tensorboard_records(p)
        fmt = "tensorboard"
    else:
        data = p.read_bytes()
        fmt = format or _detect(data, name)
        if fmt == "tensorboard":
            records = _tensorboard_records(p)
        else:
            try:
                text = data.decode("utf-8-sig")
            except UnicodeDecodeError as e:
                raise ValueError(f"{name}: not a text log (byte {e.start} is not UTF-8)") from None
            records = _TEXT_READERS[fmt](text, name)
    return _assemble(list(records), name, fmt, loss_column)


def _detect(data: bytes, name: str) -> str:
    # Every event file starts with a record holding "brain.Event:<version>".
    if b"brain.Event:" in data[:64]:
        return "tensorboard"
    text = data[:65536].decode("utf-8-sig", errors="replace")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError(f"{name}: the file is empty")
    if lines[0].startswith("{"):
        first = _parse_dict(lines[0])
        if first is None or "log_history" in first:
            return "trainer_state"  # a multi-line (or one-line) JSON document
        return "jsonl"
    if any(line.find("{'") >= 0 or line.find('{"') >= 0 for line in lines):
        return "console"
    return "csv"


def _trainer_state(text: str, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        state = json.loads(text)
    except json.JSONDecodeError as e:
        # A cut-off file fails at its end, or inside the string it was cut in.
        cut = e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated")
        hint = " (truncated file?)" if cut else ""
        raise ValueError(
            f"{name}: line {e.lineno}, column {e.colno}: invalid JSON{hint}: {e.msg}"
        ) from None
    history = state.get("log_history") if isinstance(state, dict) else None
    if not isinstance(history, list):
        raise ValueError(f"{name}: a JSON document without a 'log_history' list")
    for i, record in enumerate(history):
        if not isinstance(record, dict):
            raise ValueError(f"{name}: log_history[{i}] is not an object")
        yield f"log_history[{i}]", record


def _console(text: str, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    # Progress bars share lines with the dicts (tqdm writes "\r"): take the text from the
    # first "{" to the last "}" of each line; lines that hold no dict are other output.
    for number, line in enumerate(text.splitlines(), 1):
        start, end = line.find("{"), line.rfind("}")
        if start < 0 or end < start:
            continue
        record = _parse_dict(line[start : end + 1])
        if record is not None:
            yield f"line {number}", record


def _tensorboard_records(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        # No type information ships with tensorboard.
        from tensorboard.backend.event_processing.event_file_loader import (  # type: ignore[import-untyped]
            EventFileLoader,
        )
        from tensorboard.util import tensor_util  # type: ignore[import-untyped]
    except ImportError:
        raise ImportError(
            "reading TensorBoard event files needs the tensorboard package: "
            "pip install 'fastentropy[tensorboard]'"
        ) from None
    files = sorted(path.rglob("*tfevents*")) if path.is_dir() else [path]
    if not files:
        raise ValueError(f"{path}: no TensorBoard event files (*tfevents*) in this directory")
    for file in files:
        # The loader turns legacy simple_value scalars into tensors: one path for both.
        for i, event in enumerate(EventFileLoader(str(file)).Load()):
            if event.WhichOneof("what") != "summary":
                continue
            record: dict[str, Any] = {"step": event.step}
            for value in event.summary.value:
                if value.HasField("tensor"):
                    array = tensor_util.make_ndarray(value.tensor)
                    if array.size == 1 and array.dtype.kind in "fiu":
                        record[value.tag] = float(array.reshape(()))
            yield f"{file.name} event {i}", record


_TEXT_READERS = {"trainer_state": _trainer_state, "jsonl": _jsonl, "console": _console, "csv": _csv}


def _normal(key: str) -> str:
    return key.rsplit(" - ", 1)[-1].strip().lower()


def _choose(keys: set[str], candidates: Sequence[str], prefix: str | None = None) -> str | None:
    by_name = {_normal(k): k for k in sorted(keys) if not k.endswith(("__MIN", "__MAX"))}
    for candidate in candidates:
        if candidate in by_name:
            return by_name[candidate]
    if prefix is not None:
        for normal, key in by_name.items():
            if normal.startswith(prefix):
                return key
    return None


def _assemble(
    records: list[tuple[str, dict[str, Any]]], name: str, fmt: str, loss_column: str | None
) -> LossLog:
    notes: list[str] = []
    summaries = [r for r in records if _SUMMARY_KEYS & r[1].keys()]
    if summaries:
        records = [r for r in records if not _SUMMARY_KEYS & r[1].keys()]
        notes.append(f"skipped {len(summaries)} run-summary record(s) (whole-run averages)")
    keys = set().union(*(r.keys() for _, r in records)) if records else set()
    loss_key = loss_column if loss_column is not None else _choose(keys, _LOSS)
    if loss_key is None or loss_key not in keys:
        wanted = repr(loss_column) if loss_column is not None else f"any of {list(_LOSS)}"
        found = ", ".join(repr(k) for k in sorted(keys)[:20]) or "nothing"
        raise ValueError(
            f"{name}: no training loss ({wanted}) in any record; found {found}"
            + ("" if loss_column else "; name the field with loss_column=")
        )
    fields = {
        "loss": loss_key,
        "epoch": _choose(keys, _EPOCH),
        "eval_loss": _choose(keys, _EVAL),
        "learning_rate": _choose(keys, _LR, prefix="lr-"),
        "tokens": _choose(keys, _TOKENS),
    }
    step_key = _choose(keys, _STEP)
    if step_key is None:
        notes.append("no step field: a row's step is the number of training losses so far")
    rows: dict[int, dict[str, float]] = {}
    dropped: dict[str, list[int]] = {"loss": [], "eval_loss": []}
    repeated = 0
    counter = 0
    for where, record in records:
        values = {
            role: _number(record[key], name, where, key)
            for role, key in fields.items()
            if key is not None and key in record
        }
        if step_key is None:
            counter += "loss" in values
            step = counter
        elif step_key in record:
            raw = _number(record[step_key], name, where, step_key)
            if not (math.isfinite(raw) and raw == int(raw)):
                raise ValueError(
                    f"{name}: {where}: step {record[step_key]!r} is not a whole number"
                )
            if not -_STEP_LIMIT <= raw < _STEP_LIMIT:
                raise ValueError(
                    f"{name}: {where}: step {record[step_key]!r} is too large for a step "
                    "count (steps are below 2**63)"
                )
            step = int(raw)
        else:
            raise ValueError(f"{name}: {where}: a record without {step_key!r}")
        row = rows.setdefault(step, {})
        for role, value in values.items():
            if role in dropped and not math.isfinite(value):
                dropped[role].append(step)
                continue
            if role in dropped and role in row and row[role] != value:
                repeated += 1
            row[role] = value
    for role, steps in dropped.items():
        if steps:
            shown = ", ".join(map(str, steps[:5])) + (", ..." if len(steps) > 5 else "")
            notes.append(f"dropped {len(steps)} non-finite {role} value(s) (steps {shown})")
    if repeated:
        notes.append(
            f"{repeated} loss value(s) logged again for an earlier step (a resumed run?): "
            "the later value is kept"
        )
    kept = sorted(s for s, row in rows.items() if "loss" in row or "eval_loss" in row)
    if not any("loss" in rows[s] for s in kept):
        raise ValueError(f"{name}: every {loss_key!r} value is missing or non-finite")
    columns = {role: [rows[s].get(role, math.nan) for s in kept] for role in _ROLES}
    return LossLog(
        kept,
        columns["loss"],
        epoch=columns["epoch"],
        eval_loss=columns["eval_loss"],
        learning_rate=columns["learning_rate"],
        tokens=columns["tokens"],
        format=fmt,
        source=name,
        loss_field=loss_key,
        notes=notes,
    )
