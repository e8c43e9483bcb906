"""Every kind of long call answers a real Ctrl-C, reports progress where it has any, and
refuses thread counts out of range by name.

Each interruption runs in a child interpreter that repeats the call until SIGINT arrives,
so the test does not depend on how fast the machine is. The call reports its progress to the
child, and a call that runs to its end always reports `(total, total)` last: a
KeyboardInterrupt with no such report proves the call was cut short, not waited for. The
child then makes one more small call, to show the library still works, and exits normally.
"""

from __future__ import annotations

import functools
import select
import signal
import subprocess
import sys
import textwrap
from itertools import pairwise

import fastentropy as fe
import numpy as np
import pytest
from fastentropy import _core

# Set-up (run once) and the call (repeated until interrupted), per kind of long call.
CALLS = {
    "count_ngrams": (
        "t = np.random.default_rng(0).integers(0, 50_000, 10_000_000).astype(np.uint16)",
        "fe.count_ngrams(t, 5, threads=2, progress=note)",
    ),
    "ngram_profiles": (
        "t = np.random.default_rng(0).integers(0, 50_000, 10_000_000).astype(np.uint16)",
        "fe.ngram_profiles(t, range(1, 6), threads=2, progress=note)",
    ),
    # Zero pages: 2 GB that read-only access maps onto the shared zero page, using no RAM.
    "cross_entropy": (
        "x = np.zeros((1 << 17, 4096), np.float32); y = np.zeros(1 << 17, np.int64)",
        "fe.cross_entropy(x, y, progress=note)",
    ),
    "CrossEntropy.update": (
        "x = np.zeros((1 << 17, 4096), np.float32); y = np.zeros(1 << 17, np.int64); "
        "acc = fe.CrossEntropy()",
        "acc.update(x, y, progress=note)",
    ),
    "MarkovSource.sample": (
        "src = fe.MarkovSource(1000, 1, seed=1)",
        "src.sample(20_000_000, seed=2, progress=note)",
    ),
    # 160^3 = 4.1e6 transition probabilities; the compiled class is the one with progress.
    "MarkovSource()": (
        "from fastentropy import _core",
        "_core.MarkovSource(160, 2, (0.8, 1.6), 1, progress=note)",
    ),
}

CHILD = """
import signal
import sys
import numpy as np
# A shell that starts jobs in the background without job control leaves SIGINT ignored,
# and Python then installs no KeyboardInterrupt handler: install it, as a terminal has it.
signal.signal(signal.SIGINT, signal.default_int_handler)
import fastentropy as fe
{setup}
last = None
def note(done, total):
    global last
    last = (done, total)
while True:
    try:
        print("started", flush=True)
        while True:
            last = None
            {call}
    except KeyboardInterrupt:
        # A call that had reported its end when the signal came finished first: the
        # experiment missed, not the library; say so and wait for the next Ctrl-C.
        if last is None or last[0] < last[1]:
            print("cut short", flush=True)
            break
        print("finished first", flush=True)
print(int(fe.count_ngrams(np.arange(10, dtype=np.uint8), 2).n), flush=True)
"""

# A guard against a hang, not a speed requirement: the interrupt normally lands within a
# second; debug builds on a loaded machine take a few.
HANG = 300
#: Ctrl-C presses before a call must have been cut short.
ATTEMPTS = 5


@pytest.mark.parametrize("kind", sorted(CALLS))
def test_ctrl_c_stops_the_call(kind):
    setup, call = CALLS[kind]
    code = textwrap.dedent(CHILD).format(setup=setup, call=call)
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    outcomes = []
    try:
        assert child.stdout is not None
        # A call that ends between its last progress report and the next poll (100 ms)
        # finishes before it sees the signal; short calls on an idle machine land there
        # often, so press Ctrl-C again, up to ATTEMPTS times, after such a miss.
        for _ in range(ATTEMPTS):
            first = child.stdout.readline()
            assert first == "started\n", first + child.communicate(timeout=HANG)[1]
            # Let the call get going (its data is already built), then press Ctrl-C.
            try:
                child.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
            child.send_signal(signal.SIGINT)
            # A guard against a hang: nothing else is buffered once "started" was read.
            ready, _, _ = select.select([child.stdout], [], [], HANG)
            assert ready, f"no answer to Ctrl-C within {HANG} s (outcomes so far: {outcomes})"
            outcomes.append(child.stdout.readline().strip())
            if outcomes[-1] != "finished first":
                break
        out, err = child.communicate(timeout=HANG)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    assert outcomes[-1] == "cut short", (outcomes, err)
    assert out.splitlines() == ["9"], (out, err)
    assert "panicked" not in err, err


def _progress_of(run):
    seen: list[tuple[int, int]] = []
    run(lambda done, total: seen.append((done, total)))
    return seen


def _increasing_to_the_total(seen, total):
    assert seen, "progress was never reported"
    assert all(t == total for _, t in seen), seen
    assert all(a[0] <= b[0] for a, b in pairwise(seen)), seen
    assert seen[-1] == (total, total), seen


def test_ngram_progress_reaches_the_total():
    t = np.random.default_rng(1).integers(0, 1000, 300_000).astype(np.uint16)
    for run in (
        lambda cb: fe.count_ngrams(t, 3, progress=cb),
        lambda cb: fe.ngram_profiles(t, [1, 2, 3], progress=cb),
    ):
        _increasing_to_the_total(_progress_of(run), len(t))


@pytest.mark.parametrize("rows", [3, 600])  # 12 kB and 2.4 MB of logits: both bindings' paths
def test_cross_entropy_progress_reaches_the_rows(rows):
    x = np.random.default_rng(2).standard_normal((rows, 1000)).astype(np.float32)
    y = np.arange(rows) % 1000
    for reduction in ("mean", "none"):
        call = functools.partial(fe.cross_entropy, x, y, reduction=reduction)
        seen: list[tuple[int, int]] = []
        got = call(progress=lambda d, t, seen=seen: seen.append((d, t)))
        _increasing_to_the_total(seen, rows)
        assert np.array_equal(got, call())
    acc = fe.CrossEntropy()
    seen = _progress_of(lambda cb: acc.update(x, y, progress=cb))
    _increasing_to_the_total(seen, rows)
    assert acc.count == rows


def test_markov_sampling_progress_reaches_n_and_changes_nothing():
    src = fe.MarkovSource(50, 2, seed=3)
    n = 3_000_000
    seen: list[tuple[int, int]] = []
    got = src.sample(n, seed=4, progress=lambda d, t: seen.append((d, t)))
    _increasing_to_the_total(seen, n)
    assert np.array_equal(got, src.sample(n, seed=4))


def test_markov_construction_progress_reaches_the_total():
    # Three passes over the 120^3 transition probabilities: drawn, alias tables, convergence.
    seen = _progress_of(lambda cb: _core.MarkovSource(120, 2, (0.8, 1.6), 5, progress=cb))
    _increasing_to_the_total(seen, 3 * 120**3)
    plain = _core.MarkovSource(120, 2, (0.8, 1.6), 5)
    with_progress = _core.MarkovSource(120, 2, (0.8, 1.6), 5, progress=lambda d, t: None)
    assert np.array_equal(plain.stationary(), with_progress.stationary())


def test_a_failing_progress_callable_stops_markov_sampling():
    def boom(done, total):
        raise RuntimeError("stop here")

    with pytest.raises(RuntimeError, match="stop here"):
        fe.MarkovSource(50, 1, seed=3).sample(3_000_000, progress=boom)


# Every public function that takes threads=, called so that threads is what is wrong.
THREADED = {
    "count_ngrams": lambda threads: fe.count_ngrams([1, 2, 3], 2, threads=threads),
    "ngram_profiles": lambda threads: fe.ngram_profiles([1, 2, 3], [1], threads=threads),
    "estimate_floor": lambda threads: fe.estimate_floor(
        np.arange(100, dtype=np.uint16) % 7, orders=[1, 2], threads=threads
    ),
    "cross_entropy": lambda threads: fe.cross_entropy(
        np.zeros((2, 3), np.float32), [0, 1], threads=threads
    ),
    "CrossEntropy": lambda threads: fe.CrossEntropy(threads=threads),
    "tokenize": lambda threads: fe.tokenize(["x"], "bytes", "unused", threads=threads),
    "SuffixIndex.build": lambda threads: fe.SuffixIndex.build(
        np.arange(50, dtype=np.uint16) % 7, threads=threads
    ),
    "HiddenMarkovSource.sample": lambda threads: fe.HiddenMarkovSource(2, 5).sample(
        10, threads=threads
    ),
    "HiddenMarkovSource.entropy_rate": lambda threads: fe.HiddenMarkovSource(2, 5).entropy_rate(
        2400, block=100, threads=threads
    ),
    "estimate_rate": lambda threads: fe.estimate_rate(
        np.arange(100, dtype=np.uint16) % 7, orders=[1, 2], threads=threads
    ),
}


@pytest.mark.parametrize("threads", [0, -1, 1025, 10**6])
@pytest.mark.parametrize("name", sorted(THREADED))
def test_threads_out_of_range_name_threads(name, threads, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="threads"):
        THREADED[name](threads)


def test_thread_counts_in_range_are_accepted():
    assert _core.MAX_THREADS == 1024
    assert fe.count_ngrams([1, 2, 3], 2, threads=3).n == 2
    x = np.zeros((2, 3), np.float32)
    assert fe.cross_entropy(x, [0, 1], threads=3) == pytest.approx(np.log(3))
