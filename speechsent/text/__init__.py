"""Text-side sentiment: pseudo labelers (SST-2 fine-tuning, labeling of data dirs) and text classifiers.

Submodules (imported on demand; this package imports nothing heavy, so entry points stay fast):

* :mod:`speechsent.text.labelers` — binary (Negative, Positive) labelers: Hugging Face sequence classifiers,
  VADER, ensembles; ``load_labeler``; Table 3 evaluation on a labeled data dir.
* :mod:`speechsent.text.sst2` — fine-tuning any Hugging Face encoder on GLUE SST-2 TSV files.
* :mod:`speechsent.text.pseudo_label` — ``utt2pseudo`` for whole data dirs, in resumable ``$cmd`` jobs.
* :mod:`speechsent.text.tokenize`, :mod:`speechsent.text.lm_features`, :mod:`speechsent.text.dataset` —
  the 2-step text classifiers' inputs.
"""
