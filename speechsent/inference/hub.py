"""Exported models on the Hugging Face Hub: download one by its id into the Hub cache
(:func:`download_model`, what ``SentimentModel.from_pretrained("org/name")`` and ``speechsent-infer
--model_dir org/name`` do), upload one with its model card (:func:`push_model`, ``speechsent-export
--push_to_hub org/name``).

``huggingface_hub`` does the transfers and keeps the cache (``HF_HOME`` / ``HF_HUB_CACHE``); with
``HF_HUB_OFFLINE=1`` only the cache is read. A model that cannot be fetched is one :class:`HubError` line
naming the id. ``huggingface_hub`` is imported only when a transfer is made.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from speechsent.utils.errors import one_line

__all__ = ["HubError", "download_model", "is_hub_id", "model_card_header", "push_model"]

_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*")


class HubError(RuntimeError):
    """A model that cannot be downloaded or uploaded (the message names the id)."""


def is_hub_id(name: str | os.PathLike[str]) -> bool:
    """Whether ``name`` is a Hub model id (``org/name``) rather than a local dir: not an existing path,
    and of the id's form."""
    text = str(name)
    return not Path(text).exists() and _HUB_ID.fullmatch(text) is not None


def download_model(repo_id: str, revision: str | None = None, cache_dir: str | None = None) -> Path:
    """The local snapshot dir of the exported model ``repo_id`` at ``revision`` (a branch, tag or commit;
    default ``main``), downloaded into the Hub cache unless it is there."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover - a dependency of transformers
        raise HubError(f"{repo_id}: huggingface_hub is not installed (pip install huggingface_hub)") from None
    try:
        return Path(snapshot_download(repo_id, revision=revision, cache_dir=cache_dir))
    except Exception as error:  # huggingface_hub's errors: offline, not found, gated, ...
        where = f"{repo_id} (revision {revision})" if revision else repo_id
        offline = os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0")
        hint = (
            "HF_HUB_OFFLINE is set: only the cache is read, and it does not hold it"
            if offline
            else "no network? HF_HUB_OFFLINE=1 reads the cache only"
        )
        raise HubError(
            f"{where}: cannot download the model from the Hugging Face Hub ({hint}): {one_line(error)}"
        ) from None


def model_card_header(info: dict[str, Any]) -> str:
    """The Hub's YAML metadata for an exported model (``speechsent_model.json``'s content ``info``): the
    library, the task and a licence of ``other`` (the classifiers are trained on LDC corpora, whose
    licences govern what may be shared; the card's text says so)."""
    tags = ["speechsent", "speech", "sentiment-analysis", "audio-classification", info.get("type", "")]
    lines = [
        "---",
        "library_name: speechsent",
        "license: other",
        "pipeline_tag: audio-classification",
        "tags:",
    ]
    lines += [f"- {tag}" for tag in tags if tag]
    return "\n".join([*lines, "---", ""]) + "\n"


_LICENCE = """
## Licence

The weights were trained on the corpora named above. Switchboard, Fisher and SWBD-Sentiment are LDC corpora:
their user agreements govern whether models trained on them may be shared, and with whom. Check them before
you make this repository public.
"""


def push_model(
    model_dir: str | os.PathLike[str],
    repo_id: str,
    *,
    private: bool = True,
    token: str | None = None,
    commit_message: str | None = None,
) -> str:
    """Upload the exported model dir ``model_dir`` to the Hub repository ``repo_id`` (made if absent,
    private unless asked otherwise), its ``README.md`` given the Hub's metadata and a licence section;
    returns the commit's URL."""
    from speechsent.inference.manifest import ManifestError, check_model_files, read_manifest

    model_dir = Path(model_dir)
    try:  # what a downloader will check: never upload a model that would not load
        manifest = read_manifest(model_dir)
        check_model_files(model_dir, manifest)
    except ManifestError as error:
        raise HubError(f"{repo_id}: not uploaded: {error}") from None
    info = manifest.to_dict()
    try:
        from huggingface_hub import HfApi
    except ImportError:  # pragma: no cover - a dependency of transformers
        raise HubError(f"{repo_id}: huggingface_hub is not installed (pip install huggingface_hub)") from None
    with tempfile.TemporaryDirectory(prefix="speechsent_push_") as tmp:
        staged = Path(tmp) / model_dir.name
        shutil.copytree(model_dir, staged)
        card = staged / "README.md"
        text = card.read_text(encoding="utf-8") if card.is_file() else f"# {info.get('system', repo_id)}\n"
        card.write_text(model_card_header(info) + text.rstrip("\n") + "\n" + _LICENCE, encoding="utf-8")
        try:
            api = HfApi(token=token)
            api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
            commit = api.upload_folder(
                folder_path=str(staged),
                repo_id=repo_id,
                repo_type="model",
                commit_message=commit_message or f"speechsent model {info.get('system', '')}".strip(),
            )
        except Exception as error:  # huggingface_hub's errors: offline, no token, no rights, ...
            raise HubError(
                f"{repo_id}: cannot upload {model_dir} to the Hugging Face Hub: {one_line(error)}"
            ) from None
    return str(getattr(commit, "commit_url", commit))
