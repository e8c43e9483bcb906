"""The scan strategy of a distributed count: no shuffle, no scratch.

A vocabulary pass first (one task per shard, ``_core.token_counts``): each shard's distinct
ids and how often each occurs. Their union ranks the ids (the same ranks in every task) and
the summed counts bound the windows each first token starts, which sizes the ranges of first
tokens: about equal numbers of windows, at least one per worker thread, and few enough keys
per range to fit the memory limit. Then one task per range reads **every** shard and counts
only the windows whose first token lies in its range (``_core.FirstRange``: one partition of
the one-machine engine fed shard by shard, the same scatter, sort and scan), so the corpus is
sorted once in all, as on one machine. Ranges hold disjoint n-grams: their profiles add.

What it costs against the shuffle (map runs written to scratch, merged by the reduce): each
of the P range tasks reads the whole corpus, ``P x b`` bytes a token (``b`` bytes per token
id), where the shuffle reads it once and writes and reads back its runs, ``b + 2 s`` bytes a
token (``s``: 12 bytes a distinct window, 20 when a tail exceeds 64 bits). So the scan is
chosen when ``P x b <= b + 2 s``: P up to 7 for uint32 tokens, 13 for uint16, i.e. when the
whole corpus's keys fit in a few tasks' memory. In CPU the scan is cheaper still (the re-read
costs ~2 ns a token a range, the shuffle's map and merge ~110 ns a token), so on one machine
and small clusters it wins; at scale (P in the hundreds) the reads dominate and the shuffle
wins. :func:`choose` states the model; ``strategy=`` forces either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _core
from .._profile import Profile
from ._shards import Shard, named

__all__ = ["Plan", "Vocab", "choose", "plan", "scan", "vocab"]

#: Scratch bytes the shuffle writes per distinct window: 8-byte tail + 4-byte count, and
#: 16 + 4 when the tail is wider than 64 bits.
RUN_ROW_BYTES = (12, 20)
#: Bytes per key a range task holds beyond the key (its group offset byte).
KEY_OVERHEAD = 1
#: Memory a range task keeps aside from its keys and vocabulary tables: staging, a group's
#: scratch buffer and the sort's spread (at most 2^17 and 2^15 keys of 16 bytes), a chunk
#: of ranks.
FIXED_BYTES = 4 << 20
#: Ids below this have a dense rank table (4 bytes an id up to the largest); above, a map.
DENSE_IDS = 1 << 22


def fixed_bytes(vocabulary: npt.NDArray[np.uint64]) -> int:
    """Bytes a range task holds whatever its range: :data:`FIXED_BYTES`, the id -> rank
    table and three counters per rank."""
    top = int(vocabulary[-1]) if vocabulary.size else 0
    table = 4 * (top + 1) if top < DENSE_IDS else 48 * vocabulary.size
    return FIXED_BYTES + table + 24 * vocabulary.size


@dataclass(frozen=True)
class Vocab:
    """What the vocabulary pass found in some shards: their distinct ids (separator
    excluded), how often each occurs, their tokens and bytes of tokens, whether any has a
    mask, and the separators they are counted with."""

    ids: npt.NDArray[np.uint64]
    counts: npt.NDArray[np.uint64]
    tokens: int
    bytes: int
    masked: bool
    separators: frozenset[int | None]


def vocab(shards: list[Shard], separator: int | None) -> Vocab:
    """The vocabulary of several shards, merged: a task (one per worker thread, not per
    shard: fewer tasks, and one merged vocabulary sent back)."""
    ids, counts = [], []
    tokens = size = 0
    masked = False
    seps: set[int | None] = set()
    for shard in shards:
        try:
            t, mask, file_separator = shard.open()
            sep = file_separator if separator is None else separator
            i, c = _core.token_counts(t, separator=sep)
        except Exception as e:
            raise named(shard, e) from e
        ids.append(i)
        counts.append(c)
        tokens += int(t.size)
        size += int(t.nbytes)
        masked |= mask is not None
        seps.add(sep)
    merged, summed = merge(ids, counts)
    return Vocab(merged, summed, tokens, size, masked, frozenset(seps))


def merge(
    ids: list[npt.NDArray[np.uint64]], counts: list[npt.NDArray[np.uint64]]
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    """The union of sets of ids (each ascending) and the summed counts of each."""
    if len(ids) == 1:
        return ids[0], counts[0]
    every = np.concatenate([*ids, np.zeros(0, np.uint64)])
    union, inverse = np.unique(every, return_inverse=True)
    each = np.concatenate([*counts, np.zeros(0, np.uint64)])
    if int(each.sum(dtype=np.uint64)) < 2**53:
        # Sums below 2^53 are exact in float64, and bincount is ~10x faster than add.at.
        summed = np.bincount(inverse, weights=each, minlength=union.size).astype(np.uint64)
    else:
        summed = np.zeros(union.size, np.uint64)
        np.add.at(summed, inverse, each)
    return union, summed


@dataclass(frozen=True)
class Plan:
    """Ranges of first-token ranks for the scan, and what the choice was based on."""

    vocabulary: npt.NDArray[np.uint64]
    #: Occurrences of each rank 1..V (index r - 1), the before-tokens included.
    sizes: npt.NDArray[np.uint64]
    #: ``(lo, hi)`` rank ranges, covering 1..V+1.
    ranges: list[tuple[int, int]]
    separator: int | None
    tokens: int
    #: Mean bytes per token id in the shards.
    token_bytes: float
    #: Scratch bytes per token the shuffle would write (one distinct window per token).
    run_bytes: int
    #: Why the scan cannot run (None if it can).
    refusal: str | None


def _key_bytes(order: int, distinct: int, masked: bool) -> int:
    """Bytes of a tail key of a count of order ``order`` (8 or 16)."""
    bits = max(int(distinct).bit_length(), 1)
    width = (order - 1) * bits + (order - 1 if masked else 0)
    return 8 if width <= 64 else 16


def plan(
    found: list[Vocab],
    befores: list[npt.NDArray[np.uint64]],
    top: int,
    masked: bool,
    kinds: int,
    threads: int,
    partitions: int | None,
    limit: int | None,
) -> Plan:
    """The union vocabulary, its counts and the ranges of first tokens: ``partitions`` of
    them, or one per worker thread and more where the keys of a range would not fit
    ``limit`` (shared by the ``kinds`` counts of a task)."""
    seps = set().union(*(v.separators for v in found))
    separator = next(iter(seps)) if len(seps) == 1 else None
    vocabulary, sizes = merge([v.ids for v in found], [v.counts for v in found])
    sizes = sizes.copy()
    for b in befores:
        # Continued shards re-read the tokens before them (as tails, masked out).
        b = b[b != separator] if separator is not None else b
        if b.size:
            np.add.at(sizes, np.searchsorted(vocabulary, b.astype(np.uint64)), 1)
    tokens = sum(v.tokens for v in found)
    token_bytes = sum(v.bytes for v in found) / max(tokens, 1)
    key = _key_bytes(top, vocabulary.size, masked)
    run_bytes = RUN_ROW_BYTES[key == 16]
    refusal = None
    if len(seps) > 1:
        refusal = "the shards have different separators"
    parts = partitions or threads
    cap = None
    if limit is not None:
        room = limit // max(kinds, 1) - fixed_bytes(vocabulary)
        cap = max(room // (key + KEY_OVERHEAD), 0)
        if partitions is None and cap:
            parts = max(parts, -(-int(sizes.sum()) // cap))
        largest = int(sizes.max()) if sizes.size else 0
        if largest > cap:
            refusal = (
                f"one first token starts {largest} windows, more keys than "
                f"memory_limit_per_task={limit} bytes hold"
            )
    ranges = _ranges(sizes, parts, cap)
    return Plan(vocabulary, sizes, ranges, separator, tokens, token_bytes, run_bytes, refusal)


def _ranges(sizes: npt.NDArray[np.uint64], parts: int, cap: int | None) -> list[tuple[int, int]]:
    """Contiguous rank ranges of about equal windows, ``parts`` of them (fewer if the
    vocabulary is smaller), none above ``cap`` windows unless one rank alone is."""
    end = sizes.size + 1
    if sizes.size == 0:
        return [(1, end)]
    cum = np.cumsum(sizes, dtype=np.float64)
    targets = cum[-1] * np.arange(1, parts) / parts
    cuts = {int(i) + 1 for i in np.searchsorted(cum, targets, side="left")} - {1}
    edges = sorted({1, *cuts, end})
    if cap:
        # Split further any range whose keys exceed the cap.
        fine = [1]
        for lo, hi in zip(edges, edges[1:], strict=False):
            if int(sizes[lo - 1 : hi - 1].sum()) <= cap:
                fine.append(hi)
                continue
            total = 0
            for r in range(lo, hi):
                c = int(sizes[r - 1])
                if total and total + c > cap:
                    fine.append(r)
                    total = 0
                total += c
            fine.append(hi)
        edges = sorted(set(fine))
    return [(a, b) for a, b in zip(edges, edges[1:], strict=False) if b > a]


def choose(p: Plan) -> bool:
    """Whether the scan reads fewer bytes than the shuffle moves: each of its P ranges reads
    the corpus (``P x b`` bytes a token); the shuffle reads it once and writes and reads its
    runs (``b + 2 s``)."""
    if p.refusal is not None:
        return False
    return len(p.ranges) * p.token_bytes <= p.token_bytes + 2 * p.run_bytes


def scan(
    items: list[Shard],
    kinds: dict[str, list[int]],
    vocabulary: npt.NDArray[np.uint64],
    sizes: npt.NDArray[np.uint64],
    lo: int,
    separator: int | None,
    masked: dict[str, bool],
    prepare: Any,
    limit: int | None,
) -> dict[tuple[str, int], Profile]:
    """One range task: the profiles of the n-grams whose first token's rank lies in
    ``lo..lo + len(sizes)``, counted from every shard in turn (``prepare(shard)`` gives its
    tokens, mask, the tokens before it and its context mask, as a map task would count
    them; the shard is read in place, ``before`` joined to its first chunk in Rust)."""
    share = None if limit is None else limit // max(len(kinds), 1)
    # Arrays unpickled on a worker may sit misaligned.
    vocabulary = np.require(vocabulary, np.uint64, ["C", "A"])
    sizes = np.require(sizes, np.uint64, ["C", "A"])
    counts = {
        kind: _core.FirstRange(
            vocabulary,
            lo,
            sizes,
            orders,
            separator=separator,
            masked=masked[kind],
            memory_limit=share,
        )
        for kind, orders in kinds.items()
    }
    for shard in items:
        tokens, own_mask, before, ctx = prepare(shard)
        for kind, count in counts.items():
            mask = ctx if kind == "contexts" else own_mask
            try:
                count.add(tokens, mask if masked[kind] else None, before if before.size else None)
            except Exception as e:
                raise named(shard, e) from e
    out = {}
    for kind, count in counts.items():
        for n, (ks, mks) in count.finish():
            out[(kind, n)] = Profile(ks, mks)
    return out
