"""`prefect-nemo cache prune`: bound what prefect-nemo keeps on disk. A dry run unless `--yes`.

What goes: prepared images (PNG copies made for upload, rebuilt from the source when needed), clip records
that can no longer save anything (the clip's file is gone, or the clip never finished) and were last touched
before `--older-than`, and what the embedded backend's data folder has not used for that long (uploads,
previews, its copies of delivered clips: `local.emulator.retention`). A record whose clip is still there is
kept: it is what makes a re-run free.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from prefect_nemo.cli.common import AsJson, err, out, print_json

__all__ = ["Freed", "cache_app", "ledger_rows", "prune"]

cache_app = typer.Typer(help="Look after what prefect-nemo keeps on disk.", no_args_is_help=True)

PREPARED_GRACE = 3600.0
"""A prepared image younger than this may belong to a run in progress: kept."""


@dataclass
class Freed:
    """What one part of the cache gives back (or would, in a dry run)."""

    what: str
    where: str
    items: int | None = 0
    bytes: int | None = 0
    """None: not measured (a part this version does not prune)."""
    note: str = ""
    paths: list[Path] = field(default_factory=list, repr=False)
    keys: list[str] = field(default_factory=list, repr=False)


def ledger_rows(ledger_path: Path) -> list[tuple[str, dict[str, object], float]]:
    """Every clip record as (key, record, last touched), read without locking out a running batch."""
    if not ledger_path.exists():
        return []
    try:
        with sqlite3.connect(f"file:{ledger_path}?mode=ro", uri=True, timeout=5) as conn:
            rows = conn.execute("SELECT key, record, updated_at FROM clips").fetchall()
    except sqlite3.Error:
        return []
    return [(key, json.loads(text), float(updated or 0)) for key, text, updated in rows]


def _prepared(folder: Path, cutoff: float) -> Freed:
    freed = Freed("prepared images", str(folder))
    for path in sorted(folder.glob("*.png")) if folder.is_dir() else []:
        info = path.stat()
        if info.st_mtime < cutoff:
            freed.paths.append(path)
    freed.items, freed.bytes = len(freed.paths), sum(p.stat().st_size for p in freed.paths)
    return freed


def _records(ledger_path: Path, cutoff: float) -> Freed:
    freed = Freed("clip records", str(ledger_path), note="clip file gone, or never finished")
    for key, record, touched in ledger_rows(ledger_path):
        result = record.get("result")
        gone = not isinstance(result, dict) or not Path(str(result.get("path"))).is_file()
        if gone and touched < cutoff:
            freed.keys.append(key)
            freed.bytes = (freed.bytes or 0) + len(json.dumps(record))
    freed.items = len(freed.keys)
    return freed


def prune(older_than: float, apply: bool) -> list[Freed]:
    """Find (and with `apply`, delete) what the cache no longer needs."""
    from prefect_nemo.settings import NemoSettings

    settings = NemoSettings()
    now = time.time()
    parts = [
        _prepared(settings.cache_dir / "prepared", now - max(older_than, PREPARED_GRACE)),
        _records(settings.ledger_path, now - older_than),
    ]
    if apply:
        for path in parts[0].paths:
            path.unlink(missing_ok=True)
        if parts[1].keys:
            from prefect_nemo.ledger import Ledger

            with Ledger(settings.ledger_path) as ledger:
                for key in parts[1].keys:
                    ledger.forget(key)
    parts.append(_backend(older_than, apply))
    return parts


def _backend(older_than: float, apply: bool) -> Freed:
    """The embedded backend's data folder: files only, so it works whether or not its server runs."""
    from prefect_nemo.local.emulator.retention import prune as prune_backend
    from prefect_nemo.local.settings import LocalSettings

    data_dir = LocalSettings().data_dir
    report = prune_backend(data_dir, older_than, dry_run=not apply)
    return Freed("embedded backend data", str(data_dir), len(report.files), report.bytes, "uploads, previews, clips")


def _seconds(text: str) -> float:
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text)
    if not found:
        raise typer.BadParameter("use a number and a unit, e.g. 30d, 12h, 45m", param_hint="--older-than")
    unit = {"": 86400, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[found.group(2)]
    return float(found.group(1)) * unit


@cache_app.command("prune")
def prune_command(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Delete; without it, only say what would go.")] = False,
    older_than: Annotated[
        str, typer.Option(help="Only what was last used before this long ago: 30d, 12h, 45m (a bare number is days).")
    ] = "30d",
    as_json: AsJson = False,
) -> None:
    """Delete prepared images and clip records that can no longer save a render (dry run unless --yes)."""
    parts = prune(_seconds(older_than), yes)
    total = sum(p.bytes or 0 for p in parts)
    if as_json:
        rows = [{k: v for k, v in vars(p).items() if k not in ("paths", "keys")} for p in parts]
        print_json({"applied": yes, "bytes": total, "parts": rows})
        return
    from rich.table import Table

    table = Table("What", "Items", "Size", "Where", "Note", header_style="bold")
    for part in parts:
        size = "-" if part.bytes is None else f"{part.bytes / 1e6:.2f} MB"
        table.add_row(part.what, "-" if part.items is None else str(part.items), size, part.where, part.note)
    out.print(table)
    verb = "Freed" if yes else "Would free"
    tail = "" if yes else " (dry run: add --yes to delete)"
    err.print(f"{verb} {total / 1e6:.2f} MB{tail}", markup=False)
