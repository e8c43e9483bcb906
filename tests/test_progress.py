"""Progress as people see it: a tqdm bar per named stage on a terminal, plain lines when
stderr is a file or a pipe, ``progress=True/False/"auto"`` and ``--progress/--no-progress``."""

from __future__ import annotations

import io
import os
import re
import sys

import fastentropy as fe
import numpy as np
import pytest
from fastentropy import _progress
from fastentropy._cli import main


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def corpus(n: int) -> np.ndarray:
    return np.random.default_rng(5).integers(0, 50, n).astype(np.uint16)


def test_a_terminal_gets_a_bar_with_rate_and_eta(monkeypatch):
    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    fe.count_ngrams(corpus(50_000), 3, progress=True)
    out = term.getvalue()
    # tqdm's "label: 100%|####| 50.0k/50.0k [00:00<00:00, 1.2M tokens/s]": elapsed<ETA, rate.
    assert re.search(r"counting n-grams: 100%.*50\.0k/50\.0k \[[0-9:]+<[0-9:]+, .* tokens/s\]", out)


def test_plain_lines_when_stderr_is_not_a_terminal(capsys, monkeypatch):
    monkeypatch.setattr(_progress, "PLAIN_EVERY", 0.0)
    with _progress.stage(True, "working") as report:
        for done in (10, 50, 100):
            report(done, 100)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert "\r" not in err and len(lines) == 4  # one per report, then the stage's last line
    assert lines[0].startswith("working: 10/100 tokens (10%), ") and "ETA" in lines[0]
    assert lines[-1].startswith("working: 100/100 tokens (100%), ") and " in " in lines[-1]


def test_true_ends_each_stage_with_a_line_and_auto_stays_quiet_on_short_work(capsys):
    fe.count_ngrams(corpus(20_000), 3, progress=True)
    err = capsys.readouterr().err
    line = r"counting n-grams: 20\.0k/20\.0k tokens \(100%\), .* tokens/s, in .*\n"
    assert re.fullmatch(line, err)
    fe.count_ngrams(corpus(20_000), 3, progress="auto")
    fe.count_ngrams(corpus(20_000), 3, progress=False)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("bad", ["yes", 1.5, [True]])
def test_progress_values_are_checked(bad):
    with pytest.raises(TypeError, match="progress must be True, False, 'auto' or a callable"):
        fe.count_ngrams(corpus(100), 2, progress=bad)


def test_the_counter_names_its_two_passes(monkeypatch, capsys):
    def no_room(*args, **kwargs):
        raise MemoryError("too small")

    monkeypatch.setattr(fe.SuffixIndex, "build", no_room)
    fe.estimate_floor(corpus(5_000), methods=["plugin"], progress=True)
    labels = [line.split(":")[0] for line in capsys.readouterr().err.splitlines()]
    assert labels[:2] == ["counting n-grams", "counting contexts"]


def test_trained_bpe_shows_training_then_tokenizing_each_over_the_input(tmp_path, capsys):
    path = tmp_path / "a.txt"
    path.write_text("the cat sat on the mat and the dog sat on the log\n" * 400)
    size = os.path.getsize(path)
    fe.tokenize(path, ("train-bpe", 300), tmp_path / "out", progress=True)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in lines] == ["training BPE", "tokenizing"]
    total = f"{size / 1e3:.1f}k/{size / 1e3:.1f}kB (100%)"
    assert all(total in line for line in lines), lines
    rate = re.search(r"([0-9.]+)([kMG]?) tokens/s", lines[1])
    assert rate and float(rate.group(1)) > 0


def test_cli_progress_flags(tmp_path, capsys):
    np.save(tmp_path / "t.npy", corpus(20_000))
    assert main(["count", str(tmp_path / "t.npy"), "--orders", "1,2", "--progress"]) == 0
    assert "counting n-grams: 20.0k/20.0k tokens (100%)" in capsys.readouterr().err
    for flags in (["--no-progress"], []):  # the default is "auto": quiet for short work
        assert main(["count", str(tmp_path / "t.npy"), "--orders", "1,2", *flags]) == 0
        assert capsys.readouterr().err == ""
    assert main(["count", str(tmp_path / "t.npy"), "--progress", "--no-progress"]) == 2
    assert "not allowed with argument --progress" in capsys.readouterr().err
