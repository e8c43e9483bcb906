"""Training-log readers: the loss curve of a run, from the files trainers write."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .._records import csv_records, jsonl_records, parse_dict
from .._records import number as to_number
from .._types import PathLike
from .log import FORMATS, STEP_LIMIT, Format, LossLog

__all__ = ["read_losses"]

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
    # Last: a log with only epoch-level logging (Lightning's on_epoch=True, on_step=False).
    "train_loss_epoch",
    "train/loss_epoch",
)
# The mean training loss over an epoch, logged beside the per-batch loss (Lightning with
# on_epoch=True): the level to compare across an epoch boundary, when present.
_EPOCH_LOSS = ("train_loss_epoch", "train/loss_epoch", "loss_epoch")
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
_ROLES = ("epoch", "loss", "eval_loss", "learning_rate", "tokens", "epoch_loss")
# Losses that are not a cross-entropy, told by the fields logged beside them (TRL's names):
# a preference loss (DPO, IPO, KTO, ORPO) starts near ln 2; a policy-gradient loss (GRPO,
# PPO, RLOO) sits near 0. Neither can be compared with an entropy.
_PREFERENCE = ("rewards/chosen", "rewards/rejected", "logps/chosen", "logps/rejected")
_POLICY = ("kl", "reward", "reward_std", "completion_length", "objective/kl")
# The console reader's step, from the progress bar printed before a dict (not a log field).
_PROGRESS_STEP = "\x00progress step"
# A tqdm bar: "| 120/1000 [" (count/total then the elapsed-time bracket).
_BAR = re.compile(r"(\d+)/(\d+) \[")


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
        first = parse_dict(lines[0])
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
    if not history:
        raise ValueError(
            f"{name}: log_history is empty: the Trainer logged nothing (a run shorter than "
            "logging_steps, or a state saved before the first log)"
        )
    for i, record in enumerate(history):
        if not isinstance(record, dict):
            raise ValueError(f"{name}: log_history[{i}] is not an object")
        yield f"log_history[{i}]", record


def _console(text: str, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    # Progress bars share lines with the dicts (tqdm writes "\r"): take the text from the
    # first "{" to the last "}" of each line; lines that hold no dict are other output.
    # The dicts carry no step; the training bar printed before each one does. It is the bar
    # with the largest total (evaluation bars count the eval batches, fewer than the steps).
    bars: dict[int, int] = {}
    for number, line in enumerate(text.splitlines(), 1):
        start, end = line.find("{"), line.rfind("}")
        if start < 0 or end < start:
            start = end = len(line)
        for m in _BAR.finditer(line[:start]):
            bars[int(m.group(2))] = int(m.group(1))
        record = parse_dict(line[start : end + 1]) if start < len(line) else None
        if record is not None:
            if bars:
                record[_PROGRESS_STEP] = bars[max(bars)]
            yield f"line {number}", record
        for m in _BAR.finditer(line[end + 1 :]):
            bars[int(m.group(2))] = int(m.group(1))


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


_TEXT_READERS = {
    "trainer_state": _trainer_state,
    "jsonl": jsonl_records,
    "console": _console,
    "csv": csv_records,
}


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
    if not keys - {_PROGRESS_STEP}:
        raise ValueError(f"{name}: no records with any field")
    loss_key = loss_column if loss_column is not None else _choose(keys, _LOSS)
    if loss_key is None or loss_key not in keys:
        wanted = repr(loss_column) if loss_column is not None else f"any of {list(_LOSS)}"
        found = ", ".join(repr(k) for k in sorted(keys - {_PROGRESS_STEP})[:20])
        raise ValueError(
            f"{name}: no training loss ({wanted}) in any record; found {found}"
            + ("" if loss_column else "; name the field with loss_column=")
        )
    epoch_loss = _choose(keys, _EPOCH_LOSS)
    fields = {
        "loss": loss_key,
        "epoch": _choose(keys, _EPOCH),
        "eval_loss": _choose(keys, _EVAL),
        "learning_rate": _choose(keys, _LR, prefix="lr-"),
        "tokens": _choose(keys, _TOKENS),
        "epoch_loss": None if epoch_loss == loss_key else epoch_loss,
    }
    step_key = _choose(keys, _STEP)
    if step_key is None and _progress_steps_usable(records, loss_key):
        step_key = _PROGRESS_STEP
        notes.append("steps read from the training progress bar printed before each record")
    elif step_key is None:
        notes.append("no step field: a row's step is the number of training losses so far")
    rows: dict[int, dict[str, float]] = {}
    dropped: dict[str, list[int]] = {"loss": [], "eval_loss": []}
    stepless = 0
    duplicated: set[int] = set()
    back: list[tuple[int, int]] = []  # (from, to) where the steps go back
    latest = previous = replay_until = -STEP_LIMIT
    counter = 0
    for where, record in records:
        # null is a field not logged this time (LLaMA-Factory's eval_loss on training rows).
        values = {
            role: to_number(record[key], name, where, key)
            for role, key in fields.items()
            if key is not None and record.get(key) is not None
        }
        if (
            step_key is not None
            and step_key not in record
            and not (values.keys() & {"loss", "eval_loss"})
        ):
            stepless += 1  # e.g. a seq2seq run's predict_* records: nothing to place
            continue
        if step_key is None:
            counter += "loss" in values
            step = counter
        elif step_key in record:
            raw = to_number(record[step_key], name, where, step_key)
            if not (math.isfinite(raw) and raw == int(raw)):
                raise ValueError(
                    f"{name}: {where}: step {record[step_key]!r} is not a whole number"
                )
            if not -STEP_LIMIT <= raw < STEP_LIMIT:
                raise ValueError(
                    f"{name}: {where}: step {record[step_key]!r} is too large for a step "
                    "count (steps are below 2**63)"
                )
            step = int(raw)
        else:
            raise ValueError(f"{name}: {where}: a record without {step_key!r}")
        if step < previous:  # once per jump back, not for each step replayed after it
            back.append((previous, step))
            replay_until = latest
        latest, previous = max(latest, step), step
        row = rows.setdefault(step, {})
        for role, value in values.items():
            if role in dropped and not math.isfinite(value):
                dropped[role].append(step)
                continue
            if role in dropped and role in row and step > replay_until:
                duplicated.add(step)
            row[role] = value
    if stepless:
        notes.append(
            f"skipped {stepless} record(s) without {step_key!r} and without a loss "
            "(e.g. prediction or run-level metrics)"
        )
    for role, steps in dropped.items():
        if steps:
            shown = ", ".join(map(str, steps[:5])) + (", ..." if len(steps) > 5 else "")
            notes.append(f"dropped {len(steps)} non-finite {role} value(s) (steps {shown})")
    if duplicated:
        notes.append(
            f"{len(duplicated)} step(s) logged twice (duplicated records): the later value is kept"
        )
    if back:
        times = "once" if len(back) == 1 else f"{len(back)} times"
        notes.append(
            f"the steps go back {times} (from {back[0][0]} to {back[0][1]}: a resumed run?): "
            "the later values are kept"
        )
    kept = sorted(s for s, row in rows.items() if row.keys() & {"loss", "eval_loss", "epoch_loss"})
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
        epoch_loss=columns["epoch_loss"],
        objective=_objective(keys),
        format=fmt,
        source=name,
        loss_field=loss_key,
        notes=notes,
    )


def _objective(keys: set[str]) -> str | None:
    """ "preference" or "policy-gradient" when the fields say the loss is one, else None."""
    names = {_normal(k) for k in keys}

    def logged(markers: Sequence[str]) -> bool:
        # Also under a prefix: TensorBoard and W&B write TRL's fields as "train/kl".
        return any(n == m or n.endswith("/" + m) for n in names for m in markers)

    if logged(_PREFERENCE):
        return "preference"
    if logged(_POLICY) or any(n.startswith(("rewards/", "train/rewards/")) for n in names):
        return "policy-gradient"
    return None


def _progress_steps_usable(records: list[tuple[str, dict[str, Any]]], loss_key: str) -> bool:
    """Whether the progress bar gives every training loss its own, increasing step (a bar
    redrawn too rarely leaves two records on one count: then steps count the losses)."""
    steps = [r.get(_PROGRESS_STEP) for _, r in records if r.get(loss_key) is not None]
    return (
        bool(steps)
        and all(
            isinstance(a, int) and isinstance(b, int) and a < b
            for a, b in zip([-1, *steps[:-1]], steps, strict=True)
        )
        and steps[-1] is not None
    )
