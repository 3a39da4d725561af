#!/usr/bin/env bash
# Speech sentiment analysis on SWBD-Sentiment (LDC2020T14 over Switchboard-1) and Fisher: the paper's recipe
# (Shon et al., Interspeech 2021). Corpora in db.sh, job runners in cmd.sh; run from this directory:
#   ./run.sh [--stage N] [--stop_stage M] [options of ../TEMPLATE/sentiment.sh]   (./run.sh --help lists them)
set -euo pipefail

# shellcheck disable=SC1091
. ./path.sh
"${MAIN_ROOT}/egs/TEMPLATE/sentiment.sh" "$@"
