"""Stage 1 of the recipes as users run it: ``egs/mini_sentiment/run.sh --stage 1 --stop_stage 1`` on a fixture
corpus named through the db.sh variables, in a temporary copy of the recipe; ``egs/swbd_sentiment/run.sh``
options (the corpus options through --local_data_opts to local/data.sh) and help."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from speechsent.audio.io import UtteranceReader
from speechsent.kaldi.table import read_table
from speechsent.kaldi.validate import validate

ROOT = Path(__file__).resolve().parents[2]
SETS = ("swbd_train", "swbd_test", "swbd_holdout")

pytestmark = pytest.mark.slow


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_mini_sentiment_stage1(corpus, tmp_path: Path, copy_recipe, run_recipe):
    recipe = copy_recipe(tmp_path, "mini_sentiment")
    r = run_recipe(recipe, ["--stage", "1", "--stop_stage", "1"], corpus.env)
    assert r.returncode == 0, r.stdout + r.stderr
    log = r.stdout + r.stderr
    assert "Stage 1: data preparation" in log and "Successfully finished" in log
    assert "counts: " in log
    data = recipe / "data"
    labels = {s: read_table(data / s / "utt2sentiment") for s in SETS}
    # every labeled segment in exactly one split, with its majority label
    seen: dict[str, str] = {}
    for s in SETS:
        assert not set(seen) & set(labels[s])
        seen.update(labels[s])
    assert seen == corpus.labeled
    # the tied rows and the unmatched rows are absent and counted
    counts = dict(kv.split("=") for kv in log.split("counts: ")[-1].split("\n")[0].split())
    assert int(counts["rows_no_majority"]) == corpus.tie_rows
    assert int(counts["rows_unmatched"]) == corpus.unmatched_rows
    # conversation-disjoint
    convs = [{u.split("-")[0] for u in labels[s]} for s in SETS]
    assert all(convs) and not (convs[0] & convs[1] or convs[0] & convs[2] or convs[1] & convs[2])
    # Fisher: one utterance per usable transcript segment
    assert read_table(data / "fisher" / "text") == corpus.fisher_usable
    # validated by the recipe, and here again
    for s in (*SETS, "asr_train", "fisher"):
        assert f"Successfully validated data-directory data/{s}" in log
        assert validate(data / s, no_feats=True) == []
    # audio through wav.scp + segments equals the source samples
    for s in SETS:
        reader = UtteranceReader(data / s)
        for utt, samples, rate in reader.iter_utterances():
            seg = reader.segments[utt]
            conv, side = seg.reco.split("-")
            src = corpus.audio[conv][int(seg.start * rate) : int(seg.end * rate), "AB".index(side)]
            np.testing.assert_array_equal(samples, src.astype(np.float32) / 32768.0)
    # fisher audio can be read too
    reader = UtteranceReader(data / "fisher")
    assert all(len(x) > 0 for _, x, _ in reader.iter_utterances())
    # a rerun writes the same bytes
    before = _snapshot(data)
    r = run_recipe(recipe, ["--stage", "1", "--stop_stage", "1"], corpus.env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert _snapshot(data) == before


def test_mini_sentiment_needs_all_corpora_or_none(corpus, tmp_path: Path, copy_recipe, run_recipe):
    recipe = copy_recipe(tmp_path, "mini_sentiment")
    r = run_recipe(recipe, ["--stage", "1"], {"SWBD": corpus.env["SWBD"]})
    assert r.returncode != 0
    assert "set SWBD, SWBD_MS98 and SWBD_SENTIMENT" in r.stdout + r.stderr


def test_swbd_sentiment_stage1_with_options(corpus, tmp_path: Path, copy_recipe, run_recipe):
    recipe = copy_recipe(tmp_path, "swbd_sentiment")
    r = run_recipe(
        recipe,
        ["--stage", "1", "--stop_stage", "1", "--local_data_opts", "--split_seed 7 --sph2pipe sph2pipe"],
        corpus.env,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    wav = read_table(recipe / "data" / "swbd_train" / "wav.scp")
    assert all(v.startswith("sph2pipe -f wav -p -c ") and v.endswith(" |") for v in wav.values())
    # stage 1 with the same options again (dashes, as parse_options.sh allows them) writes the same bytes
    before = _snapshot(recipe / "data")
    r = run_recipe(
        recipe,
        ["--stage", "1", "--stop_stage", "1", "--local_data_opts", "--split-seed=7 --sph2pipe sph2pipe"],
        corpus.env,
    )
    assert r.returncode == 0 and _snapshot(recipe / "data") == before


def test_swbd_sentiment_options_and_help(tmp_path: Path, copy_recipe, run_recipe):
    recipe = copy_recipe(tmp_path, "swbd_sentiment")
    r = run_recipe(recipe, ["--help"], {})
    assert r.returncode == 0 and "--train_set SET" in r.stderr and "--local_data_opts" in r.stderr
    # the corpus options are local/data.sh's (speechsent-prepare-data's), never the template's
    assert "--split_seed" not in r.stderr
    r = run_recipe(recipe, ["--help"], {}, script="local/data.sh")
    assert r.returncode == 0 and "--split {conversation,lists,espnet}" in r.stderr and "--datadir" in r.stderr
    r = run_recipe(recipe, ["--stage", "1", "--split_seed", "7"], {})
    assert r.returncode != 0
    # the template names no set: a recipe must
    r = run_recipe(recipe, ["--stage", "1"], {}, script=ROOT / "egs" / "TEMPLATE" / "sentiment.sh")
    assert r.returncode == 2 and "Error: --train_set is required" in r.stdout + r.stderr
    r = run_recipe(recipe, ["--no_such_option", "1"], {})
    assert r.returncode != 0
    r = run_recipe(recipe, ["positional"], {})
    assert r.returncode == 2
    # bad input: stage 1 fails and says where
    r = run_recipe(
        recipe,
        ["--stage", "1"],
        {
            "SWBD": str(tmp_path),
            "SWBD_MS98": str(tmp_path / "nope"),
            "SWBD_SENTIMENT": str(tmp_path),
            "FISHER": "",
        },
    )
    assert r.returncode != 0 and "SWBD_MS98=" in r.stderr and "no such directory" in r.stderr
