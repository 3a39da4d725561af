# shellcheck shell=bash
# Sourced by the data-dir wrappers (validate_data_dir.sh, fix_data_dir.sh, ...): sets utils_dir and
# root_dir (the repository: <root>/utils/<script>, symlinks resolved) and defines run_data_dir_py, which
# runs speechsent.bin.data_dir from this checkout with ${SPEECHSENT_PYTHON:-python3} (stdlib only, so a
# bare system python3 works before any environment exists).
utils_dir=$(cd -P "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root_dir=$(dirname "${utils_dir}")

run_data_dir_py() {
  PYTHONPATH="${root_dir}${PYTHONPATH:+:${PYTHONPATH}}" \
    exec "${SPEECHSENT_PYTHON:-python3}" -m speechsent.bin.data_dir --prog "$0" "$@"
}
