"""Helpers shared by the benchmark scripts in ``benches/``.

The scripts run as ``python benches/<script>.py``; Python puts ``benches/`` on ``sys.path``,
so they import this module as ``_common``. It holds what both benchmarks do the same way:
the list of method variants run, the provenance recorded with results (git state and the
build of the compiled extension), saving and loading the JSON results, and keeping the
hand-written summary of a generated markdown page.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import subprocess
import sys
from typing import Any

import fastentropy as fe
import numpy as np

#: The repository root (the parent of ``benches/``).
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: Methods that use a known alphabet size; run a second time with the true K.
WITH_K = ("nsb", "dirichlet", "shrinkage")
#: Markers around the hand-written summary kept when a docs page is regenerated.
SUMMARY_BEGIN = "<!-- summary:begin -->"
SUMMARY_END = "<!-- summary:end -->"


def variants() -> list[tuple[str, str, bool]]:
    """(label, method, with_true_K) for every method run, in table order.

    Every method of ``fe.METHODS`` without ``alphabet_size`` (except ``dirichlet``, which
    needs it), then each method of ``WITH_K`` with the true K, labelled ``<method>@K``.
    """
    out = [(m, m, False) for m in fe.METHODS if m != "dirichlet"]
    out += [(f"{m}@K", m, True) for m in WITH_K if m in fe.METHODS]
    return out


def build_id() -> str:
    """sha256 prefix and mtime of the compiled extension imported (it may be rebuilt later)."""
    path = fe._core.__file__
    if path is None:
        return "unknown"
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    mtime = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
    return f"{digest} ({mtime.isoformat(timespec='seconds')})"


#: The build of the extension as imported, taken once at import time.
BUILD = build_id()


def git_state() -> str:
    """Short HEAD of the repository, flagged if ``rust/`` or ``python/`` has changes."""
    try:
        head = subprocess.run(
            ["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", ROOT, "status", "--porcelain", "--", "rust", "python"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (rust/ or python/ modified)" if dirty else "")


def provenance() -> dict[str, Any]:
    """What was measured with: fastentropy version, git state, extension build, Python, numpy.

    Merged into a results dict right after its ``"date"`` key (the keys keep that order).
    """
    return {
        "fastentropy_version": fe.__version__,
        "git": git_state(),
        "build": BUILD,
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def arg_parser(doc: str, quick_scope: str) -> argparse.ArgumentParser:
    """A parser described by the first paragraph of ``doc``, with the ``--quick`` flag.

    ``quick_scope`` says what a quick run covers (e.g. "sizes 10^3..10^6").
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{quick_scope}; prints only (JSON/docs only with --out/--write-docs)",
    )
    return parser


def add_output_args(
    parser: argparse.ArgumentParser, docs: str | None, pages: str | None = None
) -> None:
    """The ``--out``, ``--write-docs`` and ``--from-json`` options, last in every script.

    ``docs`` is the generated page (or folder of pages) relative to the repository root;
    ``--write-docs`` rewrites it (or the PATH given) from the run, and only then: a run on a
    loaded machine must not overwrite tables measured on a quiet one. ``args.write_docs``
    is the path to write, or None. ``pages`` names what is written, for the help (default
    ``docs``). With ``docs=None`` the script has no page and no ``--write-docs``.
    """
    parser.add_argument("--out", help="JSON path (default benches/results/...)")
    if docs is not None:
        parser.add_argument(
            "--write-docs",
            nargs="?",
            const=os.path.join(ROOT, docs),
            default=None,
            metavar="PATH",
            help=f"also regenerate {pages or docs} (or PATH) from this run; off by default, "
            "so that a run on a loaded machine cannot overwrite the quiet tables",
        )
    parser.add_argument(
        "--from-json",
        help="do not run: print from this JSON (with --write-docs, regenerate docs from it)",
    )


def load_results(path: str) -> dict[str, Any]:
    """The results saved by an earlier run (for ``--from-json``)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save_results(results: dict[str, Any], name: str, out: str | None, quick: bool) -> None:
    """Write ``results`` as JSON to ``out``, or by default to ``benches/results/<name>.json``.

    A quick run is a smoke test: without ``out`` it writes nothing, so the committed results
    are left alone.
    """
    full = os.path.join(ROOT, "benches", "results", f"{name}.json")
    path = out or (None if quick else full)
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
        print(f"wrote {path} ({results['wall_seconds']:.0f} s)")


def existing_summary(path: str) -> str:
    """The text between the summary markers of the file at ``path`` ("" if none)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return ""
    if SUMMARY_BEGIN in text and SUMMARY_END in text:
        return text.split(SUMMARY_BEGIN, 1)[1].split(SUMMARY_END, 1)[0]
    return ""


def write_doc(path: str, head: list[str], body: str) -> None:
    """Write a generated page: ``head``, the kept hand-written summary, then ``body``."""
    summary = existing_summary(path).strip() or "_(summary to be written after the run)_"
    lines = [*head, SUMMARY_BEGIN, summary, SUMMARY_END, ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n" + body)
    print(f"wrote {path}")


def cpu_model() -> str:
    """The processor's name from /proc/cpuinfo (Linux), else platform's guess."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def status_kib(field: str) -> int:
    """A ``/proc/self/status`` field in KiB (``VmRSS``, ``VmHWM``); Linux only."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def reset_peak() -> bool:
    """Reset the process's peak RSS (``VmHWM``) to its current RSS; False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        status_kib("VmHWM")
    except (OSError, KeyError):
        return False
    return True


def check_status(checks: dict[str, list[str]]) -> int:
    """The exit status of a bench: 1 (with what failed on stderr) when any correctness check
    failed, so that a MISMATCH cannot pass unnoticed in CI; 0 otherwise."""
    failed = {label: bad for label, bad in checks.items() if bad}
    for label, bad in failed.items():
        print(f"CHECK FAILED: {label}: {'; '.join(map(str, bad))}", file=sys.stderr)
    if not checks:
        print("CHECK FAILED: no correctness check ran", file=sys.stderr)
        return 1
    print(f"{len(checks) - len(failed)}/{len(checks)} correctness checks passed")
    return 1 if failed else 0
