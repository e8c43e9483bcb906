"""CPU seconds by phase of one suffix-index build, its peak memory and its count latency.

One build + profiles of every order in this process (run it in a fresh one per measurement),
with the input resident first, as ``benches/suffix_speed.py`` measures "ours": CPU seconds
(all threads) at the build's progress marks (remap ends at 1 unit of n tokens, the sort at
2), peak RSS growth in bytes/token, and the latency of ``count`` on 2000 random 5-grams from
Python (two passes) and on a 100-token index (the Python call alone). For paired before/after
runs on a shared machine, alternate two builds (e.g. ``PYTHONPATH=<old package>``).

Usage: ``python benches/suffix_phases.py TOKENS_FILE [DTYPE [THREADS]]`` (prints one JSON line;
``PROF_OUT=path`` also pickles the profiles, to compare two builds' results).
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import time

import _common as common
import fastentropy as fe
import numpy as np


def main(argv: list[str]) -> int:
    path = argv[0]
    dtype = argv[1] if len(argv) > 1 else "uint32"
    threads = int(argv[2]) if len(argv) > 2 else None
    tokens = fe.open_tokens(path, dtype=dtype)
    int(tokens.sum(dtype=np.uint64))  # the input resident before timing
    common.reset_peak()
    rss0 = common.status_kib("VmRSS")
    n = len(tokens)
    marks: dict[int, tuple[float, float]] = {}
    t0, c0 = time.perf_counter(), time.process_time()

    def note(done: int, total: int) -> None:
        marks.setdefault(done // n, (time.process_time() - c0, time.perf_counter() - t0))

    idx = fe.SuffixIndex.build(tokens, threads=threads, progress=note)
    t1, c1 = time.perf_counter(), time.process_time()
    profiles = idx.profiles()
    t2, c2 = time.perf_counter(), time.process_time()
    peak = common.status_kib("VmHWM") - rss0
    remap = marks.get(1, (0.0, 0.0))
    sort = marks.get(2, marks.get(4, (c1 - c0, t1 - t0)))
    out: dict[str, float | int] = {
        "n": n,
        "load": os.getloadavg()[0],
        "wall": t2 - t0,
        "cpu": c2 - c0,
        "Mtok_s": n / (t2 - t0) / 1e6,
        "cpu_remap": remap[0],
        "cpu_sort": sort[0] - remap[0],
        "cpu_lcp": (c1 - c0) - sort[0],
        "cpu_prof": c2 - c1,
        "wall_remap": remap[1],
        "wall_sort": sort[1] - remap[1],
        "wall_lcp": (t1 - t0) - sort[1],
        "wall_prof": t2 - t1,
        "peak_B_tok": peak * 1024 / n,
        "orders": len(profiles),
    }
    rng = np.random.default_rng(7)
    grams = [tokens[s : s + 5].tolist() for s in rng.integers(0, n - 5, 2000)]
    for r in range(2):
        times = []
        for g in grams:
            q0 = time.perf_counter()
            idx.count(g)
            times.append(time.perf_counter() - q0)
        out[f"count{r}_med_us"] = float(np.median(times) * 1e6)
        out[f"count{r}_p99_us"] = float(np.percentile(times, 99) * 1e6)
    small = fe.SuffixIndex.build(np.arange(100, dtype=np.uint32))
    times = []
    for g in grams[:500]:
        q0 = time.perf_counter()
        small.count(g)
        times.append(time.perf_counter() - q0)
    out["count_tiny_med_us"] = float(np.median(times) * 1e6)
    if os.environ.get("PROF_OUT"):
        with open(os.environ["PROF_OUT"], "wb") as f:
            pickle.dump({k: (p.ks.tolist(), p.mks.tolist()) for k, p in profiles.items()}, f)
    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
