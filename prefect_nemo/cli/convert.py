"""`prefect-nemo convert`: images in, MP4 clips out, through the batch-image-to-video flow."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from prefect_nemo.cli.common import (
    ApiUrl,
    AsJson,
    BlockName,
    ClientId,
    connect,
    debugging,
    err,
    out,
    prefect_api_label,
    print_json,
    resolve_credentials,
    shown,
)
from prefect_nemo.cli.errors import print_error
from prefect_nemo.cli.progress import ClipProgress, quiet_prefect
from prefect_nemo.media import ACCEPTED_IMAGES
from prefect_nemo.progress import listen

if TYPE_CHECKING:
    from prefect_nemo.artifacts import BatchItem

__all__ = ["Aspect", "Quality", "convert", "expand_images"]


class Aspect(StrEnum):
    wide = "16:9"
    tall = "9:16"
    square = "1:1"
    portrait = "4:5"


class Quality(StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


def expand_images(paths: Sequence[Path]) -> list[str]:
    """Files as given; folders become their images (sorted). Missing files stay, to fail with their name."""
    images: list[str] = []
    for path in paths:
        if path.is_dir():
            images.extend(str(p) for p in sorted(path.iterdir()) if p.suffix.lower() in ACCEPTED_IMAGES)
        else:
            images.append(str(path))
    return images


def _results_table(items: Sequence[BatchItem]) -> Table:
    table = Table(title=None, header_style="bold", expand=False)
    table.add_column("Image", overflow="fold")
    table.add_column("Status")
    table.add_column("Clip", overflow="fold")
    table.add_column("Length", justify="right")
    table.add_column("Size", justify="right")
    table.add_column("Time", justify="right")
    styles = {"ok": "green", "cached": "cyan", "skipped": "yellow", "failed": "red"}
    for item in items:
        result = item.result
        if result is None:
            table.add_row(Path(item.image).name, Text(item.status, styles.get(item.status, "")), "", "", "", "")
            continue
        seconds = result.render_seconds
        table.add_row(
            Path(item.image).name,
            Text(item.status, styles.get(item.status, "")),
            shown(result.path),
            f"{result.duration:.2f} s",
            f"{result.resolution}, {result.size_bytes / 1e6:.2f} MB",
            f"{seconds:.1f} s" if seconds is not None and not result.cached else "",
        )
    return table


def _error_line(image: str, error: str | None) -> str:
    reason = error or "unknown error"
    return reason if reason.startswith(image) else f"{Path(image).name}: {reason}"


def convert(
    ctx: typer.Context,
    images: Annotated[list[Path], typer.Argument(help="Image files, or folders of images.", show_default=False)],
    prompt: Annotated[
        str, typer.Option("--prompt", "-p", help="What to make of each image.")
    ] = "5-second slow push-in",
    duration: Annotated[
        float | None, typer.Option(min=0.5, max=60, help="Clip length in seconds.", show_default=False)
    ] = None,
    aspect: Annotated[Aspect | None, typer.Option(help="Aspect ratio of the clip.", show_default=False)] = None,
    quality: Annotated[Quality, typer.Option(help="Export quality.")] = Quality.high,
    out_dir: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder (default NEMO_OUTPUT_DIR, else ./clips).", show_default=False),
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, help="Clips in flight at once.")] = 4,
    max_credits: Annotated[
        int | None, typer.Option(min=0, help="Stop submitting clips past this many credits.", show_default=False)
    ] = None,
    share_session: Annotated[bool, typer.Option(help="One session for all clips, made one after another.")] = False,
    refresh: Annotated[bool, typer.Option(help="Render again even when a cached clip exists.")] = False,
    timeout: Annotated[
        float | None, typer.Option(help="Seconds per clip (default NEMO_TIMEOUT, 900).", show_default=False)
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's run logs.")] = False,
    as_json: AsJson = False,
    api_url: ApiUrl = None,
    block: BlockName = None,
    client_id: ClientId = None,
) -> None:
    """Convert images into MP4 clips (runs the batch-image-to-video flow).

    Exit code 0 when every clip was made or found in the cache, 1 when any failed or was skipped.
    """
    from prefect_nemo.flows import batch_image_to_video

    files = expand_images(images)
    if not files:
        raise typer.BadParameter("no images found (accepted: " + ", ".join(ACCEPTED_IMAGES) + ")", param_hint="IMAGES")
    credentials = resolve_credentials(api_url, block, client_id)
    connect(credentials)
    err.print(Text.assemble(("Prefect: ", "bold"), prefect_api_label()), soft_wrap=True)
    started = time.monotonic()
    quiet_prefect(err, verbose, debugging(ctx))
    with ClipProgress(err, files) as progress, listen(progress):
        items = asyncio.run(
            batch_image_to_video(
                files,
                prompt,
                max_concurrency=concurrency,
                duration=duration,
                aspect=aspect.value if aspect else None,
                quality=quality.value,
                out_dir=out_dir,
                credentials=credentials,
                max_credits=max_credits,
                share_session=share_session,
                refresh=refresh,
                timeout=timeout,
            )
        )
    if as_json:
        rows = [
            {**asdict(item), "result": item.result.model_dump(mode="json") if item.result else None} for item in items
        ]
        print_json(rows)
    else:
        out.print(_results_table(items))
    counts = {s: sum(1 for i in items if i.status == s) for s in ("ok", "cached", "skipped", "failed")}
    tally = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    clips = f"{len(items)} clip" + ("" if len(items) == 1 else "s")
    err.print(f"{clips} in {time.monotonic() - started:.1f} s: {tally}", soft_wrap=True, markup=False)
    for item in items:
        for warning in item.result.warnings if item.result else []:
            err.print(Text.assemble(("warning: ", "yellow"), warning), soft_wrap=True)
        if item.status in ("failed", "skipped"):
            print_error(_error_line(item.image, item.error))
    raise typer.Exit(1 if counts["failed"] or counts["skipped"] else 0)
