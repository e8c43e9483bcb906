"""Speed and peak memory of fastentropy's cross-entropy against blocked numpy and torch.

What it measures
----------------
For each vocabulary size V in {32000, 50257, 128256} and each input type (float32, float16,
bfloat16 as uint16 bits), about ``--gb`` GB (default 1) of logits ``[T, V]`` (standard normal
times 3, fixed seed; T = bytes / (V · item size)) and uniform random targets:

* **ours**: ``fe.cross_entropy(logits, targets, reduction="sum")`` on all cores, and with
  ``threads=1``;
* **numpy**: a blocked float64-free numpy implementation, rows in ~1 MB blocks: widen 16-bit
  blocks to float32, ``max``, ``exp(x - max)``, ``sum``, ``log``, gather the target; one call;
* **torch**: ``torch.nn.functional.cross_entropy(..., reduction="sum")`` on CPU, in the input
  dtype, where torch is importable (skipped otherwise); one call.

For float16 and bfloat16 also both summing paths forced (``_core.XentSums.from_logits(...,
path16="table" | "widen")``, all threads): the exact per-pattern table and the F16C/shift
widening into the float32 kernel; "ours" is the path this CPU takes by default
(``_core.xent_path16(dtype)``).

**Interleaved rounds.** Our speed is stated as a fraction of the machine's memory read
bandwidth, measured as ``np.sum`` over a float64 array of the cases' size (``--gb``, at least
256 MB; one thread, and two threads each summing half). Both move from one call to the next
on a shared or virtual machine (by ±10% between consecutive calls of the same code on a
quiet one), so a reference measured once, or the best of a few calls, gives a ratio that
moves as much. Each case therefore runs ``--repeats`` rounds (default 7); a round times, in
an order rotated from round to round, the two-thread reference, ours on all threads, the
one-thread reference, ours on one thread and (16-bit) the two forced paths, and every ratio
is taken within its round: our GB/s over the reference's, the widened path's over the
table's. Reported: the median over the rounds and the range (least to greatest). Speeds
in GB/s are medians too.

Figures: GB/s of logits read, tokens/s, ratios (baseline time / our time, same run: above 1
means we are faster). Targets (docs): float32 at least 0.85 of the two-thread bandwidth,
float16 and bfloat16 at least 0.5 on a CPU with full-width 256-bit vector units. The
one-thread figure is also given as a fraction of the one-thread bandwidth, and per
CPU-second of the process against ``np.sum``'s per CPU-second on one thread: on a machine
whose second core is taken, where wall time counts the time other jobs ran, that last pair
is the fairest ratio. The two-thread figure per CPU-second of both threads, against
``np.sum``'s on two threads in the same round, is printed and kept in the JSON (not on the
page: on a loaded machine a descheduled worker leaves the other spinning, and it ran below
the quiet machine's wall ratios). Recorded with them: the CPU model, family and
model numbers, the instruction set and 16-bit path chosen, and the load average before and
after each case (the machine is shared). Peak memory: the growth of peak RSS over the RSS
before ours' calls (peak reset through ``/proc/self/clear_refs``), i.e. the call's extra
memory. Ours and numpy must agree to 1e-6 relative on the sum (numpy's float32
log-sum-exp is the less accurate one).

How to run
----------
::

    python benches/xent_speed.py --gb 0.5     # 0.5 GB of logits per case, ~2 minutes
    python benches/xent_speed.py --write-docs # 1 GB per case, and regenerate the page
    python benches/xent_speed.py --quick      # 64 MB per case, prints only

Writes ``benches/results/xent_speed.json``; with ``--write-docs`` also ``docs/xent_speed.md``
(a summary between ``<!-- summary:begin -->`` and ``<!-- summary:end -->`` in it is kept).
Not part of the test run.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import _common as common
import fastentropy as fe
import numpy as np

VOCABS = (32000, 50257, 128256)
DTYPES = ("float32", "float16", "bfloat16")
SEED = 4
BLOCK_BYTES = 1 << 20


def bf16_bits(x: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bits, round to nearest even."""
    b = x.view(np.uint32)
    return ((b + 0x7FFF + ((b >> 16) & 1)) >> 16).astype(np.uint16)


def widen(block: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "float32":
        return block
    if dtype == "float16":
        return block.astype(np.float32)
    return (block.astype(np.uint32) << 16).view(np.float32)


def numpy_blocked(logits: np.ndarray, targets: np.ndarray, dtype: str) -> float:
    """Sum of per-token losses, rows in ~1 MB blocks, float32 math, float64 sum."""
    rows = max(1, BLOCK_BYTES // (logits.shape[1] * logits.itemsize))
    total = 0.0
    for lo in range(0, len(targets), rows):
        x = widen(logits[lo : lo + rows], dtype)
        t = targets[lo : lo + rows]
        m = x.max(axis=1)
        s = np.exp(x - m[:, None]).sum(axis=1)
        nll = np.log(s) + m - x[np.arange(len(t)), t]
        total += float(nll.sum(dtype=np.float64))
    return total


def torch_fn() -> Callable[[np.ndarray, np.ndarray, str], float] | None:
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None

    def run(logits: np.ndarray, targets: np.ndarray, dtype: str) -> float:
        x = torch.from_numpy(logits)
        if dtype == "bfloat16":
            x = torch.from_numpy(logits.view(np.int16)).view(torch.bfloat16)
        return float(F.cross_entropy(x, torch.from_numpy(targets), reduction="sum"))

    return run


def clocked(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of the process, result) of one call. CPU time counts all
    the process's threads: on one thread, the time that thread ran, which a shared
    machine's other jobs do not lengthen as they do the wall time."""
    start, start_cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - start, time.process_time() - start_cpu, out


def timed(fn: Callable[[], Any]) -> tuple[float, Any, float]:
    """(seconds, result, extra peak RSS in MiB over the RSS before) of one call."""
    common.reset_peak()
    before = common.status_kib("VmRSS")
    sec, _, out = clocked(fn)
    return sec, out, (common.status_kib("VmHWM") - before) / 1024


def spread(values: list[float]) -> dict[str, float]:
    """Median and range of per-round figures."""
    return {"median": float(np.median(values)), "min": min(values), "max": max(values)}


class Reference:
    """The machine's memory read bandwidth: ``np.sum`` over a float64 array of at least
    256 MB, on one thread and as two halves summed at once on two."""

    def __init__(self, nbytes: int, pool: ThreadPoolExecutor) -> None:
        self.array = np.ones(max(nbytes, 256 << 20) // 8)
        self.array.sum()
        half = len(self.array) // 2
        self.halves = (self.array[:half], self.array[half:])
        self.pool = pool
        self.nbytes = self.array.nbytes

    def one(self) -> float:
        return float(self.array.sum())

    def two(self) -> list[float]:
        return list(self.pool.map(np.sum, self.halves))

    def start(self) -> dict[str, float]:
        """Best of three of each, before the cases (the page's header figures)."""
        ones = [clocked(self.one) for _ in range(3)]
        two = min(clocked(self.two)[0] for _ in range(3))
        return {
            "one_thread": self.nbytes / min(r[0] for r in ones) / 1e9,
            "two_threads": self.nbytes / two / 1e9,
            "one_thread_per_cpu_second": self.nbytes / min(r[1] for r in ones) / 1e9,
        }


def cpu() -> dict[str, Any]:
    """The CPU's model name, family and model (from /proc/cpuinfo, where there is one)."""
    info: dict[str, Any] = {"model_name": platform.processor() or platform.machine()}
    try:
        with open("/proc/cpuinfo") as f:
            fields = dict(
                (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in f) if v
            )
    except OSError:
        return info
    info["model_name"] = fields.get("model name", info["model_name"])
    if "cpu family" in fields and "model" in fields:
        family, model = int(fields["cpu family"]), int(fields["model"])
        info.update({"family": family, "model": model})
        if fields.get("vendor_id") == "AuthenticAMD":
            zen4 = 0x10 <= model < 0x20 or model >= 0x60
            zen = {
                0x17: "Zen 1/Zen+" if model < 0x30 else "Zen 2",
                0x19: "Zen 4" if zen4 else "Zen 3",
            }
            info["class"] = zen.get(family, f"AMD family {family:#x}")
    return info


def make_inputs(gb: float) -> dict[str, np.ndarray]:
    """~gb GB of logits per dtype, flat; the 16-bit ones hold twice as many values."""
    rng = np.random.default_rng(SEED)
    n32 = int(gb * 1e9) // 4
    base = rng.standard_normal(n32, dtype=np.float32) * 3
    wide = np.concatenate([base, base[::-1]])
    return {
        "float32": base,
        "float16": wide.astype(np.float16),
        "bfloat16": bf16_bits(wide),
    }


def run_case(
    flat: np.ndarray, vocab: int, dtype: str, rounds: int, torch_run: Any, ref: Reference
) -> dict:
    rows = flat.size // vocab
    logits = flat[: rows * vocab].reshape(rows, vocab)
    targets = np.random.default_rng(vocab).integers(0, vocab, rows)
    nbytes = logits.nbytes
    kw = {"dtype": "bfloat16"} if dtype == "bfloat16" else {}
    case: dict[str, Any] = {
        "vocab": vocab,
        "dtype": dtype,
        "tokens": rows,
        "bytes": nbytes,
        "load": os.getloadavg()[0],
    }

    def ours(threads: int | None) -> Callable[[], float]:
        return lambda: fe.cross_entropy(logits, targets, reduction="sum", threads=threads, **kw)

    def forced(path: str) -> Callable[[], Any]:
        bits = logits.view(np.uint16)
        return lambda: fe._core.XentSums.from_logits(bits, targets, dtype=dtype, path16=path)

    steps: dict[str, Callable[[], Any]] = {
        "ref_2": ref.two,
        "ours": ours(None),
        "ref_1": ref.one,
        "ours_1_thread": ours(1),
    }
    if dtype != "float32":
        steps.update({f"ours_{p}": forced(p) for p in ("table", "widen")})
    names = list(steps)
    times: dict[str, list[tuple[float, float]]] = {n: [] for n in names}
    common.reset_peak()
    before = common.status_kib("VmRSS")
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            wall, cpu_sec, value = clocked(steps[name])
            times[name].append((wall, cpu_sec))
            if name.startswith("ours"):
                value = value.sum if isinstance(value, fe._core.XentSums) else value
                case.setdefault(name, {})["sum_nats"] = value
    mib = (common.status_kib("VmHWM") - before) / 1024

    def speeds(name: str, nb: int, cpu_time: bool = False) -> list[float]:
        return [nb / t[1 if cpu_time else 0] / 1e9 for t in times[name]]

    def of(name: str, reference: str, cpu_time: bool = False) -> dict[str, float]:
        mine, bw = speeds(name, nbytes, cpu_time), speeds(reference, ref.nbytes, cpu_time)
        return spread([m / b for m, b in zip(mine, bw, strict=True)])

    for name in names:
        if not name.startswith("ours"):
            continue
        walls = [t[0] for t in times[name]]
        sec = float(np.median(walls))
        case[name].update(
            {
                "seconds": sec,
                "seconds_min": min(walls),
                "gb_per_s": nbytes / sec / 1e9,
                "gb_per_s_range": [nbytes / max(walls) / 1e9, nbytes / min(walls) / 1e9],
                "tokens_per_s": rows / sec,
                "gb_per_cpu_s": float(np.median(speeds(name, nbytes, cpu_time=True))),
                "extra_peak_mib": mib,
            }
        )
        one = name == "ours_1_thread"
        case[name]["of_bandwidth"] = of(name, "ref_1" if one else "ref_2")
    case["ours_1_thread"]["of_bandwidth_per_cpu_s"] = of("ours_1_thread", "ref_1", True)
    # Per CPU-second of both threads, against np.sum's on two threads in the same round: on a
    # loaded machine, what the two cores would do if both were free.
    case["ours"]["of_bandwidth_per_cpu_s"] = of("ours", "ref_2", True)
    case["bandwidth_gb_per_s"] = {
        "two_threads": spread(speeds("ref_2", ref.nbytes)),
        "one_thread": spread(speeds("ref_1", ref.nbytes)),
        "one_thread_per_cpu_second": spread(speeds("ref_1", ref.nbytes, cpu_time=True)),
    }
    if "ours_table" in case:
        table, widen = times["ours_table"], times["ours_widen"]
        pairs = list(zip(table, widen, strict=True))
        case["widen_over_table"] = spread([t[0] / w[0] for t, w in pairs])
        # By CPU time too: the time other jobs ran is not counted.
        case["widen_over_table_cpu"] = spread([t[1] / w[1] for t, w in pairs])
    sec, value, mib = timed(lambda: numpy_blocked(logits, targets, dtype))
    case["numpy"] = {"seconds": sec, "gb_per_s": nbytes / sec / 1e9, "sum_nats": value}
    case["numpy"]["extra_peak_mib"] = mib
    if torch_run is not None:
        sec, value, mib = timed(lambda: torch_run(logits, targets, dtype))
        case["torch"] = {"seconds": sec, "gb_per_s": nbytes / sec / 1e9, "sum_nats": value}
        case["torch"]["extra_peak_mib"] = mib
    ref_sum = case["ours"]["sum_nats"]
    case["numpy_rel_diff"] = abs(case["numpy"]["sum_nats"] - ref_sum) / ref_sum
    for name in ("numpy", "torch"):
        if name in case:
            case[f"ratio_{name}"] = case[name]["seconds"] / case["ours"]["seconds"]
    return case


def fraction(case: dict[str, Any], name: str, key: str, bandwidth: float | None) -> str:
    """A case's fraction of the bandwidth: median (range) over the rounds, or, for results
    from before the rounds, its speed over the page's one bandwidth figure."""
    if key in case[name]:
        f = case[name][key]
        return f"{f['median']:.2f} ({f['min']:.2f}–{f['max']:.2f})"
    rate = case[name].get("gb_per_cpu_s" if key.endswith("cpu_s") else "gb_per_s")
    return "–" if rate is None or bandwidth is None else f"{rate / bandwidth:.2f}"


def render(results: dict[str, Any]) -> str:
    bw = results["bandwidth_gb_per_s"]
    lines = [
        "| V | dtype | tokens | ours GB/s (2 thr) | of 2-thr bandwidth | ours GB/s (1 thr) | "
        "of 1-thr bandwidth | 1 thr GB per CPU-s | of np.sum's per CPU-s | "
        "table / widen GB/s (2 thr) | widen ÷ table (wall) | widen ÷ table (CPU) | "
        "M tokens/s | numpy GB/s | "
        "× numpy | torch GB/s | × torch | extra peak MiB ours / numpy / torch | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in results["cases"]:
        torch = c.get("torch")
        paths = (
            f"{c['ours_table']['gb_per_s']:.1f} / {c['ours_widen']['gb_per_s']:.1f}"
            if "ours_table" in c
            else "–"
        )
        ratio = " | ".join(
            f"{w['median']:.2f} ({w['min']:.2f}–{w['max']:.2f})" if w else "–"
            for w in (c.get("widen_over_table"), c.get("widen_over_table_cpu"))
        )
        one = c["ours_1_thread"]
        lines.append(
            f"| {c['vocab']} | {c['dtype']} | {c['tokens']} | {c['ours']['gb_per_s']:.1f} | "
            f"{fraction(c, 'ours', 'of_bandwidth', bw['two_threads'])} | "
            f"{one['gb_per_s']:.1f} | "
            f"{fraction(c, 'ours_1_thread', 'of_bandwidth', bw['one_thread'])} | "
            f"{one['gb_per_cpu_s']:.1f} | "
            + fraction(
                c,
                "ours_1_thread",
                "of_bandwidth_per_cpu_s",
                bw.get("one_thread_per_cpu_second"),
            )
            + f" | {paths} | {ratio} | {c['ours']['tokens_per_s'] / 1e6:.3f} | "
            f"{c['numpy']['gb_per_s']:.2f} | {c['ratio_numpy']:.1f} | "
            + (f"{torch['gb_per_s']:.2f} | {c['ratio_torch']:.1f} | " if torch else "– | – | ")
            + f"{c['ours']['extra_peak_mib']:.0f} / {c['numpy']['extra_peak_mib']:.0f} / "
            + (f"{torch['extra_peak_mib']:.0f} | " if torch else "– | ")
            + (f"{c['load']:.1f} |" if "load" in c else "– |")
        )
    return "\n".join(lines) + "\n"


def write_docs(results: dict[str, Any], path: str) -> None:
    bw = results["bandwidth_gb_per_s"]
    head = [
        "# Cross-entropy speed",
        "",
        f"Generated by `benches/xent_speed.py` (fastentropy {results['fastentropy_version']}, "
        f"git {results['git']}, extension build {results['build']}, numpy {results['numpy']}, "
        f"{results['date']}, {results['machine']}, {results['cpus']} cpus, CPU "
        f"{cpu_label(results.get('cpu', {}))}, instruction set {results['isa']}, 16-bit paths "
        f"{paths_label(results)}, load average {load_label(results)}, torch "
        f"{results['torch'] or 'not installed'}). Raw numbers: "
        "`benches/results/xent_speed.json`. Re-run with `python benches/xent_speed.py "
        "--write-docs` (`--quick`: 64 MB per case, prints only).",
        "",
        f"**Setup.** About {results['gb']:g} GB of logits per case (standard normal × 3), "
        'uniform random targets, `fe.cross_entropy(..., reduction="sum")` against blocked '
        "numpy (~1 MB row blocks, float32; one call) and torch's `F.cross_entropy` on CPU "
        "where installed (one call). Memory read bandwidth: `np.sum` over "
        f"{results.get('bandwidth_bytes', 2e9) / 1e9:.2g} GB of float64"
        + (
            f", timed in each of {results['repeats']} interleaved rounds per case beside ours "
            "(order rotated per round); fractions of it are medians over the rounds with "
            "their range, GB/s are medians. Before the cases (best of 3): "
            if results.get("rounds")
            else f" (ours: the minimum of {results['repeats']} calls): "
        )
        + f"{bw['one_thread']:.1f} GB/s on one thread, {bw['two_threads']:.1f} GB/s on two"
        + (
            f", {bw['one_thread_per_cpu_second']:.1f} GB per CPU-second on one thread"
            if "one_thread_per_cpu_second" in bw
            else ""
        )
        + ". Extra peak memory: growth of peak RSS during the calls. Load: the load average "
        "at the start of each case.",
        "",
    ]
    common.write_doc(path, head, render(results))


def progress_line(case: dict[str, Any]) -> str:
    """One case in a line, as it finishes."""

    def f(x: dict[str, float]) -> str:
        return f"{x['median']:.2f} ({x['min']:.2f}–{x['max']:.2f})"

    one = case["ours_1_thread"]
    paths = (
        f", table {case['ours_table']['gb_per_s']:.1f} / widen "
        f"{case['ours_widen']['gb_per_s']:.1f} GB/s, widen ÷ table "
        f"{f(case['widen_over_table'])}, by CPU time {f(case['widen_over_table_cpu'])}"
        if "ours_table" in case
        else ""
    )
    return (
        f"V={case['vocab']} {case['dtype']} (load {case['load']:.1f}): ours "
        f"{case['ours']['gb_per_s']:.1f} GB/s, {f(case['ours']['of_bandwidth'])} of 2-thr "
        f"bandwidth ({f(case['ours']['of_bandwidth_per_cpu_s'])} per CPU-s){paths}; 1 thread "
        f"{one['gb_per_s']:.1f} GB/s, "
        f"{f(one['of_bandwidth'])} of 1-thr bandwidth, {one['gb_per_cpu_s']:.1f} GB per "
        f"CPU-s, {f(one['of_bandwidth_per_cpu_s'])} of np.sum's; numpy "
        f"{case['numpy']['gb_per_s']:.2f} GB/s (×{case['ratio_numpy']:.1f}), extra peak "
        f"{case['ours']['extra_peak_mib']:.0f} MiB, numpy rel diff {case['numpy_rel_diff']:.1e}"
    )


def cpu_label(info: dict[str, Any]) -> str:
    label = str(info.get("model_name", "?"))
    if "family" in info:
        label += f" (family {info['family']:#x} model {info['model']:#x}"
        label += f", {info['class']})" if "class" in info else ")"
    return label


def paths_label(results: dict[str, Any]) -> str:
    paths = results.get("path16") or {}
    return ", ".join(f"{d} {p}" for d, p in paths.items()) or "not recorded"


def load_label(results: dict[str, Any]) -> str:
    before, after = results.get("load_before"), results.get("load_after")
    if before is None:
        return "not recorded"
    return f"{before[0]:.1f} before, {after[0]:.1f} after" if after else f"{before[0]:.1f}"


def main() -> int:
    parser = common.arg_parser(__doc__ or "", "64 MB of logits per case")
    parser.add_argument("--gb", type=float, help="GB of logits per case (default 1)")
    parser.add_argument(
        "--repeats", type=int, default=7, help="interleaved rounds per case (default 7)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="correctness only (CI): 4 MB per case, one call, no bandwidth run, no torch; "
        "and the exponential over every float32 of its range (1-2 minutes per "
        "instruction set); exits 1 on a mismatch",
    )
    common.add_output_args(parser, "docs/xent_speed.md")
    args = parser.parse_args()
    if args.from_json:
        saved = common.load_results(args.from_json)
        print(render(saved))
        if args.write_docs:
            write_docs(saved, args.write_docs)
        return 0
    if args.check:
        status = checks(run_checks())
        start = time.perf_counter()
        for isa, err in exp_whole_range().items():
            print(f"exp, every float32 of its range, {isa}: max relative error {err:.3e}")
            status[f"exp within {EXP_TOL:g} relative over its whole range ({isa})"] = (
                [] if err < EXP_TOL else [f"{err:.3e}"]
            )
        print(f"(exp check: {time.perf_counter() - start:.0f} s)")
        return common.check_status(status)
    gb = args.gb or (0.064 if args.quick else 1.0)
    torch_run = torch_fn()
    start = time.perf_counter()
    pool = ThreadPoolExecutor(2)
    ref = Reference(int(gb * 1e9), pool)
    results: dict[str, Any] = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat()}
    results.update(common.provenance())
    results.update(
        {
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "cpu": cpu(),
            "isa": fe._core.xent_isas()[0],
            "path16": {d: fe._core.xent_path16(d) for d in DTYPES[1:]},
            "load_before": list(os.getloadavg()),
            "torch": None,
            "gb": gb,
            "repeats": args.repeats,
            "rounds": True,
            "bandwidth_bytes": ref.nbytes,
            "bandwidth_gb_per_s": ref.start(),
            "cases": [],
        }
    )
    if torch_run is not None:
        import torch

        results["torch"] = torch.__version__
    print(
        f"CPU {cpu_label(results['cpu'])}, isa {results['isa']}, 16-bit paths "
        f"{paths_label(results)}, load {results['load_before']}; memory bandwidth: "
        f"{results['bandwidth_gb_per_s']}",
        flush=True,
    )
    inputs = make_inputs(gb)
    for dtype in DTYPES:
        for vocab in VOCABS:
            case = run_case(inputs[dtype], vocab, dtype, args.repeats, torch_run, ref)
            results["cases"].append(case)
            print(progress_line(case), flush=True)
    pool.shutdown()
    results["wall_seconds"] = time.perf_counter() - start
    results["load_after"] = list(os.getloadavg())
    print(render(results))
    common.save_results(results, "xent_speed", args.out, args.quick)
    if args.write_docs:
        write_docs(results, args.write_docs)
    return common.check_status(checks(results["cases"]))


def run_checks() -> list[dict[str, Any]]:
    """The correctness part of every case at 4 MB: ours on all threads and on one, and
    numpy, once each."""
    inputs = make_inputs(0.004)
    cases = []
    for dtype in DTYPES:
        for vocab in VOCABS:
            rows = inputs[dtype].size // vocab
            logits = inputs[dtype][: rows * vocab].reshape(rows, vocab)
            targets = np.random.default_rng(vocab).integers(0, vocab, rows)
            kw = {"dtype": "bfloat16"} if dtype == "bfloat16" else {}
            sums = [
                fe.cross_entropy(logits, targets, reduction="sum", threads=t, **kw)
                for t in (None, 1)
            ]
            ref = numpy_blocked(logits, targets, dtype)
            case = {
                "vocab": vocab,
                "dtype": dtype,
                "ours": {"sum_nats": sums[0]},
                "ours_1_thread": {"sum_nats": sums[1]},
                "numpy_rel_diff": abs(ref - sums[0]) / sums[0],
            }
            if dtype != "float32":
                bits = logits.view(np.uint16)
                for path in ("table", "widen"):
                    forced = [
                        fe._core.XentSums.from_logits(
                            bits, targets, dtype=dtype, threads=t, path16=path
                        ).sum
                        for t in (None, 1)
                    ]
                    case[f"ours_{path}"] = {"sum_nats": forced[0], "one_thread": forced[1]}
            cases.append(case)
    return cases


EXP_LO = np.float32(-87.33654)  # the kernel's: e^x is a normal float32 from here up
EXP_HI = np.float32(88.72283)  # the largest float32 whose e^x is finite in float32
EXP_TOL = 2e-7


def exp_whole_range() -> dict[str, float]:
    """Maximum relative error of the kernel's exponential (``_core.xent_exp``) against float64
    over every float32 in [EXP_LO, EXP_HI] (2.1e9 values), per instruction set of this CPU:
    the figure ``rust/fastentropy-core/src/xent/exp.rs`` states, checked in CI here because
    a release build does it in a minute where a debug test would take an hour."""
    chunk = 1 << 22
    ranges = [  # bit patterns: non-negative values up to EXP_HI, negative down to EXP_LO
        (0, int(np.array(EXP_HI).view(np.uint32)) + 1),
        (0x8000_0000, int(np.array(EXP_LO).view(np.uint32)) + 1),
    ]
    starts = [(a, min(a + chunk, b)) for a, b in ranges for a in range(a, b, chunk)]

    def worst(isa: str, lo: int, hi: int) -> float:
        x = np.arange(lo, hi, dtype=np.uint32).view(np.float32)
        got = fe._core.xent_exp(x, isa=isa).astype(np.float64)
        want = np.exp(x.astype(np.float64))
        np.subtract(got, want, out=got)
        np.abs(got, out=got)
        np.divide(got, want, out=got)
        return float(got.max())

    out = {}
    with ThreadPoolExecutor(2) as pool:
        for isa in fe._core.xent_isas():
            parts = pool.map(lambda r, isa=isa: worst(isa, *r), starts)
            out[isa] = max(parts)
    return out


def checks(cases: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The module docstring's promises: ours and numpy agree to 1e-6 relative on the sum, and
    ours is the same sum, bit for bit, on one thread and on all."""
    out: dict[str, list[str]] = {}
    for c in cases:
        label = f"V={c['vocab']} {c['dtype']}"
        diff = c["numpy_rel_diff"]
        out[f"{label}: sum vs numpy within 1e-6"] = (
            [f"rel diff {diff:.1e}"] if not diff <= 1e-6 else []
        )
        one, every = c["ours_1_thread"]["sum_nats"], c["ours"]["sum_nats"]
        out[f"{label}: same sum on 1 thread and on all"] = (
            [] if one == every else [f"{one!r} != {every!r}"]
        )
        if "ours_table" in c:
            table, widen = c["ours_table"]["sum_nats"], c["ours_widen"]["sum_nats"]
            gap = abs(table - widen) / abs(table)
            out[f"{label}: table and widened paths within 1e-6"] = (
                [] if gap <= 1e-6 else [f"rel diff {gap:.1e}"]
            )
            if "one_thread" in c["ours_table"]:
                out[f"{label}: each path the same sum on 1 thread and on all"] = [
                    f"{p}: {c[f'ours_{p}']['one_thread']!r} != {c[f'ours_{p}']['sum_nats']!r}"
                    for p in ("table", "widen")
                    if c[f"ours_{p}"]["one_thread"] != c[f"ours_{p}"]["sum_nats"]
                ]
    return out


if __name__ == "__main__":
    sys.exit(main())
