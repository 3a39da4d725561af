"""Stage 11 library: choosing the best system, and the exported model dir (self-contained, relocatable)."""

from __future__ import annotations

import json
import runpy
import shutil
from pathlib import Path

import pytest

pytest.importorskip("espnet2")

from speechsent.inference.export import (
    MODEL_JSON,
    PATENT_NOTE,
    ExportError,
    export_system,
    find_systems,
    select_best_system,
)


def _tiny_exp() -> dict:
    return runpy.run_path(str(Path(__file__).with_name("tiny_exp.py")))  # test dirs are not packages


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> dict[str, Path]:
    return _tiny_exp()["build_tiny_recipe"](tmp_path_factory.mktemp("recipe"))


@pytest.fixture(scope="module")
def exported(recipe, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("export")
    exp = recipe["exp"]
    return {
        "e2e": export_system(exp / "e2e_blstm_all_s0", out / "e2e", asr_model=exp / "asr_model"),
        "pseudo": export_system(exp / "e2e_blstm_pseudo_vader_gt_all_s0", out / "pseudo", exp / "asr_model"),
        "two_step": export_system(
            exp / "text_baseline_asr_s0", out / "two_step", exp / "asr_model", {"mode": "ctc_greedy"}
        ),
        "lm": export_system(exp / "text_lm_asr_s0", out / "lm", exp / "asr_model", {"beam_size": 3}),
        "fbank": export_system(exp / "e2e_cnn_fbank_s0", out / "fbank", asr_model="does/not/matter"),
    }


def _info(model_dir: Path) -> dict:
    return json.loads((model_dir / MODEL_JSON).read_text())


# -- selection -----------------------------------------------------------------------------------------------


def test_best_e2e_system_ties_go_to_the_lower_seed(recipe):
    assert select_best_system(recipe["exp"], "e2e", "swbd_test").name == "e2e_blstm_all_s0"
    names = [c.system_dir.name for c in find_systems(recipe["exp"], "e2e")]
    # the pre-trained pseudo-label model has no system.json: never a candidate
    assert names == [
        "e2e_blstm_all_s0",
        "e2e_blstm_all_s1",
        "e2e_blstm_pseudo_vader_gt_all_s0",
        "e2e_cnn_fbank_s0",
    ]


def test_best_two_step_system_is_chosen_on_asr_transcripts(recipe):
    # text_baseline_gt_s0 is best on GT transcripts (70 > 60) but worse on ASR ones (45 < 52)
    assert select_best_system(recipe["exp"], "two_step").name == "text_baseline_asr_s0"
    best = find_systems(recipe["exp"], "two_step")[0]
    assert best.score_file.parent.name == "score_swbd_test_asr" and best.unweighted_f1 == 52.0
    # a system scored only on the GT set competes with that score
    assert find_systems(recipe["exp"], "two_step")[-1].score_file.parent.name == "score_swbd_test"


def test_selection_errors(recipe, tmp_path):
    with pytest.raises(ExportError, match="no e2e system scored on swbd_holdout_x"):
        select_best_system(recipe["exp"], "e2e", "swbd_holdout_x")
    with pytest.raises(ExportError, match="family must be one of"):
        select_best_system(recipe["exp"], "text")
    with pytest.raises(ExportError, match="no such experiment dir"):
        select_best_system(tmp_path / "nowhere", "e2e")
    bad = tmp_path / "exp" / "e2e_bad_s0"
    bad.mkdir(parents=True)
    (bad / "system.json").write_text('{"family": "e2e"}')
    (bad / "model.json").write_text("{}")
    (bad / "score_swbd_test").mkdir()
    (bad / "score_swbd_test" / "scores.json").write_text('{"weighted_f1": 3}')
    with pytest.raises(ExportError, match="e2e_bad_s0/system.json: field 'architecture' missing"):
        select_best_system(tmp_path / "exp", "e2e")
    (bad / "system.json").write_text('{"family": "e2e", "architecture": "blstm", "input": "encoder"}')
    with pytest.raises(ExportError, match="no unweighted_f1"):
        select_best_system(tmp_path / "exp", "e2e")


# -- the exported dir --------------------------------------------------------------------------------------


def _all_text(model_dir: Path) -> str:
    return "".join(
        p.read_text(errors="replace") for p in model_dir.rglob("*") if p.suffix in (".json", ".yaml", ".md")
    )


def test_e2e_layout(exported, recipe):
    d = exported["e2e"]
    info = _info(d)
    assert info["format_version"] == 1 and info["type"] == "e2e" and info["fs"] == 8000
    assert info["labels"] == ["Negative", "Neutral", "Positive"]
    assert info["system"] == "e2e_blstm_all_s0" and info["system_json"]["seed"] == 0
    assert (
        set(info["scores"]) == {"swbd_test", "swbd_holdout"}
        and info["scores"]["swbd_test"]["unweighted_f1"] == 55
    )
    assert info["asr"] == {"config": "asr/config.yaml", "model_file": "asr/model.pth"}
    assert info["classifier"] == "classifier" and info["features"] == {"kind": "encoder"}
    assert "decode" not in info and info["speechsent_version"]
    for name in ("asr/config.yaml", "asr/model.pth", "asr/bpe.model", "asr/feats_stats.npz"):
        assert (d / name).is_file(), name
    assert (d / "classifier" / "best.pth").read_bytes() == (
        recipe["exp"] / "e2e_blstm_all_s0" / "best.pth"
    ).read_bytes()
    import yaml

    config = yaml.safe_load((d / "asr" / "config.yaml").read_text())
    assert config["bpemodel"] == "asr/bpe.model"
    assert config["normalize_conf"]["stats_file"] == "asr/feats_stats.npz"
    assert isinstance(config["token_list"], list) and config["token_list"][0] == "<blank>"
    # relocatable: no path of this machine anywhere (the copy of system.json aside)
    assert str(recipe["root"]) not in _all_text(d).replace(json.dumps(info["system_json"], indent=1), "")
    readme = (d / "README.md").read_text()
    assert "e2e_blstm_all_s0" in readme and "| swbd_test | 55.00 |" in readme and PATENT_NOTE not in readme


def test_model_card_of_a_pseudo_label_system_names_the_patent(exported):
    assert PATENT_NOTE in (exported["pseudo"] / "README.md").read_text()


def test_two_step_layout(exported):
    d = exported["two_step"]
    info = _info(d)
    assert info["type"] == "two_step" and info["decode"] == {"mode": "ctc_greedy"}
    assert (d / "classifier" / "bpe.model").is_file() and (d / "asr" / "model.pth").is_file()
    assert set(info["scores"]) == {"swbd_test", "swbd_test_asr"}
    assert "features" not in info


def test_two_step_lm_dir_is_copied_and_referenced_relatively(exported, recipe):
    d = exported["lm"]
    info = _info(d)
    assert info["decode"]["mode"] == "beam" and info["decode"]["beam_size"] == 3 and info["lm"] == "lm"
    assert (d / "lm" / "config.json").is_file() and (d / "lm" / "vocab.txt").is_file()
    model = json.loads((d / "classifier" / "model.json").read_text())
    assert model["tokenizer"]["lm"] == "../lm" and model["classifier"]["extra"]["lm"] == "../lm"
    assert str(recipe["lm"]) not in (d / "classifier" / "model.json").read_text()


def test_fbank_system_needs_no_asr(exported):
    d = exported["fbank"]
    info = _info(d)
    assert info["asr"] is None and not (d / "asr").exists()
    assert info["features"]["kind"] == "fbank" and info["features"]["fbank"]["num_mel_bins"] == 80
    assert info["fs"] == 8000


def test_rerun_replaces_the_dir_atomically(recipe, tmp_path):
    exp = recipe["exp"]
    out = export_system(exp / "text_baseline_gt_s0", tmp_path / "m", exp / "asr_model")
    (out / "stale").write_text("x")
    export_system(exp / "text_baseline_asr_s0", tmp_path / "m", exp / "asr_model")
    assert not (out / "stale").exists() and _info(out)["system"] == "text_baseline_asr_s0"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temporary dir left


def test_failed_export_leaves_the_old_dir(recipe, tmp_path):
    exp = recipe["exp"]
    out = export_system(exp / "e2e_blstm_all_s0", tmp_path / "m", exp / "asr_model")
    broken = tmp_path / "e2e_broken_s0"
    shutil.copytree(exp / "e2e_blstm_all_s0", broken)
    (broken / "best.pth").unlink()
    with pytest.raises(ExportError, match="no weights file best.pth"):
        export_system(broken, out, exp / "asr_model")
    assert _info(out)["system"] == "e2e_blstm_all_s0"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e2e_broken_s0", "m"]


def test_export_errors(recipe, tmp_path):
    exp = recipe["exp"]
    with pytest.raises(ExportError, match="no system.json"):
        export_system(exp / "e2e_pretrain_vader_gt_s0", tmp_path / "m", exp / "asr_model")
    with pytest.raises(ExportError, match="ASR model .*no such file"):
        export_system(exp / "e2e_blstm_all_s0", tmp_path / "m", tmp_path / "no_asr")
    with pytest.raises(ExportError, match="unknown option"):
        export_system(exp / "text_baseline_asr_s0", tmp_path / "m", exp / "asr_model", {"beam": 3})
    with pytest.raises(ExportError, match="decode mode must be one of"):
        export_system(exp / "text_baseline_asr_s0", tmp_path / "m", exp / "asr_model", {"mode": "greedy"})
    mismatched = tmp_path / "e2e_other_s0"
    shutil.copytree(exp / "e2e_blstm_all_s0", mismatched)
    model = json.loads((mismatched / "model.json").read_text())
    model["config"]["input_dim"] = 512
    (mismatched / "model.json").write_text(json.dumps(model))
    with pytest.raises(ExportError, match="takes 512-dim features but the ASR encoder"):
        export_system(mismatched, tmp_path / "m", exp / "asr_model")
    assert not (tmp_path / "m").exists()


def test_default_pointer_is_found_beside_the_system(recipe, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no exp/asr_model here
    out = export_system(recipe["exp"] / "e2e_blstm_all_s1", tmp_path / "m")
    assert (out / "asr" / "model.pth").read_bytes() == (recipe["asr"] / "model.pth").read_bytes()


def test_subset_systems_compete_only_when_asked_or_alone(recipe, tmp_path):
    import shutil

    exp = tmp_path / "exp"
    shutil.copytree(recipe["exp"] / "e2e_blstm_all_s0", exp / "e2e_blstm_all_s0")
    sub = exp / "e2e_blstm_0.1h_s0"
    shutil.copytree(recipe["exp"] / "e2e_blstm_all_s0", sub)
    info = json.loads((sub / "system.json").read_text())
    (sub / "system.json").write_text(json.dumps({**info, "train_hours": 0.1}))
    scores = json.loads((sub / "score_swbd_test" / "scores.json").read_text())
    (sub / "score_swbd_test" / "scores.json").write_text(json.dumps({**scores, "unweighted_f1": 99.0}))
    # the 0.1 h system scores best, but the product is the system that learned from every label
    assert select_best_system(exp, "e2e").name == "e2e_blstm_all_s0"
    assert [c.system_dir.name for c in find_systems(exp, "e2e")] == ["e2e_blstm_all_s0"]
    assert select_best_system(exp, "e2e", include_subsets=True).name == "e2e_blstm_0.1h_s0"
    shutil.rmtree(exp / "e2e_blstm_all_s0")
    assert select_best_system(exp, "e2e").name == "e2e_blstm_0.1h_s0"  # the only kind there is
