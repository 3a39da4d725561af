#!/usr/bin/env bash
# Copy a Kaldi data directory, possibly adding a prefix or a suffix to the utterance and/or speaker ids
# (recording ids stay the same), as Kaldi's copy_data_dir.sh does; utt2sentiment, utt2pseudo,
# utt2pseudo_prob, utt2dur ... are carried along.  The copy is validated (with --validate-opts, plus
# --no-feats / --no-text / --no-wav when the source lacks that file).
# Implemented in speechsent/data/ops.py (copy).

spk_prefix=
utt_prefix=
spk_suffix=
utt_suffix=
validate_opts=   # should rarely be needed.

help_message="Usage: $0 [options] <srcdir> <destdir>
e.g.: $0 --spk-prefix=1- --utt-prefix=1- data/train data/train_1
Options:
  --spk-prefix=<prefix>     # Prefix for speaker ids, default empty
  --utt-prefix=<prefix>     # Prefix for utterance ids, default empty
  --spk-suffix=<suffix>     # Suffix for speaker ids, default empty
  --utt-suffix=<suffix>     # Suffix for utterance ids, default empty
  --validate-opts=<opts>    # Options for validate_data_dir.sh, e.g. \"--no-wav\""

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

if [ $# -ne 2 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi

run_data_dir_py copy --utt_prefix="$utt_prefix" --utt_suffix="$utt_suffix" \
  --spk_prefix="$spk_prefix" --spk_suffix="$spk_suffix" --validate_opts="$validate_opts" -- "$1" "$2"
