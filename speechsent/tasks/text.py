"""The 2-step text task (stage 8): sentiment classifiers on transcripts.

:class:`TextConfig` holds the options of ``speechsent-train-text-classifier`` (same names and defaults;
the option reference is that program's ``--help``); :class:`TextTask` turns the data dirs' ``text`` into
subword ids (``arch baseline``: a sentencepiece model trained here or ``bpemodel``) or LM inputs (``arch
lm``: cached frozen LM features, or token ids for a fine-tuned LM), builds the classifier and scores every
existing dir of ``score_dirs``. The lifecycle is :class:`speechsent.tasks.abs_task.AbsTask`'s. From Python::

    from speechsent.tasks.text import TextConfig, TextTask
    TextTask.run(TextConfig(train_dir="data/swbd_train", valid_dir="data/swbd_test",
                            score_dirs="data/swbd_holdout", exp_dir="exp/text_baseline_gt"))
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speechsent.tasks.abs_task import AbsTask, Built, ConfigError, ScoreTarget, SetPrediction, barrier
from speechsent.tasks.manifests import SystemManifest, TextModelManifest
from speechsent.tasks.text_args import add_text_arguments
from speechsent.training.options import TrainerOptions
from speechsent.utils.digest import file_digest
from speechsent.utils.fileio import atomic_write_bytes

__all__ = ["TextConfig", "TextTask"]

log = logging.getLogger("speechsent.train_text_classifier")


@dataclass
class TextConfig(TrainerOptions):
    """The options of ``speechsent-train-text-classifier`` (see its ``--help``)."""

    train_dir: str | None = None
    train_utt_list: str | None = None
    train_hours: float | None = None
    valid_dir: str | None = None
    score_dirs: str = ""
    input: str = "auto"
    exp_dir: str | None = None
    max_tokens: int = 500
    arch: str = "baseline"
    bpemodel: str | None = None
    nbpe: int = 1000
    bpemode: str = "unigram"
    lm: str = "bert-base-uncased"
    lm_layers: str = "sum_last4"
    finetune_lm: bool = False
    lm_lr: float = 2e-5
    lm_cache_dir: str = "dump/lm_features"
    lm_batch_size: int = 32
    embed_dim: int = 200
    hidden: int = 128
    num_layers: int = 0
    dropout: float = 0.2
    pooling: str = "mean"
    weighted_loss: str = "auto"


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


class _Inputs:
    """Turns TextSets into datasets of the chosen input (subword ids, cached LM features or LM token ids)."""

    def __init__(self, config: TextConfig, exp_dir: Path, train_texts: Sequence[str], dist: Any):
        self.config, self.dist = config, dist
        self.encoder = None
        self.tokenizer = None
        self.fingerprint: str | None = None
        if config.arch == "baseline":
            from speechsent.text.tokenize import SubwordTokenizer, train_sentencepiece

            bpe = exp_dir / "bpe.model"
            if config.bpemodel:
                if dist.is_main:
                    atomic_write_bytes(bpe, Path(config.bpemodel).read_bytes())
            elif dist.is_main:
                train_sentencepiece(
                    train_texts, bpe, vocab_size=config.nbpe, model_type=config.bpemode, seed=config.seed
                )
            barrier(dist)
            self.tokenizer = SubwordTokenizer(bpe, max_tokens=config.max_tokens)
            self.input_dim = 0
        else:
            from speechsent.text.lm_features import LMEncoder

            self.encoder = LMEncoder.from_pretrained(
                config.lm, layers=config.lm_layers, max_tokens=config.max_tokens
            )
            self.input_dim = self.encoder.hidden_size
            if not config.finetune_lm:
                self.encoder.requires_grad_(False)
                self.fingerprint = self.encoder.fingerprint()

    def dataset(self, text_set: Any) -> Any:
        from speechsent.text.dataset import FeatureDataset, TokenDataset

        if self.tokenizer is not None:
            ids = self.tokenizer.encode_batch(text_set.texts)
            return TokenDataset(text_set.utts, ids, text_set.labels, key="tokens", pad_id=0)
        assert self.encoder is not None
        ids = self.encoder.tokenize(text_set.texts)
        if self.config.finetune_lm:
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
                self.config.lm_cache_dir,
                batch_size=self.config.lm_batch_size,
                device=self.dist.device,
                progress=self.config.progress and self.dist.is_main,
                fingerprint=self.fingerprint,
            )

        # rank 0 computes (and caches) first; the others then read its cache
        store = compute() if self.dist.is_main else None
        barrier(self.dist)
        if store is None:
            store = compute()
        return FeatureDataset(text_set.utts, store, text_set.labels)


class TextTask(AbsTask[TextConfig]):
    """Train, select and score one 2-step text classifier."""

    config_class = TextConfig
    log = log
    training_files = ("checkpoint.pth", "best.pth", "metrics.jsonl", "model.json", "bpe.model", "system.json")
    not_stamped = frozenset(
        {"config", "log_level", "progress", "num_workers", "num_threads", "lm_cache_dir", "lm_batch_size"}
        | {"ngpu", "force", "allow_missing_classes"}
    )
    scoring_only = frozenset({"score_dirs"})
    metric_format = "%.2f"

    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        add_text_arguments(parser)

    @classmethod
    def check_config(cls, config: TextConfig) -> None:
        for name in ("train_dir", "valid_dir", "exp_dir"):
            if not getattr(config, name):
                raise ConfigError(f"--{name} is required")
        if config.max_tokens < 1:
            raise ConfigError("--max_tokens must be positive")
        super().check_config(config)
        if config.train_hours is not None and not config.train_utt_list:
            raise ConfigError("--train_hours describes a --train_utt_list subset; give the list too")

    def score_targets(self) -> list[ScoreTarget]:
        from speechsent.text.dataset import sentiment_file

        targets = []
        for d in self.config.score_dirs.split():
            if (Path(d) / "text").is_file():
                targets.append(ScoreTarget(Path(d).name, Path(d), sentiment_file(d)))
            else:
                log.info("score dir %s has no text: not scored", d)
        return targets

    def input_stamps(self, targets: Sequence[ScoreTarget]) -> tuple[dict, dict]:
        c = self.config
        assert c.train_dir is not None and c.valid_dir is not None
        inputs: dict[str, Any] = {"train": _dir_inputs(c.train_dir), "valid": _dir_inputs(c.valid_dir)}
        if c.train_utt_list:
            inputs["train_utt_list"] = file_digest(c.train_utt_list)
        if c.arch == "baseline" and c.bpemodel:
            inputs["bpemodel"] = file_digest(c.bpemodel)
        if c.arch == "lm":
            inputs["lm"] = _lm_identity(c.lm)
        dirs = [d for d in c.score_dirs.split() if (Path(d) / "text").is_file()]
        return inputs, {str(d): _dir_inputs(d) for d in dirs}

    def build(self, dist: Any) -> Built:
        from speechsent.data.labels import SENTIMENT_LABELS
        from speechsent.models.text_classifier import build_text_classifier, class_weights
        from speechsent.text.dataset import load_text_set
        from speechsent.training import set_seed
        from speechsent.training.options import check_class_counts, trainer_config_from_options

        c = self.config
        set_seed(c.seed)
        train_set = load_text_set(c.train_dir, utt_list=c.train_utt_list)
        valid_set = load_text_set(c.valid_dir, skip_empty=False)  # as scored: the best epoch's score
        counts = train_set.label_counts()
        log.info(
            "train %s: %d utterances (%s), valid %s: %d",
            train_set.name,
            len(train_set),
            ", ".join(f"{label} {n}" for label, n in zip(SENTIMENT_LABELS, counts, strict=True)),
            valid_set.name,
            len(valid_set),
        )
        what = f"train {train_set.name} (after empty transcripts and --train_utt_list)"
        check_class_counts(counts, SENTIMENT_LABELS, allow=c.allow_missing_classes, what=what)
        inputs = _Inputs(c, self.exp_dir, train_set.texts, dist)
        train_data = inputs.dataset(train_set)
        valid_data = inputs.dataset(valid_set)

        manifest = self._model_manifest(inputs)
        encoder = inputs.encoder if c.arch == "lm" and c.finetune_lm else None
        model = build_text_classifier(manifest.classifier, encoder=encoder)
        weighted = c.weighted_loss == "true" or (c.weighted_loss == "auto" and c.arch == "baseline")
        param_groups = None
        if encoder is not None:
            lm_params = list(encoder.parameters())
            lm_ids = {id(p) for p in lm_params}
            head = [p for p in model.parameters() if id(p) not in lm_ids]
            param_groups = [{"params": lm_params, "lr": c.lm_lr}, {"params": head, "lr": c.lr}]
        # find_unused_parameters: e.g. BERT's pooler, computed, not used
        trainer_config = trainer_config_from_options(c, find_unused_parameters=encoder is not None)
        return Built(
            train_data,
            valid_data,
            model,
            manifest,
            SENTIMENT_LABELS,
            trainer_config,
            class_weight=class_weights(counts) if weighted else None,
            trainer_kwargs={"device": dist.device, "param_groups": param_groups},
            state={"inputs": inputs},
        )

    def _model_manifest(self, inputs: _Inputs) -> TextModelManifest:
        """The classifier's config and tokenizer (model.json)."""
        from speechsent.data.labels import SENTIMENT_LABELS
        from speechsent.models.text_classifier import TextClassifierConfig

        c = self.config
        extra: dict[str, Any] = {"max_tokens": c.max_tokens}
        if c.arch == "lm":
            extra.update(lm=c.lm, lm_layers=c.lm_layers, finetune_lm=c.finetune_lm)
        config = TextClassifierConfig(
            arch=c.arch,
            num_classes=len(SENTIMENT_LABELS),
            vocab_size=inputs.tokenizer.vocab_size if inputs.tokenizer is not None else 0,
            embed_dim=c.embed_dim,
            input_dim=inputs.input_dim,
            hidden=c.hidden,
            num_layers=c.num_layers or (2 if c.arch == "baseline" else 3),
            dropout=c.dropout,
            pooling=c.pooling,
            extra=extra,
        )
        tokenizer = (
            {"kind": "sentencepiece", "model": "bpe.model", "max_tokens": c.max_tokens}
            if c.arch == "baseline"
            else {"kind": "lm", "lm": c.lm, "layers": c.lm_layers, "max_tokens": c.max_tokens}
        )
        return TextModelManifest(config.to_dict(), tokenizer, list(SENTIMENT_LABELS), "best.pth")

    def lengths(self, dataset: Any) -> Sequence[int]:
        return dataset.lengths()

    def collate(self, dataset: Any) -> Any:
        return dataset.collate

    def predict_set(self, trainer: Any, built: Built, target: ScoreTarget, dist: Any) -> SetPrediction | None:
        from speechsent.text.dataset import load_text_set

        score_set = load_text_set(target.inputs, skip_empty=False)
        ids, probs = trainer.predict(self.loader(built.state["inputs"].dataset(score_set), False, dist))
        if not dist.is_main:
            return None
        utt2prob = {u: [float(p) for p in row] for u, row in zip(ids, probs, strict=True)}
        return SetPrediction(utt2prob, target.labels)  # type: ignore[arg-type]

    def system_manifest(self, built: Built, fit: Any) -> SystemManifest:
        c = self.config
        assert c.train_dir is not None and c.valid_dir is not None
        train_name = Path(c.train_dir).name
        input_kind = c.input
        if input_kind == "auto":
            input_kind = "asr" if train_name.endswith("_asr") else "gt"
        return SystemManifest(
            system=self.exp_dir.resolve().name,
            family="two_step",
            architecture=c.arch,
            input=input_kind,
            train_set=train_name[: -len("_asr")] if train_name.endswith("_asr") else train_name,
            train_hours=c.train_hours,
            lm=c.lm if c.arch == "lm" else None,
            seed=c.seed,
            select_set=Path(c.valid_dir).name,
            best_epoch=fit.best_epoch,
            config={k: v for k, v in self.options().items() if k not in ("config", "log_level")},
        )
