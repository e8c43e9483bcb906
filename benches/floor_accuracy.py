"""How well the floor report recovers h_n and the entropy rate of sources of known entropy.

What it measures
----------------
Corpora are drawn from ``fe.MarkovSource`` chains (Zipfian rows over a random permutation
of the vocabulary per state, row exponents uniform in [0.8, 1.6]; exact rate from the
stationary distribution): i.i.d. draws (order 0, V = 1000), order 1 (V = 200), order 2
(V = 40) and order 3 (V = 16), each at 10^5, 10^6 and 10^7 tokens, with several seeds per
cell (a new chain and a new sample each). The floor's h_n table (what ``fe.estimate_floor``
reports beside the rate, by the same ``ngram_floor``) is made from the n-gram counter's
profiles of orders 1..6 and their contexts, with the methods below; the rate, which
estimate_floor also runs, is measured by benches/rate_accuracy.py (docs/rate.md). For
every order it records the regime the report assigns (from Good-Turing coverage, the
plug-in's first-order bias (distinct - contexts)/2N and the agreement of Grassberger, NSB
and PYM; see the rule below), both measures, and each method's error h_n(estimate) -
h_n(exact), where the exact h_n comes from the chain (``MarkovSource.conditional_entropies``).
For the floor it records the error of the point estimate against the exact h_n at the
order it was read at, whether the interval covers that h_n, its width, and how far that
h_n lies above the rate (zero once the order exceeds the Markov order k).

Outputs
-------
``benches/results/floor_accuracy.json``; with ``--write-docs`` also ``docs/floor.md`` (tables;
a hand-written summary between the summary markers is kept when the page is regenerated).

How to run
----------
::

    python benches/floor_accuracy.py               # full grid, ~2 min on 2 cores
    python benches/floor_accuracy.py --write-docs  # the same, and regenerate docs/floor.md
    python benches/floor_accuracy.py --quick       # 10^5 and 10^6 tokens, 3 seeds, prints only
    python benches/floor_accuracy.py --write-docs --from-json benches/results/floor_accuracy.json
"""

from __future__ import annotations

import datetime
import math
import os
import platform
import time
from typing import Any

import _common as common
import fastentropy as fe
import numpy as np
from fastentropy._floor.estimate import context_mask, ngram_floor

#: Threads for the counter (the machine has 2 cores).
THREADS = 2
METHODS = (
    "plugin",
    "miller_madow",
    "jackknife",
    "grassberger",
    "zhang",
    "chao_shen",
    "nsb",
    "pym",
)
SOURCES = (("iid", 1000, 0), ("order1", 200, 1), ("order2", 40, 2), ("order3", 16, 3))
SIZES = (10**5, 10**6, 10**7)
SEEDS = {10**5: 10, 10**6: 10, 10**7: 4}
REGIMES = ("reliable", "marginal", "unreliable")


def run_one(vocab: int, order: int, n_tokens: int, seed: int) -> dict[str, Any]:
    src = fe.MarkovSource(vocab, order, seed=seed)
    tokens = src.sample(n_tokens, seed=10_000 + seed)
    # The h_n table alone, from the n-gram counter: what these tables measure. The rate's
    # engines (suffix index, online predictor) that estimate_floor also runs are measured by
    # benches/rate_accuracy.py; here they would cost 2-3 minutes per 10^7-token run.
    orders = list(range(1, 7))
    blocks = fe.ngram_profiles(tokens, orders, threads=THREADS)
    ctx = fe.ngram_profiles(
        tokens, orders[:-1], mask=context_mask(tokens, None, None), threads=THREADS
    )
    floor = ngram_floor(
        blocks, {n + 1: p for n, p in ctx.items()}, METHODS, n_tokens=tokens.size, masked=False
    )
    assert [r.order for r in floor.orders] == list(range(1, 7))
    exact = src.conditional_entropies(6)
    rate = src.entropy_rate
    target = float(exact[floor.order - 1])
    return {
        "rate": rate,
        "floor": {
            "order": floor.order,
            "method": floor.method,
            "regime": floor.orders[floor.order - 1].regime,
            "error": floor.point - target,
            "above_rate": target - rate,
            "width": floor.upper - floor.lower,
            "covers": floor.lower <= target <= floor.upper,
        },
        "orders": [
            {
                "order": r.order,
                "exact": float(exact[r.order - 1]),
                "n": r.n,
                "distinct": r.distinct,
                "contexts": r.contexts,
                "singletons": r.singletons,
                "regime": r.regime,
                "coverage": r.coverage,
                "errors": {m: v.value - exact[r.order - 1] for m, v in r.conditional.items()},
                "stds": {m: v.std for m, v in r.conditional.items() if v.std is not None},
            }
            for r in floor.orders
        ],
    }


def run(quick: bool) -> dict[str, Any]:
    start = time.perf_counter()
    sizes = SIZES[:2] if quick else SIZES
    runs = []
    for name, vocab, order in SOURCES:
        for n_tokens in sizes:
            for seed in range(3 if quick else SEEDS[n_tokens]):
                t = time.perf_counter()
                result = run_one(vocab, order, n_tokens, seed)
                result.update(source=name, vocab=vocab, markov_order=order, tokens=n_tokens)
                result["seconds"] = time.perf_counter() - t
                runs.append(result)
                f = result["floor"]
                print(
                    f"{name:>7} N={n_tokens:>9,} seed={seed}: floor n={f['order']} "
                    f"{f['method']:<12} error {f['error']:+.4f} width {f['width']:.4f} "
                    f"{'covers' if f['covers'] else 'MISSES'}"
                )
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **common.provenance(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "wall_seconds": time.perf_counter() - start,
        "quick": quick,
        "runs": runs,
    }


def regime_table(runs: list[dict[str, Any]]) -> list[str]:
    """Bias, RMSE and largest error of each method's h_n, by regime, in nats/token."""
    lines = [
        "| method | " + " | ".join(f"{r} bias | RMSE | max abs" for r in REGIMES) + " |",
        "|---|" + "---|---|---|" * len(REGIMES),
    ]
    counts = {g: sum(1 for run in runs for o in run["orders"] if o["regime"] == g) for g in REGIMES}
    for m in METHODS:
        cells = []
        for g in REGIMES:
            errs = [
                o["errors"][m]
                for run in runs
                for o in run["orders"]
                if o["regime"] == g and m in o["errors"]
            ]
            if not errs:
                cells += ["-", "-", "-"]
                continue
            missing = counts[g] - len(errs)
            mark = f" ({missing} n/a)" if missing else ""
            rmse = math.sqrt(np.mean(np.square(errs)))
            cells += [f"{np.mean(errs):+.4f}", f"{rmse:.4f}{mark}", f"{np.max(np.abs(errs)):.4f}"]
        lines.append(f"| {m} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        "Orders per regime: " + ", ".join(f"{g} {counts[g]}" for g in REGIMES) + ". "
        "`(k n/a)`: the method gave no estimate at k of them (no coincidences)."
    )
    return lines


def calibration_table(runs: list[dict[str, Any]]) -> list[str]:
    lines = ["| method | regime | orders | share within ±2 std |", "|---|---|---|---|"]
    for m in ("nsb", "pym", "jackknife"):
        for g in REGIMES:
            hits = [
                abs(o["errors"][m]) <= 2 * o["stds"][m]
                for run in runs
                for o in run["orders"]
                if o["regime"] == g and m in o["stds"]
            ]
            if hits:
                lines.append(f"| {m} | {g} | {len(hits)} | {np.mean(hits):.0%} |")
    return lines


def floor_table(runs: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| source | tokens | runs | floor order (k+1) | regime | mean error | max abs error "
        "| mean width | covers exact h_n | h_n - rate |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, vocab, order in SOURCES:
        for n_tokens in sorted({r["tokens"] for r in runs}):
            cell = [r for r in runs if r["source"] == name and r["tokens"] == n_tokens]
            if not cell:
                continue
            f = [r["floor"] for r in cell]
            errors = [x["error"] for x in f]
            lines.append(
                f"| {name} (V={vocab}) | {n_tokens:,} | {len(cell)} | "
                f"{', '.join(str(o) for o in sorted({x['order'] for x in f}))} ({order + 1}) | "
                f"{', '.join(sorted({x['regime'] for x in f}))} | "
                f"{np.mean(errors):+.4f} | {np.max(np.abs(errors)):.4f} | "
                f"{np.mean([x['width'] for x in f]):.4f} | "
                f"{sum(x['covers'] for x in f)}/{len(f)} | "
                f"{np.mean([x['above_rate'] for x in f]):.4f} |"
            )
    return lines


def markdown(results: dict[str, Any]) -> tuple[list[str], str]:
    runs = results["runs"]
    covered = sum(r["floor"]["covers"] for r in runs)
    head = [
        "# The floor on sources of known entropy rate",
        "",
        "Generated by `benches/floor_accuracy.py` (fastentropy "
        f"{results['fastentropy_version']}, git {results['git']}, {results['date']}, "
        f"{results['machine']}, "
        f"{results['wall_seconds'] / 60:.1f} min). Raw numbers: "
        "`benches/results/floor_accuracy.json`.",
        "",
        "**Setup.** "
        + __doc__.split("What it measures\n----------------\n")[1]
        .split("\n\n")[0]
        .replace("\n", " ")
        + f" In all: {len(runs)} runs; the floor interval covered the exact h_n of its order "
        f"in {covered} of them.",
        "",
        "The rule (`fe.estimate_floor`): " + fe._floor.RULE + ".",
        "",
    ]
    body = "\n".join(
        [
            "## The floor against the exact h_n of its order (nats/token)",
            "",
            *floor_table(runs),
            "",
            "## h_n of each method by the regime the report assigns (error in nats/token)",
            "",
            *regime_table(runs),
            "",
            "## Are the error bars honest? (h_n within ±2 of its std, by regime)",
            "",
            *calibration_table(runs),
            "",
        ]
    )
    return head, body


def main() -> None:
    parser = common.arg_parser(__doc__, "10^5 and 10^6 tokens, 3 seeds")
    common.add_output_args(parser, "docs", "docs/floor.md (PATH: a folder)")
    args = parser.parse_args()
    if args.from_json:
        results = common.load_results(args.from_json)
    else:
        results = run(args.quick)
        common.save_results(results, "floor_accuracy", args.out, args.quick)
    head, body = markdown(results)
    if args.write_docs:
        common.write_doc(os.path.join(args.write_docs, "floor.md"), head, body)
    else:
        print("\n".join(head) + "\n" + body)


if __name__ == "__main__":
    main()
