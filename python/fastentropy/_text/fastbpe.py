"""The fast path of :func:`fastentropy.tokenize`: exact byte-level BPE in the Rust core.

A ``tokenizer.json`` goes this way when everything that shapes its ids is something the core
reproduces exactly (:func:`fast_bpe_plan` says what, and why not when it is not): a BPE
model without dropout or subword affixes, no normalizer, the byte-level pre-tokenizer with
the GPT-2 split (``ByteLevel(use_regex=true)``) or a ``Split`` of the GPT-2 or cl100k /
Llama 3 pattern followed by ``ByteLevel(use_regex=false)``, every one of the 256 byte tokens
in the vocabulary, and added tokens that are all special (they are encoded as text, so they
change nothing). Anything else is encoded by ``tokenizers``.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import numpy.typing as npt

from .._core import BpeEncoder

__all__ = ["ENCODERS", "FastBPE", "choose", "fast_bpe_plan"]

#: The split patterns the core reproduces, as ``tokenizer.json`` writes them.
GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
CL100K = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


def _byte_alphabet() -> dict[str, int]:
    """The byte-level alphabet (GPT-2, Radford et al. 2019): printable Latin-1 bytes stand for
    themselves, the other 68 bytes for U+0100 onward in byte order. Character -> byte."""
    kept = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    chars = {b: chr(b) for b in kept}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return {c: b for b, c in chars.items()}


_ALPHABET = _byte_alphabet()
# str.translate table: alphabet characters to the Latin-1 character of their byte, and the
# Latin-1 characters outside the alphabet to one Latin-1 cannot encode.
_TO_LATIN1 = {ord(c): chr(b) for c, b in _ALPHABET.items()}
_TO_LATIN1.update({c: "\uffff" for c in range(256) if chr(c) not in _ALPHABET})


def _token_bytes(token: str) -> bytes | None:
    """The bytes a byte-level token stands for, or None if it is not made of the alphabet."""
    try:
        return token.translate(_TO_LATIN1).encode("latin-1")
    except UnicodeEncodeError:
        return None


def _plan_pre_tokenizer(pre: Any) -> tuple[str, bool] | str:
    """``(pattern, add_prefix_space)`` for a pre-tokenizer we reproduce, else why not."""
    if not isinstance(pre, dict):
        return "no pre-tokenizer (not byte-level)"
    kind = pre.get("type")
    if kind == "ByteLevel":
        if not pre.get("use_regex", True):
            return "ByteLevel without its split regex"
        return GPT2, bool(pre.get("add_prefix_space", False))
    if kind == "Sequence":
        steps = pre.get("pretokenizers") or []
        if len(steps) == 1:
            return _plan_pre_tokenizer(steps[0])
        if len(steps) != 2:
            return f"a Sequence of {len(steps)} pre-tokenizers"
        split, level = steps
        if split.get("type") != "Split" or level.get("type") != "ByteLevel":
            return f"a Sequence of {split.get('type')} and {level.get('type')}"
        pattern = (split.get("pattern") or {}).get("Regex")
        if pattern not in (GPT2, CL100K):
            return "a Split pattern other than GPT-2's or cl100k's"
        if split.get("behavior") != "Isolated" or split.get("invert"):
            return f"a Split with behavior {split.get('behavior')!r}, invert {split.get('invert')}"
        if level.get("use_regex", True) or level.get("add_prefix_space", False):
            return "a ByteLevel after a Split that splits again or adds a prefix space"
        return pattern, False
    return f"the {kind} pre-tokenizer"


def fast_bpe_plan(config: dict[str, Any]) -> dict[str, Any] | str:
    """The core encoder's arguments for the parsed ``tokenizer.json`` ``config``, or a
    sentence saying why it must go through ``tokenizers``."""
    model = config.get("model") or {}
    if model.get("type") != "BPE":
        return f"a {model.get('type')} model, not BPE"
    if model.get("dropout") not in (None, 0, 0.0):
        return "BPE dropout"
    for key in ("continuing_subword_prefix", "end_of_word_suffix"):
        if model.get(key):
            return f"a {key}"
    normalizer = config.get("normalizer")
    if normalizer is not None and normalizer != {"type": "Sequence", "normalizers": []}:
        return "a normalizer"
    pre = _plan_pre_tokenizer(config.get("pre_tokenizer"))
    if isinstance(pre, str):
        return pre
    for added in config.get("added_tokens") or []:
        if not added.get("special", False):
            return f"the added token {added.get('content')!r} is not special"
    vocab: dict[str, int] = model.get("vocab") or {}
    tokens, ids, alphabetic = [], [], set()
    for text, tid in vocab.items():
        raw = _token_bytes(text)
        if raw is not None:  # others ("<|endoftext|>") never match a byte-level piece
            tokens.append(raw)
            ids.append(tid)
            alphabetic.add(text)
    if len({t for t in tokens if len(t) == 1}) < 256:
        return "not every byte has a token"
    merges = []
    for merge in model.get("merges") or []:
        parts = merge.split(" ") if isinstance(merge, str) else merge
        if len(parts) != 2 or parts[0] not in vocab or parts[1] not in vocab:
            return f"the merge {merge!r} is not of two tokens"
        # A merge of a token outside the alphabet never applies (pieces are made of the
        # alphabet); leaving it out keeps the order of the others, which is all ranks say.
        if parts[0] in alphabetic and parts[1] in alphabetic:
            merges.append((vocab[parts[0]], vocab[parts[1]]))
    return {
        "tokens": tokens,
        "ids": np.array(ids, np.uint32),
        "merges": np.array(merges, np.uint32).reshape(-1, 2),
        "pattern": pre[0],
        "add_prefix_space": pre[1],
        "ignore_merges": bool(model.get("ignore_merges", False)),
    }


class FastBPE:
    """An :class:`~fastentropy._encoders.HFEncoder`'s tokenizer, encoded by the core.

    The name, hash and vocabulary are the Hugging Face encoder's: the ids are the same.
    ``threads`` is handed to the core (``None``: all cores).
    """

    encoder = "fast-bpe"
    #: The core runs its own threads: the caller hands it whole batches.
    threaded = True

    def __init__(self, hf: Any, plan: dict[str, Any], threads: int | None) -> None:
        self.hf = hf
        self.name = hf.name
        self.hash = hf.hash
        self.vocab_size = hf.vocab_size
        self.tokenizer = hf.tokenizer
        self.threads = threads
        tokens = plan.pop("tokens")
        ids = plan.pop("ids")
        merges = plan.pop("merges")
        pattern = plan.pop("pattern")
        self.core = BpeEncoder(tokens, ids, merges, pattern, **plan)

    def token_id(self, token: str) -> int:
        return int(self.hf.token_id(token))

    def round_trips(self) -> bool:
        """As the Hugging Face encoder it stands for (the same ids)."""
        return bool(self.hf.round_trips())

    def encode(self, texts: list[str]) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
        ids, lengths = self.core.encode(texts, threads=self.threads)
        return ids, lengths.astype(np.int64)


#: The values of :func:`~fastentropy.tokenize`'s ``encoder`` argument.
ENCODERS = ("auto", "fast-bpe", "tokenizers")


def choose(encoder: Any, mode: str, threads: int | None) -> Any:
    """The encoder :func:`~fastentropy.tokenize` runs: ``encoder`` (an ``HFEncoder`` or the
    bytes one) or, for ``mode`` ``"auto"``/``"fast-bpe"``, the core's when it is exact.

    Raises ``ValueError`` for ``"fast-bpe"`` with a tokenizer only ``tokenizers`` encodes
    exactly, naming why.
    """
    if mode not in ENCODERS:
        raise ValueError(f"encoder must be one of {', '.join(map(repr, ENCODERS))}, got {mode!r}")
    if mode == "tokenizers" or getattr(encoder, "encoder", None) != "tokenizers":
        return encoder
    plan = fast_bpe_plan(json.loads(encoder.tokenizer.to_str()))
    if isinstance(plan, str):
        if mode == "fast-bpe":
            raise ValueError(
                f"encoder='fast-bpe' cannot encode tokenizer {encoder.name!r} exactly: it has "
                f"{plan}; use encoder='auto' or 'tokenizers'"
            )
        return encoder
    try:
        return FastBPE(encoder, plan, threads)
    except ValueError as e:  # a vocabulary the core refuses (an id given twice, ...)
        if mode == "fast-bpe":
            raise ValueError(
                f"encoder='fast-bpe' cannot encode tokenizer {encoder.name!r}: {e}"
            ) from None
        return encoder
