package ParallelJobs;

# Shared code for utils/run.pl, utils/queue.pl and utils/slurm.pl.
#
# The three scripts keep Kaldi's command-line interface:
#
#   X.pl [options] [JOB=1:N] log/x.JOB.log command args...
#
# This module holds what they have in common: the option/JOB-range scanner,
# the quoting of the command (see quote_command), log-file naming, failure
# reporting, and (for the two cluster back-ends) the config-file mapping of
# --mem/--gpu/... to scheduler options, the generated task script, the
# submission and the done-file polling.  Everything back-end specific is
# described by a small hash that queue.pl / slurm.pl pass to run_cluster().
#
# Tuning knobs (environment):
#   SPEECHSENT_POLL_INTERVAL   first wait between done-file polls (default 0.1 s;
#                              it grows by 1.2x per poll)
#   SPEECHSENT_POLL_MAX        longest wait between polls (default 3 s, as Kaldi)
#   SPEECHSENT_NFS_WAIT_SCALE  multiplies every NFS-related grace period (the 5 s
#                              pause after creating q/, the grace before declaring
#                              a vanished job dead, the waits for a log's status
#                              line).  Default 1; 0 disables them (tests).

use strict;
use warnings;

use Cwd qw(getcwd);
use Exporter qw(import);
use File::Basename qw(basename dirname);
use File::Path qw(make_path);
use POSIX qw(strftime);
use Time::HiRes ();

our @EXPORT_OK = qw(
  fail scan_args quote_command check_log_name kaldi_date report_failures run_cluster
  env_number nfs_sleep
);

# Print "<prog>: <msg>" to stderr and exit 1.  Kaldi mostly uses die(), whose
# exit status depends on the current errno (2, 255, ...); we always exit 1.
sub fail {
  my ($prog, $msg) = @_;
  print STDERR "$prog: $msg\n";
  exit 1;
}

sub env_number {
  my ($name, $default) = @_;
  my $v = $ENV{$name};
  return $default unless defined $v && $v =~ /^\s*(\d+(?:\.\d*)?|\.\d+)\s*$/;
  return $1 + 0;
}

# `date` in the C locale: "Mon Jan  1 00:00:00 UTC 2024".
sub kaldi_date {
  return strftime('%a %b %e %H:%M:%S %Z %Y', localtime(shift // time));
}

# Recognise a JOB=a:b or JOB=a argument.  Returns (name, start, end), () when
# the argument is not a job spec at all, and exits on a malformed spec.
sub _job_spec {
  my ($prog, $arg, $positive_note) = @_;
  my ($name, $start, $end);
  if ($arg =~ /^([A-Za-z_]\w*)=(\d+):(\d+)$/) {
    ($name, $start, $end) = ($1, $2 + 0, $3 + 0);
    fail($prog, "invalid job range $arg") if $start > $end;
    fail($prog, "invalid job range $arg, start must be strictly positive ($positive_note).")
      if $start <= 0;
    return ($name, $start, $end);
  }
  if ($arg =~ /^([A-Za-z_]\w*)=(\d+)$/) {
    return ($1, $2 + 0, $2 + 0);
  }
  # Kaldi only warns about e.g. "JOB=1-4" or "JOB=a:b" and then treats it as
  # the log file name, which leads to a confusing failure later.  Something
  # that plainly tries to be a range is an error here.
  if ($arg =~ /^[A-Za-z_]\w*=(?:[^\/]*:[^\/]*|[-\d]*)$/) {
    fail($prog, "invalid job range $arg (expected e.g. JOB=1:4 or JOB=3)");
  }
  return ();
}

# Kaldi's argument scanner, shared by the three scripts.  Leading arguments
# that start with '-' are switches: "-V" takes no value, "-pe" takes two
# (e.g. "-pe smp 4"), everything else takes exactly one.  A JOB=a:b spec may
# come before, between or after them.  Returns a hash:
#   switches => [[switch, values...], ...]  in command-line order
#   jobname, jobstart, jobend               (jobname undef: no JOB spec)
sub scan_args {
  my ($prog, $argv, $positive_note) = @_;
  my %r = (switches => [], jobstart => 1, jobend => 1);
  my $progress = 1;
  while ($progress) {
    $progress = 0;
    while (@$argv >= 2 && $argv->[0] =~ /^-/) {
      my $switch = shift @$argv;
      my @values;
      if ($switch ne '-V') {
        push @values, shift @$argv;
        push @values, shift @$argv if $switch eq '-pe' && @$argv;
        print STDERR "$prog: WARNING: suspicious argument '$values[0]' to $switch; starts with '-'\n"
          if $values[0] =~ /^--/;
      }
      push @{ $r{switches} }, [$switch, @values];
      $progress = 1;
    }
    if (@$argv && !defined $r{jobname}) {
      my @spec = _job_spec($prog, $argv->[0], $positive_note);
      if (@spec) {
        @r{qw(jobname jobstart jobend)} = @spec;
        shift @$argv;
        $progress = 1;
      }
    }
  }
  print STDERR "$prog: Warning: suspicious first argument to $prog: $argv->[0]\n"
    if !defined $r{jobname} && @$argv && $argv->[0] =~ /.+=.*:.*$/;
  return \%r;
}

# How the command's arguments become the bash text that the task runs (the
# same for run.pl, queue.pl and slurm.pl):
#
#  1. An argument that is exactly one shell operator is passed as shell
#     syntax (write it as its own argument: \| or '|', '&&', \> ...):
#       control:     |  |&  ||  &&  ;  &  (  )
#       redirection: <  >  >>  >|  <>  &>  &>>  and each of these with a file
#                    descriptor in front (2>  2>>  0<), and the duplications
#                    N>&M  >&M  N<&M  N>&-  (2>&1, >&2, ...)
#  2. An argument NAME=VALUE (NAME a shell variable name) standing first or
#     right after a control operator is an environment assignment for that
#     command: NAME= is passed as it is, VALUE is quoted (rule 3).
#  3. Every other argument is data: it reaches the program's argv verbatim.
#     It is passed as it is when made only of [A-Za-z0-9_./,:=+@%-] (so logs
#     stay readable), else in single quotes ('\'' for a quote in it), or as
#     $'...' with \xHH escapes when it holds a newline or another control
#     character (the command stays one line); the empty argument is ''.  So
#     ";", "$(...)", "`...`", "$VAR", "$[...]", globs, "~", "{a,b}", "\",
#     quotes, spaces and newlines inside an argument are never interpreted: a
#     data path such as "data/a;touch x" or "data/$HOME" is just that path.
# JOB is still replaced in the whole command text, quoted or not (as in Kaldi).
#
# Kaldi instead passed an argument without white space to bash as it is, and
# double-quoted one with white space (single-quoted when it held a double
# quote), so a path with ";", "$(...)" or "$VAR" ran or expanded in the job,
# and an argument with both kinds of quote gave broken shell.  Kaldi recipes
# that rely on that ("--srand=\$[JOB+1]", "2\>/dev/null" as one word, "a\;")
# must write operators as separate arguments, and ask for shell evaluation
# explicitly with one argument for bash -c:
#   run.pl JOB=1:4 log/x.JOB.log bash -c 'prog --srand=$((JOB + 10)) 2>/dev/null'
# Like Kaldi's, the result ends in a space.
my $OPERATOR_RE = qr/^(?:\|\|?|\|&|&&|;|&|\(|\)|[0-9]*(?:<|>|>>|>\||<>)|&>>?|[0-9]*[<>]&(?:[0-9]+|-))\z/;
my $CONTROL_RE = qr/^(?:\|\|?|\|&|&&|;|&|\()\z/;

sub quote_command {
  my $cmd = '';
  my $command_position = 1;
  foreach my $x (@_) {
    if ($x =~ $OPERATOR_RE) {
      $cmd .= "$x ";
      $command_position = 1 if $x =~ $CONTROL_RE;
      next;  # a redirection's target is data; the position stays what it was
    }
    if ($command_position && $x =~ /^([A-Za-z_][A-Za-z0-9_]*=)(.*)\z/s) {
      $cmd .= $1 . _shq($2) . ' ';
      next;
    }
    $cmd .= _shq($x) . ' ';
    $command_position = 0;
  }
  return $cmd;
}

# Quote one word for bash, always.
sub _shq {
  my ($s) = @_;
  return $s if $s =~ m{^[A-Za-z0-9_./,:=+\@%-]+\z};
  if ($s =~ /[\x00-\x1f\x7f]/) {
    # A newline or other control character: bash's $'...' with \xHH escapes,
    # so that the command stays on one line (the log's "# <command>" header).
    $s =~ s/([\\'])/\\$1/g;
    $s =~ s/([\x00-\x1f\x7f])/sprintf('\\x%02x', ord($1))/ge;
    return "\$'$s'";
  }
  $s =~ s/'/'\\''/g;
  return "'$s'";
}

sub check_log_name {
  my ($prog, $logfile, $j) = @_;
  if (defined $j->{jobname} && $j->{jobend} > $j->{jobstart}
      && index($logfile, $j->{jobname}) < 0) {
    fail($prog, "you are trying to run a parallel job but you are putting the output "
      . "into just one log file ($logfile)");
  }
}

sub subst_job {
  my ($text, $name, $id) = @_;
  return $text unless defined $name;
  $text =~ s/\Q$name\E/$id/g;
  return $text;
}

# The failure summary lines, worded as Kaldi's scripts word them.
#   $status: for queue/slurm the exit status reported in the single-job case.
sub report_failures {
  my ($prog, $logfile, $j, $numfail, $status) = @_;
  my $njobs = $j->{jobend} - $j->{jobstart} + 1;
  if ($njobs == 1) {
    my $l = subst_job($logfile, $j->{jobname}, $j->{jobstart});
    if (defined $status) {
      print STDERR "$prog: job failed with status $status, log is in $l\n";
    } else {
      print STDERR "$prog: job failed, log is in $l\n";
    }
    print STDERR "$prog: probably you forgot to put JOB=1:\$nj in your script.\n"
      if $l =~ /JOB/;
  } else {
    my $l = subst_job($logfile, $j->{jobname}, '*');
    print STDERR "$prog: $numfail / $njobs failed, log is in $l\n";
  }
}

###########################################################################
# Cluster back-ends (queue.pl, slurm.pl).
###########################################################################

sub _usage_cluster {
  my ($b) = @_;
  my $p = $b->{prog};
  print STDERR
    "Usage: $p [options] [JOB=1:n] log-file command-line arguments...\n"
    . "e.g.: $p foo.log echo baz\n"
    . " (which will echo \"baz\", with stdout and stderr directed to foo.log)\n"
    . "or: $p JOB=1:10 foo.JOB.log echo JOB\n"
    . " (runs an array job; any name matching [A-Za-z_]\\w* can stand for JOB)\n"
    . "or: $p foo.log echo bar \\| sed s/bar/baz/\n"
    . " (a pipe: each shell operator is an argument of its own; other arguments\n"
    . "  reach the program verbatim, see the top of $p)\n"
    . "Options:\n"
    . "  --config <config-file> (default: $b->{config})\n"
    . "  --mem <mem-requirement> (e.g. --mem 2G, --mem 500M)\n"
    . "  --num-threads <num-threads> (default: 1)\n"
    . "  --max-jobs-run <num-jobs>\n"
    . "  --gpu <0|1> (default: 0)\n"
    . "  --time <time-limit> (if the config file maps it)\n"
    . "Other options are passed to the scheduler as they are (e.g. -q all.q, -V).\n";
  exit 1;
}

# Read a Kaldi queue/slurm config and map the --name value options to
# scheduler options.  Returns (submit_command, options_string, $config_name).
#
# Syntax (Kaldi's):
#   command <submit command...>
#   option NAME=* ...$0...     NAME given: emit this with $0 -> the value
#   option NAME=VALUE [...]    NAME given with exactly VALUE: emit the rest
#   default NAME=VALUE         NAME not given: behave as if --NAME VALUE
# '#' starts a comment.  Unlike Kaldi (which walks a hash, in random order) the
# options are emitted in a fixed order: command-line order, then defaults in
# config-file order.
sub _map_options {
  my ($b, $cli, $cli_order, $array_job) = @_;
  my $prog = $b->{prog};
  my $config = exists $cli->{config} ? $cli->{config} : $b->{config};
  my ($text, $config_name);
  if (open(my $fh, '<', $config)) {
    local $/;
    $text = <$fh>;
    close $fh;
    $config_name = $config;
  } elsif (exists $cli->{config}) {
    print STDERR "Could not open config file $config\n";
    exit 1;
  } else {
    $text = $b->{default_config};
    $config_name = 'default config file';
  }

  my ($command, %exact, %star, @order);
  my %value = %$cli;
  @order = @$cli_order;
  foreach my $line (split /\n/, $text) {
    (my $l = $line) =~ s/\s*#.*//;
    $l =~ s/^\s+//;
    next if $l eq '';
    if ($l =~ /^command\s+(.+)$/) {
      $command = $1;
    } elsif ($l =~ /^option\s+([^=\s]+)=\*\s+(.+)$/) {
      my ($opt, $arg) = ($1, $2);
      if ($arg !~ /\$0/) {
        fail($prog, "Unable to parse line '$line' in config file ($config_name)")
          if $b->{strict_star};
        print STDERR "$prog: Warning: the line '$line' in config file ($config_name) "
          . "does not contain the substitution variable \$0\n";
      }
      $star{$opt} = $arg;
    } elsif ($l =~ /^option\s+([^=\s]+)=(\S+)\s*(.*)$/) {
      $exact{"$1\0$2"} = $3;
    } elsif ($l =~ /^default\s+([^=\s]+)=(\S+)/) {
      if (!exists $value{$1}) {
        $value{$1} = $2;
        push @order, $1;
      }
    } else {
      fail($prog, "unable to parse line '$line' in config file ($config_name)");
    }
  }
  fail($prog, "config file ($config_name) does not contain the line \"command .*\"")
    unless defined $command;

  my @opts;
  foreach my $opt (@order) {
    next if $opt eq 'config';
    my $v = $value{$opt};
    if ($opt eq 'max_jobs_run') {
      next unless $array_job;  # meaningless for a single job, as in Kaldi
      next if $b->{max_jobs_in_array_opt};  # slurm: becomes --array a-b%N
    }
    if (exists $exact{"$opt\0$v"}) {
      push @opts, $exact{"$opt\0$v"};
    } elsif (exists $star{$opt}) {
      (my $a = $star{$opt}) =~ s/\$0/$v/g;
      push @opts, $a;
    } elsif (exists $exact{"$opt\0*"}) {  # "option gpu=* -p gpu" without $0
      push @opts, $exact{"$opt\0*"};
    } else {
      fail($prog, "Command line option $opt not described in $config_name "
        . "(or value '$v' not allowed)");
    }
  }
  return ($command, join(' ', grep { length } @opts));
}

sub nfs_sleep {
  my ($seconds) = @_;
  my $t = $seconds * env_number('SPEECHSENT_NFS_WAIT_SCALE', 1);
  Time::HiRes::sleep($t) if $t > 0;
}

# Write the task script that the scheduler runs (once per array task).
sub _write_task_script {
  my (%a) = @_;
  my $b = $a{backend};
  my $tv = $b->{task_var};
  my $log_word = defined $a{jobname}
    ? join("\"\${$tv}\"", map { _shq($_) } split(/\Q$a{jobname}\E/, $a{logfile}, -1))
    : _shq($a{logfile});
  (my $cmd_lit = $a{cmd}) =~ s/'/'\\''/g;
  my $sync_word = _shq($a{syncfile}) . (defined $a{jobname} ? ".\"\${$tv}\"" : '');

  my $s = "#!/bin/bash\n";
  $s .= "cd " . _shq($a{cwd}) . " || exit 1\n";
  # Kaldi sources ./path.sh unconditionally (an error when it is missing).
  $s .= "[ -f ./path.sh ] && . ./path.sh\n";
  $s .= "log=$log_word\n";
  # JOB may stand in a directory name too (log/JOB/x.log).
  $s .= "mkdir -p \"\$(dirname \"\$log\")\"\n" if defined $a{jobname};
  # The command is kept as a literal and JOB is replaced at run time, then
  # the text is evaluated by bash -- exactly what run.pl does.  Kaldi instead
  # pastes \${SGE_TASK_ID} into the command, which is not expanded where the
  # command single-quotes it, and echoes the command through an unquoted
  # here-document, which runs any \$(...) in it a second time.
  $s .= "cmd='$cmd_lit'\n";
  $s .= defined $a{jobname} ? "cmd=\${cmd//$a{jobname}/\"\${$tv}\"}\n" : '';
  $s .= "( echo '#' Running on \$(hostname)\n";
  $s .= "  echo '#' Started at \$(date)\n";
  $s .= $b->{script_header} // '';
  $s .= "  printf '# %s\\n' \"\$cmd\"\n";
  $s .= ") >\"\$log\"\n";
  $s .= $b->{script_pre_run} // '';
  $s .= "time1=\$(date +%s)\n";
  $s .= "( eval \"\$cmd\" ) </dev/null >>\"\$log\" 2>&1\n";
  $s .= "ret=\$?\n";
  $s .= $b->{script_post_run} // '';
  $s .= "time2=\$(date +%s)\n";
  $s .= $b->{script_accounting} // '';
  $s .= "echo '#' Accounting: time=\$((time2-time1)) threads=$a{num_threads} >>\"\$log\"\n";
  $s .= "echo '#' Finished at \$(date) with status \$ret >>\"\$log\"\n";
  # Killed (e.g. out of memory): exit 100, which GridEngine treats as an
  # error state, so the job stays visible and can be rerun.  (Kaldi.)
  $s .= "[ \$ret -eq 137 ] && exit 100\n";
  $s .= "touch $sync_word\n";
  $s .= "exit \$((ret ? 1 : 0))\n";
  $s .= "## submitted with:\n# $a{submit}\n";

  open(my $q, '>', $a{script}) || fail($b->{prog}, "Failed to write to $a{script}: $!");
  print $q $s;
  close($q) || fail($b->{prog}, "Failed to close the script file $a{script} (full disk?)");
  chmod 0755, $a{script};
}

sub _read_file {
  my ($f) = @_;
  open(my $fh, '<', $f) || return undef;
  local $/;
  my $t = <$fh>;
  close $fh;
  return $t;
}

sub _last_lines {
  my ($f, $n) = @_;
  my $t = _read_file($f);
  return undef unless defined $t;
  my @l = split /\n/, $t;
  splice(@l, 0, @l - $n) if @l > $n;
  return join("\n", @l);
}

# Wait for every done-file to appear, checking now and then that the job is
# still known to the scheduler.
sub _wait_for_sync_files {
  my (%a) = @_;
  my $b = $a{backend};
  my $prog = $b->{prog};
  my $wait = env_number('SPEECHSENT_POLL_INTERVAL', 0.1);
  my $max_wait = env_number('SPEECHSENT_POLL_MAX', 3.0);
  $wait = 0.001 if $wait <= 0;
  my $ctr = 1;
  my $kick = "$a{syncdir}/.kick";
  foreach my $f (@{ $a{syncfiles} }) {
    while (!-f $f) {
      Time::HiRes::sleep($wait);
      $wait *= 1.2;
      if ($wait >= $max_wait) {
        $wait = $max_wait;
        # Listing the directory makes some NFS clients refresh it.  (Kaldi.)
        if (opendir(my $dh, $a{syncdir})) { my @x = readdir($dh); closedir $dh; }
      }
      # Query the scheduler every 10 polls at first, every 50 later on.
      my $c = $ctr++;
      next unless ($c < 100 && $c % 10 == 0) || ($c >= 100 && $c % 50 == 0);
      next if -f $f;
      my ($gone, $output, $ret) = $b->{job_gone}->($a{job_id});
      if (!$gone) {
        if ($ret != 0) {
          print STDERR "$prog: Warning: $b->{status_cmd} $a{job_id} returned status $ret\n";
          print STDERR "$prog: output was: $output";
        }
        next;
      }
      # Not in the queue any more.  Give a slow file system time to show
      # the done-file before declaring the job dead.
      my $appeared = 0;
      foreach my $g (3, 7, 60) {
        nfs_sleep($g);
        if (open(my $k, '>', $kick)) { close $k; unlink $kick; }
        if (-f $f) { $appeared = 1; last; }
      }
      next if $appeared;
      $f =~ /\.(\d+)$/;
      my $task = defined $a{jobname} ? $1 : undef;
      my $log = subst_job($a{logfile}, $a{jobname}, $task);
      my $last = _last_lines($log, 1) // '';
      if ($last =~ /status 0$/ && (-M $log) < 0) {
        print STDERR "**$prog: syncfile $f was not created but job seems\n"
          . "**to have finished OK.  Probably your file-system has problems.\n"
          . "**This is just a warning.\n";
        last;
      }
      print STDERR "$prog: Error, unfinished job no longer exists, log is in $log, "
        . "last line is '$last', syncfile is $f, return status of "
        . "'$b->{status_cmd} $a{job_id}' was $ret\n"
        . "Possible reasons: a) Exceeded time limit? -> Use more jobs! "
        . "b) Shutdown/Frozen machine? -> Run again!  Scheduler output was: $output\n";
      # A task that died before writing its log (e.g. its ./path.sh failed on the node): what it printed
      # went to the scheduler's output file.  (Not in Kaldi, which leaves one to find that file.)
      if (!-e $log && defined $a{queue_logfile}) {
        my $tail = _last_lines($a{queue_logfile}, 5) // '';
        print STDERR "$prog: the task wrote no log; the end of the scheduler's output "
          . "$a{queue_logfile}:\n$tail\n" if $tail ne '';
      }
      exit 1;
    }
  }
  unlink @{ $a{syncfiles} };
}

# Read the "... with status N" footer of each task log; returns (num_failed,
# last failing status).
sub _collect_statuses {
  my ($b, $logfile, $j) = @_;
  my @waits = (0.1, 0.2, 0.2, 0.3, 0.5, 0.5, 1.0, 2.0, 5.0, 5.0, 5.0, 10.0, 25.0);
  my ($num_failed, $status) = (0, 1);
  my @ids = defined $j->{jobname} ? ($j->{jobstart} .. $j->{jobend}) : (undef);
  foreach my $id (@ids) {
    my $l = subst_job($logfile, $j->{jobname}, $id);
    my $iter = 0;
    while (1) {
      my $tail = _last_lines($l, 10);
      # Like Kaldi, look at the last lines only: a job may have printed more
      # after the footer (delayed output of a background process).
      if (defined $tail && $tail =~ /.*with status (\d+)/s) {
        my $st = $1;
        if ($st != 0) { $num_failed++; $status = $st; }
        last;
      }
      if ($iter < @waits) {
        nfs_sleep($waits[$iter++]);
        next;
      }
      if (!-f $l) {
        print STDERR "Log-file $l does not exist.\n";
      } else {
        print STDERR "The last line of log-file $l does not seem to indicate the "
          . "return status as expected\n";
      }
      exit 1;
    }
  }
  return ($num_failed, $status);
}

# The whole of queue.pl / slurm.pl.  $b describes the back-end:
#   prog                 name used in messages
#   config, default_config   default config path; built-in config text
#   strict_star          "option x=* ..." without $0 is an error (else a warning)
#   max_jobs_in_array_opt    --max-jobs-run goes to array_opt, not the config
#   task_var             the scheduler's array-task environment variable
#   sync_subdir          done-files go to q/<sync_subdir> (q/ when empty)
#   array_opt(start, end, max)       the array option, e.g. "-t 1:4"
#   submit_line(%parts)  the submission command's words (command, opts, qlog,
#                        array, script), in order
#   switch_hook([switch, values], \%state)   handles a switch itself when it
#                        returns true (state: cli, cli_order, sched_opts, sync)
#   job_id_regex         captures the job id from the submission output
#   retry_regex          submission output that is worth retrying after 20 s
#   job_gone(id) -> (gone, output, status);  status_cmd, cancel_cmd
#   script_header, script_pre_run, script_post_run, script_accounting: extra
#                        bash lines for the task script
sub run_cluster {
  my ($b, @argv) = @_;
  my $prog = $b->{prog};
  _usage_cluster($b) if @argv < 2;

  my $j = scan_args($prog, \@argv, 'this is a GridEngine limitation');
  my (%cli, @cli_order, @sched_opts);
  my ($num_threads) = (1);
  my %st = (cli => \%cli, cli_order => \@cli_order, sched_opts => \@sched_opts, sync => 0);
  foreach my $sw (@{ $j->{switches} }) {
    my ($switch, @v) = @$sw;
    next if $b->{switch_hook} && $b->{switch_hook}->($sw, \%st);
    if ($switch eq '-sync' && $v[0] =~ /^[yY]/) {
      $st{sync} = 1;
      push @sched_opts, "$switch $v[0]";
    } elsif ($switch eq '-pe') {
      push @sched_opts, join(' ', $switch, @v);
      $num_threads = $v[1] if defined $v[1];
    } elsif ($switch =~ /^--(.+)$/) {
      (my $name = $1) =~ s/-/_/g;
      push @cli_order, $name unless exists $cli{$name};
      $cli{$name} = $v[0];
    } else {
      push @sched_opts, join(' ', $switch, @v);
    }
  }
  my $sync = $st{sync};
  _usage_cluster($b) if @argv < 2;
  if (defined $j->{jobname} && $j->{jobstart} <= 0) {
    fail($prog, "invalid job range $j->{jobname}=$j->{jobstart}, "
      . "start must be strictly positive (this is a GridEngine limitation).");
  }
  $num_threads = $cli{num_threads}
    if defined $cli{num_threads} && $cli{num_threads} =~ /^\d+$/;
  my $array_job = defined $j->{jobname};
  my ($submit_cmd, $config_opts) = _map_options($b, \%cli, \@cli_order, $array_job);
  my $max_jobs;
  if ($b->{max_jobs_in_array_opt} && defined $cli{max_jobs_run}) {
    if ($array_job) {
      $max_jobs = $cli{max_jobs_run};
      fail($prog, "invalid option --max-jobs-run $max_jobs") unless $max_jobs =~ /^[1-9]\d*$/;
    } else {
      print STDERR "$prog: Ignoring max_jobs_run since this is not an array task.\n";
    }
  }

  my $cwd = getcwd();
  my $logfile = shift @argv;
  check_log_name($prog, $logfile, $j);
  my $cmd = quote_command(@argv);

  my $dir = dirname($logfile);
  if ($array_job && index($dir, $j->{jobname}) >= 0) {
    # JOB in a directory name (log/JOB/x.log): q/ goes above the per-task
    # directories, which the tasks create.  (Kaldi made log/JOB/q/ and then
    # tried to write log//q/x.sh.)
    my @keep;
    foreach my $part (split m{/}, $dir) {
      last if index($part, $j->{jobname}) >= 0;
      push @keep, $part;
    }
    $dir = @keep ? join('/', @keep) : '.';
    $dir = '/' if $dir eq '';
  }
  my $qdir = "$dir/q";
  $qdir =~ s{/(log|LOG)/*q$}{/q};  # .../log/q becomes .../q, as in Kaldi
  my $queue_logfile = "$qdir/" . basename($logfile);
  $queue_logfile =~ s/\.?\Q$j->{jobname}\E([^\/]*)$/$1/ if $array_job;
  my $syncdir = $b->{sync_subdir} ? "$qdir/$b->{sync_subdir}" : $qdir;
  make_path($dir) unless -d $dir;
  fail($prog, "Cannot make the directory $dir") unless -d $dir;
  if (!-d $syncdir) {
    make_path($syncdir);
    # Give NFS a moment so that a task starting at once sees the new
    # directory (Kaldi sleeps 5 s here).
    nfs_sleep(5);
  }
  fail($prog, "Cannot make the directory $syncdir") unless -d $syncdir;

  my $script = $queue_logfile;
  ($script =~ s/\.[a-zA-Z]{1,5}$/.sh/) || ($script .= '.sh');
  $script = "$cwd/$script" unless $script =~ m{^/};
  my $syncfile = "$syncdir/done.$$";
  my @syncfiles = $array_job ? map { "$syncfile.$_" } ($j->{jobstart} .. $j->{jobend}) : ($syncfile);
  unlink($queue_logfile, @syncfiles);

  my $array_opt = $array_job ? $b->{array_opt}->($j->{jobstart}, $j->{jobend}, $max_jobs) : '';
  $submit_cmd =~ s/^\s+|\s+$//g;
  my $submit = join(' ', grep { length } $b->{submit_line}->(
    command => $submit_cmd,
    opts => join(' ', grep { length } ($config_opts, @sched_opts)),
    qlog => _shq($queue_logfile),
    array => $array_opt,
    script => _shq($script),
  ));
  _write_task_script(
    backend => $b, cwd => $cwd, logfile => $logfile, jobname => $j->{jobname},
    cmd => $cmd, syncfile => $syncfile, num_threads => $num_threads,
    script => $script, submit => $submit,
  );

  # Globbing is switched off: config lines such as "-l arch=*64*" must reach
  # the scheduler as they are, whatever files lie in the current directory.
  my $full = "set -f; $submit >>" . _shq($queue_logfile) . " 2>&1";
  my $job_id;
  my $on_signal = sub {
    if (defined $job_id) {
      system("$b->{cancel_cmd} $job_id >/dev/null 2>&1");
      print STDERR "$prog: Caught a signal, deleted job $job_id; exiting\n";
    }
    exit 1;
  };
  local $SIG{INT} = $on_signal;
  local $SIG{TERM} = $on_signal;
  for (my $try = 1; ; $try++) {
    my $ret = system('bash', '-c', $full);
    last if $ret == 0;
    # With -sync y (sbatch --wait) status 1 means that a task failed; the
    # logs say which, so fall through and report them.
    last if $sync && $ret == 256;
    my $err = _last_lines($queue_logfile, 10) // '';
    print STDERR "$prog: Error submitting jobs to queue (return status was $ret)\n"
      . "queue log file is $queue_logfile, command was $submit\n"
      . "Output of submission command was: $err\n";
    if ($try < 4 && $b->{retry_regex} && $err =~ $b->{retry_regex}) {
      print STDERR "$prog: It looks like the queue master may be inaccessible. "
        . "Trying again after 20 seconds\n";
      sleep(20);
      next;
    }
    exit 1;
  }

  if (!$sync) {
    my $qlog_text = _read_file($queue_logfile) // '';
    my @ids = ($qlog_text =~ /$b->{job_id_regex}/g);
    fail($prog, "Error: your job was submitted more than once (see $queue_logfile)") if @ids > 1;
    fail($prog, "Error: log file $queue_logfile does not specify the job-id.") unless @ids;
    $job_id = $ids[0];
    _wait_for_sync_files(
      backend => $b, job_id => $job_id, syncfiles => \@syncfiles, syncdir => $syncdir,
      logfile => $logfile, jobname => $j->{jobname}, queue_logfile => $queue_logfile,
    );
  }

  my ($num_failed, $status) = _collect_statuses($b, $logfile, $j);
  unlink @syncfiles;  # with -sync y nobody waited for them
  exit 0 if $num_failed == 0;
  report_failures($prog, $logfile, $j, $num_failed, $status);
  exit 1;
}

1;
