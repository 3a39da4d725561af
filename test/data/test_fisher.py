"""Fisher transcripts and audio discovery (speechsent.data.fisher)."""

from __future__ import annotations

from pathlib import Path

import pytest

from speechsent.data.fisher import (
    FisherFormatError,
    find_fisher_audio,
    find_fisher_transcripts,
    fisher_utt_id,
    mark_fisher_overlaps,
    normalize_fisher_words,
    read_fisher_transcript,
)


def test_utt_id():
    assert fisher_utt_id("fe_03_00001", "A", 61, 217) == "fe_03_00001-A_000061-000217"


def test_normalize_fisher_words():
    assert normalize_fisher_words("Hello [laugh] there [noise] an- so") == ["hello", "there", "an-", "so"]
    assert normalize_fisher_words("[breath] [lipsmack] [cough] [sigh] [mn] [laughter]") == []
    assert normalize_fisher_words("i think ((so)) yes") is None
    assert normalize_fisher_words("i think ((so)) yes", "keep") == ["i", "think", "so", "yes"]
    assert normalize_fisher_words("i think ((so)) yes", "strip") == ["i", "think", "yes"]
    assert normalize_fisher_words("(( )) yes", "keep") == ["yes"]
    assert normalize_fisher_words("((", "strip") == []
    with pytest.raises(ValueError):
        normalize_fisher_words("x", "maybe")


def _transcript(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    return path


def test_read_fisher_transcript(tmp_path: Path):
    p = _transcript(
        tmp_path / "fe_03_00001.txt",
        "# fe_03_00001.sph\n# Transcribed at the LDC\n\n"
        "0.61 2.17 A: hello [laugh] there \n\n"
        "2.50 4.00 B: ((i think)) so\n\n"
        "4.10 5.95 A: [noise]\n\n"
        "6.00 5.00 B: reversed\n\n"
        "7.00 8.00 A:\n"
        "this line is not a segment\n",
    )
    t = read_fisher_transcript(p)
    assert t.call == "fe_03_00001"
    assert [(s.utt, s.status, s.text) for s in t.segments] == [
        ("fe_03_00001-A_000061-000217", "ok", "hello there"),
        ("fe_03_00001-B_000250-000400", "unintelligible", ""),
        ("fe_03_00001-A_000410-000595", "empty_text", ""),
        ("fe_03_00001-B_000600-000500", "bad_times", "reversed"),
        ("fe_03_00001-A_000700-000800", "empty_text", ""),
    ]
    assert t.other_lines == [f"{p}:13: this line is not a segment"]
    assert read_fisher_transcript(p, "keep").segments[1].text == "i think so"


def test_read_fisher_transcript_header_errors(tmp_path: Path):
    p = _transcript(tmp_path / "fe_03_00001.txt", "0.61 2.17 A: hello\n")
    with pytest.raises(
        FisherFormatError, match=r"fe_03_00001.txt:1: expected a first line '# fe_03_00001.sph'"
    ):
        read_fisher_transcript(p)
    p.write_text("\n# fe_03_00002.sph\n0.61 2.17 A: hello\n")
    with pytest.raises(FisherFormatError, match=r":2: first line names 'fe_03_00002'"):
        read_fisher_transcript(p)
    p.write_text("")
    with pytest.raises(FisherFormatError):
        read_fisher_transcript(p)


def test_overlaps(tmp_path: Path):
    p = _transcript(
        tmp_path / "fe_03_00001.txt",
        "# fe_03_00001.sph\n1.0 2.0 A: one\n1.5 2.5 A: two\n1.5 2.5 B: other side\n2.0 3.0 A: three\n",
    )
    t = read_fisher_transcript(p)
    mark_fisher_overlaps(t.segments)
    assert [s.status for s in t.segments] == ["ok", "overlap", "ok", "ok"]


def test_find_fisher_files_in_several_roots(tmp_path: Path):
    a = tmp_path / "LDC2004S13" / "fe_03_p1_sph1" / "audio" / "000"
    b = tmp_path / "LDC2005S13" / "fisher_eng_tr_sp_d1" / "audio" / "058"
    t = tmp_path / "LDC2004T19" / "fe_03_p1_tran" / "data" / "trans" / "000"
    for d in (a, b, t):
        d.mkdir(parents=True)
    (a / "fe_03_00001.sph").write_bytes(b"")
    (b / "FE_03_05851.SPH").write_bytes(b"")
    (t / "fe_03_00001.txt").write_text("# fe_03_00001.sph\n")
    (t.parent.parent.parent / "doc").mkdir()
    (t.parent.parent.parent / "doc" / "fe_03_p1_calldata.tbl").write_text("x\n")
    roots = [tmp_path / "LDC2004S13", tmp_path / "LDC2005S13", tmp_path / "LDC2004T19"]
    audio = find_fisher_audio(roots)
    assert sorted(audio.files) == ["fe_03_00001", "fe_03_05851"]
    assert list(find_fisher_transcripts(roots).files) == ["fe_03_00001"]
    assert find_fisher_audio([*roots, roots[0]]).duplicates == [a / "fe_03_00001.sph"]


def test_read_fisher_entries_agrees_with_the_segments(tmp_path: Path):
    from speechsent.data.fisher import read_fisher_entries

    p = _transcript(
        tmp_path / "fe_03_00007.txt",
        "# fe_03_00007.sph\n\n"
        "0.61 2.17 A: Hello [laugh] there \n\n"
        "2.50 4.00 B: ((i think)) so\n"
        "1.50 2.50 A: overlapping\n"
        "4.10 5.95 A: [noise]\n"
        "6.00 5.00 B: reversed\n"
        "3.00 4.00 B: [noise] fine ((yes))\n"
        "3.001 4.002 B: the same id\n"
        "junk\n",
    )
    for mode in ("drop", "keep", "strip"):
        t = read_fisher_transcript(p, mode)
        mark_fisher_overlaps(t.segments)
        e = read_fisher_entries(p, mode)
        assert e.entries == sorted(
            (s.utt, s.reco, s.start_cs, s.end_cs, s.text) for s in t.segments if s.status == "ok"
        )
        assert sorted(e.skipped) == sorted(
            (s.status, s.utt, s.lineno) for s in t.segments if s.status != "ok"
        )
        assert e.other_lines == t.other_lines == [f"{p}:11: junk"]
    with pytest.raises(ValueError):
        read_fisher_entries(p, "nope")
