"""Texts from memory for :func:`fastentropy.tokenize`: iterables of strings or of records,
and Hugging Face ``datasets`` objects.

They are spooled once to a temporary JSON Lines file that the file pipeline then reads like
any other: memory does not grow with the corpus, a generator can be read twice (a BPE is
trained on a first pass), and input bytes give progress a total. ``datasets`` is never
imported: its objects are recognised by their class and read through iteration (rows as
dicts), which ``Dataset`` and ``IterableDataset`` both offer.
"""

from __future__ import annotations

import glob
import itertools
import json
import os
import tempfile
import weakref
from collections.abc import Iterable
from typing import Any

from .sources import field_path, lookup

__all__ = ["WHERE", "Spooled", "spool"]

#: How a source from memory is named in messages.
WHERE = "<texts from memory>"
#: File extensions that make a string a path even when no such file exists (a missing file
#: is then reported as missing rather than tokenized as its own name).
_PATH_SUFFIXES = (".txt", ".json", ".jsonl", ".ndjson", ".parquet", ".gz", ".zst", ".md")


class Spooled:
    """A JSON Lines file of ``{"t": text, "m": masked part}`` records, removed with the
    object (or by :meth:`close`). ``description`` names the source for the sidecar."""

    def __init__(self, folder: str, path: str, description: str, n_bytes: int) -> None:
        self.path = path
        self.description = description
        self.n_bytes = n_bytes
        self._cleanup = weakref.finalize(self, _remove, folder, path)

    def close(self) -> None:
        self._cleanup()


def spool(
    inputs: Any, field: str, mask_field: str | None, errors: str, doc: str | None
) -> tuple[Spooled | None, Any]:
    """``(spooled texts, None)`` when ``inputs`` holds texts or records, else ``(None,
    inputs)`` with the paths (an iterator of them rebuilt, its first item having been read)."""
    kind, items, description = _classify(inputs)
    if kind == "paths":
        return None, items
    if doc not in (None, "record"):
        raise ValueError(
            f"doc={doc!r} does not apply to texts from memory: each text or record is a "
            "document (doc='record')"
        )
    fields = [field_path(field, "field")]
    if mask_field is not None:
        fields.append(field_path(mask_field, "mask_field"))
    columns = getattr(inputs, "column_names", None) if description else None
    if isinstance(columns, list):
        for p in fields:
            if p[0] not in columns:
                raise ValueError(f"no column {p[0]!r} (columns: {', '.join(map(str, columns))})")
    fd, path = tempfile.mkstemp(prefix="fastentropy-", suffix=".jsonl")
    n_bytes = 0
    rows = 0
    try:
        with os.fdopen(fd, "wb") as f:
            for i, item in enumerate(items, 1):
                if isinstance(item, str):
                    if mask_field is not None:
                        raise ValueError(f"{WHERE}:{i}: mask_field needs records, got a string")
                    values = [item]
                elif isinstance(item, dict):
                    values = [lookup(item, p, WHERE, i) for p in fields]
                else:
                    raise TypeError(
                        f"{WHERE}: item {i} is {type(item).__name__}; texts from memory are "
                        "strings or dicts (records, with field=)"
                    )
                values = [_encodable(v, i, errors) for v in values]
                record = {"t": values[0], "m": values[1] if len(values) > 1 else None}
                f.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")
                n_bytes += sum(len(v.encode("utf-8")) for v in values)
                rows += 1
    except BaseException:
        _remove(None, path)
        raise
    if description is None:
        description = f"<{rows} texts from memory>"
    else:
        description = f"{description[:-1]}, column {field!r}>"
    return Spooled(os.path.dirname(path), path, description, n_bytes), None


def _classify(inputs: Any) -> tuple[str, Any, str | None]:
    """``("paths", inputs, None)`` or ``("texts", items, description or None)``."""
    if isinstance(inputs, (str, bytes, bytearray, os.PathLike)) or not isinstance(inputs, Iterable):
        return "paths", inputs, None
    kind = type(inputs)
    if kind.__module__.split(".")[0] == "datasets" and kind.__name__ in (
        "Dataset",
        "IterableDataset",
    ):
        return "texts", iter(inputs), _dataset_description(inputs)
    if isinstance(inputs, (list, tuple)):
        paths = any(isinstance(x, os.PathLike) for x in inputs) or (
            all(isinstance(x, str) for x in inputs) and any(_names_a_file(x) for x in inputs)
        )
        return ("paths", inputs, None) if paths or not inputs else ("texts", iter(inputs), None)
    # Any other iterable (a generator, an iterator): its first item says which it holds.
    it = iter(inputs)
    first = next(it, None)
    if first is None:
        return "paths", [], None  # nothing at all: the error of empty inputs
    rest = itertools.chain([first], it)
    if isinstance(first, os.PathLike) or (isinstance(first, str) and _names_a_file(first)):
        return "paths", rest, None
    return "texts", rest, None


def _names_a_file(text: str) -> bool:
    """Whether a string is a path: a file that exists, or a single word that looks like a
    path (a folder separator, a glob, a text file's extension)."""
    if os.path.exists(text):
        return True
    if not text or any(c.isspace() for c in text):
        return False
    return (
        os.sep in text
        or "/" in text
        or glob.has_magic(text)
        or text.lower().endswith(_PATH_SUFFIXES)
    )


def _dataset_description(ds: Any) -> str:
    kind = type(ds).__name__
    try:
        rows = f" of {len(ds)} rows"
    except TypeError:
        rows = ""
    return f"<datasets.{kind}{rows}>"


def _encodable(value: str, row: int, errors: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        if errors == "strict":
            raise ValueError(
                f"{WHERE}:{row}: an unpaired surrogate (such as \\ud800) is not text; "
                "errors='replace' replaces it with U+FFFD"
            ) from None
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def _remove(folder: str | None, path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass
