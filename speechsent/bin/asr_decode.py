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
from typing import Any

from speechsent import cli
from speechsent.asr.failures import add_max_failed_fraction_argument
from speechsent.cli import none_or_str
from speechsent.jobs import add_worker_arguments, check_worker_arguments

__all__ = ["asr_decode", "get_parser", "main"]

PROG = "speechsent-asr-decode"


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_config_argument(parser)
    parser.add_argument(
        "--model_dir", default="exp/asr_model", help="ESPnet2 ASR model dir, config or pointer"
    )
    parser.add_argument(
        "--model_file",
        type=none_or_str,
        default=None,
        help="the *.pth to use (default: valid.acc.ave*, valid.acc.best, newest)",
    )
    parser.add_argument(
        "--data_dir",
        action="append",
        default=[],
        help="Kaldi data dir to decode (repeat, or a space-separated list)",
    )
    parser.add_argument("--decode_dir", help="where <set>/{text,score.txt,failed} are written")
    parser.add_argument(
        "--asr_suffix",
        type=none_or_str,
        default="_asr",
        help="write data/<set><suffix> with the ASR text (none: don't)",
    )
    parser.add_argument("--decode_mode", default="beam", choices=("beam", "ctc_greedy"))
    parser.add_argument("--nj", type=int, default=1, help="number of parallel jobs")
    parser.add_argument("--cmd", default="run.pl", help="job runner (run.pl, slurm.pl, queue.pl + options)")
    parser.add_argument("--ngpu", type=int, default=0, help="GPUs per job (0: CPU)")
    parser.add_argument("--num_threads", type=int, default=1, help="torch threads per job")
    add_max_failed_fraction_argument(parser)
    g = parser.add_argument_group("beam search (--decode_mode beam)")
    g.add_argument("--beam_size", type=int, default=10)
    g.add_argument("--ctc_weight", type=float, default=0.3)
    g.add_argument("--penalty", type=float, default=0.0, help="insertion penalty (length bonus)")
    g.add_argument("--maxlenratio", type=float, default=0.0, help="0: up to the encoder length")
    g.add_argument("--minlenratio", type=float, default=0.0)
    g.add_argument("--lm_train_config", type=none_or_str, default=None, help="an ESPnet2 LM's config.yaml")
    g.add_argument("--lm_file", type=none_or_str, default=None, help="an ESPnet2 LM's *.pth")
    g.add_argument("--lm_weight", type=float, default=0.0)
    g = parser.add_argument_group("batched CTC greedy (--decode_mode ctc_greedy)")
    g.add_argument("--batch_seconds", type=float, default=200.0, help="padded audio per batch (s)")
    g.add_argument(
        "--chunk_seconds",
        type=float,
        default=1800.0,
        help="audio read and length-sorted at a time, also the resume granularity (s)",
    )
    add_worker_arguments(parser)
    cli.add_log_level_argument(parser)
    return parser


def asr_decode(args: argparse.Namespace):  # -> list[SetResult] | None
    """The work function: a worker job, or the decoding of every ``--data_dir``."""
    from speechsent.asr.decode import DecodeOptions, decode_job, decode_sets

    if args.worker:
        decode_job(args.worker, args.job)
        return None
    options = DecodeOptions(
        mode=args.decode_mode,
        beam_size=args.beam_size,
        ctc_weight=args.ctc_weight,
        penalty=args.penalty,
        maxlenratio=args.maxlenratio,
        minlenratio=args.minlenratio,
        lm_train_config=args.lm_train_config,
        lm_file=args.lm_file,
        lm_weight=args.lm_weight,
        batch_seconds=args.batch_seconds,
        chunk_seconds=args.chunk_seconds,
        num_threads=args.num_threads,
    )
    data_dirs = [d for arg in args.data_dir for d in str(arg).split()]
    return decode_sets(
        args.model_dir,
        data_dirs,
        args.decode_dir,
        options=options,
        nj=args.nj,
        cmd=args.cmd,
        ngpu=args.ngpu,
        model_file=args.model_file,
        asr_suffix=args.asr_suffix,
        max_failed_fraction=args.max_failed_fraction,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    check_worker_arguments(parser, args, "data_dir", "decode_dir")
    cli.setup_logging(args.log_level)
    log = logging.getLogger(PROG)
    return cli.run_reporting_errors(
        lambda: _report(asr_decode(args), log), log, (OSError, ValueError, RuntimeError)
    )


def _report(results: list[Any] | None, log: logging.Logger) -> None:
    for r in results or []:
        wer = (
            f"%WER {r.score.wer:.2f} [ {r.score.errors} / {r.score.ref_words} ]"
            if r.score
            else "no reference"
        )
        log.info(
            "%s: %s, %d utterances (%d empty, %d failed, %d of them unreadable) -> %s%s",
            r.name,
            wer,
            r.num_utts,
            r.num_empty,
            r.num_failed,
            r.num_unreadable,
            r.decode_dir,
            f", {r.asr_dir}" if r.asr_dir else "",
        )
        for utt, reason in r.failed_examples:
            log.warning("%s: failed: %s: %s", r.name, utt, reason)


if __name__ == "__main__":
    sys.exit(main())
