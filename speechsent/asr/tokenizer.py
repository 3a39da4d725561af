"""Stage 2: the sentencepiece BPE model and the ESPnet token list, as ESPnet's ``asr.sh`` writes them.

``asr.sh`` (``token_type=bpe``) runs ``spm_train --input=<bpedir>/train.txt --vocab_size=<nbpe>
--model_type=<bpemode> --model_prefix=<bpedir>/bpe --character_coverage=<bpe_char_cover>
--input_sentence_size=<bpe_input_sentence_size> [--user_defined_symbols=<bpe_nlsyms>]`` on the texts without
their utterance ids, then writes ``tokens.txt``: ``<blank>``, ``<unk>``, the pieces of ``bpe.vocab`` without
its first three (``<unk>``, ``<s>``, ``</s>``), ``<sos/eos>``. :func:`train_bpe` does the same through the
sentencepiece Python API (the trainer ``spm_train`` wraps) into ``data/token_list/bpe_<bpemode><nbpe>/``.

A rerun with the same inputs and options leaves the directory as it is (``train_bpe.json`` records them): a
changed tokenizer would silently invalidate every model trained with it.

A small corpus may not have ``nbpe`` pieces in it: ``spm_train`` then stops ("Vocabulary size too high").
Here the vocabulary size is a soft limit (sentencepiece's ``hard_vocab_limit=false``: the same pieces as a
model trained with the largest size the text allows; a corpus that has ``nbpe`` pieces gives the same model
as with the hard limit), and a smaller vocabulary is logged as a warning with both sizes. The directory
keeps the requested name (``bpe_unigram2000``: what ``asr.sh``'s later stages and the recipe's names
derive from ``nbpe``), and ``tokens.txt`` lists the actual vocabulary: ESPnet sizes the ASR's output layer
from the token list (``len(token_list)``), not from ``nbpe``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from speechsent.kaldi.table import read_table
from speechsent.utils.digest import text_digest
from speechsent.utils.fileio import atomic_write_text, read_json_or_none, write_json

__all__ = [
    "BLANK",
    "OOV",
    "SOS_EOS",
    "BpeConfig",
    "BpeResult",
    "read_token_list",
    "token_list_from_vocab",
    "train_bpe",
]

logger = logging.getLogger(__name__)

BLANK = "<blank>"
OOV = "<unk>"
SOS_EOS = "<sos/eos>"
_SPM_CONTROL = ("<unk>", "<s>", "</s>")  # sentencepiece's ids 0, 1, 2 (the first rows of bpe.vocab)


@dataclass
class BpeConfig:
    """The options of ``asr.sh``'s BPE stage (same names and defaults, except ``nbpe``: the paper's 2000)."""

    nbpe: int = 2000
    bpemode: str = "unigram"  # unigram or bpe
    bpe_char_cover: float = 1.0
    bpe_input_sentence_size: int = 100_000_000
    bpe_nlsyms: list[str] = field(default_factory=list)  # user-defined symbols (non-linguistic, e.g. [noise])
    num_threads: int = 1  # sentencepiece training threads (1: the same model on every machine)


@dataclass
class BpeResult:
    bpedir: Path
    bpemodel: Path
    token_list: Path
    num_tokens: int
    skipped: bool  # an up-to-date model was already there
    nbpe: int = 0  # the vocabulary size asked for; num_tokens is smaller when the text has fewer pieces

    @property
    def capped(self) -> bool:
        return 0 < self.num_tokens < self.nbpe

    def summary(self) -> str:
        """One line: the dir, its files, the number of tokens (capped?), kept or written now."""
        capped = f" of --nbpe {self.nbpe} asked: all the text allows" if self.capped else ""
        kept = " (kept: up to date)" if self.skipped else ""
        files = f"{self.bpemodel.name}, {self.token_list.name}"
        return f"{self.bpedir}: {files} ({self.num_tokens} tokens{capped}){kept}"


def _texts(text_files: Sequence[str | Path]) -> list[str]:
    """Transcripts (no utterance ids; empty ones dropped) of Kaldi ``text`` files, in file order."""
    lines: list[str] = []
    for path in text_files:
        for value in read_table(path).values():
            if value:
                lines.append(value)
    return lines


def token_list_from_vocab(pieces: Iterable[str]) -> list[str]:
    """``asr.sh``'s ``tokens.txt`` from the pieces of a sentencepiece model in id order."""
    pieces = list(pieces)
    if tuple(pieces[:3]) != _SPM_CONTROL:
        raise ValueError(f"expected {_SPM_CONTROL} as the first pieces of the BPE model, got {pieces[:3]}")
    return [BLANK, OOV, *pieces[3:], SOS_EOS]


def read_token_list(path: str | Path) -> list[str]:
    """A ``tokens.txt`` (one token a line)."""
    return [line.rstrip("\n") for line in Path(path).read_text(encoding="utf-8").splitlines()]


def train_bpe(
    text_files: Sequence[str | Path],
    token_listdir: str | Path = "data/token_list",
    config: BpeConfig | None = None,
) -> BpeResult:
    """Train ``<token_listdir>/bpe_<bpemode><nbpe>/{bpe.model,bpe.vocab,tokens.txt}`` on ``text_files``.

    ``train.txt`` (the training sentences, as ``asr.sh`` writes it) and ``train_bpe.json`` (the inputs'
    checksum and the options) are kept beside them. ``nbpe`` is an upper bound: a text with fewer pieces
    gives a smaller vocabulary, with a warning naming both sizes (see the module doc). Raises
    ``ValueError`` when there is no text or when sentencepiece refuses the vocabulary size (smaller than the
    text's characters need).
    """

    config = config or BpeConfig()
    if config.bpemode not in ("unigram", "bpe"):
        raise ValueError(f"bpemode must be unigram or bpe, got {config.bpemode!r}")
    bpedir = Path(token_listdir) / f"bpe_{config.bpemode}{config.nbpe}"
    bpemodel = bpedir / "bpe.model"
    token_list = bpedir / "tokens.txt"
    stamp_file = bpedir / "train_bpe.json"

    sentences = _texts(text_files)
    if not sentences:
        raise ValueError(f"no transcripts in {', '.join(map(str, text_files))}")
    train_txt = "".join(s + "\n" for s in sentences)
    stamp = {
        "text_files": [str(p) for p in text_files],
        "text_sha256": text_digest(train_txt),
        "config": asdict(config),
    }
    if (
        stamp_file.is_file()
        and bpemodel.is_file()
        and token_list.is_file()
        and read_json_or_none(stamp_file) == stamp
    ):
        logger.info("%s is up to date (same text and options): kept", bpedir)
        result = BpeResult(bpedir, bpemodel, token_list, len(read_token_list(token_list)), True, config.nbpe)
        _warn_if_capped(result, len(sentences))
        return result

    tmp_prefix, tokens = _train_sentencepiece(config, bpedir, train_txt, len(sentences))
    Path(str(tmp_prefix) + ".model").replace(bpemodel)
    Path(str(tmp_prefix) + ".vocab").replace(bpedir / "bpe.vocab")
    atomic_write_text(token_list, "".join(t + "\n" for t in tokens))
    write_json(stamp_file, stamp)
    logger.info("wrote %s and %s (%d tokens)", bpemodel, token_list, len(tokens))
    result = BpeResult(bpedir, bpemodel, token_list, len(tokens), False, config.nbpe)
    _warn_if_capped(result, len(sentences))
    return result


def _train_sentencepiece(
    config: BpeConfig, bpedir: Path, train_txt: str, num_sentences: int
) -> tuple[Path, list[str]]:
    """Train the model on ``<bpedir>/train.txt`` (written here) under ``<bpedir>/bpe.tmp.*``; that prefix
    and the token list of the model's vocabulary."""
    import sentencepiece as spm

    bpedir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(bpedir / "train.txt", train_txt)
    tmp_prefix = bpedir / "bpe.tmp"
    kwargs = {
        "input": str(bpedir / "train.txt"),
        "vocab_size": config.nbpe,
        "model_type": config.bpemode,
        "model_prefix": str(tmp_prefix),
        "character_coverage": config.bpe_char_cover,
        "input_sentence_size": config.bpe_input_sentence_size,
        "num_threads": config.num_threads,
        "hard_vocab_limit": False,  # nbpe is an upper bound: a small corpus gives fewer pieces, not an error
        "minloglevel": 1,
    }
    if config.bpe_nlsyms:
        kwargs["user_defined_symbols"] = ",".join(config.bpe_nlsyms)
    logger.info(
        "training a %s sentencepiece model of %d pieces on %d sentences -> %s",
        config.bpemode,
        config.nbpe,
        num_sentences,
        bpedir / "bpe.model",
    )
    try:
        spm.SentencePieceTrainer.train(**kwargs)
    except RuntimeError as error:
        raise ValueError(f"sentencepiece training failed (--nbpe {config.nbpe}): {error}") from None
    sp = spm.SentencePieceProcessor(model_file=str(tmp_prefix) + ".model")
    tokens = token_list_from_vocab(sp.id_to_piece(i) for i in range(sp.get_piece_size()))
    return tmp_prefix, tokens


def _warn_if_capped(result: BpeResult, num_sentences: int) -> None:
    if result.capped:
        logger.warning(
            "--nbpe %d is more than the %d sentences allow: the vocabulary has %d tokens (%s; the "
            "directory keeps the name %s)",
            result.nbpe,
            num_sentences,
            result.num_tokens,
            result.token_list,
            result.bpedir.name,
        )
