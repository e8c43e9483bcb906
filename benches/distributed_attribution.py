"""Where the time of a distributed count goes: the engine's count against its tables, and
the time inside the map and reduce tasks against each stage's wall time.

8 shards of 2.5·10^6 tokens of the synthetic corpus of ``benches/ngram_speed.py`` (raw
uint32 in ``/dev/shm``, so no disk is involved), orders 1..5, a LocalCluster of 2 worker
processes x 1 thread. Prints: one shard counted in this process with one thread (all orders'
profiles from one sort, then each order's count table as a map task writes it); then the map
and reduce stages on the cluster, each task timing itself (sum of the tasks' times / 2
workers = the stage's wall time when Dask adds nothing).

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

TABLES = [("ngrams", n) for n in range(1, 6)]


def timed(f: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = f(*args, **kwargs)
    return out, time.perf_counter() - t0


def timed_map(*args: Any) -> tuple[Any, float]:
    return timed(dn._map, *args)


def timed_reduce(*args: Any) -> tuple[Any, float]:
    return timed(dn._reduce, *args)


def one_shard(path: str) -> dict[str, float]:
    tokens = np.fromfile(path, dtype=np.uint32)
    folder = tempfile.mkdtemp(dir=os.path.dirname(path))
    out = {"profiles 1..5": timed(fe.ngram_profiles, tokens, range(1, 6), threads=1)[1]}
    for n in range(1, 6):
        g, c = folder + "/g.npy", folder + "/c.npy"
        out[f"table {n}"] = timed(_core.ngram_table, tokens, n, g, c, threads=1)[1]
    shutil.rmtree(folder)
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
        times = {k: round(v, 3) for k, v in one_shard(paths[0]).items()}
        print("one shard in this process, 1 thread (s):", times)
        shards = [Shard(i, p, "uint32") for i, p in enumerate(paths)]
        empty = np.zeros(0, np.uint64)
        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, dashboard_address=":0"
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            run = tempfile.mkdtemp(dir=root)
            t0 = time.perf_counter()
            futures = [
                client.submit(timed_map, s, run, TABLES, VOCAB, empty, None, None, pure=False)
                for s in shards
            ]
            res = client.gather(futures)
            wall = time.perf_counter() - t0
            inner = [r[1] for r in res]
            print(f"map: wall {wall:.2f} s, tasks {sum(inner):.2f} s in all: {np.round(inner, 2)}")
            maps = [r[0] for r in res]
            t0 = time.perf_counter()
            futures = [
                client.submit(timed_reduce, maps, TABLES, lo, hi, pure=False)
                for lo, hi in dn._bounds(maps, 4)
            ]
            res = client.gather(futures)
            wall = time.perf_counter() - t0
            inner = [r[1] for r in res]
            print(
                f"reduce: wall {wall:.2f} s, tasks {sum(inner):.2f} s in all: {np.round(inner, 2)}"
            )
        print("load average", os.getloadavg())
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
