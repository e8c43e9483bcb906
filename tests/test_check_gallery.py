"""A gallery of training logs, each written as its trainer writes it, checked against one
floor (2.0 nats/token, interval 1.9-2.1). The expected verdicts are worked out by hand from
the curves described in each case, not produced by the code under test."""

from __future__ import annotations

import json

import fastentropy as fe
import numpy as np
import pytest

FLOOR = fe.Floor.from_summary(2.0, 1.9, 2.1)


def levels(per_epoch, *values, wobble=0.0, seed=0):
    """``per_epoch`` losses at each level in ``values`` (one level per epoch), ± wobble."""
    rng = np.random.default_rng(seed)
    out = np.repeat(np.array(values, dtype=float), per_epoch)
    return out + rng.uniform(-wobble, wobble, out.size)


def trainer_state(tmp_path, records):
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({"global_step": 0, "log_history": records}, indent=1))
    return path


def hf_records(loss, per_epoch, *, steps_per_log=10, decimals=2, warmup=3, extra=None):
    """The Trainer's training records: epoch rounded to ``decimals`` (older versions), an LR
    that warms up over ``warmup`` logs then decays linearly."""
    n = len(loss)
    lr = np.r_[np.linspace(1e-6, 5e-5, warmup), np.linspace(5e-5, 1e-6, n - warmup)]
    return [
        {
            "epoch": round((i + 1) / per_epoch, decimals),
            "grad_norm": 1.0,
            "learning_rate": float(lr[i]),
            "loss": round(float(loss[i]), 4),
            "step": steps_per_log * (i + 1),
            **(extra or {}),
        }
        for i in range(n)
    ]


def case_rounded_epochs_warmup_above(tmp_path):
    # 3 epochs of 10 logs at 2.6, 2.4, 2.3: above; boundaries at epochs 2 and 3, warmup is
    # not a restart, rounded epochs (0.1, 0.2, ...) make no boundary at the start.
    return trainer_state(tmp_path, hf_records(levels(10, 2.6, 2.4, 2.3, wobble=0.02), 10))


def case_trainer_memorization(tmp_path):
    # Epoch 1 at 2.5, epoch 2 at 1.5 (0.5 under the point): memorization from epoch 2's first
    # log (step 110, epoch 1.1); one boundary, at step 100 where the epoch reads 1.0.
    return trainer_state(tmp_path, hf_records(levels(10, 2.5, 1.5, wobble=0.02), 10))


def case_accumulation_jump(tmp_path):
    # An old Trainer logging the loss x4 for 8 logs, then fixed: 9.6 -> 2.4, a factor of 4.
    loss = np.r_[np.full(8, 9.6), np.full(8, 2.4)] + np.linspace(0, 0.01, 16)
    return trainer_state(tmp_path, hf_records(loss, 8))


def case_accumulation_whole_run(tmp_path):
    # Every training loss 16.6 times the evaluation loss (accumulation 16 logged x16).
    records = hf_records(levels(5, 2.5, 2.3) * 16.6, 5)
    for i in (4, 9):
        records.append({"epoch": records[i]["epoch"], "eval_loss": records[i]["loss"] / 16.6,
                        "step": records[i]["step"]})  # fmt: skip
    records.sort(key=lambda r: r["step"])
    return trainer_state(tmp_path, records)


def case_llama_factory_memorization(tmp_path):
    # LLaMA-Factory's trainer_log.jsonl: eval_loss null on training rows; 2.5 then 1.6.
    loss = levels(8, 2.5, 1.6, wobble=0.02, seed=1)
    path = tmp_path / "trainer_log.jsonl"
    lines = [
        {"current_steps": 5 * (i + 1), "total_steps": 80, "loss": round(float(v), 4),
         "eval_loss": None, "lr": 1e-4, "epoch": round((i + 1) / 8, 2), "percentage": 10.0}
        for i, v in enumerate(loss)
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    return path


def case_lightning_first_epoch_under(tmp_path):
    # Lightning, per-batch losses and epoch means, at 1.5 from the start (epoch index 0):
    # under the floor in the first epoch, so the floor is wrong, not the model.
    rows = ["epoch,step,train_loss_epoch,train_loss_step,val_loss"]
    step = 0
    for e, mean in enumerate([1.55, 1.5]):
        for b in range(6):
            step += 10
            rows.append(f"{e},{step},,{mean + (-0.05 if b % 2 else 0.05):.3f},")
        rows.append(f"{e},{step},{mean},,")
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def case_lightning_epoch_means_only(tmp_path):
    # Lightning logging only epoch means: 2.6, 2.4, 2.25, 2.15, 2.12 -> above, 4 boundaries.
    rows = ["epoch,step,train_loss_epoch,val_loss"]
    for e, mean in enumerate([2.6, 2.4, 2.25, 2.15, 2.12]):
        rows += [f"{e},{100 * (e + 1) - 1},{mean},", f"{e},{100 * (e + 1) - 1},,{mean + 0.1}"]
    path = tmp_path / "metrics.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def case_duplicated_records(tmp_path):
    # Every record written twice (two callbacks writing the same line): above.
    path = tmp_path / "log.jsonl"
    loss = np.linspace(3.0, 2.4, 10)
    lines = [json.dumps({"step": 10 * (i + 1), "loss": float(v)}) for i, v in enumerate(loss)]
    path.write_text("".join(line + "\n" + line + "\n" for line in lines))
    return path


def case_resumed_run(tmp_path):
    # Steps 10..100 logged, then a resume from the checkpoint at step 60 relogs 70..150.
    first = hf_records(np.linspace(3.0, 2.6, 10), 20)
    again = hf_records(np.linspace(3.0, 2.3, 15), 20)[6:]
    return trainer_state(tmp_path, first + again)


def case_dpo(tmp_path):
    # TRL's DPO: loss from ln 2 down, rewards/ and logps/ fields beside it.
    extra = {"rewards/chosen": 0.1, "rewards/rejected": -0.1, "logps/chosen": -80.0,
             "logps/rejected": -90.0, "rewards/accuracies": 0.6}  # fmt: skip
    return trainer_state(tmp_path, hf_records(np.linspace(0.6931, 0.4, 12), 6, extra=extra))


def case_grpo(tmp_path):
    # TRL's GRPO: loss 0.0 (and slightly negative), reward and kl beside it.
    extra = {"reward": 0.4, "reward_std": 0.2, "kl": 0.0005, "completion_length": 120.0}
    return trainer_state(tmp_path, hf_records(np.r_[0.0, 0.0, -0.001, 0.0001], 4, extra=extra))


def case_console_inside_the_interval(tmp_path):
    # The Trainer's console output: bars then dicts; 2 epochs of 5 logs, 2.4 then 2.05 (inside
    # the interval 1.9-2.1): inconclusive, steps from the bar.
    loss = levels(5, 2.4, 2.05)
    lines = []
    for i, v in enumerate(loss):
        s = 10 * (i + 1)
        lines.append(f"{s}%|###       | {s}/100 [00:{i:02d}<00:10, 1.0it/s]\r")
        lines.append(repr({"loss": float(v), "learning_rate": 5e-05, "epoch": (i + 1) / 5}))
    path = tmp_path / "train.log"
    path.write_text("\n".join(lines) + "\n")
    return path


def case_sparse_epochs(tmp_path):
    # One log every 16 epochs (a tiny dataset): no boundaries, and a caveat that says why.
    records = [{"epoch": 16.0 * (i + 1), "loss": 3.0 - 0.05 * i, "step": 50 * (i + 1)}
               for i in range(8)]  # fmt: skip
    return trainer_state(tmp_path, records)


# (case, status, boundaries as (step, new epoch), artefact kinds, text in notes/caveats/headline)
GALLERY = [
    (case_rounded_epochs_warmup_above, "above", [(100, 2), (200, 3)], [], []),
    (case_trainer_memorization, "memorization", [(100, 2)], [],
     ["from step 110 (epoch 1.1) the training loss is under the entropy floor"]),
    (case_accumulation_jump, "above", [(80, 2)], ["grad_accumulation"],
     ["close to 4: with gradient accumulation of 4"]),
    (case_accumulation_whole_run, "above", [(50, 2)], ["grad_accumulation"],
     # 16.6 / 1.1 = 15.1 and 16.6 / 0.9 = 18.4: the integers within 10% are 16, 17, 18.
     ["16.6 times the evaluation loss", "accumulation steps (16, 17 or 18, whichever"]),
    (case_llama_factory_memorization, "memorization", [(40, 2)], [],
     ["from step 45 (epoch 1.12)"]),
    (case_lightning_first_epoch_under, "inconclusive", [(65, 2)], [],
     ["in the first epoch, before any example can have been seen twice"]),
    (case_lightning_epoch_means_only, "above", [(149, 2), (249, 3), (349, 4), (449, 5)], [],
     ["its lowest, 2.12 nats/token at step 499"]),
    (case_duplicated_records, "above", [], [], ["10 step(s) logged twice (duplicated records)"]),
    (case_resumed_run, "above", [], [], ["the steps go back once (from 100 to 70"]),
    (case_dpo, "inconclusive", [(60, 2)], [], ["does not apply: this is a preference loss"]),
    (case_grpo, "inconclusive", [], [], ["does not apply: this is a policy-gradient loss"]),
    (case_console_inside_the_interval, "inconclusive", [(50, 2)], [],
     ["from step 60 (epoch 1.2) the training loss is inside the entropy rate's interval",
      "steps read from the training progress bar"]),
    (case_sparse_epochs, "above", [], [], ["too sparse to see epoch boundaries"]),
]  # fmt: skip


@pytest.mark.parametrize(
    "make, status, boundaries, artefacts, texts", GALLERY, ids=[g[0].__name__ for g in GALLERY]
)
def test_gallery(tmp_path, make, status, boundaries, artefacts, texts):
    v = fe.check(make(tmp_path), FLOOR)
    assert v.status == status, v.headline
    assert [(b.step, b.epoch) for b in v.boundaries] == boundaries
    assert [a.kind for a in v.artefacts] == artefacts
    said = "\n".join([v.headline, *v.caveats, *v.log.notes])
    for text in texts:
        assert text in said, said
    assert all(len(line) <= 100 for line in str(v).splitlines())
