"""What the commands share: the options that read corpora and set threads and memory, the
option types (a value refused by one exits with code 2 before anything is read), and the
loading of token files and text."""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import textwrap
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from .._args import MAX_THREADS, parse_size
from .._estimate import METHODS
from .._tokens import open_array


class UsageError(Exception):
    """Bad usage found after parsing (exit code 2)."""


Handler = Callable[[argparse.Namespace], int]


def add_counting(
    p: argparse.ArgumentParser,
    *,
    masked: str = "counted",
    memory: str = "default: half the available memory",
    threads: str = "worker threads (default: all cores)",
) -> None:
    """The options of a command that reads a token file: its dtype, separator and mask, and
    the memory and threads of the work."""
    p.add_argument("--dtype", help="dtype of a raw token file (uint8, uint16, uint32)")
    p.add_argument("--separator", type=count_type, help="token id that ends a document")
    p.add_argument("--mask", help=f"mask file: one byte per token, nonzero = {masked}")
    p.add_argument("--memory-limit", type=size_type, help=f"e.g. 8GB ({memory})")
    add_threads(p, threads)


def add_threads(p: argparse.ArgumentParser, text: str) -> None:
    p.add_argument("--threads", type=threads_type, help=f"{text}; 1 to {MAX_THREADS}")


def threads_type(text: str) -> int:
    value = int_type(text)
    if not 1 <= value <= MAX_THREADS:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_THREADS}, got {text}")
    return value


def int_type(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def count_type(text: str) -> int:
    value = int_type(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def positive_int_type(text: str) -> int:
    value = int_type(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def positive_float_type(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive finite number, got {text}")
    return value


def size_type(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a size: {text!r} (bytes, or a number with a unit such as 8GB or 512MiB)"
        ) from None


ORDER_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


def parse_orders(text: str) -> list[int]:
    """``"1-5"``, ``"1,3,5"`` or ``"4"`` as a list of orders."""
    orders: list[int] = []
    for part in text.split(","):
        m = ORDER_RANGE.match(part)
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


def parse_methods(text: str, allowed: Sequence[str] = METHODS) -> list[str]:
    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in allowed]
    if unknown or not methods:
        shown = ", ".join(unknown) if unknown else repr(text)
        raise argparse.ArgumentTypeError(
            f"unknown method(s) {shown}; choose from {', '.join(allowed)}"
        )
    return methods


def progress_option(args: argparse.Namespace) -> bool | str:
    """``"auto"`` by default: a bar on a terminal, else a line every few seconds of long work."""
    progress: bool | str = False if args.quiet else args.progress
    return progress


TOKEN_SUFFIXES = (".npy", ".bin")

#: What :func:`load_tokens` gives for the mask: one bool a token (``--mask``'s bytes, or the
#: token file's mask memory-mapped), or None.
LoadedMask: TypeAlias = npt.NDArray[np.bool_] | None


def token_file(path: str) -> Any:
    """The TokenFile whose sidecar ``path`` is or sits beside, else None."""
    from .._text.tokenize import token_file_beside

    return token_file_beside(path)


def load_tokens(args: argparse.Namespace) -> tuple[Any, LoadedMask, int | None, Any]:
    """Tokens, mask, separator and sidecar of INPUT: a token file, with or without sidecar.

    A sidecar (``tokenize``'s ``.json``, or the one beside a ``.bin``) brings the dtype,
    separator, mask and text statistics; ``--dtype``, ``--separator`` and ``--mask`` win.
    """
    path = args.input
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such file: {path}")
    tf = token_file(path)
    mask: LoadedMask = None
    if args.mask is not None:
        mask = np.fromfile(args.mask, dtype=np.uint8).astype(bool)
    if tf is not None:
        separator = tf.separator if args.separator is None else args.separator
        return tf.tokens(), tf.mask() if mask is None else mask, separator, tf
    return open_array(path, dtype=args.dtype), mask, args.separator, None


def is_text(path: str) -> bool:
    """Whether ``floor`` should tokenize INPUT first: not a token file or its sidecar."""
    return os.path.splitext(path)[1] not in TOKEN_SUFFIXES and token_file(path) is None


def emit(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=1) if args.json else text)


def load_npy(path: str, what: str) -> Any:
    """``np.load`` of a memory-mapped array, its errors naming the file."""
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except FileNotFoundError:
        raise
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f"{path}: not a readable .npy of {what} ({e})") from None


#: The text reports' width, in columns.
REPORT_WIDTH = 100


def hanging(head: str, text: str) -> list[str]:
    """``head + text`` wrapped to the report's width, continuation lines under the text."""
    return textwrap.wrap(
        head + text, REPORT_WIDTH, subsequent_indent=" " * len(head), break_on_hyphens=False
    )


def add_corpus(p: argparse.ArgumentParser) -> None:
    """INPUT as a token file or a text that is tokenized first, with the tokenizer's options."""
    p.add_argument(
        "input",
        metavar="INPUT",
        help="a token file (.npy; .bin with a tokenize sidecar or --dtype; the sidecar .json) "
        "or text (.txt, .jsonl, .parquet, optionally .gz/.zst), tokenized first (--tokenizer)",
    )
    add_tokenizer_options(p, text_only=True)


def add_tokenizer_options(p: argparse.ArgumentParser, text_only: bool = False) -> None:
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


def tokenizer_spec(text: str) -> Any:
    if text == "bytes":
        return "bytes"
    if text.startswith("train-bpe:"):
        try:
            return ("train-bpe", int(text.split(":", 1)[1]))
        except ValueError:
            raise UsageError(f"--tokenizer train-bpe:N needs an integer N, got {text!r}") from None
    return text


def run_tokenize(
    args: argparse.Namespace,
    inputs: list[str],
    out: str,
    mask_field: str | None = None,
    separator: bool = True,
) -> Any:
    from .._text.tokenize import tokenize

    return tokenize(
        inputs,
        tokenizer_spec(args.tokenizer),
        out,
        field=args.field,
        doc=args.doc,
        separator=separator,
        mask_field=mask_field,
        errors=args.errors,
        skip_bad_lines=args.skip_bad_lines,
        threads=args.threads,
        progress=progress_option(args),
        eot_token=args.eot_token,
        encoder=args.encoder,
    )
