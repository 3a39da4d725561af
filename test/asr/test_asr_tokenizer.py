"""Stage 2's BPE model and token list: ESPnet asr.sh's layout, idempotence, errors, the CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from speechsent.asr.tokenizer import BpeConfig, read_token_list, token_list_from_vocab, train_bpe

WORDS = tuple(
    [
        "the",
        "cat",
        "sat",
        "on",
        "a",
        "mat",
        "and",
        "i",
        "like",
        "my",
        "dog",
        "very",
        "much",
        "because",
        "it",
        "is",
        "nice",
        "to",
        "see",
        "you",
        "again",
        "today",
    ]
)


def _text(path: Path, n: int = 200) -> Path:
    lines = []
    for i in range(n):
        words = [WORDS[(i * 7 + k * 3) % len(WORDS)] for k in range(3 + i % 6)]
        lines.append(f"utt{i:04d} {' '.join(words)}")
    lines.append("utt9999")  # an empty transcript: not a sentence
    path.write_text("\n".join(sorted(lines)) + "\n", encoding="utf-8")
    return path


def test_token_list_from_vocab():
    assert token_list_from_vocab(["<unk>", "<s>", "</s>", "▁a", "b"]) == [
        "<blank>",
        "<unk>",
        "▁a",
        "b",
        "<sos/eos>",
    ]
    with pytest.raises(ValueError):
        token_list_from_vocab(["a", "b", "c"])


def test_train_bpe_layout_and_rerun(tmp_path):
    import sentencepiece as spm

    text = _text(tmp_path / "text")
    r = train_bpe([text], tmp_path / "token_list", BpeConfig(nbpe=40))
    assert r.bpedir == tmp_path / "token_list" / "bpe_unigram40"
    assert not r.skipped
    tokens = read_token_list(r.token_list)
    assert tokens[0] == "<blank>" and tokens[1] == "<unk>" and tokens[-1] == "<sos/eos>"
    assert len(tokens) == 40 == r.num_tokens  # as asr.sh: nbpe pieces - 3 control + 3 symbols
    sp = spm.SentencePieceProcessor(model_file=str(r.bpemodel))
    assert tokens[2:-1] == [sp.id_to_piece(i) for i in range(3, sp.get_piece_size())]
    vocab = [
        line.split("\t")[0] for line in (r.bpedir / "bpe.vocab").read_text(encoding="utf-8").splitlines()
    ]
    assert tokens[2:-1] == vocab[3:]
    train_txt = (r.bpedir / "train.txt").read_text(encoding="utf-8").splitlines()
    assert len(train_txt) == 200 and not any(line.startswith("utt") for line in train_txt)
    assert sp.decode(sp.encode("the cat sat on a mat")) == "the cat sat on a mat"
    # a rerun with the same text and options keeps the model
    mtime = r.bpemodel.stat().st_mtime_ns
    r2 = train_bpe([text], tmp_path / "token_list", BpeConfig(nbpe=40))
    assert r2.skipped and r.bpemodel.stat().st_mtime_ns == mtime
    # other text: trained again
    with text.open("a", encoding="utf-8") as f:
        f.write("utz0000 a new sentence appears\n")
    assert not train_bpe([text], tmp_path / "token_list", BpeConfig(nbpe=40)).skipped


def test_train_bpe_errors(tmp_path):
    text = _text(tmp_path / "text", 20)
    with pytest.raises(ValueError, match="nbpe 5"):  # fewer pieces than the text's characters
        train_bpe([text], tmp_path / "tl", BpeConfig(nbpe=5))
    empty = tmp_path / "empty"
    empty.write_text("u1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no transcripts"):
        train_bpe([empty], tmp_path / "tl", BpeConfig(nbpe=30))


def test_cli(tmp_path):
    text = _text(tmp_path / "text")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechsent.bin.train_bpe",
            "--text",
            str(text),
            "--nbpe",
            "30",
            "--token_listdir",
            str(tmp_path / "tl"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "tl" / "bpe_unigram30" / "tokens.txt").is_file()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechsent.bin.train_bpe",
            "--text",
            str(text),
            "--nbpe",
            "5",
            "--token_listdir",
            str(tmp_path / "tl"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1 and "nbpe 5" in proc.stderr and "Traceback" not in proc.stderr


# ----------------------------------------------------------------------------------------------------------
# --nbpe larger than a small corpus allows: capped, with a warning (spm_train would stop)

FEW_SENTENCES = (
    "oh yeah i know what you mean",
    "we went camping last summer",
    "that was really nice of them",
    "i do not think so",
)


def _few(path: Path) -> Path:
    path.write_text("".join(f"utt{i} {s}\n" for i, s in enumerate(FEW_SENTENCES)), encoding="utf-8")
    return path


@pytest.mark.parametrize("bpemode", ["unigram", "bpe"])
def test_nbpe_too_large_is_capped_with_a_warning(tmp_path, caplog, bpemode):
    import logging

    import sentencepiece as spm

    text = _few(tmp_path / "text")
    with caplog.at_level(logging.WARNING, logger="speechsent.asr.tokenizer"):
        r = train_bpe([text], tmp_path / "tl", BpeConfig(nbpe=2000, bpemode=bpemode))
    assert r.bpedir.name == f"bpe_{bpemode}2000"  # the requested name, as the recipe derives it
    assert r.nbpe == 2000 and r.capped and not r.skipped
    tokens = read_token_list(r.token_list)
    assert len(tokens) == r.num_tokens < 2000
    sp = spm.SentencePieceProcessor(model_file=str(r.bpemodel))
    assert sp.get_piece_size() == len(tokens)
    assert tokens[2:-1] == [sp.id_to_piece(i) for i in range(3, sp.get_piece_size())]
    assert sp.decode(sp.encode(FEW_SENTENCES[1])) == FEW_SENTENCES[1]
    warnings = [rec.getMessage() for rec in caplog.records if rec.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "--nbpe 2000" in warnings[0] and f"{len(tokens)} tokens" in warnings[0]
    # spm_train's hard limit would have refused this size; the cap is the largest it accepts, and a model
    # trained with exactly that size (hard limit) has the same pieces
    spm.SentencePieceTrainer.train(
        input=str(r.bpedir / "train.txt"),
        model_prefix=str(tmp_path / "hard"),
        vocab_size=len(tokens),
        model_type=bpemode,
        character_coverage=1.0,
        num_threads=1,
        minloglevel=2,
    )
    hard = spm.SentencePieceProcessor(model_file=str(tmp_path / "hard.model"))
    assert [hard.id_to_piece(i) for i in range(hard.get_piece_size())] == [
        sp.id_to_piece(i) for i in range(sp.get_piece_size())
    ]
    with pytest.raises(RuntimeError, match="too high"):
        spm.SentencePieceTrainer.train(
            input=str(r.bpedir / "train.txt"),
            model_prefix=str(tmp_path / "over"),
            vocab_size=len(tokens) + 1,
            model_type=bpemode,
            character_coverage=1.0,
            num_threads=1,
            minloglevel=2,
        )
    # a rerun keeps the model and says it again
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="speechsent.asr.tokenizer"):
        r2 = train_bpe([text], tmp_path / "tl", BpeConfig(nbpe=2000, bpemode=bpemode))
    assert r2.skipped and r2.capped and r2.num_tokens == len(tokens)
    assert any("--nbpe 2000" in rec.getMessage() for rec in caplog.records)


def test_nbpe_the_text_allows_is_not_capped(tmp_path, caplog):
    import logging

    text = _text(tmp_path / "text")
    with caplog.at_level(logging.WARNING, logger="speechsent.asr.tokenizer"):
        r = train_bpe([text], tmp_path / "tl", BpeConfig(nbpe=40))
    assert r.num_tokens == 40 and not r.capped
    assert not [rec for rec in caplog.records if rec.levelno >= logging.WARNING]


def test_cli_caps_nbpe_on_a_few_sentences(tmp_path):
    text = _few(tmp_path / "text")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "speechsent.bin.train_bpe",
            "--text",
            str(text),
            "--nbpe",
            "2000",
            "--token_listdir",
            str(tmp_path / "data" / "token_list"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    tokens = read_token_list(tmp_path / "data" / "token_list" / "bpe_unigram2000" / "tokens.txt")
    assert 10 < len(tokens) < 2000
    assert "WARNING" in proc.stderr and "--nbpe 2000" in proc.stderr
    assert f"the vocabulary has {len(tokens)} tokens" in proc.stderr
