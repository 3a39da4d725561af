"""Fine-tuning a pre-trained encoder on GLUE SST-2 into a binary pseudo labeler (paper §3.2.2, §4.3).

::

    from speechsent.text.sst2 import SST2Options, finetune_sst2
    results = finetune_sst2("bert-base-uncased", "downloads/SST-2", "exp/pseudo_labeler_bert",
                            SST2Options(epochs=3, batch_size=32, lr=2e-5))

Any checkpoint that ``AutoModelForSequenceClassification`` can load (BERT, DistilBERT, RoBERTa, XLNet ...; a
hub id or a dir) gets a fresh 2-class head with ``id2label = {0: "Negative", 1: "Positive"}`` (SST-2's order)
and is trained on ``<sst2_dir>/train.tsv`` (GLUE's SST-2 files: a ``sentence<TAB>label`` header, label 0 or 1;
``sst2_dir=None``: the ``train`` split of ``glue``/``sst2``, else ``stanfordnlp/sst2``, from the Hugging Face
hub through the optional ``datasets`` library, :func:`load_sst2_hub`; ``validation`` is then the dev set) by
the shared :class:`speechsent.training.Trainer`: AdamW (no weight decay on biases and norms), a linear
warm-up (``warmup_ratio`` of the optimizer steps) and decay (``scheduler="warmup_linear"``), the batches of an
epoch in a seeded shuffle (seed + epoch). After every epoch the accuracy on ``dev.tsv`` is measured, the best
epoch's model kept and a checkpoint written (the Trainer's files in ``<out_dir>/sst2_work/``, with
``stamp.json``: model, data and options), so that an interrupted run resumes at the next epoch and gives the
numbers of an uninterrupted one. At the end the best model + tokenizer are saved in ``out_dir``
(``save_pretrained``) with ``labeler.json`` and ``sst2_results.json`` (``dev_accuracy``: the kept epoch's dev
accuracy in %, ``best_epoch``, ``name``; per-epoch training loss, dev loss and accuracy, the learning rate at
the epoch's start; the stamp: model, data identity, options; written last: it marks the fine-tuning as done)
and the work dir is removed; the log says ``SST-2 dev accuracy of <name>: 91.23% (epoch 2)``. Any
``AutoModelForSequenceClassification`` works: batches carry only the inputs the model takes (no
``token_type_ids`` for DistilBERT/RoBERTa) and are padded on the tokenizer's side (XLNet: left).
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from speechsent.data.labels import PSEUDO_LABELS
from speechsent.utils.digest import file_digest, text_digest
from speechsent.utils.fileio import read_json_or_none, write_json

__all__ = [
    "HUB_DATASETS",
    "SST2Data",
    "SST2FormatError",
    "SST2Options",
    "finetune_sst2",
    "load_sst2_hub",
    "read_sst2_dir",
    "read_sst2_tsv",
    "sst2_stamp",
]

logger = logging.getLogger(__name__)

RESULTS_JSON = "sst2_results.json"
WORK_DIR = "sst2_work"
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
    return {"path": str(path.resolve()), "sha256": file_digest(path)}


Split = tuple[list[str], list[int]]


@dataclass
class SST2Data:
    """SST-2's train and dev splits and their identity (what a fine-tuning's stamp records)."""

    train: Split
    dev: Split
    identity: dict[str, Any]  # TSVs: {"train", "dev": path + SHA-256}; hub: dataset id, fingerprints, rows
    source: str  # the dir, or the dataset id


def read_sst2_dir(sst2_dir: str | Path) -> SST2Data:
    """``<sst2_dir>/train.tsv`` and ``dev.tsv`` (GLUE's SST-2 files, :func:`read_sst2_tsv`)."""
    d = Path(sst2_dir)
    for f in ("train.tsv", "dev.tsv"):
        if not (d / f).is_file():
            raise FileNotFoundError(
                f"{d / f} not found (--sst2_dir must hold GLUE SST-2's train.tsv and dev.tsv)"
            )
    identity = {"train": _file_id(d / "train.tsv"), "dev": _file_id(d / "dev.tsv")}
    return SST2Data(read_sst2_tsv(d / "train.tsv"), read_sst2_tsv(d / "dev.tsv"), identity, str(d))


#: The hub datasets tried in turn when no TSVs are given: (dataset id, config name).
HUB_DATASETS: tuple[tuple[str, str | None], ...] = (("glue", "sst2"), ("stanfordnlp/sst2", None))
#: The hub's split names of train and dev (GLUE's test split has no labels: never used).
_HUB_SPLITS = {"train": "train", "dev": "validation"}
_NO_HUB = "give --sst2_dir with GLUE's SST-2 TSVs (train.tsv, dev.tsv; GLUE's SST-2.zip)"


def load_sst2_hub(datasets_tried: Sequence[tuple[str, str | None]] = HUB_DATASETS) -> SST2Data:
    """SST-2's ``train`` and ``validation`` splits from the Hugging Face hub through the ``datasets`` library
    (imported here; an extra: ``pip install datasets``): ``load_dataset("glue", "sst2")``, else
    ``load_dataset("stanfordnlp/sst2")`` (columns ``sentence``, ``label``: 0 = Negative, 1 = Positive).

    The identity names the dataset id, its version and each split's fingerprint, row count and content
    SHA-256. No ``datasets`` library, or neither dataset loadable (offline, hub unreachable), is a
    RuntimeError that says what to do.
    """
    try:
        import datasets
    except ImportError:
        raise RuntimeError(
            "SST-2 from the Hugging Face hub needs the datasets library: pip install datasets "
            f"(or pip install 'speechsent[hub]'), or {_NO_HUB}"
        ) from None
    failures: list[str] = []
    for path, config in datasets_tried:
        dataset_id = f"{path}/{config}" if config else path
        try:
            loaded = datasets.load_dataset(path, config) if config else datasets.load_dataset(path)
        except Exception as error:  # offline, unreachable, unknown: datasets raises many kinds; try the next
            failures.append(f"{dataset_id}: {type(error).__name__}: {str(error)[:200]}")
            logger.warning("SST-2: %s could not be loaded (%s)", dataset_id, failures[-1])
            continue
        return _hub_splits(loaded, dataset_id)
    raise RuntimeError(
        f"SST-2 could not be loaded from the Hugging Face hub ({'; '.join(failures)}); offline? {_NO_HUB}"
    )


def _hub_splits(loaded: Any, dataset_id: str) -> SST2Data:
    """The train and dev splits of a loaded ``DatasetDict``, checked, and their identity."""
    splits: dict[str, Split] = {}
    identity: dict[str, Any] = {"dataset": dataset_id}
    for key, split in _HUB_SPLITS.items():
        if split not in loaded:
            raise RuntimeError(f"{dataset_id}: no {split!r} split (has {', '.join(loaded)})")
        d = loaded[split]
        missing = {"sentence", "label"} - set(d.column_names)
        if missing:
            raise RuntimeError(f"{dataset_id} {split}: no column(s) {sorted(missing)} (has {d.column_names})")
        sentences = [str(s).strip() for s in d["sentence"]]
        labels = list(d["label"])
        for i, (s, y) in enumerate(zip(sentences, labels, strict=True)):
            if y not in (0, 1) or not s:
                what = f"label must be 0 or 1, got {y!r}" if y not in (0, 1) else "empty sentence"
                raise RuntimeError(f"{dataset_id} {split} row {i}: {what}")
        if not sentences:
            raise RuntimeError(f"{dataset_id} {split}: no rows")
        splits[key] = (sentences, [int(y) for y in labels])
        identity["version"] = str(getattr(getattr(d, "info", None), "version", None) or "")
        identity[key] = {
            "split": split,
            "fingerprint": getattr(d, "_fingerprint", None),
            "num_rows": len(sentences),
            "sha256": text_digest("".join(f"{y}\t{s}\n" for s, y in zip(*splits[key], strict=True))),
        }
    logger.info(
        "SST-2 from the hub: %s (%d train, %d dev sentences)",
        dataset_id,
        len(splits["train"][0]),
        len(splits["dev"][0]),
    )
    return SST2Data(splits["train"], splits["dev"], identity, dataset_id)


def sst2_stamp(model: str | Path, data: SST2Data | str | Path, options: SST2Options) -> dict[str, Any]:
    """The identity of a fine-tuning run: model, data (TSV content, or the hub dataset's id, fingerprints
    and row counts) and options. ``data``: loaded splits, or a dir of TSVs."""
    model_ref = str(Path(model).resolve()) if Path(model).is_dir() else str(model)
    identity = data.identity if isinstance(data, SST2Data) else read_sst2_dir(data).identity
    return {"model": model_ref, **identity, "options": options.stamp()}


class SST2Batches:
    """Sentences as :class:`~speechsent.training.Trainer` batches (``{"ids", "inputs", "targets"}``), each
    tokenized and padded to its longest sentence when it is drawn.

    ``groups(epoch)`` gives the sentence indices of every batch of an epoch; the Trainer calls
    :meth:`set_epoch` (1-based) before each epoch. ``inputs`` holds only what the model's ``forward``
    takes (DistilBERT has no ``token_type_ids``).
    """

    def __init__(
        self,
        tokenizer: Any,
        texts: Sequence[str],
        labels: Sequence[int],
        groups: Any,  # Callable[[int], list[list[int]]]
        *,
        max_length: int,
        accepted: set[str],
    ):
        self.tokenizer, self.texts, self.labels = tokenizer, list(texts), list(labels)
        self.groups, self.max_length, self.accepted = groups, max_length, accepted
        self.epoch = 1

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.groups(self.epoch))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        import torch

        for idx in self.groups(self.epoch):
            # encoded, then padded: a padding call would stay in a fast tokenizer's state (and its saved
            # tokenizer.json)
            encoded = self.tokenizer(
                [self.texts[i] for i in idx], truncation=True, max_length=self.max_length, verbose=False
            )
            keys = [k for k in encoded if k in self.accepted]
            padded = self.tokenizer.pad({k: encoded[k] for k in keys}, return_tensors="pt")
            yield {
                "ids": [str(i) for i in idx],
                "inputs": dict(padded.items()),
                "targets": torch.tensor([self.labels[i] for i in idx], dtype=torch.long),
            }


def _shuffled_batches(num: int, batch_size: int, seed: int) -> Any:
    """The training batches of an epoch: a shuffle seeded with ``seed + epoch``, cut into ``batch_size``."""
    import torch

    def groups(epoch: int) -> list[list[int]]:
        order = torch.randperm(num, generator=torch.Generator().manual_seed(seed + epoch)).tolist()
        return [order[i : i + batch_size] for i in range(0, num, batch_size)]

    return groups


def _load_model(model_ref: str) -> tuple[Any, Any]:
    """Tokenizer and a 2-class sequence classifier (a fresh head) of a hub id or dir."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

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
    return tokenizer, net


def _logits_only(net: Any) -> Any:
    """``net`` as the Trainer's model: ``model(**inputs)`` → the logits tensor (not a transformers output)."""
    import torch

    class LogitsOnly(torch.nn.Module):
        def __init__(self, inner: Any):
            super().__init__()
            self.net = inner

        def forward(self, **inputs: Any) -> Any:
            return self.net(**inputs).logits

    return LogitsOnly(net)


def _param_groups(net: Any, weight_decay: float) -> list[dict[str, Any]]:
    """AdamW's groups: weight decay on the weights, none on biases and normalisation parameters."""
    no_decay = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")
    named = list(net.named_parameters())
    return [
        {"params": [p for n, p in named if not any(k in n for k in no_decay)], "weight_decay": weight_decay},
        {"params": [p for n, p in named if any(k in n for k in no_decay)], "weight_decay": 0.0},
    ]


def _trainer_config(opts: SST2Options, amp_dtype: Any, total_steps: int, progress: bool) -> Any:
    import torch

    from speechsent.training import TrainerConfig

    amp = {torch.float16: "fp16", torch.bfloat16: "bf16"}.get(amp_dtype)
    return TrainerConfig(
        max_epochs=opts.epochs,
        patience=0,  # every epoch runs; the best one is kept
        optimizer="adamw",
        lr=opts.lr,
        weight_decay=opts.weight_decay,
        scheduler="warmup_linear",
        warmup_steps=int(opts.warmup_ratio * total_steps),
        grad_clip=opts.grad_clip,
        amp=amp,
        seed=opts.seed,
        select_metric="weighted_recall",  # = accuracy
        resume=True,
        progress=progress,
    )


def _prepare_work_dir(work: Path, stamp: dict[str, Any]) -> None:
    """``work`` with ``stamp.json`` = ``stamp``; a work dir of another model, data or options is cleared."""
    if work.is_dir() and read_json_or_none(work / "stamp.json") != stamp:
        logger.info("%s is from another model, data or options: starting afresh", work)
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    write_json(work / "stamp.json", stamp)


def _epoch_record(h: dict[str, Any]) -> dict[str, Any]:
    """An epoch of ``sst2_results.json`` from the Trainer's ``metrics.jsonl`` record."""
    correct = sum(h["confusion"][i][i] for i in range(len(h["confusion"])))
    return {
        "epoch": h["epoch"],
        "train_loss": h["train_loss"],
        "dev_loss": h["valid_loss"],
        "dev_accuracy": 100.0 * (correct / h["num_utts"]),
        "lr": h["lr"],
        "seconds": h["seconds"],
    }


def _export(net: Any, tokenizer: Any, out: Path, work: Path, name: str) -> None:
    """The model and tokenizer (``save_pretrained``) and ``labeler.json`` into ``out``."""
    tmp = Path(tempfile.mkdtemp(prefix=".export.", dir=work))
    net.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    for f in tmp.iterdir():  # each file replaced whole (out also holds the stage's other files)
        os.replace(f, out / f.name)
    labeler = {
        "kind": "hf",
        "name": name,
        "model": ".",
        "label_map": {str(k): v for k, v in _ID2LABEL.items()},
        "max_length": 512,
    }
    from speechsent.text.labelers import LABELER_JSON

    write_json(out / LABELER_JSON, labeler)


def _fit(
    net: Any,
    tokenizer: Any,
    data: dict[str, tuple[list[str], list[int]]],
    opts: SST2Options,
    work: Path,
    *,
    progress: bool,
) -> tuple[list[dict[str, Any]], int]:
    """Train ``net`` with the shared Trainer (resuming from ``work``); leaves it with the best epoch's
    weights. Returns the epochs of ``sst2_results.json`` and the best one (1-based)."""
    from speechsent.text.hf_inference import (
        default_batch_tokens,
        model_inputs,
        resolve_amp_dtype,
        token_budget_batches,
    )
    from speechsent.training import Trainer
    from speechsent.utils.device import resolve_device

    device = resolve_device(opts.device)
    (train_x, train_y), (dev_x, dev_y) = data["train"], data["dev"]
    accepted = model_inputs(net)
    train = SST2Batches(
        tokenizer,
        train_x,
        train_y,
        _shuffled_batches(len(train_x), opts.batch_size, opts.seed),
        max_length=opts.max_length,
        accepted=accepted,
    )
    dev_lengths = [len(ids) for ids in tokenizer(dev_x, truncation=True, max_length=512)["input_ids"]]
    dev_groups = token_budget_batches(
        dev_lengths, opts.eval_batch_tokens or default_batch_tokens(device), 256
    )
    dev = SST2Batches(tokenizer, dev_x, dev_y, lambda _: dev_groups, max_length=512, accepted=accepted)
    total_steps = len(train) * opts.epochs
    config = _trainer_config(opts, resolve_amp_dtype(opts.amp, device), total_steps, progress)
    model = _logits_only(net)
    trainer = Trainer(
        model, config, work, PSEUDO_LABELS, device=device, param_groups=_param_groups(net, opts.weight_decay)
    )
    logger.info(
        "fine-tuning %s on SST-2: %d train / %d dev sentences, %d epoch(s) of %d steps, on %s",
        net.name_or_path,
        len(train_x),
        len(dev_x),
        opts.epochs,
        len(train),
        device,
    )
    result = trainer.fit(train, dev)
    trainer.load_best()
    return [_epoch_record(h) for h in result.history], result.best_epoch


def finetune_sst2(
    model: str | Path,
    sst2_dir: str | Path | None,
    out_dir: str | Path,
    options: SST2Options | None = None,
    *,
    name: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Fine-tune ``model`` on SST-2 into ``out_dir`` (see the module doc); return the results dict.

    ``sst2_dir``: GLUE's SST-2 TSVs; None: the train and validation splits from the Hugging Face hub
    (:func:`load_sst2_hub`). Nothing is done when ``<out_dir>/sst2_results.json`` holds the same stamp
    (model, data, options).
    """
    from speechsent.training import set_seed

    opts = options or SST2Options()
    out = Path(out_dir)
    name = name or out.name.removeprefix("pseudo_labeler_")
    data = read_sst2_dir(sst2_dir) if sst2_dir is not None else load_sst2_hub()
    (train_x, train_y), dev = data.train, data.dev
    stamp = sst2_stamp(model, data, opts)
    results_file = out / RESULTS_JSON
    done = read_json_or_none(results_file)
    if isinstance(done, dict) and done.get("stamp") == stamp:
        if "dev_accuracy" not in done:  # written before the key existed
            done["dev_accuracy"] = done["best_dev_accuracy"]
            write_json(results_file, done)
        logger.info("%s: already fine-tuned", out)
        _log_accuracy(name, done)
        return done
    if opts.max_train_samples and opts.max_train_samples < len(train_x):
        pick = sorted(random.Random(opts.seed).sample(range(len(train_x)), opts.max_train_samples))
        train_x, train_y = [train_x[i] for i in pick], [train_y[i] for i in pick]
    work = out / WORK_DIR
    _prepare_work_dir(work, stamp)
    started = time.perf_counter()
    set_seed(opts.seed)  # the fresh head's initialisation
    tokenizer, net = _load_model(stamp["model"])
    epochs, best_epoch = _fit(
        net, tokenizer, {"train": (train_x, train_y), "dev": dev}, opts, work, progress=progress
    )
    _export(net, tokenizer, out, work, name)
    best = epochs[best_epoch - 1]
    results = {
        "name": name,
        "dev_accuracy": best["dev_accuracy"],  # of the kept (best) epoch, in %
        "best_epoch": best["epoch"],
        "stamp": stamp,
        "model": stamp["model"],
        "sst2_dir": str(sst2_dir) if sst2_dir is not None else None,
        "dataset": stamp.get("dataset"),  # the hub dataset id (None: TSVs)
        "num_train": len(train_x),
        "num_dev": len(dev[0]),
        "options": asdict(opts),
        "epochs": epochs,
        "best_dev_accuracy": best["dev_accuracy"],
        "seconds": time.perf_counter() - started,
    }
    write_json(results_file, results)
    shutil.rmtree(work, ignore_errors=True)
    logger.info("SST-2 fine-tuning done -> %s", out)
    _log_accuracy(name, results)
    return results


def _log_accuracy(name: str, results: dict[str, Any]) -> None:
    logger.info(
        "SST-2 dev accuracy of %s: %.2f%% (epoch %d)", name, results["dev_accuracy"], results["best_epoch"]
    )
