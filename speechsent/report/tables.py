"""RESULTS.md: the paper's Tables 1-4 as markdown, from the systems of :mod:`speechsent.report.collect`.

* Table 1 — 2-step pipeline: Architecture (Baseline / LM-based with the LM's name) x train transcript type
  (GT, ASR, ``ASR (5h)`` for a label subset), scored on ASR transcripts (``swbd_test_asr`` validation,
  ``swbd_holdout_asr`` evaluation); Table 1b: the same systems on GT transcripts where scored.
* Table 2 — E2E baselines trained on the whole train set: input feature x classifier on swbd_test/holdout.
* Table 3 — pseudo labelers: unweighted and weighted recall on the Negative/Positive utterances.
* Table 4 — semi-supervised E2E: fine-tuning dataset (hours) x pseudo labeler x semi-supervised training
  dataset (``S``: swbd_train, ``F``: fisher, ``_asr``: pseudo-labeled from ASR transcripts; ``-``: supervised
  only).

Each score cell has 2 decimals: the mean over seed repeats, ``± std`` (sample std) when there are several, and
``(n=k)`` when only k of the group's repeats were scored on that set; ``-`` when none was. Output is
deterministic (sorted rows, no time stamp except the optional header date)::

    from speechsent.report.collect import collect
    from speechsent.report.tables import render_results
    text = render_results(collect("exp"), full_train_hours=86.0, corpus="swbd_sentiment")
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from speechsent.report.collect import (
    METRICS,
    ExpResults,
    MetricStat,
    PseudoLabeler,
    SystemGroup,
    group_hours,
    labeler_display_name,
    labeler_names,
    lm_display_name,
)
from speechsent.report.plots import Fig2Data, pseudo_sets_notation

__all__ = [
    "METRIC_HEADERS",
    "format_cell",
    "format_hours",
    "hours_value",
    "markdown_table",
    "render_results",
    "table1",
    "table2",
    "table3",
    "table4",
]

#: Short column names of :data:`METRICS` (U = unweighted/macro average, W = weighted by class support).
METRIC_HEADERS = ("U-REC", "U-PRE", "U-F1", "W-REC", "W-PRE", "W-F1")
MISSING = "-"
VALID_SETS = ("swbd_test", "swbd_holdout")
ASR_SETS = tuple(f"{s}_asr" for s in VALID_SETS)
SET_ROLES = {"swbd_test": "Val", "swbd_holdout": "Eval"}
LEGEND = (
    "U = unweighted (macro) average, W = weighted (by class support) average; REC/PRE/F1 in %. "
    "Val = validation set, Eval = evaluation set."
)


# ----------------------------------------------------------------------------------------------------------
# Formatting


def format_hours(hours: float) -> str:
    """``86.0`` → ``86h``, ``2.5`` → ``2.5h``, ``0.6336`` → ``0.634h`` (3 significant digits below 100 h)."""
    text = f"{hours:.0f}" if hours >= 100 else f"{hours:.3g}"
    return f"{text}h"


def hours_value(hours: float) -> str:
    """Hours as a number: 2 decimals from 1 h up (``29.97``), else 3 significant digits (``0.0237``)."""
    return f"{hours:.2f}" if hours >= 1 else f"{hours:.3g}"


def format_cell(stat: MetricStat | None, group_n: int, digits: int = 2) -> str:
    """``64.12``; ``64.12 ± 0.35`` over several seeds; ``... (n=2)`` when fewer than the group's repeats."""
    if stat is None:
        return MISSING
    text = f"{stat.mean:.{digits}f}"
    if stat.std is not None:
        text += f" ± {stat.std:.{digits}f}"
    if stat.n < group_n:
        text += f" (n={stat.n})"
    return text


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", " ")


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool] | None = None
) -> str:
    """A GitHub markdown table with columns padded to equal width (readable as plain text too)."""
    cells = [[_escape(str(c)) for c in header]] + [[_escape(str(c)) for c in row] for row in rows]
    width = len(header)
    for row in cells:
        if len(row) != width:
            raise ValueError(f"table row has {len(row)} cells, the header {width}: {row}")
    right = list(right) if right is not None else [False] * width
    widths = [max(3, *(len(row[i]) for row in cells)) for i in range(width)]

    def line(row: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=True))
            + " |"
        )

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if r else ("-" * (w + 2)) for w, r in zip(widths, right, strict=True)
        )
        + "|"
    )
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def _set_columns(sets: Sequence[str]) -> list[str]:
    out = []
    for s in sets:
        base = s[:-4] if s.endswith("_asr") else s
        role = SET_ROLES.get(base, s)
        out.extend(f"{role} {h}" for h in METRIC_HEADERS)
    return out


def _score_cells(group: SystemGroup, sets: Sequence[str]) -> list[str]:
    cells = []
    for s in sets:
        stats = group.stats(s)
        cells.extend(format_cell(stats[m] if stats else None, group.n_seeds) for m in METRICS)
    return cells


def _sets_caption(sets: Sequence[str]) -> str:
    parts = []
    for s in sets:
        base = s[:-4] if s.endswith("_asr") else s
        role = {"Val": "validation", "Eval": "evaluation"}.get(SET_ROLES.get(base, ""), "")
        parts.append(f"{role} set `{s}`" if role else f"`{s}`")
    return ", ".join(parts)


def _score_table(
    label_headers: Sequence[str],
    rows: Sequence[tuple[Sequence[str], SystemGroup]],
    sets: Sequence[str],
) -> str:
    header = [*label_headers, *_set_columns(sets), "Seeds", "System"]
    right = [False] * len(label_headers) + [True] * (6 * len(sets) + 1) + [False]
    body = [[*labels, *_score_cells(g, sets), str(g.n_seeds), g.name] for labels, g in rows]
    return markdown_table(header, body, right)


def _order(value: Any, order: Sequence[Any]) -> tuple[int, str]:
    return (order.index(value), "") if value in order else (len(order), str(value))


def _hours_key(meta: dict[str, Any]) -> tuple[int, float]:
    """Whole train set first, then label subsets by decreasing hours."""
    hours = meta.get("train_hours")
    return (0, 0.0) if hours is None else (1, -float(hours))


# ----------------------------------------------------------------------------------------------------------
# Tables


def _architecture_label(meta: dict[str, Any]) -> str:
    arch = meta["architecture"]
    if arch == "baseline":
        return "Baseline"
    if arch == "lm":
        lm = meta.get("lm")
        return f"LM-based ({lm_display_name(lm)})" if lm else "LM-based"
    return arch


def _transcript_label(meta: dict[str, Any]) -> str:
    label = {"gt": "GT", "asr": "ASR"}.get(meta["input"], meta["input"])
    hours = meta.get("train_hours")
    return f"{label} ({format_hours(float(hours))})" if hours is not None else label


def _two_step_rows(groups: Sequence[SystemGroup]) -> list[tuple[list[str], SystemGroup]]:
    chosen = [g for g in groups if g.family == "two_step"]
    chosen.sort(
        key=lambda g: (
            _order(g.meta["architecture"], ("baseline", "lm")),
            str(g.meta.get("lm")),
            _hours_key(g.meta),
            _order(g.meta["input"], ("gt", "asr")),
            g.name,
        )
    )
    return [([_architecture_label(g.meta), _transcript_label(g.meta)], g) for g in chosen]


def table1(groups: Sequence[SystemGroup], transcripts: str = "asr") -> str | None:
    """Table 1: the 2-step systems on ASR transcripts (``transcripts="asr"``: every 2-step system is a row)
    or on GT transcripts (``"gt"``: only systems scored there); None when there is no row."""
    sets = list(ASR_SETS) if transcripts == "asr" else list(VALID_SETS)
    rows = _two_step_rows(groups)
    if transcripts != "asr":
        rows = [(labels, g) for labels, g in rows if any(g.stats(s) for s in sets)]
    if not rows:
        return None
    return _score_table(["Architecture", "Train transcript"], rows, sets)


INPUT_LABELS = {"fbank": "FBank", "encoder": "CTC-Attention encoder"}
CLASSIFIER_LABELS = {"cnn": "CNN", "blstm": "BLSTM"}


def table2(groups: Sequence[SystemGroup]) -> str | None:
    """Table 2: E2E systems trained supervised on the whole train set (no pseudo labels)."""
    chosen = [
        g
        for g in groups
        if g.family == "e2e" and not g.meta.get("pseudo_labeler") and g.meta.get("train_hours") is None
    ]
    if not chosen:
        return None
    chosen.sort(
        key=lambda g: (
            _order(g.meta["input"], ("fbank", "encoder")),
            _order(g.meta["architecture"], ("cnn", "blstm")),
            g.name,
        )
    )
    rows = [
        (
            [
                INPUT_LABELS.get(g.meta["input"], g.meta["input"]),
                CLASSIFIER_LABELS.get(g.meta["architecture"], g.meta["architecture"]),
            ],
            g,
        )
        for g in chosen
    ]
    return _score_table(["Input feature", "Classifier"], rows, VALID_SETS)


def _base_set(name: str) -> tuple[str, bool]:
    return (name[:-4], True) if name.endswith("_asr") else (name, False)


def table3(labelers: Sequence[PseudoLabeler]) -> str | None:
    """Table 3: each pseudo labeler's unweighted/weighted recall on the Negative/Positive utterances of each
    evaluated set; a labeler evaluated on ``<set>_asr`` gets a second row ``(ASR transcript)``."""
    rows_data: list[tuple[tuple[str, bool], dict[str, dict[str, Any]]]] = []
    base_sets: set[str] = set()
    for labeler in sorted(labelers, key=lambda lab: (lab.display_name, lab.name)):
        by_transcript: dict[bool, dict[str, dict[str, Any]]] = {}
        for set_name, scores in labeler.evals.items():
            base, asr = _base_set(set_name)
            by_transcript.setdefault(asr, {})[base] = scores
            base_sets.add(base)
        for asr in sorted(by_transcript):
            rows_data.append(((labeler.display_name, asr), by_transcript[asr]))
    if not rows_data:
        return None
    sets = [s for s in VALID_SETS if s in base_sets] + sorted(base_sets - set(VALID_SETS))
    header = ["Pseudo labeler"]
    for s in sets:
        role = SET_ROLES.get(s, s)
        header += [f"{role} U-REC", f"{role} W-REC"]
    body = []
    for (name, asr), evals in rows_data:
        row = [f"{name} (ASR transcript)" if asr else name]
        for s in sets:
            scores = evals.get(s)
            row += [
                f"{scores[k]:.2f}" if scores else MISSING for k in ("unweighted_recall", "weighted_recall")
            ]
        body.append(row)
    return markdown_table(header, body, [False] + [True] * (2 * len(sets)))


def _table4_groups(groups: Sequence[SystemGroup]) -> list[SystemGroup]:
    e2e = [g for g in groups if g.family == "e2e"]
    combos = {(g.meta["input"], g.meta["architecture"]) for g in e2e if g.meta.get("pseudo_labeler")}
    if not combos:
        combos = {("encoder", "blstm")}
    return [g for g in e2e if (g.meta["input"], g.meta["architecture"]) in combos]


def table4(
    groups: Sequence[SystemGroup],
    full_train_hours: float | None,
    names: Mapping[str, str] | None = None,
) -> str | None:
    """Table 4: the E2E systems of the semi-supervised experiments (and the supervised-only ones with the same
    input and classifier), by fine-tuning hours, pseudo labeler and semi-supervised training dataset.
    ``names``: labeler dir → shown name (:func:`speechsent.report.collect.labeler_names`)."""
    chosen = _table4_groups(groups)
    if not chosen:
        return None
    several = len({(g.meta["input"], g.meta["architecture"]) for g in chosen}) > 1

    def key(g: SystemGroup) -> tuple:
        m = g.meta
        return (
            _hours_key(m),
            m.get("pseudo_labeler") is not None,
            labeler_display_name(m["pseudo_labeler"], names) if m.get("pseudo_labeler") else "",
            _order(m.get("pseudo_transcript"), (None, "gt", "asr")),
            len(m.get("pseudo_sets") or ()),
            tuple(m.get("pseudo_sets") or ()),
            m["input"],
            m["architecture"],
            g.name,
        )

    rows = []
    for g in sorted(chosen, key=key):
        m = g.meta
        hours = group_hours(m, full_train_hours)
        train_set = m.get("train_set") or "train"
        finetune = f"{train_set} ({format_hours(hours)})" if hours is not None else f"{train_set} (all)"
        labeler = labeler_display_name(m["pseudo_labeler"], names) if m.get("pseudo_labeler") else MISSING
        sets = (
            pseudo_sets_notation(m.get("pseudo_sets"), m.get("pseudo_transcript"))
            if m.get("pseudo_labeler")
            else MISSING
        )
        labels = [finetune, labeler, sets]
        if several:
            labels.insert(
                0,
                f"{INPUT_LABELS.get(m['input'], m['input'])} + "
                f"{CLASSIFIER_LABELS.get(m['architecture'], m['architecture'])}",
            )
        rows.append((labels, g))
    headers = ["Fine-tuning dataset", "Pseudo labeler", "Semi-supervised training dataset"]
    if several:
        headers.insert(0, "Input + classifier")
    return _score_table(headers, rows, VALID_SETS)


# ----------------------------------------------------------------------------------------------------------
# The document


def _fig2_section(figures: Sequence[Fig2Data], pngs: Sequence[str]) -> list[str]:
    out = []
    for fig, png in zip(figures, pngs, strict=True):
        out.append(f"![Fig. 2 {fig.input} + {fig.architecture}]({png})")
        out.append("")
        if fig.baseline is None:
            out.append(
                f"No full-data supervised {fig.input} + {fig.architecture} system scored on "
                f"`{fig.eval_set}`: no baseline to reach."
            )
            out.append("")
            continue
        full = format_hours(fig.full_train_hours) if fig.full_train_hours else "unknown hours"
        out.append(
            f"Baseline: `{fig.baseline_system}` (supervised, whole train set, {full}): "
            f"{format_cell(fig.baseline, fig.baseline.n)} {fig.metric} on `{fig.eval_set}`."
        )
        out.append("")
        rows = []
        for c in fig.crossings:
            if c.hours is None:
                reach, saving = "not reached", MISSING
            else:
                reach = (
                    (f"≤ {hours_value(c.hours)}" + " (at the fewest hours measured)")
                    if c.at_first_point
                    else hours_value(c.hours)
                )
                saving = f"{c.saving_percent:.1f}%" if c.saving_percent is not None else MISSING
                if c.at_first_point and c.saving_percent is not None:
                    saving = "≥ " + saving
            rows.append([c.label, reach, saving])
        if rows:
            out.append(
                markdown_table(
                    ["Pseudo configuration", "Reaches baseline at (h)", "Annotation saved"],
                    rows,
                    [False, True, True],
                )
            )
            out.append("")
            out.append(
                "Hours interpolated linearly between the measured points around the crossing; annotation "
                "saved = 1 - hours / whole train set hours (the paper: ~30 h of 86 h, 65% less)."
            )
            out.append("")
    return out


def _header(
    results: ExpResults, full_train_hours: float | None, corpus: str | None, date: str | None
) -> list[str]:
    """The title, the one-line summary (systems, groups, seeds, train hours), the legend, what was skipped."""
    groups = results.groups
    seeds = sorted({g.n_seeds for g in groups})
    seed_text = (f"{seeds[0]}" if len(seeds) == 1 else f"{seeds[0]}-{seeds[-1]}") if seeds else "0"
    header = [f"Exp dir `{results.exp_dir}`"]
    if date:
        header.append(f"generated {date}")
    header.append(
        f"{len(results.runs)} systems in {len(groups)} groups, {seed_text} seed(s) per group "
        "(mean ± sample std over seeds; (n=k): only k repeats scored on that set)"
    )
    header.append(
        f"whole train set: {format_hours(full_train_hours)}"
        if full_train_hours
        else "whole train set: hours unknown"
    )
    out = [
        f"# Speech sentiment results{f' — {corpus}' if corpus else ''}",
        "",
        "; ".join(header) + ".",
        "",
        LEGEND,
        "",
    ]
    if results.skipped:
        out += [
            f"Skipped (not scored or no system.json): {', '.join(f'`{s}`' for s in results.skipped)}.",
            "",
        ]
    return out


def _table_sections(
    results: ExpResults, full_train_hours: float | None, names: Mapping[str, str]
) -> list[tuple[str, Callable[[], str | None], str]]:
    """(title, table maker, caption) of Tables 1, 1b, 2, 3 and 4."""
    groups = results.groups
    return [
        (
            "Table 1: 2-step pipeline, evaluated on ASR transcripts",
            lambda: table1(groups, "asr"),
            "Rows: classifier architecture x transcripts of the train set it was trained on (hours: a label "
            f"subset; otherwise the whole train set). Columns: {_sets_caption(ASR_SETS)}.",
        ),
        (
            "Table 1b: 2-step pipeline, evaluated on GT transcripts",
            lambda: table1(groups, "gt"),
            f"The systems of Table 1 scored on the ground-truth transcripts ({_sets_caption(VALID_SETS)}).",
        ),
        (
            "Table 2: E2E baselines (supervised, whole train set)",
            lambda: table2(groups),
            f"Columns: {_sets_caption(VALID_SETS)}.",
        ),
        (
            "Table 3: pseudo labelers on the Negative/Positive utterances",
            lambda: table3(results.labelers),
            "Recall of the binary pseudo labelers on the Negative and Positive utterances only (not "
            "comparable with the 3-class scores); (ASR transcript): labeling the ASR output.",
        ),
        (
            "Table 4: semi-supervised E2E",
            lambda: table4(groups, full_train_hours, names),
            "S: swbd_train, F: fisher pseudo-labeled from GT transcripts; S_asr, F_asr: from ASR "
            f"transcripts; -: supervised only. Columns: {_sets_caption(VALID_SETS)}.",
        ),
    ]


def render_results(
    results: ExpResults,
    *,
    full_train_hours: float | None,
    corpus: str | None = None,
    date: str | None = None,
    fig2: Sequence[Fig2Data] = (),
    fig2_pngs: Sequence[str] = (),
    confusion_pngs: Sequence[tuple[str, str, str]] = (),
    systems_index: bool = True,
) -> str:
    """The whole RESULTS.md. ``fig2_pngs`` (one per ``fig2`` figure) and ``confusion_pngs`` ((group, set,
    path) triples) are links relative to RESULTS.md; ``date`` None leaves the date out of the header;
    ``systems_index`` appends the list of every system group (what each table row averages)."""
    names = labeler_names(results.labelers)
    out = _header(results, full_train_hours, corpus, date)
    for title, make, caption in _table_sections(results, full_train_hours, names):
        table = make()
        if table is None:
            continue
        out += [f"## {title}", "", caption, "", table, ""]
    if fig2:
        out += ["## Figure 2: annotation efficiency", ""]
        out += _fig2_section(fig2, fig2_pngs)
    if confusion_pngs:
        out += [
            "## Confusion matrices",
            "",
            markdown_table(
                ["System", "Set", "PNG"],
                [[g, s, f"[{os.path.basename(p)}]({p})"] for g, s, p in confusion_pngs],
            ),
            "",
        ]
    if results.groups and systems_index:
        out += ["## Systems", "", _systems_index(results.groups, names), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _systems_index(groups: Sequence[SystemGroup], names: Mapping[str, str]) -> str:
    rows = []
    for g in groups:
        m = g.meta
        hours = m.get("train_hours")
        rows.append(
            [
                g.name,
                m["family"],
                m["architecture"],
                m["input"],
                format_hours(float(hours)) if hours is not None else "all",
                labeler_display_name(m["pseudo_labeler"], names) if m.get("pseudo_labeler") else MISSING,
                pseudo_sets_notation(m.get("pseudo_sets"), m.get("pseudo_transcript")),
                ", ".join(str(s) for s in g.seeds),
                ", ".join(g.sets()) or MISSING,
                ", ".join(r.name for r in g.runs),
            ]
        )
    return markdown_table(
        [
            "Group",
            "Family",
            "Architecture",
            "Input",
            "Train hours",
            "Pseudo labeler",
            "Pseudo sets",
            "Seeds",
            "Scored sets",
            "Systems",
        ],
        rows,
    )
