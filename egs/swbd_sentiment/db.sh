# shellcheck shell=bash
# Where the corpora are (see docs/contracts.md); each can be overridden by an environment variable of the same
# name, e.g. `SWBD=/data/LDC97S62 ./run.sh`.
# Switchboard-1 Release 2 (LDC97S62) root: *.sph found anywhere below (find -L).
SWBD=${SWBD:-/export/corpora/LDC/LDC97S62}
# Mississippi State word transcripts (swb_ms98_transcriptions): NN/NNNN/swNNNNS-ms98-a-trans.text.
SWBD_MS98=${SWBD_MS98:-/export/corpora/swb_ms98_transcriptions}
# Speech Sentiment Annotations (LDC2020T14) root: data/sentiment_labels.tsv.
SWBD_SENTIMENT=${SWBD_SENTIMENT:-/export/corpora/LDC/LDC2020T14}
# Fisher English: space-separated roots of LDC2004S13 LDC2005S13 (audio) LDC2004T19 LDC2005T19 (transcripts).
FISHER=${FISHER:-/export/corpora/LDC/LDC2004S13 /export/corpora/LDC/LDC2005S13 /export/corpora/LDC/LDC2004T19 /export/corpora/LDC/LDC2005T19}
export SWBD SWBD_MS98 SWBD_SENTIMENT FISHER
