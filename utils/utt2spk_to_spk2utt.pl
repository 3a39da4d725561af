#!/usr/bin/env perl
# Convert an utt2spk file ("utt spk" lines) to a spk2utt file ("spk utt1 utt2 ..."
# lines); Kaldi's utils/utt2spk_to_spk2utt.pl.
#
#   utt2spk_to_spk2utt.pl [utt2spk] > spk2utt
#
# Reads the file named, or stdin.  Speakers come out in order of first
# appearance, each with its utterances in input order.  A line without
# exactly two fields is an error.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use ScpIO qw(open_in);

die "Usage: utt2spk_to_spk2utt.pl [ utt2spk ] > spk2utt\n" if @ARGV > 1;
my $name = @ARGV ? $ARGV[0] : '-';
my $in = open_in($name) || die "$0: cannot open $name: $!\n";

my (@speakers, %utts);
while (my $line = <$in>) {
  my @A = split ' ', $line;
  @A == 2 || die "Invalid line in utt2spk file: $line";
  my ($u, $s) = @A;
  push @speakers, $s unless exists $utts{$s};
  push @{ $utts{$s} }, $u;
}
close $in;
print join(' ', $_, @{ $utts{$_} }), "\n" foreach @speakers;
