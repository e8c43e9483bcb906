"""Published entropy figures for English text, to set a floor beside (bits per character)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REFERENCES", "SHANNON_WORD_UNIGRAM_BITS_PER_CHAR", "Reference"]


@dataclass(frozen=True)
class Reference:
    """A published entropy figure for English text, in bits per character."""

    source: str
    what: str
    low: float
    high: float


REFERENCES: tuple[Reference, ...] = (
    Reference(
        "Shannon (1951), Prediction and Entropy of Printed English, Bell Syst. Tech. J. 30:50-64",
        "human prediction bounds, 100 letters of context",
        0.6,
        1.3,
    ),
    Reference(
        "Cover & King (1978), A Convergent Gambling Estimate of the Entropy of English, "
        "IEEE Trans. Inf. Theory 24:413-421",
        "human gambling estimate",
        1.3,
        1.3,
    ),
    Reference(
        "Brown et al. (1992), An Estimate of an Upper Bound for the Entropy of English, "
        "Computational Linguistics 18:31-40",
        "trigram language model, an upper bound",
        1.75,
        1.75,
    ),
    Reference(
        "large language models as compressors (e.g. Deletang et al. 2024, Language Modeling "
        "Is Compression, ICLR)",
        "model-based compression of English text",
        0.6,
        0.9,
    ),
)

#: Shannon's (1951) word-unigram figure: 11.82 bits per word over 4.5 letters per word.
SHANNON_WORD_UNIGRAM_BITS_PER_CHAR = 2.62
