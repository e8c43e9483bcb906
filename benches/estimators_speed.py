"""Speed and peak memory of fastentropy's estimators against numpy/scipy baselines.

What it measures
----------------
Samples of ``S`` = 10^3 .. 10^9 outcomes: a Zipf(1.1) distribution over S outcomes with
N ≈ S observations (Poisson counts, count_i ~ Poisson(N p_i), drawn in chunks with a fixed
seed, so even the 10^9 profile is built with bounded memory: chunks of raw counts are
turned into partial profiles that add). In one process, for each size:

* **profile building**: ``fe.Profile.from_counts(counts)`` against
  ``np.unique(counts, return_counts=True)`` and ``np.bincount(counts)`` (both followed by
  dropping the zero count), where the raw counts fit in memory (S ≤ ``--max-raw``,
  default 10^8);
* **estimators**: every method of ``fe.METHODS`` on the profile (``dirichlet`` only with
  K; ``nsb``, ``dirichlet``, ``shrinkage`` also with the true K = S, labelled ``@K``);
* **baselines on the raw counts vector**: ``scipy.stats.entropy`` (plug-in) and vectorised
  numpy Miller–Madow and Chao–Shen written here, against ours on the profile and ours end to
  end (``fe.entropy(counts, ...)``, profile building included). Values are checked to agree
  (to 1e-9 relative; the script exits 1 when a profile or a value does not);
* **the 10 ms target**: every method on profiles of 10^6 outcomes of several shapes
  (Zipf 1.1 and 1.0, uniform; N/K = 1 and 10; multinomial samples).

Times are the minimum over repeats (each repeat runs the call enough times to last ≥ 2 ms;
at most ``--repeats`` repeats and about ``--budget`` seconds per measurement, at least 3 calls
in all). Peak memory
is the growth of the process's peak RSS during one call (Linux: the peak is reset through
``/proc/self/clear_refs`` before each call; this sees Rust and numpy allocations alike) and,
for the numpy/scipy baselines, the ``tracemalloc`` peak as well. Ratios are baseline time /
our time: above 1 means we are faster.

How to run
----------
::

    python benches/estimators_speed.py               # 10^3 .. 10^9, a few minutes
    python benches/estimators_speed.py --write-docs  # the same, and regenerate docs/speed.md
    python benches/estimators_speed.py --quick       # 10^3 .. 10^6, < 1 min, prints only

Writes ``benches/results/estimators_speed.json``; with ``--write-docs`` also ``docs/speed.md``
(a summary between ``<!-- summary:begin -->`` and ``<!-- summary:end -->`` in it is kept).
Needs numpy, scipy and fastentropy. Not part of the test run.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import resource
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import _common as common
import fastentropy as fe
import numpy as np
import scipy
import scipy.special
import scipy.stats

SEED = 20240611
EXPONENT = 1.1
SIZES = tuple(10**e for e in range(3, 10))
QUICK_SIZES = tuple(10**e for e in range(3, 7))
CHUNK = 1 << 23
TARGET_SECONDS = 0.010
TARGET_SIZE = 10**6
#: (label, distribution, N/K) of the profiles of 10^6 outcomes for the 10 ms target.
TARGET_SHAPES = (
    ("zipf1.1, N=K", "zipf1.1", 1),
    ("zipf1.1, N=10K", "zipf1.1", 10),
    ("zipf1.0, N=K", "zipf1.0", 1),
    ("zipf1.0, N=10K", "zipf1.0", 10),
    ("uniform, N=K", "uniform", 1),
)
#: Repeats made even when one call exceeds the time budget (so every figure is a minimum).
MIN_REPEATS = 2
MiB = 1024.0 * 1024.0


# ------------------------------------------------------------------------------- baselines


def plugin_scipy(counts: np.ndarray) -> float:
    """Plug-in entropy (nats) with scipy: normalises the counts and sums -p ln p."""
    return float(scipy.stats.entropy(counts))


def miller_madow_numpy(counts: np.ndarray) -> float:
    """Miller–Madow (nats): plug-in + (K_obs - 1) / (2N), vectorised numpy."""
    c = counts[counts > 0]
    n = c.sum()
    p = c / n
    return float(-(p * np.log(p)).sum() + (c.size - 1) / (2.0 * n))


def chao_shen_numpy(counts: np.ndarray) -> float:
    """Chao–Shen (nats): -Σ p̃ ln p̃ / (1 - (1 - p̃)^N), p̃ = (1 - f1/N) n_i/N, numpy."""
    c = counts[counts > 0]
    n = float(c.sum())
    f1 = float(np.count_nonzero(c == 1))
    if f1 == n:
        f1 = n - 1.0
    pa = (1.0 - f1 / n) * (c / n)
    inclusion = -np.expm1(n * np.log1p(-pa))
    return float(-(pa * np.log(pa) / inclusion).sum())


BASELINES: dict[str, tuple[str, Callable[[np.ndarray], float]]] = {
    "plugin": ("scipy.stats.entropy", plugin_scipy),
    "miller_madow": ("numpy Miller–Madow", miller_madow_numpy),
    "chao_shen": ("numpy Chao–Shen", chao_shen_numpy),
}


def profile_numpy_unique(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ks, mks = np.unique(counts, return_counts=True)
    keep = ks > 0
    return ks[keep], mks[keep]


def profile_numpy_bincount(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mks = np.bincount(counts)
    ks = np.flatnonzero(mks)
    ks = ks[ks > 0]
    return ks, mks[ks]


# -------------------------------------------------------------------------------- samples


def zipf_normaliser(size: int, s: float) -> float:
    """Σ_{i=1}^{size} i^-s."""
    if s == 1.0:
        return float(scipy.special.digamma(size + 1.0) + np.euler_gamma)
    return float(scipy.special.zeta(s, 1.0) - scipy.special.zeta(s, size + 1.0))


def poisson_zipf_chunks(size: int, n: float, s: float, seed: int) -> Iterator[np.ndarray]:
    """Counts of ranks 1..size in chunks: count_i ~ Poisson(n · i^-s / Σ j^-s)."""
    rng = np.random.default_rng([seed, size])
    scale = n / zipf_normaliser(size, s)
    for start in range(0, size, CHUNK):
        ranks = np.arange(start + 1, min(start + CHUNK, size) + 1, dtype=np.float64)
        yield rng.poisson(scale * ranks**-s)


def main_sample(size: int, keep_raw: bool) -> tuple[np.ndarray | None, fe.Profile]:
    """The Zipf(1.1), N ≈ S sample of ``size`` outcomes: raw counts (if kept) and profile."""
    if keep_raw:
        counts = np.concatenate(list(poisson_zipf_chunks(size, size, EXPONENT, SEED)))
        return counts, fe.Profile.from_counts(counts)
    profile = None
    for chunk in poisson_zipf_chunks(size, size, EXPONENT, SEED):
        mks = np.bincount(chunk)
        ks = np.flatnonzero(mks)
        ks = ks[ks > 0]
        part = fe.Profile(ks, mks[ks])
        profile = part if profile is None else profile + part
    assert profile is not None
    return None, profile


def target_sample(dist: str, ratio: int) -> fe.Profile:
    k = TARGET_SIZE
    if dist == "uniform":
        p = np.full(k, 1.0 / k)
    else:
        p = np.arange(1, k + 1, dtype=np.float64) ** -float(dist[len("zipf") :])
        p /= p.sum()
    rng = np.random.default_rng(
        [
            SEED,
            7,
            TARGET_SHAPES.index(next(t for t in TARGET_SHAPES if t[1] == dist and t[2] == ratio)),
        ]
    )
    return fe.Profile.from_counts(rng.multinomial(ratio * k, p))


# ---------------------------------------------------------------------------- measurement


def best_time(
    fn: Callable[[], Any], first: float, repeats: int, budget: float
) -> tuple[float, int]:
    """Minimum seconds per call, given a first call that took ``first`` seconds.

    Each repeat runs the call enough times to last at least 2 ms; at most ``repeats`` repeats,
    and no more than fit in about ``budget`` seconds, but always at least ``MIN_REPEATS``.
    """
    number = max(1, int(math.ceil(0.002 / max(first, 1e-9))))
    repeats = max(MIN_REPEATS, min(repeats, int(budget / max(first * number, 1e-9))))
    best = first
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best, 1 + repeats * number


RESET_PEAK = common.reset_peak()


def first_call(fn: Callable[[], Any]) -> tuple[float, float | None]:
    """Seconds of one call of ``fn`` and the MiB by which the process's peak RSS rose above
    its RSS at the start of the call (None where the peak cannot be reset)."""
    before = None
    if RESET_PEAK:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        before = common.status_kib("VmRSS")
    t0 = time.perf_counter()
    fn()
    seconds = time.perf_counter() - t0
    if before is None:
        return seconds, None
    return seconds, max(0, common.status_kib("VmHWM") - before) / 1024.0


def traced_peak(fn: Callable[[], Any]) -> float:
    """MiB: peak of Python-tracked allocations (numpy included) during one call."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / MiB
    finally:
        tracemalloc.stop()


def measure(fn: Callable[[], Any], args: argparse.Namespace, traced: bool = False) -> dict:
    """Best time per call, calls made, peak RSS growth and (``traced``) tracemalloc peak."""
    first, peak = first_call(fn)
    seconds, calls = best_time(fn, first, args.repeats, args.budget)
    out: dict[str, Any] = {"seconds": seconds, "calls": calls, "peak_rss_mib": peak}
    if traced:
        out["tracemalloc_mib"] = traced_peak(fn)
    return out


def estimate_call(profile: Any, method: str, k: float | None) -> Callable[[], float]:
    """One ``fe.entropy`` call, in nats (callers silence ``ansb``'s RuntimeWarning once,
    outside the timed calls, so that the timing holds no warnings machinery)."""

    def call() -> float:
        return fe.entropy(profile, method, alphabet_size=k).value

    return call


def time_methods(profile: fe.Profile, k: int, args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, method, with_k in common.variants():
        call = estimate_call(profile, method, k if with_k else None)
        try:
            value = call()
        except ValueError as exc:
            out[label] = {"error": str(exc)}
            print(f"    {label:<16} ValueError: {exc}", flush=True)
            continue
        m = measure(call, args)
        m["value_nats"] = value
        out[label] = m
        print(f"    {label:<16} {fmt_time(m['seconds']):>10}", flush=True)
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    load_before = os.getloadavg()
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    sizes = QUICK_SIZES if args.quick else SIZES
    rows = []
    for size in sizes:
        keep_raw = size <= args.max_raw
        t0 = time.perf_counter()
        counts, profile = main_sample(size, keep_raw)
        row: dict[str, Any] = {
            "outcomes": size,
            "n": profile.n,
            "distinct": profile.distinct,
            "profile_pairs": len(profile),
            "generate_seconds": time.perf_counter() - t0,
            "raw_counts": keep_raw,
        }
        print(
            f"S = {size:.0e}: N = {profile.n}, distinct = {profile.distinct}, "
            f"{len(profile)} profile pairs (generated in {row['generate_seconds']:.1f} s)",
            flush=True,
        )
        if counts is not None:
            c = counts
            row["counts_mib"] = c.nbytes / MiB
            row["profile_build"] = {
                "fe.Profile.from_counts": measure(partial(fe.Profile.from_counts, c), args),
                "np.unique": measure(partial(profile_numpy_unique, c), args, traced=True),
                "np.bincount": measure(partial(profile_numpy_bincount, c), args, traced=True),
            }
            ks, mks = profile_numpy_bincount(c)
            row["profile_matches_numpy"] = bool(
                np.array_equal(ks, profile.ks) and np.array_equal(mks, profile.mks)
            )
            row["baselines"] = {}
            for method, (name, fn) in BASELINES.items():
                theirs = measure(partial(fn, c), args, traced=True)
                theirs["value_nats"] = fn(c)
                ours_e2e = measure(estimate_call(c, method, None), args)
                row["baselines"][method] = {
                    "baseline": name,
                    "theirs": theirs,
                    "ours_end_to_end": ours_e2e,
                }
            print("  profile building and baselines done", flush=True)
        row["methods"] = time_methods(profile, size, args)
        for method, b in row.get("baselines", {}).items():
            ours = row["methods"][method]
            b["ours_profile"] = {k: ours[k] for k in ("seconds", "peak_rss_mib")}
            b["abs_diff_nats"] = abs(b["theirs"]["value_nats"] - ours["value_nats"])
        rows.append(row)
        del counts

    target = []
    for label, dist, ratio in TARGET_SHAPES if not args.skip_target else ():
        profile = target_sample(dist, ratio)
        print(f"10 ms target, {label}: {len(profile)} profile pairs", flush=True)
        target.append(
            {
                "shape": label,
                "n": profile.n,
                "distinct": profile.distinct,
                "profile_pairs": len(profile),
                "methods": time_methods(profile, TARGET_SIZE, args),
            }
        )
    return {
        "benchmark": "estimators_speed",
        "quick": args.quick,
        "date": date,
        **common.provenance(),
        "scipy": scipy.__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "seed": SEED,
        "exponent": EXPONENT,
        "repeats": args.repeats,
        "budget_seconds": args.budget,
        "peak_rss_reset": RESET_PEAK,
        "sizes": rows,
        "target": {"seconds": TARGET_SECONDS, "outcomes": TARGET_SIZE, "profiles": target},
        "load_average_start_end": [load_before[0], os.getloadavg()[0]],
        "process_max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "wall_seconds": time.perf_counter() - started,
    }


# ---------------------------------------------------------------------------------- report


def fmt_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def ratio(baseline: float, ours: float) -> str:
    """Baseline time / our time, e.g. "3.2×" or "510×"."""
    r = baseline / ours
    return f"{r:.2g}×" if r < 10 else f"{r:,.0f}×"


def fmt_mib(mib: float | None) -> str:
    return "—" if mib is None else f"{mib:.1f}"


def exp10(x: int) -> str:
    return f"10^{int(round(math.log10(x)))}"


def tables(results: dict[str, Any]) -> str:
    """The markdown tables (also printed by the script)."""
    rows = results["sizes"]
    raw = [r for r in rows if r["raw_counts"]]
    out = []

    out += [
        "## Samples",
        "",
        "| outcomes S | N | distinct | profile pairs |",
        "|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {exp10(r['outcomes'])} | {r['n']:,} | {r['distinct']:,} | {r['profile_pairs']:,} |"
        )

    out += [
        "",
        "## Profile building from the raw counts vector",
        "",
        "Ratio = numpy time / `fe.Profile.from_counts` time. Peak: growth of peak RSS during "
        "one call (MiB); for numpy also the tracemalloc peak.",
        "",
        "| S | counts (MiB) | from_counts | np.unique | ratio | np.bincount | ratio | "
        "peak from_counts | peak np.unique (traced) | peak np.bincount (traced) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in raw:
        pb = r["profile_build"]
        ours, uq, bc = pb["fe.Profile.from_counts"], pb["np.unique"], pb["np.bincount"]
        out.append(
            f"| {exp10(r['outcomes'])} | {r['counts_mib']:.0f} | {fmt_time(ours['seconds'])} | "
            f"{fmt_time(uq['seconds'])} | {ratio(uq['seconds'], ours['seconds'])} | "
            f"{fmt_time(bc['seconds'])} | {ratio(bc['seconds'], ours['seconds'])} | "
            f"{fmt_mib(ours['peak_rss_mib'])} | {fmt_mib(uq['peak_rss_mib'])} "
            f"({fmt_mib(uq['tracemalloc_mib'])}) | {fmt_mib(bc['peak_rss_mib'])} "
            f"({fmt_mib(bc['tracemalloc_mib'])}) |"
        )

    out += [
        "",
        "## Against baselines on the raw counts vector",
        "",
        "Ratio = baseline time / our time. *Profile*: ours on a ready profile; *end to end*: "
        "`fe.entropy(counts, method)`, building the profile included. Δ: |baseline − ours| "
        "in nats.",
        "",
        "| S | method | baseline | baseline time | ours (profile) | ratio | ours (end to end) "
        "| ratio | peak baseline (traced) | peak ours e2e | Δ |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in raw:
        for method, b in r["baselines"].items():
            th, op, oe = b["theirs"], b["ours_profile"], b["ours_end_to_end"]
            out.append(
                f"| {exp10(r['outcomes'])} | {method} | {b['baseline']} | "
                f"{fmt_time(th['seconds'])} | {fmt_time(op['seconds'])} | "
                f"{ratio(th['seconds'], op['seconds'])} | {fmt_time(oe['seconds'])} | "
                f"{ratio(th['seconds'], oe['seconds'])} | {fmt_mib(th['peak_rss_mib'])} "
                f"({fmt_mib(th['tracemalloc_mib'])}) | {fmt_mib(oe['peak_rss_mib'])} | "
                f"{b['abs_diff_nats']:.1e} |"
            )

    labels = [v[0] for v in common.variants()]
    out += [
        "",
        "## Every estimator on the profile (min time per call)",
        "",
        "| method | " + " | ".join(exp10(r["outcomes"]) for r in rows) + " |",
        "|" + "---|" * (len(rows) + 1),
    ]
    for lab in labels:
        cells = []
        for r in rows:
            m = r["methods"].get(lab, {})
            cells.append("error" if "error" in m else fmt_time(m.get("seconds")))
        out.append(f"| {lab} | " + " | ".join(cells) + " |")
    peaks = [max((m.get("peak_rss_mib") or 0.0) for m in r["methods"].values()) for r in rows]
    out.append("| *max peak RSS growth, MiB* | " + " | ".join(f"{p:.1f}" for p in peaks) + " |")

    target = results["target"]
    if target["profiles"]:
        limit = target["seconds"]
        out += [
            "",
            f"## Target: every method under {limit * 1e3:g} ms on a profile of "
            f"{exp10(target['outcomes'])} outcomes",
            "",
            "Multinomial samples over 10^6 outcomes. **Bold**: over the target.",
            "",
            "| method | " + " | ".join(p["shape"] for p in target["profiles"]) + " |",
            "|" + "---|" * (len(target["profiles"]) + 1),
            "| *profile pairs* | "
            + " | ".join(f"{p['profile_pairs']:,}" for p in target["profiles"])
            + " |",
        ]
        for lab in labels:
            cells = []
            for p in target["profiles"]:
                m = p["methods"].get(lab, {})
                if "error" in m:
                    cells.append("**error**")
                    continue
                text = fmt_time(m["seconds"])
                cells.append(f"**{text}**" if m["seconds"] > limit else text)
            out.append(f"| {lab} | " + " | ".join(cells) + " |")
        out += ["", target_verdict(results)]
    return "\n".join(out) + "\n"


def target_verdict(results: dict[str, Any]) -> str:
    target = results["target"]
    limit = target["seconds"]
    misses = []
    for p in target["profiles"]:
        for lab, m in p["methods"].items():
            if "error" in m:
                misses.append(f"`{lab}` on {p['shape']} (ValueError: {m['error']})")
            elif m["seconds"] > limit:
                misses.append(f"`{lab}` on {p['shape']} ({fmt_time(m['seconds'])})")
    if not misses:
        return f"**Target met**: every method under {limit * 1e3:g} ms on every shape."
    return f"**Target not met** ({len(misses)} misses): " + "; ".join(misses) + "."


def write_docs(results: dict[str, Any], path: str) -> None:
    load = " → ".join(f"{x:.1f}" for x in results.get("load_average_start_end", ()))
    head = [
        "# Estimator speed",
        "",
        "Generated by `benches/estimators_speed.py` "
        f"(fastentropy {results['fastentropy_version']}, git {results['git']}, "
        f"extension build {results.get('build', 'unknown')}, "
        f"numpy {results['numpy']}, scipy {results['scipy']}, {results['date']}, "
        f"{results['machine']}, 1-min load average {load}, "
        f"{results['wall_seconds'] / 60:.1f} min; process peak RSS "
        f"{results['process_max_rss_mib']:.0f} MiB). Raw numbers: "
        "`benches/results/estimators_speed.json`. Re-run with "
        "`python benches/estimators_speed.py --write-docs` (`--quick`: up to 10^6, < 1 min).",
        "",
        f"**Setup.** Zipf({results['exponent']}) over S outcomes with N ≈ S observations "
        "(Poisson counts, fixed seed); the 10^9 profile is built chunk by chunk (partial "
        "profiles add) since its raw counts would not fit. Times are the minimum over 3 to "
        f"{results['repeats'] + 1} timed repeats. These machines are shared and noisy: "
        "ratios within the run are the figures that count.",
        "",
    ]
    common.write_doc(path, head, tables(results))


def main(argv: list[str] | None = None) -> int:
    parser = common.arg_parser(__doc__, "sizes 10^3..10^6")
    parser.add_argument(
        "--max-raw",
        default=1e8,
        type=float,
        help="largest S whose raw counts are materialised (default 1e8)",
    )
    parser.add_argument("--repeats", type=int, default=7, help="timing repeats (default 7)")
    parser.add_argument(
        "--budget", type=float, default=5.0, help="approximate seconds per measurement (default 5)"
    )
    parser.add_argument("--skip-target", action="store_true", help="skip the 10 ms check")
    common.add_output_args(parser, "docs/speed.md")
    args = parser.parse_args(argv)

    if args.from_json:
        results = common.load_results(args.from_json)
    else:
        with warnings.catch_warnings():
            # ansb warns on samples with many coincidences; the timing is what matters here.
            warnings.simplefilter("ignore", RuntimeWarning)
            results = run(args)
        common.save_results(results, "estimators_speed", args.out, args.quick)
    print()
    print(tables(results))
    if args.write_docs:
        write_docs(results, args.write_docs)
    return common.check_status(checks(results))


#: Ours and the numpy/scipy baselines compute the same sums in another order: relative
#: agreement to this is agreement (f64 sums over up to 10^9 terms).
AGREE = 1e-9


def checks(results: dict[str, Any]) -> dict[str, list[str]]:
    """The docstring's promise: profiles equal to numpy's, values equal to the baselines'."""
    out: dict[str, list[str]] = {}
    for row in results["sizes"]:
        if "profile_matches_numpy" not in row:
            continue  # raw counts too large to hold: no baseline ran
        label = f"S = {row['outcomes']:.0e}"
        out[f"{label}: profile equal to np.bincount's"] = (
            [] if row["profile_matches_numpy"] else ["profiles differ"]
        )
        for method, b in row["baselines"].items():
            theirs = b["theirs"]["value_nats"]
            bad = b["abs_diff_nats"] > AGREE * max(abs(theirs), 1.0)
            out[f"{label}: {method} equal to {b['baseline']}"] = (
                [f"|diff| = {b['abs_diff_nats']:.2e} nats"] if bad else []
            )
    return out


if __name__ == "__main__":
    sys.exit(main())
