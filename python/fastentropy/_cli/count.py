"""``fastentropy count`` (n-gram count profiles, on one machine or a Dask cluster) and
``fastentropy index`` (the suffix index of a token file)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from .._ngram import ngram_profiles
from .._profile import Profile
from .._suffix import SuffixIndex
from .options import (
    LoadedMask,
    UsageError,
    add_counting,
    emit,
    load_tokens,
    parse_orders,
    positive_int_type,
    progress_option,
)


def build_count(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "inputs",
        metavar="TOKENS",
        nargs="+",
        help=".npy or raw .bin token file; several (shards) with --scheduler or --workers",
    )
    cluster = p.add_mutually_exclusive_group()
    cluster.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="count the shards on this Dask cluster (e.g. tcp://host:8786; extra 'dask')",
    )
    cluster.add_argument(
        "--workers",
        type=positive_int_type,
        metavar="N",
        help="count the shards on a local Dask cluster of N worker processes (extra 'dask')",
    )
    p.add_argument(
        "--continued",
        action="store_true",
        help="with shards: they are one stream, count the n-grams across their boundaries",
    )
    p.add_argument(
        "--strategy",
        choices=["scan", "shuffle"],
        help="with shards: 'shuffle' (runs through scratch) or 'scan' (each range task reads "
        "every shard); default: the one that moves fewer bytes",
    )
    p.add_argument(
        "--orders",
        type=_parse_orders_or_all,
        default=[1, 2, 3, 4, 5],
        help="default 1-5; 'all': every order up to where all n-grams are unique (suffix index)",
    )
    add_counting(p)
    p.add_argument("--json", action="store_true", help="profiles as JSON (ks, mks per order)")


def _parse_orders_or_all(text: str) -> list[int] | None:
    """``"all"`` (None: every order, through the suffix index) or as :func:`parse_orders`."""
    return None if text.strip().lower() == "all" else parse_orders(text)


def run_count(args: argparse.Namespace) -> int:
    if args.scheduler is not None or args.workers is not None:
        n_tokens, profiles = _count_on_cluster(args)
        return _print_profiles(args, n_tokens, profiles)
    if len(args.inputs) > 1 or args.continued or args.strategy is not None:
        raise UsageError(
            "several token files (shards), --continued or --strategy need a Dask cluster: add "
            "--workers N (a local cluster) or --scheduler ADDRESS"
        )
    args.input = args.inputs[0]
    tokens, mask, separator, _ = load_tokens(args)
    counting = _counting(args, separator, mask)
    if args.orders is None:
        profiles = SuffixIndex.build(tokens, **counting).profiles(
            threads=args.threads, progress=counting["progress"]
        )
    else:
        profiles = ngram_profiles(tokens, args.orders, **counting)
    return _print_profiles(args, int(tokens.size), profiles)


def _counting(args: argparse.Namespace, separator: int | None, mask: LoadedMask) -> dict[str, Any]:
    """The keywords the counter and the suffix index share, from the command line."""
    return {
        "separator": separator,
        "mask": mask,
        "memory_limit": args.memory_limit,
        "threads": args.threads,
        "progress": progress_option(args),
    }


def _count_on_cluster(args: argparse.Namespace) -> tuple[int, dict[int, Profile]]:
    """Tokens (of the shards concatenated) and profiles, counted on a Dask cluster."""
    if args.orders is None:
        raise UsageError("--orders all needs the suffix index of one machine: give orders")
    if args.mask is not None:
        raise UsageError("--mask names one file: with shards, use tokenize's masks")
    from ..distributed._client import cluster_client
    from ..distributed._ngram import TableKey, count_tables

    for path in args.inputs:
        if not os.path.exists(path):
            raise FileNotFoundError(f"no such file: {path}")
    tables: list[TableKey] = [("ngrams", n) for n in args.orders]
    with cluster_client(args.scheduler, args.workers, args.threads) as client:
        counted, summary = count_tables(
            args.inputs,
            tables,
            separator=args.separator,
            mask=None,
            dtype=args.dtype,
            continued=args.continued,
            client=client,
            partitions=None,
            scratch=None,
            memory_limit_per_task=args.memory_limit,
            progress=progress_option(args),
            strategy=args.strategy,
        )
    return summary.tokens, {n: counted[("ngrams", n)] for n in args.orders}


def _print_profiles(args: argparse.Namespace, n_tokens: int, profiles: dict[int, Profile]) -> int:
    data = {
        "tokens": n_tokens,
        "orders": {
            str(n): {"n": p.n, "distinct": p.distinct, "ks": p.ks.tolist(), "mks": p.mks.tolist()}
            for n, p in profiles.items()
        },
    }
    lines = [f"{'order':>5} {'N':>15} {'distinct':>15} {'singletons':>15} {'coverage':>9}"]
    for n, p in profiles.items():
        cov = f"{1 - p.singletons / p.n:.4f}" if p.n else "-"
        lines.append(f"{n:>5} {p.n:>15,} {p.distinct:>15,} {p.singletons:>15,} {cov:>9}")
    emit(args, data, "\n".join(lines))
    return 0


def build_index(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="TOKENS", help=".npy or raw .bin token file")
    p.add_argument("-o", "--output", required=True, help="the index file to write")
    add_counting(p)
    p.add_argument("--json", action="store_true", help="the summary as JSON")


def run_index(args: argparse.Namespace) -> int:
    import time

    tokens, mask, separator, _ = load_tokens(args)
    start = time.perf_counter()
    idx = SuffixIndex.build(tokens, path=args.output, **_counting(args, separator, mask))
    seconds = time.perf_counter() - start
    data = {
        "tokens": len(idx),
        "index": os.path.abspath(args.output),
        "bytes": os.path.getsize(args.output),
        "max_lcp": idx.max_lcp,
        "seconds": seconds,
    }
    text = (
        f"indexed {len(idx):,} tokens in {seconds:.2f} s: {args.output} "
        f"({data['bytes']:,} bytes; longest repeat {idx.max_lcp:,} tokens)"
    )
    emit(args, data, text)
    return 0
