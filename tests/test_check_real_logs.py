"""What 32 real training logs showed (issue 24), each as a minimal synthetic log of the same
shape: reading, detecting and saying. Expected values are worked out by hand in the tests."""

from __future__ import annotations

import json
import math

import fastentropy as fe
import numpy as np
import pytest
from fastentropy._cli import main

NAN = math.nan


def floor(point=2.0, lower=1.9, upper=2.1, **kw):
    return fe.Floor.from_summary(point, lower, upper, **kw)


def write_state(tmp_path, history, name="trainer_state.json"):
    path = tmp_path / name
    path.write_text(json.dumps({"log_history": history}))
    return path


def write_lines(tmp_path, records, name="trainer_log.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


# --- reading ----------------------------------------------------------------------------------


def test_records_without_step_or_loss_are_skipped_with_a_note(tmp_path):
    # A seq2seq run: 2 training and 2 eval records, then predict_* records with no step.
    history = [
        {"epoch": 0.5, "loss": 2.5, "step": 10},
        {"epoch": 1.0, "loss": 2.25, "step": 20},
        {"epoch": 1.0, "eval_loss": 2.4, "step": 20},
        {"epoch": 2.0, "eval_loss": 2.3, "step": 40},
        {"predict_loss": 2.3, "predict_runtime": 1.0},
        {"predict_bleu": 12.0},
    ]
    log = fe.read_losses(write_state(tmp_path, history))
    assert log.step.tolist() == [10, 20, 40]
    np.testing.assert_array_equal(log.loss, [2.5, 2.25, NAN])
    assert any(
        n.startswith("skipped 2 record(s) without 'step' and without a loss") for n in log.notes
    )
    # A training loss without a step cannot be placed: that stays an error.
    with pytest.raises(ValueError, match="a record without 'step'"):
        fe.read_losses(write_state(tmp_path, [*history, {"loss": 2.0}], "b.json"))
    # Nothing usable at all: an error that names what is missing.
    with pytest.raises(ValueError, match="no training loss"):
        fe.read_losses(write_state(tmp_path, [{"predict_bleu": 1.0}], "c.json"))


def test_null_eval_loss_is_absence_not_a_failed_evaluation(tmp_path):
    # LLaMA-Factory writes eval_loss: null on training records.
    records = [
        {"current_steps": s, "loss": 2.0 - s / 100, "eval_loss": None, "epoch": s / 40}
        for s in (10, 20, 30)
    ] + [{"current_steps": 40, "loss": NAN, "epoch": 1.0}]
    log = fe.read_losses(write_lines(tmp_path, records))
    assert log.step.tolist() == [10, 20, 30]
    assert not any("eval_loss" in n for n in log.notes), log.notes
    # A real NaN (a diverged step) is still reported.
    assert any(n.startswith("dropped 1 non-finite loss value(s) (steps 40)") for n in log.notes)


def test_duplicated_records_are_not_called_a_resume(tmp_path):
    # Every step written twice, in order: duplicated records.
    records = []
    for s, v in [(10, 2.5), (20, 2.4), (30, 2.3)]:
        records += [{"step": s, "loss": v}, {"step": s, "loss": v + 0.01}]
    log = fe.read_losses(write_lines(tmp_path, records))
    np.testing.assert_allclose(log.loss, [2.51, 2.41, 2.31])
    (note,) = log.notes
    assert note.startswith("3 step(s) logged twice (duplicated records)") and "resum" not in note
    # Steps that go back are a resumed run.
    records = [{"step": s, "loss": v} for s, v in [(1, 3.0), (2, 2.5), (3, 2.25), (2, 2.4)]]
    log = fe.read_losses(write_lines(tmp_path, records, "resumed.jsonl"))
    (note,) = log.notes
    assert note.startswith("the steps go back once (from 3 to 2: a resumed run?)")


def test_empty_log_history_does_not_suggest_loss_column(tmp_path):
    with pytest.raises(ValueError, match="log_history is empty") as e:
        fe.read_losses(write_state(tmp_path, []))
    assert "loss_column" not in str(e.value)


def test_console_steps_come_from_the_progress_bar(tmp_path):
    # The Trainer's printed dicts carry no step; the progress bar before them does.
    text = (
        " 10%|█         | 10/100 [00:01<00:09]{'loss': 2.5, 'learning_rate': 5e-05, 'epoch': 0.1}\n"
        " 20%|██        | 20/100 [00:02<00:08]\n"
        "{'loss': 2.4, 'learning_rate': 4e-05, 'epoch': 0.2}\n"
        "100%|██████████| 5/5 [00:00<00:00]\n"
        "{'eval_loss': 2.45, 'epoch': 0.2}\n"
        " 30%|███       | 30/100 [00:03<00:07]{'loss': 2.3, 'learning_rate': 3e-05, 'epoch': 0.3}\n"
    )
    path = tmp_path / "console.log"
    path.write_text(text)
    log = fe.read_losses(path)
    assert log.format == "console"
    assert log.step.tolist() == [10, 20, 30]
    np.testing.assert_array_equal(log.eval_loss, [NAN, 2.45, NAN])


# --- detecting --------------------------------------------------------------------------------


def test_rounded_epochs_and_warmup_are_not_a_boundary_or_a_restart():
    log = fe.LossLog(
        step=[10, 20, 30, 40, 50],
        loss=[0.69] * 5,
        epoch=[0, 0.01, 0.02, 0.03, 0.04],
        learning_rate=[1e-9, 1e-8, 2e-8, 3e-8, 4e-8],
    )
    v = fe.check(log, floor())
    assert v.boundaries == () and v.artefacts == ()


def test_boundary_is_placed_where_the_epoch_crosses_an_integer():
    # 10 steps per log line, 155.9 steps per epoch: epoch 1 ends at step 155.9 -> 156, between
    # the logged steps 150 and 160 (the first point of epoch 2 is at 160).
    step = np.arange(10, 321, 10)
    epoch = np.round(step / 155.9, 2)
    v = fe.check(fe.LossLog(step=step, loss=np.full(step.size, 2.5), epoch=epoch), floor())
    b1, b2 = v.boundaries
    # Interpolating the rounded epochs: 150 -> 0.96, 160 -> 1.03: 150 + 10 * 0.04 / 0.07.
    assert b1.step == round(150 + 10 * (1 - 0.96) / (1.03 - 0.96)) == 156 and b1.epoch == 2
    # 310 -> 1.99, 320 -> 2.05: 310 + 10 * 0.01 / 0.06 = 311.7.
    assert b2.step == 312 and b2.epoch == 3
    # Lightning's 0-based index: the boundary is between the last point of index 0 and the
    # first of index 1, at their midpoint.
    lightning = fe.LossLog(step=[49, 99, 149, 199], loss=[2.5] * 4, epoch=[0, 0, 1, 1])
    (b,) = fe.check(lightning, floor()).boundaries
    assert b.step == 124 and b.epoch == 2


def test_a_restart_after_decay_is_still_found():
    # Warmup to 1e-4, decay to 1e-5 over epoch 1, warmup again at epoch 2: a restart.
    lr = np.r_[np.linspace(1e-5, 1e-4, 5), np.linspace(1e-4, 1e-5, 15), np.linspace(1e-5, 1e-4, 20)]
    step = 10 * np.arange(1, 41)
    log = fe.LossLog(step=step, loss=np.full(40, 2.5), epoch=step / 200, learning_rate=lr)
    (a,) = fe.check(log, floor()).artefacts
    assert a.kind == "lr_restart" and a.step == 200


def test_trainer_logs_are_never_called_a_running_average(tmp_path):
    # A LoRA run, 7 points per epoch, 3 epochs: a slowing curve with real drops at epochs 2
    # and 3 (1.98 -> 1.62). The Trainer logs interval means: no running-average explanation.
    per_epoch = 7
    t = np.arange(3 * per_epoch)
    curve = 1.6 + 0.6 * np.exp(-t / 4) - 0.15 * (t >= per_epoch) - 0.15 * (t >= 2 * per_epoch)
    history = [
        {"step": int(10 * (i + 1)), "epoch": round((i + 1) / per_epoch, 2), "loss": float(v)}
        for i, v in enumerate(curve)
    ]
    v = fe.check(fe.read_losses(write_state(tmp_path, history)), floor(1.0, 0.9, 1.1))
    assert [b.epoch for b in v.boundaries] == [2, 3]
    assert not any(a.kind == "running_average" for a in v.artefacts)
    assert not any("running mean" in c for c in v.caveats)


def test_whole_run_accumulation_scaling_against_eval():
    # Training losses logged x16 (gradient accumulation 16), 16.5-16.9 times the eval losses.
    step = 10 * np.arange(1, 21)
    eval_loss = np.linspace(2.6, 2.2, 20)
    ratio = np.linspace(16.5, 16.9, 20)
    evals = np.where(np.arange(20) % 5 == 4, eval_loss, NAN)
    log = fe.LossLog(step=step, loss=eval_loss * ratio, eval_loss=evals)
    v = fe.check(log, floor())
    (a,) = [a for a in v.artefacts if a.kind == "grad_accumulation"]
    # Ratios 16.5-16.9 (a little more against the median training level): within 10% of
    # 16, 17 and 18 (16.9 / 15 = 1.127 and 16.5 / 19 = 0.868 are not).
    assert "accumulation steps (16, 17 or 18, whichever the run used)" in a.message
    assert a.step == 50
    # The gap is train above eval by ~40 nats throughout: no "fits the training set better".
    assert not any("fits the training set better" in c for c in v.caveats)
    assert v.headline.endswith("so this compares a scaled loss with the floor")


def test_gap_caveat_is_sign_aware():
    # Eval minus train from -0.5 to -0.1: the gap closes, the model does not overfit.
    log = fe.LossLog(
        step=[10, 20, 30, 40, 50, 60],
        loss=[3.0, 2.9, 2.8, 2.7, 2.6, 2.5],
        eval_loss=[NAN, 2.4, NAN, 2.4, NAN, 2.4],
    )
    v = fe.check(log, floor())
    assert not any("fits the training set better" in c for c in v.caveats)


def test_per_batch_noise_is_not_a_drop_when_epoch_means_are_logged(tmp_path):
    # Lightning: one batch per logged step is noise (±0.3); the epoch means rise 3.687 -> 3.719.
    rng = np.random.default_rng(4)
    rows = ["epoch,step,train_loss_epoch,train_loss_step"]
    step = 0
    for e, mean in enumerate([3.687, 3.719]):
        for _ in range(4):
            step += 50
            rows.append(f"{e},{step},,{mean + rng.uniform(-0.3, 0.3):.4f}")
        rows.append(f"{e},{step},{mean},")
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join(rows) + "\n")
    log = fe.read_losses(path)
    assert log.loss_field == "train_loss_step"
    np.testing.assert_array_equal(log.epoch_loss[np.isfinite(log.epoch_loss)], [3.687, 3.719])
    v = fe.check(log, floor(1.0, 0.9, 1.1))
    (b,) = v.boundaries
    assert (b.loss_before, b.loss_after) == (3.687, 3.719)
    assert b.drop == pytest.approx(-0.032)
    pytest.importorskip("matplotlib")
    (means,) = [
        line for line in v.plot().axes[0].lines if line.get_label() == "epoch mean (logged)"
    ]
    assert means.get_ydata().tolist() == [3.687, 3.719] and means.get_xdata().tolist() == [200, 400]


def test_drop_within_the_noise_is_said_to_be():
    # Per-batch losses ±0.3 around 2.5 in both epochs, 5 per epoch: no epoch means logged.
    rng = np.random.default_rng(5)
    loss = 2.5 + rng.uniform(-0.3, 0.3, 10)
    step = np.arange(1, 11)
    v = fe.check(fe.LossLog(step=step, loss=loss, epoch=(step > 5) * 1.0), floor(1.0, 0.9, 1.1))
    (b,) = v.boundaries
    assert b.noise > abs(b.drop) and b.within_noise
    assert "within the noise" in str(v)


# --- saying -----------------------------------------------------------------------------------


def test_isolated_point_under_the_floor_is_not_called_above():
    v = fe.check(fe.LossLog(step=[1, 2, 3, 4, 5], loss=[3.0, 2.9, 1.0, 2.8, 2.7]), floor())
    assert v.status == "above"
    assert "-0." not in v.headline and "stays above" not in v.headline
    assert "1 isolated point under the floor's lower end (step 3, 1 nats/token)" in v.headline
    # The lowest of the others: 2.7 at step 5, 0.6 above the upper end.
    assert "otherwise its lowest, 2.7 nats/token at step 5, is 0.6 nats/token above" in v.headline
    # Two points inside the interval, not in a row.
    inside = fe.LossLog(step=[1, 2, 3, 4, 5], loss=[3.0, 2.05, 2.9, 2.0, 2.8])
    v = fe.check(inside, floor())
    assert "2 isolated points inside the floor's interval (steps 2, 4)" in v.headline


@pytest.mark.parametrize(
    "fields, kind",
    [({"rewards/chosen": 0.1, "rewards/rejected": -0.1, "logps/chosen": -50.0}, "preference"),
     ({"kl": 0.001, "reward": 0.5, "reward_std": 0.2}, "policy-gradient")],
)  # fmt: skip
def test_losses_that_are_not_cross_entropies(tmp_path, fields, kind):
    loss = 0.6931 if kind == "preference" else 0.0
    history = [{"step": s, "loss": loss, "epoch": s / 50, **fields} for s in (10, 20, 30, 40)]
    log = fe.read_losses(write_state(tmp_path, history))
    assert log.objective == kind
    v = fe.check(log, floor(0.5, 0.4, 0.6))
    assert v.status == "inconclusive"
    assert v.headline.startswith(f"the check does not apply: this is a {kind} loss")
    assert v.to_dict()["log"]["objective"] == kind
    assert "first   under" not in str(v)  # where a non-cross-entropy sits means nothing
    # The same fields under TensorBoard's or W&B's "train/" prefix.
    prefixed = {f"train/{k}": v for k, v in fields.items()}
    rows = [{"step": r["step"], "train/loss": r["loss"], **prefixed} for r in history]
    assert fe.read_losses(write_lines(tmp_path, rows, "tb.jsonl")).objective == kind
    # An ordinary run is not one of them.
    plain = [{"step": s, "loss": 2.0, "train/epoch": 1.0} for s in (1, 2)]
    assert fe.read_losses(write_lines(tmp_path, plain, "sft.jsonl")).objective is None


def test_sparse_logging_reports_no_boundaries():
    # 16 epochs between logged points.
    step = 100 * np.arange(1, 9)
    v = fe.check(
        fe.LossLog(step=step, loss=np.linspace(3, 2.5, 8), epoch=16.0 * np.arange(1, 9)), floor()
    )
    assert v.boundaries == ()
    assert any(
        c.startswith("the log has 8 training losses from epoch 16 to 128, one every 16 epochs")
        for c in v.caveats
    )
    # One point per epoch (the Trainer's logging_strategy="epoch") is not too sparse.
    per_epoch = fe.LossLog(step=step, loss=np.linspace(3, 2.5, 8), epoch=np.arange(1.0, 9.0))
    assert len(fe.check(per_epoch, floor()).boundaries) == 7


def test_report_prints_significant_digits_and_labels_the_epoch(tmp_path):
    v = fe.check(
        fe.LossLog(step=[1, 2, 3], loss=[0.009, 0.008, 0.007]), floor(0.005, 0.0045, 0.0055)
    )
    assert "0.005 nats/token, interval 0.0045-0.0055" in str(v)
    text = str(fe.check(fe.LossLog(step=np.arange(1, 11), loss=[2.5] * 10,
                                   epoch=np.arange(1, 11) / 5), floor()))  # fmt: skip
    assert "new epoch" in text
    assert all(len(line) <= 100 for line in text.splitlines())


def test_whole_extent_under_the_floor_in_the_headline():
    # Under from step 4 to 6, back above at 7, under again from 8 to 10, deepest at step 9.
    loss = [2.5, 2.4, 2.3, 1.8, 1.85, 1.8, 2.2, 1.7, 1.58, 1.6]
    v = fe.check(fe.LossLog(step=np.arange(1, 11), loss=loss, epoch=np.arange(1, 11) / 3), floor())
    assert v.status == "memorization"
    assert "6 of the 7 logged points from step 4 to step 10 are under its lower end" in v.headline
    assert "deepest 0.42 nats/token under the floor (2) at step 9" in v.headline


def test_tokenizer_named_by_name_or_hash_and_bytes():
    f = floor(tokenizer={"name": "bytes", "hash": "h-bytes"}, bytes_per_token=1.0)
    log = fe.LossLog(step=[1, 2, 3], loss=[3.0, 2.9, 2.8])
    assert fe.check(log, f, tokenizer="bytes").conversion is None
    assert fe.check(log, f, tokenizer="h-bytes").conversion is None
    # A model tokenizer not given: the verdict says it assumes the floor's.
    v = fe.check(log, f)
    assert any("assumes the model uses the floor's tokenizer (bytes)" in c for c in v.caveats)
    # The model reads bytes: 1 byte per token, no figure needed.
    g = floor(tokenizer={"name": "gpt2", "hash": "h-gpt2"}, bytes_per_token=4.0)
    v = fe.check(log, g, tokenizer="bytes")
    assert v.floor_point == pytest.approx(0.5) and "converted through bits per byte" in v.conversion


def test_cli_tokenizer_bytes(tmp_path, capsys):
    floor(tokenizer={"name": "bytes", "hash": "h-bytes"}, bytes_per_token=1.0).to_json(
        tmp_path / "f.json"
    )
    path = write_lines(tmp_path, [{"step": s, "loss": 3.0} for s in (1, 2, 3)])
    assert (
        main(["check", str(path), "--floor", str(tmp_path / "f.json"), "--tokenizer", "bytes"]) == 0
    )


def test_one_low_batch_does_not_make_an_overfit_gap():
    # Per-batch losses around 2.5; the last batch happens to be 2.0. Eval 2.5 at steps 5, 10.
    loss = [2.5, 2.8, 2.2, 2.6, 2.4, 2.7, 2.3, 2.5, 2.6, 2.0]
    evals = [NAN] * 4 + [2.5] + [NAN] * 4 + [2.5]
    v = fe.check(fe.LossLog(step=np.arange(1, 11), loss=loss, eval_loss=evals), floor())
    # Step 5: median of steps 3-7 (2.2, 2.6, 2.4, 2.7, 2.3) = 2.4; step 10: median of steps
    # 8-10 (2.5, 2.6, 2.0) = 2.5. Against the last batch alone the gap would be 0.5.
    np.testing.assert_allclose(v.eval_gap, [0.1, 0.0], atol=1e-12)
    assert not any("fits the training set better" in c for c in v.caveats)
