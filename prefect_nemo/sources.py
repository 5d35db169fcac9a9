"""Where a batch's inputs come from: a folder of images, or a manifest of image + prompt rows."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from prefect_nemo.errors import NemoInputError
from prefect_nemo.media import ACCEPTED_IMAGES
from prefect_nemo.settings import NemoSettings
from prefect_nemo.storage import Destination, fetch_file, fetch_images, is_remote

__all__ = ["ManifestRow", "images_in_folder", "read_manifest"]


@dataclass(frozen=True)
class ManifestRow:
    image: Path
    prompt: str | None = None


def images_in_folder(folder: Destination, *, recursive: bool = False) -> list[Path]:
    """Every image in a folder, sorted by name (hidden files skipped).

    A remote folder (an fsspec URL such as `s3://bucket/photos`, or a Prefect file-system Block) is listed
    and its images downloaded into the local cache first, under their own names.
    """
    if is_remote(folder):
        where = hashlib.sha256(repr(folder).encode()).hexdigest()[:16]
        return fetch_images(folder, NemoSettings().cache_dir / "inputs" / where, ACCEPTED_IMAGES)
    folder = Path(folder)
    if not folder.is_dir():
        raise NemoInputError(str(folder), "is not a folder")
    pattern = "**/*" if recursive else "*"
    return sorted(
        p
        for p in folder.glob(pattern)
        if p.is_file() and p.suffix.lower() in ACCEPTED_IMAGES and not p.name.startswith(".")
    )


def read_manifest(manifest: str | Path) -> list[ManifestRow]:
    """Rows of `image` (and optional `prompt`) from a CSV with a header or a JSONL file.

    Relative image paths are taken relative to the manifest's folder. A manifest at a URL
    (`s3://bucket/photos.csv`) is fetched into the local cache, and so are the images it names.
    """
    if is_remote(manifest):
        return _remote_manifest(str(manifest))
    path = Path(manifest)
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


def _remote_manifest(url: str) -> list[ManifestRow]:
    """A manifest at a URL: fetched, and its relative image paths fetched from beside it."""
    into = NemoSettings().cache_dir / "inputs" / hashlib.sha256(url.encode()).hexdigest()[:16]
    local = fetch_file(url, into)
    base = url.rsplit("/", 1)[0]
    rows = []
    for row in read_manifest(local):
        if row.image.is_relative_to(local.parent):
            image = fetch_file(f"{base}/{row.image.relative_to(local.parent).as_posix()}", into)
        else:
            image = row.image
        rows.append(ManifestRow(image, row.prompt))
    return rows
