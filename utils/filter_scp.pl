#!/usr/bin/env perl
# Keep the lines of an scp file (or any file) whose key is listed in id_list;
# Kaldi's utils/filter_scp.pl.
#
#   filter_scp.pl [--exclude] [-f <field>] id_list [in.scp] > out.scp
#
# Only the first field of each id_list line matters.  The key of an input line
# is its first field, or its <field>-th with -f (counting from 1).  With
# --exclude, the lines whose key is *not* in id_list are kept instead.  Input
# is in.scp or stdin; "-" means stdin, and a name ending in "|" is a command
# whose output is read, as with Kaldi's.  The order of the input is kept.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use ScpIO qw(open_in);

my ($exclude, $field) = (0, 1);
while (@ARGV) {
  if ($ARGV[0] eq '--exclude') {
    $exclude = 1;
    shift @ARGV;
  } elsif ($ARGV[0] eq '-f' && @ARGV >= 2) {
    (undef, $field) = splice(@ARGV, 0, 2);
    $field =~ /^[1-9]\d*$/ || die "$0: invalid field index '$field' to -f (it counts from 1)\n";
  } else {
    last;
  }
}

if (@ARGV < 1 || @ARGV > 2) {
  die "Usage: filter_scp.pl [--exclude] [-f <field-to-filter-on>] id_list [in.scp] > out.scp \n"
    . "Prints only the input lines whose f'th field (default: first) is in 'id_list'.\n"
    . "Note: only the first field of each line in id_list matters.  With --exclude, prints\n"
    . "only the lines that were *not* in id_list.\n"
    . "Caution: previously, the -f option was interpreted as a zero-based field index.\n"
    . "If your older scripts (written before Oct 2014) stopped working and you used the\n"
    . "-f option, add 1 to the argument.\n"
    . "See also: utils/filter_scp.pl .\n";
}

my $idlist = shift @ARGV;
my $ids = open_in($idlist) || die "Could not open id-list file $idlist: $!\n";
my %seen;
while (my $line = <$ids>) {
  my @A = split ' ', $line;
  @A >= 1 || die "Invalid id-list file line $line";
  $seen{ $A[0] } = 1;
}
close $ids;

my $name = @ARGV ? $ARGV[0] : '-';
my $in = open_in($name) || die "$0: Could not open input file $name: $!\n";
while (my $line = <$in>) {
  my $key;
  if ($field == 1) {
    ($key) = $line =~ /^\s*(\S+)/;
    defined $key || die "Bad line $line, could not get first field.";
  } else {
    my @A = split ' ', $line;
    @A >= $field || die "Invalid scp file line $line";
    $key = $A[ $field - 1 ];
  }
  print $line if $exclude ? !$seen{$key} : $seen{$key};
}
close $in;
