#!/usr/bin/env perl
# slurm.pl: run a command, or an array of JOB=1:N commands, on Slurm through
# sbatch; Kaldi's utils/parallel/slurm.pl interface.
#
#   slurm.pl [options] [JOB=1:N] log/x.JOB.log command args...
#
# Arguments reach the job's argv verbatim (";", "$(...)", "$VAR", quotes, spaces
# are data), except one that is exactly a shell operator (| && ; > 2>&1 ...)
# and a leading NAME=; shell code: slurm.pl log/x.log bash -c 'a; b'.  The
# full rule: quote_command in utils/lib/ParallelJobs.pm.
#
# "--name value" options (--mem, --gpu, --num-threads, --time, ...) are mapped
# to sbatch options by conf/slurm.conf (or --config FILE), in the syntax of
# queue.pl (see there).  --max-jobs-run N (or -tc N) limits the running tasks
# with sbatch's "--array A-B%N".  Other switches go to sbatch as they are
# (e.g. -p partition); "-sync y" becomes sbatch --wait.
#
# Differences from Kaldi's slurm.pl, on purpose:
#  - messages start with "slurm.pl:" rather than with the path it was run by;
#  - the single-job failure message names the real log (Kaldi substitutes a
#    misspelt $SLURM_TASK_ARRAY_ID, so it printed the unexpanded template);
#  - "-sync y" is translated to --wait (Kaldi passed it to sbatch, which
#    rejects it), and -tc N is taken as --max-jobs-run N;
#  - a signal scancels the submitted job (Kaldi left it running).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use ParallelJobs qw(run_cluster nfs_sleep);

my $default_config = <<'EOF';
# Default configuration
command sbatch --export=PATH  --ntasks-per-node=1
option name=* --job-name $0  # ESPnet's launcher passes --name (as ESPnet's conf/slurm.conf maps it)
option time=* --time $0
option mem=* --mem-per-cpu $0
option mem=0          # Do not add anything to qsub_opts
option num_threads=* --cpus-per-task $0 --ntasks-per-node=1
option num_threads=1 --cpus-per-task 1  --ntasks-per-node=1 # Do not add anything to qsub_opts
default gpu=0
option gpu=0 -p shared
option gpu=* -p gpu --gres=gpu:$0 --time 4:0:0  # this has to be figured out
# note: the --max-jobs-run option is supported as a special case
# by slurm.pl and you don't have to handle it in the config file.
EOF

sub squeue_status {
  my ($id) = @_;
  my $out = `squeue -j $id 2>&1`;
  return ($out, $? >> 8);
}

run_cluster(
  {
    prog => 'slurm.pl',
    config => 'conf/slurm.conf',
    default_config => $default_config,
    strict_star => 0,
    max_jobs_in_array_opt => 1,
    task_var => 'SLURM_ARRAY_TASK_ID',
    sync_subdir => '',
    array_opt => sub {
      my ($s, $e, $max) = @_;
      return defined $max ? "--array ${s}-${e}%${max}" : "--array ${s}-${e}";
    },
    submit_line => sub {
      my (%p) = @_;
      return ($p{command}, $p{opts}, '--open-mode=append', '-e', $p{qlog}, '-o', $p{qlog},
        $p{array}, $p{script});
    },
    switch_hook => sub {
      my ($sw, $st) = @_;
      my ($switch, @v) = @$sw;
      if ($switch eq '-tc') {
        push @{ $st->{cli_order} }, 'max_jobs_run' unless exists $st->{cli}{max_jobs_run};
        $st->{cli}{max_jobs_run} = $v[0];
        return 1;
      }
      if ($switch eq '-sync') {
        if ($v[0] =~ /^[yY]/) {
          push @{ $st->{sched_opts} }, '--wait';
          $st->{sync} = 1;
        }
        return 1;
      }
      return 0;
    },
    job_id_regex => qr/Submitted batch job (\d+)/,
    status_cmd => 'squeue -j',
    cancel_cmd => 'scancel',
    job_gone => sub {
      my ($id) = @_;
      my ($out, $ret) = squeue_status($id);
      if ($ret == 1) {  # check again before believing it
        nfs_sleep(4);
        ($out, $ret) = squeue_status($id);
      }
      return ($ret == 1, $out, $ret);
    },
    script_header => "  env | grep '^SLURM' | sort | sed 's/^/# /'\n",
    script_pre_run => "if [ \"\${CUDA_VISIBLE_DEVICES:-}\" == \"NoDevFiles\" ]; then\n"
      . "  echo CUDA_VISIBLE_DEVICES set to NoDevFiles, unsetting it... >>\"\$log\"\n"
      . "  unset CUDA_VISIBLE_DEVICES\n"
      . "fi\n",
    # Kaldi runs a system-wide "sync" here (seconds on a busy machine);
    # flushing the log itself is what matters before the done-file appears.
    script_post_run => "sync \"\$log\" 2>/dev/null || true\n",
    script_accounting => "echo '#' Accounting: begin_time=\$time1 >>\"\$log\"\n"
      . "echo '#' Accounting: end_time=\$time2 >>\"\$log\"\n",
  },
  @ARGV
);
