"""Progress of long calls, fed by the core's ``(done, total)`` callbacks.

``progress`` is taken the same way everywhere: ``False``/``None`` shows nothing, a callable
is called with ``(done, total)``, ``True`` and ``"auto"`` show each named stage on stderr:
a tqdm bar with rate and ETA on a terminal; elsewhere (a log file, CI, a pipe) a plain line
every few seconds, since a redrawn bar there is either invisible or a wall of carriage
returns. ``True`` also prints a last line per stage; ``"auto"`` prints nothing for a stage
shorter than the first interval, so short calls stay quiet in scripts.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, TextIO

__all__ = ["Progress", "ProgressCallback", "Stage", "check_progress", "si", "stage"]

ProgressCallback = Callable[[int, int], Any]
Progress = bool | str | ProgressCallback | None

#: Seconds between two plain lines when stderr is not a terminal.
PLAIN_EVERY = 5.0


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
    ) -> None:
        self.label = label
        self.unit = unit
        self.final = final
        self.count = 0
        self.count_unit = count_unit
        self.stream = stream if stream is not None else sys.stderr
        self.start = time.perf_counter()
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
                elapsed = max(time.perf_counter() - self.start, 1e-9)
                postfix = f"{si(self.count / elapsed)} {self.count_unit}/s"
                self.bar.set_postfix_str(postfix, refresh=False)
            self.bar.update(self.done - self.bar.n)
            return
        now = time.perf_counter()
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
            self._line(time.perf_counter())


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
