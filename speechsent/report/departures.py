"""RESULTS.md's "Departures from the paper": generated from the run's options and measurements
(:class:`speechsent.report.run_info.RunFacts`) and the systems found, compared with the paper's setting held
as data in :data:`PAPER` (Shon et al., Interspeech 2021). A line appears only where the run differs (the
paper's in-house ASR always differs); each says ``paper: ...; ours: ...``. Without run options the lines
come from what the exp dir shows (and say what is unknown). ::

    from speechsent.report.departures import departures
    for line in departures(facts, results):
        print("-", line)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from speechsent.report.collect import ExpResults, labeler_display_name, labeler_paper_name, lm_display_name
from speechsent.report.names import encoder_input_key, input_key, input_label
from speechsent.report.run_info import RunFacts, option_value

__all__ = ["PAPER", "departures", "parse_pseudo_config"]

#: The paper's experimental setting: the one place the report compares a run with.
PAPER: dict = {
    "split": "lists",  # the authors' split (id lists provided by the corpus' authors; not public)
    "split_hours": {"train": 86.0, "valid": 5.0, "test": 5.0},
    "asr": (
        "an in-house E2E Transformer CTC-attention ASR (12 blocks x 512, 2,000 BPE) never trained on "
        "SWBD-Sentiment for the E2E encoder; the 2-step ASR transcripts from a hybrid HMM-DNN ASR trained on "
        "~1,900 h of in-house calls + Switchboard Cellular Part 1"
    ),
    "asr_blocks": 12,
    "asr_dim": 512,
    "nbpe": 2000,
    "table3_labelers": ("BERT-SST2", "DistilBERT-SST2", "RoBERTa-SST2", "XLNet-SST2"),
    # Table 4's pseudo configurations: (labeler, pseudo-labeled sets, transcripts)
    "table4_configs": (
        ("BERT-SST2", ("swbd_train",), "gt"),
        ("BERT-SST2", ("swbd_train", "fisher"), "gt"),
        ("XLNet-SST2", ("swbd_train", "fisher"), "gt"),
        ("BERT-SST2", ("swbd_train", "fisher"), "asr"),
    ),
    "table4_hours": ("all", 5.0),
    "text_hours": (5.0,),
    "fisher_hours": 2000.0,
    "fig2_step_hours": 2.5,
    "seeds": 1,
    "text_lm": "bert-base-uncased",
    "text_lm_layers": "sum_last4",
    "ngpu": 1,  # not stated in the paper: a line appears for CPU runs and for several GPUs (DDP)
}

_TOLERANCE = 0.10  # hours within 10% of the paper's count as the same


def parse_pseudo_config(spec: str) -> tuple[str, tuple[str, ...], str]:
    """``LABELERTAG:SET+SET:gt|asr`` (``e2e_pseudo_configs``) → (tag, sets, transcript); ValueError if not."""
    parts = spec.split(":")
    if len(parts) != 3 or not parts[0] or not parts[1] or parts[2] not in ("gt", "asr"):
        raise ValueError(f"pseudo config {spec!r} is not LABELERTAG:SET+SET:gt|asr")
    return parts[0], tuple(parts[1].split("+")), parts[2]


def _h(hours: float | None) -> str:
    return "?" if hours is None else (f"{hours:.0f}" if hours >= 100 else f"{hours:.3g}") + " h"


def _close(a: float | None, b: float) -> bool:
    return a is not None and abs(a - b) <= _TOLERANCE * b


def _split(facts: RunFacts, results: ExpResults) -> str | None:
    opts = facts.options.get("local_data_opts")
    split = option_value(opts, "split") or ("lists" if option_value(opts, "split_lists") else None)
    if split is None and facts.options.known:
        split = "conversation"  # speechsent-prepare-data's default
    roles = {"train": facts.train_set, "valid": facts.valid_set, "test": (facts.test_sets or ["?"])[-1]}
    hours = {r: facts.sizes[s].hours if s in facts.sizes else None for r, s in roles.items()}
    same_hours = all(_close(hours[r], h) for r, h in PAPER["split_hours"].items())
    if split == PAPER["split"] and same_hours:
        return None
    how = {
        "conversation": "a conversation-disjoint split in the paper's proportions"
        + (f" (--split_seed {option_value(opts, 'split_seed')})" if option_value(opts, "split_seed") else ""),
        "espnet": "ESPnet egs2/swbd_sentiment's split",
        "lists": f"id lists from {option_value(opts, 'split_lists') or '?'}",
    }.get(split or "", "unknown (no --run_options)" if split is None else f"--split {split}")
    measured = " / ".join(f"{_h(hours[r])} {roles[r]}" for r in roles)
    return (
        "Split: paper: the authors' SWBD-Sentiment split, 86 h / 5 h / 5 h (train / test / holdout); "
        f"ours: {how}, {measured}."
    )


def _overlap_text(facts: RunFacts) -> str:
    overlap = facts.asr.overlap
    if not overlap:
        return "its overlap with the sets is unknown"
    parts = []
    for name, o in sorted((overlap.get("sets") or {}).items()):
        frac = o.get("overlap_fraction")
        pct = f" ({100 * frac:.0f}%)" if isinstance(frac, (int, float)) else ""
        parts.append(f"{name} {_h(o.get('overlap_hours'))}{pct}")
    return "it heard " + (", ".join(parts) if parts else "none of the sets")


def _asr(facts: RunFacts, results: ExpResults) -> str | None:
    a = facts.asr
    shape = f"{a.encoder or 'encoder'} {a.blocks or '?'} x {a.dim or '?'}, {a.nbpe or '?'} BPE"
    if a.external:
        what = f"the external model {a.model} ({shape})"
    elif a.model or a.train_sets:
        sets = " + ".join(a.train_sets) or "?"
        what = f"one ESPnet ASR trained here on {sets} ({_h(a.train_hours)}; {shape})"
    else:
        what = "unknown (no --run_options)"
    mode = f"; decoding: {a.decode_mode}" if a.decode_mode else ""
    encoders = facts.options.list("encoders")
    use = "both the encoder and the ASR transcripts"
    if encoders and "asr" not in encoders:
        use = "the ASR transcripts (the E2E systems read other encoders)"
    return f"ASR: paper: {PAPER['asr']}; ours: {what}, used for {use}; {_overlap_text(facts)}{mode}."


def _encoders(facts: RunFacts, results: ExpResults) -> str | None:
    """The E2E systems' frozen encoders when other than the ASR's (``--encoders``, else the systems')."""
    specs = facts.options.list("encoders")
    if specs is None:
        specs = sorted({input_key(g.meta) for g in results.groups if g.family == "e2e"} - {"fbank"})
        specs = ["asr" if k == "encoder" else k for k in specs]
    others = [input_label(encoder_input_key(e)) for e in specs if e != "asr"]
    if not others:
        return None
    ours = ("the ASR's encoder and " if "asr" in specs else "") + ", ".join(others)
    layers = facts.options.get("hf_layers")
    return (
        "E2E encoder (Tables 2 and 4): paper: the frozen encoder of its CTC-attention ASR; ours: "
        f"{ours}{f' (hidden layers stored: {layers})' if layers else ''}."
    )


def _labelers(facts: RunFacts, results: ExpResults) -> str | None:
    tags = facts.options.list("pseudo_labelers")
    if tags is None:
        tags = [labeler_display_name(lab.name) for lab in results.labelers]
    names = [labeler_paper_name(t) or t for t in tags]
    if sorted(names) == sorted(PAPER["table3_labelers"]):
        return None
    ours = ", ".join(f"{n} ({t})" if n != t else t for n, t in zip(names, tags, strict=True)) or "none"
    sst2 = facts.options.flag("sst2")
    how = (
        ""
        if sst2 is None
        else (" fine-tuned here on SST-2" if sst2 else " used as given (no SST-2 fine-tuning)")
    )
    return (
        "Pseudo labelers (Table 3): paper: BERT, DistilBERT, RoBERTa and XLNet fine-tuned on SST-2; "
        f"ours: {ours}{how}."
    )


def _pseudo_configs(facts: RunFacts, results: ExpResults) -> list[tuple[str, tuple[str, ...], str]]:
    specs = facts.options.list("e2e_pseudo_configs")
    if specs is not None:
        return [parse_pseudo_config(s) for s in specs]
    seen = []
    for g in results.groups:
        m = g.meta
        if g.family == "e2e" and m.get("pseudo_labeler"):
            key = (labeler_display_name(m["pseudo_labeler"]), tuple(m.get("pseudo_sets") or ()),
                   str(m.get("pseudo_transcript")))  # fmt: skip
            if key not in seen:
                seen.append(key)
    return seen


def _table4(facts: RunFacts, results: ExpResults) -> str | None:
    configs = _pseudo_configs(facts, results)
    ours = [(labeler_paper_name(t) or t, sets, tr) for t, sets, tr in configs]
    if sorted(ours) == sorted(PAPER["table4_configs"]):
        return None
    sym = {"swbd_train": "S", "fisher": "F"}
    text = "; ".join(f"{n} on {'+'.join(sym.get(s, s) for s in sets)} ({tr})" for n, sets, tr in ours)
    return (
        "Table 4 pseudo-label configurations: paper: BERT-SST2 on S, BERT-SST2 on S+F, XLNet-SST2 on S+F "
        f"(GT transcripts) and BERT-SST2 on S_asr+F_asr; ours: {text or 'none'}."
    )


def _fisher(facts: RunFacts, results: ExpResults) -> str | None:
    size = facts.sizes.get("fisher")
    if size is None or size.hours is None or _close(size.hours, PAPER["fisher_hours"]):
        return None
    return f"Fisher (pseudo-labeled F): paper: ~2,000 h; ours: {_h(size.hours)} ({size.utts} utterances)."


def _hours_list(values: Sequence[str] | None) -> list[float | str]:
    out: list[float | str] = []
    for v in values or []:
        try:
            out.append("all" if v == "all" else float(v))
        except ValueError:
            out.append(v)
    return out


def _subsets(facts: RunFacts, results: ExpResults) -> str | None:
    o = facts.options
    lines = []
    table4 = _hours_list(o.list("e2e_hours"))
    if table4 and sorted(map(str, table4)) != sorted(map(str, PAPER["table4_hours"])):
        lines.append(
            f"Table 4 fine-tuning sizes: paper: all (86 h) and 5 h; ours: {' '.join(map(str, table4))}"
        )
    text = _hours_list(o.list("text_hours"))
    if o.list("text_hours") is not None and text != list(PAPER["text_hours"]):
        lines.append(f"Table 1 label subsets: paper: 5 h; ours: {' '.join(map(str, text)) or 'none'}")
    curve = sorted(h for h in _hours_list(o.list("e2e_curve_hours")) if isinstance(h, float))
    if o.list("e2e_curve_hours") is not None:
        train = facts.sizes.get(facts.train_set)
        step = PAPER["fig2_step_hours"]
        top = train.hours if train and train.hours else 86.0
        paper_like = curve and all(math.isclose(h, step * (i + 1)) for i, h in enumerate(curve))
        paper_like = paper_like and curve[-1] + step > top - 1e-9
        if not paper_like:
            shown = " ".join(f"{h:g}" for h in curve) or "none"
            lines.append(f"Fig. 2 subsets: paper: 2.5 h steps up to 86 h; ours: {shown} h")
    return "; ".join(lines) + "." if lines else None


def _seeds(facts: RunFacts, results: ExpResults) -> str | None:
    seeds = facts.options.list("e2e_seeds") or facts.options.list("text_seeds")
    n = len(seeds) if seeds else max((g.n_seeds for g in results.groups), default=1)
    if n == PAPER["seeds"]:
        return None
    return f"Seeds: paper: one run per system reported; ours: {n} seeds per system, mean ± sample std."


def _text_lm(facts: RunFacts, results: ExpResults) -> str | None:
    lm, layers = facts.options.get("text_lm"), facts.options.get("text_lm_layers")
    for g in results.groups:
        if g.family == "two_step" and g.meta.get("lm"):
            lm = lm or g.meta["lm"]
            layers = layers or (g.runs[0].meta.get("config") or {}).get("lm_layers")
    default_layers = layers in (None, "", PAPER["text_lm_layers"])
    if lm is None or (lm_display_name(lm) == PAPER["text_lm"] and default_layers):
        return None
    return (
        f"Text LM (Table 1): paper: {PAPER['text_lm']}, sum of its last four layers; "
        f"ours: {lm_display_name(lm)}"
        f"{'' if default_layers else f', layers {layers}'}."
    )


def _gpus(facts: RunFacts, results: ExpResults) -> str | None:
    ngpu = facts.options.number("ngpu")
    if ngpu is None or int(ngpu) == PAPER["ngpu"]:
        return None
    if int(ngpu) == 0:
        return "GPUs: paper: not stated (GPU training); ours: trained on CPU."
    return (
        f"GPUs: paper: not stated; ours: {int(ngpu)} GPUs (DDP: the effective batch is {int(ngpu)} x the "
        "configured one)."
    )


CHECKS: tuple[Callable[[RunFacts, ExpResults], str | None], ...] = (
    _split,
    _asr,
    _encoders,
    _labelers,
    _table4,
    _fisher,
    _subsets,
    _seeds,
    _text_lm,
    _gpus,
)


def departures(facts: RunFacts, results: ExpResults) -> list[str]:
    """The departures of this run from :data:`PAPER`, one sentence each, in a fixed order."""
    return [line for check in CHECKS if (line := check(facts, results))]
