"""Parallel jobs over a data dir, the Kaldi way: ``${cmd} JOB=1:N <logdir>/<name>.JOB.log <command>``.

**The one job-running pattern of every parallel stage** (format_wav in stage 3, asr_decode in stage 4,
dump_encoder in stage 5, pseudo_label in stage 7, dump_fbank in stage 9). A stage makes one call to a
speechsent command with ``--nj N --cmd "${cmd}"``; that command, in Python:

1. splits the data dir (:func:`split_utts`: ``utils/split_scp.pl --utt2spk``, all utterances of a speaker,
   i.e. of a conversation side, in one job, so each recording is read by one job only; balanced by
   ``utt2dur`` when there is one; the feature dumps keep their own duration-balanced split of whole
   recordings, :func:`speechsent.asr.dump_jobs.split_utterances`, computed by each job);
2. writes what the jobs are to do to a JSON spec file, so that the command line stays short and the same
   for every job runner (``run.pl``, ``slurm.pl``, ``queue.pl``, or ESPnet's);
3. runs the job array through :func:`run_jobs`, each job a worker ``python -m speechsent.bin.<tool>
   --worker SPEC --job JOB`` (:func:`python_module`) that skips its pieces already done
   (:func:`pending_job_pieces`, or the dump's ``done.J``) — so a rerun of the stage redoes only what failed;
   the exact ``${cmd} ... JOB=1:N ...`` line is logged, so the recipe log shows it as a shell array would;
4. checks and merges the jobs' outputs, applying the stage's failure rule
   (:mod:`speechsent.asr.failures`) once, for the whole set.

Why this pattern rather than shell job arrays plus a second ``--merge`` call in the recipe: the project's
rule is "one stage = one call", and the split, the skip of finished work, the failure rule and the merge
then live in one place, in Python, tested once, instead of being spelled out again in each stage of
``egs/TEMPLATE/sentiment.sh``. The commands keep ``--job``/``--merge`` (the dumps) or ``--worker`` for
a user who runs a job by hand.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from speechsent.kaldi.table import read_table, split_line

__all__ = [
    "JobError",
    "add_worker_arguments",
    "check_worker_arguments",
    "job_runner",
    "pending_job_pieces",
    "python_module",
    "read_keys",
    "run_jobs",
    "split_utts",
    "toolkit_utils",
]

logger = logging.getLogger(__name__)

_RUNNERS = ("run.pl", "slurm.pl", "queue.pl", "ssh.pl")


class JobError(RuntimeError):
    """One or more jobs failed; the message names their logs."""


def toolkit_utils() -> Path:
    """The toolkit's ``utils/`` (the repository's; ``$MAIN_ROOT/utils`` in a recipe)."""
    main_root = os.environ.get("MAIN_ROOT")
    if main_root and (Path(main_root) / "utils" / "run.pl").is_file():
        return Path(main_root) / "utils"
    return Path(__file__).resolve().parents[1] / "utils"


def job_runner(cmd: str | Sequence[str]) -> list[str]:
    """``"run.pl --mem 4G"`` → argv; ``run.pl``/``slurm.pl``/``queue.pl`` not on PATH: the toolkit's."""
    argv = shlex.split(cmd) if isinstance(cmd, str) else list(cmd)
    if not argv:
        raise ValueError("empty job runner command (e.g. run.pl)")
    if "/" not in argv[0] and shutil.which(argv[0]) is None and argv[0] in _RUNNERS:
        argv[0] = str(toolkit_utils() / argv[0])
    return argv


def split_utts(data_dir: str | Path, nj: int, out_dir: str | Path, name: str = "keys") -> list[Path]:
    """Write ``<out_dir>/<name>.{1..n}`` (utterance ids) for ``n = min(nj, #speakers)`` jobs; return them.

    ``utils/split_scp.pl --utt2spk`` keeps each speaker (conversation side) in one piece, ``--utt2dur``
    balances the pieces by duration when the data dir has ``utt2dur``.
    """
    data = Path(data_dir)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    utt2spk = read_table(data / "utt2spk")
    if not utt2spk:
        raise ValueError(f"{data}/utt2spk is empty")
    n = max(1, min(nj, len(set(utt2spk.values()))))
    pieces = [out / f"{name}.{i}" for i in range(1, n + 1)]
    argv = ["perl", str(toolkit_utils() / "split_scp.pl"), f"--utt2spk={data / 'utt2spk'}"]
    if (data / "utt2dur").is_file():
        argv.append(f"--utt2dur={data / 'utt2dur'}")
    argv += [str(data / "utt2spk"), *map(str, pieces)]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise JobError(f"split_scp.pl failed on {data}: {proc.stderr.strip()}")
    for piece in pieces:  # keys only
        # lines end at "\n" only and fields at blanks (space, tab), as Kaldi reads a table: str.splitlines()
        # and str.split() would also cut at U+0085, U+2028, \x1c... which a key or a text may hold
        lines = piece.read_text(encoding="utf-8", errors="surrogateescape").split("\n")
        keys = [kv[0] for kv in map(split_line, lines) if kv is not None]
        piece.write_text(
            "".join(key + "\n" for key in keys),
            encoding="utf-8",
            errors="surrogateescape",
        )
    return pieces


def read_keys(path: str | Path) -> list[str]:
    """The keys of a file of one key a line (``keys.JOB``), lines ending at ``\\n`` only."""
    text = Path(path).read_text(encoding="utf-8", errors="surrogateescape")
    return [kv[0] for kv in map(split_line, text.split("\n")) if kv is not None]


def pending_job_pieces(
    sets: Sequence[dict[str, Any]],
    job: int,
    done_marker: str,
    *,
    unfinished: Callable[[Path], bool] | None = None,
) -> Iterator[tuple[dict[str, Any], Path, list[str]]]:
    """A worker's share of every set of its spec: ``(set, <logdir>/output.JOB, utterance ids)`` for each set
    with a piece ``<logdir>/keys.JOB`` (a set may have fewer pieces than there are jobs) whose output dir has
    no ``done_marker`` file yet (those are logged as done and skipped). ``set`` needs ``name`` and ``logdir``.
    ``unfinished(out)``: a piece with its ``done_marker`` that is to be done again all the same (e.g. one
    whose audio could not all be read).
    """
    for s in sets:
        keys_file = Path(s["logdir"]) / f"keys.{job}"
        if not keys_file.is_file():
            continue
        out = Path(s["logdir"]) / f"output.{job}"
        if (out / done_marker).is_file() and (unfinished is None or not unfinished(out)):
            logger.info("%s: job %d already done", s["name"], job)
            continue
        out.mkdir(parents=True, exist_ok=True)
        yield s, out, read_keys(keys_file)


def run_jobs(
    cmd: str | Sequence[str],
    nj: int,
    log: str | Path,
    argv: Sequence[str],
    *,
    gpu: int | None = None,
    env: dict[str, str] | None = None,
) -> None:
    """Run ``<cmd> [--gpu G] JOB=1:nj <log> <argv>`` (``JOB`` in ``log`` and ``argv`` is the job number).

    Raises :class:`JobError` naming the logs when a job fails.
    """
    runner = job_runner(cmd)
    full = [*runner, *(["--gpu", str(gpu)] if gpu is not None else []), f"JOB=1:{nj}", str(log), *argv]
    logger.info("running %d job(s): %s", nj, shlex.join(full))
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(full, check=False, env=env)
    if proc.returncode != 0:
        raise JobError(f"job(s) failed ({shlex.join(runner)} exit code {proc.returncode}): see {log}")


def python_module(module: str) -> list[str]:
    """The argv prefix that runs a speechsent module with this interpreter in a job."""
    return [sys.executable, "-m", module]


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    """``--worker SPEC --job JOB``: what a command's jobs run (:func:`run_jobs`), in their own group."""
    g = parser.add_argument_group("worker (run by the jobs)")
    g.add_argument("--worker", default=None, metavar="SPEC", help="run one job of the spec file")
    g.add_argument("--job", type=int, default=None, help="the job number (with --worker)")


def check_worker_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace, *required: str) -> None:
    """Usage errors: ``--worker`` without ``--job``; without ``--worker``, a missing ``required`` option."""
    if args.worker and args.job is None:
        parser.error("--worker needs --job")
    if not args.worker and not all(getattr(args, name) for name in required):
        parser.error(f"{' and '.join('--' + name for name in required)} are required")
