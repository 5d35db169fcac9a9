"""End to end on a real Prefect server: deploy everything in deployments/prefect.yaml, run every deployment
with its defaults, a batch with a missing image and two runs sharing a global concurrency limit of 1, all on
one process worker against the embedded backend, and read the outcomes back through Prefect's API.

Heavy: run it under the shared lock, `flock /tmp/nemo-heavy.lock python -m pytest tests/test_deployment.py`."""

from __future__ import annotations

import itertools
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
import tenacity

from tests.conftest import write_image

ROOT = Path(__file__).resolve().parents[1]
PREFECT = [sys.executable, "-m", "prefect"]

# A real server, a deploy and one worker pass over every deployment: minutes, not the suite's 300 s default.
pytestmark = pytest.mark.timeout(900)

PLUMBING = "1-second push-in, 720p"
"""The prompt of the runs that test Prefect's side (a failed input, a concurrency limit), not the clips: the
cheapest clip. The deployments' own defaults run as they are."""


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


def _busy(error: BaseException) -> bool:
    return isinstance(error, httpx.HTTPStatusError) and error.response.status_code in (429, 503)


@tenacity.retry(
    retry=tenacity.retry_if_exception(_busy),
    wait=tenacity.wait_exponential(multiplier=0.5, max=5),
    stop=tenacity.stop_after_attempt(6),
    reraise=True,
)
def api(env: dict[str, str], method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """One call to the server's REST API. A busy server (503: its SQLite database locked by the worker's
    writes) is asked again, as Prefect's own client does."""
    response = httpx.request(method, env["PREFECT_API_URL"] + path, json=body, timeout=30)
    response.raise_for_status()
    return response.json()


def run_deployment(env: dict[str, str], name: str, parameters: dict[str, Any]) -> str:
    """Create a flow run of a deployment; the server merges `parameters` over the deployment's defaults."""
    [deployment] = api(env, "POST", "/deployments/filter", {"deployments": {"name": {"any_": [name]}}})
    return str(api(env, "POST", f"/deployments/{deployment['id']}/create_flow_run", {"parameters": parameters})["id"])


@pytest.fixture(scope="module")
def runs(prefect_server: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Deploy everything in prefect.yaml, create every run the tests look at, and let one worker pass run them
    all at once (with a global concurrency limit of 1 on billed calls)."""
    env = prefect_server
    tmp = tmp_path_factory.mktemp("deployed")
    prefect(env, "work-pool", "create", "nemo-process", "--type", "process")
    deployed = prefect(env, "deploy", "--all", "--prefect-file", "deployments/prefect.yaml")
    api(env, "POST", "/v2/concurrency_limits/", {"name": "nemo-api", "limit": 1})  # as the CLI would, minus a process
    names = re.findall(r"^  - name: (\S+)$", (ROOT / "deployments" / "prefect.yaml").read_text(), re.M)
    defaults = {name: run_deployment(env, name, {"out_dir": str(tmp / name)}) for name in names}
    missing = run_deployment(  # its own prompt: no other run of this pass makes the same clip
        env,
        "batch",
        {
            "images": ["examples/product.jpg", "examples/missing.jpg"],
            "prompt": "1-second pan right, 720p",
            "out_dir": str(tmp / "missing"),
        },
    )
    pair = [
        run_deployment(
            env,
            "batch",
            {
                "images": [str(write_image(tmp / f"limited-{i}.png", (500 + 30 * i, 380)))],
                "prompt": PLUMBING,
                "out_dir": str(tmp / "pair"),
            },
        )
        for i in range(2)
    ]
    worker = subprocess.run(
        [*PREFECT, "worker", "start", "--pool", "nemo-process", "--run-once", "--limit", "8"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = f"{worker.stdout[-4000:]}\n{worker.stderr[-4000:]}"
    return {
        "env": env,
        "tmp": tmp,
        "deployed": deployed,
        "defaults": defaults,
        "missing": missing,
        "pair": pair,
        "log": log,
    }


def state_of(runs: dict[str, Any], run_id: str) -> dict[str, Any]:
    return dict(api(runs["env"], "GET", f"/flow_runs/{run_id}")["state"])


def test_every_deployment_completes_out_of_the_box(runs: dict[str, Any]) -> None:
    assert set(runs["defaults"]) == {"nightly-folder", "batch"}
    for name, run_id in runs["defaults"].items():
        state = state_of(runs, run_id)
        assert state["type"] == "COMPLETED", f"{name}: {state}\n{runs['log']}"
        clips = list((runs["tmp"] / name).glob("*.mp4"))
        assert clips and len(list((runs["tmp"] / name).glob("*.webp"))) == len(clips)
    schedules = api(runs["env"], "POST", "/deployments/filter", {"deployments": {"name": {"any_": ["nightly-folder"]}}})
    assert schedules[0]["schedules"][0]["schedule"]["cron"] == "0 2 * * *"


def test_a_batch_with_a_missing_image_ends_failed_with_its_table(runs: dict[str, Any]) -> None:
    run_id = runs["missing"]
    state = state_of(runs, run_id)
    assert state["type"] == "FAILED", f"{state}\n{runs['log']}"
    assert "1 failed" in state["message"] and "missing.jpg" in state["message"]
    artifacts = api(runs["env"], "POST", "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [run_id]}}})
    table = next(a for a in artifacts if a["type"] == "table")
    rows = json.loads(table["data"]) if isinstance(table["data"], str) else table["data"]
    assert [r["status"] for r in rows][1] == "failed" and rows[0]["status"] in ("ok", "cached")
    keys = [a["key"] or "" for a in artifacts]
    assert any(k.startswith("nemo-clip-product") for k in keys)


def test_billed_calls_of_two_runs_never_overlap_under_a_limit_of_one(runs: dict[str, Any]) -> None:
    intervals = []
    for run_id in runs["pair"]:
        assert state_of(runs, run_id)["type"] == "COMPLETED", runs["log"]
        task_runs = api(runs["env"], "POST", "/task_runs/filter", {"flow_runs": {"id": {"any_": [run_id]}}})
        billed = [t for t in task_runs if t["name"].split(" ")[0] in ("generate", "export")]
        assert len(billed) == 2, [t["name"] for t in task_runs]
        intervals += [(t["start_time"], t["end_time"], run_id) for t in billed]
    for (start_a, end_a, run_a), (start_b, end_b, run_b) in itertools.combinations(intervals, 2):
        apart = end_a <= start_b or end_b <= start_a
        assert run_a == run_b or apart, f"billed calls of two runs overlapped: {sorted(intervals)}"
