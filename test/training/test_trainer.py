"""Trainer: files, best model, exact resume after an interruption, early stopping, schedulers, AMP on CPU."""

from __future__ import annotations

import json
import logging
import math

import numpy as np
import pytest
import torch
from training_helpers import LABELS, Dropping, TinyModel, ToyData, dropping_loader, loader

from speechsent.training import FitResult, Trainer, TrainerConfig, set_seed


def _trainer(tmp_path, name="exp", model_seed=0, **config) -> Trainer:
    set_seed(model_seed)
    config.setdefault("progress", False)
    return Trainer(TinyModel(), TrainerConfig(**config), tmp_path / name, LABELS, device="cpu")


def _metrics(exp_dir) -> list[dict]:
    return [json.loads(line) for line in (exp_dir / "metrics.jsonl").read_text().splitlines()]


def test_fit_writes_files_and_predicts(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="speechsent")
    train, valid = ToyData(48, 1), ToyData(20, 2, prefix="dev")
    trainer = _trainer(tmp_path, max_epochs=3, keep_checkpoints=True, lr=1e-2)
    result = trainer.fit(loader(train), loader(valid, shuffle=False))
    assert isinstance(result, FitResult)
    assert result.epochs_run == 3 and 1 <= result.best_epoch <= 3
    exp = tmp_path / "exp"
    for name in ("checkpoint.pth", "best.pth", "metrics.jsonl", "train.log", "epoch1.pth", "epoch3.pth"):
        assert (exp / name).exists(), name
    records = _metrics(exp)
    assert [r["epoch"] for r in records] == [1, 2, 3] and records == result.history
    for key in ("train_loss", "valid_loss", "unweighted_f1", "weighted_recall", "lr", "seconds", "confusion"):
        assert key in records[0]
    assert records[0]["num_utts"] == 20
    assert result.best_metric == max(r["unweighted_f1"] for r in records)
    assert records[-1]["train_loss"] < records[0]["train_loss"]
    assert "epoch 3/3: train_loss" in (exp / "train.log").read_text()

    trainer.load_best()
    best = torch.load(exp / f"epoch{result.best_epoch}.pth")
    for k, v in trainer.model.state_dict().items():
        assert torch.equal(v, best[k])
    ids, probs = trainer.predict(loader(valid, shuffle=False))
    assert sorted(ids) == sorted(valid.ids) and probs.shape == (20, 3)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    # prediction order: the loader's (length-sorted), deterministic
    assert ids == trainer.predict(loader(valid, shuffle=False))[0]
    assert [valid.lengths[valid.ids.index(u)] for u in ids] == sorted(valid.lengths)
    # the best epoch's validation scores are reproduced by predict + argmax
    hyp = probs.argmax(1)
    ref = [valid.targets[valid.ids.index(u)] for u in ids]
    acc = 100 * float(np.mean(hyp == np.array(ref)))
    assert acc == pytest.approx(records[result.best_epoch - 1]["weighted_recall"])


class InterruptError(Exception):
    pass


class InterruptAt:
    """A loader that raises when epoch ``at`` starts (a run killed between epochs)."""

    def __init__(self, inner, at: int):
        self.inner, self.at = inner, at

    def set_epoch(self, epoch: int) -> None:
        if epoch == self.at:
            raise InterruptError
        self.inner.batch_sampler.set_epoch(epoch)

    def __iter__(self):
        return iter(self.inner)

    def __len__(self):
        return len(self.inner)


@pytest.mark.parametrize("scheduler", ["cosine", "plateau"])
def test_resume_continues_identically(tmp_path, scheduler):
    train, valid = ToyData(40, 1), ToyData(16, 2, prefix="dev")
    cfg = dict(max_epochs=4, lr=1e-2, scheduler=scheduler, warmup_steps=3, accum_grad=2, patience=0)
    straight = _trainer(tmp_path, "straight", **cfg)
    straight.fit(loader(train), loader(valid, shuffle=False))

    first = _trainer(tmp_path, "resumed", **cfg)
    with pytest.raises(InterruptError):
        first.fit(InterruptAt(loader(train), at=3), loader(valid, shuffle=False))
    assert len(_metrics(tmp_path / "resumed")) == 2
    torch.manual_seed(123)  # the process state after a restart differs: resume must restore it
    second = _trainer(tmp_path, "resumed", model_seed=99, **cfg)
    result = second.fit(loader(train), loader(valid, shuffle=False))
    assert result.epochs_run == 4

    a, b = _metrics(tmp_path / "straight"), _metrics(tmp_path / "resumed")
    drop = ("seconds",)
    assert [{k: v for k, v in r.items() if k not in drop} for r in a] == [
        {k: v for k, v in r.items() if k not in drop} for r in b
    ]
    for k, v in straight.model.state_dict().items():
        assert torch.equal(v, second.model.state_dict()[k]), k
    assert torch.equal(
        torch.load(tmp_path / "straight" / "best.pth")["net.0.weight"],
        torch.load(tmp_path / "resumed" / "best.pth")["net.0.weight"],
    )
    # a finished run resumes to nothing
    again = _trainer(tmp_path, "resumed", **cfg)
    assert again.fit(loader(train), loader(valid, shuffle=False)).history == result.history


def test_early_stopping_and_select_loss(tmp_path):
    train, valid = ToyData(24, 1), ToyData(12, 2, prefix="dev")
    # a learning rate so small that nothing improves after the first epoch
    trainer = _trainer(tmp_path, max_epochs=10, patience=2, lr=1e-12, scheduler="none")
    result = trainer.fit(loader(train), loader(valid, shuffle=False))
    assert result.epochs_run == 3 and result.best_epoch == 1
    assert [r["best"] for r in result.history] == [True, False, False]
    trainer2 = _trainer(tmp_path, "loss", max_epochs=3, select_metric="loss", lr=1e-2, scheduler="none")
    result2 = trainer2.fit(loader(train), loader(valid, shuffle=False))
    assert result2.best_metric == min(r["valid_loss"] for r in result2.history)


def test_schedulers(tmp_path):
    train, valid = ToyData(16, 1), ToyData(8, 2, prefix="dev")  # 4 batches of 4 per epoch
    t = _trainer(
        tmp_path,
        "lin",
        max_epochs=2,
        scheduler="warmup_linear",
        warmup_steps=2,
        lr=1.0,
        optimizer="sgd",
        grad_clip=0,
    )
    t.fit(loader(train, num_buckets=1), loader(valid, shuffle=False))
    # 8 steps: warm-up 0.5, 1.0, then linear decay over the remaining 6 steps
    assert [r["lr"] for r in t.history] == pytest.approx([0.5, 1 - 2 / 6])
    assert t.optimizer.param_groups[0]["lr"] == pytest.approx(0.0)
    c = _trainer(tmp_path, "cos", max_epochs=2, scheduler="cosine", lr=1.0, optimizer="sgd")
    c.fit(loader(train, num_buckets=1), loader(valid, shuffle=False))
    assert c.history[1]["lr"] == pytest.approx(0.5 * (1 + math.cos(math.pi * 4 / 8)))
    p = _trainer(
        tmp_path,
        "plateau",
        max_epochs=4,
        scheduler="plateau",
        lr=1e-12,
        plateau_patience=0,
        plateau_factor=0.5,
        patience=0,
    )
    p.fit(loader(train, num_buckets=1), loader(valid, shuffle=False))
    assert [r["lr"] for r in p.history] == pytest.approx([1e-12, 1e-12, 5e-13, 2.5e-13])


def test_amp_ignored_on_cpu_and_nonfinite_steps_skipped(tmp_path, caplog):
    train, valid = ToyData(16, 1), ToyData(8, 2, prefix="dev")
    with caplog.at_level(logging.WARNING):
        t = _trainer(tmp_path, "amp", max_epochs=1, amp="fp16")
    assert sum("amp=fp16 ignored" in r.message for r in caplog.records) == 1
    t.fit(loader(train), loader(valid, shuffle=False))

    calls = []

    def flaky_loss(logits, targets):
        calls.append(1)
        loss = torch.nn.functional.cross_entropy(logits, targets)
        return loss * math.nan if len(calls) == 2 else loss

    set_seed(0)
    t = Trainer(
        TinyModel(),
        TrainerConfig(max_epochs=1, progress=False),
        tmp_path / "nan",
        LABELS,
        loss_fn=flaky_loss,
        device="cpu",
    )
    result = t.fit(loader(train), loader(valid, shuffle=False))
    assert result.history[0]["skipped_steps"] == 1
    assert all(torch.isfinite(p).all() for p in t.model.parameters())


def test_config_validation():
    with pytest.raises(ValueError, match="select_metric"):
        TrainerConfig(select_metric="accuracy")
    with pytest.raises(ValueError, match="scheduler"):
        TrainerConfig(scheduler="step")
    assert TrainerConfig(amp="none").amp is None


class Unsized:
    """An iterable without len() (e.g. a streaming loader)."""

    def __init__(self, inner):
        self.inner = inner

    def __iter__(self):
        return iter(self.inner)


def test_unsized_loader_with_accumulation(tmp_path):
    train, valid = ToyData(20, 1), ToyData(8, 2, prefix="dev")
    t = _trainer(tmp_path, max_epochs=1, accum_grad=3, scheduler="none")
    result = t.fit(Unsized(loader(train, num_buckets=1)), Unsized(loader(valid, shuffle=False)))
    assert t.global_step == 2  # 5 batches: a group of 3 and the last group of 2
    assert result.history[0]["num_utts"] == 8
    with pytest.raises(ValueError, match="len"):
        _trainer(tmp_path, "cos", scheduler="cosine").fit(Unsized(loader(train)), loader(valid))


def test_dropped_utterances_never_reach_the_model_and_are_counted(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="speechsent")
    toy = ToyData(24, 1)
    # a whole batch of 4 dropped (the 4 shortest: one bucket), and 2 more elsewhere
    by_length = sorted(toy.ids, key=lambda u: toy.lengths[toy.ids.index(u)])
    bad_train = set(by_length[:4]) | {by_length[10], by_length[20]}
    train = Dropping(toy, bad_train)
    valid = Dropping(ToyData(10, 2, prefix="dev"), {"dev0003"})
    trainer = _trainer(tmp_path, max_epochs=2, lr=1e-2)
    result = trainer.fit(dropping_loader(train), dropping_loader(valid, shuffle=False))
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    records = _metrics(tmp_path / "exp")
    assert all("skipped_steps" not in r and math.isfinite(r["train_loss"]) for r in records)
    assert [r["dropped_train_utts"] for r in records] == [6, 6]
    assert [r["dropped_valid_utts"] for r in records] == [1, 1] and records[0]["num_utts"] == 9
    assert set(result.dropped_train) == bad_train and result.dropped_valid == {"dev0003": "NaN"}
    assert {u for d in train.noted for u in d} == bad_train  # the dataset was told
    assert "epoch 2: 6 training utterance(s) left out by the loader" in caplog.text
    # an all-dropped batch makes no optimizer step: 24 - 6 usable in 5 batches of 4 (one all-dropped)
    assert trainer.global_step == 2 * 5
    ids, probs = trainer.predict(dropping_loader(valid, shuffle=False))
    assert sorted(ids) == sorted(u for u in valid.ids if u != "dev0003") and np.isfinite(probs).all()
    # what was dropped is in the checkpoint: a resumed, finished run still reports it
    again = _trainer(tmp_path, max_epochs=2, lr=1e-2)
    resumed = again.fit(dropping_loader(train), dropping_loader(valid, shuffle=False))
    assert resumed.dropped_train == result.dropped_train and resumed.dropped_valid == result.dropped_valid
