"""Stage 4: ASR decoding of Kaldi data dirs with an ESPnet2 model → ``data/<set>_asr``, WER per set.

Two modes:

- ``beam``: ESPnet's joint CTC/attention beam search, ``espnet2.bin.asr_inference.Speech2Text`` (one
  utterance at a time; ``beam_size``, ``ctc_weight``, ``penalty``, ``maxlenratio``/``minlenratio``, an
  optional LM with ``lm_weight``), what ``asr.sh`` stage 12 runs;
- ``ctc_greedy``: the fast mode for large sets (2,000 h of Fisher): utterances sorted by length within chunks
  of ``chunk_seconds`` of audio, batched up to ``batch_seconds`` of (padded) audio, through the model's
  frontend, normalisation and encoder and the CTC head; per frame the best token, repeats collapsed,
  ``<blank>`` and ``<sos/eos>`` dropped, detokenized by the BPE model (as ``Speech2Text`` detokenizes).

Audio is read from the data dir itself (``wav.scp`` + ``segments`` through
:class:`speechsent.audio.io.UtteranceReader`, resampled to the model's ``fs``): no dump on disk.
:func:`decode_sets` splits each data dir into ``nj`` pieces by speaker (conversation side) and runs ``nj``
jobs through ``cmd`` (``run.pl``, ``slurm.pl`` ...); job ``j`` (:mod:`speechsent.asr.decode_job`) decodes
piece ``j`` of every set, so that each job loads ESPnet and the model once. Per set, under
``<decode_dir>/<set>/``::

    text       the hypotheses, one line per utterance of the data dir (``<utt>`` alone when empty)
    failed     utterances that could not be read (reason ``unreadable: ...``) or decoded, with the reason
    score.txt  Kaldi's ``%WER`` line against the data dir's ``text`` (when it has one)
    logdir/    keys.JOB (the split), output.JOB/{text,failed} (a job's results)

and ``data/<set>_asr/``: the data dir with ``text`` replaced by the hypotheses (same utterances, same other
files). **No utterance is lost**: one that fails to decode or whose audio cannot be read is listed in
``failed``, counted in the log and in ``score.txt``, and gets an empty text (Kaldi ``text`` allows it), as
does an utterance the model recognises as nothing; so ``data/<set>_asr`` keeps the utterances of
``data/<set>`` (the later stages that read audio list an unreadable utterance under their own rule).

**Unreadable audio** (:mod:`speechsent.asr.failures`, as in stages 3 and 5): a set with no utterance decoded,
or with more than ``max_failed_fraction`` (default 0.1) of its utterances unreadable, is an error
(:class:`DecodeError`) naming ``<decode_dir>/<set>/failed`` and the first reasons; its ``text``,
``score.txt`` and ``data/<set>_asr/text`` are then removed, so that no later stage takes the set as decoded.
Below that fraction the count is logged and the utterances are listed in ``failed``.

Resumable: a job appends its results after every chunk (``output.JOB/text.partial``) and a restarted job skips
what is there; a finished job's ``output.JOB/text`` is kept. A job's piece with unreadable utterances is not
finished: a rerun (after the audio was fixed; a changed ``wav.scp`` starts the set afresh) reads and decodes
those utterances again, and only those (the piece's other results are kept), and ``failed`` then lists
only what still fails. ``<decode_dir>/decode.json`` records the model and the options: other values start
afresh.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from speechsent.asr.failures import DEFAULT_MAX_FAILED_FRACTION, failure_message
from speechsent.asr.model_dir import ModelFiles, resolve_model_dir, write_resolved_config
from speechsent.asr.wer import ErrorCounts, format_score, score_texts
from speechsent.jobs import python_module, run_jobs, split_utts
from speechsent.kaldi.table import read_table, write_table
from speechsent.utils.digest import bytes_digest, file_digest
from speechsent.utils.fileio import atomic_write_text, read_json_or_none, write_json

__all__ = [
    "DECODE_MODES",
    "UNREADABLE",
    "DecodeError",
    "DecodeOptions",
    "SetResult",
    "decode_sets",
    "merge_set",
    "write_asr_data_dir",
]

logger = logging.getLogger(__name__)

DECODE_MODES = ("beam", "ctc_greedy")

#: The reason of a ``failed`` entry whose audio could not be read (retried by a rerun, counted against
#: ``max_failed_fraction``); other reasons are the model's (not retried).
UNREADABLE = "unreadable: "


class DecodeError(RuntimeError):
    """A set that cannot be taken as decoded: no utterance decoded, or too many utterances unreadable."""


def is_unreadable(reason: str) -> bool:
    return reason.startswith(UNREADABLE)


@dataclass
class DecodeOptions:
    """How to decode (``beam`` options as ``Speech2Text``'s; ``ctc_greedy`` batching)."""

    mode: str = "beam"
    beam_size: int = 10
    ctc_weight: float = 0.3
    penalty: float = 0.0
    maxlenratio: float = 0.0
    minlenratio: float = 0.0
    lm_train_config: str | None = None
    lm_file: str | None = None
    lm_weight: float = 0.0
    batch_seconds: float = 200.0  # ctc_greedy: padded audio per batch
    chunk_seconds: float = 1800.0  # audio read, sorted and decoded at a time (and the resume granularity)
    num_threads: int = 1  # torch threads per job
    device: str = "cpu"

    def stamp(self) -> dict[str, Any]:
        """The options that change the output (not the batching, threads or device)."""
        d = asdict(self)
        for k in ("num_threads", "device", "chunk_seconds", "batch_seconds"):  # batch-invariant decoding
            d.pop(k)
        if self.mode == "ctc_greedy":
            for k in (
                "beam_size",
                "ctc_weight",
                "penalty",
                "maxlenratio",
                "minlenratio",
                "lm_train_config",
                "lm_file",
                "lm_weight",
            ):
                d.pop(k)
        return d


@dataclass
class SetResult:
    name: str
    decode_dir: Path
    asr_dir: Path | None
    num_utts: int = 0
    num_failed: int = 0
    num_unreadable: int = 0  # of num_failed
    num_empty: int = 0
    score: ErrorCounts | None = None
    failed_examples: list[tuple[str, str]] = field(default_factory=list)


# -- the whole stage ---------------------------------------------------------------------------------------


def _file_id(path: Path) -> dict[str, Any]:
    st = path.stat()
    return {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def merge_set(data_dir: Path, set_dir: Path, njobs: int) -> tuple[dict[str, str], dict[str, str]]:
    """The hypotheses and failures of the jobs of one set; every utterance of ``data_dir`` gets a text."""
    texts: dict[str, str] = {}
    failed: dict[str, str] = {}
    for job in range(1, njobs + 1):
        out = set_dir / "logdir" / f"output.{job}"
        texts.update(read_table(out / "text"))
        failed.update(read_table(out / "failed"))
    utts = read_table(data_dir / "utt2spk")
    for utt in utts:
        if utt not in texts and utt not in failed:
            failed[utt] = "no output from the decoding jobs"
    hyp = {utt: texts.get(utt, "") for utt in utts}
    return hyp, {u: failed[u] for u in utts if u in failed}


def write_asr_data_dir(data_dir: str | Path, asr_dir: str | Path, hyp: dict[str, str]) -> bool:
    """``asr_dir`` = ``data_dir`` with ``text`` = ``hyp``; returns whether anything changed.

    When ``asr_dir`` already holds this text and the source's files, it is left alone (files written there
    by later stages, e.g. ``utt2pseudo``, stay); otherwise it is rewritten as a copy (Kaldi's
    ``copy_data_dir.sh``: files the source lacks move to ``<asr_dir>/.backup``).
    """
    from speechsent.kaldi.copy import copy as copy_data_dir

    src, dst = Path(data_dir), Path(asr_dir)
    new_text = "".join(f"{u} {t}\n" if t else f"{u}\n" for u, t in hyp.items())
    src_files = [p for p in sorted(src.iterdir()) if p.is_file() and p.name != "text"]
    old_text = (
        (dst / "text").read_text(encoding="utf-8", errors="surrogateescape")
        if (dst / "text").is_file()
        else None
    )
    if old_text == new_text and all(
        (dst / p.name).is_file() and (dst / p.name).read_bytes() == p.read_bytes() for p in src_files
    ):
        return False
    copy_data_dir(src, dst)
    write_table(dst / "text", hyp)
    return True


def _options_stamp(files: ModelFiles, opts: DecodeOptions) -> dict[str, Any]:
    return {
        "model_file": _file_id(files.model_file),
        "config_sha256": file_digest(files.config_file),
        "options": opts.stamp(),
    }


def decode_sets(
    model_dir: str | Path,
    data_dirs: Sequence[str | Path],
    decode_dir: str | Path,
    *,
    options: DecodeOptions | None = None,
    nj: int = 1,
    cmd: str = "run.pl",
    ngpu: int = 0,
    model_file: str | Path | None = None,
    asr_suffix: str | None = "_asr",
    max_failed_fraction: float | None = DEFAULT_MAX_FAILED_FRACTION,
) -> list[SetResult]:
    """Decode ``data_dirs`` with the model at ``model_dir`` into ``decode_dir`` (see the module doc).

    ``asr_suffix``: write ``<data_dir><suffix>`` (``data/<set>_asr``) beside each data dir; None: don't.
    Raises :class:`DecodeError` (after every set was merged; the good ones are written) naming the failed
    lists of the sets with no utterance decoded or more than ``max_failed_fraction`` of their utterances
    unreadable (None: no limit).
    """
    opts = options or DecodeOptions()
    if opts.mode not in DECODE_MODES:
        raise ValueError(f"decode mode must be one of {', '.join(DECODE_MODES)}, got {opts.mode!r}")
    if ngpu > 0 and opts.device == "cpu":
        opts.device = "cuda"
    files = resolve_model_dir(model_dir, model_file)
    out = Path(decode_dir)
    names = [Path(d).name for d in data_dirs]
    if len(set(names)) != len(names):
        raise ValueError(f"data dirs with the same name: {' '.join(map(str, data_dirs))}")
    _prepare_decode_dir(out, _options_stamp(files, opts), names, data_dirs, nj)
    spec_file, sets, njobs = _write_spec(out, files, opts, names, data_dirs, nj)
    logger.info(
        "decoding %s (%s) with %s (%d Hz), %d job(s)",
        ", ".join(names),
        opts.mode,
        files.model_file,
        files.fs,
        njobs,
    )
    run_jobs(
        cmd,
        njobs,
        out / "logdir" / "decode.JOB.log",
        [*python_module("speechsent.bin.asr_decode"), "--worker", str(spec_file), "--job", "JOB"],
        gpu=ngpu,
    )
    results = []
    errors = []
    for s, data_dir in zip(sets, data_dirs, strict=True):
        result = _merge_decoded_set(
            Path(data_dir), out / s["name"], s["njobs"], asr_suffix, opts, files, max_failed_fraction
        )
        if isinstance(result, str):
            errors.append(result)
        else:
            results.append(result)
    if errors:
        raise DecodeError("\n".join(errors))
    return results


def _prepare_decode_dir(
    out: Path, stamp: dict[str, Any], names: list[str], data_dirs: Sequence[str | Path], nj: int
) -> None:
    """Start afresh what another model, other options or another data dir (or split) decoded; write the
    stamps (``decode.json``, ``<set>/logdir/source.json``) of this decoding."""
    stamp_file = out / "decode.json"
    old = read_json_or_none(stamp_file)
    if old is not None and old != stamp:
        logger.info("%s was decoded with another model or options: decoding afresh", out)
    for name, data_dir in zip(names, data_dirs, strict=True):
        set_logdir = out / name / "logdir"
        source = {
            "data_dir": str(Path(data_dir).resolve()),
            "utt2spk_sha256": bytes_digest((Path(data_dir) / "utt2spk").read_bytes()),
            "wav_sha256": bytes_digest((Path(data_dir) / "wav.scp").read_bytes()),
            "nj": nj,
        }
        source_file = set_logdir / "source.json"
        if old != stamp or read_json_or_none(source_file) != source:
            shutil.rmtree(set_logdir, ignore_errors=True)
        set_logdir.mkdir(parents=True, exist_ok=True)
        write_json(source_file, source)
    out.mkdir(parents=True, exist_ok=True)
    write_json(stamp_file, stamp)


def _write_spec(
    out: Path,
    files: ModelFiles,
    opts: DecodeOptions,
    names: list[str],
    data_dirs: Sequence[str | Path],
    nj: int,
) -> tuple[Path, list[dict[str, Any]], int]:
    """The jobs' spec file (the split of each set kept when there is one), its sets, the number of jobs."""
    logdir = out / "logdir"
    config = write_resolved_config(files, logdir / "asr_config.yaml")
    sets = []
    njobs = 0
    for name, data_dir in zip(names, data_dirs, strict=True):
        set_logdir = out / name / "logdir"
        pieces = sorted(set_logdir.glob("keys.*"), key=lambda p: int(p.suffix[1:]))
        if not pieces:  # a new split (the old one, if any, went with its outputs)
            pieces = split_utts(data_dir, nj, set_logdir, "keys")
        sets.append(
            {"name": name, "data_dir": str(data_dir), "logdir": str(set_logdir), "njobs": len(pieces)}
        )
        njobs = max(njobs, len(pieces))
    spec = {
        "config": str(config.resolve()),
        "model_file": str(files.model_file),
        "bpemodel": str(files.bpemodel) if files.bpemodel else None,
        "fs": files.fs,
        "options": asdict(opts),
        "sets": sets,
    }
    spec_file = logdir / "spec.json"
    write_json(spec_file, spec)
    return spec_file, sets, njobs


def _merge_decoded_set(
    data: Path,
    set_dir: Path,
    njobs: int,
    asr_suffix: str | None,
    opts: DecodeOptions,
    files: ModelFiles,
    max_failed_fraction: float | None,
) -> SetResult | str:
    """Merge one set's jobs: its ``text``, ``failed``, ``score.txt`` and ``data/<set>_asr``; or, when the set
    cannot be taken as decoded, why (with those files removed)."""
    asr_dir = data.parent / f"{data.name}{asr_suffix}" if asr_suffix else None
    hyp, failed = merge_set(data, set_dir, njobs)
    write_table(set_dir / "failed", failed)
    unreadable = {u: r for u, r in failed.items() if is_unreadable(r)}
    message = _failure_message(data, set_dir, hyp, failed, unreadable, max_failed_fraction)
    if message is not None:
        # nothing a later stage could take for the set's decoding
        for stale in (set_dir / "text", set_dir / "score.txt", asr_dir / "text" if asr_dir else None):
            if stale is not None:
                stale.unlink(missing_ok=True)
        return message
    write_table(set_dir / "text", hyp)
    result = SetResult(
        set_dir.name,
        set_dir,
        None,
        num_utts=len(hyp),
        num_failed=len(failed),
        num_unreadable=len(unreadable),
        num_empty=sum(1 for t in hyp.values() if not t),
    )
    result.failed_examples = list(failed.items())[:3]
    if unreadable:
        logger.warning(
            "%s: %d of %d utterance(s) could not be read (their text in %s is empty): listed in %s",
            set_dir.name,
            len(unreadable),
            len(hyp),
            asr_dir or set_dir,
            set_dir / "failed",
        )
    score_lines = ""
    if (data / "text").is_file():
        result.score = score_texts(read_table(data / "text"), hyp)
        score_lines = format_score(result.score, f"{set_dir.name}: {opts.mode}, {files.model_file}")
    score_lines += (
        f"Failed to decode: {len(failed)} ({len(unreadable)} unreadable; listed in {set_dir / 'failed'}; "
        "their text is empty)\n"
    )
    atomic_write_text(set_dir / "score.txt", score_lines)
    if asr_dir is not None:
        write_asr_data_dir(data, asr_dir, hyp)
        result.asr_dir = asr_dir
    return result


def _failure_message(
    data: Path,
    set_dir: Path,
    hyp: dict[str, str],
    failed: dict[str, str],
    unreadable: dict[str, str],
    max_failed_fraction: float | None,
) -> str | None:
    """Why the set's decoding cannot be used (:func:`speechsent.asr.failures.failure_message`), or None."""
    not_decoded = len(failed) - len(unreadable)
    message = failure_message(
        f"decoding {data}",
        total=len(hyp),
        failed={u: r[len(UNREADABLE) :] for u, r in unreadable.items()},
        usable=len(hyp) - len(failed),
        failed_list=set_dir / "failed",
        max_failed_fraction=max_failed_fraction,
        empty_detail=f"{not_decoded} failed to decode" if not_decoded else "",
    )
    if message is not None and not unreadable and failed:  # the model failed them all: show why
        first = next(iter(failed.items()))
        message += f" (listed in {set_dir / 'failed'}):\n  {first[0]}: {' '.join(first[1].split())}"
    return message
