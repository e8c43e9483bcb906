"""The ``fastentropy`` command line: count, estimate, floor, demo, and friends.

Exit codes:

- 0: success (also when the reader of the output goes away early, as ``| head`` does);
- 1: the command could not be carried out: a file is missing, unreadable or malformed, or
  the data is refused by the computation (one line on stderr naming the file or option;
  the traceback only with ``--debug``);
- 2: the command line itself is wrong: an unknown option, or an option value refused before
  anything is read (argparse's convention; ``--threads 0``, ``--orders 5-1``);
- 130: interrupted (Ctrl-C).

A module a command (``count`` holds ``index`` too, ``floor`` holds ``demo``), what they share
in :mod:`.options`. Every error goes through :func:`_dispatch`, the one place that turns
exceptions into these codes and messages, so subcommands added later get the same treatment.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import warnings
import zlib
from collections.abc import Callable, Sequence

from .._core import __version__
from . import check, count, estimate, floor, prequential, tokenize, xent
from .options import Handler, UsageError

__all__ = ["main"]


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


_COMMANDS: list[tuple[str, Callable[[argparse.ArgumentParser], None], Handler, str]] = [
    ("tokenize", tokenize.build, tokenize.run, "text files to a token file with its sidecar"),
    ("count", count.build_count, count.run_count, "n-gram count profiles by order"),
    (
        "index",
        count.build_index,
        count.run_index,
        "the suffix index of a token file (profiles of every order)",
    ),
    ("estimate", estimate.build, estimate.run, "every entropy estimator on a profile or counts"),
    ("floor", floor.build_floor, floor.run_floor, "the entropy floor report of a token corpus"),
    (
        "demo",
        floor.build_demo,
        floor.run_demo,
        "the floor of a generated corpus of known entropy rate",
    ),
    ("xent", xent.build, xent.run, "streaming cross-entropy of saved logits against targets"),
    ("check", check.build, check.run, "check a training log against the entropy floor of its data"),
    (
        "prequential",
        prequential.build,
        prequential.run,
        "code length of an online n-gram predictor, with its learning curve",
    ),
]
