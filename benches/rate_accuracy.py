"""Accuracy of the entropy-rate estimators on sources of known rate: coverage, bias, width.

Runs fe.estimate_rate on tokens from fe.MarkovSource (exact rate) and fe.HiddenMarkovSource
(rate by the forward algorithm, with its standard error) at 10^6 tokens (--tokens), several
seeds, and reports per estimator and for the combination: how often the interval covers the
true rate, the mean bias of the point, the mean width, and the worst excess of the lower end
over the truth (target: <= 0.1 nats/token). Each run builds the suffix index and runs the
online predictor on the sample, as fe.estimate_floor does; the predictor's code length L/N
(the bound) and its code rate over the final half of the tokens (tail: mean ± 2 se; the
combined interval's upper end is the lower of L/N and the tail's mean + 2 se) are reported
beside them. Each run's diagnostics (the slope's chi2/dof, octaves, the curve's and the
tail's values) are kept in "diagnostics" for the lower-end question (docs/rate.md).

Issue 19's validation (benches/rate_accuracy.py -> docs/rate.md).
"""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import tempfile
import time
from typing import Any

import _common
import fastentropy as fe
import fastentropy._floor.estimate as estimate_module
import numpy as np

METHODS = ("orders", "curve", "matches", "kasw", "slope", "combined", "bound", "tail")
#: Parts of the match-length estimator reported on their own (value ± 2 std).
MATCH_PARTS = ("kasw", "slope")


def sources(quick: bool, wide: bool = False) -> list[tuple[str, Any, float, float]]:
    """``(label, source, true rate, its std)`` for each source; ``wide``: the sources with
    more than 256 ids instead (the predictor's choice between the token model alone and its
    mixture with the wide bit model, ``MIXED_MAX_IDS``)."""
    out: list[tuple[str, Any, float, float]] = []
    markovs = ((40, 2), (200, 1)) if quick else ((40, 2), (200, 1), (16, 3))
    hmms = [(16, 256, 0.9)] if quick else [(8, 64, 0.8), (16, 256, 0.9), (64, 2000, 0.95)]
    if wide:
        markovs, hmms = ((1000, 1),), [(32, 512, 0.9), (64, 2000, 0.95)]
    for v, k in markovs:
        m = fe.MarkovSource(v, k, seed=1)
        out.append((f"markov V={v} k={k}", m, m.entropy_rate, 0.0))
    for s, v, stick in hmms:
        h = fe.HiddenMarkovSource(s, v, stickiness=stick, seed=1)
        r = h.entropy_rate(tokens=400_000 if quick else 4_000_000, block=10_000)
        out.append((f"hmm S={s} V={v} stick={stick}", h, r.value, r.std))
    return out


def run(
    tokens: int, seeds: int, quick: bool, wide: bool = False, only: str | None = None
) -> dict[str, Any]:
    rows = []
    diagnostics: list[dict[str, Any]] = []
    for label, src, truth, truth_std in sources(quick, wide):
        if only is not None and only not in label:
            continue
        for seed in range(seeds):
            x = src.sample(tokens, seed=100 + seed)
            t = time.perf_counter()
            rate = fe.estimate_rate(x)
            seconds = time.perf_counter() - t
            for name in METHODS:
                m = rate.methods.get(name)
                if name == "tail":
                    t = rate.tail
                    point = None if t is None else t["mean"]
                    lo = None if t is None else t["mean"] - 2 * t["std"]
                    up = None if t is None else t["upper"]
                    reason = None if t is not None else "no final-stretch code rate"
                elif name == "bound":
                    # The predictor's code length: its bias is its excess over the rate.
                    point = lo = up = rate.bound
                    reason = None if rate.bound is not None else "no predictor ran"
                elif name == "combined" and not np.isfinite(rate.point):
                    point = lo = up = None
                    reason = "no estimator gave a value and there is no bound"
                elif name == "combined":
                    point, lo, up, reason = rate.point, rate.lower, rate.upper, None
                elif name in MATCH_PARTS:
                    part = rate.methods["matches"].detail.get(name, {})
                    if "value" not in part or part.get("std") is None:
                        point = lo = up = None
                        reason = part.get("error", "no standard error")
                    else:
                        point, reason = part["value"], None
                        lo, up = point - 2 * part["std"], point + 2 * part["std"]
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
            diagnostics.append(diagnose(label, seed, truth, rate))
            print(
                f"{label} seed {seed}: {rate.point:.4f} [{rate.lower:.4f}, {rate.upper:.4f}] "
                f"truth {truth:.4f} ({seconds:.1f} s)",
                flush=True,
            )
    return {
        "tokens": tokens,
        "seeds": seeds,
        "rows": rows,
        "summary": summarise(rows),
        "diagnostics": diagnostics,
    }


def diagnose(label: str, seed: int, truth: float, rate: Any) -> dict[str, Any]:
    """What each run's estimators saw, for telling when the slope may set the lower end."""
    out: dict[str, Any] = {"source": label, "seed": seed, "truth": truth, "tail": rate.tail}
    for name, m in rate.methods.items():
        out[name] = None if not m.ok else [m.value, m.lower, m.upper]
    matches = rate.methods.get("matches")
    if matches is not None and matches.ok:
        out["slope"] = matches.detail.get("slope")
        out["kasw"] = matches.detail.get("kasw")
    curve = rate.methods.get("curve")
    if curve is not None and curve.ok:
        out["curve_fits"] = {k: v for k, v in curve.detail.items() if isinstance(v, dict)}
    out["bound"] = rate.bound
    return out


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


#: Compressors run on the same bytes as the text check, with their strongest settings.
COMPRESSORS = {
    "xz -9": ["xz", "-9", "-k", "-c"],
    "7z PPMd o16": ["7z", "a", "-mmt1", "-m0=PPMd:o=16:mem=1g", "{out}.7z", "{src}"],
    "zpaq -m5": ["zpaq", "a", "{out}.zpaq", "{src}", "-m5", "-t1"],
}


def text_check(path: str, size: int) -> dict[str, Any]:
    """The rate interval and the predictor's code length on the first ``size`` bytes of a
    text (as bytes), beside the compressors' code lengths on the same bytes (bits/byte)."""
    opener = gzip.open if path.endswith((".gz", ".dz")) else open
    with opener(path, "rb") as f:
        data = f.read(size)
    tokens = np.frombuffer(data, dtype=np.uint8)
    t = time.perf_counter()
    floor = fe.estimate_floor(tokens, meta={"n_tokens": tokens.size, "n_bytes": tokens.size})
    out: dict[str, Any] = {"text": path, "bytes": len(data), "seconds": time.perf_counter() - t}
    p, lo, up = floor.interval("bits/byte")
    out["rate"] = {"point": p, "lower": lo, "upper": up}
    out["methods"] = {
        k: None if not m.ok else [m.value / np.log(2), m.lower / np.log(2), m.upper / np.log(2)]
        for k, m in floor.rate.methods.items()
    }
    out["bound"] = floor.bound / np.log(2)
    tail = floor.rate.tail
    out["tail"] = None if tail is None else [tail["mean"] / np.log(2), tail["upper"] / np.log(2)]
    out["ngram"] = {"order": floor.order, "h_n": floor.ngram_point / np.log(2)}
    out["compressors"] = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "text")
        with open(src, "wb") as f:
            f.write(data)
        for name, argv in COMPRESSORS.items():
            if shutil.which(argv[0]) is None:
                print(f"{name}: not installed, skipped")
                continue
            dest = os.path.join(tmp, "out")
            cmd = [a.format(out=dest, src=src) for a in argv]
            if name.startswith("xz"):
                with open(dest, "wb") as f:
                    subprocess.run(cmd + [src], stdout=f, check=True)
                packed = os.path.getsize(dest)
            else:
                subprocess.run(cmd, check=True, capture_output=True)
                packed = os.path.getsize(next(a for a in cmd if a.startswith(dest)))
            out["compressors"][name] = 8 * packed / len(data)
    return out


def tokenizer_overlap(path: str, size: int, vocabs: list[int]) -> list[dict[str, Any]]:
    """The rate of the same text as bytes and as BPEs of each size in ``vocabs`` (trained on
    the text itself with ``fe.tokenize(..., ("train-bpe", V))``), in bits/byte."""
    opener = gzip.open if path.endswith((".gz", ".dz")) else open
    with opener(path, "rb") as f:
        data = f.read(size)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "text.txt")
        with open(src, "wb") as f:
            f.write(data)
        for vocab in [0, *vocabs]:
            spec: Any = "bytes" if vocab == 0 else ("train-bpe", vocab)
            t = time.perf_counter()
            tf = fe.tokenize(src, spec, os.path.join(tmp, f"t{vocab}"), threads=2)
            floor = fe.estimate_floor(tf, threads=2)
            assert floor.rate is not None
            p, lo, up = floor.rate.interval("bits/byte")
            scale = 1 / (np.log(2) * tf.bytes_per_token)
            methods = {
                k: None if not m.ok else [m.value * scale, m.lower * scale, m.upper * scale]
                for k, m in floor.rate.methods.items()
            }
            row = {
                "tokenizer": "bytes" if vocab == 0 else f"bpe {vocab}",
                "tokens": int(tf.n_tokens),
                "bytes_per_token": tf.bytes_per_token,
                "rate": [p, lo, up],
                "informative": floor.rate.informative,
                "used": list(floor.rate.used),
                "bound": floor.bound * scale if floor.bound is not None else None,
                "tail": None
                if floor.rate.tail is None
                else [floor.rate.tail["mean"] * scale, floor.rate.tail["upper"] * scale],
                "ngram": [floor.order, floor.ngram_point * scale],
                "methods": methods,
                "seconds": time.perf_counter() - t,
            }
            rows.append(row)
            print(
                f"{row['tokenizer']}: rate {p:.3f} [{lo:.3f}, {up:.3f}] bits/byte, "
                f"bound {row['bound']:.3f}, h_{floor.order} {row['ngram'][1]:.3f} "
                f"({row['seconds']:.0f} s)",
                flush=True,
            )
    lows = [r["rate"][1] for r in rows]
    highs = [r["rate"][2] for r in rows]
    print(f"intervals overlap: {max(lows) <= min(highs)} ([{max(lows):.3f}, {min(highs):.3f}])")
    return rows


def print_text(t: dict[str, Any]) -> None:
    r = t["rate"]
    print(f"\n{t['text']}, first {t['bytes']:,} bytes as bytes ({t['seconds']:.1f} s), bits/byte:")
    print(f"  h_n at order {t['ngram']['order']}: {t['ngram']['h_n']:.3f}")
    print(f"  online predictor: {t['bound']:.3f}")
    if t.get("tail"):
        print(f"  its final half: {t['tail'][0]:.3f} (+ 2 se: {t['tail'][1]:.3f})")
    print(f"  rate: {r['point']:.3f} [{r['lower']:.3f}, {r['upper']:.3f}]")
    for k, v in t["methods"].items():
        print(f"    {k}: " + ("-" if v is None else f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]"))
    for k, v in t["compressors"].items():
        print(f"  {k}: {v:.3f}")


def main() -> None:
    parser = _common.arg_parser(__doc__ or "", "10^5 tokens, 2 seeds, one HMM")
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--text", help="also: a text file (.gz/.dz read through gzip) as bytes")
    parser.add_argument("--text-bytes", type=int, default=4_000_000)
    parser.add_argument(
        "--bpe",
        type=int,
        nargs="*",
        default=None,
        help="also: the text as bytes and as BPEs of these sizes (e.g. 4096 16384 65536)",
    )
    parser.add_argument("--no-sources", action="store_true", help="only the text parts")
    parser.add_argument(
        "--wide", action="store_true", help="the sources with more than 256 ids instead"
    )
    parser.add_argument("--only", help="only the sources whose label contains this")
    parser.add_argument(
        "--mixed-max-ids",
        type=int,
        default=None,
        help="the rate's predictor mixes the bit and token models up to this many ids "
        f"(default: fastentropy's, {estimate_module.MIXED_MAX_IDS}); above, the token model",
    )
    _common.add_output_args(parser, None)  # docs/rate.md is written by hand
    args = parser.parse_args()
    if args.from_json:
        print_summary(_common.load_results(args.from_json)["summary"])
        return
    if args.mixed_max_ids is not None:
        estimate_module.MIXED_MAX_IDS = args.mixed_max_ids
    start = time.perf_counter()
    tokens, seeds = (100_000, 2) if args.quick else (args.tokens, args.seeds)
    results: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M"), **_common.provenance()}
    if not args.no_sources:
        results["mixed_max_ids"] = estimate_module.MIXED_MAX_IDS
        results.update(run(tokens, seeds, args.quick, args.wide, args.only))
    if args.text:
        results["text"] = text_check(args.text, args.text_bytes)
        if args.bpe:
            results["tokenizers"] = tokenizer_overlap(args.text, args.text_bytes, args.bpe)
    results["wall_seconds"] = time.perf_counter() - start
    if "summary" in results:
        print_summary(results["summary"])
    if "text" in results:
        print_text(results["text"])
    _common.save_results(results, "rate_accuracy", args.out, args.quick)


if __name__ == "__main__":
    main()
