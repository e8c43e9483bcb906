"""``fastentropy prequential``: the code length of the online predictor, with its learning
curve."""

from __future__ import annotations

import argparse
import os
import tempfile

from .options import (
    add_corpus,
    add_counting,
    count_type,
    is_text,
    load_tokens,
    progress_option,
    run_tokenize,
)


def build(p: argparse.ArgumentParser) -> None:
    add_corpus(p)
    p.add_argument(
        "--order",
        type=count_type,
        help="longest context (default 8 bit model, 12 tokens on bytes, 4-6)",
    )
    p.add_argument(
        "--model",
        choices=["bits", "tokens"],
        help="predictor (default: bits for <= 256 ids without --order, else tokens)",
    )
    add_counting(
        p,
        masked="scored",
        memory="the model's tables; default 1GiB",
        threads="accepted; the predictor is sequential",
    )
    p.add_argument("--curve-plot", metavar="PNG", help="write the learning curve figure here")
    p.add_argument("-o", "--output", metavar="JSON", help="write the result as JSON here")
    p.add_argument("--json", action="store_true", help="print JSON instead of the summary")


def run(args: argparse.Namespace) -> int:
    from .._prequential import prequential

    with tempfile.TemporaryDirectory(prefix="fastentropy-") as tmp:
        if is_text(args.input):
            tf = run_tokenize(args, [args.input], os.path.join(tmp, "tokens"))
            tokens, mask, separator = tf.tokens(), tf.mask(), tf.separator
        else:
            tokens, mask, separator, tf = load_tokens(args)
        # A token file brings its vocabulary (the separator may sit just past it) and bytes.
        vocab = None
        bytes_per_token = None
        if tf is not None:
            vocab = max(tf.vocab_size, -1 if separator is None else separator + 1)
            bytes_per_token = tf.bytes_per_token if tf.n_text_tokens else None
        cl = prequential(
            tokens,
            order=args.order,
            vocab_size=vocab,
            separator=separator,
            mask=mask,
            bytes_per_token=bytes_per_token,
            memory_limit=args.memory_limit,
            threads=args.threads,
            progress=progress_option(args),
            model=args.model,
        )
        del tokens, mask, tf  # release the maps before the folder goes
    if args.output:
        cl.to_json(args.output)
    if args.curve_plot:
        cl.plot(args.curve_plot)
    bpb = cl.bits_per_byte
    text = (
        f"prequential code length: {cl.nats_per_token:.4f} nats/token "
        f"({cl.bits_per_token:.4f} bits/token"
        + ("" if bpb is None else f", {bpb:.4f} bits/byte")
        + f") over {cl.n:,} tokens; {cl.model['name']}, order {cl.model['order']}, "
        f"{cl.model['memory_bytes'] / 2**20:.0f} MiB of tables"
    )
    print(cl.to_json() if args.json else text)
    return 0
