"""Units of entropy rates: nats per token inside, and what a reader asks for outside."""

from __future__ import annotations

import math

__all__ = ["LN2", "UNITS", "unit_scale"]

LN2 = math.log(2.0)

#: Units a rate or floor can be shown in.
UNITS = ("nats/token", "bits/token", "bits/byte", "bits/char")


def unit_scale(unit: str, bytes_per_token: float | None, chars_per_token: float | None) -> float:
    """The factor from nats/token to ``unit``.

    Raises
    ------
    ValueError
        An unknown unit, or bits per byte/character without the figure they need.

    Examples
    --------
    >>> round(unit_scale("bits/byte", 2.0, None), 6)
    0.721348
    """
    if unit == "nats/token":
        return 1.0
    if unit == "bits/token":
        return 1.0 / LN2
    per = {"bits/byte": (bytes_per_token, "bytes"), "bits/char": (chars_per_token, "characters")}
    if unit not in per:
        raise ValueError(f"unit must be one of {', '.join(UNITS)}; got {unit!r}")
    value, what = per[unit]
    if value is None:
        raise ValueError(
            f"{unit} needs the {what} of text per token, which this estimate does not have: "
            "estimate it from a tokenized corpus with its sidecar (fe.tokenize) or pass meta="
        )
    return 1.0 / (LN2 * value)
