"""Markov sources of exactly known entropy rate: corpora with a known answer."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from . import _core
from ._args import int_arg as _int_arg
from ._progress import Progress, stage

__all__ = ["MarkovSource"]


class MarkovSource:
    """An order-k Markov chain over a Zipfian vocabulary, with its exact entropy rate.

    Each state (the last ``order`` tokens) has its own next-token distribution: a Zipf law
    ``p_r ∝ r**-s`` over its own random permutation of the vocabulary, with ``s`` drawn
    uniformly from ``exponents``. The entropy rate ``Σ_s π(s) H(row_s)`` is computed from the
    stationary distribution π (power iteration to 1e-15). Samples start from π, so
    ``h_n = H(X_n | X_1..X_{n-1})`` equals the rate for every ``n > order``.

    Parameters
    ----------
    vocab_size : int
        Number of token ids, >= 2; ``vocab_size ** (order + 1)`` may be at most 2**24.
    order : int
        Markov order k >= 0 (0: independent Zipf draws).
    exponents : (float, float), default (0.8, 1.6)
        Range of the rows' Zipf exponents.
    seed : int, default 0
        Seed of the rows; the same seed gives the same chain.

    Raises
    ------
    KeyboardInterrupt
        Ctrl-C while a large chain is built (it stops within about a second).

    Examples
    --------
    >>> src = MarkovSource(vocab_size=20, order=1, seed=1)
    >>> tokens = src.sample(5, seed=2)
    >>> tokens.dtype, len(tokens)
    (dtype('uint16'), 5)
    >>> h = src.conditional_entropies(3)      # exact h_1, h_2, h_3 in nats/token
    >>> bool(h[0] > h[1]), bool(h[1] == h[2] == src.entropy_rate)
    (True, True)
    """

    def __init__(
        self,
        vocab_size: int,
        order: int,
        *,
        exponents: tuple[float, float] = (0.8, 1.6),
        seed: int = 0,
    ) -> None:
        self.vocab_size = _int_arg(vocab_size, "vocab_size", 0)
        self.order = _int_arg(order, "order", 0)
        lo, hi = (float(e) for e in exponents)
        self.exponents = (lo, hi)
        self.seed = _int_arg(seed, "seed", 0)
        self._source = _core.MarkovSource(self.vocab_size, self.order, self.exponents, self.seed)

    @property
    def entropy_rate(self) -> float:
        """The exact entropy rate in nats per token."""
        return self._source.entropy_rate()

    def stationary(self) -> npt.NDArray[np.float64]:
        """The stationary distribution over the ``vocab_size ** order`` states.

        State ``s`` is the last ``order`` tokens read as a base-``vocab_size`` number, the
        oldest token first.
        """
        return self._source.stationary()

    def transitions(self) -> npt.NDArray[np.float64]:
        """Next-token probabilities: one row of ``vocab_size`` per state."""
        return self._source.rows()

    def conditional_entropies(self, max_order: int) -> npt.NDArray[np.float64]:
        """Exact ``h_n = H(X_n | X_1..X_{n-1})`` for ``n = 1..max_order``, in nats/token.

        For ``n <= order`` from the stationary marginals of ``n``-token blocks; from
        ``n = order + 1`` on it is the entropy rate.
        """
        top = _int_arg(max_order, "max_order", 0)
        k, v = self.order, self.vocab_size
        pi = self.stationary().reshape((v,) * k) if k else np.ones(())
        # Block entropies H_0..H_min(k, top): marginals of π over the oldest n tokens.
        blocks = [0.0]
        for n in range(1, min(k, top) + 1):
            marginal = pi.sum(axis=tuple(range(n, k))).ravel()
            blocks.append(_entropy(marginal))
        h = [blocks[n] - blocks[n - 1] for n in range(1, len(blocks))]
        h += [self.entropy_rate] * (top - len(h))
        return np.array(h, dtype=np.float64)

    def sample(
        self, n: int, *, seed: int = 0, progress: Progress = False
    ) -> npt.NDArray[np.unsignedinteger[Any]]:
        """``n`` tokens from a stationary start: ``uint16`` when ids fit, else ``uint32``.

        ``progress``: ``True`` draws a progress line on stderr; a callable is called with
        ``(done, n)`` tokens, ``done`` increasing and ending at ``n``. Ctrl-C stops a long
        draw within about a second (``KeyboardInterrupt``). The same ``seed`` gives the same
        tokens whatever the progress.
        """
        n = _int_arg(n, "n", 0)
        seed = _int_arg(seed, "seed", 0)
        with stage(progress, "sampling") as callback:
            tokens = self._source.sample(n, seed, progress=callback)
        return tokens.astype(np.uint16) if self.vocab_size <= 1 << 16 else tokens

    def __repr__(self) -> str:
        return (
            f"MarkovSource(vocab_size={self.vocab_size}, order={self.order}, "
            f"exponents={self.exponents}, seed={self.seed}): "
            f"rate {self.entropy_rate:.6f} nats/token"
        )


def _entropy(p: npt.NDArray[np.float64]) -> float:
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())
