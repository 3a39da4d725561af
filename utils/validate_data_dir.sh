#!/usr/bin/env bash
# Check a Kaldi data directory: Kaldi's validate_data_dir.sh checks, plus utt2sentiment, utt2pseudo and
# utt2pseudo_prob.  Unlike Kaldi's script, every failed check gives a non-zero exit status, and all
# problems are reported, not only the first.  Implemented in speechsent/data/ops.py (validate).

usage() {
  cat <<USAGE
Usage: $0 [--no-feats] [--no-text] [--non-print] [--no-wav] [--no-spk-sort] <data-dir>
The --no-xxx options mean that the script does not require xxx.scp (or text)
to be present, but it will check it if it is present.
--no-spk-sort means that the script does not require the utt2spk to be sorted
by the speaker-id in addition to being sorted by utterance-id.
--non-print: ignore the presence of non-printable characters in text.
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
    --no-feats|--no-text|--non-print|--no-wav|--no-spk-sort) opts+=("$1") ;;
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
