"""Typed shapes of what crosses the wire, and of what a clip request and its result are.

The server and the client share these, so both sides agree by construction. Wire models ignore
unknown fields (the cloud adds some) and accept every documented variant (nemo-api.md, open questions).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from prefect_nemo.camera import Camera
from prefect_nemo.draft_summary import timeline_summary

__all__ = [
    "ClipResult",
    "ClipSpec",
    "Credits",
    "GenerateResult",
    "RenderJob",
    "RenderStatus",
    "Session",
    "SessionState",
    "TokenInfo",
    "UploadedFile",
]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class TokenInfo(_Wire):
    """What an anonymous-token call granted - without the token itself, so it is safe to log and return."""

    user_id: str | None = None
    expires_at: datetime | None = None
    credits: int | None = None
    client_id: str | None = None

    @field_validator("expires_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        """An `expires_at` without an offset is UTC (the contract's examples all end in Z)."""
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


class Session(_Wire):
    """An editing session: one per clip by default, reused by refinements."""

    session_id: str
    task_id: str | None = None


class UploadedFile(_Wire):
    """One file as the backend stored it (nemo-api.md section 5)."""

    filename: str
    file_type: str | None = None
    cdn_url: str | None = None
    duration: float | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    hash: str | None = None


class Credits(_Wire):
    """Credit balance: `frozen` is reserved by running jobs, `total = available + frozen`."""

    available: int
    frozen: int = 0
    total: int | None = None


class SessionState(_Wire):
    """The session's timeline (nemo-api.md section 6), flattened from `data.state`."""

    session_id: str | None = None
    task_id: str | None = None
    task_name: str | None = None
    draft: dict[str, Any] | None = None
    video_infos: list[dict[str, Any]] = Field(default_factory=list)
    generated_media: Any = None
    canvas_config: dict[str, Any] | None = None
    polls: int = Field(default=1, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("state"), dict):
            data = {**data, **data["state"]}
        return data

    @property
    def is_ready(self) -> bool:
        """Ready for export: the draft has a track with at least one segment."""
        tracks = (self.draft or {}).get("t") or []
        return any(isinstance(t, dict) and t.get("sg") for t in tracks)

    @property
    def fingerprint(self) -> str:
        """A digest of the draft, to tell whether an edit changed anything."""
        return hashlib.sha256(json.dumps(self.draft, sort_keys=True).encode()).hexdigest()

    def summary(self, files: dict[str, str] | None = None) -> str:
        """The draft as one line (see `timeline_summary`); `files` maps upload ids to file names."""
        return timeline_summary(self.draft, files)


class RenderStatus(StrEnum):
    """Render job states of the contract, plus UNKNOWN for anything else (the raw text is kept)."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def is_terminal(self) -> bool:
        return self in (RenderStatus.COMPLETED, RenderStatus.FAILED)

    @classmethod
    def _missing_(cls, value: object) -> RenderStatus:
        if isinstance(value, str) and value.strip().lower() in cls._value2member_map_:
            return cls(value.strip().lower())
        return cls.UNKNOWN


def _epoch_ms(value: Any) -> Any:
    """`createdAt` as epoch milliseconds, whether it came as a number or an ISO 8601 string."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp() * 1000
    return value


class RenderJob(_Wire):
    """One export, decoded from either documented layout.

    v4.4 / CLI layout: `{"id", "status", "progress", "outputUrl", "error", "createdAt", "completedAt"}`;
    SKILL >= 4.5.1 layout: top-level `status` and `output: {"url", "duration", "size"}`. Null fields read as
    absent; `status_text` keeps the status as sent, so an unknown one can be named.
    """

    id: str
    status: RenderStatus = RenderStatus.PENDING
    status_text: str = ""
    progress: float = 0
    output_url: str | None = Field(default=None, alias="outputUrl")
    error: str | None = None
    created_at: float | None = Field(default=None, alias="createdAt")
    completed_at: float | None = Field(default=None, alias="completedAt")
    output_size: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _unify(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {k: v for k, v in data.items() if v is not None}
        if "id" not in data and "taskId" in data:
            data["id"] = data["taskId"]
        output = data.get("output")
        if isinstance(output, dict):
            data.setdefault("outputUrl", output.get("url"))
            data.setdefault("output_size", output.get("size"))
        data.setdefault("outputUrl", data.get("output_url"))
        if "status" in data:
            data.setdefault("status_text", str(data["status"]))
        for name in ("createdAt", "completedAt"):
            if name in data:
                data[name] = _epoch_ms(data[name])
        return data


class GenerateResult(BaseModel):
    """What one /run_sse instruction produced."""

    texts: list[str] = Field(default_factory=list)
    tool_calls: list[str] = Field(default_factory=list)
    heartbeats: int = 0
    silent: bool = False
    dropped: bool = False
    recovered_by_polling: bool = False
    draft: dict[str, Any] | None = None
    stream_error: str | None = None
    """The error the stream reported although the draft came out ready: success, but not a silent one."""
    partial_text: str | None = None
    """Streamed text that never got its final event (the stream ended mid-sentence); not in `texts`."""


_WS = re.compile(r"\s+")


class ClipSpec(BaseModel):
    """What to make of one image: the instruction plus optional structured overrides.

    The cloud takes plain language only, so overrides are appended to the instruction as words the
    director understands; `normalized()` is what cache keys are built from.
    """

    model_config = ConfigDict(frozen=True)

    prompt: str
    duration: float | None = Field(default=None, description="Clip length in seconds.")
    aspect: str | None = Field(default=None, description='Aspect ratio such as "16:9", "9:16", "1:1", "4:5".')
    fps: int | None = None
    quality: str = "high"
    camera: Camera | None = Field(default=None, description="A typed camera move, sent as the words for it.")

    def message(self) -> str:
        """The instruction sent to /run_sse."""
        parts = [_WS.sub(" ", self.prompt).strip()]
        if self.duration is not None:
            parts.append(f"{self.duration:g}-second")
        if self.aspect:
            parts.append(self.aspect)
        if self.fps:
            parts.append(f"{self.fps} fps")
        if self.camera is not None:
            parts.append(self.camera.words())
        return ", ".join(p for p in parts if p)

    def normalized(self) -> dict[str, Any]:
        return {"message": self.message(), "quality": self.quality}


class ClipResult(BaseModel):
    """A rendered, verified clip on disk - small enough to cache and return from tasks."""

    path: Path
    sha256: str
    size_bytes: int
    duration: float
    width: int
    height: int
    fps: float
    codec: str
    render_id: str
    session_id: str
    source_image: str
    image_sha256: str
    source_images: list[str] = Field(
        default_factory=list, description="A timeline's stills in order (`source_image` is the first); else empty."
    )
    instruction: str
    texts: list[str] = Field(default_factory=list)
    summary: str | None = Field(default=None, description="One sentence: what the backend did.")
    notes: list[str] = Field(
        default_factory=list, description="What the backend ignored or could not do, one sentence each."
    )
    credits_used: int | None = None
    render_seconds: float | None = None
    workspace_url: str | None = None
    warnings: list[str] = Field(default_factory=list)
    version: int = 1
    cached: bool = False
    resumed: bool = Field(default=False, description="An earlier run's paid instruction or render was picked up.")
    uri: str | None = Field(default=None, description="Where the clip was put when that is not a local path (a URL).")
    poster: str | None = Field(default=None, description="The poster frame (JPEG) next to the clip: a path or URL.")
    preview: str | None = Field(default=None, description="The animated preview (WebP) next to the clip.")

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def has_notes(self) -> bool:
        """Done with notes: part of the instruction was ignored or could not be done (shown as ⚠, not ✓)."""
        return bool(self.notes)
