"""The embedded backend's behaviour, apart from HTTP: tokens, sessions, generation and render jobs.

`server.py` maps routes onto these methods; errors are raised as `ApiError` with the cloud's codes. This module
holds the backend's lifecycle, identity and sessions; generation is the `Generations` mixin, render jobs the
`RenderJobs` one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import os
import random
import secrets
import time
from collections import Counter
from pathlib import Path
from typing import Any

from prefect_nemo.local.emulator import retention, worker
from prefect_nemo.local.emulator.drafts import assets_of
from prefect_nemo.local.emulator.errors import ApiError
from prefect_nemo.local.emulator.faults import Faults
from prefect_nemo.local.emulator.generations import Generations
from prefect_nemo.local.emulator.renders import RenderJobs
from prefect_nemo.local.emulator.store import Store
from prefect_nemo.local.settings import LocalSettings

__all__ = ["ApiError", "Backend", "assets_of"]

logger = logging.getLogger("prefect_nemo.local")


def _session_id() -> str:
    return str(secrets.randbelow(9 * 10**18) + 10**18)  # 19 digits, like the cloud's


class Backend(Generations, RenderJobs):
    """Tokens and sessions here; generation in `Generations`, render jobs in `RenderJobs`."""

    def __init__(self, settings: LocalSettings) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir
        for sub in ("uploads", "media", "renders"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)
        self.store = Store(self.data_dir / "state.db")
        self.rng = random.Random(settings.seed)
        self.faults = Faults.parse(settings.faults, seed=settings.seed)
        self.requests: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.url_secret = _url_secret(self.data_dir / "url.key")
        self.base_url = ""
        self._tasks: set[asyncio.Task[None]] = set()
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    # -- lifecycle ----------------------------------------------------------------------------------

    def start(self) -> None:
        self._pool = concurrent.futures.ProcessPoolExecutor(
            self.settings.render_workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=worker.die_with_parent,
            initargs=(os.getpid(),),
        )
        for _ in range(self.settings.render_workers):
            self._pool.submit(worker.warm_up)
        # Work accepted before a stop or a crash goes on: nothing the client was told is under way is lost.
        for job in self.store.renders_in("pending", "processing"):
            logger.info("resuming render %s after a restart", job["render_id"])
            self._spawn(self._run_render(job["render_id"]))
        for generation in self.store.generations_in("running"):
            self._resume_generation(generation)
        if self.settings.retention > 0:
            self._spawn(self._sweep())

    async def _sweep(self) -> None:
        """Forget intermediates not used within the retention time (delivered clips stay: one copy each)."""
        every = min(60.0, max(1.0, self.settings.retention / 2))
        while True:
            try:
                report = await asyncio.to_thread(
                    retention.prune, self.data_dir, self.settings.retention, False, outputs=False
                )
                if report.files:
                    logger.info("retention: released %s", report.summary())
            except OSError as exc:  # a file it may not delete must not stop the next sweeps
                logger.warning("retention sweep failed: %s", exc)
            await asyncio.sleep(every)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._pool:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _in_worker(self, fn: Any, *args: Any) -> Any:
        assert self._pool is not None, "backend not started"
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    # -- identity -----------------------------------------------------------------------------------

    def anonymous_token(self, client_id: str | None) -> dict[str, Any]:
        if not client_id or len(client_id) > 64:
            raise ApiError(400, "X-Client-Id header is required (any unique string of at most 64 characters)", 400)
        live = self.store.live_token_for_client(client_id)
        if live is None:
            week = time.time() - 7 * 86400
            if (
                self.store.user_for_client(client_id) is None
                and self.store.clients_since(week) >= self.settings.tokens_per_ip
            ):
                raise ApiError(429, "anonymous token limit for this IP reached", 429, headers={"Retry-After": "30"})
            token = "nmv_usr_" + secrets.token_urlsafe(32)
            user_id = self.store.user_for_client(client_id) or "anon_" + secrets.token_hex(6)
            self.store.add_token(
                token, user_id, client_id, self.settings.token_ttl_days * 86400, self.settings.starting_credits
            )
            live = self.store.live_token_for_client(client_id)
            assert live is not None
        credits = self.store.credits(live["user_id"])["credits"]
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(live["expires_at"]))
        return {"token": live["token"], "user_id": live["user_id"], "expires_at": expires, "credits": credits}

    def user(self, authorization: str | None) -> str:
        """The user behind an `Authorization: Bearer <token>` header; anything else is 1001."""
        scheme, _, token = (authorization or "").partition(" ")
        row = self.store.token(token.strip()) if scheme == "Bearer" and token.strip() else None
        if row is None:
            raise ApiError(1001, "token invalid or expired; request a new anonymous token with the same X-Client-Id")
        return str(row["user_id"])

    def session(self, session_id: str, user_id: str) -> dict[str, Any]:
        row = self.store.session(session_id, user_id)
        if row is None:
            raise ApiError(1002, f"session {session_id} not found; create a new session")
        inputs = [Path(u["path"]) for u in self.store.uploads(session_id) if u["file_type"] != "generated"]
        if not all(path.exists() for path in inputs):  # released after the retention time: the session expired
            self.store.drop_session(session_id)
            raise ApiError(1002, f"session {session_id} expired (its files were released); create a new session")
        return row

    def create_session(self, user_id: str, language: str | None) -> dict[str, Any]:
        session_id, task_id = _session_id(), "task_" + secrets.token_hex(8)
        self.store.add_session(session_id, task_id, user_id, language)
        return {"task_id": task_id, "session_id": session_id}

    def credits(self, user_id: str) -> dict[str, int]:
        row = self.store.credits(user_id)
        return {"available": row["credits"], "frozen": row["frozen"], "total": row["credits"] + row["frozen"]}

    def state(self, session_id: str, user_id: str) -> dict[str, Any]:
        row = self.session(session_id, user_id)
        infos = [
            {"file_id": u["file_id"], "filename": u["filename"], "file_type": u["file_type"], **u["info"]}
            for u in self.store.uploads(session_id)
            if u["file_type"] != "generated"
        ]
        draft = row["draft"]
        canvas = None
        if draft:
            meta = draft.get("m") or {}
            canvas = {"width": meta.get("width"), "height": meta.get("height"), "aspect": meta.get("aspect")}
        return {
            "session_id": session_id,
            "task_id": row["task_id"],
            "task_name": "project",
            "state": {
                "video_infos": infos,
                "draft": draft,
                "canvas_config": canvas,
                "video_analyses": {},
                "generated_media": row["generated_media"],
            },
        }

    def metrics(self) -> dict[str, Any]:
        renders = Counter(r["status"] for r in self.store.renders_in("pending", "processing", "completed", "failed"))
        return {
            "requests": dict(sorted(self.requests.items())),
            "errors": dict(sorted(self.errors.items())),
            "generations": self.store.generation_counts(),
            "renders": dict(renders),
            "sessions": self.store.session_count(),
            "tokens": self.store.token_summary(),
            "faults": dict(self.faults.fired),
        }


def _url_secret(path: Path) -> bytes:
    """The key that signs output URLs, kept in the data folder so links survive a restart (mode 0600)."""
    try:
        key = path.read_bytes()
        if len(key) >= 16:
            return key
    except OSError:
        pass
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
