"""Conformance: Kaldi data dirs written by other tools, read as Kaldi's tools read them (issue 12).

Every fixture is written at test time by another tool: Python's ``csv`` module and the shell's ``printf``
(CRLF line ends), a Windows editor's "UTF-8 with BOM" (Python's ``utf-8-sig``), a latin-1 editor, and
libsndfile (through soundfile) for the audio, WAV and SPHERE (``format="NIST"``, pcm16 and µ-law). What
Kaldi does with each (its ``utils/validate_data_dir.sh``, ``fix_data_dir.sh``, ``validate_text.pl`` and
``extract-segments``) is stated next to each check: where speechsent agrees, and where it deliberately
differs (an error that names the cause, where Kaldi is confusing or silent).
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from speechsent.kaldi.data_dir import DataDir
from speechsent.kaldi.table import KaldiDataError
from speechsent.kaldi.validate import validate

sf = pytest.importorskip("soundfile")
np = pytest.importorskip("numpy")

ROOT = Path(__file__).resolve().parents[2]
UTILS = ROOT / "utils"
RATE = 8000


def script(name: str, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "SPEECHSENT_PYTHON": sys.executable}
    env.pop("PYTHONPATH", None)
    return subprocess.run(
        [str(UTILS / name), *map(str, args)], env=env, capture_output=True, text=True, timeout=120
    )


def speech(seconds: float, seed: int = 0) -> np.ndarray:
    """Noise at speech level, int16 (so that reading back is exact)."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(round(seconds * RATE)) * 3000).clip(-32768, 32767).astype(np.int16)


def write_table_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def base_dir(d: Path, wav_lines: list[str], segments: list[str] | None) -> Path:
    """utt2spk/spk2utt/text for the utterances of ``segments`` (or of wav.scp without segments)."""
    d.mkdir(parents=True, exist_ok=True)
    utts = [line.split()[0] for line in (segments if segments is not None else wav_lines)]
    spk = {u: u.split("_")[0] for u in utts}
    write_table_lines(d / "utt2spk", [f"{u} {spk[u]}" for u in utts])
    spk2utt: dict[str, list[str]] = {}
    for u in utts:
        spk2utt.setdefault(spk[u], []).append(u)
    write_table_lines(d / "spk2utt", [f"{s} {' '.join(us)}" for s, us in sorted(spk2utt.items())])
    write_table_lines(d / "text", [f"{u} hello there" for u in utts])
    return d


# ----------------------------------------------------------------------------------------------------------
# CRLF: Python's csv module and the shell's printf


def test_csv_crlf_wav_scp_and_segments(tmp_path):
    """``csv.writer`` ends rows in CRLF. Kaldi: the CR stays in the last field (awk's fields split at blanks
    and tabs only), so wav.scp's path is "x.wav\\r" and extract-segments fails to open it;
    validate_data_dir.sh passes such a dir (its checks compare the first fields only). speechsent: every
    reader names the CR (file:line) instead of "No such file"; fix_data_dir.sh removes it, then the audio
    reads."""
    from speechsent.audio.io import UtteranceReader

    a, b = speech(3.0, 1), speech(2.0, 2)
    sf.write(tmp_path / "a.wav", a, RATE, subtype="PCM_16")
    sf.write(tmp_path / "b.wav", b, RATE, subtype="PCM_16")
    d = base_dir(tmp_path / "d", ["a", "b"], ["a_1 a 0.5 2.5", "b_1 b 0 1.5"])
    with open(d / "wav.scp", "w", newline="") as f:
        w = csv.writer(f, delimiter=" ")
        w.writerow(["a", tmp_path / "a.wav"])
        w.writerow(["b", tmp_path / "b.wav"])
    with open(d / "segments", "w", newline="") as f:
        csv.writer(f, delimiter=" ").writerows([["a_1", "a", "0.5", "2.5"], ["b_1", "b", "0", "1.5"]])
    assert (d / "wav.scp").read_bytes().endswith(b".wav\r\n")  # what csv wrote

    with pytest.raises(KaldiDataError) as e:
        UtteranceReader(d)
    assert f"{d / 'wav.scp'}:1: line ends in a carriage return" in str(e.value)
    assert "No such file" not in str(e.value)

    r = script("validate_data_dir.sh", "--no-feats", d)
    assert r.returncode == 1
    for name in ("wav.scp", "segments"):
        assert (
            f"{d / name}:1: line ends in a carriage return (CR, \\r): the file has Windows (CRLF)" in r.stderr
        )
        assert f"sed -i 's/\\r$//' {d / name}" in r.stderr

    r = script("fix_data_dir.sh", d)
    assert r.returncode == 0, r.stderr
    assert "kept all 2 utterances." in r.stdout and "CRLF" in r.stdout
    assert script("validate_data_dir.sh", "--no-feats", d).returncode == 0
    reader = UtteranceReader(d)
    for utt, samples, start, end in (("a_1", a, 0.5, 2.5), ("b_1", b, 0.0, 1.5)):
        ref = samples[int(start * RATE) : int(end * RATE)].astype(np.float64)
        assert np.abs(np.asarray(reader[utt], dtype=np.float64) * 32768.0 - ref).max() <= 1.0


def test_printf_crlf_wav_scp(tmp_path):
    """A wav.scp written by ``printf '%s %s\\r\\n'`` (no segments): the CR is named with its line."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("no bash")
    sf.write(tmp_path / "u_1.wav", speech(1.0), RATE)
    sf.write(tmp_path / "u_2.wav", speech(1.0, 3), RATE)
    d = base_dir(tmp_path / "d", ["u_1", "u_2"], None)
    subprocess.run(
        [bash, "-c", 'printf "u_1 %s\\n" "$1" > "$3"; printf "u_2 %s\\r\\n" "$2" >> "$3"', "-",
         tmp_path / "u_1.wav", tmp_path / "u_2.wav", d / "wav.scp"],
        check=True,
    )  # fmt: skip
    with pytest.raises(
        KaldiDataError, match=r"wav\.scp:2: line ends in a carriage return .*\(1 of its 2 lines\)"
    ):
        _ = DataDir(d).wav_scp
    r = script("validate_data_dir.sh", "--no-feats", d)
    assert r.returncode == 1 and f"{d / 'wav.scp'}:2: line ends in a carriage return" in r.stderr


# ----------------------------------------------------------------------------------------------------------
# A BOM from a Windows editor; a latin-1 text


def test_windows_editor_bom_text(tmp_path):
    """Notepad's "UTF-8 with BOM". Kaldi: awk's first field of line 1 is "\\ufeffa_1", so
    validate_data_dir.sh fails with "utterance lists extracted from utt2spk and text differ" and
    fix_data_dir.sh drops a_1 (it matches no utt2spk key). speechsent: validate names the BOM (text:1, the
    one-line fix); fix_data_dir.sh removes it (logged) and keeps a_1."""
    sf.write(tmp_path / "a.wav", speech(2.0), RATE)
    sf.write(tmp_path / "b.wav", speech(2.0, 5), RATE)
    d = base_dir(tmp_path / "d", ["a", "b"], ["a_1 a 0 1", "b_1 b 0 1"])
    write_table_lines(d / "wav.scp", [f"a {tmp_path / 'a.wav'}", f"b {tmp_path / 'b.wav'}"])
    write_table_lines(d / "segments", ["a_1 a 0 1", "b_1 b 0 1"])
    with open(d / "text", "w", encoding="utf-8-sig", newline="\r\n") as f:  # what the editor saves
        f.write("a_1 caf\u00e9 au lait\nb_1 na\u00efve\n")
    r = script("validate_data_dir.sh", "--no-feats", d)
    assert r.returncode == 1
    assert f"{d / 'text'}:1: the file starts with a UTF-8 byte-order mark" in r.stderr
    assert "missing from text" not in r.stderr and "not in utt2spk" not in r.stderr  # no confusing follow-ups
    with pytest.raises(KaldiDataError, match="byte-order mark"):
        _ = DataDir(d).text
    r = script("fix_data_dir.sh", d)
    assert r.returncode == 0, r.stderr
    assert "kept all 2 utterances." in r.stdout
    assert DataDir(d).text == {"a_1": "caf\u00e9 au lait", "b_1": "na\u00efve"}
    assert (d / ".backup" / "text").read_bytes().startswith(b"\xef\xbb\xbf")
    assert script("validate_data_dir.sh", "--no-feats", d).returncode == 0


def test_latin1_text(tmp_path):
    """A latin-1 text. Kaldi: validate_text.pl then treats the file as a one-byte encoding and accepts it
    (exit 0) although every later UTF-8 reader mangles it. speechsent (a deliberate difference): validate
    names the line and the byte; fix_data_dir.sh drops those utterances, counted, and the result validates
    (the original stays in .backup for iconv)."""
    d = base_dir(tmp_path / "d", ["a", "b"], ["a_1 a 0 1", "a_2 a 1 2", "b_1 b 0 1"])
    write_table_lines(d / "wav.scp", [f"a {tmp_path / 'a.wav'}", f"b {tmp_path / 'b.wav'}"])
    write_table_lines(d / "segments", ["a_1 a 0 1", "a_2 a 1 2", "b_1 b 0 1"])
    (d / "text").write_text("a_1 hello\na_2 caf\u00e9\nb_1 na\u00efve\n", encoding="latin-1")
    r = script("validate_data_dir.sh", "--no-feats", d)
    assert r.returncode == 1 and f"{d / 'text'}:2: line is not valid UTF-8 (byte 0xe9" in r.stderr
    r = script("fix_data_dir.sh", d)
    assert r.returncode == 0, r.stderr
    assert "dropped 2 utterance(s) whose text is not valid UTF-8" in r.stderr
    assert "kept 1 utterances out of 3" in r.stdout
    assert script("validate_data_dir.sh", "--no-feats", d).returncode == 0


# ----------------------------------------------------------------------------------------------------------
# Segments past the end of audio written by libsndfile: validate agrees with extract-segments


SEGMENT_TIMES = [  # (start, end) around the end of a 2.0 s recording
    (0.0, 1.0), (1.0, 2.0), (1.5, 2.3), (1.5, 2.49), (1.5, 2.4999), (1.5, 2.5), (1.5, 2.51), (1.5, 3.0),
    (1.99, 2.2), (1.9999, 2.1), (2.0, 2.2), (2.1, 2.4),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fmt", "subtype", "ext"),
    [("WAV", "PCM_16", "wav"), ("WAV", "FLOAT", "wav"), ("NIST", "PCM_16", "sph"), ("NIST", "ULAW", "sph")],
)
def test_segments_past_the_end_agree_with_extract_segments(tmp_path, fmt, subtype, ext):
    """For every segment, validate_data_dir.sh (the header's length, no reco2dur) rejects exactly those that
    Kaldi's extract-segments skips: a start sample at or after the end, an end sample past it by
    int(0.5 * rate) or more (shorter overshoots are truncated). The reference is the project's reader,
    which cuts with extract-segments' arithmetic (speechsent.audio.io.cut_segment)."""
    from speechsent.audio.io import AudioError, UtteranceReader

    path = tmp_path / f"r.{ext}"
    sf.write(path, speech(2.0) / 32768.0, RATE, format=fmt, subtype=subtype)  # float in [-1, 1): any subtype
    segs = [(f"r_{i:02d}", s, e) for i, (s, e) in enumerate(SEGMENT_TIMES)]
    d = tmp_path / "d"
    for utt, s, e in segs:
        dd = base_dir(tmp_path / "one" / utt, ["r"], [f"{utt} r {s} {e}"])
        write_table_lines(dd / "wav.scp", [f"r {path}"])
        write_table_lines(dd / "segments", [f"{utt} r {s} {e}"])
        problems = validate(dd, no_feats=True)
        try:
            UtteranceReader(dd)[utt]
            readable = True
        except AudioError:
            readable = False
        assert (problems == []) is readable, (utt, s, e, problems)
    # and all at once, through the script
    base_dir(d, ["r"], [f"{u} r {s} {e}" for u, s, e in segs])
    write_table_lines(d / "wav.scp", [f"r {path}"])
    write_table_lines(d / "segments", [f"{u} r {s} {e}" for u, s, e in segs])
    r = script("validate_data_dir.sh", "--no-feats", d)
    assert r.returncode == 1
    assert "2 segment(s) start at or after the end of their recording" in r.stderr
    assert "3 segment(s) end 0.5 s or more after their recording ends" in r.stderr
    r = script("fix_data_dir.sh", d)
    assert r.returncode == 0, r.stderr
    assert f"kept {len(segs) - 5} utterances out of {len(segs)}" in r.stdout


def test_kaldi_sph2pipe_wav_scp_reads_the_sphere_header(tmp_path):
    """A Kaldi/ESPnet Switchboard wav.scp (``sph2pipe -f wav -p -c 1 FILE |``): the pipe is not run (sph2pipe
    need not be installed); FILE's SPHERE header gives the length, as Kaldi's utils/data/get_utt2dur.sh
    reads it. An ESPnet pipe with a further ``sox`` stage, or a time range (-t), is not checked."""
    sf.write(tmp_path / "sw02001.sph", np.stack([speech(4.0), speech(4.0, 9)], 1), RATE, format="NIST",
             subtype="ULAW")  # fmt: skip
    sph = tmp_path / "sw02001.sph"
    segments = ["sw02001-A_000000-000300 sw02001-A 0 3", "sw02001-B_000300-000500 sw02001-B 3 5"]
    d = base_dir(tmp_path / "d", [], segments)
    write_table_lines(d / "segments", segments)
    write_table_lines(
        d / "wav.scp",
        [
            f"sw02001-A sph2pipe -f wav -p -c 1 {sph} |",
            f"sw02001-B /opt/kaldi/tools/sph2pipe -f wav -p -c 2 {sph} |",
        ],
    )
    r = script("validate_data_dir.sh", "--no-feats", d)
    assert r.returncode == 1, r.stderr
    assert "sw02001-B_000300-000500: ends at 5.0 s, sw02001-B lasts 4.000 s by the header of" in r.stderr
    write_table_lines(
        d / "wav.scp",
        [
            f"sw02001-A sph2pipe -f wav -p -c 1 {sph} |",
            f"sw02001-B sph2pipe -f wav -p -c 2 {sph} | sox -t wav - -t wav -r 16000 - |",
        ],
    )
    r = script("validate_data_dir.sh", "--no-feats", d)
    assert r.returncode == 0, r.stderr
    assert "WARNING" not in r.stderr
