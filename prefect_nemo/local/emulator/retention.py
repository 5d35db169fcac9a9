"""What the embedded backend's data folder may forget: intermediates past their retention, on request clips.

Only files are looked at, so the CLI can prune a folder whose server is not running. A file's modification
time is its last use: the backend touches a session's uploads whenever it uses them, so "older than" means
"not needed for that long". A session whose upload is gone answers 1002, like an expired cloud session.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["INTERMEDIATES", "PruneReport", "prune", "release", "touch"]

INTERMEDIATES = ("uploads", "media")
"""Sub-folders holding a session's inputs (uploaded stills and audio) and its stage-1 previews."""
OUTPUTS = "renders"
"""The delivered clips: one copy each, kept until pruned explicitly (``outputs=True``)."""


@dataclass
class PruneReport:
    """The files a prune deleted (or, in a dry run, would delete) and their bytes."""

    files: list[Path] = field(default_factory=list)
    bytes: int = 0
    dry_run: bool = True

    def summary(self) -> str:
        verb = "would free" if self.dry_run else "freed"
        return f"{len(self.files)} files, {verb} {self.bytes / 1e6:.1f} MB"


def prune(
    data_dir: Path, older_than: float, dry_run: bool = True, *, outputs: bool = True, now: float | None = None
) -> PruneReport:
    """Delete what the data folder holds that was last used more than ``older_than`` seconds ago.

    That is: uploads, stage-1 previews, leftover ``.part`` files and (with ``outputs``) rendered clips.
    The database, the URL-signing key and anything younger stay. A missing folder prunes to nothing.
    """
    if older_than < 0:
        raise ValueError(f"older_than={older_than} must be zero or more seconds")
    cutoff = (time.time() if now is None else now) - older_than
    report = PruneReport(dry_run=dry_run)
    folders = [*INTERMEDIATES, OUTPUTS] if outputs else list(INTERMEDIATES)
    candidates = [p for sub in folders for p in sorted((Path(data_dir) / sub).glob("*"))]
    if not outputs:
        candidates += sorted((Path(data_dir) / OUTPUTS).glob("*.part.mp4"))
    for path in candidates:
        try:
            stat = path.stat()
            if not path.is_file() or stat.st_mtime > cutoff:
                continue
            if not dry_run:
                path.unlink()
        except FileNotFoundError:  # deleted meanwhile (a download released it): nothing to free
            continue
        report.files.append(path)
        report.bytes += stat.st_size
    return report


def touch(*paths: Path) -> None:
    """Mark files as used now, so a prune keeps them for another retention period (missing ones are skipped)."""
    now = time.time()
    for path in paths:
        with contextlib.suppress(OSError):
            os.utime(path, (now, now))


def release(*paths: Path) -> int:
    """Delete files that are no longer needed; the bytes freed (missing files count nothing)."""
    freed = 0
    for path in paths:
        try:
            size = path.stat().st_size
            path.unlink()
            freed += size
        except FileNotFoundError:
            continue
    return freed
