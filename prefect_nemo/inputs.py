"""What the user named, accounted for: each path becomes images to convert, or a line saying why it is not used.

A folder is read one level deep; a file named on the command line is always tried (its content decides),
while a folder's entries are taken by their extension. Nothing here opens an image: this runs before
anything slow starts, so a wrong path is reported at once. `media.preflight` then checks each image's content.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CONVERTED_IMAGES", "READABLE_IMAGES", "UPLOAD_IMAGES", "Input", "account", "display_path"]

UPLOAD_IMAGES = (".jpg", ".jpeg", ".png", ".gif", ".webp")
"""Types the backend takes as they are."""
CONVERTED_IMAGES = (".heic", ".heif", ".avif", ".tif", ".tiff", ".bmp")
"""Types a camera or scanner makes, converted to PNG before upload."""
READABLE_IMAGES = UPLOAD_IMAGES + CONVERTED_IMAGES


@dataclass
class Input:
    """One path the user named, or one entry of a folder they named: used (`reason` None) or not, and why."""

    path: Path
    reason: str | None = None
    named: bool = True
    """Named on the command line (not found in a folder)."""

    @property
    def usable(self) -> bool:
        return self.reason is None

    @property
    def shown(self) -> str:
        return display_path(self.path)


def display_path(path: Path | str) -> str:
    """A path as text that is always valid UTF-8: a non-UTF-8 name's stray bytes become `\\xe9` escapes.

    Such a name must never reach a terminal, a log or Prefect's JSON raw.
    """
    try:
        return os.fsencode(str(path)).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is not an escaped byte
        return str(path).encode("utf-8", "backslashreplace").decode("utf-8")


def account(paths: Sequence[Path]) -> list[Input]:
    """Every path named, and every entry of every folder named, once each, in order (a path named twice
    counts once)."""
    seen: set[Path] = set()
    found: list[Input] = []
    for entry in _expand(paths):
        key = Path(os.path.abspath(entry.path))
        if key not in seen:
            seen.add(key)
            found.append(entry)
    return found


def _expand(paths: Sequence[Path]) -> Iterable[Input]:
    for path in paths:
        if path.is_dir():
            entries = sorted(path.iterdir())
            if not entries:
                yield Input(path, "folder is empty")
            for entry in entries:
                yield Input(entry, _folder_entry_problem(entry), named=False)
        else:
            yield Input(path, _file_problem(path))


def _file_problem(path: Path) -> str | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return "no such file"
    except NotADirectoryError:
        return "no such file (a part of the path is a file)"
    except PermissionError:
        return "cannot be read (permission denied)"
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_size == 0:
        return "file is empty (0 bytes)"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    return None


def _folder_entry_problem(path: Path) -> str | None:
    if path.name.startswith("."):
        return "hidden file" if not path.is_dir() else "hidden folder"
    if path.is_dir():
        return "a folder inside a folder (folders are read one level deep; name it to include it)"
    if path.suffix.lower() not in READABLE_IMAGES:
        kinds = ", ".join(s.lstrip(".") for s in READABLE_IMAGES if s not in (".jpeg", ".heif", ".tif"))
        return f"unsupported type '{path.suffix or '(none)'}' (images: {kinds})"
    return _file_problem(path)
