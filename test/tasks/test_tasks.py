"""speechsent.tasks: the tasks trained from Python with a config dataclass (no command line), the configs'
defaults against the entry points' parsers, usage errors, and the light imports."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from speechsent import cli
from speechsent.bin import train_e2e, train_text_classifier
from speechsent.tasks.abs_task import ConfigError
from speechsent.tasks.e2e import E2EConfig, E2ETask
from speechsent.tasks.manifests import E2EModelManifest, SystemManifest, TextModelManifest
from speechsent.tasks.text import TextConfig, TextTask

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _one_thread():
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize(
    ("task", "parser"), [(E2ETask, train_e2e.get_parser), (TextTask, train_text_classifier.get_parser)]
)
def test_config_defaults_are_the_entry_points(task, parser):
    """Every option is a config field with the option's default (a YAML --config has the same keys)."""
    config = task.config_from_namespace(cli.parse_args(parser(), []))
    assert config == task.config_class()


def test_e2e_task_from_python(feats_corpus, tmp_path):
    (train_scp, train_labels), (valid_scp, valid_labels) = feats_corpus["train"], feats_corpus["valid"]
    test_scp, test_labels = feats_corpus["test"]
    config = E2EConfig(
        train_feats=[str(train_scp)],
        train_labels=[str(train_labels)],
        valid_feats=str(valid_scp),
        valid_labels=str(valid_labels),
        score_sets=[f"test:{test_scp}:{test_labels}"],
        fc_dim=8,
        lstm_dim=4,
        batch_size=8,
        lr=0.01,
        max_epochs=2,
        patience=0,
        progress=False,
        exp_dir=str(tmp_path / "e2e"),
    )
    result = E2ETask.run(config)
    exp = tmp_path / "e2e"
    assert not result.skipped and set(result.scores) == {"test"} and 1 <= result.best_epoch <= 2
    assert json.loads((exp / "score_test" / "scores.json").read_text()) == result.scores["test"]
    system = SystemManifest.read(exp)
    assert (system.family, system.architecture, system.input) == ("e2e", "blstm", "encoder")
    assert system.format_version == 1 and system.config["lstm_dim"] == 4 and system.num_train_utts == 48
    assert E2EModelManifest.read(exp / "model.json").config["fc_dim"] == 8
    assert E2ETask.run(dataclasses.replace(config)).skipped  # .done matches: nothing to do


def test_text_task_from_python(text_corpus, tmp_path):
    config = TextConfig(
        train_dir=str(text_corpus["train"]),
        valid_dir=str(text_corpus["test"]),
        score_dirs=f"{text_corpus['test']} {tmp_path / 'absent'}",
        nbpe=30,
        embed_dim=8,
        hidden=8,
        max_epochs=2,
        patience=0,
        lr=0.01,
        batch_size=8,
        progress=False,
        exp_dir=str(tmp_path / "text"),
    )
    result = TextTask.run(config)
    assert not result.skipped and set(result.scores) == {"test"}
    system = SystemManifest.read(tmp_path / "text")
    assert (system.family, system.architecture, system.input, system.train_set) == (
        "two_step",
        "baseline",
        "gt",
        "train",
    )
    model = TextModelManifest.read(tmp_path / "text" / "model.json")
    assert model.tokenizer["kind"] == "sentencepiece" and model.classifier["num_layers"] == 2


def test_usage_errors_are_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="--train_feats is required"):
        E2ETask.run(E2EConfig(exp_dir=str(tmp_path)))
    with pytest.raises(ConfigError, match="must pair"):
        E2ETask.run(E2EConfig(exp_dir=str(tmp_path), train_feats="a b", train_labels=["c"]))
    with pytest.raises(ConfigError, match="--amp needs"):
        E2ETask.run(E2EConfig(exp_dir="x", train_feats=["a"], train_labels=["b"], amp="fp16"))
    with pytest.raises(ConfigError, match="--valid_dir is required"):
        TextTask.run(TextConfig(train_dir="a", exp_dir="x"))
    with pytest.raises(ConfigError, match="--train_hours describes"):
        TextTask.run(TextConfig(train_dir="a", valid_dir="b", exp_dir="x", train_hours=5))


def test_task_modules_are_light():
    code = (
        "import sys, speechsent.tasks.e2e, speechsent.tasks.text, speechsent.tasks.manifests; "
        "print('torch' in sys.modules)"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "False"
