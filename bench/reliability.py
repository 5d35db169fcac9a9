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

Usage: `python bench/reliability.py [--only matrix|upload|load]` (about 10 minutes on the 2-core machine).
"""

from __future__ import annotations

import argparse
import asyncio
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

from prefect.testing.utilities import prefect_test_harness

from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.local.settings import LocalSettings
from tests.local.emulator.test_load import finished_render, run_load, status_burst
from tests.test_faults import CASES, IMAGES, Outcome, format_table, make_images, start_matrix
from tests.test_security import debug_logs, describe_items, issued_tokens, scan_everything

SECTIONS = ("matrix", "upload", "load")
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
