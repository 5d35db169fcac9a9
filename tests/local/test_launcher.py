"""The embedded backend outlives the process that started it while another process still uses it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil  # type: ignore[import-untyped]

from prefect_nemo.local.launcher import LocalServer, read_server_file
from prefect_nemo.local.settings import LocalSettings

USER = """
import sys, time
from prefect_nemo.local.launcher import ensure_local_server
from prefect_nemo.local.settings import LocalSettings
print(ensure_local_server(LocalSettings(data_dir=sys.argv[1])), flush=True)
sys.stdin.readline()  # live until told to go
"""


def user(data_dir: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "NEMO_LOCAL_RENDER_WORKERS": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", USER, str(data_dir)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/local/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def leave(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.close()
    process.wait(30)


def test_a_reused_backend_stops_only_when_its_last_user_is_gone(tmp_path: Path) -> None:
    starter, url = user(tmp_path)
    second, same = user(tmp_path)
    assert same == url  # reused, not a second backend on the same folder
    server_pid = int(str((read_server_file(tmp_path) or {})["pid"]))
    leave(starter)
    time.sleep(2.5)  # the backend checks its users once a second
    assert answers(url), "the backend went away while another process was using it"
    leave(second)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and answers(url):
        time.sleep(0.5)
    assert not answers(url), "the backend outlived every process that used it"
    while time.monotonic() < deadline and running(server_pid):
        time.sleep(0.5)
    assert not running(server_pid)


def running(pid: int) -> bool:
    """Alive and not a zombie (an orphan's exit is reaped by whoever adopted it, maybe later)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_a_stop_that_does_not_wait_still_leaves_nothing_behind(tmp_path: Path) -> None:
    """What a command line does at exit: ask the server to stop and return; the server and its render
    workers (which die with it) are gone shortly after."""
    server = LocalServer(LocalSettings(data_dir=tmp_path, render_workers=2))
    assert answers(server.url)
    family = [server.process.pid]
    deadline = time.monotonic() + 30
    while not any("spawn_main" in " ".join(p.cmdline()) for p in psutil.Process(family[0]).children()):
        assert time.monotonic() < deadline, "no render worker was started"  # one warms up as the server starts
        time.sleep(0.1)
    family += [p.pid for p in psutil.Process(server.process.pid).children(recursive=True)]
    server.stop(wait=False)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(running(pid) for pid in family):
        time.sleep(0.2)
    server.process.wait(5)  # reaped by us, its parent
    assert not [pid for pid in family if running(pid)]
    assert read_server_file(tmp_path) is None  # it shut down cleanly, removing its server file
