"""Every console script of setup.py points at a module with the entry-point pattern (get_parser, main)."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

SETUP = Path(__file__).resolve().parents[1] / "setup.py"
# Commands with another tool's command line: sph2pipe's flags, the Kaldi data-dir scripts' sub-commands.
NO_CONFIG = {"speechsent-sph2pipe", "speechsent-data-dir"}


def _entry_points() -> dict[str, str]:
    tree = ast.parse(SETUP.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "ENTRY_POINTS" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError("setup.py has no ENTRY_POINTS")


@pytest.mark.parametrize(("name", "target"), sorted(_entry_points().items()))
def test_entry_point(name, target):
    module_name, func = target.split(":")
    assert name.startswith("speechsent-") and func == "main"
    module = importlib.import_module(module_name)
    assert callable(module.main)
    parser = module.get_parser()
    assert "--help" in parser.format_help() or "-h" in parser.format_help()
    if name not in NO_CONFIG:
        assert any(a.dest == "config" for a in parser._actions), f"{name}: no --config"


def test_no_command_imports_torch_espnet_or_transformers_for_its_help():
    """``--help`` must answer in well under a second: building every parser imports none of torch, espnet2,
    transformers."""
    modules = sorted(t.split(":")[0] for t in _entry_points().values())
    code = "import importlib, sys\n" + "".join(
        f"importlib.import_module({m!r}).get_parser().format_help()\n" for m in modules
    )
    heavy = ("torch", "espnet2", "transformers")
    code += f"print(' '.join(sorted(m for m in {heavy!r} if m in sys.modules)) or 'none')"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=SETUP.parent
    )
    assert out.stdout.split() == ["none"]


def test_every_bin_module_is_registered():
    bins = {p.stem for p in (SETUP.parent / "speechsent" / "bin").glob("*.py") if p.stem != "__init__"}
    registered = {t.split(":")[0].rsplit(".", 1)[1] for t in _entry_points().values()}
    assert bins == registered
