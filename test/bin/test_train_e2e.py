"""speechsent.bin.train_e2e end to end on tiny learnable features: training, scoring, system.json, pseudo
pre-training → fine-tuning, idempotent reruns, exact resume after an interruption, DDP with 2 processes."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import torch

from speechsent.bin import train_e2e
from speechsent.data.labels import SENTIMENT_LABELS
from speechsent.kaldi.table import write_table
from speechsent.models import build_model
from speechsent.tasks.e2e_args import as_list
from speechsent.tasks.e2e_parts import init_model
from speechsent.tasks.manifests import E2EModelManifest
from speechsent.training import Trainer

REPO = Path(__file__).resolve().parents[2]
DIM = 8


def _make_set(
    root: Path, name: str, num_sides: int, per_side: int, seed: int, drop: int = 0
) -> tuple[Path, Path]:
    """``dump/<name>/feats.scp`` + ``data/<name>/utt2sentiment``/``utt2pseudo``/``utt2dur``: class c adds
    +1.5 to feature dims c (and the label also shows in the mean of dim 3..5): separable with some noise."""
    rng = np.random.default_rng(seed)
    dump = root / "dump" / name
    data = root / "data" / name
    dump.mkdir(parents=True)
    data.mkdir(parents=True)
    labels, pseudo, durs = {}, {}, {}
    with kaldiio.WriteHelper(f"ark,scp:{dump / 'feats.ark'},{dump / 'feats.scp'}") as writer:
        for side in range(num_sides):
            for i in range(per_side):
                utt = f"sw0{2000 + 100 * seed + side}-A_{i * 100:06d}-{i * 100 + 90:06d}"  # unique per set
                c = int(rng.integers(3))
                n = int(rng.integers(3, 12))
                x = rng.normal(0.0, 1.0, (n, DIM)).astype(np.float32)
                x[:, c] += 1.5
                x[:, 3 + c] += 1.0
                labels[utt] = SENTIMENT_LABELS[c]
                pseudo[utt] = "Positive" if c == 2 else "Negative"
                durs[utt] = 0.9
                if drop and side == 0 and i < drop:
                    continue  # labelled, but no features (e.g. too short for the encoder)
                writer(utt, x)
    write_table(data / "utt2sentiment", labels)
    write_table(data / "utt2pseudo", pseudo)
    write_table(data / "utt2dur", durs)
    return dump / "feats.scp", data


@pytest.fixture(autouse=True)
def _info_logs(caplog):
    caplog.set_level(logging.INFO)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    sets = {
        "swbd_train": _make_set(root, "swbd_train", 8, 12, 0),
        "swbd_test": _make_set(root, "swbd_test", 3, 10, 1),
        "swbd_holdout": _make_set(root, "swbd_holdout", 3, 10, 2, drop=2),
        "fisher": _make_set(root, "fisher", 6, 12, 3),
    }
    return root, sets


def _argv(root: Path, sets: dict, exp: str, *extra: str) -> list[str]:
    train_scp, train_dir = sets["swbd_train"]
    test_scp, test_dir = sets["swbd_test"]
    hold_scp, hold_dir = sets["swbd_holdout"]
    return [
        "--train_feats", str(train_scp), "--train_labels", str(train_dir / "utt2sentiment"),
        "--valid_feats", str(test_scp), "--valid_labels", str(test_dir / "utt2sentiment"),
        "--score_sets", f"swbd_test:{test_scp}:{test_dir / 'utt2sentiment'}",
        "--score_sets", f"swbd_holdout:{hold_scp}:{hold_dir / 'utt2sentiment'}",
        "--fc_dim", "16", "--lstm_dim", "8", "--batch_size", "8", "--lr", "0.01", "--max_epochs", "4",
        "--patience", "0", "--dropout", "0.1", "--progress", "false", "--num_threads", "1",
        "--exp_dir", str(root / "exp" / exp),
        *extra,
    ]  # fmt: skip


def test_supervised_learns_scores_and_is_idempotent(corpus, caplog):
    root, sets = corpus
    argv = _argv(root, sets, "e2e_blstm")
    assert train_e2e.main(argv) == 0
    exp = root / "exp" / "e2e_blstm"
    for name in ("best.pth", "checkpoint.pth", "metrics.jsonl", "model.json", "system.json", ".done"):
        assert (exp / name).is_file(), name
    scores = json.loads((exp / "score_swbd_test" / "scores.json").read_text())
    assert scores["unweighted_f1"] > 85 and scores["num_utts"] == 30  # a separable task: it learned
    holdout = json.loads((exp / "score_swbd_holdout" / "scores.json").read_text())
    assert holdout["num_utts"] == 30  # the 2 utterances without features predicted from the prior
    assert "2 of 30 utterances have no features" in caplog.text and "sw02200-A_000000-000090" in caplog.text
    probs = (exp / "score_swbd_holdout" / "utt2prob").read_text().splitlines()
    assert len(probs) == 30 and all(len(line.split()) == 4 for line in probs)
    system = json.loads((exp / "system.json").read_text())
    assert system["family"] == "e2e" and system["architecture"] == "blstm" and system["input"] == "encoder"
    assert system["train_set"] == "swbd_train" and system["train_hours"] is None
    assert system["pseudo_labeler"] is None and system["select_set"] == "swbd_test"
    assert 1 <= system["best_epoch"] <= 4 and system["seed"] == 0
    # a rerun does nothing; a new score set only re-scores
    mtime = (exp / "best.pth").stat().st_mtime_ns
    caplog.clear()
    assert train_e2e.main(argv) == 0
    assert "up to date" in caplog.text and (exp / "best.pth").stat().st_mtime_ns == mtime
    train_scp, train_dir = sets["swbd_train"]
    caplog.clear()
    assert train_e2e.main([*argv, "--score_sets", f"{train_scp}:{train_dir / 'utt2sentiment'}"]) == 0
    assert (exp / "score_swbd_train" / "scores.json").is_file()
    assert (exp / "best.pth").stat().st_mtime_ns == mtime and "training already finished" in caplog.text


def test_cnn_subset_and_class_weights(corpus, tmp_path):
    root, sets = corpus
    (tmp_path / "utt2spk").write_text(
        "".join(
            f"{u} x\n"
            for u in sorted((sets["swbd_train"][1] / "utt2sentiment").read_text().split()[::2])[:40]
        )
    )
    argv = _argv(root, sets, "e2e_cnn_sub", "--model", "cnn", "--cnn_channels", "8 8", "--cnn_kernels", "3 3")
    argv += [
        "--cnn_strides",
        "1 2",
        "--class_weights",
        "balanced",
        "--train_utt_list",
        str(tmp_path / "utt2spk"),
        "--cnn_input_norm",
        "none",  # the toy classes differ by a constant offset: per-utterance CMVN would remove it
        "--max_epochs",
        "8",
    ]
    assert train_e2e.main(argv) == 0
    exp = root / "exp" / "e2e_cnn_sub"
    system = json.loads((exp / "system.json").read_text())
    assert system["architecture"] == "cnn" and system["num_train_utts"] == 40
    assert system["train_hours"] == pytest.approx(40 * 0.9 / 3600, abs=0.01)
    assert json.loads((exp / "model.json").read_text())["config"]["channels"] == [8, 8]
    assert json.loads((exp / "score_swbd_test" / "scores.json").read_text())["unweighted_f1"] > 60


def test_pseudo_pretraining_then_finetuning(corpus):
    root, sets = corpus
    (train_scp, train_dir), (fisher_scp, fisher_dir) = sets["swbd_train"], sets["fisher"]
    pre = root / "exp" / "e2e_pretrain"
    argv = [
        "--task", "pseudo", "--train_feats", str(train_scp), "--train_labels", str(train_dir / "utt2pseudo"),
        "--train_feats", str(fisher_scp), "--train_labels", str(fisher_dir / "utt2pseudo"),
        "--valid_fraction", "0.2", "--system_pseudo_labeler", "pseudo_labeler_bert_sst2",
        "--fc_dim", "16", "--lstm_dim", "8", "--batch_size", "8", "--max_epochs", "2", "--progress", "false",
        "--num_threads", "1",
        "--exp_dir", str(pre),
    ]  # fmt: skip
    assert train_e2e.main(argv) == 0
    assert not (pre / "system.json").exists()  # not a sentiment system: the report must not list it
    pretrain = json.loads((pre / "pretrain.json").read_text())
    assert pretrain["pseudo_sets"] == ["swbd_train", "fisher"] and pretrain["pseudo_transcript"] == "gt"
    assert pretrain["select_set"] == "heldout_0.2_of_train"
    history = [json.loads(line) for line in (pre / "metrics.jsonl").read_text().splitlines()]
    assert history[0]["num_utts"] < 0.4 * (8 * 12 + 6 * 12)  # the held-out share only
    # fine-tuning: pre-trained body, new 3-class head
    ft = _argv(root, sets, "e2e_ft", "--init_from", str(pre / "best.pth"), "--max_epochs", "2")
    assert train_e2e.main(ft) == 0
    system = json.loads((root / "exp" / "e2e_ft" / "system.json").read_text())
    assert system["pseudo_labeler"] == "pseudo_labeler_bert_sst2" and system["pseudo_sets"] == [
        "swbd_train",
        "fisher",
    ]
    assert system["init_from"] == str(pre / "best.pth")
    # the body is what pre-training learned, the head is new
    model_json = E2EModelManifest.read(root / "exp" / "e2e_ft" / "model.json")
    model = build_model("blstm", **model_json.config)
    init_model(model, pre / "best.pth", True, model_json)
    pre_state = torch.load(pre / "best.pth", weights_only=True)
    assert all(
        torch.equal(v, pre_state[k]) for k, v in model.state_dict().items() if not k.startswith("head.")
    )
    assert model.state_dict()["head.weight"].shape[0] == 3 and pre_state["head.weight"].shape[0] == 2
    # without --reset_head the 2-class head does not fit; another architecture is refused
    with pytest.raises(ValueError, match="does not fit"):
        init_model(build_model("blstm", **model_json.config), pre / "best.pth", False, model_json)
    other = E2EModelManifest("blstm", {**model_json.config, "lstm_dim": 4})
    with pytest.raises(ValueError, match="differs from this one"):
        init_model(build_model("blstm", **other.config), pre / "best.pth", True, other)
    # --body_lr 0: only the new output layer trains, the pre-trained body is kept exactly
    frozen = _argv(root, sets, "e2e_ft_frozen", "--init_from", str(pre / "best.pth"), "--body_lr", "0")
    assert train_e2e.main(frozen) == 0
    state = torch.load(root / "exp" / "e2e_ft_frozen" / "best.pth", weights_only=True)
    body = [k for k in state if not k.startswith("head.")]
    assert body and all(torch.equal(state[k], pre_state[k]) for k in body)
    ft_state = torch.load(root / "exp" / "e2e_ft" / "best.pth", weights_only=True)
    assert not all(torch.equal(ft_state[k], pre_state[k]) for k in body)  # default: the body trains too
    assert not torch.equal(state["head.weight"], model.state_dict()["head.weight"])  # the head did train


# ---------------------------------------------------------------- pseudo labels: the labeler's, fingerprinted


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _label_set(root: Path, labeler: str, set_dir: Path, flip: bool = False) -> Path:
    """Stage 7's output as the contract says: ``data/<set>/utt2pseudo_<labeler>`` and the labeler's record
    ``exp/pseudo_labeler_<labeler>/label/<set>/done.json`` (``labels_file``, ``labels_sha256``)."""
    labels = root / "data" / set_dir.name / f"utt2pseudo_{labeler}"
    labels.parent.mkdir(parents=True, exist_ok=True)
    lines = (set_dir / "utt2pseudo").read_text().splitlines()
    if flip:  # another labeler: every other label the other way
        swap = {"Positive": "Negative", "Negative": "Positive"}
        lines = [f"{u} {swap[lab] if i % 2 else lab}" for i, (u, lab) in enumerate(x.split() for x in lines)]
    labels.write_text("".join(f"{line}\n" for line in lines))
    _write_record(root, labeler, labels)
    return labels


def _write_record(root: Path, labeler: str, labels: Path) -> Path:
    record = root / "exp" / f"pseudo_labeler_{labeler}" / "label" / labels.parent.name / "done.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"labels_file": labels.name, "labels_sha256": _sha256(labels)}))
    return record


def _fingerprint(*labels: Path) -> str:
    """The fingerprint as pretrain.json's docs spell it (independent of the implementation)."""
    lines = sorted(f"{p.parent.name}/{p.name} {_sha256(p)}\n" for p in labels)
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _pretrain_argv(sets: dict, labels: list[Path], exp: Path, *extra: str) -> list[str]:
    feats = [sets["swbd_train"][0], sets["fisher"][0]]
    argv = ["--task", "pseudo"]
    for scp, lab in zip(feats, labels, strict=True):
        argv += ["--train_feats", str(scp), "--train_labels", str(lab)]
    return [
        *argv, "--valid_fraction", "0.2", "--fc_dim", "16", "--lstm_dim", "8", "--batch_size", "8",
        "--max_epochs", "1", "--progress", "false", "--num_threads", "1", "--exp_dir", str(exp), *extra,
    ]  # fmt: skip


def test_pseudo_labels_must_be_the_labelers(corpus, tmp_path, caplog):
    _, sets = corpus
    root = tmp_path
    bert = [_label_set(root, "bert_sst2", sets[name][1]) for name in ("swbd_train", "fisher")]
    xlnet = [_label_set(root, "xlnet_sst2", sets[name][1], flip=True) for name in ("swbd_train", "fisher")]
    bert_dir, xlnet_dir = (root / "exp" / f"pseudo_labeler_{name}" for name in ("bert_sst2", "xlnet_sst2"))
    pre = root / "exp" / "e2e_pretrain_bert"
    # (b) another labeler's labels: its record names another file
    assert train_e2e.main(_pretrain_argv(sets, bert, pre, "--pseudo_labeler_dir", str(xlnet_dir))) == 1
    record = xlnet_dir / "label" / "swbd_train" / "done.json"
    assert f"--train_labels {bert[0]}: {record} names labels_file 'utt2pseudo_xlnet_sst2', not" in caplog.text
    assert f"--pseudo_labeler_dir {xlnet_dir}" in caplog.text and "./run.sh --stage 7" in caplog.text
    assert not pre.exists()  # refused before anything was done
    # (b) the labeler's record of a set is missing
    (bert_dir / "label" / "fisher" / "done.json").unlink()
    caplog.clear()
    assert train_e2e.main(_pretrain_argv(sets, bert, pre, "--pseudo_labeler_dir", str(bert_dir))) == 1
    assert f"--train_labels {bert[1]}: no record {bert_dir / 'label' / 'fisher' / 'done.json'}" in caplog.text
    assert str(bert[0]) + ":" not in caplog.text  # the set with its record is fine
    # accepted when the records match; the labels' digests and fingerprint recorded
    _write_record(root, "bert_sst2", bert[1])
    argv = _pretrain_argv(sets, bert, pre, "--pseudo_labeler_dir", str(bert_dir))
    assert train_e2e.main(argv) == 0
    pretrain = json.loads((pre / "pretrain.json").read_text())
    assert pretrain["pseudo_labeler"] == "bert_sst2"  # the labeler dir's name without pseudo_labeler_
    assert pretrain["pseudo_labels"] == {str(p): _sha256(p) for p in bert}
    assert pretrain["pseudo_fingerprint"] == _fingerprint(*bert) != _fingerprint(*xlnet)
    # (a) a labels file edited after stage 7: refused, even though the run is otherwise up to date
    with bert[0].open("a") as f:
        f.write("sw09999-A_000000-000090 Positive\n")
    caplog.clear()
    assert train_e2e.main(argv) == 1
    assert f"--train_labels {bert[0]}: the file's SHA-256 is {_sha256(bert[0])}" in caplog.text
    assert "changed since the labeler wrote it" in caplog.text
    # without the check the pre-training retrains on changed labels (their SHA-256 is in the stamp)
    caplog.clear()
    assert train_e2e.main(_pretrain_argv(sets, bert, pre)) == 0
    assert "training restarts" in caplog.text
    assert json.loads((pre / "pretrain.json").read_text())["pseudo_fingerprint"] == _fingerprint(*bert)


def test_finetuning_inherits_and_checks_the_fingerprint(corpus, tmp_path, caplog):
    root, sets = corpus
    labels = [_label_set(tmp_path, "bert_sst2", sets[name][1]) for name in ("swbd_train", "fisher")]
    labeler = tmp_path / "exp" / "pseudo_labeler_bert_sst2"
    pre = tmp_path / "exp" / "e2e_pretrain"
    assert train_e2e.main(_pretrain_argv(sets, labels, pre, "--pseudo_labeler_dir", str(labeler))) == 0
    first = _fingerprint(*labels)
    ft_exp = f"e2e_ft_{tmp_path.name}"
    ft = _argv(root, sets, ft_exp, "--init_from", str(pre / "best.pth"), "--max_epochs", "1")
    # (c) a mismatching --expect_pseudo_fingerprint: refused before anything is done
    other = "0" * 64
    assert train_e2e.main([*ft, "--expect_pseudo_fingerprint", other]) == 1
    found = f"{pre / 'pretrain.json'} has pseudo_fingerprint {first}"
    assert f"{found}, --expect_pseudo_fingerprint is {other}" in caplog.text
    assert not (root / "exp" / ft_exp).exists()
    assert train_e2e.main([*ft, "--expect_pseudo_fingerprint", first]) == 0
    system = json.loads((root / "exp" / ft_exp / "system.json").read_text())
    assert system["pseudo_fingerprint"] == first and system["pseudo_labeler"] == "bert_sst2"
    assert system["pseudo_labels"] == {str(p): _sha256(p) for p in labels}
    # the labels change (stage 7 rerun): the pre-training retrains, then the fine-tuning retrains from it
    shutil.copy(labels[1], tmp_path / "fisher_before")
    lines = labels[1].read_text().splitlines()
    labels[1].write_text("".join(f"{line}\n" for line in lines[1:]))
    _write_record(tmp_path, "bert_sst2", labels[1])
    second = _fingerprint(*labels)
    assert train_e2e.main(_pretrain_argv(sets, labels, pre, "--pseudo_labeler_dir", str(labeler))) == 0
    caplog.clear()
    assert train_e2e.main([*ft, "--expect_pseudo_fingerprint", first]) == 1  # what the system was named for
    assert train_e2e.main([*ft, "--expect_pseudo_fingerprint", second]) == 0
    assert "training restarts" in caplog.text
    assert json.loads((root / "exp" / ft_exp / "system.json").read_text())["pseudo_fingerprint"] == second
    caplog.clear()
    assert train_e2e.main([*ft, "--expect_pseudo_fingerprint", second]) == 0
    assert "up to date" in caplog.text


def test_interrupted_run_resumes_to_the_same_weights(corpus, monkeypatch):
    root, sets = corpus
    argv = _argv(root, sets, "e2e_full", "--max_epochs", "3", "--score_sets", "")
    assert train_e2e.main(argv) == 0
    original_save = Trainer._save

    def save_then_die(self, improved):
        original_save(self, improved)
        raise KeyboardInterrupt  # killed right after epoch 1's checkpoint

    monkeypatch.setattr(Trainer, "_save", save_then_die)
    interrupted = _argv(root, sets, "e2e_resumed", "--max_epochs", "3", "--score_sets", "")
    with pytest.raises(KeyboardInterrupt):
        train_e2e.main(interrupted)
    exp = root / "exp" / "e2e_resumed"
    assert (
        torch.load(exp / "checkpoint.pth", weights_only=False)["epoch"] == 1 and not (exp / ".done").exists()
    )
    monkeypatch.setattr(Trainer, "_save", original_save)
    assert train_e2e.main(interrupted) == 0
    full = torch.load(root / "exp" / "e2e_full" / "checkpoint.pth", weights_only=False)
    resumed = torch.load(exp / "checkpoint.pth", weights_only=False)
    assert resumed["epoch"] == 3
    assert all(torch.equal(full["model"][k], resumed["model"][k]) for k in full["model"])
    best_full = torch.load(root / "exp" / "e2e_full" / "best.pth", weights_only=True)
    best_resumed = torch.load(exp / "best.pth", weights_only=True)
    assert all(torch.equal(best_full[k], best_resumed[k]) for k in best_full)


def test_changed_training_option_restarts_and_max_epochs_continues(corpus, caplog):
    root, sets = corpus
    argv = _argv(root, sets, "e2e_more", "--max_epochs", "1", "--score_sets", "")
    assert train_e2e.main(argv) == 0
    caplog.clear()
    assert train_e2e.main([*argv, "--max_epochs", "2"]) == 0  # continues from epoch 1
    assert "resumed from" in caplog.text and "training restarts" not in caplog.text
    caplog.clear()
    assert train_e2e.main([*argv, "--max_epochs", "2", "--lr", "0.02"]) == 0
    assert "training restarts" in caplog.text


def test_config_file_and_usage_errors(corpus, tmp_path, capsys):
    _, sets = corpus
    train_scp, train_dir = sets["swbd_train"]
    conf = tmp_path / "train_e2e.yaml"
    conf.write_text(
        f"train_feats: [{train_scp}]\ntrain_labels: [{train_dir / 'utt2sentiment'}]\nlstm_dim: 4\n"
    )
    args = train_e2e.cli.parse_args(train_e2e.get_parser(), ["--config", str(conf), "--exp_dir", "x"])
    assert as_list(args.train_feats) == [str(train_scp)] and args.lstm_dim == 4
    args = train_e2e.cli.parse_args(
        train_e2e.get_parser(), ["--config", str(conf), "--train_feats", "a b", "--train_feats", "c"]
    )
    assert args.train_feats == ["a", "b", "c"]  # the command line replaces the config's list
    ab = ["--exp_dir", "x", "--train_feats", "a", "--train_labels", "b"]
    for argv, message in [
        (["--exp_dir", "x"], "--train_feats is required"),
        (["--exp_dir", "x", "--train_feats", "a b", "--train_labels", "c"], "must pair"),
        ([*ab, "--valid_feats", "v"], "go together"),
        ([*ab, "--task", "pseudo", "--score_sets", "a:b:c"], "not with --task pseudo"),
        ([*ab, "--score_sets", "a:b:c:d"], "NAME:FEATS"),
        ([*ab, "--amp", "fp16"], "--amp needs"),
        ([*ab, "--pseudo_labeler_dir", "exp/pseudo_labeler_x"], "--task pseudo only"),
        ([*ab, "--expect_pseudo_fingerprint", "ab"], "checks the --init_from model"),
    ]:  # fmt: skip
        with pytest.raises(SystemExit) as exit_info:
            train_e2e.main(argv)
        assert exit_info.value.code == 2 and message in capsys.readouterr().err, message


@pytest.mark.slow
def test_torchrun_two_processes_gloo(corpus):
    root, sets = corpus
    env = dict(
        os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""), OMP_NUM_THREADS="1"
    )
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "speechsent.bin.train_e2e", *_argv(root, sets, "e2e_ddp", "--max_epochs", "2"),
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    exp = root / "exp" / "e2e_ddp"
    assert (exp / "best.pth").is_file() and (exp / "system.json").is_file()
    pred = (exp / "score_swbd_test" / "utt2pred").read_text().splitlines()
    assert len(pred) == 30 and len({line.split()[0] for line in pred}) == 30  # each utterance once
    checkpoint = torch.load(exp / "checkpoint.pth", weights_only=False)
    assert checkpoint["world_size"] == 2 and len(checkpoint["rng"]) == 2


def test_help_is_light():
    code = (
        "import sys; from speechsent.bin import train_e2e, dump_fbank; train_e2e.get_parser().format_help(); "
        "dump_fbank.get_parser().format_help(); print('torch' in sys.modules, 'numpy' in sys.modules)"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.split() == ["False", "False"]


# ---------------------------------------------------------------- bad features, missing classes


def _poison(scp: Path, bad: dict[str, float], num_frames: bool = True) -> None:
    """Rewrite ``scp``'s ark (kaldiio, as a Kaldi tool writes it) with one value of each ``bad`` utterance
    set to NaN/inf; with ``num_frames``, also write ``utt2num_frames`` (as every dump does), so that the
    matrices are only read when a batch needs them."""
    mats = {u: np.array(m) for u, m in kaldiio.load_scp(str(scp)).items()}
    for utt, value in bad.items():
        mats[utt][1, 2] = value
    with kaldiio.WriteHelper(f"ark,scp:{scp.parent / 'poisoned.ark'},{scp}") as writer:
        for utt in sorted(mats):
            writer(utt, mats[utt])
    if num_frames:
        write_table(scp.parent / "utt2num_frames", {u: len(m) for u, m in mats.items()})


@pytest.fixture
def poisoned(tmp_path):
    sets = {
        "swbd_train": _make_set(tmp_path, "swbd_train", 4, 10, 0),
        "swbd_test": _make_set(tmp_path, "swbd_test", 2, 8, 1),
        "swbd_holdout": _make_set(tmp_path, "swbd_holdout", 2, 8, 2),
    }
    train_utts = sorted((sets["swbd_train"][1] / "utt2sentiment").read_text().split()[::2])
    bad_train = {train_utts[3]: np.nan, train_utts[17]: np.inf}
    _poison(sets["swbd_train"][0], bad_train)
    bad_holdout = sorted((sets["swbd_holdout"][1] / "utt2sentiment").read_text().split()[::2])[5]
    _poison(sets["swbd_holdout"][0], {bad_holdout: -np.inf})
    for name in ("swbd_test",):
        _poison(sets[name][0], {})
    return tmp_path, sets, bad_train, bad_holdout


def test_non_finite_features_are_named_skipped_and_counted(poisoned, caplog):
    root, sets, bad_train, bad_holdout = poisoned
    argv = _argv(root, sets, "e2e_nan", "--max_epochs", "2", "--num_workers", "2")
    assert train_e2e.main(argv) == 0
    exp = root / "exp" / "e2e_nan"
    text = caplog.text
    train_scp = sets["swbd_train"][0]
    for utt in bad_train:  # named once (found in a DataLoader worker, noted in the main process)
        lines = [line for line in text.splitlines() if f"train: {utt}: non-finite features" in line]
        assert len(lines) == 1 and str(train_scp) in lines[0] and "poisoned.ark:" in lines[0], text
    assert "1 NaN and 0 infinite" in text and "0 NaN and 1 infinite" in text
    assert "optimizer step(s) skipped" not in text  # no batch is lost for them any more
    history = [json.loads(line) for line in (exp / "metrics.jsonl").read_text().splitlines()]
    assert [r.get("dropped_train_utts") for r in history] == [2, 2]
    assert all("skipped_steps" not in r and np.isfinite(r["train_loss"]) for r in history)
    assert "2 training utterance(s) left out by the loader" in text
    system = json.loads((exp / "system.json").read_text())
    assert system["train_skipped"] == {"non-finite features": 2} and system["valid_skipped"] == {}
    assert system["num_train_utts"] == 40 - 2
    best = torch.load(exp / "best.pth", weights_only=True)
    assert all(torch.isfinite(v).all() for v in best.values())
    # the scored set's non-finite utterance: imputed, and counted in scores.json
    scores = json.loads((exp / "score_swbd_holdout" / "scores.json").read_text())
    assert scores["num_utts"] == 16 and scores["num_missing"] == 1 and scores["num_imputed"] == 1
    assert scores["imputed"] == {"non_finite_features": 1}
    assert (exp / "score_swbd_holdout" / "utt2imputed").read_text() == f"{bad_holdout} non_finite_features\n"
    assert json.loads((exp / "score_swbd_test" / "scores.json").read_text())["num_missing"] == 0
    # a rerun that only re-scores (training finished: nothing is read) keeps the counts
    caplog.clear()
    train_scp2, train_dir = sets["swbd_train"]
    assert train_e2e.main([*argv, "--score_sets", f"{train_scp2}:{train_dir / 'utt2sentiment'}"]) == 0
    assert "training already finished" in caplog.text
    assert json.loads((exp / "system.json").read_text())["train_skipped"] == {"non-finite features": 2}
    scores = json.loads((exp / "score_swbd_train" / "scores.json").read_text())
    assert scores["num_imputed"] == 2 and scores["imputed"] == {"non_finite_features": 2}


def test_scored_utterance_without_features_counts_as_missing(corpus):
    root, sets = corpus
    exp = root / "exp" / "e2e_blstm"
    if not (exp / ".done").is_file():
        assert train_e2e.main(_argv(root, sets, "e2e_blstm")) == 0
    scores = json.loads((exp / "score_swbd_holdout" / "scores.json").read_text())
    assert scores["num_utts"] == 30 and scores["num_missing"] == 2  # were 0: imputed from the prior
    assert scores["imputed"] == {"no_features": 2}


def test_a_class_without_training_utterance(poisoned, tmp_path, caplog):
    root, sets, bad_train, _ = poisoned
    labels = dict(line.split() for line in (sets["swbd_train"][1] / "utt2sentiment").read_text().splitlines())
    no_neutral = tmp_path / "no_neutral"
    no_neutral.write_text("".join(f"{u} x\n" for u, lab in labels.items() if lab != "Neutral"))
    argv = _argv(root, sets, "e2e_2cls", "--max_epochs", "1", "--train_utt_list", str(no_neutral))
    assert train_e2e.main(argv) == 1
    assert "no utterance of class Neutral" in caplog.text and "--allow_missing_classes true" in caplog.text
    assert not (root / "exp" / "e2e_2cls" / "checkpoint.pth").exists()  # refused before training
    caplog.clear()
    assert train_e2e.main([*argv, "--allow_missing_classes", "true"]) == 0
    assert "!!! training data (after skips and subsetting): no utterance of class Neutral" in caplog.text
    # a class whose only utterance turns out non-finite while training: an error after it, unless allowed
    only = next(iter(bad_train))
    lone = tmp_path / "lone"
    lone.write_text("".join(f"{u} x\n" for u, lab in labels.items() if lab != labels[only] or u == only))
    argv = _argv(root, sets, "e2e_lone", "--max_epochs", "1", "--train_utt_list", str(lone))
    caplog.clear()
    assert train_e2e.main(argv) == 1
    assert f"no utterance of class {labels[only]}" in caplog.text and "after non-finite skips" in caplog.text
    assert train_e2e.main([*argv, "--allow_missing_classes", "true"]) == 0  # resumes the finished training
    system = json.loads((root / "exp" / "e2e_lone" / "system.json").read_text())
    assert system["train_skipped"]["non-finite features"] == 1
