"""fastentropy.distributed on a LocalCluster of 2 worker processes (1 thread each): profiles
identical to a brute-force count of the concatenated shards (and to one machine's counter),
the same floor table and cross-entropy totals, a worker killed during the map stage or a
scan, a full scratch disk, a bad shard, no client, the choice of strategy, and the CLI. Both
strategies (shuffle through scratch, scan of every shard by range) are held to the same
answers."""

from __future__ import annotations

import errno
import itertools
import json
import math
import os
import signal
import subprocess
import sys

import fastentropy as fe
import ngram_reference as ref
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

distributed = pytest.importorskip("distributed")  # the extra 'dask'; CI installs it
from fastentropy import distributed as fed  # noqa: E402

ORDERS = [1, 2, 3, 4]

# The worker plugin and the patched writer below are defined here: send them by value (the
# workers cannot import this file).
cloudpickle = pytest.importorskip("cloudpickle")
cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    # Not the default client: the no-client test needs none to be current.
    c = distributed.Client(cluster, set_as_default=False)
    yield c
    c.close()
    cluster.close()


def brute_profiles(tokens, orders, separator=None, mask=None):
    """Profiles by brute force (tests/ngram_reference.py): the independent reference."""
    return {n: ref.profile(ref.counts(tokens, n, separator, mask)) for n in orders}


def joined(shards, masks, separator, continued):
    """The concatenation the distributed count stands for, and its mask."""
    if continued:
        tokens = np.concatenate([np.asarray(s, np.int64) for s in shards])
        mask = None if masks is None else np.concatenate(masks)
        return tokens, mask
    parts, mparts = [], []
    for i, s in enumerate(shards):
        if i:
            parts.append(np.array([separator], np.int64))
            mparts.append(np.array([False]))
        parts.append(np.asarray(s, np.int64))
        if masks is not None:
            mparts.append(masks[i])
    mask = None if masks is None else np.concatenate(mparts)
    return np.concatenate(parts), mask


def test_import_fastentropy_does_not_import_dask():
    code = (
        "import sys, fastentropy; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


shard_st = st.lists(st.integers(0, 4), max_size=12)


@settings(max_examples=24, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    shards=st.lists(shard_st, min_size=1, max_size=4),
    use_separator=st.booleans(),
    continued=st.booleans(),
    masked=st.booleans(),
    partitions=st.integers(1, 6),
    strategy=st.sampled_from(["scan", "shuffle", None]),
    seed=st.integers(0, 2**32 - 1),
)
def test_profiles_equal_the_concatenation(
    client, shards, use_separator, continued, masked, partitions, strategy, seed
):
    rng = np.random.default_rng(seed)
    arrays = [np.array(s, dtype=np.uint16) for s in shards]
    masks = [rng.random(a.size) < 0.7 for a in arrays] if masked else None
    # Without a separator of the user's, shards are still documents apart: the reference
    # puts a fresh id between them.
    separator = 4 if use_separator else None
    ref_sep = 4 if use_separator else 9
    tokens, mask = joined(arrays, masks, ref_sep, continued)
    counted_sep = separator if continued else ref_sep
    got = fed.ngram_profiles(
        arrays,
        ORDERS,
        separator=separator,
        mask=masks,
        continued=continued,
        client=client,
        partitions=partitions,
        strategy=strategy,
    )
    assert got == brute_profiles(tokens, ORDERS, counted_sep, mask)
    assert got == fe.ngram_profiles(tokens, ORDERS, separator=counted_sep, mask=mask)


def test_files_tokenfiles_and_globs(client, tmp_path):
    rng = np.random.default_rng(0)
    a, b, c = (rng.integers(0, 50, n).astype(np.uint16) for n in (3000, 2, 1500))
    np.save(tmp_path / "a.npy", a)
    b.tofile(tmp_path / "b.bin")
    np.save(tmp_path / "c.npy", c)
    files = [tmp_path / "a.npy", tmp_path / "c.npy"]
    got = fed.ngram_profiles(files, [1, 3], client=client, continued=True)
    assert got == fe.ngram_profiles(np.concatenate([a, c]), [1, 3])
    assert fed.ngram_profiles(str(tmp_path / "*.npy"), [1, 3], client=client) == got | {
        3: fe.ngram_profiles(np.concatenate([a, [60], c]), [3], separator=60)[3]
    }
    raw = fed.ngram_profiles([tmp_path / "b.bin"], [1, 2], dtype="uint16", client=client)
    assert raw == fe.ngram_profiles(b, [1, 2])
    # tokenize's outputs bring their separator: documents never span it.
    (tmp_path / "x.txt").write_text("abcabc\nabd\n")
    (tmp_path / "y.txt").write_text("dab\n")
    tx = fe.tokenize(tmp_path / "x.txt", "bytes", tmp_path / "tx")
    ty = fe.tokenize(tmp_path / "y.txt", "bytes", tmp_path / "ty")
    got = fed.ngram_profiles([tx, ty.path], [1, 2, 3], client=client, continued=True)
    both = np.concatenate([tx.tokens(), ty.tokens()])
    assert got == brute_profiles(both, [1, 2, 3], separator=tx.separator)


@pytest.mark.parametrize("strategy", ["shuffle", "scan"])
def test_fsspec_urls_for_shards_and_scratch(client, tmp_path, strategy):
    """Shards and scratch named by fsspec URLs (``file://`` here: a real filesystem the
    workers share; object stores take the same path through fsspec), by each strategy (the
    scan writes no scratch)."""
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 40, 4000).astype(np.uint16), rng.integers(0, 40, 900).astype(np.uint16)
    np.save(tmp_path / "a.npy", a)
    b.tofile(tmp_path / "b.bin")
    masks = [rng.random(a.size) < 0.6, rng.random(b.size) < 0.6]
    np.save(tmp_path / "ma.npy", masks[0])
    masks[1].tofile(tmp_path / "mb.mask")
    scratch = tmp_path / "scratch"
    got = fed.ngram_profiles(
        [f"file://{tmp_path}/a.npy", f"file://{tmp_path}/b.bin"],
        [1, 2, 3],
        mask=[f"file://{tmp_path}/ma.npy", f"file://{tmp_path}/mb.mask"],
        dtype="uint16",
        continued=True,
        client=client,
        scratch=f"file://{scratch}",
        partitions=3,
        strategy=strategy,
    )
    tokens, mask = np.concatenate([a, b]), np.concatenate(masks)
    assert got == brute_profiles(tokens, [1, 2, 3], mask=mask)
    if strategy == "shuffle":
        assert list(scratch.iterdir()) == []  # the run's directory is removed
    else:
        assert not scratch.exists()  # the scan writes no scratch
    # A glob URL.
    got = fed.ngram_profiles(f"file://{tmp_path}/a.*", [2], client=client, strategy=strategy)
    assert got == fe.ngram_profiles(a, [2])


def test_reduce_ranges_fit_the_memory_limit():
    """The reduce is planned so no range reads more bytes of runs than the limit."""
    from fastentropy.distributed._ngram import _bounds, _Mapped, _Run

    vocabulary = np.arange(1, 1001, dtype=np.uint64) * 3
    samples = vocabulary[::4]
    run = _Run(5, 10, False, 100_000, 12, samples, np.full(samples.size, 100_000 / samples.size))
    maps = [_Mapped(i, 100_000, False, "", 0, {"ngrams": run}, None) for i in range(3)]
    total = 3 * 100_000 * 12
    for limit, parts in ((None, 2), (total // 10, 2), (total, 4)):
        ranges = _bounds(maps, vocabulary, parts, limit)
        assert len(ranges) >= (parts if limit is None else max(parts, -(-total // limit)))
        # Contiguous and covering every rank.
        assert ranges[0][0] == 1 and ranges[-1][1] == vocabulary.size + 1
        assert all(x[1] == y[0] for x, y in itertools.pairwise(ranges))
        # Balanced by the samples: each range holds at most about 1/len of the rows.
        for lo, hi in ranges:
            share = np.mean(
                (np.searchsorted(vocabulary, samples) + 1 >= lo)
                & (np.searchsorted(vocabulary, samples) + 1 < hi)
            )
            assert share <= 1.5 / len(ranges) + 1 / samples.size


def test_floor_table_equals_one_machine(client):
    src = fe.MarkovSource(vocab_size=5, order=1, seed=4)
    shards = [src.sample(n, seed=s) for s, n in ((1, 20_000), (2, 3), (3, 15_000))]
    masks = [np.random.default_rng(s).random(len(x)) < 0.8 for s, x in enumerate(shards)]
    for continued, strategy in itertools.product((False, True), ("scan", "shuffle")):
        tokens, mask = joined(shards, masks, 5, continued)
        sep = 5 if not continued else None
        mine = fed.estimate_floor(
            shards,
            orders=[1, 2, 3],
            mask=masks,
            separator=sep,
            continued=continued,
            client=client,
            strategy=strategy,
        )
        one = fe.estimate_floor(tokens, orders=[1, 2, 3], separator=sep, mask=mask)
        assert mine.orders == one.orders
        assert (mine.order, mine.method, mine.n_tokens) == (one.order, one.method, one.n_tokens)
        assert mine.ngram_point == one.ngram_point


def test_cross_entropy_totals_are_bit_identical(client):
    rng = np.random.default_rng(1)
    logits = [rng.normal(size=(n, 11)).astype(np.float32) for n in (40, 1, 25)]
    targets = [rng.integers(0, 11, n) for n in (40, 1, 25)]
    targets[0][3] = -100
    mine = fed.cross_entropy(logits, targets, client=client)
    one = fe.CrossEntropy()
    for lg, tg in zip(logits, targets, strict=True):
        one.update(lg, tg)
    assert (mine.count, mine.sum, mine.mean) == (one.count, one.sum, one.mean)
    # And the value itself, in float64 by numpy.
    x = np.concatenate(logits).astype(np.float64)
    t = np.concatenate(targets)
    keep = t != -100
    lse = np.log(np.exp(x - x.max(1, keepdims=True)).sum(1)) + x.max(1)
    ref = float(np.sum(lse[keep] - x[keep, t[keep]]))
    assert mine.count == int(keep.sum())
    assert math.isclose(mine.sum, ref, rel_tol=1e-6)
    with pytest.raises(ValueError, match="one target shard per logit shard"):
        fed.cross_entropy(logits, targets[:2], client=client)


class KillOnce(distributed.WorkerPlugin):
    """Kills its worker (SIGKILL) the first time a map task of the run is writing its
    tables: an attempt directory of this process exists. A marker file makes it happen once
    in the whole cluster (the restarted worker gets the plugin again)."""

    def __init__(self, scratch: str, marker: str) -> None:
        self.scratch, self.marker = scratch, marker

    def setup(self, worker):
        import threading
        import time

        def watch():
            me = f".attempt-{os.getpid()}-"
            while not os.path.exists(self.marker):
                for root, dirs, _ in os.walk(self.scratch):
                    hit = [d for d in dirs if me in d]
                    if hit:
                        try:
                            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                        except FileExistsError:
                            return
                        os.write(fd, os.path.join(root, hit[0]).encode())
                        os.close(fd)
                        os.kill(os.getpid(), signal.SIGKILL)
                time.sleep(0.001)

        threading.Thread(target=watch, daemon=True).start()


def test_a_worker_killed_during_the_map_stage(client, tmp_path):
    rng = np.random.default_rng(5)
    shards = [rng.integers(0, 300, 60_000).astype(np.uint16) for _ in range(6)]
    scratch, marker = tmp_path / "scratch", tmp_path / "killed"
    scratch.mkdir()
    client.register_plugin(KillOnce(str(scratch), str(marker)), name="kill-once")
    try:
        got = fed.ngram_profiles(
            shards,
            [1, 2, 3, 5],
            client=client,
            continued=True,
            scratch=scratch,
            strategy="shuffle",
        )
    finally:
        client.unregister_worker_plugin("kill-once")
        client.wait_for_workers(2, timeout=60)
    # A worker died in the middle of writing a shard's tables...
    assert marker.exists() and ".attempt-" in marker.read_text()
    # ... and the answer is the one machine's.
    assert got == fe.ngram_profiles(np.concatenate(shards), [1, 2, 3, 5])
    # The run's scratch directory is gone, failed attempt included.
    assert list(scratch.iterdir()) == []


class KillOnceScanning(distributed.WorkerPlugin):
    """Kills its worker (SIGKILL) as a scan task starts executing on it, once in the whole
    cluster (a marker file)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def transition(self, key, start, finish, **kwargs):
        name = key[0] if isinstance(key, tuple) else key
        if finish != "executing" or not str(name).startswith("scan-"):
            return
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(fd, str(name).encode())
        os.close(fd)
        # Now, as the task starts: it cannot have finished (a delay could let it).
        os.kill(os.getpid(), signal.SIGKILL)


def test_a_worker_killed_during_a_scan(client, tmp_path):
    rng = np.random.default_rng(6)
    shards = [rng.integers(0, 300, 200_000).astype(np.uint16) for _ in range(6)]
    marker = tmp_path / "killed"
    client.register_plugin(KillOnceScanning(str(marker)), name="kill-scan")
    try:
        got = fed.ngram_profiles(
            shards, [1, 2, 3, 5], client=client, continued=True, strategy="scan", partitions=3
        )
    finally:
        client.unregister_worker_plugin("kill-scan")
        client.wait_for_workers(2, timeout=60)
    assert marker.exists() and marker.read_text().startswith("scan-")
    assert got == fe.ngram_profiles(np.concatenate(shards), [1, 2, 3, 5])


def test_the_strategy_follows_the_cost_model():
    """The scan runs while P ranges reading every token cost fewer bytes than the
    shuffle's read, write and read back of its runs: P x b <= b + 2 s."""
    from fastentropy.distributed._scan import Vocab, choose, fixed_bytes, plan

    ids = np.arange(1000, dtype=np.uint64)
    for itemsize, threads, scan in (
        (4, 2, True),
        (4, 7, True),
        (4, 8, False),
        (2, 13, True),
        (2, 14, False),
    ):
        found = [Vocab(ids, np.full(1000, 50, np.uint64), 50_000, 50_000 * itemsize, False, {None})]
        p = plan(found, [np.zeros(0, np.uint64)], 5, False, 1, threads, None, None)
        assert len(p.ranges) == threads
        assert choose(p) is scan, (itemsize, threads)
    # Keys that do not fit the memory limit make more ranges, and then the shuffle wins.
    found = [Vocab(ids, np.full(1000, 10_000, np.uint64), 10**7, 4 * 10**7, False, {None})]
    p = plan(found, [np.zeros(0, np.uint64)], 5, False, 1, 2, None, fixed_bytes(ids) + 10**7)
    assert len(p.ranges) >= 10**7 * 9 // 10**7
    assert sum(p.sizes[lo - 1 : hi - 1].sum() for lo, hi in p.ranges) == 10**7
    assert not choose(p)
    # One first token alone past the limit: the scan cannot run.
    p = plan(found, [np.zeros(0, np.uint64)], 5, False, 1, 2, None, fixed_bytes(ids) + 1000)
    assert p.refusal is not None and not choose(p)


def test_the_scan_under_a_memory_limit(client):
    rng = np.random.default_rng(7)
    shards = [rng.integers(0, 500, 30_000).astype(np.uint32) for _ in range(3)]
    one = fe.ngram_profiles(np.concatenate(shards), [1, 2, 4], separator=None)
    from fastentropy.distributed._scan import fixed_bytes

    # Room for 250 kB of keys (about 9 bytes each, 90,000 windows): several ranges.
    limit = fixed_bytes(np.arange(500, dtype=np.uint64)) + 250_000
    got = fed.ngram_profiles(
        shards,
        [1, 2, 4],
        client=client,
        continued=True,
        strategy="scan",
        memory_limit_per_task=limit,
    )
    assert got == one
    with pytest.raises(MemoryError, match="scan strategy cannot run"):
        fed.ngram_profiles(
            [np.zeros(100_000, np.uint32)],
            [2],
            client=client,
            strategy="scan",
            memory_limit_per_task=fixed_bytes(np.zeros(1, np.uint64)) + 1000,
        )
    with pytest.raises(ValueError, match="strategy must be"):
        fed.ngram_profiles(shards, [2], client=client, strategy="hash")


def _disk_full(*args, **kwargs):
    # What the Rust writer raises on ENOSPC: an OSError with the errno, the OS's words and
    # the path.
    raise OSError(errno.ENOSPC, "No space left on device", str(args[2]))


def test_a_full_scratch_disk_is_said_plainly(client, tmp_path):
    """Simulated with a patched run writer in the workers (``_core.ngram_runs`` raising
    the error the Rust writer raises on ENOSPC): no tiny filesystem can be mounted here."""

    def patch(on):
        from fastentropy import _core

        if on:
            _core._real_ngram_runs = _core.ngram_runs
            _core.ngram_runs = _disk_full
        else:
            _core.ngram_runs = _core._real_ngram_runs

    client.run(patch, True)
    try:
        with pytest.raises(OSError, match="scratch directory .* is full") as e:
            fed.ngram_profiles(
                [np.arange(10)], [1, 2], client=client, scratch=tmp_path, strategy="shuffle"
            )
    finally:
        client.run(patch, False)
    assert e.value.errno == errno.ENOSPC
    assert str(tmp_path) in str(e.value)
    assert list(tmp_path.iterdir()) == []  # the run's directory is removed


@pytest.mark.parametrize("strategy", ["scan", "shuffle"])
def test_a_bad_shard_is_named(client, tmp_path, strategy):
    count = dict(client=client, strategy=strategy)
    good = tmp_path / "good.npy"
    np.save(good, np.arange(5, dtype=np.uint16))
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(b"\x01\x00\x02")  # 3 bytes of uint16 ids
    with pytest.raises(ValueError, match=r"shard 1 \(.*truncated\.bin\).*3 bytes"):
        fed.ngram_profiles([good, truncated], [1], dtype="uint16", **count)
    with pytest.raises(FileNotFoundError, match=r"shard 1 \(.*missing\.npy\)"):
        fed.ngram_profiles([good, tmp_path / "missing.npy"], [1], **count)
    with pytest.raises(FileNotFoundError, match="no shard matches"):
        fed.ngram_profiles(str(tmp_path / "*.none"), [1], **count)
    floats = tmp_path / "floats.npy"
    np.save(floats, np.ones(3))
    with pytest.raises(TypeError, match=r"shard 0 \(.*floats\.npy\)"):
        fed.ngram_profiles([floats], [1], continued=True, **count)
    negative = tmp_path / "negative.npy"
    np.save(negative, np.array([1, -2, 3], np.int32))
    with pytest.raises(ValueError, match=r"shard 1 \(.*negative\.npy\).*-2"):
        fed.ngram_profiles([good, negative], [1, 2], **count)


def test_no_client_says_how_to_start_one():
    with pytest.raises(ValueError, match="LocalCluster"):
        fed.ngram_profiles([np.arange(3)], [1])


def test_cli_counts_shards_on_a_scheduler(client, tmp_path, capsys):
    from fastentropy._cli import main

    rng = np.random.default_rng(2)
    a, b = rng.integers(0, 20, 500).astype(np.uint16), rng.integers(0, 20, 7).astype(np.uint16)
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    files = [str(tmp_path / "a.npy"), str(tmp_path / "b.npy")]
    address = client.scheduler.address
    args = ["count", *files, "--orders", "1-3", "--json", "-q", "--scheduler", address]
    ref = brute_profiles(np.concatenate([a, b]), [1, 2, 3])
    for strategy in ([], ["--strategy", "scan"], ["--strategy", "shuffle"]):
        assert main([*args, "--continued", *strategy]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["tokens"] == 507
        for n, p in ref.items():
            assert data["orders"][str(n)]["ks"] == p.ks.tolist()
            assert data["orders"][str(n)]["mks"] == p.mks.tolist()
    # A local cluster of its own, shards as documents apart.
    assert main(["count", *files, "--orders", "2", "--json", "-q", "--workers", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    ref = brute_profiles(np.concatenate([a, [99], b]), [2], separator=99)[2]
    assert (data["orders"]["2"]["ks"], data["orders"]["2"]["mks"]) == (
        ref.ks.tolist(),
        ref.mks.tolist(),
    )
    # Several files without a cluster: a usage error that says what to add.
    assert main(["count", *files]) == 2
    assert "--workers" in capsys.readouterr().err
