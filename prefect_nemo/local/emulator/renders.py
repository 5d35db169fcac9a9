"""Render jobs of the embedded backend: submit, run in a worker, status, signed output URLs, downloads.

A mixin of `Backend` (which owns the store, the settings and the worker pool), kept apart because it is
one concept: the life of an export, from its submit to the release of its session's intermediates.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from pathlib import Path
from typing import Any

from prefect_nemo.local.emulator import retention, worker
from prefect_nemo.local.emulator.drafts import assets_of, video_segment
from prefect_nemo.local.emulator.errors import ApiError
from prefect_nemo.local.emulator.parts import BackendPart

__all__ = ["RenderJobs"]

logger = logging.getLogger("prefect_nemo.local")


class RenderJobs(BackendPart):
    """The render half of `Backend`."""

    async def submit_render(self, user_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Accept a render; one that finishes at once (the same draft exported before) is answered completed."""
        render_id, session_id, draft = body.get("id"), body.get("sessionId"), body.get("draft")
        if not isinstance(render_id, str) or not render_id or len(render_id) > 128:
            raise ApiError(400, "id is required: a unique string such as render_<uuid>", 400, envelope="success")
        if not isinstance(session_id, str):
            raise ApiError(400, "sessionId is required", 400, envelope="success")
        self.session(session_id, user_id)
        if not isinstance(draft, dict) or video_segment(draft) is None:
            raise ApiError(400, "draft has no video segment: generate a clip first", 400, envelope="success")
        known = {u["file_id"] for u in self.store.uploads(session_id)}
        if missing := assets_of(draft) - known:
            raise ApiError(400, f"draft refers to unknown assets: {sorted(missing)}", 400, envelope="success")
        if self.faults.export_blocked():
            raise ApiError(402, "export is not available on the free plan", 402, envelope="success")
        quality = self.settings.quality or str((body.get("output") or {}).get("quality") or "high")
        if not self.store.add_render(render_id, session_id, user_id, draft, quality):
            raise ApiError(409, f"duplicate render id {render_id}", 409, envelope="success")
        retention.touch(*(Path(u["path"]) for u in self.store.uploads(session_id)))
        task = asyncio.get_running_loop().create_task(self._run_render(render_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await asyncio.wait({task}, timeout=_QUICK)
        return self.render_status(render_id, user_id)

    async def _run_render(self, render_id: str) -> None:
        job = self.store.render(render_id)
        assert job is not None
        started = time.monotonic()
        out = self.data_dir / "renders" / f"{render_id}.mp4"
        same = self.store.same_render(job) if self.settings.render_latency is None else None
        if same is not None and Path(same).exists() and self.faults.render_fate(render_id) is None:
            # Exports cost no credits, so clients export a draft again when they lost the file: the clip
            # already on disk is that export (one copy, shared), ready at once.
            self.faults.rendered(render_id)
            done = time.time()
            self.store.update_render(render_id, status="completed", progress=100, output_path=same, completed_at=done)
            return
        assets = {
            asset: row["path"] for asset in assets_of(job["draft"]) if (row := self.store.upload(asset)) is not None
        }
        fate = self.faults.render_fate(render_id)
        if fate == "stall":
            self.store.update_render(render_id, status="processing", progress=50)
            return
        try:
            await self._in_worker(
                worker.export, str(self.store.path), render_id, job["draft"], assets, str(out), job["quality"]
            )
            if self.settings.render_latency is not None:
                await asyncio.sleep(max(0.0, self.settings.render_latency - (time.monotonic() - started)))
            if fate == "fail":
                raise RuntimeError("the render service failed (injected)")
            self.faults.rendered(render_id)
            self.store.update_render(
                render_id, status="completed", progress=100, output_path=str(out), completed_at=time.time()
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("render %s failed: %s", render_id, exc)
            self.store.update_render(render_id, status="failed", error=str(exc) or type(exc).__name__)

    def render_status(self, render_id: str, user_id: str) -> dict[str, Any]:
        job = self.store.render(render_id)
        if job is None or job["user_id"] != user_id:
            raise ApiError(404, f"render {render_id} not found", 404, envelope="success")
        data: dict[str, Any] = {
            "id": render_id,
            "status": job["status"],
            "progress": job["progress"],
            "createdAt": int(job["created_at"] * 1000),
        }
        if job["status"] == "completed":
            data["completedAt"] = int(job["completed_at"] * 1000)
            if not self.faults.hide_url(render_id):
                data["outputUrl"] = self.output_url(render_id)
        if job["error"]:
            data["error"] = job["error"]
        return data

    def output_url(self, render_id: str, ttl: float | None = None) -> str:
        ttl = self.faults.url_ttl(render_id, self.settings.url_ttl if ttl is None else ttl)
        expires = int(time.time() + ttl)
        return f"{self.base_url}/render-result/{render_id}.mp4?exp={expires}&sig={self.sign(render_id, expires)}"

    def sign(self, render_id: str, expires: int) -> str:
        return hmac.new(self.url_secret, f"{render_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def rendered_file(self, render_id: str, user_id: str | None = None) -> Path:
        job = self.store.render(render_id)
        if job is None or job["status"] != "completed" or (user_id is not None and job["user_id"] != user_id):
            raise ApiError(404, f"render {render_id} has no finished output", 404, envelope="success")
        path = Path(job["output_path"])
        if not path.exists():
            message = f"render {render_id}'s output was pruned; export the draft again"
            raise ApiError(404, message, 404, envelope="success")
        return path

    def downloaded(self, render_id: str) -> None:
        """A delivered clip's session keeps its inputs for refinements, but no longer needs its previews.

        With ``retention`` 0 the inputs go too (a later edit of the session then answers 1002)."""
        job = self.store.render(render_id)
        if job is None:
            return
        uploads = self.store.uploads(job["session_id"])
        previews = [Path(u["path"]) for u in uploads if u["file_type"] == "generated"]
        inputs = [Path(u["path"]) for u in uploads if u["file_type"] != "generated"]
        retention.release(*previews, *(inputs if self.settings.retention == 0 else []))
        retention.touch(*inputs)


_QUICK = 0.3
"""Seconds a render submit waits for its render before answering: a cached export is then already done."""
