#!/usr/bin/env perl
# run.pl: run a command, or an array of JOB=1:N commands, on this machine,
# each with its stdout and stderr in a log file; Kaldi's utils/parallel/run.pl.
#
#   run.pl [options] [JOB=1:N] log/x.JOB.log command args...
#   run.pl some.log my-prog "--opt=foo bar" foo \| other-prog baz
#
# Arguments reach the job's argv verbatim (";", "$(...)", "$VAR", quotes, spaces
# are data), except one that is exactly a shell operator (| && ; > 2>&1 ...)
# and a leading NAME=; shell code: run.pl log/x.log bash -c 'a; b'.  The
# full rule: quote_command in utils/lib/ParallelJobs.pm.
#
# JOB (any name matching [A-Za-z_]\w*) is replaced by the task number in the
# log name and in the command; "JOB=3" runs the single task 3.  The command is
# run by bash; each log starts with "# <command>", "# Started at <date>", "#"
# and ends with "# Accounting: time=T threads=1" and
# "# Ended (code C) at <date>, elapsed time T seconds".  If any task fails,
# run.pl prints "run.pl: F / N failed, log is in log/x.*.log" (or, for a single
# task, "run.pl: job failed, log is in ...") and exits 1.
#
# Options (the queue.pl/slurm.pl options are accepted, and ignored unless
# listed here, so that $cmd can be switched between them):
#   --max-jobs-run N, -tc N   run at most N tasks at once (the smallest wins
#                             when given more than once).  Default: the number
#                             of CPUs (or GPUs with --gpu 1), raised to the
#                             number of tasks when that is less than 1.4x it.
#   --gpu N                   with N > 0, the default above counts GPUs
#   --pick all|failed|incomplete|none
#                             rerun only some tasks, judging by their old logs:
#                             a task whose log ends "# Ended (code 0)" is
#                             skipped unless "all"; one that failed is rerun
#                             with "failed" (and "all"), else counted as failed;
#                             a task without a finished log always runs.
#   -V (no value), -pe smp N (two values), any other -x VALUE: ignored.
#
# Differences from Kaldi's run.pl, on purpose:
#  - arguments are quoted as above (Kaldi passed one without white space to
#    bash as it is, so a path "data/a;rm -r x" ran "rm -r x");
#  - the command's stdin is /dev/null (Kaldi piped the command text into bash,
#    so a command reading stdin consumed the rest of bash's own input);
#  - the log path may contain spaces (Kaldi pasted it into a shell line);
#  - errors exit with status 1 (Kaldi's die() gives 2 or 255 depending on
#    errno), malformed ranges such as JOB=1-4 are errors rather than being
#    taken as the log-file name, and an invalid --pick value is an error;
#  - the default parallelism counts the CPUs this process may use (nproc),
#    which respects CPU affinity / cgroup limits, before /proc/cpuinfo.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use File::Basename qw(dirname);
use File::Path qw(make_path);
use ParallelJobs qw(fail scan_args quote_command check_log_name kaldi_date report_failures);

my $prog = 'run.pl';

sub usage {
  print STDERR "usage: run.pl [options] [JOB=1:N] log-file command-line arguments...\n"
    . "e.g.: run.pl JOB=1:4 exp/log/foo.JOB.log my-prog --job JOB\n";
  exit 1;
}

usage() if @ARGV < 2;
my $j = scan_args($prog, \@ARGV, 'this is required for GridEngine compatibility');

my ($max_jobs_run, $using_gpu, $pick) = (-1, 0, 'all');
foreach my $sw (@{ $j->{switches} }) {
  my ($switch, @v) = @$sw;
  if ($switch eq '--max-jobs-run' || $switch eq '-tc') {
    my $n = $v[0] // '';
    fail($prog, "invalid option --max-jobs-run $n") unless $n =~ /^0*[1-9]\d*$/;
    $max_jobs_run = $n if $max_jobs_run <= 0 || $n < $max_jobs_run;
  } elsif ($switch eq '--gpu') {
    $using_gpu = ($v[0] =~ /^\d+$/ && $v[0] > 0) ? 1 : 0;
  } elsif ($switch eq '--pick') {
    fail($prog, "ERROR: --pick argument must be one of 'all', 'none', 'failed' or 'incomplete'")
      unless $v[0] =~ /^(all|none|failed|incomplete)$/;
    $pick = $v[0];
  }
  # Everything else (--mem, --time, --num-threads, --config, -q, -l, -V,
  # -sync, -pe ...) is meant for a queueing system and ignored here.
}
usage() if @ARGV < 2;

my $num_jobs = $j->{jobend} - $j->{jobstart} + 1;
$max_jobs_run = default_max_jobs($num_jobs, $using_gpu) if $max_jobs_run == -1;

my $logfile = shift @ARGV;
check_log_name($prog, $logfile, $j);
my $cmd = quote_command(@ARGV);

sub count_lines_of {
  my ($command, $re) = @_;
  my $n = 0;
  if (open(my $p, '-|', "$command 2>/dev/null")) {
    while (<$p>) { $n++ if $_ =~ $re; }
    close $p;
  }
  return $n;
}

sub default_max_jobs {
  my ($njobs, $gpu) = @_;
  if ($gpu) {
    my $n = count_lines_of('nvidia-smi -L', qr/\S/);
    return $n if $n > 0;
    print STDERR "$prog: Warning: failed to detect number of GPUs from nvidia-smi, using 1\n";
    return 1;
  }
  my $n = 0;
  my $nproc = `nproc 2>/dev/null` // '';
  if ($nproc =~ /^\s*(\d+)/ && $1 > 0) {
    $n = $1;
  } elsif (-r '/proc/cpuinfo') {
    $n = count_lines_of('cat /proc/cpuinfo', qr/^processor/);
  } else {
    my $s = `sysctl -n hw.ncpu 2>/dev/null` // '';
    $n = $1 if $s =~ /(\d+)/;
  }
  if ($n == 0) {
    print STDERR "$prog: Warning: failed to detect any processors, using 10\n";
    $n = 10;
  }
  # Just a few more jobs than CPUs: run them all at once rather than leave a
  # small tail of jobs running alone.  (Kaldi.)
  $n = $njobs if $njobs > $n && $njobs < 1.4 * $n;
  return $n;
}

# --pick: decide from an existing log whether task must run.  Returns undef to
# run it, or the exit status to report without running.
sub picked_status {
  my ($log) = @_;
  return undef if $pick eq 'all';
  open(my $fh, '<', $log) || return undef;  # never ran
  my $ended;
  while (<$fh>) { $ended = $_ if /^# Ended \(code /; }
  close $fh;
  return undef unless defined $ended;  # incomplete: always rerun
  return 0 if $ended =~ /^# Ended \(code 0\)/;
  return $pick eq 'failed' ? undef : 1;
}

# Run one task in this (child) process; returns its exit status for run.pl.
sub run_task {
  my ($id) = @_;
  my ($c, $log) = ($cmd, $logfile);
  if (defined $j->{jobname}) {
    $c =~ s/\Q$j->{jobname}\E/$id/g;
    $log =~ s/\Q$j->{jobname}\E/$id/g;
  }
  my $picked = picked_status($log);
  return $picked if defined $picked;

  my $dir = dirname($log);
  make_path($dir) unless -d $dir;
  open(my $fh, '>', $log) || fail($prog, "Error opening log file $log: $!");
  my $start = time;
  print $fh "# $c\n# Started at " . kaldi_date($start) . "\n#\n";
  close $fh;

  my $pid = fork();
  fail($prog, "Error forking (writing to $log): $!") unless defined $pid;
  if ($pid == 0) {
    open(STDIN, '<', '/dev/null');
    open(STDOUT, '>>', $log) || exit 127;
    open(STDERR, '>&', \*STDOUT) || exit 127;
    exec('bash', '-c', $c) || exit 127;
  }
  waitpid($pid, 0);
  my $ret = $?;
  my $end = time;
  my ($sig, $code) = ($ret & 127, $ret >> 8);
  my $how = $sig ? "code $code; signal $sig" : "code $code";
  open($fh, '>>', $log) || fail($prog, "Error opening log file $log (again): $!");
  print $fh "# Accounting: time=" . ($end - $start) . " threads=1\n";
  print $fh "# Ended ($how) at " . kaldi_date($end) . ", elapsed time " . ($end - $start)
    . " seconds\n";
  close $fh;
  return $ret == 0 ? 0 : 1;
}

my (%running, %status);
my $reap = sub {
  my $pid = waitpid(-1, 0);
  fail($prog, "Error waiting for child process") if $pid < 0;
  my $id = delete $running{$pid};
  fail($prog, "Cannot find the PID of the child process that just finished.") unless defined $id;
  $status{$id} = $?;
};
for my $id ($j->{jobstart} .. $j->{jobend}) {
  $reap->() while keys %running >= $max_jobs_run;
  my $pid = fork();
  fail($prog, "Error forking in run.pl (writing to $logfile): $!") unless defined $pid;
  if ($pid == 0) {
    exit(run_task($id));
  }
  $running{$pid} = $id;
}
$reap->() while %running;

my $numfail = grep { $status{$_} != 0 } keys %status;
exit 0 if $numfail == 0;
report_failures($prog, $logfile, $j, $numfail, undef);
exit 1;
