# shellcheck shell=bash
# Sourced by run.sh, local/*.sh and the cluster jobs (queue.pl / slurm.pl job scripts source ./path.sh): the
# toolkit's environment (egs/TEMPLATE/path.sh). No symlinks: the toolkit is two levels up; for a copy of this
# recipe made elsewhere, at $SPEECHSENT_ROOT, else where the Python on PATH has speechsent installed (a
# cluster job may get PATH only: slurm.pl's default sbatch --export=PATH).
_template=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/egs/TEMPLATE/path.sh
if [ ! -f "${_template}" ]; then
    _root=${SPEECHSENT_ROOT:-$(python3 -c 'import os, speechsent as s; print(os.path.dirname(os.path.dirname(os.path.abspath(s.__file__))))' 2> /dev/null)}
    _template=${_root}/egs/TEMPLATE/path.sh
    unset _root
    if [ ! -f "${_template}" ]; then
        echo "path.sh: run from egs/<recipe>, or set SPEECHSENT_ROOT (the toolkit's root)" >&2
        return 1
    fi
fi
# shellcheck source=egs/TEMPLATE/path.sh
. "${_template}" || return 1
unset _template
