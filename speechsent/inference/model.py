"""The Python API of an exported model (:mod:`speechsent.inference.export`): audio → sentiment label.

::

    from speechsent import SentimentModel

    model = SentimentModel.from_pretrained("exp/export/e2e")          # or exp/export/two_step
    pred = model("call.sph", channel=0)       # a path, or samples: model(wav, fs=16000)
    pred.label, pred.probabilities             # "Neutral", {"Negative": 0.1, "Neutral": 0.7, "Positive": 0.2}
    model.predict(["a.wav", "b.flac"])         # batched: [Prediction, Prediction]

``from_pretrained`` returns :class:`E2ESentimentModel` (ASR-encoder features, or fbank, → classifier) or
:class:`TwoStepSentimentModel` (ASR transcript → text classifier; ``Prediction.transcript`` holds the
transcript) by the model's ``type``. The features are computed by the code of the recipe's stages (the
encoder dump's :class:`speechsent.asr.batch_encode.BatchEncoder`, the fbank dump's ``compute_fbank``, the
decoding of stage 4 :class:`speechsent.asr.decode.Decoder`), on audio read as the data dirs are read
(:mod:`speechsent.inference.audio_inputs`), so an utterance of a scored set gets the probabilities of its
``score_<set>/utt2prob``.

Inputs: a path (wav, flac, SPHERE in any coding, any rate: resampled to :attr:`SentimentModel.fs`), or a 1-D
/ ``(samples, channels)`` numpy array or torch tensor with ``fs`` (its rate; default the model's). A
multi-channel input needs ``channel`` (0-based); without it, it is an error (channels are never mixed: the
models were trained on single sides of telephone calls).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from speechsent.inference.audio_inputs import InputError, array_to_mono, load_file
from speechsent.inference.export import FORMAT_VERSION, MODEL_JSON

__all__ = [
    "E2ESentimentModel",
    "InferenceError",
    "Prediction",
    "SentimentModel",
    "TwoStepSentimentModel",
    "resolve_device",
]

log = logging.getLogger(__name__)


class InferenceError(ValueError):
    """An input that could not be classified (unreadable, too short, ...); the message names it."""


@dataclass
class Prediction:
    """The label, the probability of every label (model order) and, for a 2-step model, the transcript."""

    label: str
    probabilities: dict[str, float]
    transcript: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"label": self.label, "probabilities": dict(self.probabilities)}
        if self.transcript is not None:
            out["transcript"] = self.transcript
        return out


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when available, else ``cpu``; ``cuda``/``cuda:N`` without CUDA is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise InferenceError(f"device {device}: CUDA is not available")
    if device != "cpu" and not device.startswith("cuda"):
        raise InferenceError(f"device must be auto, cpu, cuda or cuda:N, not {device!r}")
    return device


def _read_info(model_dir: Path) -> dict[str, Any]:
    path = model_dir / MODEL_JSON
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except OSError:
        raise InferenceError(f"{model_dir}: no {MODEL_JSON} (not an exported speechsent model)") from None
    except ValueError as error:
        raise InferenceError(f"{path}: {error}") from None
    if info.get("format_version") != FORMAT_VERSION:
        raise InferenceError(f"{path}: format_version {info.get('format_version')} (this speechsent reads 1)")
    return info


@contextlib.contextmanager
def _asr_files(model_dir: Path, info: dict[str, Any]) -> Iterator[tuple[Path, Any]]:
    """The exported ASR config with its paths made absolute (a temporary file, for as long as the model is
    being built: ESPnet reads the BPE model and the statistics then) and its :class:`ModelFiles`."""
    from speechsent.asr.model_dir import ModelDirError, resolve_model_dir, write_resolved_config

    asr = info.get("asr") or {}
    try:
        files = resolve_model_dir(model_dir / asr["config"], model_dir / asr["model_file"])
    except (ModelDirError, KeyError, TypeError) as error:
        raise InferenceError(f"{model_dir}: the ASR model is incomplete: {error}") from None
    root = logging.getLogger()
    level = root.level
    root.setLevel(max(level, logging.WARNING))  # ESPnet logs each parameter's initialisation at INFO
    try:
        with tempfile.TemporaryDirectory(prefix="speechsent-asr-") as tmp:
            yield write_resolved_config(files, Path(tmp) / "config.yaml"), files
    finally:
        root.setLevel(level)


class SentimentModel:
    """An exported sentiment model; build it with :meth:`from_pretrained`.

    Attributes: ``labels`` (class order of the probabilities), ``fs`` (the rate audio is resampled to),
    ``type`` (``e2e`` | ``two_step``), ``info`` (``speechsent_model.json``), ``device``, ``batch_size``.
    """

    type = ""

    def __init__(
        self, model_dir: Path, info: dict[str, Any], device: str, batch_size: int, amp: str | None
    ) -> None:
        self.model_dir = model_dir
        self.info = info
        self.labels: list[str] = list(info["labels"])
        self.fs: int = int(info["fs"])
        self.device = device
        if batch_size < 1:
            raise InferenceError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size = batch_size
        if amp not in (None, "fp16", "bf16", "auto"):
            raise InferenceError(f"amp must be None, fp16, bf16 or auto, not {amp!r}")
        if amp is not None and not device.startswith("cuda"):
            log.warning("amp %s ignored on %s", amp, device)
            amp = None
        if amp == "auto":
            import torch

            amp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        self.amp = amp

    @staticmethod
    def from_pretrained(
        model_dir: str | os.PathLike[str],
        device: str = "auto",
        batch_size: int = 16,
        amp: str | None = None,
    ) -> SentimentModel:
        """Load the exported model at ``model_dir`` on ``device`` (auto | cpu | cuda | cuda:N).

        ``batch_size``: inputs classified together (on a GPU the ASR encoder of an E2E model runs them as one
        batch, exact as the dump's batches; on a CPU one at a time, the fastest there). ``amp``: None
        (float32, as the recipe's dump), ``fp16``, ``bf16`` or ``auto``: the E2E model's ASR encoder on CUDA
        (ignored on CPU and by the 2-step model's decoding).
        """
        path = Path(model_dir)
        info = _read_info(path)
        kind = {"e2e": E2ESentimentModel, "two_step": TwoStepSentimentModel}.get(info.get("type"))
        if kind is None:
            raise InferenceError(f"{path / MODEL_JSON}: unknown type {info.get('type')!r}")
        return kind(path, info, resolve_device(device), batch_size, amp)

    # -- inputs ------------------------------------------------------------------------------------------

    def load(self, x: Any, fs: int | None = None, channel: int | None = None) -> np.ndarray:
        """One input (path, array or tensor) as mono float32 samples at :attr:`fs`; :class:`InferenceError`
        when it cannot be read."""
        try:
            if isinstance(x, (str, os.PathLike)):
                return load_file(x, self.fs, channel)
            return array_to_mono(x, fs, self.fs, channel)
        except InputError as error:
            raise InferenceError(str(error)) from None

    # -- prediction --------------------------------------------------------------------------------------

    def __call__(self, x: Any, fs: int | None = None, channel: int | None = None) -> Prediction:
        """The prediction of one input (see the module doc); :class:`InferenceError` when it fails."""
        return self.predict([x], fs=fs, channel=channel)[0]

    def predict(
        self, inputs: Sequence[Any], fs: int | None = None, channel: int | None = None
    ) -> list[Prediction]:
        """Predictions of several inputs, ``batch_size`` at a time; the first that fails raises
        :class:`InferenceError` (``predict_waveforms(errors="return")`` keeps going instead)."""
        waves = [self.load(x, fs, channel) for x in inputs]
        return self.predict_waveforms(waves)  # type: ignore[return-value]

    def predict_waveforms(
        self, waves: Sequence[np.ndarray], errors: str = "raise", names: Sequence[str] | None = None
    ) -> list[Prediction | InferenceError]:
        """Predictions of mono float32 waveforms at :attr:`fs`. ``errors="return"``: an input that fails
        gets an :class:`InferenceError` in its place (the others are classified); ``"raise"``: raised."""
        import torch

        if errors not in ("raise", "return"):
            raise ValueError(f"errors must be 'raise' or 'return', not {errors!r}")
        names = list(names) if names is not None else [f"input {i}" for i in range(len(waves))]
        out: list[Prediction | InferenceError] = []
        with torch.inference_mode():
            for start in range(0, len(waves), self.batch_size):
                chunk = [np.asarray(w, dtype=np.float32) for w in waves[start : start + self.batch_size]]
                for name, result in zip(names[start:], self._predict_chunk(chunk), strict=False):
                    if isinstance(result, str):
                        result = InferenceError(f"{name}: {result}")
                        if errors == "raise":
                            raise result
                    out.append(result)
        return out

    def _prediction(self, probs: np.ndarray, transcript: str | None = None) -> Prediction:
        row = [float(p) for p in probs]
        best = max(range(len(row)), key=row.__getitem__)
        return Prediction(self.labels[best], dict(zip(self.labels, row, strict=True)), transcript)

    def _predict_chunk(self, waves: list[np.ndarray]) -> list[Prediction | str]:
        """A prediction, or an error message, per waveform (subclasses)."""
        raise NotImplementedError


def _load_classifier(cls_dir: Path, device: str) -> tuple[Any, dict[str, Any]]:
    """The E2E classifier of ``cls_dir/model.json`` (``build_model`` + its weights), in eval mode."""
    import torch

    from speechsent.models import build_model

    try:
        spec = json.loads((cls_dir / "model.json").read_text(encoding="utf-8"))
        model = build_model(spec["architecture"], **spec["config"])
        state = torch.load(cls_dir / spec["weights"], map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except (OSError, ValueError, KeyError, RuntimeError) as error:
        raise InferenceError(f"{cls_dir}: cannot load the classifier: {error}") from None
    return model.to(device).eval(), spec


class E2ESentimentModel(SentimentModel):
    """Frame features (the ASR encoder's, as stage 5 dumps them; or fbank, as stage 9's CNN baseline reads
    them) → the E2E classifier."""

    type = "e2e"

    def __init__(self, model_dir: Path, info: dict[str, Any], device: str, batch_size: int, amp: str | None):
        super().__init__(model_dir, info, device, batch_size, amp)
        import torch

        self.classifier, self.classifier_spec = _load_classifier(model_dir / info["classifier"], device)
        features = info.get("features") or {"kind": "encoder"}
        self.feature_kind = features["kind"]
        self.encoder: Any = None
        self.min_samples = 1
        if self.feature_kind == "fbank":
            from speechsent.features.fbank import FbankConfig

            self.fbank = FbankConfig(**features["fbank"])
            self.min_samples = self.fbank.frame_samples(self.fs)
            return
        if self.feature_kind != "encoder":
            raise InferenceError(f"{model_dir / MODEL_JSON}: unknown features {self.feature_kind!r}")
        from espnet2.tasks.asr import ASRTask

        from speechsent.asr.batch_encode import BatchEncoder

        if device.startswith("cuda") and self.amp is None:
            # as the encoder dump: TF32 rounds differently for different batch shapes
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        with _asr_files(model_dir, info) as (config, files):
            asr, _ = ASRTask.build_model_from_file(config, files.model_file, device)
        self.asr = asr.eval()
        self.encoder = BatchEncoder(self.asr, device, self.amp)
        self.min_samples = self.encoder.min_samples() or 1
        # On a GPU, batches made exact by BatchEncoder (checked on the first batch, as the dump does); on a
        # CPU one utterance at a time, the fastest there.
        self.batched_encoder = device.startswith("cuda") and self.encoder.batch_invariant_batching
        self._invariance_checked = False

    def features(self, wave: np.ndarray) -> np.ndarray:
        """The classifier's input ``(frames, dim)`` for one mono waveform at :attr:`fs` (what the dump
        stores for it)."""
        return self._features([np.asarray(wave, dtype=np.float32)])[0]

    def _features(self, waves: list[np.ndarray]) -> list[np.ndarray]:
        if self.feature_kind == "fbank":
            from speechsent.features.fbank import compute_fbank

            return [compute_fbank(w, self.fs, self.fbank) for w in waves]
        if self.batched_encoder and len(waves) > 1:
            if not self._invariance_checked:
                self._invariance_checked = True
                report = self.encoder.self_check(waves[:8], 5e-2 if self.amp else 1e-4)
                if not report.ok:
                    log.error(
                        "batched encoding differs from single-utterance encode(): batching off (%s)", report
                    )
                    self.batched_encoder = False
                    return self._features(waves)
            return self.encoder.encode_batch(waves)
        return [self.encoder.encode_single(w) for w in waves]

    def _predict_chunk(self, waves: list[np.ndarray]) -> list[Prediction | str]:
        import torch

        results: list[Prediction | str] = [
            f"too short ({len(w)} samples at {self.fs} Hz < {self.min_samples})" for w in waves
        ]
        ok = [i for i, w in enumerate(waves) if len(w) >= self.min_samples]
        feats: dict[int, np.ndarray] = {}
        try:
            feats.update(zip(ok, self._features([waves[i] for i in ok]), strict=True))
        except Exception:  # find the culprit(s): one at a time
            for i in ok:
                try:
                    feats[i] = self._features([waves[i]])[0]
                except Exception as error:
                    results[i] = f"{type(error).__name__}: {error}"
        done = [i for i in ok if i in feats and len(feats[i]) > 0]
        for i in ok:
            if i in feats and len(feats[i]) == 0:
                results[i] = "no feature frame"
        if not done:
            return results
        lengths = torch.tensor([len(feats[i]) for i in done], dtype=torch.long)
        batch = torch.zeros(len(done), int(lengths.max()), feats[done[0]].shape[1], dtype=torch.float32)
        for row, i in enumerate(done):
            batch[row, : len(feats[i])] = torch.from_numpy(feats[i])
        logits = self.classifier(batch.to(self.device), lengths.to(self.device))
        probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        for row, i in enumerate(done):
            results[i] = self._prediction(probs[row])
        return results


class TwoStepSentimentModel(SentimentModel):
    """ASR decoding (the exported ``decode`` options: beam search or CTC greedy, as stage 4) → the text
    classifier on the transcript. :attr:`decode_options` holds the decoding options."""

    type = "two_step"

    def __init__(self, model_dir: Path, info: dict[str, Any], device: str, batch_size: int, amp: str | None):
        super().__init__(model_dir, info, device, batch_size, amp)
        import torch

        from speechsent.asr.decode import Decoder

        self.decode_options = dict(info.get("decode") or {"mode": "beam"})
        with _asr_files(model_dir, info) as (config, files):
            spec = {
                "config": str(config),
                "model_file": str(files.model_file),
                "bpemodel": str(files.bpemodel) if files.bpemodel else None,
                "fs": self.fs,
                "options": {**self.decode_options, "device": device, "num_threads": torch.get_num_threads()},
            }
            self.decoder = Decoder(spec)
        if self.decode_options.get("mode") == "ctc_greedy":
            self.min_samples = self.decoder.min_samples
        else:  # what the frontend and the encoder's subsampling accept (ESPnet's own error is obscure)
            from speechsent.asr.batch_encode import BatchEncoder

            self.min_samples = BatchEncoder(self.decoder.s2t.asr_model, device).min_samples() or 1
        from speechsent.models.text_classifier import TextSentimentPredictor

        # (an exported LM's path is relative to the classifier dir: TextSentimentPredictor resolves it)
        self.text_classifier = TextSentimentPredictor(model_dir / info["classifier"], device)

    def transcribe(self, waves: Sequence[np.ndarray]) -> list[str | InferenceError]:
        """The transcripts of mono waveforms at :attr:`fs` (an :class:`InferenceError` for one that fails)."""
        items = [(str(i), np.asarray(w, dtype=np.float32)) for i, w in enumerate(waves)]
        decoded = {
            key: (text, error)
            for key, text, error in self.decoder.decode(
                [it for it in items if len(it[1]) >= self.min_samples]
            )
        }
        out: list[str | InferenceError] = []
        for i in range(len(waves)):
            short = f"too short ({len(waves[i])} samples at {self.fs} Hz < {self.min_samples})"
            text, error = decoded.get(str(i), (None, short))
            out.append(InferenceError(error) if error is not None else text or "")
        return out

    def _predict_chunk(self, waves: list[np.ndarray]) -> list[Prediction | str]:
        transcripts = self.transcribe(waves)
        results: list[Prediction | str] = [str(t) for t in transcripts]
        ok = [i for i, t in enumerate(transcripts) if isinstance(t, str)]
        if ok:
            texts = [str(transcripts[i]) for i in ok]
            probs = self.text_classifier.predict(texts, batch_size=max(1, len(texts)))
            for row, i in enumerate(ok):
                results[i] = self._prediction(probs[row], texts[row])
        return results
