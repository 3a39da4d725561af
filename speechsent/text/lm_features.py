"""A pre-trained language model (BERT by default) as the embedding layer of the 2-step classifier.

Paper §3.1/§4.2: the transcript's subword tokens go through the pre-trained LM and the BLSTM classifier
reads the LM's output sequence; the selected system uses the *sum of the last four layers*. Selectable here
(``layers``):

* ``sum_last4`` (default): sum of the last four hidden-state layers, one vector per subword token;
* ``last``: the last layer, one vector per token;
* ``cls``: the last layer's raw ``[CLS]`` vector only, a one-step sequence;
* ``pooler``: the model's ``pooler_output`` (BERT: ``tanh(W [CLS])``, its "sentence embedding"), a one-step
  sequence; a model without a pooler (DistilBERT ...) is refused when the encoder is built (use ``cls``).

Any ``transformers.AutoModel`` checkpoint works (hub id or local dir, e.g. ``bert-base-uncased`` or the
offline MiniLM dir). Transcripts are cut to at most 500 subword tokens (plus the LM's special tokens).

With the LM frozen (the default), its features are computed once per utterance and cached on disk
(:func:`cached_features`): float16 rows of every utterance of a set in one ``feats.npy`` (memory-mapped when
read), ``offsets.npy``, ``utts`` and ``info.json``, in ``<cache_dir>/<set>.<key>/`` where the key is a hash of
the LM's weights, the layer choice and the exact token ids of the set, so a changed LM, tokenizer, transcript
or option never reuses stale features, and systems that share an LM and a set (seeds, GT/ASR pairs) share
them. Example::

    from speechsent.text.lm_features import LMEncoder, cached_features

    enc = LMEncoder.from_pretrained("bert-base-uncased", layers="sum_last4")
    ids = enc.tokenize(["i really like it", "no"])
    store = cached_features(enc, "swbd_test", ["u1", "u2"], ids, cache_dir="dump/lm_features")
    store[0].shape   # (num_tokens, 768), float16
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from speechsent.utils.digest import new_hash
from speechsent.utils.fileio import atomic_write_text, write_json

__all__ = [
    "LAYER_MODES",
    "MAX_TOKENS",
    "ONE_STEP_MODES",
    "FeatureStore",
    "LMEncoder",
    "build_tiny_lm",
    "cached_features",
    "compute_features",
    "output_features",
    "select_layers",
]

logger = logging.getLogger(__name__)

LAYER_MODES = ("sum_last4", "last", "cls", "pooler")
#: The modes whose features are one vector per utterance (a one-step sequence).
ONE_STEP_MODES = ("cls", "pooler")
#: The paper's maximum transcript length in subword tokens (the LM's special tokens come on top).
MAX_TOKENS = 500
_CACHE_VERSION = 1


def select_layers(hidden_states: Sequence[Tensor], mode: str) -> Tensor:
    """The token features of ``mode`` from a model's ``hidden_states`` (embeddings + layers, (B, T, H))."""
    if mode == "sum_last4":
        if len(hidden_states) < 5:
            raise ValueError(f"sum_last4 needs at least 4 layers, the LM has {len(hidden_states) - 1}")
        return torch.stack(tuple(hidden_states[-4:]), dim=0).sum(dim=0)
    if mode == "last":
        return hidden_states[-1]
    if mode == "cls":
        return hidden_states[-1][:, :1]
    if mode == "pooler":
        raise ValueError("pooler is the model's pooler_output, not a hidden-state layer: use output_features")
    raise ValueError(f"unknown LM layer choice {mode!r}: expected one of {', '.join(LAYER_MODES)}")


def output_features(output, mode: str, name: str = "the LM") -> Tensor:
    """The features of ``mode`` from a transformers model's output (run with ``output_hidden_states``):
    ``pooler`` is its ``pooler_output`` as a one-step sequence (B, 1, H), the others :func:`select_layers`.

    A model without a pooler (no ``pooler_output``, or ``None``) is a ``ValueError`` naming ``name``.
    """
    if mode != "pooler":
        return select_layers(output.hidden_states, mode)
    pooled = getattr(output, "pooler_output", None)
    if pooled is None:
        raise ValueError(
            f"LM {name} has no pooler (its output has no pooler_output, e.g. DistilBERT): --lm_layers pooler "
            "needs one (BERT's pooled sentence embedding); use --lm_layers cls for the raw [CLS] vector"
        )
    return pooled[:, None]


class LMEncoder(nn.Module):
    """A transformers model + its tokenizer: token ids → (features (B, T, H), lengths (B,)).

    ``forward`` is what the classifier calls when the LM is fine-tuned end to end; frozen, it is used once per
    utterance through :func:`cached_features`. :attr:`num_forward_calls` counts the LM's forward passes.
    """

    def __init__(
        self,
        model: nn.Module,
        tokenizer,
        layers: str = "sum_last4",
        max_tokens: int = MAX_TOKENS,
        name: str = "",
    ):
        super().__init__()
        if layers not in LAYER_MODES:
            raise ValueError(f"unknown LM layer choice {layers!r}: expected one of {', '.join(LAYER_MODES)}")
        self.lm = model
        self.tokenizer = tokenizer
        self.layers = layers
        self.max_tokens = max_tokens
        self.name = name
        self.num_forward_calls = 0
        self.num_truncated = 0
        pad = getattr(tokenizer, "pad_token_id", None)
        self.pad_id = int(pad) if pad is not None else 0
        if layers == "pooler":
            self._check_pooler()

    @torch.no_grad()
    def _check_pooler(self) -> None:
        """Refuse a model without a pooler now (one forward of one token), not at its first batch."""
        was_training = self.lm.training
        self.lm.eval()
        try:
            param = next(self.lm.parameters(), None)
            device = param.device if param is not None else "cpu"
            ids = torch.full((1, 1), self.pad_id, dtype=torch.long, device=device)
            out = self.lm(input_ids=ids, attention_mask=torch.ones_like(ids))
            output_features(out, "pooler", self.name or type(self.lm).__name__)
        finally:
            self.lm.train(was_training)

    @classmethod
    def from_pretrained(
        cls, name_or_dir: str, layers: str = "sum_last4", max_tokens: int = MAX_TOKENS
    ) -> LMEncoder:
        """Load ``AutoModel`` and ``AutoTokenizer`` of a hub id or a local dir."""
        from transformers import AutoModel, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(name_or_dir)
        model = AutoModel.from_pretrained(name_or_dir)
        return cls(model, tokenizer, layers=layers, max_tokens=max_tokens, name=str(name_or_dir))

    @property
    def hidden_size(self) -> int:
        return int(self.lm.config.hidden_size)

    def tokenize(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids (with the LM's special tokens) of each transcript, cut to ``max_tokens`` subwords."""
        texts = list(texts)
        if not texts:
            return []
        plain = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
        cut = sum(len(p) > self.max_tokens for p in plain)
        if cut:
            self.num_truncated += cut
            logger.warning(
                "%d of %d transcripts truncated to %d subword tokens", cut, len(texts), self.max_tokens
            )
        max_length = self.max_tokens + self.tokenizer.num_special_tokens_to_add()
        model_max = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(model_max, int) and model_max < max_length:
            max_length = model_max
        encoded = self.tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
        return [list(ids) for ids in encoded]

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> tuple[Tensor, Tensor]:
        self.num_forward_calls += 1
        out = self.lm(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True)
        feats = output_features(out, self.layers, self.name or type(self.lm).__name__)
        if self.layers in ONE_STEP_MODES:
            lengths = torch.ones(input_ids.shape[0], dtype=torch.long, device=input_ids.device)
        else:
            lengths = attention_mask.sum(dim=1).long()
        return feats, lengths

    def fingerprint(self) -> str:
        """SHA-256 (:mod:`speechsent.utils.digest`) of the LM's weights (names, shapes, dtypes, values) and
        the layer choice."""
        h = new_hash()
        h.update(f"v{_CACHE_VERSION} layers={self.layers}".encode())
        for key, tensor in sorted(self.lm.state_dict().items()):
            t = tensor.detach().cpu().contiguous()
            h.update(f"{key}:{tuple(t.shape)}:{t.dtype}".encode())
            h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        return h.hexdigest()


def pad_token_batch(batch: Sequence[Sequence[int]], pad_id: int) -> tuple[Tensor, Tensor]:
    """(input_ids, attention_mask) of token-id lists, right-padded."""
    longest = max(len(ids) for ids in batch)
    input_ids = torch.full((len(batch), longest), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), longest), dtype=torch.long)
    for i, ids in enumerate(batch):
        input_ids[i, : len(ids)] = torch.tensor(list(ids), dtype=torch.long)
        mask[i, : len(ids)] = 1
    return input_ids, mask


@torch.no_grad()
def compute_features(
    encoder: LMEncoder,
    token_ids: Sequence[Sequence[int]],
    *,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    progress: bool = True,
    desc: str = "LM features",
) -> list[np.ndarray]:
    """Features (float16, (T, H)) of every token-id list, in eval mode, batched by similar lengths."""
    from tqdm import tqdm

    was_training = encoder.training
    encoder.eval()
    encoder.to(device)
    order = sorted(range(len(token_ids)), key=lambda i: len(token_ids[i]))
    out: list[np.ndarray | None] = [None] * len(token_ids)
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    for batch in tqdm(batches, desc=desc, unit="batch", disable=not progress):
        input_ids, mask = pad_token_batch([token_ids[i] for i in batch], encoder.pad_id)
        feats, lengths = encoder(input_ids.to(device), mask.to(device))
        feats = feats.float().cpu().numpy()
        for row, (i, n) in enumerate(zip(batch, lengths.tolist(), strict=True)):
            out[i] = feats[row, :n].astype(np.float16)
    encoder.train(was_training)
    return out  # type: ignore[return-value]


class FeatureStore:
    """Cached LM features of one set: ``store[i]`` is utterance ``i``'s (T, H) float16 array."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.feats = np.load(self.path / "feats.npy", mmap_mode="r")
        self.offsets = np.load(self.path / "offsets.npy")
        self.utts = (self.path / "utts").read_text(encoding="utf-8").split()
        if len(self.offsets) != len(self.utts) + 1 or int(self.offsets[-1]) != self.feats.shape[0]:
            raise ValueError(f"corrupt LM feature cache {self.path}: offsets do not match utts/feats")

    def __len__(self) -> int:
        return len(self.utts)

    def __getitem__(self, i: int) -> np.ndarray:
        return np.asarray(self.feats[int(self.offsets[i]) : int(self.offsets[i + 1])])

    def lengths(self) -> list[int]:
        return np.diff(self.offsets).astype(int).tolist()

    @property
    def dim(self) -> int:
        return int(self.feats.shape[1])


def cache_key(fingerprint: str, utts: Sequence[str], token_ids: Sequence[Sequence[int]]) -> str:
    """Hash of the LM fingerprint and the exact (utterance, token ids) pairs of a set."""
    h = new_hash()
    h.update(fingerprint.encode())
    for utt, ids in zip(utts, token_ids, strict=True):
        h.update(utt.encode("utf-8", "surrogateescape"))
        h.update(np.asarray(ids, dtype=np.int64).tobytes())
    return h.hexdigest()[:16]


def cached_features(
    encoder: LMEncoder,
    set_name: str,
    utts: Sequence[str],
    token_ids: Sequence[Sequence[int]],
    cache_dir: str | Path,
    *,
    batch_size: int = 32,
    device: str | torch.device = "cpu",
    progress: bool = True,
    fingerprint: str | None = None,
) -> FeatureStore:
    """The features of a set from ``<cache_dir>/<set_name>.<key>/``, computing and writing them if absent.

    The cache dir is written in a temporary dir and renamed into place (an interrupted run leaves no partial
    cache; two runs computing the same set at once both succeed).
    """
    fingerprint = fingerprint or encoder.fingerprint()
    key = cache_key(fingerprint, utts, token_ids)
    final = Path(cache_dir) / f"{set_name}.{key}"
    if (final / "info.json").is_file():
        store = FeatureStore(final)
        if store.utts == list(utts):
            logger.info("%s: LM features from cache %s", set_name, final)
            return store
        logger.warning("%s: cache %s does not match the set; recomputing", set_name, final)
        shutil.rmtree(final, ignore_errors=True)
    feats = compute_features(
        encoder, token_ids, batch_size=batch_size, device=device, progress=progress, desc=f"LM {set_name}"
    )
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{set_name}.", dir=final.parent))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the cache is shared like dump/
    try:
        dim = encoder.hidden_size
        lengths = [f.shape[0] for f in feats]
        offsets = np.zeros(len(feats) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        matrix = np.concatenate(feats, axis=0) if feats else np.zeros((0, dim), dtype=np.float16)
        np.save(tmp / "feats.npy", matrix.astype(np.float16))
        np.save(tmp / "offsets.npy", offsets)
        atomic_write_text(tmp / "utts", "".join(f"{u}\n" for u in utts))
        info = {
            "lm": encoder.name,
            "layers": encoder.layers,
            "max_tokens": encoder.max_tokens,
            "fingerprint": fingerprint,
            "num_utts": len(utts),
            "num_tokens": int(offsets[-1]),
            "dim": dim,
            "version": _CACHE_VERSION,
        }
        write_json(tmp / "info.json", info)
        try:
            os.rename(tmp, final)
        except OSError:  # another run wrote the same features first
            if not (final / "info.json").is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("%s: %d utterances of LM features cached in %s", set_name, len(utts), final)
    return FeatureStore(final)


def build_tiny_lm(
    out_dir: str | Path, words: Sequence[str], *, hidden: int = 32, layers: int = 4, seed: int = 0
) -> Path:
    """Write a tiny random BERT (``layers`` layers of ``hidden`` units) and a word-level WordPiece tokenizer
    of ``words`` to ``out_dir``, loadable like any hub model: for tests and smoke runs without a download."""
    from transformers import BertConfig, BertModel, BertTokenizer

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = specials + sorted({w.lower() for w in words} - set(specials))
    (out / "vocab.txt").write_text("".join(f"{w}\n" for w in vocab), encoding="utf-8")
    # transformers >= 5 takes the vocabulary itself (``vocab``), older versions a ``vocab_file``
    try:
        tokenizer = BertTokenizer(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True)
    except TypeError:
        tokenizer = BertTokenizer(vocab_file=str(out / "vocab.txt"), do_lower_case=True)
    tokenizer.save_pretrained(out)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=512,
        pad_token_id=0,
    )
    BertModel(config).eval().save_pretrained(out)
    return out
