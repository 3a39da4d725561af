"""speechsent-train-e2e: stage 9, the E2E speech sentiment classifiers on dumped frame features.

Trains a classifier (``--model blstm``: FC → 2 BLSTM → attentive pooling → output, §3.2.1, on the frozen
ASR-encoder features of stage 5; ``--model cnn``: Table 2's CNN on 80-dim fbank) on one or more
``--train_feats`` scp files paired with ``--train_labels`` files, selects the best epoch on the validation
set, and scores every ``--score_sets`` entry into ``<exp_dir>/score_<set>/{utt2pred,utt2prob,scores.json}``.

``--task sentiment``: the 3 classes of ``utt2sentiment``. ``--task pseudo``: pseudo-label pre-training on
the 2 classes of ``utt2pseudo`` (§3.2.2). Pre-training has no labelled validation set: unless
``--valid_feats`` is given, ``--valid_fraction`` (5%) of the training conversation sides is held out and the
epoch with the lowest held-out loss is kept (``--select_metric auto``: ``loss`` for pseudo,
``unweighted_f1`` for sentiment): the goal is a body that fits the labeler without over-fitting its noise.
Fine-tuning starts from the pre-trained body with ``--init_from exp/<pretrain>/best.pth --reset_head true``
(the binary output layer discarded, a random 3-class one, every parameter updated, as the paper does)::

    # supervised, all of SWBD-train
    python -m speechsent.bin.train_e2e --config conf/train_e2e.yaml \\
        --train_feats dump/encoder/swbd_train/feats.scp --train_labels data/swbd_train/utt2sentiment \\
        --valid_feats dump/encoder/swbd_test/feats.scp --valid_labels data/swbd_test/utt2sentiment \\
        --score_sets "swbd_test:dump/encoder/swbd_test/feats.scp:data/swbd_test/utt2sentiment
                      swbd_holdout:dump/encoder/swbd_holdout/feats.scp:data/swbd_holdout/utt2sentiment" \\
        --exp_dir exp/e2e_blstm
    # pseudo-label pre-training on SWBD-train + Fisher, then fine-tuning on a 5 h subset
    python -m speechsent.bin.train_e2e --config conf/train_e2e.yaml --task pseudo \\
        --train_feats dump/encoder/swbd_train/feats.scp \\
        --train_labels data/swbd_train/utt2pseudo_bert-base-uncased_sst2 \\
        --train_feats dump/encoder/fisher/feats.scp \\
        --train_labels data/fisher/utt2pseudo_bert-base-uncased_sst2 \\
        --pseudo_labeler_dir exp/pseudo_labeler_bert-base-uncased_sst2 --exp_dir exp/e2e_pretrain_bert_sst2_gt
    python -m speechsent.bin.train_e2e --config conf/train_e2e.yaml \\
        --train_feats dump/encoder/swbd_train/feats.scp --train_labels data/swbd_train/utt2sentiment \\
        --train_utt_list data/swbd_train_5h/utt2spk --system_train_hours 5 \\
        --init_from exp/e2e_pretrain_bert_sst2_gt/best.pth --reset_head true ... --exp_dir exp/e2e_ft_5h

Pseudo labels are checked before anything is done: with ``--pseudo_labeler_dir exp/pseudo_labeler_<tag>``
every ``--train_labels data/<set>/FILE`` must be what that labeler wrote (its stage-7 record
``<dir>/label/<set>/done.json`` names ``labels_file`` FILE and ``labels_sha256`` the file's SHA-256), else
an error names the file, the record and what differs (rerun stage 7 with that labeler); the labeler
(``--system_pseudo_labeler``) defaults to ``<tag>``. ``pretrain.json`` records ``pseudo_labels`` (label file
→ SHA-256) and their ``pseudo_fingerprint`` (independent of the data dirs' location: ``pseudo_fingerprint``
in ``speechsent/tasks/manifests.py``); a fine-tuned ``system.json`` has those of its ``--init_from``'s
``pretrain.json``, and ``--expect_pseudo_fingerprint HEX`` refuses an ``--init_from`` pre-trained on other
labels.

Files of ``--exp_dir``: the Trainer's ``checkpoint.pth`` (an interrupted run resumes from it), ``best.pth``,
``metrics.jsonl``, ``train.log``; ``model.json`` (architecture, config, labels: how to rebuild the model);
``system.json`` (sentiment task; docs/contracts.md, for the report) or ``pretrain.json`` (pseudo task: the
pseudo-label provenance a fine-tuned system inherits); ``training_stamp.json``; ``.done`` (options and
input checksums: a rerun with the same ones does nothing; changed training options or inputs restart
training, except ``max_epochs``/``patience`` which continue it; changed score sets or ``--system_*``
options only re-score). A labelled utterance of a scored set without features (too short for the encoder)
gets the training prior's most frequent class, counted in the log, so every utterance is scored.

Feature matrices with NaN or infinite values are found when read (:mod:`speechsent.data.feats_dataset`)
and never reach the model: each is named in the log (utterance, scp, ark entry) and left out, counted per
epoch in ``metrics.jsonl`` (``dropped_train_utts``/``dropped_valid_utts``) and in ``system.json``
(``train_skipped``/``valid_skipped``: reason -> count, with the utterances left out while indexing, e.g.
labelled without features; ``num_train_utts`` counts those trained on). In a scored set such an utterance
is imputed like one without features, and ``scores.json`` counts it (``num_missing``, ``num_imputed``,
``imputed``; the utterances are in ``score_<set>/utt2imputed``). A class without any training utterance
(after the skips and ``--train_utt_list``) is an error, or a loud warning with
``--allow_missing_classes true`` (not part of the stamp: a rerun with it resumes the finished training).

Several GPUs (or CPU processes): ``torchrun --nproc_per_node N -m speechsent.bin.train_e2e ... --ngpu N``
(``--ngpu 0`` under torchrun: CPU processes with gloo). Options may come from ``--config FILE`` (YAML; the
command line wins; the repeatable options take YAML lists). Exit status: 0 on success, 1 on an error (the
message names the file or option), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from speechsent import cli
from speechsent.tasks.abs_task import ConfigError
from speechsent.tasks.e2e import E2EConfig, E2ETask

__all__ = ["get_parser", "main"]

PROG = "speechsent-train-e2e"
log = logging.getLogger("speechsent.train_e2e")


def get_parser() -> argparse.ArgumentParser:
    parser = cli.make_parser(PROG, __doc__, config=False)
    E2ETask.add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    config: E2EConfig = E2ETask.config_from_namespace(cli.parse_args(parser, argv))
    try:
        E2ETask.check_config(config)
    except ConfigError as error:
        parser.error(str(error))
    cli.setup_logging(config.log_level)
    from speechsent.kaldi.table import KaldiDataError

    return cli.run_reporting_errors(
        lambda: E2ETask(config).train(), log, (KaldiDataError, OSError, ValueError, RuntimeError)
    )


if __name__ == "__main__":
    sys.exit(main())
