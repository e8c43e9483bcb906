"""Checking runs against the floor: synthetic runs with and without a sub-floor drop, the
artefacts that fake one, units, per-example losses, the report, JSON, the plot and the CLI."""

from __future__ import annotations

import json
import struct
import sys

import fastentropy as fe
import numpy as np
import pytest
from fastentropy._cli import main

GPT2 = {"name": "gpt2", "hash": "h-gpt2"}


def floor(point=2.0, lower=1.9, upper=2.1, **kw):
    kw.setdefault("bytes_per_token", 4.0)
    kw.setdefault("tokenizer", GPT2)
    return fe.Floor.from_summary(point, lower, upper, **kw)


def two_epochs(second_epoch_level, *, per_epoch=20, seed=0, lr=None, first=2.5):
    """Steps 10, 20, ...; epoch 1 at ``first`` (2.5) ± 0.02 nats/token, epoch 2 at the given
    level."""
    rng = np.random.default_rng(seed)
    n = 2 * per_epoch
    step = 10 * np.arange(1, n + 1)
    epoch = np.arange(1, n + 1) / per_epoch  # the Trainer's fractional epoch
    level = np.where(np.arange(n) < per_epoch, first, second_epoch_level)
    loss = level + rng.uniform(-0.02, 0.02, n)
    return fe.LossLog(step=step, loss=loss, epoch=epoch, learning_rate=lr)


def test_sub_floor_drop_at_epoch_two_is_memorization():
    log = two_epochs(1.5)
    v = fe.check(log, floor())
    assert v.status == "memorization"
    # Epoch 2 starts at the 21st logged point, step 210, epoch 21/20 = 1.05; epoch 1 ends at
    # step 200 (epoch 1.0), where the boundary is.
    assert v.first_under_lower == 210 and v.first_under_point == 210
    assert v.sustained_from == 210 and v.sustained_until == 400
    assert v.points_under_lower == 20
    depth = np.median(2.0 - log.loss[20:])  # the loss is ~0.5 under the point
    assert abs(depth - 0.5) < 0.02
    assert v.headline.startswith(
        "from step 210 (epoch 1.05) the training loss is under the entropy floor of this data "
        "(2, interval 1.9-2.1 nats/token) to the end of the log: 20 of the 20 logged points "
        f"from step 210 to step 400 are under its lower end, a median {depth:.2f} and the "
        f"deepest {2.0 - log.loss[20:].min():.2f} nats/token under the floor (2) at step "
        f"{log.step[20 + np.argmin(log.loss[20:])]}"
    )
    assert v.headline.endswith("reproducing training text")
    np.testing.assert_allclose(v.margin, log.loss - 2.0)
    (b,) = v.boundaries
    assert b.step == 200 and b.epoch == 2
    assert b.loss_before == np.median(log.loss[15:20]) and b.loss_after == np.median(
        log.loss[20:25]
    )
    assert abs(b.drop - 1.0) < 0.04
    assert v.artefacts == ()  # a real drop by 2.5/1.5: no integer factor, no reset, no LR
    assert any("same mask" in c for c in v.caveats)  # the floor is unmasked
    assert not any("same mask" in c for c in fe.check(log, floor(masked=True)).caveats)
    estimated = floor(order=4, method="nsb")
    assert any(
        c.startswith("the floor is an order-4 estimate (nsb)")
        for c in fe.check(log, estimated).caveats
    )
    assert not any("order-" in c for c in v.caveats)  # a floor given by hand has no order


def test_no_drop_stays_above():
    log = two_epochs(2.3)
    v = fe.check(log, floor())
    assert v.status == "above"
    assert v.first_under_point is None and v.first_under_lower is None
    assert v.sustained_from is None and v.points_under_lower == 0
    low = log.loss.min()
    assert f"its lowest, {low:.4g} nats/token" in v.headline
    assert f"is {low - 2.1:.2g} nats/token above the upper end" in v.headline


def test_inside_the_interval_is_inconclusive():
    v = fe.check(two_epochs(2.05), floor())
    assert v.status == "inconclusive"
    assert v.first_under_lower is None
    assert v.headline.startswith(
        "from step 210 (epoch 1.05) the training loss is inside the entropy rate's interval"
    )


def test_a_single_dip_is_not_a_trend():
    loss = [2.5, 2.4, 1.5, 2.4, 2.4, 1.6, 1.6, 2.3]
    v = fe.check(fe.LossLog(step=range(1, 9), loss=loss), floor())
    assert v.status == "above" and v.first_under_lower == 3 and v.points_under_lower == 3


@pytest.mark.parametrize(
    "kw, reason",
    [({"reliable": False, "order": 4, "n_tokens": 5000}, "under-sampled in 5,000 tokens"),
     ({"lower": 1.4, "upper": 2.6}, "wider than 25%")],
)  # fmt: skip
def test_uncertain_floor_is_inconclusive(kw, reason):
    f = floor(**{"point": 2.0, "lower": 1.9, "upper": 2.1, **kw})
    v = fe.check(two_epochs(1.3), f)
    assert v.status == "inconclusive"
    assert "too uncertain to call it memorization" in v.headline
    assert any(reason in c for c in v.caveats)
    # Far above an uncertain floor is still above it, with the caveat.
    above = fe.check(fe.LossLog(step=[1, 2, 3], loss=[3.2, 3.0, 2.9]), f)
    assert above.status == "above" and any(reason in c for c in above.caveats)


def test_gradient_accumulation_scaled_log():
    rng = np.random.default_rng(1)
    loss = np.r_[8.0 + rng.uniform(-0.1, 0.1, 15), 2.0 + rng.uniform(-0.02, 0.02, 15)]
    v = fe.check(fe.LossLog(step=np.arange(1, 31), loss=loss), floor())
    (a,) = v.artefacts
    ratio = np.median(loss[12:15]) / np.median(loss[15:18])
    assert a.kind == "grad_accumulation" and a.step == 16
    assert f"a factor of {ratio:.3f}, close to 4" in a.message
    assert a.message in v.caveats


def test_lr_restart_at_epoch_boundary():
    lr = np.r_[np.linspace(1e-4, 1e-5, 20), np.linspace(1e-4, 1e-5, 20)]
    v = fe.check(two_epochs(2.3, lr=lr), floor())
    (a,) = v.artefacts
    assert a.kind == "lr_restart" and a.step == 200
    assert "from 1e-05 to 0.0001" in a.message
    (b,) = v.boundaries
    assert b.lr_before == pytest.approx(1e-5) and b.lr_after == pytest.approx(1e-4)
    # A schedule that keeps decaying across the boundary is not a restart.
    decaying = two_epochs(2.3, lr=np.linspace(1e-4, 1e-6, 40))
    assert fe.check(decaying, floor()).artefacts == ()


def running_average_log(raw, per_epoch):
    """The loss as a logger that averages since the start of the epoch writes it."""
    logged = np.concatenate(
        [np.cumsum(e) / np.arange(1, len(e) + 1) for e in np.split(raw, len(raw) // per_epoch)]
    )
    n = len(raw)
    return fe.LossLog(step=np.arange(1, n + 1), loss=logged, epoch=np.arange(1, n + 1) / per_epoch)


def test_running_average_that_resets_each_epoch():
    rng = np.random.default_rng(2)
    t = np.arange(120)
    raw = 2.2 + 1.5 * np.exp(-t / 15) + rng.normal(0, 0.03, 120)
    v = fe.check(running_average_log(raw, 60), floor())
    (b,) = v.boundaries
    # The average over epoch 1 is far above the raw loss at its end: a drop of ~0.35.
    assert b.step == 60 and b.drop > 0.3  # epoch 1.0 at step 60
    (a,) = v.artefacts
    assert a.kind == "running_average" and a.step == 60
    implied = np.median(raw[57:60])  # n*A_n - (n-1)*A_(n-1) recovers the raw loss exactly
    assert f"reach {implied:.3g} by the end" in a.message
    # The same raw curve logged raw has no such artefact.
    raw_log = fe.LossLog(step=t + 1, loss=raw, epoch=(t + 1) / 60)
    assert fe.check(raw_log, floor()).artefacts == ()


def test_tokenizer_mismatch_converts_through_bits_per_byte():
    log = two_epochs(1.5)
    with pytest.raises(ValueError, match=r"tokenizer \(llama\) is not the floor's \(h-gpt2\)"):
        fe.check(log, floor(), tokenizer="llama")
    v = fe.check(log, floor(), tokenizer="llama", bytes_per_token=3.0)
    # 2.0 nats per 4-byte token = 0.5 nats/byte; at 3 bytes per model token, 1.5 nats/token.
    assert (v.floor_point, v.floor_lower, v.floor_upper) == pytest.approx((1.5, 1.425, 1.575))
    assert v.status == "inconclusive"  # 1.5 ± 0.02 is inside the converted interval
    assert fe.check(log, floor()).status == "memorization"  # but under the unconverted one
    assert "converted through bits per byte" in v.conversion
    assert f"{2.0 / 4.0 / np.log(2):.4g} bits/byte" in v.conversion
    assert v.conversion in v.caveats
    same = fe.check(log, floor(), tokenizer={"name": "gpt2", "hash": "h-gpt2"})
    assert same.conversion is None and same.floor_point == 2.0
    with pytest.raises(ValueError, match="no bytes-per-token figure"):
        fe.check(log, floor(bytes_per_token=None), bytes_per_token=3.0)
    with pytest.raises(ValueError, match="bytes_per_token must be a positive number"):
        fe.check(log, floor(), bytes_per_token=0.0)


def test_negative_loss_is_not_a_cross_entropy():
    with pytest.raises(ValueError, match="step 2 is -0.5: a cross-entropy cannot be negative"):
        fe.check(fe.LossLog(step=[1, 2], loss=[1.0, -0.5]), floor())


def test_eval_gap_and_its_caveat():
    log = fe.LossLog(
        step=[10, 20, 30, 40, 50],
        loss=[2.5, 2.4, np.nan, 2.3, 2.2],
        eval_loss=[np.nan, 2.5, 2.6, np.nan, 2.8],
    )
    v = fe.check(log, floor())
    assert v.eval_step.tolist() == [20, 30, 50]
    # Each eval against the median of the training losses (2.5, 2.4, 2.3, 2.2 at steps 10,
    # 20, 40, 50) within two logged points of the latest at or before it: step 20 -> the
    # first four, 2.35; step 30 -> the same; step 50 -> 2.4, 2.3, 2.2, so 2.3.
    np.testing.assert_allclose(v.eval_gap, [0.15, 0.25, 0.5])
    # The gap grows by 0.35, more than twice the standard error of the two levels
    # (1.2533 * 1.4826 * 0.1 / sqrt(n) for n = 4 and 3: 0.093 and 0.107, so 0.28).
    assert any("from +0.15 (step 20) to +0.5 nats/token (step 50) above" in c for c in v.caveats)


def write_per_sample(tmp_path, kind):
    rows = [
        ("a", 2.5, 100),
        ("b", 1.0, 10),
        ("c", 1.8, 50),
        ("d", float("nan"), 5),
        ("e", 2.05, 40),
    ]
    path = tmp_path / f"per_sample.{kind}"
    if kind == "jsonl":
        text = "".join(json.dumps({"id": i, "loss": v, "tokens": t}) + "\n" for i, v, t in rows)
    else:
        text = "id,loss,n_tokens\n" + "".join(f"{i},{v},{t}\n" for i, v, t in rows)
    path.write_text(text)
    return path


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_per_sample_losses(tmp_path, kind):
    v = fe.check(two_epochs(2.3), floor(), per_sample=write_per_sample(tmp_path, kind))
    ps = v.per_sample
    assert ps.ids == ("a", "b", "c", "e")  # d's NaN loss is dropped
    assert ps.notes == ("dropped 1 non-finite per-example loss(es)",)
    # Under the lower end 1.9: b and c, 2 of 4 examples, 60 of 200 tokens.
    assert ps.share_below_lower == 0.5 and ps.token_share_below_lower == 60 / 200
    assert ps.share_below_point == 0.5  # e (2.05) is above the point 2.0
    assert ps.worst == (("b", -1.0), ("c", pytest.approx(-0.2)))
    counts, edges = ps.histogram
    assert counts.sum() == 4 and edges[0] == 1.0 and edges[-1] == 2.5
    assert "per example: 4 examples, 50.0% under" in str(v)


def test_per_sample_without_a_loss_column(tmp_path):
    path = tmp_path / "ps.csv"
    path.write_text("id,score\n1,0.5\n")
    with pytest.raises(ValueError, match=r"ps\.csv: no loss column"):
        fe.check(two_epochs(2.3), floor(), per_sample=path)


def test_report_and_json(tmp_path):
    log = two_epochs(1.5)
    v = fe.check(log, floor())
    text = str(v)
    assert text.startswith("Training loss vs entropy floor: MEMORIZATION")
    assert "epoch boundaries" in text and "caveats:" in text
    data = json.loads(v.to_json(tmp_path / "v.json"))
    assert json.loads((tmp_path / "v.json").read_text()) == data
    assert data["status"] == "memorization" and data["first_under_lower"] == 210
    assert data["floor"] == {
        "point": 2.0,
        "lower": 1.9,
        "upper": 2.1,
        "conversion": None,
        "tokenizer": GPT2,
    }
    assert data["steps"]["loss"] == log.loss.tolist()
    assert data["boundaries"][0]["lr_before"] is None  # NaN (not logged) becomes null
    assert data["per_sample"] is None


def png_size(path):
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def test_plot_is_a_png_of_the_asked_size(tmp_path, saved_figures):
    from matplotlib.collections import PolyCollection

    log = fe.LossLog(
        step=np.arange(10, 410, 10),
        loss=two_epochs(1.5).loss,
        epoch=np.arange(1, 41) / 20,
        eval_loss=np.where(np.arange(40) % 20 == 19, 2.6, np.nan),
    )
    v = fe.check(log, floor())
    v.plot(tmp_path / "v.png")
    assert png_size(tmp_path / "v.png") == (960, 540)
    v.plot(tmp_path / "small.png", width=400, height=300, dpi=50)
    assert png_size(tmp_path / "small.png") == (400, 300)
    # What is drawn: the curves, the floor, the epoch boundary, the stretch under the floor.
    ax = saved_figures[0].axes[0]
    assert ax.get_title() == "Training loss vs entropy floor: memorization"
    lines = {line.get_label(): line for line in ax.lines}
    np.testing.assert_array_equal(lines["training loss"].get_xdata(), log.step)
    np.testing.assert_array_equal(lines["training loss"].get_ydata(), log.loss)
    np.testing.assert_array_equal(lines["evaluation loss"].get_xdata(), [200, 400])
    np.testing.assert_array_equal(lines["evaluation loss"].get_ydata(), [2.6, 2.6])
    assert set(lines["floor 2 nats/token"].get_ydata()) == {2.0}
    assert set(lines["epoch boundary"].get_xdata()) == {200}  # epoch 1.0 at step 200
    (band,) = [p for p in ax.patches if p.get_label().startswith("floor interval")]
    ys = band.get_patch_transform().transform(band.get_path().vertices)[:, 1]
    assert (ys.min(), ys.max()) == pytest.approx((1.9, 2.1), abs=1e-12)
    (under,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert under.get_label() == "under the floor"
    xs = np.concatenate([p.vertices[:, 0] for p in under.get_paths()])
    a, b = log.loss[19:21]  # steps 200 and 210: the loss crosses the lower end between
    assert xs.min() == pytest.approx(200 + 10 * (a - 1.9) / (a - b)) and xs.max() == 400


def test_plot_without_matplotlib_says_which_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'fastentropy\[plot\]'"):
        fe.check(two_epochs(2.3), floor()).plot(tmp_path / "v.png")


def cli(argv):
    return main(["check", *argv])


def test_cli_end_to_end(tmp_path, capsys):
    rows = [{"step": 10 * (i + 1), "epoch": (i + 1) / 20, "loss": float(v)}
            for i, v in enumerate(two_epochs(1.5).loss)]  # fmt: skip
    (tmp_path / "trainer_state.json").write_text(json.dumps({"log_history": rows}))
    floor().to_json(tmp_path / "floor.json")
    per_sample = write_per_sample(tmp_path, "csv")
    args = [str(tmp_path / "trainer_state.json"), "--floor", str(tmp_path / "floor.json")]
    assert cli(args) == 0
    assert capsys.readouterr().out.startswith("Training loss vs entropy floor: MEMORIZATION")
    png = tmp_path / "out.png"
    assert cli([*args, "--json", "--plot", str(png), "--per-sample", str(per_sample)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "memorization" and data["per_sample"]["examples"] == 4
    assert png_size(png) == (960, 540)
    floor(bytes_per_token=None).to_json(tmp_path / "floor.json")
    capsys.readouterr()
    assert cli([*args, "--tokenizer", "other", "--bytes-per-token", "3"]) == 1
    err = capsys.readouterr().err
    assert "no bytes-per-token figure" in err and len(err.strip().splitlines()) == 1
    assert cli([str(tmp_path / "trainer_state.json")]) == 2  # --floor is required
    assert cli([str(tmp_path / "missing.json"), "--floor", str(tmp_path / "floor.json")]) == 1
    assert "missing.json" in capsys.readouterr().err


@pytest.mark.parametrize(
    "kw, level, reason",
    [({"reliable": False, "order": 4, "n_tokens": 5000}, 2.05, "under-sampled in 5,000 tokens"),
     ({"lower": 1.6, "upper": 2.4}, 1.8, "wider than 25%")],
)  # fmt: skip
def test_inside_the_band_of_an_uncertain_floor_is_inconclusive(kw, level, reason):
    # Never under the lower end, only inside the interval: with a trusted floor this is
    # "approaching", but an uncertain floor cannot say the loss is as low as the data allow.
    f = floor(**{"point": 2.0, "lower": 1.9, "upper": 2.1, **kw})
    log = two_epochs(level)
    assert (log.loss > f.lower).all() and (log.loss[20:] < f.upper).all()
    v = fe.check(log, f)
    assert v.status == "inconclusive"
    assert v.first_under_lower is None and v.points_under_lower == 0
    assert v.headline.startswith("from step 210 (epoch 1.05) the training loss goes into the ")
    assert "too uncertain to call it memorization" in v.headline
    assert any(reason in c for c in v.caveats)


# --- the tiers of a floor with a rate and an h_n part ------------------------------------------


def rate_floor(point=2.0, lower=1.9, upper=2.2, ngram=(2.6, 2.5, 2.7), informative=True):
    """A floor whose rate interval and h_n part are set by hand (nats/token)."""
    methods = [fe.MethodResult("matches", point, lower, upper - 0.05)]
    if not informative:
        methods = [fe.MethodResult("curve", point, 0.0, upper - 0.05)]  # too wide to use
    rate = fe.combine_rates(methods, bound=upper)
    assert rate.informative == informative
    return fe.Floor(
        rate.point,
        rate.lower,
        rate.upper,
        order=3,
        method="grassberger",
        reliable=True,
        ngram_point=ngram[0],
        ngram_lower=ngram[1],
        ngram_upper=ngram[2],
        rate=rate,
    )


def test_under_h_n_but_above_the_rate_is_approaching():
    # Epoch 2 at 2.3: under h_n's lower end (2.5), above the rate's upper end (2.2).
    v = fe.check(two_epochs(2.3), rate_floor())
    assert v.status == "approaching"
    assert "below what n-gram statistics of this data reach (h_3 >= 2.5" in v.headline
    assert "normal for a model that uses longer contexts" in v.headline
    # The same loss against a floor without an h_n part (given by hand) is above it.
    assert fe.check(two_epochs(2.3), floor(point=2.0, lower=1.9, upper=2.2)).status == "above"


def test_rate_floor_tiers_by_where_the_loss_sits():
    assert fe.check(two_epochs(2.75, first=3.0), rate_floor()).status == "above"
    assert fe.check(two_epochs(2.05), rate_floor()).status == "inconclusive"
    v = fe.check(two_epochs(1.5), rate_floor())
    assert v.status == "memorization"
    assert "20 of the 20 logged points from step 210 to step 400 are under" in v.headline
    # An uninformative rate (lower end 0) cannot call anything memorization.
    v = fe.check(two_epochs(1.5), rate_floor(informative=False))
    assert v.status == "inconclusive" and "too uncertain" in v.headline


def test_under_the_floor_in_the_first_epoch_says_the_floor_is_wrong():
    # The loss is at 1.5 from the start: no example can have been seen twice.
    log = fe.LossLog(step=10 * np.arange(1, 21), loss=np.full(20, 1.5), epoch=np.arange(1, 21) / 20)
    v = fe.check(log, rate_floor())
    assert v.status == "inconclusive"
    assert "in the first epoch, before any example can have been seen twice" in v.headline
    assert "the floor is too high for this data" in v.headline
    # Lightning's 0-based epochs: epoch 0 is the first, epoch 1 the second.
    step = np.arange(1, 41)
    lightning = fe.LossLog(step=step, loss=np.where(step <= 20, 2.5, 1.5), epoch=(step > 20) * 1.0)
    assert fe.check(lightning, rate_floor()).status == "memorization"


def test_evaluation_loss_under_the_floor_says_the_floor_is_wrong():
    base = two_epochs(1.5)
    eval_loss = np.full(base.step.size, np.nan)
    eval_loss[-1] = 1.6  # held-out text, under the floor's lower end (1.9)
    log = fe.LossLog(step=base.step, loss=base.loss, epoch=base.epoch, eval_loss=eval_loss)
    v = fe.check(log, rate_floor())
    assert v.status == "inconclusive"
    assert "so does the evaluation loss" in v.headline
    eval_loss = eval_loss.copy()  # the log holds the first array, read-only
    eval_loss[-1] = 2.4  # above it: the drop is memorization
    log = fe.LossLog(step=base.step, loss=base.loss, epoch=base.epoch, eval_loss=eval_loss)
    assert fe.check(log, rate_floor()).status == "memorization"


def test_hidden_markov_logs_at_and_under_the_rate():
    # Issue 19: a run at the true rate + 0.05 is not memorization; one that drops to the
    # rate - 0.3 at epoch 2 is. The floor is estimated from the source's own tokens.
    src = fe.HiddenMarkovSource(16, 256, seed=1)
    truth = src.entropy_rate(tokens=400_000, seed=3).value
    floor = fe.estimate_floor(src.sample(1_000_000, seed=5))
    assert floor.lower <= truth <= floor.upper
    honest = fe.check(two_epochs(truth + 0.05, seed=1, first=truth + 0.5), floor)
    assert honest.status != "memorization", honest.headline
    dropped = fe.check(two_epochs(truth - 0.3, seed=2, first=truth + 0.5), floor)
    assert dropped.status == "memorization", (floor.lower, truth, dropped.headline)


def test_plot_returns_the_figure_and_draws_into_given_axes(tmp_path):
    from matplotlib.figure import Figure

    v = fe.check(two_epochs(1.5), floor())
    fig = v.plot()  # no file: the figure, for a notebook to show
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    assert fig.axes[0].get_title() == "Training loss vs entropy floor: memorization"
    mine = Figure()
    left, right = mine.subplots(1, 2)
    assert v.plot(ax=right, path=tmp_path / "two.png") is mine
    assert not left.lines and {line.get_label() for line in right.lines} >= {"training loss"}
    assert png_size(tmp_path / "two.png") == tuple(mine.canvas.get_width_height())


def test_importing_the_package_leaves_matplotlib_alone():
    import subprocess

    code = (
        "import sys, fastentropy as fe\n"
        "v = fe.check(fe.LossLog(step=[1, 2, 3], loss=[3.0, 2.9, 2.8]), "
        "fe.Floor.from_summary(2.0, 1.9, 2.1))\n"
        "assert 'matplotlib' not in sys.modules, 'imported at import time'\n"
        "import matplotlib\n"
        "before = matplotlib.get_backend()\n"
        "v.plot()\n"
        "assert matplotlib.get_backend() == before\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_repr_html_and_frame():
    v = fe.check(fe.LossLog(step=[10, 20, 30], loss=[3.0, 2.7, 1.95], epoch=[1, 2, 3]), floor())
    assert repr(v) == (
        "Verdict(above: lowest 1.95 nats/token at step 30, floor 2 [1.9, 2.1] nats/token, 3 losses)"
    )
    html = v._repr_html_()
    assert html.startswith("<p><b>above</b>: the training loss is above the entropy floor")
    assert "<th style='text-align:left'>floor</th>" in html and "1.9-2.1" in html
    pd = pytest.importorskip("pandas")
    frame = v.to_frame()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["step", "epoch", "loss", "margin", "under_lower"]
    assert frame["step"].tolist() == [10, 20, 30]
    np.testing.assert_allclose(frame["margin"], [1.0, 0.7, -0.05])
    assert frame["under_lower"].tolist() == [False, False, False]


def test_to_frame_without_pandas_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    v = fe.check(fe.LossLog(step=[1, 2], loss=[3.0, 2.9]), floor())
    with pytest.raises(ImportError, match="pandas"):
        v.to_frame()
