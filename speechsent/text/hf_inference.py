"""Batched inference of Hugging Face sequence classifiers: token-budget batches, AMP dtype, accepted inputs.

Used by the labelers (:class:`speechsent.text.labelers.HFLabeler`) and the SST-2 fine-tuning
(:mod:`speechsent.text.sst2`)::

    from speechsent.text.hf_inference import predict_logits, resolve_amp_dtype
    logits, num_truncated = predict_logits(model, tokenizer, texts, max_length=512, device=device)

Texts are tokenized once, sorted by token count and grouped, longest first, into batches of at most
``batch_tokens`` padded tokens (:data:`DEFAULT_BATCH_TOKENS` by device), each padded to its own longest text.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "DEFAULT_BATCH_TOKENS",
    "default_batch_tokens",
    "model_inputs",
    "predict_logits",
    "resolve_amp_dtype",
    "token_budget_batches",
]

logger = logging.getLogger(__name__)


def resolve_amp_dtype(amp: str | None, device: Any) -> Any:
    """The autocast dtype of ``amp`` (none | auto | fp16 | bf16) on ``device``; None: no autocast (CPU)."""
    import torch

    if not amp or str(amp).lower() in ("none", "false", "no", "0"):
        return None
    if device.type != "cuda":
        logger.warning("--amp %s ignored on %s (autocast is used on a GPU only)", amp, device)
        return None
    amp = str(amp).lower()
    if amp in ("bf16", "bfloat16"):
        return torch.bfloat16
    if amp in ("fp16", "float16"):
        return torch.float16
    if amp in ("auto", "true", "yes", "1"):
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    raise ValueError(f"amp must be none, auto, fp16 or bf16, got {amp!r}")


def token_budget_batches(lengths: Sequence[int], batch_tokens: int, max_batch_size: int) -> list[list[int]]:
    """Indices grouped longest first into batches of at most ``batch_tokens`` padded tokens.

    Hand-written: a greedy fill of a length-sorted list is a few lines, and the trainer's bucket sampler
    (speechsent.training) caps by count and frames, not by padded tokens of a sorted inference list.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    batch: list[int] = []
    for i in order:
        longest = lengths[batch[0]] if batch else lengths[i]
        if batch and ((len(batch) + 1) * longest > batch_tokens or len(batch) >= max_batch_size):
            batches.append(batch)
            batch = []
        batch.append(i)
    if batch:
        batches.append(batch)
    return batches


#: Padded tokens per batch by device type. On a CPU, compute grows with the padded tokens and big batches
#: gain nothing: a small budget wastes least on padding (measured with bench/bench_pseudo_label.py: MiniLM,
#: 1 thread, 1,200 turns: 512-1,024 tokens 78-141 utt/s, 16,384 tokens 51-56 utt/s; 2 threads, 300 turns in
#: 5 interleaved rounds, the median round's speed-up over transformers' pipeline: ONNX Runtime 128 / 256 /
#: 512 / 1,024 / 2,048 tokens 5.0 / 4.3 / 4.4 / 3.7 / 3.0 x, PyTorch 256 / 512 / 1,024 / 2,048 tokens 2.1 /
#: 2.0 / 1.7 / 1.3 x; 4,000 turns, ONNX Runtime: 512 tokens 6.9 x, 256 tokens 6.3 x).
#: A GPU wants large batches.
DEFAULT_BATCH_TOKENS = {"cpu": 512, "cuda": 16384}


def default_batch_tokens(device: Any) -> int:
    """The token budget of a batch on ``device`` (:data:`DEFAULT_BATCH_TOKENS`; other devices: the GPU's)."""
    kind = getattr(device, "type", str(device).split(":")[0])
    return DEFAULT_BATCH_TOKENS.get(kind, DEFAULT_BATCH_TOKENS["cuda"])


def model_inputs(model: Any) -> set[str]:
    """The tokenizer outputs ``model.forward`` takes (DistilBERT, e.g., has no ``token_type_ids``)."""
    import inspect

    return set(inspect.signature(model.forward).parameters)


def predict_logits(
    model: Any,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    max_length: int = 512,
    batch_tokens: int | None = None,
    max_batch_size: int = 256,
    device: Any = None,
    amp_dtype: Any = None,
    progress: bool = False,
    desc: str = "labeling",
    runner: Any = None,
) -> tuple[np.ndarray, int]:
    """Logits ``(N, C)`` (float32, input order) of a sequence classifier, and the number of truncated texts.

    Texts are tokenized once (fast tokenizer, whole list), sorted by token count and batched by token budget,
    each batch padded to its own longest sequence. ``runner``: an
    :class:`speechsent.text.onnx_runtime.OnnxClassifier` that computes the logits instead of ``model``.
    """
    import torch
    from tqdm import tqdm

    n = len(texts)
    if n == 0:
        return np.zeros((0, model.config.num_labels), dtype=np.float32), 0
    device = device if device is not None else next(model.parameters()).device
    encoded = tokenizer(list(texts), truncation=True, max_length=max_length, verbose=False)
    accepted = model_inputs(model)
    keys = [k for k in ("input_ids", "token_type_ids", "attention_mask") if k in encoded and k in accepted]
    lengths = [len(ids) for ids in encoded["input_ids"]]
    # A text at exactly max_length tokens may have been cut: re-encode those (few) without truncation.
    at_limit = [i for i, length in enumerate(lengths) if length >= max_length]
    num_truncated = 0
    if at_limit:
        full = tokenizer([texts[i] for i in at_limit], truncation=False, verbose=False)["input_ids"]
        num_truncated = sum(1 for ids in full if len(ids) > max_length)
    out = np.zeros((n, model.config.num_labels), dtype=np.float32)
    batches = token_budget_batches(lengths, batch_tokens or default_batch_tokens(device), max_batch_size)
    use_amp = amp_dtype is not None
    with (
        torch.inference_mode(),
        tqdm(total=n, desc=desc, unit="utt", disable=not progress, mininterval=5) as bar,
    ):
        for batch in batches:
            rows = {k: [encoded[k][i] for i in batch] for k in keys}
            features = tokenizer.pad(rows, return_tensors="np" if runner is not None else "pt")
            if runner is not None:
                out[batch] = runner(features)
            else:
                inputs = {k: v.to(device) for k, v in features.items()}
                with torch.autocast(device.type, dtype=amp_dtype, enabled=use_amp):
                    logits = model(**inputs).logits
                out[batch] = logits.float().cpu().numpy()
            bar.update(len(batch))
    return out, num_truncated
