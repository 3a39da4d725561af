#!/usr/bin/env bash
# Speech sentiment analysis on SWBD-Sentiment (LDC2020T14 over Switchboard-1) and Fisher: the paper's recipe
# (Shon et al., Interspeech 2021), its whole grid by default. Corpora in db.sh, job runners in cmd.sh; run
# from this directory:
#   ./run.sh [--stage N] [--stop_stage M] [--dry_run true] [options of ../TEMPLATE/sentiment.sh]
# (./run.sh --help lists them; --dry_run true prints every system the run would train, with its inputs.)
# The corpus options (split, sph2pipe ...) go to local/data.sh, e.g. --local_data_opts "--split_seed 7"
# (local/data.sh --help lists them). RESULTS.md lists where a run departs from the paper.
set -euo pipefail

# shellcheck disable=SC1091
. ./path.sh
# The data sets local/data.sh writes (stage 1), by role: the classifiers' labeled training, validation
# (model selection) and evaluation sets, the unlabeled set pseudo-labeled for pre-training, the ASR's
# training set. The paper's ASR never heard SWBD-Sentiment (LDC2020T14 labels every transcribed segment of
# Switchboard-1, so no SWBD audio is left for it): the ASR is trained on Fisher (--asr_train_set asr_train
# trains it on the SWBD training conversations instead; --asr_model_dir DIR uses a model trained elsewhere).
# Stages 4-5 log how much of each set the ASR heard (exp/asr_*/overlap.json; RESULTS.md states it).
train_set=swbd_train
valid_set=swbd_test
test_sets=swbd_holdout
unlabeled_sets=fisher
asr_train_set=fisher

# The pseudo labelers (stage 6, Table 3): BERT, DistilBERT, RoBERTa and XLNet fine-tuned on SST-2 (from the
# hub through the datasets library, or --sst2_dir with GLUE's SST-2 TSVs); BERT-SST2 is the default labeler.
# Table 4 (stage 9): BERT-SST2 on S, on S+F, XLNet-SST2 on S+F, BERT-SST2 on S_asr+F_asr, each fine-tuned on
# all of swbd_train and on 5 h; Fig. 2: BERT-SST2 on S+F and the supervised baseline fine-tuned on nested
# subsets in 2.5 h steps. Every classifier with 3 seeds (RESULTS.md: mean ± std).
S=${train_set}
SF=${train_set}+${unlabeled_sets}
bert="bert-base-uncased_sst2"
xlnet="xlnet-base-cased_sst2"

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
    --pseudo_labelers "bert-base-uncased distilbert-base-uncased roberta-base xlnet-base-cased" \
    --pseudo_labeler bert-base-uncased \
    --sst2 true \
    --text_baseline_config conf/train_text_baseline.yaml \
    --text_lm_config conf/train_text_lm.yaml \
    --text_hours 5 \
    --text_seeds "0 1 2" \
    --e2e_config conf/train_e2e.yaml \
    --e2e_pretrain_config conf/train_e2e_pretrain.yaml \
    --e2e_cnn_config conf/train_e2e_cnn.yaml \
    --e2e_hours "all 5" \
    --e2e_curve_hours "$(seq -s ' ' -f '%g' 2.5 2.5 85)" \
    --e2e_pseudo_configs "${bert}:${S}:gt ${bert}:${SF}:gt ${xlnet}:${SF}:gt ${bert}:${SF}:asr" \
    --e2e_curve_configs "${bert}:${SF}:gt" \
    --e2e_seeds "0 1 2" \
    "$@"
