#!/usr/bin/env bash
# The demo recipe: the stages of egs/swbd_sentiment on a small conversational corpus synthesized with eSpeak NG
# in the exact LDC layouts (or on the corpora of db.sh when they are set). Run from this directory:
#   ./run.sh [--stage N] [--stop_stage M] [options of ../TEMPLATE/sentiment.sh]   (./run.sh --help lists them)
# The corpus options go to local/data.sh, e.g. --local_data_opts "--synth_seed 2 --synth_opts '--num_swbd_convs 80'"
set -euo pipefail

# shellcheck disable=SC1091
. ./path.sh
# The ASR (stages 2-4): a tiny Transformer (conf/train_asr.yaml) with 300 BPE pieces, trained on CPU in about
# two minutes; every set is decoded with batched CTC greedy search (--decode_mode beam for ESPnet's beam search).
"${MAIN_ROOT}/egs/TEMPLATE/sentiment.sh" \
    --nbpe 300 \
    --asr_config conf/train_asr.yaml \
    --inference_config conf/decode_asr.yaml \
    --ngpu 0 \
    --nj 2 \
    --decode_mode ctc_greedy \
    "$@"
