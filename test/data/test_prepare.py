"""Stage-1 data preparation end to end on a tiny corpus (speechsent.data.prepare, bin/prepare_data.py)."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from speechsent.audio.io import UtteranceReader
from speechsent.bin import prepare_data as cli
from speechsent.data import splits as splits_mod
from speechsent.data.ms98 import Ms98FormatError
from speechsent.data.prepare import prepare_data
from speechsent.data.prepare_common import PrepareConfig, PrepareError
from speechsent.data.sentiment import SentimentFormatError
from speechsent.kaldi.table import KaldiDataError, read_table, write_table
from speechsent.kaldi.validate import validate

SETS = ("swbd_train", "swbd_test", "swbd_holdout")
ALL_SETS = (*SETS, "asr_train", "fisher")


def _cfg(corpus, out: Path, **kw) -> PrepareConfig:
    args = {
        "out_dir": out,
        "swbd": corpus.env["SWBD"],
        "swbd_ms98": corpus.env["SWBD_MS98"],
        "swbd_sentiment": corpus.env["SWBD_SENTIMENT"],
        "fisher": corpus.env["FISHER"].split(),
    }
    args.update(kw)
    return PrepareConfig(**args)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _labels(out: Path) -> dict[str, dict[str, str]]:
    return {s: read_table(out / s / "utt2sentiment") for s in SETS}


def test_prepare_fixture_corpus(corpus, tmp_path: Path):
    out = tmp_path / "data"
    report = prepare_data(_cfg(corpus, out))
    labels = _labels(out)
    # every labeled segment in exactly one split, with its majority label
    merged: dict[str, str] = {}
    for s in SETS:
        assert not set(merged) & set(labels[s])
        merged.update(labels[s])
    assert merged == corpus.labeled
    # ties, the unmatched rows and the row of a noise-only segment are absent and counted
    c = report.counts
    assert c["rows_no_majority"] == corpus.tie_rows > 0
    assert c["rows_unmatched"] == corpus.unmatched_rows > 0
    assert c["rows_matched_empty_text"] == corpus.noise_only_rows == 1
    assert c["rows_read"] == len(corpus.labeled) + corpus.tie_rows + corpus.unmatched_rows + 1
    assert (c["labeled_train"], c["labeled_test"], c["labeled_holdout"]) == tuple(
        len(labels[s]) for s in SETS
    )
    assert all(c[f"labeled_{s}"] > 0 for s in ("train", "test", "holdout"))
    # segments that cannot be used, each counted
    assert c["swbd_segments_overlap"] == 6 and c["swbd_segments_bad_times"] == 6
    assert c["swbd_segments_no_audio"] == 2 and c["swbd_side_no_audio"] == 2
    assert c["swbd_side_no_transcript"] == 2 and c["swbd_segments_empty_text"] == 1
    assert c["swbd_segments_ok"] == len(corpus.usable)
    # conversation-disjoint
    convs = {s: {u.split("-")[0] for u in labels[s]} for s in SETS}
    assert not convs["swbd_train"] & convs["swbd_test"]
    assert not convs["swbd_train"] & convs["swbd_holdout"]
    assert not convs["swbd_test"] & convs["swbd_holdout"]
    # asr_train: every usable segment of the training conversations, labeled or not
    asr = read_table(out / "asr_train" / "text")
    held = convs["swbd_test"] | convs["swbd_holdout"]
    assert asr == {u: t for u, t in corpus.usable.items() if u.split("-")[0] not in held}
    assert set(asr) > set(labels["swbd_train"])
    # text, segments, speakers
    for s in SETS:
        text = read_table(out / s / "text")
        assert text == {u: corpus.usable[u] for u in labels[s]}
        for u, v in read_table(out / s / "segments").items():
            reco, start, end = v.split()
            assert reco == u.split("_")[0]
            assert (int(u[-13:-7]), int(u[-6:])) == (round(float(start) * 100), round(float(end) * 100))
        assert read_table(out / s / "utt2spk") == {u: u.split("_")[0] for u in labels[s]}
    wav = read_table(out / "swbd_train" / "wav.scp")
    reco = next(iter(wav))
    channel = 1 if reco.endswith("-A") else 2
    assert wav[reco] == (
        f"speechsent-sph2pipe -f wav -p -c {channel} {Path(corpus.env['SWBD']).absolute()}/"
        + ("swb1_d2" if reco.startswith("sw02005") else "swb1_d1/data")
        + f"/{reco[:7]}.sph |"
    )
    # Fisher
    assert read_table(out / "fisher" / "text") == corpus.fisher_usable
    assert report.dirs["fisher"] == len(corpus.fisher_usable)
    assert c["fisher_segments_unintelligible"] == corpus.fisher_unintelligible
    # every dir validates, and has utt2dur from the segments
    for s in ALL_SETS:
        assert validate(out / s, no_feats=True) == [], s
        durs = read_table(out / s / "utt2dur")
        segs = read_table(out / s / "segments")
        for u, d in durs.items():
            _, a, b = segs[u].split()
            assert abs(float(d) - (float(b) - float(a))) < 1e-6
    # every skip listed, one line each
    skipped = (out / "local" / "prepare_data.skipped").read_text().splitlines()
    assert sum(line.startswith("rows_unmatched\t") for line in skipped) == corpus.unmatched_rows
    assert sum(line.startswith("swbd_segments_overlap\t") for line in skipped) == 6
    # idempotent
    before = _snapshot(out)
    prepare_data(_cfg(corpus, out))
    assert _snapshot(out) == before


def test_audio_through_wav_scp_equals_the_source(corpus, tmp_path: Path):
    out = tmp_path / "data"
    prepare_data(_cfg(corpus, out))
    checked = 0
    for s in SETS:
        reader = UtteranceReader(out / s)
        for utt, samples, rate in reader.iter_utterances():
            assert rate == 8000
            seg = reader.segments[utt]
            conv, side = seg.reco.split("-")
            src = corpus.audio[conv][int(seg.start * rate) : int(seg.end * rate), "AB".index(side)]
            np.testing.assert_array_equal(samples, src.astype(np.float32) / 32768.0)
            checked += 1
    assert checked == len(corpus.labeled)


def test_sph2pipe_option(corpus, tmp_path: Path):
    prepare_data(_cfg(corpus, tmp_path / "data", sph2pipe="/opt/kaldi/tools/sph2pipe_v2.5/sph2pipe"))
    for line in (tmp_path / "data" / "fisher" / "wav.scp").read_text().splitlines():
        assert line.split()[1] == "/opt/kaldi/tools/sph2pipe_v2.5/sph2pipe"


def _copy_tsv(corpus, tmp_path: Path, extra: str) -> Path:
    tsv = tmp_path / "sentiment_labels.tsv"
    src = Path(corpus.env["SWBD_SENTIMENT"]) / "data" / "sentiment_labels.tsv"
    tsv.write_text(src.read_text() + extra)
    return tsv


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("sw02001_99\t1.0\t2.0\n", "expected 4 tab-separated columns"),
        ("sw02001_99\t1.0\t2.0\tHappy-{x}#Happy-{y}#Neutral-{z}\n", "unknown label 'Happy'"),
        ("sw02001_99\tone\t2.0\tNeutral-{x}\n", "bad time 'one'"),
        ("sw02001_99\t3.0\t2.0\tNeutral-{x}\n", "not after start time"),
    ],
)
def test_malformed_tsv_row(corpus, tmp_path: Path, row: str, reason: str):
    tsv = _copy_tsv(corpus, tmp_path, row)
    lineno = len(tsv.read_text().splitlines())
    with pytest.raises(SentimentFormatError, match=rf"^{tsv}:{lineno}: .*{reason}"):
        prepare_data(_cfg(corpus, tmp_path / "data", swbd_sentiment=str(tsv)))
    report = prepare_data(_cfg(corpus, tmp_path / "data", swbd_sentiment=str(tsv), skip_bad_rows=True))
    assert report.counts["rows_bad"] == 1
    assert report.counts["rows_read"] == lineno - 1


def test_malformed_ms98_line(corpus, tmp_path: Path):
    ms98 = tmp_path / "ms98"
    shutil.copytree(corpus.env["SWBD_MS98"], ms98)
    f = ms98 / "20" / "2001" / "sw2001A-ms98-a-trans.text"
    n = len(f.read_text().splitlines())
    with f.open("a") as fh:
        fh.write("sw2001A-ms98-a-0099 oops 3.0 words\n")
    with pytest.raises(Ms98FormatError, match=rf"^{f}:{n + 1}: bad time"):
        prepare_data(_cfg(corpus, tmp_path / "data", swbd_ms98=str(ms98)))
    report = prepare_data(_cfg(corpus, tmp_path / "data", swbd_ms98=str(ms98), skip_bad_rows=True))
    assert report.counts["swbd_bad_line"] == 1


def test_bad_fisher_transcript(corpus, tmp_path: Path):
    roots = [tmp_path / Path(r).name for r in corpus.env["FISHER"].split()]
    for src, dst in zip(corpus.env["FISHER"].split(), roots, strict=True):
        shutil.copytree(src, dst, symlinks=True)
    bad = next(roots[1].rglob("fe_03_00002.txt"))
    bad.write_text("1.0 2.0 A: no header line\n")
    with pytest.raises(PrepareError, match=rf"{bad}:1: expected a first line"):
        prepare_data(_cfg(corpus, tmp_path / "data", fisher=[str(r) for r in roots]))
    report = prepare_data(_cfg(corpus, tmp_path / "data", fisher=[str(r) for r in roots], skip_bad_rows=True))
    assert report.counts["fisher_bad_transcript"] == 1
    assert report.dirs["fisher"] == len([u for u in corpus.fisher_usable if u.startswith("fe_03_00001")])


def test_missing_inputs(corpus, tmp_path: Path):
    with pytest.raises(PrepareError, match="no such directory"):
        prepare_data(_cfg(corpus, tmp_path / "data", swbd=str(tmp_path / "nope")))
    with pytest.raises(PrepareError, match="SWBD and SWBD_MS98 are needed"):
        prepare_data(_cfg(corpus, tmp_path / "data", swbd=None))
    with pytest.raises(PrepareError, match="sentiment_labels.tsv"):
        prepare_data(_cfg(corpus, tmp_path / "data", swbd_sentiment=str(tmp_path)))
    with pytest.raises(PrepareError, match="FISHER root"):
        prepare_data(_cfg(corpus, tmp_path / "data", fisher=[str(tmp_path / "nope")]))
    report = prepare_data(_cfg(corpus, tmp_path / "data", fisher=[]))
    assert "fisher" not in report.dirs and not (tmp_path / "data" / "fisher").exists()


def test_split_lists(corpus, tmp_path: Path):
    convs = sorted({u.split("-")[0] for u in corpus.labeled})
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "train").write_text("\n".join(convs[:3]) + "\n")
    # test: sentiment-row ids of one conversation; holdout: utterance ids of another (all but one)
    tsv = Path(corpus.env["SWBD_SENTIMENT"]) / "data" / "sentiment_labels.tsv"
    rows = [line.split("\t")[0] for line in tsv.read_text().splitlines() if line.startswith(convs[3] + "_")]
    (lists / "test").write_text("\n".join(rows) + "\n")
    holdout = sorted(u for u in corpus.labeled if u.startswith(convs[4]))
    (lists / "holdout.txt").write_text("\n".join(holdout[1:]) + "\n")
    out = tmp_path / "data"
    report = prepare_data(_cfg(corpus, out, split_lists=str(lists)))
    labels = _labels(out)
    assert {u.split("-")[0] for u in labels["swbd_train"]} == set(convs[:3])
    assert set(labels["swbd_test"]) == {u for u in corpus.labeled if u.startswith(convs[3])}
    assert set(labels["swbd_holdout"]) == set(holdout[1:])
    unlisted = [u for u in corpus.labeled if u.split("-")[0] == convs[5]] + [holdout[0]]
    assert report.counts["rows_not_in_split_lists"] == len(unlisted)
    asr_convs = {u.split("-")[0] for u in read_table(out / "asr_train" / "utt2spk")}
    assert asr_convs == set(convs[:3]) | {convs[5]}


def test_espnet_split(corpus, tmp_path: Path, monkeypatch):
    tsv = Path(corpus.env["SWBD_SENTIMENT"]) / "data" / "sentiment_labels.tsv"
    n = len(tsv.read_text().splitlines())
    # ESPnet's ranges scaled down to this corpus: [0, n-16) train, then 8 lines each
    monkeypatch.setattr(
        splits_mod,
        "ESPNET_LINE_RANGES",
        {"train": (0, n - 16), "test": (n - 16, n - 8), "holdout": (n - 8, n)},
    )
    out = tmp_path / "data"
    report = prepare_data(_cfg(corpus, out, split="espnet"))
    labels = _labels(out)
    merged = {u: lab for s in SETS for u, lab in labels[s].items()}
    # the rows ESPnet keeps are a subset of ours, with the same labels; the rest are counted
    assert merged and all(corpus.labeled[u] == lab for u, lab in merged.items())
    lost = report.counts["rows_unmatched_espnet_cursor"]
    assert lost > 0
    assert len(merged) + lost == len(corpus.labeled)
    assert report.counts["rows_unmatched"] == corpus.unmatched_rows
    # membership follows the line ranges
    lines = tsv.read_text().splitlines()
    conv_of_line = {i: line.split("\t")[0].split("_")[0] for i, line in enumerate(lines)}
    for s, (lo, hi) in (("swbd_test", (n - 16, n - 8)), ("swbd_holdout", (n - 8, n))):
        assert {u.split("-")[0] for u in labels[s]} <= {conv_of_line[i] for i in range(lo, hi)}
    # with the real ranges a small TSV leaves the evaluation sets empty: an error, not empty dirs
    monkeypatch.undo()
    with pytest.raises(PrepareError, match="no labeled segment in swbd_test, swbd_holdout"):
        prepare_data(_cfg(corpus, tmp_path / "data2", split="espnet"))


def test_reuse_kaldi_data_dir(corpus, tmp_path: Path):
    out = tmp_path / "data"
    prepare_data(_cfg(corpus, out))
    # a Kaldi swbd1_data_prep.sh-like dir: every usable segment, tags kept in text, sph2pipe pipes
    kaldi = tmp_path / "kaldi_train"
    kaldi.mkdir()
    asr_wav = {}
    for s in (*SETS, "asr_train"):
        asr_wav.update(read_table(out / s / "wav.scp"))
    segs = {u: f"{u.split('_')[0]} {int(u[-13:-7]) / 100} {int(u[-6:]) / 100}" for u in corpus.usable}
    write_table(kaldi / "segments", segs)
    write_table(kaldi / "text", {u: f"[noise] {t}" for u, t in corpus.usable.items()})
    write_table(kaldi / "utt2spk", {u: u.split("_")[0] for u in corpus.usable})
    write_table(
        kaldi / "wav.scp", {r: v.replace("speechsent-sph2pipe", "sph2pipe") for r, v in asr_wav.items()}
    )
    out2 = tmp_path / "data2"
    report = prepare_data(_cfg(corpus, out2, swbd=None, swbd_ms98=None, swbd_data_dir=str(kaldi)))
    assert _labels(out2) == _labels(out)
    for s in SETS:
        assert read_table(out2 / s / "text") == read_table(out / s / "text")
        assert read_table(out2 / s / "wav.scp")  # kept as given
        assert all(v.startswith("sph2pipe ") for v in read_table(out2 / s / "wav.scp").values())
        assert validate(out2 / s, no_feats=True) == []
    # the noise-only segment is not in the reused dir: its row is unmatched there
    assert report.counts["rows_unmatched"] == corpus.unmatched_rows + corpus.noise_only_rows
    with pytest.raises(PrepareError, match="needs segments, text and wav.scp"):
        prepare_data(_cfg(corpus, out2, swbd_data_dir=str(tmp_path / "empty")))


def test_later_stage_files_are_kept_or_backed_up(corpus, tmp_path: Path):
    out = tmp_path / "data"
    prepare_data(_cfg(corpus, out))
    train = out / "swbd_train"
    write_table(train / "utt2pseudo", dict.fromkeys(read_table(train / "utt2spk"), "Positive"))
    prepare_data(_cfg(corpus, out))
    assert (train / "utt2pseudo").is_file()  # same utterances: kept
    # drop one labeled row: the utterances change, utt2pseudo no longer fits
    victim = sorted(read_table(train / "utt2spk"))[0]
    tsv = tmp_path / "sentiment_labels.tsv"
    src = Path(corpus.env["SWBD_SENTIMENT"]) / "data" / "sentiment_labels.tsv"
    start = int(victim[-13:-7]) / 100
    keep = [
        r
        for r in src.read_text().splitlines()
        if not (victim[:7] in r and abs(float(r.split("\t")[1]) - start) < 0.05)
    ]
    tsv.write_text("\n".join(keep) + "\n")
    prepare_data(_cfg(corpus, out, swbd_sentiment=str(tsv)))
    assert not (train / "utt2pseudo").exists()
    assert (train / ".backup" / "utt2pseudo").is_file()
    assert validate(train, no_feats=True) == []


# ----------------------------------------------------------------------------------------------------------
# The command line


def test_cli(corpus, tmp_path: Path, caplog):
    out = tmp_path / "data"
    config = tmp_path / "prep.yaml"
    config.write_text(
        f"swbd: {corpus.env['SWBD']}\nswbd_ms98: {corpus.env['SWBD_MS98']}\nsplit_hours: [80, 8, 8]\n"
    )
    argv = [
        "--config",
        str(config),
        "--swbd_sentiment",
        corpus.env["SWBD_SENTIMENT"],
        "--fisher",
        corpus.env["FISHER"],
        "--out_dir",
        str(out),
        "--split_seed",
        "3",
    ]
    with caplog.at_level(logging.INFO):
        assert cli.main(argv) == 0
    assert "counts: " in caplog.records[-1].getMessage()
    for s in ALL_SETS:
        assert (out / s / "utt2dur").is_file()
    # bad input: exit status 1, the message names file:line
    tsv = _copy_tsv(corpus, tmp_path, "sw02001_99\t1.0\n")
    caplog.clear()
    assert cli.main([*argv, "--swbd_sentiment", str(tsv)]) == 1
    assert f"{tsv}:" in caplog.records[-1].getMessage()
    with pytest.raises(SystemExit) as e:
        cli.main(["--split", "random"])
    assert e.value.code == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("no_such_option: 1\n")
    with pytest.raises(SystemExit):
        cli.main(["--config", str(bad)])


def test_cli_options_are_the_config_fields(capsys):
    """PrepareConfig is the one definition of the stage-1 options: the parser is built from its fields."""
    parser = cli.get_parser()
    assert {f.name for f in dataclasses.fields(PrepareConfig)} <= {a.dest for a in parser._actions}
    cfg = cli.config_from_args(
        parser.parse_args(["--fisher", "a b", "--split_hours", "80,8,8", "--swbd", ""])
    )
    assert cfg.fisher == ("a", "b") and cfg.split_hours == (80.0, 8.0, 8.0) and cfg.swbd is None
    assert cli.config_from_args(parser.parse_args([])) == PrepareConfig()
    # the names of the data dirs the options write (recipes' local/data.sh validates those)
    assert cli.main(["--list_sets", "true", "--train_set", "calls_train", "--fisher_set", "calls_unlab"]) == 0
    assert capsys.readouterr().out.split() == [
        "calls_train",
        "swbd_test",
        "swbd_holdout",
        "asr_train",
        "calls_unlab",
    ]
    with pytest.raises(SystemExit):
        cli.main(["--split_hours", "1 2"])
    assert "expected three hours" in capsys.readouterr().err


def test_cli_help_is_fast():
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-m", "speechsent.bin.prepare_data", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    elapsed = time.perf_counter() - t0
    assert "--split_lists" in r.stdout and "--swbd_data_dir" in r.stdout
    assert elapsed < 2.0  # < 1 s on the reference machine; slack for loaded CI
    # no heavy imports behind --help
    r = subprocess.run(
        [sys.executable, "-c", "import sys, speechsent.bin.prepare_data; print('numpy' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert r.stdout.strip() == "False"


def test_kaldi_data_error_is_an_error_status(tmp_path: Path):
    assert issubclass(SentimentFormatError, KaldiDataError) and issubclass(Ms98FormatError, KaldiDataError)
