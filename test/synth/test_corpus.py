"""The synthetic corpus: layouts and formats of the LDC releases, ground truth, determinism, CLI."""

from __future__ import annotations

import dataclasses
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("espeakng_loader")

from speechsent.audio.sphere import read_sphere, read_sphere_header
from speechsent.data.sentiment import format_row, parse_row
from speechsent.synth.corpus import synthesize_corpus
from speechsent.synth.manifest import CONFIG_HELP, CorpusConfig, CorpusManifest, load_manifest
from speechsent.synth.sentences import SENTIMENTS, SentenceGenerator, sentiment_words

CONFIG = CorpusConfig(
    seed=3,
    num_swbd_convs=3,
    num_fisher_convs=2,
    num_fisher_p2_convs=1,
    turns_per_conv=10,
    fisher_turns_per_conv=6,
    markup_rate=0.4,
)
MS98_LINE = re.compile(r"^(sw(\d{4})([AB])-ms98-a-(\d{4})) (\d+\.\d{6}) (\d+\.\d{6}) (\S.*)$")
TSV_VOTE = re.compile(r"^(Negative|Neutral|Positive)-\{[A-Za-z ]+\}$")
FISHER_LINE = re.compile(r"^(\d+\.\d\d) (\d+\.\d\d) ([AB]): (.*) $")
MS98_TAGS = {"[noise]", "[vocalized-noise]", "[laughter]", "[silence]", "<b_aside>", "<e_aside>"}
FISHER_TAGS = {"[noise]", "[laughter]", "[lipsmack]", "[breath]", "[cough]", "[sigh]", "[mn]", "((", "))"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, CorpusManifest]:
    out = tmp_path_factory.mktemp("synth") / "corpus"
    return out, synthesize_corpus(out, CONFIG)


def _ms98(path: Path) -> list[tuple[str, float, float, str]]:
    rows = []
    for line in path.read_text().splitlines():
        m = MS98_LINE.match(line)
        assert m, line
        rows.append((m.group(1), float(m.group(5)), float(m.group(6)), m.group(7)))
    return rows


def _clean_ms98(transcript: str) -> str:
    words = []
    for token in transcript.split():
        if token in MS98_TAGS:
            continue
        m = re.fullmatch(r"\[laughter-([\w']+)\]", token)
        if m:
            words.append(m.group(1))
            continue
        if re.fullmatch(r"[\w']*\[[\w']+\]-|-\[[\w']+\][\w']+", token):  # partial words
            continue
        assert re.fullmatch(r"[a-z']+(-[a-z']+)*", token), token
        words.append(token)
    return " ".join(words)


def test_layout(corpus):
    out, manifest = corpus
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert not [f for f in files if f.endswith(".tmp")]  # no temporary file of an atomic write left
    swbd = [f for f in files if f.endswith(".sph") and f.startswith("swbd/")]
    assert len(swbd) == 3
    assert all(re.fullmatch(r"swbd/swb1_d1/data/sw0\d{4}\.sph", f) for f in swbd)
    for conv in manifest.swbd:
        digits = f"{conv.number:04d}"
        for side in "AB":
            for kind in ("trans", "word"):
                name = f"sw{digits}{side}-ms98-a-{kind}.text"
                assert f"swb_ms98_transcriptions/{digits[:2]}/{digits}/{name}" in files
    assert "swbd_sentiment/data/sentiment_labels.tsv" in files
    assert "fisher/LDC2004S13/fe_03_p1_sph1/audio/000/fe_03_00001.sph" in files
    assert "fisher/LDC2004S13/fe_03_p1_sph1/audio/000/fe_03_00002.sph" in files
    assert "fisher/LDC2004T19/fe_03_p1_tran/data/trans/000/fe_03_00001.txt" in files
    assert "fisher/LDC2005S13/fe_03_p2_sph1/audio/058/fe_03_05851.sph" in files
    assert "fisher/LDC2005T19/fe_03_p2_tran/data/trans/058/fe_03_05851.txt" in files
    assert "manifest.json" in files
    assert manifest.db["SWBD"] == str(out.resolve() / "swbd")
    assert manifest.db["SWBD_MS98"] == str(out.resolve() / "swb_ms98_transcriptions")
    assert manifest.db["SWBD_SENTIMENT"] == str(out.resolve() / "swbd_sentiment")
    roots = ("LDC2004S13", "LDC2004T19", "LDC2005S13", "LDC2005T19")
    assert manifest.db["FISHER"].split() == [str(out.resolve() / "fisher" / name) for name in roots]
    assert manifest.db_lines()[0] == f"SWBD={out.resolve() / 'swbd'}"
    assert manifest.db_lines()[3].startswith('FISHER="')


def test_sphere_files(corpus):
    out, manifest = corpus
    shortened = []
    for conv in manifest.swbd:
        path = out / conv.path
        header = read_sphere_header(path)
        samples, rate = read_sphere(path)
        assert rate == 8000 and samples.shape == (round(conv.duration * 8000), 2)
        assert header.sample_coding == "ulaw" and header.channel_count == 2
        assert header.fields["conversation_id"] == f"{conv.number:04d}"
        assert header.fields["database_id"] == "Switchboard-1"
        assert (header.compression == "embedded-shorten-v2.00") == conv.shorten
        shortened.append(conv.shorten)
        rms = np.sqrt(np.mean(samples.astype(np.float64) ** 2, axis=0))
        assert (rms > 200).all(), rms
        # speech where the MS98 transcript says so, near-silence in a long [silence] segment
        for seg in conv.segments:
            lo, hi = round(seg.start * 8000), round(seg.end * 8000)
            part = samples[lo:hi, "AB".index(seg.side)].astype(np.float64)
            if seg.kind == "speech" and seg.end - seg.start > 1.0:
                assert np.sqrt(np.mean(part**2)) > 300, seg
    assert any(shortened) and not all(shortened)
    for conv in manifest.fisher:
        header = read_sphere_header(out / conv.audio_path)
        samples, rate = read_sphere(out / conv.audio_path)
        assert header.compression == "embedded-shorten-v2.00" and header.sample_coding == "ulaw"
        assert rate == 8000 and samples.shape == (round(conv.duration * 8000), 2)


def test_ms98_transcripts_tile_each_side(corpus):
    out, manifest = corpus
    kinds = set()
    for conv in manifest.swbd:
        for side in "AB":
            rows = _ms98(out / conv.ms98_paths[side])
            assert rows[0][1] == 0.0
            assert rows[-1][2] == pytest.approx(conv.duration, abs=1e-6)
            for n, (seg_id, start, end, text) in enumerate(rows, start=1):
                assert seg_id == f"sw{conv.number:04d}{side}-ms98-a-{n:04d}"
                assert start < end
                assert round(start * 8000) == pytest.approx(start * 8000, abs=1e-6)  # the 8 kHz sample grid
                if n > 1:
                    assert start == rows[n - 2][2]
                assert text == text.lower()
            assert any(text == "[silence]" for *_, text in rows)
            truth = [s for s in conv.segments if s.side == side]
            assert [(s.segment_id, s.start, s.end, s.transcript) for s in truth] == rows
            for seg in truth:
                kinds.add(seg.kind)
                if seg.kind in ("speech", "backchannel"):
                    assert _clean_ms98(seg.transcript) == seg.words
                    assert seg.sentiment in SENTIMENTS
    assert {"silence", "speech", "backchannel"} <= kinds


def test_ms98_word_files_align_with_the_transcripts(corpus):
    out, manifest = corpus
    for conv in manifest.swbd:
        for side in "AB":
            segments = _ms98(out / conv.ms98_paths[side])
            words = _ms98(out / conv.ms98_word_paths[side])
            by_segment: dict[str, list[tuple[float, float, str]]] = {}
            for seg_id, start, end, token in words:
                assert " " not in token
                by_segment.setdefault(seg_id, []).append((start, end, token))
            assert list(by_segment) == [seg_id for seg_id, *_ in segments]
            for seg_id, start, end, text in segments:
                tokens = by_segment[seg_id]
                assert " ".join(t for *_, t in tokens) == text
                previous = start
                for t0, t1, _ in tokens:
                    assert start <= t0 <= t1 <= end + 1e-9
                    assert t0 >= previous - 1e-9
                    previous = t0
                if text == "[silence]":
                    assert tokens == [(start, end, "[silence]")]
    text = " ".join(s.transcript for c in manifest.swbd for s in c.segments)
    for token in ("[noise]", "[laughter]", "[silence]"):
        assert token in text
    assert re.search(r"\[laughter-[a-z']+\]|\w\[\w+\]-|-\[\w+\]\w", text)


def test_sentiment_labels(corpus):
    out, manifest = corpus
    lines = (out / "swbd_sentiment/data/sentiment_labels.tsv").read_text().splitlines()
    assert len(lines) == len(manifest.sentiment_rows) > 20
    segments = {c.conversation: [s for s in c.segments if s.kind != "silence"] for c in manifest.swbd}
    outcomes = []
    for lineno, (line, row) in enumerate(zip(lines, manifest.sentiment_rows, strict=True), start=1):
        # written through the reader's row type: the line reads back to the same row
        assert line == format_row(row.tsv_row(lineno))
        assert parse_row(line, lineno) == row.tsv_row(lineno)
        row_id, start, end, votes = line.split("\t")
        assert re.fullmatch(r"sw0\d{4}_\d+", row_id)
        conv = row_id.split("_")[0]
        assert float(start) < float(end)
        vote_list = votes.split("#")
        assert len(vote_list) in (3, 4)
        assert all(TSV_VOTE.match(v) for v in vote_list)
        labels = [v.split("-{")[0] for v in vote_list]
        counts = sorted((labels.count(x) for x in set(labels)), reverse=True)
        majority = counts[0] > (counts[1] if len(counts) > 1 else 0)
        t0, t1 = float(start), float(end)
        matches = [s for s in segments[conv] if abs(s.start - t0) <= 0.05 and abs(s.end - t1) <= 0.05]
        if row.outcome == "unmatched":
            assert matches == []
        else:
            assert [s.segment_id for s in matches] == [row.segment_id]
            seg = matches[0]
            assert abs(seg.start - float(start)) <= 0.03 + 1e-9 and abs(seg.end - float(end)) <= 0.03 + 1e-9
            assert row_id == f"{conv}_{seg.index}" and seg.labeled
            assert row.outcome == (max(set(labels), key=labels.count) if majority else "tie")
        outcomes.append(row.outcome)
    assert "tie" in outcomes and "unmatched" in outcomes
    assert (
        sum(o == r.true_sentiment for o, r in zip(outcomes, manifest.sentiment_rows, strict=True))
        > len(outcomes) * 0.6
    )
    assert len({len(r.votes) for r in manifest.sentiment_rows}) >= 1
    # not every transcribed segment is labeled, and ids follow the segments' time order
    speech = [s for c in manifest.swbd for s in c.segments if s.kind in ("speech", "backchannel")]
    assert any(not s.labeled for s in speech)
    for conv in manifest.swbd:
        rows = [r for r in manifest.sentiment_rows if r.conversation == conv.conversation]
        ids = [int(r.row_id.split("_")[1]) for r in rows]
        assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_fisher_transcripts(corpus):
    out, manifest = corpus
    assert [c.conversation for c in manifest.fisher] == ["fe_03_00001", "fe_03_00002", "fe_03_05851"]
    for conv in manifest.fisher:
        text = (out / conv.transcript_path).read_text()
        lines = text.split("\n")
        assert lines[0] == f"# {conv.conversation}.sph"
        assert lines[1] in ("# Transcribed at the LDC", "# Transcribed by BBN/WordWave")
        assert lines[2] == ""
        body = lines[3:]
        assert body[-1] == "" and body[-2] == ""
        utterances = body[0:-2:2]
        assert all(blank == "" for blank in body[1:-1:2])
        starts = []
        for line, seg in zip(utterances, conv.segments, strict=True):
            m = FISHER_LINE.match(line)
            assert m, repr(line)
            assert float(m.group(1)) < float(m.group(2)) <= conv.duration
            assert m.group(3) == seg.side and m.group(4) == seg.transcript
            starts.append(float(m.group(1)))
            if seg.kind in ("speech", "backchannel"):
                clean = [t for t in seg.transcript.split() if t not in FISHER_TAGS and not t.endswith("-")]
                if "(( ))" not in seg.transcript:
                    assert " ".join(clean) == seg.words
        assert starts == sorted(starts)
    allt = " ".join(s.transcript for c in manifest.fisher for s in c.segments)
    assert "((" in allt


def test_manifest_round_trip(corpus, tmp_path):
    out, manifest = corpus
    loaded = load_manifest(out)
    assert loaded.db == manifest.db
    assert loaded.swbd == manifest.swbd and loaded.fisher == manifest.fisher
    assert loaded.sentiment_rows == manifest.sentiment_rows
    assert loaded.config == CONFIG
    speakers = [spk for c in manifest.swbd + manifest.fisher for spk in c.speakers.values()]
    assert all(c.speakers["A"] != c.speakers["B"] for c in manifest.swbd + manifest.fisher)
    assert {spk.gender for spk in speakers} == {"f", "m"}
    data = json.loads((out / "manifest.json").read_text())
    assert data["db_relative"] == {
        "SWBD": "swbd",
        "SWBD_MS98": "swb_ms98_transcriptions",
        "SWBD_SENTIMENT": "swbd_sentiment",
        "FISHER": "fisher/LDC2004S13 fisher/LDC2004T19 fisher/LDC2005S13 fisher/LDC2005T19",
    }
    assert manifest.audio_seconds == pytest.approx(
        sum(c.duration for c in manifest.swbd) + sum(c.duration for c in manifest.fisher)
    )
    # a manifest of an earlier release (no prosody_consistency) reads as what it was: every turn, in full
    assert data["config"]["prosody_consistency"] == 1.0
    del data["config"]["prosody_consistency"]
    assert CorpusManifest.from_dict(data).config == CONFIG


def _same_corpus(one: Path, two: Path) -> None:
    first = {p.relative_to(one): p for p in one.rglob("*") if p.is_file()}
    second = {p.relative_to(two): p for p in two.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    for rel, path in first.items():
        if rel.name == "manifest.json":
            a, b = json.loads(path.read_text()), json.loads(second[rel].read_text())
            a.pop("db"), b.pop("db")
            assert a == b
        else:
            assert path.read_bytes() == second[rel].read_bytes(), rel


def test_deterministic(corpus, tmp_path):
    out, _ = corpus
    synthesize_corpus(tmp_path / "again", CONFIG)
    _same_corpus(out, tmp_path / "again")


def test_parallel_is_the_same(tmp_path):
    tiny = dataclasses.replace(
        CONFIG, num_swbd_convs=2, num_fisher_convs=1, num_fisher_p2_convs=0, turns_per_conv=3
    )
    synthesize_corpus(tmp_path / "serial", tiny)
    synthesize_corpus(tmp_path / "parallel", tiny, nj=2)
    _same_corpus(tmp_path / "serial", tmp_path / "parallel")


def test_swbd_part_does_not_depend_on_fisher(corpus, tmp_path):
    out, _ = corpus
    config = dataclasses.replace(CONFIG, num_fisher_convs=0, num_fisher_p2_convs=0)
    manifest = synthesize_corpus(tmp_path, config)
    assert manifest.fisher == [] and manifest.db["FISHER"] == ""
    assert not (tmp_path / "fisher").exists()
    files = [p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()]
    files.remove(Path("manifest.json"))
    assert len(files) == 3 + 12 + 1 + 1  # sph, MS98 trans and word, TSV, the corpus marker
    for rel in files:
        assert (tmp_path / rel).read_bytes() == (out / rel).read_bytes(), rel


def test_partial_prosody_is_deterministic(tmp_path):
    tiny = dataclasses.replace(
        CONFIG, num_swbd_convs=1, num_fisher_convs=0, num_fisher_p2_convs=0, turns_per_conv=4
    )
    partial = dataclasses.replace(tiny, prosody_consistency=0.15)
    synthesize_corpus(tmp_path / "one", partial)
    synthesize_corpus(tmp_path / "two", partial)
    _same_corpus(tmp_path / "one", tmp_path / "two")
    assert load_manifest(tmp_path / "one").config == partial
    synthesize_corpus(tmp_path / "full", tiny)
    sph = load_manifest(tmp_path / "full").swbd[0].path
    assert (tmp_path / "one" / sph).read_bytes() != (tmp_path / "full" / sph).read_bytes()


def test_other_seed_differs(corpus, tmp_path):
    _, first = corpus
    config = dataclasses.replace(CONFIG, seed=4, num_swbd_convs=1, num_fisher_convs=0, num_fisher_p2_convs=0)
    manifest = synthesize_corpus(tmp_path, config)
    assert len(manifest.swbd) == 1 and len(manifest.sentiment_rows) > 3
    assert manifest.swbd[0].segments != first.swbd[0].segments


def test_rewrite_removes_the_earlier_corpus_and_refuses_other_dirs(tmp_path):
    small = dataclasses.replace(
        CONFIG, num_swbd_convs=2, num_fisher_convs=1, num_fisher_p2_convs=0, turns_per_conv=2
    )
    first = synthesize_corpus(tmp_path / "c", small)
    smaller = dataclasses.replace(small, num_swbd_convs=1, num_fisher_convs=0, seed=9)
    second = synthesize_corpus(tmp_path / "c", smaller)
    files = sorted(str(p.relative_to(tmp_path / "c")) for p in (tmp_path / "c").rglob("*") if p.is_file())
    conv = second.swbd[0]
    tsv = "swbd_sentiment/data/sentiment_labels.tsv"
    expected = [conv.path, *conv.ms98_paths.values(), *conv.ms98_word_paths.values(), tsv]
    expected += ["manifest.json", ".speechsent-synth-corpus"]
    assert files == sorted(expected)
    assert len(first.swbd) == 2 and not (tmp_path / "c" / "fisher").exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "data.txt").write_text("mine\n")
    with pytest.raises(ValueError, match="not empty"):
        synthesize_corpus(tmp_path / "other", smaller)
    assert (tmp_path / "other" / "data.txt").read_text() == "mine\n"


def test_config_validation():
    with pytest.raises(ValueError, match="labeled_fraction"):
        dataclasses.replace(CONFIG, labeled_fraction=1.5).validate()
    with pytest.raises(ValueError, match="num_swbd_convs"):
        dataclasses.replace(CONFIG, num_swbd_convs=5000).validate()
    with pytest.raises(ValueError, match="unknown"):
        CorpusConfig.from_dict({"bogus": 1})
    assert CorpusConfig.from_dict(CONFIG.to_dict()) == CONFIG


# --------------------------------------------------------------------------------------
# Sentences
# --------------------------------------------------------------------------------------


def test_sentences_deterministic_and_varied():
    def draw(seed: int) -> list[str]:
        gen = SentenceGenerator(random.Random(seed), disfluency_rate=0.3)
        return [gen.turn(s).text for s in SENTIMENTS for _ in range(300)]

    assert draw(1) == draw(1) != draw(2)
    gen = SentenceGenerator(random.Random(0), disfluency_rate=0.0)
    for sentiment in SENTIMENTS:
        texts = {gen.sentence(sentiment).text for _ in range(3000)}
        assert len(texts) > 1800, sentiment


def test_sentiment_carried_by_words():
    gen = SentenceGenerator(random.Random(5), disfluency_rate=0.3)
    lexicon = sentiment_words()
    for sentiment in ("Positive", "Negative"):
        for _ in range(500):
            sentence = gen.sentence(sentiment)
            assert set(sentence.words) & lexicon, sentence
    neutral = [gen.sentence("Neutral") for _ in range(500)]
    strong = {"love", "hate", "awful", "terrible", "wonderful", "great", "angry", "worried", "happy"}
    assert sum(bool(set(s.words) & strong) for s in neutral) < 25
    assert any("uh" in s.words or "um" in s.words for s in neutral)


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------


def test_cli_help_is_fast():
    began = time.perf_counter()
    command = [sys.executable, "-m", "speechsent.bin.synth_corpus", "--help"]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    assert time.perf_counter() - began < 3.0
    assert "--num_swbd_convs" in done.stdout and "--sentiment_weights" in done.stdout
    assert "--prosody_consistency" in done.stdout


def test_cli_help_covers_config():

    assert set(CONFIG_HELP) == {f.name for f in dataclasses.fields(CorpusConfig)}


def test_cli_run(tmp_path, capsys):
    from speechsent.bin.synth_corpus import main

    conf = tmp_path / "conf.yaml"
    conf.write_text(
        "num_swbd_convs: 1\nnum_fisher_convs: 1\nturns_per_conv: 4\nsentiment_weights: [1, 1, 1]\n"
    )
    out = tmp_path / "c"
    code = main(
        ["--config", str(conf), "--out_dir", str(out), "--fisher_turns_per_conv", "3", "--progress", "false"]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"SWBD={out.resolve() / 'swbd'}"
    assert [line.split("=")[0] for line in lines] == ["SWBD", "SWBD_MS98", "SWBD_SENTIMENT", "FISHER"]
    manifest = load_manifest(out)
    assert manifest.config.turns_per_conv == 4 and manifest.config.fisher_turns_per_conv == 3
    assert manifest.config.sentiment_weights == (1.0, 1.0, 1.0)
    assert main(["--out_dir", str(out), "--labeled_fraction", "2", "--progress", "false"]) == 1
    with pytest.raises(SystemExit):
        main(["--num_swbd_convs", "1"])
