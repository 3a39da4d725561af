#!/usr/bin/env python3
"""Benchmark: exported models on new sentences spoken by several eSpeak NG voices, with and without the
demo corpus's sentiment prosody.

Stage 11 of ``egs/mini_sentiment`` checks each exported model on its held-out check set (``conf/check_set``),
spoken with neutral prosody by voices the corpus does not use. This script asks what the corpus's own voices
and prosody change: every sentence of ``--text_file`` (with its label in ``--utt2sentiment``) is spoken by
each of ``--voices`` through ``speechsent-synth-utterance``'s rendering (the corpus's telephone channel), once
with the corpus's prosody for its label (Positive faster and higher, Negative slower and lower) and once with
neutral prosody, and classified by each ``--model_dir``; the count of right labels is printed per model and
prosody, with each voice's answers.

Usage (from ``egs/mini_sentiment`` after ``./run.sh``)::

    python ../../bench/bench_check_voices.py --model_dir exp/export/e2e exp/export/two_step

Measured (2026-11-25, the demo of a fresh clone: exported ``e2e_blstm_all_s0`` and ``text_baseline_asr_s0``;
the default 8 voices x the 2 check sentences of that release = 16 decisions: "this is awful i really hate it
and it makes me so angry", "oh i love it this is wonderful and i am so happy")::

    exp/export/e2e       prosody 10/16  (every Negative right, 2/8 Positives)   neutral prosody  7/16
    exp/export/two_step  prosody 16/16                                          neutral prosody 12/16

(the pseudo-label pre-trained ``e2e_blstm_pseudo_vader_gt_all_s0``, exported with ``speechsent-export
--system_dir``: 12/16 and 8/16). The demo's E2E classifiers lean on the corpus's prosody cue at least as
much as on the words; the 2-step system reads the words only.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DEFAULT_VOICES = [
    "en-us",
    "en-us+m3",
    "en-gb-x-rp+m1",
    "en-us+f1",
    "en+m4",
    "en-gb-scotland+m7",
    "en-us+f4",
    "en-029+m2",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model_dir", nargs="+", required=True, help="exported model dirs")
    parser.add_argument("--text_file", default="conf/check_set/text", help="'<utt-id> <words>' lines")
    parser.add_argument("--utt2sentiment", default="conf/check_set/utt2sentiment", help="their labels")
    parser.add_argument("--voices", nargs="+", default=DEFAULT_VOICES, help="eSpeak NG voices")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from speechsent import SentimentModel
    from speechsent.kaldi.data_dir import parse_sentiment_label
    from speechsent.kaldi.table import read_typed_table
    from speechsent.synth.utterance import Rendering, read_sentences, synth_utterances

    sentences = read_sentences(Path(args.text_file))
    labels = read_typed_table(args.utt2sentiment, parse_sentiment_label)
    missing = [utt for utt, _ in sentences if utt not in labels]
    if missing:
        parser.error(f"{args.utt2sentiment}: no label for {' '.join(missing)}")
    with tempfile.TemporaryDirectory(prefix="bench_check_voices.") as tmp:
        wavs: dict[tuple[str, bool], list[str]] = {}
        for voice in args.voices:
            for prosody in (True, False):
                out = Path(tmp) / f"{voice}_{int(prosody)}"
                synth_utterances(
                    sentences, out, Rendering(voice=voice, telephone=True), labels if prosody else {}
                )
                wavs[(voice, prosody)] = [str(out / f"{utt}.wav") for utt, _ in sentences]
        for model_dir in args.model_dir:
            model = SentimentModel.from_pretrained(model_dir)
            for prosody in (True, False):
                right, answers = 0, []
                for voice in args.voices:
                    got = [p.label for p in model.predict(wavs[(voice, prosody)])]
                    right += sum(g == labels[utt] for g, (utt, _) in zip(got, sentences, strict=True))
                    answers.append(f"{voice}:{'/'.join(g[:3] for g in got)}")
                total = len(args.voices) * len(sentences)
                kind = "prosody" if prosody else "neutral prosody"
                print(f"{model_dir}  {kind}: {right}/{total}  {' '.join(answers)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
