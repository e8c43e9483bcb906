"""Accuracy of every fastentropy estimator on samples of exactly known entropy.

What it measures
----------------
For each distribution with a known entropy H (bits) --

* ``uniform``       p_i = 1/K,
* ``zipf1.0``       p_i ∝ i^-1.0,
* ``zipf1.1``       p_i ∝ i^-1.1,
* ``dirichlet0.1``  p ~ Dirichlet(0.1, ..., 0.1), drawn once per K with a fixed seed,
                    H computed exactly from that p --

over K = 10^3 .. 10^6 outcomes and N/K in {0.01, 0.03, 0.1, 0.3, 1, 3, 10}, it draws
replicate samples (``numpy.random.Generator.multinomial`` over p, fixed seeds derived from
(distribution, K, N/K), so ``--quick`` draws the very same samples as the full run), builds
each sample's profile with ``fe.Profile.from_counts`` and runs every method of
``fe.METHODS``. Methods run without ``alphabet_size`` (``dirichlet`` needs it and is run only
with it), and ``nsb``, ``dirichlet`` and ``shrinkage`` are run again with the true K
(labelled ``nsb@K``, ``dirichlet@K``, ``shrinkage@K``).

Per cell (distribution, K, N/K) and method it reports, in bits: bias = mean(estimate - H),
RMSE, the spread of the estimates, and, for methods with a ``std``, the coverage of the
interval estimate ± std (nominal 68.3% for a Gaussian posterior). A ``ValueError`` is
counted, not fatal: "needs coincidences" (a sample where every outcome was seen once) is
an expected skip; any other ``ValueError`` (e.g. a non-finite result) is recorded with its
message as a library error. Each (cell, method) has a wall-clock budget: once its calls have
taken ``--budget`` seconds, the remaining replicates of that cell are not run for that
method (recorded as ``not_run_budget``), so one pathologically slow method cannot stall the
benchmark.

Outputs
-------
``benches/results/estimator_accuracy.json`` (every cell); with ``--write-docs`` also
``docs/accuracy.md`` (tables) and ``docs/accuracy.png`` (bias against N/K), which a run
leaves alone otherwise. A hand-written summary in ``docs/accuracy.md`` between the
``<!-- summary:begin -->`` and ``<!-- summary:end -->`` markers is kept when the file is
regenerated.

How to run
----------
::

    python benches/estimator_accuracy.py                # full grid, ~5-10 min on 2 cores
    python benches/estimator_accuracy.py --write-docs   # the same, and regenerate the pages
    python benches/estimator_accuracy.py --quick        # small subset, < 1 min, prints only

Regenerate the pages from saved results (``benches/results/estimator_accuracy.json``),
without running::

    python benches/estimator_accuracy.py --write-docs --from-json FILE

Needs numpy, matplotlib (for the plot) and fastentropy. Not part of the test run.
"""

from __future__ import annotations

import datetime
import math
import os
import platform
import sys
import time
import warnings
from typing import Any

import _common as common
import fastentropy as fe
import numpy as np

SEED = 20240611

DISTRIBUTIONS = ("uniform", "zipf1.0", "zipf1.1", "dirichlet0.1")
K_VALUES = (10**3, 10**4, 10**5, 10**6)
RATIOS = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
REPLICATES = {10**3: 500, 10**4: 250, 10**5: 100, 10**6: 40}

QUICK_K_VALUES = (10**3, 10**4)
QUICK_RATIOS = (0.01, 0.1, 1.0, 10.0)
QUICK_REPLICATES = 5

#: Nominal coverage of mean ± 1 std for a Gaussian.
NOMINAL = math.erf(1 / math.sqrt(2))
#: Regimes used by the summary tables.
REGIMES = {
    "undersampled (N/K ≤ 0.1)": (0.0, 0.1),
    "intermediate (0.3 ≤ N/K ≤ 1)": (0.3, 1.0),
    "well sampled (N/K ≥ 3)": (3.0, math.inf),
}
#: Plot colour and line style per method: plug-in family solid, K-informed dashed.
STYLES = {
    "plugin": ("black", "-"),
    "miller_madow": ("tab:gray", "-"),
    "jackknife": ("tab:olive", "-"),
    "grassberger": ("tab:green", "-"),
    "grassberger_lnN": ("tab:green", ":"),
    "zhang": ("tab:cyan", "-"),
    "chao_shen": ("tab:orange", "-"),
    "shrinkage": ("tab:pink", "-"),
    "nsb": ("tab:blue", "-"),
    "ansb": ("tab:purple", "-"),
    "pym": ("tab:red", "-"),
    "nsb@K": ("tab:blue", "--"),
    "dirichlet@K": ("tab:brown", "--"),
    "shrinkage@K": ("tab:pink", "--"),
}


# --------------------------------------------------------------------------- distributions


def distribution(name: str, k: int) -> np.ndarray:
    """The probability vector of ``name`` over ``k`` outcomes (deterministic)."""
    if name == "uniform":
        return np.full(k, 1.0 / k)
    if name.startswith("zipf"):
        s = float(name[len("zipf") :])
        p = np.arange(1, k + 1, dtype=np.float64) ** -s
        return p / p.sum()
    if name.startswith("dirichlet"):
        a = float(name[len("dirichlet") :])
        rng = np.random.default_rng([SEED, 99, DISTRIBUTIONS.index(name), int(math.log10(k))])
        p = rng.dirichlet(np.full(k, a))
        return p / p.sum()
    raise ValueError(f"unknown distribution {name!r}")


def entropy_bits(p: np.ndarray) -> float:
    """Exact entropy -Σ p log2 p of a probability vector."""
    q = p[p > 0]
    return float(-(q * np.log2(q)).sum())


def sample_rng(dist: str, k: int, ratio: float) -> np.random.Generator:
    """The generator of one cell, the same in quick and full runs."""
    return np.random.default_rng(
        [SEED, DISTRIBUTIONS.index(dist), int(math.log10(k)), int(round(ratio * 100))]
    )


# ---------------------------------------------------------------------------- measurement


def classify(error: ValueError) -> str:
    text = str(error)
    return "no_coincidences" if "coincidence" in text else "error"


def run_cell(
    dist: str, k: int, ratio: float, p: np.ndarray, truth: float, reps: int, budget: float
) -> dict[str, Any]:
    """Every variant on ``reps`` samples of size N = ratio·K from ``p``."""
    n = int(round(ratio * k))
    rng = sample_rng(dist, k, ratio)
    profiles = [fe.Profile.from_counts(rng.multinomial(n, p)) for _ in range(reps)]
    cell: dict[str, Any] = {
        "distribution": dist,
        "K": k,
        "ratio": ratio,
        "N": n,
        "truth_bits": truth,
        "replicates": reps,
        "mean_distinct": float(np.mean([q.distinct for q in profiles])),
        "mean_singletons": float(np.mean([q.singletons for q in profiles])),
        "samples_without_coincidence": sum(q.distinct == q.n for q in profiles),
        "methods": {},
    }
    for label, method, with_k in common.variants():
        values: list[float] = []
        stds: list[float] = []
        skipped = 0
        errors: dict[str, int] = {}
        nonfinite = 0
        spent = 0.0
        ran = 0
        for prof in profiles:
            if spent > budget:
                break
            ran += 1
            t0 = time.perf_counter()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    est = fe.entropy(prof, method, alphabet_size=k if with_k else None, unit="bits")
            except ValueError as exc:
                spent += time.perf_counter() - t0
                if classify(exc) == "no_coincidences":
                    skipped += 1
                else:
                    errors[str(exc)] = errors.get(str(exc), 0) + 1
                continue
            spent += time.perf_counter() - t0
            if not math.isfinite(est.value) or (
                est.std is not None and not (math.isfinite(est.std) and est.std >= 0)
            ):
                nonfinite += 1
                continue
            values.append(est.value)
            if est.std is not None:
                stds.append(est.std)
        cell["methods"][label] = summarise(
            values, stds, truth, ran, reps - ran, skipped, errors, nonfinite, spent
        )
    return cell


def summarise(
    values: list[float],
    stds: list[float],
    truth: float,
    ran: int,
    not_run: int,
    skipped: int,
    errors: dict[str, int],
    nonfinite: int,
    spent: float,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "n_ok": len(values),
        "skipped_no_coincidences": skipped,
        "errors": errors,
        "nonfinite": nonfinite,
        "not_run_budget": not_run,
        "seconds_per_call": spent / ran if ran else None,
        "bias": None,
        "rmse": None,
        "sd": None,
        "mean_std": None,
        "coverage": None,
        "min": min(values, default=None),
        "max": max(values, default=None),
    }
    if values:
        err = np.asarray(values) - truth
        out["bias"] = float(err.mean())
        out["rmse"] = float(np.sqrt((err**2).mean()))
        out["sd"] = float(err.std(ddof=1)) if err.size > 1 else 0.0
        if len(stds) == len(values):
            s = np.asarray(stds)
            out["mean_std"] = float(s.mean())
            out["coverage"] = float((np.abs(err) <= s).mean())
    return out


def run(quick: bool, budget: float) -> dict[str, Any]:
    ks = QUICK_K_VALUES if quick else K_VALUES
    ratios = QUICK_RATIOS if quick else RATIOS
    started = time.perf_counter()
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    cells = []
    for dist in DISTRIBUTIONS:
        for k in ks:
            p = distribution(dist, k)
            truth = entropy_bits(p)
            reps = QUICK_REPLICATES if quick else REPLICATES[k]
            for ratio in ratios:
                t0 = time.perf_counter()
                cells.append(run_cell(dist, k, ratio, p, truth, reps, budget))
                print(
                    f"{dist:>13} K={k:>8} N/K={ratio:<5} H={truth:7.4f} bits "
                    f"reps={reps:>2} {time.perf_counter() - t0:6.1f}s",
                    flush=True,
                )
    return {
        "benchmark": "estimator_accuracy",
        "quick": quick,
        "date": date,
        **common.provenance(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "seed": SEED,
        "budget_seconds": budget,
        "distributions": list(DISTRIBUTIONS),
        "K_values": list(ks),
        "ratios": list(ratios),
        "variants": [
            {"label": lab, "method": m, "alphabet_size": "true K" if wk else None}
            for lab, m, wk in common.variants()
        ],
        "unit": "bits",
        "wall_seconds": time.perf_counter() - started,
        "cells": cells,
    }


# ---------------------------------------------------------------------------------- report


def fmt(x: float | None, spec: str = "+.3f") -> str:
    return "—" if x is None else format(x, spec)


def regime_of(ratio: float) -> str | None:
    for name, (lo, hi) in REGIMES.items():
        if lo <= ratio <= hi:
            return name
    return None


def aggregate(results: dict[str, Any]) -> dict[str, Any]:
    """Per variant and N/K: mean RMSE and |bias| over cells, coverage, and skip counts."""
    labels = [v["label"] for v in results["variants"]]
    ratios = results["ratios"]
    ncells = len(results["distributions"]) * len(results["K_values"])
    agg: dict[str, Any] = {}
    for lab in labels:
        row: dict[str, Any] = {"by_ratio": {}, "skipped": 0, "errors": 0, "not_run": 0}
        for ratio in ratios:
            cs = [c for c in results["cells"] if c["ratio"] == ratio]
            ms = [c["methods"][lab] for c in cs]
            ok = [m for m in ms if m["rmse"] is not None]
            cov = [m["coverage"] for m in ok if m["coverage"] is not None]
            row["by_ratio"][ratio] = {
                "cells": len(ok),
                "of": ncells,
                "complete": all(c["methods"][lab]["n_ok"] == c["replicates"] for c in cs),
                "rmse": float(np.mean([m["rmse"] for m in ok])) if ok else None,
                "abs_bias": float(np.mean([abs(m["bias"]) for m in ok])) if ok else None,
                "bias": float(np.mean([m["bias"] for m in ok])) if ok else None,
                "coverage": float(np.mean(cov)) if cov else None,
            }
        for c in results["cells"]:
            m = c["methods"][lab]
            row["skipped"] += m["skipped_no_coincidences"]
            row["errors"] += sum(m["errors"].values()) + m["nonfinite"]
            row["not_run"] += m["not_run_budget"]
        agg[lab] = row
    return agg


def best_tables(results: dict[str, Any]) -> list[str]:
    """Best variant (lowest RMSE) per distribution and N/K, counted over K."""
    lines = []
    ratios = results["ratios"]
    header = "| distribution | K | " + " | ".join(f"N/K={r:g}" for r in ratios) + " |"
    lines += [header, "|" + "---|" * (len(ratios) + 2)]
    for dist in results["distributions"]:
        for k in results["K_values"]:
            row = [dist, f"10^{int(math.log10(k))}"]
            for ratio in ratios:
                cell = next(
                    c
                    for c in results["cells"]
                    if c["distribution"] == dist and c["K"] == k and c["ratio"] == ratio
                )
                complete = {
                    lab: m
                    for lab, m in cell["methods"].items()
                    if m["rmse"] is not None and m["n_ok"] == cell["replicates"]
                }
                blind = {lab: m for lab, m in complete.items() if "@K" not in lab}
                if not blind:
                    row.append("—")
                    continue
                b = min(blind, key=lambda lab: blind[lab]["rmse"])
                text = f"{b} {blind[b]['rmse']:.3f}"
                a = min(complete, key=lambda lab: complete[lab]["rmse"])
                if a != b:
                    text += f"; {a} {complete[a]['rmse']:.3f}"
                row.append(text)
            lines.append("| " + " | ".join(row) + " |")
    return lines


def markdown(results: dict[str, Any], summary: str) -> str:
    agg = aggregate(results)
    labels = list(agg)
    ratios = results["ratios"]
    rhead = " | ".join(f"{r:g}" for r in ratios)
    sep = "|" + "---|" * (len(ratios) + 1)
    out = [
        "# Estimator accuracy",
        "",
        "Generated by `benches/estimator_accuracy.py` "
        f"(fastentropy {results['fastentropy_version']}, git {results['git']}, "
        f"extension build {results.get('build', 'unknown')}, "
        f"{results['date']}, {results['machine']}, "
        f"{results['wall_seconds'] / 60:.1f} min). Raw numbers: "
        "`benches/results/estimator_accuracy.json`. Re-run with "
        "`python benches/estimator_accuracy.py --write-docs` (`--quick` for a < 1 min subset).",
        "",
        "**Setup.** Distributions of exactly known entropy: uniform, Zipf p_i ∝ i^-s with "
        "s = 1.0 and 1.1, and one p ~ Dirichlet(0.1·1) drawn per K with a fixed seed (its "
        "entropy computed from p). K = "
        + ", ".join(f"10^{int(math.log10(k))}" for k in results["K_values"])
        + " outcomes; N/K = "
        + ", ".join(f"{r:g}" for r in ratios)
        + "; replicate multinomial samples per cell: "
        + ", ".join(
            f"{REPLICATES.get(k, QUICK_REPLICATES) if not results['quick'] else QUICK_REPLICATES}"
            f" at K=10^{int(math.log10(k))}"
            for k in results["K_values"]
        )
        + ". Every method of `fe.METHODS` is run without `alphabet_size` (except `dirichlet`,"
        " which needs it); `nsb`, `dirichlet` (default concentration a = 1/2) and "
        "`shrinkage` are also run with the true K (`@K`). Errors are in **bits**: bias = "
        "mean(estimate − H), RMSE over replicates; coverage = share of replicates with "
        f"|estimate − H| ≤ std (nominal {NOMINAL:.1%}). Per (cell, method) time budget "
        f"{results['budget_seconds']:g} s.",
        "",
        common.SUMMARY_BEGIN,
        summary.strip() or "_(summary to be written after the run)_",
        common.SUMMARY_END,
        "",
        "![bias against N/K](accuracy.png)",
        "",
        "## RMSE by N/K, averaged over distributions and K (bits)",
        "",
        "Mean over the (distribution, K) cells where the method returned at least one "
        "estimate; `(n)` marks an average over only n of the "
        f"{len(results['distributions']) * len(results['K_values'])} cells (the others had "
        "no usable replicate); `†` marks an average in which some replicates are missing "
        "(`nsb` without K, `ansb` and `pym` are then scored only on the samples that had a "
        "coincidence, an easier selected subset, so their figures flatter them). Bold: lowest "
        "in the column among averages with every replicate.",
        "",
        f"| method | {rhead} |",
        sep,
    ]
    for key, spec in (("rmse", ".3f"), ("bias", "+.3f")):
        if key == "bias":
            out += [
                "",
                "## Mean bias by N/K, averaged over distributions and K (bits)",
                "",
                "Negative: the estimate is below the truth.",
                "",
                f"| method | {rhead} |",
                sep,
            ]
        best = {
            r: min(
                (
                    agg[lab]["by_ratio"][r]["rmse"]
                    for lab in labels
                    if agg[lab]["by_ratio"][r]["rmse"] is not None
                    and agg[lab]["by_ratio"][r]["complete"]
                ),
                default=None,
            )
            for r in ratios
        }
        for lab in labels:
            cells = []
            for r in ratios:
                d = agg[lab]["by_ratio"][r]
                text = fmt(d[key], spec)
                if key == "rmse" and d[key] is not None and d[key] == best[r] and d["complete"]:
                    text = f"**{text}**"
                if d["cells"] and not d["complete"]:
                    text += "†"
                if d["cells"] and d["cells"] < d["of"]:
                    text += f" ({d['cells']})"
                cells.append(text)
            out.append(f"| {lab} | " + " | ".join(cells) + " |")
    out += [
        "",
        "## Coverage of estimate ± std, averaged over distributions and K",
        "",
        f"Nominal {NOMINAL:.1%}. Far below: the reported std is overconfident.",
        "",
        f"| method | {rhead} |",
        sep,
    ]
    for lab in labels:
        if all(agg[lab]["by_ratio"][r]["coverage"] is None for r in ratios):
            continue
        cells = [fmt(agg[lab]["by_ratio"][r]["coverage"], ".0%") for r in ratios]
        out.append(f"| {lab} | " + " | ".join(cells) + " |")
    out += [
        "",
        "## Best method per cell",
        "",
        "Lowest RMSE (bits) among methods that returned all replicates: first the best "
        "method that does not know K, then, if different, the best overall.",
        "",
    ]
    out += best_tables(results)
    out += [
        "",
        "## Skipped and failed calls",
        "",
        "Skipped: `ValueError` because the sample has no coincidence (expected for `nsb` "
        "without K, `ansb`, `pym`). Errors: any other `ValueError` or a non-finite value. "
        "Not run: replicates left out once the method exhausted its time budget in a cell.",
        "",
        "| method | skipped (no coincidences) | errors | not run (budget) |",
        "|---|---|---|---|",
    ]
    for lab in labels:
        a = agg[lab]
        out.append(f"| {lab} | {a['skipped']} | {a['errors']} | {a['not_run']} |")
    errors = [
        (c, lab, msg, cnt)
        for c in results["cells"]
        for lab, m in c["methods"].items()
        for msg, cnt in m["errors"].items()
    ]
    if errors:
        out += ["", "Errors seen:", ""]
        for c, lab, msg, cnt in errors:
            out.append(
                f"- `{lab}`, {c['distribution']} K={c['K']} N/K={c['ratio']:g}: {cnt}× “{msg}”"
            )
    slow = sorted(
        (
            (m["seconds_per_call"], lab, c)
            for c in results["cells"]
            for lab, m in c["methods"].items()
            if m["seconds_per_call"] is not None
        ),
        key=lambda t: t[0],
        reverse=True,
    )[:8]
    out += ["", "Slowest (cell, method) pairs, mean seconds per call:", ""]
    for sec, lab, c in slow:
        out.append(f"- `{lab}`: {sec:.2f} s ({c['distribution']}, K={c['K']}, N={c['N']})")
    out += ["", "## Full results", ""]
    out.append(
        "Each entry: bias / RMSE in bits (`cov` rows: coverage of ± std). `—`: no usable "
        "replicate; `k/n`: only k of n replicates usable."
    )
    for dist in results["distributions"]:
        for k in results["K_values"]:
            group = [c for c in results["cells"] if c["distribution"] == dist and c["K"] == k]
            group.sort(key=lambda c: c["ratio"])
            out += [
                "",
                f"### {dist}, K = 10^{int(math.log10(k))}, H = {group[0]['truth_bits']:.4f} "
                f"bits, {group[0]['replicates']} replicates",
                "",
                "| method | " + " | ".join(f"N/K={c['ratio']:g}" for c in group) + " |",
                "|" + "---|" * (len(group) + 1),
            ]
            for lab in labels:
                row = []
                for c in group:
                    m = c["methods"][lab]
                    if m["rmse"] is None:
                        row.append("—")
                        continue
                    text = f"{m['bias']:+.3f} / {m['rmse']:.3f}"
                    if m["n_ok"] < c["replicates"]:
                        text += f" ({m['n_ok']}/{c['replicates']})"
                    row.append(text)
                out.append(f"| {lab} | " + " | ".join(row) + " |")
            for lab in labels:
                covs = [c["methods"][lab]["coverage"] for c in group]
                if all(v is None for v in covs):
                    continue
                out.append(f"| {lab} cov | " + " | ".join(fmt(v, ".0%") for v in covs) + " |")
    return "\n".join(out) + "\n"


def plot(results: dict[str, Any], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dists, ks = results["distributions"], results["K_values"]
    labels = [v["label"] for v in results["variants"]]
    fig, axes = plt.subplots(
        len(dists),
        len(ks),
        figsize=(3.6 * len(ks) + 2.4, 2.8 * len(dists)),
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    fallback = plt.get_cmap("tab20")
    styles = {lab: STYLES.get(lab, (fallback(n % 20), "-")) for n, lab in enumerate(labels)}
    for i, dist in enumerate(dists):
        for j, k in enumerate(ks):
            ax = axes[i][j]
            cells = sorted(
                (c for c in results["cells"] if c["distribution"] == dist and c["K"] == k),
                key=lambda c: c["ratio"],
            )
            for lab in labels:
                xs = [c["ratio"] for c in cells if c["methods"][lab]["bias"] is not None]
                ys = [
                    c["methods"][lab]["bias"]
                    for c in cells
                    if c["methods"][lab]["bias"] is not None
                ]
                color, ls = styles[lab]
                ax.plot(xs, ys, ls, color=color, marker=".", ms=4, lw=1.3, label=lab)
            ax.axhline(0.0, color="black", lw=0.6)
            ax.set_xscale("log")
            ax.set_yscale("symlog", linthresh=0.01)
            ax.grid(True, which="major", lw=0.3)
            ax.set_title(
                f"{dist}, K=10^{int(math.log10(k))}, H={cells[0]['truth_bits']:.2f} bits",
                fontsize=9,
            )
            if i == len(dists) - 1:
                ax.set_xlabel("N/K")
            if j == 0:
                ax.set_ylabel("bias (bits)")
    handles, names = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, names, loc="center right", fontsize=8, frameon=False)
    fig.suptitle("Bias of each estimator (mean estimate − true entropy; symlog scale)")
    fig.tight_layout(rect=(0, 0, 1 - 2.2 / fig.get_figwidth(), 0.97))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_docs(results: dict[str, Any], docs: str) -> None:
    os.makedirs(docs, exist_ok=True)
    md_path = os.path.join(docs, "accuracy.md")
    text = markdown(results, common.existing_summary(md_path))
    with open(md_path, "w", encoding="utf-8") as f:
        f.write(text)
    plot(results, os.path.join(docs, "accuracy.png"))
    print(f"wrote {md_path} and {os.path.join(docs, 'accuracy.png')}")


def print_overview(results: dict[str, Any]) -> None:
    agg = aggregate(results)
    ratios = results["ratios"]
    print("\nRMSE (bits) averaged over distributions and K, by N/K:")
    print(f"{'method':<16}" + "".join(f"{r:>9g}" for r in ratios))
    for lab, a in agg.items():
        print(f"{lab:<16}" + "".join(f"{fmt(a['by_ratio'][r]['rmse'], '.3f'):>9}" for r in ratios))
    print("\ncoverage of ± std:")
    for lab, a in agg.items():
        covs = [a["by_ratio"][r]["coverage"] for r in ratios]
        if any(c is not None for c in covs):
            print(f"{lab:<16}" + "".join(f"{fmt(c, '.0%'):>9}" for c in covs))


def main(argv: list[str] | None = None) -> int:
    parser = common.arg_parser(__doc__, "small subset, < 1 min")
    parser.add_argument(
        "--budget",
        type=float,
        default=20.0,
        help="seconds per (cell, method) before remaining replicates are skipped (default 20)",
    )
    common.add_output_args(parser, "docs", "docs/accuracy.md and accuracy.png (PATH: a folder)")
    args = parser.parse_args(argv)

    if args.from_json:
        results = common.load_results(args.from_json)
        results["ratios"] = [float(r) for r in results["ratios"]]
    else:
        results = run(args.quick, args.budget)
        common.save_results(results, "estimator_accuracy", args.out, args.quick)
    print_overview(results)
    if args.write_docs:
        write_docs(results, args.write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
