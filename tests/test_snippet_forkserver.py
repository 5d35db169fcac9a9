"""The doc snippets' fork server runs a script as `python script.py` would: as `__main__`, in its folder,
first on `sys.path`, in a session of its own, through the interpreter's normal exit."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.snippet_forkserver import ForkServer

PROBE = """\
import atexit, os, sys
from pathlib import Path

import prefect

atexit.register(lambda: Path("atexit.txt").write_text("ran"))
print(__name__, sys.argv[0], Path.cwd().name, Path(sys.path[0]).name, os.getsid(0) == os.getpid())
print(sys.stdin.read() == "", os.environ["PROBE_MARK"], "prefect" in sys.modules, flush=True)
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ForkServer, Path]]:
    workdir = tmp_path_factory.mktemp("forked")
    started = ForkServer(workdir, {**os.environ, "PROBE_MARK": "from-the-env"})
    yield started, workdir
    started.stop()
    assert started.process.returncode == 0


def _script(folder: Path, name: str, code: str) -> Path:
    path = folder / name
    path.write_text(code, encoding="utf-8")
    return path


def test_a_script_runs_as_main_in_its_folder_with_its_env(server: tuple[ForkServer, Path]) -> None:
    forks, workdir = server
    returncode, stdout, stderr = forks.run(_script(workdir, "probe.py", PROBE), 60)
    assert returncode == 0, stderr
    assert stdout.split() == [
        "__main__",
        "probe.py",
        workdir.name,
        workdir.name,
        "True",
        "True",
        "from-the-env",
        "True",
    ]
    assert (workdir / "atexit.txt").read_text() == "ran"  # the normal exit, not os._exit


def test_exit_codes_and_tracebacks_are_a_scripts(server: tuple[ForkServer, Path]) -> None:
    forks, workdir = server
    assert forks.run(_script(workdir, "exits.py", "import sys\nsys.exit(3)\n"), 60)[0] == 3
    returncode, _, stderr = forks.run(_script(workdir, "raises.py", "raise ValueError('bad photo')\n"), 60)
    assert returncode == 1 and "ValueError: bad photo" in stderr


def test_a_run_past_its_time_is_killed_with_its_session(server: tuple[ForkServer, Path]) -> None:
    forks, workdir = server
    code = "import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    returncode, _, stderr = forks.run(_script(workdir, "sleeps.py", code + "time.sleep(60)\n"), 2)
    assert returncode == -9 and "killed after 2 s" in stderr
