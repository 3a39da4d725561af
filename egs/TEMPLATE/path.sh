# shellcheck shell=bash
# The toolkit's environment for recipes, sourced through each recipe's path.sh: MAIN_ROOT (the toolkit),
# its Python environment (tools/activate_python.sh), its utils/ on PATH, the C locale of Kaldi data dirs.
MAIN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export MAIN_ROOT
# shellcheck source=tools/activate_python.sh
. "${MAIN_ROOT}/tools/activate_python.sh" || return 1
export PATH="${MAIN_ROOT}/utils:${PATH}"
export LC_ALL=C
export PYTHONIOENCODING=UTF-8
