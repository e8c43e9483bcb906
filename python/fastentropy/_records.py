"""Rows of text files as records: JSON lines (or Python dict literals), CSV/TSV with a header,
and the numbers in their fields. Each record comes with where it was read (``"line 3"``)."""

from __future__ import annotations

import ast
import csv
import io
import json
import math
from collections.abc import Iterator
from typing import Any

__all__ = ["csv_records", "jsonl_records", "literal", "number", "parse_dict"]


def parse_dict(line: str) -> dict[str, Any] | None:
    """A JSON object or a Python dict literal (with nan/inf), or None if ``line`` is neither."""
    try:
        value = json.loads(line)
    except ValueError:
        try:
            value = literal(ast.parse(line.strip(), mode="eval").body)
        except (SyntaxError, ValueError):
            return None
    return value if isinstance(value, dict) else None


_LITERAL_NAMES = {"nan": math.nan, "inf": math.inf, "True": True, "False": False, "None": None}


def literal(node: ast.expr) -> Any:
    """The value of a literal expression, with the names nan, inf, True, False, None."""
    # ast.literal_eval rejects the nan and inf that Python prints for a diverged loss.
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in _LITERAL_NAMES:
        return _LITERAL_NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = literal(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Dict) and all(k is not None for k in node.keys):
        return {literal(k): literal(v) for k, v in zip(node.keys, node.values, strict=True) if k}
    if isinstance(node, (ast.List, ast.Tuple)):
        return [literal(e) for e in node.elts]
    raise ValueError("not a literal")


def jsonl_records(text: str, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each non-blank line of ``text`` as an object; ``ValueError`` names the first that is not."""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        record = parse_dict(line)
        if record is None:
            raise ValueError(f"{name}: line {number} is not a JSON object: {line[:80]!r}")
        yield f"line {number}", record


def csv_records(text: str, name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each row of a CSV/TSV ``text`` (delimiter from the header) as its non-empty fields."""
    header = text.lstrip("\n").split("\n", 1)[0]
    delimiter = "\t" if "\t" in header else ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    try:
        # A single column is a valid log ("loss" then a value per line); whether it holds a
        # loss is decided by the field names, as for any format.
        if not reader.fieldnames or not any(f.strip() for f in reader.fieldnames):
            raise ValueError(f"{name}: not a CSV/TSV log with a header (line 1: {header[:80]!r})")
        for row in reader:
            # Empty cells are fields the row did not log (Lightning writes train and val rows).
            yield (
                f"line {reader.line_num}",
                {k: v for k, v in row.items() if k and v not in ("", None)},
            )
    except csv.Error as e:
        # e.g. a field over the csv module's 128 kB limit: a line of a console log read as CSV.
        raise ValueError(
            f"{name}: line {reader.line_num}: not readable as CSV/TSV ({e}); if this is another "
            "kind of log, name it with format="
        ) from None


def number(value: Any, name: str, where: str, key: str) -> float:
    """A field as a float (a missing one as NaN); ``ValueError`` says where it is not a number."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    if value is None:
        return math.nan
    raise ValueError(f"{name}: {where}: {key!r} is {value!r}, not a number")
