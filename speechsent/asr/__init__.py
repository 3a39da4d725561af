"""The ESPnet joint CTC-attention ASR of the recipes (stages 2–4) and what later stages need of it.

- :mod:`speechsent.asr.tokenizer`: the sentencepiece BPE model and ESPnet token list (stage 2);
- :mod:`speechsent.asr.format_audio`: per-utterance audio files as espnet2's data loaders read them (stage 3);
- :mod:`speechsent.asr.model_dir`: which files make an ESPnet2 ASR model (trained here or from the model zoo),
  its config with absolute paths, and the ``exp/asr_model`` pointer that stages 4 and later read;
- :mod:`speechsent.asr.decode`: the decoding of data dirs (stage 4), its jobs' work in
  :mod:`speechsent.asr.decode_job`, with :mod:`speechsent.asr.decoder`'s joint CTC/attention beam search and
  batched CTC greedy decoding; ``speechsent-asr-decode``'s options in :mod:`speechsent.asr.decode_cli`;
- ``speechsent-format-wav``'s options in :mod:`speechsent.asr.format_cli`;
- :mod:`speechsent.asr.wer`: word error rates;
- :mod:`speechsent.asr.encoder_dump`: the frozen encoder's features (stage 5), with the job layout, merge and
  options it shares with the fbank dump (:mod:`speechsent.asr.dump_jobs`, :mod:`speechsent.asr.dump_cli`);
  ``speechsent-dump-encoder``'s options in :mod:`speechsent.asr.encoder_dump_cli`.

Their ``${cmd} JOB=1:N`` jobs run through :mod:`speechsent.jobs`.

Importing any of these modules is cheap; ESPnet and torch are imported by the calls that need them.
"""
