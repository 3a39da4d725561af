"""Acoustic features computed by speechsent itself (the ASR-encoder features come from ``speechsent.asr``).

:mod:`speechsent.features.fbank`: Kaldi-compatible log-mel filterbanks of a data dir, dumped as ark/scp.
"""
