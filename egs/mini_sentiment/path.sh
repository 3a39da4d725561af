# shellcheck shell=bash
# Sourced by run.sh and local/*.sh: the toolkit's environment (egs/TEMPLATE/path.sh). No symlinks: the toolkit
# is two levels up, or at $SPEECHSENT_ROOT for a copy of this recipe made elsewhere.
_speechsent_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ ! -f "${_speechsent_root}/egs/TEMPLATE/path.sh" ]; then
    _speechsent_root=${SPEECHSENT_ROOT:-}
    if [ ! -f "${_speechsent_root}/egs/TEMPLATE/path.sh" ]; then
        echo "path.sh: cannot find the speechsent toolkit (run from egs/<recipe>, or set SPEECHSENT_ROOT)" >&2
        return 1
    fi
fi
# shellcheck source=egs/TEMPLATE/path.sh
. "${_speechsent_root}/egs/TEMPLATE/path.sh" || return 1
unset _speechsent_root
