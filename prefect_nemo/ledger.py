"""The clip ledger: what has been done for each clip, written before each step that costs money.

Prefect's result cache writes a record only after a task succeeds, keyed by run and inputs; it cannot
promise that a paid instruction is sent once across crashes, nor check that a cached MP4 still exists.
So each clip gets a row keyed by its content (image sha256 + normalized request + backend URL),
updated *before* the generate instruction is sent and before an export is submitted. A re-run reads
the row: finished clips return at once, an in-flight render is resumed by id, nothing is sent twice.
Only small records are kept, never video bytes.

Paid steps are exclusive per clip key: `async with ledger.claim(key):` holds a file lock next to the
ledger (one lock file per key), so duplicates in one batch, two processes on one batch and Dask workers
on one machine make one generate per clip - the second holder finds the first one's clip cached.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from prefect_nemo.errors import NemoInputError
from prefect_nemo.models import ClipResult

__all__ = ["ClipRecord", "Ledger", "clip_key"]

MOVE_ASIDE = (
    "move it aside and run again (clips already delivered stay where they are; a clip whose render was under way"
    " is made, and paid for, again)"
)


def clip_key(image_sha256: str, request: dict[str, Any], api_url: str) -> str:
    """The cache key of a clip: never the path, never the token."""
    material = json.dumps({"image": image_sha256, "request": request, "backend": api_url.rstrip("/")}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()


@dataclass
class ClipRecord:
    key: str
    session_id: str | None = None
    task_id: str | None = None
    uploaded: bool = False
    baseline: str | None = None
    generate_sent: bool = False
    generated: bool = False
    draft: dict[str, Any] | None = None
    texts: list[str] = field(default_factory=list)
    render_id: str | None = None
    render_attempts: int = 0
    credits_used: int | None = None
    warnings: list[str] = field(default_factory=list)
    result: ClipResult | None = None
    updated_at: float = 0.0

    def to_json(self) -> str:
        data = {k: v for k, v in self.__dict__.items() if k not in ("key", "result")}
        data["result"] = self.result.model_dump(mode="json") if self.result else None
        return json.dumps(data)

    @classmethod
    def from_json(cls, key: str, text: str) -> ClipRecord:
        data = json.loads(text)
        result = data.pop("result", None)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(key=key, result=ClipResult.model_validate(result) if result else None, **known)


class Ledger:
    """Clip records in one SQLite file, safe across threads and processes (WAL).

    Close it when done (``with Ledger(path) as ledger:``): each open ledger holds an SQLite connection, and
    SQLite's locks belong to the process, so connections left for the garbage collector keep stale locks
    and memory maps alive as long as it runs. Never read its files with a plain ``open()`` in a process that
    has one open: closing any descriptor of the file drops every SQLite lock this process holds on it
    (sqlite.org/howtocorrupt.html, 2.2), and another process may then remove the WAL it is still writing.
    """

    def __init__(self, path: Path, *, expire_after: float | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.expire_after = expire_after
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        try:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS clips (key TEXT PRIMARY KEY, record TEXT NOT NULL, updated_at REAL)"
            )
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            if exc.sqlite_errorname not in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
                raise
            raise NemoInputError(str(path), f"is not a readable clip ledger ({exc}); {MOVE_ASIDE}") from None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def get(self, key: str) -> ClipRecord:
        with self._lock:
            row = self._conn.execute("SELECT record, updated_at FROM clips WHERE key=?", (key,)).fetchone()
        if row is None:
            return ClipRecord(key)
        record = ClipRecord.from_json(key, row[0])
        if self.expire_after is not None and record.result and time.time() - row[1] > self.expire_after:
            record.result = None  # expired: render again, but keep the session for reuse
        return record

    def save(self, record: ClipRecord) -> None:
        record.updated_at = time.time()
        with self._lock:
            self._conn.execute(
                "INSERT INTO clips (key, record, updated_at) VALUES (?,?,?) "
                "ON CONFLICT(key) DO UPDATE SET record=excluded.record, updated_at=excluded.updated_at",
                (record.key, record.to_json(), record.updated_at),
            )

    def forget(self, key: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM clips WHERE key=?", (key,))

    def results(self, limit: int = 50) -> list[ClipResult]:
        """Most recent finished clips, newest first (for `prefect-nemo sessions`)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT key, record FROM clips ORDER BY updated_at DESC LIMIT ?", (limit,)
            ).fetchall()
        return [r for key, text in rows if (r := ClipRecord.from_json(key, text).result) is not None]

    @asynccontextmanager
    async def claim(self, key: str, *, poll: float = 0.05) -> AsyncIterator[None]:
        """Hold the clip key exclusively - against other tasks of this process and other processes.

        The lock is tried without blocking, in a thread, and waited for with `asyncio.sleep`, so a waiting
        clip neither blocks the event loop nor leaves a thread behind that could take the lock after a
        cancellation.
        """
        lock = FileLock(self.path.parent / "locks" / f"{key}.lock", thread_local=False)
        await asyncio.to_thread((self.path.parent / "locks").mkdir, exist_ok=True)
        while not await _try_acquire(lock):
            await asyncio.sleep(poll)
        try:
            yield
        finally:
            await asyncio.to_thread(lock.release)


async def _try_acquire(lock: FileLock) -> bool:
    attempt = asyncio.ensure_future(asyncio.to_thread(_acquire_now, lock))
    try:
        return await asyncio.shield(attempt)
    except asyncio.CancelledError:
        # Cancelled while the thread runs: if it took the lock after all, give it back.
        def give_back(done: asyncio.Future[bool]) -> None:
            if not done.cancelled() and done.exception() is None and done.result():
                lock.release()

        attempt.add_done_callback(give_back)
        raise


def _acquire_now(lock: FileLock) -> bool:
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    return True
