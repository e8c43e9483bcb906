"""``fastentropy check``: a training log against the entropy floor of its data."""

from __future__ import annotations

import argparse
import os

from .._check import FORMATS, check, read_losses
from .options import positive_float_type


def build(p: argparse.ArgumentParser) -> None:
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
    p.add_argument(
        "--tokenizer",
        help="the model's tokenizer name or hash, if not the floor's (bytes: 1 byte per token)",
    )
    p.add_argument(
        "--bytes-per-token",
        type=positive_float_type,
        help="the model tokenizer's UTF-8 bytes per token on this data (converts the "
        "floor through bits per byte)",
    )
    p.add_argument("--plot", metavar="PNG", help="write the loss-vs-floor figure here")
    p.add_argument("--json", action="store_true", help="the verdict as JSON")


def run(args: argparse.Namespace) -> int:
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
