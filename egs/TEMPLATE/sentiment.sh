#!/usr/bin/env bash
# The stages of every speechsent recipe (Shon et al., Interspeech 2021), as ESPnet's egs2/TEMPLATE/asr1/asr.sh
# is for ASR recipes. A recipe's run.sh calls it from the recipe directory, which holds path.sh, cmd.sh,
# db.sh (the corpora), conf/ and local/data.sh (stage 1):
#   ../TEMPLATE/sentiment.sh [--stage N] [--stop_stage M] [options]
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
#      -> dump/encoder/<set>/feats.scp + arks;
#      utterances too short for the subsampling are listed in dump/encoder/<set>/skipped_utts.
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

# Jobs and directories
nj=4                    # parallel jobs of the data stages (audio formatting, collect-stats, decoding)
inference_nj=           # parallel decoding jobs (default: nj)
ngpu=0                  # GPUs for ASR training (>1: distributed, ESPnet's --multiprocessing_distributed)
num_nodes=1             # nodes for ASR training
gpu_inference=          # decode on a GPU through cuda_cmd (default: true when ngpu > 0)
dumpdir=dump            # audio files for ESPnet (dump/raw/<set>)
expdir=exp              # experiments

# Stages 2-4: the ESPnet joint CTC-attention ASR (skip 2-3 with --asr_model_dir)
nbpe=2000               # BPE vocabulary size (stage 2; ESPnet's asr.sh --nbpe)
bpemode=unigram         # sentencepiece model type: unigram or bpe
bpe_train_text=         # Kaldi text file(s) of the BPE model (default: text of the --asr_train_sets)
bpe_char_cover=1.0      # sentencepiece character coverage
fs=8000                 # sampling rate of the ASR training audio (Hz; the frontend's fs)
audio_format=flac       # audio written for ESPnet: flac or wav
asr_train_sets=asr_train  # data dirs the ASR is trained on (several are combined, e.g. "asr_train fisher")
asr_train_hours=        # train on a random subset of this many hours (empty: all)
asr_valid_set=swbd_test # validation set of the ASR training
min_wav_duration=0.1    # training/validation utterances kept: longer than this (s) ...
max_wav_duration=20     # ... and shorter than this (s)
asr_config=             # ESPnet2 ASR training config (e.g. conf/train_asr.yaml)
asr_args=               # more options of espnet2.bin.asr_train, e.g. "--max_epoch 10"
asr_tag=                # experiment name exp/asr_<tag> (default: from asr_config, nbpe, asr_args, as asr.sh)
asr_stats_dir=          # statistics of collect-stats (default: exp/asr_stats_raw_bpe<nbpe>)
feats_normalize=global_mvn  # feature normalisation: global_mvn (from collect-stats) or utterance_mvn
asr_model_dir=          # use this ESPnet2 ASR model (config.yaml + *.pth, e.g. an unpacked model-zoo model)
asr_model_file=         # its model file (default: valid.acc.ave*, valid.acc.best, the newest *.pth)
decode_sets="swbd_train swbd_test swbd_holdout fisher"  # data dirs decoded into data/<set>_asr (stage 4)
decode_mode=beam        # beam (ESPnet's joint CTC/attention beam search) or ctc_greedy (batched, fast)
fast_decode_sets=fisher # sets decoded with ctc_greedy whatever --decode_mode (2,000 h of Fisher)
inference_config=       # decoding options (YAML: beam_size, ctc_weight, penalty, lm_weight, batch_seconds ...)
inference_args=         # more options of speechsent-asr-decode, e.g. "--beam_size 5"

# Stage 5: the frozen-encoder dump
dump_sets="swbd_train swbd_test swbd_holdout fisher"  # data dirs dumped into dump/encoder/<set> (stage 5)
dump_storage=float      # float (float32 ark) or compressed (Kaldi compressed matrices, ~1/4 of the bytes)
amp=false               # autocast the encoder on GPU (stage 5): false, true (bf16 if supported, else fp16), fp16, bf16
dump_args=              # more options of speechsent-dump-encoder, e.g. "--batch_frames 30000"

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
Jobs: --nj N (default ${nj})  --inference_nj N  --ngpu N (default ${ngpu})  --num_nodes N  --gpu_inference true|false
      --dumpdir DIR (default ${dumpdir})  --expdir DIR (default ${expdir})
Stage 2 (BPE: data/token_list/bpe_<bpemode><nbpe>/{bpe.model,tokens.txt}):
  --nbpe N (default ${nbpe})  --bpemode unigram|bpe  --bpe_train_text "FILE..."  --bpe_char_cover X
Stage 3 (ESPnet ASR training -> exp/asr_<tag>, recorded in exp/asr_model):
  --asr_config YAML  --asr_args "..."  --asr_tag TAG  --asr_train_sets "asr_train [fisher]" (default ${asr_train_sets})
  --asr_train_hours H  --asr_valid_set SET (default ${asr_valid_set})  --fs HZ (default ${fs})
  --audio_format flac|wav  --min_wav_duration S  --max_wav_duration S  --feats_normalize global_mvn|utterance_mvn
  --asr_model_dir DIR   use this ESPnet2 ASR model (config.yaml + *.pth): skips stages 2 and 3
  --asr_model_file PTH  its model file (default: valid.acc.ave*, valid.acc.best, newest *.pth)
Stage 4 (decoding -> data/<set>_asr, exp/asr_<tag>/decode_<mode>/<set>/{text,score.txt}):
  --decode_sets "..." (default ${decode_sets})  --decode_mode beam|ctc_greedy (default ${decode_mode})
  --fast_decode_sets "..." (default ${fast_decode_sets})  --inference_config YAML  --inference_args "..."
Stage 5 (frozen-encoder dump -> dump/encoder/<set>/{feats.scp,feats.JOB.ark,utt2num_frames,skipped_utts}):
  --dump_sets "..." (default ${dump_sets})  --dump_storage float|compressed (default ${dump_storage})
  --amp false|true|fp16|bf16 (GPU only)  --dump_args "..."
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

# ---- Derived names (stages 2-4) ------------------------------------------------------------------------
bpedir=data/token_list/bpe_${bpemode}${nbpe}
bpemodel=${bpedir}/bpe.model
token_list=${bpedir}/tokens.txt
# The ASR training set: the --asr_train_sets combined, optionally a random subset of --asr_train_hours.
asr_train_set=$(echo "${asr_train_sets}" | tr -s ' ' '_')
_train_suffix=
[ "${asr_train_set}" = asr_train ] || _train_suffix+="_${asr_train_set}"
if [ -n "${asr_train_hours}" ]; then
    asr_train_set+="_${asr_train_hours}h"
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

# A checksum of files and strings: what a finished step was made from (its .done stamp).
stamp_of() {
    local x
    for x in "$@"; do
        if [ -f "${x}" ]; then md5sum < "${x}"; else echo "${x}"; fi
    done | md5sum | cut -d' ' -f1
}

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
        log "Stage 2 done: ${token_list} ($(wc -l < "${token_list}") tokens)"
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
        _train_dir=${dumpdir}/raw/${asr_train_set}
        _valid_dir=${dumpdir}/raw/${asr_valid_set}
        log "Stage 3: ESPnet ASR training: data/{${asr_train_sets// /,}} -> ${asr_exp}"
        log "  inputs: data/{${asr_train_sets// /,}}${asr_train_hours:+ (${asr_train_hours} h)} data/${asr_valid_set} ${token_list} ${asr_config:-(no --asr_config)}"
        log "  outputs: ${_train_dir} ${_valid_dir} ${asr_stats_dir} ${asr_exp} ${asr_pointer}"
        [ -f "${token_list}" ] || { log "Error: ${token_list} missing: run stage 2"; exit 1; }

        # 1. The training set: the --asr_train_sets combined, optionally a random subset
        _src=$(echo "${asr_train_sets}" | tr -s ' ' '_')
        if [ "$(echo "${asr_train_sets}" | wc -w)" -gt 1 ]; then
            _dirs=$(for s in ${asr_train_sets}; do printf 'data/%s ' "${s}"; done)
            # shellcheck disable=SC2086
            combine_data.sh "data/${_src}" ${_dirs}
        fi
        if [ -n "${asr_train_hours}" ]; then
            subset_data_dir.sh --hours "${asr_train_hours}" "data/${_src}" "data/${asr_train_set}"
        fi

        # 2. Audio files for ESPnet's loaders (resampled to fs; short/long/empty-text utterances removed)
        for dset in "${asr_train_set}" "${asr_valid_set}"; do
            python -m speechsent.bin.format_wav --data_dir "data/${dset}" --out_dir "${dumpdir}/raw/${dset}" \
                --fs "${fs}" --audio_format "${audio_format}" --nj "${nj}" --cmd "${train_cmd}" \
                --min_duration "${min_wav_duration}" --max_duration "${max_wav_duration}" --drop_empty_text true
        done

        _train_opts=
        [ -z "${asr_config}" ] || _train_opts+="--config ${asr_config} "
        if ! python -c "import importlib.util as u, sys; sys.exit(u.find_spec('tensorboard') is None)"; then
            _train_opts+="--use_tensorboard false "   # ESPnet's trainer needs tensorboard for its summaries
        fi
        _common=(--use_preprocessor true --token_type bpe --bpemodel "${bpemodel}" --token_list "${token_list}"
                 --frontend_conf "fs=${fs}")

        # 3. Collect-stats (shapes, global-MVN statistics), as asr.sh
        _stats_stamp=$(stamp_of "${_train_dir}/wav.scp" "${_train_dir}/text" "${_valid_dir}/wav.scp" \
            "${_valid_dir}/text" "${token_list}" "${asr_config}" "${asr_args}" "${fs}")
        if [ -f "${asr_stats_dir}/.done" ] && [ "$(cat "${asr_stats_dir}/.done")" = "${_stats_stamp}" ]; then
            log "collect-stats: ${asr_stats_dir} is up to date"
        else
            _logdir=${asr_stats_dir}/logdir
            rm -rf "${_logdir}" "${asr_stats_dir}/.done"
            mkdir -p "${_logdir}"
            _nj=$(( nj < $(wc -l < "${_train_dir}/wav.scp") ? nj : $(wc -l < "${_train_dir}/wav.scp") ))
            _nj=$(( _nj < $(wc -l < "${_valid_dir}/wav.scp") ? _nj : $(wc -l < "${_valid_dir}/wav.scp") ))
            split_scp.pl "${_train_dir}/wav.scp" $(seq -f "${_logdir}/train.%g.scp" "${_nj}")
            split_scp.pl "${_valid_dir}/wav.scp" $(seq -f "${_logdir}/valid.%g.scp" "${_nj}")
            log "ASR collect-stats started... log: '${_logdir}/stats.*.log'"
            # shellcheck disable=SC2086
            ${train_cmd} JOB=1:"${_nj}" "${_logdir}"/stats.JOB.log \
                python -m espnet2.bin.asr_train \
                    --collect_stats true \
                    "${_common[@]}" \
                    --train_data_path_and_name_and_type "${_train_dir}/wav.scp,speech,sound" \
                    --train_data_path_and_name_and_type "${_train_dir}/text,text,text" \
                    --valid_data_path_and_name_and_type "${_valid_dir}/wav.scp,speech,sound" \
                    --valid_data_path_and_name_and_type "${_valid_dir}/text,text,text" \
                    --train_shape_file "${_logdir}/train.JOB.scp" \
                    --valid_shape_file "${_logdir}/valid.JOB.scp" \
                    --output_dir "${_logdir}/stats.JOB" \
                    ${_train_opts} ${asr_args} || { cat "${_logdir}"/stats.1.log; exit 1; }
            # shellcheck disable=SC2046
            python -m espnet2.bin.aggregate_stats_dirs \
                $(for i in $(seq "${_nj}"); do printf -- '--input_dir %s ' "${_logdir}/stats.${i}"; done) \
                --output_dir "${asr_stats_dir}"
            # the number of tokens appended to the text shapes (for batch-bins counting), as asr.sh
            for x in train valid; do
                awk -v N="$(wc -l < "${token_list}")" '{ print $0 "," N }' \
                    "${asr_stats_dir}/${x}/text_shape" > "${asr_stats_dir}/${x}/text_shape.bpe"
            done
            echo "${_stats_stamp}" > "${asr_stats_dir}/.done"
        fi

        # 4. Training (espnet2.bin.launch: one process per GPU with --ngpu N > 1, as asr.sh)
        if [ "${feats_normalize}" = global_mvn ]; then
            _train_opts+="--normalize=global_mvn --normalize_conf stats_file=${asr_stats_dir}/train/feats_stats.npz "
        else
            _train_opts+="--normalize=${feats_normalize} "
        fi
        _train_stamp=$(stamp_of "${_stats_stamp}" "${asr_stats_dir}/train/feats_stats.npz" "${feats_normalize}" \
            "${ngpu}")
        if [ -f "${asr_exp}/.done" ] && [ "$(cat "${asr_exp}/.done")" = "${_train_stamp}" ]; then
            log "training: ${asr_exp} is trained already (remove ${asr_exp}/.done to train again)"
        else
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
                    "${_common[@]}" \
                    --train_data_path_and_name_and_type "${_train_dir}/wav.scp,speech,sound" \
                    --train_data_path_and_name_and_type "${_train_dir}/text,text,text" \
                    --train_shape_file "${asr_stats_dir}/train/speech_shape" \
                    --train_shape_file "${asr_stats_dir}/train/text_shape.bpe" \
                    --valid_data_path_and_name_and_type "${_valid_dir}/wav.scp,speech,sound" \
                    --valid_data_path_and_name_and_type "${_valid_dir}/text,text,text" \
                    --valid_shape_file "${asr_stats_dir}/valid/speech_shape" \
                    --valid_shape_file "${asr_stats_dir}/valid/text_shape.bpe" \
                    --resume true \
                    --fold_length 80000 \
                    --fold_length 150 \
                    --output_dir "${asr_exp}" \
                    ${_train_opts} ${asr_args}
            echo "${_train_stamp}" > "${asr_exp}/.done"
        fi
        python -m speechsent.bin.asr_model --model_dir "${asr_exp}" ${asr_model_file:+--model_file "${asr_model_file}"} \
            --pointer "${asr_pointer}"
        log "Stage 3 done: ${asr_exp} ($(grep -h 'epoch results' "${asr_exp}/train.log" | tail -n 1 \
            | grep -o '\[valid\].*acc=[0-9.]*' | grep -o 'acc=[0-9.]*$' || true)), recorded in ${asr_pointer}"
    fi
fi

if [ "${stage}" -le 4 ] && [ "${stop_stage}" -ge 4 ]; then
    # The model: --asr_model_dir, else the one stage 3 recorded in exp/asr_model.
    if [ -n "${asr_model_dir}" ]; then
        _model=${asr_model_dir}
        _model_file=${asr_model_file}
        _asr_exp=${asr_exp}
    else
        [ -f "${asr_pointer}" ] || { log "Error: ${asr_pointer} missing: run stage 3 (or give --asr_model_dir)"; exit 1; }
        _model=${asr_pointer}
        _model_file=
        _target=$(head -n 1 "${asr_pointer}")
        case ${_target} in /*) ;; *) _target=${expdir}/${_target} ;; esac
        if [ -d "${_target}" ] && [ "$(cd "${_target}/.." && pwd)" = "$(cd "${expdir}" && pwd)" ]; then
            _asr_exp=${_target}   # trained by stage 3
        else
            _asr_exp=${expdir}/asr_$(basename "${_target%/}")
        fi
    fi
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
    log "  outputs: $(for s in ${decode_sets}; do printf 'data/%s_asr ' "${s}"; done)${_asr_exp}/decode_*/<set>/{text,score.txt}"
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
            ${inference_args}
        for dset in ${_sets}; do
            log "${dset} (${_mode}): $(grep -h '^%WER' "${_asr_exp}/decode_${_mode}/${dset}/score.txt" || echo 'no reference text')"
        done
    done
    log "Stage 4 done: $(for s in ${decode_sets}; do printf 'data/%s_asr ' "${s}"; done)"
fi

if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 5 ]; then
    # The model: --asr_model_dir, else the one stage 3 recorded in exp/asr_model.
    if [ -n "${asr_model_dir}" ]; then
        _model=${asr_model_dir}
        _model_file=${asr_model_file}
    else
        [ -f "${asr_pointer}" ] || { log "Error: ${asr_pointer} missing: run stage 3 (or give --asr_model_dir)"; exit 1; }
        _model=${asr_pointer}
        _model_file=
    fi
    if "${gpu_inference}"; then _cmd=${cuda_cmd}; _ngpu=1; else _cmd=${decode_cmd}; _ngpu=0; fi
    log "Stage 5: frozen-encoder dump with ${_model} (${dump_storage}, ${inference_nj} jobs, ngpu ${_ngpu})"
    log "  inputs: $(for s in ${dump_sets}; do printf 'data/%s ' "${s}"; done)"
    log "  outputs: $(for s in ${dump_sets}; do printf '%s/encoder/%s/feats.scp ' "${dumpdir}" "${s}"; done)"
    _opts=()
    _dumped=
    for dset in ${dump_sets}; do
        if [ ! -f "data/${dset}/utt2spk" ]; then
            log "Warning: data/${dset} does not exist (the corpus has no such part?): not dumped"
            continue
        fi
        _opts+=(--data_dir "data/${dset}" --out_dir "${dumpdir}/encoder/${dset}")
        _dumped+="${dset} "
    done
    [ -n "${_dumped}" ] || { log "Error: none of --dump_sets (${dump_sets}) exists under data/"; exit 1; }
    # One job array for all sets (each job imports ESPnet and loads the model once, then does its share of
    # every set); finished jobs are skipped by the jobs themselves (their part is final), so a rerun does
    # no work. Then the merge writes each set's feats.scp (last).
    # shellcheck disable=SC2086  # dump_args holds several options
    ${_cmd} JOB=1:"${inference_nj}" "${dumpdir}/encoder/log/dump.JOB.log" \
        python -m speechsent.bin.dump_encoder "${_opts[@]}" --nj "${inference_nj}" --job JOB \
            --asr_model_dir "${_model}" ${_model_file:+--asr_model_file "${_model_file}"} \
            --storage "${dump_storage}" --ngpu "${_ngpu}" --amp "${amp}" ${dump_args}
    python -m speechsent.bin.dump_encoder "${_opts[@]}" --nj "${inference_nj}" --merge true
    for dset in ${_dumped}; do
        _dir=${dumpdir}/encoder/${dset}
        log "${dset}: $(wc -l < "${_dir}/feats.scp") utterances in ${_dir}/feats.scp," \
            "$(wc -l < "${_dir}/skipped_utts") skipped (${_dir}/skipped_utts)"
    done
    log "Stage 5 done: $(for s in ${dump_sets}; do printf '%s/encoder/%s ' "${dumpdir}" "${s}"; done)"
fi

log "Successfully finished"
