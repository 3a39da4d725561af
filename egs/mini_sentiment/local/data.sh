#!/usr/bin/env bash
# Stage 1 of the demo: the corpora of db.sh or, when they are unset, a corpus synthesized in the LDC layouts
# (speechsent-synth-corpus --out_dir DIR --seed S) -> the Kaldi data dirs of CONTRACTS.md:
#   data/swbd_train data/swbd_test data/swbd_holdout  sentiment-labeled Switchboard segments (utt2sentiment)
#   data/asr_train                                    every MS98 segment of the training conversations
#   data/fisher                                       every Fisher segment (unlabeled)
# each validated with utils/validate_data_dir.sh --no-feats. Rerunning writes the same bytes (the corpus is
# synthesized once: a DIR with a manifest.json is reused).
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
synth_dir=downloads/mini_corpus
synth_seed=1
synth_opts=

help_message="Usage: $0 [--datadir data] [--synth_dir DIR] [--synth_seed 1] [--synth_opts '...']
  [--split conversation|lists|espnet] [--split_lists DIR] [--split_hours '86 5 5'] [--split_seed 0]
  [--match_tolerance 0.05] [--sph2pipe speechsent-sph2pipe] [--swbd_data_dir DIR]
  [--skip_bad_rows false] [--fisher_unintelligible drop|keep|strip]
Corpora from db.sh (SWBD, SWBD_MS98, SWBD_SENTIMENT, FISHER); all unset: a synthesized corpus."

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

if [ -z "${SWBD}${SWBD_MS98}${SWBD_SENTIMENT}${FISHER}" ]; then
    if [ -f "${synth_dir}/manifest.json" ]; then
        log "reusing the synthesized corpus ${synth_dir} (remove it to synthesize again)"
    else
        log "synthesizing a corpus in the LDC layouts: ${synth_dir} (seed ${synth_seed})"
        # shellcheck disable=SC2086  # synth_opts holds several options
        python -m speechsent.bin.synth_corpus --out_dir "${synth_dir}" --seed "${synth_seed}" ${synth_opts}
    fi
    SWBD=${synth_dir}/swbd
    SWBD_MS98=${synth_dir}/swb_ms98_transcriptions
    SWBD_SENTIMENT=${synth_dir}/swbd_sentiment
    FISHER=
    for d in LDC2004S13 LDC2005S13 LDC2004T19 LDC2005T19; do
        if [ -d "${synth_dir}/fisher/${d}" ]; then
            FISHER="${FISHER:+${FISHER} }${synth_dir}/fisher/${d}"
        fi
    done
elif [ -z "${SWBD_SENTIMENT}" ] || { [ -z "${swbd_data_dir}" ] && { [ -z "${SWBD}" ] || [ -z "${SWBD_MS98}" ]; }; }; then
    log "Error: set SWBD, SWBD_MS98 and SWBD_SENTIMENT (and FISHER) together, or none of them"
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

for x in swbd_train swbd_test swbd_holdout asr_train fisher; do
    if [ -d "${datadir}/${x}" ]; then
        validate_data_dir.sh --no-feats "${datadir}/${x}"
    fi
done
log "outputs: ${datadir}/{swbd_train,swbd_test,swbd_holdout,asr_train${FISHER:+,fisher}}"
