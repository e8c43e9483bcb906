# Type stubs of the private compiled module fastentropy._core (written by hand; checked by
# mypy.stubtest in CI). The public API is in the Python modules beside this file.
from collections.abc import Callable, Sequence
from typing import Any, final

import numpy as np
import numpy.typing as npt

_U64 = npt.NDArray[np.uint64]
_Pairs = tuple[_U64, _U64]

__all__ = [
    "MAX_THREADS",
    "METHODS",
    "MarkovSource",
    "NgramCounts",
    "XentSums",
    "__version__",
    "count_ngrams",
    "estimate",
    "ngram_profiles",
    "profile_add",
    "profile_from_counts",
    "profile_from_pairs",
    "profile_from_samples",
    "xent_exp",
    "xent_isas",
    "xent_tokens",
]

__version__: str
MAX_THREADS: int
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

_Tokens = npt.NDArray[np.integer[Any]]
_Mask = npt.NDArray[np.bool_]
_Progress = Callable[[int, int], object]

@final
class NgramCounts:
    @property
    def order(self) -> int: ...
    @property
    def n(self) -> int: ...
    @property
    def distinct(self) -> int: ...
    def profile(self) -> _Pairs: ...
    def most_common(self, k: int) -> tuple[npt.NDArray[np.uint64], _U64]: ...

def count_ngrams(
    tokens: _Tokens,
    order: int,
    *,
    separator: int | None = None,
    mask: _Mask | None = None,
    memory_limit: int | None = None,
    threads: int | None = None,
    progress: _Progress | None = None,
) -> NgramCounts: ...
def ngram_profiles(
    tokens: _Tokens,
    orders: Sequence[int],
    *,
    separator: int | None = None,
    mask: _Mask | None = None,
    memory_limit: int | None = None,
    threads: int | None = None,
    progress: _Progress | None = None,
) -> list[tuple[int, _Pairs]]: ...

@final
class MarkovSource:
    def __new__(
        cls,
        vocab: int,
        order: int,
        exponents: tuple[float, float],
        seed: int,
        *,
        progress: _Progress | None = None,
    ) -> MarkovSource: ...
    def entropy_rate(self) -> float: ...
    def stationary(self) -> npt.NDArray[np.float64]: ...
    def rows(self) -> npt.NDArray[np.float64]: ...
    def sample(
        self, n: int, seed: int, *, progress: _Progress | None = None
    ) -> npt.NDArray[np.uint32]: ...

# Cross-entropy. Logits are 2-D C-contiguous float32, or uint16 bits with dtype "float16" or
# "bfloat16"; isa forces an instruction set (names from xent_isas()).
_Logits = npt.NDArray[np.float32] | npt.NDArray[np.uint16]
_I64 = npt.NDArray[np.int64]
_F64 = npt.NDArray[np.float64]

def xent_tokens(
    logits: _Logits,
    targets: _Tokens,
    *,
    dtype: str,
    ignore_index: int | None = None,
    threads: int | None = None,
    isa: str | None = None,
    progress: _Progress | None = None,
) -> _F64: ...
def xent_exp(x: npt.NDArray[np.float32], *, isa: str | None = None) -> npt.NDArray[np.float32]: ...
def xent_isas() -> list[str]: ...

@final
class XentSums:
    def __new__(cls) -> XentSums: ...
    @staticmethod
    def from_logits(
        logits: _Logits,
        targets: _Tokens,
        *,
        dtype: str,
        segments: _I64 | None = None,
        ignore_index: int | None = None,
        threads: int | None = None,
        isa: str | None = None,
        progress: _Progress | None = None,
    ) -> XentSums: ...
    @staticmethod
    def from_logprobs(
        logprobs: npt.NDArray[np.float32] | _F64, *, segments: _I64 | None = None
    ) -> XentSums: ...
    @staticmethod
    def from_state(
        count: int,
        fixed: int,
        ids: _I64,
        counts: _U64,
        high: _I64,
        low: _U64,
    ) -> XentSums: ...
    def merge(self, other: XentSums) -> None: ...
    @property
    def count(self) -> int: ...
    @property
    def sum(self) -> float: ...
    def per_segment(self) -> tuple[_I64, _U64, _F64]: ...
    def state(self) -> tuple[int, int, _I64, _U64, _I64, _U64]: ...
