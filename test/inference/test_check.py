"""An exported model's check (speechsent.inference.check, speechsent-score --infer_jsonl): counts overall,
on the polar references and per class; a missing answer is an error naming the files, a bad line file:line."""

from __future__ import annotations

import json
import re

import pytest

from speechsent.bin import score as score_bin
from speechsent.inference.check import format_check, read_infer_lines, score_check
from speechsent.kaldi.table import KaldiDataError
from speechsent.scoring import ScoringError

# (utt, reference, answer): 2/3 Negative, 1/2 Neutral, 2/2 Positive right -> 5/7, polar 4/5
CASES = [
    ("n1", "Negative", "Negative"),
    ("n2", "Negative", "Neutral"),
    ("n3", "Negative", "Negative"),
    ("o1", "Neutral", "Neutral"),
    ("o2", "Neutral", "Positive"),
    ("p1", "Positive", "Positive"),
    ("p2", "Positive", "Positive"),
]


def _line(utt: str, label: str, **extra: object) -> str:
    probs = {k: 0.8 if k == label else 0.1 for k in ("Negative", "Neutral", "Positive")}
    return json.dumps({"file": utt, "label": label, "probabilities": probs, **extra})


@pytest.fixture
def check(tmp_path):
    jsonl = tmp_path / "check.jsonl"
    jsonl.write_text(
        "".join(_line(u, hyp, transcript=f"words of {u}") + "\n" for u, _, hyp in CASES), encoding="utf-8"
    )
    ref = tmp_path / "utt2sentiment"
    ref.write_text("".join(f"{u} {r}\n" for u, r, _ in CASES), encoding="utf-8")
    return jsonl, ref


def test_counts_overall_polar_and_per_class(check, tmp_path):
    jsonl, ref = check
    scores = score_check(jsonl, ref, out=tmp_path / "scores.json")
    assert (scores["num_utts"], scores["num_right"]) == (7, 5)
    assert scores["accuracy"] == pytest.approx(500 / 7)
    assert scores["polar"] == {
        "labels": ["Negative", "Positive"],
        "num_utts": 5,
        "num_right": 4,
        "accuracy": pytest.approx(80.0),
    }
    per_class = {k: (v["num_right"], v["support"]) for k, v in scores["per_class"].items()}
    assert per_class == {"Negative": (2, 3), "Neutral": (1, 2), "Positive": (2, 2)}
    assert scores["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 2]]
    assert scores["wrong"] == {
        "n2": {"ref": "Negative", "hyp": "Neutral", "transcript": "words of n2"},
        "o2": {"ref": "Neutral", "hyp": "Positive", "transcript": "words of o2"},
    }
    assert json.loads((tmp_path / "scores.json").read_text()) == scores
    assert format_check("exp/export/e2e", scores) == (
        "exp/export/e2e: 5/7 right (71.4 %); polar 4/5 (80.0 %); Negative 2/3 Neutral 1/2 Positive 2/2"
    )


def test_no_polar_references(tmp_path):
    jsonl, ref = tmp_path / "check.jsonl", tmp_path / "utt2sentiment"
    jsonl.write_text(_line("a", "Neutral") + "\n", encoding="utf-8")
    ref.write_text("a Neutral\n", encoding="utf-8")
    scores = score_check(jsonl, ref)
    assert scores["polar"]["accuracy"] is None
    assert format_check("x", scores) == "x: 1/1 right (100.0 %); polar 0/0; Neutral 1/1"


def test_a_missing_answer_is_an_error_naming_the_files(check):
    jsonl, ref = check
    lines = jsonl.read_text().splitlines()
    jsonl.write_text("\n".join(lines[1:]) + "\n")
    expected = f"{jsonl}: no answer for 1 of the 7 utterances of {ref}, e.g. n1"
    with pytest.raises(ScoringError, match=re.escape(expected)):
        score_check(jsonl, ref)
    # an input speechsent-infer could not classify is no answer either: its error is quoted
    failed = json.dumps({"file": "n1", "error": "n1: too short"})
    jsonl.write_text("\n".join([failed, *lines[1:]]) + "\n")
    with pytest.raises(ScoringError, match="no answer for 1 .*could not classify n1: n1: too short"):
        score_check(jsonl, ref)


def test_a_bad_reference_label_names_file_and_line(check):
    jsonl, ref = check
    ref.write_text(ref.read_text().replace("o1 Neutral", "o1 Happy"))
    with pytest.raises(KaldiDataError, match=re.escape(f"{ref}:4: unknown label 'Happy'")):
        score_check(jsonl, ref)


@pytest.mark.parametrize(
    "bad,message",
    [
        ("not json", ":3: not JSON"),
        ('["n3"]', ":3: expected a speechsent-infer line"),
        (_line("n2", "Negative"), ":3: a second line of n2"),
        (_line("n3", "Angry"), ":3: n3: label 'Angry'"),
        (_line("n3", "Negative", start=0.0, end=10.0), ":3: a window of n3"),
    ],
)
def test_bad_answer_lines_name_file_and_line(check, bad, message):
    jsonl, _ = check
    lines = jsonl.read_text().splitlines()
    jsonl.write_text("\n".join([*lines[:2], bad, *lines[3:]]) + "\n")
    with pytest.raises(ScoringError, match=message):
        read_infer_lines(jsonl)


def test_score_entry_point(check, capsys):
    jsonl, ref = check
    assert score_bin.main(["--ref", str(ref), "--infer_jsonl", str(jsonl)]) == 0
    assert capsys.readouterr().out == (
        f"{jsonl}: 5/7 right (71.4 %); polar 4/5 (80.0 %); Negative 2/3 Neutral 1/2 Positive 2/2\n"
    )
    written = json.loads((jsonl.parent / "check_scores.json").read_text())
    assert (written["num_right"], written["polar"]["num_right"]) == (5, 4)
    ref.write_text("zz Positive\n")
    assert score_bin.main(["--ref", str(ref), "--infer_jsonl", str(jsonl)]) == 1
    with pytest.raises(SystemExit) as usage:
        score_bin.main(["--ref", str(ref), "--infer_jsonl", str(jsonl), "--hyp", str(jsonl)])
    assert usage.value.code == 2


def test_transcripts_scored_against_the_spoken_text(check, tmp_path):
    """--text: the 2-step model's transcripts get a WER, counted as Kaldi's compute-wer counts it."""
    jsonl, ref = check
    text = tmp_path / "text"
    # transcripts "words of <u>": n1 exact (3 words), every other 1 substitution of 3, o2 also 1 deletion
    lines = [f"{u} words of {u}" if u == "n1" else f"{u} words on {u}" for u, _, _ in CASES]
    lines[4] = "o2 words on o2 too"
    text.write_text("\n".join(lines) + "\n", encoding="utf-8")
    scores = score_check(jsonl, ref, text=text)
    asr = scores["asr"]
    assert (asr["ref_words"], asr["substitutions"], asr["deletions"], asr["insertions"]) == (22, 6, 1, 0)
    assert asr["wer"] == pytest.approx(700 / 22)
    assert format_check("c", scores).endswith(f"; ASR WER {700 / 22:.1f} % of 22 words")
    # answers without transcripts (an E2E model): no WER
    e2e = tmp_path / "e2e.jsonl"
    e2e.write_text("".join(_line(u, hyp) + "\n" for u, _, hyp in CASES), encoding="utf-8")
    assert "asr" not in score_check(e2e, ref, text=text)
    # a sentence missing from the text is an error naming it
    text.write_text("n1 words of n1\n", encoding="utf-8")
    with pytest.raises(ScoringError, match=re.escape(f"{text}: no sentence for 6 answers")):
        score_check(jsonl, ref, text=text)
    # the command line: --text needs --infer_jsonl
    with pytest.raises(SystemExit) as exit_info:
        score_bin.main(["--ref", str(ref), "--hyp", str(jsonl), "--text", str(text)])
    assert exit_info.value.code == 2


def test_words_unheard_in_asr_training(check, tmp_path):
    """--heard_text: the words of the spoken sentences that the ASR's training texts never have, counted
    for every model (an E2E model reads the same ASR's encoder)."""
    jsonl, ref = check
    text = tmp_path / "text"
    text.write_text("".join(f"{u} words of {u}\n" for u, _, _ in CASES), encoding="utf-8")
    heard_a, heard_b = tmp_path / "a_text", tmp_path / "b_text"
    heard_a.write_text("a1 words of n1\na2 of n2 words\n", encoding="utf-8")
    heard_b.write_text("b1 o1 p1\n", encoding="utf-8")
    e2e = tmp_path / "e2e.jsonl"
    e2e.write_text("".join(_line(u, hyp) + "\n" for u, _, hyp in CASES), encoding="utf-8")
    for answers in (jsonl, e2e):
        unheard = score_check(answers, ref, text=text, heard_text=[heard_a, heard_b])["unheard"]
        # 21 words; unheard: n3, o2, p2 (n1, n2, o1, p1, 'words', 'of' are in the heard texts)
        assert (unheard["num_words"], unheard["num_unheard"], unheard["words"]) == (21, 3, ["n3", "o2", "p2"])
        assert unheard["heard_text"] == [str(heard_a), str(heard_b)]
    scores = score_check(jsonl, ref, text=text, heard_text=[heard_a])
    assert scores["unheard"]["num_unheard"] == 5
    assert format_check("c", scores).endswith("; 5 of 21 words unheard in ASR training")
    assert "unheard" not in score_check(jsonl, ref, text=text)
    # the command line: --heard_text needs --text
    assert score_bin.main(["--ref", str(ref), "--infer_jsonl", str(jsonl), "--text", str(text),
                           "--heard_text", str(heard_a), str(heard_b)]) == 0  # fmt: skip
    assert json.loads((tmp_path / "check_scores.json").read_text())["unheard"]["num_unheard"] == 3
    with pytest.raises(SystemExit) as exit_info:
        score_bin.main(["--ref", str(ref), "--infer_jsonl", str(jsonl), "--heard_text", str(heard_a)])
    assert exit_info.value.code == 2
