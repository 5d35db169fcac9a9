"""The session-end check in tests/conftest.py really fails a run that leaves a process behind.

A tiny test file, run by pytest in a subprocess with this suite's conftest as a plugin, leaves processes
running: an embedded backend that was never stopped (its server and render worker), a `sleep 60` in a
session of its own and a `sleep 61` whose parent has exited (an orphan, adopted by init). All carry the inner
run's mark; the inner run must fail, name each of them and kill them, in one process and on pytest-xdist's
workers alike.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]

LEAVES_PROCESSES = """
import subprocess
import sys
from pathlib import Path

from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.local.settings import LocalSettings

ORPHAN = "import subprocess as s; print(s.Popen(['sleep', '61'], stdout=s.DEVNULL, stderr=s.DEVNULL).pid)"


def test_leaves_processes_behind(tmp_path):
    server = LocalServer(LocalSettings(data_dir=tmp_path / "backend", render_workers=1))  # never stopped
    detached = subprocess.Popen(["sleep", "60"], start_new_session=True)
    orphan_of = subprocess.run([sys.executable, "-c", ORPHAN], capture_output=True, text=True, check=True)
    Path("pids").write_text(f"{detached.pid} {orphan_of.stdout.strip()} {server.process.pid}")
"""


def run_inner(tmp_path: Path, *options: str) -> tuple[subprocess.CompletedProcess[str], list[int]]:
    """The inner run of LEAVES_PROCESSES with `options`: what it printed and the pids its test wrote."""
    (tmp_path / "test_inner.py").write_text(LEAVES_PROCESSES, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = session\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NEMO_TEST_LEFTOVER_GRACE": "1"}
    plugins = ["-p", "tests.conftest", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *plugins, "-q", *options, "test_inner.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done, [int(p) for p in (tmp_path / "pids").read_text().split()]


def test_a_leftover_process_fails_the_run_and_is_killed(tmp_path: Path) -> None:
    done, pids = run_inner(tmp_path, "-n", "0")
    try:
        assert done.returncode == 1, done.stdout + done.stderr  # the test passed; the check failed the run
        assert "1 passed" in done.stdout
        report = done.stdout.split("still alive at the end (killed):", 1)[1]
        for pid, command in zip(pids, ("sleep 60", "sleep 61", "-m prefect_nemo.local"), strict=True):
            assert f"{pid} " in report and command in report, done.stdout
            assert not _running(pid), f"{command} ({pid}) was reported but not killed"
        assert "multiprocessing" in report, done.stdout  # the backend's render worker too
    finally:
        _kill(pids)


def test_a_leftover_of_a_pytest_xdist_worker_fails_the_run_too(tmp_path: Path) -> None:
    """The same on two workers: they carry the controller's mark, which checks once they are gone. (The backend
    may see its worker go and stop by itself within the grace period: then it is no leftover.)"""
    done, pids = run_inner(tmp_path, "-n", "2", "--dist", "loadfile")
    try:
        assert done.returncode == 1, done.stdout + done.stderr
        assert "1 passed" in done.stdout
        report = done.stdout.split("still alive at the end (killed):", 1)[1]
        for pid, command in zip(pids[:2], ("sleep 60", "sleep 61"), strict=True):
            assert f"{pid} " in report and command in report, done.stdout
            assert not _running(pid), f"{command} ({pid}) was reported but not killed"
        assert "[gw" not in report and "execnet" not in report, done.stdout  # the workers had exited
        assert not _running(pids[2]), "the backend outlived the run"
    finally:
        _kill(pids)


def _kill(pids: list[int]) -> None:
    for pid in pids:
        if _running(pid):
            psutil.Process(pid).kill()


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
