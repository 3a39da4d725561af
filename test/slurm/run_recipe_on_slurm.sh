#!/usr/bin/env bash
# The demo recipe through a real Slurm (CI step, started by .ci/run after the tests):
#   1. stages 1-2 of egs/mini_sentiment once (corpus, BPE), in a copy of the recipe;
#   2. stages 3-11 with run.pl (cmd.sh's default) in that copy, and with slurm.pl (train_cmd, cuda_cmd,
#      decode_cmd; the recipe's own conf/slurm.conf) in a second copy of the stage-2 state, on a single-node
#      cluster that tools/slurm_cluster.sh starts on this machine;
#   3. every scores.json (classifiers, pseudo labelers, the export's check), the ASR's WER lines and the
#      transcripts of the two runs must be equal;
#   4. stage 9's multi-node command (srun + torchrun, test/slurm/srun_torchrun.sh) trains a system as 2 ranks;
#   5. a job that fails under Slurm (an E2E training given a bad option) must stop the recipe, naming its log;
#   6. the cluster is shut down (its daemons ended by their process ids), also when a step fails.
# Exit status 0 when all hold; 1 when one does not; it prints "SKIPPED: ..." and exits 0 only when no cluster
# can be started here (not root, no Slurm and no apt-get: tools/slurm_cluster.sh's exit status 3).
#
#   bash test/slurm/run_recipe_on_slurm.sh [--work_dir DIR]     (default: a new dir under /tmp)
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work_dir=
[ "${1:-}" != --work_dir ] || work_dir=$2
[ -n "${work_dir}" ] || work_dir=$(mktemp -d /tmp/speechsent_slurm_ci.XXXXXX)
state_dir=${work_dir}/cluster
export SPEECHSENT_ROOT=${root}  # the recipe copies find the toolkit here (their path.sh)

set +e
cluster_env=$(bash "${root}/tools/slurm_cluster.sh" up --state_dir "${state_dir}" --install true)
status=$?
set -e
if [ "${status}" = 3 ]; then
    log "SKIPPED: no Slurm cluster can be started on this machine (tools/slurm_cluster.sh said why above)"
    exit 0
fi
[ "${status}" = 0 ] || { log "Error: tools/slurm_cluster.sh up failed (${status})"; exit 1; }
trap 'bash "${root}/tools/slurm_cluster.sh" down --state_dir "${state_dir}"' EXIT
eval "${cluster_env}"  # SLURM_CONF
log "cluster: ${SLURM_CONF}"

copy_recipe() {
    mkdir -p "$(dirname "$2")"
    cp -a "$1" "$2"
}
copy_recipe "${root}/egs/mini_sentiment" "${work_dir}/run_pl/egs/mini_sentiment"
rm -rf "${work_dir}"/run_pl/egs/mini_sentiment/{data,exp,dump,RESULTS.md}
a=${work_dir}/run_pl/egs/mini_sentiment
b=${work_dir}/slurm/egs/mini_sentiment

log "stages 1-2 (corpus, BPE) in ${a}"
(cd "${a}" && ./run.sh --stop_stage 2 > "${work_dir}/stages_1_2.log" 2>&1) \
    || { tail -n 30 "${work_dir}/stages_1_2.log"; exit 1; }
copy_recipe "${a}" "${b}"  # the same corpus, data dirs and BPE model for both runs

log "stages 3-11 with run.pl in ${a} (log: ${work_dir}/run_pl.log)"
start=${SECONDS}
(cd "${a}" && train_cmd=run.pl cuda_cmd=run.pl decode_cmd=run.pl ./run.sh --stage 3 > "${work_dir}/run_pl.log" 2>&1) \
    || { tail -n 30 "${work_dir}/run_pl.log"; exit 1; }
log "run.pl: stages 3-11 in $((SECONDS - start)) s"

log "stages 3-11 with slurm.pl (conf/slurm.conf) in ${b} (log: ${work_dir}/slurm.log)"
start=${SECONDS}
(cd "${b}" && train_cmd=slurm.pl cuda_cmd=slurm.pl decode_cmd=slurm.pl ./run.sh --stage 3 > "${work_dir}/slurm.log" 2>&1) \
    || { tail -n 30 "${work_dir}/slurm.log"; exit 1; }
ctl_log=${state_dir}/log/slurmctld.log
submitted=$(grep -c '_slurm_rpc_submit_batch_job' "${ctl_log}" || true)
tasks=$(grep -c 'sched: Allocate JobId' "${ctl_log}" || true)
failed=$(grep '_job_complete: .* WEXITSTATUS [1-9]' "${ctl_log}" | grep -c . || true)
log "slurm.pl: stages 3-11 in $((SECONDS - start)) s: ${submitted} sbatch submissions, ${tasks} tasks run by Slurm, ${failed} failed (${ctl_log})"
# every stage's jobs went through Slurm: the ASR training (ESPnet's launcher), collect-stats, formatting,
# decoding, dumping, labeling, the classifiers, the export's check
[ "${submitted}" -ge 20 ] && [ "${failed}" = 0 ] || { log "Error: expected >= 20 Slurm jobs, none failed"; exit 1; }

log "the two runs' results, file by file"
# shellcheck disable=SC1091
. "${root}/tools/activate_python.sh"
python "${root}/test/slurm/compare_runs.py" "${a}" "${b}"

log "stage 9's multi-node command (srun + torchrun, README 'Scaling out'): 2 gloo ranks on the cluster"
bash "${root}/test/slurm/srun_torchrun.sh" "${b}" e2e_blstm_all_srun_s0

log "a failing job under Slurm stops the recipe and names its log"
set +e
(cd "${b}" && train_cmd=slurm.pl cuda_cmd=slurm.pl decode_cmd=slurm.pl \
    ./run.sh --stage 9 --stop_stage 9 --e2e_args "--no_such_option 1" > "${work_dir}/slurm_failure.log" 2>&1)
status=$?
set -e
# the recipe's error names the system, shows the job's own error (not the job runner's footer) and its log
if [ "${status}" = 0 ] || ! grep -q "Error: e2e_.* failed" "${work_dir}/slurm_failure.log" \
        || ! grep -q "error: unrecognized arguments: --no_such_option" "${work_dir}/slurm_failure.log" \
        || ! grep -q "exp/e2e_[^ ]*/log/train.log" "${work_dir}/slurm_failure.log"; then
    tail -n 30 "${work_dir}/slurm_failure.log"
    log "Error: the failing Slurm job did not stop the recipe with its log named (exit status ${status})"
    exit 1
fi
log "$(grep -m 1 "Error: e2e_.* failed" "${work_dir}/slurm_failure.log" | cut -c1-300)"
log "OK: stages 3-11 through Slurm give the run.pl run's results; a failed job stops the recipe"
