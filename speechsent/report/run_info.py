"""What a run was, for RESULTS.md's header and its departures from the paper: the recipe's options, the
software and GPU, the data sets' sizes, the ASR (its model, WER per decoded set, overlap with every set).

Read::

    --run_options FILE        TSV written by the recipe: one ``name<TAB>value`` line per option (the value may
                              hold spaces or be empty; ``#`` lines and blank lines are skipped)
    <data_dir>/<set>/utt2dur  utterances and hours of each set (utt2spk: utterances only)
    <asr_exp>/config.yaml     the ASR's encoder (type, blocks x output size) and token list
    <asr_exp>/decode_<mode>/<set>/score.txt   Kaldi's ``%WER 12.34 [ 123 / 997, 10 ins, 20 del, 93 sub ]``
    asr_overlap_json          ``{"asr_train_sets": [..], "asr_train_hours": h, "sets": {"<set>": {"hours",
                              "overlap_hours", "overlap_fraction", "num_utts", "num_overlapping_utts"}}}``

Every fact may be unknown (None): the header then says so. ::

    from speechsent.report.run_info import gather_facts
    facts = gather_facts(read_run_options("exp/run_options.tsv"), data_dir="data", exp_dir="exp")
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import math
import os
import platform
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsent.report.collect import ReportError
from speechsent.utils.fileio import ENCODING, ERRORS, read_json

__all__ = [
    "AsrFacts",
    "Environment",
    "RunFacts",
    "RunOptions",
    "SetSize",
    "asr_facts",
    "environment",
    "gather_facts",
    "option_value",
    "read_overlap",
    "read_run_options",
    "read_wer",
    "set_size",
    "toolkit_revision",
]

log = logging.getLogger(__name__)

#: The corpora variables of db.sh, in the header's order.
CORPORA = ("SWBD", "SWBD_MS98", "SWBD_SENTIMENT", "FISHER")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class RunOptions:
    """The recipe's options (``name -> value``, values as written); ``source`` None: none were given."""

    values: dict[str, str] = field(default_factory=dict)
    source: str | None = None

    @property
    def known(self) -> bool:
        return self.source is not None

    def get(self, name: str) -> str | None:
        """The value (``""`` when given empty); None when not given."""
        return self.values.get(name)

    def list(self, name: str) -> list[str] | None:
        """The space-separated value as a list; None when not given."""
        value = self.values.get(name)
        return None if value is None else value.split()

    def flag(self, name: str) -> bool | None:
        value = (self.values.get(name) or "").strip().lower()
        return {"true": True, "false": False}.get(value)

    def number(self, name: str) -> float | None:
        try:
            return float(self.values[name])
        except (KeyError, ValueError):
            return None


def read_run_options(path: str | os.PathLike[str] | None) -> RunOptions:
    """The options in the TSV ``path`` (None: unknown options); a line without a tab, a bad or repeated
    name is a :class:`ReportError` naming the file and line."""
    if path is None:
        return RunOptions()
    try:
        lines = Path(path).read_text(encoding=ENCODING, errors=ERRORS).splitlines()
    except OSError as error:
        raise ReportError(f"{path}: cannot read: {error}") from None
    values: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        name, tab, value = line.partition("\t")
        if not tab or not _NAME.match(name):
            raise ReportError(f"{path}:{number}: expected 'name<TAB>value', got {line!r}")
        if name in values:
            raise ReportError(f"{path}:{number}: option {name!r} given twice")
        values[name] = value.strip()
    return RunOptions(values, str(path))


def option_value(opts: str | None, name: str) -> str | None:
    """The value of ``--name`` (or ``--name=value``; dashes as underscores) in an option string such as
    ``local_data_opts``; None when absent."""
    if not opts:
        return None
    try:
        words = shlex.split(opts)
    except ValueError:
        words = opts.split()
    value = None
    for i, word in enumerate(words):
        key, eq, given = word.partition("=")
        if key.startswith("--") and key[2:].replace("-", "_") == name:
            value = given if eq else (words[i + 1] if i + 1 < len(words) else "")
    return value


# ----------------------------------------------------------------------------------------------------------
# Software and hardware


@dataclass
class Environment:
    date: str | None
    revision: str
    python: str
    versions: dict[str, str]
    gpu: str


def toolkit_revision(root: str | os.PathLike[str] | None = None) -> str:
    """``git rev-parse HEAD`` of the speechsent checkout (``-dirty`` when tracked files are modified), else
    ``speechsent <version>`` (not a git checkout)."""
    import speechsent

    root = Path(root) if root is not None else Path(speechsent.__file__).resolve().parents[1]
    if (root / ".git").exists():
        try:
            run = dict(cwd=root, capture_output=True, text=True, timeout=30, check=True)
            head = subprocess.run(["git", "rev-parse", "HEAD"], **run).stdout.strip()
            status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], **run).stdout
            return head + ("-dirty" if status.strip() else "")
        except (OSError, subprocess.SubprocessError) as error:
            log.warning("%s: git revision unknown: %s", root, error)
    return f"speechsent {speechsent.__version__} (not a git checkout)"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def gpu_type() -> str:
    """The CUDA device name torch sees (``name x N`` for several), else ``none (CPU)``; torch is imported
    only when installed."""
    if importlib.util.find_spec("torch") is None:
        return "none (CPU)"
    import torch

    if not torch.cuda.is_available():
        return "none (CPU)"
    names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    if len(set(names)) == 1:
        return names[0] + (f" x {len(names)}" if len(names) > 1 else "")
    return ", ".join(names)


def environment(date: str | None = None, *, gpu: bool = True) -> Environment:
    """Date (None: left out), toolkit revision, Python / torch / espnet / transformers versions (package
    metadata: nothing heavy imported) and GPU type (``gpu`` False: not probed)."""
    return Environment(
        date=date,
        revision=toolkit_revision(),
        python=platform.python_version(),
        versions={p: _version(p) for p in ("torch", "espnet", "transformers")},
        gpu=gpu_type() if gpu else "not probed",
    )


# ----------------------------------------------------------------------------------------------------------
# Data sets


@dataclass(frozen=True)
class SetSize:
    name: str
    utts: int | None
    hours: float | None


def set_size(data_dir: str | os.PathLike[str], name: str) -> SetSize | None:
    """Utterances and hours of ``<data_dir>/<name>`` from ``utt2dur`` (utterances from ``utt2spk`` when
    there is no utt2dur); None when the dir does not exist. A bad utt2dur is a :class:`ReportError`."""
    from speechsent.kaldi.data_dir import parse_duration
    from speechsent.kaldi.table import KaldiDataError, read_table, read_typed_table

    d = Path(data_dir) / name
    if not d.is_dir():
        return None
    try:
        if (d / "utt2dur").is_file():
            durations = read_typed_table(d / "utt2dur", parse_duration)
            return SetSize(name, len(durations), math.fsum(durations.values()) / 3600.0)
        if (d / "utt2spk").is_file():
            return SetSize(name, len(read_table(d / "utt2spk")), None)
    except (OSError, KaldiDataError) as error:
        raise ReportError(f"{d}: {error}") from None
    return SetSize(name, None, None)


# ----------------------------------------------------------------------------------------------------------
# The ASR


@dataclass
class WerResult:
    mode: str
    set: str
    wer: float
    errors: int
    words: int


@dataclass
class AsrFacts:
    """The ASR as the run shows it; every field may be unknown (None / empty)."""

    model: str | None = None
    external: bool = False
    train_sets: list[str] = field(default_factory=list)
    train_hours: float | None = None
    encoder: str | None = None
    blocks: int | None = None
    dim: int | None = None
    nbpe: int | None = None
    decode_mode: str | None = None
    wers: list[WerResult] = field(default_factory=list)
    overlap: dict[str, dict[str, Any]] | None = None


_WER = re.compile(r"%WER\s+(\S+)\s*\[\s*(\d+)\s*/\s*(\d+)")


def read_wer(path: str | os.PathLike[str]) -> tuple[float, int, int] | None:
    """(WER %, errors, reference words) of the ``%WER`` line of a Kaldi ``score.txt``; None without one."""
    text = Path(path).read_text(encoding=ENCODING, errors=ERRORS)
    m = _WER.search(text)
    if not m:
        return None
    try:
        return float(m.group(1)), int(m.group(2)), int(m.group(3))
    except ValueError:
        return None


def _decode_wers(asr_exp: Path, mode: str | None) -> list[WerResult]:
    pattern = f"decode_{mode}" if mode else "decode_*"
    out = []
    for decode_dir in sorted(p for p in asr_exp.glob(pattern) if p.is_dir()):
        for score in sorted(decode_dir.glob("*/score.txt")):
            wer = read_wer(score)
            if wer is not None:
                out.append(WerResult(decode_dir.name[len("decode_") :], score.parent.name, *wer))
    return out


def _asr_config(path: Path) -> dict[str, Any] | None:
    """The ESPnet training config of the ASR model at ``path`` (exp dir, packed model dir, pointer); None
    when it cannot be read."""
    from speechsent.asr.model_dir import ModelDirError, resolve_model_dir

    try:
        files = resolve_model_dir(path)
        return {**files.config, "token_list": files.token_list}
    except (ModelDirError, OSError) as error:
        log.info("%s: ASR config not read through the model dir (%s): trying config.yaml", path, error)
    if (path / "config.yaml").is_file():
        import yaml

        try:
            data = yaml.safe_load((path / "config.yaml").read_text(encoding=ENCODING))
        except (OSError, yaml.YAMLError) as error:
            log.warning("%s: %s", path / "config.yaml", error)
            return None
        return data if isinstance(data, dict) else None
    return None


def _nbpe(config: dict[str, Any]) -> int | None:
    m = re.search(r"bpe_[a-z]*?(\d+)", str(config.get("bpemodel") or ""))
    if m:
        return int(m.group(1))
    tokens = config.get("token_list")
    return len(tokens) if isinstance(tokens, list) and tokens else None


def read_overlap(path: str | os.PathLike[str] | None) -> dict[str, Any] | None:
    """The overlap JSON of stages 3/4 (None when ``path`` is None/empty or the file does not exist); a
    malformed one is a :class:`ReportError`."""
    if not path or not Path(path).is_file():
        return None
    try:
        data = read_json(path)
    except (OSError, ValueError) as error:
        raise ReportError(f"{path}: {error}") from None
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("sets", {}), dict):
        raise ReportError(f"{path}: expected an object with 'sets' (set name -> overlap)")
    return data


def asr_facts(options: RunOptions, base_dir: str | os.PathLike[str] = ".") -> AsrFacts:
    """The ASR's facts from the options (``asr_exp``, ``asr_model_dir``, ``asr_train_sets``,
    ``asr_train_hours``, ``nbpe``, ``decode_mode``, ``asr_overlap_json``), its config and decode dirs;
    relative paths are relative to ``base_dir`` (the recipe dir)."""
    base = Path(base_dir)
    facts = AsrFacts(decode_mode=options.get("decode_mode") or None)
    exp, model_dir = options.get("asr_exp") or None, options.get("asr_model_dir") or None
    facts.external = bool(model_dir)
    facts.model = model_dir or exp
    facts.train_sets = options.list("asr_train_sets") or []
    facts.train_hours = options.number("asr_train_hours")
    config = None
    for where in (exp, model_dir):
        if where and (base / where).exists():
            config = _asr_config(base / where)
            if config is not None:
                break
    if config is not None:
        facts.encoder = str(config.get("encoder")) if config.get("encoder") else None
        conf = config.get("encoder_conf") or {}
        facts.blocks = conf.get("num_blocks") if isinstance(conf.get("num_blocks"), int) else None
        facts.dim = conf.get("output_size") if isinstance(conf.get("output_size"), int) else None
        facts.nbpe = _nbpe(config)
    if options.number("nbpe") and not facts.external:
        facts.nbpe = int(options.number("nbpe") or 0)
    if exp and (base / exp).is_dir():
        facts.wers = _decode_wers(base / exp, facts.decode_mode)
    overlap_path = options.get("asr_overlap_json")
    facts.overlap = read_overlap(base / overlap_path if overlap_path else None)
    if facts.overlap:
        facts.train_sets = facts.train_sets or list(facts.overlap.get("asr_train_sets") or [])
        if facts.train_hours is None and isinstance(facts.overlap.get("asr_train_hours"), (int, float)):
            facts.train_hours = float(facts.overlap["asr_train_hours"])
    return facts


# ----------------------------------------------------------------------------------------------------------
# Everything


@dataclass
class RunFacts:
    """The options and what was measured: the header's and the departures' input."""

    options: RunOptions
    env: Environment | None
    sizes: dict[str, SetSize]
    asr: AsrFacts
    train_set: str = "swbd_train"
    valid_set: str = "swbd_test"
    test_sets: list[str] = field(default_factory=lambda: ["swbd_holdout"])


def _data_sets(options: RunOptions, train_set: str) -> list[str]:
    """The sets whose size the header gives: the recipe's sets, the ASR's training sets, in that order."""
    names = [train_set]
    for key in ("valid_set", "test_sets", "unlabeled_sets", "asr_train_sets"):
        names += options.list(key) or []
    if not options.known:
        names += ["swbd_test", "swbd_holdout", "fisher"]
    return list(dict.fromkeys(names))


def gather_facts(
    options: RunOptions,
    *,
    data_dir: str | os.PathLike[str] | None,
    train_set: str = "swbd_train",
    base_dir: str | os.PathLike[str] = ".",
    env: Environment | None = None,
) -> RunFacts:
    """The facts of a run: ``options``, the sizes of its sets under ``data_dir`` (None: not measured), the
    ASR (paths relative to ``base_dir``) and ``env`` (None: left out of the header)."""
    train = (options.list("train_set") or [train_set])[0]
    sizes: dict[str, SetSize] = {}
    if data_dir is not None:
        for name in _data_sets(options, train):
            size = set_size(data_dir, name)
            if size is not None:
                sizes[name] = size
    asr = asr_facts(options, base_dir)
    measured = [sizes[s].hours for s in asr.train_sets if s in sizes]
    known = asr.train_sets and len(measured) == len(asr.train_sets) and None not in measured
    if asr.train_hours is None and known:
        asr.train_hours = math.fsum(h for h in measured if h is not None)
    return RunFacts(
        options=options,
        env=env,
        sizes=sizes,
        asr=asr,
        train_set=train,
        valid_set=(options.list("valid_set") or ["swbd_test"])[0],
        test_sets=options.list("test_sets") or ["swbd_holdout"],
    )
