"""SQLite persistence of the embedded backend: tokens, sessions, uploads, drafts and render jobs.

State outlives the server process, so a restart on the same data folder still knows every session and
render. Render worker processes write progress through their own connections (WAL mode).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["Store"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    token TEXT PRIMARY KEY, user_id TEXT NOT NULL, client_id TEXT NOT NULL,
    created_at REAL NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY, credits INTEGER NOT NULL, frozen INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY, task_id TEXT NOT NULL, user_id TEXT NOT NULL, language TEXT,
    created_at REAL NOT NULL, draft TEXT, generated_media TEXT NOT NULL DEFAULT '[]');
CREATE TABLE IF NOT EXISTS uploads (
    file_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, filename TEXT NOT NULL, path TEXT NOT NULL,
    file_type TEXT NOT NULL, info TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS generations (
    id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, message TEXT NOT NULL,
    image_sha256 TEXT, status TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS renders (
    render_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, user_id TEXT NOT NULL, status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0, error TEXT, draft TEXT NOT NULL, quality TEXT NOT NULL,
    output_path TEXT, created_at REAL NOT NULL, completed_at REAL);
CREATE TABLE IF NOT EXISTS claims (claim_token TEXT PRIMARY KEY, task_id TEXT, session_id TEXT, created_at REAL);
"""


def connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


class Store:
    """Small, explicit queries over one SQLite file; thread-safe through one lock."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._conn = connect(path)
        self._conn.executescript(SCHEMA)
        self._lock = threading.Lock()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def _one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(sql, args).fetchone()
        return dict(row) if row else None

    def _all(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._conn.execute(sql, args).fetchall()]

    # tokens and credits
    def add_token(self, token: str, user_id: str, client_id: str, ttl: float, credits: int) -> None:
        now = time.time()
        with self._tx() as c:
            c.execute("INSERT INTO tokens VALUES (?,?,?,?,?)", (token, user_id, client_id, now, now + ttl))
            c.execute("INSERT OR IGNORE INTO users (user_id, credits) VALUES (?,?)", (user_id, credits))

    def token(self, token: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM tokens WHERE token=? AND expires_at>?", token, time.time())

    def live_token_for_client(self, client_id: str) -> dict[str, Any] | None:
        return self._one(
            "SELECT * FROM tokens WHERE client_id=? AND expires_at>? ORDER BY created_at DESC", client_id, time.time()
        )

    def user_for_client(self, client_id: str) -> str | None:
        row = self._one("SELECT user_id FROM tokens WHERE client_id=? ORDER BY created_at LIMIT 1", client_id)
        return row["user_id"] if row else None

    def clients_since(self, since: float) -> int:
        row = self._one("SELECT COUNT(DISTINCT client_id) AS n FROM tokens WHERE created_at>?", since)
        return int(row["n"]) if row else 0

    def expire_tokens(self, user_id: str | None = None) -> None:
        with self._tx() as c:
            if user_id:
                c.execute("UPDATE tokens SET expires_at=0 WHERE user_id=?", (user_id,))
            else:
                c.execute("UPDATE tokens SET expires_at=0")

    def credits(self, user_id: str) -> dict[str, Any]:
        return self._one("SELECT credits, frozen FROM users WHERE user_id=?", user_id) or {"credits": 0, "frozen": 0}

    def charge(self, user_id: str, amount: int) -> bool:
        with self._tx() as c:
            cur = c.execute(
                "UPDATE users SET credits=credits-? WHERE user_id=? AND credits>=?", (amount, user_id, amount)
            )
            return cur.rowcount == 1

    def token_summary(self) -> dict[str, int]:
        """How many tokens were issued, to how many client ids and users (never the tokens themselves)."""
        row = self._one(
            "SELECT COUNT(*) AS issued, COUNT(DISTINCT client_id) AS clients, COUNT(DISTINCT user_id) AS users,"
            " SUM(expires_at > ?) AS live FROM tokens",
            time.time(),
        )
        return {k: int(row[k] or 0) for k in ("issued", "clients", "users", "live")} if row else {}

    def set_credits(self, user_id: str, credits: int) -> None:
        with self._tx() as c:
            c.execute("UPDATE users SET credits=? WHERE user_id=?", (credits, user_id))

    # sessions
    def add_session(self, session_id: str, task_id: str, user_id: str, language: str | None) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO sessions (session_id, task_id, user_id, language, created_at) VALUES (?,?,?,?,?)",
                (session_id, task_id, user_id, language, time.time()),
            )

    def session(self, session_id: str, user_id: str) -> dict[str, Any] | None:
        """A session only its owner can see: another token's session id reads as unknown (1002)."""
        row = self._one("SELECT * FROM sessions WHERE session_id=? AND user_id=?", session_id, user_id)
        if row:
            row["draft"] = json.loads(row["draft"]) if row["draft"] else None
            row["generated_media"] = json.loads(row["generated_media"])
        return row

    def session_by_id(self, session_id: str) -> dict[str, Any] | None:
        """A session whatever its owner: for the backend's own bookkeeping, never for a request."""
        row = self._one("SELECT * FROM sessions WHERE session_id=?", session_id)
        if row:
            row["draft"] = json.loads(row["draft"]) if row["draft"] else None
            row["generated_media"] = json.loads(row["generated_media"])
        return row

    def session_count(self) -> int:
        row = self._one("SELECT COUNT(*) AS n FROM sessions")
        return int(row["n"]) if row else 0

    def save_draft(self, session_id: str, draft: dict[str, Any], media: dict[str, Any] | None = None) -> None:
        with self._tx() as c:
            _save_draft(c, session_id, draft, media)

    def drop_session(self, session_id: str) -> None:
        with self._tx() as c:
            c.execute("DELETE FROM sessions WHERE session_id=?", (session_id,))

    # uploads
    def add_upload(
        self, file_id: str, session_id: str, filename: str, path: Path, file_type: str, info: dict[str, Any]
    ) -> None:
        with self._tx() as c:
            c.execute(
                "INSERT INTO uploads VALUES (?,?,?,?,?,?,?)",
                (file_id, session_id, filename, str(path), file_type, json.dumps(info), time.time()),
            )

    def uploads(self, session_id: str) -> list[dict[str, Any]]:
        rows = self._all("SELECT * FROM uploads WHERE session_id=? ORDER BY created_at", session_id)
        for row in rows:
            row["info"] = json.loads(row["info"])
        return rows

    def upload(self, file_id: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM uploads WHERE file_id=?", file_id)

    # generations
    def add_generation(self, session_id: str, message: str, image_sha256: str | None) -> int:
        with self._tx() as c:
            cur = c.execute(
                "INSERT INTO generations (session_id, message, image_sha256, status, created_at) VALUES (?,?,?,?,?)",
                (session_id, message, image_sha256, "running", time.time()),
            )
            return int(cur.lastrowid or 0)

    def complete_generation(
        self,
        generation_id: int,
        user_id: str,
        cost: int,
        session_id: str,
        draft: dict[str, Any],
        media: dict[str, Any] | None,
    ) -> bool:
        """Charge, save the draft and mark the generation done, all or nothing; False if out of credits."""
        with self._tx() as c:
            done = c.execute("SELECT status FROM generations WHERE id=?", (generation_id,)).fetchone()
            if done is not None and done[0] == "done":
                return True  # already charged (a resumed generation must not charge twice)
            cur = c.execute("UPDATE users SET credits=credits-? WHERE user_id=? AND credits>=?", (cost, user_id, cost))
            if cur.rowcount != 1:
                return False
            _save_draft(c, session_id, draft, media)
            c.execute("UPDATE generations SET status='done' WHERE id=?", (generation_id,))
            return True

    def generations_in(self, *statuses: str) -> list[dict[str, Any]]:
        marks = ",".join("?" * len(statuses))
        return self._all(f"SELECT * FROM generations WHERE status IN ({marks}) ORDER BY id", *statuses)

    def finish_generation(self, generation_id: int, status: str) -> None:
        with self._tx() as c:
            c.execute("UPDATE generations SET status=? WHERE id=?", (status, generation_id))

    def generation_counts(self) -> dict[str, int]:
        """Generations per (image, instruction): more than one means a clip was paid for twice."""
        rows = self._all(
            "SELECT image_sha256 || ':' || message AS k, COUNT(*) AS n FROM generations GROUP BY image_sha256, message"
        )
        return {r["k"]: int(r["n"]) for r in rows}

    # renders
    def add_render(self, render_id: str, session_id: str, user_id: str, draft: dict[str, Any], quality: str) -> bool:
        with self._tx() as c:
            cur = c.execute(
                "INSERT OR IGNORE INTO renders (render_id, session_id, user_id, status, progress, draft, quality,"
                " created_at) VALUES (?,?,?,?,?,?,?,?)",
                (render_id, session_id, user_id, "pending", 5, json.dumps(draft), quality, time.time()),
            )
            return cur.rowcount == 1

    def render(self, render_id: str) -> dict[str, Any] | None:
        row = self._one("SELECT * FROM renders WHERE render_id=?", render_id)
        if row:
            row["draft"] = json.loads(row["draft"])
        return row

    def renders_in(self, *statuses: str) -> list[dict[str, Any]]:
        marks = ",".join("?" * len(statuses))
        rows = self._all(f"SELECT * FROM renders WHERE status IN ({marks}) ORDER BY created_at", *statuses)
        for row in rows:
            row["draft"] = json.loads(row["draft"])
        return rows

    def same_render(self, job: dict[str, Any]) -> str | None:
        """The output of an earlier completed render of the same session, draft and quality, if any."""
        rows = self._all(
            "SELECT draft, output_path FROM renders WHERE session_id=? AND quality=? AND status='completed'"
            " AND render_id<>? ORDER BY completed_at DESC",
            job["session_id"],
            job["quality"],
            job["render_id"],
        )
        draft = json.loads(json.dumps(job["draft"]))
        return next((r["output_path"] for r in rows if json.loads(r["draft"]) == draft and r["output_path"]), None)

    def update_render(self, render_id: str, **fields: Any) -> None:
        update_render(self._conn, render_id, lock=self._lock, **fields)

    # claims
    def add_claim(self, claim_token: str, task_id: str, session_id: str) -> None:
        with self._tx() as c:
            c.execute("INSERT INTO claims VALUES (?,?,?,?)", (claim_token, task_id, session_id, time.time()))

    def claim(self, claim_token: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM claims WHERE claim_token=?", claim_token)


def _save_draft(c: sqlite3.Connection, session_id: str, draft: dict[str, Any], media: dict[str, Any] | None) -> None:
    c.execute("UPDATE sessions SET draft=? WHERE session_id=?", (json.dumps(draft), session_id))
    if media is not None:
        row = c.execute("SELECT generated_media FROM sessions WHERE session_id=?", (session_id,)).fetchone()
        items = [*json.loads(row[0]), media]
        c.execute("UPDATE sessions SET generated_media=? WHERE session_id=?", (json.dumps(items), session_id))


def update_render(conn: sqlite3.Connection, render_id: str, lock: threading.Lock | None = None, **fields: Any) -> None:
    """Update a render row; shared by the server and the worker processes (which have their own connection)."""
    allowed = {"status", "progress", "error", "output_path", "completed_at"}
    assert set(fields) <= allowed, set(fields) - allowed
    assignments = ", ".join(f"{k}=?" for k in fields)
    if lock:
        with lock:
            conn.execute(f"UPDATE renders SET {assignments} WHERE render_id=?", (*fields.values(), render_id))
    else:
        conn.execute(f"UPDATE renders SET {assignments} WHERE render_id=?", (*fields.values(), render_id))
