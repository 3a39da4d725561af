"""``speechsent-asr-decode``'s options, the :class:`~speechsent.asr.decode.DecodeOptions` they make, the
decoding they ask for (a worker job, or every set) and its report in the log.

Nothing heavy is imported here (``--help`` stays fast).
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from speechsent.asr.failures import add_max_failed_fraction_argument
from speechsent.cli import add_job_runner_arguments, add_list_argument, none_or_str, split_words
from speechsent.jobs import add_worker_arguments

__all__ = ["add_decode_arguments", "asr_decode", "decode_options", "log_set_results"]


def add_decode_arguments(parser: argparse.ArgumentParser) -> None:
    """Every option but ``--config`` and ``--log_level``: model, sets, jobs, beam search, CTC greedy,
    worker."""
    add = parser.add_argument
    add("--model_dir", default="exp/asr_model", help="ESPnet2 ASR model dir, config or pointer")
    add(
        "--model_file",
        type=none_or_str,
        default=None,
        help="the *.pth to use (default: valid.acc.ave*, valid.acc.best, newest)",
    )
    add_list_argument(parser, "--data_dir", "Kaldi data dir to decode (repeat, or a space-separated list)")
    add("--decode_dir", help="where <set>/{text,score.txt,failed} are written")
    add(
        "--asr_suffix",
        type=none_or_str,
        default="_asr",
        help="write data/<set><suffix> with the ASR text (none: don't)",
    )
    add("--decode_mode", default="beam", choices=("beam", "ctc_greedy"))
    add_job_runner_arguments(parser)
    add("--ngpu", type=int, default=0, help="GPUs per job (0: CPU)")
    add("--num_threads", type=int, default=1, help="torch threads per job")
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


def decode_options(args: argparse.Namespace) -> Any:
    """The :class:`speechsent.asr.decode.DecodeOptions` of parsed options."""
    from speechsent.asr.decode import DecodeOptions

    return DecodeOptions(
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


def asr_decode(args: argparse.Namespace) -> list[Any] | None:
    """A worker job (None), or the decoding of every ``--data_dir`` (their
    :class:`~speechsent.asr.decode.SetResult`)."""
    if args.worker:
        from speechsent.asr.decode_job import decode_job

        decode_job(args.worker, args.job)
        return None
    from speechsent.asr.decode import decode_sets

    return decode_sets(
        args.model_dir,
        split_words(args.data_dir),
        args.decode_dir,
        options=decode_options(args),
        nj=args.nj,
        cmd=args.cmd,
        ngpu=args.ngpu,
        model_file=args.model_file,
        asr_suffix=args.asr_suffix,
        max_failed_fraction=args.max_failed_fraction,
    )


def log_set_results(results: list[Any] | None, log: logging.Logger) -> None:
    """Each set's WER, counts and dirs (info), and its first failed utterances (warnings)."""
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
