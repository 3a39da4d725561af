"""Batch-invariant frontend + normalisation + encoder of an ESPnet2 ASR model.

``ESPnetASRModel.encode()`` on a zero-padded batch does not reproduce the encoding of each utterance alone
(espnet 202511). The causes, and what :class:`BatchEncoder` does instead:

1. **STFT centre padding.** ``torch.stft(center=True)`` reflect-pads the *padded batch row*: the last
   ``n_fft // 2 / hop`` frames of every utterance shorter than the batch's longest see zeros (and the
   reflection of zeros) instead of the reflection of its own last samples. Fix: each utterance is
   reflect-padded on its own (``n_fft // 2`` samples each side, as ``torch.stft`` pads it), the rows are
   zero-padded to a batch and the STFT runs with ``center=False`` (same frames, same frame counts).
   Frontends other than ``DefaultFrontend`` run per utterance.
2. **Length arithmetic of the subsampling masks.** ``Conv2dSubsampling`` computes the output mask by
   slicing the input mask (``mask[:, :, :-2:2][:, :, :-2:2]``), which counts about ``T / 4`` valid frames
   for an utterance of ``T`` frames in a longer batch, but the convolution yields ``((T - 1) // 2 - 1) // 2``
   frames that depend only on the utterance (the slicing is right only for the longest row). So 1-2 extra
   frames per utterance are marked valid; they are computed from the padding.
3. **The padding leaks into valid frames** through those extra frames: every valid frame attends to them in
   every self-attention layer (values change everywhere, most near the end); and Conformer / E-Branchformer
   depthwise convolutions (``padding = (k - 1) // 2``, no masking in ESPnet) read the padded positions'
   hidden states instead of the zeros a single utterance is padded with.

Fix for 2 and 3: a forward hook on ``encoder.embed`` replaces its output mask by the exact one (the
single-utterance output length, from the convolutions' own arithmetic), and forward pre-hooks on the time
convolutions of the encoder layers (``Conv1d`` with a kernel longer than 1) zero the padded positions of
their input. The embedding convolutions have no padding, so a valid output frame never sees a padded input
frame. The batch's features are exactly the single-utterance features (1), so with exact masks every valid
output frame equals single-utterance ``model.encode()`` up to float rounding (about 1e-6 in float32).

Encoders or frontends this reasoning does not cover (RNN, streaming, unknown subsampling layers,
pre-encoders) are encoded one utterance at a time (``batch_invariant_batching`` is False and
:attr:`BatchEncoder.reason` says why). :meth:`BatchEncoder.self_check` compares a batch with
single-utterance ``encode()``; the dumper turns batching off (loudly) if it ever fails.

Heavy imports (torch, espnet) happen when an object is built, not at module import.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["BatchEncoder", "InvarianceReport", "TooShortError", "compare_batched", "time_convs_of"]

log = logging.getLogger(__name__)


class TooShortError(ValueError):
    """An utterance too short for the frontend or the encoder's subsampling (``reason`` says which)."""


@dataclass
class InvarianceReport:
    """Batched vs single-utterance encoding of the same utterances."""

    num_utts: int
    length_mismatches: int
    max_abs_diff: float
    ok: bool


def _conv_time_params(module: Any) -> tuple[int, int, int, int] | None:
    """(kernel, stride, padding, dilation) along time of a Conv1d (B, C, T) or Conv2d (B, C, T, F)."""
    import torch

    if isinstance(module, (torch.nn.Conv1d, torch.nn.Conv2d)):
        pad = module.padding
        if isinstance(pad, str):
            return None
        return module.kernel_size[0], module.stride[0], pad[0], module.dilation[0]
    return None


def time_convs_of(encoder: Any) -> list[Any]:
    """The ``Conv1d`` modules of ``encoder`` outside its embedding that mix time steps (kernel > 1)."""
    import torch

    embed = getattr(encoder, "embed", None)
    inside_embed = {id(m) for m in embed.modules()} if embed is not None else set()
    return [
        m
        for m in encoder.modules()
        if isinstance(m, torch.nn.Conv1d) and id(m) not in inside_embed and m.kernel_size[0] > 1
    ]


class BatchEncoder:
    """Frontend + normalisation + encoder of ``model`` (an ``ESPnetASRModel`` in eval mode) on ``device``.

    :meth:`encode_single` is ``model.encode(speech[None], lengths)``; :meth:`encode_batch` encodes several
    utterances at once with the same result (see the module docstring). ``amp`` is None, ``"fp16"`` or
    ``"bf16"`` (autocast of the encoder on CUDA, as ``asr_inference`` would; the frontend follows the model's
    own ``autocast_frontend``).
    """

    def __init__(self, model: Any, device: str = "cpu", amp: str | None = None):
        import torch

        self.model = model
        self.device = torch.device(device)
        self.amp = amp
        if amp not in (None, "fp16", "bf16"):
            raise ValueError(f"amp must be None, 'fp16' or 'bf16', not {amp!r}")
        if amp is not None and self.device.type != "cuda":
            raise ValueError("--amp needs a CUDA device (--ngpu 1)")
        self.encoder = model.encoder
        self.frontend = model.frontend
        self._stft = self._exact_batched_stft()
        self.reason = ""
        self.batch_invariant_batching = self._check_batchable()
        #: (kernel, stride, padding, dilation) along time of the embedding's convolutions, in order
        self.embed_convs = self._embed_conv_params()
        self._time_convs = time_convs_of(self.encoder) if self.encoder is not None else []
        self._lengths: Any = None  # valid encoder frames of the batch being encoded (hooks read it)

    # ---------------------------------------------------------------------------------------------------
    # What can be batched exactly

    def _exact_batched_stft(self) -> Any:
        """The frontend's ``Stft`` when the batched STFT can be made exact (DefaultFrontend, centred)."""
        from espnet2.asr.frontend.default import DefaultFrontend

        fe = self.frontend
        if type(fe) is not DefaultFrontend or fe.stft is None:
            return None
        stft = fe.stft
        if not stft.center or (getattr(fe, "frontend", None) is not None and _has_params(fe.frontend)):
            return None
        return stft

    def _check_batchable(self) -> bool:
        from espnet.nets.pytorch_backend.transformer import subsampling as sub

        model, enc = self.model, self.encoder
        if enc is None:
            self.reason = "the model has no encoder"
            return False
        if getattr(model, "preencoder", None) is not None:
            self.reason = "pre-encoders are not covered"
            return False
        if getattr(enc, "interctc_use_conditioning", False) or getattr(enc, "ctc_trim", False):
            self.reason = "self-conditioned / CTC-trimmed encoders are not covered"
            return False
        name = type(enc).__name__
        if name not in (
            "TransformerEncoder",
            "ConformerEncoder",
            "EBranchformerEncoder",
            "BranchformerEncoder",
        ):
            self.reason = f"encoder {name} is not covered (Transformer, Conformer, (E-)Branchformer are)"
            return False
        embed = getattr(enc, "embed", None)
        conv_subsampling = (
            sub.Conv1dSubsampling1,
            sub.Conv1dSubsampling2,
            sub.Conv1dSubsampling3,
            sub.Conv2dSubsampling,
            sub.Conv2dSubsampling1,
            sub.Conv2dSubsampling2,
            sub.Conv2dSubsampling6,
            sub.Conv2dSubsampling8,
        )
        if embed is None:
            return True
        if isinstance(embed, conv_subsampling):
            for m in embed.modules():
                params = _conv_time_params(m)
                if params is not None and params[2] != 0:
                    self.reason = f"{type(embed).__name__} pads in time"
                    return False
            return True
        # Frame-wise embeddings (input_layer linear / None): Linear, norms, activations, positional encodings.
        import torch

        framewise = (
            torch.nn.Linear,
            torch.nn.LayerNorm,
            torch.nn.Dropout,
            torch.nn.ReLU,
            torch.nn.Sequential,
            torch.nn.Identity,
        )
        for m in embed.modules():
            if not isinstance(m, framewise) and "PositionalEncoding" not in type(m).__name__:
                self.reason = f"embedding layer {type(m).__name__} is not covered"
                return False
        return True

    def _embed_conv_params(self) -> list[tuple[int, int, int, int]]:
        embed = getattr(self.encoder, "embed", None) if self.encoder is not None else None
        if embed is None:
            return []
        return [p for p in map(_conv_time_params, embed.modules()) if p is not None]

    # ---------------------------------------------------------------------------------------------------
    # Length arithmetic (single utterance)

    def num_feature_frames(self, num_samples: int) -> int | None:
        """Frontend frames of an utterance of ``num_samples`` (None when the frontend is not a plain STFT)."""
        from espnet2.asr.frontend.default import DefaultFrontend

        fe = self.frontend
        if fe is None:
            return num_samples
        if type(fe) is not DefaultFrontend or fe.stft is None:
            return None
        stft = fe.stft
        n = num_samples + (2 * (stft.n_fft // 2) if stft.center else 0)
        return (n - stft.n_fft) // stft.hop_length + 1

    def num_encoder_frames(self, num_frames: int) -> int:
        """Encoder output frames of an utterance of ``num_frames`` feature frames, encoded alone."""
        t = num_frames
        for kernel, stride, padding, dilation in self.embed_convs:
            t = (t + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
        return t

    def min_frames(self) -> int:
        """The fewest feature frames the encoder accepts (ESPnet's ``check_short_utt`` and ≥ 1 output)."""
        from espnet.nets.pytorch_backend.transformer.subsampling import check_short_utt

        embed = getattr(self.encoder, "embed", None)
        t = 1
        while self.num_encoder_frames(t) < 1 or (embed is not None and check_short_utt(embed, t)[0]):
            t += 1
        return t

    def min_samples(self) -> int | None:
        """The fewest samples an utterance needs (None when the frontend's arithmetic is unknown)."""
        if self.num_feature_frames(1) is None:
            return None
        need = self.min_frames()
        n = 1
        # STFT reflect padding needs more than n_fft // 2 samples.
        if self._stft is not None:
            n = self._stft.n_fft // 2 + 1
        while self.num_feature_frames(n) < need:  # type: ignore[operator]
            n += 1
        return n

    # ---------------------------------------------------------------------------------------------------
    # Encoding

    def _autocast(self) -> Any:
        import torch

        if self.amp is None:
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.amp == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def _frontend_autocast(self) -> Any:
        import torch

        if self.amp is None or getattr(self.model, "autocast_frontend", False):
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, enabled=False)

    def encode_single(self, wav: np.ndarray | Any) -> np.ndarray:
        """``model.encode(speech[None], lengths)[0]`` as float32 numpy (the reference of batch invariance).

        Raises :class:`TooShortError` for an utterance the subsampling rejects or that yields no frame.
        """
        import torch
        from espnet.nets.pytorch_backend.transformer.subsampling import TooShortUttError

        speech = torch.as_tensor(np.asarray(wav, dtype=np.float32)).to(self.device)
        with self._autocast():
            try:
                out, lens = self.model.encode(
                    speech[None], speech.new_tensor([speech.shape[0]], dtype=torch.long)
                )
            except TooShortUttError as error:
                raise TooShortError(f"too short for the encoder's subsampling: {error}") from None
            except RuntimeError as error:
                if "pad" in str(error).lower() and speech.shape[0] < 4096:
                    raise TooShortError(
                        f"too short for the frontend ({speech.shape[0]} samples): {error}"
                    ) from None
                raise
        if isinstance(out, tuple):
            out = out[0]
        n = int(lens[0])
        if n < 1:
            raise TooShortError("the encoder yields no frame")
        return out[0, :n].float().cpu().numpy()

    def _features(self, wavs: Sequence[np.ndarray]) -> tuple[Any, Any]:
        """Single-utterance-exact normalised features of a batch: (B, T, D) zero-padded, lengths (B,)."""
        import torch
        from espnet2.layers.global_mvn import GlobalMVN
        from espnet2.layers.utterance_mvn import UtteranceMVN

        model = self.model
        normalize = model.normalize
        batch_norm = normalize is None or type(normalize) in (GlobalMVN, UtteranceMVN)
        with self._frontend_autocast():
            if self._stft is not None and batch_norm:
                pad = self._stft.n_fft // 2
                rows = [np.pad(np.asarray(w, dtype=np.float32), (pad, pad), mode="reflect") for w in wavs]
                lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
                batch = np.zeros((len(rows), int(lengths.max())), dtype=np.float32)
                for i, r in enumerate(rows):
                    batch[i, : len(r)] = r
                speech = torch.from_numpy(batch).to(self.device, non_blocking=True)
                lengths = lengths.to(self.device)
                self._stft.center = False
                try:
                    feats, flens = model._extract_feats(speech, lengths)
                finally:
                    self._stft.center = True
                if normalize is not None:
                    feats, flens = normalize(feats, flens)
                return feats, flens
            out = []
            for w in wavs:
                speech = torch.from_numpy(np.asarray(w, dtype=np.float32)).to(self.device)[None]
                f, fl = model._extract_feats(speech, speech.new_tensor([speech.shape[1]], dtype=torch.long))
                if normalize is not None:
                    f, fl = normalize(f, fl)
                out.append(f[0, : int(fl[0])])
            flens = torch.tensor([o.shape[0] for o in out], dtype=torch.long, device=self.device)
            feats = torch.nn.utils.rnn.pad_sequence(out, batch_first=True)
            return feats, flens

    @contextlib.contextmanager
    def _exact_masks(self) -> Iterator[None]:
        """Hooks: the embedding's output mask ← exact lengths; padded inputs of time convolutions ← 0."""
        handles = []
        embed = getattr(self.encoder, "embed", None)

        def embed_hook(_module: Any, _inputs: Any, output: Any) -> Any:
            if not isinstance(output, tuple) or len(output) != 2:
                return output
            x, mask = output
            if mask is None:
                return output
            steps = mask.shape[-1]
            mask = (self._positions(steps) < self._lengths[:, None])[:, None, :]
            return x, mask

        def conv_hook(_module: Any, inputs: tuple[Any, ...]) -> tuple[Any, ...]:
            x = inputs[0]
            steps = x.shape[-1]
            pad = (self._positions(steps) >= self._lengths[:, None])[:, None, :]
            return (x.masked_fill(pad, 0.0), *inputs[1:])

        try:
            if embed is not None and self.embed_convs:
                handles.append(embed.register_forward_hook(embed_hook))
            for conv in self._time_convs:
                handles.append(conv.register_forward_pre_hook(conv_hook))
            yield
        finally:
            for h in handles:
                h.remove()

    def _positions(self, steps: int) -> Any:
        import torch

        return torch.arange(steps, device=self._lengths.device)

    def encode_batch(self, wavs: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Encode several utterances at once; item ``i`` equals ``encode_single(wavs[i])``.

        Every utterance must be long enough (:meth:`min_samples`); with ``batch_invariant_batching`` False
        the utterances are encoded one by one.
        """
        import torch

        if len(wavs) == 1 or not self.batch_invariant_batching:
            return [self.encode_single(w) for w in wavs]
        feats, flens = self._features(wavs)
        out_lens = [self.num_encoder_frames(int(n)) for n in flens.tolist()]
        if min(out_lens) < 1:
            raise TooShortError(
                "an utterance of the batch is too short for the encoder (check min_samples first)"
            )
        self._lengths = torch.tensor(out_lens, dtype=torch.long, device=feats.device)
        enc = self.encoder
        try:
            with self._autocast(), self._exact_masks():
                out, olens, _ = enc(feats, flens)
        finally:
            self._lengths = None
        if isinstance(out, tuple):
            out = out[0]
        if self.model.postencoder is not None:
            raise RuntimeError("post-encoders are encoded one utterance at a time")
        if olens.tolist() != out_lens:
            raise RuntimeError(f"encoder output lengths {olens.tolist()} != single-utterance {out_lens}")
        host = out.float().cpu().numpy()
        return [host[i, :n].copy() for i, n in enumerate(out_lens)]

    def self_check(self, wavs: Sequence[np.ndarray], tol: float) -> InvarianceReport:
        """Encode ``wavs`` as one batch and one by one; compare lengths and values."""
        return compare_batched(self, wavs, tol)


def compare_batched(encoder: Any, wavs: Sequence[np.ndarray], tol: float) -> InvarianceReport:
    """``encoder.encode_batch(wavs)`` against ``encoder.encode_single`` of each, lengths and values (any
    encoder of stage 5's interface: :class:`BatchEncoder`, :class:`~speechsent.asr.hf_encoder.HFDumpEncoder`).
    """
    batched = encoder.encode_batch(wavs)
    mismatches = 0
    worst = 0.0
    for w, b in zip(wavs, batched, strict=True):
        s = encoder.encode_single(w)
        if s.shape != b.shape:
            mismatches += 1
            n = min(len(s), len(b))
            s, b = s[:n], b[:n]
        if len(s):
            worst = max(worst, float(np.abs(s - b).max()))
    return InvarianceReport(len(wavs), mismatches, worst, mismatches == 0 and worst <= tol)


def _has_params(module: Any) -> bool:
    """Whether an ESPnet multichannel ``Frontend`` does anything (WPE or beamformer)."""
    return bool(getattr(module, "use_wpe", False) or getattr(module, "use_beamformer", False))
