"""ANSB outside its regime (N - distinct > 0.1 N): left out of the defaults, marked in the
table, its warning kept in the JSON."""

from __future__ import annotations

import json

import fastentropy as fe
import numpy as np
import pytest
from fastentropy._cli import main

#: N = 115, distinct = 5: 110 coincidences, far more than 0.1 N.
MANY = [50, 30, 20, 10, 5]
#: N = 1000, distinct = 960: 40 coincidences, ANSB's regime.
FEW = [2] * 40 + [1] * 920


def test_defaults_leave_ansb_out_only_outside_its_regime():
    assert "ansb" not in fe.entropies(MANY)
    assert "ansb" in fe.entropies(FEW)
    with pytest.warns(RuntimeWarning, match="asymptotic approximation"):
        assert "ansb" in fe.entropies(MANY, methods=["ansb"])


def write(tmp_path, counts):
    path = tmp_path / "counts.npy"
    np.save(path, np.array(counts, dtype=np.int64))
    return str(path)


def test_cli_table_says_ansb_was_left_out(tmp_path, capsys):
    assert main(["estimate", write(tmp_path, MANY)]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0] for line in out.splitlines()[2:] if line.strip()}
    assert "nsb" in rows
    (line,) = [x for x in out.splitlines() if x.startswith("ansb")]
    assert "left out: outside its regime" in line and "110 > 0.1 N" in line
    assert main(["estimate", write(tmp_path, MANY), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "ansb" not in data["estimates"]
    assert "outside its regime" in data["left_out"]["ansb"]


def test_cli_named_ansb_is_marked_and_its_warning_kept_in_json(tmp_path, capsys):
    path = write(tmp_path, MANY)
    assert main(["estimate", path, "--methods", "ansb,plugin"]) == 0
    captured = capsys.readouterr()
    (line,) = [x for x in captured.out.splitlines() if x.startswith("ansb")]
    assert line.rstrip().endswith("*")
    assert any(x.startswith("* ansb: ") and "asymptotic" in x for x in captured.out.splitlines())
    assert main(["estimate", path, "--methods", "ansb,plugin", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "asymptotic approximation" in data["estimates"]["ansb"]["warnings"][0]
    assert data["estimates"]["plugin"]["warnings"] == []


def test_cli_in_its_regime_ansb_is_plain(tmp_path, capsys):
    assert main(["estimate", write(tmp_path, FEW), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["estimates"]["ansb"]["warnings"] == [] and "ansb" not in data["left_out"]


def test_the_causal_lm_shift_is_said_where_users_look(capsys):
    import pathlib

    assert main(["xent", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "logits[:, :-1] and input_ids[:, 1:]" in text and "t+1" in text
    assert "``logits[:, :-1]`` with ``input_ids[:, 1:]``" in fe.cross_entropy.__doc__
    readme = pathlib.Path(__file__).resolve().parents[1] / "README.md"
    words = " ".join(readme.read_text(encoding="utf-8").split())
    assert "pass `logits[:, :-1]` with `input_ids[:, 1:]`" in words


def test_estimate_report_fits_100_columns(tmp_path, capsys):
    # The left-out row and the notes of a method outside its regime were 130+ columns.
    big = [50_000, 30_000, 20_000] + [1] * 900  # many coincidences: long numbers in notes
    for extra in ([], ["--methods", "ansb,plugin,shrinkage"]):
        assert main(["estimate", write(tmp_path, big), *extra]) == 0
        out = capsys.readouterr().out
        assert "ansb" in out
        assert max(map(len, out.splitlines())) <= 100, out
