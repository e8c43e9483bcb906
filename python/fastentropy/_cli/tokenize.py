"""``fastentropy tokenize``: text files to a token file with its sidecar."""

from __future__ import annotations

import argparse

from .options import add_threads, add_tokenizer_options, emit, run_tokenize


def build(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", metavar="INPUTS", nargs="+", help="text files or globs")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="writes OUT.bin, OUT.json")
    add_tokenizer_options(p)
    p.add_argument("--mask-field", help="JSON Lines: the field the loss is computed on")
    p.add_argument(
        "--no-separator", dest="separator_off", action="store_true", help="no document ends"
    )
    add_threads(p, "tokenizer threads (default: its own pool)")
    p.add_argument("--json", action="store_true", help="print the sidecar as JSON")


def run(args: argparse.Namespace) -> int:
    tf = run_tokenize(args, args.inputs, args.output, args.mask_field, not args.separator_off)
    text = (
        f"wrote {tf.path} ({tf.n_tokens:,} {tf.dtype} tokens, {tf.n_documents:,} documents; "
        f"{tf.n_bytes:,} bytes, {tf.bytes_per_token:.3f} bytes/token, "
        f"{tf.chars_per_token:.3f} chars/token; tokenizer {tf.tokenizer['name']})"
    )
    emit(args, tf.metadata, text)
    return 0
