#!/usr/bin/env bash
# Stage 9's multi-node command (README, "Scaling out"), run for real: one E2E system trained through
#   srun ... bash -c 'torchrun --nnodes $SLURM_NNODES --node_rank $SLURM_NODEID --nproc_per_node N
#                              --rdzv_backend c10d --rdzv_endpoint HEAD:PORT -m speechsent.bin.train_e2e ...'
# on the Slurm cluster of SLURM_CONF, here one node with 2 gloo processes (--ngpu 0), on the stage-5 features
# of a recipe dir; checks that it ran as 2 DDP ranks and scored the sets.
#
#   bash test/slurm/srun_torchrun.sh RECIPE_DIR EXP_NAME     (after stages 1-7 there; SLURM_CONF set)
set -euo pipefail
recipe=$1
name=$2
cd "${recipe}"
# shellcheck disable=SC1091
. ./path.sh
enc=dump/encoder
exp=exp/${name}
score_sets="swbd_test:${enc}/swbd_test/feats.scp:data/swbd_test/utt2sentiment"
score_sets+=" swbd_holdout:${enc}/swbd_holdout/feats.scp:data/swbd_holdout/utt2sentiment"
# the rendezvous host: the first node of the allocation (here 127.0.0.1: the cluster is this machine)
# shellcheck disable=SC2016  # expanded by the job's bash, on the allocated node
srun --nodes 1 --ntasks-per-node 1 --cpus-per-task 2 --export ALL --output "${recipe}/${exp}.srun.log" \
    bash -c 'torchrun --nnodes "${SLURM_NNODES}" --node_rank "${SLURM_NODEID}" --nproc_per_node 2 \
                 --rdzv_id "${SLURM_JOB_ID}" --rdzv_backend c10d --rdzv_endpoint 127.0.0.1:29511 \
                 -m speechsent.bin.train_e2e "$@"' _ \
    --train_feats "${enc}/swbd_train/feats.scp" --train_labels data/swbd_train/utt2sentiment \
    --valid_feats "${enc}/swbd_test/feats.scp" --valid_labels data/swbd_test/utt2sentiment \
    --score_sets "${score_sets}" --config conf/train_e2e.yaml --seed 0 --ngpu 0 --num_threads 1 \
    --exp_dir "${exp}" --progress false
grep -q "process group: rank 0/2 (local 0), backend gloo" "${exp}/train.log" "${exp}.srun.log" \
    || { tail -n 20 "${exp}.srun.log"; echo "srun_torchrun.sh: not 2 gloo ranks" >&2; exit 1; }
for s in swbd_test swbd_holdout; do
    [ -s "${exp}/score_${s}/scores.json" ] || { echo "srun_torchrun.sh: no ${exp}/score_${s}/scores.json" >&2; exit 1; }
done
echo "srun_torchrun.sh: ${exp} trained by srun + torchrun (2 gloo ranks): $(grep -o '"unweighted_f1": [0-9.]*' "${exp}/score_swbd_holdout/scores.json")"
