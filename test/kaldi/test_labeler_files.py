"""Per-labeler pseudo-label files (``utt2pseudo_<tag>``, ``utt2pseudo_prob_<tag>``) in a data dir: validated,
fixed, copied, subset and combined like utt2pseudo / utt2pseudo_prob, through the library and utils/*.sh."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import data_dir_cases as cases  # test/kaldi's shared cases (pytest puts test/kaldi on sys.path)
import pytest

from speechsent.kaldi.combine import combine
from speechsent.kaldi.copy import copy
from speechsent.kaldi.data_dir import DataDir, pseudo_prob_name, table_kind, utt_files
from speechsent.kaldi.subset import subset_by_utts
from speechsent.kaldi.table import read_table
from speechsent.kaldi.validate import validate

ROOT = Path(__file__).resolve().parents[2]
TAGS = ("bert-base-uncased_sst2", "xlnet-base-cased_sst2")




def _two_labelers(d: Path) -> Path:
    """A valid dir plus two labelers' files (copies of utt2pseudo / utt2pseudo_prob, the second flipped)."""
    cases.make_valid_dir(d)
    labels, probs = cases.get(d, "utt2pseudo"), cases.get(d, "utt2pseudo_prob")
    flip = {"Positive": "Negative", "Negative": "Positive"}
    cases.put(d, f"utt2pseudo_{TAGS[0]}", labels)
    cases.put(d, f"utt2pseudo_prob_{TAGS[0]}", probs)
    cases.put(d, f"utt2pseudo_{TAGS[1]}", [f"{u} {flip[v]}" for u, v in (x.split() for x in labels)])
    cases.put(
        d, f"utt2pseudo_prob_{TAGS[1]}", [f"{u} {1 - float(v):.2f}" for u, v in (x.split() for x in probs)]
    )
    return d


def _sh(script: str, *args: object) -> subprocess.CompletedProcess:
    env = {**os.environ, "SPEECHSENT_PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(ROOT / "utils" / script), *map(str, args)], env=env, capture_output=True, text=True, timeout=120
    )


def test_names():
    assert table_kind("utt2pseudo_bert_sst2") == "utt2pseudo"
    assert table_kind("utt2pseudo_prob_bert_sst2") == "utt2pseudo_prob"
    assert table_kind("utt2pseudo_prob") == "utt2pseudo_prob" and table_kind("utt2pseudo_") == "utt2pseudo_"
    assert table_kind(".utt2pseudo_x.abc.tmp") == ".utt2pseudo_x.abc.tmp"  # an atomic write's temp file
    assert pseudo_prob_name("utt2pseudo") == "utt2pseudo_prob"
    assert pseudo_prob_name("utt2pseudo_bert-base-uncased_sst2") == "utt2pseudo_prob_bert-base-uncased_sst2"
    for bad in ("utt2pseudo_prob_x", "utt2pseudo_prob", "labels", "utt2pseudo_", "utt2pseudo_a b"):
        with pytest.raises(ValueError, match="utt2pseudo_<tag>"):
            pseudo_prob_name(bad)


def test_utt_files_lists_each_labeler_before_its_probs(tmp_path):
    d = _two_labelers(tmp_path / "d")
    (d / f".utt2pseudo_{TAGS[0]}.x1.tmp").write_text("junk\n")
    names = utt_files(d)
    extra = names[names.index("utt2pseudo_prob") + 1 :]
    assert extra == (
        f"utt2pseudo_{TAGS[0]}",
        f"utt2pseudo_{TAGS[1]}",
        f"utt2pseudo_prob_{TAGS[0]}",
        f"utt2pseudo_prob_{TAGS[1]}",
    )
    first = cases.get(d, "utt2pseudo_prob")[1].split()  # 0.60 in utt2pseudo_prob, 0.40 in TAGS[1]'s
    assert DataDir(d).typed(f"utt2pseudo_prob_{TAGS[1]}")[first[0]] == pytest.approx(1 - float(first[1]))
    assert f"utt2pseudo_{TAGS[1]}" in DataDir(d).present_files()


def test_validate_checks_each_labelers_files(tmp_path):
    d = _two_labelers(tmp_path / "d")
    assert validate(d) == []
    cases._drop(f"utt2pseudo_{TAGS[0]}", i=2)(d)  # a subset of utt2spk is fine, its probs must follow
    cases._drop(f"utt2pseudo_prob_{TAGS[0]}", i=2)(d)
    assert validate(d) == []
    cases._set_value(f"utt2pseudo_{TAGS[1]}", "Neutral")(d)
    cases._set_value(f"utt2pseudo_prob_{TAGS[0]}", "1.5")(d)
    cases._drop(f"utt2pseudo_prob_{TAGS[1]}")(d)
    problems = validate(d)
    assert any(p.startswith(str(d / f"utt2pseudo_{TAGS[1]}")) and "bad pseudo label" in p for p in problems)
    assert any(p.startswith(str(d / f"utt2pseudo_prob_{TAGS[0]}")) and "[0, 1]" in p for p in problems)
    assert any(p.startswith(str(d / f"utt2pseudo_prob_{TAGS[1]}")) and "missing" in p for p in problems)
    (d / f"utt2pseudo_{TAGS[1]}").unlink()
    assert any(f"without utt2pseudo_{TAGS[1]}" in p for p in validate(d)), validate(d)


def test_validate_and_fix_scripts(tmp_path):
    d = _two_labelers(tmp_path / "d")
    r = _sh("validate_data_dir.sh", "--no-feats", d)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = cases.get(d, f"utt2pseudo_{TAGS[1]}")
    dropped = lines[3].split()[0]
    cases.put(d, f"utt2pseudo_{TAGS[1]}", [*lines[:3], f"{dropped} Happy", *lines[4:]])
    r = _sh("validate_data_dir.sh", "--no-feats", d)
    assert r.returncode != 0 and f"utt2pseudo_{TAGS[1]}:4:" in r.stdout + r.stderr, r.stdout + r.stderr
    r = _sh("fix_data_dir.sh", d)  # the bad line is dropped, and its utterance from every file
    assert r.returncode == 0, r.stdout + r.stderr
    for name in (
        *(f"utt2pseudo_{t}" for t in TAGS),
        *(f"utt2pseudo_prob_{t}" for t in TAGS),
        "utt2spk",
        "text",
    ):
        assert dropped not in read_table(d / name), name
    assert _sh("validate_data_dir.sh", "--no-feats", d).returncode == 0


def test_copy_subset_combine_carry_them(tmp_path):
    d = _two_labelers(tmp_path / "d")
    names = [f"utt2pseudo_{t}" for t in TAGS] + [f"utt2pseudo_prob_{t}" for t in TAGS]
    copy(d, tmp_path / "copied", utt_prefix="x-")
    for name in names:
        assert (tmp_path / "copied" / name).read_text() == "".join(
            f"x-{line}\n" for line in cases.get(d, name)
        )
    utts = sorted(read_table(d / "utt2spk"))[:5]
    subset_by_utts(d, tmp_path / "sub", utts)
    for name in names:
        assert sorted(read_table(tmp_path / "sub" / name)) == utts
    combine(tmp_path / "both", [tmp_path / "sub", tmp_path / "copied"])
    for name in names:
        assert len(read_table(tmp_path / "both" / name)) == 5 + len(read_table(d / name))
    assert validate(tmp_path / "both", no_feats=True) == []
