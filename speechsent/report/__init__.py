"""Stage 10: the results report (RESULTS.md with the paper's Tables 1-4, confusion matrices, Fig. 2).

* :mod:`speechsent.report.collect` — finds ``exp/*/system.json`` + ``score_*/scores.json`` and the pseudo
  labelers' ``eval_*/scores.json``; averages seed repeats.
* :mod:`speechsent.report.tables` — the markdown tables and the whole RESULTS.md.
* :mod:`speechsent.report.plots` — confusion-matrix and Fig. 2 PNGs (matplotlib Agg), baseline crossing hours.
* :mod:`speechsent.report.make` — :func:`~speechsent.report.make.make_report`: all of stage 10 from a typed
  ``ReportConfig``.

Entry point: ``python -m speechsent.bin.make_report --exp_dir exp --out RESULTS.md``.
"""

from speechsent.report.collect import ExpResults, ReportError, SystemGroup, collect

__all__ = ["ExpResults", "ReportError", "SystemGroup", "collect"]
