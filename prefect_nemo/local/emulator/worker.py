"""What the embedded backend's render processes run.

Rendering is CPU-bound, so it runs in worker processes and the server's event loop stays free for
streams and status polls. Progress goes straight to SQLite from the worker, so it survives the server.

This module is what a spawned worker imports before anything else: it stays light (the studio, with OpenCV
and PyAV, is imported by `warm_up`, which the backend submits to every worker as it starts), so the server
does not load the studio at all and a worker loads it once, without the server's web stack.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prefect_nemo.local.studio.framing import Framing

__all__ = ["die_with_parent", "export", "focus", "motion", "warm_up"]


def die_with_parent(server_pid: int) -> None:
    """Render workers die with the server, even a SIGKILLed one, so no orphan renders into a restart's files.

    A server killed while a worker was still starting (spawn imports for a second) is gone before the death
    signal was asked for: such a worker finds itself adopted and leaves at once."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except OSError:
            pass
    if os.getppid() != server_pid:
        os._exit(0)


def warm_up() -> int:
    """Import the heavy modules once, so the first real render does not pay for it."""
    from prefect_nemo.local.studio import framing, renderer  # noqa: F401

    return os.getpid()


def focus(image: str) -> Framing:
    """Faces, subject and text blocks of the still: what the director frames the clip around."""
    from prefect_nemo.local.studio import framing

    return framing.analyse(Path(image))


def motion(image: str, draft: dict[str, Any], out: str) -> None:
    """Stage 1 (generate): a small preview of the motion, written under a temp name then renamed.

    The export renders the delivered clip from the still in one pass, so nothing here is encoded twice."""
    from prefect_nemo.local.studio import renderer

    tmp = Path(out).with_suffix(".part.mp4")
    try:
        renderer.render_preview(Path(image), draft, tmp)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def export(db: str, render_id: str, draft: dict[str, Any], assets: dict[str, str], out: str, quality: str) -> None:
    """Stage 2 (export): composite the draft into the final MP4, reporting progress to the store."""
    from prefect_nemo.local.emulator.store import connect, update_render
    from prefect_nemo.local.studio import renderer

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
