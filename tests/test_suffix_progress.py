"""Progress of a suffix-index build: the core's (done, total) over its named stages, and how
they are drawn, the sort (which reports nothing until it ends) as the time it has run."""

from __future__ import annotations

import io

import fastentropy as fe
import numpy as np
import pytest
from fastentropy import _core
from fastentropy._progress import PLAIN_EVERY, Stages, si

STAGES = [("remapping ids", 1, True), ("sorting suffixes", 1, False), ("LCP", 2, True)]


def test_the_core_names_the_build_stages():
    assert [tuple(s) for s in _core.SUFFIX_BUILD_STAGES] == STAGES


def test_callable_hears_a_monotone_sequence_that_ends_at_the_total():
    n = 300_000
    arr = np.random.default_rng(2).integers(0, 1000, n).astype(np.uint32)
    calls: list[tuple[int, int]] = []
    fe.SuffixIndex.build(arr, threads=2, progress=lambda d, t: calls.append((d, t)))
    dones = [d for d, _ in calls]
    assert calls and dones == sorted(dones)
    assert {t for _, t in calls} == {4 * n}
    assert calls[-1] == (4 * n, 4 * n)
    # The sort says nothing inside it: no report falls strictly between its ends.
    assert not [d for d in dones if n < d < 2 * n]


def test_drawn_progress_names_each_stage_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    n = 200_000
    arr = np.random.default_rng(3).integers(0, 1000, n).astype(np.uint16)
    fe.SuffixIndex.build(arr, threads=2, progress=True)
    err = capsys.readouterr().err
    labels = [line.split(":")[0] for line in err.splitlines()]
    firsts = sorted({label: labels.index(label) for label in labels}.items(), key=lambda x: x[1])
    assert [label for label, _ in firsts] == [s[0] for s in STAGES], err
    # Each stage's last line says it ended, with its size (the sort's: n tokens).
    assert f"sorting suffixes: {si(n)} tokens in " in err, err


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def drawn(times: dict[str, tuple[int, float]], clock: Clock) -> tuple[Stages, io.StringIO]:
    out = io.StringIO()
    stages = Stages(True, STAGES, times=times, stream=out, clock=clock, ticking=False)
    return stages, out


def test_the_sort_shows_its_time_and_learns_its_rate() -> None:
    times: dict[str, tuple[int, float]] = {}
    clock = Clock()
    n = 1_000_000
    stages, out = drawn(times, clock)
    with stages:
        stages(n // 2, 4 * n)
        stages(n, 4 * n)  # remapped: the sort runs
        clock.now += PLAIN_EVERY + 1
        stages.tick()
        stages(n, 4 * n)  # the same report again: no new line, no change of stage
        clock.now += 4
        stages(2 * n, 4 * n)
        stages(4 * n, 4 * n)
    lines = out.getvalue().splitlines()
    sort = [line for line in lines if line.startswith("sorting suffixes")]
    assert sort == [
        "sorting suffixes: 1.0M tokens, running for 6.0 s (it reports no progress until it ends)",
        "sorting suffixes: 1.0M tokens in 10.0 s (100.0k tokens/s)",
    ]
    assert [line.split(":")[0] for line in lines] == [
        "remapping ids",
        "sorting suffixes",
        "sorting suffixes",
        "LCP",
    ]
    assert times == {"sorting suffixes": (n, 10.0)}

    # A twice larger sort is expected to take twice as long: 20 s.
    stages, out = drawn(times, clock)
    with stages:
        stages(2 * n, 8 * n)
        clock.now += 6
        stages.tick()
        clock.now += 18
        stages.tick()
        clock.now += 1
        stages(4 * n, 8 * n)
    sort = [line for line in out.getvalue().splitlines() if line.startswith("sorting")]
    basis = "at the 100.0k tokens/s of an earlier run on 1.0M tokens"
    assert sort == [
        f"sorting suffixes: 2.0M tokens, running for 6.0 s, about 14.0 s left {basis}",
        f"sorting suffixes: 2.0M tokens, running for 24.0 s, past the 20.0 s expected {basis}",
        "sorting suffixes: 2.0M tokens in 25.0 s (80.0k tokens/s)",
    ]
    assert times == {"sorting suffixes": (2 * n, 25.0)}


def test_an_interrupted_sort_is_not_measured_and_says_nothing_more() -> None:
    times: dict[str, tuple[int, float]] = {}
    clock = Clock()
    stages, out = drawn(times, clock)
    with pytest.raises(KeyboardInterrupt), stages:
        stages(10, 40)
        clock.now += 30
        raise KeyboardInterrupt
    assert times == {}
    assert [line.split(":")[0] for line in out.getvalue().splitlines()] == ["remapping ids"]


def test_a_stage_passed_between_two_reports_is_still_named() -> None:
    clock = Clock()
    stages, out = drawn({}, clock)
    with stages:
        clock.now += 0.25
        stages(40, 40)
    # Each said to have ended within the time since the last report.
    assert out.getvalue().splitlines() == [
        "remapping ids: 10/10 tokens (100%), 40 tokens/s, in 0.2 s",
        "sorting suffixes: 10 tokens in 0.2 s (40 tokens/s)",
        "LCP: 10/10 tokens (100%), 40 tokens/s, in 0.2 s",
    ]


def test_auto_draws_nothing_for_a_short_build(capsys: pytest.CaptureFixture[str]) -> None:
    fe.SuffixIndex.build(np.arange(1000, dtype=np.uint16), progress="auto")
    assert capsys.readouterr().err == ""


def test_profiles_under_a_mask_show_the_reversed_build_then_the_scans(
    capsys: pytest.CaptureFixture[str],
) -> None:
    n = 200_000
    rng = np.random.default_rng(5)
    arr = rng.integers(0, 1000, n).astype(np.uint16)
    idx = fe.SuffixIndex.build(arr, mask=rng.random(n) < 0.5, threads=2)
    calls: list[tuple[int, int]] = []
    idx.profiles([1, 2], threads=2, progress=lambda d, t: calls.append((d, t)))
    dones = [d for d, _ in calls]
    # The reversed index's 4 units, then one scan of 2.
    assert dones == sorted(dones) and calls[-1] == (6 * n, 6 * n)
    capsys.readouterr()
    idx.profiles([1, 2], threads=2, progress=True)
    err = capsys.readouterr().err
    labels = [line.split(":")[0] for line in err.splitlines()]
    order = [s[0] for s in STAGES] + ["profiles"]
    assert sorted(set(labels), key=labels.index) == order, err
    assert f"profiles: {si(n)}/{si(n)} tokens (100%)" in err, err
