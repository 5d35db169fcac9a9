"""`python -m prefect_nemo.local`: run the embedded backend in the foreground (settings from NEMO_LOCAL_*).

With `--parent-pid` it exits when that process is gone, so a server started for a flow run never
outlives it.

A spawned render worker imports this module too (as `__mp_main__`): the server's own imports are made in
`run` and `main`, so a worker loads only what it renders with.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prefect_nemo.local.settings import LocalSettings


def _write_server_file(data_dir: Path, url: str) -> None:
    tmp = data_dir / ".server.json.tmp"
    tmp.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    os.replace(tmp, data_dir / "server.json")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def _watch_parent(pid: int, data_dir: Path, stop: asyncio.Event) -> None:
    """Stop once the starter (orphaned: its pid may be reused) and every process that reused us are gone."""
    from prefect_nemo.local.launcher import users

    while not stop.is_set():
        parent = os.getppid() != 1 and _alive(pid)
        if not parent and not any(_alive(user) for user in users(data_dir)):
            stop.set()
        await asyncio.sleep(1)


async def run(settings: LocalSettings, parent_pid: int | None = None, announce: bool = False) -> None:
    from prefect_nemo.local.emulator.server import serve

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def ready(url: str) -> None:
        _write_server_file(settings.data_dir, url)
        if announce:
            print(f"NemoVideo-compatible backend listening on {url} (data: {settings.data_dir})", flush=True)

    server = asyncio.ensure_future(serve(settings, on_ready=ready, stop=stop))
    watcher = asyncio.ensure_future(_watch_parent(parent_pid, settings.data_dir, stop)) if parent_pid else None
    # A stop (signal or parent gone) makes uvicorn shut down gracefully; cancelling is only the fallback.
    try:
        await asyncio.shield(server)
    finally:
        stop.set()
        if watcher:
            watcher.cancel()
        try:
            await asyncio.wait_for(server, timeout=15)
        except (TimeoutError, asyncio.CancelledError):
            server.cancel()
    try:
        info = json.loads((settings.data_dir / "server.json").read_text())
        if info.get("pid") == os.getpid():
            (settings.data_dir / "server.json").unlink()
    except (OSError, ValueError):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m prefect_nemo.local")
    parser.add_argument("--parent-pid", type=int, default=None)
    args = parser.parse_args()
    from prefect_nemo.local.settings import LocalSettings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(run(LocalSettings(), parent_pid=args.parent_pid))


if __name__ == "__main__":
    main()
