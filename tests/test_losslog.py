"""Training-log readers: every format written here as the trainers write it, malformed files,
and the arrays a LossLog holds."""

from __future__ import annotations

import json
import math
import sys
import time

import fastentropy as fe
import numpy as np
import pytest

NAN = math.nan


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def assert_equal_nan(actual, expected):
    np.testing.assert_array_equal(np.asarray(actual), np.asarray(expected, dtype=float))


TRAINER_STATE = {
    "best_metric": None,
    "epoch": 2.0,
    "global_step": 40,
    "log_history": [
        {"epoch": 0.5, "grad_norm": 1.2, "learning_rate": 4e-05, "loss": 2.5, "step": 10,
         "num_tokens": 5120.0, "mean_token_accuracy": 0.4},
        {"epoch": 1.0, "grad_norm": 1.1, "learning_rate": 3e-05, "loss": 2.25, "step": 20,
         "num_tokens": 10240.0, "mean_token_accuracy": 0.45},
        {"epoch": 1.0, "eval_loss": 2.4, "eval_runtime": 1.5, "step": 20},
        {"epoch": 1.5, "grad_norm": 0.9, "learning_rate": 2e-05, "loss": 1.75, "step": 30,
         "num_tokens": 15360.0, "mean_token_accuracy": 0.6},
        {"epoch": 2.0, "eval_loss": 2.6, "eval_runtime": 1.4, "step": 40},
        {"epoch": 2.0, "step": 40, "total_flos": 1e15, "train_loss": 2.1, "train_runtime": 60.0,
         "train_samples_per_second": 3.3},
    ],
}  # fmt: skip


def test_trainer_state(tmp_path):
    path = write(tmp_path, "trainer_state.json", json.dumps(TRAINER_STATE, indent=2))
    log = fe.read_losses(path)
    assert log.format == "trainer_state" and log.loss_field == "loss"
    assert log.step.tolist() == [10, 20, 30, 40]
    assert_equal_nan(log.loss, [2.5, 2.25, 1.75, NAN])  # the summary's train_loss is not a step
    assert_equal_nan(log.eval_loss, [NAN, 2.4, NAN, 2.6])
    assert_equal_nan(log.epoch, [0.5, 1.0, 1.5, 2.0])
    assert_equal_nan(log.learning_rate, [4e-05, 3e-05, 2e-05, NAN])
    assert_equal_nan(log.tokens, [5120, 10240, 15360, NAN])
    assert any("summary" in n for n in log.notes)
    assert "4 rows" in repr(log)


def test_trainer_state_on_one_line_is_not_json_lines(tmp_path):
    path = write(tmp_path, "state.json", json.dumps(TRAINER_STATE))
    assert fe.read_losses(path).format == "trainer_state"


def test_truncated_trainer_state_names_file_and_line(tmp_path):
    text = json.dumps(TRAINER_STATE, indent=2)
    path = write(tmp_path, "trainer_state.json", text[: len(text) // 2])
    with pytest.raises(ValueError, match=r"trainer_state\.json: line \d+, column \d+: invalid "
                       r"JSON \(truncated file\?\)"):  # fmt: skip
        fe.read_losses(path)


def test_json_without_log_history(tmp_path):
    path = write(tmp_path, "config.json", '{\n "lr": 1\n}\n')
    with pytest.raises(ValueError, match="config.json: .*log_history"):
        fe.read_losses(path)


LLAMA_FACTORY = "".join(
    json.dumps(
        {"current_steps": s, "total_steps": 30, "loss": loss, "lr": lr, "epoch": e,
         "percentage": 100 * s / 30, "elapsed_time": "0:00:10", "remaining_time": "0:00:20"}
    ) + "\n"
    for s, loss, lr, e in [(10, 2.0, 5e-05, 0.33), (20, 1.5, 2.5e-05, 0.67), (30, 1.25, 0.0, 1.0)]
)  # fmt: skip


def test_llama_factory_jsonl(tmp_path):
    log = fe.read_losses(write(tmp_path, "trainer_log.jsonl", LLAMA_FACTORY))
    assert log.format == "jsonl"
    assert log.step.tolist() == [10, 20, 30]
    assert_equal_nan(log.loss, [2.0, 1.5, 1.25])
    assert_equal_nan(log.learning_rate, [5e-05, 2.5e-05, 0.0])
    assert_equal_nan(log.epoch, [0.33, 0.67, 1.0])


def test_jsonl_with_a_broken_line(tmp_path):
    lines = LLAMA_FACTORY.splitlines()
    lines[1] = lines[1][:25]
    path = write(tmp_path, "trainer_log.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"trainer_log\.jsonl: line 2 is not a JSON object"):
        fe.read_losses(path)


CONSOLE = """\
Some weights of the model were not initialized
  0%|          | 0/40 [00:00<?, ?it/s]
{'loss': 2.5, 'grad_norm': 1.5, 'learning_rate': 5e-05, 'epoch': 0.5}
 25%|##5       | 10/40 [00:05<00:15]\r{'loss': nan, 'learning_rate': 4e-05, 'epoch': 1.0}
{'eval_loss': 2.75, 'eval_runtime': 1.0, 'epoch': 1.0}
{'loss': 2.0, 'grad_norm': 1.0, 'learning_rate': 3e-05, 'epoch': 1.5}
{'train_runtime': 20.0, 'train_samples_per_second': 8.0, 'train_loss': 2.2, 'epoch': 2.0}
"""


def test_trainer_console_dicts(tmp_path):
    log = fe.read_losses(write(tmp_path, "train.log", CONSOLE))
    assert log.format == "console"
    # No step field: a row's step counts training losses; the eval joins the row before it.
    assert log.step.tolist() == [1, 2, 3]
    assert_equal_nan(log.loss, [2.5, NAN, 2.0])
    assert_equal_nan(log.eval_loss, [NAN, 2.75, NAN])
    assert_equal_nan(log.epoch, [0.5, 1.0, 1.5])
    assert any("non-finite loss" in n and "steps 2" in n for n in log.notes)
    assert any("no step field" in n for n in log.notes)


def test_python_dict_lines_as_json_lines(tmp_path):
    text = "{'step': 5, 'loss': -inf}\n{'step': 10, 'loss': 1.0, 'flag': True}\n"
    log = fe.read_losses(write(tmp_path, "log.jsonl", text))
    assert log.format == "jsonl" and log.step.tolist() == [10]
    assert any("non-finite loss" in n for n in log.notes)


def test_unsafe_dict_lines_are_not_evaluated(tmp_path):
    text = '{"step": 1, "loss": 1.0}\n{"step": __import__("os").getpid(), "loss": 1.0}\n'
    with pytest.raises(ValueError, match="line 2 is not a JSON object"):
        fe.read_losses(write(tmp_path, "log.jsonl", text))


LIGHTNING = """\
epoch,step,train_loss_epoch,train_loss_step,val_loss
0,49,,2.5,
0,99,,2.0,
0,99,,,2.25
0,99,2.3,,
1,149,,1.5,
1,199,,1.25,
1,199,,,2.5
1,199,1.4,,
"""


def test_lightning_metrics_csv(tmp_path):
    log = fe.read_losses(write(tmp_path, "metrics.csv", LIGHTNING))
    assert log.format == "csv" and log.loss_field == "train_loss_step"
    assert log.step.tolist() == [49, 99, 149, 199]
    assert_equal_nan(log.loss, [2.5, 2.0, 1.5, 1.25])
    assert_equal_nan(log.eval_loss, [NAN, 2.25, NAN, 2.5])
    assert_equal_nan(log.epoch, [0, 0, 1, 1])


def test_wandb_export_with_min_max_columns(tmp_path):
    text = (
        '"Step","run-7 - train/loss","run-7 - train/loss__MIN","run-7 - train/loss__MAX"\n'
        '"100","3.5","3.0","4.0"\n"200","3.25","3.0","3.5"\n'
    )
    log = fe.read_losses(write(tmp_path, "wandb.csv", text))
    assert log.loss_field == "run-7 - train/loss"
    assert log.step.tolist() == [100, 200]
    assert_equal_nan(log.loss, [3.5, 3.25])


def test_tsv_and_named_loss_column(tmp_path):
    text = "global_step\tmy_ce\tlr\n1\t4.0\t0.001\n2\t3.5\t0.002\n"
    path = write(tmp_path, "log.tsv", text)
    with pytest.raises(ValueError, match=r"log\.tsv: no training loss .*'my_ce'.*loss_column="):
        fe.read_losses(path)
    log = fe.read_losses(path, loss_column="my_ce")
    assert log.step.tolist() == [1, 2] and log.loss_field == "my_ce"
    assert_equal_nan(log.loss, [4.0, 3.5])
    assert_equal_nan(log.learning_rate, [0.001, 0.002])
    with pytest.raises(ValueError, match="no training loss \\('absent'\\)"):
        fe.read_losses(path, loss_column="absent")


def test_non_numeric_value_names_row_and_column(tmp_path):
    text = "step,loss\n1,2.0\n2,oops\n"
    with pytest.raises(ValueError, match=r"bad\.csv: line 3: 'loss' is 'oops', not a number"):
        fe.read_losses(write(tmp_path, "bad.csv", text))
    text = '{"step": 1, "loss": [2.0]}\n'
    with pytest.raises(ValueError, match=r"line 1: 'loss' is \[2.0\], not a number"):
        fe.read_losses(write(tmp_path, "bad.jsonl", text))


def test_no_loss_anywhere(tmp_path):
    text = '{"step": 1, "eval_loss": 2.0}\n{"step": 2, "eval_loss": 1.9}\n'
    with pytest.raises(ValueError, match=r"evals\.jsonl: no training loss .*'eval_loss'"):
        fe.read_losses(write(tmp_path, "evals.jsonl", text))


def test_all_losses_nan(tmp_path):
    text = '{"step": 1, "loss": NaN}\n{"step": 2, "loss": NaN}\n'
    with pytest.raises(ValueError, match="every 'loss' value is missing or non-finite"):
        fe.read_losses(write(tmp_path, "nan.jsonl", text))


def test_bad_steps(tmp_path):
    with pytest.raises(ValueError, match=r"line 2: step 1.5 is not a whole number"):
        fe.read_losses(
            write(tmp_path, "a.jsonl", '{"step": 1, "loss": 1}\n{"step": 1.5, "loss": 1}\n')
        )
    with pytest.raises(ValueError, match=r"line 2: a record without 'step'"):
        fe.read_losses(write(tmp_path, "b.jsonl", '{"step": 1, "loss": 1}\n{"loss": 1}\n'))


def test_resumed_run_keeps_the_later_value(tmp_path):
    text = "".join(
        json.dumps({"step": s, "loss": v}) + "\n"
        for s, v in [(1, 3.0), (2, 2.5), (3, 2.25), (2, 2.4), (3, 2.2), (4, 2.0)]
    )
    log = fe.read_losses(write(tmp_path, "resumed.jsonl", text))
    assert log.step.tolist() == [1, 2, 3, 4]
    assert_equal_nan(log.loss, [3.0, 2.4, 2.2, 2.0])
    assert any(n.startswith("the steps go back once (from 3 to 2") for n in log.notes)


def test_empty_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        fe.read_losses(write(tmp_path, "empty.log", "\n\n"))
    with pytest.raises(ValueError, match="format must be one of"):
        fe.read_losses(write(tmp_path, "x.csv", "step,loss\n1,2\n"), format="yaml")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError):
        fe.read_losses(tmp_path / "nope.json")
    (tmp_path / "bin.log").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ValueError, match="not a text log"):
        fe.read_losses(tmp_path / "bin.log")


def test_loss_log_from_arrays_validates():
    log = fe.LossLog(step=[1, 2], loss=[2.0, 1.0], learning_rate=[1e-3, 1e-3])
    assert log.format == "arrays" and log.tokens.shape == (2,)
    with pytest.raises(ValueError):
        log.loss[0] = 5.0  # read-only
    with pytest.raises(ValueError, match="steps must increase: step\\[2\\] = 2 follows 3"):
        fe.LossLog(step=[1, 3, 2], loss=[1, 1, 1])
    with pytest.raises(ValueError, match="eval_loss has shape \\(1,\\); step has 2 rows"):
        fe.LossLog(step=[1, 2], loss=[1, 1], eval_loss=[1])
    with pytest.raises(ValueError, match="whole numbers"):
        fe.LossLog(step=[1.5, 2], loss=[1, 1])
    with pytest.raises(ValueError, match="no finite training loss"):
        fe.LossLog(step=[1], loss=[NAN])


def write_events(directory, scalars):
    """Event file written by tensorboard's own writer: scalars as (tag, step, value)."""
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(directory))
    for tag, step, value in scalars:
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]
        )
        writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary))
    writer.close()
    return writer.get_logdir()


def test_tensorboard_event_files(tmp_path):
    run = tmp_path / "runs" / "exp1"
    scalars = [
        ("train/loss", 10, 2.5), ("train/learning_rate", 10, 4e-05), ("train/epoch", 10, 0.5),
        ("train/loss", 20, 2.0), ("train/learning_rate", 20, 2e-05), ("train/epoch", 20, 1.0),
        ("eval/loss", 20, 2.25),
    ]  # fmt: skip
    write_events(run, scalars)
    for target in (tmp_path / "runs", next(run.iterdir())):  # a directory or the file itself
        log = fe.read_losses(target)
        assert log.format == "tensorboard" and log.loss_field == "train/loss"
        assert log.step.tolist() == [10, 20]
        np.testing.assert_allclose(log.loss, [2.5, 2.0])  # stored as float32
        np.testing.assert_allclose(log.learning_rate, [4e-05, 2e-05], rtol=1e-6)
        np.testing.assert_allclose(log.epoch, [0.5, 1.0])
        assert_equal_nan(np.isnan(log.eval_loss), [True, False])


def test_tensorboard_directory_without_events(tmp_path):
    pytest.importorskip("tensorboard")
    with pytest.raises(ValueError, match="no TensorBoard event files"):
        fe.read_losses(tmp_path)


def test_tensorboard_missing_says_which_extra(tmp_path, monkeypatch):
    header = b"\x18" + b"\x00" * 11 + b"\x1a\x0dbrain.Event:2"  # an event file's first record
    (tmp_path / "events.out.tfevents.1").write_bytes(header)
    monkeypatch.setitem(sys.modules, "tensorboard.backend.event_processing.event_file_loader", None)
    with pytest.raises(ImportError, match=r"pip install 'fastentropy\[tensorboard\]'"):
        fe.read_losses(tmp_path / "events.out.tfevents.1")
