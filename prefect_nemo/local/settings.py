"""Settings of the embedded backend, from `NEMO_LOCAL_*` environment variables or the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from prefect_nemo.identity import nemo_home

__all__ = ["LocalSettings"]


class LocalSettings(BaseSettings):
    """How the embedded NemoVideo-compatible server behaves.

    Defaults keep the cloud's quirks (silent edits, heartbeats) so clients are exercised as in production.
    """

    model_config = SettingsConfigDict(env_prefix="NEMO_LOCAL_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: nemo_home() / "local", description="SQLite state, uploads, renders.")
    host: str = "127.0.0.1"
    port: int = 0
    render_workers: int = Field(default=2, ge=1, description="Worker processes that render clips.")
    dialect: Literal["adk", "typed"] = Field(default="adk", description="Wire form of /run_sse events.")
    render_envelope: Literal["success", "flat"] = Field(
        default="success", description='Render status layout: {"success","data"} or top-level status + output.url.'
    )
    silent_ratio: float = Field(default=0.3, ge=0, le=1, description="Share of generations that end with no text.")
    heartbeat_interval: float = Field(default=2.0, gt=0, description="Seconds between heartbeats on a busy stream.")
    quality: str | None = Field(default=None, description="Override every export's quality (e.g. 'draft' in tests).")
    render_latency: float | None = Field(
        default=None, ge=0, description="Fixed seconds from export submit to completion (benchmarks)."
    )
    starting_credits: int = 100_000
    generate_cost: int = 100
    edit_cost: int = 50
    tokens_per_ip: int = Field(default=10, description="Anonymous tokens per IP per 7 days, as the cloud caps.")
    token_ttl_days: float = 7.0
    url_ttl: float = Field(default=3600.0, description="Seconds a render's output URL stays valid.")
    retention: float = Field(
        default=3600.0,
        ge=0,
        description="Seconds a session's uploads and previews are kept after their last use (0: released when"
        " its clip is downloaded). Previews always go at download; delivered clips stay until pruned.",
    )
    max_upload_bytes: int = 200 * 1024 * 1024
    seed: int = 0
    faults: str = Field(default="", description="Fault injection spec (see prefect_nemo.local.emulator.faults).")
