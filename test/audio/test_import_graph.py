"""The audio and Kaldi modules import one way: no cycle, lazy (in-function) imports included (issue 13).

After the G.711 codecs moved to :mod:`speechsent.audio.g711`: ``sphere -> shorten -> g711`` and
``sphere -> g711``, and neither codec module imports the SPHERE reader back.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(package: str) -> dict[str, set[str]]:
    """``module -> the modules of package it imports`` (anywhere in the file, functions included)."""
    pkg_dir = ROOT.joinpath(*package.split("."))
    graph: dict[str, set[str]] = {}
    for path in sorted(pkg_dir.glob("*.py")):
        name = f"{package}.{path.stem}" if path.stem != "__init__" else package
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.startswith(package + "."):
                    found.add(node.module)
                elif node.module == package:
                    found.update(f"{package}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith(package + "."))
        graph[name] = found - {name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (as a path that ends where it starts), or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)) is not None:
            return found
    return None


def test_audio_imports_go_one_way():
    graph = _imports("speechsent.audio")
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])
    assert graph["speechsent.audio.g711"] == set()
    assert "speechsent.audio.sphere" not in graph["speechsent.audio.shorten"]
    assert {"speechsent.audio.shorten", "speechsent.audio.g711"} <= graph["speechsent.audio.sphere"]
    assert "speechsent.audio.g711" in graph["speechsent.audio.shorten"]


def test_kaldi_imports_go_one_way():
    graph = _imports("speechsent.kaldi")
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])
    # the table format is the bottom layer; the package imports nothing at import time
    assert graph["speechsent.kaldi.table"] == set()
    assert graph["speechsent.kaldi"] == set()


def test_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
