"""RESULTS.md: the paper's Tables 1-4 as markdown, from the systems of :mod:`speechsent.report.collect`.

* Table 1 — 2-step pipeline: Architecture (Baseline / LM-based with the LM's name) x train transcript type
  (GT, ASR, ``ASR (5h)`` for a label subset), scored on ASR transcripts (``swbd_test_asr`` validation,
  ``swbd_holdout_asr`` evaluation), the LM layer mode in the label when not the default (``pooler``, ``cls``),
  then the GT-text topline rows (LM system trained on GT, scored on GT text); Table 1b: the same systems on
  GT transcripts where scored.
* Table 2 — E2E baselines trained on the whole train set: input feature x classifier on swbd_test/holdout.
* Table 3 — pseudo labelers (the paper's names): unweighted and weighted recall on the Negative/Positive
  utterances of GT and ASR transcripts; SST-2 dev accuracy when known.
* Table 4 — semi-supervised E2E: fine-tuning dataset (hours) x pseudo labeler x semi-supervised training
  dataset (``S``: swbd_train, ``F``: fisher, ``_asr``: pseudo-labeled from ASR transcripts; ``-``: supervised
  only), :mod:`speechsent.report.table4`.

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
    ExpResults,
    PseudoLabeler,
    SystemGroup,
    SystemRun,
    labeler_display_name,
    labeler_labels,
    labeler_names,
    lm_display_name,
)
from speechsent.report.markdown import (
    ASR_SETS,
    LEGEND,
    METRIC_HEADERS,
    MISSING,
    SET_ROLES,
    VALID_SETS,
    format_cell,
    format_hours,
    hours_key,
    hours_value,
    markdown_table,
    order_key,
    score_table,
    sets_caption,
)
from speechsent.report.names import input_key, input_label
from speechsent.report.plots import Crossing, Fig2Data, pseudo_sets_notation
from speechsent.report.table4 import CLASSIFIER_LABELS, Table4Grid, table4

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
    "topline_groups",
]

#: The LM layer modes of a 2-step LM system other than the default (the paper's sum of the last 4 layers).
LM_LAYER_LABELS = {
    "pooler": "pooler: BERT's pooled sentence embedding",
    "cls": "cls: raw [CLS] vector",
    "last": "last layer",
}
DEFAULT_LM_LAYERS = "sum_last4"

# ----------------------------------------------------------------------------------------------------------
# Tables


def _architecture_label(meta: dict[str, Any]) -> str:
    """``Baseline``; ``LM-based (<lm>)``, with the layer mode when it is not the default sum of the last 4."""
    arch = meta["architecture"]
    if arch == "baseline":
        return "Baseline"
    if arch == "lm":
        parts = [lm_display_name(meta["lm"])] if meta.get("lm") else []
        layers = meta.get("lm_layers")
        if layers and layers != DEFAULT_LM_LAYERS:
            parts.append(LM_LAYER_LABELS.get(layers, f"layers {layers}"))
        return f"LM-based ({', '.join(parts)})" if parts else "LM-based"
    return arch


def _transcript_label(meta: dict[str, Any]) -> str:
    label = {"gt": "GT", "asr": "ASR"}.get(meta["input"], meta["input"])
    hours = meta.get("train_hours")
    return f"{label} ({format_hours(float(hours))})" if hours is not None else label


def _two_step_rows(groups: Sequence[SystemGroup]) -> list[tuple[list[str], SystemGroup]]:
    chosen = [g for g in groups if g.family == "two_step"]
    chosen.sort(
        key=lambda g: (
            order_key(g.meta["architecture"], ("baseline", "lm")),
            str(g.meta.get("lm")),
            (g.meta.get("lm_layers") or DEFAULT_LM_LAYERS) != DEFAULT_LM_LAYERS,
            str(g.meta.get("lm_layers")),
            hours_key(g.meta),
            order_key(g.meta["input"], ("gt", "asr")),
            g.name,
        )
    )
    return [([_architecture_label(g.meta), _transcript_label(g.meta)], g) for g in chosen]


def topline_groups(groups: Sequence[SystemGroup]) -> list[SystemGroup]:
    """The GT-text topline the SLUE benchmark reports: each LM-based 2-step system trained on the whole
    train set's GT transcripts and scored on GT text, as a group whose ``<set>_asr`` scores are its
    ``<set>`` scores (so it fits Table 1's columns)."""
    out = []
    for g in groups:
        m = g.meta
        if g.family != "two_step" or m["architecture"] != "lm" or m["input"] != "gt" or m.get("train_hours"):
            continue
        if not any(g.stats(s) for s in VALID_SETS):
            continue
        runs = [
            SystemRun(r.name, r.dir, r.meta, {f"{s}_asr": r.scores[s] for s in VALID_SETS if s in r.scores})
            for r in g.runs
        ]
        out.append(SystemGroup(g.name, m, runs))
    return out


def table1(groups: Sequence[SystemGroup], transcripts: str = "asr") -> str | None:
    """Table 1: the 2-step systems on ASR transcripts (``transcripts="asr"``: every 2-step system is a row,
    Baseline then LM-based, each GT / ASR / ASR (<h>); then the GT-text topline rows,
    :func:`topline_groups`) or on GT transcripts (``"gt"``: only systems scored there); None: no row."""
    sets = list(ASR_SETS) if transcripts == "asr" else list(VALID_SETS)
    rows: list[tuple[list[str], SystemGroup | str]] = list(_two_step_rows(groups))
    if transcripts != "asr":
        rows = [(labels, g) for labels, g in rows if not isinstance(g, str) and any(g.stats(s) for s in sets)]
    else:
        rows += [([_architecture_label(g.meta), TOPLINE_LABEL], g) for g in topline_groups(groups)]
    if not rows:
        return None
    return score_table(["Architecture", "Train transcript"], rows, sets)


TOPLINE_LABEL = "GT, scored on GT text (topline)"


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
            order_key(input_key(g.meta), ("fbank", "encoder")),
            order_key(g.meta["architecture"], ("cnn", "blstm")),
            g.name,
        )
    )
    rows = [
        (
            [
                input_label(input_key(g.meta)),
                CLASSIFIER_LABELS.get(g.meta["architecture"], g.meta["architecture"]),
            ],
            g,
        )
        for g in chosen
    ]
    return score_table(["Input feature", "Classifier"], rows, VALID_SETS)


def _base_set(name: str) -> tuple[str, bool]:
    return (name[:-4], True) if name.endswith("_asr") else (name, False)


def table3(labelers: Sequence[PseudoLabeler]) -> str | None:
    """Table 3: each pseudo labeler (named as the paper does: ``BERT-SST2``) with its unweighted/weighted
    recall on the Negative/Positive utterances of each evaluated set; a labeler evaluated on ``<set>_asr``
    gets a second row ``(ASR transcript)``; an ``SST-2 dev acc`` column when a labeler's is known; the
    labeler's dir last."""
    names = labeler_names(labelers)
    shown = labeler_labels([lab.name for lab in labelers], names)
    rows_data: list[tuple[PseudoLabeler, bool, dict[str, dict[str, Any]]]] = []
    base_sets: set[str] = set()
    for labeler in sorted(labelers, key=lambda lab: (shown[lab.name], lab.name)):
        by_transcript: dict[bool, dict[str, dict[str, Any]]] = {}
        for set_name, scores in labeler.evals.items():
            base, asr = _base_set(set_name)
            by_transcript.setdefault(asr, {})[base] = scores
            base_sets.add(base)
        for asr in sorted(by_transcript):
            rows_data.append((labeler, asr, by_transcript[asr]))
    if not rows_data:
        return None
    sets = [s for s in VALID_SETS if s in base_sets] + sorted(base_sets - set(VALID_SETS))
    dev = any(lab.sst2_dev_accuracy is not None for lab, _, _ in rows_data)
    header = ["Pseudo labeler"]
    for s in sets:
        role = SET_ROLES.get(s, s)
        header += [f"{role} U-REC", f"{role} W-REC"]
    header += ["SST-2 dev acc"] if dev else []
    body = []
    for labeler, asr, evals in rows_data:
        name = shown[labeler.name]
        row = [f"{name} (ASR transcript)" if asr else name]
        for s in sets:
            scores = evals.get(s)
            row += [
                f"{scores[k]:.2f}" if scores else MISSING for k in ("unweighted_recall", "weighted_recall")
            ]
        if dev:
            acc = labeler.sst2_dev_accuracy
            row.append(f"{acc:.2f}" if acc is not None else MISSING)
        body.append([*row, labeler.name])
    header.append("Labeler dir")
    return markdown_table(header, body, [False] + [True] * (len(header) - 2) + [False])


# ----------------------------------------------------------------------------------------------------------
# The document


def _crossing_row(c: Crossing) -> list[str]:
    """A Fig. 2 crossing: first measured subset, its saving, interpolated hours, its saving."""
    if c.hours is None or c.first_hours is None:
        return [c.label, "not reached", MISSING, "not reached", MISSING]

    def pct(value: float | None, at_most: bool) -> str:
        if value is None:
            return MISSING
        return ("≥ " if at_most else "") + f"{value:.1f}%"

    interpolated = hours_value(c.hours)
    if c.at_first_point:
        interpolated = f"≤ {interpolated} (at the fewest hours measured)"
    return [
        c.label,
        hours_value(c.first_hours) + (" (the fewest measured)" if c.at_first_point else ""),
        pct(c.first_saving_percent, c.at_first_point),
        interpolated,
        pct(c.saving_percent, c.at_first_point),
    ]


def _fig2_section(figures: Sequence[Fig2Data], pngs: Sequence[str]) -> list[str]:
    out = []
    for fig, png in zip(figures, pngs, strict=True):
        out.append(f"![Fig. 2 {input_label(fig.input)} + {fig.architecture}]({png})")
        out.append("")
        if fig.baseline is None:
            out.append(
                f"No full-data supervised {input_label(fig.input)} + {fig.architecture} system scored on "
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
        rows = [_crossing_row(c) for c in fig.crossings]
        if rows:
            out.append(
                markdown_table(
                    [
                        "Pseudo configuration",
                        "First measured subset reaching baseline (h)",
                        "Annotation saved",
                        "Interpolated crossing (h)",
                        "Annotation saved (interpolated)",
                    ],
                    rows,
                    [False, True, True, True, True],
                )
            )
            out.append("")
            out.append(
                "First measured subset: the fewest fine-tuning hours measured whose mean score reaches the "
                "baseline (the paper's reading: 30 h of 86 h, 65% saved); interpolated: linearly between the "
                "measured points around the crossing. Annotation saved = 1 - hours / whole train set hours."
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
    results: ExpResults, full_train_hours: float | None, names: Mapping[str, str], grid: Table4Grid | None
) -> list[tuple[str, Callable[[], str | None], str]]:
    """(title, table maker, caption) of Tables 1, 1b, 2, 3 and 4."""
    groups = results.groups
    return [
        (
            "Table 1: 2-step pipeline, evaluated on ASR transcripts",
            lambda: table1(groups, "asr"),
            "Rows: classifier architecture x transcripts of the train set it was trained on (hours: a label "
            f"subset; otherwise the whole train set). Columns: {sets_caption(ASR_SETS)}. "
            f"'{TOPLINE_LABEL}': the LM-based system trained on GT transcripts scored on the GT text of "
            "swbd_test / swbd_holdout instead (the topline the SLUE benchmark reports; not a paper row).",
        ),
        (
            "Table 1b: 2-step pipeline, evaluated on GT transcripts",
            lambda: table1(groups, "gt"),
            f"The systems of Table 1 scored on the ground-truth transcripts ({sets_caption(VALID_SETS)}).",
        ),
        (
            "Table 2: E2E baselines (supervised, whole train set)",
            lambda: table2(groups),
            f"Columns: {sets_caption(VALID_SETS)}.",
        ),
        (
            "Table 3: pseudo labelers on the Negative/Positive utterances",
            lambda: table3(results.labelers),
            "Recall of the binary pseudo labelers on the Negative and Positive utterances only (not "
            "comparable with the 3-class scores); (ASR transcript): labeling the ASR output.",
        ),
        (
            "Table 4: semi-supervised E2E",
            lambda: table4(groups, full_train_hours, names, grid),
            "S: swbd_train, F: fisher pseudo-labeled from GT transcripts; S_asr, F_asr: from ASR "
            f"transcripts; -: supervised only; **missing**: a row the run options ask for without a system "
            f"(the expected system dir in brackets). Columns: {sets_caption(VALID_SETS)}.",
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
    preamble: Sequence[str] = (),
    grid: Table4Grid | None = None,
) -> str:
    """The whole RESULTS.md. ``fig2_pngs`` (one per ``fig2`` figure) and ``confusion_pngs`` ((group, set,
    path) triples) are links relative to RESULTS.md; ``date`` None leaves the date out of the header;
    ``systems_index`` appends the list of every system group (what each table row averages); ``preamble``:
    markdown lines after the summary (:func:`speechsent.report.header.header_sections`); ``grid``: the rows
    Table 4 must have (:class:`speechsent.report.table4.Table4Grid`)."""
    names = labeler_names(results.labelers)
    out = _header(results, full_train_hours, corpus, date) + list(preamble)
    for title, make, caption in _table_sections(results, full_train_hours, names, grid):
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
                input_key(m),
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
