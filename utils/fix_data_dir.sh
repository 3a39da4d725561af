#!/usr/bin/env bash
# Make a Kaldi data directory consistent, in place, as Kaldi's fix_data_dir.sh does: sort every file, drop
# duplicate keys and malformed lines, keep only the utterances present in all of utt2spk, text, segments,
# feats.scp, utt2dur, utt2sentiment, utt2pseudo ... (and --utt-extra-files), whose speaker is in cmvn.scp,
# spk2gender ... (and --spk-extra-files), drop segments whose recording is missing and recordings without
# segments, and regenerate spk2utt.  Implemented in speechsent/kaldi/fix.py.
#
# Unlike Kaldi's:
# - backups are never overwritten: before a run rewrites anything, the files as they were are copied to
#   <data-dir>/.backup the first time, then to .backup.1, .backup.2 ... (Kaldi's copies over .backup on
#   every run, and copies some files only after sorting them); a run that changes nothing makes no backup;
# - two runs on one directory never interleave: each holds a lock (flock on <data-dir>/.fix_data_dir.lock,
#   removed afterwards; released if the process dies); a second run says it is waiting, then runs;
# - files written by other tools are repaired, each logged: a UTF-8 byte-order mark is removed (Kaldi drops
#   the first utterance of such a file), carriage returns (CRLF line ends) are removed, a UTF-16 file is
#   converted to UTF-8, text lines that are not UTF-8 are dropped with their utterances (counted, with the
#   first file:line and byte);
# - segments that start after their recording's end or end 0.5 s or more after it (the length from reco2dur,
#   else the audio header, as validate_data_dir.sh finds it) are dropped;
# - the result is validated (as with --no-feats --no-text --no-wav --no-spk-sort --non-print): what fixing
#   does not repair (e.g. <s> in text) is listed and the exit status is 1.

utt_extra_files=
spk_extra_files=

help_message="Usage: $0 [options] <data-dir>
e.g.: $0 data/train
This script helps ensure that the various files in a data directory are
correctly sorted and filtered, for example removing utterances that have no
features (if feats.scp is present).
Options:
  --utt-extra-files \"<f1> <f2> ...\"  # more utterance-indexed files to filter (and filter by)
  --spk-extra-files \"<f1> <f2> ...\"  # more speaker-indexed files to filter (and filter by)"

# The Python side (run_data_dir_py) and utils_dir/root_dir, found through symlinks to this script.
# shellcheck source=utils/lib/data_dir_py.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/data_dir_py.sh"

# shellcheck source=/dev/null
. "$utils_dir/parse_options.sh" || exit 1

if [ $# -ne 1 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi

run_data_dir_py fix --utt_extra_files="$utt_extra_files" --spk_extra_files="$spk_extra_files" -- "$1"
