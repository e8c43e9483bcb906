"""Where the time of a distributed count goes, in CPU seconds: the engine's count against
the map's runs and the reduce's merge, in one process; then each stage on a cluster, its
tasks timing themselves.

8 shards of 2.5·10^6 tokens of the synthetic corpus of ``benches/ngram_speed.py`` (raw
uint32 in ``/dev/shm``, so no disk is involved), orders 1..5. In this process, one thread,
CPU seconds (``time.process_time``): the one-process count of the concatenation; each
shard's profiles (what one machine does per shard); each shard's run (``_core.ngram_runs``,
what a map task does); the merge of all runs in one range (``_core.merge_ngram_runs``, what
the reduce tasks do together). Then the same on a LocalCluster of 2 worker processes x 1
thread: each stage's wall time beside its tasks' own wall and CPU seconds (the sum of the
tasks' times / 2 workers = the stage's wall time when Dask adds nothing).

    nice python benches/distributed_attribution.py

Prints only; the figures and the load average go into docs/distributed.md by hand.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any

import distributed
import fastentropy as fe
import numpy as np
from fastentropy import _core
from fastentropy.distributed import _ngram as dn
from fastentropy.distributed._shards import Shard
from ngram_speed import VOCAB, generate_markov

ORDERS = list(range(1, 6))


def timed(f: Any, *args: Any, **kwargs: Any) -> tuple[Any, float, float]:
    """``(result, wall seconds, CPU seconds of this process)``."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = f(*args, **kwargs)
    return out, time.perf_counter() - t0, time.process_time() - c0


def timed_map(*args: Any) -> tuple[Any, float, float]:
    return timed(dn._map, *args)


def timed_reduce(*args: Any) -> tuple[Any, float, float]:
    return timed(dn._reduce, *args)


def in_process(paths: list[str], folder: str) -> dict[str, float]:
    """CPU seconds of each piece, one thread, all 8 shards."""
    shards = [np.fromfile(p, dtype=np.uint32) for p in paths]
    sep = np.array([VOCAB], np.uint32)
    joined = np.concatenate([x for s in shards for x in (s, sep)][:-1])
    out = {
        "one process, concatenation": timed(
            fe.ngram_profiles, joined, ORDERS, separator=VOCAB, threads=1
        )[2]
    }
    out["profiles of each shard"] = sum(
        timed(fe.ngram_profiles, s, ORDERS, threads=1)[2] for s in shards
    )
    runs, cpu = [], 0.0
    for i, s in enumerate(shards):
        files = [f"{folder}/{i}.{w}.npy" for w in ("tails", "counts", "index")]
        info, _, c = timed(_core.ngram_runs, s, 5, *files, threads=1)
        cpu += c
        runs.append((files, info))
    out["runs of each shard (map)"] = cpu
    vocabulary = np.unique(np.concatenate([info[0] for _, info in runs]))
    args = [
        (
            np.load(f[0], mmap_mode="r"),
            np.load(f[1], mmap_mode="r"),
            np.load(f[2], mmap_mode="r"),
            (np.searchsorted(vocabulary, info[0]) + 1).astype(np.uint32),
            info[1],
            info[2],
            info[3],
        )
        for f, info in runs
    ]
    rows = sum(info[4] for _, info in runs)
    merged, _, c = timed(_core.merge_ngram_runs, args, 5, ORDERS, vocabulary.size, 1, 2**32 - 1)
    out["merge of all runs (reduce)"] = c
    out["reduce ns per row"] = c / rows * 1e9
    one = fe.ngram_profiles(joined, ORDERS, separator=VOCAB)
    assert all(fe.Profile(*p) == one[n] for n, p in merged), "merged profiles differ"
    return out


def main() -> None:
    root = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        whole = root + "/all.bin"
        generate_markov(whole, 20_000_000)
        tokens = np.fromfile(whole, dtype=np.uint32)
        os.remove(whole)
        paths = []
        for i, part in enumerate(np.array_split(tokens, 8)):
            paths.append(f"{root}/s{i}.bin")
            part.tofile(paths[-1])
        print("load average", os.getloadavg())
        folder = tempfile.mkdtemp(dir=root)
        cpu = {k: round(v, 3) for k, v in in_process(paths, folder).items()}
        shutil.rmtree(folder)
        print("in this process, 1 thread, CPU seconds:", cpu)
        shards = [Shard(i, p, "uint32") for i, p in enumerate(paths)]
        empty = np.zeros(0, np.uint64)
        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, dashboard_address=":0"
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            run = tempfile.mkdtemp(dir=root)
            kinds = {"ngrams": max(ORDERS)}
            t0 = time.perf_counter()
            futures = [
                client.submit(timed_map, s, run, kinds, VOCAB, empty, None, None, pure=False)
                for s in shards
            ]
            res = client.gather(futures)
            wall = time.perf_counter() - t0
            print(
                f"map: wall {wall:.2f} s; tasks {sum(r[1] for r in res):.2f} s wall, "
                f"{sum(r[2] for r in res):.2f} s CPU in all"
            )
            maps = [r[0] for r in res]
            vocabulary = np.unique(np.concatenate([m.ids for m in maps]))
            t0 = time.perf_counter()
            futures = [
                client.submit(timed_reduce, maps, {"ngrams": ORDERS}, vocabulary, lo, hi)
                for lo, hi in dn._bounds(maps, vocabulary, 4, None)
            ]
            res = client.gather(futures)
            wall = time.perf_counter() - t0
            print(
                f"reduce: wall {wall:.2f} s; tasks {sum(r[1] for r in res):.2f} s wall, "
                f"{sum(r[2] for r in res):.2f} s CPU in all"
            )
        print("load average", os.getloadavg())
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
