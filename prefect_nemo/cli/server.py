"""`prefect-nemo local-server`: the embedded NemoVideo-compatible backend, in the foreground."""

from __future__ import annotations

import logging
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from prefect_nemo.cli.common import err, out

__all__ = ["Dialect", "RenderEnvelope", "local_server"]


class Dialect(StrEnum):
    adk = "adk"
    typed = "typed"


class RenderEnvelope(StrEnum):
    success = "success"
    flat = "flat"


def local_server(
    port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Port (0 = any free one). Default NEMO_LOCAL_PORT, else 8765."),
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Loopback address: 127.0.0.1 (default), localhost or ::1.", show_default=False)
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Folder for state, uploads and renders (default NEMO_LOCAL_DATA_DIR).", show_default=False),
    ] = None,
    faults: Annotated[
        str | None,
        typer.Option(help="Fault injection, e.g. 'render-fail=0.3,429=0.1' (see --list-faults).", show_default=False),
    ] = None,
    list_faults: Annotated[bool, typer.Option("--list-faults", help="List the faults that can be injected.")] = False,
    dialect: Annotated[
        Dialect | None, typer.Option(help="Wire form of /run_sse events (default adk).", show_default=False)
    ] = None,
    render_envelope: Annotated[
        RenderEnvelope | None,
        typer.Option(help="Render status layout: {success,data} or flat status + output.url.", show_default=False),
    ] = None,
    silent_ratio: Annotated[
        float | None,
        typer.Option(
            min=0, max=1, help="Share of generations that end with no text (default 0.3).", show_default=False
        ),
    ] = None,
    render_workers: Annotated[
        int | None, typer.Option(min=1, help="Processes that render clips (default 2).", show_default=False)
    ] = None,
    quality: Annotated[
        str | None, typer.Option(help="Override every export's quality, e.g. draft.", show_default=False)
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the backend's randomness.", show_default=False)] = None,
) -> None:
    """Run the embedded NemoVideo-compatible backend in the foreground (Ctrl+C stops it).

    Each setting: this flag, else its NEMO_LOCAL_* environment variable, else the default.

    Flows and commands with api_url "local" and the same data folder find this server and use it.
    """
    import asyncio

    from rich.table import Table

    from prefect_nemo.local.__main__ import run
    from prefect_nemo.local.emulator.faults import FAULTS, Faults
    from prefect_nemo.local.settings import LocalSettings

    if list_faults:
        table = Table("Fault", "What it does", header_style="bold")
        for name, what in FAULTS.items():
            table.add_row(name, what)
        out.print(table)
        raise typer.Exit()
    given: dict[str, Any] = {
        "port": port if port is not None else (None if "NEMO_LOCAL_PORT" in os.environ else 8765),
        "host": host,
        "data_dir": data_dir,
        "faults": faults,
        "dialect": dialect.value if dialect else None,
        "render_envelope": render_envelope.value if render_envelope else None,
        "silent_ratio": silent_ratio,
        "render_workers": render_workers,
        "quality": quality,
        "seed": seed,
    }
    settings = LocalSettings(**{k: v for k, v in given.items() if v is not None})
    try:
        Faults.parse(settings.faults, seed=settings.seed)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--faults") from None
    shown = settings.faults or "none"
    err.print(
        f"Starting the embedded backend: data {settings.data_dir}, dialect {settings.dialect}, "
        f"render envelope {settings.render_envelope}, faults {shown}. Ctrl+C stops it.",
        soft_wrap=True,
        markup=False,
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("uvicorn.error").addFilter(_quiet_cancellation)
    asyncio.run(run(settings, announce=True))


def _quiet_cancellation(record: logging.LogRecord) -> bool:
    """Ctrl+C cancels the server; uvicorn reports the cancelled lifespan as an error with a traceback."""
    import asyncio

    if record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError):
        return False
    message = record.getMessage().rstrip()
    return not (message.startswith("Traceback") and message.endswith("CancelledError"))
