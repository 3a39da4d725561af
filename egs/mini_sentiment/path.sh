# shellcheck shell=bash
# Sourced by run.sh and local/*.sh (from the recipe directory): activates the toolkit's Python environment
# (tools/activate_python.sh) and puts the toolkit's utils/ on PATH. No symlinks: the toolkit root is two
# levels up, or $SPEECHSENT_ROOT for a copy of the recipe made elsewhere.
_recipe_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -f "${_recipe_dir}/../../tools/activate_python.sh" ]; then
    MAIN_ROOT=$(cd "${_recipe_dir}/../.." && pwd)
elif [ -n "${SPEECHSENT_ROOT:-}" ] && [ -f "${SPEECHSENT_ROOT}/tools/activate_python.sh" ]; then
    MAIN_ROOT=${SPEECHSENT_ROOT}
else
    echo "path.sh: cannot find the speechsent toolkit (run from egs/<recipe>, or set SPEECHSENT_ROOT)" >&2
    return 1
fi
unset _recipe_dir
export MAIN_ROOT
# shellcheck disable=SC1091  # found at run time
. "${MAIN_ROOT}/tools/activate_python.sh" || return 1
export PATH="${MAIN_ROOT}/utils:${PATH}"
export LC_ALL=C
export PYTHONIOENCODING=UTF-8
