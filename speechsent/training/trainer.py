"""A classifier trainer shared by the E2E and text systems: epochs, validation with the paper's scores,
best-model selection, early stopping, exact resume, AMP, gradient accumulation and DDP.

(Over 600 lines with this documentation: one class whose epoch loop, exact resume and DDP collectives share
their state; its options and result are in :mod:`speechsent.training.config`.)

Usage::

    from speechsent.training import Trainer, TrainerConfig, set_seed
    set_seed(0)
    model = MyClassifier(...)                       # forward(**batch["inputs"]) -> logits (B, C)
    trainer = Trainer(model, TrainerConfig(max_epochs=20, lr=1e-3), "exp/e2e_blstm", SENTIMENT_LABELS)
    result = trainer.fit(train_loader, valid_loader)  # batches: {"ids", "inputs", "targets"}
    trainer.load_best()
    ids, probs = trainer.predict(test_loader)

Files in ``exp_dir`` (written by rank 0, atomically):

* ``checkpoint.pth`` after every epoch: model, optimizer, scheduler, AMP scaler, epoch, best metric and
  epoch, early-stopping counter, history and every rank's RNG states. With ``config.resume`` a new
  ``fit`` continues from it and gives the same numbers as a run that was never interrupted
  (deterministic data order and kernels assumed; a finished run returns at once).
* ``best.pth``: the model ``state_dict`` of the best validation epoch (``select_metric``).
* ``epoch{N}.pth`` with ``keep_checkpoints``: the model ``state_dict`` of every epoch.
* ``metrics.jsonl``: one JSON object per epoch (``epoch``, ``train_loss``, ``valid_loss``, the validation
  scores of :func:`speechsent.scoring.compute_scores`, ``lr``, ``seconds``, ``best``), rewritten from the
  checkpoint's history so it always matches it.
* ``train.log``: the log lines of ``speechsent.*`` during ``fit`` (one summary line per epoch).

A batch is a dict ``{"ids": list[str], "inputs": dict, "targets": LongTensor (B,)}``; tensors in ``inputs``
and ``targets`` are moved to the device and the model is called as ``model(**batch["inputs"])``. A loader
(or its ``batch_sampler``/``sampler``) with ``set_epoch`` gets ``set_epoch(epoch)`` (1-based) before each
epoch.

Utterances a loader could not use (e.g. a feature matrix with NaN/inf:
:func:`speechsent.data.feats_dataset.collate_feats`) come as ``batch["dropped"]`` (``{utt: what is
wrong}``) and never reach the model. They are passed to the loader's ``dataset.note_dropped`` when it has
one (it names them in the log once), counted per epoch (``dropped_train_utts``/``dropped_valid_utts`` in
``metrics.jsonl``, a warning in ``train.log``) and kept in the checkpoint: :class:`FitResult` has every
one of them (``dropped_train``/``dropped_valid``), also after a resumed run. A batch may then have no
utterance at all (empty ``targets``): it adds nothing; under DDP the model still runs on its ``inputs``
with a zero loss so that the rank takes part in the gradient all-reduce (its ``inputs`` must be a valid
model input). ``skipped_steps`` counts something else: optimizer steps skipped for non-finite gradients.

Under DDP (``dist.world_size > 1``) each rank must get its own share of the training batches, the same
number on every rank (:class:`~speechsent.training.sampler.BucketBatchSampler` with ``rank``/
``world_size`` does this). Losses are averaged over ranks by sample count; validation and prediction
results are gathered from all ranks, and utterances seen twice (batches repeated to even out the shares)
are counted once. Every rank reaches the same early-stopping decision (rank 0's, broadcast).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812 (the usual name)
from torch import Tensor

from speechsent.cli import LOG_FORMAT
from speechsent.scoring import METRIC_KEYS, compute_scores
from speechsent.training.checkpoint import (
    get_rng_state,
    load_checkpoint,
    save_checkpoint,
    set_rng_state,
    set_seed,
)
from speechsent.training.config import FitResult, TrainerConfig, lr_lambda
from speechsent.training.distributed import (
    DistInfo,
    all_gather_objects,
    all_reduce_sums,
    barrier,
    broadcast_object,
)
from speechsent.utils.device import resolve_device
from speechsent.utils.fileio import atomic_write_text

__all__ = ["Batch", "FitResult", "Trainer", "TrainerConfig"]

log = logging.getLogger(__name__)

#: A batch: {"ids": list[str], "inputs": dict[str, Tensor | Any], "targets": LongTensor (B,)}.
Batch = dict[str, Any]

#: Options that may change between a run and its resumption without a warning.
_RESUME_FREE = {"max_epochs", "patience", "resume", "keep_checkpoints", "log_interval", "progress"}


def _set_epoch(loader: Any, epoch: int) -> None:
    """Call ``set_epoch`` of the loader, else of its batch_sampler, else of its sampler."""
    for obj in (loader, getattr(loader, "batch_sampler", None), getattr(loader, "sampler", None)):
        if obj is not None and callable(getattr(obj, "set_epoch", None)):
            obj.set_epoch(epoch)
            return


def _note_dropped(loader: Any, batch: Batch) -> dict[str, str]:
    """``batch["dropped"]`` (``{}`` if none), given to the loader's ``dataset.note_dropped`` if it has one."""
    dropped = batch.get("dropped") or {}
    if dropped:
        note = getattr(getattr(loader, "dataset", None), "note_dropped", None)
        if callable(note):
            note(dropped)
    return dict(dropped)


def _length(loader: Any) -> int | None:
    try:
        return len(loader)
    except TypeError:
        return None


class Trainer:
    """Trains ``model`` (``model(**inputs) -> logits (B, C)``) on classification batches; see the module
    docstring for the files it writes and the DDP contract."""

    def __init__(
        self,
        model: torch.nn.Module,
        config: TrainerConfig,
        exp_dir: str | Path,
        labels: Sequence[str],
        loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
        dist: DistInfo | None = None,
        device: torch.device | str | None = None,
        param_groups: list[dict] | None = None,
    ):
        self.config = config
        self.exp_dir = Path(exp_dir)
        self.labels = list(labels)
        if len(self.labels) < 2:
            raise ValueError(f"need at least 2 labels, got {self.labels}")
        self.loss_fn = loss_fn
        if dist is not None:
            if device is not None and torch.device(device) != dist.device:
                log.warning("device %s ignored: the process group's device is %s", device, dist.device)
            self.device = dist.device
        else:
            self.device = resolve_device(device)  # None: CUDA when available
        self.dist = dist if dist is not None else DistInfo(device=self.device)
        self.is_main = self.dist.is_main
        self.model = model.to(self.device)

        self.amp_dtype: torch.dtype | None = None
        if config.amp is not None:
            if self.device.type == "cuda":
                self.amp_dtype = torch.float16 if config.amp == "fp16" else torch.bfloat16
            else:
                log.warning("amp=%s ignored on %s: training in float32", config.amp, self.device)
        # fp16 needs loss scaling; bf16 has float32's range and does not
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)

        params: Any = param_groups if param_groups is not None else self.model.parameters()
        if config.optimizer == "adam":
            self.optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
        elif config.optimizer == "adamw":
            self.optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
        else:
            self.optimizer = torch.optim.SGD(
                params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay
            )
        self.scheduler: Any = None
        self._step_scheduler = False  # per optimizer step (warmup_linear, cosine) or per epoch (plateau)

        if self.dist.distributed:
            from torch.nn.parallel import DistributedDataParallel

            self.train_model: torch.nn.Module = DistributedDataParallel(
                self.model,
                device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=config.find_unused_parameters,
            )
        else:
            self.train_model = self.model

        self.epoch = 0
        self.global_step = 0
        self.best_metric: float | None = None
        self.best_epoch = 0
        self.bad_epochs = 0
        self.stopped = False
        self.history: list[dict] = []
        self.dropped: dict[str, dict[str, str]] = {"train": {}, "valid": {}}

    # ------------------------------------------------------------------------------------------------
    # set-up

    @property
    def _higher_is_better(self) -> bool:
        return self.config.select_metric != "loss"

    def _build_scheduler(self, steps_per_epoch: int | None) -> None:
        cfg = self.config
        if cfg.scheduler == "plateau":
            self.scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
                self.optimizer,
                mode="max" if self._higher_is_better else "min",
                factor=cfg.plateau_factor,
                patience=cfg.plateau_patience,
                min_lr=cfg.min_lr,
            )
        elif cfg.scheduler in ("warmup_linear", "cosine"):
            if steps_per_epoch is None:
                raise ValueError(f"scheduler {cfg.scheduler} needs a training loader with a len()")
            total = max(1, cfg.max_epochs * steps_per_epoch)
            factor = lr_lambda(cfg.scheduler, cfg.warmup_steps, total)
            self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, factor)
            self._step_scheduler = True
        if cfg.warmup_steps and cfg.scheduler in ("none", "plateau"):
            log.warning("warmup_steps=%d ignored with scheduler %s", cfg.warmup_steps, cfg.scheduler)

    def _open_log(self) -> Callable[[], None]:
        """Add ``exp_dir/train.log`` to the ``speechsent`` logger (rank 0); returns the undo function.

        The file gets what the logging configuration lets through (``cli.setup_logging``: INFO).
        """
        if not self.is_main:
            return lambda: None
        self.exp_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(self.exp_dir / "train.log", encoding="utf-8")
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger = logging.getLogger("speechsent")
        logger.addHandler(handler)

        def close() -> None:
            logger.removeHandler(handler)
            handler.close()

        return close

    # ------------------------------------------------------------------------------------------------
    # checkpoints

    @property
    def checkpoint_path(self) -> Path:
        return self.exp_dir / "checkpoint.pth"

    @property
    def best_path(self) -> Path:
        return self.exp_dir / "best.pth"

    def _state(self, rng_states: list[dict]) -> dict[str, Any]:
        return {
            "epoch": self.epoch,
            "global_step": self.global_step,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "best_metric": self.best_metric,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "stopped": self.stopped,
            "history": self.history,
            "dropped": self.dropped,
            "rng": rng_states,
            "config": self.config.to_dict(),
            "world_size": self.dist.world_size,
            "labels": self.labels,
        }

    def _resume(self) -> bool:
        """Load ``checkpoint.pth`` if there is one (every rank reads it); True when resumed."""
        if not self.config.resume:
            return False
        # every rank must make the same choice, or the ranks would run different collectives and hang
        visible = all_gather_objects(self.checkpoint_path.exists(), self.dist)
        if not visible[0]:
            return False
        if not all(visible):
            raise RuntimeError(
                f"{self.checkpoint_path}: exists for rank 0 but not for rank(s) "
                f"{[r for r, v in enumerate(visible) if not v]}: exp_dir must be on a shared file system"
            )
        state = load_checkpoint(self.checkpoint_path, map_location=self.device)
        changed = {
            k: (v, getattr(self.config, k, None))
            for k, v in state.get("config", {}).items()
            if k not in _RESUME_FREE and getattr(self.config, k, None) != v
        }
        if changed:
            log.warning("resuming with changed options (checkpoint, now): %s", changed)
        if state.get("labels", self.labels) != self.labels:
            raise ValueError(f"{self.checkpoint_path}: labels {state['labels']} differ from {self.labels}")
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state["scheduler"] is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.scaler.load_state_dict(state["scaler"])
        self.epoch = state["epoch"]
        self.global_step = state["global_step"]
        self.best_metric = state["best_metric"]
        self.best_epoch = state["best_epoch"]
        self.bad_epochs = state["bad_epochs"]
        self.stopped = state["stopped"]
        self.history = state["history"]
        dropped = state.get("dropped") or {}
        self.dropped = {k: dict(dropped.get(k) or {}) for k in ("train", "valid")}
        rng = state["rng"]
        if len(rng) == self.dist.world_size:
            set_rng_state(rng[self.dist.rank])
        else:
            log.warning(
                "checkpoint written by %d process(es), now %d: random states not restored exactly",
                len(rng),
                self.dist.world_size,
            )
            set_rng_state(rng[min(self.dist.rank, len(rng) - 1)])
        log.info(
            "resumed from %s after epoch %d (best %s at epoch %d)",
            self.checkpoint_path,
            self.epoch,
            self.best_metric,
            self.best_epoch,
        )
        return True

    def _save(self, improved: bool) -> None:
        rng_states = all_gather_objects(get_rng_state(), self.dist)  # every rank takes part
        if not self.is_main:
            return
        if improved:
            save_checkpoint(self.best_path, self.model.state_dict())
        if self.config.keep_checkpoints:
            save_checkpoint(self.exp_dir / f"epoch{self.epoch}.pth", self.model.state_dict())
        save_checkpoint(self.checkpoint_path, self._state(rng_states))
        atomic_write_text(self.exp_dir / "metrics.jsonl", "".join(json.dumps(h) + "\n" for h in self.history))

    def load_best(self) -> None:
        """Model weights <- ``exp_dir/best.pth`` (on every rank)."""
        if not self.best_path.exists():
            raise FileNotFoundError(f"{self.best_path}: no best model (has fit run an epoch?)")
        self.model.load_state_dict(torch.load(self.best_path, map_location=self.device, weights_only=True))

    # ------------------------------------------------------------------------------------------------
    # batches

    def _to_device(self, batch: Batch) -> tuple[dict[str, Any], Tensor | None]:
        inputs = {
            k: v.to(self.device, non_blocking=True) if isinstance(v, Tensor) else v
            for k, v in batch["inputs"].items()
        }
        targets = batch.get("targets")
        if targets is not None:
            targets = targets.to(self.device, non_blocking=True)
        return inputs, targets

    def _autocast(self) -> contextlib.AbstractContextManager:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    def _loss(self, logits: Tensor, targets: Tensor) -> Tensor:
        logits = logits.float()
        if self.loss_fn is None:
            return F.cross_entropy(logits, targets)
        return self.loss_fn(logits, targets)

    def _per_sample_loss(self, logits: Tensor, targets: Tensor) -> Tensor:
        """Loss of each sample (so that duplicates across ranks can be dropped before averaging)."""
        logits = logits.float()
        if self.loss_fn is None:
            return F.cross_entropy(logits, targets, reduction="none")
        return torch.stack([self.loss_fn(logits[i : i + 1], targets[i : i + 1]) for i in range(len(targets))])

    def _progress(self, loader: Iterable[Batch], desc: str) -> Any:
        from tqdm import tqdm

        return tqdm(
            loader,
            total=_length(loader),
            desc=desc,
            disable=not (self.is_main and self.config.progress),
            leave=False,
            dynamic_ncols=True,
        )

    # ------------------------------------------------------------------------------------------------
    # training

    def _optimizer_step(self) -> bool:
        """Clip, step, update the scaler; False when the step was skipped (non-finite gradients)."""
        cfg = self.config
        self.scaler.unscale_(self.optimizer)
        params = [p for group in self.optimizer.param_groups for p in group["params"] if p.grad is not None]
        # clip_grad_norm_ with an infinite max only measures the norm (to detect non-finite gradients)
        norm = torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip if cfg.grad_clip > 0 else math.inf)
        if self.scaler.is_enabled():
            scale = self.scaler.get_scale()
            self.scaler.step(self.optimizer)  # skips the step itself on inf/nan gradients
            self.scaler.update()
            stepped = self.scaler.get_scale() >= scale
        elif torch.isfinite(norm):
            self.optimizer.step()
            stepped = True
        else:
            stepped = False  # gradients are all-reduced: every rank skips the same step
        self.optimizer.zero_grad(set_to_none=True)
        if stepped:
            self.global_step += 1
            if self._step_scheduler:
                self.scheduler.step()
        return stepped

    def _train_epoch(self, loader: Iterable[Batch], epoch: int) -> tuple[float, int, dict[str, str]]:
        """One epoch; returns (mean training loss over all ranks' samples, skipped steps, the utterances
        the loader dropped on any rank)."""
        cfg = self.config
        self.train_model.train()
        n_batches = _length(loader)
        loss_sum = torch.zeros((), dtype=torch.float64, device=self.device)
        count = 0
        skipped = 0
        dropped: dict[str, str] = {}
        self.optimizer.zero_grad(set_to_none=True)
        bar = self._progress(loader, f"epoch {epoch}/{cfg.max_epochs}")
        group_start = 0
        group_count = 0  # samples of the current accumulation group
        num_seen = 0
        for i, batch in enumerate(bar):
            num_seen = i + 1
            dropped.update(_note_dropped(loader, batch))
            inputs, targets = self._to_device(batch)
            # the last group of an epoch may be shorter than accum_grad
            group = cfg.accum_grad
            if n_batches is not None and n_batches - group_start < cfg.accum_grad:
                group = n_batches - group_start
            last_in_group = (i + 1 - group_start) == group
            sync = contextlib.nullcontext()
            if self.dist.distributed and not last_in_group:
                sync = self.train_model.no_sync()  # all-reduce gradients once per optimizer step
            n = len(targets)
            if n:
                with sync:
                    with self._autocast():
                        logits = self.train_model(**inputs)
                    loss = self._loss(logits, targets)
                    self.scaler.scale(loss / group).backward()
                loss_sum += loss.detach().double() * n
                count += n
                group_count += n
            elif self.dist.distributed:
                # nothing to learn from (every utterance dropped), but the other ranks wait for this
                # one's gradients: a zero loss on the placeholder input takes part in the all-reduce
                with sync:
                    with self._autocast():
                        logits = self.train_model(**inputs)
                    self.scaler.scale(logits.float().sum() * 0.0).backward()
            if last_in_group:
                skipped += not self._finish_group(group_count)
                group_start, group_count = i + 1, 0
            if self.is_main and (i + 1) % cfg.log_interval == 0:
                bar.set_postfix(loss=f"{loss_sum.item() / max(count, 1):.4f}")
        if num_seen > group_start:
            skipped += not self._finish_group(group_count)  # an unsized loader's incomplete last group
        bar.close()
        total, total_count, total_skipped = all_reduce_sums([loss_sum.item(), count, skipped], self.dist)
        for rank_dropped in all_gather_objects(dropped, self.dist):
            dropped.update(rank_dropped)
        return total / max(total_count, 1.0), int(total_skipped), dropped

    def _finish_group(self, group_count: int) -> bool:
        """The optimizer step at the end of an accumulation group; a group without a sample (all of its
        utterances dropped) makes none in a single process. False when a step was skipped (non-finite
        gradients)."""
        if group_count == 0 and not self.dist.distributed:
            self.optimizer.zero_grad(set_to_none=True)
            return True
        return self._optimizer_step()

    @torch.no_grad()
    def _evaluate(self, loader: Iterable[Batch], desc: str, with_loss: bool) -> dict[str, Any]:
        """Every utterance of ``loader`` once, gathered from all ranks: ids, probs, targets, losses."""
        self.model.eval()
        records = []
        for batch in self._progress(loader, desc):
            batch_dropped = _note_dropped(loader, batch)
            if not batch["ids"]:  # every utterance dropped; a record all the same (one per batch: see below)
                records.append({"ids": [], "dropped": batch_dropped})
                continue
            inputs, targets = self._to_device(batch)
            with self._autocast():
                logits = self.model(**inputs)  # not the DDP wrapper: no collective in the forward
            logits = logits.float()
            record = {"ids": list(batch["ids"]), "probs": torch.softmax(logits, dim=-1).cpu().numpy()}
            if batch_dropped:
                record["dropped"] = batch_dropped
            if targets is not None:
                record["targets"] = targets.cpu().numpy()
                if with_loss:
                    record["losses"] = self._per_sample_loss(logits, targets).cpu().numpy()
            records.append(record)
        per_rank = all_gather_objects(records, self.dist)
        # interleave the ranks' batches: BucketBatchSampler deals batches round-robin, so this is the
        # order of a single process; the first occurrence of an utterance wins
        seen: set[str] = set()
        ids: list[str] = []
        dropped: dict[str, str] = {}
        keep: dict[str, list] = {"probs": [], "targets": [], "losses": []}
        for k in range(max((len(r) for r in per_rank), default=0)):
            for rank_records in per_rank:
                if k >= len(rank_records):
                    continue
                rec = rank_records[k]
                dropped.update(rec.get("dropped", {}))
                for j, utt in enumerate(rec["ids"]):
                    if utt in seen:
                        continue
                    seen.add(utt)
                    ids.append(utt)
                    for key in keep:
                        if key in rec:
                            keep[key].append(rec[key][j])
        out: dict[str, Any] = {"ids": ids, "dropped": dropped}
        for key, values in keep.items():
            out[key] = np.stack(values) if values else None
        if out["probs"] is None:
            out["probs"] = np.zeros((0, len(self.labels)), dtype=np.float32)
        return out

    def _validate(self, loader: Iterable[Batch], epoch: int) -> dict[str, Any]:
        ev = self._evaluate(loader, f"valid {epoch}", with_loss=True)
        if not ev["ids"]:
            n = len(ev["dropped"])
            dropped = f" ({n} left out as unusable, e.g. NaN/inf features)" if n else ""
            raise ValueError(f"the validation loader gave no utterances{dropped}")
        if ev["targets"] is None or len(ev["targets"]) != len(ev["ids"]):
            raise ValueError("every validation batch needs 'targets'")
        targets = ev["targets"].astype(np.int64)
        if targets.min() < 0 or targets.max() >= len(self.labels):
            raise ValueError(f"validation targets outside 0..{len(self.labels) - 1}")
        hyps = ev["probs"].argmax(axis=1)
        scores = compute_scores(
            [self.labels[t] for t in targets], [self.labels[h] for h in hyps], self.labels
        )
        return {"valid_loss": float(np.mean(ev["losses"])), "scores": scores, "dropped": ev["dropped"]}

    def fit(self, train_loader: Iterable[Batch], valid_loader: Iterable[Batch]) -> FitResult:
        """Train up to ``max_epochs`` (early stopping after ``patience`` epochs without improvement);
        validates every epoch and writes the exp_dir files. Returns the :class:`FitResult`.

        The model keeps the weights of the last epoch: call :meth:`load_best` for the best ones.
        """
        cfg = self.config
        close_log = self._open_log()
        try:
            n_batches = _length(train_loader)
            if n_batches is None and self.dist.distributed and cfg.accum_grad > 1:
                # the end of the last accumulation group must be known on every rank to all-reduce it
                raise ValueError("accum_grad > 1 under DDP needs a training loader with a len()")
            self._build_scheduler(None if n_batches is None else math.ceil(n_batches / cfg.accum_grad))
            if not self._resume():
                set_seed(cfg.seed + self.dist.rank)
            if self.stopped or self.epoch >= cfg.max_epochs:
                log.info("training already finished (epoch %d, best epoch %d)", self.epoch, self.best_epoch)
            while not self.stopped and self.epoch < cfg.max_epochs:
                self._run_epoch(train_loader, valid_loader)
            barrier(self.dist)
            return FitResult(
                self.best_epoch,
                math.nan if self.best_metric is None else self.best_metric,
                self.epoch,
                list(self.history),
                dict(self.dropped["train"]),
                dict(self.dropped["valid"]),
            )
        finally:
            close_log()

    def _run_epoch(self, train_loader: Iterable[Batch], valid_loader: Iterable[Batch]) -> None:
        cfg = self.config
        epoch = self.epoch + 1
        start = time.perf_counter()
        _set_epoch(train_loader, epoch)
        _set_epoch(valid_loader, epoch)
        lr = self.optimizer.param_groups[0]["lr"]
        train_loss, skipped, dropped_train = self._train_epoch(train_loader, epoch)
        valid = self._validate(valid_loader, epoch)
        self.dropped["train"].update(dropped_train)
        self.dropped["valid"].update(valid["dropped"])
        scores = valid["scores"]
        metric = valid["valid_loss"] if cfg.select_metric == "loss" else scores[cfg.select_metric]
        # rank 0 decides (every rank has the same gathered numbers; the broadcast makes it certain)
        improved = self._improved(metric)
        improved = bool(broadcast_object(improved, self.dist))
        if improved:
            self.best_metric, self.best_epoch, self.bad_epochs = float(metric), epoch, 0
        else:
            self.bad_epochs += 1
        if cfg.patience > 0 and self.bad_epochs >= cfg.patience:
            self.stopped = True
        self.stopped = bool(broadcast_object(self.stopped, self.dist))
        if cfg.scheduler == "plateau":
            self.scheduler.step(metric)
        self.epoch = epoch
        record = {
            "epoch": epoch,
            "train_loss": train_loss,
            "valid_loss": valid["valid_loss"],
            **{k: scores[k] for k in METRIC_KEYS},
            "num_utts": scores["num_utts"],
            "confusion": scores["confusion"],
            "lr": lr,
            "seconds": round(time.perf_counter() - start, 3),
            "best": improved,
        }
        if skipped:
            record["skipped_steps"] = skipped
            log.warning("epoch %d: %d optimizer step(s) skipped (non-finite gradients)", epoch, skipped)
        for part, part_dropped in (("train", dropped_train), ("valid", valid["dropped"])):
            if part_dropped:
                record[f"dropped_{part}_utts"] = len(part_dropped)
                log.warning(
                    "epoch %d: %d %s utterance(s) left out by the loader (unusable input, e.g. NaN/inf "
                    "features; each named when first read): %s%s",
                    epoch,
                    len(part_dropped),
                    "training" if part == "train" else "validation",
                    " ".join(sorted(part_dropped)[:5]),
                    " ..." if len(part_dropped) > 5 else "",
                )
        self.history.append(record)
        self._save(improved)
        best = "nan" if self.best_metric is None else f"{self.best_metric:.4g}"
        log.info(
            "epoch %d/%d: train_loss %.4f valid_loss %.4f unweighted_f1 %.2f%s (best %s @ epoch %d) "
            "lr %.3g %.1fs%s",
            epoch,
            cfg.max_epochs,
            train_loss,
            valid["valid_loss"],
            scores["unweighted_f1"],
            "" if cfg.select_metric == "unweighted_f1" else f" {cfg.select_metric} {metric:.4g}",
            best,
            self.best_epoch,
            lr,
            record["seconds"],
            f"; early stop: {self.bad_epochs} epochs without improvement" if self.stopped else "",
        )

    def _improved(self, metric: float) -> bool:
        if not math.isfinite(metric):
            return False
        if self.best_metric is None:
            return True
        return metric > self.best_metric if self._higher_is_better else metric < self.best_metric

    # ------------------------------------------------------------------------------------------------
    # inference

    def predict(self, loader: Iterable[Batch]) -> tuple[list[str], np.ndarray]:
        """Class probabilities of every utterance of ``loader`` (gathered from all ranks, each utterance
        once, in the loader's order; batches need no ``targets``): ``(ids, probs (N, C))``. Utterances the
        loader dropped are not among ``ids``."""
        ev = self._evaluate(loader, "predict", with_loss=False)
        return ev["ids"], ev["probs"].astype(np.float32)
