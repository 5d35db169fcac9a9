"""End to end on a real Prefect server: deploy from deployments/prefect.yaml, run the batch deployment
on a process worker against the embedded backend, and read the outcome back through Prefect's API."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import write_image

ROOT = Path(__file__).resolve().parents[1]
PREFECT = [sys.executable, "-m", "prefect"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A real `prefect server start` on 127.0.0.1 with its own SQLite database; stopped afterwards."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "NEMO_PROJECT_DIR": str(ROOT),
        "NEMO_LOCAL_DATA_DIR": str(home / "nemo-local"),
        "NEMO_HOME": str(home / "nemo"),
    }
    log = (home / "server.log").open("wb")
    server = subprocess.Popen(
        [*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=home,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, (home / "server.log").read_text()[-3000:]
            time.sleep(0.5)
        else:
            pytest.fail("prefect server did not become healthy in 120 s")
        yield env
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def prefect(env: dict[str, str], *args: str, timeout: float = 180) -> str:
    done = subprocess.run(
        [*PREFECT, "--no-prompt", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"prefect {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


def api(env: dict[str, str], method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx.request(method, env["PREFECT_API_URL"] + path, json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def test_batch_deployment_runs_on_a_worker(prefect_server: dict[str, str], tmp_path: Path) -> None:
    env = prefect_server
    images = [str(write_image(tmp_path / f"deployed-{i}.png", (480 + 40 * i, 360))) for i in range(2)]
    out_dir = tmp_path / "deployed-clips"
    prefect(env, "work-pool", "create", "nemo-process", "--type", "process")
    deployed = prefect(env, "deploy", "--all", "--prefect-file", "deployments/prefect.yaml")
    assert "batch-image-to-video/batch" in deployed and "convert-folder/nightly-folder" in deployed

    params = json.dumps({"images": images, "prompt": "1-second push-in", "out_dir": str(out_dir)})
    started = prefect(env, "deployment", "run", "batch-image-to-video/batch", "--params", params)
    match = re.search(r"UUID: ([0-9a-f-]{36})", started)
    assert match, started
    run_id = match.group(1)

    worker = subprocess.run(
        [*PREFECT, "worker", "start", "--pool", "nemo-process", "--run-once"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=420,
    )
    run = api(env, "GET", f"/flow_runs/{run_id}")
    assert run["state"]["type"] == "COMPLETED", f"{run['state']}\n{worker.stdout[-3000:]}\n{worker.stderr[-3000:]}"

    artifacts = api(env, "POST", "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run_id]}}})
    kinds = {a["type"] for a in artifacts}
    keys = [a["key"] or "" for a in artifacts]
    assert {"markdown", "table", "progress"} <= kinds, kinds  # Prefect stores link artifacts as markdown
    assert sum(k.startswith("nemo-clip-deployed") and not k.endswith("-link") for k in keys) == 2
    assert sum(k.startswith("nemo-clip-deployed") and k.endswith("-link") for k in keys) == 2
    table = next(a for a in artifacts if a["type"] == "table")
    rows = json.loads(table["data"]) if isinstance(table["data"], str) else table["data"]
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert len(list(out_dir.glob("*.mp4"))) == 2

    schedules = api(env, "POST", "/deployments/filter", {"deployments": {"name": {"any_": ["nightly-folder"]}}})
    assert schedules[0]["schedules"][0]["schedule"]["cron"] == "0 2 * * *"
