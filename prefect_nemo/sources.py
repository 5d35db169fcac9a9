"""Where a batch's inputs come from: a folder of images, or a manifest of image + prompt rows."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from prefect_nemo.errors import NemoInputError
from prefect_nemo.media import ACCEPTED_IMAGES

__all__ = ["ManifestRow", "images_in_folder", "read_manifest"]


@dataclass(frozen=True)
class ManifestRow:
    image: Path
    prompt: str | None = None


def images_in_folder(folder: Path, *, recursive: bool = False) -> list[Path]:
    """Every image in a folder, sorted by name (hidden files skipped)."""
    if not folder.is_dir():
        raise NemoInputError(str(folder), "is not a folder")
    pattern = "**/*" if recursive else "*"
    return sorted(
        p
        for p in folder.glob(pattern)
        if p.is_file() and p.suffix.lower() in ACCEPTED_IMAGES and not p.name.startswith(".")
    )


def read_manifest(path: Path) -> list[ManifestRow]:
    """Rows of `image` (and optional `prompt`) from a CSV with a header or a JSONL file.

    Relative image paths are taken relative to the manifest's folder.
    """
    if not path.is_file():
        raise NemoInputError(str(path), "manifest not found")
    rows: list[dict[str, str]] = []
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                raise NemoInputError(f"{path}:{number}", f"not valid JSON ({exc.msg})") from exc
            if not isinstance(value, dict):
                raise NemoInputError(f"{path}:{number}", "each line must be a JSON object")
            rows.append({str(k): str(v) for k, v in value.items() if v is not None})
    elif path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [dict(r) for r in csv.DictReader(handle)]
    else:
        raise NemoInputError(str(path), "manifest must be .csv or .jsonl")
    result: list[ManifestRow] = []
    for number, row in enumerate(rows, 1):
        image = (row.get("image") or "").strip()
        if not image:
            raise NemoInputError(f"{path}:{number}", "row has no 'image' column value")
        image_path = Path(image) if Path(image).is_absolute() else path.parent / image
        result.append(ManifestRow(image_path, (row.get("prompt") or "").strip() or None))
    return result
