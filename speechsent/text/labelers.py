"""Binary sentiment pseudo labelers (paper §3.2.2): text → P(Negative), P(Positive).

Every labeler has the same interface::

    from speechsent.text.labelers import load_labeler
    labeler = load_labeler("exp/pseudo_labeler_bert")          # or a hub id / HF dir, "vader", "vader,DIR"
    probs = labeler.predict_proba(["that was great", "oh no"])  # (N, 2), columns PSEUDO_LABELS order
    labels = probs_to_labels(probs)                              # ["Positive", "Negative"]
    labeler.save("exp/pseudo_labeler_x")                         # writes labeler.json (how to load it)

Kinds (``labeler.json`` ``"kind"``):

``hf``
    Any ``AutoModelForSequenceClassification`` checkpoint (hub id or local dir). Its classes are mapped to
    Negative/Positive from ``config.id2label``: names such as ``NEGATIVE``/``POSITIVE``, ``neg``/``pos``
    (any case) are recognised; a 2-class model named ``LABEL_0``/``LABEL_1`` (transformers' default names)
    follows the GLUE SST-2 convention, 0 = Negative, 1 = Positive. An explicit map
    (``"0:Negative,1:Positive"``) overrides ``id2label``. A model with more classes (e.g. a 3-class model
    with Neutral) is renormalised over its Negative and Positive classes: P(Positive) = p_pos / (p_neg +
    p_pos), i.e. the softmax of those two logits, the other classes being ignored. A model whose classes
    cannot be mapped is an error that says to give the map. Inference is batched for throughput: texts
    sorted by token count, batches filled up to a token budget (``batch_tokens`` = batch size x longest
    sequence), padded only to their longest, under ``torch.inference_mode()`` (+ fp16/bf16 autocast on a GPU
    with ``amp``; :mod:`speechsent.text.hf_inference`); texts longer than ``max_length`` tokens are
    truncated and counted (``num_truncated``).
``vader``
    The rule-based VADER analyser (vaderSentiment), no model: its compound score c ∈ [-1, 1] is squashed
    linearly to P(Positive) = (c + 1) / 2 (c = 0, no sentiment word, gives 0.5).
``ensemble``
    The (weighted) mean of its members' probabilities; spec ``"vader,exp/pseudo_labeler_bert"``.

A label is the argmax of the two probabilities; a tie (P = 0.5 exactly, e.g. VADER on a text without a
sentiment word) gives Negative, the first of :data:`~speechsent.data.labels.PSEUDO_LABELS`.

The paper's Table 3 evaluation of a labeler and the stage-6 labeler dir are in
:mod:`speechsent.text.pseudo_labeler`.
"""

from __future__ import annotations

import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from speechsent.data.labels import PSEUDO_LABELS
from speechsent.text.hf_inference import default_batch_tokens, predict_logits, resolve_amp_dtype
from speechsent.utils.device import resolve_device
from speechsent.utils.fileio import read_json, write_json

__all__ = [
    "LABELER_JSON",
    "EnsembleLabeler",
    "HFLabeler",
    "LabelMapError",
    "Labeler",
    "VaderLabeler",
    "load_labeler",
    "parse_label_map",
    "probs_to_labels",
    "resolve_label_map",
]

logger = logging.getLogger(__name__)

#: The file in a labeler dir that says how to load the labeler.
LABELER_JSON = "labeler.json"

_ALIASES = {
    "negative": "Negative",
    "neg": "Negative",
    "positive": "Positive",
    "pos": "Positive",
    "neutral": "Neutral",
    "neu": "Neutral",
}
#: transformers' default class names of a 2-class model: GLUE SST-2's order (0 = negative, 1 = positive).
_SST2_DEFAULT_NAMES = {"label_0": "Negative", "label_1": "Positive"}


class LabelMapError(ValueError):
    """A classifier's classes cannot be mapped to Negative/Positive."""


# ----------------------------------------------------------------------------------------------------------
# Label mapping


def _canonical(name: str) -> str | None:
    return _ALIASES.get(str(name).strip().lower())


def parse_label_map(spec: str | Mapping[Any, str]) -> dict[int, str]:
    """``"0:Negative,1:Positive"`` (or a mapping) → ``{0: "Negative", 1: "Positive"}``.

    Names are canonicalised (``neg``, ``NEGATIVE`` → ``Negative``); other names are kept (classes that are
    neither Negative nor Positive, ignored by the labeler).
    """
    items: list[tuple[str, str]]
    if isinstance(spec, Mapping):
        items = [(str(k), str(v)) for k, v in spec.items()]
    else:
        items = []
        for part in str(spec).split(","):
            if not part.strip():
                continue
            index, sep, name = part.partition(":")
            if not sep or not name.strip():
                raise LabelMapError(f"bad label map entry {part!r} in {spec!r}: expected INDEX:NAME")
            items.append((index, name))
    out: dict[int, str] = {}
    for index, name in items:
        try:
            i = int(index.strip())
        except ValueError:
            raise LabelMapError(f"bad class index {index!r} in label map {spec!r}") from None
        if i in out:
            raise LabelMapError(f"class {i} given twice in label map {spec!r}")
        out[i] = _canonical(name) or name.strip()
    return out


def resolve_label_map(
    id2label: Mapping[Any, str] | None, num_labels: int, override: str | Mapping[Any, str] | None = None
) -> dict[int, str]:
    """Class index → name (Negative, Positive, or another class name) for a classifier (module doc).

    Raises :class:`LabelMapError` unless exactly one class is Negative and one Positive.
    """
    if override is not None and (not isinstance(override, str) or override.strip()):
        mapping = parse_label_map(override)
        bad = [i for i in mapping if not 0 <= i < num_labels]
        if bad:
            raise LabelMapError(
                f"label map {override!r}: class(es) {bad} outside the model's 0..{num_labels - 1}"
            )
        source = f"label map {override!r}"
    else:
        raw = {int(k): str(v) for k, v in (id2label or {}).items()}
        names = {i: raw.get(i, f"LABEL_{i}") for i in range(num_labels)}
        if num_labels == 2 and all(names[i].strip().lower() == f"label_{i}" for i in (0, 1)):
            mapping = {i: _SST2_DEFAULT_NAMES[f"label_{i}"] for i in (0, 1)}  # both anonymous: SST-2 order
        else:
            mapping = {i: _canonical(name) or name for i, name in names.items()}
        source = f"config.id2label {raw}"
    for label in PSEUDO_LABELS:
        n = sum(1 for v in mapping.values() if v == label)
        if n != 1:
            raise LabelMapError(
                f"cannot map the model's classes to Negative/Positive from {source}: "
                f"{'no' if n == 0 else n} class(es) named {label}; give the mapping explicitly, "
                f'e.g. --label_map "0:Negative,1:Positive" (other classes: any other name)'
            )
    return dict(sorted(mapping.items()))


def probs_to_labels(probs: np.ndarray) -> list[str]:
    """Argmax labels of ``(N, 2)`` probabilities (a tie gives Negative)."""
    if len(probs) == 0:
        return []
    return [PSEUDO_LABELS[i] for i in np.asarray(probs).argmax(axis=1)]


# ----------------------------------------------------------------------------------------------------------
# Labelers


def _two_class_probs(logits: np.ndarray, neg: int, pos: int) -> np.ndarray:
    """Softmax over the Negative and Positive logits only = the full softmax renormalised over those two."""
    two = np.stack([logits[:, neg], logits[:, pos]], axis=1).astype(np.float64)
    two -= two.max(axis=1, keepdims=True)
    e = np.exp(two)
    return e / e.sum(axis=1, keepdims=True)


class Labeler(ABC):
    """Text → (N, 2) probabilities in :data:`PSEUDO_LABELS` order."""

    kind: str = ""
    name: str = ""

    @abstractmethod
    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(N, 2)`` float64 probabilities (rows sum to 1), columns Negative, Positive."""

    @abstractmethod
    def spec(self) -> dict[str, Any]:
        """The ``labeler.json`` content that rebuilds this labeler (see :func:`load_labeler`)."""

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Argmax labels."""
        return probs_to_labels(self.predict_proba(texts))

    def save(self, out_dir: str | Path, **_: Any) -> Path:
        """Write ``<out_dir>/labeler.json``; return its path."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        path = out / LABELER_JSON
        write_json(path, self.spec())
        return path


class VaderLabeler(Labeler):
    """VADER's compound score squashed to P(Positive) = (compound + 1) / 2 (module doc)."""

    kind = "vader"

    def __init__(self, name: str = "vader"):
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.name = name
        self._analyzer = SentimentIntensityAnalyzer()

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        compound = np.array(
            [self._analyzer.polarity_scores(t)["compound"] if t.strip() else 0.0 for t in texts],
            dtype=np.float64,
        )
        p_pos = np.clip((compound + 1.0) / 2.0, 0.0, 1.0)
        return np.stack([1.0 - p_pos, p_pos], axis=1) if len(texts) else np.zeros((0, 2))

    def spec(self) -> dict[str, Any]:
        return {"kind": "vader", "name": self.name}


class HFLabeler(Labeler):
    """A Hugging Face sequence classifier (hub id or dir) with its classes mapped to Negative/Positive."""

    kind = "hf"

    def __init__(
        self,
        model: str | Path,
        *,
        label_map: str | Mapping[Any, str] | None = None,
        max_length: int = 512,
        name: str | None = None,
        device: str | None = "auto",
        amp: str | None = None,
        batch_tokens: int | None = None,
        max_batch_size: int = 256,
        progress: bool = False,
        runtime: str = "torch",
        onnx_cache: str | Path | None = None,
    ):
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        if runtime not in RUNTIMES:
            raise ValueError(f"runtime must be auto, torch or onnx, got {runtime!r}")

        local = Path(model)
        # A local dir is recorded as an absolute path (the labeler.json may be read from elsewhere).
        self.model_ref = str(local.resolve()) if local.is_dir() else str(model)
        self.device = resolve_device(device)
        self.amp_dtype = resolve_amp_dtype(amp, self.device)
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_ref)
        self.model = AutoModelForSequenceClassification.from_pretrained(self.model_ref)
        self.model.eval().to(self.device)
        config = self.model.config
        self.label_map = resolve_label_map(config.id2label, config.num_labels, label_map)
        self.neg_index = next(i for i, v in self.label_map.items() if v == "Negative")
        self.pos_index = next(i for i, v in self.label_map.items() if v == "Positive")
        limits = [max_length]
        model_max = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(model_max, int) and 0 < model_max < 100_000:
            limits.append(model_max)
        elif int(getattr(config, "max_position_embeddings", None) or -1) > 0:  # XLNet: -1 (no limit)
            limits.append(int(config.max_position_embeddings))
        self.max_length = min(limits)
        self.batch_tokens = batch_tokens or default_batch_tokens(self.device)
        self.max_batch_size = max_batch_size
        self.progress = progress
        self.num_truncated = 0
        self.name = name or re.sub(r"[^A-Za-z0-9_.+-]+", "_", Path(self.model_ref).name)
        self.onnx = None  # the ONNX Runtime session (runtime onnx / auto on the CPU), else None: torch
        if runtime != "torch" and self.device.type == "cpu":
            from speechsent.text.hf_inference import model_inputs
            from speechsent.text.onnx_runtime import onnx_classifier

            accepted = model_inputs(self.model)
            keys = [k for k in ("input_ids", "token_type_ids", "attention_mask")
                    if k in accepted and k in self.tokenizer.model_input_names]  # fmt: skip
            self.onnx = onnx_classifier(self.model, self.tokenizer, keys, cache_dir=onnx_cache)
        elif runtime == "onnx":
            logger.warning("%s: --runtime onnx is for the CPU; on %s the model runs with PyTorch", self.name,
                           self.device)  # fmt: skip
        self.runtime = "onnx" if self.onnx is not None else "torch"
        extra = [v for v in self.label_map.values() if v not in PSEUDO_LABELS]
        logger.info(
            "labeler %s: %s on %s, classes %s%s",
            self.name,
            self.model_ref,
            self.device,
            self.label_map,
            f" (renormalised over Negative/Positive, ignoring {extra})" if extra else "",
        )

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        logits, truncated = predict_logits(
            self.model,
            self.tokenizer,
            texts,
            max_length=self.max_length,
            batch_tokens=self.batch_tokens,
            max_batch_size=self.max_batch_size,
            device=self.device,
            amp_dtype=self.amp_dtype,
            progress=self.progress,
            desc=self.name,
            runner=self.onnx,
        )
        if truncated:
            logger.warning("%s: %d text(s) truncated to %d tokens", self.name, truncated, self.max_length)
        self.num_truncated += truncated
        return _two_class_probs(logits, self.neg_index, self.pos_index)

    def spec(self) -> dict[str, Any]:
        return {
            "kind": "hf",
            "name": self.name,
            "model": self.model_ref,
            "label_map": {str(i): v for i, v in self.label_map.items()},
            "max_length": self.max_length,
        }

    def save(self, out_dir: str | Path, *, copy_model: bool = False, **_: Any) -> Path:
        """``labeler.json``; with ``copy_model`` also the model and tokenizer (a self-contained dir)."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        spec = self.spec()
        if copy_model and Path(self.model_ref).resolve() != out.resolve():
            self.model.save_pretrained(out)
            self.tokenizer.save_pretrained(out)
            spec["model"] = "."
        elif Path(self.model_ref).resolve() == out.resolve():
            spec["model"] = "."
        path = out / LABELER_JSON
        write_json(path, spec)
        return path


class EnsembleLabeler(Labeler):
    """The weighted mean of several labelers' probabilities."""

    kind = "ensemble"

    def __init__(
        self, members: Sequence[Labeler], weights: Sequence[float] | None = None, name: str | None = None
    ):
        if not members:
            raise ValueError("an ensemble needs at least one labeler")
        if weights is not None and (
            len(weights) != len(members) or any(w < 0 for w in weights) or not sum(weights)
        ):
            raise ValueError(f"ensemble weights {list(weights)}: need {len(members)} non-negative, not all 0")
        self.members = list(members)
        self.weights = None if weights is None else [float(w) for w in weights]
        self.name = name or "+".join(m.name for m in self.members)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        w = np.asarray(self.weights if self.weights is not None else [1.0] * len(self.members))
        total = sum(wi * m.predict_proba(texts) for wi, m in zip(w, self.members, strict=True))
        return total / w.sum()

    def spec(self) -> dict[str, Any]:
        return {
            "kind": "ensemble",
            "name": self.name,
            "members": [m.spec() for m in self.members],
            "weights": self.weights,
        }


# ----------------------------------------------------------------------------------------------------------
# Loading

#: Options of :class:`HFLabeler` that change how it runs, not what it outputs (given to every HF member).
RUNTIME_OPTIONS = ("device", "amp", "batch_tokens", "max_batch_size", "progress", "runtime", "onnx_cache")
#: How an HF model runs: torch; onnx (ONNX Runtime on the CPU, checked against torch; torch where it cannot
#: run); auto (onnx on the CPU when onnxruntime is installed, else torch)
RUNTIMES = ("auto", "torch", "onnx")


def _from_spec(spec: Mapping[str, Any], base: Path | None, runtime: dict[str, Any]) -> Labeler:
    kind = spec.get("kind")
    if kind == "vader":
        return VaderLabeler(name=spec.get("name", "vader"))
    if kind == "hf":
        if "model" not in spec:
            raise ValueError(
                f"{base / LABELER_JSON if base else 'labeler spec'}: a hf labeler without 'model'"
            )
        model = str(spec["model"])
        if base is not None and (model == "." or (not Path(model).is_absolute() and (base / model).is_dir())):
            model = str((base / model).resolve())
        return HFLabeler(
            model,
            label_map=spec.get("label_map"),
            max_length=int(spec.get("max_length", 512)),
            name=spec.get("name"),
            **runtime,
        )
    if kind == "ensemble":
        members = [_from_spec(m, base, runtime) for m in spec.get("members", [])]
        return EnsembleLabeler(members, spec.get("weights"), name=spec.get("name"))
    where = f"{base / LABELER_JSON}: " if base is not None else ""
    raise ValueError(f"{where}unknown labeler kind {kind!r} (expected hf, vader or ensemble)")


def load_labeler(
    spec: str | Path | Mapping[str, Any] | Sequence[Any],
    *,
    label_map: str | Mapping[Any, str] | None = None,
    max_length: int | None = None,
    **runtime: Any,
) -> Labeler:
    """A labeler from a spec (see the module doc).

    ``spec``: ``"vader"``; a dir with ``labeler.json`` (stage 6's ``exp/pseudo_labeler_*``); a Hugging Face
    model dir or hub id; a comma-separated list of these (or a list/tuple) → an ensemble; or a
    ``labeler.json`` dict. ``label_map``/``max_length`` apply to a bare HF model; ``runtime``
    (``device``, ``amp``, ``batch_tokens``, ``max_batch_size``, ``progress``) to every HF model.
    """
    unknown = set(runtime) - set(RUNTIME_OPTIONS)
    if unknown:
        raise TypeError(f"unknown labeler option(s): {', '.join(sorted(unknown))}")
    if isinstance(spec, Mapping):
        return _from_spec(spec, None, runtime)
    if isinstance(spec, (list, tuple)):
        parts = list(spec)
    else:
        parts = [p.strip() for p in str(spec).split(",") if p.strip()]
    if not parts:
        raise ValueError("empty labeler spec")
    if len(parts) > 1:
        members = [load_labeler(p, label_map=label_map, max_length=max_length, **runtime) for p in parts]
        return EnsembleLabeler(members)
    part = parts[0]
    if isinstance(part, Labeler):
        return part
    text = str(part)
    if text.lower() == "vader":
        return VaderLabeler()
    path = Path(text)
    if (path / LABELER_JSON).is_file():
        return _from_spec(read_json(path / LABELER_JSON), path, runtime)  # bad JSON: names file:line
    if path.is_file() and path.name == LABELER_JSON:
        return _from_spec(read_json(path), path.parent, runtime)
    return HFLabeler(
        text, label_map=label_map, **({"max_length": max_length} if max_length else {}), **runtime
    )
