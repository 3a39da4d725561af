"""Fixtures of the recipe tests (test/egs has no package: what the test modules share comes from here).

``corpus`` (test/conftest.py): the small fixture corpus of test/data/prep_corpus.py, its roots in
``corpus.env`` (the db.sh variables); ``copy_recipe(tmp_path, name)``: a copy of ``egs/<name>``
outside the repository (its path.sh finds the toolkit through SPEECHSENT_ROOT); ``run_recipe(recipe, args,
env)``: ``bash ./run.sh ARGS...`` there (or another ``script=``), with the db.sh variables of the
environment replaced by ``env``; ``egs_module(name)``: the sibling module ``test/egs/<name>.py`` (imported
once), for what the recipe tests share (e.g. ``test_stages_2_5.TINY_ASR``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DB_VARIABLES = ("SWBD", "SWBD_MS98", "SWBD_SENTIMENT", "FISHER")


def _copy_recipe(tmp_path: Path, name: str) -> Path:
    dst = tmp_path / "egs" / name
    shutil.copytree(
        ROOT / "egs" / name, dst, ignore=shutil.ignore_patterns("data", "exp", "dump", "downloads")
    )
    return dst


def _run_recipe(
    recipe: Path,
    args: Sequence[str],
    env_extra: Mapping[str, str] | None = None,
    timeout: float = 300,
    script: str | os.PathLike[str] = "./run.sh",
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in DB_VARIABLES}
    env.update(env_extra or {})
    env["SPEECHSENT_ROOT"] = str(ROOT)  # the copy is outside the repository: path.sh finds the toolkit here
    return subprocess.run(
        ["bash", str(script), *args],
        cwd=recipe,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def copy_recipe() -> Callable[[Path, str], Path]:
    return _copy_recipe


@pytest.fixture(scope="session")
def run_recipe() -> Callable[..., subprocess.CompletedProcess]:
    return _run_recipe


@pytest.fixture(scope="session")
def egs_module(test_module) -> Callable[[str], object]:
    return lambda name: test_module(f"egs/{name}.py")
