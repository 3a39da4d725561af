"""Kaldi data-directory tools: validate, fix, copy, combine, subset, overlap.

The Python side of ``utils/validate_data_dir.sh``, ``utils/fix_data_dir.sh``, ``utils/copy_data_dir.sh``,
``utils/combine_data.sh`` and ``utils/subset_data_dir.sh`` (which accept Kaldi's options and call this); also
usable directly::

    speechsent-data-dir validate [--no_feats] [--no_text] [--no_wav] [--no_spk_sort] [--non_print]
                                 [--no_audio_headers] DIR
    speechsent-data-dir fix [--utt_extra_files "a b"] [--spk_extra_files "c"] DIR
    speechsent-data-dir copy [--utt_prefix P] [--utt_suffix S] [--spk_prefix P] [--spk_suffix S]
                             [--validate_opts "--no-wav"] SRC DST
    speechsent-data-dir combine [--extra_files "a b"] [--skip_fix true|false] DST SRC [SRC ...]
    speechsent-data-dir subset (--even N | --first N | --last N | --shortest N | --random N | --per_spk N
                               | --speakers N | --hours H | --utt_list FILE | --spk_list FILE) [--seed S]
                               SRC DST
    speechsent-data-dir overlap --train "data/fisher [data/...]" [--out FILE.json] [--no_audio_headers]
                                DIR [DIR ...]

``overlap`` prints, per DIR, the hours of its utterances' audio that the training sets' utterances also
cover (same recording id; overlapping segments once), e.g. ``swbd_test: 0.00 h of 4.70 h (0.0%) heard in
ASR training (data/fisher)``, and merges them into ``FILE.json`` (``asr_train_sets``, ``asr_train_hours``,
``sets``: per DIR name ``hours``, ``overlap_hours``, ``overlap_fraction``, ``num_utts``,
``num_overlapping_utts`` (≥ 10 ms heard)); a file of other training sets is replaced, with a warning.

Stdlib only: runs in a bare ``python3`` (the ``utils/`` scripts set ``PYTHONPATH`` to the repository root).
Exit status: 0 on success, 1 on a failed check or an error, 2 on a usage error. The commands and their
options: :mod:`speechsent.kaldi.commands`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from speechsent.kaldi import commands

__all__ = ["get_parser", "main"]


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="speechsent-data-dir",
        description="Kaldi data-directory tools (validate, fix, copy, combine, subset, overlap), with "
        "utt2sentiment/utt2pseudo awareness.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    commands.add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return commands.run_command(get_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
