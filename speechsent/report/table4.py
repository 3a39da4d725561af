"""Table 4 (semi-supervised E2E): fine-tuning dataset (hours) x pseudo labeler x semi-supervised training
dataset, as the paper lays it out.

Without a grid (no run options) every E2E system of the semi-supervised input/classifier pairs is a row,
whole train set first, then by decreasing hours. With a :class:`Table4Grid` (the run's ``e2e_hours`` and
``e2e_pseudo_configs``) the rows are, for each fine-tuning size in order: supervised only, then one per
pseudo configuration; a row without a system is shown as ``**missing**`` with the system dir expected
(``e2e_blstm_<H>_s*``, ``e2e_blstm_pseudo_<tag>_<set+set>_<gt|asr>_<H>_s*``; H = ``all`` | ``5h``), sizes
not in the grid (the Fig. 2 curve points) are left out, and other systems of a listed size follow its rows.
A run with several ``encoders`` (the ASR's, ``hf:<id>``: ``run.sh --encoders``) has these rows for each
encoder in turn, named by it in an ``Input + classifier`` column (``e2e_<tag>_blstm_...`` for
``hf:<id>``, :func:`speechsent.asr.hf_encoder.encoder_tag`).
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
from speechsent.report.names import encoder_input_key, input_key, input_label
from speechsent.report.plots import pseudo_sets_notation

__all__ = ["CLASSIFIER_LABELS", "Table4Grid", "table4"]

CLASSIFIER_LABELS = {"cnn": "CNN", "blstm": "BLSTM"}
#: The input and classifier of the paper's Table 4 systems (the grid's expected rows).
GRID_SYSTEM = ("encoder", "blstm")


@dataclass(frozen=True)
class Table4Grid:
    """The rows a run should have: fine-tuning ``hours`` (None = the whole train set) and pseudo
    ``configs`` (labeler tag, pseudo-labeled sets, ``gt`` | ``asr``), for each of the ``encoders`` (the run's
    ``--encoders``: ``asr``, ``hf:<id or dir>[@revision]``)."""

    hours: tuple[float | None, ...]
    configs: tuple[tuple[str, tuple[str, ...], str], ...]
    encoders: tuple[str, ...] = ("asr",)

    @classmethod
    def from_options(
        cls,
        e2e_hours: Sequence[str] | None,
        configs: Sequence[str] | None,
        encoders: Sequence[str] | None = None,
    ) -> Table4Grid | None:
        """From the run options (``all 5``; ``TAG:SET+SET:gt|asr`` ...; ``asr hf:<id>``, default ``asr``);
        None when ``e2e_hours`` is unknown. ValueError for a value that is neither ``all`` nor a number of
        hours, or a bad config."""
        from speechsent.report.departures import parse_pseudo_config

        if e2e_hours is None:
            return None
        hours = tuple(None if h == "all" else float(h) for h in e2e_hours)
        configs_ = tuple(parse_pseudo_config(c) for c in configs or ())
        return cls(hours, configs_, tuple(encoders or ("asr",)))


def _table4_groups(groups: Sequence[SystemGroup], grid: Table4Grid | None) -> list[SystemGroup]:
    """The E2E groups of the semi-supervised input/classifier pairs (and the grid's encoders' BLSTMs)."""
    e2e = [g for g in groups if g.family == "e2e"]
    combos = {(input_key(g.meta), g.meta["architecture"]) for g in e2e if g.meta.get("pseudo_labeler")}
    if grid is not None:
        combos |= {(encoder_input_key(e), GRID_SYSTEM[1]) for e in grid.encoders}
    if not combos:
        combos = {GRID_SYSTEM}
    return [g for g in e2e if (input_key(g.meta), g.meta["architecture"]) in combos]


def _same_hours(a: Any, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), b, rel_tol=1e-6)


def _config_of(meta: Mapping[str, Any]) -> tuple[str, tuple[str, ...], str] | None:
    if not meta.get("pseudo_labeler"):
        return None
    tag = labeler_display_name(meta["pseudo_labeler"])
    return (tag, tuple(meta.get("pseudo_sets") or ()), str(meta.get("pseudo_transcript")))


def _expected_name(
    hours: float | None, config: tuple[str, tuple[str, ...], str] | None, encoder: str = "asr"
) -> str:
    from speechsent.asr.hf_encoder import encoder_tag

    size = "all" if hours is None else f"{hours:g}h"
    prefix = f"e2e_{encoder_tag(encoder) + '_' if encoder_tag(encoder) else ''}{GRID_SYSTEM[1]}"
    if config is None:
        return f"{prefix}_{size}_s*"
    tag, sets, transcript = config
    return f"{prefix}_pseudo_{tag}_{'+'.join(sets)}_{transcript}_{size}_s*"


def _sort_key(g: SystemGroup) -> tuple:
    m = g.meta
    return (
        order_key(input_key(m), ("encoder",)),
        hours_key(m),
        m.get("pseudo_labeler") is not None,
        labeler_display_name(m["pseudo_labeler"]) if m.get("pseudo_labeler") else "",
        order_key(m.get("pseudo_transcript"), (None, "gt", "asr")),
        len(m.get("pseudo_sets") or ()),
        tuple(m.get("pseudo_sets") or ()),
        m["architecture"],
        g.name,
    )


#: A grid row: hours, pseudo config, the input key of its encoder, and its system group or expected name.
_Row = tuple[float | None, tuple | None, str, SystemGroup | str]


def _architecture(row: SystemGroup | str) -> str:
    """A row's classifier (a missing row's: the grid's)."""
    return GRID_SYSTEM[1] if isinstance(row, str) else row.meta["architecture"]


def _grid_rows(chosen: Sequence[SystemGroup], grid: Table4Grid) -> list[_Row]:
    """Every row of the grid, encoder by encoder, in its order; extra systems of a listed size (and
    encoder) after that size's rows."""
    rows: list[_Row] = []
    used: set[int] = set()
    for encoder in grid.encoders:
        key = encoder_input_key(encoder)
        mine = [g for g in chosen if input_key(g.meta) == key]
        for hours in grid.hours:
            for config in (None, *grid.configs):
                match = [
                    g
                    for g in mine
                    if g.meta["architecture"] == GRID_SYSTEM[1]
                    and _same_hours(g.meta.get("train_hours"), hours)
                    and _config_of(g.meta) == config
                ]
                for g in match:
                    used.add(id(g))
                    rows.append((hours, config, key, g))
                if not match:
                    rows.append((hours, config, key, _expected_name(hours, config, encoder)))
            extra = [g for g in mine if id(g) not in used and _same_hours(g.meta.get("train_hours"), hours)]
            for g in sorted(extra, key=_sort_key):
                used.add(id(g))
                rows.append((hours, _config_of(g.meta), key, g))
    return rows


def table4(
    groups: Sequence[SystemGroup],
    full_train_hours: float | None,
    names: Mapping[str, str] | None = None,
    grid: Table4Grid | None = None,
) -> str | None:
    """Table 4 (see the module doc); ``names``: labeler dir → shown name
    (:func:`speechsent.report.collect.labeler_names`), for labelers of unknown family. None: no row."""
    chosen = _table4_groups(groups, grid)
    if grid is not None:
        rows_data = _grid_rows(chosen, grid)
    else:
        rows_data = [
            (g.meta.get("train_hours"), _config_of(g.meta), input_key(g.meta), g)
            for g in sorted(chosen, key=_sort_key)
        ]
    if not rows_data:
        return None
    several = len({(key, _architecture(g)) for _, _, key, g in rows_data}) > 1
    tags = [c[0] for _, c, _, _ in rows_data if c]
    labels_of = labeler_labels(tags, names)
    train_set = next((g.meta.get("train_set") for g in chosen if g.meta.get("train_set")), None) or "train"
    rows = []
    for hours, config, key, g in rows_data:
        full = group_hours({"train_hours": hours}, full_train_hours)
        finetune = f"{train_set} ({format_hours(full)})" if full is not None else f"{train_set} (all)"
        labeler = labels_of[config[0]] if config else MISSING
        sets = pseudo_sets_notation(list(config[1]), config[2]) if config else MISSING
        labels = [finetune, labeler, sets]
        if several:
            arch = _architecture(g)
            labels.insert(0, f"{input_label(key)} + {CLASSIFIER_LABELS.get(arch, arch)}")
        rows.append((labels, g))
    headers = ["Fine-tuning dataset", "Pseudo labeler", "Semi-supervised training dataset"]
    if several:
        headers.insert(0, "Input + classifier")
    return score_table(headers, rows, VALID_SETS)
