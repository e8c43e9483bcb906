"""Nothing lost, nothing silent: bad inputs give clear errors, valid ones are not refused.

``BAD_CALLS`` is a table of bad inputs per public function: one line per case (the call,
the exception type, a regex its message must match). ``CLI_CASES`` does the same for the
command line (argv, exit code, a regex stderr must match). Add the next case as one line.
Everything else here reproduces one reported case of data loss, a hang or a crash.
"""

# ruff: noqa: E501 (the tables keep one case per line)
from __future__ import annotations

import errno
import gzip
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import fastentropy as fe
import numpy as np
import pytest
from fastentropy._cli import main

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def floor_json(tmp: Path, **changes: object) -> Path:
    """A floor's JSON file with some fields replaced."""
    data = json.loads(fe.Floor.from_summary(2.0, 1.9, 2.1).to_json())
    data.update(changes)
    return write(tmp / "floor.json", json.dumps(data))


def sidecar(tmp: Path, **changes: object) -> Path:
    """A valid token file, then its sidecar with some fields replaced (None: removed)."""
    fe.tokenize(write(tmp / "a.txt", "abc"), "bytes", tmp / "tok")
    meta = json.loads((tmp / "tok.json").read_text())
    for key, value in changes.items():
        if value is None:
            del meta[key]
        else:
            meta[key] = value
    return write(tmp / "tok.json", json.dumps(meta))


def corrupt_gzip(tmp: Path) -> Path:
    """A .gz whose header is fine and whose deflate data is not (zlib.error when read)."""
    data = bytearray(gzip.compress(b"hello world " * 1000))
    data[10:30] = b"\xff" * 20
    return write(tmp / "bad.txt.gz", bytes(data))


def truncated_zst(tmp: Path) -> Path:
    zstandard = pytest.importorskip("zstandard")
    data = zstandard.ZstdCompressor().compress(b"hello world line\n" * 100_000)
    return write(tmp / "cut.txt.zst", data[: len(data) // 2])


TOKENS = np.arange(50, dtype=np.uint16)
LOGITS = np.zeros((2, 3), np.float32)


def case(call, error, match, id):  # noqa: A002 (pytest's name)
    return pytest.param(call, error, match, id=id)


# (call(tmp_path), exception, message regex): the exception must name the parameter or file.
# fmt: off
BAD_CALLS = [
    # threads: one rule for every function (1..1024 or None)
    case(lambda t: fe.count_ngrams(TOKENS, 2, threads=-1), ValueError, "threads must be from 1 to 1024", "count-threads-neg"),
    case(lambda t: fe.count_ngrams(TOKENS, 2, threads=10**6), ValueError, "threads must be from 1 to 1024", "count-threads-million"),
    case(lambda t: fe.count_ngrams(TOKENS, 2, threads=2.0), TypeError, "threads must be an int", "count-threads-float"),
    case(lambda t: fe.ngram_profiles(TOKENS, [1], threads=-1), ValueError, "threads must be from 1", "profiles-threads-neg"),
    case(lambda t: fe.estimate_floor(TOKENS, orders=[1], threads=10**6), ValueError, "threads must be from 1", "floor-threads-million"),
    case(lambda t: fe.cross_entropy(LOGITS, [0, 1], threads=-1), ValueError, "threads must be from 1", "xent-threads-neg"),
    case(lambda t: fe.cross_entropy(LOGITS, [0, 1], threads=10**6), ValueError, "threads must be from 1", "xent-threads-million"),
    case(lambda t: fe.CrossEntropy(threads=-1), ValueError, "threads must be from 1", "acc-threads-neg"),
    case(lambda t: fe.tokenize(write(t / "a.txt", "x"), "bytes", t / "o", threads=-1), ValueError, "threads must be from 1", "tokenize-threads-neg"),
    # sizes beyond 64 bits
    case(lambda t: fe.count_ngrams(TOKENS, order=2**70), ValueError, "order must be <=", "count-order-huge"),
    case(lambda t: fe.ngram_profiles(TOKENS, [1, 2**70]), ValueError, "orders must be <=", "profiles-order-huge"),
    case(lambda t: fe.entropy([1, 2], "plugin", alphabet_size=10**400), ValueError, r"alphabet_size must be finite, got 100000\.\.\.000 \(401 digits\)", "entropy-alphabet-huge"),
    # ignore_index at construction, not at the first update
    case(lambda t: fe.CrossEntropy(ignore_index=5.5), TypeError, "ignore_index must be an int", "acc-ignore-float"),
    case(lambda t: fe.CrossEntropy(ignore_index="x"), TypeError, "ignore_index must be an int", "acc-ignore-str"),
    case(lambda t: fe.cross_entropy(LOGITS, [0, 1], ignore_index=5.5), TypeError, "ignore_index", "xent-ignore-float"),
    case(lambda t: fe.CrossEntropy().bits_per_byte(math.nan), ValueError, "n_bytes must be a positive", "bpb-nan"),
    case(lambda t: fe.CrossEntropy().bits_per_byte(-5), ValueError, "n_bytes must be a positive", "bpb-negative"),
    # tokenize: outputs that would destroy an input, or hidden files
    case(lambda t: fe.tokenize(write(t / "d" / "a.txt", "x"), "bytes", ""), ValueError, "names no file", "tokenize-out-empty"),
    case(lambda t: fe.tokenize(write(t / "d" / "a.txt", "x"), "bytes", str(t / "d") + os.sep), ValueError, "names no file", "tokenize-out-dir"),
    case(lambda t: fe.tokenize(write(t / "data.json", '{"text": "x"}\n'), "bytes", t / "data"), ValueError, "is the input", "tokenize-out-is-jsonl"),
    case(lambda t: fe.tokenize(write(t / "x.bin", "xyz"), "bytes", t / "x"), ValueError, "is the input", "tokenize-out-is-bin"),
    # compressed inputs: OSError naming the file
    case(lambda t: fe.tokenize(write(t / "a.txt.gz", "not gzip at all"), "bytes", t / "o"), OSError, r"a\.txt\.gz: not a valid gzip", "gz-not-gzip"),
    case(lambda t: fe.tokenize(corrupt_gzip(t), "bytes", t / "o"), OSError, r"bad\.txt\.gz: not a valid gzip", "gz-corrupt-deflate"),
    case(lambda t: fe.tokenize(truncated_zst(t), "bytes", t / "o"), OSError, r"cut\.txt\.zst: the zstd stream is truncated", "zst-truncated"),
    # Floor: only a path or JSON text; every value checked
    case(lambda t: fe.Floor.from_json(0), TypeError, "source must be JSON text or a path", "floor-json-fd"),
    case(lambda t: fe.Floor.from_json(floor_json(t, point=None, lower=None)), ValueError, r"floor\.json: .*finite numbers", "floor-json-null"),
    case(lambda t: fe.Floor.from_json( write( t / "f.json", '{"format": "fastentropy.floor/1", "point": NaN, "lower": 1, "upper": 3, "order": 1, "method": "x", "reliable": true}', )),
        ValueError,
        "finite numbers 0 <= lower",
        "floor-json-nan",
    ),
    case(lambda t: fe.Floor.from_json(floor_json(t, point="2.0")), ValueError, "finite numbers", "floor-json-string"),
    case(lambda t: fe.Floor.from_json(floor_json(t, lower=3.0)), ValueError, "lower <= point <= upper", "floor-json-lower-above"),
    case(lambda t: fe.Floor.from_json(floor_json(t, reliable="yes")), ValueError, "reliable must be true or false", "floor-json-reliable-str"),
    case(lambda t: fe.Floor.from_json(floor_json(t, bytes_per_token=-1)), ValueError, "bytes_per_token must be a positive", "floor-json-bpt-neg"),
    case(lambda t: fe.Floor.from_json(write(t / "f.bin", bytes(range(256)))), ValueError, r"f\.bin: not a floor's JSON \(byte", "floor-json-binary"),
    case(lambda t: fe.Floor.from_json( write(t / "f.json", fe.Floor.from_summary(2, 1, 3).to_json()[:40])),
        ValueError,
        r"f\.json: not a floor's JSON \(truncated\?\)",
        "floor-json-truncated",
    ),
    # the other saved results read through the same checks as the floor
    case(lambda t: fe.Rate.from_json(0), TypeError, "source must be JSON text or a path", "rate-json-fd"),
    case(lambda t: fe.Rate.from_json(write(t / "r.bin", bytes(range(256)))), ValueError, r"r\.bin: not a rate's JSON \(byte", "rate-json-binary"),
    case(lambda t: fe.Rate.from_json(write(t / "r.json", '{"kind": "fastentropy.rate", "format": 1}')), ValueError, r"r\.json: a rate's JSON with a missing", "rate-json-fields"),
    case(lambda t: fe.Rate.from_json(write(t / "r.json", '{"kind": "fastentropy.rate", "format": "x"}')), ValueError, r"r\.json: rate JSON format 'x'", "rate-json-format"),
    case(lambda t: fe.CodeLength.from_json(3), TypeError, "source must be JSON text or a path", "code-json-fd"),
    case(lambda t: fe.CodeLength.from_json(write(t / "c.json", '{"format": 1')), ValueError, r"c\.json: not a prequential result's JSON \(truncated\?\)", "code-json-truncated"),
    case(lambda t: fe.Floor.from_summary(-2, -3, -1), ValueError, "an entropy is not negative", "floor-summary-negative"),
    case(lambda t: fe.Floor.from_summary("2", 1, 3), TypeError, "point must be a number", "floor-summary-str"),
    case(lambda t: fe.check(fe.LossLog([1, 2, 3], [3, 2, 1]), floor_json(t, point=math.nan)), ValueError, "finite numbers", "check-nan-floor"),
    # meta and per-sample losses
    case(lambda t: fe.estimate_floor(TOKENS, orders=[1], meta={"n_tokens": 50, "n_bytes": -10}), ValueError, "meta: n_bytes must be a count", "floor-meta-negative-bytes"),
    case(lambda t: fe.check( fe.LossLog([1, 2, 3], [3, 2, 1]), fe.Floor.from_summary(2, 1.9, 2.1), per_sample=write(t / "ps.csv", "id,loss\na,1.0\nb,-0.5\n")),
        ValueError,
        r"ps\.csv: line 3: 'loss' is -0\.5: a cross-entropy cannot be negative",
        "per-sample-negative",
    ),
    case(lambda t: fe.check( fe.LossLog([1, 2, 3], [3, 2, 1]), fe.Floor.from_summary(2, 1.9, 2.1), per_sample=write(t / "ps.csv", "id,loss,tokens\na,1.0,-4\n")),
        ValueError,
        "'tokens' is -4.0, not a token count",
        "per-sample-negative-tokens",
    ),
    # loss logs
    case(lambda t: fe.read_losses(write(t / "log.txt", "step,loss\n1,2.0\n" + "x" * 200_000 + "\n")), ValueError, r"log\.txt: line \d+: not readable as CSV/TSV", "log-long-line"),
    case(lambda t: fe.read_losses(write(t / "log.csv", "step,loss\n1,2.0\n1e30,1.5\n")), ValueError, r"log\.csv: line 3: step '1e30' is too large", "log-step-huge"),
    case(lambda t: fe.LossLog(step=[1, 1e30], loss=[2.0, 1.0]), ValueError, "step must be whole numbers below 2\\*\\*63", "losslog-step-huge"),
    # token files
    case(lambda t: fe.TokenFile.open(sidecar(t, bin=None)), ValueError, r"tok\.json: field 'bin' must be", "sidecar-no-bin"),
    case(lambda t: fe.TokenFile.open(sidecar(t, dtype="float99")), ValueError, r"tok\.json: field 'dtype' must be one of", "sidecar-dtype"),
    case(lambda t: fe.TokenFile.open(sidecar(t, n_bytes=-3)), ValueError, r"tok\.json: field 'n_bytes'", "sidecar-negative"),
    case(lambda t: fe.TokenFile.open(write(t / "b.json", b"\x00\xff\xfe")), ValueError, r"b\.json: not JSON", "sidecar-binary"),
]
# fmt: on


@pytest.mark.parametrize(("call", "error", "match"), BAD_CALLS)
def test_bad_input_gives_a_clear_error(tmp_path, call, error, match):
    with pytest.raises(error, match=match):
        call(tmp_path)


# --- valid inputs that were refused ------------------------------------------------------


def test_os_errors_from_the_core_carry_errno_and_filename(tmp_path):
    """A full disk is told from a missing file by ``.errno``, not by the OS's words (the Dask
    layer's scratch check relies on it); Python picks the subclass from the number."""
    tokens = np.arange(100, dtype=np.uint16) % 7
    with pytest.raises(OSError) as full:  # /dev/full: every write fails with ENOSPC
        fe.SuffixIndex.build(tokens, path="/dev/full")
    assert full.value.errno == errno.ENOSPC
    assert full.value.filename == "/dev/full"
    missing = tmp_path / "no" / "such.idx"
    with pytest.raises(FileNotFoundError) as gone:
        fe.SuffixIndex.open(missing)
    assert gone.value.errno == errno.ENOENT
    assert gone.value.filename == str(missing)
    assert "os error" not in str(gone.value)


def test_huge_sizes_mean_no_limit():
    tokens = np.array([1, 2, 1, 2, 1], np.uint8)
    c = fe.count_ngrams(tokens, 2, memory_limit=2**80)
    assert (c.n, c.distinct) == (4, 2)
    ngrams, counts = c.most_common(2**70)  # more than there are: all of them
    assert ngrams.tolist() == [[1, 2], [2, 1]] and counts.tolist() == [2, 2]
    assert fe.count_ngrams(tokens, 2, memory_limit="1" + "0" * 30 + "TB").n == 4


def test_perplexity_beyond_the_float_range_is_inf():
    acc = fe.CrossEntropy()
    acc.update_logprobs(np.array([-1000.0]))
    assert acc.mean == 1000.0
    assert acc.perplexity == math.inf


def test_one_column_csv_log(tmp_path):
    log = fe.read_losses(write(tmp_path / "loss.csv", "loss\n1\n2\n"))
    assert log.loss.tolist() == [1.0, 2.0]
    assert log.step.tolist() == [1, 2]  # no step column: counted


def test_jsonl_with_a_bom_is_read(tmp_path):
    path = write(tmp_path / "a.jsonl", b'\xef\xbb\xbf{"text": "ab"}\n{"text": "c"}\n')
    tf = fe.tokenize(path, "bytes", tmp_path / "o")
    assert tf.tokens().tolist() == [97, 98, 256, 99, 256]


def test_entropy_interval_is_clipped_at_zero():
    floor = fe.estimate_floor(np.zeros(1000, np.uint16), orders=[1, 2])
    assert floor.lower == 0.0 and floor.point == 0.0
    assert floor.upper >= 0.0


# --- data loss -------------------------------------------------------------------------------


@pytest.mark.parametrize("link", ["symlink", "hardlink"])
def test_tokenize_refuses_to_overwrite_its_input_through_a_link(tmp_path, link):
    text = '{"text": "precious"}\n'
    data = write(tmp_path / "data.jsonl", text)
    (os.symlink if link == "symlink" else os.link)(data, tmp_path / "out.json")
    with pytest.raises(ValueError, match="is the input"):
        fe.tokenize(data, "bytes", tmp_path / "out")
    assert data.read_text() == text
    assert not (tmp_path / "out.bin").exists()


def test_tokenize_refuses_to_overwrite_its_tokenizer(tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    tok = tokenizers.Tokenizer(tokenizers.models.WordLevel({"a": 0, "[UNK]": 1}, "[UNK]"))
    tok.save(str(tmp_path / "tok.json"))
    before = (tmp_path / "tok.json").read_bytes()
    with pytest.raises(ValueError, match="is the input"):
        fe.tokenize(write(tmp_path / "a.txt", "a"), str(tmp_path / "tok.json"), tmp_path / "tok")
    assert (tmp_path / "tok.json").read_bytes() == before


def test_truncated_zst_is_an_error_and_a_whole_one_is_read_whole(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    text = b"hello world line\n" * 100_000
    # Two frames (as multi-threaded zstd writes), each read to its end.
    c = zstandard.ZstdCompressor()
    whole = write(tmp_path / "two.txt.zst", c.compress(text[:700_000]) + c.compress(text[700_000:]))
    assert fe.tokenize(whole, "bytes", tmp_path / "o").n_bytes == len(text)
    with pytest.raises(OSError, match="truncated"):
        fe.tokenize(truncated_zst(tmp_path), "bytes", tmp_path / "o2")


def test_outputs_respect_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        tf = fe.tokenize(write(tmp_path / "a.txt", "abc"), "bytes", tmp_path / "o")
    finally:
        os.umask(old)
    for path in (tf.path, tf.sidecar):
        assert os.stat(path).st_mode & 0o777 == 0o644


_KILLED_RUN = """
import sys, time, fastentropy as fe
def progress(done, total):
    open(sys.argv[3], "w").close()
    time.sleep(600)
fe.tokenize(sys.argv[1], "bytes", sys.argv[2], progress=progress, batch_bytes=1 << 16)
"""


def test_stale_temporaries_of_a_killed_run_are_removed(tmp_path):
    data = write(tmp_path / "a.txt", "some text\n" * 100_000)
    flag = tmp_path / "started"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_RUN, str(data), str(tmp_path / "out"), str(flag)]
    )
    try:
        for _ in range(600):
            if flag.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert flag.exists(), "the run never started"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    stale = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
    assert stale, "kill -9 left no temporary: the test did not reproduce the case"
    # A temporary of a run still going (this process) is left alone.
    fe.tokenize(data, "bytes", tmp_path / "other")  # another output name: untouched
    assert all((tmp_path / p).exists() for p in stale)
    fe.tokenize(data, "bytes", tmp_path / "out")
    assert [p for p in os.listdir(tmp_path) if p.endswith(".tmp")] == []


def test_temporaries_of_a_live_run_are_kept(tmp_path):
    from fastentropy._text import tokenize as _tokenize

    live = tmp_path / f".out.bin.{_tokenize._owner()}.abc123.tmp"
    write(live, b"in progress")
    fe.tokenize(write(tmp_path / "a.txt", "x"), "bytes", tmp_path / "out")
    assert live.exists()


# --- hangs and crashes (in a child process: before the fix these killed the interpreter) ---


_TRUNCATED_MAP = """
import os, sys
import numpy as np, fastentropy as fe
path = sys.argv[1]
np.arange(1 << 20, dtype=np.uint16).tofile(path)
tokens = fe.open_tokens(path, dtype="uint16")
os.truncate(path, 4096)
for call in (lambda: fe.count_ngrams(tokens, 2), lambda: fe.estimate_floor(tokens[10:], orders=[1])):
    try:
        call()
    except OSError as e:
        print("OSError:", e)
"""


def test_truncated_token_file_is_an_error_not_sigbus(tmp_path):
    path = tmp_path / "t.bin"
    r = subprocess.run(
        [sys.executable, "-c", _TRUNCATED_MAP, str(path)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and all("t.bin: the file has 4096 bytes" in line for line in lines)


def test_truncated_logits_file_is_an_error_not_sigbus(tmp_path):
    code = (
        "import os, sys, numpy as np, fastentropy as fe\n"
        "np.save(sys.argv[1], np.zeros((4096, 64), np.float32))\n"
        "x = np.load(sys.argv[1], mmap_mode='r')\n"
        "os.truncate(sys.argv[1], 4096)\n"
        "try:\n    fe.cross_entropy(x, np.zeros(4096, np.int64))\n"
        "except OSError as e:\n    print('OSError:', e)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "l.npy")], capture_output=True, text=True
    )
    assert r.returncode == 0 and "l.npy: the file has 4096 bytes" in r.stdout, r.stderr


def test_no_exception_at_shutdown_after_tokenizing_zst(tmp_path):
    zstandard = pytest.importorskip("zstandard")
    path = write(tmp_path / "a.txt.zst", zstandard.ZstdCompressor().compress(b"abc\n" * 1000))
    code = (
        "import sys, fastentropy as fe\n"
        "c = fe._text.sources.Corpus(sys.argv[1], field='text', doc=None, mask_field=None, "
        "errors='strict', skip_bad_lines=False, batch_bytes=64)\n"
        "blocks = c.blocks()\n"
        "next(blocks)\n"  # a generator left open until the interpreter shuts down
        "fe.tokenize(sys.argv[1], 'bytes', sys.argv[2])\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(path), str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and r.stderr == "", r.stderr


# --- the floor report says why a method failed -------------------------------------------


def test_floor_report_prints_the_real_reason():
    from fastentropy._floor import OrderReport, Value

    reason = "the posterior weight vanished everywhere"
    report = OrderReport(2, 10, 5, 2, 3, conditional={"plugin": Value(1.0)}, failed={"pym": reason})
    floor = fe.Floor(1.0, 0.9, 1.1, 2, "plugin", True, methods=("plugin", "pym"), orders=(report,))
    text = str(floor)
    assert f"pym at order 2: {reason}" in text
    assert "need n-grams seen more than once" not in text


# --- the command line ------------------------------------------------------------------------


def _files(tmp: Path) -> dict[str, str]:
    """The files CLI cases refer to as {name}."""
    np.save(tmp / "objects.npy", np.array([1, "a"], dtype=object))
    np.save(tmp / "counts.npy", np.arange(1, 100))
    full = (tmp / "counts.npy").read_bytes()
    write(tmp / "truncated.npy", full[: len(full) - 100])
    np.arange(100, dtype=np.uint16).tofile(tmp / "tokens.bin")
    write(tmp / "log.csv", "step,loss\n1,3.0\n2,2.5\n3,2.0\n")
    write(tmp / "longline.log", "step,loss\n1,2.0\n" + "x" * 200_000 + "\n")
    write(tmp / "hugestep.csv", "step,loss\n1,2.0\n1e30,1.0\n")
    write(tmp / "binary.bin", bytes(range(256)))
    write(tmp / "cut.json", fe.Floor.from_summary(2, 1, 3).to_json()[:40])
    nan = json.loads(fe.Floor.from_summary(2, 1, 3).to_json()) | {"point": math.nan}
    write(tmp / "nan.json", json.dumps(nan))
    write(tmp / "data.json", '{"text": "precious"}\n')
    write(tmp / "floor.json", fe.Floor.from_summary(2.0, 1.9, 2.1).to_json())
    write(tmp / "notgzip.txt.gz", "plain")
    corrupt_gzip(tmp)
    write(tmp / "latin1.txt", b"caf\xe9\n")
    write(tmp / "text.txt", "hello\n")
    (tmp / "dir").mkdir(exist_ok=True)
    fe.tokenize(tmp / "text.txt", "bytes", tmp / "nobin")
    meta = json.loads((tmp / "nobin.json").read_text())
    del meta["bin"]
    write(tmp / "nobin.json", json.dumps(meta))
    return {p.name.replace(".", "_"): str(p) for p in tmp.iterdir()} | {"tmp": str(tmp)}


# (argv with {file} names, exit code, stderr regex). 2: the command line is wrong; 1: the
# command failed on its files or data; every message one line naming the file or option.
# fmt: off
CLI_CASES = [
    pytest.param("count {tokens_bin} --dtype uint16 --threads -1", 2, "--threads: must be from 1 to 1024", id="threads-neg"),
    pytest.param("count {tokens_bin} --dtype uint16 --threads 1000000", 2, "--threads: must be from 1 to 1024", id="threads-million"),
    pytest.param("count {tokens_bin} --dtype uint16 --memory-limit lots", 2, "--memory-limit: not a size", id="memory-limit"),
    pytest.param("count {tokens_bin} --dtype uint16 --orders 5-1", 2, "--orders: the range 5-1 runs backwards", id="orders-backwards"),
    pytest.param("count {tokens_bin} --dtype uint16 --orders 1-", 2, "--orders: orders must look like", id="orders-open"),
    pytest.param("floor {tokens_bin} --dtype uint16 --methods foo", 2, "--methods: unknown method", id="methods-unknown"),
    pytest.param("floor {tokens_bin} --dtype uint16 --methods dirichlet", 2, "--methods: unknown method.s. dirichlet", id="methods-dirichlet"),
    pytest.param("estimate {counts_npy} --alphabet-size 1e400", 2, "--alphabet-size: must be a positive finite", id="alphabet-inf"),
    pytest.param("estimate {objects_npy}", 1, r"objects\.npy: not a readable \.npy", id="npy-objects"),
    pytest.param("estimate {truncated_npy}", 1, r"truncated\.npy: not a readable \.npy", id="npy-truncated"),
    pytest.param("estimate {binary_bin}", 1, r"binary\.bin: not a profile JSON", id="estimate-binary"),
    pytest.param("check {log_csv} --floor {binary_bin}", 1, r"binary\.bin: not a floor's JSON", id="floor-binary"),
    pytest.param("check {log_csv} --floor {cut_json}", 1, r"cut\.json: not a floor's JSON \(truncated", id="floor-truncated"),
    pytest.param("check {log_csv} --floor {nan_json}", 1, r"nan\.json: .*finite numbers", id="floor-nan"),
    pytest.param("check {longline_log} --floor {floor_json}", 1, r"longline\.log: line \d+: not readable", id="log-long-line"),
    pytest.param("check {hugestep_csv} --floor {floor_json}", 1, r"hugestep\.csv: line 3: step '1e30' is too large", id="log-step-huge"),
    pytest.param("tokenize {notgzip_txt_gz} -o {tmp}/o", 1, r"notgzip\.txt\.gz: not a valid gzip", id="gz-not-gzip"),
    pytest.param("tokenize {bad_txt_gz} -o {tmp}/o", 1, r"bad\.txt\.gz: not a valid gzip", id="gz-corrupt"),
    pytest.param("tokenize {text_txt} -o {tmp}/dir/", 1, "names no file", id="out-dir"),
    pytest.param("tokenize {data_json} -o {tmp}/data", 1, "is the input", id="out-is-input"),
    pytest.param("tokenize {latin1_txt} -o {tmp}/o --tokenizer train-bpe:300", 1, "invalid UTF-8 .*; --errors replace replaces", id="cli-words"),
    pytest.param("count {nobin_json}", 1, r"nobin\.json: field 'bin' must be", id="sidecar-no-bin"),
    pytest.param("floor {tokens_bin} --dtype uint16 -o {tokens_bin}", 2, r"the output .*tokens\.bin is the input", id="floor-output-is-input"),
    pytest.param("floor {text_txt} -o {text_txt}", 2, r"the output .*text\.txt is the input", id="floor-output-is-text"),
    pytest.param("check {log_csv} --floor {floor_json} --plot {log_csv}", 1, r"--plot .*log\.csv is the input", id="check-plot-is-log"),
    pytest.param("prequential {tokens_bin} --dtype uint16 --threads 0", 2, "--threads: must be from 1 to 1024", id="prequential-threads"),
    pytest.param("prequential {tokens_bin} --dtype uint16 --separator -1", 2, "--separator: must be >= 0", id="prequential-separator"),
    pytest.param("prequential {tokens_bin} --dtype uint16 --memory-limit lots", 2, "--memory-limit: not a size", id="prequential-memory-limit"),
    pytest.param("prequential {tokens_bin} --dtype uint16 --order -1", 2, "--order: must be >= 0", id="prequential-order"),
    pytest.param("check {log_csv} --floor {floor_json} --bytes-per-token -1", 2, "--bytes-per-token: must be a positive finite", id="check-bytes-per-token"),
    pytest.param("check {log_csv} --floor {floor_json} --bytes-per-token nan", 2, "--bytes-per-token: must be a positive finite", id="check-bytes-per-token-nan"),
]
# fmt: on


@pytest.mark.parametrize(("argv", "code", "match"), CLI_CASES)
def test_cli_error(tmp_path, capsys, argv, code, match):
    files = _files(tmp_path)
    args = [a.format(**files) for a in argv.split()]
    assert main(args) == code
    err = capsys.readouterr().err
    assert re.search(match, err), err
    assert "Traceback" not in err
    if code == 1:
        assert len(err.strip().splitlines()) == 1, err


def test_cli_empty_output_name(tmp_path, capsys):
    text = write(tmp_path / "a.txt", "x")
    assert main(["tokenize", str(text), "-o", ""]) == 1
    assert "names no file" in capsys.readouterr().err


def _cli(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fastentropy", *args], capture_output=True, text=True, **kwargs
    )


def test_cli_traceback_only_with_debug(tmp_path):
    floor = write(tmp_path / "f.json", "{")
    log = write(tmp_path / "log.csv", "step,loss\n1,2\n")
    plain = _cli("check", str(log), "--floor", str(floor))
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    assert len(plain.stderr.strip().splitlines()) == 1
    debug = _cli("check", str(log), "--floor", str(floor), "--debug")
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_cli_into_a_closed_pipe_is_quiet(tmp_path):
    rows = "".join(f"{i},{3 - i / 40000:.6f}\n" for i in range(1, 20001))
    log = write(tmp_path / "log.csv", "step,loss\n" + rows)
    floor = write(tmp_path / "f.json", fe.Floor.from_summary(1.0, 0.9, 1.1).to_json())
    proc = subprocess.Popen(
        [sys.executable, "-m", "fastentropy", "check", str(log), "--floor", str(floor), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.readline()  # `| head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 0, err
    assert "Broken pipe" not in err and "BrokenPipeError" not in err and err == ""


# --- valid samples the Bayesian estimators refused ----------------------------------------


def test_nsb_with_an_alphabet_at_counts_near_2_pow_62():
    # Refused before ("the posterior weight vanished everywhere"); [2**60] and [2**63] worked.
    for counts in ([2**62], [2**62, 1]):
        est = fe.entropy(counts, "nsb", alphabet_size=4)
        assert 0.0 <= est.value < 1e-15 and est.std is not None and math.isfinite(est.std)
    two = fe.entropy([2**62, 2**62], "nsb", alphabet_size=4)
    assert abs(two.value - math.log(2)) < 1e-12


def test_floor_report_and_json_agree_on_why_a_method_failed():
    floor = fe.estimate_floor(
        np.arange(200, dtype=np.uint16), orders=[1], methods=["plugin", "pym"]
    )
    reason = floor.orders[0].failed["pym"]
    assert "coincidence" in reason
    assert reason in str(floor).replace("\n  ", " ")
    assert json.loads(floor.to_json())["orders"][0]["failed"]["pym"] == reason
