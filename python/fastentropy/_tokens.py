"""Token sources: memory-mapped token files that every counting function accepts."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import numpy.typing as npt

__all__ = ["open_tokens"]

#: Dtypes of raw ``.bin`` token files (little-endian).
RAW_DTYPES = ("uint8", "uint16", "uint32")
#: Dtypes the counting engine reads in place.
TOKEN_DTYPES = ("uint8", "uint16", "uint32", "uint64", "int32", "int64")

_NPY_MAGIC = b"\x93NUMPY"

PathLike = Union[str, "os.PathLike[str]"]

if TYPE_CHECKING:
    from ._tokenize import TokenFile


def open_tokens(
    path: PathLike, dtype: npt.DTypeLike | None = None
) -> npt.NDArray[np.integer[Any]] | TokenFile:
    """Memory-map a token file without reading it into RAM.

    A raw file with the sidecar :func:`tokenize` writes beside it (``x.bin`` and ``x.json``)
    opens as its :class:`TokenFile` when no ``dtype`` is given: the dtype, separator, mask
    and text statistics come with it, and every counting function takes it.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npy`` file (its header gives the dtype and shape; it must hold a 1-D integer
        array) or any other name, read as raw little-endian token ids with no header (e.g.
        the ``.bin`` files of nanoGPT-style pipelines).
    dtype : dtype-like, optional
        Required for raw files: ``uint8``, ``uint16`` or ``uint32``. For ``.npy`` files it may
        be omitted; if given it must agree with the header.

    Returns
    -------
    numpy.ndarray or TokenFile
        A read-only, memory-mapped 1-D array (a ``numpy.memmap``; empty files give an empty
        array). Pages are read by the OS as the counting engine touches them. A
        :class:`TokenFile` for a ``.bin`` with its sidecar (``len()`` and ``numpy.asarray()``
        give its tokens).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    OSError
        ``path`` cannot be read (e.g. it is a directory).
    ValueError
        A ``.npy`` name on a file that is not ``.npy``, a ``.npy`` array that is not 1-D, a
        ``dtype`` that disagrees with the header, a raw file without ``dtype``, or a raw file
        whose size is not a multiple of the dtype's size.
    TypeError
        A ``.npy`` file of a non-integer dtype, or a ``dtype`` that is not a token dtype.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import fastentropy as fe
    >>> d = tempfile.mkdtemp()
    >>> np.array([5, 1, 5, 1, 5], dtype=np.uint16).tofile(os.path.join(d, "train.bin"))
    >>> tokens = fe.open_tokens(os.path.join(d, "train.bin"), dtype="uint16")
    >>> tokens.dtype, len(tokens)
    (dtype('uint16'), 5)
    >>> np.save(os.path.join(d, "train.npy"), np.arange(4, dtype=np.uint32))
    >>> fe.open_tokens(os.path.join(d, "train.npy"))
    memmap([0, 1, 2, 3], dtype=uint32)
    >>> fe.count_ngrams(tokens, 2).most_common(1)
    (array([[1, 5]], dtype=uint64), array([2], dtype=uint64))
    """
    fspath = os.fspath(path)
    if dtype is None and not fspath.lower().endswith(".npy"):
        tf = token_file_beside(fspath)
        if tf is not None:
            return tf
    return open_array(fspath, dtype)


def open_array(path: PathLike, dtype: npt.DTypeLike | None) -> npt.NDArray[np.integer[Any]]:
    """:func:`open_tokens` of an array: the file alone, never its sidecar."""
    fspath = os.fspath(path)
    size = os.stat(fspath).st_size  # FileNotFoundError for a missing file
    if os.path.isdir(fspath):
        raise IsADirectoryError(f"{fspath!r} is a directory, not a token file")
    if str(fspath).lower().endswith(".npy"):
        return _open_npy(fspath, size, dtype)
    return _open_raw(fspath, size, dtype)


def _open_npy(path: str, size: int, dtype: npt.DTypeLike | None) -> npt.NDArray[np.integer[Any]]:
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


def token_file_beside(path: str) -> TokenFile | None:
    """The TokenFile whose sidecar ``path`` is or sits beside (``x.json`` for ``x.bin``)."""
    from ._tokenize import FORMAT, TokenFile

    stem, suffix = os.path.splitext(path)
    sidecar = path if suffix == ".json" else stem + ".json"
    if suffix not in (".json", ".bin") or not os.path.isfile(sidecar):
        return None
    try:
        with open(sidecar, encoding="utf-8") as f:
            is_tokens = json.load(f).get("format") == FORMAT
    except (ValueError, AttributeError, OSError):
        return None
    return TokenFile.open(sidecar) if is_tokens else None
