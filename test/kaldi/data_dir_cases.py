"""A valid Switchboard-style data directory, and the ways to break it (one check each).

Shared by test/kaldi/test_ops.py and test/utils/test_data_dir_scripts.py (loaded by path: not a test module).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

SENTIMENTS = ("Negative", "Neutral", "Positive")
SEGMENT_TIMES = ((0.98, 11.56), (12.0, 15.0), (20.5, 31.25), (40.0, 42.5), (50.0, 58.75), (60.25, 66.0))
CONVERSATIONS = ("sw02001", "sw02005", "sw04017", "sw04325")


def utt_id(reco: str, start: float, end: float) -> str:
    """Kaldi's Switchboard utterance id: ``sw02001-A_000098-001156`` (centiseconds)."""
    return f"{reco}_{round(start * 100):06d}-{round(end * 100):06d}"


def put(d: Path, name: str, lines: list[str]) -> None:
    (d / name).write_bytes("".join(line + "\n" for line in lines).encode("utf-8", "surrogateescape"))


def get(d: Path, name: str) -> list[str]:
    return (d / name).read_bytes().decode("utf-8", "surrogateescape").splitlines()


def put_table(d: Path, name: str, table: dict[str, str]) -> None:
    put(d, name, [f"{k} {v}" for k, v in sorted(table.items(), key=lambda kv: kv[0].encode())])


def make_valid_dir(
    d: Path, *, conversations: tuple[str, ...] = CONVERSATIONS, times=SEGMENT_TIMES, feats: bool = True
) -> Path:
    """Write a valid data directory: every file of the contract, segments into 2-channel conversations."""
    d.mkdir(parents=True, exist_ok=True)
    wav, r2fc, reco2dur, segments, utt2spk, text, utt2dur = {}, {}, {}, {}, {}, {}, {}
    sentiment, pseudo, prob, gender = {}, {}, {}, {}
    feats_scp, num_frames, cmvn = {}, {}, {}
    i = 0
    for conv in conversations:
        for side, channel in (("A", 1), ("B", 2)):
            reco = f"{conv}-{side}"
            wav[reco] = f"sph2pipe -f wav -p -c {channel} /db/swb1/{conv}.sph |"
            r2fc[reco] = f"{conv} {side}"
            reco2dur[reco] = "300.0"
            gender[reco] = "m" if (i // 2) % 2 == 0 else "f"
            cmvn[reco] = f"/exp/cmvn.ark:{len(cmvn) * 40 + 10}"
            for start, end in times:
                utt = utt_id(reco, start, end)
                segments[utt] = f"{reco} {start} {end}"
                utt2spk[utt] = reco
                text[utt] = f"uh-huh i think that's right number {i}"
                utt2dur[utt] = f"{end - start:.2f}"
                sentiment[utt] = SENTIMENTS[i % 3]
                pseudo[utt] = "Positive" if i % 2 else "Negative"
                prob[utt] = f"{0.5 + (i % 5) / 10:.2f}"
                feats_scp[utt] = f"/exp/feats.ark:{i * 1000 + 24}"
                num_frames[utt] = str(round((end - start) * 100) - 2)
                i += 1
    spk2utt: dict[str, list[str]] = {}
    for utt in sorted(utt2spk):
        spk2utt.setdefault(utt2spk[utt], []).append(utt)
    tables = {
        "wav.scp": wav,
        "reco2file_and_channel": r2fc,
        "reco2dur": reco2dur,
        "segments": segments,
        "utt2spk": utt2spk,
        "spk2utt": {s: " ".join(u) for s, u in spk2utt.items()},
        "text": text,
        "utt2dur": utt2dur,
        "utt2sentiment": sentiment,
        "utt2pseudo": pseudo,
        "utt2pseudo_prob": prob,
        "spk2gender": gender,
    }
    if feats:
        tables.update({"feats.scp": feats_scp, "utt2num_frames": num_frames, "cmvn.scp": cmvn})
    for name, table in tables.items():
        put_table(d, name, table)
    return d


# ----------------------------------------------------------------------------------------------------------
# Mutations


def _swap(name: str, i: int = 0, j: int = 1) -> Callable[[Path], None]:
    def f(d: Path) -> None:
        lines = get(d, name)
        lines[i], lines[j] = lines[j], lines[i]
        put(d, name, lines)

    return f


def _dup(name: str, i: int = 0) -> Callable[[Path], None]:
    def f(d: Path) -> None:
        lines = get(d, name)
        put(d, name, [*lines[: i + 1], lines[i], *lines[i + 1 :]])

    return f


def _drop(name: str, i: int = 1) -> Callable[[Path], None]:
    def f(d: Path) -> None:
        lines = get(d, name)
        del lines[i]
        put(d, name, lines)

    return f


def _set_value(name: str, value: str, i: int = 0) -> Callable[[Path], None]:
    """Replace the value of line ``i``."""

    def f(d: Path) -> None:
        lines = get(d, name)
        key = lines[i].split()[0]
        lines[i] = f"{key} {value}" if value else key
        put(d, name, lines)

    return f


def _append(name: str, line: str) -> Callable[[Path], None]:
    def f(d: Path) -> None:
        put(d, name, sorted([*get(d, name), line], key=lambda s: s.split()[0].encode()))

    return f


def _delete(*names: str) -> Callable[[Path], None]:
    def f(d: Path) -> None:
        for name in names:
            (d / name).unlink()

    return f


def _write_bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def f(d: Path) -> None:
        (d / name).write_bytes(data)

    return f


def _raw_edit(name: str, fn: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def f(d: Path) -> None:
        (d / name).write_bytes(fn((d / name).read_bytes()))

    return f


def _copy_keys(src: str, dst: str, value: str, drop: int | None = None) -> Callable[[Path], None]:
    """Create ``dst`` with the keys of ``src`` (all, or all but line ``drop``) and a constant value."""

    def f(d: Path) -> None:
        keys = [line.split()[0] for line in get(d, src)]
        if drop is not None:
            del keys[drop]
        put(d, dst, [f"{k} {value}" for k in keys])

    return f


def _seq(*fs: Callable[[Path], None]) -> Callable[[Path], None]:
    def f(d: Path) -> None:
        for g in fs:
            g(d)

    return f


def _respeak_first(d: Path) -> None:
    """Give the first utterance a speaker that sorts after all others (utt2spk not sorted by speaker)."""
    lines = get(d, "utt2spk")
    utt = lines[0].split()[0]
    lines[0] = f"{utt} zz-speaker"
    put(d, "utt2spk", lines)
    spk2utt = {}
    for line in lines:
        u, s = line.split()
        spk2utt.setdefault(s, []).append(u)
    put(d, "spk2utt", [f"{s} {' '.join(us)}" for s, us in sorted(spk2utt.items())])


def _text_line(i: int, words: str) -> Callable[[Path], None]:
    def f(d: Path) -> None:
        lines = get(d, "text")
        key = lines[i].split()[0]
        lines[i] = f"{key} {words}"
        put(d, "text", lines)

    return f


def _no_segments_layout(d: Path) -> None:
    """Drop segments (and the recording-indexed files): wav.scp is then indexed by utterance, mismatching."""
    for name in ("segments", "reco2file_and_channel", "reco2dur"):
        (d / name).unlink()


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    mutate: Callable[[Path], None]
    #: The file the problem must be reported for.
    file: str
    #: A fragment of the problem message.
    fragment: str
    #: validate options (``--no-text`` ...).
    options: tuple[str, ...] = ()


FIRST_SEG = utt_id("sw02001-A", *SEGMENT_TIMES[0])

BROKEN: list[Case] = [
    # sorting, uniqueness, line format (every table)
    Case("text_unsorted", _swap("text"), "text", "not sorted"),
    Case("wav_unsorted", _swap("wav.scp"), "wav.scp", "not sorted"),
    Case("segments_unsorted", _swap("segments", 2, 3), "segments", "not sorted"),
    Case("utt2sentiment_unsorted", _swap("utt2sentiment"), "utt2sentiment", "not sorted"),
    Case("utt2dur_duplicate", _dup("utt2dur"), "utt2dur", "duplicate key"),
    Case("utt2spk_duplicate", _dup("utt2spk", 3), "utt2spk", "duplicate key"),
    Case("spk2utt_duplicate", _dup("spk2utt"), "spk2utt", "duplicate key"),
    Case("utt2pseudo_duplicate", _dup("utt2pseudo"), "utt2pseudo", "duplicate key"),
    Case("no_final_newline", _raw_edit("utt2dur", lambda b: b.rstrip(b"\n")), "utt2dur", "no newline"),
    Case(
        "empty_line", _raw_edit("segments", lambda b: b.replace(b"\n", b"\n\n", 1)), "segments", "empty line"
    ),
    Case("crlf", _raw_edit("utt2spk", lambda b: b.replace(b"\n", b"\r\n")), "utt2spk", "carriage return"),
    # written by other tools (issue 12): each named as what it is, with the one-line fix
    Case(
        "text_bom",
        _raw_edit("text", lambda b: b"\xef\xbb\xbf" + b),
        "text",
        "text:1: the file starts with a UTF-8 byte-order mark",
    ),
    Case(
        "utt2spk_bom", _raw_edit("utt2spk", lambda b: b"\xef\xbb\xbf" + b), "utt2spk", "byte-order mark (BOM"
    ),
    Case(
        "text_utf16",
        _raw_edit("text", lambda b: b.decode().encode("utf-16")),
        "text",
        "text:1: the file is UTF-16",
    ),
    Case(
        "wav_scp_crlf",
        _raw_edit("wav.scp", lambda b: b.replace(b"\n", b"\r\n")),
        "wav.scp",
        "wav.scp:1: line ends in a carriage return (CR, \\r): the file has Windows (CRLF) line ends",
    ),
    # utt2spk / spk2utt
    Case("utt2spk_three_fields", _set_value("utt2spk", "sw02001-A extra"), "utt2spk", "expected 2 fields"),
    Case("utt2spk_one_field", _set_value("utt2spk", ""), "utt2spk", "expected 2 fields"),
    Case("utt2spk_empty", _write_bytes("utt2spk", b""), "utt2spk", "empty file"),
    Case("utt2spk_missing", _delete("utt2spk"), "utt2spk", "no such file"),
    Case("utt2spk_not_sorted_by_speaker", _respeak_first, "utt2spk", "not sorted by speaker"),
    Case("spk2utt_missing", _delete("spk2utt"), "spk2utt", "no such file"),
    Case("spk2utt_mismatch", _set_value("spk2utt", FIRST_SEG), "spk2utt", "do not match"),
    Case("spk2utt_empty_speaker", _set_value("spk2utt", ""), "spk2utt", "at least 2 fields"),
    # text
    Case("text_absent", _delete("text"), "text", "no such file"),
    Case("text_missing_utt", _drop("text", 2), "text", "missing from text"),
    Case("text_extra_utt", _append("text", "sw09999-A_000000-000100 hello"), "text", "not in utt2spk"),
    Case("text_non_utf8", _text_line(1, "caf\udce9 au lait"), "text", "not valid UTF-8"),
    Case("text_non_utf8_no_text", _text_line(1, "caf\udce9"), "text", "not valid UTF-8", ("--no-text",)),
    Case("text_non_printable", _text_line(0, "hello \x07 there"), "text", "non-printable"),
    Case("text_unicode_space", _text_line(0, "hello\u00a0there"), "text", "Unicode whitespace"),
    Case("text_illegal_bos", _text_line(0, "<s> hello"), "text", "illegal symbol <s>"),
    Case("text_illegal_disambig", _text_line(0, "hello #0"), "text", "illegal symbol #0"),
    Case("text_unsorted_no_text", _swap("text"), "text", "not sorted", ("--no-text",)),
    # wav.scp, segments, reco2file_and_channel, reco2dur
    Case("wav_absent", _delete("wav.scp"), "wav.scp", "no such file"),
    Case("segments_without_wav", _delete("wav.scp"), "segments", "no wav.scp", ("--no-wav",)),
    Case("wav_tilde", _set_value("wav.scp", "~/swb1/sw02001.sph"), "wav.scp", "tilde"),
    Case("wav_no_path", _set_value("wav.scp", ""), "wav.scp", "at least 2 fields"),
    Case(
        "wav_recording_without_segments", _append("wav.scp", "sw09999-A /db/x.wav"), "wav.scp", "no segment"
    ),
    Case(
        "segment_unknown_recording",
        _set_value("segments", "sw09999-A 0.98 11.56"),
        "segments",
        "not in wav.scp",
    ),
    Case("segment_end_equals_start", _set_value("segments", "sw02001-A 0.98 0.98"), "segments", "<= start"),
    Case("segment_end_before_start", _set_value("segments", "sw02001-A 11.56 0.98"), "segments", "<= start"),
    Case("segment_negative_start", _set_value("segments", "sw02001-A -0.5 11.56"), "segments", "< 0"),
    Case("segment_non_numeric", _set_value("segments", "sw02001-A zero 11.56"), "segments", "not a number"),
    Case("segment_five_fields", _set_value("segments", "sw02001-A 0.98 11.56 x"), "segments", "4 fields"),
    Case(
        "segments_utts_differ_no_text",
        _seq(_delete("text"), _drop("segments", 1)),
        "segments",
        "missing from segments",
        ("--no-text",),
    ),
    Case("segment_overshoot", _set_value("reco2dur", "10.0"), "segments", "after their recording ends"),
    Case(  # within MAX_OVERSHOOT of the end, but it starts after it: Kaldi's extract-segments skips it
        "segment_starts_after_end",
        _seq(_set_value("segments", "sw02001-A 300.1 300.4"), _set_value("utt2dur", "0.3")),
        "segments",
        "start at or after the end of their recording",
    ),
    Case(
        "r2fc_bad_channel",
        _set_value("reco2file_and_channel", "sw02001 C"),
        "reco2file_and_channel",
        "channel",
    ),
    Case(
        "r2fc_two_fields", _set_value("reco2file_and_channel", "sw02001"), "reco2file_and_channel", "3 fields"
    ),
    Case("r2fc_missing_reco", _drop("reco2file_and_channel"), "reco2file_and_channel", "missing"),
    Case("reco2dur_missing_reco", _drop("reco2dur"), "reco2dur", "missing"),
    Case("reco2dur_zero", _set_value("reco2dur", "0"), "reco2dur", "not > 0"),
    Case("no_segments_wav_mismatch", _no_segments_layout, "wav.scp", "missing from wav.scp"),
    # utterance-indexed tables
    Case("utt2dur_non_numeric", _set_value("utt2dur", "abc"), "utt2dur", "not a number"),
    Case("utt2dur_zero", _set_value("utt2dur", "0"), "utt2dur", "not > 0"),
    Case("utt2dur_missing_utt", _drop("utt2dur"), "utt2dur", "missing from utt2dur"),
    Case(
        "utt2dur_longer_than_segment", _set_value("utt2dur", "99.0"), "utt2dur", "longer than their segment"
    ),
    Case("feats_absent", _delete("feats.scp"), "feats.scp", "no such file"),
    Case("feats_extra_utt", _append("feats.scp", "sw09999-A_000000-000100 /x.ark:1"), "feats.scp", "not in"),
    Case("utt2num_frames_float", _set_value("utt2num_frames", "12.5"), "utt2num_frames", "not an integer"),
    Case("utt2num_frames_missing", _drop("utt2num_frames"), "utt2num_frames", "missing"),
    Case("utt2lang_mismatch", _copy_keys("utt2spk", "utt2lang", "en", drop=0), "utt2lang", "missing"),
    Case("utt2uniq_mismatch", _copy_keys("utt2spk", "utt2uniq", "x", drop=0), "utt2uniq", "missing"),
    Case("vad_mismatch", _copy_keys("utt2spk", "vad.scp", "/v.ark:1", drop=0), "vad.scp", "missing"),
    Case("utt2warp_range", _copy_keys("utt2spk", "utt2warp", "2.0"), "utt2warp", "not in (0.5, 1.5)"),
    # speaker-indexed tables
    Case("cmvn_missing_speaker", _drop("cmvn.scp"), "cmvn.scp", "missing"),
    Case("spk2gender_bad", _set_value("spk2gender", "x"), "spk2gender", "bad gender"),
    Case("spk2gender_missing_speaker", _drop("spk2gender"), "spk2gender", "missing"),
    Case("spk2warp_range", _copy_keys("spk2utt", "spk2warp", "0.2"), "spk2warp", "not in (0.5, 1.5)"),
    # ours: sentiment and pseudo labels
    Case("sentiment_bad_label", _set_value("utt2sentiment", "Happy"), "utt2sentiment", "bad sentiment label"),
    Case(
        "sentiment_lowercase", _set_value("utt2sentiment", "positive"), "utt2sentiment", "bad sentiment label"
    ),
    Case("sentiment_missing_utt", _drop("utt2sentiment"), "utt2sentiment", "missing from utt2sentiment"),
    Case(
        "sentiment_two_labels", _set_value("utt2sentiment", "Neutral Positive"), "utt2sentiment", "2 fields"
    ),
    Case("pseudo_neutral", _set_value("utt2pseudo", "Neutral"), "utt2pseudo", "bad pseudo label"),
    Case("pseudo_prob_without_label", _drop("utt2pseudo"), "utt2pseudo_prob", "not in utt2pseudo"),
    Case(
        "pseudo_extra_utt", _append("utt2pseudo", "sw09999-A_000000-000100 Positive"), "utt2pseudo", "not in"
    ),
    Case("pseudo_prob_above_one", _set_value("utt2pseudo_prob", "1.5"), "utt2pseudo_prob", "not in [0, 1]"),
    Case("pseudo_prob_negative", _set_value("utt2pseudo_prob", "-0.1"), "utt2pseudo_prob", "not in [0, 1]"),
    Case("pseudo_prob_nan", _set_value("utt2pseudo_prob", "nan"), "utt2pseudo_prob", "not in [0, 1]"),
    Case("pseudo_prob_text", _set_value("utt2pseudo_prob", "high"), "utt2pseudo_prob", "not a number"),
    Case("pseudo_prob_missing_utt", _drop("utt2pseudo_prob"), "utt2pseudo_prob", "missing"),
    Case("pseudo_prob_without_pseudo", _delete("utt2pseudo"), "utt2pseudo_prob", "without utt2pseudo"),
]
