#!/usr/bin/env bash
# Make a subset of a Kaldi data directory, as Kaldi's subset_data_dir.sh does, plus random and by-hours
# subsets.  Every file is filtered accordingly: utt2sentiment, utt2pseudo, utt2pseudo_prob, utt2dur ...
# by utterance, cmvn.scp, spk2gender ... by speaker, wav.scp, reco2file_and_channel, reco2dur, stm by
# recording.  Files of <destdir> that are not written move to <destdir>/.backup (never over an older
# backup: then .backup.1 ...).  A source file with a UTF-8 byte-order mark or CRLF line ends is an error
# naming it.  Implemented in speechsent/kaldi/subset.py.
#
# --hours H [--seed S]: a random subset of at most H hours (durations from utt2dur, else segments): the
# longest prefix of a seeded permutation of the utterances that fits, so that with the same seed the
# subsets for increasing H are nested (2.5 h within 5 h within 7.5 h ...).

usage() {
  cat <<USAGE
Usage:
  $0 [--speakers|--shortest|--first|--last|--per-spk] <srcdir> <num-utt> <destdir>
  $0 --random [--seed <seed>] <srcdir> <num-utt> <destdir>
  $0 --spk-list <speaker-list-file> <srcdir> <destdir>
  $0 --utt-list <utterance-list-file> <srcdir> <destdir>
  $0 --hours <hours> [--seed <seed>] <srcdir> <destdir>
By default, selects <num-utt> utterances evenly spread over the data directory.
With --speakers, randomly selects enough speakers that we have <num-utt> utterances.
With --per-spk, selects <num-utt> utterances per speaker, if available.
With --first, selects the first <num-utt> utterances.
With --last, selects the last <num-utt> utterances.
With --shortest, selects the shortest <num-utt> utterances (utt2dur, else segments).
With --random, selects <num-utt> utterances at random (nested for increasing <num-utt>).
With --spk-list, reads the speakers to keep from <speaker-list-file>.
With --utt-list, reads the utterances to keep from <utterance-list-file>.
With --hours, selects at random utterances totalling at most <hours> hours
(nested for increasing <hours>).
--seed <seed> (default 0) seeds --random, --speakers and --hours.
USAGE
}

# The Python side (run_data_dir_py) and utils_dir/root_dir, found through symlinks to this script.
# shellcheck source=utils/lib/data_dir_py.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/data_dir_py.sh"

mode=
value=
seed=

set_mode() {  # set_mode <mode> [<value>]
  if [ -n "$mode" ]; then
    echo "$0: --${mode//_/-} and --${1//_/-} cannot be combined" >&2
    usage >&2
    exit 1
  fi
  mode=$1
  value=${2-}
}

need_value() {  # need_value <option> <number of remaining arguments>
  if [ "$2" -lt 2 ]; then
    echo "$0: option $1 requires an argument" >&2
    usage >&2
    exit 1
  fi
}

while [ $# -gt 0 ]; do
  case $1 in
    --per-spk) set_mode per_spk ;;
    --shortest) set_mode shortest ;;
    --first) set_mode first ;;
    --last) set_mode last ;;
    --speakers) set_mode speakers ;;
    --random) set_mode random ;;
    --spk-list|--utt-list|--hours)
      need_value "$1" $#
      _opt=${1#--}
      set_mode "${_opt//-/_}" "$2"
      shift
      ;;
    --spk-list=*|--utt-list=*|--hours=*)
      _opt=${1%%=*}
      _opt=${_opt#--}
      set_mode "${_opt//-/_}" "${1#*=}"
      ;;
    --seed) need_value "$1" $#; seed=$2; shift ;;
    --seed=*) seed=${1#*=} ;;
    --help|-h) usage; exit 0 ;;
    --) shift; break ;;
    -*) echo "$0: invalid option $1" >&2; usage >&2; exit 1 ;;
    *) break ;;
  esac
  shift
done

if [ -n "$seed" ]; then
  case $mode in
    random|speakers|hours) ;;
    *) echo "$0: --seed applies only to --random, --speakers and --hours" >&2; usage >&2; exit 1 ;;
  esac
fi

bad_number() {  # bad_number <what> <value>
  echo "$0: expected a positive $1, got '$2'" >&2
  usage >&2
  exit 1
}

case $mode in
  spk_list|utt_list|hours)
    if [ $# -ne 2 ]; then
      usage >&2
      exit 1
    fi
    if [ "$mode" = hours ] && { [[ ! $value =~ ^([0-9]+\.?[0-9]*|\.[0-9]+)$ ]] || [[ $value =~ ^[0.]*$ ]]; }; then
      bad_number "number of hours" "$value"
    fi
    args=("--$mode=$value")
    srcdir=$1
    destdir=$2
    ;;
  *)
    if [ $# -ne 3 ]; then
      usage >&2
      exit 1
    fi
    if [[ ! $2 =~ ^[0-9]+$ ]] || [[ $2 =~ ^0*$ ]]; then
      bad_number "integer <num-utt>" "$2"
    fi
    args=("--${mode:-even}=$2")
    srcdir=$1
    destdir=$3
    ;;
esac
if [ -n "$seed" ]; then
  args+=("--seed=$seed")
fi

run_data_dir_py subset "${args[@]}" -- "$srcdir" "$destdir"
