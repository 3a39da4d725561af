"""How many unreadable utterances a stage accepts in a set before it stops (stages 3-5).

A stage that reads the audio of a data dir (stage 3's formatting, stage 4's decoding, stage 5's encoder
and fbank dumps) lists the utterances it cannot read, with the reason, and goes on without them. A set that
is empty, or mostly unreadable (a header the readers refuse, a missing disk, a ``wav.scp`` pipe that prints
nothing), is not data to train or evaluate on: the stage stops there, naming the list, rather than an
ESPnet step or a training later failing with an unrelated message.
:func:`failure_message` is that rule, shared.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "DEFAULT_MAX_FAILED_FRACTION",
    "add_max_failed_fraction_argument",
    "failed_fraction_type",
    "failure_message",
]

#: The largest fraction of a set's utterances that may be unreadable (``--max_failed_fraction``).
DEFAULT_MAX_FAILED_FRACTION = 0.1

_SHOWN = 3  # reasons quoted in the message


def failed_fraction_type(value: str) -> float:
    """argparse type of ``--max_failed_fraction``: a number in [0, 1]."""
    try:
        fraction = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.0 <= fraction <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1] (a fraction of the utterances), got {value}")
    return fraction


def add_max_failed_fraction_argument(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, note: str = ""
) -> None:
    """``--max_failed_fraction`` of the entry points that read a set's audio (one definition for all)."""
    parser.add_argument(
        "--max_failed_fraction",
        type=failed_fraction_type,
        default=DEFAULT_MAX_FAILED_FRACTION,
        help="stop with an error when more than this fraction of a set's utterances cannot be read (0..1; "
        f"1: only a set with no usable utterance is an error){note}",
    )


def failure_message(
    what: str,
    *,
    total: int,
    failed: Mapping[str, str],
    usable: int,
    failed_list: str | Path,
    max_failed_fraction: float | None,
    empty_detail: str = "",
) -> str | None:
    """Why ``what`` (a set being formatted or dumped) must stop, or None when it may go on.

    ``total`` utterances were to be read, ``failed`` (utterance → reason, listed in ``failed_list``) could
    not be, ``usable`` are left for the next stage. No usable utterance is always an error; more than
    ``max_failed_fraction`` of ``total`` unreadable (None: no limit) is one too. ``empty_detail`` says what
    else removed utterances (e.g. duration filters) when none is left.
    """
    if total == 0:
        return f"{what}: the data dir has no utterances"
    shown = "".join(f"\n  {utt}: {' '.join(reason.split())}" for utt, reason in list(failed.items())[:_SHOWN])
    more = f"\n  ... ({len(failed) - _SHOWN} more)" if len(failed) > _SHOWN else ""
    listed = f" (listed in {failed_list}){':' if failed else ''}{shown}{more}"
    if usable == 0:
        causes = []
        if failed:
            causes.append(f"{len(failed)} unreadable")
        if empty_detail:
            causes.append(empty_detail)
        why = ", ".join(causes) or "none written"
        return f"{what}: no utterance left of {total} ({why}){listed if failed else ''}"
    fraction = len(failed) / total
    if max_failed_fraction is not None and fraction > max_failed_fraction:
        return (
            f"{what}: {len(failed)} of {total} utterances ({100 * fraction:.1f} %) could not be read, "
            f"more than --max_failed_fraction {max_failed_fraction:g} allows: fix the audio or the wav.scp "
            f"(a rerun retries them), or raise --max_failed_fraction{listed}"
        )
    return None
