"""What the stage-1 modules share (:mod:`speechsent.data.prepare`, :mod:`speechsent.data.swbd_pool`): the
options (:class:`PrepareConfig`, their one definition: ``speechsent/bin/prepare_data.py`` builds its parser
from the fields, the recipes' ``local/data.sh`` passes them on; docs/contracts.md), the report of outcomes,
the skip log and the error of bad input.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shlex
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from speechsent.data.fisher import UNINTELLIGIBLE_MODES
from speechsent.data.splits import PAPER_HOURS
from speechsent.utils.fileio import atomic_write_text

__all__ = [
    "SPLIT_METHODS",
    "PrepareConfig",
    "PrepareError",
    "PrepareReport",
    "Skips",
    "cs_text",
    "optional_path",
    "parse_hours",
    "path_list",
    "sph2pipe_command",
]

logger = logging.getLogger("speechsent.prepare_data")

SPLIT_METHODS = ("conversation", "lists", "espnet")
_EXAMPLES = 5  # individual log lines per kind of skip; the rest are counted


class PrepareError(RuntimeError):
    """Input that makes the preparation impossible (missing release, no labeled segment, ...)."""


def optional_path(value: str | None) -> str | None:
    """An optional path or name as shell scripts pass it: empty → None."""
    return value or None


def path_list(value: str | Sequence[str]) -> tuple[str, ...]:
    """Space-separated paths (as the ``FISHER`` variable of db.sh holds them) → a tuple."""
    return tuple(value.split()) if isinstance(value, str) else tuple(value)


def parse_hours(value: str | Sequence[float]) -> tuple[float, float, float]:
    """Three relative hours, e.g. ``"86 5 5"`` (also ``86,5,5`` or ``86/5/5``); ValueError otherwise."""
    parts = value.replace(",", " ").replace("/", " ").split() if isinstance(value, str) else list(value)
    try:
        hours = tuple(float(p) for p in parts)
    except (TypeError, ValueError):
        hours = ()
    if len(hours) != 3 or any(h < 0 for h in hours) or sum(hours) <= 0:
        raise ValueError(f"expected three hours, e.g. '86 5 5', got {value!r}")
    return hours  # type: ignore[return-value]


def _meta(text: str, group: str, parse=None, choices=None) -> dict:
    """The command-line option of a :class:`PrepareConfig` field (``speechsent/bin/prepare_data.py`` builds
    its parser from these): the ``help`` text, argument ``group``, ``parse`` (str → value; default: the type
    of the default), ``choices``."""
    return {"help": text, "group": group, "parse": parse, "choices": choices}


_CORPORA, _OUTPUT, _LABELS = "corpora (db.sh)", "output", "labels and splits"


@dataclasses.dataclass
class PrepareConfig:
    """Options of :func:`prepare_data`: their one definition (``speechsent-prepare-data``'s options, the
    options of the recipes' ``local/data.sh``; docs/contracts.md)."""

    swbd: str | None = dataclasses.field(
        default=None,
        metadata=_meta("Switchboard-1 Release 2 (LDC97S62) root: *.sph below", _CORPORA, optional_path),
    )
    swbd_ms98: str | None = dataclasses.field(
        default=None,
        metadata=_meta("MS98 transcripts root (swb_ms98_transcriptions)", _CORPORA, optional_path),
    )
    swbd_sentiment: str | None = dataclasses.field(
        default=None,
        metadata=_meta("Speech Sentiment Annotations (LDC2020T14) root", _CORPORA, optional_path),
    )
    fisher: Sequence[str] = dataclasses.field(
        default=(),
        metadata=_meta(
            "space-separated roots of LDC2004S13 LDC2005S13 LDC2004T19 LDC2005T19 (empty: no Fisher dir)",
            _CORPORA,
            path_list,
        ),
    )
    swbd_data_dir: str | None = dataclasses.field(
        default=None,
        metadata=_meta(
            "reuse an existing Kaldi/ESPnet Switchboard data dir (segments, text, wav.scp) instead of "
            "--swbd/--swbd_ms98",
            _CORPORA,
            optional_path,
        ),
    )
    out_dir: str | os.PathLike[str] = dataclasses.field(
        default="data", metadata=_meta("where the data dirs are written", _OUTPUT)
    )
    sph2pipe: str = dataclasses.field(
        default="speechsent-sph2pipe",
        metadata=_meta("program of the wav.scp pipes (e.g. sph2pipe, or its full path)", _OUTPUT),
    )
    train_set: str = dataclasses.field(
        default="swbd_train", metadata=_meta("name of the labeled training data dir", _OUTPUT)
    )
    test_set: str = dataclasses.field(
        default="swbd_test", metadata=_meta("name of the labeled validation data dir", _OUTPUT)
    )
    holdout_set: str = dataclasses.field(
        default="swbd_holdout", metadata=_meta("name of the labeled evaluation data dir", _OUTPUT)
    )
    asr_train_set: str = dataclasses.field(
        default="asr_train", metadata=_meta("name of the ASR training data dir", _OUTPUT)
    )
    fisher_set: str = dataclasses.field(
        default="fisher", metadata=_meta("name of the (unlabeled) Fisher data dir", _OUTPUT)
    )
    match_tolerance: float = dataclasses.field(
        default=0.05,
        metadata=_meta("seconds a sentiment row's start and end may differ from its MS98 segment's", _LABELS),
    )
    split: str = dataclasses.field(
        default="conversation",
        metadata=_meta(
            "conversation (disjoint, --split_hours proportions), lists (--split_lists), or espnet (ESPnet "
            "egs2/swbd_sentiment's split)",
            _LABELS,
            choices=SPLIT_METHODS,
        ),
    )
    split_lists: str | None = dataclasses.field(
        default=None,
        metadata=_meta(
            "directory with train, test, holdout id lists (implies --split lists)", _LABELS, optional_path
        ),
    )
    split_hours: Sequence[float] = dataclasses.field(
        default=PAPER_HOURS,
        metadata=_meta(
            "relative sizes of train, test, holdout (labeled hours), for --split conversation",
            _LABELS,
            parse_hours,
        ),
    )
    split_seed: int = dataclasses.field(
        default=0, metadata=_meta("seed of the conversation hash order", _LABELS)
    )
    skip_bad_rows: bool = dataclasses.field(
        default=False,
        metadata=_meta(
            "skip (count and log) malformed input lines instead of stopping at the first", _LABELS
        ),
    )
    fisher_unintelligible: str = dataclasses.field(
        default="drop",
        metadata=_meta(
            "Fisher utterances with '((': drop them (Kaldi), keep the words, or strip the marked words",
            _LABELS,
            choices=UNINTELLIGIBLE_MODES,
        ),
    )

    def set_name(self, split: str) -> str:
        return {"train": self.train_set, "test": self.test_set, "holdout": self.holdout_set}[split]

    def set_names(self) -> tuple[str, ...]:
        """The data dirs written, in order: training, validation, evaluation, ASR training, Fisher."""
        return (self.train_set, self.test_set, self.holdout_set, self.asr_train_set, self.fisher_set)


_CS_TEXT: list[str] = []


def cs_text(cs: int) -> str:
    """Centiseconds as seconds with two decimals (``98`` → ``0.98``), exactly (a table: Fisher needs 6 M)."""
    if cs >= len(_CS_TEXT):
        _CS_TEXT.extend(
            f"{i // 100}.{i % 100:02d}" for i in range(len(_CS_TEXT), max(cs + 1, 2 * len(_CS_TEXT)))
        )
    return _CS_TEXT[cs]


@dataclasses.dataclass
class PrepareReport:
    """What :func:`prepare_data` did: counts per outcome and the data dirs written (name → #utterances)."""

    counts: Counter[str] = dataclasses.field(default_factory=Counter)
    dirs: dict[str, int] = dataclasses.field(default_factory=dict)
    hours: dict[str, float] = dataclasses.field(default_factory=dict)

    def summary(self) -> str:
        parts = [f"{k}={v}" for k, v in sorted(self.counts.items())]
        return "counts: " + " ".join(parts)


class Skips:
    """Count skips by outcome, log the first few of each kind, keep every message for the skip list."""

    def __init__(self, report: PrepareReport):
        self.report = report
        self.logged: Counter[str] = Counter()
        self.messages: list[str] = []

    def __call__(self, outcome: str, message: str | None = None, n: int = 1) -> None:
        self.report.counts[outcome] += n
        if message is not None:
            self.logged[outcome] += 1
            self.messages.append(f"{outcome}\t{message}")
            if self.logged[outcome] <= _EXAMPLES:
                logger.warning("%s: %s", outcome, message)

    def close(self, skip_list: Path) -> None:
        """Log the number of messages not shown, and write them all to ``skip_list`` (sorted)."""
        for outcome, n in sorted(self.logged.items()):
            if n > _EXAMPLES:
                logger.warning("%s: %d more not shown (%d in all)", outcome, n - _EXAMPLES, n)
        skip_list.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(skip_list, "".join(f"{m}\n" for m in sorted(self.messages)))
        logger.info("every skip is listed in %s (%d lines)", skip_list, len(self.messages))


def sph2pipe_command(sph2pipe: str, path: str | os.PathLike[str], channel: int) -> str:
    """``<sph2pipe> -f wav -p -c <channel> <path> |`` (path shell-quoted when needed)."""
    return f"{sph2pipe} -f wav -p -c {channel} {shlex.quote(str(path))} |"
