"""speechsent: speech sentiment analysis recipes in the ESPnet/Kaldi style.

The package import is kept light on purpose (no torch, no numba, no espnet):
command-line ``--help`` must answer in well under a second.
"""

__version__ = "0.1.0"
