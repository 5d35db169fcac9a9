"""Every ```python block of README.md and docs/*.md runs as written, as a plain script.

Each snippet runs in a fresh Python process, in a working folder holding the images the snippets name
(converted copies of examples/), against the embedded backend and the session's Prefect test server. A
snippet that serves a flow (`.serve(...)`) runs until its deployment is registered, then is stopped.
Runs under the heavy lock: `flock /tmp/nemo-heavy.lock python -m pytest tests/test_docs.py -x -q`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
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

    return {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PYTHONPATH": str(ROOT)}


def test_there_are_snippets_to_run() -> None:
    pages = {where.split(":")[0] for where, _ in snippets()}
    assert {"README.md", "docs/flows-and-tasks.md", "docs/deployments.md"} <= pages


@pytest.mark.parametrize(("where", "code"), snippets(), ids=[where for where, _ in snippets()])
def test_snippet_runs_as_written(where: str, code: str, workdir: Path, env: dict[str, str]) -> None:
    script = workdir / f"snippet_{re.sub(r'[^a-z0-9]+', '_', where.lower())}.py"
    script.write_text(code, encoding="utf-8")
    if ".serve(" in code:
        _serve_until_deployed(script, code, workdir, env)
        return
    done = subprocess.run(
        [sys.executable, script.name], cwd=workdir, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{where} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"


def _serve_until_deployed(script: Path, code: str, workdir: Path, env: dict[str, str]) -> None:
    name = re.search(r'name="([^"]+)"', code)
    assert name, "a served snippet names its deployment"
    process = subprocess.Popen(
        [sys.executable, script.name], cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
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
        pytest.fail(f"{script.name} did not register deployment {name.group(1)} in 120 s")
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
