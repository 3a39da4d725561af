# shellcheck shell=bash
# Corpora of the demo recipe. Left empty, stage 1 synthesizes a small corpus in the LDC layouts
# (speechsent-synth-corpus, into downloads/) and uses it; set them (in the environment or here) to run the
# demo on real releases or on a corpus of your own in the same layouts (see docs/contracts.md):
#   SWBD            Switchboard-1 Release 2 (LDC97S62) root
#   SWBD_MS98       swb_ms98_transcriptions root
#   SWBD_SENTIMENT  Speech Sentiment Annotations (LDC2020T14) root
#   FISHER          space-separated roots of LDC2004S13 LDC2005S13 LDC2004T19 LDC2005T19
SWBD=${SWBD:-}
SWBD_MS98=${SWBD_MS98:-}
SWBD_SENTIMENT=${SWBD_SENTIMENT:-}
FISHER=${FISHER:-}
export SWBD SWBD_MS98 SWBD_SENTIMENT FISHER
