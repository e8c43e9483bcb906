"""From raw text to token files: :func:`tokenize` and the :class:`TokenFile` it writes."""

from __future__ import annotations

import errno
import json
import math
import os
import socket
import stat
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Generic, TypeVar, overload

import numpy as np
import numpy.typing as npt

from .._args import int_arg as _int_arg
from .._args import threads_arg as _threads_arg
from .._core import __version__
from .._progress import Progress, Stage, check_progress, shown
from .._tokens import open_array
from .._types import PathLike
from .encoders import UINT32_TOP, BytesEncoder, Encoder, TokenizerSpec, encoder_for
from .fastbpe import ENCODERS
from .fastbpe import choose as choose_encoder
from .memory import spool
from .sources import Block, Corpus, Inputs

__all__ = ["TokenFile", "open_tokens", "token_file_beside", "tokenize"]

#: Identifies the sidecar's layout; bumped when a field changes meaning.
FORMAT = "fastentropy.tokens/1"
_ERRORS = ("strict", "replace")
_PARALLELISM = "TOKENIZERS_PARALLELISM"


T = TypeVar("T")


class _Field(Generic[T]):
    """A read-only attribute of :class:`TokenFile`: the sidecar field of the same name."""

    def __init__(self, convert: Callable[[Any], T], doc: str) -> None:
        self.convert = convert
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type) -> _Field[T]: ...
    @overload
    def __get__(self, obj: TokenFile, owner: type) -> T: ...
    def __get__(self, obj: TokenFile | None, owner: type) -> _Field[T] | T:
        return self if obj is None else self.convert(obj._meta[self.name])


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


#: Sidecar fields that hold counts, and the token dtypes a sidecar may name.
_COUNT_FIELDS = ("vocab_size", "n_tokens", "n_documents", "n_bytes", "n_chars", "skipped_lines")
_SIDECAR_DTYPES = ("uint8", "uint16", "uint32")


def _check_sidecar(sidecar: str, meta: dict[str, Any]) -> None:
    """Raise ``ValueError`` naming ``sidecar`` and the field, for a field missing or wrong."""

    def bad(field: str, wanted: str) -> ValueError:
        got = "missing" if field not in meta else f"{meta[field]!r}"
        return ValueError(f"{sidecar}: field {field!r} must be {wanted}, got {got}")

    name = meta.get("bin")
    if not isinstance(name, str) or not name or os.path.basename(name) != name:
        raise bad("bin", "the name of the .bin file beside it")
    if meta.get("dtype") not in _SIDECAR_DTYPES:
        raise bad("dtype", f"one of {', '.join(_SIDECAR_DTYPES)}")
    for field in _COUNT_FIELDS:
        value = meta.get(field)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad(field, "a non-negative integer")
    sep = meta.get("separator")
    if sep is not None and (isinstance(sep, bool) or not isinstance(sep, int) or sep < 0):
        raise bad("separator", "a token id or null")
    mask = meta.get("mask")
    if mask is not None and (not isinstance(mask, str) or os.path.basename(mask) != mask):
        raise bad("mask", "the name of the .mask file beside it, or null")
    tok = meta.get("tokenizer")
    if not isinstance(tok, dict) or not isinstance(tok.get("name"), str):
        raise bad("tokenizer", "an object with a 'name'")
    if not isinstance(meta.get("sources"), list):
        raise bad("sources", "a list")


class TokenFile:
    """A token file written by :func:`tokenize`: ``<stem>.bin`` and its sidecar ``<stem>.json``.

    The sidecar says how the tokens were made and how much text they stand for, which is what
    turns an entropy per token into bits per byte or per character.

    Attributes
    ----------
    path : str
        The ``.bin`` file of token ids (raw little-endian, :attr:`dtype`).
    sidecar : str
        The ``.json`` file of the metadata below.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import fastentropy as fe
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.txt").write_text("héllo", encoding="utf-8")
    >>> tf = fe.tokenize(d / "a.txt", "bytes", d / "out")
    >>> tf.n_tokens, tf.n_documents, tf.n_bytes, tf.n_chars   # 6 bytes + 1 separator
    (7, 1, 6, 5)
    >>> tf.tokens()
    memmap([104, 195, 169, 108, 108, 111, 256], dtype=uint16)
    >>> tf.bytes_per_token, tf.chars_per_token
    (1.0, 0.8333333333333334)
    >>> tf.tokenizer["name"], tf.separator, tf.vocab_size
    ('bytes', 256, 256)
    """

    __slots__ = ("_meta", "path", "sidecar")

    def __init__(self, sidecar: str, meta: dict[str, Any]) -> None:
        self.sidecar = sidecar
        self._meta = meta
        self.path = os.path.join(os.path.dirname(sidecar), meta["bin"])

    @classmethod
    def open(cls, path: PathLike) -> TokenFile:
        """Read the token file of ``path``: ``<stem>.json``, ``<stem>.bin`` or ``<stem>``.

        Parameters
        ----------
        path : str or os.PathLike
            The sidecar, the ``.bin`` file or their common stem.

        Returns
        -------
        TokenFile

        Raises
        ------
        FileNotFoundError
            No sidecar (or no ``.bin``) for ``path``.
        ValueError
            The sidecar is not one written by :func:`tokenize`, or the ``.bin`` file's size
            disagrees with it.

        Examples
        --------
        >>> import pathlib, tempfile
        >>> import fastentropy as fe
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (d / "a.txt").write_text("abc", encoding="utf-8")
        >>> _ = fe.tokenize(d / "a.txt", "bytes", d / "corpus")
        >>> fe.TokenFile.open(d / "corpus.bin").n_tokens, fe.TokenFile.open(d / "corpus").dtype
        (4, 'uint16')
        """
        sidecar = _stem(path) + ".json"
        with open(sidecar, "rb") as f:
            raw = f.read()
        try:
            meta = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise ValueError(f"{sidecar}: not JSON (byte {e.start} is not UTF-8)") from None
        except json.JSONDecodeError as e:
            raise ValueError(f"{sidecar}: not JSON ({e})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"{sidecar!r} is not a token-file sidecar (format {FORMAT!r})")
        _check_sidecar(sidecar, meta)
        tf = cls(sidecar, meta)
        expected = tf.n_tokens * np.dtype(tf.dtype).itemsize
        size = os.stat(tf.path).st_size
        if size != expected:
            raise ValueError(
                f"{tf.path!r} has {size} bytes but its sidecar says {tf.n_tokens} {tf.dtype} "
                f"tokens ({expected} bytes): the files do not belong together"
            )
        return tf

    dtype = _Field(str, '``"uint16"`` or ``"uint32"``: the smallest that holds every id.')
    vocab_size = _Field(int, "Ids of the tokenizer are below this (the separator may equal it).")
    separator = _Field(
        _optional_int, "The id after every document, or ``None`` if documents are not separated."
    )
    n_tokens = _Field(int, "Length of the token file, separators included.")
    n_documents = _Field(int, "Number of documents (each followed by one separator, if any).")
    n_bytes = _Field(
        int,
        "UTF-8 bytes of the text that produced the tokens (not counting separators, nor the "
        "line breaks between line documents).",
    )
    n_chars = _Field(int, "Unicode code points of the same text.")
    skipped_lines = _Field(int, "JSON Lines lines skipped as not JSON (``skip_bad_lines``).")
    version = _Field(str, "The fastentropy version that wrote the file.")

    @property
    def encoder(self) -> str | None:
        """What encoded the text: ``"bytes"``, ``"fast-bpe"`` (fastentropy's exact byte-level
        BPE) or ``"tokenizers"``; ``None`` for files written before it was recorded."""
        value = self._meta.get("encoder")
        return None if value is None else str(value)

    @property
    def n_text_tokens(self) -> int:
        """Tokens of text: :attr:`n_tokens` less the separators."""
        return self.n_tokens - (self.n_documents if self.separator is not None else 0)

    @property
    def bytes_per_token(self) -> float:
        """:attr:`n_bytes` per text token (NaN for no tokens): nats/token ÷ this = nats/byte."""
        return self.n_bytes / self.n_text_tokens if self.n_text_tokens else math.nan

    @property
    def chars_per_token(self) -> float:
        """:attr:`n_chars` per text token (NaN for no tokens)."""
        return self.n_chars / self.n_text_tokens if self.n_text_tokens else math.nan

    @property
    def tokenizer(self) -> dict[str, str]:
        """``{"name": ..., "hash": "sha256:..."}``; a trained BPE adds ``"file"``, its saved
        ``tokenizer.json`` (next to the sidecar)."""
        return dict(self._meta["tokenizer"])

    @property
    def sources(self) -> list[dict[str, Any]]:
        """The input files: ``{"path", "size", "sha256"}`` each, in reading order."""
        return [dict(s) for s in self._meta["sources"]]

    @property
    def mask_path(self) -> str | None:
        """The ``.mask`` file (one byte, 0 or 1, per token), or ``None``."""
        name = self._meta["mask"]
        return None if name is None else os.path.join(os.path.dirname(self.sidecar), name)

    @property
    def metadata(self) -> dict[str, Any]:
        """The whole sidecar, as a new dict."""
        return json.loads(json.dumps(self._meta))  # type: ignore[no-any-return]

    def tokens(self) -> npt.NDArray[np.integer[Any]]:
        """The token ids, memory-mapped read-only (:func:`~fastentropy.open_tokens`)."""
        return open_array(self.path, dtype=self.dtype)

    def mask(self) -> npt.NDArray[np.bool_] | None:
        """The loss mask, memory-mapped read-only as bool (``None`` without ``mask_field``)."""
        path = self.mask_path
        if path is None:
            return None
        return open_array(path, dtype=np.uint8).view(np.bool_)

    def __len__(self) -> int:
        return self.n_tokens

    def __array__(self, dtype: Any = None, copy: Any = None) -> npt.NDArray[Any]:
        return np.asarray(self.tokens(), dtype=dtype)

    def __repr__(self) -> str:
        return (
            f"TokenFile({self.path!r}, n_tokens={self.n_tokens}, "
            f"n_documents={self.n_documents}, tokenizer={self.tokenizer['name']!r})"
        )


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


def token_file_beside(path: str) -> TokenFile | None:
    """The TokenFile whose sidecar ``path`` is or sits beside (``x.json`` for ``x.bin``)."""
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


def tokenize(
    inputs: Inputs,
    tokenizer: TokenizerSpec,
    out: PathLike,
    *,
    field: str = "text",
    doc: str | None = None,
    separator: bool = True,
    mask_field: str | None = None,
    errors: str = "strict",
    skip_bad_lines: bool = False,
    batch_bytes: int = 1 << 20,
    threads: int | None = None,
    progress: Progress = False,
    eot_token: str | None = None,
    encoder: str = "auto",
) -> TokenFile:
    """Tokenize text files into a memory-mappable token file with a metadata sidecar.

    Parameters
    ----------
    inputs : path, glob, iterable of them, iterable of str or dict, or a dataset
        Files read in the order given (globs sorted; a file named twice, or through a link,
        is read once, with a warning). The format comes from the extension:
        ``.jsonl``/``.ndjson``/``.json`` are JSON Lines, ``.parquet`` is Parquet (extra
        ``parquet``), anything else is UTF-8 text. Any of them may end in ``.gz`` or
        ``.zst`` (extra ``zstd``). Texts from memory: an iterable of strings (one document
        each; a list counts as paths when one of them names a file or looks like a path),
        of dicts (records, read through ``field``), or a Hugging Face ``datasets.Dataset``
        / ``IterableDataset`` (``field`` is the column). They are spooled once to a
        temporary file, so a generator suits ``"train-bpe"`` too.
    tokenizer : str, path, tokenizers.Tokenizer or tuple
        ``"bytes"``: the UTF-8 bytes as ids 0..255, no dependency. A path to a Hugging
        Face ``tokenizer.json`` or a ``tokenizers.Tokenizer`` (extra ``tokenizers``).
        ``("train-bpe", vocab_size)``: first train a byte-level BPE of at most
        ``vocab_size`` ids on the inputs (read twice), saved as ``<out>.tokenizer.json``.
    out : str or os.PathLike
        The stem of the outputs (a ``.bin`` or ``.json`` suffix is dropped): ``<out>.bin``,
        ``<out>.json``, ``<out>.mask`` with ``mask_field``. Parent folders are created.
    field : str, default "text"
        The text of a JSON Lines record or the Parquet column; a dotted path reaches into
        nested objects (``"meta.body"``; a number indexes a list: ``"turns.0.text"``).
    doc : {"file", "line", "record"}, optional
        What a document is. Text files: the whole file (default) or each line (the line
        break, and a CR before it, is not part of the document). JSON Lines and Parquet:
        each record (``"record"``; ``"line"`` means the same for JSON Lines).
    separator : bool, default True
        Write a separator id after every document (empty ones included). It is one past
        the vocabulary (:attr:`TokenFile.vocab_size`) unless ``eot_token`` names one.
    mask_field : str, optional
        JSON Lines / Parquet only: a second field, the part of each record a fine-tuning
        loss is computed on. The document is then ``field`` followed directly by
        ``mask_field``, each encoded on its own (no token spans the two), and ``<out>.mask``
        holds 1 for the tokens of ``mask_field`` and 0 for those of ``field`` and the
        separators. Byte and character counts cover both fields.
    errors : {"strict", "replace"}, default "strict"
        Invalid UTF-8 (and JSON escapes of lone surrogates): an error naming the file and
        byte offset, or replaced by U+FFFD (counted as the 3 bytes of U+FFFD). With
        ``"bytes"``, plain text is kept byte for byte under ``"strict"``: characters are
        counted on the decodable text, and a warning (and ``invalid_utf8_bytes`` in the
        sidecar) says how many bytes were not UTF-8.
    skip_bad_lines : bool, default False
        Skip JSON Lines lines that are not JSON instead of raising; the sidecar counts them.
        Blank lines are always skipped.
    batch_bytes : int, default 1 MiB
        Text per call of the tokenizer's batch encoder. Memory grows with it, not with
        the corpus: about 100 times it with BPE (the tokenizer's Encoding objects).
        Documents longer than ``batch_bytes / 64`` characters are encoded in pieces that
        end at a line break if they can, else before a space: no token spans two pieces.
        For ``"bytes"`` this changes nothing; for BPE only tokens at piece boundaries.
    threads : int, optional
        ``None``: the tokenizer's own thread pool (all cores; ``RAYON_NUM_THREADS`` set
        before the first use of ``tokenizers`` caps it). ``n``: each batch split over
        ``n`` Python threads, each encoding sequentially (the encoder releases the GIL),
        with ``TOKENIZERS_PARALLELISM=false`` set during the call; BPE training then runs
        on one thread. The fast encoder (``encoder``) runs each batch on ``n`` threads of
        its own (``None``: all cores). The tokens do not depend on it; ``"bytes"`` ignores
        it.
    progress : bool, "auto" or callable, default False
        ``True``/``"auto"`` show each stage on stderr ("training BPE", then "tokenizing")
        with input MB/s, tokens/s and ETA, as in :func:`count_ngrams`; a callable is called
        with ``(bytes_done, bytes_total)`` of input on disk, ending at the total (counted
        twice, once per pass, with ``"train-bpe"``).
    eot_token : str, optional
        A token of the tokenizer to use as the separator (e.g. ``"<|endoftext|>"``); with
        ``"train-bpe"`` it is added to the vocabulary as a special token. Special tokens
        written inside the text are encoded as text, so the separator marks only the ends
        of documents.
    encoder : {"auto", "fast-bpe", "tokenizers"}, default "auto"
        What encodes a Hugging Face tokenizer. ``"auto"``: fastentropy's own exact encoder
        (``"fast-bpe"``, several times faster, on ``threads`` cores) for byte-level BPE files
        whose pre-tokenizer it reproduces (GPT-2's and cl100k / Llama 3's split, no
        normalizer, only special added tokens), ``tokenizers`` for the rest. The ids are the
        same either way; the sidecar's ``encoder`` field says which ran. ``"fast-bpe"``
        raises ``ValueError`` (naming why) for a tokenizer it cannot encode exactly;
        ``"tokenizers"`` always uses ``tokenizers``.

    Returns
    -------
    TokenFile
        The sidecar's contents: counts, tokenizer identity, sources with sizes and SHA-256,
        and ``round_trip``: whether the tokenizer gives the text back (WordPiece, for one,
        lowercases and drops whitespace; a warning says so, and a floor's report notes that
        its bits/byte is not comparable with a lossless tokenizer's).

    Raises
    ------
    FileNotFoundError
        An input or tokenizer file is missing, or a glob matches no file.
    ValueError
        A line that is not JSON (file:line), a missing or non-string field (file:line), a
        null Parquet value (file, row), invalid UTF-8 (file, byte offset), a tokenizer file
        that does not parse, an unknown ``eot_token``, ids too large for uint32, an option
        that does not apply to an input, or a bad option value.
    TypeError
        An argument of the wrong type.
    ImportError
        An optional package needed is missing; the message names the extra.
    OSError
        A file cannot be read, or a compressed file is corrupt or truncated.

    Notes
    -----
    The outputs are written under temporary names and renamed when complete (the sidecar
    last), so an interrupted run leaves no ``<out>.json``. The BOS/EOS and template tokens
    a tokenizer's post-processor would add are not added (``add_special_tokens=False``);
    truncation and padding configured in a ``tokenizer.json`` are switched off.

    Examples
    --------
    >>> import os, tempfile
    >>> import fastentropy as fe
    >>> d = tempfile.mkdtemp()
    >>> with open(os.path.join(d, "poems.txt"), "w", encoding="utf-8") as f:
    ...     _ = f.write("ab\\n\\nçd\\n")
    >>> tf = fe.tokenize(os.path.join(d, "*.txt"), "bytes", os.path.join(d, "out"), doc="line")
    >>> tf.tokens().tolist()      # three lines, the middle one empty; 256 separates
    [97, 98, 256, 256, 195, 167, 100, 256]
    >>> tf.n_documents, tf.n_bytes, tf.n_chars, tf.dtype
    (3, 5, 4, 'uint16')
    >>> sorted(os.listdir(d))
    ['out.bin', 'out.json', 'poems.txt']
    """
    if doc is not None and doc not in ("file", "line", "record"):
        raise ValueError(f"doc must be 'file', 'line', 'record' or None, got {doc!r}")
    if errors not in _ERRORS:
        raise ValueError(f"errors must be 'strict' or 'replace', got {errors!r}")
    for name, flag in (("separator", separator), ("skip_bad_lines", skip_bad_lines)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool, got {type(flag).__name__}")
    if not isinstance(encoder, str) or encoder not in ENCODERS:
        raise ValueError(
            f"encoder must be one of {', '.join(map(repr, ENCODERS))}, got {encoder!r}"
        )
    if eot_token is not None and not isinstance(eot_token, str):
        raise TypeError(f"eot_token must be a str, got {type(eot_token).__name__}")
    batch_bytes = _int_arg(batch_bytes, "batch_bytes", minimum=1)
    threads = _threads_arg(threads)
    check_progress(progress)
    stem = _stem(out)
    spooled, inputs = spool(inputs, field, mask_field, errors, doc)
    corpus = Corpus(
        inputs,
        field=field,
        doc=doc,
        mask_field=mask_field,
        errors=errors,
        skip_bad_lines=skip_bad_lines,
        batch_bytes=batch_bytes,
        spooled=spooled,
    )
    # Before anything is read or written: no output may be one of the inputs.
    _refuse_overwriting(stem, [f.path for f in corpus.files], tokenizer)
    trains = isinstance(tokenizer, tuple)
    size = corpus.total_bytes
    report = _Reporter(progress, size, 2 if trains else 1)
    with report, corpus, _serial_tokenizers(threads is not None):
        if trains:
            report.begin("training BPE", 0)
        chosen = encoder_for(tokenizer, _training_texts(corpus, report), eot_token)
        lossless = chosen.round_trips()
        if not lossless:
            warnings.warn(
                f"tokenizer {chosen.name!r} does not round-trip (decoding its tokens does not "
                "give the text back: it normalizes case, accents or whitespace): its bits/byte "
                "is not comparable with a lossless tokenizer's",
                stacklevel=2,
            )
        chosen = choose_encoder(chosen, encoder, threads)
        sep = None
        if separator:
            sep = chosen.vocab_size if eot_token is None else chosen.token_id(eot_token)
        top = max(chosen.vocab_size - 1, sep or 0)
        if top > UINT32_TOP:
            raise ValueError(
                f"ids up to {top} (the separator included) do not fit uint32 token files: "
                "name an eot_token of the vocabulary or pass separator=False"
            )
        dtype = np.dtype("<u2") if top <= 0xFFFF else np.dtype("<u4")
        with _Output(stem, dtype, corpus.mask_field is not None) as output:
            if trains and not isinstance(chosen, BytesEncoder):
                output.save_tokenizer(chosen.tokenizer.to_str())
            blocks = corpus.blocks(byte_ids=isinstance(chosen, BytesEncoder))
            batches = _batches(blocks, batch_bytes)
            report.begin("tokenizing", report.total - size, count_unit="tokens")
            counts = _run(chosen, batches, sep, output, threads, report, report.total - size)
            report.show(report.total)
            if counts["invalid_utf8_bytes"]:
                warnings.warn(
                    f"{counts['invalid_utf8_bytes']:,} bytes of the input are not UTF-8: kept "
                    "as byte ids; characters (n_chars) are counted on the decodable text",
                    stacklevel=2,
                )
            meta = {
                "format": FORMAT,
                "version": __version__,
                "dtype": dtype.name,
                "vocab_size": chosen.vocab_size,
                "separator": sep,
                **counts,
                "skipped_lines": corpus.skipped_lines,
                "tokenizer": {"name": chosen.name, "hash": chosen.hash},
                "encoder": chosen.encoder,
                "sources": corpus.sources(),
                "duplicate_inputs": corpus.duplicates,
                "round_trip": lossless,
                "options": {
                    "doc": doc,
                    "field": field,
                    "mask_field": mask_field,
                    "errors": errors,
                    "batch_bytes": batch_bytes,
                },
            }
            output.commit(meta)
    return TokenFile.open(stem)


# --- the pipeline ---------------------------------------------------------------------------


def _run(
    encoder: Encoder,
    batches: Iterator[Block],
    sep: int | None,
    output: _Output,
    threads: int | None,
    report: _Reporter,
    base: int,
) -> dict[str, int]:
    """Encode ``batches`` and write them: the next batch is read while one is encoded.

    Progress is reported as ``base`` plus the input position of each batch written.
    """
    # An encoder with threads of its own (the core's) gets each batch whole.
    parts = 1 if encoder.threaded else threads or 1
    counts = {"n_tokens": 0, "n_documents": 0, "n_bytes": 0, "n_chars": 0, "invalid_utf8_bytes": 0}

    def write(futures: list[Future[Any]], batch: Block) -> None:
        if batch.ids is None:
            results = [f.result() for f in futures]
            flat = np.concatenate([r[0] for r in results])
            lengths = np.concatenate([r[1] for r in results])
            tokens, mask = _assemble(flat, lengths, batch, sep, output.dtype)
            n_documents = sum(batch.ends)
        else:
            ids, ends = batch.ids
            tokens, mask = _at_ends(ids, ends, sep, output.dtype), None
            n_documents = len(ends)
        output.write(tokens, mask)
        counts["n_tokens"] += len(tokens)
        counts["n_documents"] += n_documents
        counts["n_bytes"] += batch.n_bytes
        counts["n_chars"] += batch.n_chars
        counts["invalid_utf8_bytes"] += batch.invalid
        report.tokens += len(tokens)
        report.show(base + batch.done)

    with ThreadPoolExecutor(parts) as pool:
        pending: tuple[list[Future[Any]], Block] | None = None
        for batch in batches:
            submitted = []
            if batch.ids is None:
                step = len(batch.texts) // parts + 1
                chunks = [batch.texts[i : i + step] for i in range(0, len(batch.texts), step)]
                submitted = [pool.submit(encoder.encode, c) for c in chunks or [[]]]
            if pending is not None:
                write(*pending)
            pending = (submitted, batch)
        if pending is not None:
            write(*pending)
    return counts


def _training_texts(corpus: Corpus, report: _Reporter) -> Iterator[list[str]]:
    """The texts of the corpus in batches, for training a tokenizer (the first pass)."""
    for block in corpus.blocks():
        yield block.texts
        report.show(block.done)


def _assemble(
    flat: npt.NDArray[Any],
    lengths: npt.NDArray[np.int64],
    block: Block,
    sep: int | None,
    dtype: np.dtype[Any],
) -> tuple[npt.NDArray[Any], npt.NDArray[np.bool_] | None]:
    """The ids of a block with a separator after each document end, and its mask."""
    mask = None if block.masked is None else np.repeat(np.array(block.masked, bool), lengths)
    if sep is None:
        return flat.astype(dtype, copy=False), mask
    # Where each separator lands once those before it are in (np.insert, without its sort).
    at = np.cumsum(lengths)[np.array(block.ends, bool)]
    at += np.arange(len(at))
    text = np.ones(len(flat) + len(at), bool)
    text[at] = False
    return _spread(flat, text, sep, dtype), None if mask is None else _spread(mask, text, False)


def _at_ends(
    ids: npt.NDArray[np.uint8], ends: npt.NDArray[np.intp], sep: int | None, dtype: np.dtype[Any]
) -> npt.NDArray[Any]:
    """The ids of a block that holds a placeholder at each document end (``ends``): the
    separator there, or nothing."""
    if sep is None:
        return np.delete(ids, ends).astype(dtype)
    tokens = ids.astype(dtype)
    tokens[ends] = sep
    return tokens


def _spread(
    values: npt.NDArray[Any], where: npt.NDArray[np.bool_], fill: Any, dtype: Any = None
) -> npt.NDArray[Any]:
    """An array of ``dtype`` (default: that of ``values``) with ``values`` where ``where`` is
    true and ``fill`` elsewhere."""
    out = np.full(len(where), fill, values.dtype if dtype is None else dtype)
    out[where] = values
    return out


def _batches(blocks: Iterator[Block], batch_bytes: int) -> Iterator[Block]:
    """Consecutive blocks of text merged until each holds at least one batch; blocks of ids
    as they come (there is nothing to encode)."""
    merged: Block | None = None
    for block in blocks:
        if merged is None:
            merged = block
        elif block.ids is not None:
            yield merged
            merged = block
        else:
            merged.texts += block.texts
            merged.ends += block.ends
            if merged.masked is not None and block.masked is not None:
                merged.masked += block.masked
            merged.n_bytes += block.n_bytes
            merged.n_chars += block.n_chars
            merged.done = block.done
        if merged.ids is not None or merged.n_bytes >= batch_bytes:
            yield merged
            merged = None
    if merged is not None:
        yield merged


# --- output ---------------------------------------------------------------------------------


def _stem(path: PathLike) -> str:
    """``path`` without a ``.bin`` or ``.json`` suffix."""
    name = os.fspath(path)
    if not isinstance(name, str):
        raise TypeError(f"out must be a str path, got {type(name).__name__}")
    root, ext = os.path.splitext(name)
    stem = root if ext.lower() in (".bin", ".json") else name
    base = os.path.basename(stem)
    if base in ("", ".", ".."):
        # "", "dir/" or "dir/.bin" would write hidden files named only by their suffix.
        raise ValueError(
            f"out = {name!r} names no file: give the stem of the outputs, such as "
            "'data/train' (writes data/train.bin and data/train.json)"
        )
    return stem


#: Suffixes of every file :func:`tokenize` may write (or remove) beside ``<stem>``.
_OUTPUT_SUFFIXES = (".bin", ".json", ".mask", ".tokenizer.json")


def _refuse_overwriting(stem: str, inputs: list[str], tokenizer: Any) -> None:
    """Raise if an output of ``stem`` is an input file or the tokenizer file, under any
    name (the same path, a symbolic link or a hard link to it)."""
    protected = list(inputs)
    if isinstance(tokenizer, (str, os.PathLike)) and os.fspath(tokenizer) != "bytes":
        protected.append(os.fspath(tokenizer))
    ids = {}
    for path in protected:
        try:
            st = os.stat(path)
        except OSError:
            continue  # a missing file is reported where it is opened
        ids[(st.st_dev, st.st_ino)] = path
    for suffix in _OUTPUT_SUFFIXES:
        out = stem + suffix
        try:
            st = os.stat(out)
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in ids:
            raise ValueError(
                f"the output {out!r} is the input {ids[(st.st_dev, st.st_ino)]!r}: writing it "
                "would destroy the input; choose another out"
            )


class _Output:
    """The files of a run under temporary names in the target folder, renamed by
    :meth:`commit` (the sidecar last); on an exception they are removed."""

    def __init__(self, stem: str, dtype: np.dtype[Any], with_mask: bool) -> None:
        self.stem = stem
        self.dtype = dtype
        folder = os.path.dirname(os.path.abspath(stem))
        os.makedirs(folder, exist_ok=True)
        self.folder = folder
        self.temps: dict[str, str] = {}  # final suffix -> temporary path
        self.mode = 0o666 & ~_umask()  # what open() would give; mkstemp gives 0600
        _remove_stale(folder, os.path.basename(stem))
        self.bin = self._open(".bin")
        self.mask = self._open(".mask") if with_mask else None

    def _open(self, suffix: str) -> Any:
        # The owner (host and process) in the name lets a later run tell a temporary of a
        # killed run from one of a run still going.
        prefix = f".{os.path.basename(self.stem)}{suffix}.{_owner()}."
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=self.folder)
        self.temps[suffix] = tmp
        os.fchmod(fd, self.mode)
        return os.fdopen(fd, "wb")

    def write(self, tokens: npt.NDArray[Any], mask: npt.NDArray[np.bool_] | None) -> None:
        self.bin.write(tokens.data)
        if self.mask is not None and mask is not None:
            self.mask.write(mask.data)

    def save_tokenizer(self, text: str) -> None:
        f = self._open(".tokenizer.json")
        f.write(text.encode("utf-8"))
        _close(f)

    def commit(self, meta: dict[str, Any]) -> None:
        names = {suffix: os.path.basename(self.stem) + suffix for suffix in self.temps}
        meta["bin"] = names[".bin"]
        meta["mask"] = names.get(".mask")
        if ".tokenizer.json" in names:
            meta["tokenizer"]["file"] = names[".tokenizer.json"]
        sidecar = self._open(".json")
        sidecar.write((json.dumps(meta, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
        for f in (self.bin, self.mask, sidecar):
            if f is not None:
                _close(f)
        # The old sidecar goes first, so that it never describes the new files; then stale
        # files of an earlier run. The new sidecar was opened last, so it is renamed last.
        _remove(self.stem + ".json")
        for suffix in (".mask", ".tokenizer.json"):
            if suffix not in self.temps:
                _remove(self.stem + suffix)
        for suffix, tmp in self.temps.items():
            os.replace(tmp, self.stem + suffix)
        self.temps.clear()

    def __enter__(self) -> _Output:
        return self

    def __exit__(self, *exc: object) -> None:
        for f in (self.bin, self.mask):
            if f is not None:
                f.close()
        for tmp in self.temps.values():
            _remove(tmp)


_HOST = socket.gethostname().replace(".", "_").replace("-", "_")


def _owner() -> str:
    """Who owns a temporary file: ``<host>-<pid>`` (the pid now: a forked child has its own)."""
    return f"{_HOST}-{os.getpid()}"


#: A temporary without an owner in its name (written by an older version) is stale after this.
_STALE_SECONDS = 24 * 3600


def _umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o22)  # not thread-safe, hence only the fallback
    os.umask(mask)
    return mask


def _remove_stale(folder: str, name: str) -> None:
    """Remove temporaries of ``name`` left by killed runs: on this host, by a process that is
    gone (or, without an owner, older than a day). Those of live runs are left alone."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    host = _HOST
    for entry in entries:
        if not (entry.endswith(".tmp") and entry.startswith(f".{name}.")):
            continue
        rest = entry[len(name) + 2 :]
        if not any(rest.startswith(suffix[1:] + ".") for suffix in _OUTPUT_SUFFIXES):
            continue
        path = os.path.join(folder, entry)
        owner = rest.split(".")[-3] if rest.count(".") >= 3 else ""
        who, _, pid = owner.rpartition("-")
        try:
            if pid.isdigit() and who:
                if who != host or _alive(int(pid)):
                    continue
            elif time.time() - os.lstat(path).st_mtime < _STALE_SECONDS:
                continue
            if stat.S_ISREG(os.lstat(path).st_mode):
                os.remove(path)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError as e:  # EPERM: it exists, under another user
        return e.errno == errno.EPERM
    return True


def _close(f: Any) -> None:
    f.flush()
    os.fsync(f.fileno())
    f.close()


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


# --- threads and progress -------------------------------------------------------------------


@contextmanager
def _serial_tokenizers(serial: bool) -> Iterator[None]:
    """``TOKENIZERS_PARALLELISM=false`` for the duration (``tokenizers`` reads it per call)."""
    if not serial:
        yield
        return
    old = os.environ.get(_PARALLELISM)
    os.environ[_PARALLELISM] = "false"
    try:
        yield
    finally:
        if old is None:
            del os.environ[_PARALLELISM]
        else:
            os.environ[_PARALLELISM] = old


class _Reporter:
    """Progress of a run in input bytes on disk: named stages on stderr, a callable, or nothing.

    The callable hears positions over all passes (``total`` is twice the input when a BPE
    is trained first), each once, the total last; each stage drawn counts its own pass.
    """

    def __init__(self, progress: Progress, size: int, passes: int) -> None:
        self.size = size
        self.total = size * passes
        self.tokens = 0
        self.last = -1
        self.callback = progress if callable(progress) else None
        self.progress = progress if shown(progress) else None
        self.stage: Stage | None = None
        self.base = 0

    def begin(self, label: str, base: int, count_unit: str | None = None) -> None:
        """Ends the stage drawn, if any, and starts ``label`` at position ``base``."""
        self._end(None)
        self.base = base
        if self.progress is not None:
            self.stage = Stage(label, "B", final=self.progress is True, count_unit=count_unit)

    def show(self, done: int) -> None:
        done = min(done, self.total)
        if done <= self.last:
            return
        self.last = done
        if self.callback is not None:
            self.callback(done, self.total)
        if self.stage is not None:
            self.stage.count = self.tokens
            self.stage(max(done - self.base, 0), self.size)

    def _end(self, kind: object) -> None:
        if self.stage is not None:
            self.stage.__exit__(kind)
            self.stage = None

    def __enter__(self) -> _Reporter:
        return self

    def __exit__(self, kind: object, *exc: object) -> None:
        self._end(kind)
