#!/usr/bin/env bash
# The demo recipe: speech sentiment analysis (Shon et al., Interspeech 2021) on a small corpus synthesized in
# the LDC layouts (or on the corpora of db.sh when set). Same stages and data dirs as egs/swbd_sentiment;
# run from this directory: ./run.sh [--stage N] [--stop_stage M] ...
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
synth_dir=downloads/mini_corpus  # where the corpus is synthesized when db.sh's corpora are unset
synth_seed=1            # its seed
synth_opts=             # more speechsent-synth-corpus options, e.g. "--num_swbd_convs 20"

help_message=$(cat <<HELP
Usage: $0 [options]
  --stage N --stop_stage M   run stages N..M (default ${stage}..${stop_stage})
Stage 1 (data preparation: a corpus synthesized into --synth_dir, or SWBD, SWBD_MS98, SWBD_SENTIMENT,
         FISHER of db.sh when set -> data/{swbd_train,swbd_test,swbd_holdout,asr_train,fisher}):
  --synth_dir DIR --synth_seed N --synth_opts "..."   the synthesized corpus (speechsent-synth-corpus)
  --split conversation|lists|espnet   (default ${split})
  --split_lists DIR                   train/test/holdout id lists (conversations, rows sw02005_57 or utterances)
  --split_hours "86 5 5"              --split_seed N
  --match_tolerance SECONDS           (default ${match_tolerance})
  --sph2pipe PROGRAM                  (default ${sph2pipe})
  --swbd_data_dir DIR                 reuse an existing Kaldi/ESPnet Switchboard data dir
  --skip_bad_rows true|false          --fisher_unintelligible drop|keep|strip
HELP
)

log "$0 $*"
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
    log "  inputs: ${SWBD:-corpus synthesized in ${synth_dir} (seed ${synth_seed})} ${SWBD_MS98} ${SWBD_SENTIMENT} ${FISHER}${swbd_data_dir:+ swbd_data_dir=${swbd_data_dir}}"
    log "  outputs: data/{swbd_train,swbd_test,swbd_holdout,asr_train,fisher}"
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
        --synth_dir "${synth_dir}" \
        --synth_seed "${synth_seed}" \
        --synth_opts "${synth_opts}"
    log "Stage 1 done: data/{swbd_train,swbd_test,swbd_holdout,asr_train,fisher}"
fi

log "Successfully finished"
