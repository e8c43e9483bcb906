"""``fastentropy xent``: streaming cross-entropy of saved logits against their targets."""

from __future__ import annotations

import argparse
from typing import Any

from .options import add_threads, count_type, emit, load_npy, positive_int_type, progress_option


def build(p: argparse.ArgumentParser) -> None:
    p.epilog = (
        "Row t of LOGITS is scored against target t. A causal language model's logits at "
        "position t predict the token at t+1: save logits[:, :-1] and input_ids[:, 1:] "
        "(shifted by one), or the loss is meaningless."
    )
    p.add_argument("logits", metavar="LOGITS", help=".npy of [tokens, vocab] (or [B, T, V]) logits")
    p.add_argument("targets", metavar="TARGETS", help=".npy of target ids, one per row (shifted)")
    p.add_argument("--dtype", help="bfloat16 when LOGITS holds bfloat16 bits as uint16")
    p.add_argument("--ignore-index", type=int, default=-100, help="targets to skip (-100)")
    p.add_argument("--segments", metavar="NPY", help="a document id per token")
    p.add_argument(
        "--n-bytes", type=positive_int_type, help="UTF-8 bytes of the text, for bits per byte"
    )
    p.add_argument("--unit", choices=("nats", "bits"), default="nats")
    p.add_argument("--chunk-mb", type=count_type, default=256, help="logits read per step (256 MB)")
    add_threads(p, "worker threads (default: all cores)")
    p.add_argument("--json", action="store_true", help="results as JSON")


def run(args: argparse.Namespace) -> int:
    from .._progress import stage
    from .._xent import CrossEntropy

    logits = load_npy(args.logits, "logits")
    targets = load_npy(args.targets, "targets")
    segments = None if args.segments is None else load_npy(args.segments, "segment ids")
    rows = logits.reshape(-1, logits.shape[-1]) if logits.ndim == 3 else logits
    if logits.ndim not in (2, 3) or targets.size != rows.shape[0]:
        raise ValueError(
            f"logits of shape {logits.shape} and {targets.size} targets do not match: expected "
            "[tokens, vocab] (or [B, T, V]) logits and one target per row"
        )
    flat_targets = targets.reshape(-1)
    flat_segments = None if segments is None else segments.reshape(-1)
    acc = CrossEntropy(unit=args.unit, ignore_index=args.ignore_index, threads=args.threads)
    step = max(1, (args.chunk_mb << 20) // max(rows.strides[0], 1))
    with stage(progress_option(args), "cross-entropy", unit="rows") as report:
        for start in range(0, rows.shape[0], step):
            stop = min(start + step, rows.shape[0])
            seg = None if flat_segments is None else flat_segments[start:stop]
            acc.update(rows[start:stop], flat_targets[start:stop], seg, dtype=args.dtype)
            if report is not None:
                report(stop, rows.shape[0])
    data: dict[str, Any] = {
        "tokens": acc.count,
        "unit": args.unit,
        "sum": acc.sum,
        "mean": acc.mean,
        "perplexity": acc.perplexity,
    }
    lines = [
        f"tokens counted: {acc.count:,} of {rows.shape[0]:,}",
        f"mean loss:      {acc.mean:.6f} {args.unit}/token (sum {acc.sum:.6f})",
        f"perplexity:     {acc.perplexity:.6f}",
    ]
    if args.n_bytes is not None:
        data["bits_per_byte"] = acc.bits_per_byte(args.n_bytes)
        lines.append(f"bits per byte:  {data['bits_per_byte']:.6f}")
    if segments is not None:
        seg_losses = acc.per_segment()
        data["segments"] = {
            "ids": seg_losses.ids.tolist(),
            "counts": seg_losses.counts.tolist(),
            "means": seg_losses.means.tolist(),
        }
        lines.append(f"segments:       {len(seg_losses.ids):,} (per-segment means with --json)")
    emit(args, data, "\n".join(lines))
    return 0
