#!/usr/bin/env bash
# The stages of every speechsent recipe (Shon et al., Interspeech 2021), as ESPnet's egs2/TEMPLATE/asr1/asr.sh
# is for ASR recipes. A recipe's run.sh calls it from the recipe directory, which holds path.sh, cmd.sh,
# db.sh (the corpora), conf/ and local/data.sh (stage 1):
#   ../TEMPLATE/sentiment.sh [--stage N] [--stop_stage M] [options]
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

# General options
stage=1                 # first stage to run
stop_stage=10000        # last stage to run

# Stage 1: data preparation (local/data.sh)
split=conversation      # conversation (disjoint, the paper's 86/5/5 h proportions), lists, or espnet
split_lists=            # directory with train / test / holdout id lists (implies --split lists)
split_hours="86 5 5"    # relative labeled hours of swbd_train, swbd_test, swbd_holdout (--split conversation)
split_seed=0            # seed of the conversation order (--split conversation)
match_tolerance=0.05    # seconds a sentiment row's times may differ from its MS98 segment's
sph2pipe=speechsent-sph2pipe  # program of the wav.scp pipes (e.g. sph2pipe)
swbd_data_dir=          # reuse an existing Kaldi/ESPnet Switchboard data dir instead of SWBD + SWBD_MS98
skip_bad_rows=false     # skip (count, log) malformed input lines instead of stopping
fisher_unintelligible=drop  # Fisher utterances with ((...)): drop (Kaldi), keep the words, or strip them
local_data_opts=        # more options for the recipe's local/data.sh (e.g. the demo's "--synth_seed 2")

help_message=$(cat <<HELP
Usage: $0 [options]
  --stage N --stop_stage M   run stages N..M (default ${stage}..${stop_stage})
Stage 1 (data preparation: SWBD, SWBD_MS98, SWBD_SENTIMENT, FISHER of db.sh ->
         data/{swbd_train,swbd_test,swbd_holdout,asr_train,fisher}):
  --split conversation|lists|espnet   (default ${split})
  --split_lists DIR                   train/test/holdout id lists (conversations, rows sw02005_57 or utterances)
  --split_hours "86 5 5"              --split_seed N
  --match_tolerance SECONDS           (default ${match_tolerance})
  --sph2pipe PROGRAM                  (default ${sph2pipe})
  --swbd_data_dir DIR                 reuse an existing Kaldi/ESPnet Switchboard data dir
  --skip_bad_rows true|false          --fisher_unintelligible drop|keep|strip
  --local_data_opts "..."             more options of the recipe's local/data.sh
HELP
)

log "$0 $*"
if [ ! -f ./path.sh ] || [ ! -f ./db.sh ] || [ ! -f ./local/data.sh ]; then
    log "Error: run me from a recipe directory (with path.sh, cmd.sh, db.sh, local/data.sh), e.g. egs/mini_sentiment"
    exit 1
fi
# shellcheck disable=SC1091
. ./path.sh
# shellcheck disable=SC1091
. ./cmd.sh
# shellcheck disable=SC1091
. ./db.sh
# shellcheck disable=SC1091
. "${MAIN_ROOT}/utils/parse_options.sh"

if [ $# -ne 0 ]; then
    log "Error: no positional arguments are expected: $*"
    log "${help_message}"
    exit 2
fi

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    log "Stage 1: data preparation"
    log "  inputs: SWBD=${SWBD} SWBD_MS98=${SWBD_MS98} SWBD_SENTIMENT=${SWBD_SENTIMENT} FISHER=${FISHER}${swbd_data_dir:+ swbd_data_dir=${swbd_data_dir}}"
    log "  outputs: data/{swbd_train,swbd_test,swbd_holdout,asr_train,fisher}"
    # shellcheck disable=SC2086  # local_data_opts holds several options
    local/data.sh \
        --split "${split}" \
        --split_lists "${split_lists}" \
        --split_hours "${split_hours}" \
        --split_seed "${split_seed}" \
        --match_tolerance "${match_tolerance}" \
        --sph2pipe "${sph2pipe}" \
        --swbd_data_dir "${swbd_data_dir}" \
        --skip_bad_rows "${skip_bad_rows}" \
        --fisher_unintelligible "${fisher_unintelligible}" \
        ${local_data_opts}
    log "Stage 1 done: data/{swbd_train,swbd_test,swbd_holdout,asr_train,fisher}"
fi

log "Successfully finished"
