"""The commands that only read: the credit balance, a session's timeline, and the clips made so far."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from prefect_nemo.cli.common import (
    ApiUrl,
    AsJson,
    BlockName,
    ClientId,
    connect,
    err,
    out,
    print_json,
    resolve_credentials,
    shown,
)

if TYPE_CHECKING:
    from prefect_nemo.models import Credits, SessionState

__all__ = ["credits", "sessions", "state"]


def credits(
    as_json: AsJson = False, api_url: ApiUrl = None, block: BlockName = None, client_id: ClientId = None
) -> None:
    """Show the credit balance of the token in use."""
    import asyncio

    credentials = resolve_credentials(api_url, block, client_id)
    url = connect(credentials)

    async def fetch() -> Credits:
        async with credentials.get_client() as client:
            return await client.credits()

    balance = asyncio.run(fetch())
    if as_json:
        print_json({**balance.model_dump(mode="json"), "backend": url})
        return
    total = balance.total if balance.total is not None else balance.available + balance.frozen
    out.print(f"{balance.available:,} credits available, {balance.frozen:,} frozen, {total:,} total", markup=False)


def state(
    session: Annotated[str, typer.Argument(help="Session id (see `prefect-nemo sessions`).", show_default=False)],
    as_json: AsJson = False,
    api_url: ApiUrl = None,
    block: BlockName = None,
    client_id: ClientId = None,
) -> None:
    """Show a session's timeline: its tracks and segments."""
    import asyncio

    credentials = resolve_credentials(api_url, block, client_id)
    connect(credentials)

    async def fetch() -> SessionState:
        async with credentials.get_client() as client:
            return await client.state(session)

    current = asyncio.run(fetch())
    files = {str(f.get("file_id")): str(f.get("filename")) for f in current.video_infos if f.get("file_id")}
    summary = current.summary(files)
    if as_json:
        print_json({"summary": summary, "ready": current.is_ready, **current.model_dump(mode="json")})
        return
    meta = (current.draft or {}).get("m") or {}
    out.print(f"Session {current.session_id or session}" + (f" (task {current.task_id})" if current.task_id else ""))
    out.print(summary, soft_wrap=True, markup=False)
    if meta:
        size = f"{meta.get('width')}x{meta.get('height')}" if meta.get("width") else "size unknown"
        fps = f", {meta['fps']} fps" if meta.get("fps") else ""
        out.print(f"Canvas: {size}{fps}", markup=False)
    if did := meta.get("did"):
        out.print(f"Did: {did}", soft_wrap=True, markup=False)
    notes = meta.get("notes") or []
    for note in [notes] if isinstance(notes, str) else notes:
        out.print(Text.assemble(("⚠ ", "yellow"), str(note)), soft_wrap=True)
    if not current.is_ready:
        out.print("Not ready for export: send an instruction first (prefect-nemo convert).", markup=False)


def sessions(
    limit: Annotated[int, typer.Option(min=1, help="How many recent clips to list.")] = 20,
    as_json: AsJson = False,
) -> None:
    """List recent clips and their sessions, newest first, from the local clip ledger (--json adds render ids)."""
    from prefect_nemo.ledger import Ledger
    from prefect_nemo.settings import NemoSettings

    path = NemoSettings().ledger_path
    results = []
    if path.exists():
        with Ledger(path) as ledger:
            results = ledger.results(limit)
    if as_json:
        print_json([r.model_dump(mode="json") for r in results])
        return
    err.print(Text.assemble(("Ledger: ", "bold"), str(path)), soft_wrap=True)
    if not results:
        out.print("No clips yet: make one with `prefect-nemo convert IMAGE`.", markup=False)
        return
    from rich.table import Table

    table = Table(header_style="bold")
    for name in ("Image", "Session", "Clip"):
        table.add_column(name, overflow="fold")
    table.add_column("Length", justify="right")
    table.add_column("Size", justify="right")
    for result in results:
        table.add_row(
            Path(result.source_image).name + (f" (v{result.version})" if result.version > 1 else ""),
            result.session_id,
            shown(result.path) + ("" if result.path.is_file() else " (missing)"),
            f"{result.duration:.2f} s",
            result.resolution,
        )
    out.print(table)
