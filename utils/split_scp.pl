#!/usr/bin/env perl
# Split an scp file (or any text file) into pieces; Kaldi's utils/split_scp.pl.
#
#   split_scp.pl [--utt2spk=<utt2spk>] [--utt2dur=<utt2dur>] in.scp out1.scp out2.scp ...
#   split_scp.pl -j <num-jobs> <job-id> [--one-based] [--utt2spk=...] in.scp [out.scp]
#
# Without --utt2spk the lines are split into pieces of equal size (the first
# pieces get one line more when it does not divide evenly), keeping their order.
# With --utt2spk (the first field of every line is an utterance id) all lines
# of a speaker go into the same piece; speakers are dealt out in order of first
# appearance and the boundaries between pieces are then moved while that makes
# neighbouring pieces more equal in number of lines, as Kaldi does.  It fails
# when there are fewer speakers than pieces.
# With -j, only piece <job-id> is written (to out.scp, or stdout), counting from
# 0 (from 1 with --one-based).  "--utt2spk FILE" is accepted as well as
# "--utt2spk=FILE"; "-" for in.scp means stdin.
#
# --utt2dur=<utt2dur> balances the pieces by duration instead of by number of
# lines, with the same boundary-moving method (Kaldi has its own, differently
# balanced heuristic for this).  With --utt2dur alone each utterance is a group
# of its own; the pieces still hold consecutive lines.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use ScpIO qw(open_in open_out);

my ($num_jobs, $job_id, $one_based) = (0, 0, 0);
my ($utt2spk_file, $utt2dur_file) = ('', '');

sub usage {
  die "Usage: split_scp.pl [--utt2spk=<utt2spk_file>] [--utt2dur=<utt2dur_file>] in.scp out1.scp out2.scp ...\n"
    . "   or: split_scp.pl -j num-jobs job-id [--one-based] [--utt2spk=<utt2spk_file>] "
    . "[--utt2dur=<utt2dur_file>] in.scp [out.scp]\n"
    . " ... where 0 <= job-id < num-jobs, or 1 <= job-id <= num-jobs if --one-based.\n";
}

while (@ARGV) {
  my $a = $ARGV[0];
  if ($a eq '-j') {
    usage() if @ARGV < 3;
    (undef, $num_jobs, $job_id) = splice(@ARGV, 0, 3);
  } elsif ($a =~ /^--(utt2spk|utt2dur)(?:=(.+))?$/) {
    my ($which, $file) = ($1, $2);
    shift @ARGV;
    if (!defined $file) {
      usage() unless @ARGV;
      $file = shift @ARGV;
    }
    if ($which eq 'utt2spk') { $utt2spk_file = $file } else { $utt2dur_file = $file }
  } elsif ($a eq '--one-based') {
    $one_based = 1;
    shift @ARGV;
  } else {
    last;
  }
}

if ($num_jobs ne '0') {
  if ($num_jobs !~ /^\d+$/ || $job_id !~ /^-?\d+$/ || $num_jobs <= 0
      || $job_id - $one_based < 0 || $job_id - $one_based >= $num_jobs) {
    die "$0: Invalid job number/index values for '-j $num_jobs $job_id"
      . ($one_based ? " --one-based" : "") . "'\n";
  }
  $job_id -= $one_based;
}
usage() if ($num_jobs == 0 && @ARGV < 2) || ($num_jobs > 0 && (@ARGV < 1 || @ARGV > 2));

my $inscp = shift @ARGV;
my @outputs;
if ($num_jobs == 0) {
  @outputs = @ARGV;
} else {
  @outputs = (undef) x $num_jobs;  # only the chosen piece is written
  $outputs[$job_id] = @ARGV ? $ARGV[0] : '-';
}
my $numscps = @outputs;

sub read_two_column {
  my ($file, $what) = @_;
  my $fh = open_in($file) || die "$0: Error opening $what file $file: $!\n";
  my %map;
  while (<$fh>) {
    my @A = split;
    @A == 2 || die "$0: Bad line $_ in $what file $file\n";
    $map{ $A[0] } = $A[1];
  }
  close $fh;
  return \%map;
}

my $in = open_in($inscp) || die "$0: Error opening input scp file $inscp: $!\n";
my @lines = <$in>;
close $in;

# Group the lines: by speaker with --utt2spk, else one group per line.
my (@groups, @weights);
if ($utt2spk_file ne '' || $utt2dur_file ne '') {
  my $utt2spk = $utt2spk_file ne '' ? read_two_column($utt2spk_file, 'utt2spk') : undef;
  my $utt2dur = $utt2dur_file ne '' ? read_two_column($utt2dur_file, 'utt2dur') : undef;
  my %index;
  foreach my $line (@lines) {
    my @A = split ' ', $line;
    @A || die "$0: Empty or space-only line in scp file $inscp\n";
    my $u = $A[0];
    my $key = scalar @groups;  # without utt2spk: a group per line
    if ($utt2spk) {
      my $s = $utt2spk->{$u};
      defined $s || die "$0: No utterance $u in utt2spk file $utt2spk_file\n";
      $key = $s;
    }
    my $w = 1;
    if ($utt2dur) {
      $w = $utt2dur->{$u};
      defined $w || die "$0: No utterance $u in utt2dur file $utt2dur_file\n";
      $w =~ /^(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/ || die "$0: Bad duration $w for $u in $utt2dur_file\n";
    }
    if (!exists $index{$key}) {
      $index{$key} = @groups;
      push @groups, [];
      push @weights, 0;
    }
    push @{ $groups[ $index{$key} ] }, $line;
    $weights[ $index{$key} ] += $w;
  }
  if ($utt2spk && @groups < $numscps) {
    die "$0: Refusing to split data because number of speakers " . scalar(@groups)
      . " is less than the number of output .scp files $numscps\n";
  }
} else {
  if (!@lines) {
    print STDERR "$0: error: empty input scp file $inscp\n";
    exit 1;
  }
  @groups = map { [$_] } @lines;
  @weights = (1) x @lines;
}

my @pieces;  # $pieces[$i]: list of group indices
if (!$utt2spk_file && !$utt2dur_file) {
  my $per = int(@lines / $numscps);
  $per >= 1 || die "$0: You are splitting into too many pieces! [reduce \$nj]\n";
  my $rem = @lines - $per * $numscps;
  my $n = 0;
  for my $i (0 .. $numscps - 1) {
    my $size = $per + ($i < $rem ? 1 : 0);
    $pieces[$i] = [$n .. $n + $size - 1];
    $n += $size;
  }
} else {
  @groups >= $numscps || die "$0: You are splitting into too many pieces! [reduce \$nj]\n";
  @pieces = balance(\@weights, $numscps);
}

# Deal the groups out in order, then move boundary groups between neighbours
# while that makes their totals closer.  Each move lowers the sum of squared
# piece sizes, so this ends; with positive weights no piece becomes empty.
sub balance {
  my ($w, $n) = @_;
  my $g = @$w;
  my (@p, @tot);
  for my $i (0 .. $n - 1) { $p[$i] = []; $tot[$i] = 0; }
  for my $k (0 .. $g - 1) {
    my $i = int(($k * $n) / $g);
    push @{ $p[$i] }, $k;
    $tot[$i] += $w->[$k];
  }
  my $changed = 1;
  while ($changed) {
    $changed = 0;
    for my $i (0 .. $n - 1) {
      if ($i < $n - 1 && @{ $p[$i] }) {  # last group of piece i -> piece i+1
        my $c = $w->[ $p[$i][-1] ];
        if (abs(($tot[$i + 1] + $c) - ($tot[$i] - $c)) < abs($tot[$i + 1] - $tot[$i])) {
          unshift @{ $p[$i + 1] }, pop @{ $p[$i] };
          $tot[$i + 1] += $c;
          $tot[$i] -= $c;
          $changed = 1;
        }
      }
      if ($i > 0 && @{ $p[$i] }) {  # first group of piece i -> piece i-1
        my $c = $w->[ $p[$i][0] ];
        if (abs(($tot[$i] - $c) - ($tot[$i - 1] + $c)) < abs($tot[$i] - $tot[$i - 1])) {
          push @{ $p[$i - 1] }, shift @{ $p[$i] };
          $tot[$i - 1] += $c;
          $tot[$i] -= $c;
          $changed = 1;
        }
      }
    }
  }
  return @p;
}

my $error = 0;
for my $i (0 .. $numscps - 1) {
  my $file = $outputs[$i];
  next unless defined $file;
  my $out = open_out($file) || die "$0: Could not open scp file $file for writing: $!\n";
  if (!@{ $pieces[$i] }) {
    print STDERR "$0: Error: split_scp.pl producing empty .scp file $file "
      . "(too many splits and too few speakers?)\n";
    $error = 1;
  }
  print $out @{ $groups[$_] } foreach @{ $pieces[$i] };
  close($out) || die "$0: Error closing scp file $file: $!\n";
}
exit $error;
