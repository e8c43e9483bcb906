"""Suffix index speed: build + LCP + profiles of every order, against tokengrams' index build
and a pydivsufsort suffix array with a numpy LCP scan (orders 1..5), in one run.

Corpora: the synthetic Zipfian Markov corpus of ``benches/ngram_speed.py`` (uint32 ids,
V = 50k) and a real text as bytes (Debian's dict-gcide, as ngram_speed fetches it). Each
measured step runs in a fresh process, so its peak RSS is its own. Our profiles of orders
1..5 are checked against our sort-based counter and against the pydivsufsort scan.

Usage: ``python benches/suffix_speed.py [--tokens N] [--quick] [--write-docs]`` (writes
``benches/results/suffix_speed.json``; with ``--write-docs`` also ``docs/suffix_speed.md``).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import _common as common
import fastentropy as fe
import numpy as np
from ngram_speed import fetch_gcide, generate_markov

ORDERS = (1, 2, 3, 4, 5)
MiB = 1024.0 * 1024.0
QUERIES = 2000


def profile_lists(p: fe.Profile) -> tuple[list[int], list[int]]:
    return p.ks.tolist(), p.mks.tolist()


def lcp_scan_profiles(sa: np.ndarray, lcp: np.ndarray, n: int, orders: tuple[int, ...]) -> dict:
    """Count profiles from SA + LCP with numpy: order-k classes are runs with LCP >= k among
    suffixes at least k long (no separators in these corpora)."""
    out = {}
    length = n - sa.astype(np.int64)  # suffix lengths in SA order
    for k in orders:
        keep = length >= k
        # A class starts where the LCP with the previous kept suffix is < k. Dropped
        # (short) suffixes break no run: any run of LCP >= k excludes them anyway.
        starts = np.flatnonzero(keep & (lcp < k))
        ends = np.append(starts[1:], n)
        # Sizes counted on kept suffixes only.
        csum = np.concatenate(([0], np.cumsum(keep)))
        sizes = csum[ends] - csum[starts]
        ks, mks = np.unique(sizes[sizes > 0], return_counts=True)
        out[k] = (ks.tolist(), mks.tolist())
    return out


def step(spec: dict[str, Any]) -> dict[str, Any]:
    """One measured step in a fresh process: its seconds and its own peak RSS growth."""
    tokens = fe.open_tokens(spec["path"], dtype=spec["dtype"])
    int(tokens.sum(dtype=np.uint64))  # the input resident before timing
    kind = spec["kind"]
    common.reset_peak()
    rss0 = common.status_kib("VmRSS")
    out: dict[str, Any] = {"tokens": len(tokens)}
    t0 = time.perf_counter()
    c0 = time.process_time()
    if kind == "ours":
        n = len(tokens)
        # CPU seconds (all threads) when the build's progress first passes 1, 2 and 4 units
        # of n tokens: the remap, the suffix sort and the LCP end there (seen every 0.1 s).
        marks: dict[int, float] = {}

        def note(done: int, total: int) -> None:
            marks.setdefault(done // n, time.process_time() - c0)

        idx = fe.SuffixIndex.build(tokens, threads=spec["threads"], progress=note)
        t1 = time.perf_counter()
        c1 = time.process_time()
        profiles = idx.profiles()
        t2 = time.perf_counter()
        out["cpu_s"] = time.process_time() - c0
        out.update(build_s=t1 - t0, profiles_s=t2 - t1, seconds=t2 - t0)
        sorted_at = marks.get(2, marks.get(4, c1 - c0))
        out["cpu_phases"] = {
            "remap + sort": sorted_at,
            "LCP": (c1 - c0) - sorted_at,
            "profiles": time.process_time() - c1,
        }
        out["orders"] = len(profiles)
        out["max_lcp"] = idx.max_lcp
        out["index_bytes"] = idx.nbytes
        out["profiles"] = {n: profile_lists(profiles[n]) for n in ORDERS if n in profiles}
        out["peak_rss_growth_mib"] = (common.status_kib("VmHWM") - rss0) / 1024.0
        rng = np.random.default_rng(7)
        starts = rng.integers(0, len(tokens) - 5, QUERIES)
        grams = [tokens[s : s + 5].tolist() for s in starts]
        times = []
        for g in grams:
            q0 = time.perf_counter()
            c = idx.count(g)
            times.append(time.perf_counter() - q0)
            assert c >= 1
        out["count_5gram_us_median"] = float(np.median(times) * 1e6)
        out["count_5gram_us_p99"] = float(np.percentile(times, 99) * 1e6)
        m0 = time.perf_counter()
        idx.match_lengths("previous")
        out["match_lengths_s"] = time.perf_counter() - m0
    elif kind == "counter":
        res = fe.ngram_profiles(tokens, ORDERS, threads=spec["threads"])
        out["seconds"] = time.perf_counter() - t0
        out["profiles"] = {n: profile_lists(p) for n, p in res.items()}
        out["peak_rss_growth_mib"] = (common.status_kib("VmHWM") - rss0) / 1024.0
    elif kind == "tokengrams":
        import tokengrams

        table = spec["path"] + ".tg"
        tokengrams.MemmapIndex.build(spec["path16"], table, verbose=False)
        out["seconds"] = time.perf_counter() - t0
        out["peak_rss_growth_mib"] = (common.status_kib("VmHWM") - rss0) / 1024.0
        os.remove(table)
    elif kind == "divsufsort":
        import pydivsufsort

        arr = np.array(tokens)  # pydivsufsort needs a writeable array
        sa = pydivsufsort.divsufsort(arr)
        lcp = pydivsufsort.kasai(arr, sa)
        # kasai gives lcp[i] = LCP(sa[i], sa[i+1]); shift to "with the previous".
        prev = np.concatenate(([0], lcp[:-1])).astype(np.int64)
        out["profiles"] = lcp_scan_profiles(sa, prev, len(arr), ORDERS)
        out["seconds"] = time.perf_counter() - t0
        out["peak_rss_growth_mib"] = (common.status_kib("VmHWM") - rss0) / 1024.0
    # CPU seconds of all the process's threads: what the work cost, whatever else ran.
    out.setdefault("cpu_s", time.process_time() - c0)
    out["tokens_per_s"] = len(tokens) / out["seconds"]
    return out


def run_step(spec: dict[str, Any]) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        return ex.submit(step, spec).result()


def measure(name: str, path: str, dtype: str, threads: int | None) -> dict[str, Any]:
    n = os.path.getsize(path) // np.dtype(dtype).itemsize
    path16 = path + ".u16"
    np.fromfile(path, dtype=dtype).astype(np.uint16).tofile(path16)
    res: dict[str, Any] = {"name": name, "tokens": n, "dtype": dtype}
    base = {"path": path, "dtype": dtype, "threads": threads, "path16": path16}
    for kind in ("ours", "counter", "tokengrams", "divsufsort"):
        print(f"  {name}: {kind} ...", flush=True)
        try:
            res[kind] = run_step({**base, "kind": kind})
        except Exception as exc:  # a baseline that cannot run is reported, not fatal
            res[kind] = {"error": f"{type(exc).__name__}: {exc}"}
        print(f"    {_line(res[kind])}", flush=True)
    ours = res["ours"].get("profiles", {})
    for other in ("counter", "divsufsort"):
        theirs = res[other].get("profiles")
        if theirs is not None:
            same = all(list(map(list, ours[n])) == list(map(list, theirs[n])) for n in ORDERS)
            res[f"profiles_equal_{other}"] = same
    for kind in ("ours", "counter", "divsufsort"):
        res[kind].pop("profiles", None)
    os.remove(path16)
    return res


def _line(r: dict[str, Any]) -> str:
    if "error" in r:
        return r["error"]
    rate = r["tokens_per_s"] / 1e6
    return f"{r['seconds']:.2f} s, {rate:.2f} M tokens/s, peak +{r['peak_rss_growth_mib']:.0f} MiB"


def tables(results: dict[str, Any]) -> str:
    rows = [
        "| corpus | tokens | step | seconds | M tokens/s | CPU seconds | peak RSS growth "
        "| bytes/token |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "ours": "ours: build + LCP + profiles of every order",
        "counter": "ours: sort-based counter, orders 1..5",
        "tokengrams": "tokengrams MemmapIndex.build (index only)",
        "divsufsort": "pydivsufsort SA + kasai LCP + numpy scan, orders 1..5",
    }
    for c in results["corpora"]:
        for kind, label in labels.items():
            r = c[kind]
            if "error" in r:
                rows.append(
                    f"| {c['name']} | {c['tokens']:,} | {label} | - | - | - | {r['error']} | - |"
                )
                continue
            bpt = r["peak_rss_growth_mib"] * MiB / c["tokens"]
            rows.append(
                f"| {c['name']} | {c['tokens']:,} | {label} | {r['seconds']:.2f} | "
                f"{r['tokens_per_s'] / 1e6:.2f} | {r['cpu_s']:.2f} | "
                f"{r['peak_rss_growth_mib']:.0f} MiB | {bpt:.1f} |"
            )
    out = "\n".join(rows) + "\n\n"
    for c in results["corpora"]:
        o = c["ours"]
        if "error" in o:
            continue
        tg = c["tokengrams"]
        ratio = f"{tg['seconds'] / o['seconds']:.2f}x" if "seconds" in tg else "-"
        per_token = o["index_bytes"] / c["tokens"]
        phases = ", ".join(f"{k} {v:.2f}" for k, v in o["cpu_phases"].items())
        out += (
            f"- **{c['name']}**: build {o['build_s']:.2f} s + profiles of all {o['orders']} "
            f"orders {o['profiles_s']:.2f} s (longest repeat {o['max_lcp']:,}); index "
            f"{per_token:.2f} bytes/token; ours (all orders) vs tokengrams' build alone: "
            f"{ratio}; count(5-gram) median {o['count_5gram_us_median']:.1f} µs (p99 "
            f"{o['count_5gram_us_p99']:.1f} µs); match_lengths('previous') "
            f"{o['match_lengths_s']:.2f} s; profiles 1..5 equal the counter's: "
            f"{c.get('profiles_equal_counter')}, the pydivsufsort scan's: "
            f"{c.get('profiles_equal_divsufsort')}; CPU seconds by phase: {phases}.\n"
        )
    return out


def write_docs(results: dict[str, Any], path: str) -> None:
    summary = common.existing_summary(path)
    text = (
        "# Suffix index speed\n\n"
        f"{common.SUMMARY_BEGIN}\n{summary.strip()}\n{common.SUMMARY_END}\n\n"
        f"Generated by `python benches/suffix_speed.py --tokens {results['tokens_arg']} "
        f"--write-docs` on "
        f"{results['date']} ({results['cpu']}, {results['cores']} cores; git {results['git']}; "
        f"load average {results['load'][0]:.1f} at the start, {results['load'][1]:.1f} at the "
        "end).\n"
        "Each step runs in a fresh process; peak RSS growth is over the process with its input "
        "resident (bytes/token beside the tokens). CPU seconds are those of all the step's "
        "threads (`time.process_time`): on a machine shared with other work they tell what "
        "the step cost when the wall-clock seconds tell mostly how busy the machine was.\n\n"
        + tables(results)
    )
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = common.arg_parser(__doc__ or "", "10^5 tokens")
    parser.add_argument("--tokens", type=int, default=10_000_000, help="tokens per corpus")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-text", action="store_true", help="skip the dict-gcide corpus")
    common.add_output_args(parser, "docs/suffix_speed.md")
    args = parser.parse_args(argv)
    if args.from_json:
        saved = common.load_results(args.from_json)
        print(tables(saved))
        if args.write_docs:
            write_docs(saved, args.write_docs)
        return 0
    n = 100_000 if args.quick else args.tokens
    start = time.perf_counter()
    import datetime

    results: dict[str, Any] = {
        "date": datetime.date.today().isoformat(),
        **common.provenance(),
        "cpu": common.cpu_model(),
        "cores": os.cpu_count(),
        "tokens_arg": n,
        "corpora": [],
    }
    load = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as work:
        synth = os.path.join(work, "markov.bin")
        generate_markov(synth, n)
        results["corpora"].append(
            measure("synthetic (uint32, V=50k)", synth, "uint32", args.threads)
        )
        if not args.no_text:
            path, note = fetch_gcide(work)
            results["text_note"] = note
            if path is not None:
                text = os.path.join(work, "text.bin")
                np.fromfile(path, dtype=np.uint8, count=n).tofile(text)
                results["corpora"].append(
                    measure("dict-gcide (bytes)", text, "uint8", args.threads)
                )
    results["wall_seconds"] = time.perf_counter() - start
    results["load"] = [*load, os.getloadavg()[0]]
    print(tables(results))
    common.save_results(results, "suffix_speed", args.out, args.quick)
    if args.write_docs:
        write_docs(results, args.write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
