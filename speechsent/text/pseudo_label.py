"""Pseudo labels of whole data dirs (stage 7): ``<data_dir>/<labels_name>`` + its probabilities.

::

    from speechsent.text.pseudo_label import LabelOptions, pseudo_label_sets
    pseudo_label_sets("exp/pseudo_labeler_bert", ["data/swbd_train", "data/fisher_asr"], nj=8, cmd="run.pl",
                      labels_name="utt2pseudo_bert", default_copy=True)

The labels go to ``<data_dir>/<labels_name>`` (default ``utt2pseudo``; a labeler's own file:
``utt2pseudo_<tag>``) and the probabilities to ``<data_dir>/utt2pseudo_prob[_<tag>]``
(:func:`speechsent.kaldi.data_dir.pseudo_prob_name`), so that several labelers' labels coexist in a data dir;
``default_copy`` also writes them, byte for byte, as ``utt2pseudo`` + ``utt2pseudo_prob`` (the default
labeler's). For each data dir, the utterances of ``utt2spk`` are split into ``nj`` pieces
(``utils/split_scp.pl``, as the other stages split) in ``<work_dir>/<set>/logdir/keys.J``; job J (``$cmd
JOB=1:nj``, each job runs ``python -m speechsent.bin.pseudo_label --worker SPEC --job J``) labels its piece
chunk by chunk (``chunk_size`` utterances, sorted by token count inside a chunk for batching) and writes each
chunk's result atomically to ``logdir/output.J/chunk.K`` (``<utt> <P(Positive)>``, or ``<utt> -`` for a
skipped empty text), then ``output.J/done``. A rerun (after a crash, a kill, a failed job) skips finished jobs
and finished chunks, so at most one chunk per job is recomputed. When every job is done the chunks are merged
into the labels (``<utt> Negative|Positive``, the argmax; a tie gives Negative) and the probabilities (``<utt>
P(Positive)``, 6 decimals), each file atomic, and ``<work_dir>/<set>/done.json`` records what they were
computed from and what was written: ``labels_file`` (the labels' file name in the data dir), ``labels_sha256``
(its SHA-256), ``labeler`` (the labeler's name), ``prob_file``, ``files`` (SHA-256 of every file written) and
the counts. A rerun with the same labeler, text, options and outputs (unchanged on disk) does nothing.

Utterances whose text is empty (e.g. a failed ASR decode) or missing from ``text`` are skipped (counted,
logged, listed in ``<work_dir>/<set>/skipped``, not in ``utt2pseudo``) unless ``empty_text="label"`` (the
labeler then sees an empty string). ``cmd="local"`` runs the jobs one after another in this process
(no job runner; for small sets and tests).
"""

from __future__ import annotations

import logging
import shutil
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from speechsent.data.labels import PSEUDO_LABELS
from speechsent.jobs import pending_job_pieces, python_module, run_jobs, split_utts
from speechsent.kaldi.data_dir import pseudo_prob_name
from speechsent.kaldi.table import format_number, read_table, read_table_keys, write_table
from speechsent.utils.digest import file_digest
from speechsent.utils.fileio import (
    atomic_write_bytes,
    atomic_write_text,
    read_json,
    read_json_or_none,
    write_json,
)

__all__ = ["DEFAULT_LABELS", "LabelOptions", "SetResult", "label_job", "merge_set", "pseudo_label_sets"]

logger = logging.getLogger(__name__)

EMPTY_MARK = "-"
#: The default labeler's labels (what a system trained "on utt2pseudo" reads).
DEFAULT_LABELS = "utt2pseudo"
_LOCAL = ("local", "none", "")


@dataclass
class LabelOptions:
    """How the jobs run (``empty_text`` and ``chunk_size`` change the output files; the rest does not)."""

    empty_text: str = "skip"  # skip | label
    chunk_size: int = 10000  # utterances per part file (the resume granularity)
    device: str = "cpu"
    amp: str | None = None
    batch_tokens: int | None = None  # None: by device (speechsent.text.labelers.DEFAULT_BATCH_TOKENS)
    max_batch_size: int = 256
    num_threads: int = 0  # torch threads per job (0: torch's default)
    runtime: str = "auto"  # auto | torch | onnx (speechsent.text.labelers.RUNTIMES)
    onnx_cache: str | None = None  # where ONNX exports are kept (the stage's work dir; None: the user cache)

    def stamp(self) -> dict[str, Any]:
        return {"empty_text": self.empty_text, "chunk_size": self.chunk_size, "amp": self.amp,
                "runtime": self.runtime}  # fmt: skip


@dataclass
class SetResult:
    """What one data dir got."""

    name: str
    data_dir: Path
    num_utts: int = 0
    num_labeled: int = 0
    num_skipped: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    up_to_date: bool = False


def _is_model_file(name: str) -> bool:
    """Model, config and tokenizer files (not the stage's own outputs: evaluations, stamps, results)."""
    return (
        name.endswith((".safetensors", ".bin", ".model", ".txt"))
        or name in ("config.json", "labeler.json", "special_tokens_map.json", "added_tokens.json")
        or name.startswith("tokenizer")
    )


def labeler_identity(labeler_dir: str | Path) -> dict[str, Any]:
    """What identifies a labeler: its ``labeler.json`` and the size/mtime of the model files beside it."""
    path = Path(labeler_dir)
    ident: dict[str, Any] = {"spec": str(labeler_dir)}
    spec_file = path / "labeler.json"
    if spec_file.is_file():
        ident["labeler_json"] = spec_file.read_text(encoding="utf-8")
        ident["files"] = {
            p.name: [p.stat().st_size, p.stat().st_mtime_ns]
            for p in sorted(path.iterdir())
            if p.is_file() and not p.name.startswith(".") and _is_model_file(p.name)
        }
    return ident


# -- the jobs ------------------------------------------------------------------------------------------------


def label_job(spec_file: str | Path, job: int) -> None:
    """One job: label piece ``job`` of every set of the spec, chunk by chunk (see the module doc)."""
    spec = read_json(spec_file)
    opts = LabelOptions(**spec["options"])
    labeler = None
    from tqdm import tqdm

    for s, out, utts in pending_job_pieces(spec["sets"], job, "done"):
        # this job's texts only (streamed): a job's memory is its share, whatever the set's size
        texts = read_table_keys(Path(s["data_dir"]) / "text", set(utts))
        chunks = [utts[i : i + opts.chunk_size] for i in range(0, len(utts), opts.chunk_size)]
        todo = [k for k in range(len(chunks)) if not (out / f"chunk.{k + 1}").is_file()]
        logger.info(
            "%s: job %d: %d utterances in %d chunk(s), %d done before",
            s["name"],
            job,
            len(utts),
            len(chunks),
            len(chunks) - len(todo),
        )
        with tqdm(
            total=sum(len(chunks[k]) for k in todo),
            desc=f"{s['name']}.{job}",
            unit="utt",
            mininterval=10,
            file=sys.stderr,
        ) as bar:
            for k in todo:
                chunk = chunks[k]
                label = [u for u in chunk if opts.empty_text == "label" or (u in texts and texts[u].strip())]
                if label and labeler is None:
                    labeler = _load(spec["labeler"], opts)
                probs = (
                    labeler.predict_proba([texts.get(u, "") for u in label]) if label else np.zeros((0, 2))
                )
                values = {u: EMPTY_MARK for u in chunk}
                values.update(
                    {u: format_number(round(float(p), 6)) for u, p in zip(label, probs[:, 1], strict=True)}
                )
                write_table(out / f"chunk.{k + 1}", values)  # atomic: a chunk is there whole or not at all
                bar.update(len(chunk))
        atomic_write_text(out / "done", f"{len(chunks)}\n")


def _load(spec: str, opts: LabelOptions):  # -> Labeler
    import torch

    from speechsent.text.labelers import load_labeler

    if opts.num_threads > 0:
        torch.set_num_threads(opts.num_threads)
    return load_labeler(
        spec,
        device=opts.device,
        amp=opts.amp,
        batch_tokens=opts.batch_tokens,
        max_batch_size=opts.max_batch_size,
        runtime=opts.runtime,
        onnx_cache=opts.onnx_cache,
    )


# -- the whole stage -----------------------------------------------------------------------------------------


def merge_set(data_dir: Path, logdir: Path, njobs: int) -> tuple[dict[str, str], dict[str, float], list[str]]:
    """utt2pseudo, utt2pseudo_prob and the skipped utterances from the chunks of every job of one set."""
    values: dict[str, str] = {}
    for job in range(1, njobs + 1):
        out = logdir / f"output.{job}"
        if not (out / "done").is_file():
            raise RuntimeError(f"{out}: job {job} did not finish (see {logdir}/label.{job}.log)")
        for chunk in sorted(out.glob("chunk.*"), key=lambda p: int(p.suffix[1:])):
            values.update(read_table(chunk))
    utts = read_table(data_dir / "utt2spk")
    missing = [u for u in utts if u not in values]
    if missing:
        raise RuntimeError(f"{logdir}: no pseudo label for {len(missing)} utterance(s), e.g. {missing[:3]}")
    probs = {u: float(v) for u, v in values.items() if v != EMPTY_MARK and u in utts}
    labels = {u: PSEUDO_LABELS[1] if p > 0.5 else PSEUDO_LABELS[0] for u, p in probs.items()}
    skipped = [u for u in utts if values[u] == EMPTY_MARK]
    return labels, probs, skipped


def _set_source(ident: dict[str, Any], opts: LabelOptions, data: Path, nj: int) -> dict[str, Any]:
    """What a set's labels are computed from (a change makes the old parts and outputs stale)."""
    for f in ("text", "utt2spk"):
        if not (data / f).is_file():
            raise FileNotFoundError(f"{data / f} not found")
    return {
        "labeler": ident,
        "options": opts.stamp(),
        "data_dir": str(data.resolve()),
        "text_sha256": file_digest(data / "text"),
        "utt2spk_sha256": file_digest(data / "utt2spk"),
        "nj": nj,
    }


def _output_names(labels_name: str, default_copy: bool) -> list[str]:
    """The files a set gets: labels, probabilities, then (``default_copy``) utt2pseudo + utt2pseudo_prob."""
    names = [labels_name, pseudo_prob_name(labels_name)]
    if default_copy and labels_name != DEFAULT_LABELS:
        names += [DEFAULT_LABELS, pseudo_prob_name(DEFAULT_LABELS)]
    return names


def _up_to_date(result: SetResult, set_dir: Path, source: dict[str, Any], outputs: list[str]) -> bool:
    """True (and ``result`` filled in from ``done.json``) when the set's outputs are those of ``source``."""
    data = result.data_dir
    done = read_json_or_none(set_dir / "done.json")
    if not isinstance(done, dict) or done.get("source") != source or done.get("labels_file") != outputs[0]:
        return False
    files = done.get("files") or {}
    if sorted(files) != sorted(outputs):
        return False
    for name in outputs:  # the outputs as they were written (None: absent)
        digest = file_digest(data / name)
        if digest is None or digest != files[name]:
            return False
    logger.info("%s: %s is up to date (%s)", data, outputs[0], set_dir / "done.json")
    result.up_to_date = True
    result.num_utts, result.num_labeled = done["num_utts"], done["num_labeled"]
    result.num_skipped, result.counts = done["num_skipped"], done["counts"]
    return True


def _prepare_logdir(data: Path, logdir: Path, source: dict[str, Any], nj: int) -> int:
    """``logdir`` with ``source.json`` and the split (kept from an interrupted run of the same source);
    returns the number of jobs."""
    if read_json_or_none(logdir / "source.json") != source:
        shutil.rmtree(logdir, ignore_errors=True)  # another labeler, text, split or options: parts of no use
    logdir.mkdir(parents=True, exist_ok=True)
    write_json(logdir / "source.json", source)
    pieces = sorted(logdir.glob("keys.*"), key=lambda p: int(p.suffix[1:]))
    if not pieces:
        pieces = split_utts(data, nj, logdir, "keys")
    return len(pieces)


def _run_label_jobs(
    labeler: str | Path, opts: LabelOptions, sets: list[dict[str, Any]], work: Path, cmd: str, ngpu: int
) -> None:
    """Every job of every pending set: in this process (``cmd`` local) or through the job runner."""
    labeler_spec = str(Path(labeler).resolve()) if Path(labeler).is_dir() else str(labeler)
    njobs = max(s["njobs"] for s in sets)
    spec = {"labeler": labeler_spec, "options": asdict(opts), "sets": sets}
    spec_dir = work / "pseudo_logdir"
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec_file = spec_dir / f"spec.{'_'.join(s['name'] for s in sets)[:100]}.json"
    write_json(spec_file, spec)
    logger.info("pseudo-labeling %s with %s, %d job(s)", ", ".join(s["name"] for s in sets), labeler, njobs)
    if cmd.strip().lower() in _LOCAL:
        for job in range(1, njobs + 1):
            label_job(spec_file, job)
    else:
        run_jobs(
            cmd,
            njobs,
            spec_dir / "label.JOB.log",
            [*python_module("speechsent.bin.pseudo_label"), "--worker", str(spec_file), "--job", "JOB"],
            gpu=ngpu,
        )


def _labeler_name(labeler: str | Path, ident: dict[str, Any]) -> str:
    """The labeler's name: its ``labeler.json`` ``name``, else the spec's last path part."""
    spec = read_json_or_none(Path(labeler) / "labeler.json") if "labeler_json" in ident else None
    if isinstance(spec, dict) and spec.get("name"):
        return str(spec["name"])
    return Path(str(labeler).rstrip("/")).name or str(labeler)


def _write_set(
    result: SetResult, logdir: Path, njobs: int, source: dict[str, Any], outputs: list[str], labeler: str
) -> None:
    """Merge a set's chunks into the labels + probabilities (and their default copies), then ``skipped`` and
    ``done.json``."""
    labels, probs, skipped = merge_set(result.data_dir, logdir, njobs)
    data = result.data_dir
    write_table(data / outputs[0], labels)
    write_table(data / outputs[1], probs)
    for copy, original in zip(outputs[2:], outputs[:2], strict=False):  # the default labeler's names
        atomic_write_bytes(data / copy, (data / original).read_bytes())
    set_dir = logdir.parent
    write_table(set_dir / "skipped", {u: "empty text" for u in skipped})
    result.num_utts = len(labels) + len(skipped)
    result.num_labeled = len(labels)
    result.num_skipped = len(skipped)
    result.counts = {k: sum(1 for v in labels.values() if v == k) for k in PSEUDO_LABELS}
    if skipped:
        logger.warning(
            "%s: %d utterance(s) with an empty or missing text skipped (listed in %s), e.g. %s",
            data,
            len(skipped),
            set_dir / "skipped",
            ", ".join(skipped[:3]),
        )
    files = {name: file_digest(data / name) for name in outputs}
    done = {
        "labels_file": outputs[0],
        "labels_sha256": files[outputs[0]],
        "labeler": labeler,
        "prob_file": outputs[1],
        "files": files,
        "source": source,
        **{f"{name}_sha256": files[name] for name in outputs if name in ("utt2pseudo", "utt2pseudo_prob")},
        "num_utts": result.num_utts,
        "num_labeled": result.num_labeled,
        "num_skipped": result.num_skipped,
        "counts": result.counts,
    }
    write_json(set_dir / "done.json", done)


def _log_result(r: SetResult, outputs: list[str]) -> None:
    logger.info(
        "%s: %d utterances: %d labeled (%s), %d skipped (empty text)%s -> %s",
        r.name,
        r.num_utts,
        r.num_labeled,
        ", ".join(f"{k} {v}" for k, v in r.counts.items()),
        r.num_skipped,
        " (up to date)" if r.up_to_date else "",
        " ".join(str(r.data_dir / name) for name in outputs),
    )


def pseudo_label_sets(
    labeler: str | Path,
    data_dirs: Sequence[str | Path],
    *,
    work_dir: str | Path | None = None,
    options: LabelOptions | None = None,
    nj: int = 1,
    cmd: str = "run.pl",
    ngpu: int = 0,
    labels_name: str = DEFAULT_LABELS,
    default_copy: bool = False,
) -> list[SetResult]:
    """Write ``<labels_name>`` + its probabilities into every data dir (see the module doc).

    ``labeler``: a labeler dir (stage 6's ``exp/pseudo_labeler_*``) or any :func:`load_labeler` spec;
    ``work_dir`` (default: ``<labeler dir>/label``) holds ``<set>/`` with ``done.json``, ``skipped`` and
    ``logdir`` (the splits, job logs and chunks). ``labels_name``: ``utt2pseudo`` or ``utt2pseudo_<tag>``;
    ``default_copy``: also write ``utt2pseudo`` + ``utt2pseudo_prob``.
    """
    opts = options or LabelOptions()
    if opts.empty_text not in ("skip", "label"):
        raise ValueError(f"empty_text must be skip or label, got {opts.empty_text!r}")
    if opts.chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    outputs = _output_names(labels_name, default_copy)
    if ngpu > 0 and opts.device == "cpu":
        opts.device = "cuda"
    if work_dir is None:
        if not Path(labeler).is_dir():
            raise ValueError(f"labeler {labeler!r} is not a dir: give a work dir (--work_dir)")
        work_dir = Path(labeler) / "label"
    work = Path(work_dir)
    if opts.onnx_cache is None:
        opts.onnx_cache = str((work / "onnx").resolve())  # the jobs export a model once, here
    names = [Path(d).name for d in data_dirs]
    if len(set(names)) != len(names):
        raise ValueError(f"data dirs with the same name: {' '.join(map(str, data_dirs))}")
    ident = labeler_identity(labeler)
    results: list[SetResult] = []
    pending: list[tuple[SetResult, dict[str, Any], dict[str, Any]]] = []  # (result, job-spec set, source)
    for name, d in zip(names, data_dirs, strict=True):
        result = SetResult(name, Path(d))
        results.append(result)
        source = _set_source(ident, opts, result.data_dir, nj)
        set_dir = work / name
        if _up_to_date(result, set_dir, source, outputs):
            continue
        logdir = set_dir / "logdir"
        njobs = _prepare_logdir(result.data_dir, logdir, source, nj)
        s = {"name": name, "data_dir": str(result.data_dir), "logdir": str(logdir), "njobs": njobs}
        pending.append((result, s, source))
    if pending:
        _run_label_jobs(labeler, opts, [s for _, s, _ in pending], work, cmd, ngpu)
    labeler_name = _labeler_name(labeler, ident)
    for result, s, source in pending:
        _write_set(result, Path(s["logdir"]), s["njobs"], source, outputs, labeler_name)
    for result in results:
        _log_result(result, outputs)
    return results
