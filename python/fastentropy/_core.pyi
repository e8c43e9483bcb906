# Type stubs of the private compiled module fastentropy._core (written by hand; checked by
# mypy.stubtest in CI). The public API is in the Python modules beside this file.
import os
from collections.abc import Callable, Sequence
from typing import Any, final

import numpy as np
import numpy.typing as npt

_U64 = npt.NDArray[np.uint64]
_Pairs = tuple[_U64, _U64]

__all__ = [
    "ANSB_REGIME_LIMIT",
    "CONCENTRATIONS",
    "MAX_THREADS",
    "METHODS",
    "NEEDS_ALPHABET",
    "RATE_MARGIN",
    "RATE_MAX_RELATIVE_WIDTH",
    "RATE_MAX_WIDTH_RATIO",
    "RATE_MIX_ALPHAS",
    "SUFFIX_BUILD_STAGES",
    "BpeEncoder",
    "FirstRange",
    "HiddenMarkovSource",
    "MarkovSource",
    "NgramCounts",
    "SuffixIndex",
    "XentSums",
    "__version__",
    "count_ngrams",
    "estimate",
    "max_ngram_order",
    "method_refusal",
    "ngram_profiles",
    "merge_ngram_runs",
    "ngram_runs",
    "ngram_table",
    "prequential",
    "prequential_distributions",
    "profile_add",
    "profile_from_counts",
    "profile_from_pairs",
    "profile_from_samples",
    "rate_combine",
    "rate_curve",
    "rate_curve_absorbed",
    "rate_grassberger",
    "rate_imprecise_extrapolations",
    "rate_matches",
    "rate_mix",
    "rate_orders",
    "rate_slope_alone",
    "rate_tail",
    "suffix_background_sorts",
    "suffix_build",
    "suffix_header",
    "suffix_open",
    "token_counts",
    "xent_exp",
    "xent_isas",
    "xent_path16",
    "xent_tokens",
]

__version__: str
MAX_THREADS: int
METHODS: tuple[str, ...]
NEEDS_ALPHABET: tuple[str, ...]
CONCENTRATIONS: tuple[str, ...]
RATE_MARGIN: float
RATE_MAX_RELATIVE_WIDTH: float
RATE_MAX_WIDTH_RATIO: float
RATE_MIX_ALPHAS: tuple[float, ...]
ANSB_REGIME_LIMIT: float
#: A suffix build's stages in order: name, length in units of n tokens, reports inside it.
SUFFIX_BUILD_STAGES: tuple[tuple[str, int, bool], ...]

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
def method_refusal(
    ks: _U64, mks: _U64, method: str, *, alphabet_size: float | None = None
) -> str | None: ...
def max_ngram_order(vocab_size: int, *, masked: bool) -> int: ...

_Tokens = npt.NDArray[np.integer[Any]]
_Mask = npt.NDArray[np.bool_]
_Progress = Callable[[int, int], object]

@final
class BpeEncoder:
    def __new__(
        cls,
        tokens: list[bytes],
        ids: npt.NDArray[np.uint32],
        merges: npt.NDArray[np.uint32],
        pattern: str,
        *,
        add_prefix_space: bool,
        ignore_merges: bool,
    ) -> BpeEncoder: ...
    def encode(
        self,
        texts: list[str],
        *,
        threads: int | None = None,
        progress: Callable[[int, int], object] | None = None,
    ) -> tuple[npt.NDArray[np.uint32], _U64]: ...

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
def merge_ngram_runs(
    runs: Sequence[
        tuple[_U64, npt.NDArray[np.uint32] | _U64, _U64, npt.NDArray[np.uint32], _U64, int, bool]
    ],
    order: int,
    orders: Sequence[int],
    distinct: int,
    first_lo: int,
    first_hi: int,
    *,
    progress: _Progress | None = None,
) -> list[tuple[int, _Pairs]]: ...
def ngram_runs(
    tokens: _Tokens,
    order: int,
    tails_path: str | os.PathLike[str],
    counts_path: str | os.PathLike[str],
    index_path: str | os.PathLike[str],
    *,
    separator: int | None = None,
    mask: _Mask | None = None,
    memory_limit: int | None = None,
    threads: int | None = None,
    progress: _Progress | None = None,
) -> tuple[_U64, _U64, int, bool, int]: ...
def token_counts(tokens: _Tokens, *, separator: int | None = None) -> _Pairs: ...

@final
class FirstRange:
    def __new__(
        cls,
        vocabulary: _U64,
        first: int,
        sizes: _U64,
        orders: Sequence[int],
        *,
        separator: int | None = None,
        masked: bool = False,
        memory_limit: int | None = None,
    ) -> FirstRange: ...
    def add(
        self, tokens: _Tokens, mask: _Mask | None = None, before: _U64 | None = None
    ) -> None: ...
    def finish(self) -> list[tuple[int, _Pairs]]: ...

def ngram_table(
    tokens: _Tokens,
    order: int,
    ngrams_path: str | os.PathLike[str],
    counts_path: str | os.PathLike[str],
    *,
    min_count: int = 1,
    separator: int | None = None,
    mask: _Mask | None = None,
    memory_limit: int | None = None,
    threads: int | None = None,
    progress: _Progress | None = None,
) -> int: ...
def prequential(
    tokens: _Tokens,
    *,
    order: int | None = None,
    vocab_size: int | None = None,
    separator: int | None = None,
    mask: _Mask | None = None,
    memory_limit: int | None = None,
    per_token: npt.NDArray[np.float32] | None = None,
    threads: int | None = None,
    progress: _Progress | None = None,
    model: str | None = None,
) -> tuple[int, float, _U64, npt.NDArray[np.float64], dict[str, Any]]: ...
def prequential_distributions(
    tokens: _Tokens,
    positions: Sequence[int],
    *,
    order: int | None = None,
    vocab_size: int | None = None,
    separator: int | None = None,
    memory_limit: int | None = None,
    model: str | None = None,
) -> npt.NDArray[np.float64]: ...
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

@final
class HiddenMarkovSource:
    def __new__(
        cls, states: int, vocab: int, stickiness: float, exponents: tuple[float, float], seed: int
    ) -> HiddenMarkovSource: ...
    @staticmethod
    def from_matrices(
        transitions: npt.NDArray[np.float64], emissions: npt.NDArray[np.float64]
    ) -> HiddenMarkovSource: ...
    def transitions(self) -> npt.NDArray[np.float64]: ...
    def emissions(self) -> npt.NDArray[np.float64]: ...
    def stationary(self) -> npt.NDArray[np.float64]: ...
    def sample(
        self,
        n: int,
        seed: int,
        *,
        threads: int | None = None,
        progress: _Progress | None = None,
    ) -> npt.NDArray[np.uint32]: ...
    def log_likelihood(self, tokens: npt.NDArray[np.uint32]) -> float: ...
    def entropy_rate(
        self,
        tokens: int,
        block: int,
        seed: int,
        *,
        threads: int | None = None,
        progress: _Progress | None = None,
    ) -> tuple[float, float, int, int]: ...

# Rate estimators on plain arrays.
_Fit = tuple[str, tuple[float, float, float, float, float, float] | None, str | None]
_Match = tuple[float, float | None, int]
_Slope = tuple[tuple[float, float, float, float, int] | None, str | None]

def rate_curve(
    n: npt.NDArray[np.float64], nats: npt.NDArray[np.float64]
) -> tuple[float, float, float, list[_Fit]]: ...
def rate_orders(
    orders: npt.NDArray[np.float64], h: npt.NDArray[np.float64], std: npt.NDArray[np.float64]
) -> tuple[float, float, float, float, list[_Fit]]: ...
def rate_matches(
    lengths: npt.NDArray[np.uint32],
) -> tuple[float, float, float, _Match, _Match, _Slope]: ...
def rate_grassberger(lengths: npt.NDArray[np.uint32]) -> _Match: ...
def rate_slope_alone(
    slope: tuple[float, float, float],
    slope_chi2_dof: float,
    curve: tuple[float, float, float] | None = None,
) -> bool: ...
def rate_curve_absorbed(
    slope: tuple[float, float, float],
    slope_chi2_dof: float,
    curve: tuple[float, float, float],
) -> bool: ...
def rate_mix(
    target: npt.NDArray[np.float32],
    others: Sequence[npt.NDArray[np.float32]],
    checkpoints: Sequence[int],
) -> list[float]: ...
def rate_tail(costs: npt.NDArray[np.float32]) -> tuple[float, float, float, int, int]: ...
def rate_imprecise_extrapolations(
    intervals: Sequence[tuple[float, float, float]],
    extrapolation: Sequence[bool],
) -> list[tuple[float, float, float] | None]: ...
def rate_combine(
    intervals: Sequence[tuple[float, float, float]],
    bound: float | None = None,
    tail: float | None = None,
    kasw_lower: float | None = None,
    predictor_limit: Sequence[bool] | None = None,
) -> tuple[float, float, float, bool, bool, list[bool]]: ...

# Cross-entropy. Logits are 2-D C-contiguous float32, or uint16 bits with dtype "float16" or
# "bfloat16"; isa forces an instruction set (names from xent_isas()); path16 forces how
# 16-bit rows are summed ("table" or "widen"; default xent_path16(dtype, isa)).
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
    path16: str | None = None,
    progress: _Progress | None = None,
) -> _F64: ...
def xent_exp(x: npt.NDArray[np.float32], *, isa: str | None = None) -> npt.NDArray[np.float32]: ...
def xent_isas() -> list[str]: ...
def xent_path16(dtype: str, isa: str | None = None) -> str: ...

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
        path16: str | None = None,
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

@final
class SuffixIndex:
    @property
    def n(self) -> int: ...
    @property
    def separator(self) -> int | None: ...
    @property
    def max_lcp(self) -> int: ...
    @property
    def nbytes(self) -> int: ...
    @property
    def entry_bytes(self) -> int: ...
    def suffix_array(self) -> npt.NDArray[np.uint64]: ...
    def profiles(
        self,
        *,
        mask: _Mask | None = None,
        orders: Sequence[int] | None = None,
        ngrams: bool = True,
        contexts: bool = False,
        memory_limit: int | None = None,
        threads: int | None = None,
        progress: _Progress | None = None,
    ) -> tuple[list[tuple[int, _Pairs]], list[tuple[int, _Pairs]]]: ...
    def match_lengths(
        self, kind: str, *, threads: int | None = None, progress: _Progress | None = None
    ) -> npt.NDArray[np.uint32]: ...
    def count(self, ngram: Sequence[int]) -> int: ...
    def next_counts(self, context: Sequence[int], k: int | None = None) -> _Pairs: ...
    def save(
        self,
        path: str | os.PathLike[str],
        *,
        dtype: str,
        source: str | None = None,
        threads: int | None = None,
    ) -> None: ...

def suffix_background_sorts() -> tuple[int, int]: ...
def suffix_build(
    tokens: _Tokens,
    *,
    separator: int | None = None,
    memory_limit: int | None = None,
    threads: int | None = None,
    progress: _Progress | None = None,
) -> SuffixIndex: ...
def suffix_open(
    path: str | os.PathLike[str], tokens: _Tokens, *, threads: int | None = None
) -> SuffixIndex: ...
def suffix_header(path: str | os.PathLike[str]) -> dict[str, Any]: ...
