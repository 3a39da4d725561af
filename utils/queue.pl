#!/usr/bin/env perl
# queue.pl: run a command, or an array of JOB=1:N commands, on Sun/Open
# GridEngine through qsub; Kaldi's utils/parallel/queue.pl interface.
#
#   queue.pl [options] [JOB=1:N] log/x.JOB.log command args...
#
# Arguments reach the job's argv verbatim (";", "$(...)", "$VAR", quotes, spaces
# are data), except one that is exactly a shell operator (| && ; > 2>&1 ...)
# and a leading NAME=; shell code: queue.pl log/x.log bash -c 'a; b'.  The
# full rule: quote_command in utils/lib/ParallelJobs.pm.
#
# Options of the form "--name value" (--mem, --gpu, --num-threads,
# --max-jobs-run, --time, ...) are mapped to qsub options by conf/queue.conf
# (or --config FILE); other switches (-q all.q, -l ..., -V, -tc N, -pe smp 4,
# -sync y) are passed to qsub as they are.  Config syntax:
#   command qsub -v PATH -cwd -S /bin/bash -j y -l arch=*64*
#   option mem=* -l mem_free=$0,ram_free=$0   # $0 is the option's value
#   option mem=0                               # --mem 0 adds nothing
#   default gpu=0                              # as if --gpu 0 were given
# Without conf/queue.conf the built-in default below (Kaldi's) is used.
#
# The tasks write log/x.N.log with "# Accounting: time=T threads=N" and
# "# Finished at <date> with status S" footers; the generated job script is
# in log/q/ (or exp/dir/q/ for exp/dir/log/...).  queue.pl waits for the
# done-files the tasks touch, then exits 1 with
# "queue.pl: F / N failed, log is in log/x.*.log" if any task failed.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use ParallelJobs qw(run_cluster);

my $default_config = <<'EOF';
# Default configuration
command qsub -v PATH -cwd -S /bin/bash -j y -l arch=*64*
option mem=* -l mem_free=$0,ram_free=$0
option mem=0          # Do not add anything to qsub_opts
option num_threads=* -pe smp $0
option num_threads=1  # Do not add anything to qsub_opts
option max_jobs_run=* -tc $0
default gpu=0
option gpu=0
option gpu=* -l gpu=$0 -q g.q
EOF

run_cluster(
  {
    prog => 'queue.pl',
    config => 'conf/queue.conf',
    default_config => $default_config,
    strict_star => 1,
    task_var => 'SGE_TASK_ID',
    sync_subdir => 'sync',
    array_opt => sub { my ($s, $e) = @_; return "-t $s:$e" },
    submit_line => sub {
      my (%p) = @_;
      return ($p{command}, '-o', $p{qlog}, $p{opts}, $p{array}, $p{script});
    },
    job_id_regex => qr/Your job\S* (\d+)[. ].+ has been submitted/,
    retry_regex => qr/gdi request|qmaster/,
    status_cmd => 'qstat -j',
    cancel_cmd => 'qdel',
    job_gone => sub {
      my ($id) = @_;
      my $out = `qstat -j $id 2>&1`;
      my $ret = $? >> 8;
      # qstat exits 1 for an unknown job; a qmaster/gdi error means the
      # scheduler itself is unreachable, which says nothing about the job.
      my $gone = $ret == 1 && $out !~ /qmaster/ && $out !~ /gdi request/;
      return ($gone, $out, $ret);
    },
  },
  @ARGV
);
