#!/usr/bin/env bash
# Check a Kaldi data directory: Kaldi's validate_data_dir.sh checks, plus utt2sentiment, utt2pseudo and
# utt2pseudo_prob.  Unlike Kaldi's script, every failed check gives a non-zero exit status, and all
# problems are reported, not only the first.  Implemented in speechsent/kaldi/validate.py.
#
# Beyond Kaldi's checks (files written by other tools):
# - a UTF-8 byte-order mark at the start of a file, a UTF-16 file and carriage returns (CRLF line ends) are
#   errors named as such, with file:line and a one-line fix (Kaldi's tools read them as part of the first key / the last
#   field, which gives confusing mismatches or a wav.scp path that names no file);
# - text that is not UTF-8 is an error (Kaldi's validate_text.pl accepts it as a one-byte encoding);
# - segments: one that starts at or after its recording's end, or ends 0.5 s or more after it, is an error:
#   what Kaldi's extract-segments skips (it truncates shorter overshoots; its --max-overshoot 0.5).  The
#   recording's length is taken from reco2dur when it lists the recording; else from the audio header of a
#   wav.scp entry that names a file without running anything: a plain path (WAV, FLAC, SPHERE ...) or the
#   input file of a "sph2pipe [-f wav] [-p] [-c N] FILE |" pipe.  Other pipes are never run and ark:offset
#   entries never read: their segments are not checked.  Reading headers needs numpy or soundfile (the
#   environment of tools/setup.sh): in a bare python3 a WARNING says they were not read, and the exit status
#   is not affected; a header that cannot be read (missing file ...) is a WARNING too.  Without a segments
#   file there is nothing to check against the audio.  --no-audio-headers reads none (reco2dur only).  Cost,
#   measured on the 2-core machine with a warm cache: ~0.1-0.25 ms per audio file (3.9 s instead of 1.0 s
#   for 12,000 two-channel SPHERE files, 120,000 segments); a file shared by two sides is read once.

usage() {
  cat <<USAGE
Usage: $0 [--no-feats] [--no-text] [--non-print] [--no-wav] [--no-spk-sort] [--no-audio-headers] <data-dir>
The --no-xxx options mean that the script does not require xxx.scp (or text)
to be present, but it will check it if it is present.
--no-spk-sort means that the script does not require the utt2spk to be sorted
by the speaker-id in addition to being sorted by utterance-id.
--non-print: ignore the presence of non-printable characters in text.
--no-audio-headers: do not read audio headers to check segments against the
recordings' lengths (reco2dur is still used).
By default, utt2spk is expected to be sorted by both, which can be achieved by
making the speaker-ids prefixes of the utterance-ids.
e.g.: $0 data/train
USAGE
}

# The Python side (run_data_dir_py) and utils_dir/root_dir, found through symlinks to this script.
# shellcheck source=utils/lib/data_dir_py.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/data_dir_py.sh"

opts=()
data=
while [ $# -gt 0 ]; do
  case $1 in
    --no-feats|--no-text|--non-print|--no-wav|--no-spk-sort|--no-audio-headers) opts+=("$1") ;;
    --help|-h) usage; exit 0 ;;
    -*) echo "$0: invalid option $1" >&2; usage >&2; exit 1 ;;
    *)
      if [ -n "$data" ]; then
        echo "$0: more than one <data-dir> given" >&2; usage >&2; exit 1
      fi
      data=$1
      ;;
  esac
  shift
done
if [ -z "$data" ]; then
  usage >&2
  exit 1
fi

run_data_dir_py validate ${opts[@]+"${opts[@]}"} -- "$data"
