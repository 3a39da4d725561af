#!/usr/bin/env bash
# Speech sentiment analysis on SWBD-Sentiment (LDC2020T14 over Switchboard-1) and Fisher: the paper's recipe
# (Shon et al., Interspeech 2021). Corpora in db.sh, job runners in cmd.sh; run from this directory:
#   ./run.sh [--stage N] [--stop_stage M] [options of ../TEMPLATE/sentiment.sh]   (./run.sh --help lists them)
# The corpus options (split, sph2pipe ...) go to local/data.sh, e.g. --local_data_opts "--split_seed 7"
# (local/data.sh --help lists them).
set -euo pipefail

# shellcheck disable=SC1091
. ./path.sh
# The data sets local/data.sh writes (stage 1), by role: the classifiers' labeled training, validation
# (model selection) and evaluation sets, the unlabeled set pseudo-labeled for pre-training, the ASR's
# training set.
train_set=swbd_train
valid_set=swbd_test
test_sets=swbd_holdout
unlabeled_sets=fisher
asr_train_set=asr_train

# The ASR (stages 2-4): the paper's 12-block x 512 Transformer with 2,000 BPE pieces, trained on 4 GPUs;
# the unlabeled Fisher (2,000 h) is decoded with batched CTC greedy search (--fast_decode_sets: by
# default the unlabeled sets), the SWBD sets with beam search.
"${MAIN_ROOT}/egs/TEMPLATE/sentiment.sh" \
    --train_set "${train_set}" \
    --valid_set "${valid_set}" \
    --test_sets "${test_sets}" \
    --unlabeled_sets "${unlabeled_sets}" \
    --asr_train_set "${asr_train_set}" \
    --nbpe 2000 \
    --asr_config conf/train_asr.yaml \
    --inference_config conf/decode_asr.yaml \
    --ngpu 4 \
    --nj 32 \
    --decode_mode beam \
    --text_baseline_config conf/train_text_baseline.yaml \
    --text_lm_config conf/train_text_lm.yaml \
    --text_hours 5 \
    --e2e_config conf/train_e2e.yaml \
    --e2e_pretrain_config conf/train_e2e_pretrain.yaml \
    --e2e_cnn_config conf/train_e2e_cnn.yaml \
    --e2e_hours "all 2.5 5 7.5 10 15 20 25 30 35 40" \
    --e2e_pseudo_transcripts "gt asr" \
    "$@"
