#!/usr/bin/env bash
# Make a Kaldi data directory consistent, in place, as Kaldi's fix_data_dir.sh does: sort every file, drop
# duplicate keys and malformed lines, keep only the utterances present in all of utt2spk, text, segments,
# feats.scp, utt2dur, utt2sentiment, utt2pseudo ... (and --utt-extra-files), whose speaker is in cmvn.scp,
# spk2gender ... (and --spk-extra-files), drop segments whose recording is missing and recordings without
# segments, and regenerate spk2utt.  The original files are kept in <data-dir>/.backup.
# Implemented in speechsent/data/ops.py (fix).

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

# Find the repository root (<root>/utils/<this script>), through symlinks, and run the Python side there.
_src=${BASH_SOURCE[0]}
while [ -h "$_src" ]; do
  _dir=$(cd -P "$(dirname "$_src")" && pwd)
  _src=$(readlink "$_src")
  case $_src in /*) ;; *) _src=$_dir/$_src ;; esac
done
utils_dir=$(cd -P "$(dirname "$_src")" && pwd)
root_dir=$(dirname "$utils_dir")
unset _src _dir

run_data_dir_py() {
  PYTHONPATH="$root_dir${PYTHONPATH:+:$PYTHONPATH}" \
    exec "${SPEECHSENT_PYTHON:-python3}" -m speechsent.bin.data_dir --prog "$0" "$@"
}

# shellcheck source=/dev/null
. "$utils_dir/parse_options.sh" || exit 1

if [ $# -ne 1 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi

run_data_dir_py fix --utt_extra_files="$utt_extra_files" --spk_extra_files="$spk_extra_files" -- "$1"
