"""What a run leaves behind in Prefect's UI: a markdown card and a link per clip, a table and a
progress bar per batch, and a `nemo.clip.rendered` event per clip for automations."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from prefect.artifacts import (
    acreate_image_artifact,
    acreate_link_artifact,
    acreate_markdown_artifact,
    acreate_progress_artifact,
    acreate_table_artifact,
    aupdate_progress_artifact,
)
from prefect.events import emit_event

from prefect_nemo.batch import BatchItem
from prefect_nemo.models import ClipResult
from prefect_nemo.storage import ClipStore

__all__ = ["BatchItem", "BatchProgress", "ClipLinks", "artifact_key", "batch_table", "clip_artifacts"]


def artifact_key(*parts: str) -> str:
    """A key Prefect accepts (`^[a-z0-9-]*$`), readable, at most 100 characters."""
    text = "-".join(parts).lower()
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]+", "-", text)).strip("-")[:100]


def _clip_markdown(result: ClipResult, links: ClipLinks) -> str:
    where = f"[{Path(links.mp4_name).name}]({links.mp4})" if links.mp4 else f"`{result.uri or result.path}`"
    rows = [
        ("Source image", f"`{Path(result.source_image).name}`")
        if not result.source_images
        else ("Source images", " → ".join(f"`{Path(p).name}`" for p in result.source_images)),
        ("Instruction", _cell(result.instruction)),
        ("Duration", f"{result.duration:.2f} s"),
        ("Resolution", f"{result.resolution} @ {result.fps:g} fps ({result.codec})"),
        ("Size", f"{result.size_bytes / 1e6:.2f} MB"),
        ("Render time", f"{result.render_seconds:.1f} s" if result.render_seconds is not None else "n/a"),
        ("Credits used", _credits(result)),
        ("MP4", where),
        ("Render id", f"`{result.render_id}`"),
        ("Version", str(result.version)),
        ("From cache", "yes" if result.cached else "no"),
    ]
    if result.workspace_url:  # set only for a backend that outlives the run
        rows.append(("NemoVideo workspace", f"[open]({result.workspace_url})"))
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    sections = [f"# Clip: {Path(result.source_image).name}"]
    if links.preview:
        sections.append(f"![Animated preview of the clip]({links.preview})")  # Prefect's UI shows no linked images
    if result.summary:
        sections.append(f"**What NemoVideo did:** {result.summary}")
    if result.notes:
        sections.append("**Notes:**\n" + "\n".join(f"- {n}" for n in result.notes))
    sections.append("| | |\n|---|---|\n" + table)
    if result.texts:
        sections.append("## What NemoVideo said\n" + "\n".join(f"> {t}" for t in result.texts))
    if result.warnings:
        sections.append("## Warnings\n" + "\n".join(f"- {w}" for w in result.warnings))
    return "\n\n".join(sections)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _credits(result: ClipResult) -> str:
    if result.cached:
        return "0 (from cache)"
    if result.credits_used is not None:
        return str(result.credits_used)
    return "unknown (other clips were generating at the same time)"


@dataclass(frozen=True)
class ClipLinks:
    """URLs a browser on another machine can open (presigned for object storage); None for local files."""

    mp4_name: str
    mp4: str | None
    preview: str | None
    poster: str | None

    @classmethod
    def of(cls, result: ClipResult, store: ClipStore | None) -> ClipLinks:
        def url(location: str | None) -> str | None:
            return store.browser_url(location) if store is not None and location else None

        return cls(result.uri or str(result.path), url(result.uri), url(result.preview), url(result.poster))


async def clip_artifacts(result: ClipResult, store: ClipStore | None = None) -> None:
    """A markdown card (with the animated preview), a link and an image artifact for one clip, plus the
    `nemo.clip.rendered` event."""
    stem = Path(result.source_image).stem
    key = artifact_key("nemo-clip", stem, result.sha256[:10], f"v{result.version}")
    links = ClipLinks.of(result, store)
    await acreate_markdown_artifact(
        markdown=_clip_markdown(result, links),
        key=key,
        description=f"Clip rendered from {Path(result.source_image).name}",
    )
    await acreate_link_artifact(
        link=links.mp4 or result.path.as_uri(),
        link_text=Path(links.mp4_name).name,
        key=artifact_key(key, "link"),
        description="The MP4",
    )
    if links.preview:
        await acreate_image_artifact(image_url=links.preview, key=artifact_key(key, "preview"), description="Preview")
    emit_event(
        event="nemo.clip.rendered",
        resource={"prefect.resource.id": f"nemo.clip.{result.sha256[:16]}", "prefect.resource.name": result.path.name},
        payload={
            "path": str(result.path),
            "uri": result.uri,
            "render_id": result.render_id,
            "session_id": result.session_id,
            "duration": result.duration,
            "resolution": result.resolution,
            "cached": result.cached,
            "source_image": result.source_image,
            "credits_used": result.credits_used,
        },
    )


async def batch_table(items: Sequence[BatchItem], key: str) -> None:
    await acreate_table_artifact(table=[i.row() for i in items], key=key, description="One row per input image")


class BatchProgress:
    """A progress artifact that moves as clips finish."""

    def __init__(self, total: int) -> None:
        self.total = max(1, total)
        self.done = 0
        self.id: UUID | None = None

    async def start(self, key: str) -> None:
        self.id = await acreate_progress_artifact(progress=0.0, key=key, description="Clips finished")

    async def advance(self) -> None:
        self.done += 1
        if self.id is not None:
            await aupdate_progress_artifact(self.id, progress=100.0 * self.done / self.total)
