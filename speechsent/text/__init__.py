"""Text-side sentiment: pseudo labelers (SST-2 fine-tuning, labeling of data dirs) and text classifiers.

Submodules (imported on demand; this package imports nothing heavy, so entry points stay fast):

* :mod:`speechsent.text.labelers` — binary (Negative, Positive) labelers: Hugging Face sequence classifiers,
  VADER, ensembles; ``load_labeler``.
* :mod:`speechsent.text.hf_inference` — batched inference of Hugging Face sequence classifiers.
* :mod:`speechsent.text.pseudo_labeler` — stage 6: the labeler dir and its Table 3 evaluation.
* :mod:`speechsent.text.sst2` — fine-tuning any Hugging Face encoder on GLUE SST-2 TSV files (on the shared
  :class:`speechsent.training.Trainer`).
* :mod:`speechsent.text.pseudo_label` — ``utt2pseudo`` for whole data dirs, in resumable ``$cmd`` jobs.
* :mod:`speechsent.text.tokenize`, :mod:`speechsent.text.lm_features`, :mod:`speechsent.text.dataset` —
  the 2-step text classifiers' inputs.
"""
