"""A Hugging Face speech encoder as a frozen front-end (``--encoder hf:<hub id or local dir>``).

:class:`HFEncoder` loads a speech model with ``transformers``' ``AutoModel`` / ``AutoFeatureExtractor``
(wav2vec 2.0, HuBERT, WavLM, data2vec-audio: a convolutional waveform encoder + Transformer; Whisper: its
encoder only), frozen and in eval mode, and returns for each utterance the hidden states of the chosen layers
(``0`` the input of the first Transformer layer, ``i`` the output of layer ``i``, ``num_layers`` the model's
``last_hidden_state``, which pre-LN models such as wav2vec2-large and Whisper pass through a final layer
norm that their ``hidden_states[-1]`` lacks), as SUPERB's upstreams are read for a learnable weighted sum of
layers or one layer.

**Batch invariance.** Each utterance's output equals the output of encoding it alone (within float32
rounding), so the features never depend on how utterances were batched:

- wav2vec2, HuBERT and WavLM models whose feature extractor takes an attention mask
  (``return_attention_mask``: the layer-normalised ones such as wav2vec2-large-lv60, HuBERT-large, WavLM) are
  run in padded batches with the mask: the valid frames of an utterance see only its own samples (the
  convolutions are "valid" ones, the attention is masked, padded frames are zeroed before the one positional
  convolution);
- the others one utterance at a time: group-normalised waveform encoders (wav2vec2-base, HuBERT-base)
  normalise each channel over the whole padded time axis, so padding would change an utterance's features
  (their model cards prescribe unpadded input for exact results), and data2vec-audio's stacked positional
  convolutions carry padded frames into the last valid ones;
- Whisper's encoder always reads 30 s of log-mel features (an utterance is padded to 30 s alone, longer ones
  are cut into 30-s windows whose outputs are joined), so batching changes nothing; its output is cut to the
  utterance's frames (one per 320 samples, rounded up), so that the padding's frames never reach a classifier.

Samples are given as the project's readers give utterances (float, full scale ±1.0,
:mod:`speechsent.audio.io`) at any rate and resampled to the model's rate (the feature extractor's
``sampling_rate``). ``transformers`` is imported only when a model is loaded, so that command lines stay fast
to start.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from speechsent.utils.errors import one_line

__all__ = [
    "ASR_ENCODER",
    "HF_PREFIX",
    "HFDumpEncoder",
    "HFEncoder",
    "HFEncoderError",
    "HFEncoderInfo",
    "encoder_tag",
    "hf_model_id",
    "is_hf_encoder",
    "parse_layers",
    "split_revision",
]

log = logging.getLogger(__name__)

HF_PREFIX = "hf:"
#: The recipe's name of the ESPnet ASR's own encoder (stage 3's model; the paper's front-end).
ASR_ENCODER = "asr"
# Model types whose padded, masked batches give each utterance its single-utterance states: one convolution
# before the Transformer reads the (zeroed) padded frames. data2vec-audio stacks several positional
# convolutions, whose padded frames turn non-zero between them and reach the last valid frames.
_MASK_INVARIANT = frozenset({"wav2vec2", "hubert", "wavlm"})
# Whisper's encoder reads 30-s windows of 10-ms log-mel frames and halves their rate (a stride-2 convolution)
_WHISPER_SAMPLES_PER_FRAME = 2


class HFEncoderError(RuntimeError):
    """A model that cannot be loaded or used as a speech encoder (the message names it)."""


def is_hf_encoder(encoder: str) -> bool:
    """Whether ``encoder`` names a Hugging Face model (``hf:<hub id or local dir>``)."""
    return encoder.startswith(HF_PREFIX)


def hf_model_id(encoder: str) -> str:
    """The hub id or local dir of ``hf:<id>`` (an error for anything else, or an empty id)."""
    if not is_hf_encoder(encoder) or not encoder[len(HF_PREFIX) :].strip():
        raise HFEncoderError(f"not a Hugging Face encoder: {encoder!r} (expected hf:<hub id or local dir>)")
    return encoder[len(HF_PREFIX) :].strip()


def split_revision(encoder: str) -> tuple[str, str | None]:
    """A recipe's encoder spec ``hf:<hub id>@<revision>`` → (``hf:<hub id>``, revision); any other spec →
    (itself, None). A hub id holds no ``@``, so the last one starts the revision (a local dir whose name holds
    ``@`` cannot be given this way: link it under another name)."""
    if is_hf_encoder(encoder) and "@" in encoder:
        name, revision = encoder.rsplit("@", 1)
        if not revision or not name[len(HF_PREFIX) :]:
            raise HFEncoderError(f"{encoder!r}: expected hf:<hub id>@<revision>")
        return name, revision
    return encoder, None


def encoder_tag(encoder: str) -> str:
    """How a recipe names an encoder's dump dir (``dump/encoder_<tag>``) and E2E systems
    (``e2e_<tag>_blstm_...``): ``""`` for :data:`ASR_ENCODER` (``dump/encoder``, ``e2e_blstm_...``, as the
    paper's systems), ``hf_<name>`` for ``hf:<hub id or dir>[@revision]``, ``<name>`` the id's or dir's last
    path part with characters other than ``A-Z a-z 0-9 _ . + -`` as ``_`` (``hf:microsoft/wavlm-base-plus``
    → ``hf_wavlm-base-plus``). The template's ``encoder_tag`` (egs/TEMPLATE/sentiment.sh) names them alike."""
    if encoder == ASR_ENCODER:
        return ""
    name = hf_model_id(split_revision(encoder)[0]).rstrip("/")
    name = name.rsplit("/", 1)[-1]
    return "hf_" + re.sub(r"[^A-Za-z0-9_.+-]", "_", name)


def parse_layers(spec: str | Sequence[int], num_layers: int) -> list[int]:
    """The hidden-state indices that ``spec`` names, for a model with ``num_layers`` Transformer layers
    (``num_layers + 1`` hidden states): ``all``, ``last``, or indices (``0 4 8 12``; negative ones count
    from the last, ``-1`` = ``num_layers``). Sorted, without duplicates."""
    if isinstance(spec, str):
        words = spec.replace(",", " ").split()
        if words == ["all"]:
            return list(range(num_layers + 1))
        if words == ["last"]:
            return [num_layers]
        try:
            indices = [int(w) for w in words]
        except ValueError:
            raise HFEncoderError(f"layers {spec!r}: expected 'all', 'last' or hidden-state indices") from None
    else:
        indices = [int(i) for i in spec]
    if not indices:
        raise HFEncoderError("no layers chosen")
    out = set()
    for i in indices:
        j = i + num_layers + 1 if i < 0 else i
        if not 0 <= j <= num_layers:
            raise HFEncoderError(
                f"layer {i} out of range: the model has hidden states 0..{num_layers} ({num_layers} layers)"
            )
        out.add(j)
    return sorted(out)


@dataclass(frozen=True)
class HFEncoderInfo:
    """What a dump records about the encoder (``info.json``) and an export needs to load it again."""

    name_or_path: str
    revision: str | None
    model_type: str  # the config's model_type: wav2vec2, hubert, wavlm, data2vec-audio, whisper, ...
    model_class: str
    sampling_rate: int
    num_layers: int  # Transformer layers; hidden states are 0..num_layers
    hidden_size: int
    samples_per_frame: int  # input samples (at sampling_rate) per output frame
    batched: bool  # padded batches (attention mask or fixed-length input) or one utterance at a time
    min_samples: int  # the shortest input (at sampling_rate) that gives one output frame

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class HFEncoder:
    """A frozen Hugging Face speech encoder: :meth:`encode` a list of utterances to their layers' states."""

    def __init__(
        self,
        name_or_path: str,
        revision: str | None = None,
        device: str = "cpu",
        local_files_only: bool | None = None,
        amp: str | None = None,
    ) -> None:
        import torch
        from transformers import AutoConfig, AutoFeatureExtractor, AutoModel

        self.torch = torch
        self.device = device
        self.amp = amp  # fp16 / bf16: the forward pass autocast on CUDA
        kwargs: dict[str, Any] = {"revision": revision}
        if local_files_only is not None:
            kwargs["local_files_only"] = local_files_only
        try:
            config = AutoConfig.from_pretrained(name_or_path, **kwargs)
            extractor = AutoFeatureExtractor.from_pretrained(name_or_path, **kwargs)
            model = AutoModel.from_pretrained(name_or_path, **kwargs)
        except (OSError, ValueError, KeyError) as error:
            where = f"{name_or_path} (revision {revision})" if revision else name_or_path
            raise HFEncoderError(
                f"{where}: cannot load a speech encoder with transformers' AutoModel / AutoFeatureExtractor: "
                f"{one_line(error)} (a hub id needs the network the first time; HF_HUB_OFFLINE=1 reads the "
                "cache only)"
            ) from None
        self.whisper = config.model_type == "whisper"
        if self.whisper:
            model = model.get_encoder()
        elif not hasattr(model, "_get_feat_extract_output_lengths"):
            raise HFEncoderError(
                f"{name_or_path}: {type(model).__name__} is not a waveform speech encoder (wav2vec2, HuBERT, "
                "WavLM, data2vec-audio) nor Whisper"
            )
        for p in model.parameters():
            p.requires_grad_(False)
        self.model = model.to(device).eval()
        self.extractor = extractor
        self.rate = int(extractor.sampling_rate)
        num_layers = int(getattr(config, "encoder_layers", None) or config.num_hidden_layers)
        hidden = int(getattr(config, "d_model", None) or config.hidden_size)
        if self.whisper:
            self.window = int(extractor.n_samples)
            per_frame = int(extractor.hop_length) * _WHISPER_SAMPLES_PER_FRAME
            batched = True
        else:
            self.window = 0
            per_frame = int(np.prod(config.conv_stride))
            batched = config.model_type in _MASK_INVARIANT and bool(
                getattr(extractor, "return_attention_mask", False)
            )
        self.info = HFEncoderInfo(
            name_or_path=str(name_or_path),
            revision=revision,
            model_type=str(config.model_type),
            model_class=type(model).__name__,
            sampling_rate=self.rate,
            num_layers=num_layers,
            hidden_size=hidden,
            samples_per_frame=per_frame,
            batched=batched,
            min_samples=self._min_samples(),
        )

    # ------------------------------------------------------------------------------------------------------

    def _min_samples(self) -> int:
        if self.whisper:
            return 1
        lengths = self.model._get_feat_extract_output_lengths
        lo, hi = 1, 1 << 16  # the receptive field of the convolutional encoder (400 samples for wav2vec2)
        while lo < hi:
            mid = (lo + hi) // 2
            if int(lengths(self.torch.tensor([mid]))[0]) >= 1:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def num_frames(self, num_samples: int) -> int:
        """Output frames of an utterance of ``num_samples`` samples at the model's rate."""
        if num_samples < self.info.min_samples:
            return 0
        if self.whisper:
            return math.ceil(num_samples / self.info.samples_per_frame)
        return int(self.model._get_feat_extract_output_lengths(self.torch.tensor([num_samples]))[0])

    def prepare(self, samples: np.ndarray, rate: int) -> np.ndarray:
        """``samples`` (full scale ±1.0) at ``rate`` -> float32 at the model's rate."""
        from speechsent.audio.io import resample

        x = np.asarray(samples, dtype=np.float32)
        return resample(x, rate, self.rate) if rate != self.rate else x

    def encode(self, waves: Sequence[np.ndarray], layers: Sequence[int], rate: int) -> list[np.ndarray]:
        """Each utterance's hidden states of ``layers``: ``(frames, len(layers), hidden_size)`` float32.

        ``waves``: samples (full scale ±1.0) at ``rate``. An utterance shorter than ``info.min_samples``
        (after resampling) is an error (:meth:`num_frames` is 0 for it: callers skip it first).
        """
        prepared = [self.prepare(w, rate) for w in waves]
        for i, x in enumerate(prepared):
            if x.shape[0] < self.info.min_samples:
                raise HFEncoderError(
                    f"utterance {i} of the batch: {x.shape[0]} samples at {self.rate} Hz, fewer than the "
                    f"{self.info.min_samples} the encoder needs for one frame"
                )
        if self.whisper:
            return self._encode_whisper(prepared, layers)
        if not self.info.batched:
            return [self._encode_waveforms([x], layers)[0] for x in prepared]
        return self._encode_waveforms(prepared, layers)

    def _autocast(self) -> Any:
        import contextlib

        if not self.amp or not self.device.startswith("cuda"):
            return contextlib.nullcontext()
        dtype = self.torch.bfloat16 if self.amp == "bf16" else self.torch.float16
        return self.torch.autocast(device_type="cuda", dtype=dtype)

    def _stack(self, out: Any, layers: Sequence[int]) -> Any:
        """The states of ``layers`` stacked on a new axis 2 (``num_layers``: the ``last_hidden_state``)."""
        states = [*out.hidden_states[: self.info.num_layers], out.last_hidden_state]
        return self.torch.stack([states[i] for i in layers], dim=2)

    def _encode_waveforms(self, xs: list[np.ndarray], layers: Sequence[int]) -> list[np.ndarray]:
        torch = self.torch
        kwargs: dict[str, Any] = {"sampling_rate": self.rate, "return_tensors": "pt", "padding": True}
        if self.info.batched:
            kwargs["return_attention_mask"] = True
        inputs = self.extractor(xs, **kwargs)
        feed = {"input_values": inputs["input_values"].to(self.device)}
        if self.info.batched:
            feed["attention_mask"] = inputs["attention_mask"].to(self.device)
        with torch.inference_mode(), self._autocast():
            out = self.model(**feed, output_hidden_states=True)
        states = self._stack(out, layers)  # (batch, frames, layers, hidden)
        return [states[b, : self.num_frames(x.shape[0])].float().cpu().numpy() for b, x in enumerate(xs)]

    def _encode_whisper(self, xs: list[np.ndarray], layers: Sequence[int]) -> list[np.ndarray]:
        """Every 30-s window of every utterance in one batch (each padded to 30 s on its own)."""
        torch = self.torch
        chunks = [
            (i, x[start : start + self.window])
            for i, x in enumerate(xs)
            for start in range(0, x.shape[0], self.window)
        ]
        inputs = self.extractor([c for _, c in chunks], sampling_rate=self.rate, return_tensors="pt")
        with torch.inference_mode(), self._autocast():
            out = self.model(inputs["input_features"].to(self.device), output_hidden_states=True)
        states = self._stack(out, layers)
        pieces: list[list[np.ndarray]] = [[] for _ in xs]
        for row, (i, chunk) in enumerate(chunks):
            pieces[i].append(states[row, : self.num_frames(chunk.shape[0])].float().cpu().numpy())
        return [np.concatenate(p, axis=0) for p in pieces]


class HFDumpEncoder:
    """:class:`HFEncoder` with the interface stage 5's jobs use (:class:`speechsent.asr.batch_encode.
    BatchEncoder`'s): each utterance's states of ``layers`` as one ``(frames, len(layers) * hidden_size)``
    matrix (layer-major: columns ``k * hidden_size`` to ``(k + 1) * hidden_size`` are ``layers[k]``), samples
    read at the model's rate."""

    def __init__(self, encoder: HFEncoder, layers: Sequence[int]) -> None:
        self.encoder = encoder
        self.layers = list(layers)
        self.rate = encoder.info.sampling_rate
        self.batch_invariant_batching = encoder.info.batched
        self.reason = (
            "" if encoder.info.batched else f"{encoder.info.model_type} without an exact attention mask"
        )

    def min_samples(self) -> int:
        return self.encoder.info.min_samples

    def num_feature_frames(self, num_samples: int) -> int:
        """Output frames (what a batch's size is counted in)."""
        return self.encoder.num_frames(num_samples)

    def _flat(self, states: np.ndarray) -> np.ndarray:
        return states.reshape(states.shape[0], -1)

    def encode_single(self, wav: np.ndarray) -> np.ndarray:
        from speechsent.asr.batch_encode import TooShortError

        if len(wav) < self.min_samples():
            raise TooShortError(f"{len(wav)} samples < {self.min_samples()}, the fewest giving one frame")
        return self._flat(self.encoder.encode([wav], self.layers, self.rate)[0])

    def encode_batch(self, wavs: Sequence[np.ndarray]) -> list[np.ndarray]:
        return [self._flat(s) for s in self.encoder.encode(list(wavs), self.layers, self.rate)]

    def self_check(self, wavs: Sequence[np.ndarray], tol: float) -> Any:
        """Batched against one at a time on ``wavs`` (an :class:`~speechsent.asr.batch_encode.
        InvarianceReport`)."""
        from speechsent.asr.batch_encode import compare_batched

        return compare_batched(self, wavs, tol)

    def model_info(self) -> dict[str, Any]:
        """What ``info.json``'s ``model`` says (the keys the ESPnet encoder's have that apply, and ``hf``)."""
        info = self.encoder.info
        return {
            "encoder": f"{HF_PREFIX}{info.name_or_path}",
            "hf": info.to_dict(),
            "input_layer": info.model_class,
            "layers": self.layers,
            "layer_dim": info.hidden_size,
            "output_dim": len(self.layers) * info.hidden_size,
            "frontend": {"class": "transformers feature extractor", "fs": info.sampling_rate},
            "subsampling": info.samples_per_frame,  # input samples per frame (ESPnet's: feature frames)
            "min_samples": info.min_samples,
        }
