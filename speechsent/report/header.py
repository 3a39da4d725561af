"""RESULTS.md's header sections, as ESPnet's RESULTS.md: ``## Environments`` (date, toolkit git hash,
Python / torch / espnet / transformers versions, GPU type, where the run options came from), ``## Data``
(the corpora of db.sh; each set's utterances and hours, its ASR WER and how much of it the ASR heard in
training), ``## ASR`` and ``## Departures from the paper`` (:mod:`speechsent.report.departures`). ::

    from speechsent.report.header import header_sections
    lines = header_sections(facts, results)   # markdown lines
"""

from __future__ import annotations

from speechsent.report.collect import ExpResults
from speechsent.report.departures import departures
from speechsent.report.run_info import CORPORA, RunFacts, SetSize
from speechsent.report.tables import markdown_table

__all__ = ["header_sections"]


def _code(value: object) -> str:
    return f"`{value}`"


def _environment(facts: RunFacts) -> list[str]:
    env = facts.env
    lines = ["## Environments", ""]
    if env is not None:
        lines += [f"- date: {_code(env.date)}"] if env.date else []
        lines += [
            f"- speechsent git hash: {_code(env.revision)}",
            f"- python version: {_code(env.python)}",
            *(f"- {name} version: {_code(version)}" for name, version in env.versions.items()),
            f"- GPU: {_code(env.gpu)}",
        ]
    o = facts.options
    if o.known:
        ngpu = o.get("ngpu")
        lines.append(f"- run options: {_code(o.source)} (recipe {_code(o.get('recipe') or '?')}"
                     + (f", --ngpu {ngpu}" if ngpu else "") + ")")  # fmt: skip
    else:
        lines.append("- run options: unknown (no --run_options): the departures below come from the exp dir")
    return [*lines, ""]


def _roles(facts: RunFacts) -> dict[str, list[str]]:
    o = facts.options
    roles: dict[str, list[str]] = {}

    def add(names: list[str] | None, role: str) -> None:
        for n in names or []:
            roles.setdefault(n, []).append(role)

    add([facts.train_set], "train")
    add([facts.valid_set], "validation")
    add(facts.test_sets, "evaluation")
    add(o.list("unlabeled_sets"), "unlabeled (pseudo-labeled)")
    add(facts.asr.train_sets, "ASR training")
    return roles


def _hours(size: SetSize | None) -> str:
    if size is None or size.hours is None:
        return "?"
    return f"{size.hours:.2f}" if size.hours >= 1 else f"{size.hours:.3g}"


def _overlap_cell(facts: RunFacts, name: str) -> str:
    overlap = facts.asr.overlap
    if not overlap:
        return "unknown"
    o = (overlap.get("sets") or {}).get(name)
    if not isinstance(o, dict):
        return "unknown" if name not in facts.asr.train_sets else "(ASR training set)"
    hours, frac = o.get("overlap_hours"), o.get("overlap_fraction")
    text = f"{hours:.2f} h" if isinstance(hours, (int, float)) else "? h"
    return text + (f" ({100 * frac:.1f}%)" if isinstance(frac, (int, float)) else "")


def _data(facts: RunFacts) -> list[str]:
    lines = ["## Data", ""]
    corpora = [(c, facts.options.get(c)) for c in CORPORA if facts.options.get(c) is not None]
    for name, path in corpora:
        lines.append(f"- {name}: {_code(path) if path else '(empty: the corpus was synthesized)'}")
    if corpora:
        lines.append("")
    roles = _roles(facts)
    wers: dict[str, list[str]] = {}
    for w in facts.asr.wers:
        wers.setdefault(w.set, []).append(f"{w.wer:.2f} ({w.mode})")
    names = list(dict.fromkeys([*roles, *facts.sizes, *wers]))
    rows = []
    for name in names:
        size = facts.sizes.get(name)
        rows.append([
            name,
            ", ".join(roles.get(name, [])) or "-",
            str(size.utts) if size and size.utts is not None else "?",
            _hours(size),
            "; ".join(wers.get(name, [])) or "-",
            _overlap_cell(facts, name),
        ])  # fmt: skip
    if rows:
        header = ["Set", "Role", "Utterances", "Hours", "ASR WER % (mode)", "Heard in ASR training"]
        lines += [markdown_table(header, rows, [False, False, True, True, True, True]), ""]
        lines += [
            "Hours from each data dir's utt2dur; WER from the ASR's decode_<mode>/<set>/score.txt; "
            "heard in ASR training: the hours (share) of the set whose audio is in the ASR's training data.",
            "",
        ]
    return lines


def _asr(facts: RunFacts) -> list[str]:
    a = facts.asr
    if not (a.model or a.train_sets or a.encoder):
        return []
    shape = ", ".join(
        x
        for x in (
            f"encoder {a.encoder}" if a.encoder else "",
            f"{a.blocks} blocks x {a.dim}" if a.blocks and a.dim else "",
            f"{a.nbpe} BPE" if a.nbpe else "",
        )
        if x
    )
    trained = "external model" if a.external else f"trained on {' + '.join(a.train_sets) or '?'}"
    hours = f" ({a.train_hours:.1f} h)" if a.train_hours is not None and not a.external else ""
    lines = [
        "## ASR",
        "",
        f"- model: {_code(a.model or '?')}: {trained}{hours}" + (f"; {shape}" if shape else ""),
    ]
    if a.decode_mode:
        lines.append(f"- decoding: {_code(a.decode_mode)}")
    fast = facts.options.get("fast_decode_sets")
    if fast:
        lines.append(f"- fast (CTC greedy) decoding of: {_code(fast)}")
    if not a.overlap:
        lines.append("- overlap of the ASR's training audio with the sets: unknown")
    return [*lines, ""]


def header_sections(facts: RunFacts, results: ExpResults) -> list[str]:
    """The markdown lines of the Environments, Data, ASR and Departures sections."""
    lines = _environment(facts) + _data(facts) + _asr(facts)
    lines += ["## Departures from the paper", ""]
    found = departures(facts, results)
    lines += [f"- {line}" for line in found] or ["- none found"]
    return [*lines, ""]
