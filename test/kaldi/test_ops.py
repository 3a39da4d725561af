"""Tests for the Kaldi data-dir operations: speechsent.kaldi.{validate,fix,copy,combine,subset}."""

from __future__ import annotations

import os
from pathlib import Path

# test/kaldi is on sys.path (pytest's rootdir-less test dirs): the shared cases module
import data_dir_cases as cases  # test/kaldi's shared cases (pytest puts test/kaldi on sys.path)
import pytest

import speechsent.kaldi.validate as kaldi_validate
from speechsent.kaldi import checked, formats, lengths
from speechsent.kaldi.combine import combine
from speechsent.kaldi.copy import copy
from speechsent.kaldi.data_dir import DataDir
from speechsent.kaldi.fix import LOCK_NAME, fix
from speechsent.kaldi.subset import (
    select_evenly,
    select_per_speaker,
    select_random,
    select_speakers,
    subset,
    subset_by_utts,
)
from speechsent.kaldi.table import KaldiDataError, read_table
from speechsent.kaldi.validate import ValidateOptions, validate
from speechsent.utils.seeded import seeded_order

BROKEN = cases.BROKEN
make_valid_dir = cases.make_valid_dir
get, put = cases.get, cases.put

LABEL_FILES = ("utt2sentiment", "utt2pseudo", "utt2pseudo_prob")


def validate_opts(options):
    return {k: v for k, v in vars(ValidateOptions.from_args(options)).items()}


@pytest.fixture
def valid(tmp_path):
    return make_valid_dir(tmp_path / "data" / "swbd_train")


# ==========================================================================================================
# validate


def test_valid_dir_passes(valid):
    warnings = []
    assert validate(valid, warnings=warnings) == []
    assert warnings == []


def test_valid_dir_without_optional_files_passes(tmp_path):
    d = make_valid_dir(tmp_path / "d", feats=False)
    for name in ("reco2file_and_channel", "reco2dur", "utt2dur", "spk2gender", *LABEL_FILES):
        (d / name).unlink()
    assert validate(d, no_feats=True) == []
    assert any("feats.scp" in p for p in validate(d))


def test_pseudo_labels_may_cover_a_subset(tmp_path):
    """Utterances without a transcript get no pseudo label: utt2pseudo (+ prob) may be a subset of utt2spk."""
    d = make_valid_dir(tmp_path / "d")
    cases._drop("utt2pseudo", i=2)(d)
    cases._drop("utt2pseudo_prob", i=2)(d)
    assert validate(d) == []


@pytest.mark.parametrize("case", BROKEN, ids=lambda c: c.id)
def test_every_check_fails(tmp_path, case):
    d = make_valid_dir(tmp_path / "d")
    case.mutate(d)
    problems = validate(d, **validate_opts(case.options))
    assert problems, f"{case.id}: no problem found"
    prefix = str(d / case.file)
    hits = [p for p in problems if p.startswith(prefix) and case.fragment in p]
    assert hits, f"{case.id}: expected a problem for {case.file} with {case.fragment!r}, got {problems}"


def test_problem_names_file_and_line(valid):
    cases._set_value("utt2sentiment", "Happy", i=3)(valid)
    (problem,) = validate(valid)
    assert problem.startswith(f"{valid / 'utt2sentiment'}:4: ")
    assert "Happy" in problem


def test_all_problems_reported_not_only_first(valid):
    cases._set_value("utt2sentiment", "Happy")(valid)
    cases._set_value("utt2pseudo_prob", "2")(valid)
    cases._swap("text")(valid)
    problems = validate(valid)
    assert len(problems) == 3
    assert {Path(p.split(":")[0]).name for p in problems} == {"utt2sentiment", "utt2pseudo_prob", "text"}


def test_repeated_problem_is_summarised(valid):
    put(valid, "utt2sentiment", [line.replace("Neutral", "neutral") for line in get(valid, "utt2sentiment")])
    (problem,) = validate(valid)
    assert "more lines like this" in problem


def test_no_directory(tmp_path):
    assert validate(tmp_path / "nope") == [f"{tmp_path / 'nope'}: no such directory"]


def test_options_relax_their_check(valid):
    (valid / "text").unlink()
    assert validate(valid, no_text=True) == []
    (valid / "feats.scp").unlink()
    (valid / "utt2num_frames").unlink()
    (valid / "cmvn.scp").unlink()
    assert validate(valid, no_text=True, no_feats=True) == []


def test_no_wav_without_segments(valid):
    for name in ("wav.scp", "segments", "reco2file_and_channel", "reco2dur"):
        (valid / name).unlink()
    assert validate(valid, no_wav=True) == []
    assert any("wav.scp: no such file" in p for p in validate(valid))


def test_non_print_option(valid):
    cases._text_line(0, "hello \x07 there")(valid)
    assert validate(valid)
    assert validate(valid, non_print=True) == []


def test_no_spk_sort_option(valid):
    cases._respeak_first(valid)
    for name in ("spk2gender", "cmvn.scp"):
        (valid / name).unlink()
    assert any("not sorted by speaker" in p for p in validate(valid))
    assert validate(valid, no_spk_sort=True) == []


def test_one_speaker_is_a_warning(tmp_path):
    d = make_valid_dir(tmp_path / "d", conversations=("sw02001",))
    # keep only channel A: one speaker
    for name in ("utt2spk", "text", "segments", "utt2dur", "feats.scp", "utt2num_frames", *LABEL_FILES):
        put(d, name, [line for line in get(d, name) if line.startswith("sw02001-A")])
    for name in ("spk2utt", "wav.scp", "reco2file_and_channel", "reco2dur", "spk2gender", "cmvn.scp"):
        put(d, name, [line for line in get(d, name) if line.startswith("sw02001-A")])
    warnings = []
    assert validate(d, warnings=warnings) == []
    assert any("only one speaker" in w for w in warnings)


def test_channel_one_is_a_warning(valid):
    put(valid, "reco2file_and_channel", [line[:-1] + "1" for line in get(valid, "reco2file_and_channel")])
    warnings = []
    assert validate(valid, warnings=warnings) == []
    assert any("not 1" in w for w in warnings)


def _line_by_line_only(monkeypatch):
    """Turn off validate's whole-file fast paths: every check runs line by line / mapping by mapping."""
    monkeypatch.setattr(checked, "bulk_load", lambda *a, **k: None)
    monkeypatch.setattr(formats, "bulk_load", lambda *a, **k: None)
    monkeypatch.setattr(kaldi_validate, "_text_is_clean", lambda *a: False)
    monkeypatch.setattr(kaldi_validate, "_spk2utt_matches", lambda *a: False)
    monkeypatch.setattr(kaldi_validate, "non_decreasing", lambda *a: False)


def _extra_variants():
    """Clean-looking variants the fast paths must get right (valid unless said)."""

    def spacing(d):  # blanks doubled and trailing in text values: fine there, not in other tables
        put(d, "text", [line.replace(" ", "  ", 2) + "  " for line in get(d, "text")])

    def spk2utt_order(d):  # the same mapping, utterances listed in another order
        put(
            d,
            "spk2utt",
            [" ".join([line.split()[0], *reversed(line.split()[1:])]) for line in get(d, "spk2utt")],
        )

    def unicode_text(d):
        cases._text_line(2, "caf\u00e9 na\u00efve \u2013 ok")(d)

    def not_utf8(d):
        cases._raw_edit("text", lambda b: b.replace(b"uh-huh", b"uh-h\xffuh", 1))(d)

    def newline_moved(d):  # "u3 d3\nu4 d4" -> "u3\nd3 u4 d4": the same fields, other lines
        for name in ("segments", "utt2dur"):
            lines = get(d, name)
            key, value = lines[3].split(" ", 1)
            lines[3:5] = [key, f"{value} {lines[4]}"]
            put(d, name, lines)

    return [
        ("spacing", spacing),
        ("spk2utt_order", spk2utt_order),
        ("unicode_text", unicode_text),
        ("not_utf8", not_utf8),
        ("respeak", cases._respeak_first),
        ("newline_moved", newline_moved),
    ]


@pytest.mark.parametrize(
    "mutate",
    [c.mutate for c in BROKEN] + [m for _, m in _extra_variants()],
    ids=[c.id for c in BROKEN] + [i for i, _ in _extra_variants()],
)
def test_fast_paths_agree_with_line_by_line(tmp_path, monkeypatch, mutate):
    """validate finds the same problems and warnings, worded the same, with and without its fast paths."""
    d = make_valid_dir(tmp_path / "d")
    mutate(d)
    for opts in ({}, {"no_spk_sort": True, "non_print": True}):
        fast_warnings: list[str] = []
        fast = validate(d, warnings=fast_warnings, **opts)
        with monkeypatch.context() as m:
            _line_by_line_only(m)
            slow_warnings: list[str] = []
            slow = validate(d, warnings=slow_warnings, **opts)
        assert fast == slow
        assert fast_warnings == slow_warnings


def test_spacing_in_text_values_is_valid(valid):
    put(valid, "text", [line.replace(" ", "  ", 2) + " " for line in get(valid, "text")])
    assert validate(valid) == []
    put(valid, "utt2dur", [line.replace(" ", "  ") for line in get(valid, "utt2dur")])
    assert validate(valid) == []  # blanks around a value are not part of it (Kaldi's readers)


def test_spk2utt_in_another_order_is_valid(valid):
    put(
        valid,
        "spk2utt",
        [" ".join([line.split()[0], *reversed(line.split()[1:])]) for line in get(valid, "spk2utt")],
    )
    assert validate(valid) == []


def test_keys_sorted_as_bytes_not_code_points(tmp_path):
    # a surrogate-escaped byte (0xff) sorts after any UTF-8 sequence, unlike its code point U+DCFF
    d = tmp_path / "d"
    d.mkdir()
    utts = ["x\U0001f600", "x\udcff"]  # byte order
    put(d, "utt2spk", [f"{u} x" for u in utts])
    put(d, "spk2utt", ["x " + " ".join(utts)])
    assert validate(d, no_text=True, no_wav=True, no_feats=True) == []
    put(d, "utt2spk", [f"{u} x" for u in reversed(utts)])
    assert any(
        "not sorted in LC_ALL=C order" in p for p in validate(d, no_text=True, no_wav=True, no_feats=True)
    )


def test_validate_options_from_args():
    assert ValidateOptions.from_args(["--no-feats", "--no_text"]) == ValidateOptions(
        no_feats=True, no_text=True
    )
    assert ValidateOptions(no_wav=True).to_args() == ["--no-wav"]
    with pytest.raises(ValueError):
        ValidateOptions.from_args(["--no-such"])


# ==========================================================================================================
# fix


def _break_consistency(d: Path) -> None:
    """Several inconsistencies at once."""
    cases._swap("text")(d)  # unsorted
    cases._dup("utt2dur", 5)(d)  # duplicate
    cases._drop("text", 7)(d)  # utterance without text
    cases._drop("utt2sentiment", 12)(d)  # utterance without a label
    cases._set_value("segments", "sw02001-A 3.0 3.0", i=20)(d)  # end <= start
    cases._append("wav.scp", "sw09999-A /db/none.wav")(d)  # recording without segments
    # all segments of one recording point to a recording that is not in wav.scp
    put(d, "segments", [line.replace(" sw04325-B ", " sw04325-X ") for line in get(d, "segments")])
    cases._drop("spk2utt", 0)(d)  # stale spk2utt


def test_fix_repairs_inconsistent_dir(valid):
    before = {p.name: p.read_bytes() for p in valid.iterdir() if p.is_file()}
    _break_consistency(valid)
    broken = {p.name: p.read_bytes() for p in valid.iterdir() if p.is_file()}
    assert validate(valid)
    report = fix(valid)
    assert validate(valid) == [], report.messages
    # 48 utterances: -1 (text) -1 (label) -1 (bad segment) -6 (sw04325-B has no recording)
    assert (report.num_utts_before, report.num_utts_after) == (48, 39)
    assert "kept 39 utterances out of 48" in report.messages
    assert report.removed_lines["utt2sentiment"] == 47 - 39
    assert report.removed_lines["wav.scp"] == 9 - 7
    assert any("not in sorted order" in m and "text" in m for m in report.messages)
    assert any("duplicate" in m and "utt2dur" in m for m in report.messages)
    assert any("malformed" in m and "segments" in m for m in report.messages)
    # originals backed up byte for byte
    for name, data in broken.items():
        assert (valid / ".backup" / name).read_bytes() == data
    # labels carried, filtered to the kept utterances
    d = DataDir(valid)
    assert set(d.utt2sentiment) == set(d.utt_ids) == set(d.utt2pseudo) == set(d.utt2pseudo_prob)
    assert len(before) == len(broken)


def test_fix_valid_dir_changes_nothing(valid):
    stat = {p.name: p.stat().st_mtime_ns for p in valid.iterdir() if p.is_file()}
    data = {p.name: p.read_bytes() for p in valid.iterdir() if p.is_file()}
    report = fix(valid)
    assert report.num_utts_after == report.num_utts_before == 48
    assert report.removed_lines == {}
    assert "kept all 48 utterances." in report.messages
    assert {p.name: p.read_bytes() for p in valid.iterdir() if p.is_file()} == data
    assert {p.name: p.stat().st_mtime_ns for p in valid.iterdir() if p.is_file()} == stat


def test_fix_is_idempotent(valid):
    _break_consistency(valid)
    fix(valid)
    after = {p.name: p.read_bytes() for p in valid.iterdir() if p.is_file()}
    report = fix(valid)
    assert report.removed_lines == {}
    assert {p.name: p.read_bytes() for p in valid.iterdir() if p.is_file()} == after


def test_fix_makes_spk2utt(valid):
    (valid / "spk2utt").unlink()
    fix(valid)
    assert validate(valid) == []


def test_fix_extra_files(valid):
    cases._copy_keys("utt2spk", "text.asr", "hello", drop=10)(valid)
    cases._copy_keys("spk2utt", "spk2age", "42", drop=0)(valid)
    report = fix(valid, utt_extra_files="text.asr", spk_extra_files=["spk2age"])
    # one utterance without text.asr, one speaker (6 utterances) without spk2age
    assert report.num_utts_after == 48 - 1 - 6
    assert len(read_table(valid / "text.asr")) == 41
    assert validate(valid) == []


def test_fix_nothing_left(valid):
    put(valid, "utt2sentiment", [])
    data = (valid / "utt2spk").read_bytes()
    with pytest.raises(KaldiDataError, match="no utterances remained"):
        fix(valid)
    assert (valid / "utt2spk").read_bytes() == data


def test_fix_segments_without_wav(valid):
    (valid / "wav.scp").unlink()
    with pytest.raises(KaldiDataError, match="wav.scp"):
        fix(valid)


def test_fix_without_utt2spk(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(KaldiDataError, match="utt2spk"):
        fix(tmp_path / "d")


def test_fix_drops_overshooting_segments(valid):
    cases._set_value("reco2dur", "20.0")(valid)  # sw02001-A: segments after 20.5 s are beyond the end
    report = fix(valid)
    assert report.num_utts_after == 48 - 4
    assert validate(valid) == []


# ==========================================================================================================
# copy


def test_copy_with_prefixes_carries_labels(valid, tmp_path):
    dst = tmp_path / "copy"
    messages = []
    problems = copy(valid, dst, utt_prefix="sp1.1-", spk_prefix="sp1.1-", messages=messages)
    assert problems == []
    src, out = DataDir(valid), DataDir(dst)
    assert out.utt_ids == ["sp1.1-" + u for u in src.utt_ids]
    assert out.utt2spk["sp1.1-" + src.utt_ids[0]] == "sp1.1-" + src.utt2spk[src.utt_ids[0]]
    assert out.utt2uniq == {"sp1.1-" + u: u for u in src.utt_ids}
    for name in (*LABEL_FILES, "text", "utt2dur", "feats.scp"):
        assert read_table(dst / name) == {"sp1.1-" + k: v for k, v in read_table(valid / name).items()}
    assert read_table(dst / "segments") == {
        "sp1.1-" + k: v for k, v in read_table(valid / "segments").items()
    }
    assert read_table(dst / "wav.scp") == read_table(valid / "wav.scp")  # recording ids unchanged
    assert read_table(dst / "cmvn.scp") == {
        "sp1.1-" + k: v for k, v in read_table(valid / "cmvn.scp").items()
    }
    assert any("copied data" in m for m in messages)


def test_copy_suffix_resorts(valid, tmp_path):
    dst = tmp_path / "copy"
    assert copy(valid, dst, utt_suffix="-x", spk_suffix="-x") == []
    keys = [line.split()[0] for line in get(dst, "utt2spk")]
    assert keys == sorted(keys, key=str.encode)


def test_copy_plain_has_no_utt2uniq(valid, tmp_path):
    assert copy(valid, tmp_path / "c") == []
    assert not (tmp_path / "c" / "utt2uniq").exists()
    for name in os.listdir(valid):
        assert (tmp_path / "c" / name).read_bytes() == (valid / name).read_bytes()


def test_copy_moves_stale_files(valid, tmp_path):
    dst = tmp_path / "c"
    dst.mkdir()
    (dst / "utt2lang").write_text("old en\n")
    for name in ("feats.scp", "utt2num_frames", "cmvn.scp"):
        (valid / name).unlink()
    messages = []
    assert copy(valid, dst, messages=messages) == []  # validated with --no-feats added
    assert not (dst / "utt2lang").exists()
    assert (dst / ".backup" / "utt2lang").read_text() == "old en\n"
    assert any("utt2lang" in m for m in messages)


def test_copy_returns_validation_problems(valid, tmp_path):
    cases._set_value("utt2sentiment", "Happy")(valid)
    problems = copy(valid, tmp_path / "c")
    assert any("utt2sentiment" in p and "bad sentiment label" in p for p in problems)
    assert copy(valid, tmp_path / "c2", validate_opts=["--no-feats"])


def test_copy_same_dir(valid):
    with pytest.raises(KaldiDataError, match="different"):
        copy(valid, valid)


# ==========================================================================================================
# combine


def _split(src: Path, tmp_path: Path) -> tuple[Path, Path]:
    utts = DataDir(src).utt_ids
    a, b = tmp_path / "a", tmp_path / "b"
    subset_by_utts(src, a, utts[::2])
    subset_by_utts(src, b, utts[1::2])
    return a, b


def test_combine_restores_split(valid, tmp_path):
    a, b = _split(valid, tmp_path)
    report = combine(tmp_path / "ab", [a, b])
    assert validate(tmp_path / "ab") == []
    for name in os.listdir(valid):
        assert (tmp_path / "ab" / name).read_bytes() == (valid / name).read_bytes(), name
    assert "combined utt2sentiment" in report.messages
    assert "combined utt2pseudo" in report.messages
    assert report.fix is not None and report.fix.num_utts_after == 48


def test_combine_skips_file_missing_somewhere(valid, tmp_path):
    a, b = _split(valid, tmp_path)
    (b / "utt2sentiment").unlink()
    report = combine(tmp_path / "ab", [a, b])
    assert report.skipped == ["utt2sentiment"]
    assert not (tmp_path / "ab" / "utt2sentiment").exists()
    assert (tmp_path / "ab" / "utt2pseudo").exists()
    assert validate(tmp_path / "ab") == []


def test_combine_overlapping_identical_entries(valid, tmp_path):
    a, _ = _split(valid, tmp_path)
    combine(tmp_path / "ab", [valid, a], skip_fix=True)
    assert (tmp_path / "ab" / "utt2spk").read_bytes() == (valid / "utt2spk").read_bytes()


def test_combine_conflict(valid, tmp_path):
    a, _ = _split(valid, tmp_path)
    cases._set_value(
        "utt2sentiment", "Positive" if get(a, "utt2sentiment")[0].endswith("Negative") else "Negative"
    )(a)
    with pytest.raises(KaldiDataError, match="different values"):
        combine(tmp_path / "ab", [valid, a])


def test_combine_extra_files_and_skip_fix(valid, tmp_path):
    a, b = _split(valid, tmp_path)
    cases._copy_keys("utt2spk", "utt2category", "swbd")(a)
    cases._copy_keys("utt2spk", "utt2category", "swbd")(b)
    report = combine(tmp_path / "ab", [a, b], extra_files="utt2category", skip_fix=True)
    assert report.fix is None
    assert len(read_table(tmp_path / "ab" / "utt2category")) == 48


def test_combine_makes_missing_segments(valid, tmp_path):
    # a directory without segments: one utterance per recording, wav.scp indexed by utterance
    c = tmp_path / "fisher"
    c.mkdir()
    put(c, "utt2spk", ["fe_03_00001-A_000061-000217 fe_03_00001-A"])
    put(c, "spk2utt", ["fe_03_00001-A fe_03_00001-A_000061-000217"])
    put(c, "wav.scp", ["fe_03_00001-A_000061-000217 /db/fe_03_00001-A.wav"])
    put(c, "text", ["fe_03_00001-A_000061-000217 hello"])
    put(c, "utt2dur", ["fe_03_00001-A_000061-000217 1.56"])
    for name in ("feats.scp", "utt2num_frames", "cmvn.scp"):
        (valid / name).unlink()
    report = combine(tmp_path / "all", [valid, c])
    seg = read_table(tmp_path / "all" / "segments")
    assert seg["fe_03_00001-A_000061-000217"] == "fe_03_00001-A_000061-000217 0 1.56"
    assert "utt2sentiment" in report.skipped
    assert validate(tmp_path / "all", no_feats=True) == []


def test_combine_refuses_to_overwrite(valid, tmp_path):
    with pytest.raises(KaldiDataError, match="also a source"):
        combine(valid, [valid])
    other = tmp_path / "notdata"
    other.mkdir()
    (other / "precious.txt").write_text("x")
    with pytest.raises(KaldiDataError, match="not a data directory"):
        combine(other, [valid])
    assert (other / "precious.txt").exists()


# ==========================================================================================================
# subset


@pytest.fixture
def big(tmp_path):
    """~3 hours: 20 conversations x 2 sides x 40 segments of 2..25 s."""
    times = []
    t = 0.0
    for i in range(40):
        dur = 2.0 + (i * 7.3) % 23
        times.append((round(t, 2), round(t + dur, 2)))
        t += dur + 1.0
    convs = tuple(f"sw0{2001 + i}" for i in range(20))
    d = make_valid_dir(tmp_path / "big", conversations=convs, times=tuple(times))
    put(d, "reco2dur", [f"{line.split()[0]} {t + 1:.2f}" for line in get(d, "reco2dur")])
    assert validate(d) == []
    return d


def _total(d: Path) -> float:
    return sum(DataDir(d).durations().values())


def test_subset_hours_within_budget_deterministic_nested(big, tmp_path):
    src_durs = DataDir(big).durations()
    previous: set[str] = set()
    for hours in (0.25, 0.5, 0.75, 1.0, 2.5):
        dst = tmp_path / f"h{hours}"
        report = subset(big, dst, "hours", hours=hours, seed=7)
        assert validate(dst) == []
        utts = set(DataDir(dst).utt_ids)
        total = _total(dst)
        assert total <= hours * 3600 + 1e-6
        assert total > hours * 3600 - max(src_durs.values())  # short of the budget by less than one utterance
        assert abs(report.seconds - total) < 1e-6
        assert previous <= utts  # nested
        previous = utts
        again = tmp_path / f"again{hours}"
        subset(big, again, "hours", hours=hours, seed=7)
        assert (again / "utt2spk").read_bytes() == (dst / "utt2spk").read_bytes()
        # labels carried
        for name in LABEL_FILES:
            assert set(read_table(dst / name)) == utts


def test_subset_hours_seed_matters(big, tmp_path):
    subset(big, tmp_path / "s1", "hours", hours=0.5, seed=1)
    subset(big, tmp_path / "s2", "hours", hours=0.5, seed=2)
    assert read_table(tmp_path / "s1" / "utt2spk") != read_table(tmp_path / "s2" / "utt2spk")


def test_subset_hours_more_than_available(big, tmp_path):
    report = subset(big, tmp_path / "all", "hours", hours=100.0)
    assert report.num_utts_after == report.num_utts_before
    assert any("taking all" in m for m in report.messages)


def test_subset_hours_from_segments(big, tmp_path):
    (big / "utt2dur").unlink()
    subset(big, tmp_path / "h", "hours", hours=0.5, seed=3)
    assert _total(tmp_path / "h") <= 1800


def test_subset_hours_needs_durations(big, tmp_path):
    for name in ("utt2dur", "segments", "reco2file_and_channel", "reco2dur"):
        (big / name).unlink()
    with pytest.raises(KaldiDataError, match="utt2dur"):
        subset(big, tmp_path / "h", "hours", hours=0.5)


def test_subset_filters_recordings(big, tmp_path):
    dst = tmp_path / "s"
    subset(big, dst, "hours", hours=0.1, seed=0)
    d = DataDir(dst)
    recos = {s.reco for s in d.segments.values()}
    assert set(d.wav_scp) == recos == set(d.reco2dur) == set(d.reco2file_and_channel)
    assert set(d.spk2gender) == set(d.spk_ids) == set(d.cmvn_scp)


def test_subset_random_nested_and_deterministic(big, tmp_path):
    a = select_random(DataDir(big).utt_ids, 50, seed=5)
    b = select_random(DataDir(big).utt_ids, 100, seed=5)
    assert b[:50] == a
    subset(big, tmp_path / "r", "random", num=50, seed=5)
    assert set(read_table(tmp_path / "r" / "utt2spk")) == set(a)


def test_seeded_order_is_independent_of_other_ids():
    ids = [f"u{i:03d}" for i in range(100)]
    full = seeded_order(ids, 3)
    part = seeded_order(ids[:40], 3)
    assert [u for u in full if u in set(ids[:40])] == part
    assert seeded_order(ids, 3) == full != seeded_order(ids, 4)


def test_select_evenly_matches_kaldi():
    items = [str(i) for i in range(10)]
    assert select_evenly(items, 4) == ["1", "4", "6", "9"]
    assert select_evenly(items, 10) == items
    assert select_evenly(items, 1) == ["9"]
    with pytest.raises(ValueError, match="more utterances"):
        select_evenly(items, 11)


def test_select_per_speaker_matches_kaldi():
    spk2utt = {"a": ["a1", "a2", "a3", "a4", "a5"], "b": ["b1"]}
    assert select_per_speaker(spk2utt, 2) == ["a1", "a3", "b1"]
    assert select_per_speaker(spk2utt, 1) == ["a1", "b1"]


def test_select_speakers():
    spk2utt = {f"s{i}": [f"s{i}-{j}" for j in range(3)] for i in range(10)}
    chosen = select_speakers(spk2utt, 7, seed=1)
    assert len(chosen) == 9
    assert select_speakers(spk2utt, 7, seed=1) == chosen


@pytest.mark.parametrize(
    ("method", "num", "expected"),
    [("first", 3, slice(0, 3)), ("last", 2, slice(46, 48)), ("even", 48, slice(0, 48))],
)
def test_subset_first_last_even(valid, tmp_path, method, num, expected):
    subset(valid, tmp_path / "s", method, num=num)
    assert DataDir(tmp_path / "s").utt_ids == DataDir(valid).utt_ids[expected]
    assert validate(tmp_path / "s") == []


def test_subset_shortest(valid, tmp_path):
    subset(valid, tmp_path / "s", "shortest", num=8)
    durs = DataDir(tmp_path / "s").utt2dur
    assert sorted(durs.values()) == [2.5] * 8


def test_subset_lists(valid, tmp_path):
    utts = DataDir(valid).utt_ids
    (tmp_path / "utts").write_text(f"{utts[3]}\n{utts[10]} extra fields\nnot-an-utt\n")
    report = subset(valid, tmp_path / "u", "utt_list", id_list=tmp_path / "utts")
    assert DataDir(tmp_path / "u").utt_ids == [utts[3], utts[10]]
    assert any("not-an-utt" in m for m in report.messages)
    (tmp_path / "spks").write_text("sw02005-B\n")
    subset(valid, tmp_path / "s", "spk_list", id_list=tmp_path / "spks")
    d = DataDir(tmp_path / "s")
    assert d.spk_ids == ["sw02005-B"] and len(d.utt_ids) == 6
    assert list(d.wav_scp) == ["sw02005-B"]
    assert validate(tmp_path / "s") == []


def test_subset_per_spk_and_speakers(valid, tmp_path):
    subset(valid, tmp_path / "p", "per_spk", num=2)
    assert len(DataDir(tmp_path / "p").utt_ids) == 16
    subset(valid, tmp_path / "s", "speakers", num=10, seed=0)
    assert len(DataDir(tmp_path / "s").spk_ids) == 2
    assert validate(tmp_path / "s") == []


def test_subset_errors(valid, tmp_path):
    with pytest.raises(ValueError, match="more utterances"):
        subset(valid, tmp_path / "s", "first", num=49)
    with pytest.raises(ValueError):
        subset(valid, tmp_path / "s", "hours", hours=-1)
    with pytest.raises(ValueError, match="unknown subset method"):
        subset(valid, tmp_path / "s", "nope", num=1)
    with pytest.raises(KaldiDataError, match="different"):
        subset(valid, valid, "first", num=1)


def test_subset_filters_stm(valid, tmp_path):
    put(
        valid, "stm", [";; comment", "sw02001 A sw02001-A 0.98 11.56 hi", "sw02005 B sw02005-B 0.98 11.56 yo"]
    )
    (tmp_path / "spks").write_text("sw02005-B\n")
    subset(valid, tmp_path / "s", "spk_list", id_list=tmp_path / "spks")
    assert get(tmp_path / "s", "stm") == [";; comment", "sw02005 B sw02005-B 0.98 11.56 yo"]


# ==========================================================================================================
# Files written by other tools (issue 12): recording lengths, BOM/CRLF, encodings, backups


def _audio_dir(
    d: Path, audio: Path, seconds: dict[str, float], segments: list[str], fmt: str = "WAV"
) -> Path:
    """A data dir without reco2dur whose recordings are audio files written by soundfile (libsndfile)."""
    sf = pytest.importorskip("soundfile")
    import numpy as np

    audio.mkdir(parents=True, exist_ok=True)
    d.mkdir(parents=True)
    wav = []
    for reco, secs in sorted(seconds.items()):
        path = audio / f"{reco}.{'sph' if fmt == 'NIST' else 'wav'}"
        sf.write(path, np.zeros(round(8000 * secs), dtype=np.int16), 8000, format=fmt, subtype="PCM_16")
        wav.append(f"{reco} {path}")
    put(d, "wav.scp", wav)
    put(d, "segments", segments)
    utts = [line.split()[0] for line in segments]
    put(d, "utt2spk", [f"{u} {u.split('_')[0]}" for u in utts])
    spk2utt: dict[str, list[str]] = {}
    for u in utts:
        spk2utt.setdefault(u.split("_")[0], []).append(u)
    put(d, "spk2utt", [f"{s} {' '.join(us)}" for s, us in sorted(spk2utt.items())])
    put(d, "text", [f"{u} hello" for u in utts])
    return d


@pytest.mark.parametrize("fmt", ["WAV", "NIST"])
def test_validate_segments_past_the_audio_header(tmp_path, fmt):
    """Without reco2dur, the length comes from the header of a WAV / SPHERE file written by libsndfile."""
    segs = ["a_1 a 0.0 1.0", "a_2 a 1.0 3.4", "b_1 b 0.5 1.9"]
    d = _audio_dir(tmp_path / "ok", tmp_path / "audio_ok", {"a": 3.0, "b": 2.0}, segs, fmt)
    warnings: list[str] = []
    assert validate(d, no_feats=True, warnings=warnings) == []  # a_2: 0.4 s over, truncated by Kaldi
    assert warnings == []
    segs = ["a_1 a 0.0 1.0", "a_2 a 1.0 3.5", "b_1 b 2.0 2.2"]
    d = _audio_dir(tmp_path / "bad", tmp_path / "audio_bad", {"a": 3.0, "b": 2.0}, segs, fmt)
    problems = validate(d, no_feats=True)
    assert len(problems) == 2, problems
    assert "1 segment(s) start at or after the end of their recording" in problems[0]
    assert "b_1: starts at 2.0 s, b lasts 2.000 s by the header of" in problems[0]
    assert "1 segment(s) end 0.5 s or more after their recording ends" in problems[1]
    assert "a_2: ends at 3.5 s, a lasts 3.000 s" in problems[1]
    assert all(p.startswith(str(d / "segments")) for p in problems)
    # fix drops them (logged), and the result validates
    report = fix(d)
    assert report.problems == [] and report.num_utts_after == 1
    assert any(m.startswith("dropping 1 segment(s) start at or after") for m in report.messages)
    assert validate(d, no_feats=True) == []


def test_validate_reco2dur_takes_precedence_over_the_header(tmp_path):
    d = _audio_dir(tmp_path / "d", tmp_path / "audio", {"a": 3.0}, ["a_1 a 0.0 5.0"])
    assert validate(d, no_feats=True)
    put(d, "reco2dur", ["a 5.0"])  # says 5 s: the header (3 s) is not read
    assert validate(d, no_feats=True) == []
    put(d, "reco2dur", ["a 2.0"])
    assert "end 0.5 s or more after" in " ".join(validate(d, no_feats=True))


def test_validate_reco2dur_boundaries(valid):
    """Kaldi's extract-segments: a start at or after the end is skipped, an end past it by less than
    --max-overshoot (0.5 s) truncated, by that or more skipped."""
    cases._set_value("reco2dur", "66.0", i=0)(valid)  # sw02001-A: its last segment ends at 66.0
    for end, ok in ((66.49, True), (66.5, False)):
        cases._set_value("segments", f"sw02001-A 60.25 {end}", i=5)(valid)
        assert (validate(valid) == []) is ok, end


def test_validate_never_runs_a_pipe(tmp_path):
    """Headers are read only for plain paths and a sph2pipe pipe's input file; other pipes are not run."""
    d = _audio_dir(
        tmp_path / "d", tmp_path / "audio", {"a": 3.0, "b": 2.0}, ["a_1 a 0.0 9.0", "b_1 b 0.0 9.0"]
    )
    marker = tmp_path / "ran"
    put(d, "wav.scp", [f"a touch {marker} |", f"b sph2pipe -f wav -p -c 1 {tmp_path / 'audio' / 'b.wav'} |"])
    problems = validate(d, no_feats=True)
    assert not marker.exists()
    assert len(problems) == 1 and "b_1: ends at 9.0 s, b lasts 2.000 s" in problems[0], problems


def test_validate_unreadable_header_is_a_warning(tmp_path):
    d = _audio_dir(
        tmp_path / "d", tmp_path / "audio", {"a": 3.0, "b": 2.0}, ["a_1 a 0.0 1.0", "b_1 b 0.0 1.0"]
    )
    put(d, "wav.scp", [f"a {tmp_path / 'missing.wav'}", f"b {tmp_path / 'audio' / 'b.wav'}"])
    warnings: list[str] = []
    assert validate(d, no_feats=True, warnings=warnings) == []
    assert (
        len(warnings) == 1 and "could not be read (e.g. a: " in warnings[0] and "missing.wav" in warnings[0]
    )


def test_validate_without_a_header_reader(tmp_path, monkeypatch):
    """In a bare python3 (no numpy, no soundfile) the headers are not read, and a warning says so."""
    d = _audio_dir(
        tmp_path / "d", tmp_path / "audio", {"a": 3.0, "b": 2.0}, ["a_1 a 0.0 9.0", "b_1 b 0.0 1.0"]
    )
    monkeypatch.setattr(lengths, "header_reader", lambda: None)
    warnings: list[str] = []
    assert validate(d, no_feats=True, warnings=warnings) == []
    assert len(warnings) == 1 and "were not read (this python has neither numpy nor soundfile" in warnings[0]


def test_fix_keeps_the_first_line_of_a_bom_file(valid):
    """A BOM'd text (a Windows editor's "UTF-8 with BOM"): fix removes the BOM, never the first utterance."""
    text = (valid / "text").read_text(encoding="utf-8")
    (valid / "text").write_text(text, encoding="utf-8-sig")
    report = fix(valid)
    assert report.num_utts_after == 48 and report.problems == []
    assert (valid / "text").read_text(encoding="utf-8") == text
    assert any("removed the UTF-8 byte-order mark" in m for m in report.messages)
    assert (valid / ".backup" / "text").read_bytes() == b"\xef\xbb\xbf" + text.encode()


def test_fix_converts_utf16(valid):
    """A Windows editor's "Unicode" (UTF-16 with its BOM): named by validate, converted by fix."""
    text = (valid / "text").read_text(encoding="utf-8")
    (valid / "text").write_text(text, encoding="utf-16")
    problems = validate(valid)
    assert len(problems) == 1 and "text:1: the file is UTF-16" in problems[0]
    report = fix(valid)
    assert report.num_utts_after == 48 and report.problems == [] and "text" not in report.removed_lines
    assert any("from UTF-16 to UTF-8" in m for m in report.messages)
    assert (valid / "text").read_text(encoding="utf-8") == text


def test_fix_removes_crlf(valid):
    for name in ("wav.scp", "segments"):
        (valid / name).write_bytes((valid / name).read_bytes().replace(b"\n", b"\r\n"))
    assert validate(valid)
    report = fix(valid)
    assert report.num_utts_after == 48 and report.problems == []
    assert validate(valid) == []
    assert any("carriage returns (Windows CRLF line ends) of 8 line(s)" in m for m in report.messages)


def test_fix_drops_text_that_is_not_utf8(valid):
    """A latin-1 text: the utterances whose line is not UTF-8 are dropped, counted, and the dir validates."""
    lines = get(valid, "text")
    lines[3] = lines[3] + " caf\u00e9"
    lines[9] = lines[9] + " na\u00efve"
    (valid / "text").write_bytes("".join(line + "\n" for line in lines).encode("latin-1"))
    report = fix(valid)
    assert report.num_utts_after == 46 and report.problems == []
    assert any("dropped 2 utterance(s) whose text is not valid UTF-8" in m and ":4: byte 0xe9" in m
               for m in report.messages)  # fmt: skip
    assert validate(valid) == []


def test_fix_reports_what_it_cannot_repair(valid):
    cases._text_line(0, "<s> hello")(valid)
    report = fix(valid)
    assert len(report.problems) == 1 and "illegal symbol <s>" in report.problems[0]


def test_fix_numbers_its_backups(valid):
    """A second fix never overwrites the first backup: .backup, then .backup.1 ..."""
    originals = {p.name: p.read_bytes() for p in valid.iterdir() if p.is_file()}
    cases._swap("text")(valid)
    first = {p.name: p.read_bytes() for p in valid.iterdir() if p.is_file()}
    assert fix(valid).backup_dir == valid / ".backup"
    report = fix(valid)  # nothing to change: no second backup
    assert report.backup_dir is None and "nothing to change" in report.messages[-1]
    cases._drop("utt2sentiment", 3)(valid)
    second = {p.name: p.read_bytes() for p in valid.iterdir() if p.is_file()}
    assert fix(valid).backup_dir == valid / ".backup.1"
    cases._drop("text", 5)(valid)
    assert fix(valid).backup_dir == valid / ".backup.2"
    for backup, files in ((".backup", first), (".backup.1", second)):
        assert {p.name: p.read_bytes() for p in (valid / backup).iterdir()} == files
    assert first["text"] != originals["text"] and first["utt2spk"] == originals["utt2spk"]
    assert not (valid / LOCK_NAME).exists()
