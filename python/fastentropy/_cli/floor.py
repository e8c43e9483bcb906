"""``fastentropy floor`` (the floor report of a corpus or a text) and ``fastentropy demo``
(the floor of generated corpora whose entropy rate is known)."""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Sequence

from .._estimate import METHODS
from .._floor import DEFAULT_METHODS, Floor, estimate_floor
from .options import (
    UsageError,
    add_corpus,
    add_counting,
    count_type,
    is_text,
    load_tokens,
    parse_methods,
    parse_orders,
    positive_int_type,
    progress_option,
    run_tokenize,
)


def build_floor(p: argparse.ArgumentParser) -> None:
    add_corpus(p)
    p.add_argument(
        "--orders",
        type=parse_orders,
        help="orders of the h_n table; default: every order up to two past the highest one the "
        "corpus samples (at least marginally), from the suffix index (orders 1-6 at most only "
        "when the index does not fit --memory-limit; the report says which)",
    )
    p.add_argument(
        "--methods",
        type=_parse_floor_methods,
        default=list(DEFAULT_METHODS),
        help=f"comma-separated (default: {','.join(DEFAULT_METHODS)})",
    )
    add_counting(p)
    p.add_argument("--plot", metavar="PNG", help="write the h_n figure here (needs matplotlib)")
    p.add_argument("-o", "--output", metavar="JSON", help="write the floor as JSON here")
    p.add_argument("--json", action="store_true", help="print JSON instead of the report")


def _parse_floor_methods(text: str) -> list[str]:
    # dirichlet needs an alphabet size, which the n-grams of a corpus do not have.
    return parse_methods(text, [m for m in METHODS if m != "dirichlet"])


def _refuse_overwriting(outputs: Sequence[str | None], inputs: Sequence[str | None]) -> None:
    """A usage error if an output file is one of the inputs (or a link to one), checked
    before any work: the outputs are written last, after the inputs were read."""
    seen = {}
    for path in inputs:
        try:
            st = os.stat(path) if path else None
        except OSError:
            continue
        if st is not None:
            seen[(st.st_dev, st.st_ino)] = path
    for out in outputs:
        try:
            st = os.stat(out) if out else None
        except OSError:
            continue
        if st is not None and (st.st_dev, st.st_ino) in seen:
            raise UsageError(f"the output {out} is the input {seen[(st.st_dev, st.st_ino)]}")


def _companions(path: str) -> list[str]:
    """``path`` and the files of its token file (sidecar, tokens, mask) that it may stand for."""
    stem, suffix = os.path.splitext(path)
    return [path] + ([stem + s for s in (".json", ".bin", ".mask")] if suffix else [])


def run_floor(args: argparse.Namespace) -> int:
    _refuse_overwriting([args.output, args.plot], [*_companions(args.input), args.mask])
    with tempfile.TemporaryDirectory(prefix="fastentropy-") as tmp:
        if is_text(args.input):
            tf = run_tokenize(args, [args.input], os.path.join(tmp, "tokens"))
            tokens, mask, separator, meta = tf.tokens(), tf.mask(), tf.separator, tf
        else:
            tokens, mask, separator, meta = load_tokens(args)
        floor = estimate_floor(
            tokens,
            orders=args.orders,
            methods=args.methods,
            separator=separator,
            mask=mask,
            meta=meta,
            memory_limit=args.memory_limit,
            threads=args.threads,
            progress=progress_option(args),
        )
        del tokens, mask, meta  # release the maps before the folder goes
    _write_floor(args, floor)
    return 0


def _write_floor(args: argparse.Namespace, floor: Floor, truth: float | None = None) -> None:
    if args.output:
        floor.to_json(args.output)
    if args.plot:
        floor.plot(args.plot, truth=truth)
    print(floor.to_json() if args.json else str(floor))


def build_demo(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--source",
        choices=("both", "markov", "hmm"),
        default="both",
        help="an order-k Markov source, a hidden-Markov one, or both (the default; --json, "
        "--output and --plot then take the hidden-Markov floor)",
    )
    p.add_argument("--tokens", type=positive_int_type, default=2_000_000, help="corpus length (2M)")
    p.add_argument(
        "--vocab", type=positive_int_type, help="vocabulary size (Markov 40, hidden Markov 2000)"
    )
    p.add_argument("--order", type=count_type, default=2, help="Markov order k of the source (2)")
    p.add_argument("--states", type=positive_int_type, default=64, help="hidden states (64)")
    p.add_argument("--seed", type=count_type, default=0, help="seed of the source and the sample")
    p.add_argument("--plot", metavar="PNG", help="write the h_n figure here (needs matplotlib)")
    p.add_argument("-o", "--output", metavar="JSON", help="write the floor as JSON here")
    p.add_argument("--json", action="store_true", help="print the floor as JSON")
    p.add_argument(
        "--estimators",
        action="store_true",
        help="instead: every estimator on Zipf samples of known entropy",
    )


def run_demo(args: argparse.Namespace) -> int:
    from .._floor.demo import hmm_demo, markov_demo, zipf_demo

    if args.estimators:
        print(zipf_demo())
        return 0
    runs = []
    if args.source in ("both", "markov"):
        runs.append(
            markov_demo(
                n_tokens=args.tokens,
                vocab_size=args.vocab or 40,
                order=args.order,
                seed=args.seed,
                progress=progress_option(args),
            )
        )
    if args.source in ("both", "hmm"):
        runs.append(
            hmm_demo(
                n_tokens=args.tokens,
                states=args.states,
                vocab_size=args.vocab or 2000,
                seed=args.seed,
                progress=progress_option(args),
            )
        )
    if not args.json:
        for _, _, text in runs:
            print(text, end="\n\n")
    floor, truth, _ = runs[-1]
    _write_floor(args, floor, truth)
    return 0
