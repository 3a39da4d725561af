"""Tests for speechsent.kaldi.table, speechsent.kaldi.data_dir and speechsent.data.labels."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from speechsent.data import labels
from speechsent.kaldi import data_dir as kdd
from speechsent.kaldi import table as kt
from speechsent.kaldi.data_dir import DataDir, Segment, WavEntry
from speechsent.kaldi.table import KaldiDataError

ROOT = Path(__file__).resolve().parents[2]


def write(path: Path, text: str | bytes) -> Path:
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


# ----------------------------------------------------------------------------------------------------------
# sorting and splitting


def test_c_sort_order_is_byte_order():
    ids = ["sw02001-B", "sw02001-A_000098-001156", "sw02001-A", "sw02001_A", "SW02001", "sw02001-a", "é"]
    assert kt.c_sorted(ids) == ["SW02001", "sw02001-A", "sw02001-A_000098-001156", "sw02001-B", "sw02001-a",
                                "sw02001_A", "é"]  # fmt: skip
    # non-UTF-8 bytes (surrogate-escaped) sort by their byte value
    assert kt.c_sorted(["\udcff", "\udc80", "z"]) == ["z", "\udc80", "\udcff"]


def test_split_line():
    assert kt.split_line("utt1 a  b\tc ") == ("utt1", "a  b\tc")
    assert kt.split_line("\tutt1\t\tx") == ("utt1", "x")
    assert kt.split_line("utt1") == ("utt1", "")
    assert kt.split_line("  \t ") is None
    assert kt.split_fields(" a \t b  c") == ["a", "b", "c"]


# ----------------------------------------------------------------------------------------------------------
# read_table


def test_read_table(tmp_path):
    f = write(tmp_path / "text", "a x y\nb\nc  z \n")
    assert kt.read_table(f) == {"a": "x y", "b": "", "c": "z"}
    assert list(kt.read_table(write(tmp_path / "t2", "b 1\na 2\n"))) == ["b", "a"]  # file order kept


def test_read_table_without_final_newline(tmp_path):
    assert kt.read_table(write(tmp_path / "t", "a 1\nb 2")) == {"a": "1", "b": "2"}


def test_read_table_empty_line_names_file_and_line(tmp_path):
    f = write(tmp_path / "utt2spk", "a s\n\nb s\n")
    with pytest.raises(KaldiDataError, match=rf"^{f}:2: empty line") as e:
        kt.read_table(f)
    assert e.value.path == str(f) and e.value.lineno == 2


def test_read_table_duplicate(tmp_path):
    f = write(tmp_path / "utt2spk", "a s\nb s\na t\n")
    with pytest.raises(KaldiDataError, match=r"utt2spk:3: duplicate key 'a' \(first on line 1\)"):
        kt.read_table(f)
    assert kt.read_table(f, allow_duplicates=True) == {"a": "s", "b": "s"}  # first kept, like sort -u


def test_read_table_sortedness(tmp_path):
    f = write(tmp_path / "wav.scp", "b x\na y\n")
    assert kt.read_table(f) == {"b": "x", "a": "y"}
    with pytest.raises(KaldiDataError, match=r"wav.scp:2: not sorted"):
        kt.read_table(f, require_sorted=True)


def test_read_table_fields(tmp_path):
    f = write(tmp_path / "utt2spk", "a s\nb s t\n")
    with pytest.raises(KaldiDataError, match=r"utt2spk:2: expected 2 fields, got 3"):
        kt.read_table(f, num_fields=2)
    with pytest.raises(KaldiDataError, match=r"utt2spk:1: expected at least 3 fields, got 2"):
        kt.read_table(f, min_fields=3)


def test_read_typed_table_error_names_line(tmp_path):
    f = write(tmp_path / "utt2dur", "a 1.5\nb -2\n")
    with pytest.raises(KaldiDataError, match=r"utt2dur:2: bad duration '-2'"):
        kt.read_typed_table(f, kdd.parse_duration)


def test_non_utf8_round_trip(tmp_path):
    f = write(tmp_path / "text", b"a caf\xe9\nb ok\n")
    table = kt.read_table(f)
    kt.write_table(tmp_path / "out", table)
    assert (tmp_path / "out").read_bytes() == b"a caf\xe9\nb ok\n"


# ----------------------------------------------------------------------------------------------------------
# writing


def test_write_table_sorted_and_formatted(tmp_path):
    f = tmp_path / "utt2dur"
    kt.write_table(f, {"b": 1.25, "a_x": "2", "a-x": 3.0, "c": ""})
    assert f.read_text() == "a-x 3.0\na_x 2\nb 1.25\nc\n"
    kt.write_table(f, [("z", "1"), ("y", "2")])
    assert f.read_text() == "y 2\nz 1\n"


@pytest.mark.parametrize(
    "bad", [{"": "x"}, {"a b": "x"}, {"a\n": "x"}, {"a": "x\ny"}, [("a", "1"), ("a", "2")]], ids=str
)
def test_write_table_rejects(tmp_path, bad):
    f = write(tmp_path / "t", "old 1\n")
    with pytest.raises(ValueError):
        kt.write_table(f, bad)
    assert f.read_text() == "old 1\n"
    assert os.listdir(tmp_path) == ["t"]


def test_atomic_write_leaves_no_temp_and_keeps_mode(tmp_path):
    f = write(tmp_path / "text", "old\n")
    f.chmod(0o640)
    kt.write_table(f, {"a": "b"})
    assert f.read_text() == "a b\n"
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["text"]
    kt.write_table(tmp_path / "new", {"a": "b"})
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o666 & ~umask  # not mkstemp's 0600


def test_atomic_write_failure_keeps_original(tmp_path, monkeypatch):
    f = write(tmp_path / "text", "old\n")

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        kt.write_table(f, {"a": "b"})
    assert f.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["text"]


def test_format_number():
    assert kt.format_number(12.0) == "12.0"
    assert kt.format_number(0.98) == "0.98"
    assert kt.format_number(1e-05) == "0.00001"
    assert float(kt.format_number(1234.567891)) == 1234.567891


# ----------------------------------------------------------------------------------------------------------
# records


def test_segment():
    s = kdd.parse_segment("sw02001-A_000098-001156", "sw02001-A 0.98 11.56")
    assert s == Segment("sw02001-A_000098-001156", "sw02001-A", 0.98, 11.56)
    assert s.duration == pytest.approx(10.58)
    assert s.to_line() == "sw02001-A_000098-001156 sw02001-A 0.98 11.56"
    with pytest.raises(AttributeError):
        s.start = 1.0  # frozen


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("r 1 1", "<= start"),
        ("r 2 1", "<= start"),
        ("r -1 1", "< 0"),
        ("r a 1", "not a number"),
        ("r 0 inf", "not finite"),
        ("r 0", "4 fields"),
        ("r 0 1 2", "4 fields"),
    ],
)
def test_segment_errors(value, message):
    with pytest.raises(ValueError, match=message):
        kdd.parse_segment("u", value)


def test_wav_entry():
    pipe = kdd.parse_wav_entry("sw02001-A", "sph2pipe -f wav -p -c 1 /db/sw02001.sph |")
    assert pipe.is_pipe and pipe.command == "sph2pipe -f wav -p -c 1 /db/sw02001.sph"
    path = kdd.parse_wav_entry("r", "/db/r.wav")
    assert path == WavEntry("r", "/db/r.wav", False) and path.command == "/db/r.wav"
    assert WavEntry.from_command("r", "cat x").to_line() == "r cat x |"
    assert WavEntry.from_path("r", "/x.wav").to_value() == "/x.wav"
    with pytest.raises(ValueError):
        kdd.parse_wav_entry("r", "")


def test_value_parsers():
    assert kdd.parse_num_frames("u", "120") == 120
    for bad in ("12.5", "0", "x"):
        with pytest.raises(ValueError):
            kdd.parse_num_frames("u", bad)
    assert kdd.parse_sentiment_label("u", "Neutral") == "Neutral"
    assert kdd.parse_pseudo_label("u", "Positive") == "Positive"
    assert kdd.parse_probability("u", "0.75") == 0.75
    for parse, bad in (
        (kdd.parse_sentiment_label, "neutral"),
        (kdd.parse_pseudo_label, "Neutral"),
        (kdd.parse_probability, "1.01"),
        (kdd.parse_duration, "0"),
    ):
        with pytest.raises(ValueError):
            parse("u", bad)


# ----------------------------------------------------------------------------------------------------------
# labels


def test_labels():
    assert labels.SENTIMENT_LABELS == ("Negative", "Neutral", "Positive")
    assert labels.PSEUDO_LABELS == ("Negative", "Positive")
    assert [labels.label_to_index(x) for x in labels.SENTIMENT_LABELS] == [0, 1, 2]
    assert labels.pseudo_label_to_index("Positive") == 1
    assert labels.Sentiment.NEUTRAL == "Neutral" and str(labels.Sentiment.NEUTRAL) == "Neutral"
    assert labels.check_probability("0") == 0.0
    with pytest.raises(ValueError):
        labels.label_to_index("Mixed")
    with pytest.raises(ValueError):
        labels.check_probability("nan")


# ----------------------------------------------------------------------------------------------------------
# DataDir


@pytest.fixture
def ddir(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    write(d / "wav.scp", "sw02001-A sph2pipe -f wav -p -c 1 /db/sw02001.sph |\nsw02001-B /db/b.wav\n")
    write(
        d / "segments",
        "sw02001-A_000098-001156 sw02001-A 0.98 11.56\n"
        "sw02001-A_001200-001500 sw02001-A 12.0 15.0\n"
        "sw02001-B_000010-000500 sw02001-B 0.1 5.0\n",
    )
    write(
        d / "utt2spk",
        "sw02001-A_000098-001156 sw02001-A\n"
        "sw02001-A_001200-001500 sw02001-A\n"
        "sw02001-B_000010-000500 sw02001-B\n",
    )
    write(
        d / "text", "sw02001-A_000098-001156 hi there\nsw02001-A_001200-001500\nsw02001-B_000010-000500 yes\n"
    )
    write(
        d / "utt2sentiment",
        "sw02001-A_000098-001156 Positive\n"
        "sw02001-A_001200-001500 Neutral\n"
        "sw02001-B_000010-000500 Negative\n",
    )
    write(d / "stm", ";; comment\nsw02001 A sw02001-A 0.98 11.56 hi there\n")
    return d


def test_datadir_typed_accessors(ddir):
    d = DataDir(ddir)
    assert d.utt_ids == ["sw02001-A_000098-001156", "sw02001-A_001200-001500", "sw02001-B_000010-000500"]
    assert d.spk_ids == ["sw02001-A", "sw02001-B"]
    assert d.spk2utt == {"sw02001-A": d.utt_ids[:2], "sw02001-B": d.utt_ids[2:]}  # derived: no spk2utt file
    assert d.wav_scp["sw02001-A"].is_pipe and not d.wav_scp["sw02001-B"].is_pipe
    assert d.segments["sw02001-B_000010-000500"] == Segment("sw02001-B_000010-000500", "sw02001-B", 0.1, 5.0)
    assert d.text["sw02001-A_001200-001500"] == ""
    assert d.utt2sentiment["sw02001-B_000010-000500"] == "Negative"
    assert d.reco_ids == ["sw02001-A", "sw02001-B"]
    assert d.durations()["sw02001-A_001200-001500"] == pytest.approx(3.0)
    assert d.utt2dur is None and d.utt2pseudo is None and d.feats_scp is None and d.reco2dur is None
    assert d.has("text") and not d.has("utt2pseudo")


def test_datadir_is_lazy_and_cached(ddir):
    d = DataDir(ddir)
    write(ddir / "utt2dur", "x 1.0\n")
    assert d.utt2dur == {"x": 1.0}  # read on first access
    write(ddir / "utt2dur", "y 2.0\n")
    assert d.utt2dur == {"x": 1.0}  # cached


def test_datadir_missing_utt2spk(tmp_path):
    with pytest.raises(KaldiDataError, match="utt2spk: no such file"):
        DataDir(tmp_path).utt2spk  # noqa: B018


def test_datadir_typed_error_names_file_and_line(ddir):
    write(ddir / "utt2sentiment", "a Positive\nb Happy\n")
    with pytest.raises(KaldiDataError, match=r"utt2sentiment:2: bad sentiment label 'Happy'"):
        DataDir(ddir).utt2sentiment  # noqa: B018


def test_datadir_write_in_place(ddir):
    d = DataDir(ddir)
    d.set_utt2spk({"sw02001-B_000010-000500": "sw02001-B", "sw02001-A_000098-001156": "sw02001-A"})
    d.set_utt2pseudo(
        {"sw02001-A_000098-001156": "Positive", "sw02001-B_000010-000500": "Negative"},
        probs={"sw02001-A_000098-001156": 0.9, "sw02001-B_000010-000500": 0.625},
    )
    d.set_utt2dur({"sw02001-A_000098-001156": 10.58, "sw02001-B_000010-000500": 4.9})
    d.remove("stm")
    d.write()
    assert (
        ddir / "utt2spk"
    ).read_text() == "sw02001-A_000098-001156 sw02001-A\nsw02001-B_000010-000500 sw02001-B\n"
    assert (
        ddir / "spk2utt"
    ).read_text() == "sw02001-A sw02001-A_000098-001156\nsw02001-B sw02001-B_000010-000500\n"
    assert (
        ddir / "utt2pseudo_prob"
    ).read_text() == "sw02001-A_000098-001156 0.9\nsw02001-B_000010-000500 0.625\n"
    assert (ddir / "utt2dur").read_text() == "sw02001-A_000098-001156 10.58\nsw02001-B_000010-000500 4.9\n"
    assert not (ddir / "stm").exists()
    assert DataDir(ddir).utt2pseudo == {
        "sw02001-A_000098-001156": "Positive",
        "sw02001-B_000010-000500": "Negative",
    }
    assert not [p for p in os.listdir(ddir) if p.endswith(".tmp")]


def test_datadir_write_elsewhere_copies_everything(ddir, tmp_path):
    d = DataDir(ddir)
    d.set_segments([Segment("sw02001-A_000098-001156", "sw02001-A", 0.98, 11.56)])
    d.write(tmp_path / "out")
    out = tmp_path / "out"
    assert sorted(os.listdir(out)) == sorted([*os.listdir(ddir), "spk2utt"])
    assert (out / "stm").read_bytes() == (ddir / "stm").read_bytes()
    assert (out / "segments").read_text() == "sw02001-A_000098-001156 sw02001-A 0.98 11.56\n"
    assert (out / "text").read_bytes() == (ddir / "text").read_bytes()
    # the source is untouched
    assert len((ddir / "segments").read_text().splitlines()) == 3


def test_datadir_setters_validate(ddir):
    d = DataDir(ddir)
    with pytest.raises(ValueError):
        d.set_utt2sentiment({"a": "Mixed"})
    with pytest.raises(ValueError):
        d.set_utt2pseudo({"a": "Neutral"})
    with pytest.raises(ValueError):
        d.set_utt2pseudo({"a": "Positive"}, probs={"a": 2.0})
    d.set_wav_scp([WavEntry.from_command("r", "cat r.wav")])
    assert d.wav_scp == {"r": WavEntry("r", "cat r.wav |", True)}


# ----------------------------------------------------------------------------------------------------------
# stdlib only


def test_imports_without_numpy():
    code = (
        "import sys\n"
        "sys.modules['numpy'] = None  # any import of numpy fails\n"
        "import speechsent.kaldi, speechsent.data.labels\n"
        "from speechsent.kaldi import table, data_dir, formats, checked, lengths, audio_headers, shared\n"
        "from speechsent.kaldi import validate, fix, copy, combine, subset\n"
        "import speechsent.bin.data_dir\n"
        "heavy = ('numpy', 'torch', 'soundfile', 'scipy')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in heavy)\n"
        "assert bad == ['numpy'], bad\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(
        [sys.executable, "-S", "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr


# ----------------------------------------------------------------------------------------------------------
# files written by other tools: a UTF-8 BOM, CRLF line ends (issue 12)


def test_bom_is_named(tmp_path):
    """A Windows editor's "UTF-8 with BOM": the BOM is named (file:1), not read as part of the first key."""
    path = tmp_path / "text"
    path.write_text("a-1 hello\na-2 world\n", encoding="utf-8-sig")
    for read in (kt.read_table, lambda p: kt.read_typed_table(p, lambda k, v: v)):
        with pytest.raises(KaldiDataError, match="byte-order mark") as e:
            read(path)
        assert str(e.value).startswith(f"{path}:1: ")
        assert "sed -i" in str(e.value)
    d = tmp_path / "d"
    d.mkdir()
    (d / "utt2spk").write_text("a-1 a\n", encoding="utf-8-sig")
    with pytest.raises(KaldiDataError, match=r"utt2spk:1: .*BOM"):
        _ = DataDir(d).utt2spk


@pytest.mark.parametrize("lines", [["a /x/a.wav\r\n", "b /x/b.wav\r\n"], ["a /x/a.wav\n", "b /x/b.wav\r\n"]])
def test_crlf_is_named(tmp_path, lines):
    """A CRLF wav.scp: the carriage return is named with its file and line (was: a path ending in CR)."""
    d = tmp_path / "d"
    d.mkdir()
    (d / "wav.scp").write_bytes("".join(lines).encode())
    first = next(i for i, line in enumerate(lines, 1) if "\r" in line)
    with pytest.raises(KaldiDataError) as e:
        _ = DataDir(d).wav_scp
    msg = str(e.value)
    assert msg.startswith(f"{d / 'wav.scp'}:{first}: line ends in a carriage return"), msg
    assert "CRLF" in msg and "sed -i 's/\\r$//'" in msg
    with pytest.raises(KaldiDataError, match="carriage return"):
        kt.read_table(d / "wav.scp")


def test_utf16_is_named(tmp_path):
    path = tmp_path / "text"
    path.write_text("a-1 hello\n", encoding="utf-16")
    with pytest.raises(KaldiDataError, match=r"text:1: the file is UTF-16 .*iconv -f UTF-16 -t UTF-8"):
        kt.read_table(path)


def test_cr_inside_a_line_is_named(tmp_path):
    path = write(tmp_path / "text", "a-1 hello\rworld\n")
    with pytest.raises(KaldiDataError, match=r"text:1: line contains a carriage return .* inside it"):
        kt.read_table(path)
