"""The ESPnet joint CTC-attention ASR of the recipes (stages 2–4) and what later stages need of it.

- :mod:`speechsent.asr.tokenizer`: the sentencepiece BPE model and ESPnet token list (stage 2);
- :mod:`speechsent.asr.format_audio`: per-utterance audio files as espnet2's data loaders read them (stage 3);
- :mod:`speechsent.asr.model_dir`: which files make an ESPnet2 ASR model (trained here or from the model zoo),
  its config with absolute paths, and the ``exp/asr_model`` pointer that stages 4 and later read;
- :mod:`speechsent.asr.decode`: joint CTC/attention beam search and batched CTC greedy decoding (stage 4);
- :mod:`speechsent.asr.wer`: word error rates;
- :mod:`speechsent.asr.jobs`: ``${cmd} JOB=1:N`` jobs over splits of a data dir.

Importing any of these modules is cheap; ESPnet and torch are imported by the calls that need them.
"""
