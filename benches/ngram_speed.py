"""Speed and peak memory of fastentropy's n-gram counter against numpy and collections.Counter.

What it measures
----------------
Orders 1..5 counted together (``fe.ngram_profiles(tokens, orders=range(1, 6))``) on two
corpora, memory-mapped with ``fe.open_tokens`` from temporary files (never committed):

* **synthetic**: ``--tokens`` uint32 tokens (default 2·10^7; the issue's figure is
  ``--tokens 100000000``) from a Zipfian order-1 Markov source over a vocabulary of 50,000
  (fixed seed): from state ``x`` the next token is ``(a[x]·r + b[x]) mod 50000``, with ``r`` a
  Zipf(1.1) rank truncated to the vocabulary and ``a[x]`` (coprime with 50000), ``b[x]`` drawn
  once per state, i.e. every state has its own permutation of one Zipf law. It is generated
  as 2,000 independent chains stepped together by numpy and laid end to end (one seam every
  10^4 tokens at the default size);
* **text**: the bytes of Debian's ``dict-gcide`` (``apt-get download dict-gcide``, the
  ``.dict.dz`` inside, gunzipped: about 40 MB of English) as uint8 tokens; skipped, with a
  message, when the package cannot be fetched.

On each corpus, every step runs in a fresh process (``multiprocessing`` "spawn"):

* **ours**: ``fe.ngram_profiles`` with ``threads=1``, with ``threads=None`` (all cores) and
  with ``threads=None, memory_limit=--memory-limit`` (default 256MB: the partitioned path);
* **numpy**: per order, each window packed into a ``uint64`` key (``w`` bits per token, ``w``
  the bit length of the largest id: 16 for the synthetic corpus, 8 for bytes) then
  ``np.unique(keys, return_counts=True)`` and ``np.unique`` of those counts (the profile).
  Where ``order·w`` exceeds 64 bits (order 5 of the synthetic corpus: 80 bits) it is
  two-level: ``np.unique(prefix_keys, return_inverse=True)`` of the order-4 prefixes, then the
  prefix's rank (< 2^32) and the last token packed into one ``uint64``;
* **KenLM** (where its ``count_ngrams`` is found: ``--kenlm PATH``, else on ``PATH``; synthetic
  corpus only): ``count_ngrams -o 5`` (KenLM's exact order-5 counter, Heafield 2013; it
  counts the one order) on the corpus written as text, one line per chain, each id a
  zero-padded five-digit word; its binary output goes to a temporary file. Writing the text
  is not timed. Check: KenLM pads each line with ``<s>``/``</s>``; its 5-grams free of them
  must have the profile ours gives for order 5 with a separator between chains. KenLM is not
  on PyPI as a tool; to build it (Boost and cmake needed)::

      pip download --no-deps --no-binary kenlm --no-build-isolation kenlm  # the sdist
      tar xzf kenlm-*.tar.gz && cd kenlm-*/ && mkdir build && cd build
      apt-get install libboost-program-options-dev libboost-system-dev \
          libboost-thread-dev libboost-test-dev && pip install cmake
      cmake .. -DCMAKE_BUILD_TYPE=Release -DCMAKE_POLICY_VERSION_MINIMUM=3.5
      make count_ngrams    # then: --kenlm build/bin/count_ngrams
* **Counter**: ``collections.Counter`` over tuples (``zip`` of shifted lists) of the first
  ``--counter-slice`` tokens (default 10^6), ``tolist()`` included, then a Counter of the
  counts. Its rate is tokens of the slice / seconds: an extrapolation, since dict-based
  counting slows further as the table outgrows the caches.

Ours and numpy must give identical profiles (``ks``, ``mks``) on every order; so must ours
with one thread, all threads and the memory limit; Counter is checked against ours on its
slice. Times: ours is the minimum over ``--repeats`` calls, numpy and Counter one call
(tens of seconds each). The input is read once (pages resident) before the timed calls.
Peak memory: in the step's process, the growth of peak RSS over the RSS just before the
first timed call (the peak reset through ``/proc/self/clear_refs``; the input's pages are
already resident, so this is working memory), and the process's whole peak RSS
(``ru_maxrss``: interpreter, numpy and the resident input included). Ratios are baseline
time / our time (same run): above 1 means we are faster.

How to run
----------
::

    python benches/ngram_speed.py                       # 2·10^7 tokens, a few minutes
    python benches/ngram_speed.py --write-docs          # the same, and regenerate the page
    python benches/ngram_speed.py --tokens 100000000    # the issue's corpus size
    python benches/ngram_speed.py --quick               # 2·10^6 tokens, prints only
    python benches/ngram_speed.py --scale-tokens 1e9    # + 10^9 uint16 tokens under 5GB

``--scale-tokens N`` also writes N generated uint16 tokens (about 2 GB for 10^9: check the
free space of the temporary directory) and counts them once with ``--scale-limit``, to show
peak RSS growth against the limit at that size.

Writes ``benches/results/ngram_speed.json``; with ``--write-docs`` also ``docs/ngram_speed.md``
(a summary between ``<!-- summary:begin -->`` and ``<!-- summary:end -->`` in it is kept).
Needs numpy, fastentropy, and ``apt-get``/``dpkg-deb`` for the text corpus. Not part of the
test run.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import gzip
import multiprocessing
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import _common as common
import fastentropy as fe
import numpy as np
from fastentropy._args import parse_size  # the library's own reading of "5GB"

SEED = 20240611
VOCAB = 50_000
EXPONENT = 1.1
CHAINS = 2_000
#: Tokens per independently seeded block of the ``--scale-tokens`` file.
SCALE_BLOCK = 10_000_000
ORDERS = tuple(range(1, 6))
#: The issue's target (synthetic corpus, orders 1..5, two cores).
TARGET_RATE = 25e6
TARGET_NUMPY_RATIO = 40.0
TARGET_KENLM_RATIO = 15.0
#: KenLM's ids for <unk>, <s> and </s>: 5-grams holding one are not in our corpus.
KENLM_SPECIAL = 2
TARGET_BYTES_PER_TOKEN = 16.0
MiB = 1024.0 * 1024.0


# --------------------------------------------------------------------------------- corpora


def generate_markov(
    path: str, n: int, seed: int = SEED, dtype: type = np.uint32, append: bool = False
) -> dict[str, Any]:
    """Write ``n`` tokens of the Zipfian order-1 Markov source to ``path`` (raw), or append."""
    rng = np.random.default_rng([seed, VOCAB])
    cdf = np.cumsum(np.arange(1, VOCAB + 1, dtype=np.float64) ** -EXPONENT)
    cdf /= cdf[-1]
    # a[x] odd and not a multiple of 5: coprime with 50000 = 2^4 5^5, so r -> a r + b permutes.
    a = rng.integers(0, VOCAB // 10, VOCAB) * 10 + rng.choice(np.array([1, 3, 7, 9]), VOCAB)
    b = rng.integers(0, VOCAB, VOCAB)
    chains = min(CHAINS, max(1, n))
    steps = -(-n // chains)
    out = np.empty((steps, chains), dtype=np.uint32)
    x = rng.integers(0, VOCAB, chains)
    for i in range(steps):
        r = np.searchsorted(cdf, rng.random(chains), side="right")
        x = (a[x] * r + b[x]) % VOCAB
        out[i] = x
    with open(path, "ab" if append else "wb") as f:
        np.ascontiguousarray(out.T).ravel()[:n].astype(dtype, copy=False).tofile(f)
    return {"chains": chains, "chain_length": steps}


def measure_scale(workdir: str, args: argparse.Namespace) -> dict[str, Any]:
    """Count ``--scale-tokens`` uint16 tokens under ``--scale-limit``: peak RSS against it.

    The file is written in blocks of ``SCALE_BLOCK`` tokens, each from the synthetic source
    with its own seed (``SEED + 1 + block``), and removed afterwards.
    """
    path = os.path.join(workdir, "scale.bin")
    n = args.scale_tokens
    t0 = time.perf_counter()
    for k, start in enumerate(range(0, n, SCALE_BLOCK)):
        size = min(SCALE_BLOCK, n - start)
        generate_markov(path, size, seed=SEED + 1 + k, dtype=np.uint16, append=True)
    gen = time.perf_counter() - t0
    print(f"scale: {n:,} uint16 tokens generated in {gen:.0f} s", flush=True)
    spec = {
        "path": path,
        "dtype": "uint16",
        "orders": ORDERS,
        "kind": "ours",
        "threads": None,
        "repeats": 1,
        "memory_limit": args.scale_limit,
    }
    try:
        res = run_step(spec)
    finally:
        os.remove(path)
    res.pop("profiles")
    limit_mib = parse_size(args.scale_limit) / MiB
    print(
        f"  ours, all threads, memory_limit={args.scale_limit} ... {res['seconds']:.0f} s, "
        f"{res['tokens_per_s'] / 1e6:.2f} M tokens/s, peak RSS growth "
        f"{res['peak_rss_growth_mib']:.0f} MiB (limit {limit_mib:.0f} MiB)",
        flush=True,
    )
    return {
        "tokens": n,
        "dtype": "uint16",
        "memory_limit": args.scale_limit,
        "limit_mib": limit_mib,
        "generate_seconds": gen,
        **res,
    }


def write_kenlm_text(path: str, n: int, line: int, text: str) -> None:
    """The ``n`` uint32 tokens at ``path`` as text: five-digit words, a line per ``line`` tokens."""
    tokens = np.memmap(path, dtype=np.uint32, mode="r", shape=(n,))
    block = line * max(1, 10_000_000 // line)
    with open(text, "wb") as f:
        for start in range(0, n, block):
            t = np.asarray(tokens[start : start + block])
            words = np.empty((t.size, 6), np.uint8)
            for k in range(4, -1, -1):
                words[:, k] = t % 10 + ord("0")
                t = t // 10
            words[:, 5] = ord(" ")
            words[line - 1 :: line, 5] = ord("\n")
            words[-1, 5] = ord("\n")
            words.tofile(f)


def kenlm_profile(counts_path: str) -> tuple[list[int], list[int]]:
    """Profile of KenLM's binary 5-gram counts (five uint32 ids, a uint64 count), without
    the 5-grams that hold <unk>, <s> or </s>."""
    records = np.memmap(counts_path, dtype=np.dtype([("w", "<u4", 5), ("c", "<u8")]), mode="r")
    counts = []
    for start in range(0, len(records), 10_000_000):
        r = np.asarray(records[start : start + 10_000_000])
        counts.append(r["c"][(r["w"] > KENLM_SPECIAL).all(axis=1)])
    ks, mks = np.unique(np.concatenate(counts), return_counts=True)
    return ks.tolist(), mks.tolist()


def ours_with_separators(path: str, n: int, line: int) -> tuple[list[int], list[int]]:
    """Our order-5 profile of the corpus with a separator (id VOCAB) after every line."""
    tokens = np.fromfile(path, dtype=np.uint32, count=n)
    flat = np.insert(tokens, np.arange(line, n, line), VOCAB)
    ks, mks = profile_arrays(fe.ngram_profiles(flat, orders=[5], separator=VOCAB)[5])
    return ks.tolist(), mks.tolist()


def measure_kenlm(binary: str, path: str, n: int, line: int, workdir: str) -> dict[str, Any]:
    """Time ``count_ngrams -o 5`` on the corpus as text; check its profile against ours."""
    text = os.path.join(workdir, "markov.txt")
    out = os.path.join(workdir, "kenlm.counts")
    write_kenlm_text(path, n, line, text)
    cmd = [binary, "-o", "5", "-T", workdir + os.sep, "--write_vocab_list", out + ".vocab"]
    log = out + ".log"
    try:
        # stderr to a file: a pipe left unread until the end could fill and stall KenLM.
        with open(text, "rb") as src, open(out, "wb") as dst, open(log, "wb") as err_file:
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, stdin=src, stdout=dst, stderr=err_file)
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - t0
        if status != 0:
            with open(log, encoding="utf-8", errors="replace") as f:
                err = f.read()
            return {"error": f"count_ngrams exited with status {status}: {err[-300:]}"}
        profile = kenlm_profile(out)
    finally:
        for f in (text, out, out + ".vocab", log):
            if os.path.exists(f):
                os.remove(f)
    return {
        "seconds": seconds,
        "tokens": n,
        "tokens_per_s": n / seconds,
        "peak_rss_growth_mib": None,
        "process_peak_rss_mib": usage.ru_maxrss / 1024.0,
        "command": " ".join(cmd[:3]),
        "profile_5": profile,
    }


def fetch_gcide(workdir: str) -> tuple[str | None, str]:
    """Write the gunzipped ``gcide.dict.dz`` of Debian's dict-gcide to ``workdir``.

    Returns (path or None, a note saying what happened).
    """
    if not (shutil.which("apt-get") and shutil.which("dpkg-deb")):
        return None, "apt-get or dpkg-deb not available"

    def download() -> bool:
        proc = subprocess.run(
            ["apt-get", "download", "dict-gcide"],
            cwd=workdir,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return proc.returncode == 0 and bool(glob.glob(os.path.join(workdir, "*.deb")))

    try:
        if not download():
            subprocess.run(["apt-get", "update"], capture_output=True, timeout=300)
            if not download():
                return None, "`apt-get download dict-gcide` failed (after apt-get update)"
        deb = glob.glob(os.path.join(workdir, "*.deb"))[0]
        subprocess.run(["dpkg-deb", "-x", deb, os.path.join(workdir, "x")], check=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"fetching dict-gcide failed: {exc}"
    found = glob.glob(os.path.join(workdir, "x", "**", "*.dict.dz"), recursive=True)
    if not found:
        return None, "no .dict.dz in the dict-gcide package"
    path = os.path.join(workdir, "gcide.bin")
    with gzip.open(found[0], "rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 22)
    return path, f"{os.path.basename(deb)}: {os.path.relpath(found[0], workdir)}"


# -------------------------------------------------------------------------------- counting


def profile_arrays(profile: fe.Profile) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(profile.ks, dtype=np.uint64), np.asarray(profile.mks, dtype=np.uint64)


def numpy_profiles(tokens: np.ndarray, orders: tuple[int, ...]) -> dict[int, tuple]:
    """Per order: pack windows into uint64 keys, ``np.unique`` with counts, then the profile."""
    t = np.asarray(tokens)
    width = max(1, int(t.max()).bit_length())
    out = {}
    for n in orders:
        m = len(t) - n + 1
        if m <= 0:
            out[n] = (np.zeros(0, np.uint64), np.zeros(0, np.uint64))
            continue
        if n * width <= 64:
            keys = np.zeros(m, dtype=np.uint64)
            for i in range(n):
                keys <<= np.uint64(width)
                keys |= t[i : i + m]
        else:
            # Two-level: rank of the (n-1)-token prefix, then the last token.
            if (n - 1) * width > 64:
                raise ValueError(f"order {n}: prefix of {(n - 1) * width} bits does not fit")
            prefix = np.zeros(m, dtype=np.uint64)
            for i in range(n - 1):
                prefix <<= np.uint64(width)
                prefix |= t[i : i + m]
            _, inverse = np.unique(prefix, return_inverse=True)
            del prefix
            keys = inverse.astype(np.uint64)
            del inverse
            keys <<= np.uint64(width)
            keys |= t[n - 1 : n - 1 + m]
        _, counts = np.unique(keys, return_counts=True)
        del keys
        ks, mks = np.unique(counts, return_counts=True)
        out[n] = (ks.astype(np.uint64), mks.astype(np.uint64))
    return out


def counter_profiles(tokens: np.ndarray, orders: tuple[int, ...]) -> dict[int, tuple]:
    """collections.Counter over n-gram tuples, then a Counter of the counts."""
    seq = np.asarray(tokens).tolist()
    out = {}
    for n in orders:
        grams = Counter(seq) if n == 1 else Counter(zip(*(seq[i:] for i in range(n)), strict=False))
        prof = Counter(grams.values())
        ks = np.array(sorted(prof), dtype=np.uint64)
        out[n] = (ks, np.array([prof[k] for k in ks.tolist()], dtype=np.uint64))
    return out


# ----------------------------------------------------------------------------- measurement


def status_or_none(field: str) -> int | None:
    try:
        return common.status_kib(field)
    except (OSError, KeyError):
        return None


def process_peak_kib(before_reset: int | None) -> float:
    """The process's peak RSS in KiB: VmHWM across the reset where readable, else ru_maxrss."""
    after = status_or_none("VmHWM")
    if before_reset is None or after is None:
        return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    return float(max(before_reset, after))


def step(spec: dict[str, Any]) -> dict[str, Any]:
    """One measured step, run in a fresh process: time ``spec['kind']`` and its peak RSS."""
    tokens = fe.open_tokens(spec["path"], dtype=spec["dtype"])
    if spec.get("slice"):
        tokens = np.ascontiguousarray(tokens[: spec["slice"]])
    int(tokens.sum(dtype=np.uint64))  # make the input's pages resident before timing
    orders = tuple(spec["orders"])
    kind = spec["kind"]
    if kind == "ours":

        def call() -> dict[int, tuple]:
            res = fe.ngram_profiles(
                tokens, orders=orders, threads=spec["threads"], memory_limit=spec["memory_limit"]
            )
            return {n: profile_arrays(p) for n, p in res.items()}

    elif kind == "numpy":

        def call() -> dict[int, tuple]:
            return numpy_profiles(tokens, orders)

    else:

        def call() -> dict[int, tuple]:
            return counter_profiles(tokens, orders)

    # ru_maxrss survives exec, so a spawned step would report its parent's peak: the step's
    # own peak is its VmHWM before the reset (interpreter and input) or after the calls.
    hwm0 = status_or_none("VmHWM")
    reset = common.reset_peak()
    rss0 = common.status_kib("VmRSS")
    times = []
    result: dict[int, tuple] = {}
    for _ in range(spec["repeats"]):
        t0 = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - t0)
    growth = (common.status_kib("VmHWM") - rss0) / 1024.0 if reset else None
    out: dict[str, Any] = {
        "seconds": min(times),
        "all_seconds": times,
        "tokens": len(tokens),
        "tokens_per_s": len(tokens) / min(times),
        "peak_rss_growth_mib": growth,
        "process_peak_rss_mib": process_peak_kib(hwm0) / 1024.0,
        "profiles": {n: (ks.tolist(), mks.tolist()) for n, (ks, mks) in result.items()},
    }
    if kind == "counter":
        # Ours on the same slice, untimed, for the check.
        ours = fe.ngram_profiles(tokens, orders=orders)
        out["ours_profiles"] = {
            n: tuple(a.tolist() for a in profile_arrays(p)) for n, p in ours.items()
        }
    return out


def run_step(spec: dict[str, Any]) -> dict[str, Any]:
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        return ex.submit(step, spec).result()


def profile_summary(profiles: dict) -> dict[str, dict[str, int]]:
    """n and distinct per order from (ks, mks) lists."""
    out = {}
    for n, (ks, mks) in profiles.items():
        out[str(n)] = {
            "n": int(sum(k * m for k, m in zip(ks, mks, strict=True))),
            "distinct": int(sum(mks)),
            "profile_pairs": len(ks),
        }
    return out


def compare(a: dict, b: dict) -> list[str]:
    """Orders (as strings) whose profiles differ, with a short reason."""
    bad = []
    for n in sorted(set(a) | set(b), key=int):
        if n not in a or n not in b:
            bad.append(f"order {n}: missing on one side")
            continue
        (ka, ma), (kb, mb) = a[n], b[n]
        if list(ka) != list(kb) or list(ma) != list(mb):
            sa, sb = profile_summary({n: a[n]})[str(n)], profile_summary({n: b[n]})[str(n)]
            bad.append(f"order {n}: {sa} vs {sb}")
    return bad


def measure_corpus(
    name: str, path: str, dtype: str, args: argparse.Namespace, extra: dict[str, Any]
) -> dict[str, Any]:
    tokens = fe.open_tokens(path, dtype=dtype)
    total = len(tokens)
    del tokens
    base = {"path": path, "dtype": dtype, "orders": ORDERS, "memory_limit": None}
    specs = {
        "ours, threads=1": {**base, "kind": "ours", "threads": 1, "repeats": args.repeats},
        "ours, all threads": {**base, "kind": "ours", "threads": None, "repeats": args.repeats},
        f"ours, all threads, memory_limit={args.memory_limit}": {
            **base,
            "kind": "ours",
            "threads": None,
            "repeats": args.repeats,
            "memory_limit": args.memory_limit,
        },
        "numpy": {**base, "kind": "numpy", "threads": None, "repeats": 1},
        "Counter (slice)": {
            **base,
            "kind": "counter",
            "threads": None,
            "repeats": 1,
            "slice": min(args.counter_slice, total),
        },
    }
    steps: dict[str, Any] = {}
    for label, spec in specs.items():
        print(f"  {label} ...", end=" ", flush=True)
        try:
            res = run_step(spec)
        except Exception as exc:  # noqa: BLE001 - a failed step is reported, not fatal
            steps[label] = {"error": f"{type(exc).__name__}: {exc}"}
            print(f"ERROR {type(exc).__name__}: {exc}", flush=True)
            continue
        res["profiles"] = {str(k): v for k, v in res["profiles"].items()}
        if "ours_profiles" in res:
            res["ours_profiles"] = {str(k): v for k, v in res["ours_profiles"].items()}
        steps[label] = res
        growth = res["peak_rss_growth_mib"]
        print(
            f"{res['seconds']:.2f} s, {res['tokens_per_s'] / 1e6:.2f} M tokens/s, peak RSS "
            f"growth {'—' if growth is None else f'{growth:.0f}'} MiB, process peak "
            f"{res['process_peak_rss_mib']:.0f} MiB",
            flush=True,
        )

    kenlm = extra.pop("kenlm", None)
    if kenlm:
        print("  KenLM count_ngrams -o 5 ...", end=" ", flush=True)
        res = measure_kenlm(kenlm, path, total, extra["chain_length"], os.path.dirname(path))
        steps["KenLM count_ngrams -o 5"] = res
        if "error" in res:
            print(f"ERROR {res['error']}", flush=True)
        else:
            print(
                f"{res['seconds']:.2f} s, {res['tokens_per_s'] / 1e6:.2f} M tokens/s, process "
                f"peak {res['process_peak_rss_mib']:.0f} MiB",
                flush=True,
            )

    ref = steps.get("ours, threads=1", {}).get("profiles")
    checks: dict[str, Any] = {}
    for label, res in steps.items():
        if "error" in res or label == "ours, threads=1":
            continue
        if label == "Counter (slice)":
            bad = compare(res["profiles"], res["ours_profiles"])
            checks[label + " vs ours on the slice"] = bad
        elif label.startswith("KenLM"):
            ours5 = ours_with_separators(path, total, extra["chain_length"])
            bad = compare({"5": res.pop("profile_5")}, {"5": ours5})
            checks[label + " (5-grams free of <s>, </s>) vs ours with a separator per line"] = bad
        elif ref is not None:
            checks[label + " vs ours, threads=1"] = compare(res["profiles"], ref)
    for label, bad in checks.items():
        status = "identical on every order" if not bad else "MISMATCH: " + "; ".join(bad)
        print(f"  check {label}: {status}", flush=True)
    distinct = profile_summary(ref) if ref is not None else {}
    for res in steps.values():  # keep the JSON small: the profiles were only for checks
        res.pop("profiles", None)
        res.pop("ours_profiles", None)
        res.pop("profile_5", None)
    return {
        "name": name,
        "tokens": total,
        "dtype": dtype,
        **extra,
        "orders": distinct,
        "steps": steps,
        "checks": checks,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    load_before = os.getloadavg()
    date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    corpora = []
    kenlm = args.kenlm or (shutil.which("count_ngrams") if args.kenlm is None else None)
    print(f"KenLM count_ngrams: {kenlm or 'not found (--kenlm PATH), skipped'}", flush=True)
    with tempfile.TemporaryDirectory(prefix="ngram_speed_") as tmp:
        path = os.path.join(tmp, "markov.bin")
        t0 = time.perf_counter()
        info = generate_markov(path, args.tokens)
        gen = time.perf_counter() - t0
        print(f"synthetic: {args.tokens:,} uint32 tokens generated in {gen:.1f} s", flush=True)
        corpora.append(
            measure_corpus(
                "synthetic",
                path,
                "uint32",
                args,
                {
                    "source": f"Zipf({EXPONENT}) order-1 Markov, vocab {VOCAB}, "
                    f"per-state affine permutation, seed {SEED}",
                    "generate_seconds": gen,
                    **info,
                    "kenlm": kenlm,
                },
            )
        )
        os.remove(path)
        scale = measure_scale(tmp, args) if args.scale_tokens else None
        if args.no_text:
            text_note = "skipped (--no-text)"
            text_path = None
        else:
            text_path, text_note = fetch_gcide(tmp)
        if text_path is None:
            print(f"text corpus skipped: {text_note}", flush=True)
        else:
            print(f"text: {os.path.getsize(text_path):,} bytes ({text_note})", flush=True)
            corpora.append(
                measure_corpus(
                    "text", text_path, "uint8", args, {"source": f"dict-gcide bytes, {text_note}"}
                )
            )
    return {
        "benchmark": "ngram_speed",
        "quick": args.quick,
        "date": date,
        **common.provenance(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus",
        "orders_counted": list(ORDERS),
        "repeats": args.repeats,
        "memory_limit": args.memory_limit,
        "counter_slice": args.counter_slice,
        "text_corpus": text_note,
        "kenlm": kenlm or "not found",
        "target": {
            "tokens_per_s": TARGET_RATE,
            "numpy_ratio": TARGET_NUMPY_RATIO,
            "kenlm_ratio": TARGET_KENLM_RATIO,
            "bytes_per_token": TARGET_BYTES_PER_TOKEN,
        },
        "corpora": corpora,
        "scale": scale,
        "load_average_start_end": [load_before[0], os.getloadavg()[0]],
        "wall_seconds": time.perf_counter() - started,
    }


# ---------------------------------------------------------------------------------- report


def fmt_ratio(baseline: dict, ours: dict) -> str:
    if "error" in baseline or "error" in ours:
        return "—"
    r = baseline["seconds"] / baseline["tokens"] / (ours["seconds"] / ours["tokens"])
    return f"{r:.2g}×" if r < 10 else f"{r:,.0f}×"


def fmt_mib(mib: float | None) -> str:
    return "—" if mib is None else f"{mib:,.0f}"


def fmt_bpt(mib: float | None, tokens: int) -> str:
    return "—" if mib is None else f"{mib * MiB / tokens:.1f}"


def tables(results: dict[str, Any]) -> str:
    out = []
    for c in results["corpora"]:
        out += [
            f"## {c['name']}: {c['tokens']:,} {c['dtype']} tokens",
            "",
            f"Source: {c['source']}.",
            "",
            "| order | n | distinct | profile pairs |",
            "|---|---|---|---|",
        ]
        for n, o in c["orders"].items():
            out.append(f"| {n} | {o['n']:,} | {o['distinct']:,} | {o['profile_pairs']:,} |")
        steps = c["steps"]
        ours1 = steps.get("ours, threads=1", {"error": ""})
        oursn = steps.get("ours, all threads", {"error": ""})
        out += [
            "",
            "Orders 1..5 together. Rate: tokens / seconds (Counter: tokens of its slice / "
            "seconds). Ratio: baseline time per token / ours per token (same run). Peak growth:"
            " peak RSS over the RSS before the call, input resident (MiB); process peak: the "
            "step's whole process (MiB).",
            "",
            "| step | tokens | time | M tokens/s | ours 1 thread vs it | ours all threads vs it "
            "| peak growth | process peak | bytes/token: growth, process peak |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for label, s in steps.items():
            if "error" in s:
                out.append(f"| {label} | error: {s['error']} | | | | | | | |")
                continue
            out.append(
                f"| {label} | {s['tokens']:,} | {s['seconds']:.2f} s | "
                f"{s['tokens_per_s'] / 1e6:.2f} | {fmt_ratio(s, ours1)} | {fmt_ratio(s, oursn)} | "
                f"{fmt_mib(s['peak_rss_growth_mib'])} | {fmt_mib(s['process_peak_rss_mib'])} | "
                f"{fmt_bpt(s['peak_rss_growth_mib'], s['tokens'])}, "
                f"{fmt_bpt(s['process_peak_rss_mib'], s['tokens'])} |"
            )
        out += [""]
        for label, bad in c["checks"].items():
            status = (
                "identical profiles on every order"
                if not bad
                else "**MISMATCH**: " + ("; ".join(bad))
            )
            out.append(f"- {label}: {status}")
        out += [""]
    out.append(target_verdict(results))
    scale = results.get("scale")
    if scale and "error" not in scale:
        growth, limit = scale["peak_rss_growth_mib"], scale["limit_mib"]
        out += [
            "",
            f"## scale: {scale['tokens']:,} uint16 tokens, memory_limit={scale['memory_limit']}",
            "",
            "Orders 1..5, all threads, one call on a generated file (blocks of "
            f"{SCALE_BLOCK:,} tokens from the synthetic source, each seeded on its own): "
            f"{scale['seconds']:.0f} s, {scale['tokens_per_s'] / 1e6:.2f} M tokens/s; peak RSS "
            f"growth {fmt_mib(growth)} MiB against the limit's {limit:,.0f} MiB "
            + (
                "(not measured)."
                if growth is None
                else f"({'within' if growth <= limit else 'over'} it by "
                f"{abs(limit - growth):,.0f} MiB); process peak "
                f"{fmt_mib(scale['process_peak_rss_mib'])} MiB (input resident)."
            ),
        ]
    return "\n".join(out) + "\n"


def target_verdict(results: dict[str, Any]) -> str:
    syn = next((c for c in results["corpora"] if c["name"] == "synthetic"), None)
    if syn is None:
        return "Target: not assessed (no synthetic corpus)."
    ours, np_ = syn["steps"].get("ours, all threads", {}), syn["steps"].get("numpy", {})
    if "error" in ours or "error" in np_ or not ours or not np_:
        return "Target: not assessed (a step failed)."
    t = results["target"]
    rate = ours["tokens_per_s"]
    ratio = np_["seconds"] / ours["seconds"]
    bpt = ours["process_peak_rss_mib"] * MiB / ours["tokens"]
    growth = fmt_bpt(ours["peak_rss_growth_mib"], ours["tokens"])
    parts = [
        f"{rate / 1e6:.1f} M tokens/s (target ≥ {t['tokens_per_s'] / 1e6:.0f}): "
        + ("met" if rate >= t["tokens_per_s"] else "**not met**"),
        f"{ratio:.1f}× numpy (target ≥ {t['numpy_ratio']:.0f}×): "
        + ("met" if ratio >= t["numpy_ratio"] else "**not met**"),
    ]
    ken = syn["steps"].get("KenLM count_ngrams -o 5")
    if ken and "error" not in ken and "kenlm_ratio" in t:
        kr = ken["seconds"] / ours["seconds"]
        parts.append(
            f"{kr:.1f}× KenLM count_ngrams (target ≥ {t['kenlm_ratio']:.0f}×): "
            + ("met" if kr >= t["kenlm_ratio"] else "**not met**")
        )
    else:
        parts.append("KenLM: not measured (count_ngrams not found)")
    parts += [
        f"process peak RSS {bpt:.1f} bytes/token (target ≤ {t['bytes_per_token']:.0f}): "
        + ("met" if bpt <= t["bytes_per_token"] else "**not met**")
        + f" (peak growth alone: {growth} bytes/token)",
    ]
    return (
        f"**Target** (synthetic corpus, {syn['tokens']:,} tokens, all threads on "
        f"{results['machine']}): " + "; ".join(parts) + "."
    )


def write_docs(results: dict[str, Any], path: str) -> None:
    load = " → ".join(f"{x:.1f}" for x in results.get("load_average_start_end", ()))
    head = [
        "# N-gram counting speed",
        "",
        "Generated by `benches/ngram_speed.py` "
        f"(fastentropy {results['fastentropy_version']}, git {results['git']}, "
        f"extension build {results.get('build', 'unknown')}, numpy {results['numpy']}, "
        f"{results['date']}, {results['machine']}, 1-min load average {load}, "
        f"{results['wall_seconds'] / 60:.1f} min). Raw numbers: "
        "`benches/results/ngram_speed.json`. Re-run with `python benches/ngram_speed.py "
        "--write-docs` (`--tokens 100000000` for the issue's corpus size; `--quick`: 2·10^6 "
        "tokens, prints only).",
        "",
        "**Setup.** `fe.ngram_profiles(tokens, orders=range(1, 6))` on memory-mapped token "
        "files, against numpy (`uint64`-packed windows + `np.unique(return_counts=True)` per "
        "order; two-level where an order needs more than 64 bits) and `collections.Counter` "
        f"(first {results['counter_slice']:,} tokens). Each step runs in a fresh process. Ours: "
        f"minimum of {results['repeats']} calls; numpy and Counter: one call. These machines "
        "are shared and noisy: ratios within the run are the figures that count. Text corpus: "
        f"{results['text_corpus']}.",
        "",
    ]
    common.write_doc(path, head, tables(results))


def main(argv: list[str] | None = None) -> int:
    parser = common.arg_parser(__doc__, "2·10^6 synthetic tokens, Counter on 2·10^5")
    parser.add_argument(
        "--tokens",
        type=lambda s: int(float(s)),
        default=20_000_000,
        help="synthetic corpus size (default 20_000_000; the issue's: 100000000)",
    )
    parser.add_argument(
        "--counter-slice",
        type=lambda s: int(float(s)),
        default=1_000_000,
        help="tokens counted by collections.Counter (default 1_000_000)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="calls of ours (default 3)")
    parser.add_argument(
        "--memory-limit", default="256MB", help="memory_limit of the partitioned run (256MB)"
    )
    parser.add_argument("--no-text", action="store_true", help="skip the dict-gcide corpus")
    parser.add_argument(
        "--check",
        action="store_true",
        help="correctness only, in seconds (CI): 2*10^5 synthetic tokens, one call of each "
        "step, no text corpus, no KenLM; exits 1 on a mismatch",
    )
    parser.add_argument(
        "--kenlm", default=None, help="KenLM's count_ngrams binary (default: count_ngrams on PATH)"
    )
    parser.add_argument(
        "--scale-tokens",
        type=lambda s: int(float(s)),
        default=0,
        help="also count this many generated uint16 tokens under --scale-limit (e.g. 1e9)",
    )
    parser.add_argument(
        "--scale-limit", default="5GB", help="memory_limit of the --scale-tokens run (5GB)"
    )
    common.add_output_args(parser, "docs/ngram_speed.md")
    args = parser.parse_args(argv)

    if args.from_json:
        results = common.load_results(args.from_json)
    else:
        if args.quick:
            args.tokens = min(args.tokens, 2_000_000)
            args.counter_slice = min(args.counter_slice, 200_000)
        if args.check:
            args.quick, args.no_text, args.repeats, args.scale_tokens = True, True, 1, 0
            args.tokens, args.counter_slice = 200_000, 50_000
            # KenLM is not installed in CI; its check runs wherever it is given.
            if not args.kenlm:
                print("--check: KenLM's check skipped (pass --kenlm PATH to run it)")
                args.kenlm = ""
        results = run(args)
        if args.check:
            return common.check_status(checks(results))
        common.save_results(results, "ngram_speed", args.out, args.quick)
    print()
    print(tables(results))
    if args.write_docs:
        write_docs(results, args.write_docs)
    return common.check_status(checks(results))


def checks(results: dict[str, Any]) -> dict[str, list[str]]:
    """Every correctness check of a run: label -> its mismatches (empty when identical)."""
    return {
        f"{c['name']}: {label}": bad
        for c in results["corpora"]
        for label, bad in c["checks"].items()
    }


if __name__ == "__main__":
    sys.exit(main())
