"""Arguments as every function takes them: ints, thread counts, memory sizes, token arrays.

One rule per kind of argument, so that every entry point refuses the same values with the same
message (``threads`` is checked here, before the core starts any thread).
"""

from __future__ import annotations

import math
import mmap
import numbers
import os
import re
from typing import Any

import numpy as np
import numpy.typing as npt

from . import _core

__all__ = [
    "MAX_INDEX",
    "MAX_THREADS",
    "as_int_array",
    "check_mapped",
    "counting_options",
    "default_memory_limit",
    "int_arg",
    "is_int",
    "is_real",
    "parse_size",
    "shown",
    "threads_arg",
]

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "m": 10**6,
    "mb": 10**6,
    "g": 10**9,
    "gb": 10**9,
    "t": 10**12,
    "tb": 10**12,
    "ki": 2**10,
    "kib": 2**10,
    "mi": 2**20,
    "mib": 2**20,
    "gi": 2**30,
    "gib": 2**30,
    "ti": 2**40,
    "tib": 2**40,
}
#: The most worker threads a function accepts: the core's bound (``Control``), defined there.
MAX_THREADS: int = _core.MAX_THREADS
#: Largest count-like argument passed to the core (its sizes are 64-bit).
MAX_INDEX = 2**63 - 1
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([a-z]*)\s*$", re.I)


def int_arg(value: Any, name: str, minimum: int, maximum: int | None = None) -> int:
    """``value`` as an int in ``minimum..maximum``; bool and float are refused, not rounded."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {shown(value)}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {shown(value)}")
    return int(value)


def threads_arg(threads: Any) -> int | None:
    """``threads`` checked as every function takes it: ``None`` (all cores) or 1..1024."""
    if threads is None:
        return None
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral):
        raise TypeError(f"threads must be an int or None, got {type(threads).__name__}")
    threads = int(threads)
    if not 1 <= threads <= MAX_THREADS:
        raise ValueError(
            f"threads must be from 1 to {MAX_THREADS} (or None for all cores), got {shown(threads)}"
        )
    return int(threads)


def shown(value: Any) -> str:
    """``value`` for a message: huge integers by their size, not by all their digits."""
    text = repr(value)
    if isinstance(value, numbers.Integral) and len(text) > 24:
        return f"{text[:6]}...{text[-3:]} ({len(text.lstrip('-'))} digits)"
    return text


def counting_options(
    tokens: npt.NDArray[np.integer[Any]],
    separator: Any,
    mask: Any,
    memory_limit: Any,
    threads: Any,
) -> dict[str, Any]:
    """The keyword arguments of a counting engine (separator, mask, memory limit, threads),
    checked against ``tokens``; the memory limit defaults to half of the available RAM."""
    if separator is not None:
        if isinstance(separator, bool) or not isinstance(separator, numbers.Integral):
            raise TypeError(f"separator must be an int token id, got {type(separator).__name__}")
        top = int(np.iinfo(tokens.dtype).max)
        separator = int(separator)
        if not 0 <= separator <= top:
            raise ValueError(
                f"separator = {separator} is outside the id range 0..{top} of {tokens.dtype} tokens"
            )
    if mask is not None:
        m = np.asarray(mask)
        if m.dtype != np.bool_:
            raise TypeError(f"mask must be a bool array, got dtype {m.dtype}")
        if m.shape != tokens.shape:
            raise ValueError(
                f"mask has shape {m.shape} but tokens has {tokens.shape}: they must be 1-D "
                "and the same length"
            )
        check_mapped(m, "mask")
        mask = in_place(m)
    threads = threads_arg(threads)
    limit = default_memory_limit() if memory_limit is None else parse_size(memory_limit)
    return {"separator": separator, "mask": mask, "memory_limit": limit, "threads": threads}


def parse_size(size: int | str) -> int:
    """Bytes from an int or a string such as ``"8GB"``, ``"512MiB"`` or ``"1.5g"``.

    Decimal units (``kB``, ``MB``, ``GB``, ``TB``, or ``k``/``M``/``G``/``T``) are powers of
    1000, binary ones (``KiB``, ``MiB``, ``GiB``, ``TiB``) powers of 1024.

    Parameters
    ----------
    size : int or str
        A positive number of bytes, or a number with a unit.

    Raises
    ------
    TypeError
        Not an int or str.
    ValueError
        Not positive, or not a number with a known unit.

    Examples
    --------
    >>> parse_size("8GB"), parse_size("512MiB"), parse_size(4096)
    (8000000000, 536870912, 4096)
    """
    if isinstance(size, str):
        m = _SIZE.match(size)
        unit = m.group(2).lower() if m else ""
        if not m or unit not in _SIZE_UNITS:
            raise ValueError(
                f"memory_limit = {size!r} is not a size: use bytes as an int, or a number with "
                "a unit such as '8GB' or '512MiB'"
            )
        number = float(m.group(1)) * _SIZE_UNITS[unit]
        value = math.floor(number) if math.isfinite(number) else MAX_INDEX
    elif isinstance(size, numbers.Integral) and not isinstance(size, bool):
        value = int(size)
    else:
        raise TypeError(f"memory_limit must be an int or a str, got {type(size).__name__}")
    if value <= 0:
        raise ValueError(f"memory_limit must be positive, got {shown(size)}")
    # A limit beyond any machine's memory is no limit: the largest the core takes says the same.
    return min(value, MAX_INDEX)


def default_memory_limit() -> int | None:
    """Half of the available RAM (``MemAvailable``), or ``None`` if it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024 // 2
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, OSError, ValueError):
        return None


def is_real(value: Any) -> bool:
    """Whether ``value`` is a real number (a Python or numpy int or float, not a bool)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (a Python or numpy int, not a bool)."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_mapped(values: Any, name: str) -> None:
    """Raise ``OSError`` if ``values`` is a view of a memory-mapped file that has shrunk
    since it was mapped: reading a mapped page past the end of its file kills the process
    with SIGBUS, with no Python exception. Called before each use of a mapped array (a file
    can still shrink during the use; nothing short of a copy can prevent that)."""
    base = values
    while isinstance(base, np.ndarray):
        if isinstance(base, np.memmap):
            mapped = getattr(base, "_mmap", None)
            if isinstance(mapped, mmap.mmap) and not mapped.closed:
                # numpy maps from the offset rounded down to the allocation granularity.
                start = base.offset - base.offset % mmap.ALLOCATIONGRANULARITY
                needed = start + len(mapped)
                try:
                    size = mapped.size()  # of the file itself, through the map's own handle
                except OSError:
                    return
                if size < needed:
                    raise OSError(
                        f"{base.filename}: the file has {size} bytes but {needed} were mapped "
                        f"when {name} were opened: it was truncated or rewritten since; open "
                        "it again"
                    )
                return
        base = base.base


def as_int_array(values: Any, name: str) -> npt.NDArray[np.integer[Any]]:
    """A C-contiguous 1-D integer array view of ``values`` (copied only if it must be)."""
    check_mapped(values, name)
    arr = np.asarray(values)
    if not isinstance(values, np.ndarray) and arr.dtype.kind in "fO" and arr.ndim == 1:
        # Python ints beyond int64 make numpy choose float64 or object; keep them exact.
        if all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
            try:
                arr = np.array([int(v) for v in values], dtype=np.uint64)
            except OverflowError:
                raise ValueError(f"{name} holds a value outside 0..2**64-1") from None
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got an array of shape {arr.shape}")
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iu":
        if arr.size == 0 and arr.dtype.kind == "f":
            # np.asarray([]) is float64; an empty list carries no type to object to.
            return np.zeros(0, dtype=np.int64)
        raise TypeError(f"{name} must be integers, got an array of dtype {arr.dtype}")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return in_place(arr)


def in_place(arr: npt.ArrayLike, dtype: npt.DTypeLike | None = None) -> npt.NDArray[Any]:
    """``arr`` as the core reads it in place: C-contiguous and aligned, copied only if not.

    Contiguity alone is not enough: ``np.frombuffer`` at an odd offset, a memory map whose
    header is not a multiple of the item size, or an array unpickled from a byte stream can be
    misaligned, and the core refuses those.
    """
    return np.require(arr, dtype=dtype, requirements=["C", "A"])
