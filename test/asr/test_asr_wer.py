"""Word error rate: alignment counts, totals equal to editdistance, Kaldi's %WER line, the CLI."""

from __future__ import annotations

import random
import subprocess
import sys

import pytest

from speechsent.asr.wer import align_counts, format_score, score_texts


@pytest.mark.parametrize(
    ("ref", "hyp", "sub", "dele", "ins"),
    [
        ("a b c", "a b c", 0, 0, 0),
        ("a b c", "a x c", 1, 0, 0),
        ("a b c", "a c", 0, 1, 0),
        ("a b c", "a b c d", 0, 0, 1),
        ("a b c", "", 0, 3, 0),
        ("", "a b", 0, 0, 2),
        ("", "", 0, 0, 0),
        ("a b", "b a", 2, 0, 0),  # 2 errors either way: substitutions preferred to a deletion+insertion
        ("the cat sat", "cat sat down", 0, 1, 1),
        ("i i i", "i", 0, 2, 0),
    ],
)
def test_align_counts(ref, hyp, sub, dele, ins):
    c = align_counts(ref.split(), hyp.split())
    assert (c.substitutions, c.deletions, c.insertions) == (sub, dele, ins)
    assert c.ref_words == len(ref.split())
    assert c.sentence_errors == int(sub + dele + ins > 0)


def test_totals_equal_editdistance():
    editdistance = pytest.importorskip("editdistance")
    rng = random.Random(0)
    vocab = ["a", "b", "c", "d", "e"]
    for _ in range(500):
        ref = [rng.choice(vocab) for _ in range(rng.randint(0, 12))]
        hyp = [rng.choice(vocab) for _ in range(rng.randint(0, 12))]
        c = align_counts(ref, hyp)
        assert c.errors == editdistance.eval(ref, hyp)
        # every reference word is matched, substituted or deleted; every hypothesis word matched,
        # substituted or inserted
        assert len(ref) - c.deletions == len(hyp) - c.insertions


def test_score_texts_and_format():
    ref = {"u1": "a b c d", "u2": "x y", "u3": "p"}
    hyp = {"u1": "a b x d e", "u2": ""}
    c = score_texts(ref, hyp)
    assert c.ref_words == 7
    assert (c.substitutions, c.deletions, c.insertions) == (1, 3, 1)
    assert c.missing == ["u3"]
    assert c.wer == pytest.approx(100 * 5 / 7)
    assert c.sentences == 3 and c.sentence_errors == 3
    text = format_score(c, "set")
    assert "%WER 71.43 [ 5 / 7, 1 ins, 3 del, 1 sub ]" in text
    assert "%SER 100.00 [ 3 / 3 ]" in text
    assert "1 not present in hyp" in text


def test_compute_wer_cli(tmp_path):
    (tmp_path / "ref").write_text("u1 a b c\nu2 d e\n")
    (tmp_path / "hyp").write_text("u1 a c\nu2 d e f\n")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechsent.bin.compute_wer",
            "--ref",
            str(tmp_path / "ref"),
            "--hyp",
            str(tmp_path / "hyp"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.startswith("%WER 40.00 [ 2 / 5, 1 ins, 1 del, 0 sub ]")
