"""Fixtures every test directory shares (the test directories are not packages: what they share is here).

``corpus``: the small stage-1 corpus of ``test/data/prep_corpus.py`` in the LDC layouts (no speech
synthesis), built once per test module; its roots in ``corpus.env`` (the db.sh variables). A directory may
define a ``corpus`` of its own (test/synth, test/bin do): the nearer definition wins.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

TEST_DIR = Path(__file__).resolve().parent


def _test_module(relative: str) -> ModuleType:
    """A helper module of the test tree by its path below test/, imported once."""
    name = "speechsent_test_" + relative.removesuffix(".py").replace("/", "_")
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, TEST_DIR / relative)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def test_module() -> Callable[[str], ModuleType]:
    """``test_module("data/prep_corpus.py")``: a helper module of the test tree by its path below test/."""
    return _test_module


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return _test_module("data/prep_corpus.py").build_corpus(tmp_path_factory.mktemp("corpus"))
