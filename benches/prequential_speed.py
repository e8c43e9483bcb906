"""Code length and speed of fe.prequential against xz, bzip2, zstd, 7z's PPMd and zpaq.

What it measures
----------------
One English text, the same file for every coder: Debian's ``dict-gcide`` dictionary
(``/usr/share/dictd/gcide.dict.dz`` from ``apt-get install dict-gcide``, gunzipped, about
40 MB; ``--text PATH`` for another file), made valid UTF-8 (its few invalid bytes replaced
by U+FFFD, so that the BPE tokenizer reads the very file the compressors read) and cut to
``--bytes`` (default: all of it). On it:

* **ours, bytes**: ``fe.tokenize(text, "bytes")`` then ``fe.prequential(token_file)`` with
  the default settings (the bit-level context-mixing model, order 8, 1 GiB of tables at
  most); bits per byte of the text; and the same with ``model="tokens"`` (the token-level
  blend, order 12), for the comparison in the same run;
* **ours, 16k BPE**: ``fe.tokenize(text, ("train-bpe", 16000))`` (a BPE trained on this
  text by the ``tokenizers`` library; training and tokenizing are not timed) then
  ``fe.prequential(token_file)`` (the default: the bit model with contexts of whole
  tokens, order 6) and with ``model="tokens"`` (the token-level blend, order 4): bits per
  byte through the token file's bytes per token;
* **compressors** on the same file, each in a subprocess, size of the output in bits per
  byte of the input: ``xz -9``, ``bzip2 -9``, ``zstd -19``, ``7z a -m0=PPMd:o=16:mem=1g``
  (PPMd var. H order 16, Debian ``p7zip-full``) and ``zpaq a -m5`` (Debian ``zpaq``). A coder
  that is not installed is skipped with a printed note. Container headers (a few hundred
  bytes) are counted against the compressors.

Speed is MB of text per second, wall-clock and CPU (user + system: the machine is shared,
so CPU seconds are the steadier figure; ratios within one run are what count). Peak memory
of ours is the process's peak RSS growth during the call.

Also the learning curve on an order-1 Markov chain of known entropy rate
(``fe.MarkovSource(40, 1, seed=7)``, ``--markov-tokens``, default 10^7): our code length per
token, the true chain's own code length on the same sample, and the exact rate.

Run: ``python benches/prequential_speed.py`` (release build: ``maturin develop --release``);
``--quick`` for a smoke test on 1 MB and 10^6 chain tokens. Writes
``benches/results/prequential_speed.json``; with ``--write-docs`` also ``docs/prequential.md``.
"""

from __future__ import annotations

import datetime
import gzip
import math
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

import _common
import fastentropy as fe
import numpy as np

GCIDE = "/usr/share/dictd/gcide.dict.dz"
LN2 = math.log(2.0)

#: (name, argv builder(input, output), output suffix, Debian package)
COMPRESSORS = [
    ("xz -9", lambda i, o: ["sh", "-c", f"xz -9 -T1 -c '{i}' > '{o}'"], ".xz", "xz-utils"),
    ("bzip2 -9", lambda i, o: ["sh", "-c", f"bzip2 -9 -c '{i}' > '{o}'"], ".bz2", "bzip2"),
    ("zstd -19", lambda i, o: ["zstd", "-19", "-T1", "-q", "-f", i, "-o", o], ".zst", "zstd"),
    (
        "7z PPMd o16",
        lambda i, o: ["7z", "a", "-bd", "-mmt1", "-m0=PPMd:o=16:mem=1g", o, i],
        ".7z",
        "p7zip-full",
    ),
    ("zpaq -m5", lambda i, o: ["zpaq", "a", o, i, "-m5", "-t1"], ".zpaq", "zpaq"),
]


def prepare_text(workdir: str, source: str | None, limit: int | None) -> tuple[str, str]:
    """The benchmark text as valid UTF-8 in ``workdir``; returns (path, where it came from)."""
    if source is None:
        if not os.path.exists(GCIDE):
            raise SystemExit(f"{GCIDE} not found: apt-get install dict-gcide, or give --text PATH")
        with gzip.open(GCIDE, "rb") as f:
            raw = f.read()
        origin = f"{GCIDE} (Debian dict-gcide), gunzipped"
    else:
        with open(source, "rb") as f:
            raw = f.read()
        origin = source
    text = raw.decode("utf-8", errors="replace").encode("utf-8")
    if limit is not None and len(text) > limit:
        text = text[:limit].decode("utf-8", errors="ignore").encode("utf-8")
        origin += f", first {len(text):,} bytes"
    path = os.path.join(workdir, "corpus.txt")
    with open(path, "wb") as f:
        f.write(text)
    return path, origin + ", invalid UTF-8 replaced by U+FFFD"


def peak_kib() -> int | None:
    try:
        return _common.status_kib("VmHWM")
    except (OSError, KeyError):
        return None


def measure_ours(
    tf: fe.TokenFile, n_bytes: int, label: str, model: str | None = None
) -> dict[str, Any]:
    _common.reset_peak()
    before = peak_kib()
    wall, cpu = time.perf_counter(), time.process_time()
    cl = fe.prequential(tf, model=model)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = peak_kib()
    peak = None if before is None or after is None else (after - before) / 1024
    out = {
        "name": label,
        "bits_per_byte": cl.bits_per_byte,
        "nats_per_token": cl.nats_per_token,
        "tokens": cl.n,
        "wall_s": wall,
        "cpu_s": cpu,
        "mb_per_s_wall": n_bytes / wall / 1e6,
        "mb_per_s_cpu": n_bytes / cpu / 1e6,
        "peak_rss_growth_mib": peak,
        "model": cl.model,
        "curve": {"n": cl.curve.n.tolist(), "nats": cl.curve.nats.tolist()},
    }
    print(
        f"{label:>22}: {cl.bits_per_byte:.4f} bits/byte ({cl.nats_per_token:.4f} nats/token), "
        f"{out['mb_per_s_wall']:.2f} MB/s wall, {out['mb_per_s_cpu']:.2f} MB/s CPU, "
        f"tables {cl.model['memory_bytes'] / 2**20:.0f} MiB",
        flush=True,
    )
    return out


def measure_compressor(name: str, argv: list[str], out: str, n_bytes: int) -> dict[str, Any]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=7200)
    wall = time.perf_counter() - wall
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"{name} failed: {proc.stderr.strip()[:300]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    size = os.path.getsize(out)
    res = {
        "name": name,
        "bytes": size,
        "bits_per_byte": 8 * size / n_bytes,
        "wall_s": wall,
        "cpu_s": cpu,
        "mb_per_s_wall": n_bytes / wall / 1e6,
        "mb_per_s_cpu": n_bytes / cpu / 1e6 if cpu > 0 else None,
    }
    print(
        f"{name:>22}: {res['bits_per_byte']:.4f} bits/byte, {res['mb_per_s_wall']:.2f} MB/s "
        f"wall, {res['mb_per_s_cpu'] or 0:.2f} MB/s CPU",
        flush=True,
    )
    return res


def measure_markov(n: int) -> dict[str, Any]:
    src = fe.MarkovSource(40, 1, seed=7)
    tokens = src.sample(n, seed=8)
    cpu = time.process_time()
    cl = fe.prequential(tokens)
    cpu = time.process_time() - cpu
    rows = src.transitions()
    truth = -np.log(rows[tokens[:-1], tokens[1:]]).sum() - math.log(src.stationary()[tokens[0]])
    res = {
        "tokens": n,
        "rate": src.entropy_rate,
        "ours": cl.nats_per_token,
        "true_model_on_sample": float(truth) / n,
        "excess_over_rate": cl.nats_per_token - src.entropy_rate,
        "cpu_s": cpu,
        "curve": {"n": cl.curve.n.tolist(), "nats": cl.curve.nats.tolist()},
    }
    print(
        f"Markov V=40 order 1, {n:,} tokens: ours {res['ours']:.5f}, true chain on the sample "
        f"{res['true_model_on_sample']:.5f}, rate {res['rate']:.5f} nats/token "
        f"(excess {res['excess_over_rate']:.5f})",
        flush=True,
    )
    return res


def run(args: Any) -> dict[str, Any]:
    start = time.perf_counter()
    results: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        **_common.provenance(),
        "cpus": os.cpu_count(),
        "load_average_start": os.getloadavg()[0],
        "skipped": [],
    }
    with tempfile.TemporaryDirectory(prefix="fe-prequential-") as work:
        path, origin = prepare_text(work, args.text, args.bytes)
        n_bytes = os.path.getsize(path)
        results["text"] = {"origin": origin, "bytes": n_bytes}
        print(f"text: {origin}: {n_bytes:,} bytes", flush=True)
        rows = []
        bytes_tf = fe.tokenize(path, "bytes", os.path.join(work, "bytes"))
        rows.append(measure_ours(bytes_tf, n_bytes, "ours, bytes"))
        rows.append(measure_ours(bytes_tf, n_bytes, "ours, bytes, token model", "tokens"))
        bpe_tf = fe.tokenize(path, ("train-bpe", 16000), os.path.join(work, "bpe"))
        results["bpe"] = {
            "tokens": bpe_tf.n_text_tokens,
            "bytes_per_token": bpe_tf.bytes_per_token,
            "vocab_size": bpe_tf.vocab_size,
        }
        rows.append(measure_ours(bpe_tf, n_bytes, "ours, 16k BPE"))
        rows.append(measure_ours(bpe_tf, n_bytes, "ours, 16k BPE, token model", "tokens"))
        del bytes_tf, bpe_tf
        wanted = None if args.compressors is None else set(args.compressors.split(","))
        for name, argv, suffix, package in COMPRESSORS:
            if wanted is not None and name.split()[0] not in wanted:
                continue
            tool = argv("x", "y")[0]
            tool = name.split()[0] if tool == "sh" else tool
            if shutil.which(tool) is None:
                note = f"{name}: `{tool}` not installed (apt-get install {package}); skipped"
                print(note, flush=True)
                results["skipped"].append(note)
                continue
            out = os.path.join(work, "out" + suffix)
            rows.append(measure_compressor(name, argv(path, out), out, n_bytes))
            os.remove(out)
        results["rows"] = rows
    results["markov"] = measure_markov(args.markov_tokens)
    results["wall_seconds"] = time.perf_counter() - start
    results["load_average_end"] = os.getloadavg()[0]
    return results


def table(results: dict[str, Any]) -> str:
    rows = results["rows"]
    ppmd = next((r for r in rows if r["name"] == "7z PPMd o16"), None)
    lines = [
        "| coder | bits/byte | MB/s (wall) | MB/s (CPU) | CPU speed vs PPMd |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        vs = "-"
        if ppmd and r.get("mb_per_s_cpu") and ppmd.get("mb_per_s_cpu"):
            vs = f"{r['mb_per_s_cpu'] / ppmd['mb_per_s_cpu']:.2f}x"
        lines.append(
            f"| {r['name']} | {r['bits_per_byte']:.4f} | {r['mb_per_s_wall']:.2f} | "
            f"{r['mb_per_s_cpu'] or 0:.2f} | {vs} |"
        )
    return "\n".join(lines)


def write_docs(results: dict[str, Any], path: str) -> None:
    m = results["markov"]
    bpe = results["bpe"]
    ours = {r["name"]: r for r in results["rows"]}
    mem = [
        f"- {name}: tables {r['model']['memory_bytes'] / 2**20:.0f} MiB (limit 1 GiB), "
        f"peak RSS growth {r['peak_rss_growth_mib'] or 0:.0f} MiB, "
        f"{r['model'].get('name', '?')}, order {r['model']['order']}"
        for name, r in ours.items()
        if name.startswith("ours")
    ]
    body = [
        "## Results",
        "",
        f"Measured {results['date']} (git {results['git']}, build {results['build']}, "
        f"{results['cpus']} CPUs shared with other work, load average "
        f"{results.get('load_average_start', float('nan')):.1f} at the start, "
        f"{results.get('load_average_end', float('nan')):.1f} at the end).",
        "",
        f"Text: {results['text']['origin']} ({results['text']['bytes']:,} bytes). 16k BPE: "
        f"{bpe['tokens']:,} tokens, {bpe['bytes_per_token']:.3f} bytes/token.",
        "",
        table(results),
        "",
        *mem,
        *(f"- {note}" for note in results["skipped"]),
        "",
        "Learning curve on an order-1 Markov chain (V = 40, `fe.MarkovSource(40, 1, seed=7)`), "
        f"{m['tokens']:,} tokens: ours {m['ours']:.5f} nats/token, the true chain on the same "
        f"sample {m['true_model_on_sample']:.5f}, exact rate {m['rate']:.5f}: "
        f"**{m['excess_over_rate']:.5f} nats above the rate**.",
        "",
        "| N | L_N / N (nats/token) |",
        "|---:|---:|",
        *(
            f"| {n:,} | {nats / n:.5f} |"
            for n, nats in zip(m["curve"]["n"], m["curve"]["nats"], strict=True)
            if n >= 2**14
        ),
        "",
        "Regenerate: `python benches/prequential_speed.py --write-docs` (release build).",
        "",
    ]
    head = [
        "# The prequential code length: fe.prequential against compressors",
        "",
    ]
    _common.write_doc(path, head, "\n".join(body))


def main(argv: list[str] | None = None) -> int:
    parser = _common.arg_parser(__doc__ or "", "1 MB of text and 10^6 chain tokens")
    parser.add_argument("--text", help="a text file instead of dict-gcide")
    parser.add_argument("--bytes", type=int, help="cut the text to this many bytes")
    parser.add_argument("--markov-tokens", type=int, default=10**7, help="default 10^7")
    parser.add_argument(
        "--compressors",
        help="comma-separated first words of the compressors to run (e.g. 7z,zpaq); default all",
    )
    _common.add_output_args(parser, "docs/prequential.md")
    args = parser.parse_args(argv)
    if args.quick:
        args.bytes = args.bytes or 1_000_000
        args.markov_tokens = min(args.markov_tokens, 10**6)
    if args.from_json:
        results = _common.load_results(args.from_json)
    else:
        results = run(args)
        _common.save_results(results, "prequential_speed", args.out, args.quick)
    if args.write_docs:
        write_docs(results, args.write_docs)
    else:
        print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
