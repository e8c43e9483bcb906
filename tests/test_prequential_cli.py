"""``fastentropy prequential``: token files, text, JSON, the curve figure, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import fastentropy as fe
import numpy as np
from fastentropy._cli import main


def test_token_file_summary_json_and_output(tmp_path, capsys):
    src = fe.MarkovSource(12, 1, seed=5)
    path = tmp_path / "tokens.npy"
    tokens = src.sample(50_000, seed=2)
    np.save(path, tokens)
    assert main(["prequential", str(path), "--order", "3", "-o", str(tmp_path / "cl.json")]) == 0
    out = capsys.readouterr().out
    assert "nats/token" in out and "50,000 tokens" in out
    assert main(["prequential", str(path), "--order", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    direct = fe.prequential(tokens, order=3)
    assert data["n"] == 50_000 and data["nats"] == direct.nats
    assert fe.CodeLength.from_json(tmp_path / "cl.json") == fe.CodeLength.from_json(
        json.dumps(data)
    )


def test_model_option_selects_the_predictor(tmp_path, capsys):
    path = tmp_path / "tokens.npy"
    tokens = fe.MarkovSource(12, 1, seed=5).sample(20_000, seed=3)
    np.save(path, tokens)
    for model in ("bits", "tokens"):
        assert main(["prequential", str(path), "--model", model, "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["model"]["kind"] == model
        assert data["nats"] == fe.prequential(tokens, model=model).nats
    assert main(["prequential", str(path)]) == 0
    assert "bit-level context mixing" in capsys.readouterr().out


def test_text_is_tokenized_and_gets_bits_per_byte(tmp_path, capsys):
    text = tmp_path / "a.txt"
    text.write_text("the quick brown fox jumps over the lazy dog\n" * 300, encoding="utf-8")
    png = tmp_path / "curve.png"
    assert main(["prequential", str(text), "--json", "--curve-plot", str(png)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["bytes_per_token"] == 1.0 and 0 < data["bits_per_byte"] < 1.0
    assert data["model"]["separator"] == 256
    assert png.stat().st_size > 1000


def test_errors_are_one_line(tmp_path):
    bad = subprocess.run(
        [sys.executable, "-m", "fastentropy", "prequential", str(tmp_path / "nope.npy")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    np.save(tmp_path / "t.npy", np.array([1, 2, 3], dtype=np.uint8))
    assert main(["prequential", str(tmp_path / "t.npy"), "--order", "99"]) == 1
