"""The verdict as a text report for a terminal (lines of at most 100 columns)."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .result import Verdict

__all__ = ["report"]


def report(v: Verdict) -> str:
    wrap = textwrap.TextWrapper(width=92, initial_indent="  ", subsequent_indent="  ")
    bullet = textwrap.TextWrapper(width=92, initial_indent="  - ", subsequent_indent="    ")
    log = v.log
    lines = [
        f"Training loss vs entropy floor: {v.status.upper()}",
        *wrap.wrap(v.headline),
        "",
        f"  log     {log.source or '(in memory)'} ({log.format}, loss field {log.loss_field!r}, "
        f"{len(v.step)} training losses, steps {v.step[0]}-{v.step[-1]})",
        f"  floor   {v.floor_point:.3f} nats/token, interval {v.floor_lower:.3f}-"
        f"{v.floor_upper:.3f}",
        f"  lowest  {v.loss.min():.4g} nats/token at step {v.step[np.argmin(v.loss)]} "
        f"(margin {v.margin.min():+.3g})",
    ]
    firsts = [
        ("under the lower end", v.first_under_lower),
        ("under the point", v.first_under_point),
    ]
    for label, first in firsts:
        if first is not None:
            lines.append(f"  first   {label} at step {first}")
    if v.sustained_from is not None:
        lines.append(
            f"  under   the lower end from step {v.sustained_from} to {v.sustained_until}; "
            f"{v.points_under_lower} of {len(v.step)} logged losses under it"
        )
    if v.boundaries:
        lines += ["", "  epoch boundaries (median loss of up to 5 logged points each side):"]
        lines.append(
            f"  {'step':>9} {'epoch':>7} {'before':>8} {'after':>8} {'drop':>8}"
            f" {'lr before':>10} {'lr after':>10}"
        )
        for b in v.boundaries:
            lines.append(
                f"  {b.step:>9} {b.epoch:>7.3g} {b.loss_before:>8.4g} {b.loss_after:>8.4g} "
                f"{b.drop:>+8.3g} {b.lr_before:>10.3g} {b.lr_after:>10.3g}"
            )
    if v.eval_step.size:
        lines += [
            "",
            f"  evaluation: {v.eval_step.size} losses; last {v.eval_loss[-1]:.4g} at "
            f"step {v.eval_step[-1]} (eval - train gap {v.eval_gap[-1]:+.3g})",
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
