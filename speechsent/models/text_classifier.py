"""The 2-step pipeline's transcript classifiers (paper §3.1, §4.2).

* :class:`BaselineTextClassifier`: subword token ids → trainable embedding (dim 200) → 2 BLSTM layers
  (hidden 128 per direction) → pooling → output layer. Trained with a class-weighted cross-entropy.
* :class:`LMTextClassifier`: pre-trained LM features (sum of the last four layers, computed once and cached
  when the LM is frozen, or by an LM encoder inside the model when it is fine-tuned) → 3 BLSTM layers →
  pooling → output layer. Trained with a plain cross-entropy.

Both run the BLSTM so that padding never reaches it (:func:`~speechsent.models.blstm.run_blstm`), and pool
over the valid steps only:
``pooling="mean"`` (default) averages the BLSTM outputs over the valid tokens; ``pooling="last"`` concatenates
the final states of both directions (forward after the last valid token, backward after the first). Either
way an utterance's logits do not depend on the batch it is in. Example::

    cfg = TextClassifierConfig(arch="baseline", vocab_size=1001)
    model = build_text_classifier(cfg)
    logits = model(tokens=torch.tensor([[5, 9, 2]]), lengths=torch.tensor([3]))   # (1, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from speechsent.models.blstm import run_blstm
from speechsent.models.pooling import MeanPooling, lengths_to_mask
from speechsent.tasks.manifests import TextModelManifest
from speechsent.utils.device import resolve_device

__all__ = [
    "POOLINGS",
    "BLSTMHead",
    "BaselineTextClassifier",
    "LMTextClassifier",
    "TextClassifierConfig",
    "TextSentimentPredictor",
    "build_text_classifier",
    "class_weights",
]

POOLINGS = ("mean", "last")


@dataclass
class TextClassifierConfig:
    """Everything needed to rebuild a text classifier (saved as ``model.json`` in the experiment dir)."""

    arch: str = "baseline"  # baseline | lm
    num_classes: int = 3
    vocab_size: int = 0  # baseline: embedding rows (index 0 = padding)
    embed_dim: int = 200  # baseline: the paper's embedding dimension
    input_dim: int = 0  # lm: the LM's hidden size
    hidden: int = 128  # BLSTM units per direction
    num_layers: int = 2  # the paper: 2 (baseline), 3 (lm)
    dropout: float = 0.2  # on the BLSTM input, between BLSTM layers and before the output layer
    pooling: str = "mean"  # mean | last
    extra: dict = field(default_factory=dict)  # free-form (e.g. LM name, layer choice) for the record

    def to_dict(self) -> dict:
        return asdict(self)


class BLSTMHead(nn.Module):
    """Packed BLSTM over ``(B, T, D)`` inputs, masked pooling, output layer → ``(B, C)`` logits."""

    def __init__(
        self,
        input_dim: int,
        hidden: int,
        num_layers: int,
        num_classes: int,
        dropout: float = 0.0,
        pooling: str = "mean",
    ):
        super().__init__()
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}: expected one of {', '.join(POOLINGS)}")
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        self.pooling = pooling
        self.in_dropout = nn.Dropout(dropout)
        self.blstm = nn.LSTM(
            input_dim,
            hidden,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.blstm_path = "auto"  # run_blstm's path: packed on CUDA, padded (exact, faster) on CPU
        self.mean = MeanPooling()
        self.out_dropout = nn.Dropout(dropout)
        self.output = nn.Linear(2 * hidden, num_classes)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        if lengths.min() < 1:
            raise ValueError(
                "every sequence needs at least one step (empty transcripts are encoded as <unk>)"
            )
        x = self.in_dropout(x)
        out = run_blstm(self.blstm, x, lengths, self.blstm_path)  # (B, T, 2H), valid frames exact
        if self.pooling == "last":
            # the last layer's final states: forward at each sequence's last frame, backward at frame 0
            hidden = self.blstm.hidden_size
            last = (lengths.to(out.device, torch.int64) - 1).view(-1, 1, 1).expand(-1, 1, hidden)
            pooled = torch.cat([out[:, :, :hidden].gather(1, last).squeeze(1), out[:, 0, hidden:]], dim=-1)
        else:
            pooled, _ = self.mean(out, lengths_to_mask(lengths.to(out.device), x.shape[1]))
        return self.output(self.out_dropout(pooled))


class BaselineTextClassifier(nn.Module):
    """Token ids ``(B, T)`` (0 = padding) + lengths → logits; embeddings trained from scratch."""

    def __init__(self, config: TextClassifierConfig):
        super().__init__()
        if config.vocab_size < 2:
            raise ValueError(f"baseline needs vocab_size >= 2, got {config.vocab_size}")
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim, padding_idx=0)
        self.head = BLSTMHead(
            config.embed_dim,
            config.hidden,
            config.num_layers,
            config.num_classes,
            config.dropout,
            config.pooling,
        )

    def forward(self, tokens: Tensor, lengths: Tensor) -> Tensor:
        return self.head(self.embedding(tokens), lengths)


class LMTextClassifier(nn.Module):
    """LM features ``(B, T, H)`` + lengths → logits; or, with an ``encoder`` (fine-tuning), token ids.

    ``encoder`` is any module mapping ``(input_ids, attention_mask)`` to ``(features, lengths)``, e.g.
    :class:`speechsent.text.lm_features.LMEncoder`.
    """

    def __init__(self, config: TextClassifierConfig, encoder: nn.Module | None = None):
        super().__init__()
        if config.input_dim < 1:
            raise ValueError(f"lm classifier needs input_dim (the LM hidden size), got {config.input_dim}")
        self.config = config
        self.encoder = encoder
        self.head = BLSTMHead(
            config.input_dim,
            config.hidden,
            config.num_layers,
            config.num_classes,
            config.dropout,
            config.pooling,
        )

    def forward(
        self,
        feats: Tensor | None = None,
        lengths: Tensor | None = None,
        input_ids: Tensor | None = None,
        attention_mask: Tensor | None = None,
    ) -> Tensor:
        if feats is None:
            if self.encoder is None or input_ids is None or attention_mask is None:
                raise ValueError("give feats and lengths, or input_ids and attention_mask with an encoder")
            feats, lengths = self.encoder(input_ids, attention_mask)
        if lengths is None:
            raise ValueError("lengths are required with feats")
        return self.head(feats.float(), lengths)


def build_text_classifier(config: TextClassifierConfig | dict, encoder: nn.Module | None = None) -> nn.Module:
    """The classifier of ``config`` (a :class:`TextClassifierConfig` or its dict, e.g. a saved model.json)."""
    if isinstance(config, dict):
        config = TextClassifierConfig(**config)
    if config.arch == "baseline":
        return BaselineTextClassifier(config)
    if config.arch == "lm":
        return LMTextClassifier(config, encoder)
    raise ValueError(f"unknown text classifier arch {config.arch!r}: expected baseline or lm")


def class_weights(counts: Sequence[int]) -> Tensor:
    """Inverse-frequency class weights ``N / (C * n_c)`` over the ``C`` classes present (scikit-learn's
    "balanced"); an absent class gets 0. The baseline's weighted cross-entropy uses them."""
    counts_t = torch.tensor([float(c) for c in counts])
    present = counts_t > 0
    if not present.any():
        raise ValueError("class_weights: no class has a training example")
    total, num = counts_t.sum(), int(present.sum())
    return torch.where(present, total / (num * counts_t.clamp(min=1)), torch.zeros_like(counts_t))


class TextSentimentPredictor:
    """A trained 2-step text classifier loaded from its dir (what ``speechsent.bin.train_text_classifier``
    writes: ``model.json``, ``best.pth`` and, for the baseline, ``bpe.model``): transcripts → probabilities.

    The LM of an ``lm`` system is loaded from ``model.json``'s ``tokenizer.lm`` (hub id or dir, relative to
    ``model_dir`` when it names a dir there, as in an exported model; a fine-tuned
    LM's weights are in ``best.pth``); its features go through float16 as the training cache stored them, so
    the probabilities are those of ``score_<set>/utt2prob``. Example::

        predictor = TextSentimentPredictor("exp/text_lm_asr")
        probs = predictor.predict(["i love it", "um yeah"])     # (2, 3), order predictor.labels
    """

    def __init__(self, model_dir: str | Path, device: str | torch.device = "cpu", weights: str | None = None):
        self.model_dir = Path(model_dir)
        info_path = self.model_dir / "model.json"
        try:
            info = TextModelManifest.read(info_path)
        except (OSError, ValueError) as error:
            raise ValueError(f"{info_path}: not a text classifier description: {error}") from None
        self.labels: list[str] = list(info.labels)
        self.device = resolve_device(device)
        config = TextClassifierConfig(**info.classifier)
        tok = info.tokenizer
        self.tokenizer = None
        self.encoder = None
        if tok["kind"] == "sentencepiece":
            from speechsent.text.tokenize import SubwordTokenizer

            self.tokenizer = SubwordTokenizer(self.model_dir / tok["model"], max_tokens=tok["max_tokens"])
        else:
            from speechsent.text.lm_features import LMEncoder

            lm = tok["lm"]  # a hub id, an absolute dir, or a dir relative to model_dir (an exported LM)
            if not Path(lm).is_absolute() and (self.model_dir / lm).is_dir():
                lm = str(self.model_dir / lm)
            self.encoder = LMEncoder.from_pretrained(lm, layers=tok["layers"], max_tokens=tok["max_tokens"])
        self.finetuned = bool(config.extra.get("finetune_lm"))
        self.model = build_text_classifier(config, self.encoder if self.finetuned else None)
        state = torch.load(self.model_dir / (weights or info.weights), map_location="cpu", weights_only=True)
        self.model.load_state_dict(state)
        self.model.to(self.device).eval()
        if self.encoder is not None:
            self.encoder.to(self.device).eval()

    @torch.no_grad()
    def predict(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Class probabilities ``(N, C)`` of the transcripts (empty ones: from an empty input)."""
        from speechsent.text.dataset import FeatureDataset, TokenDataset

        texts = [t.strip() for t in texts]
        utts = [str(i) for i in range(len(texts))]
        if self.tokenizer is not None:
            dataset: TokenDataset | FeatureDataset = TokenDataset(
                utts, self.tokenizer.encode_batch(texts), None
            )
        else:
            assert self.encoder is not None
            ids = self.encoder.tokenize(texts)
            if self.finetuned:
                dataset = TokenDataset(utts, ids, None, key="input_ids", pad_id=self.encoder.pad_id)
            else:
                from speechsent.text.lm_features import compute_features

                feats = compute_features(
                    self.encoder, ids, batch_size=batch_size, device=self.device, progress=False
                )
                dataset = FeatureDataset(utts, feats, None)
        out = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        lengths = dataset.lengths()
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = dataset.collate([dataset[i] for i in rows])
            inputs = {k: v.to(self.device) for k, v in batch["inputs"].items()}
            out[rows] = torch.softmax(self.model(**inputs).float(), dim=-1).cpu().numpy()
        return out
