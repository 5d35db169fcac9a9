"""What the embedded backend's render processes run.

Rendering is CPU-bound, so it runs in worker processes and the server's event loop stays free for
streams and status polls. Progress goes straight to SQLite from the worker, so it survives the server.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from prefect_nemo.local.emulator.store import connect, update_render
from prefect_nemo.local.studio import framing, renderer

__all__ = ["export", "focus", "motion", "warm_up"]


def warm_up() -> int:
    """Import the heavy modules once, so the first real render does not pay for it."""
    return os.getpid()


def focus(image: str) -> framing.Framing:
    """Faces, subject and text blocks of the still: what the director frames the clip around."""
    return framing.analyse(Path(image))


def motion(image: str, draft: dict[str, Any], out: str) -> None:
    """Stage 1 (generate): a small preview of the motion, written under a temp name then renamed.

    The export renders the delivered clip from the still in one pass, so nothing here is encoded twice."""
    tmp = Path(out).with_suffix(".part.mp4")
    try:
        renderer.render_preview(Path(image), draft, tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def export(db: str, render_id: str, draft: dict[str, Any], assets: dict[str, str], out: str, quality: str) -> None:
    """Stage 2 (export): composite the draft into the final MP4, reporting progress to the store."""
    conn = connect(Path(db))
    last = 0.0

    def progress(fraction: float) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= 0.2:
            last = now
            update_render(conn, render_id, progress=round(10 + 85 * fraction, 1))

    tmp = Path(out).with_suffix(".part.mp4")
    try:
        update_render(conn, render_id, status="processing", progress=10)
        renderer.render_final(
            draft,
            {key: Path(value) for key, value in assets.items()},
            tmp,
            settings=renderer.EncodeSettings.for_quality(quality),
            progress=progress,
        )
        os.replace(tmp, out)
        update_render(conn, render_id, progress=95)
    finally:
        tmp.unlink(missing_ok=True)  # a failed render leaves nothing behind
        conn.close()
