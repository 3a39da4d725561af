"""Fine-tuning a pre-trained encoder on GLUE SST-2 into a binary pseudo labeler (paper §3.2.2, §4.3).

::

    from speechsent.text.sst2 import SST2Options, finetune_sst2
    results = finetune_sst2("bert-base-uncased", "downloads/SST-2", "exp/pseudo_labeler_bert",
                            SST2Options(epochs=3, batch_size=32, lr=2e-5))

Any checkpoint that ``AutoModelForSequenceClassification`` can load (BERT, DistilBERT, RoBERTa, XLNet ...; a
hub id or a dir) gets a fresh 2-class head with ``id2label = {0: "Negative", 1: "Positive"}`` (SST-2's order)
and is trained on ``<sst2_dir>/train.tsv`` (GLUE's SST-2 files: a ``sentence<TAB>label`` header, label 0 or 1)
with AdamW and a linear warmup/decay schedule. After every epoch the accuracy on ``dev.tsv`` is logged, the
best epoch's model kept (``<out_dir>/sst2_work/best``) and a checkpoint written
(``<out_dir>/sst2_work/checkpoint.pth``: model, optimizer, schedule, scaler, RNG, history), so that an
interrupted run resumes at the next epoch. At the end the best model + tokenizer are saved in ``out_dir``
(``save_pretrained``) with ``labeler.json`` and ``sst2_results.json`` (per-epoch dev accuracy, the best epoch;
written last: it marks the fine-tuning as done) and the work dir is removed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from speechsent.data.kaldi_dir import atomic_write_text
from speechsent.data.labels import PSEUDO_LABELS

__all__ = ["SST2FormatError", "SST2Options", "finetune_sst2", "read_sst2_tsv", "sst2_stamp"]

logger = logging.getLogger(__name__)

RESULTS_JSON = "sst2_results.json"
_ID2LABEL = dict(enumerate(PSEUDO_LABELS))  # SST-2: 0 = negative, 1 = positive


class SST2FormatError(ValueError):
    """A malformed SST-2 TSV file; the message starts with ``file:line:``."""


def read_sst2_tsv(path: str | Path) -> tuple[list[str], list[int]]:
    """Sentences and labels (0 = Negative, 1 = Positive) of a GLUE SST-2 TSV file.

    The first line is the header and must name the ``sentence`` and ``label`` columns (any order, other
    columns allowed). Every other line must have the header's number of tab-separated fields, a non-empty
    sentence and a label 0 or 1; anything else raises :class:`SST2FormatError` naming the file and line.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError as error:
        raise SST2FormatError(f"{path}: not UTF-8 ({error})") from None
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise SST2FormatError(f"{path}: empty file (expected a 'sentence<TAB>label' header)")
    header = lines[0].rstrip("\r").split("\t")
    if "sentence" not in header or "label" not in header:
        raise SST2FormatError(f"{path}:1: header {header} lacks the 'sentence' and 'label' columns")
    s_col, l_col = header.index("sentence"), header.index("label")
    sentences: list[str] = []
    labels: list[int] = []
    for lineno, line in enumerate(lines[1:], start=2):
        fields = line.rstrip("\r").split("\t")
        if len(fields) != len(header):
            raise SST2FormatError(
                f"{path}:{lineno}: expected {len(header)} tab-separated fields, "
                f"got {len(fields)}: {line[:80]!r}"
            )
        sentence, label = fields[s_col].strip(), fields[l_col].strip()
        if not sentence:
            raise SST2FormatError(f"{path}:{lineno}: empty sentence")
        if label not in ("0", "1"):
            raise SST2FormatError(f"{path}:{lineno}: label must be 0 or 1, got {label!r}")
        sentences.append(sentence)
        labels.append(int(label))
    if not sentences:
        raise SST2FormatError(f"{path}: no examples after the header")
    return sentences, labels


@dataclass
class SST2Options:
    """Fine-tuning options (the defaults are the usual ones for BERT-base on SST-2)."""

    epochs: int = 3
    batch_size: int = 32
    lr: float = 2e-5
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06  # share of the optimizer steps with a linearly rising learning rate
    max_length: int = 128  # training tokens per sentence (SST-2 sentences are short)
    grad_clip: float = 1.0  # 0: off
    seed: int = 0
    amp: str | None = None  # None | fp16 | bf16 | auto (GPU only)
    max_train_samples: int = 0  # 0: all of train.tsv (a smaller number: quick runs)
    device: str = "auto"
    eval_batch_tokens: int | None = None  # None: by device

    def stamp(self) -> dict[str, Any]:
        """What changes the trained model (device and evaluation batching do not)."""
        d = asdict(self)
        d.pop("device")
        d.pop("eval_batch_tokens")
        return d


def _file_id(path: Path) -> dict[str, Any]:
    return {"path": str(path.resolve()), "sha1": hashlib.sha1(path.read_bytes()).hexdigest()}


def sst2_stamp(model: str | Path, sst2_dir: str | Path, options: SST2Options) -> dict[str, Any]:
    """The identity of a fine-tuning run: model, data files (content) and options."""
    model_ref = str(Path(model).resolve()) if Path(model).is_dir() else str(model)
    d = Path(sst2_dir)
    return {
        "model": model_ref,
        "train": _file_id(d / "train.tsv"),
        "dev": _file_id(d / "dev.tsv"),
        "options": options.stamp(),
    }


def _set_seed(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _atomic_torch_save(obj: Any, path: Path) -> None:
    import torch

    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _save_best(model: Any, tokenizer: Any, best_dir: Path) -> None:
    """``save_pretrained`` into a temp dir, then swapped in (never a half-written best model)."""
    tmp = best_dir.with_name(best_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    old = best_dir.with_name(best_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if best_dir.exists():
        os.replace(best_dir, old)
    os.replace(tmp, best_dir)
    shutil.rmtree(old, ignore_errors=True)


def finetune_sst2(
    model: str | Path,
    sst2_dir: str | Path,
    out_dir: str | Path,
    options: SST2Options | None = None,
    *,
    name: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Fine-tune ``model`` on SST-2 into ``out_dir`` (see the module doc); return the results dict.

    Nothing is done when ``<out_dir>/sst2_results.json`` holds the same stamp (model, data, options).
    """
    import torch
    from tqdm import tqdm
    from transformers import (
        AutoModelForSequenceClassification,
        AutoTokenizer,
        get_linear_schedule_with_warmup,
    )

    from speechsent.text.labelers import (
        LABELER_JSON,
        model_inputs,
        predict_logits,
        resolve_amp_dtype,
        resolve_device,
    )

    opts = options or SST2Options()
    out = Path(out_dir)
    sst2 = Path(sst2_dir)
    for f in ("train.tsv", "dev.tsv"):
        if not (sst2 / f).is_file():
            raise FileNotFoundError(
                f"{sst2 / f} not found (--sst2_dir must hold GLUE SST-2's train.tsv and dev.tsv)"
            )
    train_x, train_y = read_sst2_tsv(sst2 / "train.tsv")
    dev_x, dev_y = read_sst2_tsv(sst2 / "dev.tsv")
    stamp = sst2_stamp(model, sst2, opts)
    results_file = out / RESULTS_JSON
    if results_file.is_file():
        try:
            done = json.loads(results_file.read_text(encoding="utf-8"))
        except ValueError:
            done = {}
        if done.get("stamp") == stamp:
            logger.info("%s: already fine-tuned (best epoch %s)", out, done.get("best_epoch"))
            return done
    if opts.max_train_samples and opts.max_train_samples < len(train_x):
        pick = sorted(random.Random(opts.seed).sample(range(len(train_x)), opts.max_train_samples))
        train_x, train_y = [train_x[i] for i in pick], [train_y[i] for i in pick]
    work = out / "sst2_work"
    work.mkdir(parents=True, exist_ok=True)
    device = resolve_device(opts.device)
    amp_dtype = resolve_amp_dtype(opts.amp, device)
    _set_seed(opts.seed)
    model_ref = stamp["model"]
    tokenizer = AutoTokenizer.from_pretrained(model_ref)
    if tokenizer.pad_token is None and getattr(tokenizer, "eos_token", None) is not None:
        tokenizer.pad_token = tokenizer.eos_token  # GPT-style tokenizers have no pad token
    net = AutoModelForSequenceClassification.from_pretrained(
        model_ref,
        num_labels=2,
        id2label=_ID2LABEL,
        label2id={v: k for k, v in _ID2LABEL.items()},
        ignore_mismatched_sizes=True,  # a checkpoint with another head gets a fresh 2-class one
    )
    if net.config.pad_token_id is None and tokenizer.pad_token_id is not None:
        net.config.pad_token_id = tokenizer.pad_token_id
    net.to(device)
    accepted = model_inputs(net)

    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")
    groups = [
        {
            "params": [p for n, p in net.named_parameters() if not any(k in n for k in no_decay)],
            "weight_decay": opts.weight_decay,
        },
        {
            "params": [p for n, p in net.named_parameters() if any(k in n for k in no_decay)],
            "weight_decay": 0.0,
        },
    ]
    optimizer = torch.optim.AdamW(groups, lr=opts.lr)
    steps_per_epoch = math.ceil(len(train_x) / opts.batch_size)
    total_steps = steps_per_epoch * opts.epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, int(opts.warmup_ratio * total_steps), total_steps)
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)

    history: list[dict[str, Any]] = []
    best_acc, best_epoch, start_epoch = -1.0, 0, 1
    ckpt_file = work / "checkpoint.pth"
    if ckpt_file.is_file():
        ckpt = torch.load(ckpt_file, map_location=device, weights_only=False)
        if ckpt.get("stamp") == stamp:
            net.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            scheduler.load_state_dict(ckpt["scheduler"])
            scaler.load_state_dict(ckpt["scaler"])
            history, best_acc, best_epoch = ckpt["history"], ckpt["best_acc"], ckpt["best_epoch"]
            start_epoch = ckpt["epoch"] + 1
            logger.info(
                "resuming SST-2 fine-tuning after epoch %d (best so far %.2f%%)", ckpt["epoch"], best_acc
            )
        else:
            logger.info("%s is from another model, data or options: starting afresh", ckpt_file)
    logger.info(
        "fine-tuning %s on SST-2: %d train / %d dev sentences, %d epoch(s) of %d steps, on %s",
        model_ref,
        len(train_x),
        len(dev_x),
        opts.epochs,
        steps_per_epoch,
        device,
    )
    started = time.perf_counter()
    for epoch in range(start_epoch, opts.epochs + 1):
        t0 = time.perf_counter()
        torch.manual_seed(opts.seed + epoch)  # dropout and order: the same whether resumed or not
        order = torch.randperm(
            len(train_x), generator=torch.Generator().manual_seed(opts.seed + epoch)
        ).tolist()
        net.train()
        total_loss, seen = 0.0, 0
        with tqdm(
            total=steps_per_epoch, desc=f"sst2 epoch {epoch}", disable=not progress, mininterval=5
        ) as bar:
            for step in range(steps_per_epoch):
                idx = order[step * opts.batch_size : (step + 1) * opts.batch_size]
                encoded = tokenizer(
                    [train_x[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=opts.max_length,
                    return_tensors="pt",
                )
                batch = {k: v.to(device) for k, v in encoded.items() if k in accepted}
                targets = torch.tensor([train_y[i] for i in idx], device=device)
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                    logits = net(**batch).logits
                loss = torch.nn.functional.cross_entropy(logits.float(), targets)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if opts.grad_clip > 0:
                    scaler.unscale_(optimizer)
                    torch.nn.utils.clip_grad_norm_(net.parameters(), opts.grad_clip)
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                total_loss += float(loss.detach()) * len(idx)
                seen += len(idx)
                bar.update(1)
                if step % 50 == 0:
                    bar.set_postfix(loss=f"{total_loss / seen:.4f}")
        net.eval()
        logits, _ = predict_logits(
            net,
            tokenizer,
            dev_x,
            max_length=512,
            batch_tokens=opts.eval_batch_tokens,
            device=device,
            amp_dtype=amp_dtype,
        )
        acc = 100.0 * float(np.mean(logits.argmax(axis=1) == np.asarray(dev_y)))
        record = {
            "epoch": epoch,
            "train_loss": total_loss / max(seen, 1),
            "dev_accuracy": acc,
            "lr": scheduler.get_last_lr()[0],
            "seconds": time.perf_counter() - t0,
        }
        history.append(record)
        logger.info(
            "epoch %d: train loss %.4f, dev accuracy %.2f%% (%.0f s)",
            epoch,
            record["train_loss"],
            acc,
            record["seconds"],
        )
        if acc > best_acc:
            best_acc, best_epoch = acc, epoch
            _save_best(net, tokenizer, work / "best")
        _atomic_torch_save(
            {
                "stamp": stamp,
                "epoch": epoch,
                "model": net.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict(),
                "history": history,
                "best_acc": best_acc,
                "best_epoch": best_epoch,
            },
            ckpt_file,
        )
        atomic_write_text(work / "history.json", json.dumps(history, indent=1) + "\n")

    for f in (work / "best").iterdir():  # the best epoch's model becomes the labeler dir's model
        os.replace(f, out / f.name)
    label_name = name or out.name.removeprefix("pseudo_labeler_")
    labeler = {
        "kind": "hf",
        "name": label_name,
        "model": ".",
        "label_map": {str(k): v for k, v in _ID2LABEL.items()},
        "max_length": 512,
    }
    atomic_write_text(out / LABELER_JSON, json.dumps(labeler, indent=1) + "\n")
    results = {
        "stamp": stamp,
        "model": model_ref,
        "sst2_dir": str(sst2),
        "num_train": len(train_x),
        "num_dev": len(dev_x),
        "options": asdict(opts),
        "epochs": history,
        "best_epoch": best_epoch,
        "best_dev_accuracy": best_acc,
        "seconds": time.perf_counter() - started,
    }
    atomic_write_text(results_file, json.dumps(results, indent=1) + "\n")
    shutil.rmtree(work, ignore_errors=True)
    logger.info("SST-2 fine-tuning done: best epoch %d, dev accuracy %.2f%% -> %s", best_epoch, best_acc, out)
    return results
