"""The embedded backend's agent: one /run_sse instruction -> stream events, a draft and a moving clip.

It runs as a task of its own, apart from the HTTP response, so a client that disconnects mid-stream
does not stop the work (as on the cloud): the draft still lands and state polling finds it.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from prefect_nemo.local.emulator.drafts import refines, stills_of
from prefect_nemo.local.studio import director
from prefect_nemo.local.studio.director import Direction, InstructionRejected, Still
from prefect_nemo.local.studio.framing import Framing

__all__ = ["Event", "InstructionRejected", "continued", "direct", "format_sse", "shots_for", "still_of"]


@dataclass(frozen=True)
class Event:
    """A dialect-neutral stream event; `format_sse` writes it in the configured wire dialect."""

    kind: Literal["text", "tool_call", "tool_result", "heartbeat", "error"]
    text: str = ""
    name: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    code: int | None = None


def _adk(event: Event, beat: int) -> str:
    if event.kind == "heartbeat":
        # ADK servers keep idle connections alive with comments or empty data lines; send both forms.
        return ": keepalive\n\n" if beat % 2 == 0 else "data:\n\n"
    if event.kind == "error":
        return "data: " + json.dumps({"error": event.text, "errorCode": event.code}) + "\n\n"
    if event.kind == "text":
        part: dict[str, Any] = {"text": event.text}
    elif event.kind == "tool_call":
        part = {"functionCall": {"id": f"call-{uuid.uuid4().hex[:8]}", "name": event.name, "args": event.data}}
    else:
        part = {"functionResponse": {"id": f"call-{uuid.uuid4().hex[:8]}", "name": event.name, "response": event.data}}
    payload = {
        "content": {"role": "model", "parts": [part]},
        "author": "nemo_agent",
        "invocationId": f"e-{uuid.uuid4().hex[:12]}",
        "id": uuid.uuid4().hex[:8],
        "timestamp": time.time(),
    }
    return "data: " + json.dumps(payload) + "\n\n"


def _typed(event: Event) -> str:
    payload: dict[str, Any] = {"type": event.kind}
    if event.kind == "text":
        payload["content"] = event.text
    elif event.kind == "tool_call":
        payload.update(name=event.name, args=event.data)
    elif event.kind == "tool_result":
        payload.update(name=event.name, result=event.data)
    elif event.kind == "error":
        payload.update(message=event.text, code=event.code)
    return "data: " + json.dumps(payload) + "\n\n"


def format_sse(event: Event, dialect: str, beat: int = 0) -> str:
    return _adk(event, beat) if dialect == "adk" else _typed(event)


class Channel:
    """Events from a running generation to whoever is listening (possibly no one any more)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue()

    def send(self, event: Event) -> None:
        self.queue.put_nowait(event)

    def close(self) -> None:
        self.queue.put_nowait(None)


def should_stay_silent(rng: random.Random, ratio: float) -> bool:
    """The cloud ends ~30% of edits with no text; keep that quirk so clients handle it."""
    return rng.random() < ratio


def shots_for(message: str, images: list[dict[str, Any]], draft: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The uploads an instruction animates: every image of the session in upload order for a timeline ("a
    slideshow of these", 合成一个视频, or any instruction to a session whose draft is a timeline of all its
    images), else the latest one."""
    everything = [u["file_id"] for u in images]
    if len(images) > 1 and (director.is_timeline(message) or stills_of(draft) == everything):
        return images
    return images[-1:]


def continued(draft: dict[str, Any] | None, shots: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The draft an instruction edits (a refinement, charged as an edit), or ``None`` for a new one."""
    if len(shots) > 1:
        return draft if stills_of(draft) == [u["file_id"] for u in shots] else None
    return refines(draft, shots[0]["file_id"])


def still_of(upload: dict[str, Any], framing: Framing | None) -> Still:
    info = upload["info"]
    return Still(upload["file_id"], (int(info["width"]), int(info["height"])), framing)


def direct(message: str, stills: list[Still], audio: str | None, previous: dict[str, Any] | None) -> Direction:
    """The director's plan: one still's clip (refining ``previous``), or one clip of several stills."""
    if len(stills) > 1:
        return director.direct_timeline(message, stills, audio_asset=audio, previous=previous)
    [still] = stills
    return director.direct(message, image_asset=still.asset, image_size=still.size, audio_asset=audio,
                           framing=still.framing, previous=previous)  # fmt: skip
