"""egs/mini_sentiment on a corpus it cannot read, and on one too small for --nbpe, as a user meets them.

Stage 2 with ``--nbpe 2000`` on a tiny synthesized corpus: a smaller vocabulary with a warning (sentencepiece
alone stops). Stage 3 on unreadable SPHERE files: it stops at the formatting, naming the ``failed`` list
(before: "0 utterances", then ESPnet's collect-stats died in ``split_scp.pl``'s usage text); after the files
are restored, a rerun of stage 3 reads every utterance again and trains.
"""

from __future__ import annotations

import shutil

import pytest
import yaml

from speechsent.kaldi.table import read_table

pytest.importorskip("espeakng_loader")
pytest.importorskip("espnet2")

pytestmark = pytest.mark.slow


def test_small_corpus_and_unreadable_audio(tmp_path, egs_module):
    stages = egs_module("test_stages_2_5")
    recipe = stages._recipe(tmp_path)
    (tmp_path / "synth.yaml").write_text(yaml.safe_dump(stages.SYNTH))
    (recipe / "conf" / "tiny.yaml").write_text(yaml.safe_dump({**stages.TINY_ASR, "max_epoch": 1}))
    common = [
        "--asr_train_set", "asr_train", "--nbpe", "2000", "--asr_config", "conf/tiny.yaml",
        "--asr_train_hours", "", "--nj", "2",
        "--local_data_opts", f"--synth_config {tmp_path / 'synth.yaml'} --synth_dir {tmp_path / 'corpus'}",
    ]  # fmt: skip

    # stages 1-2: a corpus of a few dozen sentences has far fewer than 2000 pieces
    log = stages._run(recipe, ["--stage", "1", "--stop_stage", "2", *common])
    tokens = (recipe / "data/token_list/bpe_unigram2000/tokens.txt").read_text().splitlines()
    assert 10 < len(tokens) < 2000
    assert "--nbpe 2000 is more than" in log and f"the vocabulary has {len(tokens)} tokens" in log

    # every SPHERE file unreadable: stage 3 stops at the formatting of the training set, naming its list
    sph = sorted((tmp_path / "corpus").rglob("*.sph"))
    assert sph
    backup = tmp_path / "backup"
    for path in sph:
        dst = backup / path.relative_to(tmp_path / "corpus")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dst)
        path.write_bytes(b"not a SPHERE file\n" * 64)
    log = stages._run(recipe, ["--stage", "3", "--stop_stage", "3", *common], ok=False)
    num_utts = len(read_table(recipe / "data/asr_train/utt2spk"))
    assert f"no utterance left of {num_utts} ({num_utts} unreadable)" in log
    assert "dump/raw/asr_train/failed" in log
    assert "collect-stats" not in log and "split_scp.pl" not in log
    assert len(read_table(recipe / "dump/raw/asr_train/failed")) == num_utts

    # the files are back: the rerun reads them (not "0 files written now, N unreadable") and trains
    for path in sph:
        shutil.copy2(backup / path.relative_to(tmp_path / "corpus"), path)
    log = stages._run(recipe, ["--stage", "3", "--stop_stage", "3", *common])
    kept = read_table(recipe / "dump/raw/asr_train/wav.scp")
    assert f"({num_utts} files written now, 0 unreadable of {num_utts}" in log
    assert not (recipe / "dump/raw/asr_train/failed").exists()
    assert 0 < len(kept) <= num_utts  # (the duration and empty-text filters)
    config = yaml.safe_load((recipe / "exp/asr_tiny_raw_bpe2000/config.yaml").read_text())
    assert len(config["token_list"]) == len(tokens)  # the output layer: the token list, not --nbpe
