"""Scoring of sentiment classifiers: scikit-learn metrics in percent and the ``score_<set>`` files.

Everything here is :mod:`speechsent.scoring.metrics` (its ``__all__``), importable from the package too.
"""

from speechsent.scoring import metrics as _metrics
from speechsent.scoring.metrics import *  # noqa: F403 -- the package's API is metrics' __all__

__all__: list[str] = []
__all__ += _metrics.__all__  # the form type checkers follow
