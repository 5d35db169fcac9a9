"""What every command shares: the two consoles, the backend options, and how the backend is chosen and named."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

if TYPE_CHECKING:
    from prefect_nemo.credentials import NemoCredentials

__all__ = [
    "DEBUG",
    "ApiUrl",
    "AsJson",
    "BlockName",
    "ClientId",
    "backend_label",
    "connect",
    "debugging",
    "err",
    "out",
    "prefect_api_configured",
    "prefect_api_label",
    "print_json",
    "resolve_credentials",
    "shown",
]

# Without a terminal (a pipe, a CI log) nothing needs wrapping at 80 columns: tables and errors keep their lines.
_WIDTH = None if "COLUMNS" in os.environ else 240
out = Console(highlight=False, width=None if sys.stdout.isatty() else _WIDTH)
err = Console(stderr=True, highlight=False, width=None if sys.stderr.isatty() else _WIDTH)

DEBUG = "prefect_nemo.debug"
"""Key in `click.Context.meta` under which the root callback leaves `--debug` for the commands."""


def debugging(ctx: typer.Context) -> bool:
    return bool(ctx.meta.get(DEBUG, False))


# -- options shared by the commands that talk to a backend ------------------------------------------

ApiUrl = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        help='Backend URL, or "local" for the embedded backend. Overrides the Block and NEMO_API_URL.',
        show_default=False,
    ),
]
BlockName = Annotated[
    str | None,
    typer.Option("--credentials", help="Name of a saved NemoCredentials Block to use.", show_default=False),
]
ClientId = Annotated[
    str | None,
    typer.Option("--client-id", help="X-Client-Id for anonymous tokens (default NEMO_CLIENT_ID).", show_default=False),
]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of text.")]


def resolve_credentials(api_url: str | None, block: str | None, client_id: str | None) -> NemoCredentials:
    """Flag > Block field > `NEMO_*` environment variable > default (the Block's defaults read the env)."""
    import asyncio

    from prefect_nemo.credentials import NemoCredentials

    credentials = asyncio.run(NemoCredentials.aload(block)) if block else NemoCredentials()
    updates = {key: value for key, value in (("api_url", api_url), ("client_id", client_id)) if value}
    return credentials.model_copy(update=updates) if updates else credentials


def backend_label(credentials: NemoCredentials, url: str) -> str:
    from prefect_nemo.credentials import CLOUD_URL

    if credentials.is_local:
        return f"embedded local backend at {url}"
    if url.rstrip("/") == CLOUD_URL:
        return f"NemoVideo cloud at {url}"
    return f"NemoVideo-compatible backend at {url}"


def connect(credentials: NemoCredentials, url: str | None = None) -> str:
    """Resolve the backend (starting the embedded one if needed) and say which one is in use, on stderr."""
    from prefect_nemo.credentials import CLOUD_URL

    if url is None and credentials.is_local and err.is_terminal:
        with err.status("starting the embedded backend…"):
            url = credentials.resolved_url()
    elif url is None:
        url = credentials.resolved_url()
    line = Text.assemble(("Backend: ", "bold"), backend_label(credentials, url))
    if credentials.is_local:
        line.append(f" (NEMO_API_URL={CLOUD_URL} switches to the cloud)", style="dim")
    err.print(line, soft_wrap=True)
    return url


def prefect_api_configured() -> bool:
    """Whether a Prefect API is configured, without importing Prefect (which takes a second or more):
    PREFECT_API_URL in the environment, else in the active profile of `$PREFECT_HOME/profiles.toml`."""
    import tomllib

    if "PREFECT_API_URL" in os.environ:
        return bool(os.environ["PREFECT_API_URL"].strip())
    home = Path(os.environ.get("PREFECT_HOME", "~/.prefect")).expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH", home / "profiles.toml")).expanduser()
    try:
        profiles = tomllib.loads(path.read_text())
    except (OSError, ValueError):
        return False
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active") or "ephemeral"
    return bool(profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL"))


def prefect_api_label() -> str:
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if url:
        return f"API at {url}"
    return "no API configured (PREFECT_API_URL is not set): convert runs without one, a flow starts a temporary server"


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def shown(path: Path) -> str:
    """A path as the user would type it: relative to the working folder when it is inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
