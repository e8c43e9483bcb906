"""The floor report as text."""

from __future__ import annotations

import math
import textwrap
from typing import TYPE_CHECKING

from .._units import LN2, unit_scale
from ..rate._result import method_notes
from .references import REFERENCES, SHANNON_WORD_UNIGRAM_BITS_PER_CHAR

if TYPE_CHECKING:
    from .model import Floor, Value

__all__ = ["report"]


EXPLANATION = (
    "What this is: three numbers, kept apart. h_n = H(X_n | X_1..X_{n-1}) of n-gram counts "
    "falls as n grows toward the entropy rate, so at the highest order the corpus samples well "
    "it still lies above the rate. The online predictor scores each token before it learns "
    "from it, as a first epoch does: its code length per token is what an honest model "
    "reaches here, an upper bound on the rate. The rate itself is estimated by extrapolating "
    "the predictor's learning curve and h_n, and from match lengths; its interval's lower end "
    "is the floor: a training loss under it means the model recites its training text."
)


#: Columns of the report at most: a terminal split in two, and the line length of our code.
WIDTH = 100


def report(floor: Floor) -> str:
    """The floor's full text report, at most :data:`WIDTH` columns: the per-order tables, the
    floor in every unit, notes, and (for text, where characters per token are known) the
    literature's figures for English converted to this corpus's tokens."""
    lines = [_wrap(_header(floor)), ""]
    if floor.orders:
        lines += _table(floor) + [""]
    lines += _floor_lines(floor)
    if floor.notes:
        lines += [""] + [_wrap(f"Note: {n}") for n in floor.notes]
    lines += ["", _wrap(EXPLANATION)]
    if floor.chars_per_token is not None:
        lines += [""] + _references(floor.chars_per_token)
    return "\n".join(lines)


def _header(floor: Floor) -> str:
    parts = []
    if floor.n_tokens:
        parts.append(f"{floor.n_tokens:,} tokens")
    if floor.vocab_size is not None:
        parts.append(f"vocabulary {floor.vocab_size:,}")
    if floor.tokenizer:
        parts.append(f"tokenizer {floor.tokenizer.get('name', '?')}")
    if floor.bytes_per_token is not None:
        parts.append(f"{floor.bytes_per_token:.3f} bytes/token")
    if floor.chars_per_token is not None:
        parts.append(f"{floor.chars_per_token:.3f} chars/token")
    if floor.masked:
        parts.append("loss-masked tokens only")
    return "Entropy floor" + (" of " + ", ".join(parts) if parts else "")


def _cell(v: Value | None) -> str:
    if v is None:
        return "-"
    return f"{v.value:.4f}" + ("" if v.std is None else f"±{v.std:.4f}")


def _table(floor: Floor) -> list[str]:
    heads = ["n", "N", "distinct", "f1", "coinc.", "coverage", "bias", "regime"]
    rows = [
        [
            str(r.order),
            f"{r.n:,}",
            f"{r.distinct:,}",
            f"{r.singletons:,}",
            f"{r.coincidences:,}",
            "-" if math.isnan(r.coverage) else f"{r.coverage:.4f}",
            "-" if math.isnan(r.plugin_bias) else f"{r.plugin_bias:.4f}",
            r.regime,
        ]
        for r in floor.orders
    ]
    out = [
        "Sampling by order: f1 = n-grams seen once; coinc. = N - distinct; coverage = 1 - f1/N;",
        "bias = (distinct - contexts)/2N, the plug-in's first-order bias (nats):",
        *_aligned(heads, rows),
        "",
        "h_n by order and method, nats/token (± posterior std where the method has one):",
    ]
    methods = list(floor.methods)
    cells = [[_cell(r.conditional.get(m)) for m in methods] for r in floor.orders]
    # As many method columns as fit the width, then the next block below.
    start = 0
    while start < len(methods):
        stop = start + 1
        while stop < len(methods):
            trial = _aligned(
                ["n", *methods[start : stop + 1]],
                [
                    [str(r.order), *c[start : stop + 1]]
                    for r, c in zip(floor.orders, cells, strict=True)
                ],
            )
            if max(len(line) for line in trial) > WIDTH:
                break
            stop += 1
        out += _aligned(
            ["n", *methods[start:stop]],
            [[str(r.order), *c[start:stop]] for r, c in zip(floor.orders, cells, strict=True)],
        )
        start = stop
        if start < len(methods):
            out.append("")
    # Each method's own reason, as the estimator gave it (the JSON holds the same).
    reasons: dict[tuple[str, str], list[int]] = {}
    for r in floor.orders:
        for m, why in r.failed.items():
            reasons.setdefault((m, why), []).append(r.order)
    if reasons:
        out.append("'-': no estimate:")
        for (m, why), orders in reasons.items():
            which = "order" + ("s " if len(orders) > 1 else " ") + ", ".join(map(str, orders))
            out.append(_wrap(f"  {m} at {which}: {why}"))
    return out


def _aligned(heads: list[str], rows: list[list[str]]) -> list[str]:
    """Right-aligned columns under their heads."""
    widths = [max(len(x) for x in col) for col in zip(heads, *rows, strict=True)]
    fmt = "  ".join(f"{{:>{w}}}" for w in widths)
    return [fmt.format(*heads)] + [fmt.format(*row) for row in rows]


def _floor_lines(floor: Floor) -> list[str]:
    units = ["nats/token"]
    for unit in ("bits/token", "bits/byte", "bits/char"):
        try:
            unit_scale(unit, floor.bytes_per_token, floor.chars_per_token)
        except ValueError:
            continue
        units.append(unit)
    scale = unit_scale(units[-1], floor.bytes_per_token, floor.chars_per_token)
    out = [
        f"Floor: {floor.lower:.4f} nats/token"
        + ("" if len(units) == 1 else f" = {floor.lower * scale:.4f} {units[-1]}")
        + (", the lower end of the entropy rate's interval" if floor.rate is not None else ""),
    ]
    if floor.ngram_point is not None and floor.ngram_lower is not None:
        assert floor.ngram_upper is not None
        trust = "well sampled" if floor.reliable else "NOT well sampled"
        out.append(
            f"h_n of n-gram counts (order {floor.order}, {floor.method}, {trust}; above the rate):"
        )
        out += _in_units(floor, (floor.ngram_point, floor.ngram_lower, floor.ngram_upper), units)
    if floor.bound is not None:
        out.append("Online predictor's code length (an upper bound on the rate):")
        out += _in_units(floor, (floor.bound,), units)
    tail = None if floor.rate is None else floor.rate.tail
    if tail is not None:
        out.append(
            _wrap(
                f"Its code rate over the final half, {tail['mean']:.4f} nats/token "
                f"({int(tail['tokens']):,} tokens), + 2 se, also an upper bound:"
            )
        )
        out += _in_units(floor, (tail["upper"],), units)
    label = "Entropy rate" if floor.rate is not None else "Floor"
    out.append(f"{label} (point and interval; the floor is its lower end):")
    out += _in_units(floor, (floor.point, floor.lower, floor.upper), units)
    if floor.rate is not None:
        out.append("Rate by estimator, nats/token:")
        for name, m in floor.rate.methods.items():
            if m.ok:
                mark = "" if name in floor.rate.used else "  (too wide to constrain the rate)"
                out.append(f"  {name:<8} {m.value:.4f} [{m.lower:.4f}, {m.upper:.4f}]{mark}")
                # How the combination formed its interval or let it enter (rules 4-6).
                out += [_wrap(note, indent="    ") for note in method_notes(m)]
            else:
                out.append(_wrap(f"  {name:<8} -  ({m.reason})"))
    out.append(_wrap(f"Rule: {floor.rule}"))
    return out


def _in_units(floor: Floor, values: tuple[float, ...], units: list[str]) -> list[str]:
    """``values`` (nats/token: a point, or a point and its interval) in every unit."""
    out = []
    for unit in units:
        scale = unit_scale(unit, floor.bytes_per_token, floor.chars_per_token)
        v = [x * scale for x in values]
        span = "" if len(v) == 1 else f", interval [{v[1]:.4f}, {v[2]:.4f}]"
        out.append(f"  {v[0]:.4f} {unit}{span}")
    return out


def _references(chars_per_token: float) -> list[str]:
    """The English figures in bits/char and in nats per this corpus's token, and the unit
    trap they hold (Shannon's per-character figures read as per token)."""
    per = f"{chars_per_token:.3f}"
    out = [f"English text, for reference: bits/char = nats/token at {per} chars/token:"]
    for ref in REFERENCES:
        span = f"{ref.low:g}" if ref.low == ref.high else f"{ref.low:g}-{ref.high:g}"
        a, b = (x * LN2 * chars_per_token for x in (ref.low, ref.high))
        nats = f"{a:.2f}" + ("" if a == b else f"-{b:.2f}")
        out.append(f"  {span} bits/char = {nats} nats/token: {ref.what}")
        source = textwrap.fill(ref.source, WIDTH, initial_indent="    ", subsequent_indent="      ")
        out.append(source)
    bits = SHANNON_WORD_UNIGRAM_BITS_PER_CHAR
    out += [
        f"Unit warning: Shannon's word-unigram figure, {bits} bits ({bits * LN2:.2f} nats) per "
        "character, is here",
        f"  {bits * chars_per_token:.1f} bits = {bits * LN2 * chars_per_token:.1f} nats per "
        "token: compare like with like, through characters or bytes.",
    ]
    return out


def _wrap(text: str, width: int = WIDTH, indent: str = "") -> str:
    return textwrap.fill(text, width=width, initial_indent=indent, subsequent_indent=indent + "  ")
