#!/usr/bin/env perl
# Convert a spk2utt file ("spk utt1 utt2 ..." lines) to an utt2spk file
# ("utt spk" lines); Kaldi's utils/spk2utt_to_utt2spk.pl.
#
#   spk2utt_to_utt2spk.pl [spk2utt ...] > utt2spk
#
# Reads the files named, in turn, or stdin.  A line with a speaker but no
# utterance is an error.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use ScpIO qw(open_in);

foreach my $name (@ARGV ? @ARGV : ('-')) {
  my $in = open_in($name) || die "$0: cannot open $name: $!\n";
  while (my $line = <$in>) {
    my @A = split ' ', $line;
    @A > 1 || die "Invalid line in spk2utt file: $line";
    my $s = shift @A;
    print "$_ $s\n" foreach @A;
  }
  close $in;
}
