"""speechsent-asr-decode: stage 4, ASR decoding of Kaldi data dirs with an ESPnet2 model.

::

    speechsent-asr-decode --model_dir exp/asr_model --decode_mode ctc_greedy \\
        --data_dir data/swbd_test --data_dir data/fisher --decode_dir exp/asr_x/decode_ctc_greedy \\
        --nj 8 --cmd "run.pl"

writes, per data dir ``data/<set>``: ``<decode_dir>/<set>/{text,failed,score.txt}`` and ``data/<set>_asr``
(the data dir with ``text`` = the ASR output, same utterances; an utterance that fails, or whose audio cannot
be read, gets an empty text and is listed in ``failed``). ``--decode_mode beam`` is ESPnet's joint
CTC/attention beam search (``Speech2Text``: ``--beam_size``, ``--ctc_weight``, ``--penalty``,
``--maxlenratio``, ``--minlenratio``, ``--lm_train_config``/``--lm_file``/``--lm_weight``); ``ctc_greedy`` is
batched best-path CTC (fast, for Fisher). ``--model_dir``: an ESPnet2 ASR model dir (``exp/asr_*``, an
unpacked model-zoo/Hugging Face model), its ``config.yaml``, or the ``exp/asr_model`` pointer stage 3 writes
(see ``speechsent.asr.model_dir``). Audio is read from the data dirs and resampled to the model's sampling
rate. ``--ngpu 1`` decodes on a GPU (the jobs are submitted with ``--gpu 1``). A rerun skips finished jobs; a
job that could not read some audio is not finished: its rerun (after the audio was fixed) reads those
utterances again.

A set with no utterance decoded, or with more than ``--max_failed_fraction`` (default 0.1) of its utterances
unreadable, is an error naming ``<decode_dir>/<set>/failed`` and the first reasons; ``data/<set>_asr/text``
and ``<decode_dir>/<set>/text`` are then not written (removed if an earlier run wrote them).

Options may also come from ``--config FILE`` (YAML, e.g. a decode_asr.yaml with beam_size, ctc_weight ...).
Exit status: 0 on success, 1 on an error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from speechsent import cli
from speechsent.asr.decode_cli import add_decode_arguments
from speechsent.jobs import check_worker_arguments

__all__ = ["get_parser", "main"]

PROG = "speechsent-asr-decode"


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__)
    add_decode_arguments(parser)
    cli.add_log_level_argument(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    check_worker_arguments(parser, args, "data_dir", "decode_dir")
    cli.setup_logging(args.log_level)
    from speechsent.asr.decode_cli import asr_decode, log_set_results

    log = logging.getLogger(PROG)
    errors = (OSError, ValueError, RuntimeError)
    return cli.run_reporting_errors(lambda: log_set_results(asr_decode(args), log), log, errors)


if __name__ == "__main__":
    sys.exit(main())
