#!/usr/bin/env bash
# Speech sentiment analysis on SWBD-Sentiment (LDC2020T14 over Switchboard-1) and Fisher: the paper's recipe
# (Shon et al., Interspeech 2021). Corpora in db.sh, job runners in cmd.sh; run from this directory:
#   ./run.sh [--stage N] [--stop_stage M] [options of ../TEMPLATE/sentiment.sh]   (./run.sh --help lists them)
set -euo pipefail

# shellcheck disable=SC1091
. ./path.sh
# The ASR (stages 2-4): the paper's 12-block x 512 Transformer with 2,000 BPE pieces, trained on 4 GPUs;
# Fisher (2,000 h) is decoded with batched CTC greedy search, the SWBD sets with beam search.
"${MAIN_ROOT}/egs/TEMPLATE/sentiment.sh" \
    --nbpe 2000 \
    --asr_config conf/train_asr.yaml \
    --inference_config conf/decode_asr.yaml \
    --ngpu 4 \
    --nj 32 \
    --decode_mode beam \
    --fast_decode_sets fisher \
    "$@"
