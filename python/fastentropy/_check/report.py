"""The verdict as a text report for a terminal (lines of at most 100 columns)."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .result import Verdict

__all__ = ["report"]


#: The report's width: a terminal's 100 columns, the house limit for text output.
WIDTH = 92


def report(v: Verdict) -> str:
    """The verdict as text: status, headline, the figures, boundaries, caveats, notes."""
    wrap = textwrap.TextWrapper(width=WIDTH, initial_indent="  ", subsequent_indent="  ")
    bullet = textwrap.TextWrapper(width=WIDTH, initial_indent="  - ", subsequent_indent="    ")
    field = textwrap.TextWrapper(width=WIDTH, initial_indent="  ", subsequent_indent=" " * 10)
    log = v.log
    lines = [
        f"Training loss vs entropy floor: {v.status.upper()}",
        *wrap.wrap(v.headline),
        "",
        *field.wrap(
            f"log     {log.source or '(in memory)'} ({log.format}, loss field "
            f"{log.loss_field!r}, {len(v.step)} training losses, steps {v.step[0]}-{v.step[-1]})"
        ),
        f"  floor   {v.floor_point:.4g} nats/token, interval {v.floor_lower:.4g}-"
        f"{v.floor_upper:.4g}",
        f"  lowest  {v.loss.min():.4g} nats/token at step {v.step[np.argmin(v.loss)]} "
        f"(margin {v.margin.min():+.3g})",
    ]
    firsts = [
        ("under the lower end", v.first_under_lower),
        ("under the point", v.first_under_point),
    ]
    if log.objective is not None:
        firsts = []  # not a cross-entropy: where it sits against the floor means nothing
    for label, first in firsts:
        if first is not None:
            lines.append(f"  first   {label} at step {first}")
    if v.sustained_from is not None and log.objective is None:
        lines.append(
            f"  under   the lower end: {v.points_under_lower} of {len(v.step)} logged losses; "
            f"the first run of 3 or more from step {v.sustained_from} to {v.sustained_until}"
        )
    if v.boundaries:
        lines += [
            "",
            *wrap.wrap(
                "epoch boundaries (new epoch: the one that starts, counted from 1; the loss "
                "level each side is the logged epoch mean, else the median of up to 5 points; "
                "noise: twice the standard error of the drop):"
            ),
        ]
        lines.append(
            f"  {'step':>9} {'new epoch':>9} {'before':>8} {'after':>8} {'drop':>8}"
            f" {'noise':>7} {'lr before':>10} {'lr after':>10}"
        )
        for b in v.boundaries:
            noise, lr_before, lr_after = (
                f"{x:>{w}.{d}g}" if x == x else f"{'-':>{w}}"  # NaN: not logged or not known
                for x, w, d in ((b.noise, 7, 2), (b.lr_before, 10, 3), (b.lr_after, 10, 3))
            )
            lines.append(
                f"  {b.step:>9} {b.epoch:>9.0f} {b.loss_before:>8.4g} {b.loss_after:>8.4g} "
                f"{b.drop:>+8.3g} {noise} {lr_before} {lr_after}"
                + ("  within the noise" if b.within_noise else "")
            )
    if v.eval_step.size:
        lines += [
            "",
            f"  evaluation: {v.eval_step.size} losses; last {v.eval_loss[-1]:.4g} at "
            f"step {v.eval_step[-1]} (eval - train {v.eval_gap[-1]:+.3g}, against the median",
            "  of the training losses logged nearest it)",
        ]
    ps = v.per_sample
    if ps is not None:
        lines += [
            "",
            f"  per example: {len(ps.ids)} examples, {ps.share_below_lower:.1%} under "
            f"the floor's lower end, {ps.share_below_point:.1%} under its point",
        ]
        if ps.token_share_below_lower is not None:
            lines.append(f"    ({ps.token_share_below_lower:.1%} of their tokens)")
        for i, m in ps.worst[:5]:
            lines.append(f"    {i}: {m:+.3g} nats/token")
        lines += [f"    {n}" for n in ps.notes]
    if v.caveats:
        lines += ["", "  caveats:"]
        for c in v.caveats:
            lines += bullet.wrap(c)
    if log.notes:
        lines += ["", "  reading the log:"]
        for n in log.notes:
            lines += bullet.wrap(n)
    return "\n".join(lines)
