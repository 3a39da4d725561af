"""Shared builders for the pseudo-labeler tests (imported by test_labelers*, test_sst2*, test_pseudo_label*).

Everything is built in the test's tmp dir, fast: a tiny BERT (2 layers, hidden 32) with a word-level vocab
written to a file, saved with ``save_pretrained`` so it loads through the Auto classes like a hub model; a
tiny SST-2 fixture (GLUE's TSV format) whose classes are trivially separable; a small Kaldi data dir.
"""

from __future__ import annotations

import random
from pathlib import Path

POS_WORDS = ["good", "great", "love", "nice", "happy", "wonderful"]
NEG_WORDS = ["bad", "awful", "hate", "terrible", "sad", "horrible"]
FILLER = ["i", "it", "was", "the", "movie", "really", "that", "is", "so", "uh", "you", "know", "we", "a"]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *POS_WORDS, *NEG_WORDS, *FILLER]


def make_tiny_bert(
    out_dir: Path,
    num_labels: int = 2,
    id2label: dict[int, str] | None = None,
    seed: int = 0,
    initializer_range: float = 0.02,
) -> Path:
    """A randomly initialised (seeded) tiny BERT sequence classifier + tokenizer in ``out_dir``.

    A large ``initializer_range`` (e.g. 1.0) gives outputs that vary a lot between texts (both labels occur).
    """
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    tokenizer = BertTokenizer(vocab=str(out_dir / "vocab.txt"))
    kwargs = {"id2label": id2label, "label2id": {v: k for k, v in id2label.items()}} if id2label else {}
    config = BertConfig(
        vocab_size=len(VOCAB),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=num_labels,
        initializer_range=initializer_range,
        **kwargs,
    )
    torch.manual_seed(seed)
    model = BertForSequenceClassification(config)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def sentence(rng: random.Random, label: int) -> str:
    """A short sentence with one or two sentiment words of ``label`` (1 = positive) among fillers."""
    words = [rng.choice(FILLER) for _ in range(rng.randint(1, 6))]
    for _ in range(rng.randint(1, 2)):
        words.insert(rng.randrange(len(words) + 1), rng.choice(POS_WORDS if label else NEG_WORDS))
    return " ".join(words)


def make_sst2_dir(out_dir: Path, num_train: int = 200, num_dev: int = 40, seed: int = 0) -> Path:
    """GLUE SST-2 format: ``train.tsv`` and ``dev.tsv`` with a ``sentence<TAB>label`` header."""
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, n in (("train.tsv", num_train), ("dev.tsv", num_dev)):
        rows = ["sentence\tlabel"]
        for i in range(n):
            label = i % 2
            rows.append(f"{sentence(rng, label)}\t{label}")
        (out_dir / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    return out_dir


def make_data_dir(
    out_dir: Path, num_utts: int = 40, seed: int = 0, empty: int = 0, sentiment: bool = True
) -> dict[str, str]:
    """A Kaldi data dir (text, utt2spk, spk2utt[, utt2sentiment]) of 4 speakers; ``empty`` texts are empty.

    Returns utt → gold label (Negative/Neutral/Positive).
    """
    rng = random.Random(seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    text, utt2spk, gold = {}, {}, {}
    for i in range(num_utts):
        spk = f"sw0{2000 + i % 4}-A"
        utt = f"{spk}_{i:06d}-{i + 1:06d}"
        kind = i % 3
        if kind == 1:
            text[utt] = " ".join(rng.choice(FILLER) for _ in range(rng.randint(1, 5)))
            gold[utt] = "Neutral"
        else:
            label = int(kind == 2)
            text[utt] = sentence(rng, label)
            gold[utt] = "Positive" if label else "Negative"
        utt2spk[utt] = spk
    for utt in sorted(text)[:empty]:
        text[utt] = ""
    keys = sorted(text)

    def write(name: str, table: dict[str, str]) -> None:
        lines = [f"{k} {table[k]}".rstrip() for k in sorted(table)]
        (out_dir / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")

    write("text", text)
    write("utt2spk", utt2spk)
    spk2utt: dict[str, list[str]] = {}
    for utt in keys:
        spk2utt.setdefault(utt2spk[utt], []).append(utt)
    write("spk2utt", {s: " ".join(u) for s, u in spk2utt.items()})
    if sentiment:
        write("utt2sentiment", gold)
    return gold


def make_tiny_distilbert(out_dir: Path, seed: int = 0) -> Path:
    """A tiny DistilBERT classifier (no ``token_type_ids`` input) with a DistilBERT tokenizer."""
    import torch
    from transformers import DistilBertConfig, DistilBertForSequenceClassification, DistilBertTokenizer

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    tokenizer = DistilBertTokenizer(vocab=str(out_dir / "vocab.txt"))
    config = DistilBertConfig(
        vocab_size=len(VOCAB), dim=32, n_layers=1, n_heads=2, hidden_dim=64, max_position_embeddings=64
    )
    torch.manual_seed(seed)
    DistilBertForSequenceClassification(config).save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def make_tiny_other(out_dir: Path, model_type: str, seed: int = 0) -> Path:
    """A tiny XLNet or RoBERTa classifier built from its config, with the word-level BERT tokenizer (no
    offline XLNet/RoBERTa tokenizer files): XLNet's tokenizer pads on the left, as XLNet's own does; RoBERTa
    gets no ``token_type_ids`` (as RoBERTa's own tokenizer) and pad id 0 (its position ids count from it)."""
    import torch
    from transformers import (
        BertTokenizer,
        RobertaConfig,
        RobertaForSequenceClassification,
        XLNetConfig,
        XLNetForSequenceClassification,
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    torch.manual_seed(seed)
    if model_type == "xlnet":
        tokenizer = BertTokenizer(vocab=str(out_dir / "vocab.txt"), padding_side="left")
        config = XLNetConfig(
            vocab_size=len(VOCAB), d_model=32, n_layer=2, n_head=2, d_inner=64, pad_token_id=0
        )
        model = XLNetForSequenceClassification(config)
    elif model_type == "roberta":
        tokenizer = BertTokenizer(
            vocab=str(out_dir / "vocab.txt"),
            model_input_names=["input_ids", "attention_mask"],
            model_max_length=64,  # RoBERTa's position ids start after the pad id: 80 embeddings, 79 tokens
        )
        config = RobertaConfig(
            vocab_size=len(VOCAB),
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=80,
            type_vocab_size=1,
            pad_token_id=0,
        )
        model = RobertaForSequenceClassification(config)
    else:
        raise ValueError(model_type)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir
