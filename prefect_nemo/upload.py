"""How a local file is named and typed on the wire: a safe ASCII name, and its MIME type by extension.

A local name may be non-UTF-8, very long or personal; what leaves the machine is a transliterated stem.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

__all__ = ["MIME_TYPES", "mime_type", "upload_name"]

MIME_TYPES = {
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp",
    ".mp4": "video/mp4", ".mov": "video/quicktime", ".avi": "video/x-msvideo", ".webm": "video/webm",
    ".mkv": "video/x-matroska", ".mp3": "audio/mpeg", ".wav": "audio/wav", ".m4a": "audio/mp4", ".aac": "audio/aac",
}  # fmt: skip


def mime_type(path: Path) -> str:
    return MIME_TYPES.get(path.suffix.lower(), "application/octet-stream")


def upload_name(path: Path) -> str:
    """A safe ASCII file name for a multipart upload: the stem transliterated, at most 80 characters."""
    stem = unicodedata.normalize("NFKD", path.stem.encode("utf-8", "replace").decode("utf-8"))
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", stem.encode("ascii", "ignore").decode()).strip("-.")
    suffix = re.sub(r"[^A-Za-z0-9.]+", "", path.suffix.lower())[:8]
    return f"{(stem or 'image')[:80]}{suffix}"
