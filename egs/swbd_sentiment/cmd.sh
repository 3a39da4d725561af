# shellcheck shell=bash
# How jobs are run: each *_cmd is a Kaldi-style job runner,
#   ${train_cmd} [--gpu N] [--mem M] [--time T] [--max-jobs-run N] JOB=1:N exp/log/x.JOB.log command args
# run.pl runs the jobs on this machine. For a cluster, use slurm.pl (sbatch, options mapped by conf/slurm.conf)
# or queue.pl (Grid Engine qsub, conf/queue.conf), e.g.:
#   export train_cmd="slurm.pl --mem 4G"
#   export cuda_cmd="slurm.pl --gpu 1 --mem 16G"
#   export decode_cmd="slurm.pl --mem 4G"
# or
#   export train_cmd="queue.pl --mem 4G"
#   export cuda_cmd="queue.pl --gpu 1 --mem 16G"
#   export decode_cmd="queue.pl --mem 4G"
# Each may be overridden from the environment.
export train_cmd=${train_cmd:-run.pl}
export cuda_cmd=${cuda_cmd:-run.pl}
export decode_cmd=${decode_cmd:-run.pl}
