#!/usr/bin/env bash
# Copy a Kaldi data directory, possibly adding a prefix or a suffix to the utterance and/or speaker ids
# (recording ids stay the same), as Kaldi's copy_data_dir.sh does; utt2sentiment, utt2pseudo,
# utt2pseudo_prob, utt2dur ... are carried along.  The copy is validated (with --validate-opts, plus
# --no-feats / --no-text / --no-wav when the source lacks that file).
# Files of <destdir> that the source lacks are moved to <destdir>/.backup (a new .backup.1, .backup.2 ...
# when the newest already holds one of those names: never overwritten).  A source file that starts with a
# UTF-8 byte-order mark or has CRLF line ends is an error naming it (utils/fix_data_dir.sh repairs it).
# Implemented in speechsent/kaldi/copy.py.

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

# The Python side (run_data_dir_py) and utils_dir/root_dir, found through symlinks to this script.
# shellcheck source=utils/lib/data_dir_py.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/data_dir_py.sh"

# shellcheck source=/dev/null
. "$utils_dir/parse_options.sh" || exit 1

if [ $# -ne 2 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi

run_data_dir_py copy --utt_prefix="$utt_prefix" --utt_suffix="$utt_suffix" \
  --spk_prefix="$spk_prefix" --spk_suffix="$spk_suffix" --validate_opts="$validate_opts" -- "$1" "$2"
