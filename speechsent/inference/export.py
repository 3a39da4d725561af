"""Stage 11: a trained system packed into a self-contained, relocatable model directory.

A system dir (``exp/<system>/``: ``model.json`` + weights + ``system.json`` + ``score_<set>/scores.json``, as
stages 8 and 9 write it) and the ESPnet2 ASR model it runs on (``exp/asr_model``) become::

    <out_dir>/speechsent_model.json   format_version, type (e2e | two_step), labels, fs, system, system_json,
                                      scores, asr, classifier, features (e2e), decode (two_step), version:
                                      :class:`speechsent.inference.manifest.ModelManifest`
    <out_dir>/asr/config.yaml         the ASR training config, bpemodel / stats paths relative to <out_dir>
    <out_dir>/asr/model.pth           (+ bpe.model, feats_stats.npz)
    <out_dir>/classifier/             model.json + weights (+ the baseline's bpe.model)
    <out_dir>/lm/                     a two_step LM classifier's LM when it is a local dir (a hub id stays)
    <out_dir>/README.md               a model card

Every file is copied; no path inside is absolute, so the directory can be moved or shared. An E2E system on
frame features of the ASR encoder (``input: encoder``) gets the ASR model (its encoder computes the
features); an fbank CNN (``input: fbank``) gets the filterbank options of the dump it was trained on and no
ASR; a 2-step system gets the ASR model and the decoding options (``decode``: the mode and the beam options
of stage 4). :func:`select_best_system` picks the system to export by validation unweighted F1. Example::

    best = select_best_system("exp", "two_step", select_set="swbd_test")
    export_system(best, "exp/export/two_step", asr_model="exp/asr_model",
                  decode_config={"mode": "beam", "beam_size": 20, "ctc_weight": 0.3})

The export is atomic: built in a temporary dir beside ``out_dir`` and renamed into place (a rerun replaces
it).
"""

from __future__ import annotations

import copy
import logging
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speechsent.inference.manifest import (
    FORMAT_VERSION,
    MODEL_JSON,
    TYPES,
    AsrFiles,
    Features,
    ManifestError,
    ModelManifest,
    check_checkpoint,
    check_model_files,
)
from speechsent.tasks.manifests import (
    E2EModelManifest,
    ManifestFormatError,
    SystemManifest,
    TextModelManifest,
)
from speechsent.utils.fileio import read_json, replace_dir, write_json

__all__ = [
    "FAMILIES",
    "FORMAT_VERSION",
    "MODEL_JSON",
    "PATENT_NOTE",
    "ExportError",
    "SystemCandidate",
    "export_system",
    "find_systems",
    "read_decode_config",
    "select_best_system",
]

log = logging.getLogger(__name__)

FAMILIES = TYPES
PATENT_NOTE = "The pseudo-label pre-training method is covered by US patent 11,521,639."
#: Options of stage 4's decoding config (speechsent-asr-decode's) that do not change a transcript: ignored.
_DECODE_JOB_KEYS = (
    "batch_seconds",
    "chunk_seconds",
    "num_threads",
    "device",
    "nj",
    "cmd",
    "ngpu",
    "model_dir",
    "model_file",
    "data_dir",
    "decode_dir",
    "asr_suffix",
    "log_level",
)


class ExportError(ValueError):
    """A system that cannot be exported or selected; the message says what is missing."""


# ----------------------------------------------------------------------------------------------------------
# Selection


def _read_json(path: Path) -> Any:
    try:
        return read_json(path)
    except (OSError, UnicodeDecodeError) as error:
        raise ExportError(f"{path}: {error}") from None
    except ValueError as error:  # names the file and the line
        raise ExportError(str(error)) from None


def _read_manifest(kind: type[Any], path: Path) -> Any:
    """``kind.from_dict`` of the JSON in ``path``; a bad file or field is an :class:`ExportError`."""
    try:
        return kind.from_dict(_read_json(path), path)
    except ManifestFormatError as error:
        raise ExportError(str(error)) from None


@dataclass(frozen=True)
class SystemCandidate:
    """A scored system of one family: its dir, the score file the choice reads, and that file's F1."""

    system_dir: Path
    score_file: Path
    unweighted_f1: float
    seed: int


def _score_file(system_dir: Path, family: str, select_set: str) -> Path | None:
    # The 2-step system sees ASR transcripts at inference: its score on them is the one to choose by.
    names = [f"score_{select_set}_asr", f"score_{select_set}"] if family == "two_step" else []
    names = names or [f"score_{select_set}"]
    for name in names:
        if (system_dir / name / "scores.json").is_file():
            return system_dir / name / "scores.json"
    return None


def find_systems(
    exp_root: str | Path, family: str, select_set: str = "swbd_test", include_subsets: bool = False
) -> list[SystemCandidate]:
    """The systems of ``family`` under ``exp_root`` scored on ``select_set``, best first.

    A system is a dir with ``system.json`` (``family`` as given) and ``model.json``; best = highest
    unweighted F1, ties broken by the lower seed, then the name. Systems trained on an hours subset of the
    labeled set (``train_hours`` set: the annotation-efficiency study of Fig. 2) are candidates only with
    ``include_subsets``, or when no system was trained on the whole set: on a small validation set, a subset
    system can win by chance, and the product is the one that learned from every label.
    """
    if family not in FAMILIES:
        raise ExportError(f"family must be one of {', '.join(FAMILIES)}, not {family!r}")
    root = Path(exp_root)
    if not root.is_dir():
        raise ExportError(f"{root}: no such experiment dir")
    found: list[SystemCandidate] = []
    subsets: list[SystemCandidate] = []
    for system_json in sorted(root.glob("*/system.json")):
        system_dir = system_json.parent
        info = _read_manifest(SystemManifest, system_json)
        if info.family != family or not (system_dir / "model.json").is_file():
            continue
        score_file = _score_file(system_dir, family, select_set)
        if score_file is None:
            log.info("%s: not scored on %s, not a candidate", system_dir, select_set)
            continue
        scores = _read_json(score_file)
        if "unweighted_f1" not in scores:
            raise ExportError(f"{score_file}: no unweighted_f1")
        seed = info.seed
        (subsets if info.train_hours is not None else found).append(
            SystemCandidate(
                system_dir,
                score_file,
                float(scores["unweighted_f1"]),
                int(seed) if isinstance(seed, int) else 0,
            )
        )
    if include_subsets or not found:
        found += subsets
    elif subsets:
        log.info("%d system(s) trained on hours subsets not considered (include_subsets)", len(subsets))
    return sorted(found, key=lambda c: (-c.unweighted_f1, c.seed, c.system_dir.name))


def select_best_system(
    exp_root: str | Path, family: str, select_set: str = "swbd_test", include_subsets: bool = False
) -> Path:
    """The system dir of ``family`` (e2e | two_step) with the best validation unweighted F1 on
    ``select_set`` (``score_<set>/scores.json``; for two_step ``score_<set>_asr`` when present), among
    the systems trained on the whole labeled set unless ``include_subsets`` (see :func:`find_systems`).

    Ties go to the lower seed, then the alphabetically first name. No candidate: :class:`ExportError`.
    """
    candidates = find_systems(exp_root, family, select_set, include_subsets)
    if not candidates:
        raise ExportError(
            f"{exp_root}: no {family} system scored on {select_set} (a dir with system.json of family "
            f"{family}, model.json and score_{select_set}/scores.json): train and score one first"
        )
    best = candidates[0]
    log.info(
        "best %s system on %s: %s (unweighted F1 %.2f, %s; %d candidate(s))",
        family,
        select_set,
        best.system_dir.name,
        best.unweighted_f1,
        best.score_file.parent.name,
        len(candidates),
    )
    for c in candidates:
        log.info(
            "candidate %s: unweighted F1 %.2f (%s)%s",
            c.system_dir.name,
            c.unweighted_f1,
            c.score_file.parent.name,
            "  <- chosen" if c is best else "",
        )
    return best.system_dir


# ----------------------------------------------------------------------------------------------------------
# Export


def _copy_file(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, obj, ensure_ascii=False)


def _check_source_checkpoint(path: Path) -> None:
    try:
        check_checkpoint(path)
    except ManifestError as error:
        raise ExportError(str(error)) from None


def _relative_strings(value: Any) -> Any:
    """Absolute paths of this machine left in a training config (data lists, output dirs) cut to their
    file name: they mean nothing elsewhere, and the model is built without them."""
    if isinstance(value, dict):
        return {k: _relative_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_relative_strings(v) for v in value]
    if isinstance(value, str) and value.startswith("/") and " " not in value:
        return Path(value).name
    return value


def _export_asr(asr_model: str | Path, model_file: str | Path | None, out: Path) -> dict[str, Any]:
    """Copy the ESPnet2 ASR model into ``out/asr``; returns its exported paths, fs, source and encoder dim."""
    import yaml

    from speechsent.asr.model_dir import ModelDirError, resolve_model_dir

    try:
        files = resolve_model_dir(asr_model, model_file)
    except ModelDirError as error:
        raise ExportError(f"ASR model {asr_model}: {error}") from None
    asr = out / "asr"
    asr.mkdir(parents=True)
    config = _relative_strings(copy.deepcopy(files.config))
    config["token_list"] = list(files.token_list)  # inline, as ESPnet saves it
    if files.bpemodel is not None:
        _copy_file(files.bpemodel, asr / "bpe.model")
        config["bpemodel"] = "asr/bpe.model"
    if config.get("normalize") == "global_mvn":
        _copy_file(Path(files.config["normalize_conf"]["stats_file"]), asr / "feats_stats.npz")
        config["normalize_conf"]["stats_file"] = "asr/feats_stats.npz"
    _check_source_checkpoint(files.model_file)
    _copy_file(files.model_file, asr / "model.pth")
    (asr / "config.yaml").write_text(
        yaml.safe_dump(config, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    encoder_dim = (config.get("encoder_conf") or {}).get("output_size")
    return {
        "config": "asr/config.yaml",
        "model_file": "asr/model.pth",
        "fs": files.fs,
        "source": str(files.model_file),
        "encoder_dim": encoder_dim,
    }


def _local_dir(value: str, bases: list[Path]) -> Path | None:
    """``value`` as an existing directory (absolute, or below one of ``bases``), else None (a hub id)."""
    path = Path(value)
    if path.is_absolute():
        return path if path.is_dir() else None
    for base in bases:
        if (base / path).is_dir():
            return base / path
    return None


def _export_classifier(system_dir: Path, model: E2EModelManifest | TextModelManifest, out: Path) -> dict:
    """Copy model.json + weights (+ tokenizer files; a local LM into ``out/lm``) into ``out/classifier``."""
    cls_dir = out / "classifier"
    cls_dir.mkdir(parents=True)
    model = copy.deepcopy(model)
    weights = model.weights
    if not (system_dir / weights).is_file():
        raise ExportError(f"{system_dir}: no weights file {weights} (is the training finished?)")
    _check_source_checkpoint(system_dir / weights)
    _copy_file(system_dir / weights, cls_dir / Path(weights).name)
    model.weights = Path(weights).name
    tok = model.tokenizer if isinstance(model, TextModelManifest) else {}
    lm_source = None
    if tok.get("kind") == "sentencepiece":
        src = system_dir / tok["model"]
        if not src.is_file():
            raise ExportError(f"{system_dir}: no tokenizer model {tok['model']}")
        _copy_file(src, cls_dir / Path(tok["model"]).name)
        tok["model"] = Path(tok["model"]).name
    elif tok.get("kind") == "lm":
        lm_dir = _local_dir(str(tok["lm"]), [Path.cwd(), system_dir, *system_dir.parents])
        lm_source = str(tok["lm"])
        if lm_dir is not None:
            shutil.copytree(lm_dir, out / "lm", symlinks=False)
            tok["lm"] = "../lm"  # relative to the classifier dir
            assert isinstance(model, TextModelManifest)
            extra = model.classifier.get("extra") or {}
            if "lm" in extra:
                extra["lm"] = "../lm"
    _write_json(cls_dir / "model.json", model.to_dict())
    return {"lm_source": lm_source, "lm": tok.get("lm") if tok.get("kind") == "lm" else None}


def _train_feats_infos(system_dir: Path, system: SystemManifest) -> list[tuple[Path, dict[str, Any]]]:
    """The ``info.json`` of each dump the system was trained on (its ``train_feats``), found from the
    recipe dir (the working dir, or two levels above ``system_dir``)."""
    config = system.config
    feats = config.get("train_feats") or []
    feats = feats if isinstance(feats, list) else [feats]
    bases = [Path.cwd(), system_dir.parent.parent, system_dir.parent]
    found = []
    for scp in feats:
        for base in bases:
            info_file = (base / scp).parent / "info.json"
            if info_file.is_file():
                found.append((info_file, _read_json(info_file)))
                break
    return found


def _fbank_features(system_dir: Path, system: SystemManifest) -> dict[str, Any]:
    """The fbank options of the dump an fbank system was trained on (its ``info.json``)."""
    for info_file, info in _train_feats_infos(system_dir, system):
        model = info.get("model") or {}
        fbank = model.get("fbank")
        if fbank is None:
            continue
        rate = fbank.get("sample_rate")
        rates = model.get("sample_rates") or []
        if rate is None and len(rates) != 1:
            raise ExportError(
                f"{info_file}: fbank features of audio at {rates or 'unknown'} Hz: no single rate "
                "to resample new audio to"
            )
        return {"kind": "fbank", "fbank": fbank, "fs": int(rate or rates[0])}
    raise ExportError(
        f"{system_dir}: cannot find the info.json of its fbank dump (train_feats "
        f"{system.config.get('train_feats')}); run the export from the recipe dir"
    )


def _hf_features(
    system_dir: Path, system: SystemManifest, model: E2EModelManifest, tmp: Path
) -> Features | None:
    """The Hugging Face encoder an E2E system's features came from (its dump's ``info.json``), packed into
    ``tmp/hf_encoder`` when it is a local dir (a hub id stays an id, with its revision); None when the
    system was trained on an ESPnet encoder's dump."""
    for info_file, info in _train_feats_infos(system_dir, system):
        spec = (info.get("model") or {}).get("hf")
        if spec is None:
            continue
        layers = list(info["model"]["layers"])
        dim = model.config.get("input_dim")
        if dim is not None and int(dim) != len(layers) * int(spec["hidden_size"]):
            raise ExportError(
                f"{system_dir}: the classifier takes {dim}-dim features but {info_file} says "
                f"{len(layers)} layers x {spec['hidden_size']}"
            )
        source = Path(spec["name_or_path"])
        local = source.is_dir()
        if local:
            shutil.copytree(source, tmp / "hf_encoder")
        elif spec.get("revision") is None:
            log.warning(
                "%s: the hub model %s has no pinned revision: the export loads whatever 'main' is then "
                "(dump with --hf_revision COMMIT to pin it)",
                system_dir,
                spec["name_or_path"],
            )
        return Features(
            kind="hf",
            fs=int(spec["sampling_rate"]),
            hf={
                "model": "hf_encoder" if local else str(spec["name_or_path"]),
                "local": local,
                "revision": spec.get("revision"),
                "layers": layers,
            },
        )
    return None


def read_decode_config(path: str | os.PathLike[str] | None, mode: str | None = None) -> dict[str, Any]:
    """``--decode_config``: a YAML mapping of decoding options (``{}`` without one), ``mode`` (given) set."""
    config: dict[str, Any] = {}
    if path:
        import yaml

        try:
            config = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise ExportError(f"--decode_config {path}: {error}") from None
        if not isinstance(config, dict):
            raise ExportError(f"--decode_config {path}: not a mapping of options")
    return {**config, "mode": mode} if mode else config


def _decode_options(decode_config: Mapping[str, Any] | None) -> dict[str, Any]:
    from speechsent.asr.decode import DECODE_MODES, DecodeOptions

    given = {k: v for k, v in (decode_config or {}).items() if k not in _DECODE_JOB_KEYS}
    if "decode_mode" in given:  # speechsent-asr-decode's name of the option
        mode = given.pop("decode_mode")
        given.setdefault("mode", mode)
    for key in ("lm_train_config", "lm_file"):
        if given.get(key) not in (None, "", "none", "None"):
            raise ExportError(
                f"decode_config: {key}: an ESPnet LM in the beam search is not supported by the export"
            )
        given.pop(key, None)
    unknown = sorted(set(given) - {f for f in DecodeOptions.__dataclass_fields__})
    if unknown:
        raise ExportError(f"decode_config: unknown option(s) {', '.join(unknown)}")
    opts = DecodeOptions(**given)
    if opts.mode not in DECODE_MODES:
        raise ExportError(f"decode mode must be one of {', '.join(DECODE_MODES)}, not {opts.mode!r}")
    # the options that change a transcript (DecodeOptions.stamp: only the mode for ctc_greedy), less the
    # ESPnet LM refused above
    return {k: v for k, v in opts.stamp().items() if k not in ("lm_train_config", "lm_file")}


def _scores(system_dir: Path) -> dict[str, Any]:
    out = {}
    for score_file in sorted(system_dir.glob("score_*/scores.json")):
        out[score_file.parent.name[len("score_") :]] = _read_json(score_file)
    return out


def _default_asr_model(asr_model: str | Path, system_dir: Path) -> Path:
    """``asr_model`` as given when it exists; the default pointer is also looked for beside the system."""
    path = Path(asr_model)
    if path.exists():
        return path
    beside = system_dir.parent / path.name
    if beside.exists():
        return beside
    raise ExportError(f"ASR model {asr_model}: no such file or directory (give --asr_model)")


def _model_card(info: dict[str, Any], asr_source: str | None) -> str:
    system = info["system_json"]
    kind = (
        "end-to-end (encoder features → classifier)"
        if info["type"] == "e2e"
        else ("2-step (ASR transcript → text classifier)")
    )
    lines = [
        f"# speechsent model: {info['system']}",
        "",
        f"- Type: {kind}; architecture `{system.get('architecture')}`, input `{system.get('input')}`",
        f"- Labels: {', '.join(info['labels'])}; audio resampled to {info['fs']} Hz",
        f"- Training data: `{system.get('train_set')}`"
        + (f" ({system['train_hours']} h)" if system.get("train_hours") else " (all)")
        + (
            f"; pseudo-label pre-training on {', '.join(system.get('pseudo_sets') or [])} labelled by "
            f"`{system['pseudo_labeler']}` ({system.get('pseudo_transcript')} transcripts)"
            if system.get("pseudo_labeler")
            else ""
        ),
        f"- Selected on `{system.get('select_set')}` (epoch {system.get('best_epoch')}), "
        f"seed {system.get('seed')}",
    ]
    hf = (info.get("features") or {}).get("hf")
    if hf:
        where = (
            "packed in `hf_encoder/`"
            if hf["local"]
            else f"from the Hugging Face Hub, revision {hf['revision']}"
        )
        lines.append(
            f"- Encoder: Hugging Face `{hf['model']}` ({where}), frozen; hidden states "
            f"{' '.join(map(str, hf['layers']))} (a learned weighted sum when several)"
        )
    if asr_source:
        lines.append(f"- ASR model: `{asr_source}` (ESPnet2, in `asr/`)")
    if info.get("decode"):
        lines.append(f"- ASR decoding: {', '.join(f'{k}={v}' for k, v in info['decode'].items())}")
    if info.get("lm"):
        lines.append(f"- Language model of the text classifier: `{info['lm']}`")
    lines += [
        "",
        "## Scores (percent)",
        "",
        "`swbd_test`: validation (the system was chosen on it), `swbd_holdout`: evaluation; `_asr`: the "
        "2-step classifier on ASR transcripts instead of the reference ones.",
        "",
    ]
    if info["scores"]:
        lines += [
            "| set | unweighted F1 | unweighted recall | weighted F1 | utterances |",
            "|---|---|---|---|---|",
        ]
        for name, s in info["scores"].items():
            values = [s.get(k, float("nan")) for k in ("unweighted_f1", "unweighted_recall", "weighted_f1")]
            lines.append(f"| {name} | {' | '.join(f'{v:.2f}' for v in values)} | {s.get('num_utts', '')} |")
    else:
        lines.append("No scores were recorded.")
    lines += [
        "",
        "## Use",
        "",
        "```sh",
        "speechsent-infer --model_dir DIR audio.wav other.flac        # one JSON line per file",
        "speechsent-infer --model_dir DIR --channel 0 sw02001.sph     # a channel of a 2-channel file",
        "speechsent-infer --model_dir DIR --wav_scp data/x/wav.scp --segments data/x/segments",
        "speechsent-infer --model_dir DIR --chunk_seconds 10 call.wav  # a long recording: 10 s windows",
        "```",
        "",
        "```python",
        "from speechsent import SentimentModel",
        "model = SentimentModel.from_pretrained('DIR')  # DIR: this directory",
        "print(model('audio.wav').to_dict())",
        "```",
    ]
    if system.get("pseudo_labeler"):
        lines += ["", PATENT_NOTE]
    return "\n".join(lines) + "\n"


def _read_system(system_dir: Path) -> tuple[SystemManifest, E2EModelManifest | TextModelManifest]:
    """The system's ``system.json`` and ``model.json`` (of the schema of its family)."""
    if not (system_dir / "system.json").is_file():
        raise ExportError(f"{system_dir}: no system.json (not a trained sentiment system)")
    system = _read_manifest(SystemManifest, system_dir / "system.json")
    if not (system_dir / "model.json").is_file():
        raise ExportError(f"{system_dir}: no model.json")
    kind = E2EModelManifest if system.family == "e2e" else TextModelManifest
    model = _read_manifest(kind, system_dir / "model.json")
    if not model.labels:
        raise ExportError(f"{system_dir}/model.json: no labels")
    return system, model


def _add_inputs(
    manifest: ModelManifest,
    system_dir: Path,
    system: SystemManifest,
    model: E2EModelManifest | TextModelManifest,
    tmp: Path,
    asr: tuple[str | Path, str | Path | None, dict | None],
) -> str | None:
    """Fill in ``manifest``'s features / ASR / decoding and ``fs`` (exporting the ASR model into ``tmp``);
    returns the ASR model's source (for the model card), None for an fbank system."""
    asr_model, asr_model_file, decode_config = asr
    family = system.family
    input_kind = model.input if isinstance(model, E2EModelManifest) else "transcript"
    if family == "e2e" and input_kind == "fbank":
        features = _fbank_features(system_dir, system)
        manifest.features = Features(kind="fbank", fbank=features["fbank"], fs=features["fs"])
        manifest.fs = features["fs"]
        return None
    if family == "e2e" and input_kind == "encoder" and isinstance(model, E2EModelManifest):
        hf = _hf_features(system_dir, system, model, tmp)
        if hf is not None:
            manifest.features = hf
            manifest.fs = int(hf.fs or 0)
            return None
    exported = _export_asr(_default_asr_model(asr_model, system_dir), asr_model_file, tmp)
    manifest.asr = AsrFiles(config=exported["config"], model_file=exported["model_file"])
    manifest.fs = exported["fs"]
    if isinstance(model, E2EModelManifest):
        if input_kind != "encoder":
            raise ExportError(f"{system_dir}/model.json: unknown input {input_kind!r}")
        manifest.features = Features(kind="encoder")
        dim, encoder_dim = model.config.get("input_dim"), exported["encoder_dim"]
        if encoder_dim is not None and dim is not None and int(dim) != int(encoder_dim):
            raise ExportError(
                f"{system_dir}: the classifier takes {dim}-dim features but the ASR encoder of "
                f"{exported['source']} gives {encoder_dim}: not the model it was trained on"
            )
    else:
        manifest.decode = _decode_options(decode_config)
    return f"{Path(exported['source']).parent.name}/{Path(exported['source']).name}"


def export_system(
    system_dir: str | Path,
    out_dir: str | Path,
    asr_model: str | Path = "exp/asr_model",
    decode_config: dict | None = None,
    *,
    asr_model_file: str | Path | None = None,
) -> Path:
    """Pack the system at ``system_dir`` into ``out_dir`` (see the module doc); returns ``out_dir``.

    ``asr_model``: the ESPnet2 ASR model (a dir, its config.yaml or the ``exp/asr_model`` pointer; the default
    pointer is also looked for beside ``system_dir``), not needed for an fbank system; ``asr_model_file``
    its ``*.pth`` when not the one ESPnet's packs would choose. ``decode_config``: a 2-step system's decoding
    (``mode`` beam | ctc_greedy, ``beam_size``, ``ctc_weight``, ``penalty``, ``maxlenratio``, ``minlenratio``,
    ``lm_weight``; stage 4's config is accepted as it is: ``decode_mode`` = ``mode``, its job and batching
    options ignored); default beam search with :class:`speechsent.asr.decode.DecodeOptions`' defaults.
    """
    import speechsent

    system_dir, out_dir = Path(system_dir), Path(out_dir)
    system, model = _read_system(system_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.tmp.{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        manifest = ModelManifest(
            type=system.family,
            labels=list(model.labels),
            fs=0,  # set below: the ASR model's rate, or the fbank dump's
            system=system.system or system_dir.name,
            system_json=system.to_dict(),
            scores=_scores(system_dir),
            speechsent_version=speechsent.__version__,
        )
        asr_source = _add_inputs(
            manifest, system_dir, system, model, tmp, (asr_model, asr_model_file, decode_config)
        )
        cls = _export_classifier(system_dir, model, tmp)
        if cls["lm"] is not None:
            manifest.lm = cls["lm"] if cls["lm"] != "../lm" else "lm"
        info = manifest.to_dict()
        try:  # what the reader will check, on what was written (the schema, every file it names)
            check_model_files(tmp, ModelManifest.from_dict(info, f"{out_dir}/{MODEL_JSON}"))
        except ManifestError as error:
            message = str(error).replace(str(tmp), str(out_dir))
            raise ExportError(f"{system_dir}: the exported model would not load: {message}") from None
        _write_json(tmp / MODEL_JSON, info)
        (tmp / "README.md").write_text(_model_card(info, asr_source), encoding="utf-8")
        replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info(
        "exported %s (%s, %d Hz) to %s; scores: %s",
        info["system"],
        system.family,
        info["fs"],
        out_dir,
        ", ".join(f"{k} UF1 {v.get('unweighted_f1', float('nan')):.2f}" for k, v in info["scores"].items())
        or "none",
    )
    return out_dir
