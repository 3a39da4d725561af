"""The typed manifests of an experiment dir (docs/contracts.md): what a trainer writes and the report, the
export and inference read. Light: no torch at import.

=========================  ==============  ============================================================
class                      file            written by / read by
=========================  ==============  ============================================================
:class:`SystemManifest`    ``system.json``  both trainers / ``report.collect``, ``inference.export``
:class:`PretrainManifest`  ``pretrain.json``  the E2E task ``pseudo`` / the E2E task (``--init_from``)
:class:`E2EModelManifest`  ``model.json``  the E2E task / ``--init_from``, the export, inference
:class:`TextModelManifest` ``model.json``  the text task / the export, ``TextSentimentPredictor``
=========================  ==============  ============================================================

Each has ``to_dict()`` / ``from_dict(data, source)`` and ``read(path)``; every file written starts with
``"format_version": 1``. A file without it is version 0 (the files of earlier releases, identical
otherwise) and is read the same way; a newer version than :data:`FORMAT_VERSION` is an error. A missing
required field or a value of the wrong type is a :class:`ManifestFormatError` naming the file and the field;
a missing optional field gets the default the class documents. Keys the class does not know are kept
(``extra``) and written back after the known ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from speechsent.utils.digest import text_digest
from speechsent.utils.fileio import read_json, write_json

__all__ = [
    "FORMAT_VERSION",
    "E2EModelManifest",
    "ManifestFormatError",
    "PretrainManifest",
    "SystemManifest",
    "TextModelManifest",
    "pseudo_fingerprint",
]

#: The version of the manifests this speechsent writes (0: the files of earlier releases, without the field).
FORMAT_VERSION = 1

M = TypeVar("M", bound="_Manifest")


class ManifestFormatError(ValueError):
    """A manifest that cannot be read: the message names the file and the field."""


class _Reader:
    """Typed access to the fields of one manifest dict, errors naming ``source`` and the field."""

    def __init__(self, data: Any, source: str) -> None:
        if not isinstance(data, dict):
            raise ManifestFormatError(f"{source}: expected a JSON object, got {type(data).__name__}")
        self.data, self.source, self.used = data, source, {"format_version"}

    def error(self, key: str, message: str) -> ManifestFormatError:
        return ManifestFormatError(f"{self.source}: field {key!r} {message}")

    def version(self) -> int:
        version = self.data.get("format_version", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise self.error("format_version", f"is not a version number: {version!r}")
        if version > FORMAT_VERSION:
            raise self.error("format_version", f"is {version}: this speechsent reads up to {FORMAT_VERSION}")
        return version

    def get(self, key: str, types: tuple[type, ...] | None = None, *, required: bool = False,
            default: Any = None, what: str = "") -> Any:  # fmt: skip
        self.used.add(key)
        if key not in self.data:
            if required:
                raise self.error(key, "missing")
            return default() if callable(default) else default
        value = self.data[key]
        if types is not None and (value is not None or required):
            bad_bool = isinstance(value, bool) and bool not in types
            if not isinstance(value, types) or bad_bool:
                kinds = what or " or ".join(t.__name__ for t in types)
                raise self.error(key, f"must be {kinds}, got {value!r}")
        return value

    def string(self, key: str, *, required: bool = False, default: str | None = None) -> Any:
        value = self.get(key, (str,), required=required, default=default, what="a string")
        if required and not value:
            raise self.error(key, "missing or not a non-empty string")
        return value

    def extra(self) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if k not in self.used}


class _Manifest:
    """``read``/``write`` of a manifest class with ``FILE``, ``from_dict`` and ``to_dict``."""

    FILE: ClassVar[str] = ""

    @classmethod
    def from_dict(cls: type[M], data: Any, source: str | os.PathLike[str] | None = None) -> M:
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def read(cls: type[M], path: str | os.PathLike[str]) -> M:
        """The manifest in ``path`` (a file, or a dir holding ``FILE``)."""
        path = Path(path)
        if path.is_dir():
            path = path / cls.FILE
        return cls.from_dict(read_json(path), path)

    def write(self, path: str | os.PathLike[str], *, ensure_ascii: bool = True) -> None:
        """Write ``to_dict()`` atomically to ``path`` (a file, or a dir: ``<dir>/FILE``); paths as str."""
        path = Path(path)
        if path.is_dir():
            path = path / self.FILE
        write_json(path, self.to_dict(), default=str, ensure_ascii=ensure_ascii)


def _optional_number(r: _Reader, key: str) -> Any:
    value = r.get(key, (int, float), what="null or a number")
    if key == "train_hours" and value is not None and value <= 0:
        raise r.error(key, f"must be null or a positive number, got {value!r}")
    return value


@dataclass
class SystemManifest(_Manifest):
    """``system.json``: what a trained sentiment system is, for the report and the export.

    Required: ``family`` (``e2e`` | ``two_step``), ``architecture``, ``input``. Defaults when absent:
    ``system`` the dir name (None here), ``config`` ``{}``, every other field None; the E2E fields
    (``init_from``, ``pseudo_labels``, ``pseudo_fingerprint``, ``num_train_utts``: None,
    ``train_skipped``/``valid_skipped``: ``{}``) are written for family ``e2e`` only.

    ``pseudo_labels`` (``{label file as given: its SHA-256}``) and ``pseudo_fingerprint``
    (:func:`pseudo_fingerprint` of them) name the pseudo labels a pre-training trained on; a system
    fine-tuned from it (``init_from``) has those of its ``pretrain.json``; None without pseudo labels (and in
    the files of releases before them).

    ``encoder`` (family ``e2e``): the frozen encoder whose dump an E2E system reads (``asr``: the ESPnet
    ASR's, the paper's; ``hf:<hub id or dir>``: a Hugging Face speech encoder); None for fbank input (and
    for the ASR's in files of releases before it, read as ``asr``).
    """

    FILE: ClassVar[str] = "system.json"
    FAMILIES: ClassVar[tuple[str, ...]] = ("two_step", "e2e")

    family: str
    architecture: str
    input: str
    system: str | None = None
    encoder: str | None = None
    train_set: str | None = None
    train_hours: float | None = None
    lm: str | None = None
    pseudo_labeler: str | None = None
    pseudo_sets: list[str] | None = None
    pseudo_transcript: str | None = None
    seed: int | None = None
    select_set: str | None = None
    best_epoch: int | None = None
    init_from: str | None = None
    pseudo_labels: dict[str, str] | None = None
    pseudo_fingerprint: str | None = None
    num_train_utts: int | None = None
    train_skipped: dict[str, int] = field(default_factory=dict)
    valid_skipped: dict[str, int] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @classmethod
    def from_dict(cls, data: Any, source: str | os.PathLike[str] | None = None) -> SystemManifest:
        r = _Reader(data, str(source or cls.FILE))
        version = r.version()
        fields: dict[str, Any] = {k: r.string(k, required=True) for k in ("family", "architecture", "input")}
        if fields["family"] not in cls.FAMILIES:
            raise ManifestFormatError(
                f"{r.source}: family {fields['family']!r} is not one of {sorted(cls.FAMILIES)}"
            )
        for key in ("system", "encoder", "train_set", "lm", "pseudo_labeler", "pseudo_transcript",
                    "select_set", "init_from", "pseudo_fingerprint"):  # fmt: skip
            fields[key] = r.get(key, (str,), what="null or a string")
        what = "null or an object (label file: SHA-256)"
        digests = r.get("pseudo_labels", (dict,), what=what)
        if digests is not None and not all(isinstance(v, str) for v in digests.values()):
            raise r.error("pseudo_labels", f"must be {what}, got {digests!r}")
        fields["pseudo_labels"] = digests
        if fields["family"] == "e2e" and fields["input"] == "encoder" and fields["encoder"] is None:
            fields["encoder"] = "asr"  # written before the field: the ESPnet ASR's encoder, the only one then
        fields["train_hours"] = _optional_number(r, "train_hours")
        sets = r.get("pseudo_sets", (list,), what="null or a list of set names")
        if sets is not None and not all(isinstance(s, str) for s in sets):
            raise r.error("pseudo_sets", f"must be null or a list of set names, got {sets!r}")
        fields["pseudo_sets"] = sets
        for key in ("seed", "best_epoch", "num_train_utts"):
            fields[key] = r.get(key, (int,), what="null or an integer")
        for key in ("train_skipped", "valid_skipped", "config"):
            fields[key] = r.get(key, (dict,), default=dict, what="an object") or {}
        return cls(**fields, extra=r.extra(), format_version=version)

    def fields(self) -> dict[str, Any]:
        """The file's fields without ``format_version`` (what the report groups systems by)."""
        out: dict[str, Any] = {
            "system": self.system,
            "family": self.family,
            "architecture": self.architecture,
            "input": self.input,
        }
        for key in ("train_set", "train_hours", "lm", "pseudo_labeler", "pseudo_sets", "pseudo_transcript",
                    "seed", "select_set", "best_epoch"):  # fmt: skip
            out[key] = getattr(self, key)
        if self.family == "e2e":
            for key in ("encoder", "init_from", "pseudo_labels", "pseudo_fingerprint", "num_train_utts",
                        "train_skipped", "valid_skipped"):  # fmt: skip
                out[key] = getattr(self, key)
        out["config"] = self.config
        return {**out, **self.extra}

    def to_dict(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, **self.fields()}


@dataclass
class PretrainManifest(SystemManifest):
    """``pretrain.json``: an E2E pseudo-label pre-training run (the fields of :class:`SystemManifest`: no
    sentiment system, so the report does not list it). A fine-tuned system inherits its ``pseudo_*``,
    ``pseudo_labels`` and ``pseudo_fingerprint`` included."""

    FILE: ClassVar[str] = "pretrain.json"


def pseudo_fingerprint(labels: dict[str, str]) -> str:
    """The fingerprint of pseudo label files (``{path: SHA-256 hex of the file}``), independent of where the
    data dirs are: one line ``<set dir name>/<file name> <sha256>`` per file (e.g.
    ``fisher_asr/utt2pseudo_bert-base-uncased_sst2 3f2a...``), the lines sorted in byte order, each ending in
    a newline, and the SHA-256 hex of their UTF-8 text. In a shell: ``printf '%s %s\\n' fisher/utt2pseudo_x
    <sha256> ... | LC_ALL=C sort | sha256sum``."""
    lines = sorted(f"{Path(path).parent.name}/{Path(path).name} {sha}\n" for path, sha in labels.items())
    return text_digest("".join(lines))


@dataclass
class E2EModelManifest(_Manifest):
    """``model.json`` of an E2E classifier: ``build_model(architecture, **config)`` and its weights.

    Required: ``architecture``, ``config`` (an object). Defaults: ``labels`` ``[]``, ``task``
    ``sentiment``, ``input`` ``encoder``, ``weights`` ``best.pth``.
    """

    FILE: ClassVar[str] = "model.json"

    architecture: str
    config: dict[str, Any]
    labels: list[str] = field(default_factory=list)
    task: str = "sentiment"
    input: str = "encoder"
    weights: str = "best.pth"
    extra: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @classmethod
    def from_dict(cls, data: Any, source: str | os.PathLike[str] | None = None) -> E2EModelManifest:
        r = _Reader(data, str(source or cls.FILE))
        version = r.version()
        return cls(
            architecture=r.string("architecture", required=True),
            config=r.get("config", (dict,), required=True, what="an object"),
            labels=_labels(r),
            task=r.string("task", default="sentiment"),
            input=r.string("input", default="encoder"),
            weights=r.string("weights", default="best.pth"),
            extra=r.extra(),
            format_version=version,
        )

    def to_dict(self) -> dict[str, Any]:
        out = {"format_version": FORMAT_VERSION, "architecture": self.architecture, "config": self.config}
        out.update(labels=self.labels, task=self.task, input=self.input, weights=self.weights)
        return {**out, **self.extra}


def _labels(r: _Reader) -> list[str]:
    labels = r.get("labels", (list,), default=list, what="a list of class names") or []
    if not all(isinstance(label, str) for label in labels):
        raise r.error("labels", f"must be a list of class names, got {labels!r}")
    return list(labels)


@dataclass
class TextModelManifest(_Manifest):
    """``model.json`` of a 2-step text classifier: the classifier's config
    (:class:`speechsent.models.text_classifier.TextClassifierConfig` fields), its tokenizer
    (``{"kind": "sentencepiece", "model", "max_tokens"}`` or ``{"kind": "lm", "lm", "layers",
    "max_tokens"}``), labels and weights.

    Required: ``classifier`` and ``tokenizer`` (objects; ``tokenizer.kind`` sentencepiece | lm). Defaults:
    ``labels`` ``[]``, ``weights`` ``best.pth``.
    """

    FILE: ClassVar[str] = "model.json"
    TOKENIZERS: ClassVar[tuple[str, ...]] = ("sentencepiece", "lm")

    classifier: dict[str, Any]
    tokenizer: dict[str, Any]
    labels: list[str] = field(default_factory=list)
    weights: str = "best.pth"
    extra: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @classmethod
    def from_dict(cls, data: Any, source: str | os.PathLike[str] | None = None) -> TextModelManifest:
        r = _Reader(data, str(source or cls.FILE))
        version = r.version()
        classifier = r.get("classifier", (dict,), required=True, what="an object")
        tokenizer = r.get("tokenizer", (dict,), required=True, what="an object")
        if tokenizer.get("kind") not in cls.TOKENIZERS:
            raise r.error("tokenizer", f"kind must be sentencepiece or lm, not {tokenizer.get('kind')!r}")
        return cls(
            classifier=classifier,
            tokenizer=tokenizer,
            labels=_labels(r),
            weights=r.string("weights", default="best.pth"),
            extra=r.extra(),
            format_version=version,
        )

    def to_dict(self) -> dict[str, Any]:
        out = {"format_version": FORMAT_VERSION, "classifier": self.classifier, "tokenizer": self.tokenizer}
        out.update(labels=self.labels, weights=self.weights)
        return {**out, **self.extra}
