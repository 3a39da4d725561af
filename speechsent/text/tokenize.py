"""Subword tokenisation of transcripts for the 2-step baseline classifier (paper §4.2: subword units, at
most 500 tokens per transcript).

The baseline learns its token embeddings from scratch, so any sentencepiece model will do: by default one is
trained on the training set's transcripts (:func:`train_sentencepiece`, vocabulary 1000, unigram, one thread
and a fixed seed, so the same text gives the same model) and saved in the experiment dir; or the ASR's
``data/token_list/bpe_unigram2000/bpe.model`` (stage 2) is reused.

Example::

    from speechsent.text.tokenize import SubwordTokenizer, train_sentencepiece

    train_sentencepiece(texts, "exp/text_baseline_gt/bpe.model", vocab_size=1000, seed=0)
    tok = SubwordTokenizer("exp/text_baseline_gt/bpe.model", max_tokens=500)
    ids = tok.encode("i really like it")     # embedding indices, 0 is padding
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from speechsent.utils.fileio import atomic_write_bytes

__all__ = ["MAX_TOKENS", "PAD_ID", "SubwordTokenizer", "train_sentencepiece"]

logger = logging.getLogger(__name__)

#: The paper's maximum transcript length in subword tokens.
MAX_TOKENS = 500
#: Embedding index of padding; sentencepiece id ``i`` is embedding index ``i + 1``.
PAD_ID = 0


def train_sentencepiece(
    texts: Iterable[str],
    model_path: str | Path,
    *,
    vocab_size: int = 1000,
    model_type: str = "unigram",
    seed: int = 0,
    character_coverage: float = 1.0,
) -> Path:
    """Train a sentencepiece model on ``texts`` and write it (atomically) to ``model_path``.

    ``hard_vocab_limit`` is off, so a small corpus gives a smaller vocabulary instead of an error; one
    training thread and ``seed`` (sentencepiece's random generator) make the model reproducible.
    """
    import sentencepiece as spm

    sentences = [t for t in texts if t.strip()]
    if not sentences:
        raise ValueError(f"no non-empty text to train the sentencepiece model {model_path} on")
    spm.set_random_generator_seed(seed)
    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=buffer,
        vocab_size=vocab_size,
        model_type=model_type,
        character_coverage=character_coverage,
        hard_vocab_limit=False,
        num_threads=1,
        minloglevel=2,
    )
    path = Path(model_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())
    logger.info(
        "trained sentencepiece model %s (%d sentences, vocab <= %d)", path, len(sentences), vocab_size
    )
    return path


class SubwordTokenizer:
    """A sentencepiece model mapping transcripts to embedding indices (``PAD_ID`` reserved for padding).

    ``encode`` keeps at most ``max_tokens`` pieces; :attr:`num_truncated` counts the transcripts cut. An
    empty transcript becomes the single ``<unk>`` index, so every utterance of a scored set gets a prediction
    (training sets drop empty transcripts before this, see :mod:`speechsent.text.dataset`).
    """

    def __init__(self, model_path: str | Path, max_tokens: int = MAX_TOKENS):
        import sentencepiece as spm

        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise FileNotFoundError(f"sentencepiece model not found: {self.model_path}")
        self.sp = spm.SentencePieceProcessor(model_file=str(self.model_path))
        if max_tokens < 1:
            raise ValueError(f"max_tokens must be positive, got {max_tokens}")
        self.max_tokens = max_tokens
        self.num_truncated = 0
        unk = self.sp.unk_id()
        self.unk_index = (unk if unk >= 0 else 0) + 1

    @property
    def vocab_size(self) -> int:
        """Number of embedding rows (sentencepiece pieces + padding)."""
        return self.sp.get_piece_size() + 1

    def encode(self, text: str) -> list[int]:
        ids = [i + 1 for i in self.sp.encode(text, out_type=int)]
        if len(ids) > self.max_tokens:
            self.num_truncated += 1
            ids = ids[: self.max_tokens]
        return ids or [self.unk_index]

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """Encode many transcripts; logs how many were truncated to ``max_tokens``."""
        before = self.num_truncated
        out = [self.encode(t) for t in texts]
        cut = self.num_truncated - before
        if cut:
            logger.warning(
                "%d of %d transcripts truncated to %d subword tokens", cut, len(texts), self.max_tokens
            )
        return out
