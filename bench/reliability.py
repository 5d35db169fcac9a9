"""Reliability benchmark (issue 5): the fault matrix with its totals, the client's memory while uploading
200 MB, and the embedded backend under 50 concurrent sessions.

1. Fault matrix: the same cases as `tests/test_faults.py` (a batch of 10 images per fault, then all mixed),
   run with every log at DEBUG (httpx and httpcore included) captured; afterwards every log line, result,
   error, ledger and cache file, output, Prefect record and server log is scanned for any token the
   servers issued.
2. Upload memory: peak RSS growth of a client process uploading a 200 MB file, streamed (ours) and read
   into memory first (the peer: what SDKs that buffer uploads do), measured in the same run; and the
   server's own peak RSS growth while receiving it.
3. Load: 50 concurrent sessions that each upload, stream an instruction and poll their render's status to
   the end; then 50 pollers on one render's status for 5 s.
4. Exclusive paid steps (issue 10): a batch whose inputs repeat (same bytes, same prompt), two processes
   running one batch at once, and a batch on Dask process workers - each must make exactly one generate
   per distinct clip (0 duplicate generates) and deliver every input (0 lost clips).

Usage: `python bench/reliability.py [--only matrix|upload|load|exclusive]` (about 12 minutes on the
2-core machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tests.conftest as isolated

os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"

from prefect.settings import PREFECT_API_URL
from prefect.testing.utilities import prefect_test_harness

from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.local.settings import LocalSettings
from tests.conftest import write_image
from tests.local.emulator.test_load import finished_render, run_load, status_burst
from tests.test_faults import CASES, IMAGES, Outcome, format_table, make_images, start_matrix
from tests.test_security import debug_logs, describe_items, issued_tokens, scan_everything

SECTIONS = ("matrix", "upload", "load", "exclusive")
DISTINCT = 4
UPLOAD_BYTES = 200 * 1000 * 1000
RSS_LIMIT = 64 * 1024 * 1024

CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path

    def peak() -> int:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmHWM")

    async def main(url: str, path: str, mode: str) -> None:
        from prefect_nemo.client import NemoClient
        from prefect_nemo.identity import TokenStore

        store = TokenStore(Path(path).parent / f"rss-{mode}.json")
        async with NemoClient(url, token_store=store, client_id=f"rss-{mode}", timeout=300) as client:
            session = await client.create_session()
            before = peak()
            if mode == "streamed":
                await client.upload_file(session.session_id, Path(path))
            else:  # the peer: the whole file in memory first, as SDKs that buffer uploads do
                data = Path(path).read_bytes()
                files = [("files", ("movie.mp4", data, "video/mp4"))]
                await client._call("POST", f"/api/upload-video/nemo_agent/me/{session.session_id}", files=files)
            print(peak() - before)

    asyncio.run(main(*sys.argv[1:]))
    """
)


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def mb(n: float) -> str:
    return f"{n / 2**20:.1f} MB"


async def fault_matrix(work: Path) -> tuple[list[Outcome], int]:
    with debug_logs() as logs:
        running = start_matrix(CASES, make_images(work / "images"), work)
        outcomes = [await task for task in running.values()]
    tokens: set[str] = set()
    for outcome in outcomes:
        tokens |= issued_tokens(outcome.server_dir)
    extra = [pair for o in outcomes for pair in describe_items(o.items)]
    extra += [(f"problem in {o.case.name}", p) for o in outcomes for p in o.problems]
    servers = [o.server_dir for o in outcomes]
    outputs = [o.out_dir for o in outcomes if o.out_dir.exists()]
    found = await scan_everything(tokens, logs=logs, extra=extra, servers=servers, outputs=outputs)
    print(f"  scanned {len(logs.lines)} DEBUG log lines and every output for {len(tokens)} issued tokens")
    for line in found[:10]:
        print("  LEAK:", line)
    return outcomes, len(found)


def upload_memory(work: Path) -> tuple[int, int, int]:
    work.mkdir(parents=True, exist_ok=True)
    big = work / "movie.mp4"
    with big.open("wb") as handle:
        handle.truncate(UPLOAD_BYTES)
    script = work / "upload_child.py"
    script.write_text(CHILD)
    server = LocalServer(LocalSettings(data_dir=work / "upload-server"))
    try:
        growth: dict[str, int] = {}
        server_growth = 0
        for mode in ("streamed", "buffered"):
            before = _peak_rss(server.process.pid)
            done = subprocess.run(
                [sys.executable, str(script), server.url, str(big), mode], capture_output=True, text=True, check=True
            )
            growth[mode] = int(done.stdout.strip().splitlines()[-1])
            if mode == "streamed":
                server_growth = _peak_rss(server.process.pid) - before
    finally:
        server.stop()
    return growth["streamed"], growth["buffered"], server_growth


async def load(work: Path) -> bool:
    work.mkdir(parents=True, exist_ok=True)
    server = LocalServer(LocalSettings(data_dir=work / "load-server"))
    try:
        known = await finished_render(server.url, work)
        mixed = await run_load(server.url, work / "load", sessions=50, generating=50)
        print("  50 sessions, each: create, upload, stream a generation, submit, poll its render to the end")
        print("   ", mixed.summary())
        burst = await status_burst(server.url, known, work / "tokens.json", clients=50, seconds=5.0)
        print("  50 pollers on one render's status for 5 s")
        print("   ", burst.summary())
    finally:
        server.stop()
    trouble = mixed.errors + mixed.stalled + burst.errors + burst.stalled
    if trouble:
        print("  PROBLEMS:", *trouble[:10], sep="\n    ")
    return not trouble and mixed.clips == 50


BATCH = textwrap.dedent(
    """
    import asyncio, json, sys
    from prefect_nemo.credentials import NemoCredentials
    from prefect_nemo.flows import batch_image_to_video

    async def main() -> None:
        url, out, *images = sys.argv[1:]
        items = await batch_image_to_video(images, "1-second push-in", max_concurrency=4, out_dir=out,
                                           credentials=NemoCredentials(api_url=url, client_id="exclusive"))
        print(json.dumps([i.status for i in items]))

    asyncio.run(main())
    """
)


def _inputs(folder: Path) -> list[Path]:
    """DISTINCT images, each also present under a second name (same bytes): 2 x DISTINCT inputs."""
    originals = [write_image(folder / f"item-{i}.png", (360 + 24 * i, 280)) for i in range(DISTINCT)]
    copies = []
    for original in originals:
        copy = folder / f"copy-of-{original.name}"
        shutil.copyfile(original, copy)
        copies.append(copy)
    return [p for pair in zip(originals, copies, strict=True) for p in pair]


def _row(name: str, server: LocalServer, statuses: list[str]) -> tuple[str, int, int, int, int]:
    """(name, inputs, delivered, duplicate generates, lost clips), from the backend's own counters."""
    import httpx

    metrics = httpx.get(f"{server.url}/local/metrics", timeout=10).json()
    generates = metrics["requests"].get("POST /run_sse", 0)
    delivered = sum(s in ("ok", "cached") for s in statuses)
    return name, len(statuses), delivered, generates - DISTINCT, len(statuses) - delivered


async def _one_batch(work: Path, server: LocalServer, images: list[Path]) -> list[str]:
    from prefect_nemo.credentials import NemoCredentials
    from prefect_nemo.flows import batch_image_to_video

    credentials = NemoCredentials(api_url=server.url, client_id="exclusive")
    items = await batch_image_to_video(images, "1-second push-in", max_concurrency=4, out_dir=work / "out",
                                       credentials=credentials)  # fmt: skip
    return [i.status for i in items]


async def _two_processes(work: Path, server: LocalServer, images: list[Path]) -> list[str]:
    script = work / "batch.py"
    script.write_text(BATCH)
    env = {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PREFECT_LOGGING_LEVEL": "WARNING"}
    args = [sys.executable, str(script), server.url, str(work / "out"), *map(str, images)]
    runs = [subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) for _ in range(2)]
    statuses: list[str] = []
    for run in runs:
        out, _ = await asyncio.to_thread(run.communicate, timeout=600)
        statuses += json.loads(out.decode().strip().splitlines()[-1]) if run.returncode == 0 else ["failed"] * 8
    return statuses


async def _dask(work: Path, server: LocalServer, images: list[Path]) -> list[str]:
    from prefect_dask import DaskTaskRunner

    from prefect_nemo.credentials import NemoCredentials
    from prefect_nemo.flows import batch_image_to_video

    runner = DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 2, "processes": True})
    flow = batch_image_to_video.with_options(task_runner=runner)
    credentials = NemoCredentials(api_url=server.url, client_id="exclusive")
    items = await flow(images, "1-second push-in", max_concurrency=4, out_dir=work / "out", credentials=credentials)
    return [i.status for i in items]


async def exclusive(work: Path) -> bool:
    rows = []
    for name, run in (
        ("duplicate inputs in one batch", _one_batch),
        ("two processes on one batch", _two_processes),
        ("Dask process workers", _dask),
    ):
        folder = work / name.replace(" ", "-")
        folder.mkdir(parents=True)
        os.environ["NEMO_CACHE_DIR"] = str(folder / "cache")  # a fresh ledger per row (inherited by children)
        server = LocalServer(LocalSettings(data_dir=folder / "server"))
        try:
            rows.append(_row(name, server, await run(folder, server, _inputs(folder / "images"))))
        finally:
            server.stop()
    print(f"  {'case':<32} {'inputs':>6} {'delivered':>9} {'duplicate generates':>20} {'lost clips':>10}")
    for name, inputs, delivered, duplicates, lost in rows:
        print(f"  {name:<32} {inputs:>6} {delivered:>9} {duplicates:>20} {lost:>10}")
    return all(duplicates == 0 and lost == 0 for *_, duplicates, lost in rows)


async def main(sections: set[str]) -> int:
    work = Path(tempfile.mkdtemp(prefix="nemo-reliability-"))
    started = time.monotonic()
    ok = True
    try:
        if "matrix" in sections:
            print("== 1. Fault matrix (batch_image_to_video, 10 images per case, 2 cases at a time) ==")
            with prefect_test_harness(server_startup_timeout=120):
                outcomes, secrets_found = await fault_matrix(work / "matrix")
            print(format_table(outcomes))
            inputs = len(outcomes) * IMAGES
            delivered = sum(o.ok for o in outcomes)
            errors = sum(o.errors for o in outcomes)
            duplicates = sum(o.duplicates for o in outcomes)
            lost = sum(o.lost for o in outcomes)
            problems = [f"{o.case.name}: {p}" for o in outcomes for p in o.problems]
            print(
                f"totals: inputs {inputs}, clips delivered {delivered}, clear errors {errors}, "
                f"duplicate generates {duplicates} (must be 0), lost clips {lost} (must be 0), "
                f"secrets found in outputs {secrets_found} (must be 0)"
            )
            for problem in problems:
                print("  PROBLEM:", problem.splitlines()[0])
            ok = ok and not problems and not duplicates and not lost and not secrets_found

        if "upload" in sections:
            print("\n== 2. Client memory while uploading a 200 MB file ==")
            streamed, buffered, server_growth = upload_memory(work / "upload")
            print(f"  client peak RSS growth, streamed from disk (ours): {mb(streamed)} (limit {mb(RSS_LIMIT)})")
            print(f"  client peak RSS growth, read into memory first (peer): {mb(buffered)}")
            print(f"  streamed/peer ratio: {streamed / buffered:.4f}")
            print(f"  server peak RSS growth while receiving it: {mb(server_growth)}")
            ok = ok and streamed <= RSS_LIMIT

        if "load" in sections:
            print("\n== 3. Load on the embedded backend ==")
            ok = await load(work / "load") and ok

        if "exclusive" in sections:
            print("\n== 4. Exclusive paid steps: one generate per distinct clip (each row: 4 images, each twice) ==")
            with prefect_test_harness(server_startup_timeout=120):
                ok = await exclusive(work / "exclusive") and ok

        print(f"\nverdict: {'PASS' if ok else 'FAIL'} in {time.monotonic() - started:.0f} s")
        return 0 if ok else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(isolated._ROOT, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only this section (repeatable)")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(set(args.only or SECTIONS))))
