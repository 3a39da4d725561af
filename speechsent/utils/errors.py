"""Errors of libraries (torch, ESPnet, transformers, huggingface_hub) shown as one short line."""

from __future__ import annotations

__all__ = ["one_line"]


def one_line(error: BaseException, limit: int = 300) -> str:
    """``error`` as one line of at most ``limit`` characters of message, after its class name."""
    text = " ".join(str(error).split())
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
