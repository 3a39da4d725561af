"""Table 4 (semi-supervised E2E): fine-tuning dataset (hours) x pseudo labeler x semi-supervised training
dataset, as the paper lays it out.

Without a grid (no run options) every E2E system of the semi-supervised input/classifier pairs is a row,
whole train set first, then by decreasing hours. With a :class:`Table4Grid` (the run's ``e2e_hours`` and
``e2e_pseudo_configs``) the rows are, for each fine-tuning size in order: supervised only, then one per
pseudo configuration; a row without a system is shown as ``**missing**`` with the system dir expected
(``e2e_blstm_<H>_s*``, ``e2e_blstm_pseudo_<tag>_<set+set>_<gt|asr>_<H>_s*``; H = ``all`` | ``5h``), sizes
not in the grid (the Fig. 2 curve points) are left out, and other systems of a listed size follow its rows.
Labelers are named as the paper does (``bert-base-uncased_sst2`` → ``BERT-SST2``; with the tag when two
labelers would share a name); sets as ``S, F`` / ``S_asr, F_asr``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from speechsent.report.collect import SystemGroup, group_hours, labeler_display_name, labeler_labels
from speechsent.report.markdown import MISSING, VALID_SETS, format_hours, hours_key, order_key, score_table
from speechsent.report.plots import pseudo_sets_notation

__all__ = ["Table4Grid", "table4"]

INPUT_LABELS = {"fbank": "FBank", "encoder": "CTC-Attention encoder"}
CLASSIFIER_LABELS = {"cnn": "CNN", "blstm": "BLSTM"}
#: The input and classifier of the paper's Table 4 systems (the grid's expected rows).
GRID_SYSTEM = ("encoder", "blstm")


@dataclass(frozen=True)
class Table4Grid:
    """The rows a run should have: fine-tuning ``hours`` (None = the whole train set) and pseudo
    ``configs`` (labeler tag, pseudo-labeled sets, ``gt`` | ``asr``)."""

    hours: tuple[float | None, ...]
    configs: tuple[tuple[str, tuple[str, ...], str], ...]

    @classmethod
    def from_options(
        cls, e2e_hours: Sequence[str] | None, configs: Sequence[str] | None
    ) -> Table4Grid | None:
        """From the run options (``all 5``; ``TAG:SET+SET:gt|asr`` ...); None when ``e2e_hours`` is unknown.
        ValueError for a value that is neither ``all`` nor a number of hours, or a bad config."""
        from speechsent.report.departures import parse_pseudo_config

        if e2e_hours is None:
            return None
        hours = tuple(None if h == "all" else float(h) for h in e2e_hours)
        return cls(hours, tuple(parse_pseudo_config(c) for c in configs or ()))


def _table4_groups(groups: Sequence[SystemGroup]) -> list[SystemGroup]:
    e2e = [g for g in groups if g.family == "e2e"]
    combos = {(g.meta["input"], g.meta["architecture"]) for g in e2e if g.meta.get("pseudo_labeler")}
    if not combos:
        combos = {GRID_SYSTEM}
    return [g for g in e2e if (g.meta["input"], g.meta["architecture"]) in combos]


def _same_hours(a: Any, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), b, rel_tol=1e-6)


def _config_of(meta: Mapping[str, Any]) -> tuple[str, tuple[str, ...], str] | None:
    if not meta.get("pseudo_labeler"):
        return None
    tag = labeler_display_name(meta["pseudo_labeler"])
    return (tag, tuple(meta.get("pseudo_sets") or ()), str(meta.get("pseudo_transcript")))


def _expected_name(hours: float | None, config: tuple[str, tuple[str, ...], str] | None) -> str:
    size = "all" if hours is None else f"{hours:g}h"
    arch = GRID_SYSTEM[1]
    if config is None:
        return f"e2e_{arch}_{size}_s*"
    tag, sets, transcript = config
    return f"e2e_{arch}_pseudo_{tag}_{'+'.join(sets)}_{transcript}_{size}_s*"


def _sort_key(g: SystemGroup) -> tuple:
    m = g.meta
    return (
        hours_key(m),
        m.get("pseudo_labeler") is not None,
        labeler_display_name(m["pseudo_labeler"]) if m.get("pseudo_labeler") else "",
        order_key(m.get("pseudo_transcript"), (None, "gt", "asr")),
        len(m.get("pseudo_sets") or ()),
        tuple(m.get("pseudo_sets") or ()),
        m["input"],
        m["architecture"],
        g.name,
    )


def _grid_rows(
    chosen: Sequence[SystemGroup], grid: Table4Grid
) -> list[tuple[float | None, tuple | None, SystemGroup | str]]:
    """(hours, config, group or expected name) of every row of the grid, in its order; extra systems of a
    listed size after that size's rows."""
    rows: list[tuple[float | None, tuple | None, SystemGroup | str]] = []
    used: set[int] = set()
    for hours in grid.hours:
        for config in (None, *grid.configs):
            match = [
                g
                for g in chosen
                if (g.meta["input"], g.meta["architecture"]) == GRID_SYSTEM
                and _same_hours(g.meta.get("train_hours"), hours)
                and _config_of(g.meta) == config
            ]
            for g in match:
                used.add(id(g))
                rows.append((hours, config, g))
            if not match:
                rows.append((hours, config, _expected_name(hours, config)))
        extra = [g for g in chosen if id(g) not in used and _same_hours(g.meta.get("train_hours"), hours)]
        for g in sorted(extra, key=_sort_key):
            used.add(id(g))
            rows.append((hours, _config_of(g.meta), g))
    return rows


def table4(
    groups: Sequence[SystemGroup],
    full_train_hours: float | None,
    names: Mapping[str, str] | None = None,
    grid: Table4Grid | None = None,
) -> str | None:
    """Table 4 (see the module doc); ``names``: labeler dir → shown name
    (:func:`speechsent.report.collect.labeler_names`), for labelers of unknown family. None: no row."""
    chosen = _table4_groups(groups)
    if grid is not None:
        rows_data = _grid_rows(chosen, grid)
    else:
        rows_data = [
            (g.meta.get("train_hours"), _config_of(g.meta), g) for g in sorted(chosen, key=_sort_key)
        ]
    if not rows_data:
        return None
    several = (
        len({(g.meta["input"], g.meta["architecture"]) for _, _, g in rows_data if not isinstance(g, str)})
        > 1
    )
    tags = [c[0] for _, c, _ in rows_data if c]
    labels_of = labeler_labels(tags, names)
    train_set = next((g.meta.get("train_set") for g in chosen if g.meta.get("train_set")), None) or "train"
    rows = []
    for hours, config, g in rows_data:
        full = group_hours({"train_hours": hours}, full_train_hours)
        finetune = f"{train_set} ({format_hours(full)})" if full is not None else f"{train_set} (all)"
        labeler = labels_of[config[0]] if config else MISSING
        sets = pseudo_sets_notation(list(config[1]), config[2]) if config else MISSING
        labels = [finetune, labeler, sets]
        if several:
            inp, arch = GRID_SYSTEM if isinstance(g, str) else (g.meta["input"], g.meta["architecture"])
            labels.insert(0, f"{INPUT_LABELS.get(inp, inp)} + {CLASSIFIER_LABELS.get(arch, arch)}")
        rows.append((labels, g))
    headers = ["Fine-tuning dataset", "Pseudo labeler", "Semi-supervised training dataset"]
    if several:
        headers.insert(0, "Input + classifier")
    return score_table(headers, rows, VALID_SETS)
