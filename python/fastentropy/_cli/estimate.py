"""``fastentropy estimate``: every entropy estimator on a profile or on counts."""

from __future__ import annotations

import argparse
import json

import numpy as np

from .._estimate import METHODS, entropies, left_out
from .._profile import Profile
from .options import (
    UsageError,
    emit,
    hanging,
    load_npy,
    parse_methods,
    positive_float_type,
    positive_int_type,
)


def build(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "input",
        metavar="PROFILE_OR_COUNTS",
        help="a profile JSON ({'ks': [...], 'mks': [...]}, or `count --json` output with "
        "--order), a .npy array of counts, or a text file of counts (whitespace-separated)",
    )
    p.add_argument("--order", type=positive_int_type, help="which order of a `count --json` file")
    p.add_argument("--methods", type=parse_methods, help="comma-separated (default: all)")
    p.add_argument(
        "--alphabet-size", type=positive_float_type, help="the number of possible outcomes K"
    )
    p.add_argument("--unit", choices=("nats", "bits"), default="nats")
    p.add_argument("--json", action="store_true", help="estimates as JSON")


def _read_profile(path: str, order: int | None) -> Profile:
    if path.endswith(".npy"):
        counts = load_npy(path, "counts")
        try:
            return Profile.from_counts(counts)
        except (ValueError, TypeError) as e:
            raise type(e)(f"{path}: {e}") from None
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValueError(
            f"{path}: not a profile JSON nor a text of counts (byte {e.start} is not UTF-8)"
        ) from None
    if not text.lstrip().startswith("{"):
        try:
            counts = np.array(text.split(), dtype=np.int64)
        except (ValueError, OverflowError):
            raise ValueError(f"{path}: expected whitespace-separated integer counts") from None
        return Profile.from_counts(counts)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a profile JSON is an object with 'ks' and 'mks' lists")
    if "orders" in data:
        available = sorted(data["orders"], key=int)
        if order is None:
            if len(available) != 1:
                raise UsageError(
                    f"{path} holds orders {', '.join(available)}: pick one with --order"
                )
            order = int(available[0])
        if str(order) not in data["orders"]:
            raise UsageError(f"{path} has no order {order}; it holds {', '.join(available)}")
        data = data["orders"][str(order)]
    if not isinstance(data, dict) or "ks" not in data or "mks" not in data:
        raise ValueError(f"{path}: a profile JSON needs 'ks' and 'mks' lists")
    try:
        return Profile(data["ks"], data["mks"])
    except (ValueError, TypeError) as e:
        raise type(e)(f"{path}: {e}") from None


def run(args: argparse.Namespace) -> int:
    profile = _read_profile(args.input, args.order)
    results = entropies(profile, args.methods, alphabet_size=args.alphabet_size, unit=args.unit)
    # Defaults leave out what does not apply here (ANSB outside its regime among them): said
    # in the table and the JSON rather than silently.
    skipped: dict[str, str] = {}
    if args.methods is None:
        for name in METHODS:
            reason = left_out(name, profile, args.alphabet_size)
            if name not in results and reason is not None:
                skipped[name] = reason
    data = {
        "n": profile.n,
        "distinct": profile.distinct,
        "unit": args.unit,
        "estimates": {
            m: {"value": e.value, "std": e.std, "warnings": list(e.notes)}
            for m, e in results.items()
        },
        "left_out": skipped,
    }
    lines = [
        f"N = {profile.n:,}, distinct = {profile.distinct:,}, singletons = {profile.singletons:,}"
    ]
    lines.append(f"{'method':<16}{'estimate':>12}{'± std':>12}   ({args.unit})")
    marked = []
    for m, e in results.items():
        std = "" if e.std is None else f"{e.std:.6f}"
        mark = "  *" if e.notes else ""
        lines.append(f"{m:<16}{e.value:>12.6f}{std:>12}{mark}")
        marked += [line for note in e.notes for line in hanging(f"* {m}: ", note)]
    for m, reason in skipped.items():
        if m == "ansb":  # the others are the usual gaps (no K, no coincidence)
            lines += hanging(f"{m:<16}{'-':>12}{'':>12}   left out: ", reason)
    emit(args, data, "\n".join(lines + marked))
    return 0
