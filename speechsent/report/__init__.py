"""Stage 10: the results report (RESULTS.md with the paper's Tables 1-4, confusion matrices, Fig. 2).

* :mod:`speechsent.report.collect` — finds ``exp/*/system.json`` + ``score_*/scores.json`` and the pseudo
  labelers' ``eval_*/scores.json``; averages seed repeats.
* :mod:`speechsent.report.run_info` — the run's options (``--run_options`` TSV), software, GPU, set sizes, ASR
  (WER per set, overlap with every set).
* :mod:`speechsent.report.departures` — the paper's setting (``PAPER``) and the departures generated from it.
* :mod:`speechsent.report.header` — the ESPnet-style header sections (Environments, Data, ASR, Departures).
* :mod:`speechsent.report.names` — labeler and LM names (``bert-base-uncased_sst2`` → ``BERT-SST2``).
* :mod:`speechsent.report.markdown` — cells, hours, markdown tables.
* :mod:`speechsent.report.table4` — Table 4, with the rows the run options ask for (missing ones shown).
* :mod:`speechsent.report.tables` — Tables 1-3, the Fig. 2 section and the whole RESULTS.md.
* :mod:`speechsent.report.plots` — confusion-matrix and Fig. 2 PNGs (matplotlib Agg), baseline crossing hours.
* :mod:`speechsent.report.make` — :func:`~speechsent.report.make.make_report`: all of stage 10 from a typed
  ``ReportConfig``.

Entry point: ``python -m speechsent.bin.make_report --exp_dir exp --out RESULTS.md --run_options FILE``.
"""

from speechsent.report.collect import ExpResults, ReportError, SystemGroup, collect

__all__ = ["ExpResults", "ReportError", "SystemGroup", "collect"]
