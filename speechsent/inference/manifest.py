"""``speechsent_model.json``, the description of an exported model dir: a typed schema, and the checks of
the files it names that need neither torch nor ESPnet.

:class:`ModelManifest` is written by :func:`speechsent.inference.export.export_system` (``to_dict``) and read
by :class:`speechsent.inference.model.SentimentModel` (:func:`read_manifest`, ``from_dict``). The fields:

=====================  ========  ============================================================================
field                  required  meaning (default when absent)
=====================  ========  ============================================================================
``format_version``     yes       the layout of the dir; this speechsent reads and writes ``1``
``type``               yes       ``e2e`` (frame features → classifier) or ``two_step`` (ASR → text classifier)
``labels``             yes       the class names, in the order of the classifier's outputs (distinct strings)
``fs``                 yes       the sampling rate (Hz, a positive integer) inputs are resampled to
``classifier``         no        the classifier's dir, relative to the model dir (``classifier``)
``asr``                e2e on    ``{"config": ..., "model_file": ...}``: the ESPnet2 ASR model, relative
                       encoder,  paths (``null``: none, as for an fbank model)
                       two_step
``features``           no        e2e: ``{"kind": "encoder"}`` (the default), ``{"kind": "fbank", "fbank":
                                 {FbankConfig's fields}, "fs": Hz}`` or ``{"kind": "hf", "hf": {"model": a
                                 dir of the model dir or a hub id, "local": bool, "revision": str or null,
                                 "layers": [hidden-state indices]}}`` (a Hugging Face encoder); not used by
                                 two_step
``decode``             no        two_step: the decoding options (``{"mode": "beam"}``: beam search with
                                 :class:`speechsent.asr.decode.DecodeOptions`' defaults); not used by e2e
``lm``                 no        a 2-step LM classifier's LM (a dir of the model, or a hub id; ``null``)
``system``             no        the exported system's name (``""``)
``system_json``        no        its ``system.json`` (``{}``)
``scores``             no        its ``score_<set>/scores.json`` by set (``{}``)
``speechsent_version`` no        the speechsent that wrote the dir (``null``)
=====================  ========  ============================================================================

A missing required field, a value of the wrong type, an unknown ``type`` or ``format_version`` is a
:class:`ManifestError` naming the file and the field. Other keys are kept (``extra``) and written back.

:func:`check_model_files` then checks every file the manifest names, still without torch: the classifier's
``model.json`` (its labels and number of outputs against ``labels``), the weights and the ASR model file
(each must be a complete ``torch.save`` file: a zip archive whose directory is intact, or the legacy
pickle format), the ASR config (YAML; its BPE model and statistics files; its sampling rate against ``fs``;
its encoder's output size against an E2E classifier's input), an fbank model's options, a text
classifier's tokenizer. A broken dir thus fails in a fraction of a second with one line naming the file,
before the (slow) ESPnet import.
"""

from __future__ import annotations

import dataclasses
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsent.utils.fileio import read_json

__all__ = [
    "FORMAT_VERSION",
    "MODEL_JSON",
    "TYPES",
    "AsrFiles",
    "Features",
    "ManifestError",
    "ModelManifest",
    "check_checkpoint",
    "check_model_files",
    "read_manifest",
]

FORMAT_VERSION = 1
MODEL_JSON = "speechsent_model.json"
TYPES = ("e2e", "two_step")
FEATURE_KINDS = ("encoder", "fbank", "hf")
#: The first bytes of ``torch.save(..., _use_new_zipfile_serialization=False)`` (the pickled magic number).
_LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19"


class ManifestError(ValueError):
    """A model dir whose description or files are unusable; one line naming the file and what is wrong
    (a library's multi-line message, e.g. PyYAML's, is joined into one)."""

    def __init__(self, message: str) -> None:
        super().__init__(re.sub(r"\s*\n\s*", " ", message.strip()))


def _kind(value: Any) -> str:
    """A JSON value's type in JSON's words (for messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _Fields:
    """Typed access to a JSON object's fields; every error names ``source`` and the field's path."""

    def __init__(self, data: Any, source: str, prefix: str = "") -> None:
        self.source = source
        self.prefix = prefix
        if not isinstance(data, dict):
            where = f" for {prefix.rstrip('.')}" if prefix else ""
            raise self.error(f"expected a JSON object{where}, got {_kind(data)}")
        self.data = data

    def error(self, message: str) -> ManifestError:
        return ManifestError(f"{self.source}: {message}")

    def _get(self, key: str, required: bool) -> Any:
        if key not in self.data:
            if required:
                raise self.error(f"no {self.prefix}{key} (a required field)")
            return None
        return self.data[key]

    def string(self, key: str, required: bool = False, default: str | None = None) -> str | None:
        value = self._get(key, required)
        if value is None and not required:
            return default
        if not isinstance(value, str) or not value:
            raise self.error(f"{self.prefix}{key} must be a non-empty string, not {_kind(value)}")
        return value

    def integer(self, key: str, required: bool = False, positive: bool = False) -> int | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or (positive and value <= 0):
            what = "a positive integer" if positive else "an integer"
            raise self.error(f"{self.prefix}{key} must be {what}, not {_kind(value)}")
        return value

    def mapping(self, key: str, required: bool = False) -> dict[str, Any] | None:
        value = self._get(key, required)
        if value is None and not required:
            return None
        if not isinstance(value, dict):
            raise self.error(f"{self.prefix}{key} must be a JSON object, not {_kind(value)}")
        return value

    def sub(self, key: str, required: bool = False) -> _Fields | None:
        value = self.mapping(key, required)
        return None if value is None else _Fields(value, self.source, f"{self.prefix}{key}.")


@dataclass
class AsrFiles:
    """The exported ESPnet2 ASR model: its training config and weights, relative to the model dir."""

    config: str
    model_file: str

    @classmethod
    def from_fields(cls, f: _Fields) -> AsrFiles:
        return cls(config=str(f.string("config", True)), model_file=str(f.string("model_file", True)))

    def to_dict(self) -> dict[str, Any]:
        return {"config": self.config, "model_file": self.model_file}


@dataclass
class Features:
    """An E2E model's input: the ASR encoder's frames (``encoder``) or Kaldi filterbanks (``fbank``, with
    the dump's :class:`speechsent.features.fbank.FbankConfig` options and the rate they were computed at)."""

    kind: str = "encoder"
    fbank: dict[str, Any] | None = None
    fs: int | None = None
    hf: dict[str, Any] | None = None  # kind hf: model, local, revision, layers

    @classmethod
    def from_fields(cls, f: _Fields) -> Features:
        from speechsent.features.fbank import FbankConfig

        kind = f.string("kind", default="encoder")
        if kind not in FEATURE_KINDS:
            raise f.error(f"{f.prefix}kind must be one of {', '.join(FEATURE_KINDS)}, not {kind!r}")
        fbank = f.mapping("fbank", required=kind == "fbank")
        if fbank is not None:
            unknown = sorted(set(fbank) - {x.name for x in dataclasses.fields(FbankConfig)})
            if unknown:
                raise f.error(f"{f.prefix}fbank: unknown option(s) {', '.join(unknown)}")
            try:
                FbankConfig(**fbank).frame_samples(8000)
            except (TypeError, ValueError) as error:
                raise f.error(f"{f.prefix}fbank: {error}") from None
        hf = f.mapping("hf", required=kind == "hf")
        if hf is not None:
            model, layers = hf.get("model"), hf.get("layers")
            if not isinstance(model, str) or not model:
                raise f.error(
                    f"{f.prefix}hf.model must be a non-empty string (a dir of the model, or a hub id)"
                )
            if (
                not isinstance(layers, list)
                or not layers
                or not all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in layers)
            ):
                raise f.error(f"{f.prefix}hf.layers must be a list of hidden-state indices, not {layers!r}")
            revision = hf.get("revision")
            if revision is not None and not isinstance(revision, str):
                raise f.error(f"{f.prefix}hf.revision must be a string or null")
            hf = {"model": model, "local": bool(hf.get("local")), "revision": revision, "layers": layers}
        return cls(kind=str(kind), fbank=fbank, fs=f.integer("fs", positive=True), hf=hf)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind}
        if self.fbank is not None:
            out["fbank"] = dict(self.fbank)
        if self.fs is not None:
            out["fs"] = self.fs
        if self.hf is not None:
            out["hf"] = dict(self.hf)
        return out


@dataclass
class ModelManifest:
    """``speechsent_model.json`` (see the module doc for every field and its default)."""

    type: str
    labels: list[str]
    fs: int
    format_version: int = FORMAT_VERSION
    classifier: str = "classifier"
    asr: AsrFiles | None = None
    features: Features | None = None
    decode: dict[str, Any] | None = None
    lm: str | None = None
    system: str = ""
    system_json: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, Any] = field(default_factory=dict)
    speechsent_version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # keys this version does not know, kept as they are

    @classmethod
    def from_dict(cls, data: Any, source: str | Path = MODEL_JSON) -> ModelManifest:
        """The manifest of a parsed ``speechsent_model.json``; :class:`ManifestError` naming ``source`` and
        the field when a required field is missing or a value has the wrong type."""
        f = _Fields(data, str(source))
        version = f.integer("format_version", required=True)
        if version != FORMAT_VERSION:
            raise f.error(f"format_version {version} (this speechsent reads {FORMAT_VERSION})")
        kind = f.string("type", required=True)
        if kind not in TYPES:
            raise f.error(f"type must be one of {', '.join(TYPES)}, not {kind!r}")
        labels = f._get("labels", True)
        if (
            not isinstance(labels, list)
            or len(labels) < 2
            or not all(isinstance(x, str) and x for x in labels)
        ):
            got = repr(labels) if isinstance(labels, list) else _kind(labels)
            raise f.error(f"labels must be a list of at least 2 class names (strings), not {got}")
        if len(set(labels)) != len(labels):
            raise f.error(f"labels {labels} name a class twice")
        fs = f.integer("fs", required=True, positive=True)
        asr_fields = f.sub("asr")
        features_fields = f.sub("features")
        features = None
        decode = None
        if kind == "e2e":
            features = Features.from_fields(features_fields) if features_fields is not None else Features()
            needs_asr = features.kind == "encoder"
        else:
            decode = dict(f.mapping("decode") or {"mode": "beam"})
            _check_decode(decode, f)
            needs_asr = True
        if needs_asr and asr_fields is None:
            what = "an E2E model on ASR-encoder features" if kind == "e2e" else "a two_step model"
            raise f.error(f"no asr (the ASR model's config and model_file): {what} needs one")
        system_json = f.mapping("system_json") or {}
        scores = f.mapping("scores") or {}
        known = {x.name for x in dataclasses.fields(cls)} - {"extra"}
        return cls(
            type=str(kind),
            labels=[str(x) for x in labels],
            fs=int(fs),  # type: ignore[arg-type]
            format_version=int(version),  # type: ignore[arg-type]
            classifier=str(f.string("classifier", default="classifier")),
            asr=AsrFiles.from_fields(asr_fields) if asr_fields is not None else None,
            features=features,
            decode=decode,
            lm=f.string("lm"),
            system=str(f.string("system", default="")),
            system_json=dict(system_json),
            scores=dict(scores),
            speechsent_version=f.string("speechsent_version"),
            extra={k: v for k, v in data.items() if k not in known},
        )

    @property
    def needs_asr(self) -> bool:
        """Whether the model runs the ASR model (a 2-step model, an E2E model on encoder features)."""
        return self.type == "two_step" or self.features is None or self.features.kind == "encoder"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object written to ``speechsent_model.json`` (``from_dict`` reads it back equal)."""
        out: dict[str, Any] = {
            "format_version": self.format_version,
            "type": self.type,
            "labels": list(self.labels),
            "fs": self.fs,
            "system": self.system,
            "system_json": self.system_json,
            "scores": self.scores,
            "asr": self.asr.to_dict() if self.asr is not None else None,
            "classifier": self.classifier,
            "speechsent_version": self.speechsent_version,
        }
        if self.features is not None:
            out["features"] = self.features.to_dict()
        if self.decode is not None:
            out["decode"] = dict(self.decode)
        if self.lm is not None:
            out["lm"] = self.lm
        out.update(self.extra)
        return out


def _check_decode(decode: dict[str, Any], f: _Fields) -> None:
    from speechsent.asr.decode import DECODE_MODES, DecodeOptions

    unknown = sorted(set(decode) - set(DecodeOptions.__dataclass_fields__))
    if unknown:
        raise f.error(f"decode: unknown option(s) {', '.join(unknown)}")
    if decode.get("mode", "beam") not in DECODE_MODES:
        raise f.error(f"decode.mode must be one of {', '.join(DECODE_MODES)}, not {decode.get('mode')!r}")


def read_manifest(model_dir: str | Path) -> ModelManifest:
    """The manifest of the exported model at ``model_dir``; :class:`ManifestError` when it is missing, not
    JSON, or not a valid manifest (one line naming the file)."""
    path = Path(model_dir) / MODEL_JSON
    if Path(model_dir).is_file():
        raise ManifestError(f"{model_dir}: a file, not a directory (not an exported speechsent model)")
    if not Path(model_dir).is_dir():
        raise ManifestError(f"{model_dir}: no such directory (not an exported speechsent model)")
    if not path.is_file():
        raise ManifestError(f"{model_dir}: no {MODEL_JSON} (not an exported speechsent model)")
    return ModelManifest.from_dict(_read_json_file(path), path)


def _read_json_file(path: Path) -> Any:
    """:func:`speechsent.utils.fileio.read_json`, its errors as a :class:`ManifestError` ``<path>: ...``."""
    try:
        return read_json(path)
    except OSError as error:
        raise ManifestError(f"{path}: cannot be read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ManifestError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    except ValueError as error:  # "<path>:<line>: not valid JSON: ..."
        line, _, what = str(error).removeprefix(f"{path}:").partition(": ")
        raise ManifestError(f"{path}: {what} (line {line})") from None


# ----------------------------------------------------------------------------------------------------------
# The files the manifest names


def check_checkpoint(path: Path) -> None:
    """``path`` is a complete file written by ``torch.save``, checked without torch: a zip archive (torch's
    format since 1.6) whose central directory, at the end of the file, is intact and that holds a
    ``data.pkl``, or the legacy pickle format (left to ``torch.load`` to check further).
    :class:`ManifestError` otherwise."""
    if not path.is_file():
        raise ManifestError(f"{path}: no such file")
    try:
        with path.open("rb") as f:
            head = f.read(len(_LEGACY_TORCH_MAGIC))
    except OSError as error:
        raise ManifestError(f"{path}: cannot be read: {error.strerror or error}") from None
    if not head:
        raise ManifestError(f"{path}: an empty file, not a PyTorch checkpoint")
    if head.startswith(_LEGACY_TORCH_MAGIC):
        return
    if not head.startswith(b"PK\x03\x04"):
        raise ManifestError(f"{path}: not a PyTorch checkpoint (not written by torch.save)")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ManifestError(
            f"{path}: not a PyTorch checkpoint (truncated? its zip directory is missing or damaged)"
        ) from None
    if not any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
        raise ManifestError(f"{path}: a zip archive without data.pkl, not a PyTorch checkpoint")


def _read_json_object(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ManifestError(f"{path}: no such file")
    data = _read_json_file(path)
    if not isinstance(data, dict):
        raise ManifestError(f"{path}: expected a JSON object, got {_kind(data)}")
    return data


def _labels_match(manifest_path: Path, labels: list[str], spec: _Fields, num_classes: int) -> None:
    """The manifest's ``labels`` against the classifier's ``model.json``: its labels and its outputs."""
    if num_classes != len(labels):
        raise ManifestError(
            f"{manifest_path}: labels {labels} do not match the classifier head ({num_classes} outputs, "
            f"{spec.source})"
        )
    own = spec.data.get("labels")
    if own is not None and own != list(labels):
        raise ManifestError(f"{manifest_path}: labels {labels} differ from those of {spec.source}: {own}")


def _classifier_head(spec: _Fields, key: str, default: int) -> int:
    config = spec.sub(key, required=True)
    assert config is not None
    value = config.integer("num_classes", positive=True)
    return default if value is None else int(value)


def _typed_classifier(kind: type[Any], path: Path) -> dict[str, Any]:
    """The classifier's ``model.json`` read through its typed manifest
    (:mod:`speechsent.tasks.manifests`); returns the dict for the checks below."""
    from speechsent.tasks.manifests import ManifestFormatError

    data = _read_json_object(path)
    try:
        kind.from_dict(data, path)
    except ManifestFormatError as error:
        raise ManifestError(str(error)) from None
    return data


def _check_e2e_classifier(cls_dir: Path, manifest: ModelManifest, manifest_path: Path) -> dict[str, Any]:
    from speechsent.tasks.manifests import E2EModelManifest

    spec = _Fields(_typed_classifier(E2EModelManifest, cls_dir / "model.json"), str(cls_dir / "model.json"))
    spec.string("architecture", required=True)
    _labels_match(manifest_path, manifest.labels, spec, _classifier_head(spec, "config", 3))
    check_checkpoint(cls_dir / str(spec.string("weights", default="best.pth")))
    return spec.data


def _check_text_classifier(cls_dir: Path, manifest: ModelManifest, manifest_path: Path) -> None:
    from speechsent.tasks.manifests import TextModelManifest

    spec = _Fields(_typed_classifier(TextModelManifest, cls_dir / "model.json"), str(cls_dir / "model.json"))
    _labels_match(manifest_path, manifest.labels, spec, _classifier_head(spec, "classifier", 3))
    check_checkpoint(cls_dir / str(spec.string("weights", default="best.pth")))
    tok = spec.sub("tokenizer", required=True)
    assert tok is not None
    kind = tok.string("kind", required=True)
    if kind == "sentencepiece":
        model = cls_dir / str(tok.string("model", required=True))
        if not model.is_file():
            raise tok.error(f"tokenizer.model: {model}: no such file")
    elif kind == "lm":
        lm = str(tok.string("lm", required=True))
        # a dir (absolute, or relative to the classifier dir as exported: ../lm) or a hub id (not checked)
        local = Path(lm) if Path(lm).is_absolute() else Path(os.path.normpath(cls_dir / lm))
        if (Path(lm).is_absolute() or lm.startswith(".")) and not local.is_dir():
            raise tok.error(f"tokenizer.lm: {local}: no such directory (the classifier's language model)")
    else:
        raise tok.error(f"tokenizer.kind must be sentencepiece or lm, not {kind!r}")


def _check_asr(model_dir: Path, manifest: ModelManifest, e2e_spec: dict[str, Any] | None) -> None:
    from speechsent.asr.model_dir import ModelDirError, resolve_model_dir

    assert manifest.asr is not None
    config = model_dir / manifest.asr.config
    model_file = model_dir / manifest.asr.model_file
    if not config.is_file():
        raise ManifestError(f"{config}: no such file (the ASR config named by {MODEL_JSON})")
    check_checkpoint(model_file)
    try:
        files = resolve_model_dir(config, model_file)
    except ModelDirError as error:
        raise ManifestError(f"{config}: the ASR model is incomplete: {error}") from None
    if files.fs != manifest.fs:
        raise ManifestError(
            f"{config}: the ASR frontend takes {files.fs} Hz audio but {MODEL_JSON} says fs {manifest.fs}"
        )
    if e2e_spec is not None:
        dim = (e2e_spec.get("config") or {}).get("input_dim")
        out = (files.config.get("encoder_conf") or {}).get("output_size")
        if isinstance(dim, int) and isinstance(out, int) and dim != out:
            raise ManifestError(
                f"{config}: the ASR encoder gives {out}-dim features but the classifier "
                f"({model_dir / manifest.classifier / 'model.json'}) takes {dim}"
            )


def check_model_files(model_dir: str | Path, manifest: ModelManifest) -> None:
    """Every file ``manifest`` names below ``model_dir`` exists and looks right (see the module doc);
    :class:`ManifestError` naming the file otherwise. Imports neither torch nor ESPnet."""
    model_dir = Path(model_dir)
    cls_dir = model_dir / manifest.classifier
    if not cls_dir.is_dir():
        raise ManifestError(f"{cls_dir}: no such directory (the classifier named by {MODEL_JSON})")
    e2e_spec = None
    if manifest.type == "e2e":
        e2e_spec = _check_e2e_classifier(cls_dir, manifest, model_dir / MODEL_JSON)
    else:
        _check_text_classifier(cls_dir, manifest, model_dir / MODEL_JSON)
    if manifest.needs_asr:
        _check_asr(model_dir, manifest, e2e_spec)
    features = manifest.features
    if features is not None and features.kind == "hf" and features.hf is not None and features.hf["local"]:
        encoder_dir = model_dir / features.hf["model"]
        if not (encoder_dir / "config.json").is_file():
            raise ManifestError(
                f"{encoder_dir}: no config.json (the Hugging Face encoder named by {MODEL_JSON})"
            )
