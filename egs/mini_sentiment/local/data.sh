#!/usr/bin/env bash
# Stage 1 of the demo. When the corpora of db.sh (SWBD, SWBD_MS98, SWBD_SENTIMENT, FISHER) are all unset, a
# corpus is synthesized in the exact LDC layouts (speechsent-synth-corpus, sized by conf/synth_corpus.yaml)
# and used in their place; then the data preparation of egs/swbd_sentiment/local/data.sh runs unchanged.
#   local/data.sh [--synth_dir DIR] [--synth_seed N] [--synth_config YAML] [options of swbd's local/data.sh]
# The corpus is synthesized once: a --synth_dir holding a manifest.json is reused.
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

synth_dir=downloads/mini_corpus     # where the corpus is synthesized
synth_seed=1                        # its seed
synth_config=conf/synth_corpus.yaml # its size and character (speechsent-synth-corpus --config)

# This script's own options; everything else is passed on to the shared data preparation.
prep_opts=()
while [ $# -gt 0 ]; do
    case $1 in
        --synth_dir|--synth_seed|--synth_config)
            [ $# -ge 2 ] || { log "Error: $1 needs a value"; exit 1; }
            printf -v "${1#--}" '%s' "$2"
            shift 2 ;;
        *) prep_opts+=("$1"); shift ;;
    esac
done

# shellcheck disable=SC1091
. ./path.sh
# shellcheck disable=SC1091
. ./db.sh

if [ -z "${SWBD}${SWBD_MS98}${SWBD_SENTIMENT}${FISHER}" ]; then
    if [ -f "${synth_dir}/manifest.json" ]; then
        log "reusing the synthesized corpus ${synth_dir} (remove it to synthesize again)"
    else
        log "synthesizing a corpus in the LDC layouts: ${synth_dir} (seed ${synth_seed}, ${synth_config})"
        python -m speechsent.bin.synth_corpus --config "${synth_config}" --out_dir "${synth_dir}" \
            --seed "${synth_seed}" --nj "$(nproc)"
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
    export SWBD SWBD_MS98 SWBD_SENTIMENT FISHER
fi

exec "${MAIN_ROOT}/egs/swbd_sentiment/local/data.sh" ${prep_opts[@]+"${prep_opts[@]}"}
