#!/usr/bin/env bash
# The stages of every speechsent recipe (Shon et al., Interspeech 2021), as ESPnet's egs2/TEMPLATE/asr1/asr.sh
# is for ASR recipes. A recipe's run.sh calls it from the recipe directory, which holds path.sh, cmd.sh,
# db.sh (the corpora), conf/ and local/data.sh (stage 1):
#   ../TEMPLATE/sentiment.sh --train_set SET --valid_set SET --test_sets "SET..." [--unlabeled_sets "SET..."]
#       --asr_train_set SET [--local_data_opts "..."] [--stage N] [--stop_stage M] [options]
# The template names no corpus and no set: run.sh names the recipe's data sets (data/<set>) by role, every
# other set option defaults from them, and the corpus options go to local/data.sh (stage 1) through
# --local_data_opts only (docs/contracts.md, "Recipe stages"). Every stage reads the options, the defaults
# derived from them right after parsing, and what it sets itself: never what another stage set.
#
# Stages 2-4, the ASR (ESPnet2's joint CTC-attention model, run as asr.sh runs it):
#   2  sentencepiece BPE (speechsent-train-bpe) -> data/token_list/bpe_<bpemode><nbpe>/{bpe.model,tokens.txt}
#   3  audio of the training and validation sets for ESPnet (speechsent-format-wav -> dump/raw/<set>),
#      espnet2.bin.asr_train --collect_stats (-> exp/asr_stats_*), espnet2.bin.launch + asr_train
#      (-> exp/asr_<tag>); the model is recorded in exp/asr_model (speechsent-asr-model), from where
#      stage 4 and the later stages read it. With --asr_model_dir DIR (any ESPnet2 ASR model: config.yaml
#      + *.pth, e.g. an unpacked model-zoo model) stages 2 and 3 only record DIR there.
#   4  decoding of --decode_sets (speechsent-asr-decode: beam search or batched CTC greedy) ->
#      data/<set>_asr (text = ASR output, same utterances; a failed utterance gets an empty text and is
#      listed in <decode_dir>/<set>/failed) and exp/asr_<tag>/decode_<mode>/<set>/{text,score.txt}.
#   5  the frozen encoder's outputs (frontend + normalisation + encoder, eval mode) of --dump_sets, nj jobs
#      through $decode_cmd ($cuda_cmd with --gpu_inference true; logs in dump/encoder/log/dump.JOB.log)
#      -> dump/encoder/<set>/feats.scp + arks; with --encoders "asr hf:<id>" also a Hugging Face speech
#      encoder's hidden states (--hf_layers) -> dump/encoder_hf_<name>/<set>, whose E2E systems stage 9
#      trains beside the ASR encoder's (e2e_hf_<name>_blstm_...);
#      utterances too short for the subsampling, or whose audio cannot be read, are listed in
#      dump/encoder[_<tag>]/<set>/skipped_utts.
# Stages 3-5 stop when a set they read has no usable utterance or more than --max_failed_fraction of it
# is unreadable (naming the list of failures: dump/raw/<set>/failed, <decode_dir>/<set>/failed,
# dump/encoder/<set>/skipped_utts); a rerun reads the unreadable utterances again, so fix the audio (or
# wav.scp) and rerun the stage.
# Every step skips what is done: the BPE model and collect-stats when their inputs are unchanged, the
# training when exp/asr_<tag>/.done matches (ESPnet's --resume true otherwise), the audio files and decoding
# jobs that are finished.
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*"
}

# General options
stage=1                 # first stage to run
stop_stage=10000        # last stage to run
dry_run=false           # true: print what each stage would do and every system it would train; do nothing

# Data sets: the names of the Kaldi data dirs data/<set> (docs/contracts.md) that stage 1 (local/data.sh)
# writes; every later stage reads them through these names (as ESPnet's asr.sh --train_set ...).
train_set=              # labeled training set of the classifiers (e.g. swbd_train; required)
valid_set=              # labeled validation set: model selection, ASR validation (e.g. swbd_test; required)
test_sets=              # labeled evaluation sets (e.g. swbd_holdout; required)
unlabeled_sets=         # unlabeled sets pseudo-labeled for pre-training (e.g. fisher; may be empty)
asr_train_set=          # transcribed set the ASR is trained on (e.g. asr_train; required unless --asr_model_dir)

# Stage 1: data preparation. The corpus, its options and the split belong to the recipe: they reach
# local/data.sh only through --local_data_opts (e.g. "--split_seed 7"; local/data.sh --help lists them).
local_data_opts=        # options of the recipe's local/data.sh

# Jobs and directories
nj=4                    # parallel jobs of the data stages (audio formatting, collect-stats, decoding)
inference_nj=           # parallel decoding jobs (default: nj)
ngpu=0                  # GPUs for ASR training (>1: distributed, ESPnet's --multiprocessing_distributed)
train_nj=1              # jobs run side by side: the trainings of stages 8-9, the checks of stage 11
num_nodes=1             # nodes for ASR training
gpu_inference=          # decode on a GPU through cuda_cmd (default: true when ngpu > 0)
dumpdir=dump            # audio files for ESPnet (dump/raw/<set>)
max_failed_fraction=0.1 # stages 3-5: stop when more than this fraction of a set's utterances cannot be read
expdir=exp              # experiments

# Stages 2-4: the ESPnet joint CTC-attention ASR (skip 2-3 with --asr_model_dir)
nbpe=2000               # BPE vocabulary size (stage 2; ESPnet's asr.sh --nbpe)
bpemode=unigram         # sentencepiece model type: unigram or bpe
bpe_train_text=         # Kaldi text file(s) of the BPE model (default: text of the --asr_train_sets)
bpe_char_cover=1.0      # sentencepiece character coverage
fs=8000                 # sampling rate of the ASR training audio (Hz; the frontend's fs)
audio_format=flac       # audio written for ESPnet: flac or wav
asr_train_sets=         # data dirs the ASR is trained on, combined (default: --asr_train_set; e.g. "asr_train fisher")
asr_train_hours=        # train on a random subset of this many hours (empty: all)
asr_valid_set=          # validation set of the ASR training (default: --valid_set)
min_wav_duration=0.1    # training/validation utterances kept: longer than this (s) ...
max_wav_duration=20     # ... and shorter than this (s)
asr_config=             # ESPnet2 ASR training config (e.g. conf/train_asr.yaml)
asr_args=               # more options of espnet2.bin.asr_train, e.g. "--max_epoch 10"
asr_tag=                # experiment name exp/asr_<tag> (default: from asr_config, nbpe, asr_args, as asr.sh)
asr_stats_dir=          # statistics of collect-stats (default: exp/asr_stats_raw_bpe<nbpe>)
feats_normalize=global_mvn  # feature normalisation: global_mvn (from collect-stats) or utterance_mvn
asr_model_dir=          # use this ESPnet2 ASR model (config.yaml + *.pth, e.g. an unpacked model-zoo model)
asr_model_file=         # its model file (default: valid.acc.ave*, valid.acc.best, the newest *.pth)
asr_model_train_sets=   # with --asr_model_dir: the data dirs that model was trained on, for the overlap (empty: unknown)
decode_sets=            # data dirs decoded into data/<set>_asr (default: train, valid, test and unlabeled sets)
decode_mode=beam        # beam (ESPnet's joint CTC/attention beam search) or ctc_greedy (batched, fast)
fast_decode_sets=       # sets decoded with ctc_greedy whatever --decode_mode (default: --unlabeled_sets)
inference_config=       # decoding options (YAML: beam_size, ctc_weight, penalty, lm_weight, batch_seconds ...)
inference_args=         # more options of speechsent-asr-decode, e.g. "--beam_size 5"

# Stage 5: the frozen-encoder dump
encoders=asr            # the frozen encoders of stages 5 and 9, side by side: asr (stage 3's ESPnet ASR, the paper's) and/or hf:<hub id or local dir>[@revision] (a Hugging Face speech encoder: wav2vec2, HuBERT, WavLM, data2vec-audio, Whisper)
hf_layers=all           # the hidden states an hf: encoder's dump stores: all (stage 9 learns a weighted sum of them), last, or indices "0 6 12"
dump_sets=             # data dirs dumped into dump/encoder[_<tag>]/<set> (default: train, valid, test and unlabeled sets)
dump_storage=float      # float (float32 ark) or compressed (Kaldi compressed matrices, ~1/4 of the bytes)
amp=false               # autocast the encoder on GPU (stage 5): false, true (bf16 if supported, else fp16), fp16, bf16
dump_args=              # more options of speechsent-dump-encoder, e.g. "--batch_frames 30000"

# Stages 6-7: the pseudo labelers and the pseudo labels
pseudo_labeler=distilbert-base-uncased-finetuned-sst-2-english  # the default labeler (its labels: utt2pseudo): HF sequence-classification id/dir, an AutoModel id/dir fine-tuned here (--sst2), vader, or a comma-separated ensemble
pseudo_labelers=        # every labeler of stage 6 (Table 3), space-separated specs as --pseudo_labeler (default: --pseudo_labeler)
pseudo_labeler_tag=     # exp/pseudo_labeler_<tag> of the default labeler (default: from --pseudo_labeler)
sst2=false              # fine-tune the Hugging Face labelers on SST-2 in stage 6 (tag <name>_sst2): from --sst2_dir, else the hub (datasets)
sst2_dir=               # GLUE SST-2 dir (train.tsv, dev.tsv) of the fine-tuning (implies --sst2 true)
pseudo_labeler_config=  # YAML options of speechsent-pseudo-labeler (SST-2 epochs, lr, batch size ...)
pseudo_labeler_args=    # more options of speechsent-pseudo-labeler
pseudo_eval_sets=       # labeled sets the labelers are evaluated on (Table 3; and their _asr; default: valid, test sets)
pseudo_sets=            # sets the default labeler labels in stage 7, text and/or _asr text (default: train, unlabeled sets)
pseudo_transcripts="gt asr"      # the default labeler labels data/<set> (gt) and/or data/<set>_asr (asr)
pseudo_args=            # more options of speechsent-pseudo-label

# Stage 8: 2-step text classifiers (Table 1)
text_archs="baseline lm"  # baseline (embedding 200 -> 2 BLSTM) and/or lm (pre-trained LM -> 3 BLSTM)
text_lm=bert-base-uncased # the LM of the lm classifiers: hub id or local dir
text_transcripts="gt asr" # train on <train_set> (gt) and/or <train_set>_asr (asr)
text_hours=             # also train on seeded subsets of <train_set> of these many hours, e.g. "5" ...
text_hours_transcripts=asr  # ... on these transcripts (Table 1: "ASR (5h)")
text_valid_set=         # selection set (default: <valid_set>_asr: the paper validates on ASR transcripts)
text_seeds="0"          # one system per seed (the report averages them)
text_baseline_config=   # YAML options of speechsent-train-text-classifier for --arch baseline
text_lm_config=         # ... for --arch lm
text_args=              # more options of speechsent-train-text-classifier

# Stage 9: E2E classifiers (Tables 2 and 4, Fig. 2)
e2e_hours="all"         # Table 4's fine-tuning sets: all of <train_set> and/or seeded subsets of H hours (e.g. "all 5")
e2e_curve_hours=        # Fig. 2's fine-tuning subsets (hours, e.g. "2.5 5 7.5"): supervised and the --e2e_curve_configs
e2e_seeds="0"           # one system per seed (the report averages them)
e2e_pseudo_configs=     # pseudo-label pre-trainings "LABELER:SET+SET:gt|asr ..." (LABELER: a stage-6 tag; default: the default labeler on --pseudo_sets for each --e2e_pseudo_transcripts)
e2e_pseudo_transcripts="gt"  # (the default --e2e_pseudo_configs) pre-training on the labels of data/<set> (gt) and/or <set>_asr (asr); "" = none
e2e_curve_configs=      # the pseudo configs fine-tuned at the --e2e_curve_hours too (default: the first of --e2e_pseudo_configs)
e2e_config=             # YAML options of speechsent-train-e2e (BLSTM, supervised and fine-tuning)
e2e_pretrain_config=    # ... of the pseudo-label pre-training (default: --e2e_config)
e2e_cnn_config=         # ... of the fbank CNN of Table 2 (empty: no CNN)
e2e_args=               # more options of speechsent-train-e2e (every E2E system)
subset_seed=0           # seed of the hours subsets of <train_set> (stages 8, 9; nested for one seed)
report_args=            # more options of speechsent-make-report (stage 10)

# Stage 11: export (self-contained model dirs for speechsent-infer and SentimentModel.from_pretrained)
export_families="e2e two_step"  # which systems to export to exp/export/<family>
export_e2e_system=      # the E2E system (exp dir name) to export; default: best validation unweighted F1
export_two_step_system= # the 2-step system; default: best unweighted F1 on the validation set's ASR transcripts
export_select_set=      # validation set of the default choices (default: --valid_set)
export_check_text=      # Kaldi text file of sentences to speak (eSpeak NG) and classify with each exported model
export_check_synth_args=  # more options of speechsent-synth-utterance for --export_check_text
export_check_scp=       # or a wav.scp of audio to classify with each exported model
export_check_labels=    # utt2sentiment of those utterances: each model's accuracy printed, in <family>/check_scores.json
export_args=            # more options of speechsent-export

help_message=$(cat <<HELP
Usage: $0 [options]
  --stage N --stop_stage M   run stages N..M (default ${stage}..${stop_stage})
  --dry_run true             print what the stages would do and every system they would train (nothing is done)
Data sets (names of data/<set>; a recipe's run.sh sets them):
  --train_set SET  --valid_set SET  --test_sets "SET..."   labeled: training, validation, evaluation (required)
  --unlabeled_sets "SET..."   pseudo-labeled for pre-training (may be empty)
  --asr_train_set SET         the ASR's training set (required unless --asr_model_dir)
Stage 1 (data preparation: local/data.sh writes those data dirs from the corpora of db.sh):
  --local_data_opts "..."     options of the recipe's local/data.sh (local/data.sh --help lists them)
Jobs: --nj N (default ${nj})  --inference_nj N  --ngpu N (default ${ngpu})  --num_nodes N  --gpu_inference true|false
      --train_nj N (default ${train_nj}: jobs side by side in stages 8, 9 and 11)
      --dumpdir DIR (default ${dumpdir})  --expdir DIR (default ${expdir})
      --max_failed_fraction X (default ${max_failed_fraction}: stages 3-5 stop when more of a set is unreadable)
Stage 2 (BPE: data/token_list/bpe_<bpemode><nbpe>/{bpe.model,tokens.txt}):
  --nbpe N (default ${nbpe})  --bpemode unigram|bpe  --bpe_train_text "FILE..."  --bpe_char_cover X
Stage 3 (ESPnet ASR training -> exp/asr_<tag>, recorded in exp/asr_model):
  --asr_config YAML  --asr_args "..."  --asr_tag TAG  --asr_train_sets "SET..." (default: --asr_train_set)
  --asr_train_hours H  --asr_valid_set SET (default: --valid_set)  --fs HZ (default ${fs})
  --audio_format flac|wav  --min_wav_duration S  --max_wav_duration S  --feats_normalize global_mvn|utterance_mvn
  --asr_model_dir DIR   use this ESPnet2 ASR model (config.yaml + *.pth): skips stages 2 and 3
  --asr_model_file PTH  its model file (default: valid.acc.ave*, valid.acc.best, newest *.pth)
  --asr_model_train_sets "SET..."  the sets that model was trained on (for the overlap of stages 4-5; default: unknown)
Stage 4 (decoding -> data/<set>_asr, exp/asr_<tag>/decode_<mode>/<set>/{text,score.txt}):
  --decode_sets "..." (default: train, valid, test, unlabeled sets)  --decode_mode beam|ctc_greedy (default ${decode_mode})
  --fast_decode_sets "..." (default: --unlabeled_sets)  --inference_config YAML  --inference_args "..."
Stage 5 (frozen-encoder dump -> dump/encoder[_<tag>]/<set>/{feats.scp,feats.JOB.ark,utt2num_frames,skipped_utts}):
  --encoders "asr hf:ID|DIR[@REV]" (default ${encoders}: the ASR's; hf:...: a Hugging Face speech encoder,
      dumped to dump/encoder_hf_<name>, its E2E systems e2e_hf_<name>_*)  --hf_layers all|last|"0 6 12" (default ${hf_layers})
  --dump_sets "..." (default: train, valid, test, unlabeled sets)  --dump_storage float|compressed (default ${dump_storage})
  --amp false|true|fp16|bf16 (GPU only)  --dump_args "..."
Stage 6 (pseudo labelers -> exp/pseudo_labeler_<tag>/, Table 3 in eval_<set>/scores.json):
  --pseudo_labeler ID|DIR|vader|A,B (default ${pseudo_labeler})  --pseudo_labelers "SPEC..." (default: --pseudo_labeler)
  --pseudo_labeler_tag TAG  --sst2 true|false (default ${sst2})  --sst2_dir DIR  --pseudo_labeler_config YAML
  --pseudo_labeler_args "..."  --pseudo_eval_sets "..." (default: valid, test sets)
Stage 7 (pseudo labels -> data/<set>[_asr]/utt2pseudo_<tag>; the default labeler's also utt2pseudo):
  --pseudo_sets "..." (default: train, unlabeled sets)  --pseudo_transcripts "gt asr" (default ${pseudo_transcripts})  --pseudo_args "..."
  (and the sets of every --e2e_pseudo_configs entry, with its labeler)
Stage 8 (2-step text classifiers -> exp/text_<arch>_<gt|asr>[_<H>h]_s<seed>/):
  --text_archs "baseline lm"  --text_lm ID|DIR (default ${text_lm})  --text_transcripts "gt asr"  --text_hours "5"
  --text_hours_transcripts "asr" (default ${text_hours_transcripts})
  --text_valid_set SET (default: <valid_set>_asr)  --text_seeds "0 1 2"  --text_baseline_config YAML  --text_lm_config YAML  --text_args "..."
Stage 9 (E2E classifiers -> exp/e2e_[<encoder tag>_]blstm_[pseudo_<tag>_<set+set>_<gt|asr>_]<all|Hh>_s<seed>/, exp/e2e_[<encoder tag>_]pretrain_*/):
  --e2e_hours "all 5" (default ${e2e_hours})  --e2e_curve_hours "2.5 5 7.5"  --e2e_seeds "0 1 2"
  --e2e_pseudo_configs "LABELER:SET+SET:gt|asr ..."  --e2e_pseudo_transcripts "gt asr"  --e2e_curve_configs "..."
  --e2e_config YAML  --e2e_pretrain_config YAML  --e2e_cnn_config YAML  --e2e_args "..."  --subset_seed N
Stage 10 (report -> RESULTS.md, exp/report/*.png): --report_args "..."
Stage 11 (export -> exp/export/{e2e,two_step}/; check outputs in exp/export/<family>/check.jsonl):
  --export_families "e2e two_step"  --export_e2e_system NAME  --export_two_step_system NAME
  --export_select_set SET (default: --valid_set)  --export_check_text FILE  --export_check_synth_args "..."
  --export_check_scp FILE  --export_check_labels FILE (utt2sentiment: accuracies -> <family>/check_scores.json)
  --export_args "..."
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
: "${train_cmd:=run.pl}" "${cuda_cmd:=run.pl}" "${decode_cmd:=run.pl}"  # job runners (cmd.sh)
# shellcheck disable=SC1091
. ./db.sh
# shellcheck disable=SC1091
. "${MAIN_ROOT}/utils/parse_options.sh"

if [ $# -ne 0 ]; then
    log "Error: no positional arguments are expected: $*"
    log "${help_message}"
    exit 2
fi

# ---- The sets, and every default derived from them ------------------------------------------------------
# Computed once, here, right after the options: these derived defaults and names count as declared options
# (the stages read them, and otherwise only what each stage sets itself).
for _opt in train_set valid_set test_sets; do
    if [ -z "${!_opt}" ]; then
        log "${help_message}"
        log "Error: --${_opt} is required (the recipe's run.sh names its sets)"
        exit 2
    fi
done
if [ -z "${asr_train_set}${asr_train_sets}${asr_model_dir}" ]; then
    log "${help_message}"
    log "Error: --asr_train_set is required (or --asr_train_sets, or --asr_model_dir)"
    exit 2
fi
if [ -n "${export_check_labels}" ] && [ -z "${export_check_text}${export_check_scp}" ]; then
    log "Error: --export_check_labels is the labels of --export_check_text or --export_check_scp: give one"
    exit 2
fi
words() { echo "$*"; }   # its arguments, one space apart: words ${a} ${b}
unique_words() { printf '%s\n' "$@" | awk '!seen[$0]++' | tr '\n' ' ' | sed 's/ $//'; }  # each once, in order
# shellcheck disable=SC2086  # the set options are space-separated lists
{
    scored_sets=$(words ${valid_set} ${test_sets})  # the labeled sets every classifier is scored on
    all_sets=$(words ${train_set} ${valid_set} ${test_sets} ${unlabeled_sets})
    [ -n "${asr_train_sets}" ] || asr_train_sets=${asr_train_set}
    [ -n "${asr_valid_set}" ] || asr_valid_set=${valid_set}
    [ -n "${decode_sets}" ] || decode_sets=${all_sets}
    [ -n "${fast_decode_sets}" ] || fast_decode_sets=$(words ${unlabeled_sets})
    [ -n "${dump_sets}" ] || dump_sets=${all_sets}
    [ -n "${pseudo_eval_sets}" ] || pseudo_eval_sets=${scored_sets}
    [ -n "${pseudo_sets}" ] || pseudo_sets=$(words ${train_set} ${unlabeled_sets})
    [ -n "${text_valid_set}" ] || text_valid_set=${valid_set}_asr
    [ -n "${export_select_set}" ] || export_select_set=${valid_set}
}

# ---- Derived names (stages 2-4; computed once, here: declared) ---------------------------------------------
bpedir=data/token_list/bpe_${bpemode}${nbpe}
bpemodel=${bpedir}/bpe.model
token_list=${bpedir}/tokens.txt
# The ASR training set data/<asr_train_data>: the --asr_train_sets combined, optionally a random subset of
# --asr_train_hours.
asr_train_data=$(echo "${asr_train_sets}" | tr -s ' ' '_')
_train_suffix=
[ "${asr_train_data}" = "${asr_train_set}" ] || _train_suffix+="_${asr_train_data}"
if [ -n "${asr_train_hours}" ]; then
    asr_train_data+="_${asr_train_hours}h"
    _train_suffix+="_${asr_train_hours}h"
fi
[ -n "${bpe_train_text}" ] || bpe_train_text=$(for s in ${asr_train_sets}; do printf 'data/%s/text ' "${s}"; done)
if [ -z "${asr_stats_dir}" ]; then
    asr_stats_dir=${expdir}/asr_stats_raw_bpe${nbpe}${_train_suffix}
fi
if [ -z "${asr_tag}" ]; then
    if [ -n "${asr_model_dir}" ]; then
        asr_tag=$(basename "${asr_model_dir%/}")
        asr_tag=${asr_tag#asr_}   # exp/asr_<name of the model dir>
    else
        if [ -n "${asr_config}" ]; then
            asr_tag="$(basename "${asr_config}" .yaml)_raw_bpe${nbpe}"
        else
            asr_tag="train_raw_bpe${nbpe}"
        fi
        asr_tag+=${_train_suffix}
        if [ -n "${asr_args}" ]; then  # as asr.sh: the overriding options in the name
            asr_tag+="$(echo "${asr_args}" | sed -e "s/--/\_/g" -e "s/[ |=/]//g")"
        fi
    fi
fi
asr_exp=${expdir}/asr_${asr_tag}
asr_pointer=${expdir}/asr_model   # which ASR stages 4 and later use (written by stage 3)
[ -n "${inference_nj}" ] || inference_nj=${nj}
if [ -z "${gpu_inference}" ]; then
    if [ "${ngpu}" -gt 0 ]; then gpu_inference=true; else gpu_inference=false; fi
fi

# ---- Derived names (declared, as above) and helpers (stages 6-9) -------------------------------------------
# in_list WORD LIST...: true when WORD is one of the LIST words.
in_list() {
    local w=$1
    shift
    [[ " $* " == *" ${w} "* ]]
}
[ -z "${sst2_dir}" ] || sst2=true
# labeler_tag SPEC: the name of a labeler's dir exp/pseudo_labeler_<tag>, as speechsent-pseudo-labeler
# --print_tag names it: the last path part of each comma-separated part of the spec (pseudo_labeler_ dropped,
# characters other than A-Z a-z 0-9 _ . + - as _), joined by +, and _sst2 when stage 6 fine-tunes it on SST-2
# (--sst2: a Hugging Face model, not vader or an ensemble).
labeler_tag() {
    local part tag='' parts=()
    IFS=, read -r -a parts <<< "$1"
    for part in "${parts[@]}"; do
        part=${part%/}
        part=${part##*/}
        part=${part//[^A-Za-z0-9_.+-]/_}
        tag+="${tag:++}${part#pseudo_labeler_}"
    done
    if "${sst2}" && [ "$1" != vader ] && [[ $1 != *,* ]]; then tag+=_sst2; fi
    echo "${tag}"
}
[ -n "${pseudo_labelers}" ] || pseudo_labelers=${pseudo_labeler}
# shellcheck disable=SC2086  # the option is a space-separated list
in_list "${pseudo_labeler}" ${pseudo_labelers} || pseudo_labelers="${pseudo_labeler} ${pseudo_labelers}"
[ -n "${pseudo_labeler_tag}" ] || pseudo_labeler_tag=$(labeler_tag "${pseudo_labeler}")
# The tag of every labeler (the default one's may be renamed by --pseudo_labeler_tag), in --pseudo_labelers order.
pseudo_labeler_tags=$(for _spec in ${pseudo_labelers}; do
    if [ "${_spec}" = "${pseudo_labeler}" ]; then echo "${pseudo_labeler_tag}"; else labeler_tag "${_spec}"; fi
done | tr '\n' ' ')
if [ -z "${e2e_pseudo_configs}" ]; then  # the default labeler on --pseudo_sets, from each transcript
    # shellcheck disable=SC2086
    e2e_pseudo_configs=$(for t in ${e2e_pseudo_transcripts}; do
        printf '%s:%s:%s ' "${pseudo_labeler_tag}" "$(words ${pseudo_sets} | tr ' ' '+')" "${t}"
    done)
fi
# shellcheck disable=SC2086
[ -n "${e2e_curve_configs}" ] || e2e_curve_configs=$(words ${e2e_pseudo_configs} | cut -d' ' -f1)
for _c in ${e2e_pseudo_configs}; do  # LABELER:SET+SET:gt|asr, LABELER a tag of --pseudo_labelers
    IFS=: read -r _tag _sets _t _rest <<< "${_c}"
    # shellcheck disable=SC2086
    if [ -z "${_sets}" ] || [ -n "${_rest}" ] || ! in_list "${_t}" gt asr || ! in_list "${_tag}" ${pseudo_labeler_tags}; then
        log "Error: --e2e_pseudo_configs entry '${_c}': expected LABELER:SET+SET:gt|asr, LABELER one of: ${pseudo_labeler_tags}"
        exit 2
    fi
done
for _c in ${e2e_curve_configs}; do
    # shellcheck disable=SC2086
    in_list "${_c}" ${e2e_pseudo_configs} || { log "Error: --e2e_curve_configs entry '${_c}' is not one of --e2e_pseudo_configs"; exit 2; }
done

# ---- The frozen encoders of stages 5 and 9 (declared, as above) --------------------------------------------
# encoder_tag SPEC: how the encoder names its dump dir and E2E systems: nothing for asr (dump/encoder,
# e2e_blstm_...: the paper's), hf_<name> for hf:<hub id or dir>[@revision], <name> the last path part of the id
# or dir (characters other than A-Z a-z 0-9 _ . + - as _), as speechsent.asr.hf_encoder.encoder_tag names it.
encoder_tag() {
    local name
    [ "$1" != asr ] || return 0
    name=${1#hf:}
    name=${name%@*}
    while [[ ${name} == */ ]]; do name=${name%/}; done
    name=${name##*/}
    echo "hf_${name//[^A-Za-z0-9_.+-]/_}"
}
# e2e_prefix SPEC: the start of the names of the encoder's E2E systems: e2e_, or e2e_<tag>_.
e2e_prefix() {
    local tag
    tag=$(encoder_tag "$1")
    echo "e2e_${tag:+${tag}_}"
}
# encoder_dir SPEC: the encoder's dump dir (dump/encoder for asr, dump/encoder_<tag> for the others).
encoder_dir() {
    local tag
    tag=$(encoder_tag "$1")
    echo "${dumpdir}/encoder${tag:+_${tag}}"
}
[ -n "${encoders}" ] || { log "Error: --encoders is empty: give asr and/or hf:<hub id or local dir>"; exit 2; }
_tags=
for _e in ${encoders}; do
    if [ "${_e}" != asr ] && { [[ ${_e} != hf:?* ]] || [[ ${_e} == hf:@* ]]; }; then
        log "Error: --encoders entry '${_e}': expected asr or hf:<hub id or local dir>[@revision]"
        exit 2
    fi
    _t=$(encoder_tag "${_e}")
    _t=${_t:-asr}
    # shellcheck disable=SC2086
    if in_list "${_t}" ${_tags}; then
        log "Error: --encoders: two entries named ${_t} (an id's last part names its dump and systems): give each encoder once; link a dir under another name"
        exit 2
    fi
    _tags+=" ${_t}"
done

# The ASR model of stages 4 and 5 (sets _model, _model_file): --asr_model_dir, else the one stage 3 recorded
# in exp/asr_model.
use_asr_model() {
    if [ -n "${asr_model_dir}" ]; then
        _model=${asr_model_dir}
        _model_file=${asr_model_file}
    else
        [ -f "${asr_pointer}" ] || { log "Error: ${asr_pointer} missing: run stage 3 (or give --asr_model_dir)"; exit 1; }
        _model=${asr_pointer}
        _model_file=
    fi
}

# asr_exp_dir: the exp dir of the ASR in use (its decodings, the overlap): exp/asr_<tag> for --asr_model_dir
# or a model stage 3 trained here, else exp/asr_<name of the dir exp/asr_model points at>; empty when there
# is no ASR yet.
asr_exp_dir() {
    local target
    if [ -n "${asr_model_dir}" ]; then echo "${asr_exp}"; return; fi
    [ -f "${asr_pointer}" ] || return 0
    target=$(head -n 1 "${asr_pointer}")
    case ${target} in /*) ;; *) target=${expdir}/${target} ;; esac
    if [ -d "${target}" ] && [ "$(cd "${target}/.." && pwd)" = "$(cd "${expdir}" && pwd)" ]; then
        echo "${target}"   # trained by stage 3
    else
        echo "${expdir}/asr_$(basename "${target%/}")"
    fi
}

# asr_heard_sets: the sets the ASR was trained on (data/<set>): <asr_train_data>, or --asr_model_train_sets
# with --asr_model_dir (empty: unknown).
asr_heard_sets() {
    if [ -n "${asr_model_dir}" ]; then echo "${asr_model_train_sets}"; else echo "${asr_train_data}"; fi
}

# asr_overlap SET...: how much of each set's audio the ASR heard in training (its training data dirs,
# asr_heard_sets) -> <asr exp>/overlap.json (merged over the calls of stages 4 and 5) and one log line per set;
# "unknown" for an external model without --asr_model_train_sets.
asr_overlap() {
    local heard s dirs=()
    heard=$(asr_heard_sets)
    if [ -z "${heard}" ]; then
        log "Overlap with the ASR's training audio: unknown (--asr_model_dir without --asr_model_train_sets)"
        return 0
    fi
    for s in "$@"; do dirs+=("data/${s}"); done
    python -m speechsent.bin.data_dir overlap --train "$(for s in ${heard}; do printf 'data/%s ' "${s}"; done)" \
        --out "$(asr_exp_dir)/overlap.json" "${dirs[@]}"
}

# data/<train_set>_<H>h: a seeded random subset of H hours of the training set (nested for increasing H).
make_hours_subset() {
    local dst=data/${train_set}_${1}h
    [ -f "${dst}/utt2spk" ] && return 0
    log "data/${train_set} -> ${dst} (${1} h, seed ${subset_seed})"
    subset_data_dir.sh --hours "${1}" --seed "${subset_seed}" "data/${train_set}" "${dst}"
}

# score_sets_of DIR: speechsent-train-e2e's --score_sets of the scored sets, features in DIR/<set>/feats.scp:
# "<set>:DIR/<set>/feats.scp:data/<set>/utt2sentiment ..." (one space apart).
score_sets_of() {
    local s specs=()
    for s in ${scored_sets}; do specs+=("${s}:$1/${s}/feats.scp:data/${s}/utt2sentiment"); done
    echo "${specs[*]}"
}

# ---- The systems of stages 8 and 9: listed once (the stages train them, --dry_run prints them) ------------
# hours_name H: the size part of a system name: all, or <H>h.
hours_name() { if [ "$1" = all ]; then echo all; else echo "$1h"; fi; }

# train_set_hours: the hours of data/<train_set> (from utt2dur; empty before stage 1).
train_set_hours() {
    [ ! -f "data/${train_set}/utt2dur" ] || awk '{ s += $2 } END { printf "%.3f", s / 3600 }' "data/${train_set}/utt2dur"
}

# sizes H...: the fine-tuning sizes among H... once each, in order; a subset of at least the whole train set's
# hours is left out (all is the whole set).
sizes() {
    local h whole seen=
    whole=$(train_set_hours)
    for h in "$@"; do
        # shellcheck disable=SC2086  # a space-separated list
        in_list "${h}" ${seen} && continue
        seen+=" ${h}"
        if [ "${h}" != all ] && [ -n "${whole}" ] && awk -v h="${h}" -v w="${whole}" 'BEGIN { exit !(h >= w) }'; then
            continue
        fi
        echo "${h}"
    done
}

# text_systems: the 2-step systems of stage 8, one per line "NAME ARCH TRANSCRIPT HOURS SEED".
text_systems() {
    local arch t h seed
    for arch in ${text_archs}; do
        for t in ${text_transcripts}; do
            # shellcheck disable=SC2046,SC2086  # the hours subsets only for --text_hours_transcripts
            for h in $(sizes all $(in_list "${t}" ${text_hours_transcripts} && echo ${text_hours})); do
                for seed in ${text_seeds}; do
                    echo "text_${arch}_${t}$([ "${h}" = all ] || echo "_${h}h")_s${seed} ${arch} ${t} ${h} ${seed}"
                done
            done
        done
    done
}

# e2e_systems: the E2E systems of stage 9, one per line "NAME KIND CONFIG HOURS SEED ENCODER", seed by
# seed, encoder by encoder (--encoders; the fbank CNN once, ENCODER -), in training order: the pseudo-label
# pre-trainings (KIND pretrain, CONFIG one of --e2e_pseudo_configs LABELER:SET+SET:T), the fbank CNN (cnn),
# the supervised BLSTMs at every size of --e2e_hours and --e2e_curve_hours (supervised), then the fine-tunings
# of each pre-training at the --e2e_hours, and at the --e2e_curve_hours for the --e2e_curve_configs
# (finetune; they wait for the pre-trainings). The names: e2e_<encoder tag>_... (encoder_tag; e2e_... for asr).
e2e_systems() {
    local seed c h enc pre cnn
    for seed in ${e2e_seeds}; do
        cnn=${e2e_cnn_config}  # the CNN (no encoder) once per seed
        for enc in ${encoders}; do
            pre=$(e2e_prefix "${enc}")
            for c in ${e2e_pseudo_configs}; do echo "${pre}pretrain_${c//:/_}_s${seed} pretrain ${c} - ${seed} ${enc}"; done
            [ -z "${cnn}" ] || echo "e2e_cnn_fbank_s${seed} cnn - all ${seed} -"
            cnn=
            # shellcheck disable=SC2086
            for h in $(sizes all ${e2e_hours} ${e2e_curve_hours}); do
                echo "${pre}blstm_$(hours_name "${h}")_s${seed} supervised - ${h} ${seed} ${enc}"
            done
            for c in ${e2e_pseudo_configs}; do
                # shellcheck disable=SC2046,SC2086
                for h in $(sizes ${e2e_hours} $(in_list "${c}" ${e2e_curve_configs} && echo ${e2e_curve_hours})); do
                    echo "${pre}blstm_pseudo_${c//:/_}_$(hours_name "${h}")_s${seed} finetune ${c} ${h} ${seed} ${enc}"
                done
            done
        done
    done
}

# text_system_args ARCH TRANSCRIPT HOURS SEED: sets _args, the options of speechsent-train-text-classifier.
text_system_args() {
    local arch=$1 t=$2 h=$3 seed=$4 train conf score_dirs
    if [ "${t}" = asr ]; then train=data/${train_set}_asr; else train=data/${train_set}; fi
    # shellcheck disable=SC2046,SC2086  # the set options are space-separated lists
    score_dirs=$(words $(for s in ${scored_sets} $(printf '%s_asr ' ${scored_sets}); do
        if [ -d "data/${s}" ] || "${dry_run}"; then printf 'data/%s ' "${s}"; fi; done))
    _args=(--arch "${arch}" --train_dir "${train}" --input "${t}")
    [ "${h}" = all ] || _args+=(--train_utt_list "data/${train_set}_${h}h/utt2spk" --train_hours "${h}")
    if [ "${arch}" = baseline ]; then conf=${text_baseline_config}; else conf=${text_lm_config}; fi
    [ -z "${conf}" ] || _args+=(--config "${conf}")
    [ "${arch}" = baseline ] || _args+=(--lm "${text_lm}" --lm_cache_dir "${dumpdir}/lm_features")
    _args+=(--valid_dir "data/${text_valid_set}" --score_dirs "${score_dirs}" --seed "${seed}")
}

# pseudo_labels_of CONFIG: the label files of a pseudo config LABELER:SET+SET:T, one per set:
# data/<set>[_asr]/utt2pseudo_<LABELER> (stage 7).
pseudo_labels_of() {
    local tag sets t s
    IFS=: read -r tag sets t <<< "$1"
    for s in ${sets//+/ }; do
        if [ "${t}" = asr ]; then echo "data/${s}_asr/utt2pseudo_${tag}"; else echo "data/${s}/utt2pseudo_${tag}"; fi
    done
}

# e2e_system_args KIND CONFIG HOURS SEED ENCODER: sets _args, the options of speechsent-train-e2e (features
# of stage 5 in the encoder's dump dir, encoder_dir; of the CNN in dump/fbank).
e2e_system_args() {
    local kind=$1 c=$2 h=$3 seed=$4 enc tag sets t s labels
    enc=$(encoder_dir "$5")
    if [ "${kind}" = cnn ]; then
        _args=(--config "${e2e_cnn_config}" --model cnn --seed "${seed}"
               --train_feats "${dumpdir}/fbank/${train_set}/feats.scp" --train_labels "data/${train_set}/utt2sentiment"
               --valid_feats "${dumpdir}/fbank/${valid_set}/feats.scp" --valid_labels "data/${valid_set}/utt2sentiment"
               --score_sets "$(score_sets_of "${dumpdir}/fbank")")
        return
    fi
    if [ "${kind}" = pretrain ]; then
        IFS=: read -r tag sets t <<< "${c}"
        _args=(--task pseudo --seed "${seed}" --pseudo_labeler_dir "${expdir}/pseudo_labeler_${tag}"
               --system_pseudo_labeler "${tag}" --system_pseudo_sets "${sets//+/ }" --system_pseudo_transcript "${t}")
        for labels in $(pseudo_labels_of "${c}"); do
            s=$(basename "$(dirname "${labels}")")
            s=${s%_asr}
            _args+=(--train_feats "${enc}/${s}/feats.scp" --train_labels "${labels}")
        done
        [ -z "${e2e_pretrain_config}" ] || _args+=(--config "${e2e_pretrain_config}")
        return
    fi
    _args=(--train_feats "${enc}/${train_set}/feats.scp" --train_labels "data/${train_set}/utt2sentiment"
           --valid_feats "${enc}/${valid_set}/feats.scp" --valid_labels "data/${valid_set}/utt2sentiment"
           --score_sets "$(score_sets_of "${enc}")" --seed "${seed}")
    [ "${h}" = all ] || _args+=(--train_utt_list "data/${train_set}_${h}h/utt2spk" --system_train_hours "${h}")
    [ "${kind}" = supervised ] || _args+=(--init_from "${expdir}/$(e2e_prefix "$5")pretrain_${c//:/_}_s${seed}/best.pth" --reset_head true)
    [ -z "${e2e_config}" ] || _args+=(--config "${e2e_config}")
}

# label_plan: sets _todo (labeler tag -> "data/<dir> ..."): what stage 7 labels: with the default labeler
# the --pseudo_sets from --pseudo_transcripts, with each labeler the sets of its --e2e_pseudo_configs entries.
label_plan() {
    local s t d c labels
    declare -g -A _todo=()
    for s in ${pseudo_sets}; do
        for t in ${pseudo_transcripts}; do
            if [ "${t}" = asr ]; then d=data/${s}_asr; else d=data/${s}; fi
            _todo[${pseudo_labeler_tag}]+="${d} "
        done
    done
    for c in ${e2e_pseudo_configs}; do
        for labels in $(pseudo_labels_of "${c}"); do
            d=$(dirname "${labels}")
            t=${labels##*/utt2pseudo_}
            # shellcheck disable=SC2086
            in_list "${d}" ${_todo[${t}]:-} || _todo[${t}]+="${d} "
        done
    done
}

# One E2E system: train_e2e NAME OPTIONS... -> exp/NAME (through $train_cmd, or $cuda_cmd and torchrun).
train_e2e() {
    local name=$1
    shift
    local launcher=(python -m speechsent.bin.train_e2e)
    [ "${ngpu}" -le 1 ] || launcher=(torchrun --standalone --nproc_per_node "${ngpu}" -m speechsent.bin.train_e2e)
    # shellcheck disable=SC2086  # e2e_args holds several options
    train_job "${name}" "${launcher[@]}" "$@" --exp_dir "${expdir}/${name}" --ngpu "${ngpu}" ${e2e_args}
}

# train_job NAME CMD...: one training through ${_cmd}, logged to exp/NAME/log/train.log; when it fails, its
# error lines (or the log's last lines) are shown here, not only in the log.
train_job() {
    local name=$1 log=${expdir}/$1/log/train.log
    shift
    log "${name}: training (log: ${log})"
    ${_cmd} "${log}" "$@" && return 0
    # the error (a message may span lines, up to the job runner's footer), else the log's last lines that are
    # not the job runner's ("# ..." header and footer lines: run.pl's, queue.pl's, slurm.pl's)
    log "Error: ${name} failed: $({ awk '/ ERROR: /{e=1} /^# (Accounting|Ended|Finished)/{e=0} e' "${log}" | grep . \
        || grep -v '^#' "${log}" | tail -n 3; } 2> /dev/null | tail -n 8)"
    return 1
}

# Jobs side by side (the trainings of stages 8-9, stage 11's checks): bg_run CMD... starts CMD in the
# background once fewer than train_nj are running (train_nj 1: runs it now, in the foreground); bg_wait waits
# for all of them and stops the recipe when one failed (a training logs to its exp/<system>/log/train.log).
_bg_pids=()
bg_run() {
    if [ "${train_nj}" -le 1 ]; then "$@"; return; fi
    while [ "$(jobs -rp | wc -l)" -ge "${train_nj}" ]; do sleep 0.5; done
    "$@" &
    _bg_pids+=($!)
}
bg_wait() {
    local pid failed=0
    for pid in "${_bg_pids[@]}"; do wait "${pid}" || failed=$((failed + 1)); done
    _bg_pids=()
    [ "${failed}" -eq 0 ] || { log "Error: ${failed} background job(s) failed: see their logs above"; exit 1; }
}

# A checksum (SHA-256) of files and strings: what a finished step was made from (its .done stamp).
stamp_of() {
    local x
    for x in "$@"; do
        if [ -f "${x}" ]; then sha256sum < "${x}"; else echo "${x}"; fi
    done | sha256sum | cut -d' ' -f1
}

# ---- Stage 3's steps, as asr.sh runs them (each reads the declared options and its arguments) --------------
# asr_training_set: data/<asr_train_data>, the --asr_train_sets combined, optionally a random subset of
# --asr_train_hours.
asr_training_set() {
    local src dirs s
    src=$(echo "${asr_train_sets}" | tr -s ' ' '_')
    if [ "$(echo "${asr_train_sets}" | wc -w)" -gt 1 ]; then
        dirs=$(for s in ${asr_train_sets}; do printf 'data/%s ' "${s}"; done)
        # shellcheck disable=SC2086
        combine_data.sh "data/${src}" ${dirs}
    fi
    if [ -n "${asr_train_hours}" ]; then
        subset_data_dir.sh --hours "${asr_train_hours}" "data/${src}" "data/${asr_train_data}"
    fi
}

# asr_format_audio SET...: audio files for ESPnet's loaders in dump/raw/<set> (resampled to fs;
# short/long/empty-text utterances removed).
asr_format_audio() {
    local dset
    for dset in "$@"; do
        python -m speechsent.bin.format_wav --data_dir "data/${dset}" --out_dir "${dumpdir}/raw/${dset}" \
            --fs "${fs}" --audio_format "${audio_format}" --nj "${nj}" --cmd "${train_cmd}" \
            --min_duration "${min_wav_duration}" --max_duration "${max_wav_duration}" --drop_empty_text true \
            --max_failed_fraction "${max_failed_fraction}"
    done
}

# asr_opts: sets the options of espnet2.bin.asr_train that collect-stats and the training share:
# _asr_common (array) and _asr_extra (--config, --use_tensorboard false: split into words where used).
asr_opts() {
    _asr_common=(--use_preprocessor true --token_type bpe --bpemodel "${bpemodel}" --token_list "${token_list}"
                 --frontend_conf "fs=${fs}")
    _asr_extra=
    [ -z "${asr_config}" ] || _asr_extra+="--config ${asr_config} "
    if ! python -c "import importlib.util as u, sys; sys.exit(u.find_spec('tensorboard') is None)"; then
        _asr_extra+="--use_tensorboard false "   # ESPnet's trainer needs tensorboard for its summaries
    fi
}

# asr_stats_stamp TRAIN_DIR VALID_DIR: what the collect-stats of asr_stats_dir is made from.
asr_stats_stamp() {
    stamp_of "$1/wav.scp" "$1/text" "$2/wav.scp" "$2/text" "${token_list}" "${asr_config}" "${asr_args}" "${fs}"
}

# asr_collect_stats TRAIN_DIR VALID_DIR: shapes and global-MVN statistics -> asr_stats_dir, as asr.sh
# (skipped when its .done stamp matches).
asr_collect_stats() {
    local train_dir=$1 valid_dir=$2 stamp logdir n i x
    stamp=$(asr_stats_stamp "${train_dir}" "${valid_dir}")
    if [ -f "${asr_stats_dir}/.done" ] && [ "$(cat "${asr_stats_dir}/.done")" = "${stamp}" ]; then
        log "collect-stats: ${asr_stats_dir} is up to date"
        return 0
    fi
    asr_opts
    logdir=${asr_stats_dir}/logdir
    rm -rf "${logdir}" "${asr_stats_dir}/.done"
    mkdir -p "${logdir}"
    n=$(( nj < $(wc -l < "${train_dir}/wav.scp") ? nj : $(wc -l < "${train_dir}/wav.scp") ))
    n=$(( n < $(wc -l < "${valid_dir}/wav.scp") ? n : $(wc -l < "${valid_dir}/wav.scp") ))
    split_scp.pl "${train_dir}/wav.scp" $(seq -f "${logdir}/train.%g.scp" "${n}")
    split_scp.pl "${valid_dir}/wav.scp" $(seq -f "${logdir}/valid.%g.scp" "${n}")
    log "ASR collect-stats started... log: '${logdir}/stats.*.log'"
    # shellcheck disable=SC2086
    ${train_cmd} JOB=1:"${n}" "${logdir}"/stats.JOB.log \
        python -m espnet2.bin.asr_train \
            --collect_stats true \
            "${_asr_common[@]}" \
            --train_data_path_and_name_and_type "${train_dir}/wav.scp,speech,sound" \
            --train_data_path_and_name_and_type "${train_dir}/text,text,text" \
            --valid_data_path_and_name_and_type "${valid_dir}/wav.scp,speech,sound" \
            --valid_data_path_and_name_and_type "${valid_dir}/text,text,text" \
            --train_shape_file "${logdir}/train.JOB.scp" \
            --valid_shape_file "${logdir}/valid.JOB.scp" \
            --output_dir "${logdir}/stats.JOB" \
            ${_asr_extra} ${asr_args} || { cat "${logdir}"/stats.1.log; exit 1; }
    # shellcheck disable=SC2046
    python -m espnet2.bin.aggregate_stats_dirs \
        $(for i in $(seq "${n}"); do printf -- '--input_dir %s ' "${logdir}/stats.${i}"; done) \
        --output_dir "${asr_stats_dir}"
    # the number of tokens appended to the text shapes (for batch-bins counting), as asr.sh
    for x in train valid; do
        awk -v N="$(wc -l < "${token_list}")" '{ print $0 "," N }' \
            "${asr_stats_dir}/${x}/text_shape" > "${asr_stats_dir}/${x}/text_shape.bpe"
    done
    echo "${stamp}" > "${asr_stats_dir}/.done"
}

# asr_train_model TRAIN_DIR VALID_DIR: the training -> asr_exp (espnet2.bin.launch: one process per GPU with
# --ngpu N > 1, as asr.sh); skipped when its .done stamp matches, ESPnet's --resume true otherwise.
asr_train_model() {
    local train_dir=$1 valid_dir=$2 stamp opts
    stamp=$(stamp_of "$(asr_stats_stamp "${train_dir}" "${valid_dir}")" "${asr_stats_dir}/train/feats_stats.npz" \
        "${feats_normalize}" "${ngpu}")
    if [ -f "${asr_exp}/.done" ] && [ "$(cat "${asr_exp}/.done")" = "${stamp}" ]; then
        log "training: ${asr_exp} is trained already (remove ${asr_exp}/.done to train again)"
        return 0
    fi
    asr_opts
    opts=${_asr_extra}
    if [ "${feats_normalize}" = global_mvn ]; then
        opts+="--normalize=global_mvn --normalize_conf stats_file=${asr_stats_dir}/train/feats_stats.npz "
    else
        opts+="--normalize=${feats_normalize} "
    fi
    rm -f "${asr_exp}/.done"
    mkdir -p "${asr_exp}"
    log "ASR training started... log: '${asr_exp}/train.log'"
    # shellcheck disable=SC2086
    python -m espnet2.bin.launch \
        --cmd "${cuda_cmd} --name ${asr_exp}/train.log" \
        --log "${asr_exp}/train.log" \
        --ngpu "${ngpu}" \
        --num_nodes "${num_nodes}" \
        --init_file_prefix "${asr_exp}/.dist_init_" \
        --multiprocessing_distributed true -- \
        python -m espnet2.bin.asr_train \
            "${_asr_common[@]}" \
            --train_data_path_and_name_and_type "${train_dir}/wav.scp,speech,sound" \
            --train_data_path_and_name_and_type "${train_dir}/text,text,text" \
            --train_shape_file "${asr_stats_dir}/train/speech_shape" \
            --train_shape_file "${asr_stats_dir}/train/text_shape.bpe" \
            --valid_data_path_and_name_and_type "${valid_dir}/wav.scp,speech,sound" \
            --valid_data_path_and_name_and_type "${valid_dir}/text,text,text" \
            --valid_shape_file "${asr_stats_dir}/valid/speech_shape" \
            --valid_shape_file "${asr_stats_dir}/valid/text_shape.bpe" \
            --resume true \
            --fold_length 80000 \
            --fold_length 150 \
            --output_dir "${asr_exp}" \
            ${opts} ${asr_args}
    echo "${stamp}" > "${asr_exp}/.done"
}

# ---- --dry_run true: what stages <stage>..<stop_stage> would do, every system they would train (with its
# inputs: the options of its command), from the same lists the stages use; nothing is run or written.
in_range() { [ "${stage}" -le "$1" ] && [ "${stop_stage}" -ge "$1" ]; }
dry_run_plan() {
    local name kind c h seed arch t spec i=0 tags sets
    read -r -a tags <<< "${pseudo_labeler_tags}"
    # shellcheck disable=SC2086
    sets=$(unique_words ${train_set} ${valid_set} ${test_sets} ${asr_train_set} ${unlabeled_sets})
    log "Dry run (--dry_run true): stages ${stage}-$((stop_stage < 11 ? stop_stage : 11)); nothing is run or written"
    in_range 1 && log "Stage 1: local/data.sh${local_data_opts:+ ${local_data_opts}} -> data/{${sets// /,}}"
    if in_range 2 && [ -z "${asr_model_dir}" ]; then log "Stage 2: BPE (${bpemode}, ${nbpe}) of ${bpe_train_text% } -> ${bpedir}"; fi
    if in_range 3; then
        if [ -n "${asr_model_dir}" ]; then
            log "Stage 3: the ESPnet ASR model ${asr_model_dir} (not trained here) -> ${asr_pointer}"
        else
            log "Stage 3: system ${asr_exp}: ESPnet ASR trained on data/${asr_train_data} (data/{${asr_train_sets// /,}}${asr_train_hours:+, ${asr_train_hours} h}), validated on data/${asr_valid_set}, config ${asr_config:-(ESPnet defaults)}${asr_args:+ ${asr_args}}, ngpu ${ngpu}"
        fi
    fi
    in_range 4 && log "Stage 4: decoding of data/{${decode_sets// /,}} (${decode_mode}; ctc_greedy: ${fast_decode_sets:-none}) -> data/<set>_asr; overlap with data/${asr_train_data}"
    if in_range 5; then
        for spec in ${encoders}; do
            log "Stage 5: frozen-encoder dump ($([ "${spec}" = asr ] && echo "the ASR's encoder" || echo "${spec}, hidden states ${hf_layers}")) of data/{${dump_sets// /,}} -> $(encoder_dir "${spec}")/<set>"
        done
    fi
    if in_range 6; then
        for spec in ${pseudo_labelers}; do
            log "Stage 6: system ${expdir}/pseudo_labeler_${tags[${i}]}: ${spec}$([[ ${tags[${i}]} == *_sst2 ]] && echo " fine-tuned on SST-2 (${sst2_dir:-from the hub: datasets glue/sst2})"), evaluated on data/{${pseudo_eval_sets// /,}}[_asr]"
            i=$((i + 1))
        done
    fi
    if in_range 7; then
        label_plan
        for t in ${pseudo_labeler_tags}; do
            [ -z "${_todo[${t}]:-}" ] || log "Stage 7: ${t} labels $(for d in ${_todo[${t}]}; do printf '%s/text ' "${d}"; done)-> utt2pseudo_${t}"
        done
    fi
    if in_range 8; then
        while read -r name arch t h seed; do
            text_system_args "${arch}" "${t}" "${h}" "${seed}"
            log "Stage 8: system ${expdir}/${name}: speechsent-train-text-classifier ${_args[*]}"
        done < <(text_systems)
    fi
    if in_range 9; then
        while read -r name kind c h seed spec; do
            e2e_system_args "${kind}" "${c}" "${h}" "${seed}" "${spec}"
            log "Stage 9: system ${expdir}/${name}: speechsent-train-e2e ${_args[*]}"
        done < <(e2e_systems)
    fi
    in_range 10 && log "Stage 10: report of ${expdir} -> RESULTS.md, ${expdir}/report/"
    in_range 11 && log "Stage 11: export of ${export_families} -> ${expdir}/export/"
    log "Dry run done: $(in_range 8 && text_systems | wc -l || echo 0) 2-step and $(in_range 9 && e2e_systems | wc -l || echo 0) E2E systems"
}
if "${dry_run}"; then
    dry_run_plan
    exit 0
fi

if [ "${stage}" -le 1 ] && [ "${stop_stage}" -ge 1 ]; then
    # shellcheck disable=SC2086  # the set options are space-separated lists
    _sets=$(unique_words ${train_set} ${valid_set} ${test_sets} ${asr_train_set} ${unlabeled_sets})
    log "Stage 1: data preparation: local/data.sh ${local_data_opts}"
    log "  inputs: the corpora of db.sh (local/data.sh names them)"
    log "  outputs: data/{${_sets// /,}}"
    # shellcheck disable=SC2086  # local_data_opts holds several options
    local/data.sh ${local_data_opts}
    log "Stage 1 done: data/{${_sets// /,}}"
fi

if [ "${stage}" -le 2 ] && [ "${stop_stage}" -ge 2 ]; then
    if [ -n "${asr_model_dir}" ]; then
        log "Stage 2: skipped: --asr_model_dir ${asr_model_dir} brings its own tokenizer"
    else
        log "Stage 2: BPE tokenizer (sentencepiece ${bpemode}, ${nbpe} pieces)"
        log "  inputs: ${bpe_train_text}"
        log "  outputs: ${bpemodel} ${token_list}"
        _opts=()
        for f in ${bpe_train_text}; do _opts+=(--text "${f}"); done
        python -m speechsent.bin.train_bpe "${_opts[@]}" \
            --token_listdir "$(dirname "${bpedir}")" \
            --nbpe "${nbpe}" \
            --bpemode "${bpemode}" \
            --bpe_char_cover "${bpe_char_cover}"
        log "Stage 2 done: ${token_list} ($(wc -l < "${token_list}") tokens; --nbpe ${nbpe} at most)"
    fi
fi

if [ "${stage}" -le 3 ] && [ "${stop_stage}" -ge 3 ]; then
    if [ -n "${asr_model_dir}" ]; then
        log "Stage 3: skipped training: using the ESPnet2 ASR model ${asr_model_dir}"
        log "  outputs: ${asr_pointer}"
        python -m speechsent.bin.asr_model --model_dir "${asr_model_dir}" ${asr_model_file:+--model_file "${asr_model_file}"} \
            --pointer "${asr_pointer}" --expect_fs "${fs}"
        log "Stage 3 done: ${asr_pointer} -> ${asr_model_dir}"
    else
        _train_dir=${dumpdir}/raw/${asr_train_data}
        _valid_dir=${dumpdir}/raw/${asr_valid_set}
        log "Stage 3: ESPnet ASR training: data/{${asr_train_sets// /,}} -> ${asr_exp}"
        log "  inputs: data/{${asr_train_sets// /,}}${asr_train_hours:+ (${asr_train_hours} h)} data/${asr_valid_set} ${token_list} ${asr_config:-(no --asr_config)}"
        log "  outputs: ${_train_dir} ${_valid_dir} ${asr_stats_dir} ${asr_exp} ${asr_pointer}"
        [ -f "${token_list}" ] || { log "Error: ${token_list} missing: run stage 2"; exit 1; }
        asr_training_set                                        # data/<asr_train_data>
        asr_format_audio "${asr_train_data}" "${asr_valid_set}"  # -> dump/raw/<set>
        asr_collect_stats "${_train_dir}" "${_valid_dir}"       # -> asr_stats_dir
        asr_train_model "${_train_dir}" "${_valid_dir}"         # -> asr_exp
        python -m speechsent.bin.asr_model --model_dir "${asr_exp}" ${asr_model_file:+--model_file "${asr_model_file}"} \
            --pointer "${asr_pointer}"
        log "Stage 3 done: ${asr_exp} ($(grep -h 'epoch results' "${asr_exp}/train.log" | tail -n 1 \
            | grep -o '\[valid\].*acc=[0-9.]*' | grep -o 'acc=[0-9.]*$' || true)), recorded in ${asr_pointer}"
    fi
fi

if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
    use_asr_model
    _asr_exp=$(asr_exp_dir)
    if "${gpu_inference}"; then _cmd=${cuda_cmd}; _ngpu=1; else _cmd=${decode_cmd}; _ngpu=0; fi
    _beam_sets=
    _fast_sets=
    for dset in ${decode_sets}; do
        if [ ! -f "data/${dset}/utt2spk" ]; then
            log "Warning: data/${dset} does not exist (the corpus has no such part?): not decoded"
            continue
        fi
        if [ "${decode_mode}" = ctc_greedy ] || [[ " ${fast_decode_sets} " == *" ${dset} "* ]]; then
            _fast_sets+="${dset} "
        else
            _beam_sets+="${dset} "
        fi
    done
    log "Stage 4: ASR decoding with ${_model}: ${_beam_sets:+beam: ${_beam_sets}}${_fast_sets:+ctc_greedy: ${_fast_sets}}"
    log "  inputs: $(for s in ${decode_sets}; do printf 'data/%s ' "${s}"; done)"
    log "  outputs: $(for s in ${decode_sets}; do printf 'data/%s_asr ' "${s}"; done)${_asr_exp}/decode_*/<set>/{text,score.txt} ${_asr_exp}/overlap.json"
    for _mode in beam ctc_greedy; do
        if [ "${_mode}" = beam ]; then _sets=${_beam_sets}; else _sets=${_fast_sets}; fi
        [ -n "${_sets}" ] || continue
        _opts=()
        for dset in ${_sets}; do _opts+=(--data_dir "data/${dset}"); done
        [ -z "${inference_config}" ] || _opts+=(--config "${inference_config}")
        [ -z "${_model_file}" ] || _opts+=(--model_file "${_model_file}")
        # shellcheck disable=SC2086
        python -m speechsent.bin.asr_decode \
            --model_dir "${_model}" \
            --decode_mode "${_mode}" \
            "${_opts[@]}" \
            --decode_dir "${_asr_exp}/decode_${_mode}" \
            --nj "${inference_nj}" \
            --cmd "${_cmd}" \
            --ngpu "${_ngpu}" \
            --max_failed_fraction "${max_failed_fraction}" \
            ${inference_args}
        for dset in ${_sets}; do
            log "${dset} (${_mode}): $(grep -h '^%WER' "${_asr_exp}/decode_${_mode}/${dset}/score.txt" || echo 'no reference text')"
        done
    done
    # shellcheck disable=SC2086  # lists of set names
    asr_overlap ${_beam_sets} ${_fast_sets}
    log "Stage 4 done: $(for s in ${decode_sets}; do printf 'data/%s_asr ' "${s}"; done)"
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
    if "${gpu_inference}"; then _cmd=${cuda_cmd}; _ngpu=1; else _cmd=${decode_cmd}; _ngpu=0; fi
    _dumped=
    for dset in ${dump_sets}; do
        if [ ! -f "data/${dset}/utt2spk" ]; then
            log "Warning: data/${dset} does not exist (the corpus has no such part?): not dumped"
            continue
        fi
        _dumped+="${dset} "
    done
    [ -n "${_dumped}" ] || { log "Error: none of --dump_sets (${dump_sets}) exists under data/"; exit 1; }
    # shellcheck disable=SC2086  # a list of set names
    _csv=$(words ${_dumped} | tr ' ' ',')
    log "Stage 5: frozen-encoder dump with ${encoders} (${dump_storage}, ${inference_nj} jobs, ngpu ${_ngpu})"
    log "  inputs: data/{${_csv}}"
    # shellcheck disable=SC2086
    log "  outputs: $(for e in ${encoders}; do printf '%s/{%s}/feats.scp ' "$(encoder_dir "${e}")" "${_csv}"; done)$(! in_list asr ${encoders} || echo "$(asr_exp_dir)/overlap.json")"
    for spec in ${encoders}; do
        _edir=$(encoder_dir "${spec}")
        _opts=()
        for dset in ${_dumped}; do _opts+=(--data_dir "data/${dset}" --out_dir "${_edir}/${dset}"); done
        if [ "${spec}" = asr ]; then  # the ESPnet ASR's encoder (stage 3's model, or --asr_model_dir)
            use_asr_model
            log "${_edir}: the encoder of ${_model}"
            _opts+=(--asr_model_dir "${_model}" ${_model_file:+--asr_model_file "${_model_file}"})
        else                          # a Hugging Face speech encoder, its hidden states --hf_layers
            log "${_edir}: ${spec}, hidden states ${hf_layers}"
            _opts+=(--encoder "${spec}" --hf_layers "${hf_layers}")
        fi
        # One call per encoder, as stage 4's: one job array through ${_cmd} for all sets (each job loads the
        # model once, then does its share of every set; logs in ${_edir}/log/dump.JOB.log), finished jobs
        # skipped (a rerun does no work), then the merge writes each set's feats.scp (last).
        # shellcheck disable=SC2086  # dump_args holds several options
        python -m speechsent.bin.dump_encoder "${_opts[@]}" --nj "${inference_nj}" \
            --cmd "${_cmd}" --log_dir "${_edir}/log" \
            --storage "${dump_storage}" --ngpu "${_ngpu}" --amp "${amp}" --skip_unreadable true \
            --max_failed_fraction "${max_failed_fraction}" ${dump_args}
        for dset in ${_dumped}; do
            _dir=${_edir}/${dset}
            log "${dset}: $(wc -l < "${_dir}/feats.scp") utterances in ${_dir}/feats.scp," \
                "$(wc -l < "${_dir}/skipped_utts") skipped (${_dir}/skipped_utts)"
        done
    done
    # how much of the dumped sets the ASR heard in training (a Hugging Face encoder's pre-training data is
    # its model card's to say)
    # shellcheck disable=SC2086  # a list of set names
    ! in_list asr ${encoders} || asr_overlap ${_dumped}
    log "Stage 5 done: $(for e in ${encoders}; do printf '%s/{%s} ' "$(encoder_dir "${e}")" "${_csv}"; done)"
fi

if [ "${stage}" -le 6 ] && [ "${stop_stage}" -ge 6 ]; then
    log "Stage 6: pseudo labelers ${pseudo_labelers}$(if "${sst2}"; then echo " fine-tuned on SST-2 (${sst2_dir:-the Hugging Face hub})"; fi)"
    log "  inputs: ${pseudo_labelers} ${sst2_dir:+${sst2_dir}/{train,dev}.tsv }$(for s in ${pseudo_eval_sets}; do printf 'data/%s[_asr] ' "${s}"; done)"
    log "  outputs: $(for t in ${pseudo_labeler_tags}; do printf '%s/pseudo_labeler_%s/ ' "${expdir}" "${t}"; done)(labeler.json, eval_<set>/scores.json)"
    if "${sst2}" && [ "${ngpu}" -gt 0 ]; then _cmd="${cuda_cmd} --gpu 1"; _ngpu=1; else _cmd=${train_cmd}; _ngpu=0; fi
    read -r -a _tags <<< "${pseudo_labeler_tags}"
    _i=0
    for spec in ${pseudo_labelers}; do  # one labeler after another (a fine-tuning takes the GPU)
        _dir=${expdir}/pseudo_labeler_${_tags[${_i}]}
        _opts=()
        [ -z "${pseudo_labeler_config}" ] || _opts+=(--config "${pseudo_labeler_config}")
        if "${sst2}" && [ "${spec}" != vader ] && [[ ${spec} != *,* ]]; then  # a Hugging Face model: fine-tuned
            _opts+=(--sst2 true)
            [ -z "${sst2_dir}" ] || _opts+=(--sst2_dir "${sst2_dir}")
        fi
        _i=$((_i + 1))
        log "${_dir}: ${spec} (log: ${_dir}/log/pseudo_labeler.log)"
        # shellcheck disable=SC2086  # pseudo_labeler_args holds several options
        ${_cmd} "${_dir}/log/pseudo_labeler.log" \
            python -m speechsent.bin.pseudo_labeler "${_opts[@]}" \
                --pseudo_labeler "${spec}" \
                --out_dir "${_dir}" \
                --eval_sets "$(for s in ${pseudo_eval_sets}; do [ ! -f "data/${s}/utt2sentiment" ] || printf 'data/%s ' "${s}"; done)" \
                --eval_asr true \
                --ngpu "${_ngpu}" \
                ${pseudo_labeler_args}
        grep -h 'Table 3:\|SST-2 dev accuracy' "${_dir}/log/pseudo_labeler.log" | sed 's/^.*INFO: //' | while read -r _line; do
            log "${_line}"
        done
    done
    log "Stage 6 done: $(for t in ${pseudo_labeler_tags}; do printf '%s/pseudo_labeler_%s ' "${expdir}" "${t}"; done)"
fi

if [ "${stage}" -le 7 ] && [ "${stop_stage}" -ge 7 ]; then
    label_plan   # -> _todo: the data dirs each labeler labels
    # A dir without text: skipped for the default labeler's --pseudo_sets (a warning), an error for a dir an
    # --e2e_pseudo_configs entry needs.
    _needed=$(for c in ${e2e_pseudo_configs}; do pseudo_labels_of "${c}"; done)
    for _tag in "${!_todo[@]}"; do
        _dirs=
        for d in ${_todo[${_tag}]}; do
            if [ -f "${d}/text" ]; then
                _dirs+="${d} "
            elif [[ $'\n'${_needed}$'\n' == *$'\n'"${d}/utt2pseudo_${_tag}"$'\n'* ]]; then
                log "Error: ${d}/text missing (an --e2e_pseudo_configs entry labels it with ${_tag}): run stage 1, or 4 for _asr"
                exit 1
            else
                log "Warning: ${d}/text does not exist (no such set, or stage 4 not run): not pseudo-labeled"
            fi
        done
        _todo[${_tag}]=${_dirs}
    done
    # (speechsent-pseudo-label adds --gpu to the job runner itself, as stage 4's decoding does)
    if "${gpu_inference}"; then _cmd=${cuda_cmd}; _ngpu=1; else _cmd=${decode_cmd}; _ngpu=0; fi
    log "Stage 7: pseudo labels of the labelers $(for t in ${pseudo_labeler_tags}; do [ -z "${_todo[${t}]:-}" ] || printf '%s ' "${t}"; done)(${inference_nj} jobs each)"
    _done=
    for _tag in ${pseudo_labeler_tags}; do
        [ -n "${_todo[${_tag}]:-}" ] || continue
        _dir=${expdir}/pseudo_labeler_${_tag}
        [ -f "${_dir}/labeler.json" ] || { log "Error: ${_dir}/labeler.json missing: run stage 6"; exit 1; }
        _default=false
        [ "${_tag}" != "${pseudo_labeler_tag}" ] || _default=true
        log "  ${_tag}: inputs: ${_dir}/labeler.json $(for d in ${_todo[${_tag}]}; do printf '%s/text ' "${d}"; done)"
        log "  ${_tag}: outputs: $(for d in ${_todo[${_tag}]}; do printf '%s/utt2pseudo_%s ' "${d}" "${_tag}"; done)$("${_default}" && echo '(+ utt2pseudo: the default labeler)')"
        # shellcheck disable=SC2086  # pseudo_args holds several options
        python -m speechsent.bin.pseudo_label \
            --labeler_dir "${_dir}" \
            --data_dir "${_todo[${_tag}]}" \
            --work_dir "${_dir}/label" \
            --labels_name "utt2pseudo_${_tag}" \
            --default_copy "${_default}" \
            --nj "${inference_nj}" \
            --cmd "${_cmd}" \
            --ngpu "${_ngpu}" \
            ${pseudo_args}
        for d in ${_todo[${_tag}]}; do
            log "${d}/utt2pseudo_${_tag}: $(cut -d' ' -f2 "${d}/utt2pseudo_${_tag}" | sort | uniq -c | awk '{printf "%s %s  ", $2, $1}')of $(wc -l < "${d}/text") utterances"
            _done+="${d}/utt2pseudo_${_tag} "
        done
    done
    [ -n "${_done}" ] || { log "Error: nothing to label (no text in the dirs of --pseudo_sets / --e2e_pseudo_configs)"; exit 1; }
    log "Stage 7 done: ${_done}"
fi

if [ "${stage}" -le 8 ] && [ "${stop_stage}" -ge 8 ]; then
    log "Stage 8: 2-step text classifiers: ${text_archs} x transcripts ${text_transcripts} x sizes all ${text_hours} (${text_hours_transcripts}) x seeds ${text_seeds}"
    log "  inputs: data/${train_set}[_asr]/{text,utt2sentiment} data/${text_valid_set}, LM ${text_lm}"
    log "  outputs: ${expdir}/text_*/{system.json,best.pth,score_<set>/scores.json}"
    if [ "${ngpu}" -gt 0 ]; then _cmd="${cuda_cmd} --gpu 1"; _ngpu=1; else _cmd=${train_cmd}; _ngpu=0; fi
    for t in ${text_transcripts}; do
        if [ "${t}" = asr ]; then _train=data/${train_set}_asr; else _train=data/${train_set}; fi
        [ -f "${_train}/text" ] || { log "Error: ${_train}/text missing (stage 1, or stage 4 for asr)"; exit 1; }
    done
    mapfile -t _systems < <(text_systems)
    for _system in "${_systems[@]}"; do
        read -r _name arch t h seed <<< "${_system}"
        [ "${h}" = all ] || make_hours_subset "${h}"
        text_system_args "${arch}" "${t}" "${h}" "${seed}"
        # shellcheck disable=SC2086  # text_args holds several options
        bg_run train_job "${_name}" python -m speechsent.bin.train_text_classifier "${_args[@]}" \
            --exp_dir "${expdir}/${_name}" --ngpu "${_ngpu}" ${text_args}
    done
    bg_wait
    log "Stage 8 done: ${expdir}/text_* (scores in ${expdir}/text_*/score_*/scores.json)"
fi

if [ "${stage}" -le 9 ] && [ "${stop_stage}" -ge 9 ]; then
    log "Stage 9: E2E classifiers on the frozen encoders ${encoders}: sizes ${e2e_hours} (Table 4) ${e2e_curve_hours:+and ${e2e_curve_hours} (Fig. 2) }x seeds ${e2e_seeds}; pseudo-label pre-training: ${e2e_pseudo_configs:-none}${e2e_cnn_config:+; fbank CNN}"
    # shellcheck disable=SC2046,SC2086  # the set options are space-separated lists
    _sets=$(unique_words ${train_set} ${scored_sets} $(for c in ${e2e_pseudo_configs}; do IFS=: read -r _ s _ <<< "${c}"; echo "${s//+/ }"; done))
    log "  inputs: $(for e in ${encoders}; do printf '%s/{%s}/feats.scp ' "$(encoder_dir "${e}")" "${_sets// /,}"; done)data/{${train_set},${scored_sets// /,}}/utt2sentiment data/<set>[_asr]/utt2pseudo_<labeler>"
    log "  outputs: ${expdir}/e2e_*/{system.json,best.pth,score_<set>/scores.json}"
    if [ "${ngpu}" -gt 0 ]; then _cmd="${cuda_cmd} --gpu ${ngpu}"; else _cmd=${train_cmd}; fi
    for c in ${e2e_pseudo_configs}; do
        for _l in $(pseudo_labels_of "${c}"); do
            [ -f "${_l}" ] || { log "Error: ${_l} missing: run stage 7 (--e2e_pseudo_configs ${c})"; exit 1; }
        done
    done
    if [ -n "${e2e_cnn_config}" ]; then  # Table 2's first row: a CNN on log-mel filterbanks, no ASR encoder
        for s in ${train_set} ${scored_sets}; do
            [ -f "${dumpdir}/fbank/${s}/feats.scp" ] && continue
            log "fbank features of data/${s} -> ${dumpdir}/fbank/${s}"
            python -m speechsent.bin.dump_fbank --data_dir "data/${s}" --out_dir "${dumpdir}/fbank/${s}" --nj "${nj}" \
                --cmd "${decode_cmd}"  # logs in ${dumpdir}/fbank/${s}/log/dump.JOB.log
        done
    fi
    _prev=
    mapfile -t _systems < <(e2e_systems)
    for _system in "${_systems[@]}"; do
        read -r _name kind c h seed _enc <<< "${_system}"
        # a fine-tuning starts once the pre-trainings (and the seed's other systems before it) are done
        [ "${kind}" != finetune ] || [ "${_prev}" = finetune ] || bg_wait
        _prev=${kind}
        [ "${h}" = all ] || [ "${h}" = - ] || make_hours_subset "${h}"
        e2e_system_args "${kind}" "${c}" "${h}" "${seed}" "${_enc}"
        bg_run train_e2e "${_name}" "${_args[@]}"
    done
    bg_wait
    # Utterances a training left out (non-finite features, counted in its system.json): shown, not buried.
    grep -H "left out: of the training data" "${expdir}"/e2e_*/log/train.log 2> /dev/null | sed 's/\.log:.*WARNING: /.log: /' || true
    log "Stage 9 done: ${expdir}/e2e_*"
fi

if [ "${stage}" -le 10 ] && [ "${stop_stage}" -ge 10 ]; then
    log "Stage 10: report"
    log "  inputs: ${expdir}/*/system.json ${expdir}/*/score_*/scores.json ${expdir}/pseudo_labeler_*/eval_*/scores.json ${expdir}/asr_*/{decode_*/*/score.txt,overlap.json} data/*/utt2dur"
    log "  outputs: RESULTS.md ${expdir}/report/{run_options.tsv,*.png}"
    # The run's options, for RESULTS.md's header and its departures from the paper (name<TAB>value lines).
    mkdir -p "${expdir}/report"
    _asr_exp=$(asr_exp_dir)
    {
        printf 'recipe\t%s\n' "$(basename "$(pwd)")"
        for _v in train_set valid_set test_sets unlabeled_sets asr_train_sets asr_train_hours asr_valid_set \
                  asr_model_dir asr_model_train_sets asr_config nbpe decode_mode fast_decode_sets ngpu \
                  pseudo_labelers pseudo_labeler sst2 sst2_dir text_archs text_lm text_transcripts text_hours \
                  text_hours_transcripts text_seeds e2e_hours e2e_curve_hours e2e_pseudo_configs e2e_curve_configs \
                  e2e_seeds encoders hf_layers local_data_opts subset_seed; do
            printf '%s\t%s\n' "${_v}" "${!_v}"
        done
        printf 'asr_exp\t%s\n' "${_asr_exp}"
        printf 'asr_overlap_json\t%s\n' "${_asr_exp:+${_asr_exp}/overlap.json}"
        for _v in SWBD SWBD_MS98 SWBD_SENTIMENT FISHER; do printf '%s\t%s\n' "${_v}" "${!_v:-}"; done
    } > "${expdir}/report/run_options.tsv"
    # shellcheck disable=SC2086  # report_args holds several options
    python -m speechsent.bin.make_report \
        --exp_dir "${expdir}" \
        --run_options "${expdir}/report/run_options.tsv" \
        --out RESULTS.md \
        --plots_dir "${expdir}/report" \
        --data_dir data \
        --train_set "${train_set}" \
        --print false \
        --summary_out "${expdir}/report/summary.md" \
        ${report_args}
    log "Stage 10 done: $(pwd)/RESULTS.md, plots in $(pwd)/${expdir}/report/"
fi

if [ "${stage}" -le 11 ] && [ "${stop_stage}" -ge 11 ]; then
    use_asr_model
    log "Stage 11: export of the ${export_families// /, } systems"
    log "  inputs: ${expdir}/{e2e,text}_*/ (system.json, model.json, best.pth, score_${export_select_set}*/scores.json) ${_model}${export_check_text:+ ${export_check_text}}${export_check_scp:+ ${export_check_scp}}${export_check_labels:+ ${export_check_labels}}"
    log "  outputs: ${expdir}/export/{${export_families// /,}}/ (+ check.jsonl${export_check_labels:+, check_scores.json})"
    if [ -n "${export_check_labels}" ] && [ ! -f "${export_check_labels}" ]; then
        log "Error: --export_check_labels ${export_check_labels}: no such file"
        exit 1
    fi
    _check_scp=${export_check_scp}
    if [ -n "${export_check_text}" ]; then
        _check_scp=${expdir}/export/check_audio/wav.scp
        # shellcheck disable=SC2086  # export_check_synth_args holds several options
        python -m speechsent.bin.synth_utterance --text_file "${export_check_text}" \
            --out_dir "${expdir}/export/check_audio" --fs "${fs}" ${export_check_synth_args}
    fi
    for family in ${export_families}; do
        _opts=(--exp_root "${expdir}" --family "${family}" --select_set "${export_select_set}")
        _system=
        [ "${family}" = e2e ] && _system=${export_e2e_system}
        [ "${family}" = two_step ] && _system=${export_two_step_system}
        [ -z "${_system}" ] || _opts=(--system_dir "${expdir}/${_system}")
        [ "${family}" = e2e ] || _opts+=(--decode_mode "${decode_mode}" ${inference_config:+--decode_config "${inference_config}"})
        # shellcheck disable=SC2086  # export_args holds several options
        python -m speechsent.bin.export_model "${_opts[@]}" \
            --asr_model "${_model}" ${_model_file:+--asr_model_file "${_model_file}"} \
            --out_dir "${expdir}/export/${family}" \
            ${export_args}
        if [ -n "${_check_scp}" ]; then  # the exported model on new audio (side by side with --train_nj)
            log "${expdir}/export/${family} on ${_check_scp} -> ${expdir}/export/${family}/check.jsonl"
            bg_run python -m speechsent.bin.infer --model_dir "${expdir}/export/${family}" \
                --wav_scp "${_check_scp}" --output "${expdir}/export/${family}/check.jsonl"
        fi
    done
    bg_wait
    if [ -n "${_check_scp}" ] && [ -n "${export_check_labels}" ]; then
        # each model's accuracy on the labeled check, overall, on the polar utterances and per class (the
        # answers in check.jsonl, the wrong ones with the 2-step model's transcripts in check_scores.json;
        # with --export_check_text, the WER of those transcripts too, and how many words of the sentences the
        # ASR's training text lacks when that text is known)
        _heard_args=()
        if [ -n "${export_check_text}" ] && [ -n "$(asr_heard_sets)" ]; then
            _heard_args=(--heard_text)
            for s in $(asr_heard_sets); do _heard_args+=("data/${s}/text"); done
        fi
        log "The exported models on ${_check_scp}, against ${export_check_labels}:"
        for family in ${export_families}; do
            python -m speechsent.bin.score --ref "${export_check_labels}" \
                --infer_jsonl "${expdir}/export/${family}/check.jsonl" ${export_check_text:+--text "${export_check_text}"} \
                "${_heard_args[@]}" --out "${expdir}/export/${family}/check_scores.json"
        done
    elif [ -n "${_check_scp}" ]; then
        for family in ${export_families}; do
            log "${expdir}/export/${family} on ${_check_scp}:"
            cat "${expdir}/export/${family}/check.jsonl"
        done
    fi
    log "Stage 11 done: ${expdir}/export/{${export_families// /,}}: speechsent-infer --model_dir $(pwd)/${expdir}/export/e2e FILE..."
fi

if [ "${stage}" -le 10 ] && [ "${stop_stage}" -ge 10 ]; then  # the results last, where they are seen
    cat "${expdir}/report/summary.md"
    log "Results: $(pwd)/RESULTS.md (the tables above, with the systems and confusion matrices); plots: $(pwd)/${expdir}/report/"
    [ ! -d "${expdir}/export" ] || log "Exported models: $(pwd)/${expdir}/export/ (speechsent-infer --model_dir DIR FILE...)"
fi
log "Successfully finished"
