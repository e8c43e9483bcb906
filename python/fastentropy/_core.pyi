# Type stubs of the private compiled module fastentropy._core (written by hand; checked by
# mypy.stubtest in CI). The public API is in the Python modules beside this file.
from typing import Any

import numpy as np
import numpy.typing as npt

_U64 = npt.NDArray[np.uint64]
_Pairs = tuple[_U64, _U64]

__all__ = [
    "METHODS",
    "__version__",
    "estimate",
    "profile_add",
    "profile_from_counts",
    "profile_from_pairs",
    "profile_from_samples",
]

__version__: str
METHODS: tuple[str, ...]

def profile_from_counts(counts: npt.NDArray[np.integer[Any]]) -> _Pairs: ...
def profile_from_samples(samples: npt.NDArray[np.integer[Any]]) -> _Pairs: ...
def profile_from_pairs(ks: _U64, mks: _U64) -> _Pairs: ...
def profile_add(a: _Pairs, b: _Pairs) -> _Pairs: ...
def estimate(
    ks: _U64,
    mks: _U64,
    method: str,
    *,
    alphabet_size: float | None = None,
    concentration: float | str | None = None,
) -> tuple[float, float | None, list[str], list[str]]: ...
