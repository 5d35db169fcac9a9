"""Configuration in one place: `NEMO_*` environment variables, overridden by Block fields and flags.

Precedence (highest first): an explicit argument or CLI flag > a `NemoCredentials` Block's field >
the `NEMO_*` environment variable > the default below.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["NemoSettings", "nemo_home"]


class _Paths(BaseSettings):
    """Where prefect-nemo and the NemoVideo skill keep their files (`NEMO_HOME`, `XDG_CONFIG_HOME`)."""

    model_config = SettingsConfigDict(extra="ignore")

    nemo_home: Path | None = None
    xdg_config_home: Path | None = None


def nemo_home() -> Path:
    """Where prefect-nemo keeps its own state (`NEMO_HOME`, default `~/.prefect-nemo`)."""
    return (_Paths().nemo_home or Path.home() / ".prefect-nemo").expanduser()


def config_home() -> Path:
    """The XDG config folder (`XDG_CONFIG_HOME`, default `~/.config`)."""
    return (_Paths().xdg_config_home or Path.home() / ".config").expanduser()


class NemoSettings(BaseSettings):
    """Settings read from the environment each time they are needed (so tests and CLIs can change them)."""

    model_config = SettingsConfigDict(env_prefix="NEMO_", extra="ignore")

    api_url: str = Field(default="local", description='Backend URL, or "local" for the embedded backend.')
    token: SecretStr | None = Field(default=None, description="nmv_usr_ API token; empty = anonymous token.")
    client_id: str | None = Field(default=None, description="X-Client-Id for anonymous tokens.")
    output_dir: Path = Field(default=Path("clips"), description="Where finished MP4s are written.")
    cache_dir: Path = Field(default_factory=lambda: nemo_home() / "cache", description="Where clip records are kept.")
    cache_expiration: float | None = Field(
        default=None, description="Seconds a cached clip stays valid (none = forever)."
    )
    timeout: float = Field(default=900.0, description="Overall seconds per clip: stream, export and download.")
    web_url: str = Field(default="https://nemovideo.com", description="NemoVideo's web app, for workspace links.")

    @property
    def ledger_path(self) -> Path:
        return self.cache_dir / "clips.db"
