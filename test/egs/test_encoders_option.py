"""The recipe's ``--encoders`` (stages 5 and 9 on several frozen encoders side by side), as ``--dry_run true``
plans it: one dump dir per encoder (``dump/encoder`` for the ASR's, ``dump/encoder_<tag>`` for ``hf:``), one
set of E2E systems per encoder, named as :func:`speechsent.asr.hf_encoder.encoder_tag` names them (the
template's shell function and the Python one must agree: the report names missing Table 4 rows with the
latter), the fine-tunings initialised from their own encoder's pre-training, the fbank CNN once; and the
entries it refuses. The run itself (dump, training, report, export, inference) is
``test_stages_2_5.py::test_encoders_compared_in_one_run``."""

from __future__ import annotations

import re

import pytest

from speechsent.asr.hf_encoder import HFEncoderError, encoder_tag, split_revision

# ids and dirs whose last parts need the tag's rules: a revision, a trailing slash, characters replaced
ODD = ("hf:facebook/wav2vec2-base@1a2b3c", "hf:./models/My~Model.v2+x/", "hf:openai/whisper-tiny")


def _plan(recipe, run_recipe, encoders: str, *extra: str) -> str:
    r = run_recipe(recipe, ["--dry_run", "true", "--stage", "5", "--stop_stage", "9", "--encoders", encoders,
                            "--e2e_cnn_config", "conf/train_e2e_cnn.yaml", *extra], {})  # fmt: skip
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-4000:]
    return log


def test_encoder_tags():
    assert encoder_tag("asr") == ""
    assert [encoder_tag(e) for e in ODD] == ["hf_wav2vec2-base", "hf_My_Model.v2+x", "hf_whisper-tiny"]
    assert split_revision("hf:org/name@v1.0") == ("hf:org/name", "v1.0")
    assert split_revision("hf:org/name") == ("hf:org/name", None) and split_revision("asr") == ("asr", None)
    for bad in ("hf:org/name@", "hf:@main"):
        with pytest.raises(HFEncoderError):
            split_revision(bad)


def test_dry_run_plans_each_encoder(tmp_path, copy_recipe, run_recipe):
    recipe = copy_recipe(tmp_path, "mini_sentiment")
    log = _plan(recipe, run_recipe, " ".join(("asr", *ODD)))
    dumps = re.findall(r"Stage 5: frozen-encoder dump \((.*?)\) of .* -> (\S+)/<set>", log)
    assert [d for _, d in dumps] == ["dump/encoder", *(f"dump/encoder_{encoder_tag(e)}" for e in ODD)]
    assert "the ASR's encoder" in dumps[0][0] and all("hidden states all" in what for what, _ in dumps[1:])
    systems = dict(re.findall(r"Stage 9: system exp/(\S+): speechsent-train-e2e (.*)", log))
    base = {n for n in systems if n.startswith("e2e_blstm_") or n.startswith("e2e_pretrain_")}
    assert base and "e2e_cnn_fbank_s0" in systems
    assert len(systems) == 1 + len(base) * (1 + len(ODD))  # the CNN once, every other system per encoder
    for spec in ODD:
        tag = encoder_tag(spec)
        for name in base:
            mine = f"e2e_{tag}_{name[len('e2e_') :]}"
            args = systems[mine]
            feats = set(re.findall(r"--(?:train|valid)_feats (\S+)", args))
            assert feats and all(f.startswith(f"dump/encoder_{tag}/") for f in feats), (mine, args)
            init = re.search(r"--init_from (\S+)", args)
            if "_pseudo_" in name:  # fine-tuned from the same encoder's pre-training
                assert init and init.group(1).startswith(f"exp/e2e_{tag}_pretrain_"), (mine, args)
            else:
                assert init is None
    for name in base:  # the ASR encoder's systems keep the paper's names and dump
        assert "dump/encoder/" in systems[name] and "dump/encoder_" not in systems[name]


@pytest.mark.parametrize(
    ("encoders", "message"),
    [
        ("asr wav2vec2", "--encoders entry 'wav2vec2': expected asr or hf:"),
        ("hf:", "--encoders entry 'hf:': expected asr or hf:"),
        ("hf:a/base hf:b/base@main", "two entries named hf_base"),
        ("asr asr", "two entries named asr"),
        ("", "--encoders is empty"),
    ],
)
def test_bad_encoders_are_refused(tmp_path, copy_recipe, run_recipe, encoders, message):
    recipe = copy_recipe(tmp_path, "mini_sentiment")
    r = run_recipe(recipe, ["--dry_run", "true", "--encoders", encoders], {})
    log = r.stdout + r.stderr
    assert r.returncode == 2 and message in log, log[-3000:]
