"""An ESPnet2 ASR model loaded for decoding (:class:`Decoder`): ``beam`` through ESPnet's ``Speech2Text``, or
``ctc_greedy`` (batch-invariant encoding, best-path CTC, :func:`ctc_greedy_ids`). Used by stage 4's jobs
(:mod:`speechsent.asr.decode`) and by the 2-step exported model (:mod:`speechsent.inference.model_kinds`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

__all__ = ["Decoder", "ctc_greedy_ids"]


def ctc_greedy_ids(best: Sequence[int], exclude: Sequence[int]) -> list[int]:
    """Best-path CTC: collapse repeated ids, then drop ``exclude`` (blank, sos/eos)."""
    out: list[int] = []
    prev = None
    skip = set(exclude)
    for i in best:
        if i != prev and i not in skip:
            out.append(i)
        prev = i
    return out


class Decoder:
    """An ASR model loaded for decoding in one of the two modes (a decoding job's, or an exported model's).

    ``spec``: ``{"config", "model_file", "bpemodel", "fs", "options": DecodeOptions fields}`` (the config with
    its paths resolved, as :func:`speechsent.asr.model_dir.write_resolved_config` writes it).
    """

    def __init__(self, spec: dict[str, Any]):
        import torch

        from speechsent.asr.decode import DecodeOptions

        opts = DecodeOptions(**spec["options"])
        self.opts = opts
        torch.set_num_threads(max(1, opts.num_threads))
        self.fs = int(spec["fs"])
        config, model_file = spec["config"], spec["model_file"]
        if opts.mode == "beam":
            from espnet2.bin.asr_inference import Speech2Text

            self.s2t = Speech2Text(
                asr_train_config=config,
                asr_model_file=model_file,
                lm_train_config=opts.lm_train_config,
                lm_file=opts.lm_file,
                device=opts.device,
                beam_size=opts.beam_size,
                ctc_weight=opts.ctc_weight,
                lm_weight=opts.lm_weight,
                penalty=opts.penalty,
                maxlenratio=opts.maxlenratio,
                minlenratio=opts.minlenratio,
                nbest=1,
            )
        else:
            from espnet2.tasks.asr import ASRTask

            from speechsent.asr.batch_encode import BatchEncoder

            model, train_args = ASRTask.build_model_from_file(config, model_file, opts.device)
            self.model = model.eval()
            # batch-invariant encoding: each utterance's output equals its single-utterance encoding, so
            # the text does not depend on the batching or the job split
            self.encoder = BatchEncoder(self.model, opts.device)
            self.min_samples = self.encoder.min_samples() or 1
            self.token_list = list(model.token_list)
            self.exclude = [model.blank_id, model.sos, model.eos]
            self.sp = None
            if spec.get("bpemodel"):
                import sentencepiece

                self.sp = sentencepiece.SentencePieceProcessor(model_file=spec["bpemodel"])
            self.token_type = getattr(train_args, "token_type", None)

    def _detokenize(self, ids: list[int]) -> str:
        tokens = [self.token_list[i] for i in ids]
        if self.sp is not None:
            return self.sp.decode_pieces(tokens)
        if self.token_type == "char":
            return "".join(tokens).replace("<space>", " ")
        return " ".join(tokens)

    def decode(self, batch: list[tuple[str, Any]]) -> Iterator[tuple[str, str | None, str | None]]:
        """``(utt, text, error)`` for each ``(utt, samples)``; error None on success."""
        import torch

        if self.opts.mode == "beam":
            for utt, samples in batch:
                try:
                    with torch.inference_mode():
                        results = self.s2t(samples)
                    text = results[0][0] if results else ""
                    yield utt, " ".join((text or "").split()), None
                except Exception as error:
                    yield utt, None, f"{type(error).__name__}: {error}"
            return
        short = [(u, x) for u, x in batch if len(x) < self.min_samples]
        for utt, x in short:
            yield utt, None, f"too short for the encoder ({len(x)} samples < {self.min_samples})"
        batch = [(u, x) for u, x in batch if len(x) >= self.min_samples]
        if not batch:
            return
        try:
            with torch.inference_mode():
                encoded = self.encoder.encode_batch([x for _, x in batch])
                best = [
                    self.model.ctc.argmax(torch.from_numpy(enc)[None].to(self.opts.device))[0].tolist()
                    for enc in encoded
                ]
        except Exception as error:
            if len(batch) == 1:
                yield batch[0][0], None, f"{type(error).__name__}: {error}"
                return
            for item in batch:  # find the culprit(s): one at a time
                yield from self.decode([item])
            return
        for (utt, _), ids in zip(batch, best, strict=True):
            text = self._detokenize(ctc_greedy_ids(ids, self.exclude))
            yield utt, " ".join(text.split()), None
