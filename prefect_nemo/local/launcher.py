"""Start or reuse the embedded backend, as Prefect starts its temporary server.

`api_url="local"` resolves here: a server already listening for the data folder (a foreground
`prefect-nemo local-server`, one this process started, or one another process started) is reused;
otherwise one is started in a subprocess on 127.0.0.1. A file lock on the data folder makes the check
and the start one step across processes (Dask workers, two batches), so a data folder never gets two
backends. A server we start watches our pid and exits when we do: nothing is left behind.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from filelock import FileLock

from prefect_nemo.local.settings import LocalSettings

__all__ = [
    "USERS",
    "LocalServer",
    "ensure_local_server",
    "read_server_file",
    "stop_started",
    "users",
    "wait_at_exit",
]

_started: dict[Path, LocalServer] = {}
_verified: dict[Path, tuple[str, object]] = {}  # data dir -> (server file text, url) already checked healthy
_lock = threading.Lock()  # threads of this process; the file lock below covers other processes


def read_server_file(data_dir: Path) -> dict[str, object] | None:
    try:
        info = json.loads((data_dir / "server.json").read_text())
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _alive(pid: object) -> bool:
    try:
        os.kill(int(str(pid)), 0)
    except (OSError, ValueError):
        return False
    return True


USERS = "server.users"
"""Pids of the other processes that reuse a server: it stays up until its starter and every one of them is gone."""


def users(data_dir: Path) -> list[int]:
    try:
        return [int(pid) for pid in (data_dir / USERS).read_text().split()]
    except (OSError, ValueError):
        return []


def _healthy(url: str, data_dir: Path) -> bool:
    try:
        answer = httpx.get(f"{url}/local/health", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return False
    return bool(answer.get("ok")) and Path(str(answer.get("data_dir"))).resolve() == data_dir.resolve()


class LocalServer:
    """A backend subprocess this process owns."""

    def __init__(self, settings: LocalSettings, *, startup_timeout: float = 60.0) -> None:
        self.settings = settings
        self.data_dir = settings.data_dir
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "server.json").unlink(missing_ok=True)
        (self.data_dir / USERS).unlink(missing_ok=True)
        env = {
            **os.environ,
            **{f"NEMO_LOCAL_{k.upper()}": str(v) for k, v in settings.model_dump().items() if v is not None},
        }
        self.log_path = self.data_dir / "server.log"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "prefect_nemo.local", "--parent-pid", str(os.getpid())],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: `stop` can end its workers and helpers too
            )
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline:
            info = read_server_file(self.data_dir)
            if info and info.get("pid") == self.process.pid:
                self.url = str(info["url"])
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        tail = self.log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the embedded NemoVideo backend did not start (log {self.log_path}):\n{tail}")

    def stop(self, wait: bool = True) -> None:
        """Stop the server and what it started; without `wait`, only ask it to (it shuts down by itself and its
        render workers die with it), so a command line can return while it does."""
        if not wait:
            if self.process.poll() is None:
                self.process.terminate()
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # Whatever it left in its group (render workers, multiprocessing's resource tracker) goes with it.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def ensure_local_server(settings: LocalSettings | None = None) -> str:
    """The URL of an embedded backend for the data folder, starting one if none answers."""
    settings = settings or LocalSettings()
    data_dir = settings.data_dir.expanduser().resolve()
    settings = settings.model_copy(update={"data_dir": data_dir})
    with _lock:
        if url := _known(data_dir):
            return url  # the common case (every task opens a client): no HTTP, no file lock
        data_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(data_dir / "launcher.lock"):
            if url := _known(data_dir) or _reusable(data_dir):
                return url
            server = LocalServer(settings)
        _started[data_dir] = server
        if len(_started) == 1:
            atexit.register(_stop_at_exit)
        return server.url


def _known(data_dir: Path) -> str | None:
    """A server this process started, or one already checked whose file and pid still stand."""
    mine = _started.get(data_dir)
    if mine and mine.process.poll() is None:
        return mine.url
    info = read_server_file(data_dir)
    known = _verified.get(data_dir)
    if info and known and known[0] == json.dumps(info, sort_keys=True) and _alive(info.get("pid")):
        return str(info["url"])
    return None


def _reusable(data_dir: Path) -> str | None:
    """A server another process (or a foreground `prefect-nemo local-server`) runs for this folder."""
    info = read_server_file(data_dir)
    if info and _healthy(str(info["url"]), data_dir):
        _verified[data_dir] = (json.dumps(info, sort_keys=True), info["url"])
        with (data_dir / USERS).open("a") as registry:  # under the launcher's file lock
            registry.write(f"{os.getpid()}\n")  # so the server outlives the process that started it
        return str(info["url"])
    return None


wait_at_exit = True
"""Whether the stop at interpreter exit waits for the servers to be gone. A command line that exits once its
work is done sets it False: the servers then shut down on their own while it returns."""


def stop_started(wait: bool = True) -> None:
    """Stop every backend this process started (also run at exit), but one another process still uses: that
    one stops by itself when its last user is gone."""
    for data_dir, server in _started.items():
        if not any(_alive(pid) for pid in users(data_dir) if pid != os.getpid()):
            server.stop(wait)
    _started.clear()


def _stop_at_exit() -> None:
    stop_started(wait_at_exit)
