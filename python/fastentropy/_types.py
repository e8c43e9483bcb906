"""Type aliases shared by the modules: paths, float arrays, memory sizes."""

from __future__ import annotations

import os
from typing import Union

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray", "MemoryLimit", "PathLike"]

#: A file name: a str or an ``os.PathLike``.
PathLike = Union[str, "os.PathLike[str]"]
#: A numpy array of float64.
FloatArray = npt.NDArray[np.float64]
#: Bytes an engine may allocate: an int, a string such as ``"8GB"``, or ``None`` (the default).
MemoryLimit = int | str | None
