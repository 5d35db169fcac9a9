"""The embedded backend's behaviour, apart from HTTP: tokens, sessions, generation and render jobs.

`server.py` maps routes onto these methods; errors are raised as `ApiError` with the cloud's codes.
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
from prefect_nemo.local.emulator.agent import (
    Channel,
    Event,
    InstructionRejected,
    continued,
    direct,
    shots_for,
    should_stay_silent,
    still_of,
)
from prefect_nemo.local.emulator.drafts import assets_of, needs_motion, video_segment
from prefect_nemo.local.emulator.errors import ApiError
from prefect_nemo.local.emulator.faults import Faults, StreamFate
from prefect_nemo.local.emulator.renders import RenderJobs
from prefect_nemo.local.emulator.store import Store
from prefect_nemo.local.settings import LocalSettings

__all__ = ["ApiError", "Backend", "assets_of"]

logger = logging.getLogger("prefect_nemo.local")


def _session_id() -> str:
    return str(secrets.randbelow(9 * 10**18) + 10**18)  # 19 digits, like the cloud's


class Backend(RenderJobs):
    """Tokens, sessions and generation here; render jobs in `RenderJobs`."""

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

    # -- generation ---------------------------------------------------------------------------------

    def begin_generation(
        self, session: dict[str, Any], user_id: str, message: str, fate: StreamFate = StreamFate.NORMAL
    ) -> Channel:
        """Check what must be checked before the stream opens, then start the work in the background."""
        uploads = self.store.uploads(session["session_id"])
        images = [u for u in uploads if u["file_type"] == "image"]
        if not images:
            raise ApiError(4001, "no image in this session: upload an image before asking for a clip")
        shots = shots_for(message, images, session["draft"])
        session = {**session, "draft": continued(session["draft"], shots)}  # else a new image starts a new draft
        cost = self.settings.edit_cost if session["draft"] else self.settings.generate_cost
        if self.store.credits(user_id)["credits"] < cost or self.faults.out_of_credits():
            raise ApiError(2001, "out of credits: register at https://nemovideo.com/register or top up")
        self.faults.accepted()
        retention.touch(*(Path(u["path"]) for u in uploads))
        channel = Channel()
        generation = self.store.add_generation(session["session_id"], message, images[-1]["info"].get("hash"))
        self._spawn(self._generate(session, user_id, message, shots, uploads, cost, channel, generation, fate))
        return channel

    def _resume_generation(self, row: dict[str, Any]) -> None:
        """Finish a generation a stopped or killed server had accepted (no one listens to its stream)."""
        session = self.store.session_by_id(row["session_id"])
        uploads = self.store.uploads(row["session_id"])
        images = [u for u in uploads if u["file_type"] == "image"]
        if session is None or not images:
            self.store.finish_generation(row["id"], "failed")
            return
        logger.info("resuming generation %s of session %s after a restart", row["id"], row["session_id"])
        shots = shots_for(row["message"], images, session["draft"])
        session = {**session, "draft": continued(session["draft"], shots)}
        cost = self.settings.edit_cost if session["draft"] else self.settings.generate_cost
        channel = Channel()
        self._spawn(
            self._generate(session, session["user_id"], row["message"], shots, uploads, cost, channel, row["id"])
        )

    async def _generate(
        self,
        session: dict[str, Any],
        user_id: str,
        message: str,
        shots: list[dict[str, Any]],
        uploads: list[dict[str, Any]],
        cost: int,
        channel: Channel,
        generation: int,
        fate: StreamFate = StreamFate.NORMAL,
    ) -> None:
        session_id = session["session_id"]
        image = shots[-1]
        try:
            audio = [u for u in uploads if u["file_type"] == "audio"]
            stills = [
                still_of(u, await self._with_heartbeats(channel, self._in_worker(worker.focus, u["path"])))
                for u in shots
            ]
            try:
                plan = direct(message, stills, audio[-1]["file_id"] if audio else None, session["draft"])
            except InstructionRejected as exc:
                channel.send(Event("error", text=str(exc), code=4000))
                self.store.finish_generation(generation, "rejected")
                return
            silent = fate is StreamFate.SILENT or should_stay_silent(self.rng, self.settings.silent_ratio)
            if not silent:
                channel.send(Event("text", text=plan.texts[0] if plan.texts else "Working on it."))
            draft = plan.draft
            media: dict[str, Any] | None = None
            video = video_segment(draft)
            previous_video = video_segment(session["draft"]) if session["draft"] else None
            for call in plan.tool_calls:
                channel.send(Event("tool_call", name=call["name"], data=call.get("args") or {}))
                if fate is StreamFate.FAIL:  # the video model gives up at once: nothing made, nothing charged
                    channel.send(Event("error", text="generation failed: the video model returned no clip (injected)"))
                    self.store.finish_generation(generation, "failed")
                    return
                one = len(shots) == 1  # a timeline's shots are animated at export, from their stills
                if (
                    call["name"] == "generate_video"
                    and video is not None
                    and one
                    and needs_motion(draft, session["draft"])
                ):
                    clip_id = "gen_" + secrets.token_hex(8)
                    out = self.data_dir / "media" / f"{clip_id}.mp4"
                    await self._with_heartbeats(channel, self._in_worker(worker.motion, image["path"], draft, str(out)))
                    self.store.add_upload(clip_id, session_id, out.name, out, "generated", {"stage": "motion"})
                    video["clip"] = clip_id
                    media = {"id": clip_id, "type": "video", "url": f"{self.base_url}/files/{clip_id}.mp4"}
                elif call["name"] == "generate_video" and video is not None and previous_video is not None:
                    video["clip"] = previous_video.get("clip")
                channel.send(Event("tool_result", name=call["name"], data={"status": "ok"}))
            # Charge, draft and "done" in one transaction: a crash between them can neither lose the
            # draft of a charged generation nor make a resumed generation charge twice.
            if not self.store.complete_generation(generation, user_id, cost, session_id, draft, media):
                channel.send(Event("error", text="out of credits", code=2001))
                self.store.finish_generation(generation, "no-credits")
                return
            if self.faults.generation_finished():
                logger.info("fault token-expiry: every live token expires now")
                self.store.expire_tokens()
            if not silent:
                for text in plan.texts[1:]:
                    channel.send(Event("text", text=text))
                channel.send(
                    Event("text", text="Your clip is ready in the timeline. Click the Export button to download it.")
                )
            if fate is StreamFate.TRAILING_ERROR:
                channel.send(Event("error", text="I encountered a temporary issue. Please try again later."))
        except Exception as exc:  # the stream must carry the failure; the task has no one else to tell
            logger.exception("generation failed in session %s", session_id)
            channel.send(Event("error", text=f"generation failed: {type(exc).__name__}: {exc}"))
            self.store.finish_generation(generation, "failed")
        finally:
            channel.close()

    async def _with_heartbeats(self, channel: Channel, work: Any) -> Any:
        task = asyncio.ensure_future(work)
        while True:
            done, _ = await asyncio.wait({task}, timeout=self.settings.heartbeat_interval)
            if done:
                return task.result()
            channel.send(Event("heartbeat"))

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
