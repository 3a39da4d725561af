"""Tests for utils/run.pl (Kaldi-compatible local job runner)."""

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

UTILS = Path(__file__).resolve().parents[2] / "utils"
RUN_PL = str(UTILS / "run.pl")

HEADER_RE = re.compile(r"\A# (?P<cmd>.*)\n# Started at (?P<date>.+)\n#\n", re.M)
FOOTER_RE = re.compile(
    r"# Accounting: time=(?P<t>\d+) threads=1\n"
    r"# Ended \(code (?P<code>\d+)(?:; signal (?P<sig>\d+))?\) at (?P<date>.+), "
    r"elapsed time (?P<el>\d+) seconds\n\Z"
)


def run(args, cwd, timeout=60, **kw):
    return subprocess.run([RUN_PL, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, **kw)


def body(log: Path) -> str:
    """The job's own output: the log without run.pl's header and footer."""
    text = log.read_text()
    h = HEADER_RE.match(text)
    f = FOOTER_RE.search(text)
    assert h and f, text
    return text[h.end() : f.start()]


def test_array_job_writes_one_log_per_task(tmp_path):
    r = run(["JOB=1:3", "log/x.JOB.log", "echo", "JOB"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    for i in (1, 2, 3):
        log = tmp_path / f"log/x.{i}.log"
        text = log.read_text()
        h = HEADER_RE.match(text)
        assert h and h.group("cmd") == f"echo {i} "  # Kaldi keeps the trailing space
        assert re.fullmatch(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \S+ \d{4}", h.group("date"))
        f = FOOTER_RE.search(text)
        assert f and f.group("code") == "0" and f.group("sig") is None
        assert body(log) == f"{i}\n"


def test_failing_task_gives_kaldi_summary(tmp_path):
    r = run(["JOB=1:3", "log/y.JOB.log", "test", "JOB", "-ne", "2"], tmp_path)
    assert r.returncode == 1
    assert r.stderr == "run.pl: 1 / 3 failed, log is in log/y.*.log\n"
    assert FOOTER_RE.search((tmp_path / "log/y.2.log").read_text()).group("code") == "1"
    assert FOOTER_RE.search((tmp_path / "log/y.1.log").read_text()).group("code") == "0"


def test_single_job_failure_message(tmp_path):
    r = run(["JOB=2", "log/z.JOB.log", "exit", "3"], tmp_path)
    assert r.returncode == 1
    assert r.stderr == "run.pl: job failed, log is in log/z.2.log\n"
    assert FOOTER_RE.search((tmp_path / "log/z.2.log").read_text()).group("code") == "3"


def test_no_job_form_and_forgotten_job_hint(tmp_path):
    # The shell has removed the backslash of "\\|" before run.pl sees it.
    r = run(["log/a.log", "echo", "hello", "|", "tr", "a-z", "A-Z"], tmp_path)
    assert r.returncode == 0
    assert body(tmp_path / "log/a.log") == "HELLO\n"
    r = run(["log/b.JOB.log", "false"], tmp_path)
    assert r.returncode == 1
    assert "run.pl: job failed, log is in log/b.JOB.log" in r.stderr
    assert "probably you forgot to put JOB=1:$nj in your script." in r.stderr


def test_other_variable_names_and_stderr_capture(tmp_path):
    r = run(["SPLIT=2:3", "out/s.SPLIT.log", "echo", "out-SPLIT", ";", "echo", "err-SPLIT", ">&2"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert body(tmp_path / "out/s.2.log") == "out-2\nerr-2\n"
    assert body(tmp_path / "out/s.3.log") == "out-3\nerr-3\n"
    assert not (tmp_path / "out/s.1.log").exists()


def test_quoting_of_arguments_with_spaces(tmp_path):
    # Kaldi double-quoted these (single quotes when they held a double quote,
    # and broke on both kinds); here every data argument is single-quoted.
    r = run(
        ["log/q.log", "printf", "%s,", "a b", 'say "hi" now', 'it\'s "both" kinds'],
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert body(tmp_path / "log/q.log") == 'a b,say "hi" now,it\'s "both" kinds,'


def test_log_path_with_spaces(tmp_path):
    r = run(["JOB=1:2", "my logs/x.JOB.log", "echo", "JOB"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert body(tmp_path / "my logs/x.2.log") == "2\n"


def test_command_stdin_is_empty(tmp_path):
    # Kaldi fed the command text to bash's stdin; here a command reading
    # stdin sees end-of-file at once.
    r = run(["log/c.log", "cat"], tmp_path, input="must not be read\n", timeout=20)
    assert r.returncode == 0
    assert body(tmp_path / "log/c.log") == ""


def test_signal_is_reported_in_footer(tmp_path):
    r = run(["log/k.log", "bash", "-c", "kill -9 $$"], tmp_path)
    assert r.returncode == 1
    f = FOOTER_RE.search((tmp_path / "log/k.log").read_text())
    assert f.group("sig") == "9"


def _max_concurrency(stamp_dir: Path) -> int:
    events = []
    for f in stamp_dir.iterdir():
        start, end = (float(x) for x in f.read_text().split())
        events += [(start, 1), (end, -1)]
    events.sort(key=lambda e: (e[0], e[1]))  # an end before a start at the same instant
    cur = best = 0
    for _, d in events:
        cur += d
        best = max(best, cur)
    return best


@pytest.mark.parametrize("limit", [1, 2])
def test_max_jobs_run_limits_concurrency(tmp_path, limit):
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    job = f's=$(date +%s.%N); sleep 0.3; echo "$s $(date +%s.%N)" > {stamps}/JOB'
    t0 = time.monotonic()
    r = run(["--max-jobs-run", str(limit), "JOB=1:4", "log/m.JOB.log", "bash", "-c", job], tmp_path)
    elapsed = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    assert _max_concurrency(stamps) <= limit
    assert elapsed >= 0.3 * 4 / limit * 0.9


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 CPUs")
def test_tasks_run_in_parallel_by_default(tmp_path):
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    job = f's=$(date +%s.%N); sleep 1.5; echo "$s $(date +%s.%N)" > {stamps}/JOB'
    r = run(["JOB=1:3", "log/p.JOB.log", "bash", "-c", job], tmp_path)
    assert r.returncode == 0, r.stderr
    assert _max_concurrency(stamps) >= 2


def test_smallest_max_jobs_run_wins(tmp_path):
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    job = f's=$(date +%s.%N); sleep 0.2; echo "$s $(date +%s.%N)" > {stamps}/JOB'
    r = run(["--max-jobs-run", "3", "-tc", "1", "JOB=1:3", "log/p.JOB.log", "bash", "-c", job], tmp_path)
    assert r.returncode == 0, r.stderr
    assert _max_concurrency(stamps) == 1


def test_queue_options_are_accepted_and_ignored(tmp_path):
    args = [
        "--mem", "4G", "--time", "1:00:00", "--num-threads", "2", "--gpu", "0",
        "--config", "conf/none.conf", "-q", "all.q", "-V", "-pe", "smp", "2", "-l", "arch=*64*",
        "JOB=1:2", "--some-future-option", "x", "log/o.JOB.log", "echo", "ok",
    ]  # fmt: skip
    r = run(args, tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert body(tmp_path / "log/o.2.log") == "ok\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["JOB=3:1", "log/x.JOB.log", "true"], "run.pl: invalid job range JOB=3:1"),
        (["JOB=0:2", "log/x.JOB.log", "true"], "start must be strictly positive"),
        (["JOB=1-4", "log/x.JOB.log", "true"], "run.pl: invalid job range JOB=1-4"),
        (["JOB=a:b", "log/x.JOB.log", "true"], "run.pl: invalid job range JOB=a:b"),
        (["--max-jobs-run", "0", "log/x.log", "true"], "run.pl: invalid option --max-jobs-run 0"),
        (["--max-jobs-run", "two", "log/x.log", "true"], "invalid option --max-jobs-run two"),
        (["--pick", "some", "log/x.log", "true"], "--pick argument must be one of"),
        (["JOB=1:2", "log/one.log", "true"], "you are putting the output into just one log file"),
        ([], "usage: run.pl"),
        (["log/x.log"], "usage: run.pl"),
        (["JOB=1:2", "log/x.JOB.log"], "usage: run.pl"),
    ],
)
def test_usage_errors(tmp_path, args, message):
    r = run(args, tmp_path)
    assert r.returncode == 1
    assert message in r.stderr
    assert not (tmp_path / "log").exists()


def test_pick_failed_reruns_only_failed_tasks(tmp_path):
    marker = tmp_path / "fixed"
    # Task 2 fails until the marker exists.
    cmd = ["echo", "run-JOB", ";", "test", "JOB", "-ne", "2", "-o", "-e", str(marker)]
    r = run(["JOB=1:3", "log/r.JOB.log", *cmd], tmp_path)
    assert r.returncode == 1
    before = {i: (tmp_path / f"log/r.{i}.log").read_text() for i in (1, 3)}
    marker.touch()
    time.sleep(1.1)  # so that a rewritten log would have a new date
    r = run(["--pick", "failed", "JOB=1:3", "log/r.JOB.log", *cmd], tmp_path)
    assert r.returncode == 0, r.stderr
    assert {i: (tmp_path / f"log/r.{i}.log").read_text() for i in (1, 3)} == before
    assert FOOTER_RE.search((tmp_path / "log/r.2.log").read_text()).group("code") == "0"


def test_pick_incomplete_keeps_failures(tmp_path):
    r = run(["JOB=1:2", "log/i.JOB.log", "test", "JOB", "-eq", "1"], tmp_path)
    assert r.returncode == 1
    (tmp_path / "log/i.1.log").unlink()  # never ran
    r = run(["--pick", "incomplete", "JOB=1:2", "log/i.JOB.log", "true"], tmp_path)
    assert r.returncode == 1
    assert "1 / 2 failed" in r.stderr
    assert FOOTER_RE.search((tmp_path / "log/i.1.log").read_text()).group("code") == "0"


def test_runs_from_a_symlinked_utils_dir(tmp_path):
    # Kaldi recipes symlink utils/ from elsewhere; the helper module must
    # still be found.
    os.symlink(UTILS, tmp_path / "utils")
    r = subprocess.run(
        ["utils/run.pl", "JOB=1:2", "log/s.JOB.log", "echo", "JOB"],
        cwd=tmp_path, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert body(tmp_path / "log/s.2.log") == "2\n"


def test_job_in_directory_name(tmp_path):
    r = run(["JOB=1:2", "log/JOB/x.log", "echo", "JOB"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert body(tmp_path / "log/2/x.log") == "2\n"


# ---------------------------------------------------------------- which arguments are shell
# The rule (top of run.pl, queue.pl and slurm.pl; quote_command in utils/lib/ParallelJobs.pm):
# only an argument that is exactly one shell operator (| |& || && ; & ( ) and the redirections
# < > >> >| <> &> &>> 2> N>&M ...) and the NAME= of a leading NAME=VALUE assignment are shell
# syntax; every other argument reaches the job's argv verbatim. Kaldi passed an argument without
# white space to bash as it is, so ";", "$(...)" and "$VAR" in a data path ran or expanded.

HOSTILE_ARGS = [
    "data/a;touch pwned/semicolon",
    "data/$(touch pwned/subst)",
    "data/`touch pwned/backtick`",
    "data/$HOME",
    "data/${HOME}",
    "data/$[1+1]",
    "data/with space",
    "data/it's",
    'data/"dq"',
    "data/'both' \"kinds\"",
    "data/a|touch pwned/pipe",
    "data/a&&touch pwned/and",
    "data/a>pwned/redirect",
    "data/*",
    "~",
    "data/{a,b}",
    "back\\slash\\n",
    "new\nline;touch pwned/newline",
    "tab\there",
    "",
    "-",
    "ü/ünïcode",
    "JOBLESS=1",  # an assignment only in command position; here it is data
]


def argv_dump_cmd(out):
    """A command that writes its argv, NUL-separated, to out (no shell involved in the dump)."""
    dump = "import sys; open(sys.argv[1], 'wb').write(b'\\0'.join(a.encode() for a in sys.argv[2:]))"
    return ["python3", "-c", dump, str(out)]


def read_argv_dump(path):
    data = path.read_bytes()
    return [a.decode("utf-8") for a in data.split(b"\0")]


def test_data_arguments_reach_the_job_verbatim(tmp_path):
    (tmp_path / "pwned").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a").touch()  # a glob would have something to match
    out = tmp_path / "argv"
    r = run(["log/v.log", *argv_dump_cmd(out), *HOSTILE_ARGS], tmp_path)
    assert r.returncode == 0, (r.stderr, (tmp_path / "log/v.log").read_text())
    assert read_argv_dump(out) == HOSTILE_ARGS
    assert list((tmp_path / "pwned").iterdir()) == []  # no side effect
    # The log's header is still one line, whatever the arguments hold.
    assert HEADER_RE.match((tmp_path / "log/v.log").read_text())


def test_data_arguments_verbatim_in_array_jobs_with_job_substitution(tmp_path):
    (tmp_path / "pwned").mkdir()
    args = ["data/JOB;touch pwned/x", "data/$(touch pwned/y)JOB", "part JOB's"]
    r = run(["JOB=1:2", "log/v.JOB.log", *argv_dump_cmd(tmp_path / "argv.JOB"), *args], tmp_path)
    assert r.returncode == 0, r.stderr
    for i in (1, 2):
        assert read_argv_dump(tmp_path / f"argv.{i}") == [a.replace("JOB", str(i)) for a in args]
    assert list((tmp_path / "pwned").iterdir()) == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["echo", "a", "|", "tr", "a", "b"], "b\n"),
        (["echo", "a", "|&", "tr", "a", "b"], "b\n"),
        (["false", "||", "echo", "or"], "or\n"),
        (["true", "&&", "echo", "and"], "and\n"),
        (["echo", "x", ";", "echo", "y"], "x\ny\n"),
        (["(", "echo", "sub", ")"], "sub\n"),
        (["echo", "err", ">&2"], "err\n"),
        (["echo", "err", "1>&2"], "err\n"),
        (["echo", "f", ">", "out.txt", "&&", "cat", "out.txt"], "f\n"),
        (["echo", "f", ">", "o2", ";", "echo", "g", ">>", "o2", ";", "cat", "<", "o2"], "f\ng\n"),
        (["ls", "/nonexistent-dir-x", "2>", "/dev/null", "||", "echo", "quiet"], "quiet\n"),
        (["ls", "/nonexistent-dir-x", "2>&1", "|", "grep", "-c", "nonexistent-dir-x"], "1\n"),
        (["echo", "both", "&>", "o3", ";", "cat", "o3"], "both\n"),
        (["A=1", "B=$HOME", "bash", "-c", 'echo "$A $B"'], "1 $HOME\n"),
        (["true", "&&", "C=x;y", "printenv", "C"], "x;y\n"),
        (["bash", "-c", "echo $((JOB + 10))"], "11\n"),  # shell code: explicitly, through bash -c
    ],
)
def test_operator_arguments_are_shell(tmp_path, args, expected):
    r = run(["JOB=1", "log/s.JOB.log", *args], tmp_path)
    assert r.returncode == 0, (r.stderr, (tmp_path / "log/s.1.log").read_text())
    assert body(tmp_path / "log/s.1.log") == expected


def test_operators_inside_a_word_are_data(tmp_path):
    # Kaldi: "2\\>/dev/null" as one word redirected, "a\\;" ended the command. Here both are data.
    out = tmp_path / "argv"
    args = ["2>/dev/null", "a;", "|x", ">&2x", "x&&"]
    r = run(["log/w.log", *argv_dump_cmd(out), *args], tmp_path)
    assert r.returncode == 0, r.stderr
    assert read_argv_dump(out) == args
