"""A Hugging Face sequence classifier on ONNX Runtime (CPU): stage 7's labeling with the same probabilities,
several times faster than PyTorch eager on a CPU (``bench/bench_pseudo_label.py``).

::

    from speechsent.text.onnx_runtime import onnx_classifier
    runner = onnx_classifier(model, tokenizer, cache_dir="exp/pseudo_labeler_bert/onnx")  # None: use torch
    logits = runner({"input_ids": ids, "attention_mask": mask})   # numpy int64 (B, T) -> (B, C) float32

The model is exported once with ``torch.onnx.export`` (the TorchScript exporter, opset 17, batch and time
axes dynamic) to ``<cache_dir>/<fingerprint>.onnx``, written atomically (temp + rename: jobs that export at
the same time do not see each other's partial file); the fingerprint covers the weights, the config, the
inputs and the torch / transformers / onnxruntime versions, so a changed model never reuses a stale file.
Before it is used, the session is checked against the PyTorch model on a padded batch of probe texts
(``CHECK_TOLERANCE`` on the logits); a model that cannot be exported (or fails the check) is reported once
and labeled with PyTorch, so the labels never depend on which runtime ran. Hand-written glue: transformers
has no ONNX path of its own since ``optimum`` moved out, and the export + session + check are a few lines.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CHECK_TOLERANCE", "OnnxClassifier", "default_cache_dir", "onnx_available", "onnx_classifier"]

logger = logging.getLogger(__name__)

#: The largest |logit difference| from the PyTorch model on the probe batch that lets the session be used.
CHECK_TOLERANCE = 1e-4
_PROBES = (
    "yeah",
    "i really did not like the way that turned out at all",
    "uh-huh so how long have you been working there now and do you like it",
    "that's great",
)


def onnx_available() -> bool:
    """Whether onnxruntime can be imported."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def default_cache_dir() -> Path:
    """``$SPEECHSENT_CACHE/onnx``, else ``$XDG_CACHE_HOME/speechsent/onnx``, else
    ``~/.cache/speechsent/onnx``."""
    if os.environ.get("SPEECHSENT_CACHE"):
        return Path(os.environ["SPEECHSENT_CACHE"]) / "onnx"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "speechsent" / "onnx"


class OnnxClassifier:
    """An ONNX Runtime session of a sequence classifier: ``runner(features) -> logits``."""

    def __init__(self, path: Path, inputs: Sequence[str], num_threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, num_threads)
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.path = path
        self.inputs = list(inputs)
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def __call__(self, features: Mapping[str, np.ndarray]) -> np.ndarray:
        feed = {k: np.ascontiguousarray(features[k], dtype=np.int64) for k in self.inputs}
        return np.asarray(self.session.run(None, feed)[0], dtype=np.float32)


def _fingerprint(model: Any, inputs: Sequence[str]) -> str:
    import onnxruntime
    import torch
    import transformers

    digest = hashlib.sha256()
    meta = {
        "class": type(model).__name__,
        "config": model.config.to_dict(),
        "inputs": list(inputs),
        "versions": [torch.__version__, transformers.__version__, onnxruntime.__version__],
    }
    digest.update(json.dumps(meta, sort_keys=True, default=str).encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:32]


def _export(model: Any, inputs: Sequence[str], path: Path) -> None:
    """``model`` (eval, CPU) to ``path`` (atomic), batch and time axes dynamic."""
    import torch

    example = tuple(torch.ones(2, 8, dtype=torch.long) for _ in inputs)
    axes = {k: {0: "batch", 1: "time"} for k in inputs} | {"logits": {0: "batch"}}

    class _Logits(torch.nn.Module):  # keyword inputs in a fixed order, the logits only
        def __init__(self, inner: Any):
            super().__init__()
            self.inner = inner

        def forward(self, *args: Any) -> Any:
            return self.inner(**dict(zip(inputs, args, strict=True))).logits

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    os.close(fd)
    try:
        # the tracer's warnings (shapes traced as constants) are what the probe check after the export is for
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(_Logits(model).eval(), example, tmp, input_names=list(inputs),
                              output_names=["logits"], dynamic_axes=axes, opset_version=17,
                              dynamo=False)  # fmt: skip
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def onnx_classifier(
    model: Any,
    tokenizer: Any,
    inputs: Sequence[str],
    *,
    cache_dir: str | Path | None = None,
    num_threads: int = 0,
) -> OnnxClassifier | None:
    """The model (a transformers sequence classifier on the CPU, in eval mode) on ONNX Runtime, exported to or
    read from ``cache_dir`` (default :func:`default_cache_dir`) and checked against PyTorch on probe texts;
    None (logged) when onnxruntime is missing, the export fails or the check does not hold."""
    import torch

    if not onnx_available():
        logger.info("onnxruntime is not installed: labeling with PyTorch")
        return None
    name = getattr(model.config, "_name_or_path", "") or type(model).__name__
    try:
        path = Path(cache_dir or default_cache_dir()) / f"{_fingerprint(model, inputs)}.onnx"
        if not path.is_file():
            logger.info("exporting %s to ONNX: %s", name, path)
            _export(model, inputs, path)
        runner = OnnxClassifier(path, inputs, num_threads or torch.get_num_threads())
        probe = tokenizer(list(_PROBES), padding=True, return_tensors="np")
        with torch.inference_mode():
            tensors = {k: torch.from_numpy(np.asarray(probe[k], dtype=np.int64)) for k in inputs}
            reference = model(**tensors).logits
        diff = float(np.abs(runner({k: probe[k] for k in inputs}) - reference.float().numpy()).max())
    except Exception as error:  # an architecture the exporter or the runtime cannot take: PyTorch does it
        first = str(error).splitlines()[0] if str(error) else ""
        kind = type(error).__name__
        logger.warning("%s: no ONNX Runtime path (%s: %s); labeling with PyTorch", name, kind, first)
        return None
    if diff > CHECK_TOLERANCE:
        logger.warning("%s: ONNX Runtime differs from PyTorch by %.2g in the logits; labeling with PyTorch",
                       name, diff)  # fmt: skip
        return None
    logger.info("%s on ONNX Runtime (%s; logits within %.1g of PyTorch's on probe texts)", name, path, diff)
    return runner
