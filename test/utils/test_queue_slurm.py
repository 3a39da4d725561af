"""Tests for utils/queue.pl and utils/slurm.pl against fake qsub/sbatch.

The fakes are placed first on PATH.  They record their command line and the
submitted script, print what the real tools print ("Your job-array ... has been
submitted" / "Submitted batch job N"), then run the array tasks themselves with
SGE_TASK_ID / SLURM_ARRAY_TASK_ID set, so that the logs and done-files appear.
"""

import os
import re
import subprocess
from pathlib import Path

import pytest

UTILS = Path(__file__).resolve().parents[2] / "utils"

FAKE_SUBMIT = r"""#!/bin/bash
# Fake %(tool)s: record, answer like the real one, run the tasks.
rec=${FAKE_RECORD_DIR:?}
n=$(ls "$rec" | grep -c '^args\.' || true)
printf '%%s\n' "$@" > "$rec/args.$n"
script=${!#}
cp "$script" "$rec/script.$n"
range=
prev=
for a in "$@"; do
  [ "$prev" = "%(array_flag)s" ] && range=$a
  prev=$a
done
range=${range%%%%\%%*}                 # drop slurm's %%max
first=${range%%[-:]*}; last=${range##*[-:]}
echo "%(answer)s"
run_tasks() {
  if [ -z "$range" ]; then
    bash "$script" >/dev/null 2>&1
  else
    for ((t = first; t <= last; t++)); do
      %(task_var)s=$t bash "$script" >/dev/null 2>&1
    done
  fi
}
case ${FAKE_MODE:-run} in
  run) run_tasks ;;
  background) (sleep 0.4; run_tasks) </dev/null >/dev/null 2>&1 & ;;
  vanish) ;;   # accepted, but the job never runs
  fail) echo "submission refused" >&2; exit 2 ;;
esac
exit 0
"""

FAKE_STATUS = """#!/bin/bash
# Fake %s: the job exists unless FAKE_MODE=vanish.
[ "${FAKE_MODE:-run}" = vanish ] && { echo "Following jobs do not exist: $*"; exit 1; }
exit 0
"""

BACKENDS = {
    "queue": dict(
        script="queue.pl", tool="qsub", array_flag="-t", task_var="SGE_TASK_ID",
        answer='Your job-array 777.1-3:1 ("x.sh") has been submitted', status="qstat",
    ),
    "slurm": dict(
        script="slurm.pl", tool="sbatch", array_flag="--array", task_var="SLURM_ARRAY_TASK_ID",
        answer="Submitted batch job 4242", status="squeue",
    ),
}  # fmt: skip


class Cluster:
    def __init__(self, tmp_path: Path, backend: str):
        self.cwd = tmp_path
        self.b = BACKENDS[backend]
        self.bin = tmp_path / "fakebin"
        self.rec = tmp_path / "record"
        self.bin.mkdir()
        self.rec.mkdir()
        sub = self.bin / self.b["tool"]
        sub.write_text(FAKE_SUBMIT % self.b)
        st = self.bin / self.b["status"]
        st.write_text(FAKE_STATUS % self.b["status"])
        for f in (sub, st):
            f.chmod(0o755)

    def run(self, args, mode="run", timeout=60):
        env = dict(os.environ)
        env.update(
            PATH=f"{self.bin}:{env['PATH']}",
            FAKE_RECORD_DIR=str(self.rec),
            FAKE_MODE=mode,
            SPEECHSENT_NFS_WAIT_SCALE="0",
            SPEECHSENT_POLL_INTERVAL="0.02",
        )
        return subprocess.run(
            [str(UTILS / self.b["script"]), *args],
            cwd=self.cwd, env=env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip

    def submissions(self):
        return sorted(self.rec.glob("args.*"))

    def args(self, n=0):
        return (self.rec / f"args.{n}").read_text().splitlines()

    def script(self, n=0):
        return (self.rec / f"script.{n}").read_text()

    def conf(self, name, text):
        (self.cwd / "conf").mkdir(exist_ok=True)
        (self.cwd / "conf" / name).write_text(text)


@pytest.fixture(params=["queue", "slurm"])
def cluster(request, tmp_path):
    return Cluster(tmp_path, request.param)


@pytest.fixture
def sge(tmp_path):
    return Cluster(tmp_path, "queue")


@pytest.fixture
def slurm(tmp_path):
    return Cluster(tmp_path, "slurm")


def status_of(log: Path) -> int:
    m = re.search(r"^# Finished at .+ with status (\d+)$", log.read_text(), re.M)
    assert m, log.read_text()
    return int(m.group(1))


def output_of(log: Path) -> str:
    """The command's own output, between the header and the accounting lines."""
    lines = log.read_text().splitlines()
    cmd_line = next(
        i
        for i, line in enumerate(lines)
        if not line.startswith("# Running on")
        and not line.startswith("# Started at")
        and not line.startswith("# SLURM")
    )
    end = next(i for i, line in enumerate(lines) if line.startswith("# Accounting:"))
    return "\n".join(lines[cmd_line + 1 : end])


def contains_seq(seq, sub):
    return any(seq[i : i + len(sub)] == sub for i in range(len(seq) - len(sub) + 1))


# ---------------------------------------------------------------- both back-ends


def test_array_job_runs_all_tasks(cluster):
    r = cluster.run(["JOB=1:3", "log/x.JOB.log", "echo", "task", "JOB"])
    assert r.returncode == 0, r.stderr
    for i in (1, 2, 3):
        log = cluster.cwd / f"log/x.{i}.log"
        text = log.read_text()
        assert text.startswith("# Running on ")
        assert re.search(r"^# Started at .+$", text, re.M)
        assert re.search(rf"^# echo task {i} $", text, re.M)
        assert re.search(r"^# Accounting: time=\d+ threads=1$", text, re.M)
        assert status_of(log) == 0
        assert output_of(log) == f"task {i}"
    assert len(cluster.submissions()) == 1
    # The generated script lives in log/q/, the done-files are cleaned up.
    script = cluster.cwd / "log/q/x.sh"
    assert script.is_file() and os.access(script, os.X_OK)
    assert cluster.args()[-1] == str(script)
    assert not list((cluster.cwd / "log/q").rglob("done.*"))


def test_q_dir_next_to_log_dir(cluster):
    r = cluster.run(["JOB=1:2", "exp/tri1/log/align.JOB.log", "true"])
    assert r.returncode == 0, r.stderr
    assert (cluster.cwd / "exp/tri1/q/align.sh").is_file()  # .../log/q -> .../q, as Kaldi


def test_failure_is_reported(cluster):
    r = cluster.run(["JOB=1:3", "log/f.JOB.log", "test", "JOB", "-ne", "2"])
    assert r.returncode == 1
    assert r.stderr.strip().endswith(f"{cluster.b['script']}: 1 / 3 failed, log is in log/f.*.log")
    assert status_of(cluster.cwd / "log/f.2.log") == 1
    assert status_of(cluster.cwd / "log/f.1.log") == 0


def test_single_job_forms(cluster):
    r = cluster.run(["log/single.log", "echo", "hi", "|", "tr", "a-z", "A-Z"])
    assert r.returncode == 0, r.stderr
    assert output_of(cluster.cwd / "log/single.log") == "HI"
    flag = cluster.b["array_flag"]
    assert flag not in cluster.args()
    r = cluster.run(["JOB=4", "log/one.JOB.log", "exit", "3"])
    assert r.returncode == 1
    prog = cluster.b["script"]
    assert f"{prog}: job failed with status 3, log is in log/one.4.log" in r.stderr
    assert status_of(cluster.cwd / "log/one.4.log") == 3


def test_job_substituted_inside_quotes(cluster):
    # Kaldi pasted ${SGE_TASK_ID} into the command, which stayed unexpanded
    # inside single quotes; here JOB is replaced in the text, as run.pl does.
    r = cluster.run(["SPLIT=1:2", "log/s.SPLIT.log", "echo", 'say "part SPLIT"'])
    assert r.returncode == 0, r.stderr
    assert output_of(cluster.cwd / "log/s.2.log") == 'say "part 2"'


def test_waits_for_tasks_that_finish_later(cluster):
    r = cluster.run(["JOB=1:2", "log/w.JOB.log", "echo", "JOB"], mode="background")
    assert r.returncode == 0, r.stderr
    assert output_of(cluster.cwd / "log/w.2.log") == "2"


def test_vanished_job_is_an_error(cluster):
    r = cluster.run(["JOB=1:2", "log/v.JOB.log", "true"], mode="vanish", timeout=120)
    assert r.returncode == 1
    assert "unfinished job no longer exists" in r.stderr


def test_submission_failure(cluster):
    r = cluster.run(["JOB=1:2", "log/e.JOB.log", "true"], mode="fail")
    assert r.returncode == 1
    assert "Error submitting jobs to queue (return status was 512)" in r.stderr
    assert "submission refused" in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["JOB=3:1", "log/x.JOB.log", "true"], "invalid job range JOB=3:1"),
        (["JOB=0:3", "log/x.JOB.log", "true"], "start must be strictly positive"),
        (["JOB=1:4", "log/x.log", "true"], "putting the output into just one log file"),
        (["--config", "conf/missing.conf", "log/x.log", "true"],
         "Could not open config file conf/missing.conf"),
        (["--frobnicate", "3", "log/x.log", "true"],
         "Command line option frobnicate not described in default config file"),
        (["log/x.log"], "Usage:"),
        ([], "Usage:"),
    ],
)  # fmt: skip
def test_usage_errors(cluster, args, message):
    r = cluster.run(args)
    assert r.returncode == 1
    assert message in r.stderr
    assert not cluster.submissions()


def test_config_file_errors(cluster):
    name = "queue.conf" if cluster.b["tool"] == "qsub" else "slurm.conf"
    cluster.conf(name, "option mem=* -l m=$0\n")
    r = cluster.run(["log/x.log", "true"])
    assert r.returncode == 1
    assert f'config file (conf/{name}) does not contain the line "command .*"' in r.stderr
    cluster.conf(name, "command submit\nbogus line\n")
    r = cluster.run(["log/x.log", "true"])
    assert r.returncode == 1
    assert f"unable to parse line 'bogus line' in config file (conf/{name})" in r.stderr


# ---------------------------------------------------------------- queue.pl


def test_queue_default_config_mapping(sge):
    r = sge.run(["--mem", "2G", "--gpu", "1", "--num-threads", "4", "--max-jobs-run", "2",
                 "-q", "all.q", "JOB=1:3", "log/x.JOB.log", "echo", "JOB"])  # fmt: skip
    assert r.returncode == 0, r.stderr
    args = sge.args()
    for seq in (
        ["-v", "PATH", "-cwd", "-S", "/bin/bash", "-j", "y", "-l", "arch=*64*"],  # not globbed
        ["-o", "log/q/x.log"],
        ["-l", "mem_free=2G,ram_free=2G"],
        ["-l", "gpu=1", "-q", "g.q"],
        ["-pe", "smp", "4"],
        ["-tc", "2"],
        ["-q", "all.q"],
        ["-t", "1:3"],
    ):
        assert contains_seq(args, seq), (seq, args)
    assert re.search(r"^# Accounting: time=\d+ threads=4$", (sge.cwd / "log/x.1.log").read_text(), re.M)
    # The submission command is recorded at the end of the script, as Kaldi does.
    assert re.search(r"^## submitted with:\n# qsub -v PATH .* -t 1:3 \S+/log/q/x\.sh$", sge.script(), re.M)


def test_queue_default_values_add_nothing(sge):
    r = sge.run(["--mem", "0", "--num-threads", "1", "--gpu", "0", "log/x.log", "true"])
    assert r.returncode == 0, r.stderr
    assert sge.args() == ["-v", "PATH", "-cwd", "-S", "/bin/bash", "-j", "y", "-l", "arch=*64*",
                          "-o", "log/q/x.log", str(sge.cwd / "log/q/x.sh")]  # fmt: skip


def test_queue_conf_file(sge):
    sge.conf(
        "queue.conf",
        "# my cluster\n"
        "command qsub -v PATH -cwd -S /bin/bash -j y\n"
        "option mem=* -l h_vmem=$0   # per slot\n"
        "option mem=0\n"
        "option gpu=* -l gpu=$0 -q gpu.q\n"
        "default gpu=0\n"
        "option gpu=0 -q cpu.q\n"
        "option max_jobs_run=* -tc $0\n"
        "option time=* -l h_rt=$0\n",
    )
    r = sge.run(["--mem", "8G", "--time", "4:00:00", "--max-jobs-run", "5",
                 "JOB=2:4", "log/c.JOB.log", "true"])  # fmt: skip
    assert r.returncode == 0, r.stderr
    args = sge.args()
    for seq in (["-l", "h_vmem=8G"], ["-l", "h_rt=4:00:00"], ["-tc", "5"], ["-q", "cpu.q"], ["-t", "2:4"]):
        assert contains_seq(args, seq), (seq, args)
    assert "arch=*64*" not in args
    assert not (sge.cwd / "log/c.1.log").exists()
    # max_jobs_run is dropped for a single job, as in Kaldi.
    r = sge.run(["--max-jobs-run", "5", "--gpu", "2", "log/d.log", "true"])
    assert r.returncode == 0, r.stderr
    assert "-tc" not in sge.args(1)
    assert contains_seq(sge.args(1), ["-l", "gpu=2", "-q", "gpu.q"])


def test_queue_explicit_config_and_strict_star(sge):
    (sge.cwd / "my.conf").write_text("command qsub\noption mem=* -l mem\n")
    r = sge.run(["--config", "my.conf", "--mem", "1G", "log/x.log", "true"])
    assert r.returncode == 1
    assert "Unable to parse line 'option mem=* -l mem' in config file (my.conf)" in r.stderr


def test_queue_sync_mode(sge):
    r = sge.run(["-sync", "y", "JOB=1:2", "log/y.JOB.log", "test", "JOB", "=", "1"])
    assert contains_seq(sge.args(), ["-sync", "y"])
    assert r.returncode == 1
    assert "queue.pl: 1 / 2 failed, log is in log/y.*.log" in r.stderr


# ---------------------------------------------------------------- slurm.pl


def test_slurm_default_config_mapping(slurm):
    r = slurm.run(["--mem", "4G", "--time", "1:00:00", "--num-threads", "2", "--max-jobs-run", "2",
                   "JOB=1:3", "log/x.JOB.log", "echo", "JOB"])  # fmt: skip
    assert r.returncode == 0, r.stderr
    args = slurm.args()
    assert args[:2] == ["--export=PATH", "--ntasks-per-node=1"]
    for seq in (
        ["--mem-per-cpu", "4G"],
        ["--time", "1:00:00"],
        ["--cpus-per-task", "2", "--ntasks-per-node=1"],
        ["-p", "shared"],  # default gpu=0
        ["--open-mode=append", "-e", "log/q/x.log", "-o", "log/q/x.log"],
        ["--array", "1-3%2", str(slurm.cwd / "log/q/x.sh")],
    ):
        assert contains_seq(args, seq), (seq, args)
    log = (slurm.cwd / "log/x.3.log").read_text()
    assert "# SLURM_ARRAY_TASK_ID=3" in log
    assert re.search(r"^# Accounting: begin_time=\d+$", log, re.M)
    assert re.search(r"^# Accounting: time=\d+ threads=2$", log, re.M)


def test_slurm_gpu_and_no_max(slurm):
    r = slurm.run(["--gpu", "1", "--mem", "0", "JOB=1:2", "log/g.JOB.log", "true"])
    assert r.returncode == 0, r.stderr
    args = slurm.args()
    assert contains_seq(args, ["-p", "gpu", "--gres=gpu:1", "--time", "4:0:0"])
    assert contains_seq(args, ["--array", "1-2"])
    assert "--mem-per-cpu" not in args and "shared" not in args


def test_slurm_conf_file(slurm):
    slurm.conf(
        "slurm.conf",
        "command sbatch --export=PATH --ntasks-per-node=1\n"
        "option time=* --time $0\n"
        "option mem=* --mem-per-cpu $0\n"
        "option mem=0\n"
        "option num_threads=* --cpus-per-task $0\n"
        "option num_threads=1 --cpus-per-task 1\n"
        "default gpu=0\n"
        "option gpu=0 -p cpu\n"
        "option gpu=* -p gpu --gres=gpu:$0 -c 4\n"
        "option account=* -A $0\n",
    )
    r = slurm.run(["--gpu", "2", "--account", "speech", "-tc", "3", "JOB=1:4", "log/c.JOB.log", "true"])
    assert r.returncode == 0, r.stderr
    args = slurm.args()
    for seq in (["-p", "gpu", "--gres=gpu:2", "-c", "4"], ["-A", "speech"], ["--array", "1-4%3"]):
        assert contains_seq(args, seq), (seq, args)
    r = slurm.run(["--gpu", "0", "--num-threads", "1", "log/d.log", "true"])
    assert r.returncode == 0, r.stderr
    assert contains_seq(slurm.args(1), ["-p", "cpu", "--cpus-per-task", "1"])
    r = slurm.run(["--qos", "high", "log/e.log", "true"])
    assert r.returncode == 1
    expected = "Command line option qos not described in conf/slurm.conf (or value 'high' not allowed)"
    assert expected in r.stderr


def test_slurm_max_jobs_run_single_job_and_sync(slurm):
    r = slurm.run(["--max-jobs-run", "2", "-sync", "y", "log/s.log", "true"])
    assert r.returncode == 0, r.stderr
    assert "Ignoring max_jobs_run since this is not an array task." in r.stderr
    args = slurm.args()
    assert "--wait" in args and "-sync" not in args and "--array" not in args
    r = slurm.run(["--max-jobs-run", "0", "JOB=1:2", "log/t.JOB.log", "true"])
    assert r.returncode == 1
    assert "invalid option --max-jobs-run 0" in r.stderr


def test_job_in_directory_name(cluster):
    r = cluster.run(["JOB=1:2", "log/JOB/x.log", "echo", "JOB"])
    assert r.returncode == 0, r.stderr
    assert output_of(cluster.cwd / "log/2/x.log") == "2"


# ---------------------------------------------------------------- which arguments are shell
# queue.pl and slurm.pl quote the command as run.pl does (quote_command in utils/lib/ParallelJobs.pm;
# the rule is written at the top of each script and tested in detail in test_run_pl.py): a data
# argument reaches the task's argv verbatim, a lone operator is shell.

HOSTILE = [
    "data/a;touch pwned/semicolon",
    "data/$(touch pwned/subst)",
    "data/`touch pwned/backtick`",
    "data/$HOME",
    "data/$SGE_TASK_ID$SLURM_ARRAY_TASK_ID",
    "data/with space",
    'data/it\'s "both"',
    "data/*",
    "new\nline;touch pwned/newline",
    "",
    "part JOB",
]
DUMP = "import sys; open(sys.argv[1], 'wb').write(b'\\0'.join(a.encode() for a in sys.argv[2:]))"


def test_data_arguments_reach_the_task_verbatim(cluster):
    (cluster.cwd / "pwned").mkdir()
    (cluster.cwd / "data").mkdir()
    (cluster.cwd / "data" / "a").touch()
    r = cluster.run(["JOB=1:2", "log/v.JOB.log", "python3", "-c", DUMP, "argv.JOB", *HOSTILE])
    assert r.returncode == 0, r.stderr
    for i in (1, 2):
        got = (cluster.cwd / f"argv.{i}").read_bytes().decode().split("\0")
        assert got == [a.replace("JOB", str(i)) for a in HOSTILE]
    assert list((cluster.cwd / "pwned").iterdir()) == []


def test_operator_arguments_are_shell(cluster):
    r = cluster.run(["log/o.log", "echo", "x", ";", "echo", "y", ">&2", "&&", "V=a;b", "printenv", "V"])
    assert r.returncode == 0, r.stderr
    assert output_of(cluster.cwd / "log/o.log") == "x\ny\na;b"
