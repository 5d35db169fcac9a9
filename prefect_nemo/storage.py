"""Where clips are written and read from: a local folder, an fsspec URL (`s3://bucket/clips`, `memory://x`)
or a Prefect file-system Block (`LocalFileSystem`, `RemoteFileSystem`, prefect-aws `S3Bucket`).

Every clip is rendered and verified in a local staging file first and only then put in its destination,
so a half-written MP4 never appears there. Remote destinations also keep that staging copy on the worker:
it is what a later cache hit for another destination copies from, without a second render.
"""

from __future__ import annotations

import os
import shutil
import unicodedata
from pathlib import Path, PurePosixPath
from typing import Any

import anyio
import fsspec
from fsspec.implementations.local import LocalFileSystem as FsspecLocal

from prefect_nemo.models import ClipResult
from prefect_nemo.preview import make_previews

__all__ = ["ClipStore", "Destination", "clip_name", "deliver", "fetch_file", "fetch_images", "is_remote"]

Destination = Any
"""A local path, an fsspec URL, or a Prefect `WritableFileSystem` Block (typed loosely so flows stay picklable)."""

PRESIGN_SECONDS = 7 * 24 * 3600
"""How long a presigned link in an artifact stays valid: S3's own maximum, a week."""


def clip_name(stem: str, limit: int = 60) -> str:
    """A file-name stem that keeps letters of every script (NFC), drops what file systems and URLs trip on."""
    text = unicodedata.normalize("NFC", stem)
    kept = "".join(c if c.isalnum() or c in "._-" else "-" for c in text)
    while "--" in kept:
        kept = kept.replace("--", "-")
    return kept.strip("-.")[:limit] or "clip"


class ClipStore:
    """One destination for clips, as an fsspec file system and a root path inside it."""

    def __init__(self, destination: Destination) -> None:
        self.fs, self.root = _resolve(destination)
        self.is_local = isinstance(self.fs, FsspecLocal)

    def location(self, name: str) -> str:
        """Where `name` lives: a local absolute path, or a URL such as `s3://bucket/clips/x.mp4`."""
        path = str(PurePosixPath(self.root) / name) if self.root else name
        return path if self.is_local else self.fs.unstrip_protocol(path)

    def local_path(self, name: str) -> Path | None:
        return Path(self.location(name)) if self.is_local else None

    async def put(self, staged: Path, name: str, *, keep: bool = False) -> str:
        """Put a verified local file in place: a rename (or a link when `keep`) locally, an upload remotely."""
        target = self.location(name)
        if self.is_local:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            if Path(target) == staged.resolve():
                return target
            await anyio.to_thread.run_sync(_link_or_copy if keep else _move, staged, Path(target))
        else:
            await anyio.to_thread.run_sync(self.fs.put_file, str(staged), target)
        return target

    def browser_url(self, location: str, expires: int = PRESIGN_SECONDS) -> str | None:
        """A URL a browser on another machine can open: presigned for object stores, None for local files."""
        if self.is_local:
            return None
        try:
            return str(self.fs.sign(self.fs._strip_protocol(location), expiration=expires))
        except NotImplementedError:
            return location if location.startswith(("http://", "https://")) else None


async def deliver(result: ClipResult, store: ClipStore, name: str, *, keep: bool) -> ClipResult:
    """Put a verified local clip (`result.path`), its poster and its preview in `store` under `name`.

    `keep` leaves the local file where it is (a cached clip placed in another output: a hard link or a copy
    locally, an upload remotely); otherwise a local output takes the file over. A remote output keeps the
    local copy as the source of later cache hits, and `path` points at it.
    """
    poster, preview = await anyio.to_thread.run_sync(make_previews, result.path)
    stem = Path(name).stem
    placed = await store.put(result.path, name, keep=keep)
    poster_at = await store.put(poster, f"{stem}.jpg", keep=keep)
    preview_at = await store.put(preview, f"{stem}.webp", keep=keep)
    return result.model_copy(
        update={
            "path": Path(placed) if store.is_local else result.path,
            "uri": None if store.is_local else placed,
            "poster": poster_at,
            "preview": preview_at,
        }
    )


def fetch_images(folder: Destination, into: Path, accepted: tuple[str, ...]) -> list[Path]:
    """The images of a remote folder (URL or Block), downloaded into `into` under their own names, sorted."""
    fs, root = _resolve(folder)
    names = sorted(
        p for p in fs.ls(root, detail=False) if Path(p).suffix.lower() in accepted and not Path(p).name.startswith(".")
    )
    into.mkdir(parents=True, exist_ok=True)
    local = []
    for remote in names:
        target = into / Path(remote).name
        fs.get_file(remote, str(target))
        local.append(target)
    return local


def fetch_file(location: str, into: Path) -> Path:
    """One remote file, downloaded into `into` under its own name."""
    fs, path = fsspec.core.url_to_fs(location)
    into.mkdir(parents=True, exist_ok=True)
    target = into / PurePosixPath(path).name
    fs.get_file(path, str(target))
    return target


def is_remote(destination: Destination) -> bool:
    """A URL with a non-file protocol, or a Block that is not a local folder."""
    return not isinstance(_resolve(destination)[0], FsspecLocal)


def _resolve(destination: Destination) -> tuple[fsspec.AbstractFileSystem, str]:
    from prefect.filesystems import LocalFileSystem, RemoteFileSystem

    if isinstance(destination, LocalFileSystem):
        return FsspecLocal(), str(Path(destination.basepath or ".").expanduser().resolve())
    if isinstance(destination, RemoteFileSystem):
        fs, root = fsspec.core.url_to_fs(destination.basepath, **destination.settings)
        return fs, root
    if type(destination).__name__ == "S3Bucket":
        return _s3bucket_fs(destination), f"{destination.bucket_name}/{destination.bucket_folder}".rstrip("/")
    text = os.fspath(destination)
    fs, root = fsspec.core.url_to_fs(text)
    if isinstance(fs, FsspecLocal):
        return fs, str(Path(text).expanduser().resolve())
    return fs, root


def _s3bucket_fs(bucket: Any) -> fsspec.AbstractFileSystem:
    """prefect-aws's `S3Bucket` as s3fs, with the Block's keys, region and endpoint."""
    credentials = bucket.credentials
    secret = getattr(credentials, "aws_secret_access_key", None)
    params = (
        credentials.aws_client_parameters.get_params_override() if hasattr(credentials, "aws_client_parameters") else {}
    )
    client_kwargs = {k: v for k, v in params.items() if k in ("endpoint_url", "verify")}
    if getattr(credentials, "region_name", None):
        client_kwargs["region_name"] = credentials.region_name
    return fsspec.filesystem(
        "s3",
        key=getattr(credentials, "aws_access_key_id", None),
        secret=secret.get_secret_value() if secret is not None else None,
        token=_secret(getattr(credentials, "aws_session_token", None)),
        client_kwargs=client_kwargs,
    )


def _secret(value: Any) -> str | None:
    return str(value.get_secret_value()) if hasattr(value, "get_secret_value") else value and str(value)


def _move(source: Path, target: Path) -> None:
    try:
        os.replace(source, target)
    except OSError:  # another file system
        shutil.move(source, target)


def _link_or_copy(source: Path, target: Path) -> None:
    if target.exists():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:  # another file system, or links not allowed
        shutil.copy2(source, target)
