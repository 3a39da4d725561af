"""speechsent-train-text-classifier: stage 8, the 2-step pipeline's transcript sentiment classifiers.

Trains a classifier on the transcripts (``text``) and labels (``utt2sentiment``) of ``--train_dir``,
selects the best epoch on ``--valid_dir``, and scores every existing dir of ``--score_dirs`` into
``<exp_dir>/score_<set>/{utt2pred,utt2prob,scores.json}`` (paper §3.1, §4.2, Table 1):

* ``--arch baseline``: sentencepiece subword tokens (a model trained on the training transcripts,
  ``--nbpe`` 1000, or ``--bpemodel`` e.g. the ASR's) → embedding 200 → 2 BLSTM layers (128) → output;
  class-weighted cross-entropy.
* ``--arch lm``: a pre-trained LM (``--lm``, default ``bert-base-uncased``; any hub id or local dir) as the
  embedding layer, ``--lm_layers sum_last4`` (the paper's sum of the last four layers; or ``last``, ``cls``)
  → 3 BLSTM layers (128) → output; plain cross-entropy. The LM is frozen and its features cached once per
  set in ``--lm_cache_dir`` (shared by every system using the same LM and transcripts), or trained end to
  end with ``--finetune_lm true``.

Transcripts are cut to ``--max_tokens`` (500) subword tokens (counted in the log). Training utterances with
an empty transcript are skipped (counted); a class left without a training utterance (after those skips and
``--train_utt_list``) is an error, a loud warning with ``--allow_missing_classes true``. In the validation
and scored sets an empty transcript is classified from an empty input, so that every utterance has a
prediction and the best epoch's validation score is the one in ``score_<valid set>/scores.json``. The
BLSTM outputs are mean-pooled over the valid tokens (``--pooling``).

Writes, in ``--exp_dir``: the Trainer's ``checkpoint.pth`` (resume), ``best.pth``, ``metrics.jsonl``,
``train.log``; ``model.json`` (how to rebuild the classifier and its tokenizer, for export) and ``bpe.model``
(baseline); ``system.json`` (for the report); ``.done`` (options + input checksums: a rerun with the same
ones does nothing; changed training options or inputs restart training, except ``--max_epochs`` and
``--patience``, which continue it from its checkpoint; changed score sets are only re-scored)::

    python -m speechsent.bin.train_text_classifier --arch baseline \\
        --train_dir data/swbd_train_asr --valid_dir data/swbd_test_asr \\
        --score_dirs "data/swbd_test data/swbd_holdout data/swbd_test_asr data/swbd_holdout_asr" \\
        --exp_dir exp/text_baseline_asr
    python -m speechsent.bin.train_text_classifier --arch lm --lm bert-base-uncased --ngpu 1 \\
        --train_dir data/swbd_train_asr --train_utt_list data/swbd_train_5h/utt2spk --train_hours 5 \\
        --valid_dir data/swbd_test_asr --score_dirs "data/swbd_test_asr data/swbd_holdout_asr" \\
        --exp_dir exp/text_lm_asr_5h

Several GPUs: ``torchrun --nproc_per_node N -m speechsent.bin.train_text_classifier ... --ngpu N``.
Options may also come from ``--config FILE`` (YAML; the command line wins). Exit status: 0 on success,
1 on an error (the message names the file or option), 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from speechsent import cli
from speechsent.cli import none_or_float, none_or_str, str2bool
from speechsent.training.options import add_trainer_arguments, check_trainer_args
from speechsent.training.stamps import is_done, write_stamp
from speechsent.utils.digest import file_digest

__all__ = ["get_parser", "main", "train_text_classifier"]

PROG = "speechsent-train-text-classifier"
log = logging.getLogger("speechsent.train_text_classifier")

#: Options that do not change the trained model or its scores (left out of the .done stamp).
_NOT_STAMPED = {
    "config",
    "log_level",
    "progress",
    "num_workers",
    "num_threads",
    "lm_cache_dir",
    "lm_batch_size",
    "ngpu",
    "force",
    "allow_missing_classes",
}
#: Options that only affect scoring (changing them re-scores, it does not retrain).
_SCORING_ONLY = {"score_dirs"}
#: Files the Trainer (and this program) leave in the exp dir for one training run.
_TRAINING_FILES = ("checkpoint.pth", "best.pth", "metrics.jsonl", "model.json", "bpe.model", "system.json")


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    cli.add_config_argument(parser)
    g = parser.add_argument_group("data")
    g.add_argument("--train_dir", default=None, help="data dir to train on (its text + utt2sentiment)")
    g.add_argument(
        "--train_utt_list",
        type=none_or_str,
        default=None,
        help="train on these utterances only (first column, e.g. data/swbd_train_5h/utt2spk)",
    )
    g.add_argument(
        "--train_hours", type=none_or_float, default=None, help="hours of that subset (system.json)"
    )
    g.add_argument(
        "--valid_dir", default=None, help="data dir selecting the best epoch (data/swbd_test[_asr])"
    )
    g.add_argument(
        "--score_dirs",
        default="",
        help="space-separated data dirs to score (those that do not exist are skipped with a note)",
    )
    g.add_argument(
        "--input",
        default="auto",
        choices=("auto", "gt", "asr"),
        help="transcripts trained on, for system.json (auto: asr if the train dir name ends in _asr)",
    )
    g.add_argument("--exp_dir", default=None, help="experiment dir, e.g. exp/text_lm_gt")
    g.add_argument("--max_tokens", type=int, default=500, help="max subword tokens per transcript")
    g = parser.add_argument_group("model")
    g.add_argument("--arch", default="baseline", choices=("baseline", "lm"))
    g.add_argument(
        "--bpemodel", type=none_or_str, default=None, help="baseline: sentencepiece model to reuse"
    )
    g.add_argument("--nbpe", type=int, default=1000, help="baseline: vocabulary of the model trained here")
    g.add_argument("--bpemode", default="unigram", choices=("unigram", "bpe"))
    g.add_argument("--lm", default="bert-base-uncased", help="lm: transformers hub id or local model dir")
    g.add_argument("--lm_layers", default="sum_last4", choices=("sum_last4", "last", "cls"))
    g.add_argument("--finetune_lm", type=str2bool, default=False, help="lm: train the LM end to end")
    g.add_argument("--lm_lr", type=float, default=2e-5, help="learning rate of the LM with --finetune_lm")
    g.add_argument(
        "--lm_cache_dir", default="dump/lm_features", help="frozen LM: where its features are cached"
    )
    g.add_argument("--lm_batch_size", type=int, default=32, help="utterances per LM forward when caching")
    g.add_argument("--embed_dim", type=int, default=200, help="baseline: token embedding dimension")
    g.add_argument("--hidden", type=int, default=128, help="BLSTM units per direction")
    g.add_argument("--num_layers", type=int, default=0, help="BLSTM layers (0: 2 for baseline, 3 for lm)")
    g.add_argument("--dropout", type=float, default=0.2)
    g.add_argument("--pooling", default="mean", choices=("mean", "last"), help="over the BLSTM outputs")
    g.add_argument(
        "--weighted_loss",
        default="auto",
        choices=("auto", "true", "false"),
        help="class-weighted cross-entropy (auto: baseline yes, lm no, as in the paper)",
    )
    add_trainer_arguments(
        parser.add_argument_group("training"),
        select_metric="unweighted_f1",
        num_threads_help="torch CPU threads (0: torch's default, which follows OMP_NUM_THREADS); 1 is "
        "fastest for the small BLSTMs on a shared machine",
    )
    parser.add_argument("--progress", type=str2bool, default=True, help="progress bars on stderr")
    cli.add_log_level_argument(parser)
    return parser


# ----------------------------------------------------------------------------------------------------------
# stamps


def _dir_inputs(data_dir: str | Path) -> dict[str, str | None]:
    from speechsent.text.dataset import sentiment_file

    labels = sentiment_file(data_dir)
    return {"text": file_digest(Path(data_dir) / "text"), "labels": file_digest(labels) if labels else None}


def _lm_identity(name: str) -> Any:
    """A local LM dir by its files (name, size, mtime); a hub id by its name."""
    p = Path(name)
    if not p.is_dir():
        return name
    return sorted(
        (str(f.relative_to(p)), f.stat().st_size, f.stat().st_mtime_ns) for f in p.rglob("*") if f.is_file()
    )


def make_stamps(args: argparse.Namespace, score_dirs: Sequence[str]) -> tuple[dict, dict]:
    """(training stamp, scoring stamp): the options and input checksums each part depends on."""
    options = {k: v for k, v in sorted(vars(args).items()) if k not in _NOT_STAMPED | _SCORING_ONLY}
    inputs: dict[str, Any] = {"train": _dir_inputs(args.train_dir), "valid": _dir_inputs(args.valid_dir)}
    if args.train_utt_list:
        inputs["train_utt_list"] = file_digest(args.train_utt_list)
    if args.arch == "baseline" and args.bpemodel:
        inputs["bpemodel"] = file_digest(args.bpemodel)
    if args.arch == "lm":
        inputs["lm"] = _lm_identity(args.lm)
    training = {"options": options, "inputs": inputs}
    scoring = {str(d): _dir_inputs(d) for d in score_dirs}
    # as JSON will read them back (tuples → lists), so a stamp compares equal to its .done file
    return json.loads(json.dumps(training, default=str)), json.loads(json.dumps(scoring, default=str))


# ----------------------------------------------------------------------------------------------------------
# the work


def _loader(dataset: Any, batch_size: int, shuffle: bool, seed: int, dist: Any, num_workers: int) -> Any:
    from torch.utils.data import DataLoader

    from speechsent.training.sampler import BucketBatchSampler

    sampler = BucketBatchSampler(
        dataset.lengths(),
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        rank=dist.rank,
        world_size=dist.world_size,
    )
    return DataLoader(dataset, batch_sampler=sampler, collate_fn=dataset.collate, num_workers=num_workers)


class _Inputs:
    """Turns TextSets into datasets of the chosen input (subword ids, cached LM features or LM token ids)."""

    def __init__(self, args: argparse.Namespace, exp_dir: Path, train_texts: Sequence[str], dist: Any):
        self.args, self.dist = args, dist
        self.encoder = None
        self.tokenizer = None
        self.fingerprint: str | None = None
        if args.arch == "baseline":
            from speechsent.text.tokenize import SubwordTokenizer, train_sentencepiece

            bpe = exp_dir / "bpe.model"
            if args.bpemodel:
                if dist.is_main:
                    shutil.copyfile(args.bpemodel, exp_dir / ".bpe.model.tmp")
                    os.replace(exp_dir / ".bpe.model.tmp", bpe)
            elif dist.is_main:
                train_sentencepiece(
                    train_texts, bpe, vocab_size=args.nbpe, model_type=args.bpemode, seed=args.seed
                )
            _barrier(dist)
            self.tokenizer = SubwordTokenizer(bpe, max_tokens=args.max_tokens)
            self.input_dim = 0
        else:
            from speechsent.text.lm_features import LMEncoder

            self.encoder = LMEncoder.from_pretrained(
                args.lm, layers=args.lm_layers, max_tokens=args.max_tokens
            )
            self.input_dim = self.encoder.hidden_size
            if not args.finetune_lm:
                self.encoder.requires_grad_(False)
                self.fingerprint = self.encoder.fingerprint()

    def dataset(self, text_set: Any) -> Any:
        from speechsent.text.dataset import FeatureDataset, TokenDataset

        if self.tokenizer is not None:
            ids = self.tokenizer.encode_batch(text_set.texts)
            return TokenDataset(text_set.utts, ids, text_set.labels, key="tokens", pad_id=0)
        assert self.encoder is not None
        ids = self.encoder.tokenize(text_set.texts)
        if self.args.finetune_lm:
            return TokenDataset(
                text_set.utts, ids, text_set.labels, key="input_ids", pad_id=self.encoder.pad_id
            )
        from speechsent.text.lm_features import cached_features

        def compute() -> Any:
            return cached_features(
                self.encoder,
                text_set.name,
                text_set.utts,
                ids,
                self.args.lm_cache_dir,
                batch_size=self.args.lm_batch_size,
                device=self.dist.device,
                progress=self.args.progress and self.dist.is_main,
                fingerprint=self.fingerprint,
            )

        # rank 0 computes (and caches) first; the others then read its cache
        store = compute() if self.dist.is_main else None
        _barrier(self.dist)
        if store is None:
            store = compute()
        return FeatureDataset(text_set.utts, store, text_set.labels)


def _barrier(dist: Any) -> None:
    from speechsent.training.distributed import barrier

    barrier(dist)


def train_text_classifier(args: argparse.Namespace) -> dict[str, Any]:
    """Train, select and score one 2-step text classifier; returns ``{"skipped", "scores": {set: dict}}``.

    Idempotent: returns at once when ``<exp_dir>/.done`` holds the same options and input checksums.
    """
    exp_dir = Path(args.exp_dir)
    score_dirs = []
    for d in args.score_dirs.split():
        if (Path(d) / "text").is_file():
            score_dirs.append(d)
        else:
            log.info("score dir %s has no text: not scored", d)
    training_stamp, scoring_stamp = make_stamps(args, score_dirs)
    stamp = {"training": training_stamp, "scoring": scoring_stamp}
    if is_done(exp_dir, stamp, force=args.force):
        return {"skipped": True, "scores": {}}

    import torch

    from speechsent.data.labels import SENTIMENT_LABELS
    from speechsent.models.text_classifier import TextClassifierConfig, build_text_classifier, class_weights
    from speechsent.scoring import score_system, write_predictions
    from speechsent.text.dataset import load_text_set, sentiment_file
    from speechsent.training import Trainer, set_seed
    from speechsent.training.options import check_class_counts, trainer_config_from_args, trainer_run

    with trainer_run(args, exp_dir, training_stamp, training_files=_TRAINING_FILES) as dist:
        set_seed(args.seed)

        train_set = load_text_set(args.train_dir, utt_list=args.train_utt_list)
        valid_set = load_text_set(args.valid_dir, skip_empty=False)  # as scored: the best epoch's score
        counts = train_set.label_counts()
        log.info(
            "train %s: %d utterances (%s), valid %s: %d",
            train_set.name,
            len(train_set),
            ", ".join(f"{label} {n}" for label, n in zip(SENTIMENT_LABELS, counts, strict=True)),
            valid_set.name,
            len(valid_set),
        )
        check_class_counts(
            counts,
            SENTIMENT_LABELS,
            allow=args.allow_missing_classes,
            what=f"train {train_set.name} (after empty transcripts and --train_utt_list)",
        )
        inputs = _Inputs(args, exp_dir, train_set.texts, dist)
        train_data = inputs.dataset(train_set)
        valid_data = inputs.dataset(valid_set)

        num_layers = args.num_layers or (2 if args.arch == "baseline" else 3)
        extra: dict[str, Any] = {"max_tokens": args.max_tokens}
        if args.arch == "lm":
            extra.update(lm=args.lm, lm_layers=args.lm_layers, finetune_lm=args.finetune_lm)
        config = TextClassifierConfig(
            arch=args.arch,
            num_classes=len(SENTIMENT_LABELS),
            vocab_size=inputs.tokenizer.vocab_size if inputs.tokenizer is not None else 0,
            embed_dim=args.embed_dim,
            input_dim=inputs.input_dim,
            hidden=args.hidden,
            num_layers=num_layers,
            dropout=args.dropout,
            pooling=args.pooling,
            extra=extra,
        )
        encoder = inputs.encoder if args.arch == "lm" and args.finetune_lm else None
        model = build_text_classifier(config, encoder=encoder)
        weighted = args.weighted_loss == "true" or (args.weighted_loss == "auto" and args.arch == "baseline")
        weight = class_weights(counts) if weighted else None
        if weight is not None:
            log.info("class weights %s", [round(w, 4) for w in weight.tolist()])
        loss_weight = weight.to(dist.device) if weight is not None else None

        def loss_fn(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            w = loss_weight.to(logits.device) if loss_weight is not None else None
            return torch.nn.functional.cross_entropy(logits.float(), targets, weight=w)

        param_groups = None
        if encoder is not None:
            lm_params = list(encoder.parameters())
            lm_ids = {id(p) for p in lm_params}
            head = [p for p in model.parameters() if id(p) not in lm_ids]
            param_groups = [{"params": lm_params, "lr": args.lm_lr}, {"params": head, "lr": args.lr}]
        trainer_config = trainer_config_from_args(
            args,
            find_unused_parameters=encoder is not None,  # e.g. BERT's pooler: computed, not used
        )
        if dist.is_main:
            write_stamp(
                exp_dir / "model.json",
                {
                    "classifier": config.to_dict(),
                    "tokenizer": (
                        {"kind": "sentencepiece", "model": "bpe.model", "max_tokens": args.max_tokens}
                        if args.arch == "baseline"
                        else {
                            "kind": "lm",
                            "lm": args.lm,
                            "layers": args.lm_layers,
                            "max_tokens": args.max_tokens,
                        }
                    ),
                    "labels": list(SENTIMENT_LABELS),
                    "weights": "best.pth",
                },
            )
        trainer = Trainer(
            model,
            trainer_config,
            exp_dir,
            labels=SENTIMENT_LABELS,
            loss_fn=loss_fn,
            dist=dist,
            device=dist.device,
            param_groups=param_groups,
        )
        start = time.time()
        result = trainer.fit(
            _loader(train_data, args.batch_size, True, args.seed, dist, args.num_workers),
            _loader(valid_data, args.batch_size, False, args.seed, dist, args.num_workers),
        )
        log.info(
            "trained in %.1f s: best epoch %d (%s %.2f), %d epochs run",
            time.time() - start,
            result.best_epoch,
            args.select_metric,
            result.best_metric,
            result.epochs_run,
        )
        trainer.load_best()

        all_scores: dict[str, Any] = {}
        for d in score_dirs:
            score_set = load_text_set(d, skip_empty=False)
            ids, probs = trainer.predict(
                _loader(inputs.dataset(score_set), args.batch_size, False, args.seed, dist, args.num_workers)
            )
            if not dist.is_main:
                continue
            score_dir = exp_dir / f"score_{Path(d).name}"
            utt2prob = {u: [float(p) for p in row] for u, row in zip(ids, probs, strict=True)}
            utt2pred = {
                u: SENTIMENT_LABELS[max(range(len(row)), key=row.__getitem__)] for u, row in utt2prob.items()
            }
            write_predictions(score_dir, utt2pred, utt2prob, SENTIMENT_LABELS)
            ref = sentiment_file(d)
            scores = score_system(score_dir, ref, SENTIMENT_LABELS)
            all_scores[Path(d).name] = scores
            log.info(
                "%s: unweighted F1 %.2f REC %.2f PRE %.2f | weighted F1 %.2f (%d utts)",
                Path(d).name,
                scores["unweighted_f1"],
                scores["unweighted_recall"],
                scores["unweighted_precision"],
                scores["weighted_f1"],
                scores["num_utts"],
            )

        if dist.is_main:
            input_kind = args.input
            if input_kind == "auto":
                input_kind = "asr" if Path(args.train_dir).name.endswith("_asr") else "gt"
            train_name = Path(args.train_dir).name
            system = {
                "system": exp_dir.resolve().name,
                "family": "two_step",
                "architecture": args.arch,
                "input": input_kind,
                "train_set": train_name[: -len("_asr")] if train_name.endswith("_asr") else train_name,
                "train_hours": args.train_hours,
                "lm": args.lm if args.arch == "lm" else None,
                "pseudo_labeler": None,
                "pseudo_sets": None,
                "pseudo_transcript": None,
                "seed": args.seed,
                "select_set": Path(args.valid_dir).name,
                "best_epoch": result.best_epoch,
                "config": {k: v for k, v in sorted(vars(args).items()) if k not in ("config", "log_level")},
            }
            write_stamp(exp_dir / "system.json", system)
            write_stamp(exp_dir / ".done", stamp)
        return {"skipped": False, "scores": all_scores, "best_epoch": result.best_epoch}


def main(argv: Sequence[str] | None = None) -> int:
    parser = get_parser()
    args = cli.parse_args(parser, argv)
    for name in ("train_dir", "valid_dir", "exp_dir"):
        if not getattr(args, name):
            parser.error(f"--{name} is required")
    if args.max_tokens < 1:
        parser.error("--max_tokens must be positive")
    check_trainer_args(parser, args)
    if args.train_hours is not None and not args.train_utt_list:
        parser.error("--train_hours describes a --train_utt_list subset; give the list too")
    cli.setup_logging(args.log_level)
    from speechsent.data.kaldi_dir import KaldiDataError

    return cli.run_reporting_errors(
        lambda: train_text_classifier(args), log, (KaldiDataError, OSError, ValueError, RuntimeError)
    )


if __name__ == "__main__":
    sys.exit(main())
