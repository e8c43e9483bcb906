"""Exact n-gram count profiles over a Dask cluster, by map and reduce.

Map (one task per shard): the shard is counted by the one-machine engine in one pass
(``_core.ngram_runs``): one sort of every window of up to K tokens, and every distinct
window (first token, sentinel-padded tail, mask flags) written with its count, sorted by
first token, to the shard's scratch directory, with an index of where each first token's
rows end. The counts of every order 2..K are sums over these rows, so one run per shard
serves all orders (and the floor's contexts, under their own mask, are a second run).

Reduce (one task per range of first tokens): the rows of that range from every shard are
merged in Rust (``_core.merge_ngram_runs``: each shard's ranks mapped to the ranks of the
union of the shards' vocabularies, a loser tree over the shards, one scan closing the runs
of every order), into count profiles. Ranges hold disjoint n-grams, so their profiles add
to the profile of the whole corpus, exactly (Brants et al. 2007 counted n-grams with
MapReduce this way). Only profiles travel back to the client.

Shards are documents apart: the result is one count of the shards concatenated with a
separator between them. With ``continued=True`` the shards are one stream: each map task
also reads the last ``K - 1`` tokens before its shard (masked out, so their own n-grams stay
the previous shard's), so the n-grams across a boundary are counted once, by the shard they
end in.
"""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _core
from .._args import MAX_INDEX, counting_options, int_arg, parse_size
from .._floor.estimate import context_mask
from .._profile import Profile
from .._progress import Progress, stage
from . import _scan
from ._client import resolve_client, worker_threads
from ._scratch import attempt, load_rows, load_small, new_run, on_disk_full, remove
from ._shards import Shard, ShardSpec, named, shard_list

__all__ = ["Summary", "TableKey", "count_tables", "ngram_profiles"]

#: A table a map task writes: ``("ngrams", n)`` counts n-grams under the caller's mask,
#: ``("contexts", n)`` counts (n)-grams as contexts of the (n+1)-grams (the floor's mask).
TableKey = tuple[str, int]
#: First tokens sampled per table to plan the partitions.
SAMPLES = 256
#: Partitions per worker thread by default: enough to balance, few enough that each
#: reduce task's fixed costs stay small.
PARTITIONS_PER_THREAD = 2


@dataclass(frozen=True)
class Summary:
    """What a distributed count read: the tokens of the concatenation it stands for, and
    whether any shard had a mask."""

    tokens: int
    masked: bool
    #: Wall seconds of each stage: "edges" (continued only), "map", "reduce".
    seconds: dict[str, float]
    #: Bytes the map tasks wrote to scratch (their published tables).
    scratch_bytes: int
    #: "scan" or "shuffle": how it was counted.
    strategy: str = "shuffle"
    #: Range tasks (scan) or reduce tasks (shuffle).
    ranges: int = 0


@dataclass(frozen=True)
class _Edge:
    """What a neighbouring shard contributes in ``continued`` mode: its first and last
    ``K - 1`` tokens (the whole shard when shorter) and the mask of its first token."""

    size: int
    head: npt.NDArray[np.integer[Any]]
    tail: npt.NDArray[np.integer[Any]]
    head_masked: bool


@dataclass(frozen=True)
class _Run:
    """One run a map task wrote: its layout and, to plan the reduce, first tokens sampled
    evenly by rows with the rows each stands for."""

    order: int
    bits: int
    masked: bool
    rows: int
    row_bytes: int
    samples: npt.NDArray[np.uint64]
    weights: npt.NDArray[np.float64]


@dataclass(frozen=True)
class _Mapped:
    """A map task's result: where its runs are (one per kind of table) and the distinct
    ids of its shard (``None`` once the client has merged them)."""

    shard: int
    tokens: int
    masked: bool
    folder: str
    bytes: int
    runs: dict[str, _Run]
    ids: npt.NDArray[np.uint64] | None


def _edge(shard: Shard, k: int) -> _Edge:
    try:
        tokens, mask, _ = shard.open()
    except Exception as e:
        raise named(shard, e) from e
    head = np.array(tokens[:k])
    tail = np.array(tokens[max(tokens.size - k, 0) :])
    masked = bool(mask[0]) if mask is not None and mask.size else True
    return _Edge(int(tokens.size), head, tail, masked)


def _file(folder: str, kind: str, what: str) -> str:
    """A run's file: ``folder`` is a local directory or an fsspec URL."""
    return f"{folder}/{kind}.{what}.npy"


#: glibc's mallopt parameter for the trim threshold.
_M_TRIM_THRESHOLD = -1
#: The trim threshold while a map task runs: glibc's largest dynamic one (32 MiB on 64-bit).
_MAP_TRIM = 32 << 20


@contextmanager
def _untrimmed() -> Iterator[None]:
    """glibc's heap left untrimmed below 32 MiB while a map task runs, then as it was.

    Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, so every large free
    hands pages back to the kernel and the next allocation faults them in again: the count
    tables' row buffers then took 1.55x as long (2.8 s against 1.8 s per 2.5e6 tokens, one
    thread, same run). Only a threshold set that way is changed, and it is set back; without
    it (glibc's own dynamic threshold) or without glibc nothing changes."""
    before = os.environ.get("MALLOC_TRIM_THRESHOLD_", "")
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        mallopt = None
    if mallopt is None or not before.isdigit() or int(before) >= _MAP_TRIM:
        yield
        return
    mallopt(_M_TRIM_THRESHOLD, _MAP_TRIM)
    try:
        yield
    finally:
        mallopt(_M_TRIM_THRESHOLD, int(before))


def _map(
    shard: Shard,
    run: str,
    kinds: dict[str, int],
    separator: int | None,
    before: npt.NDArray[np.integer[Any]],
    after: tuple[int, bool] | None,
    memory_limit: int | None,
) -> _Mapped:
    """Counts one shard into one run per kind of table (``kinds``: kind -> K); ``before``
    is the stream's tokens just before it (``continued`` mode), ``after`` the next token and
    its mask flag."""
    try:
        tokens, mask, sep, local, local_mask, ctx = _local(
            shard, separator, before, after, "contexts" in kinds
        )
        threads = worker_threads()
        opts = counting_options(local, sep, local_mask, memory_limit, threads)
    except Exception as e:
        raise named(shard, e) from e
    with _untrimmed(), attempt(run, f"shard-{shard.index}") as (work, publish):
        runs: dict[str, _Run] = {}
        ids = np.zeros(0, np.uint64)
        for kind, k in kinds.items():
            kwargs = dict(opts, mask=ctx if kind == "contexts" else opts["mask"])
            paths = [_file(work, kind, what) for what in ("tails", "counts", "index")]
            try:
                ids, unigrams, bits, masked, rows = _core.ngram_runs(local, k, *paths, **kwargs)
                np.save(_file(work, kind, "ids"), ids)
                np.save(_file(work, kind, "unigrams"), unigrams)
            except OSError as e:
                if e.errno == errno.ENOSPC:
                    raise on_disk_full(os.path.dirname(work), e) from e
                raise named(shard, e) from e
            except Exception as e:
                raise named(shard, e) from e
            runs[kind] = _sampled(work, kind, ids, k, bits, masked, rows)
        written = sum(e.stat().st_size for e in os.scandir(work))
        folder = publish()
    return _Mapped(shard.index, int(tokens.size), mask is not None, folder, written, runs, ids)


def _local(
    shard: Shard,
    separator: int | None,
    before: npt.NDArray[np.integer[Any]],
    after: tuple[int, bool] | None,
    contexts: bool,
) -> tuple[Any, ...]:
    """A shard as a task counts it: ``(tokens, mask, separator, local tokens, local mask,
    context mask or None)``; the local tokens are the shard's with ``before`` (the stream's
    tokens just before it, ``continued`` mode) in front, masked out."""
    tokens, mask, file_separator = shard.open()
    sep = file_separator if separator is None else separator
    local, local_mask = _joined(tokens, mask, before)
    ctx = _context_mask(local, sep, local_mask, before.size, after) if contexts else None
    return tokens, mask, sep, local, local_mask, ctx


def _joined(
    tokens: npt.NDArray[np.integer[Any]],
    mask: npt.NDArray[np.bool_] | None,
    before: npt.NDArray[np.integer[Any]],
) -> tuple[npt.NDArray[np.integer[Any]], npt.NDArray[np.bool_] | None]:
    """``before`` (masked out) and the shard's tokens joined, with their mask: a copy of
    the shard when ``before`` is not empty."""
    if not before.size:
        return tokens, mask
    dtype = np.promote_types(tokens.dtype, np.min_scalar_type(int(before.max())))
    local = np.concatenate([before.astype(dtype), tokens.astype(dtype, copy=False)])
    own = np.ones(tokens.size, bool) if mask is None else np.asarray(mask)
    return local, np.concatenate([np.zeros(before.size, bool), own])


@dataclass(frozen=True)
class _Prepare:
    """What a scan task needs to read each shard as a map task would (picklable)."""

    separator: int | None
    befores: list[npt.NDArray[np.uint64]]
    afters: list[tuple[int, bool] | None]
    contexts: bool

    def __call__(self, shard: Shard) -> tuple[Any, Any, Any, Any]:
        """``(tokens, mask or None, before, context mask or None)``: the shard's own tokens
        and mask, uncopied (``FirstRange.add`` reads ``before`` in front of them); the
        floor's context mask of the shard's tokens (computed on the joined tokens)."""
        try:
            tokens, mask, file_separator = shard.open()
            sep = file_separator if self.separator is None else self.separator
            # Arrays unpickled on a worker may sit misaligned.
            before = np.require(self.befores[shard.index], np.uint64, ["C", "A"])
            ctx = None
            if self.contexts:
                local, local_mask = _joined(tokens, mask, before)
                after = self.afters[shard.index]
                ctx = _context_mask(local, sep, local_mask, before.size, after)[before.size :]
        except Exception as e:
            raise named(shard, e) from e
        return tokens, mask, before, ctx


def _sampled(
    folder: str, kind: str, ids: npt.NDArray[np.uint64], k: int, bits: int, masked: bool, rows: int
) -> _Run:
    """A run's layout, and its first tokens (ids) at ``SAMPLES`` evenly spaced rows."""
    tails = np.load(_file(folder, kind, "tails"), mmap_mode="r")
    counts = np.load(_file(folder, kind, "counts"), mmap_mode="r")
    row_bytes = tails.shape[1] * 8 + counts.dtype.itemsize
    samples, weights = np.zeros(0, np.uint64), np.zeros(0)
    if rows:
        index = np.load(_file(folder, kind, "index"))
        at = np.unique(np.linspace(0, rows - 1, SAMPLES).astype(np.uint64))
        entry = np.searchsorted(index[:, 1], at, side="right")
        samples = ids[index[entry, 0].astype(np.int64) - 1]
        weights = np.full(at.size, rows / at.size)
    return _Run(k, int(bits), bool(masked), int(rows), row_bytes, samples, weights)


def _context_mask(
    local: npt.NDArray[np.integer[Any]],
    separator: int | None,
    mask: npt.NDArray[np.bool_] | None,
    skip: int,
    after: tuple[int, bool] | None,
) -> npt.NDArray[np.bool_]:
    """The floor's context mask of the shard, as it is in the whole stream: the last
    position looks at the next shard's first token (``continued``) or at the separator
    between shards (otherwise: never counted); the ``skip`` tokens before the shard are
    the previous shard's."""
    if after is not None:
        ext = np.concatenate([local.astype(np.uint64), np.array([after[0]], np.uint64)])
        ext_mask = None
        if mask is not None or not after[1]:
            own = np.ones(local.size, bool) if mask is None else mask
            ext_mask = np.concatenate([own, np.array([after[1]])])
        out = context_mask(ext, separator, ext_mask)[: local.size]
    else:
        out = context_mask(local, separator, mask)
    out[:skip] = False
    return out


def _reduce(
    maps: list[_Mapped],
    kinds: dict[str, list[int]],
    vocabulary: npt.NDArray[np.uint64],
    lo: int,
    hi: int,
) -> dict[TableKey, Profile]:
    """The profiles of the n-grams whose first token's rank in ``vocabulary`` (the union
    of the shards' ids) lies in ``lo..hi``."""
    out = {}
    for kind, orders in kinds.items():
        runs = [_run_slice(m, kind, vocabulary, lo, hi) for m in maps]
        merged = _core.merge_ngram_runs(runs, max(orders), orders, vocabulary.size, lo, hi)
        for n, (ks, mks) in merged:
            out[(kind, n)] = Profile(ks, mks)
    return out


def _run_slice(
    m: _Mapped, kind: str, vocabulary: npt.NDArray[np.uint64], lo: int, hi: int
) -> tuple[Any, ...]:
    """The rows of one shard's run whose first token's merged rank lies in ``lo..hi``, as
    ``merge_ngram_runs`` takes them: only those rows are read (a slice of the memory map, or
    one ranged read from a URL), with their stretch of the index."""
    r = m.runs[kind]
    ids = load_small(_file(m.folder, kind, "ids"))
    ranks = (np.searchsorted(vocabulary, ids) + 1).astype(np.uint32)
    index = np.array(load_small(_file(m.folder, kind, "index")))
    firsts = ranks[index[:, 0].astype(np.int64) - 1] if index.size else np.zeros(0, np.uint32)
    j0, j1 = (int(j) for j in np.searchsorted(firsts, [lo, hi]))
    a = int(index[j0 - 1, 1]) if j0 else 0
    b = int(index[j1 - 1, 1]) if j1 else 0
    index = index[j0:j1]
    index[:, 1] -= a
    return (
        load_rows(_file(m.folder, kind, "tails"), a, b),
        load_rows(_file(m.folder, kind, "counts"), a, b),
        index,
        ranks,
        load_small(_file(m.folder, kind, "unigrams")),
        r.bits,
        r.masked,
    )


def _bounds(
    maps: list[_Mapped], vocabulary: npt.NDArray[np.uint64], parts: int, limit: int | None
) -> list[tuple[int, int]]:
    """Ranges of first-token ranks holding about equal numbers of rows (from the samples),
    at least ``parts`` of them, and enough that each reads at most ``limit`` bytes of runs."""
    runs = [r for m in maps for r in m.runs.values()]
    end = vocabulary.size + 1
    total = sum(r.rows * r.row_bytes for r in runs)
    if limit:
        parts = max(parts, -(-total // limit))
    samples = np.concatenate([r.samples for r in runs] + [np.zeros(0, np.uint64)])
    weights = np.concatenate([r.weights for r in runs] + [np.zeros(0)])
    if samples.size == 0 or parts == 1:
        return [(1, end)]
    ranks = np.searchsorted(vocabulary, samples) + 1
    order = np.argsort(ranks, kind="stable")
    ranks, cum = ranks[order], np.cumsum(weights[order])
    targets = cum[-1] * np.arange(1, parts) / parts
    cuts = sorted({int(ranks[i]) for i in np.searchsorted(cum, targets)} - {1})
    edges = [1, *cuts]
    return list(zip(edges, [*cuts, end], strict=True))


def count_tables(
    shards: str | Sequence[ShardSpec],
    tables: list[TableKey],
    *,
    separator: int | None,
    mask: Sequence[Any] | None,
    dtype: str | None,
    continued: bool,
    client: Any,
    partitions: int | None,
    scratch: str | os.PathLike[str] | None,
    memory_limit_per_task: int | str | None,
    progress: Progress,
    strategy: str | None = None,
    keep_scratch: bool = False,
) -> tuple[dict[TableKey, Profile], Summary]:
    """The profile of each table over all shards, and what was read."""
    client = resolve_client(client)
    if strategy not in (None, "scan", "shuffle"):
        raise ValueError(f"strategy must be 'scan', 'shuffle' or None, got {strategy!r}")
    items = shard_list(shards, dtype, mask)
    limit = None if memory_limit_per_task is None else parse_size(memory_limit_per_task)
    threads = sum(client.nthreads().values()) or 1
    if partitions is not None:
        partitions = int_arg(partitions, "partitions", minimum=1, maximum=MAX_INDEX)
    kinds: dict[str, list[int]] = {}
    for kind, n in tables:
        kinds.setdefault(kind, []).append(n)
    tops = {kind: max(orders) for kind, orders in kinds.items()}
    with stage(progress, "distributed count", unit="tasks") as report:
        done = _Tasks(report, 2 * len(items) + (partitions or threads))
        t0 = time.perf_counter()
        befores, afters = _neighbours(client, items, tables, continued, done)
        t1 = time.perf_counter()
        if strategy != "shuffle":
            groups = [items[i::threads] for i in range(min(threads, len(items)))]
            found: list[_scan.Vocab] = done.gather(
                client,
                [client.submit(_scan.vocab, g, separator, pure=False) for g in groups],
            )
            done.step(len(items) - len(groups))
            masked = any(v.masked for v in found) or any(b.size for b in befores)
            planned = _scan.plan(
                found,
                befores,
                max(tops.values()),
                masked or "contexts" in kinds,
                len(kinds),
                threads,
                partitions,
                _task_limit(client, limit),
            )
            if strategy == "scan" and planned.refusal is not None:
                raise MemoryError(f"the scan strategy cannot run: {planned.refusal}")
            if strategy == "scan" or _scan.choose(planned):
                prepare = _Prepare(separator, befores, afters, "contexts" in kinds)
                return _count_scan(
                    client,
                    items,
                    kinds,
                    tables,
                    planned,
                    masked,
                    prepare,
                    limit,
                    done,
                    {"edges": t1 - t0, "vocabulary": time.perf_counter() - t1},
                    continued,
                )
        if partitions is None:
            partitions = PARTITIONS_PER_THREAD * threads
        return _count_shuffle(
            client,
            items,
            kinds,
            tops,
            tables,
            befores,
            afters,
            separator,
            partitions,
            scratch,
            limit,
            keep_scratch,
            done,
            {"edges": t1 - t0},
            continued,
        )


def _task_limit(client: Any, limit: int | None) -> int | None:
    """The memory a scan task may use: ``limit``, else half of the smallest worker memory
    limit per thread (None when the workers have none)."""
    if limit is not None:
        return limit
    shares = [
        int(w["memory_limit"]) // max(int(w.get("nthreads", 1)), 1) // 2
        for w in client.scheduler_info().get("workers", {}).values()
        if w.get("memory_limit")
    ]
    return min(shares) if shares else None


def _count_scan(
    client: Any,
    items: list[Shard],
    kinds: dict[str, list[int]],
    tables: list[TableKey],
    planned: _scan.Plan,
    masked: bool,
    prepare: _Prepare,
    limit: int | None,
    done: _Tasks,
    seconds: dict[str, float],
    continued: bool,
) -> tuple[dict[TableKey, Profile], Summary]:
    """The scan: one task per range of first tokens, each reading every shard."""
    t0 = time.perf_counter()
    done.total = done.done + len(planned.ranges)
    flags = {kind: masked or kind == "contexts" for kind in kinds}
    shared = client.scatter([items, planned.vocabulary, prepare], broadcast=True)
    futures = [
        client.submit(
            _scan.scan,
            shared[0],
            kinds,
            shared[1],
            planned.sizes[lo - 1 : hi - 1],
            lo,
            planned.separator,
            flags,
            shared[2],
            limit,
            pure=False,
        )
        for lo, hi in planned.ranges
    ]
    reduced = done.gather(client, futures)
    done.finish()
    seconds["scan"] = time.perf_counter() - t0
    total = {key: Profile([], []) for key in tables}
    for part in reduced:
        for key, p in part.items():
            total[key] = total[key] + p
    tokens = planned.tokens + (0 if continued else len(items) - 1)
    return total, Summary(tokens, masked, seconds, 0, strategy="scan", ranges=len(planned.ranges))


def _count_shuffle(
    client: Any,
    items: list[Shard],
    kinds: dict[str, list[int]],
    tops: dict[str, int],
    tables: list[TableKey],
    befores: list[npt.NDArray[np.uint64]],
    afters: list[tuple[int, bool] | None],
    separator: int | None,
    partitions: int,
    scratch: str | os.PathLike[str] | None,
    limit: int | None,
    keep_scratch: bool,
    done: _Tasks,
    seconds: dict[str, float],
    continued: bool,
) -> tuple[dict[TableKey, Profile], Summary]:
    """The shuffle: map tasks write runs to scratch, reduce tasks merge them by range."""
    done.total = done.done + len(items) + partitions
    run = new_run(scratch)
    try:
        t1 = time.perf_counter()
        futures = [
            client.submit(_map, s, run, tops, separator, befores[i], afters[i], limit, pure=False)
            for i, s in enumerate(items)
        ]
        mapped: list[_Mapped] = done.gather(client, futures)
        t2 = time.perf_counter()
        # The union of the shards' ids: every shard's ranks map into its ranks in order.
        vocabulary = np.unique(np.concatenate([m.ids for m in mapped if m.ids is not None]))
        maps = [dataclasses.replace(m, ids=None) for m in mapped]
        ranges = _bounds(maps, vocabulary, partitions, limit)
        done.total = done.done + len(ranges)
        shared = client.scatter([maps, vocabulary], broadcast=True)
        reduced = done.gather(
            client,
            [
                client.submit(_reduce, shared[0], kinds, shared[1], lo, hi, pure=False)
                for lo, hi in ranges
            ],
        )
        done.finish()
        t3 = time.perf_counter()
    finally:
        if not keep_scratch:
            remove(run)
    total = {key: Profile([], []) for key in tables}
    for part in reduced:
        for key, p in part.items():
            total[key] = total[key] + p
    # The concatenation has a separator between each two shards unless they are continued.
    tokens = sum(m.tokens for m in maps) + (0 if continued else len(maps) - 1)
    seconds.update({"map": t2 - t1, "reduce": t3 - t2})
    written = sum(m.bytes for m in maps)
    masked = any(m.masked for m in maps)
    return total, Summary(tokens, masked, seconds, written, ranges=len(ranges))


class _Tasks:
    """Progress in finished tasks: edges (or a skipped step), maps, reduces."""

    def __init__(self, report: Callable[[int, int], None] | None, total: int) -> None:
        self.report, self.total, self.done = report, total, 0

    def step(self, n: int = 1) -> None:
        self.done += n
        if self.report is not None:
            self.report(min(self.done, self.total), self.total)

    def gather(self, client: Any, futures: list[Any]) -> list[Any]:
        from distributed import as_completed

        for _ in as_completed(futures, loop=client.loop):  # type: ignore[no-untyped-call]
            self.step()
        return list(client.gather(futures))

    def finish(self) -> None:
        self.step(self.total - self.done)


def _neighbours(
    client: Any, items: list[Shard], tables: list[TableKey], continued: bool, done: _Tasks
) -> tuple[list[npt.NDArray[np.uint64]], list[tuple[int, bool] | None]]:
    """For each shard, the tokens before it and the token after it in ``continued`` mode
    (empty and None otherwise)."""
    empty = np.zeros(0, np.uint64)
    if not continued:
        done.step(len(items))
        return [empty] * len(items), [None] * len(items)
    k = max(n for _, n in tables) + 1  # contexts of order n look one token further
    edges: list[_Edge] = done.gather(
        client, [client.submit(_edge, s, k, pure=False) for s in items]
    )
    befores = []
    for i in range(len(items)):
        parts: list[npt.NDArray[Any]] = []
        have = 0
        for e in reversed(edges[:i]):
            if have >= k - 1:
                break
            parts.insert(0, e.tail.astype(np.uint64))
            have += e.tail.size
        joined = np.concatenate(parts) if parts else empty
        befores.append(joined[max(joined.size - (k - 1), 0) :])
    afters: list[tuple[int, bool] | None] = []
    for i in range(len(items)):
        nxt = next((e for e in edges[i + 1 :] if e.size), None)
        afters.append(None if nxt is None else (int(nxt.head[0]), nxt.head_masked))
    return befores, afters


#: The keyword arguments of :func:`count_tables` that every public function takes alike.
SHARD_OPTIONS = (
    "separator",
    "mask",
    "dtype",
    "continued",
    "client",
    "partitions",
    "scratch",
    "memory_limit_per_task",
    "strategy",
    "progress",
)


def shard_options(scope: dict[str, Any]) -> dict[str, Any]:
    """The :data:`SHARD_OPTIONS` of a public function's ``locals()``, to hand on to
    :func:`count_tables` as they came."""
    return {name: scope[name] for name in SHARD_OPTIONS}


def wanted_orders(orders: Any) -> list[int]:
    """The distinct orders asked for, ascending; a clear error for anything else."""
    if isinstance(orders, (str, bytes)) or not isinstance(orders, Iterable):
        raise TypeError(f"orders must be an iterable of ints, got {type(orders).__name__}")
    wanted = sorted({int_arg(n, "orders", minimum=1, maximum=MAX_INDEX) for n in orders})
    if not wanted:
        raise ValueError("orders must name at least one order")
    return wanted


def ngram_profiles(
    shards: str | Sequence[ShardSpec],
    orders: Iterable[int] = range(1, 9),
    *,
    separator: int | None = None,
    mask: Sequence[Any] | None = None,
    dtype: str | None = None,
    continued: bool = False,
    client: Any = None,
    partitions: int | None = None,
    scratch: str | os.PathLike[str] | None = None,
    memory_limit_per_task: int | str | None = None,
    strategy: str | None = None,
    progress: Progress = False,
) -> dict[int, Profile]:
    """Count profiles of several n-gram orders over token shards, on a Dask cluster.

    Identical to :func:`fastentropy.ngram_profiles` on the shards concatenated with a
    separator between each two (documents never span shards), or, with ``continued=True``,
    on the plain concatenation (the n-grams across each boundary are counted too).

    Parameters
    ----------
    shards : str or list
        A glob (``"corpus/*.bin"``) or a list of token files: paths as
        :func:`fastentropy.open_tokens` takes them (``.npy``, raw with ``dtype``, or a
        :func:`fastentropy.tokenize` output, whose separator and mask come along),
        :class:`fastentropy.TokenFile` objects, or numpy arrays (sent to the workers: for
        small inputs). Every worker must be able to read the paths: local paths, a shared
        filesystem, or fsspec URLs (``s3://...``, ``gcs://...``; each shard is copied to
        the worker's temp directory first; a ``tokenize`` output's sidecar is read only
        from a path).
    orders : iterable of int, default range(1, 9)
        The n-gram orders, each >= 1.
    separator : int, optional
        A token id that ends a document (default: the token files' own).
    mask : list, optional
        One loss mask per shard (a ``.npy`` of bool, a raw file of one byte per token, an
        array, or None for all tokens): only n-grams whose last token is masked in count.
        Default: the token files' own masks.
    dtype : str, optional
        The dtype of raw token files.
    continued : bool, default False
        The shards are one stream cut in pieces: count the n-grams across boundaries.
    client : distributed.Client, optional
        Default: the current client. Without one, the error says how to start one.
    partitions : int, optional
        Reduce tasks (ranges of first tokens). Default: two per worker thread.
    scratch : str or os.PathLike, optional
        A directory every worker can write and read (local for a ``LocalCluster``, shared
        by all machines otherwise), or an fsspec URL (``s3://bucket/tmp``), for the map
        tasks' runs. Default: the temp directory. About 12 bytes per distinct window of
        the largest order K in each shard (20 when ``(K - 1) * bits``, plus K - 1 mask
        bits with a mask, exceeds 64, ``bits`` the bit length of the shard's number of
        distinct ids); removed at the end.
    memory_limit_per_task : int or str, optional
        Shuffle: the counting engine's memory limit in each map task (default: half of
        the RAM), and the most bytes of runs one reduce task reads (mapped from a
        directory, or held when read from a URL): more ranges of first tokens are made
        when the runs would exceed it. Scan: the most bytes of keys one range task holds
        (default: half of the smallest worker's memory limit per thread); more ranges are
        made when the keys would exceed it.
    strategy : {"scan", "shuffle"} or None, default None
        ``"shuffle"``: map tasks count each shard into sorted runs written to ``scratch``,
        reduce tasks merge the runs by ranges of first tokens. ``"scan"``: no scratch;
        after a pass that collects each shard's ids and counts, each of P range tasks
        reads every shard and counts the windows whose first token lies in its range (the
        corpus is sorted once in all). None chooses by the bytes each moves: the scan
        reads ``P x b`` bytes a token (``b`` bytes per token id), the shuffle ``b + 2 x
        12`` (its runs written and read back), so the scan runs while ``P`` (one range per
        worker thread, more when the keys would not fit the memory limit) stays below
        ``1 + 24 / b``: small corpora and small clusters; see ``docs/distributed.md``.
    progress : bool, "auto" or callable, default False
        As in :func:`fastentropy.ngram_profiles`, in finished tasks.

    Returns
    -------
    dict of int to Profile
        The profile of each order, by increasing order.

    Raises
    ------
    ImportError
        dask or distributed is not installed (``pip install 'fastentropy[dask]'``).
    ValueError
        No client; a bad argument; a shard that cannot be counted (the message names it).
    OSError
        A shard cannot be read (named), or the scratch directory is full.

    Examples
    --------
    >>> import numpy as np
    >>> import fastentropy as fe
    >>> from distributed import Client, LocalCluster
    >>> from fastentropy import distributed as fed
    >>> cluster = LocalCluster(n_workers=1, processes=False, dashboard_address=":0")
    >>> client = Client(cluster)
    >>> shards = [np.array([1, 2, 1, 2]), np.array([2, 1, 2])]
    >>> p = fed.ngram_profiles(shards, orders=[1, 2], client=client)
    >>> p[2] == fe.ngram_profiles([1, 2, 1, 2, 0, 2, 1, 2], [2], separator=0)[2]
    True
    >>> fed.ngram_profiles(shards, orders=[2], continued=True, client=client)[2]
    Profile(n=6, distinct=3, {1: 1, 2: 1, 3: 1})
    >>> client.close(); cluster.close()
    """
    wanted = wanted_orders(orders)
    tables = [("ngrams", n) for n in wanted]
    profiles, _ = count_tables(shards, tables, **shard_options(locals()))
    return {n: profiles[("ngrams", n)] for n in wanted}
