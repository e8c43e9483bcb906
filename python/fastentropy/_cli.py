"""The ``fastentropy`` command line: count, estimate, floor, demo, and friends.

Exit codes:

- 0: success (also when the reader of the output goes away early, as ``| head`` does);
- 1: the command could not be carried out: a file is missing, unreadable or malformed, or
  the data is refused by the computation (one line on stderr naming the file or option;
  the traceback only with ``--debug``);
- 2: the command line itself is wrong: an unknown option, or an option value refused before
  anything is read (argparse's convention; ``--threads 0``, ``--orders 5-1``);
- 130: interrupted (Ctrl-C).

Every error goes through :func:`_dispatch`, the one place that turns exceptions into these
codes and messages, so subcommands added later get the same treatment.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import sys
import tempfile
import textwrap
import warnings
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._args import MAX_THREADS, parse_size
from ._check import FORMATS, check, read_losses
from ._core import __version__
from ._estimate import METHODS, entropies, left_out
from ._floor import DEFAULT_METHODS, Floor, estimate_floor
from ._ngram import ngram_profiles
from ._profile import Profile
from ._suffix import SuffixIndex
from ._tokens import open_array

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """Bad usage found after parsing (exit code 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``) and return the exit code.

    Examples
    --------
    >>> main(["--version"])  # doctest: +ELLIPSIS
    fastentropy ...
    0
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version and usage errors
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        code = _dispatch(args)
        sys.stdout.flush()  # here, where a closed pipe can still be handled
        return code
    except BrokenPipeError:
        # The reader (e.g. `| head`) has what it wanted: no "Broken pipe", no failure. Later
        # writes, and the flush at exit, go to /dev/null.
        _stdout_to_devnull()
        return 0


#: Exceptions a user can cause (bad files, options or data): one line, exit code 1. Others
#: are internal errors: one line too, asking for a report with the --debug traceback.
_USER_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    TypeError,
    MemoryError,
    ImportError,
    ArithmeticError,  # OverflowError, ZeroDivisionError
    EOFError,
    csv.Error,
    zlib.error,
)


def _dispatch(args: argparse.Namespace) -> int:
    """Run the subcommand's handler: the one place where errors become messages and codes."""
    handler: Handler = args.handler
    where = f"fastentropy {args.command}"
    try:
        with warnings.catch_warnings(record=True) as caught:
            # Ours (e.g. an estimator outside its regime), not libraries' deprecations.
            warnings.simplefilter("always", RuntimeWarning)
            warnings.simplefilter("always", UserWarning)
            code = handler(args)
        for w in caught:
            print(f"{where}: warning: {_cli_message(str(w.message))}", file=sys.stderr)
        return code
    except UsageError as e:
        print(f"{where}: error: {_cli_message(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastentropy: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise
    except Exception as e:
        if getattr(args, "debug", False):
            raise
        message = _cli_message(str(e) or type(e).__name__)
        if not isinstance(e, _USER_ERRORS):
            message += (
                f" (an internal error, {type(e).__name__}: please report it with the "
                "traceback that --debug shows)"
            )
        print(f"{where}: error: {message}", file=sys.stderr)
        return 1


def _stdout_to_devnull() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file behind sys.stdout
        pass


#: API keyword arguments named in messages, and the CLI options that set them.
_OPTIONS = (
    "errors",
    "skip_bad_lines",
    "loss_column",
    "dtype",
    "format",
    "memory_limit",
    "threads",
    "separator",
    "mask_field",
    "eot_token",
    "alphabet_size",
    "orders",
    "order",
    "methods",
    "ignore_index",
    "n_bytes",
    "bytes_per_token",
    "tokenizer",
    "field",
    "doc",
    "unit",
)
_KEYWORD = re.compile(r"\b(" + "|".join(_OPTIONS) + r")=(?:'([^']*)'|\"([^\"]*)\"|([\w.+-]*))")


def _cli_message(text: str) -> str:
    """An API message in the words of the command line: one line, options as flags
    (``errors='replace'`` becomes ``--errors replace``)."""

    def flag(m: re.Match[str]) -> str:
        name = "--" + m.group(1).replace("_", "-")
        value = next((g for g in m.groups()[1:] if g is not None), "")
        return name if value in ("", "True") else f"{name} {value}"

    return " ".join(_KEYWORD.sub(flag, text).split())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastentropy",
        description="Entropy floors of token corpora: the loss no honest model goes below.",
    )
    parser.add_argument("--version", action="version", version=f"fastentropy {__version__}")
    parser.set_defaults(command=None)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    shown = common.add_mutually_exclusive_group()
    shown.add_argument(
        "--progress",
        dest="progress",
        action="store_const",
        const=True,
        default="auto",
        help="show progress on stderr even when it is not a terminal (a line every few seconds)",
    )
    shown.add_argument(
        "--no-progress", dest="progress", action="store_const", const=False, help="no progress"
    )
    common.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    for name, build, handler, summary in _COMMANDS:
        p = sub.add_parser(name, parents=[common], help=summary, description=summary)
        build(p)
        p.set_defaults(command=name, handler=handler)
    return parser


# --- shared options ----------------------------------------------------------------------


def _add_counting(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dtype", help="dtype of a raw token file (uint8, uint16, uint32)")
    p.add_argument("--separator", type=_count_type, help="token id that ends a document")
    p.add_argument("--mask", help="mask file: one byte per token, nonzero = counted")
    p.add_argument(
        "--memory-limit", type=_size_type, help="e.g. 8GB (default: half the available memory)"
    )
    _add_threads(p, "worker threads (default: all cores)")


# --- option types: values refused here exit with code 2, before anything is read ---------


def _add_threads(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument("--threads", type=_threads_type, help=f"{text}; 1 to {MAX_THREADS}")


def _threads_type(text: str) -> int:
    value = _int_type(text)
    if not 1 <= value <= MAX_THREADS:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_THREADS}, got {text}")
    return value


def _int_type(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def _count_type(text: str) -> int:
    value = _int_type(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _positive_int_type(text: str) -> int:
    value = _int_type(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def _positive_float_type(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def _size_type(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a size: {text!r} (bytes, or a number with a unit such as 8GB or 512MiB)"
        ) from None


_ORDER_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def _parse_orders(text: str) -> list[int]:
    """``"1-5"``, ``"1,3,5"`` or ``"4"`` as a list of orders."""
    orders: list[int] = []
    for part in text.split(","):
        m = _ORDER_RANGE.match(part)
        if m is None:
            raise argparse.ArgumentTypeError(f"orders must look like 1-5 or 1,2,4; got {text!r}")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if lo < 1:
            raise argparse.ArgumentTypeError(f"orders must be >= 1; got {text!r}")
        if hi < lo:
            raise argparse.ArgumentTypeError(
                f"the range {part.strip()} runs backwards: write {hi}-{lo}; got {text!r}"
            )
        if hi > 1024:
            raise argparse.ArgumentTypeError(f"orders must be <= 1024; got {text!r}")
        orders += range(lo, hi + 1)
    return orders


def _parse_methods(text: str, allowed: Sequence[str] = METHODS) -> list[str]:
    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in allowed]
    if unknown or not methods:
        shown = ", ".join(unknown) if unknown else repr(text)
        raise argparse.ArgumentTypeError(
            f"unknown method(s) {shown}; choose from {', '.join(allowed)}"
        )
    return methods


def _parse_floor_methods(text: str) -> list[str]:
    # dirichlet needs an alphabet size, which the n-grams of a corpus do not have.
    return _parse_methods(text, [m for m in METHODS if m != "dirichlet"])


def _progress(args: argparse.Namespace) -> bool | str:
    """``"auto"`` by default: a bar on a terminal, else a line every few seconds of long work."""
    progress: bool | str = False if args.quiet else args.progress
    return progress


_TOKEN_SUFFIXES = (".npy", ".bin")


def _token_file(path: str) -> Any:
    """The TokenFile whose sidecar ``path`` is or sits beside, else None."""
    from ._text.tokenize import token_file_beside

    return token_file_beside(path)


def _load_tokens(args: argparse.Namespace) -> tuple[Any, Any, int | None, Any]:
    """Tokens, mask, separator and sidecar of INPUT: a token file, with or without sidecar.

    A sidecar (``tokenize``'s ``.json``, or the one beside a ``.bin``) brings the dtype,
    separator, mask and text statistics; ``--dtype``, ``--separator`` and ``--mask`` win.
    """
    path = args.input
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path}")
    tf = _token_file(path)
    mask = None
    if args.mask is not None:
        mask = np.fromfile(args.mask, dtype=np.uint8).astype(bool)
    if tf is not None:
        separator = tf.separator if args.separator is None else args.separator
        return tf.tokens(), tf.mask() if mask is None else mask, separator, tf
    return open_array(path, dtype=args.dtype), mask, args.separator, None


def _emit(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=1) if args.json else text)


# --- tokenize ------------------------------------------------------------------------------


def _add_tokenizer_options(p: argparse.ArgumentParser, text_only: bool = False) -> None:
    g = p.add_argument_group("tokenization" + (" (when INPUT is text)" if text_only else ""))
    g.add_argument(
        "--tokenizer",
        default="bytes",
        help="bytes (default), a tokenizer.json, or train-bpe:N to train a BPE of N ids",
    )
    g.add_argument("--field", default="text", help="JSON Lines field / Parquet column (text)")
    g.add_argument("--doc", choices=("file", "line", "record"), help="what a document is")
    g.add_argument("--errors", choices=("strict", "replace"), default="strict")
    g.add_argument("--skip-bad-lines", action="store_true", help="skip JSON Lines that fail")
    g.add_argument("--eot-token", help="the tokenizer's end-of-text token, as the separator")
    g.add_argument(
        "--encoder",
        choices=("auto", "fast-bpe", "tokenizers"),
        default="auto",
        help="what encodes a tokenizer.json: fastentropy's exact byte-level BPE where it can "
        "(auto, default), it or an error (fast-bpe), or Hugging Face tokenizers",
    )


def _tokenizer_spec(text: str) -> Any:
    if text == "bytes":
        return "bytes"
    if text.startswith("train-bpe:"):
        try:
            return ("train-bpe", int(text.split(":", 1)[1]))
        except ValueError:
            raise UsageError(f"--tokenizer train-bpe:N needs an integer N, got {text!r}") from None
    return text


def _run_tokenize(
    args: argparse.Namespace,
    inputs: list[str],
    out: str,
    mask_field: str | None = None,
    separator: bool = True,
) -> Any:
    from ._text.tokenize import tokenize

    return tokenize(
        inputs,
        _tokenizer_spec(args.tokenizer),
        out,
        field=args.field,
        doc=args.doc,
        separator=separator,
        mask_field=mask_field,
        errors=args.errors,
        skip_bad_lines=args.skip_bad_lines,
        threads=args.threads,
        progress=_progress(args),
        eot_token=args.eot_token,
        encoder=args.encoder,
    )


def _build_tokenize(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", metavar="INPUTS", nargs="+", help="text files or globs")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="writes OUT.bin, OUT.json")
    _add_tokenizer_options(p)
    p.add_argument("--mask-field", help="JSON Lines: the field the loss is computed on")
    p.add_argument(
        "--no-separator", dest="separator_off", action="store_true", help="no document ends"
    )
    _add_threads(p, "tokenizer threads (default: its own pool)")
    p.add_argument("--json", action="store_true", help="print the sidecar as JSON")


def _tokenize(args: argparse.Namespace) -> int:
    tf = _run_tokenize(args, args.inputs, args.output, args.mask_field, not args.separator_off)
    text = (
        f"wrote {tf.path} ({tf.n_tokens:,} {tf.dtype} tokens, {tf.n_documents:,} documents; "
        f"{tf.n_bytes:,} bytes, {tf.bytes_per_token:.3f} bytes/token, "
        f"{tf.chars_per_token:.3f} chars/token; tokenizer {tf.tokenizer['name']})"
    )
    _emit(args, tf.metadata, text)
    return 0


# --- count ---------------------------------------------------------------------------------


def _build_count(p: argparse.ArgumentParser) -> None:
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
        type=_positive_int_type,
        metavar="N",
        help="count the shards on a local Dask cluster of N worker processes (extra 'dask')",
    )
    p.add_argument(
        "--continued",
        action="store_true",
        help="with shards: they are one stream, count the n-grams across their boundaries",
    )
    p.add_argument(
        "--orders",
        type=_parse_orders_or_all,
        default=[1, 2, 3, 4, 5],
        help="default 1-5; 'all': every order up to where all n-grams are unique (suffix index)",
    )
    _add_counting(p)
    p.add_argument("--json", action="store_true", help="profiles as JSON (ks, mks per order)")


def _parse_orders_or_all(text: str) -> list[int] | None:
    """``"all"`` (None: every order, through the suffix index) or as :func:`_parse_orders`."""
    return None if text.strip().lower() == "all" else _parse_orders(text)


def _count(args: argparse.Namespace) -> int:
    if args.scheduler is not None or args.workers is not None:
        n_tokens, profiles = _count_on_cluster(args)
        return _print_profiles(args, n_tokens, profiles)
    if len(args.inputs) > 1 or args.continued:
        raise UsageError(
            "several token files (shards) or --continued need a Dask cluster: add "
            "--workers N (a local cluster) or --scheduler ADDRESS"
        )
    args.input = args.inputs[0]
    tokens, mask, separator, _ = _load_tokens(args)
    if args.orders is None:
        profiles = SuffixIndex.build(
            tokens,
            separator=separator,
            mask=mask,
            memory_limit=args.memory_limit,
            threads=args.threads,
            progress=_progress(args),
        ).profiles(threads=args.threads, progress=_progress(args))
    else:
        profiles = ngram_profiles(
            tokens,
            args.orders,
            separator=separator,
            mask=mask,
            memory_limit=args.memory_limit,
            threads=args.threads,
            progress=_progress(args),
        )
    return _print_profiles(args, int(tokens.size), profiles)


def _count_on_cluster(args: argparse.Namespace) -> tuple[int, dict[int, Profile]]:
    """Tokens (of the shards concatenated) and profiles, counted on a Dask cluster."""
    if args.orders is None:
        raise UsageError("--orders all needs the suffix index of one machine: give orders")
    if args.mask is not None:
        raise UsageError("--mask names one file: with shards, use tokenize's masks")
    from .distributed._client import cluster_client
    from .distributed._ngram import TableKey, count_tables

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
            progress=_progress(args),
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
    _emit(args, data, "\n".join(lines))
    return 0


# --- index ---------------------------------------------------------------------------------


def _build_index(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", metavar="TOKENS", help=".npy or raw .bin token file")
    p.add_argument("-o", "--output", required=True, help="the index file to write")
    _add_counting(p)
    p.add_argument("--json", action="store_true", help="the summary as JSON")


def _index(args: argparse.Namespace) -> int:
    import time

    tokens, mask, separator, _ = _load_tokens(args)
    start = time.perf_counter()
    idx = SuffixIndex.build(
        tokens,
        separator=separator,
        mask=mask,
        memory_limit=args.memory_limit,
        threads=args.threads,
        progress=_progress(args),
        path=args.output,
    )
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
    _emit(args, data, text)
    return 0


# --- estimate ------------------------------------------------------------------------------


def _build_estimate(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "input",
        metavar="PROFILE_OR_COUNTS",
        help="a profile JSON ({'ks': [...], 'mks': [...]}, or `count --json` output with "
        "--order), a .npy array of counts, or a text file of counts (whitespace-separated)",
    )
    p.add_argument("--order", type=_positive_int_type, help="which order of a `count --json` file")
    p.add_argument("--methods", type=_parse_methods, help="comma-separated (default: all)")
    p.add_argument(
        "--alphabet-size", type=_positive_float_type, help="the number of possible outcomes K"
    )
    p.add_argument("--unit", choices=("nats", "bits"), default="nats")
    p.add_argument("--json", action="store_true", help="estimates as JSON")


def _load_npy(path: str, what: str) -> Any:
    """``np.load`` of a memory-mapped array, its errors naming the file."""
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f"{path}: not a readable .npy of {what} ({e})") from None


def _read_profile(path: str, order: int | None) -> Profile:
    if path.endswith(".npy"):
        counts = _load_npy(path, "counts")
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


def _estimate(args: argparse.Namespace) -> int:
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
        marked += [line for note in e.notes for line in _hanging(f"* {m}: ", note)]
    for m, reason in skipped.items():
        if m == "ansb":  # the others are the usual gaps (no K, no coincidence)
            lines += _hanging(f"{m:<16}{'-':>12}{'':>12}   left out: ", reason)
    _emit(args, data, "\n".join(lines + marked))
    return 0


#: The text reports' width, in columns.
REPORT_WIDTH = 100


def _hanging(head: str, text: str) -> list[str]:
    """``head + text`` wrapped to the report's width, continuation lines under the text."""
    return textwrap.wrap(
        head + text, REPORT_WIDTH, subsequent_indent=" " * len(head), break_on_hyphens=False
    )


# --- floor ---------------------------------------------------------------------------------


def _build_floor(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "input",
        metavar="INPUT",
        help="a token file (.npy; .bin with a tokenize sidecar or --dtype; the sidecar .json) "
        "or text (.txt, .jsonl, .parquet, optionally .gz/.zst), tokenized first",
    )
    _add_tokenizer_options(p, text_only=True)
    p.add_argument("--orders", type=_parse_orders, help="default 1-6 (fewer for big vocabularies)")
    p.add_argument(
        "--methods",
        type=_parse_floor_methods,
        default=list(DEFAULT_METHODS),
        help=f"comma-separated (default: {','.join(DEFAULT_METHODS)})",
    )
    _add_counting(p)
    p.add_argument("--plot", metavar="PNG", help="write the h_n figure here (needs matplotlib)")
    p.add_argument("-o", "--output", metavar="JSON", help="write the floor as JSON here")
    p.add_argument("--json", action="store_true", help="print JSON instead of the report")


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


def _floor(args: argparse.Namespace) -> int:
    _refuse_overwriting([args.output, args.plot], [*_companions(args.input), args.mask])
    with tempfile.TemporaryDirectory(prefix="fastentropy-") as tmp:
        if _is_text(args.input):
            tf = _run_tokenize(args, [args.input], os.path.join(tmp, "tokens"))
            tokens, mask, separator, meta = tf.tokens(), tf.mask(), tf.separator, tf
        else:
            tokens, mask, separator, meta = _load_tokens(args)
        floor = estimate_floor(
            tokens,
            orders=args.orders,
            methods=args.methods,
            separator=separator,
            mask=mask,
            meta=meta,
            memory_limit=args.memory_limit,
            threads=args.threads,
            progress=_progress(args),
        )
        del tokens, mask, meta  # release the maps before the folder goes
    _write_floor(args, floor)
    return 0


def _is_text(path: str) -> bool:
    """Whether ``floor`` should tokenize INPUT first: not a token file or its sidecar."""
    return os.path.splitext(path)[1] not in _TOKEN_SUFFIXES and _token_file(path) is None


def _write_floor(args: argparse.Namespace, floor: Floor, truth: float | None = None) -> None:
    if args.output:
        floor.to_json(args.output)
    if args.plot:
        floor.plot(args.plot, truth=truth)
    print(floor.to_json() if args.json else str(floor))


# --- demo ----------------------------------------------------------------------------------


def _build_demo(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--source",
        choices=("both", "markov", "hmm"),
        default="both",
        help="an order-k Markov source, a hidden-Markov one, or both (the default; --json, "
        "--output and --plot then take the hidden-Markov floor)",
    )
    p.add_argument(
        "--tokens", type=_positive_int_type, default=2_000_000, help="corpus length (2M)"
    )
    p.add_argument(
        "--vocab", type=_positive_int_type, help="vocabulary size (Markov 40, hidden Markov 2000)"
    )
    p.add_argument("--order", type=_count_type, default=2, help="Markov order k of the source (2)")
    p.add_argument("--states", type=_positive_int_type, default=64, help="hidden states (64)")
    p.add_argument("--seed", type=_count_type, default=0, help="seed of the source and the sample")
    p.add_argument("--plot", metavar="PNG", help="write the h_n figure here (needs matplotlib)")
    p.add_argument("-o", "--output", metavar="JSON", help="write the floor as JSON here")
    p.add_argument("--json", action="store_true", help="print the floor as JSON")
    p.add_argument(
        "--estimators",
        action="store_true",
        help="instead: every estimator on Zipf samples of known entropy",
    )


def _demo(args: argparse.Namespace) -> int:
    from ._floor.demo import hmm_demo, markov_demo, zipf_demo

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
                progress=_progress(args),
            )
        )
    if args.source in ("both", "hmm"):
        runs.append(
            hmm_demo(
                n_tokens=args.tokens,
                states=args.states,
                vocab_size=args.vocab or 2000,
                seed=args.seed,
                progress=_progress(args),
            )
        )
    if not args.json:
        for _, _, text in runs:
            print(text, end="\n\n")
    floor, truth, _ = runs[-1]
    _write_floor(args, floor, truth)
    return 0


# --- xent ----------------------------------------------------------------------------------


def _build_xent(p: argparse.ArgumentParser) -> None:
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
        "--n-bytes", type=_positive_int_type, help="UTF-8 bytes of the text, for bits per byte"
    )
    p.add_argument("--unit", choices=("nats", "bits"), default="nats")
    p.add_argument(
        "--chunk-mb", type=_count_type, default=256, help="logits read per step (256 MB)"
    )
    _add_threads(p, "worker threads (default: all cores)")
    p.add_argument("--json", action="store_true", help="results as JSON")


def _xent(args: argparse.Namespace) -> int:
    from ._progress import stage
    from ._xent import CrossEntropy

    logits = _load_npy(args.logits, "logits")
    targets = _load_npy(args.targets, "targets")
    segments = None if args.segments is None else _load_npy(args.segments, "segment ids")
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
    with stage(_progress(args), "cross-entropy", unit="rows") as report:
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
    _emit(args, data, "\n".join(lines))
    return 0


# --- prequential ---------------------------------------------------------------------------


def _build_prequential(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "input",
        metavar="INPUT",
        help="a token file (.npy; .bin with a tokenize sidecar or --dtype; the sidecar .json) "
        "or text, tokenized first (--tokenizer)",
    )
    _add_tokenizer_options(p, text_only=True)
    p.add_argument(
        "--order", type=int, help="longest context (default 8 bit model, 12 tokens on bytes, 4-6)"
    )
    p.add_argument(
        "--model",
        choices=["bits", "tokens"],
        help="predictor (default: bits for <= 256 ids without --order, else tokens)",
    )
    p.add_argument("--dtype", help="dtype of a raw token file (uint8, uint16, uint32)")
    p.add_argument("--separator", type=int, help="token id that ends a document")
    p.add_argument("--mask", help="mask file: one byte per token, nonzero = scored")
    p.add_argument("--memory-limit", help="bytes for the model's tables, e.g. 2GB (default 1GiB)")
    p.add_argument("--threads", type=int, help="accepted; the predictor is sequential")
    p.add_argument("--curve-plot", metavar="PNG", help="write the learning curve figure here")
    p.add_argument("-o", "--output", metavar="JSON", help="write the result as JSON here")
    p.add_argument("--json", action="store_true", help="print JSON instead of the summary")


def _prequential(args: argparse.Namespace) -> int:
    from ._prequential import prequential

    with tempfile.TemporaryDirectory(prefix="fastentropy-") as tmp:
        if _is_text(args.input):
            tf = _run_tokenize(args, [args.input], os.path.join(tmp, "tokens"))
            tokens, mask, separator = tf.tokens(), tf.mask(), tf.separator
        else:
            tokens, mask, separator, tf = _load_tokens(args)
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
            progress=_progress(args),
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


def _build_check(p: argparse.ArgumentParser) -> None:
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
        type=float,
        help="the model tokenizer's UTF-8 bytes per token on this data (converts the "
        "floor through bits per byte)",
    )
    p.add_argument("--plot", metavar="PNG", help="write the loss-vs-floor figure here")
    p.add_argument("--json", action="store_true", help="the verdict as JSON")


def _check(args: argparse.Namespace) -> int:
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


_COMMANDS: list[tuple[str, Callable[[argparse.ArgumentParser], None], Handler, str]] = [
    ("tokenize", _build_tokenize, _tokenize, "text files to a token file with its sidecar"),
    ("count", _build_count, _count, "n-gram count profiles by order"),
    ("index", _build_index, _index, "the suffix index of a token file (profiles of every order)"),
    ("estimate", _build_estimate, _estimate, "every entropy estimator on a profile or counts"),
    ("floor", _build_floor, _floor, "the entropy floor report of a token corpus"),
    ("demo", _build_demo, _demo, "the floor of a generated corpus of known entropy rate"),
    ("xent", _build_xent, _xent, "streaming cross-entropy of saved logits against targets"),
    ("check", _build_check, _check, "check a training log against the entropy floor of its data"),
    (
        "prequential",
        _build_prequential,
        _prequential,
        "code length of an online n-gram predictor, with its learning curve",
    ),
]


if __name__ == "__main__":
    sys.exit(main())
