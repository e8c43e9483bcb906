"""The command line, called in-process through ``main([...])`` and as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import fastentropy as fe
import numpy as np
import pytest
from fastentropy._cli import main


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "fastentropy", *argv], capture_output=True, text=True, timeout=300
    )


@pytest.fixture
def corpus(tmp_path):
    src = fe.MarkovSource(12, 1, seed=5)
    path = tmp_path / "tokens.npy"
    np.save(path, src.sample(100_000, seed=2))
    return path, src


def test_count_table_and_json(corpus, capsys):
    path, _ = corpus
    assert main(["count", str(path), "--orders", "1-3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    tokens = np.load(path)
    want = fe.ngram_profiles(tokens, [1, 2, 3])
    for n, p in want.items():
        got = data["orders"][str(n)]
        assert (got["ks"], got["mks"]) == (p.ks.tolist(), p.mks.tolist())
    assert main(["count", str(path), "--orders", "2,4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["order", "N", "distinct", "singletons", "coverage"]
    assert [line.split()[0] for line in lines[1:]] == ["2", "4"]


def test_estimate_from_counts_profiles_and_count_output(tmp_path, capsys):
    counts = np.array([5, 3, 3, 1, 1, 1, 0, 2])
    (tmp_path / "counts.txt").write_text(" ".join(map(str, counts)) + "\n")
    np.save(tmp_path / "counts.npy", counts)
    p = fe.Profile.from_counts(counts)
    (tmp_path / "profile.json").write_text(json.dumps({"ks": p.ks.tolist(), "mks": p.mks.tolist()}))
    want = fe.entropy(counts, "miller_madow", unit="bits").value
    for name in ("counts.txt", "counts.npy", "profile.json"):
        args = ["estimate", str(tmp_path / name), "--methods", "miller_madow,plugin"]
        assert main([*args, "--unit", "bits", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["estimates"]["miller_madow"]["value"] == pytest.approx(want, rel=1e-15)
        assert out["n"] == 16 and out["unit"] == "bits"
    tokens = tmp_path / "t.npy"
    np.save(tokens, np.array([1, 2, 1, 2, 3], dtype=np.uint8))
    assert main(["count", str(tokens), "--orders", "1-2", "--json"]) == 0
    (tmp_path / "c.json").write_text(capsys.readouterr().out)
    assert main(["estimate", str(tmp_path / "c.json"), "--order", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 4
    # Several orders and none chosen: bad usage.
    assert main(["estimate", str(tmp_path / "c.json")]) == 2
    assert "--order" in capsys.readouterr().err


def test_floor_writes_json_and_plot(corpus, tmp_path, capsys):
    path, src = corpus
    out, png = tmp_path / "floor.json", tmp_path / "floor.png"
    code = main(["floor", str(path), "--orders", "1-3", "-o", str(out), "--plot", str(png)])
    assert code == 0
    text = capsys.readouterr().out
    assert "Floor:" in text and "nats/token" in text
    floor = fe.Floor.from_json(out)
    assert floor.lower <= src.entropy_rate <= floor.upper
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert main(["floor", str(path), "--orders", "1-2", "--json", "-q"]) == 0
    assert fe.Floor.from_json(capsys.readouterr().out).order == 2


def test_raw_bin_needs_dtype_and_mask_file(tmp_path, capsys):
    tokens = np.array([3, 1, 2, 3, 1, 2, 3, 1], dtype=np.uint16)
    tokens.tofile(tmp_path / "t.bin")
    assert main(["count", str(tmp_path / "t.bin"), "--orders", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dtype" in err and "Traceback" not in err
    np.array([1, 0, 1, 1, 0, 1, 1, 1], dtype=np.uint8).tofile(tmp_path / "t.mask")
    args = ["count", str(tmp_path / "t.bin"), "--dtype", "uint16", "--orders", "1", "--json"]
    assert main([*args, "--mask", str(tmp_path / "t.mask")]) == 0
    assert json.loads(capsys.readouterr().out)["orders"]["1"]["n"] == 6


def test_demo_small(capsys):
    assert main(["demo", "--tokens", "200000", "--vocab", "10", "--order", "1"]) == 0
    out = capsys.readouterr().out
    assert "exact entropy rate" in out and "inside the interval" in out
    assert main(["demo", "--estimators"]) == 0
    assert "Zipf(s=1.1)" in capsys.readouterr().out


def test_errors_and_usage(tmp_path, capsys):
    assert main([]) == 2
    assert main(["floor"]) == 2
    assert main(["count", "x.npy", "--orders", "0-2"]) == 2
    assert main(["estimate", "x.txt", "--methods", "bogus"]) == 2
    capsys.readouterr()
    assert main(["count", str(tmp_path / "missing.npy")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("fastentropy count: error:") and "missing.npy" in err
    (tmp_path / "bad.txt").write_text("1 2 x\n")
    assert main(["estimate", str(tmp_path / "bad.txt")]) == 1
    assert "integer counts" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError):
        main(["count", str(tmp_path / "missing.npy"), "--debug"])


def test_subprocess_exit_codes(corpus):
    path, _ = corpus
    ok = run("count", str(path), "--orders", "1")
    assert ok.returncode == 0 and "order" in ok.stdout
    usage = run("count")
    assert usage.returncode == 2 and "usage:" in usage.stderr
    bad = run("floor", str(path) + ".nope")
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    helped = run("floor", "--help")
    assert helped.returncode == 0 and "--plot" in helped.stdout
    # No silent cap on orders (issue 19): the help says what the default is.
    said = " ".join(helped.stdout.split())
    assert "two past the highest one the corpus samples (at least marginally)" in said


def test_xent_streams_saved_outputs(tmp_path, capsys):
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, (500, 37)).astype(np.float32)
    targets = rng.integers(0, 37, 500)
    targets[::7] = -100
    segments = np.repeat(np.arange(5), 100)
    for name, arr in (("l", logits), ("t", targets), ("s", segments)):
        np.save(tmp_path / f"{name}.npy", arr)
    # float64 reference, computed here
    x = logits.astype(np.float64)
    m = x.max(axis=1)
    nll = np.log(np.exp(x - m[:, None]).sum(axis=1)) + m - x[np.arange(500), targets % 37]
    kept = targets != -100
    args = ["xent", str(tmp_path / "l.npy"), str(tmp_path / "t.npy"), "--json"]
    # A tiny chunk forces many streaming steps.
    assert main([*args, "--segments", str(tmp_path / "s.npy"), "--chunk-mb", "0"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tokens"] == kept.sum()
    assert out["mean"] == pytest.approx(nll[kept].mean(), rel=1e-6)
    for i, seg_mean in enumerate(out["segments"]["means"]):
        sel = kept & (segments == i)
        assert seg_mean == pytest.approx(nll[sel].mean(), rel=1e-6)
    assert main([*args, "--unit", "bits", "--n-bytes", "1000"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["bits_per_byte"] == pytest.approx(nll[kept].sum() / np.log(2) / 1000, rel=1e-6)
    np.save(tmp_path / "short.npy", targets[:10])
    assert main(["xent", str(tmp_path / "l.npy"), str(tmp_path / "short.npy")]) == 1
    assert "do not match" in capsys.readouterr().err


def test_tokenize_then_count_and_floor_through_the_sidecar(tmp_path, capsys):
    text = "the cat sat on the mat\nthe dog sat on the log\n" * 300
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    out = tmp_path / "corpus"
    assert main(["tokenize", str(tmp_path / "a.txt"), "-o", str(out), "--doc", "line"]) == 0
    assert "wrote" in capsys.readouterr().out
    meta = json.loads((tmp_path / "corpus.json").read_text())
    assert meta["n_bytes"] == len(text.encode()) - 600  # line breaks are not in documents
    assert meta["n_documents"] == 600
    # count through the .bin: the sidecar brings dtype and separator (no bigram spans lines)
    assert main(["count", str(tmp_path / "corpus.bin"), "--orders", "2", "--json"]) == 0
    counted = json.loads(capsys.readouterr().out)["orders"]["2"]["n"]
    assert counted == sum(len(line) - 1 for line in text.splitlines())
    # floor through the sidecar knows bytes per token: bits/byte is printed
    assert main(["floor", str(tmp_path / "corpus.json"), "--orders", "1-3", "-q"]) == 0
    report = capsys.readouterr().out
    assert "bits/byte" in report and "bits/char" in report
    # floor of the text itself tokenizes first (bytes by default), to the same figures
    assert (
        main(["floor", str(tmp_path / "a.txt"), "--orders", "1-3", "--doc", "line", "--json"]) == 0
    )
    from_text = fe.Floor.from_json(capsys.readouterr().out)
    assert main(["floor", str(tmp_path / "corpus.bin"), "--orders", "1-3", "--json"]) == 0
    from_bin = fe.Floor.from_json(capsys.readouterr().out)
    assert from_text.orders == from_bin.orders
    assert from_text.bytes_per_token == from_bin.bytes_per_token == 1.0


def test_tokenize_errors(tmp_path, capsys):
    assert main(["tokenize", str(tmp_path / "none.txt"), "-o", str(tmp_path / "x")]) == 1
    assert "none.txt" in capsys.readouterr().err
    (tmp_path / "a.txt").write_text("abc")
    args = ["tokenize", str(tmp_path / "a.txt"), "-o", str(tmp_path / "x")]
    assert main([*args, "--tokenizer", "train-bpe:many"]) == 2
    assert "integer N" in capsys.readouterr().err
    assert main(["tokenize", str(tmp_path / "a.txt")]) == 2  # -o is required
