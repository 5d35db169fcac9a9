"""The ledger: records that survive the process, and its claim: one holder per clip key, within a process and
across processes, never blocking the loop."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from prefect_nemo.errors import NemoInputError
from prefect_nemo.ledger import ClipRecord, Ledger


async def test_one_holder_per_key_within_a_process(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "clips.db")
    inside = 0
    most = 0

    async def paid_step() -> None:
        nonlocal inside, most
        async with ledger.claim("k"):
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.05)
            inside -= 1

    await asyncio.gather(*(paid_step() for _ in range(5)))
    assert most == 1


async def test_different_keys_do_not_wait_for_each_other(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "clips.db")
    async with ledger.claim("a"):
        await asyncio.wait_for(_enter(ledger, "b"), timeout=2)


async def _enter(ledger: Ledger, key: str) -> None:
    async with ledger.claim(key):
        pass


async def test_waiting_does_not_block_the_event_loop(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "clips.db")
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    async with ledger.claim("k"):
        waiter = asyncio.create_task(_enter(ledger, "k"))
        clock = asyncio.create_task(ticker())
        await asyncio.sleep(0.3)
        assert not waiter.done() and ticks > 10
        clock.cancel()
    await asyncio.wait_for(waiter, timeout=2)


async def test_a_cancelled_waiter_leaves_the_key_free(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "clips.db")
    async with ledger.claim("k"):
        waiter = asyncio.create_task(_enter(ledger, "k"))
        await asyncio.sleep(0.1)
        waiter.cancel()
    await asyncio.sleep(0.1)
    await asyncio.wait_for(_enter(ledger, "k"), timeout=2)


CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from pathlib import Path
    from prefect_nemo.ledger import Ledger

    async def main() -> None:
        ledger = Ledger(Path(sys.argv[1]))
        async with ledger.claim("k"):
            print("held", flush=True)
            time.sleep(float(sys.argv[2]))

    asyncio.run(main())
    """
)


async def test_one_holder_per_key_across_processes(tmp_path: Path) -> None:
    db = tmp_path / "clips.db"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), "1.0"], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and (await asyncio.to_thread(child.stdout.readline)).strip() == "held"
        started = time.monotonic()
        await _enter(Ledger(db), "k")
        assert time.monotonic() - started > 0.5  # it waited for the other process to let go
    finally:
        child.wait(10)


def test_records_round_trip(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "clips.db")
    ledger.save(ClipRecord("k", session_id="s", generate_sent=True, texts=["hi"]))
    again = Ledger(tmp_path / "clips.db").get("k")
    assert (again.session_id, again.generate_sent, again.texts) == ("s", True, ["hi"])


def test_a_closed_ledger_lets_go_of_its_connection(tmp_path: Path) -> None:
    with Ledger(tmp_path / "clips.db") as ledger:
        ledger.save(ClipRecord("k", session_id="s"))
    with pytest.raises(sqlite3.ProgrammingError):  # closed: it holds no connection (and no SQLite lock) now
        ledger.get("k")
    with Ledger(tmp_path / "clips.db") as again:
        assert again.get("k").session_id == "s"


def test_a_damaged_ledger_is_named_with_what_to_do(tmp_path: Path) -> None:
    damaged = tmp_path / "clips.db"
    damaged.write_bytes(b"not a database, " * 512)
    with pytest.raises(NemoInputError) as caught:
        Ledger(damaged)
    assert caught.value.input == str(damaged)
    assert caught.value.reason.startswith("is not a readable clip ledger (file is not a database); move it aside")
