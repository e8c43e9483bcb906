"""Token sources: memory-mapped token files that every counting function accepts."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import numpy.typing as npt

from ._types import PathLike

__all__ = ["RAW_DTYPES", "open_array"]

#: Dtypes of raw ``.bin`` token files (little-endian).
RAW_DTYPES = ("uint8", "uint16", "uint32")

_NPY_MAGIC = b"\x93NUMPY"


def open_array(path: PathLike, dtype: npt.DTypeLike | None) -> npt.NDArray[np.integer[Any]]:
    """The array of :func:`~fastentropy.open_tokens`: the file alone, never its sidecar."""
    fspath = os.fspath(path)
    size = os.stat(fspath).st_size  # FileNotFoundError for a missing file
    if os.path.isdir(fspath):
        raise IsADirectoryError(f"{fspath!r} is a directory, not a token file")
    if str(fspath).lower().endswith(".npy"):
        return _open_npy(fspath, dtype)
    return _open_raw(fspath, size, dtype)


def _open_npy(path: str, dtype: npt.DTypeLike | None) -> npt.NDArray[np.integer[Any]]:
    with open(path, "rb") as f:
        magic = f.read(len(_NPY_MAGIC))
    if magic != _NPY_MAGIC:
        raise ValueError(
            f"{path!r} is not a .npy file (it does not start with the .npy magic bytes); "
            "for raw token ids use another extension such as .bin and give dtype="
        )
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError as e:
        if "empty" not in str(e):
            raise ValueError(f"{path!r} is not a readable .npy file: {e}") from None
        arr = np.load(path, allow_pickle=False)  # zero-length data cannot be mapped
    if not isinstance(arr, np.ndarray):
        raise ValueError(f"{path!r} is not a single-array .npy file")
    if arr.ndim != 1:
        raise ValueError(f"{path!r} holds an array of shape {arr.shape}; tokens must be 1-D")
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iu":
        raise TypeError(f"{path!r} holds {arr.dtype} values; token ids must be integers")
    if dtype is not None and np.dtype(dtype) != arr.dtype:
        raise ValueError(
            f"dtype={np.dtype(dtype)} disagrees with the .npy header of {path!r}, which says "
            f"{arr.dtype}; omit dtype for .npy files"
        )
    return arr


def _open_raw(path: str, size: int, dtype: npt.DTypeLike | None) -> npt.NDArray[np.integer[Any]]:
    if dtype is None:
        raise ValueError(
            f"{path!r} is a raw token file: give its dtype, one of {', '.join(RAW_DTYPES)}"
        )
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype={dtype!r} is not a numpy dtype") from None
    if dt.kind != "u" or dt.itemsize > 4:
        raise TypeError(f"raw token files hold {', '.join(RAW_DTYPES)} ids, not dtype={dt}")
    dt = dt.newbyteorder("<")
    if dt.isnative:
        dt = dt.newbyteorder("=")  # shown as plain uint16, not <u2
    if size % dt.itemsize:
        raise ValueError(
            f"{path!r} has {size} bytes, not a multiple of {dt.itemsize} ({dt.name}): the "
            "file is truncated or the dtype is wrong"
        )
    if size == 0:
        return np.zeros(0, dtype=dt)
    return np.memmap(path, dtype=dt, mode="r", shape=(size // dt.itemsize,))
