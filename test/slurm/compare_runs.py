"""Whether two runs of a recipe (e.g. stages 3-11 through run.pl and through slurm.pl) gave the same results:
every ``scores.json`` and ``check_scores.json`` under ``exp/`` (the classifiers on each scored set, the pseudo
labelers of Table 3, the exported models' check), each ASR decoding's WER lines (``score.txt``), the ASR
transcripts (``data/*_asr/text``) and the exported models' answers (``exp/export/*/check.jsonl``), equal value
for value. A result present in one run only is a difference too.

    python test/slurm/compare_runs.py RECIPE_DIR_A RECIPE_DIR_B

Prints what was compared and every difference; exit status 1 when any (or when nothing was found to compare).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

PATTERNS = (
    "exp/**/scores.json",
    "exp/**/check_scores.json",
    "exp/export/*/check.jsonl",
    "exp/asr_*/decode_*/*/score.txt",
    "data/*_asr/text",
)
# what differs between two runs of the same computation: where and when it ran
VOLATILE_KEYS = frozenset({"elapsed_seconds", "date", "host", "wall_seconds"})


def results(root: Path) -> dict[str, Path]:
    """Relative path -> file, for every result file of a recipe dir."""
    return {str(p.relative_to(root)): p for pattern in PATTERNS for p in sorted(root.glob(pattern))}


def content(path: Path) -> object:
    """A file's comparable content: JSON (without volatile keys), JSON lines, or WER lines / text lines."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return _strip(json.loads(text))
    if path.suffix == ".jsonl":
        return [_strip(json.loads(line)) for line in text.splitlines() if line.strip()]
    if path.name == "score.txt":
        return [line for line in text.splitlines() if line.startswith(("%WER", "%SER"))]
    return text.splitlines()


def _strip(value: object) -> object:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def differences(a: Path, b: Path) -> Iterator[str]:
    ra, rb = results(a), results(b)
    for name in sorted(ra.keys() | rb.keys()):
        if name not in rb:
            yield f"{name}: only in {a}"
        elif name not in ra:
            yield f"{name}: only in {b}"
        elif content(ra[name]) != content(rb[name]):
            yield f"{name}: differs"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    a, b = Path(args[0]), Path(args[1])
    found = results(a)
    kinds = {pattern: sum(1 for p in a.glob(pattern)) for pattern in PATTERNS}
    print(f"compared {len(found)} result files: " + ", ".join(f"{n} {p}" for p, n in kinds.items()))
    diffs = list(differences(a, b))
    for line in diffs:
        print(f"DIFFERENT {line}")
    if not found:
        print(f"nothing to compare under {a}")
        return 1
    print("equal" if not diffs else f"{len(diffs)} difference(s)")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
