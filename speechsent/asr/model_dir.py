"""Which files make an ESPnet2 ASR model, and its config with absolute paths.

An ESPnet2 ASR model is a training config (``config.yaml``: every option of ``espnet2.bin.asr_train``,
``token_list`` included as a list) and a state dict (``*.pth``), plus the files the config names by path:
the BPE model (``bpemodel``) and the global-MVN statistics (``normalize_conf.stats_file``). Those paths are
relative to the directory the model was trained or unpacked in:

- an experiment dir trained by stage 3 (``exp/asr_<tag>/``): relative to the recipe dir
  (``data/token_list/bpe_unigram2000/bpe.model``, ``exp/asr_stats_raw_bpe2000/train/feats_stats.npz``);
- a model-zoo / Hugging Face ESPnet model unpacked anywhere: ``meta.yaml`` at the root names the config and
  the model file (``yaml_files.asr_train_config``, ``files.asr_model_file``), paths relative to the root
  (``espnet_model_zoo`` rewrites them on unpacking, relative to the directory it was called from).

:func:`resolve_model_dir` finds the files of such a directory (or of the ``config.yaml``, the ``*.pth``, or an
``exp/asr_model`` pointer file given instead) and resolves every relative path of the config against the
first of: the model root (``meta.yaml``'s directory), the directories above the config, the current
directory. :func:`write_resolved_config` writes that config, so that
``ASRTask.build_model_from_file(config, model_file)`` and ``Speech2Text`` work from any directory.

The model file is chosen as ESPnet's packs choose it: an explicit ``model_file``, else ``meta.yaml``'s, else
``valid.acc.ave.pth``, ``valid.acc.ave_<N>best.pth`` (largest N), ``valid.acc.best.pth``, then the newest
other ``*.pth`` (never ``checkpoint.pth``, which holds the optimizer state too).

**The pointer** ``exp/asr_model``: stage 3 writes there which model the later stages use (one line, the model
dir, relative to ``exp/`` when it lies below it, else absolute): :func:`write_model_pointer`,
:func:`read_model_pointer`; ``resolve_model_dir("exp/asr_model")`` follows it.
"""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from speechsent.utils.fileio import atomic_write_text

__all__ = [
    "MODEL_POINTER",
    "ModelDirError",
    "ModelFiles",
    "choose_model_file",
    "log_model_files",
    "parse_fs",
    "read_model_pointer",
    "record_model",
    "resolve_model_dir",
    "write_model_pointer",
    "write_resolved_config",
]

MODEL_POINTER = "exp/asr_model"
_CONFIG_NAMES = ("config.yaml", "config.yml")


class ModelDirError(ValueError):
    """Not a usable ESPnet2 ASR model; the message says what is missing."""


@dataclass
class ModelFiles:
    """The resolved files of an ESPnet2 ASR model.

    ``config`` is the training config with its relative paths made absolute (what
    :func:`write_resolved_config` writes); ``token_list`` the token list (``<blank>`` first, ``<sos/eos>``
    last); ``fs`` the sampling rate the frontend expects (Hz).
    """

    config_file: Path
    model_file: Path
    bpemodel: Path | None
    token_list: list[str] = field(repr=False)
    fs: int
    token_type: str | None = None
    root: Path | None = None  # the directory relative paths were resolved against first
    config: dict[str, Any] = field(default_factory=dict, repr=False)


def parse_fs(value: object, default: int = 16000) -> int:
    """``8000``, ``"8k"``, ``"16k"``, ``"16000"`` → Hz (ESPnet accepts humanfriendly sizes)."""
    if value is None:
        return default
    if isinstance(value, (int, float)):
        return int(value)
    m = re.fullmatch(r"\s*([0-9.]+)\s*([kK])?\s*(?:[hH][zZ])?\s*", str(value))
    if not m:
        raise ModelDirError(f"unreadable sampling rate {value!r}")
    return round(float(m.group(1)) * (1000 if m.group(2) else 1))


# -- pointer -------------------------------------------------------------------------------------------------


def write_model_pointer(model_dir: str | Path, pointer: str | Path = MODEL_POINTER) -> Path:
    """Record ``model_dir`` in ``pointer`` (relative to the pointer's directory when below it)."""
    pointer = Path(pointer)
    target = Path(model_dir).resolve()
    base = pointer.parent.resolve()
    try:
        value = str(target.relative_to(base))
    except ValueError:
        value = str(target)
    pointer.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(pointer, value + "\n")
    return pointer


def read_model_pointer(pointer: str | Path = MODEL_POINTER) -> Path:
    """The model dir recorded in ``pointer`` (written by stage 3)."""
    pointer = Path(pointer)
    try:
        value = pointer.read_text(encoding="utf-8").strip().splitlines()[0].strip()
    except (OSError, IndexError):
        raise ModelDirError(f"{pointer}: no model recorded (run stage 3, or give --asr_model_dir)") from None
    path = Path(value)
    return path if path.is_absolute() else pointer.parent / path


# -- model files ---------------------------------------------------------------------------------------------


def choose_model_file(directory: Path) -> Path:
    """The model file of an experiment dir, as ESPnet's packs choose it (see the module doc)."""
    for name in ("valid.acc.ave.pth",):
        if (directory / name).is_file():
            return directory / name
    averaged = []
    for p in directory.glob("valid.acc.ave_*best.pth"):
        m = re.fullmatch(r"valid\.acc\.ave_(\d+)best\.pth", p.name)
        if m and p.is_file():
            averaged.append((int(m.group(1)), p))
    if averaged:
        return max(averaged)[1]
    if (directory / "valid.acc.best.pth").is_file():
        return directory / "valid.acc.best.pth"
    others = [p for p in directory.glob("*.pth") if p.name != "checkpoint.pth" and p.is_file()]
    if others:
        return max(others, key=lambda p: (p.stat().st_mtime, p.name))
    raise ModelDirError(f"{directory}: no model file (*.pth other than checkpoint.pth)")


def _load_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        with path.open(encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as error:
        raise ModelDirError(f"{path}: {error}") from None
    if not isinstance(data, dict):
        raise ModelDirError(f"{path}: not a mapping")
    return data


def _find_config(directory: Path) -> Path:
    for name in _CONFIG_NAMES:
        if (directory / name).is_file():
            return directory / name
    found = sorted(
        p
        for pattern in ("*/config.yaml", "*/*/config.yaml", "*/*/*/config.yaml")
        for p in directory.glob(pattern)
        if any(q.name != "checkpoint.pth" for q in p.parent.glob("*.pth")) and "encoder" in _load_yaml(p)
    )
    if len(found) == 1:
        return found[0]
    if not found:
        raise ModelDirError(
            f"{directory}: no ESPnet2 ASR model (config.yaml with a *.pth beside it, or meta.yaml)"
        )
    raise ModelDirError(
        f"{directory}: several models ({', '.join(str(p.parent) for p in found)}): give one of them"
    )


def _follow_pointer(path: Path) -> Path:
    """A file that is neither YAML nor a model file is read as an ``exp/asr_model`` pointer."""
    if path.is_file() and path.suffix not in (".yaml", ".yml", ".pth", ".pt"):
        target = read_model_pointer(path)
        if not target.exists():
            raise ModelDirError(f"{path} points at {target}, which does not exist")
        return target
    return path


def _roots(root: Path | None, config_file: Path) -> list[Path]:
    roots: list[Path] = []
    if root is not None:
        roots.append(root)
    roots += [config_file.parent, *config_file.parent.parents]
    roots.append(Path.cwd())
    seen: list[Path] = []
    for r in roots:
        r = r.resolve()
        if r not in seen:
            seen.append(r)
    return seen


def _looks_like_path(value: str) -> bool:
    return (
        "/" in value
        and not value.startswith(("http://", "https://", "/"))
        and not any(c.isspace() for c in value)
    )


def _resolve_paths(value: Any, roots: list[Path]) -> Any:
    """Relative paths (strings with a ``/`` that exist below one of ``roots``) → absolute paths."""
    if isinstance(value, dict):
        return {k: _resolve_paths(v, roots) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve_paths(v, roots) for v in value]
    if isinstance(value, str) and _looks_like_path(value):
        for r in roots:
            candidate = r / value
            if candidate.exists():
                return str(candidate)
    return value


def _resolve_one(value: Any, roots: list[Path], what: str, config_file: Path) -> Path:
    path = Path(str(value))
    if path.is_absolute():
        if path.exists():
            return path
        # an absolute path from another machine: try its tail below the model root
        parts = path.parts
        for i in range(1, len(parts)):
            for r in roots:
                if (r / Path(*parts[i:])).exists():
                    return r / Path(*parts[i:])
        raise ModelDirError(f"{config_file}: {what} {value} does not exist")
    for r in roots:
        if (r / path).exists():
            return r / path
    raise ModelDirError(
        f"{config_file}: {what} {value} not found relative to {', '.join(str(r) for r in roots[:3])} ..."
    )


def resolve_model_dir(path: str | Path, model_file: str | Path | None = None) -> ModelFiles:
    """The files of the ESPnet2 ASR model at ``path`` (see the module doc).

    ``path``: a model dir (an ``exp/asr_*`` experiment dir, or the root of an unpacked model-zoo / Hugging
    Face model with ``meta.yaml``, or any dir holding one model's ``config.yaml`` a few levels down), a
    ``config.yaml``, a ``*.pth`` (its config beside it), or an ``exp/asr_model`` pointer file.
    ``model_file`` chooses the model file explicitly (relative to the config's dir if not found as given).
    Raises :class:`ModelDirError` when something is missing.
    """
    p = _follow_pointer(Path(path))
    if not p.exists():
        raise ModelDirError(f"{p}: no such file or directory")
    root, config_file, chosen = _locate(p)
    config_file = config_file.resolve()
    if model_file is not None:
        m = Path(model_file)
        if not m.is_file() and (config_file.parent / m).is_file():
            m = config_file.parent / m
        if not m.is_file():
            raise ModelDirError(f"{model_file}: no such model file")
        chosen = m
    if chosen is None:
        chosen = choose_model_file(config_file.parent)
    raw = _load_yaml(config_file)
    roots = _roots(root, config_file)
    config = _resolve_paths(copy.deepcopy(raw), roots)
    bpemodel, token_list = _resolve_config_files(config, raw, roots, config_file)
    frontend_conf = config.get("frontend_conf") or {}
    fs = parse_fs(frontend_conf.get("fs"), 16000)
    return ModelFiles(
        config_file=config_file,
        model_file=chosen.resolve(),
        bpemodel=bpemodel,
        token_list=[str(t) for t in token_list],
        fs=fs,
        token_type=config.get("token_type"),
        root=(root or config_file.parent).resolve(),
        config=config,
    )


def _locate(p: Path) -> tuple[Path | None, Path, Path | None]:
    """``(model root of a packed model or None, config file, model file named by the model or None)``."""
    if p.is_dir() and (p / "meta.yaml").is_file():
        meta = _load_yaml(p / "meta.yaml")
        yaml_files = meta.get("yaml_files") or {}
        files = meta.get("files") or {}
        config_name = yaml_files.get("asr_train_config")
        if not config_name:
            raise ModelDirError(f"{p / 'meta.yaml'}: no yaml_files.asr_train_config (not an ASR model)")
        roots = [p.resolve(), Path.cwd()]
        config_file = _resolve_one(config_name, roots, "asr_train_config", p / "meta.yaml")
        chosen = None
        if files.get("asr_model_file"):
            chosen = _resolve_one(files["asr_model_file"], roots, "asr_model_file", p / "meta.yaml")
        return p, config_file, chosen
    if p.is_dir():
        return None, _find_config(p), None
    if p.suffix in (".pth", ".pt"):
        return None, _find_config(p.parent), p
    return None, p, None


def _resolve_config_files(
    config: dict[str, Any], raw: dict[str, Any], roots: list[Path], config_file: Path
) -> tuple[Path | None, list[Any]]:
    """Make the config's bpemodel, token list and global-MVN stats absolute (in ``config``); the bpemodel
    and the tokens."""
    bpemodel: Path | None = None
    if config.get("bpemodel") not in (None, "none", "None", ""):
        bpemodel = _resolve_one(raw["bpemodel"], roots, "bpemodel", config_file).resolve()
        config["bpemodel"] = str(bpemodel)
    elif config.get("token_type") == "bpe":
        raise ModelDirError(f"{config_file}: token_type bpe but no bpemodel")
    token_list = config.get("token_list")
    if isinstance(token_list, str):
        tl = _resolve_one(raw["token_list"], roots, "token_list", config_file)
        token_list = [line.rstrip("\n") for line in tl.read_text(encoding="utf-8").splitlines()]
        config["token_list"] = str(tl.resolve())
    if not isinstance(token_list, list) or not token_list:
        raise ModelDirError(f"{config_file}: no token_list")
    if config.get("normalize") == "global_mvn":
        stats = (raw.get("normalize_conf") or {}).get("stats_file")
        if not stats:
            raise ModelDirError(f"{config_file}: normalize global_mvn without normalize_conf.stats_file")
        config["normalize_conf"]["stats_file"] = str(
            _resolve_one(stats, roots, "normalize_conf.stats_file", config_file).resolve()
        )
    return bpemodel, token_list


def write_resolved_config(files: ModelFiles, out_path: str | Path) -> Path:
    """Write the model's config with absolute paths to ``out_path`` (atomically); return the path."""
    import yaml

    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, yaml.safe_dump(files.config, sort_keys=False, allow_unicode=True))
    return out


def record_model(
    model_dir: str | Path,
    model_file: str | Path | None = None,
    pointer: str | Path | None = None,
    resolved_config: str | Path | None = None,
) -> ModelFiles:
    """``speechsent-asr-model``'s work: resolve the model, write its resolved config (``resolved_config``)
    and record it in ``pointer``: what the user named (a dir, config or *.pth: the pointer is followed the
    same way), or the explicitly chosen model file; a pointer naming itself is left alone."""
    files = resolve_model_dir(model_dir, model_file)
    if resolved_config:
        write_resolved_config(files, resolved_config)
    if pointer:
        target = files.model_file if model_file else Path(model_dir)
        if target.resolve() != Path(pointer).resolve():
            write_model_pointer(target, pointer)
    return files


def log_model_files(files: ModelFiles, log: logging.Logger, expect_fs: int | None = None) -> None:
    """Log what a user checks of a resolved model: its files, tokens, normalisation and sampling rate; a
    warning when that differs from ``expect_fs`` (the audio is resampled to it)."""
    log.info("config: %s", files.config_file)
    log.info("model file: %s", files.model_file)
    log.info(
        "bpemodel: %s; %d tokens; token_type %s", files.bpemodel, len(files.token_list), files.token_type
    )
    stats = (files.config.get("normalize_conf") or {}).get("stats_file")
    log.info(
        "normalize: %s%s; fs: %d Hz", files.config.get("normalize"), f" ({stats})" if stats else "", files.fs
    )
    if expect_fs and expect_fs != files.fs:
        log.warning(
            "the model expects %d Hz audio, not %d Hz: audio is resampled to %d Hz when decoding",
            files.fs,
            expect_fs,
            files.fs,
        )
