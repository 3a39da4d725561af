package ScpIO;

# Opening input and output files the way Kaldi's scp tools do, but without
# Perl's two-argument open() magic: "-" is stdin/stdout, a name ending in "|"
# is a command whose output is read (as Kaldi's <> allowed, e.g.
# "gunzip -c utt2spk.gz|"), and anything else is a plain file name, even if it
# starts with "<" or ">" or has spaces around it.

use strict;
use warnings;
use Exporter qw(import);

our @EXPORT_OK = qw(open_in open_out);

sub open_in {
  my ($name) = @_;
  my $fh;
  if ($name eq '-') {
    open($fh, '<&', \*STDIN) || return;
  } elsif ($name =~ /^(.*)\|\s*$/s) {
    open($fh, '-|', $1) || return;
  } else {
    open($fh, '<', $name) || return;
  }
  return $fh;
}

sub open_out {
  my ($name) = @_;
  my $fh;
  if ($name eq '-') {
    open($fh, '>&', \*STDOUT) || return;
  } else {
    open($fh, '>', $name) || return;
  }
  return $fh;
}

1;
