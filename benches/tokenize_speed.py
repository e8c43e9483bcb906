"""Throughput of fe.tokenize against the tokenizer's own batch encoder, and of the built-in
"bytes" tokenizer.

What it measures
----------------
The corpus is the first ``--mb`` MB (default 24) of Debian's ``dict-gcide`` (English
dictionary text, ``apt-get download dict-gcide``, fetched as ``benches/ngram_speed.py``
does), cut at a line break and made valid UTF-8 (invalid bytes replaced); where the package
cannot be fetched, generated text (Zipf-distributed pseudo-words, fixed seed). It is written
to a temporary ``corpus.txt``; every line is a document.

The tokenizer is a byte-level BPE of ``--vocab`` ids (default 16384) trained in this script
with ``tokenizers`` on the first 4 MB of the corpus (there is no network to the Hugging Face
hub). Steps, each timed ``--repeats`` times (default 3, minimum kept), ours and the baselines
interleaved so that they share the machine's noise:

* **ours, fast-bpe**: ``fe.tokenize(corpus.txt, tokenizer, out, doc="line")``: reading, UTF-8
  checks, byte and character counts, encoding by fastentropy's own exact byte-level BPE
  (``encoder="auto"`` picks it for this tokenizer), separators, writing ``.bin`` and the
  sidecar. Target (issue 27): at least 5 times ``encode_batch``'s throughput;
* **ours, tokenizers path**: the same with ``encoder="tokenizers"``: ``tokenizers``'
  ``encode_batch_fast`` does the encoding (target: within 15% of ``encode_batch``);
* **encode_batch**: the lines already in memory (reading and splitting not timed), passed in
  batches of about 1 MiB (ours' default ``batch_bytes``) to ``tokenizer.encode_batch(batch,
  add_special_tokens=False)``; the Encoding objects are dropped. This is the baseline;
* **encode_batch_fast**: the same with ``encode_batch_fast`` (no offsets; what ours calls);
* **encode_batch_fast + ids**: that, plus the ids of every Encoding copied into one numpy
  array, the least any program that writes the tokens has to do;
* **ours, bytes**: ``fe.tokenize(corpus.txt, "bytes", out)`` with ``doc="file"`` and
  ``doc="line"``, in MB of text per second (target: at least 50 MB/s);
* **numpy read + astype**: the file read, ``np.frombuffer(...).astype(uint16)`` and written:
  a floor for any byte tokenizer.

Each step's CPU time (``time.process_time``, all threads of the process) is recorded too:
for the single-threaded "bytes" steps it is less inflated than wall time by other load on a
shared machine (wall time also waits for the disk: ours fsyncs its outputs).

Both of ours and the baseline must give the same ids: each token file without its separators
equals the concatenated ids of ``encode_batch_fast``. Every step uses all cores (``--threads``
caps ours; ``tokenizers`` takes ``RAYON_NUM_THREADS``); the CPU model is recorded. Peak
memory: growth of peak RSS over the RSS before the call (peak reset through
``/proc/self/clear_refs``). Speeds are relative to ``encode_batch`` in the same run.

How to run
----------
::

    python benches/tokenize_speed.py              # 24 MB, a few minutes
    python benches/tokenize_speed.py --write-docs # the same, and regenerate the page
    python benches/tokenize_speed.py --quick      # 4 MB, prints only

Writes ``benches/results/tokenize_speed.json``; with ``--write-docs`` also
``docs/tokenize_speed.md`` (a summary between ``<!-- summary:begin -->`` and
``<!-- summary:end -->`` is kept). Needs numpy,
tokenizers, fastentropy, and ``apt-get``/``dpkg-deb`` for the text. Not part of the test run.
"""

from __future__ import annotations

import array
import datetime
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

import _common as common
import fastentropy as fe
import numpy as np
from ngram_speed import fetch_gcide
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

SEED = 20240611
BATCH_BYTES = 1 << 20
TRAIN_BYTES = 4 << 20
TARGET_RATIO = 1.15
TARGET_SPEEDUP = 5.0
TARGET_BYTES_MB_S = 50.0


# --------------------------------------------------------------------------------- corpus


def make_corpus(workdir: str, mb: float) -> tuple[str, str]:
    """Write ``corpus.txt`` (valid UTF-8, whole lines) of about ``mb`` MB; (path, source)."""
    want = int(mb * 1e6)
    gcide, note = fetch_gcide(workdir)
    if gcide is not None:
        with open(gcide, "rb") as f:
            data = f.read(want)
        data = data[: data.rfind(b"\n") + 1].decode("utf-8", "replace").encode("utf-8")
        source = f"dict-gcide, {note}"
    else:
        rng = np.random.default_rng(SEED)
        letters = np.array(list("etaoinshrdlucmfwypvbgkjqxz"))
        vocab = ["".join(rng.choice(letters, rng.integers(1, 10))) for _ in range(50_000)]
        ranks = np.minimum(rng.zipf(1.1, want // 5), len(vocab)) - 1
        words = [vocab[r] for r in ranks]
        lines = [" ".join(words[i : i + 12]) for i in range(0, len(words), 12)]
        data = ("\n".join(lines) + "\n").encode("utf-8")[:want]
        data = data[: data.rfind(b"\n") + 1]
        source = f"generated Zipf(1.1) pseudo-words, seed {SEED} ({note})"
    path = os.path.join(workdir, "corpus.txt")
    with open(path, "wb") as f:
        f.write(data)
    return path, source


def train_tokenizer(text: str, vocab: int) -> Tokenizer:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False
    )
    tok.train_from_iterator(text.splitlines(), trainer=trainer)
    return tok


def batches(lines: list[str]) -> list[list[str]]:
    """The lines in consecutive batches of about BATCH_BYTES characters."""
    out: list[list[str]] = [[]]
    size = 0
    for line in lines:
        out[-1].append(line)
        size += len(line)
        if size >= BATCH_BYTES:
            out.append([])
            size = 0
    return out


# ------------------------------------------------------------------------------- measuring


def timed(fn: Callable[[], Any]) -> tuple[float, float, float | None, Any]:
    """(seconds, CPU seconds of the process, peak RSS growth in MiB or None, result) of one
    call. CPU time is less inflated by other load than wall time, and for the single-threaded
    "bytes" steps it is the time the work needs; for BPE it adds up the tokenizer's threads."""
    can_reset = common.reset_peak()
    before = common.status_kib("VmRSS")
    t0, c0 = time.perf_counter(), time.process_time()
    result = fn()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    growth = (common.status_kib("VmHWM") - before) / 1024 if can_reset else None
    return seconds, cpu, growth, result


def encode_all(encode: Callable[..., Any], groups: list[list[str]]) -> None:
    """Each batch encoded, its Encodings freed before the next (as a streaming writer would)."""
    for group in groups:
        encode(group, add_special_tokens=False)


def ids_of(tok: Tokenizer, groups: list[list[str]]) -> np.ndarray:
    flat = array.array("I")
    for group in groups:
        for e in tok.encode_batch_fast(group, add_special_tokens=False):
            flat.extend(e.ids)
    return np.frombuffer(flat, np.uint32)


def numpy_bytes(path: str, out: str) -> int:
    with open(path, "rb") as f:
        data = f.read()
    np.frombuffer(data, np.uint8).astype(np.uint16).tofile(out)
    return len(data)


def run(args: Any) -> dict[str, Any]:
    started = time.perf_counter()
    load_before = os.getloadavg()
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="tokenize_speed_") as tmp:
        path, source = make_corpus(tmp, args.mb)
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
        lines = text.split("\n")[:-1]
        groups = batches(lines)
        n_bytes = os.path.getsize(path)
        print(f"corpus: {n_bytes:,} bytes, {len(lines):,} lines ({source})", flush=True)
        t0 = time.perf_counter()
        tok = train_tokenizer(text[:TRAIN_BYTES], args.vocab)
        train_s = time.perf_counter() - t0
        print(f"BPE of {tok.get_vocab_size()} ids trained in {train_s:.1f} s", flush=True)
        out = os.path.join(tmp, "out")
        steps: dict[str, Callable[[], Any]] = {
            "ours, fast-bpe": lambda: fe.tokenize(path, tok, out, doc="line", threads=args.threads),
            "ours, tokenizers path": lambda: fe.tokenize(
                path, tok, out + "-hf", doc="line", encoder="tokenizers", threads=args.threads
            ),
            "encode_batch": lambda: encode_all(tok.encode_batch, groups),
            "encode_batch_fast": lambda: encode_all(tok.encode_batch_fast, groups),
            "encode_batch_fast + ids": lambda: ids_of(tok, groups),
            "ours, bytes, doc=file": lambda: fe.tokenize(path, "bytes", out + "-f", doc="file"),
            "ours, bytes, doc=line": lambda: fe.tokenize(path, "bytes", out + "-l", doc="line"),
            "numpy read + astype": lambda: numpy_bytes(path, out + ".np"),
        }
        best: dict[str, dict[str, Any]] = {}
        ours: dict[str, fe.TokenFile] = {}
        for r in range(args.repeats):
            for name, fn in steps.items():
                seconds, cpu, growth, result = timed(fn)
                row = best.setdefault(
                    name, {"seconds": [], "cpu_seconds": [], "peak_growth_mib": []}
                )
                row["seconds"].append(seconds)
                row["cpu_seconds"].append(cpu)
                row["peak_growth_mib"].append(growth)
                print(f"  repeat {r + 1}: {name}: {seconds:.2f} s ({cpu:.2f} s CPU)", flush=True)
                if name.startswith("ours") and "bytes" not in name:
                    ours[name] = result
                elif name == "encode_batch_fast + ids":
                    reference = result
                del result
        same = {}
        for name, tf in ours.items():
            tokens = np.asarray(tf.tokens())
            same[name] = bool(np.array_equal(tokens[tokens != tf.separator], reference))
            print(f"{name} ({tf.encoder}) == baseline ids: {same[name]}", flush=True)
        encoders = {name: tf.encoder for name, tf in ours.items()}
        tf = ours["ours, fast-bpe"]
    for row in best.values():
        row["min_seconds"] = min(row["seconds"])
        row["mb_per_s"] = n_bytes / row["min_seconds"] / 1e6
        row["cpu_mb_per_s"] = n_bytes / min(row["cpu_seconds"]) / 1e6
        growths = [g for g in row["peak_growth_mib"] if g is not None]
        row["max_peak_growth_mib"] = max(growths) if growths else None
    return {
        "benchmark": "tokenize_speed",
        "quick": args.quick,
        "date": date,
        **common.provenance(),
        "tokenizers": __import__("tokenizers").__version__,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "cpu_model": common.cpu_model(),
        "threads": args.threads,
        "encoders": encoders,
        "corpus": {"source": source, "bytes": n_bytes, "lines": len(lines)},
        "tokenizer": {"vocab_size": tok.get_vocab_size(), "train_seconds": train_s},
        "token_file": {
            "n_tokens": tf.n_tokens,
            "n_documents": tf.n_documents,
            "bytes_per_token": tf.bytes_per_token,
            "chars_per_token": tf.chars_per_token,
        },
        "ids_equal": all(same.values()),
        "ids_equal_by_step": same,
        "repeats": args.repeats,
        "target": {
            "ratio": TARGET_RATIO,
            "speedup": TARGET_SPEEDUP,
            "bytes_mb_per_s": TARGET_BYTES_MB_S,
        },
        "steps": best,
        "load_average_start_end": [load_before[0], os.getloadavg()[0]],
        "wall_seconds": time.perf_counter() - started,
    }


# ---------------------------------------------------------------------------------- report


def tables(results: dict[str, Any]) -> str:
    steps = results["steps"]
    base = steps["encode_batch"]["min_seconds"]
    rows = [
        "| step | best time | MB/s | MB/s by CPU time | speed vs encode_batch | "
        "peak growth (MiB) |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in steps.items():
        ratio = (
            f"{base / row['min_seconds']:.2f}×"
            if "bytes" not in name and "numpy" not in name
            else ""
        )
        growth = row["max_peak_growth_mib"]
        rows.append(
            f"| {name} | {row['min_seconds']:.2f} s | {row['mb_per_s']:.1f} | "
            f"{row['cpu_mb_per_s']:.1f} | {ratio} | "
            f"{'n/a' if growth is None else f'{growth:,.0f}'} |"
        )
    corpus, tf = results["corpus"], results["token_file"]
    return "\n".join(
        [
            f"Corpus: {corpus['bytes']:,} bytes, {corpus['lines']:,} lines ({corpus['source']}). "
            f"BPE of {results['tokenizer']['vocab_size']:,} ids: {tf['n_tokens']:,} tokens, "
            f"{tf['bytes_per_token']:.2f} bytes and {tf['chars_per_token']:.2f} characters "
            f"per token. Ours (both paths) and the baseline give the same ids: "
            f"{results['ids_equal']}. CPU: {results.get('cpu_model', 'unknown')}.",
            "",
            *rows,
            "",
            verdict(results),
            "",
        ]
    )


def verdict(results: dict[str, Any]) -> str:
    steps, target = results["steps"], results["target"]
    base = steps["encode_batch"]["min_seconds"]
    fast = steps["ours, fast-bpe"]["min_seconds"]
    speedup = base / fast
    ratio = steps["ours, tokenizers path"]["min_seconds"] / base
    rate = min(steps[k]["mb_per_s"] for k in steps if k.startswith("ours, bytes"))
    want = target.get("speedup", TARGET_SPEEDUP)
    return (
        f"Targets: fast-bpe ≥ {want:.0f}× encode_batch: {speedup:.2f}× "
        f"({'met' if speedup >= want else 'not met'}); "
        f"tokenizers path / encode_batch ≤ {target['ratio']}: {ratio:.2f} "
        f"({'met' if ratio <= target['ratio'] else 'not met'}); "
        f"'bytes' ≥ {target['bytes_mb_per_s']:.0f} MB/s: slowest {rate:.1f} MB/s "
        f"({'met' if rate >= target['bytes_mb_per_s'] else 'not met'})."
    )


def write_docs(results: dict[str, Any], path: str) -> None:
    load = " → ".join(f"{x:.1f}" for x in results["load_average_start_end"])
    head = [
        "# Tokenization speed",
        "",
        "Generated by `benches/tokenize_speed.py` "
        f"(fastentropy {results['fastentropy_version']}, git {results['git']}, "
        f"tokenizers {results['tokenizers']}, numpy {results['numpy']}, {results['date']}, "
        f"{results['machine']}, 1-min load average {load}, "
        f"{results['wall_seconds'] / 60:.1f} min). Raw numbers: "
        "`benches/results/tokenize_speed.json`. Re-run with `python benches/tokenize_speed.py "
        "--write-docs` (`--quick`: 4 MB, prints only).",
        "",
        '**Setup.** `fe.tokenize(corpus.txt, tokenizer, out, doc="line")` on its fast path '
        '(fastentropy\'s exact byte-level BPE, `encoder="auto"`) and on its `tokenizers` path '
        '(`encoder="tokenizers"`) against the tokenizer\'s own `encode_batch` on the same '
        f"lines already in memory, in batches of 1 MiB; best of {results['repeats']} "
        "interleaved calls each, all on every core. The BPE is trained in the script. These "
        "machines are shared and noisy: ratios within the run are the figures that count.",
        "",
    ]
    common.write_doc(path, head, tables(results))


def main(argv: list[str] | None = None) -> int:
    parser = common.arg_parser(__doc__, "4 MB of text")
    parser.add_argument("--mb", type=float, default=24.0, help="corpus size in MB (default 24)")
    parser.add_argument("--vocab", type=int, default=16384, help="BPE vocabulary (16384)")
    parser.add_argument("--repeats", type=int, default=3, help="calls of each step (default 3)")
    parser.add_argument(
        "--threads", type=int, default=None, help="threads of ours (default: all cores)"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="correctness only, in seconds (CI): 0.5 MB, a 1000-id BPE, one call of each "
        "step; exits 1 when the ids differ",
    )
    common.add_output_args(parser, "docs/tokenize_speed.md")
    args = parser.parse_args(argv)
    if args.from_json:
        results = common.load_results(args.from_json)
    else:
        if args.quick:
            args.mb = min(args.mb, 4.0)
        if args.check:
            args.quick, args.mb, args.vocab, args.repeats = True, 0.5, 1000, 1
        results = run(args)
        if args.check:
            return common.check_status(ids_check(results))
        common.save_results(results, "tokenize_speed", args.out, args.quick)
    print()
    print(tables(results))
    if args.write_docs:
        write_docs(results, args.write_docs)
    return common.check_status(ids_check(results))


def ids_check(results: dict[str, Any]) -> dict[str, list[str]]:
    """Ours (both paths) and the tokenizer's own batch encoder give the same ids, and the fast
    path was taken where it should be."""
    bad = [
        f"{name} gives ids different from the baseline's"
        for name, ok in results.get("ids_equal_by_step", {"ours": results["ids_equal"]}).items()
        if not ok
    ]
    encoders = results.get("encoders", {})
    if encoders and encoders.get("ours, fast-bpe") != "fast-bpe":
        bad.append(f"the fast path was not taken: {encoders}")
    return {"ids equal to the baseline's": bad}


if __name__ == "__main__":
    sys.exit(main())
