#!/usr/bin/env bash
# Stage 1: the LDC releases of db.sh -> the Kaldi data dirs of docs/contracts.md:
#   data/swbd_train data/swbd_test data/swbd_holdout  sentiment-labeled Switchboard segments (utt2sentiment)
#   data/asr_train                                    every MS98 segment of the training conversations
#   data/fisher                                       every Fisher segment (unlabeled)
# each validated with utils/validate_data_dir.sh --no-feats. Rerunning writes the same bytes.
# The work is done by speechsent/bin/prepare_data.py (speechsent.data.prepare); see its --help.
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

datadir=data
split=conversation
split_lists=
split_hours="86 5 5"
split_seed=0
match_tolerance=0.05
sph2pipe=speechsent-sph2pipe
swbd_data_dir=
skip_bad_rows=false
fisher_unintelligible=drop

help_message="Usage: $0 [--datadir data] [--split conversation|lists|espnet] [--split_lists DIR]
  [--split_hours '86 5 5'] [--split_seed 0] [--match_tolerance 0.05] [--sph2pipe speechsent-sph2pipe]
  [--swbd_data_dir DIR] [--skip_bad_rows false] [--fisher_unintelligible drop|keep|strip]
Corpora from db.sh: SWBD, SWBD_MS98, SWBD_SENTIMENT, FISHER (each overridable from the environment)."

log "$0 $*"
# shellcheck disable=SC1091
. ./path.sh
# shellcheck disable=SC1091
. ./db.sh
# shellcheck disable=SC1091
. "${MAIN_ROOT}/utils/parse_options.sh"

if [ $# -ne 0 ]; then
    log "Error: no positional arguments are expected: $*"
    log "${help_message}"
    exit 2
fi

if [ -z "${SWBD_SENTIMENT}" ] || { [ -z "${swbd_data_dir}" ] && { [ -z "${SWBD}" ] || [ -z "${SWBD_MS98}" ]; }; }; then
    log "Error: set SWBD, SWBD_MS98 and SWBD_SENTIMENT (and FISHER) in db.sh or the environment" \
        "(or SWBD_SENTIMENT with --swbd_data_dir)"
    exit 1
fi
log "inputs: SWBD=${SWBD} SWBD_MS98=${SWBD_MS98} SWBD_SENTIMENT=${SWBD_SENTIMENT} FISHER=${FISHER}"
python -m speechsent.bin.prepare_data \
    --swbd "${SWBD}" \
    --swbd_ms98 "${SWBD_MS98}" \
    --swbd_sentiment "${SWBD_SENTIMENT}" \
    --fisher "${FISHER}" \
    --swbd_data_dir "${swbd_data_dir}" \
    --out_dir "${datadir}" \
    --sph2pipe "${sph2pipe}" \
    --split "${split}" \
    --split_lists "${split_lists}" \
    --split_hours "${split_hours}" \
    --split_seed "${split_seed}" \
    --match_tolerance "${match_tolerance}" \
    --skip_bad_rows "${skip_bad_rows}" \
    --fisher_unintelligible "${fisher_unintelligible}"

# Validate every dir, two at a time (the biggest first), each into its own log
# ${datadir}/local/validate_data_dir.<dir>.log; the logs are printed in order once all are done, and any
# failure fails the stage.
validate_nj=2
mkdir -p "${datadir}/local"
rm -f "${datadir}"/local/validate_data_dir.*.{log,rc}
for x in fisher asr_train swbd_train swbd_test swbd_holdout; do
    if [ -d "${datadir}/${x}" ]; then
        while [ "$(jobs -rp | wc -l)" -ge "${validate_nj}" ]; do
            wait -n || true
        done
        (
            if validate_data_dir.sh --no-feats "${datadir}/${x}"; then rc=0; else rc=$?; fi
            echo "${rc}" > "${datadir}/local/validate_data_dir.${x}.rc"
        ) > "${datadir}/local/validate_data_dir.${x}.log" 2>&1 &
    fi
done
wait
failed=()
for x in swbd_train swbd_test swbd_holdout asr_train fisher; do
    if [ -f "${datadir}/local/validate_data_dir.${x}.log" ]; then
        cat "${datadir}/local/validate_data_dir.${x}.log"
        rc=$(cat "${datadir}/local/validate_data_dir.${x}.rc" 2>/dev/null || echo 1)
        rm -f "${datadir}/local/validate_data_dir.${x}.rc"
        if [ "${rc}" != 0 ]; then
            failed+=("${x}")
        fi
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    log "Error: validate_data_dir.sh --no-feats failed for: ${failed[*]} (see ${datadir}/local/validate_data_dir.<dir>.log)"
    exit 1
fi
log "outputs: ${datadir}/{swbd_train,swbd_test,swbd_holdout,asr_train${FISHER:+,fisher}}"
