#!/usr/bin/env bash
# Set up the Python environment of speechsent, in one command.
#
#   tools/setup.sh                       # new venv under tools/venv with the pinned stack (default)
#   tools/setup.sh --python /opt/espnet/tools/venv/bin/python
#                                        # reuse an existing Python that already has ESPnet
#   tools/setup.sh --dev true            # also the test/lint tools (pytest, ruff, shellcheck)
#
# Afterwards `. tools/activate_python.sh` activates the environment. Re-running is fast: when the
# requirements and setup.py are unchanged since the last successful run, nothing is installed again.
set -euo pipefail

log() {
    local fname=${BASH_SOURCE[1]##*/}
    echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${fname}:${BASH_LINENO[0]}:${FUNCNAME[1]}) $*" >&2
}

tools_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root_dir=$(dirname "${tools_dir}")

python=""              # an existing interpreter to reuse (with ESPnet installed); empty: create a venv
venv_dir=${tools_dir}/venv
base_python=""         # interpreter that creates the venv (default: python3.11, else python3)
torch_index_url=""     # e.g. a CPU-only wheel index for torch; empty: PyPI's default build
dev=false              # install pytest, ruff and shellcheck too
force=false            # reinstall even when the stamp says the environment is up to date

help_message="Usage: $0 [options]
Options:
  --python PY            reuse this interpreter (an ESPnet install) instead of creating a venv
  --venv_dir DIR         where to create the venv (default: ${venv_dir})
  --base_python PY       interpreter that creates the venv (default: python3.11, else python3)
  --torch_index_url URL  extra index for torch wheels (e.g. a CPU-only index)
  --dev true|false       also install the test and lint tools (default: ${dev})
  --force true|false     reinstall even if up to date (default: ${force})"

while [ $# -gt 0 ]; do
    opt=${1#--}
    opt=${opt//-/_}
    case "$1" in
        --help|-h) echo "${help_message}"; exit 0 ;;
        --python|--venv_dir|--venv-dir|--base_python|--base-python|--torch_index_url|--torch-index-url|--dev|--force)
            [ $# -ge 2 ] || { echo "$0: option $1 needs a value" >&2; exit 1; }
            printf -v "${opt}" '%s' "$2"; shift 2 ;;
        *) echo "$0: unknown option $1" >&2; echo "${help_message}" >&2; exit 1 ;;
    esac
done
for b in dev force; do
    case ${!b} in true|false) ;; *) echo "$0: --${b} must be true or false, got '${!b}'" >&2; exit 1 ;; esac
done

start_time=$(date +%s)
env_file=${tools_dir}/env.sh      # written last; sourced by activate_python.sh

if [ -n "${python}" ]; then
    # Reuse an existing environment (e.g. ESPnet's tools/venv or a conda env): install speechsent into it
    # without touching its torch/espnet, and only add the light dependencies it lacks.
    command -v "${python}" >/dev/null || { log "Error: --python ${python}: no such interpreter"; exit 1; }
    python=$(command -v "${python}")
    if ! "${python}" -c "import espnet2, torch" 2>/dev/null; then
        log "Error: ${python} cannot import espnet2 and torch; point --python at an ESPnet environment"
        exit 1
    fi
    pip=("${python}" -m pip)
    target_desc="existing environment of ${python}"
    activate_line="export PATH=\"$(dirname "${python}")\${PATH:+:\${PATH}}\""
    reqs=("${tools_dir}/requirements-light.txt")
else
    if [ -z "${base_python}" ]; then
        base_python=$(command -v python3.11 || command -v python3 || true)
        [ -n "${base_python}" ] || { log "Error: no python3 found; pass --base_python"; exit 1; }
    fi
    if ! "${base_python}" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))'; then
        log "Error: ${base_python} is $("${base_python}" -V 2>&1); the pinned ESPnet stack needs Python 3.10-3.12" \
            "(3.11 verified). Pass --base_python /path/to/python3.11"
        exit 1
    fi
    if [ ! -x "${venv_dir}/bin/python" ]; then
        log "Creating venv ${venv_dir} with $("${base_python}" -V 2>&1)"
        "${base_python}" -m venv "${venv_dir}"
    fi
    python=${venv_dir}/bin/python
    pip=("${python}" -m pip)
    target_desc="venv ${venv_dir}"
    activate_line=". \"${venv_dir}/bin/activate\""
    reqs=("${tools_dir}/requirements.txt")
fi
[ "${dev}" = true ] && reqs+=("${tools_dir}/requirements-dev.txt")

# The stamp records what was installed; a rerun with the same inputs only checks the imports.
stamp=${tools_dir}/.installed.$(echo "${python}" | cksum | cut -d' ' -f1)
want=$(cat "${reqs[@]}" "${root_dir}/setup.py" | cksum | cut -d' ' -f1)
if [ "${force}" = false ] && [ -f "${stamp}" ] && [ "$(cat "${stamp}")" = "${want}" ] \
        && "${python}" -c "import speechsent, kaldiio, sentencepiece" 2>/dev/null; then
    log "Up to date: ${target_desc} (pass --force true to reinstall)"
    installed=false
else
    log "Installing into ${target_desc}: ${reqs[*]##*/}"
    pip_opts=(--disable-pip-version-check --no-input)
    [ -n "${torch_index_url}" ] && pip_opts+=(--extra-index-url "${torch_index_url}")
    for r in "${reqs[@]}"; do
        "${pip[@]}" install "${pip_opts[@]}" -r "${r}"
    done
    # --no-deps: the requirement files above already installed (and pinned) every dependency.
    "${pip[@]}" install "${pip_opts[@]}" --no-deps -e "${root_dir}"
    installed=true
fi

# Write the activation snippet atomically (activate_python.sh sources it).
printf '# shellcheck shell=bash\n# generated by tools/setup.sh on %s\n%s\n' "$(date)" "${activate_line}" > "${env_file}.tmp"
mv "${env_file}.tmp" "${env_file}"

if [ "${installed}" = true ]; then
    log "Checking imports (espnet2.tasks.asr takes ~15 s on first import)"
    "${python}" - <<'EOF'
import importlib
import sys

import espnet
import torch

for mod in ("espnet2.tasks.asr", "kaldiio", "sentencepiece", "transformers", "sklearn", "yaml", "numba",
            "soundfile", "speechsent"):
    importlib.import_module(mod)
print(f"python {sys.version.split()[0]}, espnet {espnet.__version__}, torch {torch.__version__}, "
      f"cuda available: {torch.cuda.is_available()}", file=sys.stderr)
EOF
    # The stamp is written only once the whole stack imports: a failed or interrupted install reruns.
    echo "${want}" > "${stamp}"
    size=$(du -sh "$("${python}" -c 'import sys; print(sys.prefix)')" 2>/dev/null | cut -f1)
    log "Done in $(( $(date +%s) - start_time )) s; environment size ${size}."
fi
log "Activate with: . tools/activate_python.sh"
