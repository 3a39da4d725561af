#!/usr/bin/env bash
# A single-node Slurm cluster on this machine (munged, slurmctld, slurmd on localhost), for running the
# recipes' slurm.pl jobs for real (CI: test/slurm/run_recipe_on_slurm.sh).
#
#   tools/slurm_cluster.sh up [--state_dir DIR] [--install true]   # start it; prints "export SLURM_CONF=..."
#   tools/slurm_cluster.sh status [--state_dir DIR]                  # sinfo of the running cluster
#   tools/slurm_cluster.sh down [--state_dir DIR]                    # end the daemons it started (by their ids)
#
# Needs root (the daemons run as root: SlurmUser=root) and Debian's slurm-wlm and munge (--install true
# installs them with apt-get when missing). Exit status 3, with one line saying why, when a cluster cannot be
# started here (not root, no Slurm and no apt-get, or the daemons did not come up): callers skip on 3 only.
#
# The cluster: one node (this machine's CPUs and memory, as slurmd -C reads them), partitions cpu (default)
# and shared (the one Kaldi's slurm.pl defaults to), cons_tres core scheduling, so that N one-CPU jobs run at
# once on N cores; ProctrackType=proctrack/linuxproc and TaskPlugin=task/none (no cgroups needed);
# no accounting. Its config, logs, spool and state are under the state dir (default /tmp/speechsent_slurm);
# clients find it through SLURM_CONF=<state dir>/slurm.conf. munged uses its default socket and key.
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}

state_dir=/tmp/speechsent_slurm
install=false
usage="Usage: $0 up|status|down [--state_dir DIR (default ${state_dir})] [--install true|false (default ${install})]"
[ $# -ge 1 ] || { echo "${usage}" >&2; exit 2; }
action=$1
shift
while [ $# -gt 0 ]; do
    case $1 in
        --state_dir) state_dir=$2; shift 2 ;;
        --install) install=$2; shift 2 ;;
        *) echo "${usage}" >&2; exit 2 ;;
    esac
done
conf=${state_dir}/slurm.conf

cannot() {  # cannot MESSAGE: no cluster here (exit 3: a caller may skip)
    log "cannot start a Slurm cluster here: $*"
    exit 3
}

# daemon_pids: the process ids of the daemons this script started (from their pid files), one per line
daemon_pids() {
    local f
    for f in "${state_dir}"/run/slurmctld.pid "${state_dir}"/run/slurmd.pid "${state_dir}"/run/munged.pid; do
        [ -s "${f}" ] && cat "${f}"
    done
    return 0
}

down() {
    local pid waited=0
    for pid in $(daemon_pids); do
        kill "${pid}" 2> /dev/null || true
    done
    for pid in $(daemon_pids); do
        while kill -0 "${pid}" 2> /dev/null && [ "${waited}" -lt 100 ]; do sleep 0.1; waited=$((waited + 1)); done
        kill -9 "${pid}" 2> /dev/null || true
    done
    rm -f "${state_dir}"/run/*.pid
    log "Slurm cluster of ${state_dir} stopped"
}

up() {
    local node cpus mem i
    [ "$(id -u)" = 0 ] || cannot "not root (its daemons run as root)"
    if ! command -v slurmctld > /dev/null || ! command -v munged > /dev/null; then
        if "${install}" && command -v apt-get > /dev/null; then
            log "installing slurm-wlm and munge (apt-get)"
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge; } \
                > "${state_dir}.apt.log" 2>&1 || cannot "apt-get install slurm-wlm munge failed (${state_dir}.apt.log)"
        else
            cannot "no slurmctld/munged (Debian: apt-get install slurm-wlm munge, or --install true)"
        fi
    fi
    [ ! -s "${state_dir}/run/slurmctld.pid" ] || down  # a cluster of an earlier run: replaced
    mkdir -p "${state_dir}"/{run,log,spool,state} /run/munge
    node=$(hostname -s)
    cpus=$(slurmd -C | grep -o 'CPUs=[0-9]*' | cut -d= -f2)
    mem=$(slurmd -C | grep -o 'RealMemory=[0-9]*' | cut -d= -f2)
    cat > "${conf}" << EOF
# written by tools/slurm_cluster.sh: a single-node cluster on ${node}
ClusterName=speechsent
SlurmctldHost=${node}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SlurmctldPort=26817
SlurmdPort=26818
SlurmctldPidFile=${state_dir}/run/slurmctld.pid
SlurmdPidFile=${state_dir}/run/slurmd.pid
SlurmctldLogFile=${state_dir}/log/slurmctld.log
SlurmdLogFile=${state_dir}/log/slurmd.log
SlurmdSpoolDir=${state_dir}/spool
StateSaveLocation=${state_dir}/state
MinJobAge=10
NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=cpu Nodes=${node} Default=YES MaxTime=INFINITE State=UP
PartitionName=shared Nodes=${node} MaxTime=INFINITE State=UP
EOF
    munged --force --pid-file "${state_dir}/run/munged.pid" --log-file "${state_dir}/log/munged.log" \
        || cannot "munged did not start (${state_dir}/log/munged.log)"
    slurmctld -f "${conf}" -i || cannot "slurmctld did not start (${state_dir}/log/slurmctld.log)"
    slurmd -f "${conf}" || cannot "slurmd did not start (${state_dir}/log/slurmd.log)"
    export SLURM_CONF=${conf}
    for i in $(seq 100); do  # the node idle: jobs can start
        if sinfo -h -N -o '%t' 2> /dev/null | grep -qx 'idle'; then
            log "Slurm cluster up (${cpus} CPUs, ${mem} MB on ${node}; partitions cpu, shared) in ${SECONDS} s: $(sinfo -h -o '%P %a %D %t' | tr '\n' ';')"
            echo "export SLURM_CONF=${conf}"
            return 0
        fi
        sleep 0.2
        [ "${i}" -lt 100 ] || true
    done
    tail -n 5 "${state_dir}/log/slurmctld.log" "${state_dir}/log/slurmd.log" >&2 || true
    down
    cannot "the node did not become idle within 20 s (logs above)"
}

case ${action} in
    up) up ;;
    down) down ;;
    status) SLURM_CONF=${conf} sinfo ;;
    *) echo "${usage}" >&2; exit 2 ;;
esac
