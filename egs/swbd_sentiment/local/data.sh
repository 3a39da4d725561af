#!/usr/bin/env bash
# Stage 1: the LDC releases of db.sh -> the Kaldi data dirs of docs/contracts.md (by default):
#   data/swbd_train data/swbd_test data/swbd_holdout  sentiment-labeled Switchboard segments (utt2sentiment)
#   data/asr_train                                    every MS98 segment of the training conversations
#   data/fisher                                       every Fisher segment (unlabeled)
# each validated with utils/validate_data_dir.sh --no-feats. Rerunning writes the same bytes.
#   local/data.sh [--datadir data] [options of speechsent-prepare-data]
# The work is done by speechsent/bin/prepare_data.py (speechsent.data.prepare): every option but --datadir
# is its own (the split, --sph2pipe, --swbd_data_dir, the data dirs' names ...; --help lists them), passed
# on unchanged. The recipe's run.sh gives them as --local_data_opts "...".
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

datadir=data
swbd_data_dir=   # (read from the options passed on: the corpora check below)

log "$0 $*"
# shellcheck disable=SC1091
. ./path.sh
# shellcheck disable=SC1091
. ./db.sh

# This script's own option; everything else is speechsent-prepare-data's. Option names may be spelled with
# dashes, as Kaldi's parse_options.sh accepts them: --split-seed 7 is --split_seed 7.
prep_opts=()
while [ $# -gt 0 ]; do
    if [[ $1 == --?* ]]; then
        _given=${1%%=*}
        _name=${_given//-/_}
        set -- "--${_name:2}${1:${#_given}}" "${@:2}"
    fi
    case $1 in
        --datadir)
            [ $# -ge 2 ] || { log "Error: $1 needs a value"; exit 2; }
            datadir=$2
            shift 2 ;;
        --help|-h)
            echo "Usage: $0 [--datadir data] [options of speechsent-prepare-data, below]" >&2
            echo "Corpora from db.sh: SWBD, SWBD_MS98, SWBD_SENTIMENT, FISHER (each overridable from the environment)." >&2
            python -m speechsent.bin.prepare_data --help >&2
            exit 0 ;;
        --*=*)
            prep_opts+=("$1")
            [[ $1 != --swbd_data_dir=* ]] || swbd_data_dir=${1#*=}
            shift ;;
        --*)
            [ $# -ge 2 ] || { log "Error: $1 needs a value"; exit 2; }
            prep_opts+=("$1" "$2")
            [ "$1" != --swbd_data_dir ] || swbd_data_dir=$2
            shift 2 ;;
        *)
            log "Error: no positional arguments are expected: $1 (see $0 --help)"
            exit 2 ;;
    esac
done

if [ -z "${SWBD_SENTIMENT}" ] || { [ -z "${swbd_data_dir}" ] && { [ -z "${SWBD}" ] || [ -z "${SWBD_MS98}" ]; }; }; then
    log "Error: set SWBD, SWBD_MS98 and SWBD_SENTIMENT (and FISHER) in db.sh or the environment" \
        "(or SWBD_SENTIMENT with --swbd_data_dir)"
    exit 1
fi
log "inputs: SWBD=${SWBD} SWBD_MS98=${SWBD_MS98} SWBD_SENTIMENT=${SWBD_SENTIMENT} FISHER=${FISHER}"
_opts=(--swbd "${SWBD}" --swbd_ms98 "${SWBD_MS98}" --swbd_sentiment "${SWBD_SENTIMENT}" --fisher "${FISHER}"
       --out_dir "${datadir}" ${prep_opts[@]+"${prep_opts[@]}"})
# The data dirs these options write: training, validation, evaluation, ASR training, Fisher.
mapfile -t sets < <(python -m speechsent.bin.prepare_data "${_opts[@]}" --list_sets true)
python -m speechsent.bin.prepare_data "${_opts[@]}"

# Validate every dir, two at a time (the biggest first), each into its own log
# ${datadir}/local/validate_data_dir.<dir>.log; the logs are printed in order once all are done, and any
# failure fails the stage.
validate_nj=2
mkdir -p "${datadir}/local"
rm -f "${datadir}"/local/validate_data_dir.*.{log,rc}
for x in "${sets[4]}" "${sets[3]}" "${sets[0]}" "${sets[1]}" "${sets[2]}"; do
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
for x in "${sets[@]}"; do
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
_written=("${sets[@]:0:4}")
[ -z "${FISHER}" ] || _written+=("${sets[4]}")
log "outputs: ${datadir}/{$(IFS=,; echo "${_written[*]}")}"
