"""Ctrl-C during the suffix sort: the build returns at once, leaving the sort (one call into
libsais, which cannot be stopped) to finish on its own thread and free its memory; the next
build waits for it, and works.

The child interpreter presses Ctrl-C on itself from the progress callable once the remap is
reported done (progress stays at n tokens for the whole sort) and the sort's thread has
started. Right after the KeyboardInterrupt it prints the sorts running and those left by
their caller: (1, 1) shows the call came back without waiting for its sort (a call that
waited would find none running). No timing is asserted: 10^7 tokens take libsais a second
or more, far longer than the 0.1 s in which the interrupt is seen. The text is one block
repeated, so that the build's first sort (by leading tokens, which stops at Ctrl-C between
buckets) gives up and libsais runs.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

CHILD = """
import os, signal, time
import numpy as np
# As in test_interrupt.py: SIGINT may be inherited as ignored; handle it as a terminal does.
signal.signal(signal.SIGINT, signal.default_int_handler)
import fastentropy as fe
from fastentropy import _core

# One block repeated: the bucket sort gives up on its first group, and libsais sorts.
block = np.random.default_rng(0).integers(0, 50_000, 100_000).astype(np.uint32)
t = np.tile(block, 100)
n = len(t)

def note(done, total):
    if n <= done < 2 * n:  # remapped, not sorted
        while _core.suffix_background_sorts()[0] == 0:  # until the sort has started
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGINT)

print("started", flush=True)
try:
    fe.SuffixIndex.build(t, threads=2, progress=note)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", _core.suffix_background_sorts(), flush=True)
# Waits for the sort that was left, then builds.
idx = fe.SuffixIndex.build(np.array([3, 1, 3, 1, 3], dtype=np.uint8))
print(_core.suffix_background_sorts(), idx.count([3, 1]), flush=True)
"""

# A guard against a hang, not a speed requirement.
HANG = 600


def test_ctrl_c_during_the_sort_returns_without_waiting_for_it():
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD)],
        capture_output=True,
        text=True,
        timeout=HANG,
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.splitlines() == ["started", "interrupted (1, 1)", "(0, 0) 2"], (
        child.stdout,
        child.stderr,
    )
    assert "panicked" not in child.stderr, child.stderr
