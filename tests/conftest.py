"""Test environment: everything under one temp folder, no telemetry, real servers on 127.0.0.1 only."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

_ROOT = Path(tempfile.mkdtemp(prefix="prefect-nemo-tests-"))
os.environ.update(
    {
        "PREFECT_HOME": str(_ROOT / "prefect"),
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
        "PREFECT_API_SERVICES_TRIGGERS_ENABLED": "false",
        # A test server's SQLite answers 503 while busy; Prefect's client retries 5 times (2 s to 32 s apart), which
        # a busy two-worker run outlasted once (the fault matrix's create_flow_run): 8 rides out 8 minutes.
        "PREFECT_CLIENT_MAX_RETRIES": "8",
        "NEMO_HOME": str(_ROOT / "nemo"),
        "XDG_CONFIG_HOME": str(_ROOT / "config"),
        "NEMO_OUTPUT_DIR": str(_ROOT / "clips"),
        "NEMO_LOCAL_DATA_DIR": str(_ROOT / "local"),
        "NEMO_LOCAL_QUALITY": "draft",
        "NEMO_LOCAL_HEARTBEAT_INTERVAL": "0.2",
        # One render worker per backend: the suite's two xdist workers already fill both cores, and a second
        # spawned worker per backend only adds its start (tests that need two set render_workers themselves).
        "NEMO_LOCAL_RENDER_WORKERS": "1",
        "NEMO_LOCAL_TOKENS_PER_IP": "100000",
    }
)
for name in ("PREFECT_API_URL", "PREFECT_API_KEY", "NEMO_API_URL", "NEMO_TOKEN", "NEMO_CLIENT_ID"):
    os.environ.pop(name, None)

import numpy as np  # noqa: E402
import psutil  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from prefect_nemo.client import NemoClient  # noqa: E402
from prefect_nemo.identity import TokenStore  # noqa: E402
from prefect_nemo.local.launcher import LocalServer  # noqa: E402
from prefect_nemo.local.settings import LocalSettings  # noqa: E402


def _session_mark() -> str:
    """This run's mark: a pytest-xdist worker keeps its controller's (set here before the workers start, so it
    is in their environment from exec on), any other pytest makes its own (a pytest that a test starts too)."""
    inherited = os.environ.get("NEMO_TEST_SESSION", "")
    if os.environ.get("PYTEST_XDIST_WORKER") and inherited.split("-")[0] == str(os.getppid()):
        return inherited
    return f"{os.getpid()}-{time.time_ns()}"


_SESSION_MARK = _session_mark()
os.environ["NEMO_TEST_SESSION"] = _SESSION_MARK  # inherited by every process the tests start, orphans included
_IS_WORKER = _SESSION_MARK.split("-")[0] != str(os.getpid())
"""A pytest-xdist worker: its controller checks for leftovers once every worker is gone."""
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    # Started in the background (`cmd &` ignores SIGINT, and children inherit that): the Ctrl-C tests need
    # the CLI processes they start to get SIGINT's default action, so this process takes it back.
    signal.signal(signal.SIGINT, signal.default_int_handler)
LEFTOVER_GRACE = float(os.environ.get("NEMO_TEST_LEFTOVER_GRACE", "10"))
"""Seconds a process the tests started may take to exit after the session (tests/test_leftovers.py sets less)."""


def _leftovers() -> list[psutil.Process]:
    """Processes started during this session (they carry its mark) that are still running."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.pid != os.getpid() and process.status() != psutil.STATUS_ZOMBIE:
                if process.environ().get("NEMO_TEST_SESSION") == _SESSION_MARK:
                    found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


@pytest.hookimpl(trylast=True)  # after pytest-xdist's own, which waits for its workers to exit
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a process the tests started outlives them (after a grace period); kill it."""
    from multiprocessing import resource_tracker

    from prefect_nemo.local.launcher import stop_started

    stop_started()  # backends that `api_url="local"` started in this process (otherwise stopped at exit)
    resource_tracker._resource_tracker._stop()  # multiprocessing's helper of this process (Dask started it)
    shutil.rmtree(_ROOT, ignore_errors=True)
    if _IS_WORKER:
        return
    deadline = time.monotonic() + LEFTOVER_GRACE
    while (alive := _leftovers()) and time.monotonic() < deadline:
        time.sleep(0.2)
    if not alive:
        return
    described = []
    for process in alive:
        try:
            described.append(f"{process.pid} {' '.join(process.cmdline())[:160]}")
            process.kill()
        except psutil.Error:
            continue
    session.config.get_terminal_writer().line(
        "\nprocesses started by the tests were still alive at the end (killed):\n  " + "\n  ".join(described), red=True
    )
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


START_FIRST = (
    "tests/test_faults.py",
    "tests/test_deployment.py",
    "tests/test_docs.py",
    "tests/test_cli.py",
    "tests/test_flows.py",
    "tests/test_cli_corpus.py",
    "tests/test_restarts.py",
    "tests/test_client.py",
    "tests/test_media.py",
    "tests/test_timelines.py",
    "tests/test_security.py",
    "tests/test_batch_flows.py",
    "tests/test_exclusive.py",
    "tests/local/emulator/test_retention.py",
    "tests/test_pipeline.py",
    "tests/local/emulator/test_load.py",
    "tests/test_leftovers.py",
    "tests/test_storage.py",
    "tests/local/test_launcher.py",
)
"""The longest modules, longest first (4 min down to 12 s on two workers, as measured in a full run), handed
out first under pytest-xdist so that the last to start are short and the workers end together (a 15-20 s
module handed out last kept one worker busy alone)."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`--dist loadfile --no-loadscope-reorder`), hand out the longest modules first;
    a plain run keeps pytest's order."""
    if not _IS_WORKER:
        return
    first = {name: rank for rank, name in enumerate(START_FIRST)}
    items.sort(key=lambda item: first.get(item.nodeid.split("::")[0], len(first)))


@pytest.fixture(scope="session")
def test_root() -> Path:
    return _ROOT


@pytest.fixture(scope="session")
def harness() -> Iterator[None]:
    """Prefect's test API server, started once for the whole session (it takes ~10 s)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    """The shared embedded backend (also what `api_url="local"` finds through its server file)."""
    server = LocalServer(LocalSettings())
    yield server
    server.stop()


ServerFactory = Callable[..., LocalServer]


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start extra backends with their own settings (dialect, envelope, faults); stopped after the test."""
    started: list[LocalServer] = []

    def start(**overrides: Any) -> LocalServer:
        settings = LocalSettings(data_dir=tmp_path / f"server-{len(started)}", **overrides)
        server = LocalServer(settings)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
async def client(local_server: LocalServer, tmp_path: Path) -> AsyncIterator[NemoClient]:
    async with NemoClient(local_server.url, token_store=TokenStore(tmp_path / "tokens.json")) as c:
        yield c


def write_image(path: Path, size: tuple[int, int] = (640, 480), mode: str = "RGB", **save: Any) -> Path:
    """A textured test image: gradients plus a bright square, so motion and focus have something to find."""
    width, height = size
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([(x * 255 // max(1, width - 1)), (y * 255 // max(1, height - 1)), ((x + y) % 64) * 4], axis=-1)
    pixels = base.astype(np.uint8)
    pixels[height // 3 : height // 2, width // 2 : width * 2 // 3] = 255
    image = Image.fromarray(pixels, "RGB")
    if mode != "RGB":
        image = image.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **save)
    return path


SHORT = "1-second push-in, 720p"
"""What the flow plumbing tests ask for: a small render (the default 1080p is checked once, on the first clip)."""


async def artifact_keys(prefix: str) -> list[str]:
    """The keys of the Prefect artifacts whose key is like `prefix` (SQL `LIKE`: `%` matches anything)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async with get_client() as client:
        found = await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_=prefix)))
    return [a.key for a in found if a.key]


@pytest.fixture
def image(tmp_path: Path) -> Path:
    return write_image(tmp_path / "product.png")


@pytest.fixture(scope="session")
def s3() -> Iterator[dict[str, str]]:
    """A real S3-compatible server (moto) on 127.0.0.1 with one bucket; s3fs and boto3 find it via AWS_* env."""
    import socket

    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_S3": endpoint,
        }
    )
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="nemo-clips")
    yield {"endpoint": endpoint, "bucket": "nemo-clips"}
    server.stop()
