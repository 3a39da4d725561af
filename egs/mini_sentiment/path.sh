# shellcheck shell=bash
# Sourced by run.sh and local/*.sh: the toolkit's environment (egs/TEMPLATE/path.sh). No symlinks: the toolkit
# is two levels up, or at $SPEECHSENT_ROOT for a copy of this recipe made elsewhere.
_template=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/egs/TEMPLATE/path.sh
[ -f "${_template}" ] || _template=${SPEECHSENT_ROOT:?path.sh: run from egs/<recipe>, or set SPEECHSENT_ROOT}/egs/TEMPLATE/path.sh
# shellcheck source=egs/TEMPLATE/path.sh
. "${_template}" || return 1
unset _template
