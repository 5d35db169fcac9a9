"""Generation in the embedded backend: one /run_sse instruction, from its checks to the draft and the charge.

A mixin of `Backend` (which owns the store, the settings and the worker pool), kept apart because it is one
concept: the life of a generation, from the checks made before the stream opens, through the work that goes
on in the background (heartbeats, the motion preview, events), to one transaction that charges and stores the
draft; a generation a stopped server had accepted is finished after its restart.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
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
from prefect_nemo.local.emulator.drafts import needs_motion, video_segment
from prefect_nemo.local.emulator.errors import ApiError
from prefect_nemo.local.emulator.faults import StreamFate
from prefect_nemo.local.emulator.parts import BackendPart

__all__ = ["Generations"]

logger = logging.getLogger("prefect_nemo.local")


class Generations(BackendPart):
    """The generation half of `Backend`."""

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
