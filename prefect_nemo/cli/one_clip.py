"""`prefect-nemo convert a.jpg b.jpg c.jpg --one-clip`: one clip of all the images, in order (a slideshow).

Every image is needed, so one missing or unreadable image stops the command with one line naming it, before the
backend starts or anything is paid for. The clip is made in this process, or as the images-to-video flow when a
Prefect API is configured or `--prefect` is asked.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.text import Text

from prefect_nemo.cli.common import err, out, print_json
from prefect_nemo.cli.errors import print_error
from prefect_nemo.inputs import Input

if TYPE_CHECKING:
    from prefect_nemo.cli.run import Options
    from prefect_nemo.credentials import NemoCredentials
    from prefect_nemo.models import ClipResult

__all__ = ["make_one_clip", "refuse_unusable"]


def refuse_unusable(inputs: list[Input]) -> None:
    """One clip needs every image: the first one that cannot be used is named, and nothing starts (exit 2)."""
    bad = next((entry for entry in inputs if not entry.usable), None)
    if bad is not None:
        print_error(f"{bad.shown}: {bad.reason}; --one-clip needs every image, so nothing was made")
        raise typer.Exit(2)


def make_one_clip(
    images: list[Path],
    options: Options,
    transition: str | None,
    credentials: NemoCredentials,
    flow: bool,
    as_json: bool,
) -> int:
    """Make the clip, print where it is (or its JSON), and return the exit code: 0 made or cached, 1 failed."""
    from prefect_nemo.cli.run import RUN_LOGGER
    from prefect_nemo.errors import NemoError

    o, kind = options, str(transition) if transition else None  # a StrEnum's str() is its value
    try:
        if flow:
            from prefect_nemo.timelines import aimages_to_video

            run = aimages_to_video(
                [str(p) for p in images], o.prompt, durations=o.duration, transition=kind, aspect=o.aspect,
                quality=o.quality, out_dir=o.out_dir, credentials=credentials, refresh=o.refresh, timeout=o.timeout,
            )  # fmt: skip
            result: ClipResult = asyncio.run(run)
        else:
            from prefect_nemo.pipeline import make_clip
            from prefect_nemo.timelines import timeline_job

            job = timeline_job(
                images, o.prompt, durations=o.duration, transition=kind, aspect=o.aspect, quality=o.quality,
                out_dir=o.out_dir, credentials=credentials, refresh=o.refresh, timeout=o.timeout,
            )  # fmt: skip
            result = asyncio.run(make_clip(job, logger=logging.getLogger(RUN_LOGGER)))
    except NemoError as exc:
        print_error(str(exc))
        return 1
    if as_json:
        print_json(result.model_dump(mode="json"))
        return 0
    how = "from cache" if result.cached else f"done in {result.render_seconds or 0:.1f} s"
    out.print(f"{result.uri or result.path}", soft_wrap=True, markup=False)
    line = f"{len(images)} images -> one {result.duration:.2f} s {result.resolution} clip, {how}"
    err.print(Text.assemble(("✓ ", "green"), line), soft_wrap=True)
    if result.summary:
        err.print(f"Did: {result.summary}", soft_wrap=True, markup=False)
    for note in result.notes:
        err.print(Text.assemble(("⚠ ", "yellow"), note), soft_wrap=True)
    return 0
