"""The rate rule re-applied to every stored run of benches/rate_accuracy.py.

Each stored synthetic run keeps what its estimators saw ("diagnostics": every estimator's
interval, the slope's and KASW's values and stds, L/N, the final half). This script rebuilds
the estimators' answers from them and combines them again with ``fe.combine_rates`` — the
installed code's rule — so a change to the rule is validated on every run at once, without
re-running a predictor: coverage of the true rate, the largest excess of the lower end over
the truth (target: never above +0.1 nats/token), and each run whose interval differs from
the stored combined row (that row is what the code of its day gave; older files predate
later rules, so a difference is a change of rule, not an error).

The match-length interval is stored as it entered (the slope's alone where rule 5 fired), so
it is rebuilt as ``matches.rs`` forms it: the union of slope ± 2 se and KASW ± 2 std.

    python benches/rate_recombine.py [--results DIR] [--changed-only] [--check]

With ``--check`` (run by CI) it exits 1 unless every run is covered and no lower end lies
more than 0.1 nats/token above the truth: a change to the rule cannot lose a stored run
unnoticed.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
from collections.abc import Iterator
from typing import Any

import _common
import fastentropy as fe

#: The issue's bound on how far the lower end may lie above the truth (nats/token).
MAX_EXCESS = 0.1


def stored_runs(results: str) -> Iterator[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """``(file name, diagnostics, stored combined row or None)`` of every stored run."""
    for path in sorted(glob.glob(os.path.join(results, "rate_accuracy*.json"))):
        with open(path) as f:
            data = json.load(f)
        combined = {
            (r["source"], r["seed"]): r for r in data.get("rows", []) if r["method"] == "combined"
        }
        for g in data.get("diagnostics", []):
            yield os.path.basename(path), g, combined.get((g["source"], g["seed"]))


def answers(g: dict[str, Any]) -> list[fe.MethodResult]:
    """The estimators' answers as the run's diagnostics hold them."""
    out = []
    for name in ("orders", "curve", "matches"):
        iv = g.get(name)
        if iv is None:
            out.append(fe.MethodResult.failed(name, "failed in the stored run"))
            continue
        detail: dict[str, Any] = {}
        slope, kasw = g.get("slope"), g.get("kasw")
        if name == "matches" and slope and kasw and slope.get("std") is not None:
            detail = {"slope": slope, "kasw": kasw}
            k = 2 * (kasw.get("std") or 0.0)
            s = 2 * slope["std"]
            lower = max(min(kasw["value"] - k, slope["value"] - s), 0.0)
            iv = [slope["value"], lower, max(kasw["value"] + k, slope["value"] + s)]
        out.append(fe.MethodResult(name, *iv, detail=detail))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--results", default=os.path.join(_common.ROOT, "benches", "results"))
    p.add_argument("--changed-only", action="store_true", help="print only changed runs")
    p.add_argument(
        "--check",
        action="store_true",
        help="print only changed runs; exit 1 unless every run is covered and no lower end "
        f"lies more than {MAX_EXCESS} above the truth",
    )
    args = p.parse_args()
    args.changed_only |= args.check
    runs = covered = 0
    excess = float("-inf")
    for name, g, stored in stored_runs(args.results):
        t = g["truth"]
        r = fe.combine_rates(answers(g), bound=g.get("bound"), tail=g.get("tail"))
        runs += 1
        covered += r.lower <= t <= r.upper
        excess = max(excess, r.lower - t)
        now = (r.point, r.lower, r.upper)
        before = None if stored is None else (stored["point"], stored["lower"], stored["upper"])
        if args.changed_only and before == now:
            continue
        if before is None:
            was = "no stored row"
        elif before == now:
            was = "same as stored"
        else:
            was = f"stored [{before[1] - t:+.3f}, {before[2] - t:+.3f}]"
            was += f" w {before[2] - before[1]:.3f}"
        print(
            f"{name:<42} {g['source']:<27} s{g['seed']}: [{r.lower - t:+.3f}, {r.upper - t:+.3f}]"
            f" w {r.upper - r.lower:.3f}  ({was})"
        )
    print(f"\n{runs} runs: coverage {covered}/{runs}, lower end - truth at most {excess:+.3f}")
    if args.check and (runs == 0 or covered < runs or excess > MAX_EXCESS):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
