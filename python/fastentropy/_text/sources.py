"""Text sources for :func:`fastentropy.tokenize`: files, globs, formats and documents.

A corpus is a list of files, each plain text, JSON Lines or Parquet (by extension), each
optionally ``.gz`` or ``.zst`` compressed. Reading yields :class:`Block` objects: the text of
whole documents or of pieces of long documents, never more than about one batch at a time,
so memory does not grow with the corpus. Every file is hashed (SHA-256 of its bytes on disk)
while it is read.
"""

from __future__ import annotations

import errno
import glob
import gzip
import hashlib
import importlib
import io
import json
import os
import re
import shutil
import tempfile
import warnings
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from .._types import PathLike

__all__ = ["Block", "Corpus", "SourceInfo", "field_path", "format_of", "lookup", "pieces"]

if TYPE_CHECKING:
    from .memory import Spooled

Inputs = PathLike | Iterable[PathLike]

#: Extensions (after removing ``.gz``/``.zst``) of the structured formats; all else is text.
_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet"}
#: Which ``doc`` values each format accepts; the first is its default.
_DOCS = {"text": ("file", "line"), "jsonl": ("record", "line"), "parquet": ("record",)}
_READ = 1 << 20
_BOM = b"\xef\xbb\xbf"


@dataclass
class Block:
    """Consecutive pieces of text, in corpus order.

    ``ends[i]`` says that a document ends after ``texts[i]`` (a separator follows it);
    ``masked[i]`` (only with a ``mask_field``) that its tokens are masked in. ``n_bytes`` and
    ``n_chars`` are the UTF-8 bytes and code points of the text; ``done`` the input bytes
    (on disk, all files) read so far. ``ids``, when the reader made them (plain text for the
    ``"bytes"`` tokenizer), holds the block's ids with a placeholder at each document end (a
    line's LF), and the positions of the placeholders; ``texts`` and ``ends`` are then empty.
    """

    texts: list[str]
    ends: list[bool]
    masked: list[bool] | None
    n_bytes: int
    n_chars: int
    done: int
    ids: tuple[npt.NDArray[np.uint8], npt.NDArray[np.intp]] | None = None
    #: Bytes that are not UTF-8, kept as they are (the ``"bytes"`` tokenizer only).
    invalid: int = 0


@dataclass
class SourceInfo:
    """A file of the corpus, as recorded in the sidecar."""

    path: str
    size: int
    sha256: str = ""


def format_of(path: str) -> str:
    """``"text"``, ``"jsonl"`` or ``"parquet"``, from the extension under any ``.gz``/``.zst``.

    >>> format_of("a/b.jsonl.zst"), format_of("c.parquet"), format_of("d.txt.gz")
    ('jsonl', 'parquet', 'text')
    """
    stem, ext = os.path.splitext(path.lower())
    if ext in (".gz", ".zst"):
        ext = os.path.splitext(stem)[1]
    return _FORMATS.get(ext, "text")


def pieces(text: str, limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` code points that join back to it.

    Each piece ends after the last line break it can hold, else before its last space (so a
    word's leading space stays with the word, as byte-level BPE pre-tokenizers group it),
    else at ``limit``.

    >>> pieces("one two\\nthree four five", 10)
    ['one two\\n', 'three', ' four five']
    >>> pieces("", 4)
    ['']
    """
    out = []
    start = 0
    while len(text) - start > limit:
        end = start + limit
        cut = text.rfind("\n", start, end) + 1
        if cut <= start:
            cut = text.rfind(" ", start + 1, end)
        if cut <= start:
            cut = end
        out.append(text[start:cut])
        start = cut
    out.append(text[start:])
    return out


class _HashingReader(io.RawIOBase):
    """A raw file that hashes the bytes read through it and counts them (for progress)."""

    def __init__(self, path: str) -> None:
        self._f = open(path, "rb", buffering=0)  # noqa: SIM115 (closed by close())
        self.sha256 = hashlib.sha256()
        self.pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = self._f.readinto(buffer)
        view = memoryview(buffer)[:n]
        self.sha256.update(view)
        self.pos += n
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


class Corpus:
    """The files of a :func:`~fastentropy.tokenize` call and how to read documents from them.

    Construction checks everything that can be checked before reading: the files exist,
    ``doc`` suits each format, ``mask_field`` is only given for records, the optional
    packages needed are installed.
    """

    def __init__(
        self,
        inputs: Inputs,
        *,
        field: str,
        doc: str | None,
        mask_field: str | None,
        errors: str,
        skip_bad_lines: bool,
        batch_bytes: int,
        spooled: Spooled | None = None,
    ) -> None:
        # Texts and records from memory are read from their spooled JSON Lines file.
        self.spooled = spooled
        if spooled is not None:
            inputs, field, doc = spooled.path, "t", "record"
            mask_field = None if mask_field is None else "m"
        self.files, self.duplicates = _expand_counted(inputs)
        if self.duplicates:
            named = len(self.files) + self.duplicates
            warnings.warn(
                f"{self.duplicates} of {named} inputs name a file already read (the same "
                "path twice, or a symbolic or hard link to it): each file is read once",
                stacklevel=3,
            )
        self.field = field_path(field, "field")
        self.mask_field = None if mask_field is None else field_path(mask_field, "mask_field")
        self.errors = errors
        self.skip_bad_lines = skip_bad_lines
        self.batch_bytes = batch_bytes
        # Long documents are cut into pieces so that one batch holds many of them: the
        # tokenizer's batch encoder parallelises over pieces.
        self.piece = max(1, batch_bytes // 64)
        self.fields = [self.field] if self.mask_field is None else [self.field, self.mask_field]
        self.kinds = [format_of(f.path) for f in self.files]
        self.docs: list[str] = []
        for f, kind in zip(self.files, self.kinds, strict=True):
            allowed = _DOCS[kind]
            if doc is not None and doc not in allowed:
                raise ValueError(
                    f"doc={doc!r} does not apply to {f.path!r} ({kind}): use one of {allowed}"
                )
            if mask_field is not None and kind == "text":
                raise ValueError(
                    f"mask_field needs JSON Lines or Parquet records, but {f.path!r} is plain text"
                )
            if kind == "parquet":
                _require("pyarrow", "parquet")
            if f.path.lower().endswith(".zst"):
                _require("zstandard", "zstd")
            self.docs.append(doc or allowed[0])
        self.skipped_lines = 0

    def sources(self) -> list[dict[str, Any]]:
        """The sidecar's ``sources``: each file read, or the texts from memory."""
        if self.spooled is None:
            return [vars(f) for f in self.files]
        (spool,) = self.files
        return [{"path": self.spooled.description, "size": self.spooled.n_bytes, "sha256": ""}]

    def __enter__(self) -> Corpus:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.spooled is not None:
            self.spooled.close()

    @property
    def total_bytes(self) -> int:
        """Bytes on disk of all files."""
        return sum(f.size for f in self.files)

    def blocks(self, byte_ids: bool = False) -> Iterator[Block]:
        """Read the corpus once, from the start, in blocks of about ``batch_bytes``.

        ``byte_ids``: plain text comes as the ids of the ``"bytes"`` tokenizer (``Block.ids``),
        without a Python string per line.
        """
        self.skipped_lines = 0
        base = 0
        # Resolved here, not in the except clause: a generator closed at interpreter shutdown
        # evaluates its except clauses, and an import then fails ("Exception ignored").
        zstd_error = _zstd_error()
        for src, kind, doc in zip(self.files, self.kinds, self.docs, strict=True):
            try:
                if kind == "parquet":
                    yield from self._parquet(src, base)
                else:
                    yield from self._stream(src, kind, doc == "line", base, byte_ids)
            except EOFError as e:  # gzip's word for a truncated file
                raise OSError(f"{src.path}: the compressed stream is truncated ({e})") from None
            except (zlib.error, gzip.BadGzipFile) as e:
                raise OSError(f"{src.path}: not a valid gzip stream ({e})") from None
            except zstd_error as e:
                raise OSError(f"{src.path}: not a valid zstd stream ({e})") from None
            base += src.size

    def _stream(
        self, src: SourceInfo, kind: str, by_line: bool, base: int, byte_ids: bool
    ) -> Iterator[Block]:
        with _HashingReader(src.path) as raw:
            stream = _decompressed(src.path, io.BufferedReader(raw, _READ))
            if kind == "jsonl":
                yield from self._jsonl(src.path, stream, raw, base)
            else:
                yield from self._text(src.path, stream, raw, base, by_line, byte_ids)
            while raw.read(_READ):  # hash any bytes after the end of a compressed stream
                pass
            src.sha256 = raw.sha256.hexdigest()

    # --- plain text -----------------------------------------------------------------------

    def _text(
        self,
        path: str,
        stream: IO[bytes],
        raw: _HashingReader,
        base: int,
        by_line: bool,
        byte_ids: bool,
    ) -> Iterator[Block]:
        offset = 0  # of ``buf`` in the (decompressed) text
        buf = b""
        last = False
        while not last:
            chunk = stream.read(self.batch_bytes)
            buf += chunk
            last = not chunk
            if last:
                cut = len(buf)
            else:
                # Whole lines; a line longer than a batch is cut before its last byte (so a
                # CR is never parted from its LF) and not inside a character.
                cut = buf.rfind(b"\n") + 1
                if cut == 0 and len(buf) >= self.batch_bytes:
                    cut = _char_start(buf, len(buf) - 1)
                if cut <= 0:
                    continue
            data = buf[:cut]
            invalid = 0
            if byte_ids and self.errors == "strict":
                # Bytes are bytes: the ids are the bytes as they are, and characters are
                # counted on the decodable text (each undecodable byte escapes to one
                # surrogate, U+DC80..U+DCFF, which is not counted).
                text, invalid = _escaped(data)
            else:
                text = self._decode(data, path, offset)
                # Without a replacement character nothing was replaced: the text is the
                # bytes. With one, the text's own bytes are what is tokenized.
                if "\ufffd" in text:
                    data = text.encode("utf-8")
            offset += cut
            buf = buf[cut:]
            if byte_ids:
                block = _byte_ids(data, len(text) - invalid, by_line, last, base + raw.pos)
                block.invalid = invalid
                yield block
            elif by_line:
                yield self._lines(text, len(data), last, base + raw.pos)
            else:
                texts = pieces(text, self.piece)
                ends = [False] * (len(texts) - 1) + [last]
                yield Block(texts, ends, None, len(data), len(text), base + raw.pos)

    def _decode(self, data: bytes, path: str, offset: int, line: int = 0) -> str:
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            if self.errors == "strict":
                where = "decompressed byte" if path.lower().endswith((".gz", ".zst")) else "byte"
                raise ValueError(
                    f"{path}{f':{line}' if line else ''}: invalid UTF-8 at {where} offset "
                    f"{offset + e.start} (bytes {data[e.start : e.end].hex(' ')}); "
                    "errors='replace' replaces invalid bytes with U+FFFD"
                ) from None
            return data.decode("utf-8", self.errors)

    def _lines(self, text: str, n_bytes: int, last: bool, done: int) -> Block:
        lines = text.split("\n")
        # After the last line break: "" (dropped), the final line of a file without one, or
        # the start of an over-long line that the next block continues.
        tail = lines.pop()
        ends = [True] * len(lines)
        breaks = len(lines)  # the LFs, then the CRs before them: one byte and one char each
        if "\r" in text:
            breaks += sum(s.endswith("\r") for s in lines)
            lines = [s[:-1] if s.endswith("\r") else s for s in lines]
        if tail:
            lines.append(tail)
            ends.append(last)
        if max(map(len, lines), default=0) > self.piece:
            split = [pieces(s, self.piece) for s in lines]
            ends = [
                e and i == len(p) - 1
                for p, e in zip(split, ends, strict=True)
                for i in range(len(p))
            ]
            lines = [s for p in split for s in p]
        return Block(lines, ends, None, n_bytes - breaks, len(text) - breaks, done)

    # --- records ----------------------------------------------------------------------------

    def _jsonl(
        self, path: str, stream: IO[bytes], raw: _HashingReader, base: int
    ) -> Iterator[Block]:
        records: list[tuple[str, str | None]] = []
        size = 0
        offset = 0
        for lineno, line in enumerate(stream, 1):
            start, offset = offset, offset + len(line)
            if lineno == 1 and line.startswith(_BOM):
                line = line[len(_BOM) :]  # editors on Windows write one; it is not text
                start += len(_BOM)
            if not line.strip():
                continue
            try:
                record = json.loads(self._decode(line, path, start, lineno))
            except json.JSONDecodeError as e:
                if self.skip_bad_lines:
                    self.skipped_lines += 1
                    continue
                raise ValueError(
                    f"{path}:{lineno}: not valid JSON ({e.msg}, column {e.colno}); JSON Lines "
                    "files hold one JSON object per line (skip_bad_lines=True skips such lines)"
                ) from None
            values = [lookup(record, p, path, lineno) for p in self.fields]
            if b"\\u" in line:  # only escapes can make lone surrogates, which are not text
                values = [self._surrogates(v, path, lineno) for v in values]
            records.append((values[0], values[1] if self.mask_field else None))
            size += len(line)
            if size >= self.batch_bytes:
                yield self._records(records, base + raw.pos)
                records, size = [], 0
        if records:
            yield self._records(records, base + raw.pos)

    def _surrogates(self, value: str, path: str, line: int) -> str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            if self.errors == "strict":
                raise ValueError(
                    f"{path}:{line}: an unpaired surrogate escape (such as \\ud800) is not "
                    "text; errors='replace' replaces it with U+FFFD"
                ) from None
            return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        return value

    def _records(self, records: list[tuple[str, str | None]], done: int) -> Block:
        texts: list[str] = []
        ends: list[bool] = []
        masked: list[bool] = []
        for text, answer in records:
            parts = pieces(text, self.piece)
            texts += parts
            ends += [False] * len(parts)
            masked += [False] * len(parts)
            if answer is not None:
                parts = pieces(answer, self.piece)
                texts += parts
                ends += [False] * len(parts)
                masked += [True] * len(parts)
            ends[-1] = True
        joined = "".join(texts)
        n_bytes = len(joined) if joined.isascii() else len(joined.encode("utf-8"))
        return Block(texts, ends, masked if self.mask_field else None, n_bytes, len(joined), done)

    def _parquet(self, src: SourceInfo, base: int) -> Iterator[Block]:
        pq = importlib.import_module("pyarrow.parquet")
        with _seekable(src.path) as f:
            pf = pq.ParquetFile(f)
            names = pf.schema_arrow.names
            for path in self.fields:
                if path[0] not in names:
                    raise ValueError(
                        f"{src.path}: no column {path[0]!r} (columns: {', '.join(names)})"
                    )
            read = sorted({p[0] for p in self.fields})
            md = pf.metadata
            rows = max(md.num_rows, 1)
            # Rows per read from the columns' uncompressed size, so a read is about a batch.
            width = sum(
                md.row_group(g).column(i).total_uncompressed_size
                for g in range(md.num_row_groups)
                for i in range(md.num_columns)
                if md.schema.column(i).path.split(".")[0] in read
            )
            per_read = max(1, self.batch_bytes * rows // max(width, 1))
            first = 0
            for batch in pf.iter_batches(batch_size=per_read, columns=read):
                values = [
                    _arrow_strings(batch.column(read.index(p[0])), p, src.path, first)
                    for p in self.fields
                ]
                first += batch.num_rows
                answers = values[1] if self.mask_field else [None] * len(values[0])
                yield self._records(
                    list(zip(values[0], answers, strict=True)), base + src.size * first // rows
                )
        src.sha256 = _sha256(src.path)


# --- helpers ----------------------------------------------------------------------------------


def _char_start(data: bytes, end: int) -> int:
    """``end``, or the start of a character that ``data[:end]`` cuts short: decoding the text
    in parts cut there is decoding it whole (the same errors, the same replacements)."""
    for start in range(end - 1, max(end - 4, -1), -1):
        byte = data[start]
        if byte & 0xC0 != 0x80:  # not a continuation byte: how long its character is
            length = 1 + (byte >= 0xC0) + (byte >= 0xE0) + (byte >= 0xF0)
            return start if start + length > end else end
    return end


def _escaped(data: bytes) -> tuple[str, int]:
    """``data`` decoded with undecodable bytes escaped, and how many there were."""
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        text = data.decode("utf-8", "surrogateescape")
        return text, len(_ESCAPED.findall(text))


_ESCAPED = re.compile("[\udc80-\udcff]")


def _byte_ids(data: bytes, n_chars: int, by_line: bool, last: bool, done: int) -> Block:
    """The block of plain text ``data`` (valid UTF-8 of ``n_chars`` code points) as ids of the
    ``"bytes"`` tokenizer, with the documents and counts that the texts of the block would
    give, found with numpy rather than with a Python string per line."""
    ids = np.frombuffer(data, np.uint8)
    # A line's LF is the placeholder of its end. Blocks end at a line break, or before the
    # last byte of a long line, so a CR and its LF are never in different blocks.
    ends = np.flatnonzero(ids == 10) if by_line else np.empty(0, np.intp)
    crlf = (ends > 0) & (ids[ends - 1] == 13)
    if crlf.any():
        ids = np.delete(ids, ends[crlf] - 1)
        ends -= np.cumsum(crlf)
    n_bytes = len(ids) - len(ends)
    # The end of the file ends the file's document, or its final line if no LF ended it.
    if last and (not by_line or len(ids) > (ends[-1] + 1 if len(ends) else 0)):
        ends = np.append(ends, len(ids))
        ids = np.append(ids, np.uint8(10))
    return Block([], [], None, n_bytes, n_chars - (len(data) - n_bytes), done, (ids, ends))


def expand(inputs: Inputs) -> list[SourceInfo]:
    """The files named by ``inputs`` (paths or globs), in order, each once."""
    return _expand_counted(inputs)[0]


def _expand_counted(inputs: Inputs) -> tuple[list[SourceInfo], int]:
    """:func:`expand`, and how many names were dropped as a file already named."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    elif isinstance(inputs, (bytes, bytearray)) or not isinstance(inputs, Iterable):
        raise TypeError(
            f"inputs must be a path, a glob or a list of them, got {type(inputs).__name__}"
        )
    out: list[SourceInfo] = []
    seen: set[str] = set()
    seen_files: set[tuple[int, int]] = set()
    dropped = 0
    for item in inputs:
        if not isinstance(item, (str, os.PathLike)):
            raise TypeError(f"inputs must be paths or globs, got {type(item).__name__}")
        name = os.fspath(item)
        if glob.has_magic(name):
            found = sorted(p for p in glob.glob(name, recursive=True) if os.path.isfile(p))
            if not found:
                raise FileNotFoundError(errno.ENOENT, "no file matches the glob", name)
        elif os.path.isdir(name):
            raise IsADirectoryError(
                errno.EISDIR, "is a directory: pass its files or a glob such as dir/*.txt", name
            )
        else:
            found = [name]
        for path in found:
            size = os.stat(path).st_size  # FileNotFoundError naming the path
            real = os.path.realpath(path)
            # A hard link is the same file under another name: its device and inode say so.
            st = os.stat(real)
            key = (st.st_dev, st.st_ino)
            if real not in seen and key not in seen_files:
                seen.add(real)
                seen_files.add(key)
                out.append(SourceInfo(os.path.abspath(path), size))
            else:
                dropped += 1
    if not out:
        raise ValueError("inputs is empty: give at least one file")
    return out, dropped


def field_path(field: Any, name: str) -> tuple[str, ...]:
    if not isinstance(field, str) or not field or "" in field.split("."):
        raise ValueError(
            f"{name} must be a field name or a dotted path such as 'a.b', got {field!r}"
        )
    return tuple(field.split("."))


def lookup(record: Any, path: tuple[str, ...], file: str, line: int) -> str:
    value = record
    for i, key in enumerate(path):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            at = ".".join(path[: i + 1])
            kind = "an object" if isinstance(value, dict) else type(value).__name__
            raise ValueError(f"{file}:{line}: no field {at!r} (the value there is {kind})")
    if not isinstance(value, str):
        raise ValueError(
            f"{file}:{line}: field {'.'.join(path)!r} is {type(value).__name__}, not a string"
        )
    return value


def _arrow_strings(column: Any, path: tuple[str, ...], file: str, first: int) -> list[str]:
    pa = importlib.import_module("pyarrow")
    for key in path[1:]:
        if not pa.types.is_struct(column.type):
            raise ValueError(f"{file}: {'.'.join(path)!r}: {column.type} has no field {key!r}")
        column = column.field(key)
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        raise ValueError(f"{file}: column {'.'.join(path)!r} holds {column.type}, not strings")
    if column.null_count:
        row = first + column.is_null().to_pylist().index(True)
        raise ValueError(f"{file}: row {row} (counting from 0): {'.'.join(path)!r} is null")
    values: list[str] = column.to_pylist()
    return values


def _decompressed(path: str, f: IO[bytes]) -> IO[bytes]:
    lower = path.lower()
    if lower.endswith(".gz"):
        return cast(IO[bytes], gzip.GzipFile(fileobj=f, mode="rb"))
    if lower.endswith(".zst"):
        return io.BufferedReader(_ZstdReader(f, path), _READ)
    return f


class _ZstdReader(io.RawIOBase):
    """The decompressed bytes of every zstd frame of ``f`` in turn (multi-threaded zstd
    writes several), raising ``OSError`` when the input ends inside a frame: zstandard's own
    stream reader returns the shorter text of a truncated file without a word."""

    #: Compressed bytes per step: bounds the decompressed bytes held at once (~10x for text).
    STEP = 1 << 16

    def __init__(self, f: IO[bytes], path: str) -> None:
        import zstandard

        self._new = zstandard.ZstdDecompressor().decompressobj
        self._f = f
        self._path = path
        self._frame: Any = None  # the decompressor of a frame begun and not yet ended
        self._out = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._out and not self._done:
            self._step()
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n

    def _step(self) -> None:
        data = self._f.read(self.STEP)
        if not data:
            if self._frame is not None:
                raise OSError(
                    f"{self._path}: the zstd stream is truncated (the file ends inside a frame)"
                )
            self._done = True
            return
        parts = []
        while data:
            if self._frame is None:
                self._frame = self._new()
            parts.append(self._frame.decompress(data))
            data = b""
            if self._frame.eof:
                data = self._frame.unused_data
                self._frame = None
        self._out = memoryview(b"".join(parts))


class _seekable:
    """A seekable binary file of ``path``: the file itself, or a decompressed temporary copy."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.f: IO[bytes] | None = None

    def __enter__(self) -> IO[bytes]:
        raw = open(self.path, "rb")  # noqa: SIM115 (closed in __exit__)
        if not self.path.lower().endswith((".gz", ".zst")):
            self.f = raw
            return raw
        self.f = tempfile.TemporaryFile()
        with raw, _decompressed(self.path, raw) as src:
            shutil.copyfileobj(src, self.f, _READ)
        self.f.seek(0)
        return self.f

    def __exit__(self, *exc: object) -> None:
        if self.f is not None:
            self.f.close()


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_READ):
            h.update(chunk)
    return h.hexdigest()


def _zstd_error() -> type[Exception]:
    try:
        import zstandard
    except ImportError:
        return _Never
    return zstandard.ZstdError


class _Never(Exception):
    """Raised by nothing: stands for zstandard.ZstdError where zstandard is not installed."""


def _require(module: str, extra: str) -> None:
    try:
        __import__(module)
    except ImportError:
        raise ImportError(
            f"this needs the {module!r} package: pip install 'fastentropy[{extra}]'"
        ) from None
