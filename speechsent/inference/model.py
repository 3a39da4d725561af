"""The Python API of an exported model (:mod:`speechsent.inference.export`): audio → sentiment label.

::

    from speechsent import SentimentModel

    model = SentimentModel.from_pretrained("exp/export/e2e")          # or exp/export/two_step
    pred = model("call.sph", channel=0)       # a path, or samples: model(wav, fs=16000)
    pred.label, pred.probabilities             # "Neutral", {"Negative": 0.1, "Neutral": 0.7, "Positive": 0.2}
    model.predict(["a.wav", "b.flac"])         # batched: [Prediction, Prediction]

``from_pretrained`` returns a :class:`~speechsent.inference.model_kinds.E2ESentimentModel` (ASR-encoder
features, or fbank, → classifier) or :class:`~speechsent.inference.model_kinds.TwoStepSentimentModel` (ASR
transcript → text classifier; ``Prediction.transcript`` holds the transcript) by the model's ``type``. The
features are computed by the code of the recipe's stages (the encoder dump's
:class:`speechsent.asr.batch_encode.BatchEncoder`, the fbank dump's ``compute_fbank``, the decoding of stage 4
:class:`speechsent.asr.decoder.Decoder`), on audio read as the data dirs are read
(:mod:`speechsent.inference.audio_inputs`), so an utterance of a scored set gets the probabilities of its
``score_<set>/utt2prob``.

Inputs: a path (wav, flac, SPHERE in any coding, any rate: resampled to :attr:`SentimentModel.fs`), or a 1-D
/ ``(samples, channels)`` numpy array or torch tensor with ``fs`` (its rate; default the model's). A
multi-channel input needs ``channel`` (0-based); without it, it is an error (channels are never mixed: the
models were trained on single sides of telephone calls).

**Refused inputs** (:class:`InferenceError`, a ``ValueError``, naming the input): samples that are not finite
(NaN or infinity anywhere: not audio; a float WAV can hold them), inputs longer than ``max_duration``
seconds (:data:`DEFAULT_MAX_DURATION` = 60 s by default; see there why), inputs too short for the model's
first frame. As a last line of defence, features or probabilities that come out non-finite are an error for
that input, never a result.

**Long recordings**: :meth:`SentimentModel.predict_chunks` classifies consecutive windows of
``chunk_seconds`` (:func:`window_bounds`), each a :class:`Prediction` with ``start``/``end`` (seconds from
the input's start), ``batch_size`` windows at a time: the memory is that of one batch of windows plus the
samples (4 bytes each), whatever the length::

    for p in model.predict_chunks("call.wav", chunk_seconds=10):
        print(p.start, p.end, p.label)

**Loading** checks ``speechsent_model.json`` (:class:`speechsent.inference.manifest.ModelManifest`) and every
file it names before torch or ESPnet is imported; a broken dir is one :class:`InferenceError` line naming
the file and what is wrong (a truncated checkpoint, labels that do not match the classifier, a missing
file, ...).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from speechsent.inference.audio_inputs import InputError, array_to_mono, load_file
from speechsent.inference.manifest import (
    MODEL_JSON,
    ManifestError,
    ModelManifest,
    check_model_files,
    read_manifest,
)

__all__ = [
    "DEFAULT_MAX_DURATION",
    "InferenceError",
    "Prediction",
    "SentimentModel",
    "window_bounds",
]

log = logging.getLogger(__name__)

#: The longest input (seconds) classified as one utterance. The ASR encoder's self-attention takes memory
#: quadratic in the length. Peak RSS of ``speechsent-infer`` on a CPU with the demo's encoder (transformer,
#: 3 blocks x 144, 8 kHz), measured: 1.04 GB for the process itself (torch and ESPnet imported; a refused
#: input adds nothing), 1.20 GB for a 60 s input, 1.47 GB for 2.5 minutes, 3.1 GB for 5, 9.2 GB for 10 (a
#: 30-minute call: tens of GB); 10 minutes as ``chunk_seconds=10`` windows: 1.07 GB. 60 s is several
#: times the longest utterance of the corpora the models are trained on (sentences and Switchboard
#: segments, mostly under 20 s), so nothing the classifier was made for is refused, and a long recording
#: gets an error that says to window it (``chunk_seconds``) or cut it (``segments``) instead of exhausting
#: the machine's memory.
DEFAULT_MAX_DURATION = 60.0


class InferenceError(ValueError):
    """An input that could not be classified (unreadable, too short, ...); the message names it. A window
    of :meth:`SentimentModel.predict_chunks` has its ``start``/``end`` (seconds), else they are None."""

    def __init__(self, message: str, start: float | None = None, end: float | None = None) -> None:
        super().__init__(message)
        self.start = start
        self.end = end


@dataclass
class Prediction:
    """The label, the probability of every label (model order) and, for a 2-step model, the transcript;
    for a window of :meth:`SentimentModel.predict_chunks`, its ``start`` and ``end`` (seconds)."""

    label: str
    probabilities: dict[str, float]
    transcript: str | None = None
    start: float | None = None
    end: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.start is not None:
            out["start"] = self.start
            out["end"] = self.end
        out.update(label=self.label, probabilities=dict(self.probabilities))
        if self.transcript is not None:
            out["transcript"] = self.transcript
        return out


def window_bounds(num_samples: int, fs: int, chunk_seconds: float) -> list[tuple[int, int]]:
    """``(start, end)`` sample indices of consecutive, non-overlapping windows of ``chunk_seconds`` that
    cover ``num_samples`` samples at ``fs`` Hz. The last, shorter window is kept when at least half a
    window long, else merged into the one before (so no window is shorter than half a window, unless the
    input is; the last can be up to 1.5 windows). An input of at most one window is one window."""
    size = round(chunk_seconds * fs)
    if size < 1:
        raise InferenceError(f"chunk_seconds {chunk_seconds} is less than one sample at {fs} Hz")
    bounds = [(start, min(start + size, num_samples)) for start in range(0, max(num_samples, 1), size)]
    if len(bounds) > 1 and 2 * (bounds[-1][1] - bounds[-1][0]) < size:
        bounds[-2:] = [(bounds[-2][0], num_samples)]
    return bounds


def _nonfinite_message(wave: np.ndarray, fs: int) -> str | None:
    finite = np.isfinite(wave)
    if finite.all():
        return None
    bad = np.flatnonzero(~finite)  # (worded as speechsent.inference.audio_inputs words it for files)
    return (
        f"{len(bad)} of {len(wave)} samples are NaN or infinite (the first at sample {bad[0]}, "
        f"{bad[0] / fs:.3f} s): not audio"
    )


def _check_parameters(module: Any, path: Path) -> None:
    """Weights that hold NaN or infinity would turn every input into NaN probabilities: an error now."""
    import torch

    for name, param in module.state_dict().items():
        if torch.is_floating_point(param) and not bool(torch.isfinite(param).all()):
            raise InferenceError(f"{path}: {name} holds non-finite values (NaN or infinity): a broken model")


def _device(device: str) -> str:
    """:func:`speechsent.utils.device.resolve_device` as a str, its errors as :class:`InferenceError`."""
    from speechsent.utils.device import DeviceError, resolve_device

    try:
        return str(resolve_device(device))
    except DeviceError as error:
        raise InferenceError(str(error)) from None


@contextlib.contextmanager
def _asr_files(model_dir: Path, manifest: ModelManifest) -> Iterator[tuple[Path, Any]]:
    """The exported ASR config with its paths made absolute (a temporary file, for as long as the model is
    being built: ESPnet reads the BPE model and the statistics then) and its :class:`ModelFiles`."""
    from speechsent.asr.model_dir import ModelDirError, resolve_model_dir, write_resolved_config

    if manifest.asr is None:
        raise InferenceError(f"{model_dir / MODEL_JSON}: no asr")
    try:
        files = resolve_model_dir(model_dir / manifest.asr.config, model_dir / manifest.asr.model_file)
    except ModelDirError as error:
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
    ``type`` (``e2e`` | ``two_step``), ``manifest`` (``speechsent_model.json``,
    :class:`speechsent.inference.manifest.ModelManifest`; ``info``: the same as a dict), ``device``,
    ``batch_size``, ``max_duration`` (seconds; None: no limit).
    """

    type = ""

    def __init__(
        self,
        model_dir: Path,
        manifest: ModelManifest,
        device: str,
        batch_size: int,
        amp: str | None,
        max_duration: float | None = DEFAULT_MAX_DURATION,
    ) -> None:
        self.model_dir = model_dir
        self.manifest = manifest
        self.info = manifest.to_dict()
        self.labels: list[str] = list(manifest.labels)
        self.fs: int = manifest.fs
        self.device = device
        if batch_size < 1:
            raise InferenceError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size = batch_size
        if max_duration is not None and not max_duration >= 0:
            raise InferenceError(f"max_duration must be positive (or 0 / None: no limit), not {max_duration}")
        self.max_duration: float | None = float(max_duration) if max_duration else None
        if amp not in (None, "fp16", "bf16", "auto"):
            raise InferenceError(f"amp must be None, fp16, bf16 or auto, not {amp!r}")
        if amp is not None and not device.startswith("cuda"):
            log.warning("amp %s ignored on %s", amp, device)
            amp = None
        if amp == "auto":
            import torch

            amp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        self.amp = amp
        self._load()

    def _load(self) -> None:
        """Load the model's checkpoints (each kind its own: :mod:`speechsent.inference.model_kinds`)."""
        raise NotImplementedError

    @staticmethod
    def from_pretrained(
        model_dir: str | os.PathLike[str],
        device: str = "auto",
        batch_size: int = 16,
        amp: str | None = None,
        max_duration: float | None = DEFAULT_MAX_DURATION,
        revision: str | None = None,
    ) -> SentimentModel:
        """Load the exported model at ``model_dir`` on ``device`` (auto | cpu | cuda | cuda:N).

        ``model_dir`` may be a Hugging Face Hub id (``org/name``, not an existing path): the model is
        downloaded into the Hub cache (``revision``: a branch, tag or commit; ``HF_HUB_OFFLINE=1`` reads the
        cache only; :mod:`speechsent.inference.hub`).

        ``batch_size``: inputs classified together (on a GPU the ASR encoder of an E2E model runs them as one
        batch, exact as the dump's batches; on a CPU one at a time, the fastest there). ``amp``: None
        (float32, as the recipe's dump), ``fp16``, ``bf16`` or ``auto``: the E2E model's ASR encoder on CUDA
        (ignored on CPU and by the 2-step model's decoding). ``max_duration``: the longest input (seconds)
        classified whole (:data:`DEFAULT_MAX_DURATION`; 0 or None: no limit); a longer one is an error that
        says to use :meth:`predict_chunks`.

        ``speechsent_model.json`` and every file it names are checked first, without torch or ESPnet
        (:func:`speechsent.inference.manifest.check_model_files`); then the checkpoints are loaded. Any
        problem is one :class:`InferenceError` line naming the file.
        """
        from speechsent.inference.hub import HubError, download_model, is_hub_id

        try:
            path = download_model(str(model_dir), revision) if is_hub_id(model_dir) else Path(model_dir)
        except HubError as error:
            raise InferenceError(str(error)) from None
        try:
            manifest = read_manifest(path)
            check_model_files(path, manifest)
        except ManifestError as error:
            raise InferenceError(str(error)) from None
        from speechsent.inference.model_kinds import E2ESentimentModel, TwoStepSentimentModel

        kinds: dict[str, type[SentimentModel]] = {"e2e": E2ESentimentModel, "two_step": TwoStepSentimentModel}
        kind = kinds[manifest.type]
        return kind(path, manifest, _device(device), batch_size, amp, max_duration)

    # -- inputs ------------------------------------------------------------------------------------------

    def load(self, x: Any, fs: int | None = None, channel: int | None = None) -> np.ndarray:
        """One input (path, array or tensor) as mono float32 samples at :attr:`fs`; :class:`InferenceError`
        when it cannot be read or holds non-finite samples."""
        is_path = isinstance(x, (str, os.PathLike))
        try:
            wave = load_file(x, self.fs, channel) if is_path else array_to_mono(x, fs, self.fs, channel)
        except InputError as error:
            raise InferenceError(str(error)) from None
        message = _nonfinite_message(wave, self.fs)
        if message is not None:
            raise InferenceError(f"{x if is_path else 'array'}: {message}")
        return wave

    def _refusal(self, wave: np.ndarray, whole: bool = True) -> str | None:
        """Why a waveform is not classified (non-finite samples; longer than ``max_duration`` when it is a
        whole input, not a window), or None."""
        message = _nonfinite_message(wave, self.fs)
        if message is not None:
            return message
        seconds = len(wave) / self.fs
        if whole and self.max_duration is not None and seconds > self.max_duration:
            return (
                f"{seconds:.1f} s is longer than max_duration {self.max_duration:g} s (the encoder's memory "
                "grows with the square of the length): classify it in windows (speechsent-infer "
                "--chunk_seconds S; the API's predict_chunks), cut it into utterances (--wav_scp with "
                "--segments), or raise --max_duration (0: no limit)"
            )
        return None

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
        names = [str(x) if isinstance(x, (str, os.PathLike)) else f"input {i}" for i, x in enumerate(inputs)]
        return self.predict_waveforms(waves, names=names)  # type: ignore[return-value]

    def predict_waveforms(
        self, waves: Sequence[np.ndarray], errors: str = "raise", names: Sequence[str] | None = None
    ) -> list[Prediction | InferenceError]:
        """Predictions of mono float32 waveforms at :attr:`fs`. ``errors="return"``: an input that fails
        gets an :class:`InferenceError` in its place (the others are classified); ``"raise"``: raised."""
        return self._predict_waves(waves, errors, names, whole=True)

    def predict_chunks(
        self,
        x: Any,
        chunk_seconds: float,
        fs: int | None = None,
        channel: int | None = None,
        errors: str = "raise",
    ) -> list[Prediction | InferenceError]:
        """One input (path, array, tensor) classified as consecutive windows of ``chunk_seconds``
        (:func:`window_bounds`: no overlap; a last window shorter than half a window is merged into the one
        before), ``batch_size`` windows at a time: one :class:`Prediction` per window, with its ``start`` and
        ``end`` in seconds from the input's start. Each window's probabilities are those of ``model(the
        window's samples)``; ``max_duration`` does not apply to the input (only ``chunk_seconds`` to the
        windows). ``errors="return"``: a window that fails (too short) gets an :class:`InferenceError` with
        its ``start``/``end``."""
        name = str(x) if isinstance(x, (str, os.PathLike)) else "array"
        return self.predict_waveform_chunks(self.load(x, fs, channel), chunk_seconds, errors, name)

    def predict_waveform_chunks(
        self, wave: np.ndarray, chunk_seconds: float, errors: str = "raise", name: str = "input"
    ) -> list[Prediction | InferenceError]:
        """:meth:`predict_chunks` of a mono float32 waveform at :attr:`fs` (``name`` for the messages). A
        waveform with non-finite samples is one error (``[InferenceError]`` with ``errors="return"``)."""
        if errors not in ("raise", "return"):
            raise ValueError(f"errors must be 'raise' or 'return', not {errors!r}")
        self.check_chunk_seconds(chunk_seconds)
        wave = np.asarray(wave, dtype=np.float32)
        message = _nonfinite_message(wave, self.fs)
        if message is not None:
            error = InferenceError(f"{name}: {message}")
            if errors == "raise":
                raise error
            return [error]
        bounds = window_bounds(len(wave), self.fs, chunk_seconds)
        seconds = [(a / self.fs, b / self.fs) for a, b in bounds]
        names = [f"{name} [{a:.2f}-{b:.2f} s]" for a, b in seconds]
        out: list[Prediction | InferenceError] = []
        for first in range(0, len(bounds), self.batch_size):  # the windows' features: one batch at a time
            batch = bounds[first : first + self.batch_size]
            results = self._predict_waves(
                [wave[a:b] for a, b in batch], errors, names[first : first + len(batch)], whole=False
            )
            for (start, end), result in zip(seconds[first:], results, strict=False):
                result.start, result.end = start, end
                out.append(result)
        return out

    def check_chunk_seconds(self, chunk_seconds: float) -> None:
        """``chunk_seconds`` is positive and, with a ``max_duration``, not above it (a longer window would
        bypass the guard); :class:`InferenceError` otherwise."""
        if not chunk_seconds > 0:
            raise InferenceError(f"chunk_seconds must be positive, not {chunk_seconds}")
        if self.max_duration is not None and chunk_seconds > self.max_duration:
            raise InferenceError(
                f"chunk_seconds {chunk_seconds:g} is longer than max_duration {self.max_duration:g} s: "
                "choose shorter windows (or raise max_duration)"
            )

    def _predict_waves(
        self, waves: Sequence[np.ndarray], errors: str, names: Sequence[str] | None, whole: bool
    ) -> list[Prediction | InferenceError]:
        import torch

        if errors not in ("raise", "return"):
            raise ValueError(f"errors must be 'raise' or 'return', not {errors!r}")
        names = list(names) if names is not None else [f"input {i}" for i in range(len(waves))]
        out: list[Prediction | InferenceError] = []
        with torch.inference_mode():
            for start in range(0, len(waves), self.batch_size):
                chunk = [np.asarray(w, dtype=np.float32) for w in waves[start : start + self.batch_size]]
                results: list[Prediction | str | None] = [self._refusal(w, whole) for w in chunk]
                ok = [i for i, r in enumerate(results) if r is None]
                for i, result in zip(ok, self._predict_chunk([chunk[i] for i in ok]), strict=True):
                    results[i] = result
                for name, result in zip(names[start:], results, strict=False):
                    if isinstance(result, Prediction) and not all(
                        math.isfinite(p) for p in result.probabilities.values()
                    ):
                        result = f"the probabilities are NaN or infinite ({result.probabilities})"
                    if isinstance(result, str):
                        result = InferenceError(f"{name}: {result}")
                        if errors == "raise":
                            raise result
                    assert result is not None
                    out.append(result)
        return out

    def _prediction(self, probs: np.ndarray, transcript: str | None = None) -> Prediction:
        row = [float(p) for p in probs]
        best = max(range(len(row)), key=row.__getitem__)
        return Prediction(self.labels[best], dict(zip(self.labels, row, strict=True)), transcript)

    def _predict_chunk(self, waves: list[np.ndarray]) -> list[Prediction | str]:
        """A prediction, or an error message, per waveform (subclasses)."""
        raise NotImplementedError
