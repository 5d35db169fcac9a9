"""Every ```python block of README.md and docs/*.md runs as written, as a plain script.

Each snippet runs in a fresh Python process, in a working folder holding the images the snippets name
(converted copies of examples/), against the embedded backend and the session's Prefect test server; three
run at a time (a snippet spends much of its time importing Prefect or waiting for its render), started
when the module starts, and each test checks its own. A snippet that serves a flow (`.serve(...)`) runs
in its test until its deployment is registered, then is stopped.
Runs under the heavy lock: `flock /tmp/nemo-heavy.lock python -m pytest tests/test_docs.py -x -q`.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```$", re.S | re.M)

IMAGES = {  # the names the snippets use -> the example they are made from
    "photos/mug.png": "product.jpg",
    "photos/poster.jpg": "poster.png",
    "photos/dunes.webp": "illustration.png",
    "photos/shoe.png": "product.jpg",
    "shoe.png": "product.jpg",
    "a.png": "portrait.jpg",
    "b.jpg": "poster.png",
    "c.webp": "illustration.png",
}
MANIFEST = "image,prompt\nphotos/mug.png,\"2-second slow push-in, 1:1, title 'Mug'\"\nphotos/poster.jpg,\n"


def snippets() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append((f"{page.relative_to(ROOT)}:{line}", match.group(1)))
    return found


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("docs")
    for name, source in IMAGES.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(ROOT / "examples" / source) as image:
            image.convert("RGB").save(target)
    (folder / "photos.csv").write_text(MANIFEST, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def env(harness: None, local_server: object) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    return {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PYTHONPATH": str(ROOT),
        "PYTHONFAULTHANDLER": "1",
    }


SNIPPET_WAIT = 240.0
"""Seconds a snippet may run (the longest took 69 s in a full two-worker run): a hung one is stopped with its
threads' stacks printed, inside the test's 300 s timeout, which would report only this module's own threads."""
PARALLEL_SNIPPETS = 3
"""Three snippets at a time: a snippet waits on imports, polls and renders, so two left a core idle (the module
took 169 s with two, 114 s with three, 112 s with four on the 2-core machine)."""


class Snippets:
    """The module's snippet runs: `PARALLEL_SNIPPETS` at a time in a thread pool; each test waits for its own."""

    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir, self.env = workdir, env
        self.pool = ThreadPoolExecutor(PARALLEL_SNIPPETS, thread_name_prefix="snippet")
        self.running: set[subprocess.Popen[str]] = set()
        self.lock = threading.Lock()
        self.stopping = False

    def start(self, where: str, code: str) -> Future[tuple[int, str, str]]:
        return self.pool.submit(self._run, where, code)

    def _run(self, where: str, code: str) -> tuple[int, str, str]:
        script = _script(self.workdir, where, code)
        with self.lock:
            if self.stopping:
                return -1, "", "not run: the module was stopped"
            process = subprocess.Popen(
                [sys.executable, script.name],
                cwd=self.workdir,
                env=self.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,  # its own group: a stop takes its helpers (Dask workers) with it
            )
            self.running.add(process)
        try:
            stdout, stderr = process.communicate(timeout=SNIPPET_WAIT)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGABRT)  # faulthandler (PYTHONFAULTHANDLER) prints every thread's stack
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(10)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # and its helpers (Dask workers)
            stdout, stderr = process.communicate()
            stderr += f"\n(stopped after {SNIPPET_WAIT:.0f} s; the stacks above show where it waited)"
        finally:
            with self.lock:
                self.running.discard(process)
        return process.returncode, stdout, stderr

    def stop(self) -> None:
        """Kill what still runs (the module stopped early) and wait for the pool's threads."""
        with self.lock:
            self.stopping = True
            for process in self.running:
                os.killpg(process.pid, signal.SIGKILL)
        self.pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="module")
def started(
    request: pytest.FixtureRequest, workdir: Path, env: dict[str, str]
) -> Iterator[dict[str, Future[tuple[int, str, str]]]]:
    """Start every selected snippet that runs to an end (served ones run in their test)."""
    selected = {
        item.callspec.params["where"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_snippet_runs_as_written" and hasattr(item, "callspec")
    }
    runs = Snippets(workdir, env)
    try:
        yield {
            where: runs.start(where, code) for where, code in snippets() if where in selected and ".serve(" not in code
        }
    finally:
        runs.stop()


def _script(workdir: Path, where: str, code: str) -> Path:
    script = workdir / f"snippet_{re.sub(r'[^a-z0-9]+', '_', where.lower())}.py"
    script.write_text(code, encoding="utf-8")
    return script


def test_there_are_snippets_to_run() -> None:
    pages = {where.split(":")[0] for where, _ in snippets()}
    assert {"README.md", "docs/flows-and-tasks.md", "docs/deployments.md"} <= pages


@pytest.mark.parametrize(("where", "code"), snippets(), ids=[where for where, _ in snippets()])
def test_snippet_runs_as_written(
    where: str, code: str, workdir: Path, env: dict[str, str], started: dict[str, Future[tuple[int, str, str]]]
) -> None:
    if ".serve(" in code:
        _serve_until_deployed(_script(workdir, where, code), code, workdir, env)
        return
    returncode, stdout, stderr = started[where].result()
    assert returncode == 0, f"{where} failed:\n{stdout[-2000:]}\n{stderr[-12000:]}"


SERVE_WAIT = 240.0
"""Seconds a served snippet gets to register its deployment (within the 300 s test timeout): it took 42 s in
one two-worker run and over 120 s in another, its Prefect client waiting out the busy test server's 503s."""


def _serve_until_deployed(script: Path, code: str, workdir: Path, env: dict[str, str]) -> None:
    name = re.search(r'name="([^"]+)"', code)
    assert name, "a served snippet names its deployment"
    process = subprocess.Popen(
        [sys.executable, script.name], cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + SERVE_WAIT
        while time.monotonic() < deadline:
            assert process.poll() is None, (process.stdout.read() if process.stdout else b"").decode()[-3000:]
            found = httpx.post(
                env["PREFECT_API_URL"] + "/deployments/filter",
                json={"deployments": {"name": {"any_": [name.group(1)]}}},
                timeout=10,
            ).json()
            if found:
                return
            time.sleep(1)
        pytest.fail(f"{script.name} did not register deployment {name.group(1)} in {SERVE_WAIT:.0f} s")
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
