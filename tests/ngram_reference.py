"""Brute-force n-gram counting: the counting rules written as plainly as possible.

An n-gram is a window of n consecutive tokens. A window that contains the separator is not
counted (documents never span it); with a mask, a window is counted only when its last
token is masked in. ``contexts=True`` counts each counted window's first n - 1 tokens (the
contexts the n-grams come from). The counters, the suffix index and the Dask layer are all
checked against these few lines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

import fastentropy as fe
import numpy as np


def windows(tokens: Sequence[int], n: int, separator=None, mask=None) -> Iterator[int]:
    """Start positions of the counted windows of length ``n``."""
    for i in range(len(tokens) - n + 1):
        w = tokens[i : i + n]
        if separator is not None and separator in w:
            continue
        if mask is not None and not mask[i + n - 1]:
            continue
        yield i


def counts(tokens, n: int, separator=None, mask=None, contexts: bool = False) -> Counter:
    """Occurrences of each counted n-gram (or of its context) as a tuple of ints."""
    t = [int(x) for x in tokens]
    m = n - 1 if contexts else n
    return Counter(tuple(t[i : i + m]) for i in windows(t, n, separator, mask))


def profile(c: Counter) -> fe.Profile:
    """The count profile of a Counter's values."""
    return fe.Profile.from_counts(np.array(list(c.values()), dtype=np.uint64))
