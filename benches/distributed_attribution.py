"""Where the time of a distributed count goes, in CPU seconds: the engine's count against
each strategy's pieces in one process; then each stage on a cluster, its tasks timing
themselves.

8 shards of ``--tokens`` (2·10^7) tokens in all of the synthetic corpus of
``benches/ngram_speed.py`` (raw uint32 in ``/dev/shm``, so no disk is involved), orders 1..5.
In this process, one thread, CPU seconds (``time.process_time``, the best of ``--repeats``):

* the one-process count of the concatenation (the reference), and its remap pass alone
  (order 1 only: ids to ranks and the unigram histogram, what the scan's passes replace);
* ``--strategy scan``: the vocabulary pass (``_core.token_counts`` of each shard, what the
  vocabulary tasks do together); each range task of the plan (one per worker thread) split
  into its read of every shard (ranks written, windows of its range scattered:
  ``FirstRange.add``) and its sort and scan (``FirstRange.finish``); and the read alone, on
  a range of the rarest first token (what each extra range costs);
* ``--strategy shuffle``: each shard's profiles (what one machine does per shard), each
  shard's run (``_core.ngram_runs``, what a map task does), the merge of all runs in one
  range (``_core.merge_ngram_runs``, what the reduce tasks do together).

Then the same on a LocalCluster of 2 worker processes x 1 thread: each stage's wall time
beside its tasks' own wall and CPU seconds (the sum of the tasks' times / 2 workers = the
stage's wall time when Dask adds nothing), and the worker processes' CPU seconds over the
stage (tasks and Dask's own threads: the difference is Dask's cost in the workers).

    nice python benches/distributed_attribution.py                      # both, 2·10^7
    nice python benches/distributed_attribution.py --strategy scan --tokens 100000000

Prints only; the figures and the load average go into docs/distributed.md by hand.
"""

from __future__ import annotations

import argparse
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
from fastentropy.distributed import _scan
from fastentropy.distributed._shards import Shard
from ngram_speed import VOCAB, generate_markov

ORDERS = list(range(1, 6))
SHARDS = 8
WORKERS = 2


def timed(f: Any, *args: Any, **kwargs: Any) -> tuple[Any, float, float]:
    """``(result, wall seconds, CPU seconds of this process)``."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = f(*args, **kwargs)
    return out, time.perf_counter() - t0, time.process_time() - c0


def best(repeats: int, f: Any, *args: Any, **kwargs: Any) -> float:
    """The least CPU seconds of ``repeats`` calls."""
    return min(timed(f, *args, **kwargs)[2] for _ in range(repeats))


def timed_map(*args: Any) -> tuple[Any, float, float]:
    return timed(dn._map, *args)


def timed_reduce(*args: Any) -> tuple[Any, float, float]:
    return timed(dn._reduce, *args)


def timed_vocab(*args: Any) -> tuple[Any, float, float]:
    return timed(_scan.vocab, *args)


def timed_scan(*args: Any) -> tuple[Any, float, float]:
    return timed(_scan.scan, *args)


def cpu_seconds() -> float:
    return time.process_time()


def reference(joined: np.ndarray, repeats: int) -> dict[str, float]:
    return {
        "one process, concatenation": best(
            repeats, fe.ngram_profiles, joined, ORDERS, separator=VOCAB, threads=1
        ),
        "one process, remap pass alone (order 1)": best(
            repeats, fe.ngram_profiles, joined, [1], separator=VOCAB, threads=1
        ),
    }


def scan_plan(found: list[_scan.Vocab]) -> _scan.Plan:
    """The plan ``count_tables`` makes here: one range per worker thread, no limit."""
    empty = np.zeros(0, np.uint64)
    return _scan.plan(found, [empty] * SHARDS, max(ORDERS), False, 1, WORKERS, None, None)


def scan_in_process(shards: list[Shard], repeats: int) -> dict[str, float]:
    """CPU seconds of the scan's pieces, one thread, all shards."""
    out = {"vocabulary pass (all shards)": best(repeats, _scan.vocab, shards, VOCAB)}
    planned = scan_plan([_scan.vocab(shards, VOCAB)])
    tokens = [s.open()[0] for s in shards]

    def range_task(lo: int, hi: int) -> tuple[float, float]:
        count = _core.FirstRange(
            planned.vocabulary, lo, planned.sizes[lo - 1 : hi - 1], ORDERS, separator=VOCAB
        )
        c0 = time.process_time()
        for t in tokens:
            count.add(t)
        c1 = time.process_time()
        count.finish()
        return c1 - c0, time.process_time() - c1

    for lo, hi in planned.ranges:
        read, sort = min(range_task(lo, hi) for _ in range(repeats))
        out[f"range {lo}..{hi}: read, rank, scatter (add)"] = read
        out[f"range {lo}..{hi}: sort and scan (finish)"] = sort
    rare = int(np.argmin(planned.sizes)) + 1
    out["read alone (range of the rarest first token)"] = min(
        range_task(rare, rare + 1)[0] for _ in range(repeats)
    )
    return out


def shuffle_in_process(
    shards: list[np.ndarray], joined: np.ndarray, folder: str, repeats: int
) -> dict[str, float]:
    """CPU seconds of the shuffle's pieces, one thread, all shards."""
    out = {
        "profiles of each shard": sum(
            best(repeats, fe.ngram_profiles, s, ORDERS, threads=1) for s in shards
        )
    }
    runs, cpu = [], 0.0
    for i, s in enumerate(shards):
        files = [f"{folder}/{i}.{w}.npy" for w in ("tails", "counts", "index")]
        info, _, c = timed(_core.ngram_runs, s, max(ORDERS), *files, threads=1)
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
    merged, _, c = timed(
        _core.merge_ngram_runs, args, max(ORDERS), ORDERS, vocabulary.size, 1, 2**32 - 1
    )
    out["merge of all runs (reduce)"] = c
    out["reduce ns per row"] = c / rows * 1e9
    one = fe.ngram_profiles(joined, ORDERS, separator=VOCAB)
    assert all(fe.Profile(*p) == one[n] for n, p in merged), "merged profiles differ"
    return out


def stage(client: Any, name: str, submit: Any) -> list[Any]:
    """Runs one stage's tasks (``submit()`` returns their futures, each task giving
    ``(result, wall, cpu)``) and prints its wall time beside its tasks' and workers' CPU."""
    before = client.run(cpu_seconds)
    t0 = time.perf_counter()
    res = client.gather(submit())
    wall = time.perf_counter() - t0
    after = client.run(cpu_seconds)
    workers = sum(after[w] - before[w] for w in before)
    print(
        f"{name}: wall {wall:.2f} s; {len(res)} tasks {sum(r[1] for r in res):.2f} s wall, "
        f"{sum(r[2] for r in res):.2f} s CPU in all; worker processes {workers:.2f} s CPU"
    )
    return [r[0] for r in res]


def on_cluster(client: Any, shards: list[Shard], root: str, strategy: str) -> None:
    empty = np.zeros(0, np.uint64)
    if strategy in ("scan", "both"):
        groups = [shards[i::WORKERS] for i in range(WORKERS)]
        found = stage(
            client,
            "scan, vocabulary",
            lambda: [client.submit(timed_vocab, g, VOCAB, pure=False) for g in groups],
        )
        planned = scan_plan(found)
        prepare = dn._Prepare(VOCAB, [empty] * SHARDS, [None] * SHARDS, False)
        kinds, flags = {"ngrams": ORDERS}, {"ngrams": False}
        stage(
            client,
            "scan, ranges",
            lambda: [
                client.submit(
                    timed_scan,
                    shards,
                    kinds,
                    planned.vocabulary,
                    planned.sizes[lo - 1 : hi - 1],
                    lo,
                    VOCAB,
                    flags,
                    prepare,
                    None,
                    pure=False,
                )
                for lo, hi in planned.ranges
            ],
        )
    if strategy in ("shuffle", "both"):
        run = tempfile.mkdtemp(dir=root)
        tops = {"ngrams": max(ORDERS)}
        maps = stage(
            client,
            "shuffle, map",
            lambda: [
                client.submit(timed_map, s, run, tops, VOCAB, empty, None, None, pure=False)
                for s in shards
            ],
        )
        vocabulary = np.unique(np.concatenate([m.ids for m in maps]))
        stage(
            client,
            "shuffle, reduce",
            lambda: [
                client.submit(timed_reduce, maps, {"ngrams": ORDERS}, vocabulary, lo, hi)
                for lo, hi in dn._bounds(maps, vocabulary, 2 * WORKERS, None)
            ],
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=20_000_000)
    parser.add_argument("--strategy", choices=["scan", "shuffle", "both"], default="both")
    parser.add_argument("--repeats", type=int, default=2, help="cluster rounds; best-of here")
    args = parser.parse_args()
    root = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    try:
        whole = root + "/all.bin"
        generate_markov(whole, args.tokens)
        tokens = np.fromfile(whole, dtype=np.uint32)
        os.remove(whole)
        parts = np.array_split(tokens, SHARDS)
        del tokens
        paths = []
        for i, part in enumerate(parts):
            paths.append(f"{root}/s{i}.bin")
            part.tofile(paths[-1])
        sep = np.array([VOCAB], np.uint32)
        joined = np.concatenate([x for s in parts for x in (s, sep)][:-1])
        shards = [Shard(i, p, "uint32") for i, p in enumerate(paths)]
        print("load average", os.getloadavg())
        cpu = reference(joined, args.repeats)
        if args.strategy in ("scan", "both"):
            cpu |= scan_in_process(shards, args.repeats)
        if args.strategy in ("shuffle", "both"):
            folder = tempfile.mkdtemp(dir=root)
            cpu |= shuffle_in_process(parts, joined, folder, args.repeats)
            shutil.rmtree(folder)
        del parts, joined
        print(f"in this process, 1 thread, CPU seconds ({args.tokens:.0e} tokens):")
        for name, c in cpu.items():
            print(f"  {name}: {c:.3f}")
        with (
            distributed.LocalCluster(
                n_workers=WORKERS, threads_per_worker=1, dashboard_address=":0"
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            for r in range(args.repeats):
                print(f"cluster, round {r + 1} (the first one warms the workers up):")
                on_cluster(client, shards, root, args.strategy)
        print("load average", os.getloadavg())
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
