"""The two kinds of exported model behind :class:`speechsent.inference.model.SentimentModel`: the E2E
model (frame features → the E2E classifier) and the 2-step model (ASR decoding → the text classifier), with
the checks of their checkpoints (each problem one :class:`~speechsent.inference.model.InferenceError` line
naming the file). ``SentimentModel.from_pretrained`` picks the kind the model dir's manifest names.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from speechsent.inference.manifest import Features
from speechsent.inference.model import (
    InferenceError,
    Prediction,
    SentimentModel,
    _asr_files,
    _check_parameters,
)
from speechsent.tasks.manifests import E2EModelManifest
from speechsent.utils.errors import one_line

__all__ = ["E2ESentimentModel", "TwoStepSentimentModel"]

log = logging.getLogger("speechsent.inference.model")


def _load_state(path: Path) -> dict[str, Any]:
    """A state dict saved by ``torch.save`` (tensors only; DeepSpeed's ``{"module": state}`` unwrapped, as
    ESPnet does); one :class:`InferenceError` line otherwise."""
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many kinds for a damaged file
        raise InferenceError(f"{path}: not a loadable PyTorch checkpoint ({one_line(error)})") from None
    if isinstance(state, dict) and isinstance(state.get("module"), dict):
        state = state["module"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InferenceError(f"{path}: not a state dict (a mapping of parameter names to tensors)")
    return state


def _check_asr_state(model: Any, state: dict[str, Any], model_file: Path, config_file: Path) -> None:
    """ESPnet loads an ASR checkpoint with ``strict=False``: one of another model would leave the encoder
    with its random initial weights, silently. Every parameter of the model must be in the checkpoint
    (buffers may be missing: a model saved by an older ESPnet can lack one added since)."""
    names = [name for name, _ in model.named_parameters()]
    missing = [name for name in names if name not in state]
    if missing:
        raise InferenceError(
            f"{model_file}: not a checkpoint of the ASR model of {config_file}: {len(missing)} of its "
            f"{len(names)} parameters missing ({missing[0]}, ...)"
        )


def _head_outputs(state: dict[str, Any]) -> int | None:
    """The number of outputs of the classifier's output layer (``head``, as both E2E architectures name
    it) as the weights in ``state`` have it."""
    weight = state.get("head.weight")
    return int(weight.shape[0]) if weight is not None and weight.dim() == 2 else None


def _load_classifier(cls_dir: Path, device: str, labels: list[str]) -> tuple[Any, E2EModelManifest]:
    """The E2E classifier of ``cls_dir/model.json`` (``build_model`` + its weights), in eval mode, and that
    manifest; its outputs checked against ``labels``."""
    from speechsent.models import build_model

    spec_file = cls_dir / E2EModelManifest.FILE
    try:  # (checked by check_model_files)
        spec = E2EModelManifest.read(spec_file)
    except (OSError, ValueError) as error:  # ManifestFormatError and read_json's errors name the file
        message = one_line(error)
        raise InferenceError(message if str(spec_file) in message else f"{spec_file}: {message}") from None
    try:
        model = build_model(spec.architecture, **spec.config)
    except (TypeError, ValueError) as error:
        raise InferenceError(f"{spec_file}: cannot build the classifier: {one_line(error)}") from None
    weights = cls_dir / spec.weights
    state = _load_state(weights)
    outputs = _head_outputs(state)
    if outputs is not None and outputs != len(labels):
        raise InferenceError(
            f"{weights}: the labels {labels} do not match the classifier head ({outputs} outputs)"
        )
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        raise InferenceError(
            f"{weights}: does not fit the classifier of {spec_file}: {one_line(error)}"
        ) from None
    _check_parameters(model, weights)
    return model.to(device).eval(), spec


class E2ESentimentModel(SentimentModel):
    """Frame features (the ASR encoder's, as stage 5 dumps them; or fbank, as stage 9's CNN baseline reads
    them) → the E2E classifier."""

    type = "e2e"

    def _load(self) -> None:
        import torch

        model_dir, manifest, device = self.model_dir, self.manifest, self.device

        self.classifier, self.classifier_spec = _load_classifier(
            model_dir / manifest.classifier, device, self.labels
        )
        features = manifest.features or Features()
        self.feature_kind = features.kind
        self.encoder: Any = None
        self.min_samples = 1
        if self.feature_kind == "fbank":
            from speechsent.features.fbank import FbankConfig

            self.fbank = FbankConfig(**(features.fbank or {}))
            self.min_samples = self.fbank.frame_samples(self.fs)
            return
        if self.feature_kind == "hf":
            self._load_hf(features)
            return
        from espnet2.tasks.asr import ASRTask

        from speechsent.asr.batch_encode import BatchEncoder

        if device.startswith("cuda") and self.amp is None:
            # as the encoder dump: TF32 rounds differently for different batch shapes
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        with _asr_files(model_dir, manifest) as (config, files):
            state = _load_state(files.model_file)
            try:
                asr, _ = ASRTask.build_model_from_file(config, files.model_file, device)
            except Exception as error:  # ESPnet/torch: a checkpoint that does not fit the config, ...
                raise InferenceError(
                    f"{files.model_file}: cannot load the ASR model ({files.config_file}): {one_line(error)}"
                ) from None
        _check_asr_state(asr, state, files.model_file, files.config_file)
        del state
        _check_parameters(asr, files.model_file)
        self.asr = asr.eval()
        self.encoder = BatchEncoder(self.asr, device, self.amp)
        self.min_samples = self.encoder.min_samples() or 1
        # On a GPU, batches made exact by BatchEncoder (checked on the first batch, as the dump does); on a
        # CPU one utterance at a time, the fastest there.
        self.batched_encoder = device.startswith("cuda") and self.encoder.batch_invariant_batching
        self._invariance_checked = False

    def _load_hf(self, features: Features) -> None:
        """A Hugging Face encoder (packed in the model dir, or a hub id and revision), as the dump ran it."""
        from speechsent.asr.hf_encoder import HFDumpEncoder, HFEncoder, HFEncoderError

        spec = features.hf or {}
        source = str(self.model_dir / spec["model"]) if spec.get("local") else str(spec["model"])
        try:
            hf = HFEncoder(source, spec.get("revision"), self.device, amp=self.amp)
        except HFEncoderError as error:
            raise InferenceError(str(error)) from None
        if hf.info.sampling_rate != self.fs:
            raise InferenceError(
                f"{source}: the encoder takes {hf.info.sampling_rate} Hz audio, the model's fs is {self.fs}"
            )
        self.encoder = HFDumpEncoder(hf, spec["layers"])
        self.min_samples = hf.info.min_samples
        self.batched_encoder = self.device.startswith("cuda") and self.encoder.batch_invariant_batching
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
        done = []
        for i in ok:
            if i not in feats:
                continue
            if len(feats[i]) == 0:
                results[i] = "no feature frame"
            elif not np.isfinite(feats[i]).all():  # e.g. samples far out of [-1, 1]
                results[i] = "the features are NaN or infinite: are the samples audio (within [-1, 1])?"
            else:
                done.append(i)
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

    def _load(self) -> None:
        import torch

        model_dir, manifest, device = self.model_dir, self.manifest, self.device

        from speechsent.asr.decoder import Decoder

        self.decode_options = dict(manifest.decode or {"mode": "beam"})
        with _asr_files(model_dir, manifest) as (config, files):
            spec = {
                "config": str(config),
                "model_file": str(files.model_file),
                "bpemodel": str(files.bpemodel) if files.bpemodel else None,
                "fs": self.fs,
                "options": {**self.decode_options, "device": device, "num_threads": torch.get_num_threads()},
            }
            state = _load_state(files.model_file)
            try:
                self.decoder = Decoder(spec)
            except Exception as error:  # ESPnet/torch: a checkpoint that does not fit the config, ...
                raise InferenceError(
                    f"{files.model_file}: cannot load the ASR model ({files.config_file}): {one_line(error)}"
                ) from None
        asr_model = self.decoder.model if hasattr(self.decoder, "model") else self.decoder.s2t.asr_model
        _check_asr_state(asr_model, state, files.model_file, files.config_file)
        del state
        _check_parameters(asr_model, files.model_file)
        if self.decode_options.get("mode") == "ctc_greedy":
            self.min_samples = self.decoder.min_samples
        else:  # what the frontend and the encoder's subsampling accept (ESPnet's own error is obscure)
            from speechsent.asr.batch_encode import BatchEncoder

            self.min_samples = BatchEncoder(asr_model, device).min_samples() or 1
        from speechsent.models.text_classifier import TextSentimentPredictor

        # (an exported LM's path is relative to the classifier dir: TextSentimentPredictor resolves it)
        cls_dir = model_dir / manifest.classifier
        try:
            self.text_classifier = TextSentimentPredictor(cls_dir, device)
        except Exception as error:  # torch, sentencepiece, transformers: a damaged file
            raise InferenceError(f"{cls_dir}: cannot load the text classifier: {one_line(error)}") from None
        _check_parameters(self.text_classifier.model, cls_dir / "model.json")

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
