"""Accuracy of the entropy-rate estimators on sources of known rate: coverage, bias, width.

Runs fe.estimate_rate on tokens from fe.MarkovSource (exact rate) and fe.HiddenMarkovSource
(rate by the forward algorithm, with its standard error) at 10^6 tokens (--tokens), several
seeds, and reports per estimator and for the combination: how often the interval covers the
true rate, the mean bias of the point, the mean width, and the worst excess of the lower end
over the truth (target: <= 0.1 nats/token). Estimators whose engine has not landed yet (the
learning curve needs fe.prequential, the match lengths the suffix index) are reported as not
run; they plug in through estimate_rate's curve= and match_lengths= arguments.

The skeleton of issue 19's validation (benches/rate_accuracy.py -> docs/rate.md).
"""

from __future__ import annotations

import time
from typing import Any

import _common
import fastentropy as fe
import numpy as np

METHODS = ("orders", "curve", "matches", "combined")


def sources(quick: bool) -> list[tuple[str, Any, float, float]]:
    """``(label, source, true rate, its std)`` for each source."""
    out: list[tuple[str, Any, float, float]] = []
    for v, k in ((40, 2), (200, 1)):
        m = fe.MarkovSource(v, k, seed=1)
        out.append((f"markov V={v} k={k}", m, m.entropy_rate, 0.0))
    hmms = [(16, 256, 0.9)] if quick else [(16, 256, 0.9), (64, 2000, 0.95)]
    for s, v, stick in hmms:
        h = fe.HiddenMarkovSource(s, v, stickiness=stick, seed=1)
        r = h.entropy_rate(tokens=400_000 if quick else 4_000_000, block=10_000)
        out.append((f"hmm S={s} V={v} stick={stick}", h, r.value, r.std))
    return out


def run(tokens: int, seeds: int, quick: bool) -> dict[str, Any]:
    rows = []
    for label, src, truth, truth_std in sources(quick):
        for seed in range(seeds):
            x = src.sample(tokens, seed=100 + seed)
            t = time.perf_counter()
            rate = fe.estimate_rate(x)
            seconds = time.perf_counter() - t
            for name in METHODS:
                m = rate.methods.get(name)
                if name == "combined" and not np.isfinite(rate.point):
                    point = lo = up = None
                    reason = "no estimator gave a value and there is no bound"
                elif name == "combined":
                    point, lo, up, reason = rate.point, rate.lower, rate.upper, None
                elif m is None or not m.ok:
                    point = lo = up = None
                    reason = None if m is None else m.reason
                else:
                    point, lo, up, reason = m.value, m.lower, m.upper, None
                rows.append(
                    {
                        "source": label,
                        "truth": truth,
                        "truth_std": truth_std,
                        "seed": seed,
                        "method": name,
                        "point": point,
                        "lower": lo,
                        "upper": up,
                        "reason": reason,
                        "seconds": seconds,
                    }
                )
            print(
                f"{label} seed {seed}: {rate.point:.4f} [{rate.lower:.4f}, {rate.upper:.4f}] "
                f"truth {truth:.4f} ({seconds:.1f} s)"
            )
    return {"tokens": tokens, "seeds": seeds, "rows": rows, "summary": summarise(rows)}


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for source in dict.fromkeys(r["source"] for r in rows):
        for method in METHODS:
            sel = [r for r in rows if r["source"] == source and r["method"] == method]
            ran = [r for r in sel if r["point"] is not None]
            if not ran:
                reason = sel[0]["reason"] if sel else "no rows"
                out.append({"source": source, "method": method, "runs": 0, "reason": reason})
                continue
            truth = np.array([r["truth"] for r in ran])
            point = np.array([r["point"] for r in ran])
            lo = np.array([r["lower"] for r in ran])
            up = np.array([r["upper"] for r in ran])
            out.append(
                {
                    "source": source,
                    "method": method,
                    "runs": len(ran),
                    "coverage": float(np.mean((lo <= truth) & (truth <= up))),
                    "bias": float(np.mean(point - truth)),
                    "width": float(np.mean(up - lo)),
                    "lower_excess_max": float(np.max(lo - truth)),
                }
            )
    return out


def print_summary(summary: list[dict[str, Any]]) -> None:
    print(
        f"\n{'source':<28} {'method':<9} {'runs':>4} {'cover':>6} {'bias':>8} {'width':>7} "
        f"{'lo-truth':>8}"
    )
    for s in summary:
        if not s["runs"]:
            print(f"{s['source']:<28} {s['method']:<9} {0:>4}  {s['reason']}")
            continue
        print(
            f"{s['source']:<28} {s['method']:<9} {s['runs']:>4} {s['coverage']:>6.2f} "
            f"{s['bias']:>+8.4f} {s['width']:>7.4f} {s['lower_excess_max']:>+8.4f}"
        )


def main() -> None:
    parser = _common.arg_parser(__doc__ or "", "10^5 tokens, 2 seeds, one HMM")
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--seeds", type=int, default=3)
    _common.add_output_args(parser, "not written yet (docs/rate.md comes with the engines)")
    args = parser.parse_args()
    if args.from_json:
        print_summary(_common.load_results(args.from_json)["summary"])
        return
    start = time.perf_counter()
    tokens, seeds = (100_000, 2) if args.quick else (args.tokens, args.seeds)
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M"), **_common.provenance()}
    results.update(run(tokens, seeds, args.quick))
    results["wall_seconds"] = time.perf_counter() - start
    print_summary(results["summary"])
    _common.save_results(results, "rate_accuracy", args.out, args.quick)


if __name__ == "__main__":
    main()
