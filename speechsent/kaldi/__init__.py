"""Kaldi data directories and feature archives (the layout of Kaldi's ``egs/*/s5/data``; lhotse's anchors).

Importing the package imports nothing: take what you need from its modules. All but ``ark``/``compress``
(numpy) and the header readers that :mod:`~speechsent.kaldi.audio_headers` loads on demand are stdlib only:
the ``utils/*.sh`` data-dir tools run them in a bare ``python3``.

Tables and data directories:

* :mod:`~speechsent.kaldi.table`: the table file format (UTF-8 with ``surrogateescape``, ``LC_ALL=C`` order),
  reading and atomic writing, :class:`~speechsent.kaldi.table.KaldiDataError` (``file:line:``);
* :mod:`~speechsent.kaldi.data_dir`: the files of a data directory, their typed values (``Segment``,
  ``WavEntry``, labels ...) and :class:`~speechsent.kaldi.data_dir.DataDir`.

The five operations of Kaldi's ``utils/`` scripts (behind ``speechsent.bin.data_dir``):

* :mod:`~speechsent.kaldi.validate` (``validate_data_dir.sh``), :mod:`~speechsent.kaldi.fix`
  (``fix_data_dir.sh``), :mod:`~speechsent.kaldi.copy` (``copy_data_dir.sh``),
  :mod:`~speechsent.kaldi.combine` (``combine_data.sh``), :mod:`~speechsent.kaldi.subset`
  (``subset_data_dir.sh``); :mod:`~speechsent.kaldi.commands` runs them as those scripts do (messages,
  exit status);
* what they share: :mod:`~speechsent.kaldi.formats` (per-file formats, the bulk check),
  :mod:`~speechsent.kaldi.checked` (a table loaded with validate's per-line checks),
  :mod:`~speechsent.kaldi.lengths` (recording lengths, segments past them),
  :mod:`~speechsent.kaldi.audio_headers` (a ``wav.scp`` entry's audio header, without running a pipe),
  :mod:`~speechsent.kaldi.shared` (writing only what changes, ``spk2utt``, backups);
* :mod:`~speechsent.kaldi.overlap`: how much of a directory's audio lies in an ASR's training audio
  (``speechsent-data-dir overlap``).

Feature archives:

* :mod:`~speechsent.kaldi.ark`: Kaldi ``ark``/``scp`` matrix writing and reading (:class:`ArkWriter`);
* :mod:`~speechsent.kaldi.compress`: Kaldi's ``CompressedMatrix`` codec (``compress=speech_feature``).
"""
