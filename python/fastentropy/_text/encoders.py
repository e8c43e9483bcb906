"""Tokenizers for :func:`fastentropy.tokenize`: built-in UTF-8 bytes, or Hugging Face
``tokenizers`` (a ``tokenizer.json``, a ``Tokenizer`` object, or a byte-level BPE trained on
the corpus). Each turns a list of texts into one flat id array and the ids per text."""

from __future__ import annotations

import array
import hashlib
import numbers
import os
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from .fastbpe import FastBPE

__all__ = ["UINT32_TOP", "BytesEncoder", "Encoder", "HFEncoder", "TokenizerSpec", "encoder_for"]

TokenizerSpec = Union[str, "os.PathLike[str]", tuple[str, int], Any]

_BYTES_DEFINITION = b"fastentropy bytes tokenizer: id = UTF-8 byte value (0..255)"
UINT32_TOP = 2**32 - 1
#: Text a lossless tokenizer gives back from its tokens: case, accents, space runs, breaks.
_PROBE = "Hello,  World!\n\tÇa va? The end.\n"


class BytesEncoder:
    """UTF-8 bytes as ids 0..255: no dependency, no vocabulary file."""

    name = "bytes"
    encoder = "bytes"
    threaded = False
    hash = "sha256:" + hashlib.sha256(_BYTES_DEFINITION).hexdigest()
    vocab_size = 256

    def token_id(self, token: str) -> int:
        raise ValueError(
            f"eot_token={token!r}: the 'bytes' tokenizer has no named tokens; its separator is "
            "always 256, one past the byte values"
        )

    def round_trips(self) -> bool:
        """Bytes give the text back exactly."""
        return True

    def encode(self, texts: list[str]) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
        joined = "".join(texts)
        data = np.frombuffer(joined.encode("utf-8"), np.uint8)
        chars = np.fromiter(map(len, texts), np.int64, len(texts))
        if len(data) == len(joined):  # ASCII: a byte per character
            return data, chars
        # Byte lengths from the byte offset of every character (a byte that is not 10xxxxxx
        # starts one), without encoding each text on its own.
        starts = np.append(np.flatnonzero((data & 0xC0) != 0x80), len(data))
        return data, np.diff(starts[np.cumsum(chars)], prepend=0)


class HFEncoder:
    """A Hugging Face ``tokenizers.Tokenizer``, encoding through its batch encoder.

    Works on a private copy with truncation and padding switched off (either would change
    the tokens silently) and with special tokens written in the text encoded as plain text,
    so a separator appears only where a document ends. The hash is of that copy's JSON.
    """

    encoder = "tokenizers"
    threaded = False

    def __init__(self, tokenizer: Any, name: str) -> None:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_str(tokenizer.to_str())
        tok.no_truncation()
        tok.no_padding()
        self.name = name
        self.hash = "sha256:" + hashlib.sha256(tok.to_str().encode("utf-8")).hexdigest()
        tok.encode_special_tokens = True
        self.tokenizer = tok
        # From the original: a copy loses an id of 2**32 - 1 (tokenizers 0.23).
        ids = tokenizer.get_vocab(with_added_tokens=True).values()
        size = tokenizer.get_vocab_size(with_added_tokens=True)
        self.vocab_size = max(max(ids, default=-1) + 1, size)

    def token_id(self, token: str) -> int:
        tid = self.tokenizer.token_to_id(token)
        if tid is None:
            raise ValueError(f"eot_token={token!r} is not a token of tokenizer {self.name!r}")
        return int(tid)

    def round_trips(self) -> bool:
        """Whether decoding the tokens of a probe text gives it back (case, accents, runs of
        spaces, tabs and line breaks): WordPiece, for one, lowercases and drops whitespace."""
        ids = self.tokenizer.encode(_PROBE, add_special_tokens=False).ids
        return bool(self.tokenizer.decode(ids, skip_special_tokens=False) == _PROBE)

    def encode(self, texts: list[str]) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
        # add_special_tokens=False: no BOS/EOS or template tokens around each piece.
        encodings = self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        flat = array.array("I")
        lengths = []
        for e in encodings:
            ids = e.ids
            lengths.append(len(ids))
            flat.extend(ids)
        return np.frombuffer(flat, np.uint32), np.array(lengths, np.int64)


Encoder = Union[BytesEncoder, HFEncoder, "FastBPE"]


def encoder_for(
    spec: TokenizerSpec, train_texts: Iterator[list[str]], eot_token: str | None
) -> Encoder:
    """The encoder for a ``tokenizer`` argument of :func:`~fastentropy.tokenize`.

    ``train_texts`` is consumed only for ``("train-bpe", vocab_size)``, whose vocabulary then
    gets ``eot_token`` (if given) as a special token.
    """
    if isinstance(spec, str) and spec == "bytes":
        return BytesEncoder()
    if isinstance(spec, tuple):
        return HFEncoder(_train_bpe(spec, train_texts, eot_token), f"train-bpe:{spec[1]}")
    if isinstance(spec, (str, os.PathLike)):
        return HFEncoder(_load(os.fspath(spec)), os.path.abspath(spec))
    module = sys.modules.get("tokenizers")  # a Tokenizer object means it is imported
    if module is not None and isinstance(spec, module.Tokenizer):
        return HFEncoder(spec, f"tokenizers.Tokenizer({type(spec.model).__name__})")
    raise TypeError(
        "tokenizer must be 'bytes', a path to a tokenizer.json, a tokenizers.Tokenizer or "
        f"('train-bpe', vocab_size), got {type(spec).__name__}"
    )


def _tokenizers() -> Any:
    try:
        import tokenizers
    except ImportError:
        raise ImportError(
            "this tokenizer needs the 'tokenizers' package: pip install 'fastentropy[tokenizers]'"
        ) from None
    return tokenizers


def _load(path: str) -> Any:
    tokenizers = _tokenizers()
    if not os.path.exists(path):
        raise FileNotFoundError(
            2,
            "no such tokenizer file (tokenizer is 'bytes', a path to a tokenizer.json, a "
            "tokenizers.Tokenizer or ('train-bpe', vocab_size); hub names are not fetched)",
            path,
        )
    try:
        return tokenizers.Tokenizer.from_file(path)
    except Exception as e:  # tokenizers raises a bare Exception for unparsable files
        raise ValueError(f"{path!r} is not a Hugging Face tokenizer.json: {e}") from None


def _train_bpe(spec: tuple[Any, ...], texts: Iterator[list[str]], eot_token: str | None) -> Any:
    if len(spec) != 2 or spec[0] != "train-bpe":
        raise ValueError(f"a tokenizer tuple must be ('train-bpe', vocab_size), got {spec!r}")
    if isinstance(spec[1], bool) or not isinstance(spec[1], numbers.Integral):
        raise TypeError(f"the train-bpe vocab_size must be an int, got {type(spec[1]).__name__}")
    size = int(spec[1])
    if not 256 <= size <= UINT32_TOP:
        raise ValueError(
            f"the train-bpe vocab_size must be in 256..{UINT32_TOP} (it starts from the 256 "
            f"byte values), got {size}"
        )
    tk = _tokenizers()
    tok = tk.Tokenizer(tk.models.BPE())
    # add_prefix_space=False and the byte-level decoder: decoding gives back the exact text.
    tok.pre_tokenizer = tk.pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = tk.decoders.ByteLevel()
    trainer = tk.trainers.BpeTrainer(
        vocab_size=size,
        initial_alphabet=tk.pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[] if eot_token is None else [eot_token],
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tok
