"""Results saved as JSON: written the same way, and read back with one set of checks.

A result's ``from_json`` takes JSON text or the path of a file holding it, nothing else (an
int would be read by ``open`` as a file descriptor and block on standard input), and every
error names the file and what was wrong.
"""

from __future__ import annotations

import json
import os
from typing import Any

__all__ = ["read_json", "write_json"]


def write_json(data: Any, path: str | os.PathLike[str] | None) -> str:
    """``data`` as indented JSON text, written to ``path`` too when one is given."""
    text = json.dumps(data, indent=1, allow_nan=True)
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return text


def read_json(source: Any, what: str) -> tuple[Any, str]:
    """The parsed JSON of ``source`` (JSON text, or a path) and where it came from, for
    messages: the path, or ``"the text"``. ``what`` names the expected content in errors
    ("a floor's JSON").

    Raises
    ------
    TypeError
        ``source`` is neither a str nor a path.
    ValueError
        Not UTF-8, or not JSON (with a hint when it looks truncated).
    FileNotFoundError, OSError
        The file cannot be read.

    Examples
    --------
    >>> read_json('{"a": 1}', "a test's JSON")
    ({'a': 1}, 'the text')
    """
    if not isinstance(source, (str, os.PathLike)):
        raise TypeError(f"source must be JSON text or a path, got {type(source).__name__}")
    text = os.fspath(source)
    if not isinstance(text, str):
        raise TypeError(f"source must be a str path, got {type(text).__name__}")
    where = "the text"
    if not text.lstrip().startswith("{"):
        where = text
        with open(text, "rb") as f:
            raw = f.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ValueError(f"{where}: not {what} (byte {e.start} is not UTF-8 text)") from None
    try:
        return json.loads(text), where
    except json.JSONDecodeError as e:
        cut = e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated")
        hint = " (truncated?)" if cut else ""
        raise ValueError(f"{where}: not {what}{hint}: {e}") from None
