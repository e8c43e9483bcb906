"""Progress of long calls, fed by the core's ``(done, total)`` callbacks.

``progress`` is taken the same way everywhere: ``False``/``None`` shows nothing, a callable
is called with ``(done, total)``, ``True`` and ``"auto"`` show each named stage on stderr:
a tqdm bar with rate and ETA on a terminal; elsewhere (a log file, CI, a pipe) a plain line
every few seconds, since a redrawn bar there is either invisible or a wall of carriage
returns. ``True`` also prints a last line per stage; ``"auto"`` prints nothing for a stage
shorter than the first interval, so short calls stay quiet in scripts.

A call made of several stages that reports over all of them at once is drawn by
:class:`Stages`, one named stage after another; a stage that reports nothing inside it (the
suffix sort, one call into libsais) shows the time it has run instead of a frozen bar.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import sys
import threading
import time
from collections.abc import Callable, MutableMapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, TextIO

__all__ = [
    "Progress",
    "ProgressCallback",
    "Stage",
    "StageTimes",
    "Stages",
    "Waiting",
    "check_progress",
    "si",
    "stage",
]

ProgressCallback = Callable[[int, int], Any]
Progress = bool | str | ProgressCallback | None

#: Seconds between two plain lines when stderr is not a terminal.
PLAIN_EVERY = 5.0
#: Seconds between two redraws of a stage that reports nothing inside it.
TICK = 0.5
#: Seconds a silent stage must be seen running before its throughput serves an estimate (the
#: start is seen up to one poll of the binding, 0.1 s, late).
MEASURED_AT_LEAST = 1.0

#: Per stage label: the size and seconds of its last run long enough to be measured.
StageTimes = MutableMapping[str, tuple[int, float]]


def check_progress(progress: Any) -> None:
    """Raise ``TypeError`` unless ``progress`` is a bool, ``None``, ``"auto"`` or a callable."""
    if progress is None or isinstance(progress, bool) or shown(progress) or callable(progress):
        return
    raise TypeError(
        f"progress must be True, False, 'auto' or a callable(done, total), got {progress!r}"
    )


def shown(progress: Any) -> bool:
    """Whether ``progress`` asks for stages drawn on stderr (``True`` or ``"auto"``)."""
    return progress is True or (isinstance(progress, str) and progress == "auto")


def stage(
    progress: Progress, label: str, unit: str = "tokens"
) -> AbstractContextManager[ProgressCallback | None]:
    """A context giving the callback for one named stage of work, or ``None`` for none.

    Parameters
    ----------
    progress : bool, "auto", callable or None
        As the public functions take it.
    label : str
        What the stage does (``"counting n-grams"``), shown before the bar.
    unit : str, default "tokens"
        What ``done`` and ``total`` count.

    Examples
    --------
    >>> with stage(lambda d, t: print(d, t), "counting") as report:
    ...     report(5, 10)
    5 10
    >>> with stage(False, "counting") as report:
    ...     report is None
    True
    """
    check_progress(progress)
    if progress is None or progress is False:
        return contextlib.nullcontext(None)
    if not shown(progress):
        return contextlib.nullcontext(progress)  # type: ignore[arg-type]
    return Stage(label, unit, final=progress is True)


class Stage:
    """One stage drawn on stderr: a tqdm bar on a terminal, plain lines elsewhere.

    Called with ``(done, total)``; ``count`` may be raised as work goes (e.g. tokens written
    while ``done`` counts input bytes) and is shown as a rate of ``count_unit``.
    """

    def __init__(
        self,
        label: str,
        unit: str,
        *,
        final: bool = True,
        count_unit: str | None = None,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.label = label
        self.unit = unit
        self.final = final
        self.count = 0
        self.count_unit = count_unit
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.start = clock()
        self.done = 0
        self.total = 0
        self.bar: Any = None
        self.next_line = self.start + PLAIN_EVERY
        if _isatty(self.stream):
            from tqdm import tqdm

            self.bar = tqdm(
                desc=label,
                unit=_spaced(unit),
                unit_scale=True,
                unit_divisor=1000,
                file=self.stream,
                dynamic_ncols=True,
                mininterval=0.1,
                disable=False,
                leave=True,
            )

    def __call__(self, done: int, total: int) -> None:
        self.done, self.total = int(done), int(total)
        if self.bar is not None:
            if self.bar.total != self.total:
                self.bar.total = self.total
            if self.count_unit is not None:
                elapsed = max(self.clock() - self.start, 1e-9)
                postfix = f"{si(self.count / elapsed)} {self.count_unit}/s"
                self.bar.set_postfix_str(postfix, refresh=False)
            self.bar.update(self.done - self.bar.n)
            return
        now = self.clock()
        if now >= self.next_line:
            self.next_line = now + PLAIN_EVERY
            self._line(now)

    def _line(self, now: float) -> None:
        elapsed = max(now - self.start, 1e-9)
        pct = 100.0 * self.done / self.total if self.total else 100.0
        rate = self.done / elapsed
        unit = _spaced(self.unit)
        parts = [f"{si(self.done)}/{si(self.total)}{unit} ({pct:.0f}%)", f"{si(rate)}{unit}/s"]
        if self.count_unit is not None:
            parts.append(f"{si(self.count / elapsed)} {self.count_unit}/s")
        if self.done < self.total and rate > 0:
            parts.append(f"ETA {_duration((self.total - self.done) / rate)}")
        else:
            parts.append(f"in {_duration(elapsed)}")
        self.stream.write(f"{self.label}: {', '.join(parts)}\n")
        self.stream.flush()

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.final and kind is None:
            self._line(self.clock())


class Waiting:
    """A stage that reports nothing until it ends: drawn as the time it has run, redrawn by
    :meth:`tick`, with an estimate of the time left when an earlier run of it was measured.

    The estimate assumes the time grows in proportion to the size (what a linear-time sort
    does, less cache effects at larger sizes), and says what it is taken from.
    """

    def __init__(
        self,
        label: str,
        unit: str,
        size: int,
        earlier: tuple[int, float] | None,
        *,
        final: bool,
        stream: TextIO,
        clock: Callable[[], float],
    ) -> None:
        self.label, self.unit, self.size, self.earlier = label, unit, size, earlier
        self.final, self.stream, self.clock = final, stream, clock
        self.start = clock()
        self.next_line = self.start + PLAIN_EVERY
        self.bar: Any = None
        if _isatty(stream):
            from tqdm import tqdm

            self.bar = tqdm(
                desc=f"{label}: {self.note(self.start)}",
                bar_format="{desc}",
                file=stream,
                dynamic_ncols=True,
                leave=True,
            )

    def note(self, now: float) -> str:
        """What the stage is doing at ``now``: time run, and the time left if it can tell."""
        elapsed = max(now - self.start, 0.0)
        text = f"{si(self.size)}{_spaced(self.unit)}, running for {_duration(elapsed)}"
        if self.earlier is None:
            return text + " (it reports no progress until it ends)"
        size, seconds = self.earlier
        expected = self.size * seconds / max(size, 1)
        basis = (
            f"at the {si(size / seconds)}{_spaced(self.unit)}/s of an earlier run "
            f"on {si(size)}{_spaced(self.unit)}"
        )
        if elapsed < expected:
            return f"{text}, about {_duration(expected - elapsed)} left {basis}"
        return f"{text}, past the {_duration(expected)} expected {basis}"

    def tick(self) -> None:
        """Redraws the bar, or writes a plain line when one is due."""
        now = self.clock()
        if self.bar is not None:
            self.bar.set_description_str(f"{self.label}: {self.note(now)}", refresh=True)
        elif now >= self.next_line:
            self.next_line = now + PLAIN_EVERY
            self.stream.write(f"{self.label}: {self.note(now)}\n")
            self.stream.flush()

    def end(self, kind: object) -> float:
        """Ends the stage (``kind`` the exception type, if one stopped it); its seconds."""
        elapsed = max(self.clock() - self.start, 1e-9)
        done = f"{si(self.size)}{_spaced(self.unit)} in {_duration(elapsed)}"
        if self.bar is not None:
            if kind is None:
                self.bar.set_description_str(f"{self.label}: {done}", refresh=True)
            self.bar.close()
        elif self.final and kind is None:
            rate = f"{si(self.size / elapsed)}{_spaced(self.unit)}/s"
            self.stream.write(f"{self.label}: {done} ({rate})\n")
            self.stream.flush()
        return elapsed


class Stages:
    """Progress of one call that runs named stages one after another and reports
    ``(done, total)`` over all of them: stage ``k`` covers ``units[k]`` of ``sum(units)``
    equal parts of ``total``, each part one pass over the call's items (tokens), and is drawn
    as that many items, however many passes it makes.

    A callable ``progress`` hears ``(done, total)`` as the call reports them. Drawn
    (``True``/``"auto"``), each stage is a :class:`Stage` of its own, and one that reports
    nothing inside it a :class:`Waiting`, redrawn every :data:`TICK` seconds by a thread of
    this object's while it runs. ``times`` keeps, per stage label, the size and seconds of
    the last silent run measured, for the next one's estimate. Given ``size`` (the items of
    one unit), a stage of 0 units takes what the call's total leaves after the others.

    Examples
    --------
    >>> seen = []
    >>> stages = [("counting", 1, True), ("sorting", 1, False)]
    >>> with Stages(lambda d, t: seen.append((d, t)), stages) as report:
    ...     report(5, 20)
    ...     report(20, 20)
    >>> seen
    [(5, 20), (20, 20)]
    """

    def __init__(
        self,
        progress: Progress,
        stages: Sequence[tuple[str, int, bool]],
        unit: str = "tokens",
        *,
        times: StageTimes | None = None,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.perf_counter,
        ticking: bool = True,
        size: int | None = None,
    ) -> None:
        check_progress(progress)
        self.callback = progress if callable(progress) else None
        self.drawn = shown(progress)
        self.final = progress is True
        self.stages = list(stages)
        self.size = size
        self.ends: list[int] = []
        self.unit = unit
        self.times = times if times is not None else {}
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.ticking = ticking
        self.index = -1
        self.current: Stage | Waiting | None = None
        self.stopped: threading.Event | None = None
        self.lock = threading.Lock()
        self.last = clock()

    def __call__(self, done: int, total: int) -> None:
        if self.callback is not None:
            self.callback(done, total)
        if not self.drawn or total <= 0 or not self.stages:
            return
        with self.lock:
            if not self.ends:
                self._layout(total)
            per = total / self.ends[-1]
            # The stage `done` is in: the first that ends past it (the last once all is done).
            at = next((k for k, e in enumerate(self.ends) if done < e * per), len(self.ends) - 1)
            while self.index < at:
                self._end(None)
                self.index += 1
                self._begin(per, passed=self.index < at or done >= total)
            if isinstance(self.current, Stage):
                # Shown in items of the call (tokens), however many units the stage spans.
                units = self.stages[self.index][1]
                first = self.ends[self.index] - units
                size = round(per)
                self.current(min(round((done - first * per) / units), size), size)
            self.last = self.clock()

    def _layout(self, total: int) -> None:
        """Where each stage ends, in units; a stage of 0 units gets the rest of ``total``."""
        units = [u for _, u, _ in self.stages]
        if self.size and 0 in units:
            rest = max(round(total / self.size) - sum(units), 1)
            units = [u or rest for u in units]
            self.stages = [(s[0], u, s[2]) for s, u in zip(self.stages, units, strict=True)]
        self.ends = list(itertools.accumulate(units))

    def tick(self) -> None:
        """Redraws the stage that reports nothing inside it, if one is running."""
        with self.lock:
            if isinstance(self.current, Waiting):
                self.current.tick()

    def _begin(self, per: float, *, passed: bool) -> None:
        label, _, reports = self.stages[self.index]
        size = round(per)
        if reports:
            self.current = Stage(
                label, self.unit, final=self.final, stream=self.stream, clock=self.clock
            )
        else:
            earlier = self.times.get(label)
            clock = self.clock
            self.current = Waiting(
                label, self.unit, size, earlier, final=self.final, stream=self.stream, clock=clock
            )
        if passed:
            # Begun and ended between two reports: it ran within the time since the last.
            self.current.start = self.last
            if isinstance(self.current, Stage):
                self.current(size, size)
            self._end(None, measured=False)
        elif isinstance(self.current, Waiting) and self.ticking:
            self.stopped = threading.Event()
            threading.Thread(target=self._ticks, args=(self.stopped,), daemon=True).start()

    def _ticks(self, stopped: threading.Event) -> None:
        while not stopped.wait(TICK):
            self.tick()

    def _end(self, kind: object, *, measured: bool = True) -> None:
        if self.stopped is not None:
            self.stopped.set()
            self.stopped = None
        current, self.current = self.current, None
        if isinstance(current, Stage):
            current.__exit__(kind)
        elif isinstance(current, Waiting):
            seconds = current.end(kind)
            if kind is None and measured and seconds >= MEASURED_AT_LEAST:
                self.times[current.label] = (current.size, seconds)

    def __enter__(self) -> Stages:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        with self.lock:
            self._end(kind)


def si(x: float) -> str:
    """``x`` with a k/M/G suffix, for a progress line.

    Examples
    --------
    >>> si(950), si(12_345), si(3.2e9)
    ('950', '12.3k', '3.2G')
    """
    for suffix, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= scale:
            return f"{x / scale:.1f}{suffix}"
    return f"{x:.0f}"


def _spaced(unit: str) -> str:
    """The unit as written after a number: ``12.3MB``, but ``12.3k tokens``."""
    return unit if unit == "B" else f" {unit}"


def _duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, s = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}:{s:02d}"
    return f"{minutes // 60}:{minutes % 60:02d}:{s:02d}"


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
