"""The check's smaller cases: the floor's tokenizer in the JSON, a whole-run scaled loss with
a certain factor judged after dividing by it, and an exact factor-of-2 drop at an epoch
boundary, which scaling alone must not explain."""

from __future__ import annotations

import json

import fastentropy as fe
import numpy as np

NAN = float("nan")
GPT2 = {"name": "gpt2", "hash": "sha256:0123abcd"}


def floor(**kw):
    kw.setdefault("bytes_per_token", 4.0)
    kw.setdefault("tokenizer", GPT2)
    return fe.Floor.from_summary(2.0, 1.9, 2.1, **kw)


def test_the_json_records_the_floors_tokenizer(tmp_path):
    log = fe.LossLog(step=[10, 20, 30], loss=[3.0, 2.7, 2.5])
    path = tmp_path / "floor.json"
    floor().to_json(path)
    v = fe.check(log, fe.Floor.from_json(path))
    out = json.loads(v.to_json(tmp_path / "verdict.json"))
    assert out["floor"]["tokenizer"] == GPT2
    assert json.loads((tmp_path / "verdict.json").read_text())["floor"]["tokenizer"] == GPT2
    # A floor that names none records None.
    bare = fe.check(log, fe.Floor.from_summary(2.0, 1.9, 2.1))
    assert json.loads(bare.to_json())["floor"]["tokenizer"] is None


def scaled_run(factor: float, second: float) -> fe.LossLog:
    """Two epochs of 20 logs each, the training loss logged ``factor`` times over (the
    gradient-accumulation bug): epoch 1 at 2.3 per token, epoch 2 at ``second``; an
    evaluation every 5 logs at 2.3 then 2.0 (never under the floor's lower end, 1.9)."""
    n = 40
    step = 10 * np.arange(1, n + 1)
    epoch = np.arange(1, n + 1) / 20
    wobble = np.random.default_rng(4).uniform(-0.01, 0.01, n)
    true = np.where(np.arange(n) < 20, 2.3, second) + wobble
    evals = np.where(np.arange(n) % 5 == 4, np.where(np.arange(n) < 20, 2.3, 2.0), NAN)
    return fe.LossLog(step=step, loss=true * factor, epoch=epoch, eval_loss=evals)


def test_a_certain_whole_run_factor_is_divided_out_before_the_status():
    # Logged x4: 9.2 then 7.4, far above the floor as logged; 1.85 per token in epoch 2,
    # under the lower end (1.9) while the evaluation loss (2.0) is not.
    log = scaled_run(4, 1.85)
    v = fe.check(log, floor())
    # Train over eval: 4 at epoch 1's evaluations, 4 x 1.85 / 2.0 = 3.7 at epoch 2's: within
    # 10% of 4 only (3.7 / 3 = 1.23, 3.7 / 5 = 0.74).
    assert v.status == "memorization", v.headline
    assert "divided by 4" in v.headline
    np.testing.assert_allclose(v.loss, log.loss / 4)
    np.testing.assert_allclose(v.margin, log.loss / 4 - 2.0)
    assert v.sustained_from == 210
    # The same log with epoch 2 at the floor's point is not memorization.
    assert fe.check(scaled_run(4, 2.3), floor()).status == "above"


def test_an_uncertain_factor_is_not_divided_out():
    # x16.6: 16, 17 and 18 all fit within 10% at every evaluation; the status stays on the
    # loss as logged and the headline says so.
    log = scaled_run(16.6, 1.85)
    v = fe.check(log, floor())
    assert v.status == "above"
    np.testing.assert_allclose(v.loss, log.loss)
    assert v.headline.endswith("so this compares a scaled loss with the floor")


def test_an_exact_halving_at_the_epoch_boundary_is_memorization_not_scaling():
    step = 10 * np.arange(1, 41)
    epoch = np.arange(1, 41) / 20
    loss = np.r_[np.full(20, 2.4), np.full(20, 1.2)]
    v = fe.check(fe.LossLog(step=step, loss=loss, epoch=epoch), floor())
    assert v.status == "memorization"
    (b,) = v.boundaries
    assert b.step == 200
    # Named, not explained away.
    (a,) = [a for a in v.artefacts if a.kind == "grad_accumulation"]
    assert a.step == 210 and "the factor alone does not explain it" in a.message
    assert not [c for c in v.caveats if "not a change in the model" in c]
    # The same halving inside an epoch is still read as the logging bug.
    inside = fe.check(fe.LossLog(step=step, loss=loss, epoch=step / 1000), floor())
    (a,) = [a for a in inside.artefacts if a.kind == "grad_accumulation"]
    assert a.step == 210 and a.message.endswith("not a change in the model")
