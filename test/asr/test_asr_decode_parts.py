"""Stage 4's pieces that need no model: best-path CTC, batching, merging the jobs (no utterance lost), the
data/<set>_asr dir, the resume file, the job split."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from speechsent.asr.decode import merge_set, write_asr_data_dir
from speechsent.asr.decode_job import _batches, _read_partial
from speechsent.asr.decoder import ctc_greedy_ids
from speechsent.jobs import pending_job_pieces, split_utts
from speechsent.kaldi.table import read_table


def test_ctc_greedy_ids():
    assert ctc_greedy_ids([0, 5, 5, 0, 5, 7, 7, 7, 0, 0, 9], exclude=[0, 9]) == [5, 5, 7]
    assert ctc_greedy_ids([], exclude=[0]) == []
    assert ctc_greedy_ids([3, 3, 3], exclude=[0]) == [3]


def test_batches_padded_size():
    rng = np.random.default_rng(0)
    chunk = [(f"u{i}", np.zeros(int(n))) for i, n in enumerate(rng.integers(100, 2000, 50))]
    batches = list(_batches(chunk, 5000))
    assert sorted(u for b in batches for u, _ in b) == sorted(u for u, _ in chunk)
    for b in batches:
        lengths = [len(s) for _, s in b]
        assert lengths == sorted(lengths, reverse=True)
        assert len(b) == 1 or len(b) * lengths[0] <= 5000
    # one item longer than a batch is a batch of its own
    assert [len(b) for b in _batches([("long", np.zeros(9000)), ("s", np.zeros(10))], 5000)] == [1, 1]


def _data(root: Path) -> Path:
    d = root / "data" / "set"
    d.mkdir(parents=True)
    utts = [f"sw0{i}-{s}_000{k}" for i in range(3) for s in "AB" for k in range(2)]
    (d / "utt2spk").write_text("".join(f"{u} {u.split('_')[0]}\n" for u in utts))
    (d / "text").write_text("".join(f"{u} ref words\n" for u in utts))
    (d / "wav.scp").write_text("".join(f"{u.split('_')[0]} x.wav\n" for u in utts[::2]))
    (d / "segments").write_text("".join(f"{u} {u.split('_')[0]} {k}.0 {k}.5\n" for k, u in enumerate(utts)))
    (d / "utt2sentiment").write_text("".join(f"{u} Neutral\n" for u in utts))
    return d


def test_merge_set_loses_nothing(tmp_path):
    data = _data(tmp_path)
    utts = list(read_table(data / "utt2spk"))
    set_dir = tmp_path / "decode" / "set"
    for job, part in ((1, utts[:6]), (2, utts[6:])):
        out = set_dir / "logdir" / f"output.{job}"
        out.mkdir(parents=True)
        ok = [u for u in part if u not in (utts[1], utts[7], utts[8])]
        (out / "text").write_text("".join(f"{u} hyp {u[-1]}\n" if u != utts[2] else f"{u}\n" for u in ok))
        (out / "failed").write_text(f"{utts[1]} RuntimeError: boom\n" if job == 1 else "")
    # utts[7] and utts[8] are in no output at all (a job that lost them): reported, not dropped
    hyp, failed = merge_set(data, set_dir, 2)
    assert list(hyp) == utts
    assert hyp[utts[1]] == "" and hyp[utts[2]] == "" and hyp[utts[0]] == "hyp 0"
    assert failed == {
        utts[1]: "RuntimeError: boom",
        utts[7]: "no output from the decoding jobs",
        utts[8]: "no output from the decoding jobs",
    }


def test_write_asr_data_dir(tmp_path):
    data = _data(tmp_path)
    utts = list(read_table(data / "utt2spk"))
    hyp = {u: ("" if i == 3 else f"asr words {i}") for i, u in enumerate(utts)}
    asr = tmp_path / "data" / "set_asr"
    assert write_asr_data_dir(data, asr, hyp)
    assert read_table(asr / "text") == hyp
    assert (asr / "text").read_text().splitlines()[3] == utts[3]  # empty text: the id alone
    for name in ("utt2spk", "utt2sentiment", "wav.scp"):
        assert (asr / name).read_bytes() == (data / name).read_bytes()
    # a later stage's file stays when nothing changed ...
    (asr / "utt2pseudo").write_text("".join(f"{u} Positive\n" for u in utts))
    assert not write_asr_data_dir(data, asr, hyp)
    assert (asr / "utt2pseudo").is_file()
    # ... and is moved away (stale) when the text changes
    hyp[utts[0]] = "other words"
    assert write_asr_data_dir(data, asr, hyp)
    assert not (asr / "utt2pseudo").exists() and (asr / ".backup" / "utt2pseudo").is_file()
    assert read_table(asr / "text")[utts[0]] == "other words"


def test_read_partial_drops_a_cut_line(tmp_path):
    p = tmp_path / "text.partial"
    p.write_text("u1 a b\nu2\nu3 c d")
    assert _read_partial(p) == {"u1": "a b", "u2": ""}
    assert _read_partial(tmp_path / "none") == {}


# characters str.splitlines() (and str.split()) take for line ends (or blanks), Kaldi's readers do not
NOT_LINE_ENDS = "\x1c\x1d\x1e\x85\u2028\u2029"  # not \v, \f: blanks to Kaldi (C isspace)


def test_lines_end_at_newline_only(tmp_path):
    """Data files are cut at "\\n" and fields at space/tab only, as Kaldi reads them (and read_table)."""
    data = tmp_path / "data"
    data.mkdir()
    utt2spk = {f"u{i}{c}x": f"spk{i}{c}y" for i, c in enumerate(NOT_LINE_ENDS)}
    (data / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s in utt2spk.items()), encoding="utf-8")
    pieces = split_utts(data, 3, tmp_path / "logdir")
    keys = [k for p in pieces for k in p.read_text(encoding="utf-8").split("\n") if k]
    assert sorted(keys) == sorted(utt2spk)
    sets = [{"name": "set", "logdir": str(tmp_path / "logdir")}]
    got = [u for job in (1, 2, 3) for _, _, utts in pending_job_pieces(sets, job, "text") for u in utts]
    assert sorted(got) == sorted(utt2spk)
    # a hypothesis holding such a character is one line, kept whole
    partial = tmp_path / "text.partial"
    hyps = {f"u{i}": f"a{c}b c" for i, c in enumerate(NOT_LINE_ENDS)}
    partial.write_text("".join(f"{u} {h}\n" for u, h in hyps.items()), encoding="utf-8")
    assert _read_partial(partial) == hyps


def test_failure_message_of_a_set_the_model_failed_entirely(tmp_path):
    from speechsent.asr.decode import _failure_message

    hyp = {"u1": "", "u2": ""}
    failed = {"u1": "RuntimeError: boom", "u2": "too short for the encoder (10 samples < 400)"}
    message = _failure_message(tmp_path / "data", tmp_path / "dec", hyp, failed, {}, 0.1)
    assert message is not None and "no utterance left of 2 (2 failed to decode)" in message
    assert str(tmp_path / "dec" / "failed") in message and "u1: RuntimeError: boom" in message
    # some decoded, the unreadable fraction within the limit: no error
    failed = {"u1": "unreadable: wav.scp entry r1: no such file"}
    assert _failure_message(tmp_path / "data", tmp_path / "dec", hyp, failed, failed, 0.5) is None
    assert "1 of 2 utterances (50.0 %)" in _failure_message(
        tmp_path / "data", tmp_path / "dec", hyp, failed, failed, 0.4
    )


class _FakeDecoder:
    """Stands in for the ESPnet model: the text says how long the audio was; one utterance fails."""

    seen: ClassVar[list[str]] = []

    def __init__(self, spec):
        self.spec = spec

    def decode(self, batch):
        for utt, samples in batch:
            _FakeDecoder.seen.append(utt)
            if utt.endswith("_02"):
                yield utt, None, "RuntimeError: boom"
            else:
                yield utt, f"n{len(samples)}", None


def test_decode_job_failures_and_resume(tmp_path, monkeypatch):
    import json

    import soundfile

    from speechsent.asr import decode_job

    audio = tmp_path / "audio"
    audio.mkdir()
    data = tmp_path / "data" / "set"
    data.mkdir(parents=True)
    wav, segs, utt2spk = [], [], []
    for r in range(3):
        reco = f"rec{r}-A"
        soundfile.write(audio / f"{reco}.wav", np.zeros(8000 * 4, dtype=np.int16), 8000, subtype="PCM_16")
        wav.append(f"{reco} {audio / f'{reco}.wav'}")
        for k in range(3):
            segs.append(f"{reco}_{k:02d} {reco} {k}.0 {k}.5")
            utt2spk.append(f"{reco}_{k:02d} {reco}")
    wav.append(f"rec9-A {audio / 'missing.wav'}")
    segs.append("rec9-A_00 rec9-A 0.0 1.0")
    utt2spk.append("rec9-A_00 rec9-A")
    for name, lines in (("wav.scp", wav), ("segments", segs), ("utt2spk", utt2spk)):
        (data / name).write_text("".join(sorted(x + "\n" for x in lines)))
    logdir = tmp_path / "decode" / "set" / "logdir"
    logdir.mkdir(parents=True)
    keys = [line.split()[0] for line in sorted(utt2spk)]
    (logdir / "keys.1").write_text("".join(k + "\n" for k in keys))
    spec = {
        "config": "c",
        "model_file": "m",
        "bpemodel": None,
        "fs": 8000,
        "options": {"mode": "ctc_greedy", "chunk_seconds": 1.0},
        "sets": [{"name": "set", "data_dir": str(data), "logdir": str(logdir), "njobs": 1}],
    }
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    monkeypatch.setattr(decode_job, "_Decoder", _FakeDecoder)

    # a job that was stopped after two chunks: their results are in the partial files
    out = logdir / "output.1"
    out.mkdir()
    (out / "text.partial").write_text("rec0-A_00 n4000\nrec0-A_01 n4000\n")
    (out / "failed.partial").write_text("rec0-A_02 RuntimeError: boom\n")
    _FakeDecoder.seen = []
    decode_job.decode_job(tmp_path / "spec.json", 1)
    assert sorted(_FakeDecoder.seen) == [k for k in keys if k.startswith(("rec1", "rec2"))]
    text = read_table(out / "text")
    failed = read_table(out / "failed")
    assert set(text) | set(failed) == set(keys) and not set(text) & set(failed)
    assert text["rec1-A_01"] == "n4000"
    assert failed["rec2-A_02"] == "RuntimeError: boom"
    assert failed["rec9-A_00"].startswith("unreadable: wav.scp entry rec9-A: ")  # reported, not lost
    assert not (out / "text.partial").exists()
    # a piece with unreadable audio is not finished: a rerun reads that audio again (and only it) ...
    _FakeDecoder.seen = []
    decode_job.decode_job(tmp_path / "spec.json", 1)
    assert _FakeDecoder.seen == [] and read_table(out / "failed") == failed
    assert read_table(out / "text") == text
    # ... and decodes it once it is readable, keeping the other results (the model's failures too)
    soundfile.write(audio / "missing.wav", np.zeros(8000 * 2, dtype=np.int16), 8000, subtype="PCM_16")
    decode_job.decode_job(tmp_path / "spec.json", 1)
    assert _FakeDecoder.seen == ["rec9-A_00"]
    assert read_table(out / "text") == {**text, "rec9-A_00": "n8000"}
    assert read_table(out / "failed") == {u: r for u, r in failed.items() if u != "rec9-A_00"}
    # a finished job is not run again
    _FakeDecoder.seen = []
    decode_job.decode_job(tmp_path / "spec.json", 1)
    assert _FakeDecoder.seen == []
    # a job stopped with unreadable utterances in its partial files reads them again when restarted
    (out / "text").unlink()
    (out / "text.partial").write_text("rec0-A_00 n4000\n")
    (out / "failed.partial").write_text("rec0-A_01 unreadable: gone\nrec0-A_02 RuntimeError: boom\n")
    decode_job.decode_job(tmp_path / "spec.json", 1)
    assert sorted(_FakeDecoder.seen) == sorted(k for k in keys if k not in ("rec0-A_00", "rec0-A_02"))
    assert read_table(out / "text")["rec0-A_01"] == "n4000"
