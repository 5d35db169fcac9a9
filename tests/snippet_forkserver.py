"""A fork server for the doc snippets: Prefect and prefect_nemo are imported once, each snippet runs in a
process forked from there (tests/test_docs.py).

A snippet's fresh interpreter spent about 2.5 s of CPU importing Prefect before its first line did anything;
22 snippets paid that 22 times. A forked child still runs its snippet as a plain script: `__name__` is
`"__main__"`, `sys.argv[0]` is the script, the script's folder is its working folder and first on `sys.path`,
it is the leader of its own session (a stop takes its helpers with it), stdin is empty, and it ends through
the interpreter's normal exit (atexit handlers run, an uncaught exception prints its traceback and exits 1).
The server holds no thread, event loop or connection when it forks (it checks), so nothing of Prefect's is
shared: the environment is the one every snippet gets, and `random` is re-seeded in each child by Python.

Protocol (one line each, tab-separated): the server reads `<id> <script> <stdout file> <stderr file>` on
stdin and answers `started <id> <pid>` once forked and `exit <id> <returncode>` once reaped (a negative
returncode is the signal that ended it, as in `subprocess`).
"""

from __future__ import annotations

import importlib
import os
import select
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

PRELOAD = ("prefect", "prefect.flow_engine", "prefect.task_engine", "prefect_nemo", "prefect_nemo.flows")
"""What every snippet imports (directly or when its first flow runs): imported once, in the server."""


# -- the server (a process of its own) ------------------------------------------------------------------


def _run_child(script: Path, stdout: str, stderr: str) -> None:
    """In the forked child: become a plain `python script.py` run in the script's folder, then exit."""
    import runpy

    os.setsid()
    for fd, path, flags in (
        (0, os.devnull, os.O_RDONLY),
        (1, stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
        (2, stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
    ):
        opened = os.open(path, flags, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdin = open(0, closefd=False)  # the server's stdin wrapper may hold requests it has buffered
    os.chdir(script.parent)
    sys.argv = [script.name]
    sys.path[0] = str(script.parent)
    runpy.run_path(script.name, run_name="__main__")
    sys.exit(0)  # through the normal exit: an exception above ends the process as it would a script


def serve() -> None:
    """Preload, then fork one child per request and report its exit, until stdin closes."""
    for name in PRELOAD:
        importlib.import_module(name)
    if threading.active_count() != 1:  # a thread would not survive a fork, and could hold a lock
        raise RuntimeError(f"the fork server has threads after its imports: {threading.enumerate()}")
    ids: dict[int, str] = {}
    stdin, buffer, open_ = sys.stdin.fileno(), b"", True
    print("ready", flush=True)
    while open_ or ids:
        if open_ and select.select([stdin], [], [], 0.1)[0]:
            chunk = os.read(stdin, 65536)
            open_ = bool(chunk)
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                job, script, stdout, stderr = line.decode().split("\t")
                pid = os.fork()
                if pid == 0:
                    _run_child(Path(script), stdout, stderr)
                ids[pid] = job
                print(f"started\t{job}\t{pid}", flush=True)
        elif not open_:
            select.select([], [], [], 0.1)
        while ids:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            print(f"exit\t{ids.pop(pid)}\t{os.waitstatus_to_exitcode(status)}", flush=True)


# -- the client (in the test process) -------------------------------------------------------------------


@dataclass
class _Job:
    done: threading.Event = field(default_factory=threading.Event)
    pid: int | None = None
    returncode: int | None = None


class ForkServer:
    """The server process, started with the snippets' environment in their working folder."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__],
            cwd=workdir,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        if first.strip() != "ready":
            self.process.kill()
            raise RuntimeError(f"the snippet fork server did not start: {first!r}")
        self.jobs: dict[str, _Job] = {}
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, name="forkserver-reader", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            kind, job, value = line.rstrip("\n").split("\t")
            with self.lock:
                record = self.jobs[job]
            if kind == "started":
                record.pid = int(value)
            else:
                record.returncode = int(value)
                record.done.set()
        with self.lock:  # the server is gone: nothing more will be reported
            for record in self.jobs.values():
                if not record.done.is_set():
                    record.returncode = -9
                    record.done.set()

    def run(self, script: Path, timeout: float) -> tuple[int, str, str]:
        """Run `script` in a forked child; its return code, stdout and stderr (killed after `timeout` s)."""
        out, err = script.with_suffix(".stdout"), script.with_suffix(".stderr")
        record = _Job()
        with self.lock:
            job = str(len(self.jobs))
            self.jobs[job] = record
            assert self.process.stdin is not None
            self.process.stdin.write(f"{job}\t{script}\t{out}\t{err}\n")
            self.process.stdin.flush()
        note = ""
        if not record.done.wait(timeout):
            self.kill(record)
            record.done.wait()
            note = f"\n(killed after {timeout:.0f} s)"
        assert record.returncode is not None
        return record.returncode, _read_text(out), _read_text(err) + note

    def kill(self, record: _Job | None = None) -> None:
        """Kill one child's session, or every running child's."""
        with self.lock:
            records = [record] if record else list(self.jobs.values())
        for r in records:
            if r.pid is not None and not r.done.is_set():
                try:
                    os.killpg(r.pid, 9)
                except ProcessLookupError:
                    pass

    def stop(self) -> None:
        """Kill what still runs, then let the server reap it and exit."""
        self.kill()
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(5)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


if __name__ == "__main__":
    serve()
