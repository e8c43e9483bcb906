"""Per-example losses against the floor: the share under it and the examples furthest under."""

from __future__ import annotations

import math
import os

import numpy as np

from .._records import csv_records, jsonl_records
from .._records import number as to_number
from .._types import PathLike
from .result import PerSample

__all__ = ["per_sample_losses"]

#: Examples kept as the furthest under the floor: enough to open and read, few enough to list.
WORST = 10
#: Histogram bins of the per-example losses: a shape readable at a glance.
BINS = 20


_ID = ("id", "idx", "index", "example_id", "sample_id", "uid")
_SAMPLE_LOSS = ("loss", "nll", "mean_loss", "loss_per_token")
_SAMPLE_TOKENS = ("tokens", "n_tokens", "num_tokens", "token_count", "ntokens", "length")


def per_sample_losses(path: PathLike, point: float, lower: float) -> PerSample:
    name = os.fspath(path)
    with open(name, encoding="utf-8-sig") as f:
        text = f.read()
    reader = jsonl_records if text.lstrip().startswith("{") else csv_records
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
        value = to_number(record[loss_key], name, where, loss_key)
        if not math.isfinite(value):
            dropped += 1
            continue
        if value < 0:
            raise ValueError(
                f"{name}: {where}: {loss_key!r} is {value}: a cross-entropy cannot be negative; "
                "is this the right column?"
            )
        count = record.get(tokens_key) if tokens_key else None
        n = math.nan if count is None else to_number(count, name, where, str(tokens_key))
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
    order = np.argsort(loss - point, kind="stable")[:WORST]
    counts, edges = np.histogram(loss, bins=BINS)
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
