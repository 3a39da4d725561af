"""Markdown formatting of the report: score cells (mean ± std over seeds), hours, tables padded to equal
column widths, and the score tables shared by Tables 1-4 (label columns, 6 metric columns per scored set,
Seeds, System)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from speechsent.report.collect import METRICS, MetricStat, SystemGroup

__all__ = [
    "ASR_SETS",
    "LEGEND",
    "METRIC_HEADERS",
    "MISSING",
    "MISSING_SYSTEM",
    "SET_ROLES",
    "VALID_SETS",
    "format_cell",
    "format_hours",
    "hours_key",
    "hours_value",
    "markdown_table",
    "order_key",
    "score_table",
    "sets_caption",
]


#: Short column names of :data:`METRICS` (U = unweighted/macro average, W = weighted by class support).
METRIC_HEADERS = ("U-REC", "U-PRE", "U-F1", "W-REC", "W-PRE", "W-F1")
MISSING = "-"
#: The System cell of a table row the run options say should exist but that has no system.
MISSING_SYSTEM = "**missing**"
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


def sets_caption(sets: Sequence[str]) -> str:
    parts = []
    for s in sets:
        base = s[:-4] if s.endswith("_asr") else s
        role = {"Val": "validation", "Eval": "evaluation"}.get(SET_ROLES.get(base, ""), "")
        parts.append(f"{role} set `{s}`" if role else f"`{s}`")
    return ", ".join(parts)


def score_table(
    label_headers: Sequence[str],
    rows: Sequence[tuple[Sequence[str], SystemGroup | str]],
    sets: Sequence[str],
) -> str:
    """Label columns, 6 metric columns per set, Seeds, System. A row whose group is a string is a row
    without a system: every score cell ``-``, Seeds 0, System ``**missing** (<the string>)``."""
    header = [*label_headers, *_set_columns(sets), "Seeds", "System"]
    right = [False] * len(label_headers) + [True] * (6 * len(sets) + 1) + [False]
    body = []
    for labels, g in rows:
        if isinstance(g, str):
            body.append([*labels, *([MISSING] * (6 * len(sets))), "0", f"{MISSING_SYSTEM} ({g})"])
        else:
            body.append([*labels, *_score_cells(g, sets), str(g.n_seeds), g.name])
    return markdown_table(header, body, right)


def order_key(value: Any, order: Sequence[Any]) -> tuple[int, str]:
    return (order.index(value), "") if value in order else (len(order), str(value))


def hours_key(meta: dict[str, Any]) -> tuple[int, float]:
    """Whole train set first, then label subsets by decreasing hours."""
    hours = meta.get("train_hours")
    return (0, 0.0) if hours is None else (1, -float(hours))
