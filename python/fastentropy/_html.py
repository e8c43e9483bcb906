"""One-line reprs and small HTML tables for results shown in notebooks (``_repr_html_``)."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

__all__ = ["num", "table"]


def num(x: float | None, digits: int = 4) -> str:
    """``x`` with ``digits`` significant digits, or "-" for None and NaN.

    >>> num(2.718281828), num(None), num(float("nan")), num(123456.0)
    ('2.718', '-', '-', '1.235e+05')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}g}"


def table(caption: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An HTML table: a caption, a header row and the rows, every cell escaped.

    >>> table("t", ["a"], [[1]])
    '<table><caption>t</caption><thead><tr><th>a</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>'
    """
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return (
        f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )
