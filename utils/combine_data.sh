#!/usr/bin/env bash
# Combine Kaldi data directories into one, as Kaldi's combine_data.sh does.  A file is combined when every
# source has it (utt2sentiment, utt2pseudo, utt2pseudo_prob included); utt2uniq and segments are made where
# missing.  A key found in several sources must have the same entry in each.  The destination is emptied
# first, and fixed (utils/fix_data_dir.sh) at the end unless --skip-fix true; the exit status is 1 when the
# fixed result still fails validation.  A source file that starts with a UTF-8 byte-order mark or has CRLF
# line ends is an error naming it (utils/fix_data_dir.sh on that source repairs it).
# Implemented in speechsent/kaldi/combine.py.

extra_files=  # additional files in the source dirs to combine, e.g. "file1 file2 ..."
skip_fix=false  # skip the fix_data_dir.sh at the end

help_message="Usage: $0 [--extra-files 'file1 file2'] [--skip-fix true] <dest-data-dir> <src-data-dir1> <src-data-dir2> ...
Note, files that don't appear in all source dirs will not be combined,
with the exception of utt2uniq and segments, which are created where necessary."

echo "$0 $*"  # the command line, for logs

# The Python side (run_data_dir_py) and utils_dir/root_dir, found through symlinks to this script.
# shellcheck source=utils/lib/data_dir_py.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/data_dir_py.sh"

# shellcheck source=/dev/null
. "$utils_dir/parse_options.sh" || exit 1

if [ $# -lt 2 ]; then
  printf '%s\n' "$help_message" >&2
  exit 1
fi

run_data_dir_py combine --extra_files="$extra_files" --skip_fix="$skip_fix" -- "$@"
