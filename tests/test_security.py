"""Nothing leaked, no one let in: the token stays a secret everywhere a run leaves traces, and the embedded
backend keeps to loopback, authenticates every private endpoint, isolates sessions per token, names
uploads itself and caps what it accepts."""

from __future__ import annotations

import json
import logging
import os
import secrets
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psutil  # type: ignore[import-untyped]
import pytest
from fastapi.routing import APIRoute
from prefect.client.orchestration import get_client
from pydantic import SecretStr

from prefect_nemo import errors
from prefect_nemo.artifacts import BatchItem
from prefect_nemo.client import NemoClient
from prefect_nemo.credentials import NemoCredentials
from prefect_nemo.flows import batch_image_to_video
from prefect_nemo.identity import TokenStore
from prefect_nemo.ledger import ClipRecord, Ledger
from prefect_nemo.local.emulator.server import create_app, serve
from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.local.settings import LocalSettings
from prefect_nemo.pipeline import _safe_stem
from prefect_nemo.polling import Backoff, Deadline
from prefect_nemo.settings import NemoSettings
from tests.conftest import ServerFactory, write_image

FAST = Backoff(initial=0.2, factor=1.5, cap=1.0)
PUBLIC = {
    ("POST", "/api/auth/anonymous-token"),
    ("GET", "/files/{name}"),
    ("GET", "/render-result/{render_id}.mp4"),
    ("GET", "/local/health"),
    ("GET", "/local/metrics"),
}
"""Endpoints that need no token (each holds nothing without its own proof, or serves loopback diagnostics)."""
PRIVATE = {
    ("POST", "/api/tasks/me/with-session/nemo_agent"),
    ("POST", "/api/auth/claim-token"),
    ("GET", "/api/credits/balance/simple"),
    ("GET", "/api/state/nemo_agent/me/{session_id}/latest"),
    ("POST", "/api/upload-video/nemo_agent/me/{session_id}"),
    ("POST", "/run_sse"),
    ("POST", "/api/render/proxy/lambda"),
    ("GET", "/api/render/proxy/lambda/{render_id}"),
    ("GET", "/api/render/proxy/{render_id}/download"),
}
"""Every other endpoint: each must demand a valid Bearer token."""


# -- helpers: everything a run leaves behind, and a scan of it --------------------------------------------


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))  # includes the formatted traceback, if any


@contextmanager
def debug_logs() -> Iterator[Captured]:
    """Every log line for the duration: httpx, httpcore and prefect_nemo at DEBUG (into this handler only,
    so consoles are not flooded), and whatever reaches the root and Prefect's loggers at their own levels."""
    handler = Captured()
    chatty = [logging.getLogger(n) for n in ("httpx", "httpcore", "prefect_nemo")]
    saved = [(lg.level, lg.propagate) for lg in chatty]
    listening = [logging.getLogger(), logging.getLogger("prefect")]
    for lg in chatty:
        lg.setLevel(logging.DEBUG)
        lg.propagate = False
    for lg in [*chatty, *listening]:
        lg.addHandler(handler)
    try:
        yield handler
    finally:
        for lg, (level, propagate) in zip(chatty, saved, strict=True):
            lg.setLevel(level)
            lg.propagate = propagate
        for lg in [*chatty, *listening]:
            lg.removeHandler(handler)


def issued_tokens(server_dir: Path) -> set[str]:
    with sqlite3.connect(server_dir / "state.db") as db:
        return {row[0] for row in db.execute("SELECT token FROM tokens")}


SQLITE_FILES = (".db", ".db-wal", ".db-shm", ".db-journal")


def raw_bytes(path: Path) -> bytes:
    """A file's bytes; an SQLite file's are read by a child process. Closing a descriptor of an SQLite file
    drops every lock this process holds on it, ledgers still open here included, and another process may
    then delete the WAL they write to (see `Ledger`): the ledger would read as "not a database" afterwards."""
    if path.name.endswith(SQLITE_FILES):
        return subprocess.run(["cat", str(path)], capture_output=True, check=False).stdout  # gone: nothing
    return path.read_bytes()


def file_texts(*roots: Path, skip: Iterable[Path] = ()) -> Iterator[tuple[str, str]]:
    """(where, content) of every file under the roots, read as bytes decoded leniently, plus its name."""
    skipped = {p.resolve() for p in skip}
    for root in roots:
        paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in paths:
            if path.resolve() in skipped:
                continue
            yield f"name of {path}", path.name
            yield str(path), raw_bytes(path).decode("latin-1")


async def prefect_texts() -> AsyncIterator[tuple[str, str]]:
    """Everything Prefect's API holds about the runs: flow and task runs (with parameters), logs, artifacts."""
    async with get_client() as client:
        readers: list[tuple[str, Any]] = [
            ("flow run", client.read_flow_runs),
            ("task run", client.read_task_runs),
            ("prefect log", client.read_logs),
            ("artifact", client.read_artifacts),
        ]
        for kind, read in readers:
            offset = 0
            while True:
                page = await read(limit=200, offset=offset)
                for record in page:
                    yield (
                        f"{kind} {getattr(record, 'name', None) or getattr(record, 'key', '')}",
                        record.model_dump_json(),
                    )
                if len(page) < 200:
                    break
                offset += 200


def find_secrets(secrets_: set[str], texts: Iterable[tuple[str, str]]) -> list[str]:
    found = []
    for where, text in texts:
        for secret in secrets_:
            if secret and secret in text:
                found.append(f"{where} holds a token ({secret[:12]}...)")
    return found


async def scan_everything(
    secrets_: set[str],
    *,
    logs: Captured,
    extra: Iterable[tuple[str, str]],
    servers: Iterable[Path],
    outputs: Iterable[Path],
) -> list[str]:
    """Where a token must never be: logs (DEBUG, httpx/httpcore included), results, errors, ledger and
    cache, output folders, Prefect's records, the servers' own logs (not their token database: a server
    must know the tokens it issued)."""
    texts: list[tuple[str, str]] = [("log", line) for line in logs.lines]
    texts += list(extra)
    settings = NemoSettings()
    texts += list(file_texts(settings.cache_dir, *outputs))
    for server_dir in servers:
        texts += list(file_texts(server_dir / "server.log"))
    texts += [item async for item in prefect_texts()]
    return find_secrets(secrets_, texts)


def describe_items(items: list[BatchItem]) -> list[tuple[str, str]]:
    return [
        (f"item {i}", f"{item!r} {item.error} {item.result.model_dump_json() if item.result else ''}")
        for i, item in enumerate(items)
    ]


# -- the token ----------------------------------------------------------------------------------------------


async def test_the_token_never_leaks(harness: None, make_server: ServerFactory, tmp_path: Path) -> None:
    # Server 1 expires every token after each generation and throws 429s, 5xx and cut downloads, so the
    # renewal, retry and error paths all run; server 2 is used with an explicit token passed as a parameter.
    faulty = make_server(faults="token-expiry=1,429=0.1,5xx=0.1,download-cut=0.3", seed=5)
    plain = make_server()
    images = [write_image(tmp_path / f"secret-{i}.png", (420 + 8 * i, 300)) for i in range(2)]
    broken = tmp_path / "broken.png"
    broken.write_text("not an image")
    async with NemoClient(plain.url, token_store=TokenStore(tmp_path / "t.json"), client_id="explicit") as c:
        await c.acquire_token()
        explicit = c._token
    assert isinstance(explicit, SecretStr)
    bogus = SecretStr("nmv_usr_" + secrets.token_urlsafe(32))
    out = tmp_path / "out"
    extra: list[tuple[str, str]] = []
    with debug_logs() as logs:
        anonymous = NemoCredentials(api_url=faulty.url, rate_limit_wait=0.2, stream_idle_timeout=10)
        items = await batch_image_to_video(
            [*images, broken], "1-second push-in, 720p", out_dir=out, credentials=anonymous, allow_failures=True
        )
        extra += describe_items(items)
        with_token = NemoCredentials(api_url=plain.url, token=explicit)
        extra += [("credentials repr", repr(with_token)), ("credentials json", with_token.model_dump_json())]
        items = await batch_image_to_video(images, "1-second pan left, 720p", out_dir=out, credentials=with_token)
        extra += describe_items(items)
        assert [i.status for i in items] == ["ok", "ok"], [i.error for i in items]
        wrong = NemoCredentials(api_url=plain.url, token=bogus)
        with pytest.raises(errors.NemoAuthError) as caught:  # a wrong token stops the batch before it starts
            await batch_image_to_video(images[:1], "1-second pan up", out_dir=out, credentials=wrong)
        exc = caught.value
        assert "token invalid or expired" in str(exc)
        extra += [("exception", f"{exc} {exc!r} {exc.__dict__} {caught.getrepr()}")]
    assert any("httpcore" in line for line in logs.lines)  # the DEBUG transport logs were really captured,
    assert any("Finished in state" in line for line in logs.lines)  # and Prefect's run logs
    tokens = issued_tokens(faulty.data_dir) | issued_tokens(plain.data_dir) | {bogus.get_secret_value()}
    assert len(issued_tokens(faulty.data_dir)) >= 2  # renewed after 1001, so there are old tokens to find too
    servers = [faulty.data_dir, plain.data_dir]
    found = await scan_everything(tokens, logs=logs, extra=extra, servers=servers, outputs=[out])
    assert not found, "\n".join(found)


def test_the_scan_finds_a_planted_token(tmp_path: Path) -> None:
    planted = "nmv_usr_" + secrets.token_urlsafe(32)
    (tmp_path / "ledger.db").write_bytes(b"\0binary\0" + planted.encode() + b"\0")
    texts = [("log", "nothing here"), *file_texts(tmp_path)]
    assert find_secrets({planted}, texts) == [f"{tmp_path / 'ledger.db'} holds a token ({planted[:12]}...)"]


WRITES_AND_CLOSES = """
import sys
from pathlib import Path
from prefect_nemo.ledger import ClipRecord, Ledger
with Ledger(Path(sys.argv[1])) as ledger:
    for i in range(20):
        ledger.save(ClipRecord(f"other-{i}", session_id="s" * 200))
"""


def test_the_scan_leaves_an_open_ledger_working(tmp_path: Path) -> None:
    """The scan reads the ledger of a process that keeps it open; another process then writes to it and
    closes it last (SQLite then checkpoints and deletes the WAL if no lock of ours is left): a plain read
    here made this process's next ledger fail with 'file is not a database' or 'disk I/O error'."""
    db = tmp_path / "cache" / "clips.db"
    with Ledger(db) as kept_open:
        kept_open.save(ClipRecord("mine", session_id="m"))
        assert any(where.endswith("clips.db-wal") for where, _ in file_texts(tmp_path))
        subprocess.run([sys.executable, "-c", WRITES_AND_CLOSES, str(db)], check=True, timeout=60)
        for i in range(20):
            kept_open.save(ClipRecord(f"mine-{i}", session_id="m" * 300))
        with Ledger(db) as again:
            assert again.get("other-3").session_id == "s" * 200 and again.get("mine-3").session_id == "m" * 300


def test_the_token_is_a_secret_str_end_to_end(tmp_path: Path) -> None:
    token = SecretStr("nmv_usr_" + "s" * 40)
    credentials = NemoCredentials(api_url="http://127.0.0.1:9", token=token)
    assert isinstance(credentials.token, SecretStr) and "s" * 40 not in repr(credentials)
    client = credentials.get_client()
    assert isinstance(client._token, SecretStr) and "s" * 40 not in repr(vars(client))
    store = TokenStore(tmp_path / "tokens.json")
    store.put("http://x", "cid", token, None)
    assert isinstance(store.get("http://x", "cid"), SecretStr)
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"


# -- the server's doors -------------------------------------------------------------------------------------


async def test_binds_loopback_only(local_server: LocalServer, tmp_path: Path) -> None:
    listening = [c for c in psutil.Process(local_server.process.pid).net_connections("inet") if c.status == "LISTEN"]
    assert listening and all(c.laddr.ip == "127.0.0.1" for c in listening)
    for host in ("0.0.0.0", "::", "192.168.1.10"):
        with pytest.raises(ValueError, match="loopback only"):
            await serve(LocalSettings(data_dir=tmp_path / "never", host=host))


def _routes(tmp_path: Path) -> set[tuple[str, str]]:
    app = create_app(LocalSettings(data_dir=tmp_path / "routes"))
    return {(m, r.path) for r in app.routes if isinstance(r, APIRoute) for m in r.methods or ()}


def _fill(path: str) -> str:
    return path.format(session_id="1234567890123456789", render_id="render_nope", name="x.png")


async def test_every_private_endpoint_demands_the_token(local_server: LocalServer, tmp_path: Path) -> None:
    private = _routes(tmp_path) - PUBLIC
    assert private == PRIVATE  # a new route must be classified here, on purpose
    async with NemoClient(local_server.url, token_store=TokenStore(tmp_path / "t.json"), client_id="doors") as c:
        await c.acquire_token()
        real = c._auth_headers()["Authorization"].removeprefix("Bearer ")
    refused: tuple[dict[str, str], ...] = (
        {},
        {"Authorization": "Bearer nmv_usr_forged"},
        {"Authorization": real},  # a real token, but not as a Bearer credential
        {"Authorization": f"Basic {real}"},
        {"Authorization": "Bearer"},
    )
    async with httpx.AsyncClient(base_url=local_server.url) as raw:
        for method, path in sorted(private):
            for headers in refused:
                answer = await raw.request(method, _fill(path), headers=headers, json={})
                body = answer.json()
                assert body.get("code") == 1001, (method, path, headers, answer.status_code, body)
        # The public ones hold nothing without their own proof: a valid signature, an unguessable id.
        assert (await raw.get("/render-result/render_nope.mp4?exp=9999999999&sig=0")).status_code == 403
        assert (await raw.get("/render-result/render_nope.mp4")).status_code == 403
        assert (await raw.get("/files/img_0000000000000000.png")).status_code == 404


async def test_sessions_are_private_to_their_token(local_server: LocalServer, tmp_path: Path) -> None:
    def new_client() -> NemoClient:
        return NemoClient(
            local_server.url, token_store=TokenStore(tmp_path / f"{uuid.uuid4()}.json"), client_id=str(uuid.uuid4())
        )

    image = write_image(tmp_path / "mine.png", (400, 300))
    async with new_client() as owner, new_client() as stranger:
        session = await owner.create_session()
        await owner.upload_file(session.session_id, image)
        generated = await owner.generate(session.session_id, "1-second push-in", backoff=FAST)
        assert generated.draft is not None
        render_id = f"render_{uuid.uuid4().hex}"
        await owner.submit_render(session.session_id, generated.draft, render_id)
        await owner.wait_for_render(render_id, deadline=Deadline(120), backoff=FAST)
        sid = session.session_id
        for attempt in (
            stranger.state(sid),
            stranger.upload_file(sid, image),
            stranger.generate(sid, "1-second pan left", deadline=Deadline(5)),
            stranger.claim_link(session.task_id or "", sid),
            stranger.submit_render(sid, generated.draft, f"render_{uuid.uuid4().hex}"),
        ):
            with pytest.raises(errors.NemoSessionNotFound):
                await attempt
        for attempt in (stranger.render_status(render_id),):
            with pytest.raises(errors.NemoBadRequest) as caught:
                await attempt
            assert caught.value.status_code == 404
        with pytest.raises(errors.NemoDownloadError, match="404"):
            job = await owner.render_status(render_id)
            await stranger.download(job.model_copy(update={"output_url": None}), tmp_path / "stolen.mp4")
        assert not (tmp_path / "stolen.mp4").exists()
        assert (await owner.state(sid)).draft == generated.draft  # the owner's session is untouched


def _multipart(name: str, content: bytes, mime: str = "image/png") -> dict[str, Any]:
    return {"files": [("files", (name, content, mime))]}


async def test_upload_names_never_reach_the_disk(make_server: ServerFactory, tmp_path: Path) -> None:
    server = make_server()
    png = write_image(tmp_path / "source.png", (64, 64)).read_bytes()
    async with NemoClient(server.url, token_store=TokenStore(tmp_path / "t.json")) as client:
        session = await client.create_session()
        await client.acquire_token()
        auth = client._auth_headers()
    hostile = [
        "../../etc/evil.png",
        "/etc/evil2.png",
        "..\\..\\evil3.png",
        "uploads/../../evil4.png",
        "....//evil5.png",
    ]
    async with httpx.AsyncClient(base_url=server.url, headers=auth) as raw:
        for name in hostile:
            answer = await raw.post(f"/api/upload-video/nemo_agent/me/{session.session_id}", **_multipart(name, png))
            stored = answer.json()["data"]["files"][0]
            assert "/" not in stored["filename"] and "\\" not in stored["filename"].replace("..\\", "")
            assert stored["file_id"].startswith("img_")
    on_disk = sorted(p.name for p in (server.data_dir / "uploads").iterdir())
    assert len(on_disk) == len(hostile) and all(n.startswith("img_") and n.endswith(".png") for n in on_disk)
    everywhere = [p for p in tmp_path.rglob("*evil*")] + [p for p in Path("/etc").glob("evil*")]
    assert everywhere == []


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


async def test_uploads_stream_to_disk_and_sizes_are_capped(make_server: ServerFactory, tmp_path: Path) -> None:
    small = make_server(max_upload_bytes=2 * 1024 * 1024)
    big = tmp_path / "movie.mp4"
    with big.open("wb") as handle:  # 120 MB of real bytes on the wire (a sparse file reads as zeros)
        handle.truncate(120 * 1024 * 1024)
    async with NemoClient(small.url, token_store=TokenStore(tmp_path / "a.json"), max_retries=0) as client:
        session = await client.create_session()
        with pytest.raises(errors.NemoFileTooLarge):  # announced length over the cap: refused at once
            await client.upload_file(session.session_id, big)
        await client.acquire_token()
        auth = client._auth_headers()

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        boundary = b"--b0undary\r\n"
        yield boundary + b'Content-Disposition: form-data; name="files"; filename="x.mp4"\r\n\r\n'
        for _ in range(6):
            yield b"\0" * (1024 * 1024)
        yield b"\r\n--b0undary--\r\n"

    async with httpx.AsyncClient(base_url=small.url, headers=auth) as raw:
        answer = await raw.post(
            f"/api/upload-video/nemo_agent/me/{session.session_id}",
            content=chunked(),
            headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
        )
    assert answer.json()["code"] == 4002
    assert not list((small.data_dir / "uploads").iterdir())

    roomy = make_server()
    before = _peak_rss(roomy.process.pid)
    async with NemoClient(roomy.url, token_store=TokenStore(tmp_path / "b.json")) as client:
        session = await client.create_session()
        uploaded = await client.upload_file(session.session_id, big)
    growth = _peak_rss(roomy.process.pid) - before
    assert uploaded.file_type == "video"
    assert growth < 48 * 1024 * 1024, f"the server's peak RSS grew by {growth / 2**20:.0f} MB for a 120 MB upload"


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd.png", "..png", ".hidden.png", "a/b/../../c.png", "..\\..\\x.png", "ü" * 300 + ".png", "/.png"],
)
def test_output_names_stay_in_the_output_folder(name: str, tmp_path: Path) -> None:
    stem = _safe_stem(Path(name))
    assert stem and len(stem) <= 60 and "/" not in stem and "\\" not in stem and not stem.startswith(".")
    out = tmp_path / "out"
    assert (out / f"{stem}-0123456789.mp4").resolve().parent == out.resolve()


def test_server_log_and_files_hold_no_token(local_server: LocalServer) -> None:
    """The shared server has served every other test in this module by now: its log holds no token."""
    tokens = issued_tokens(local_server.data_dir)
    assert tokens
    log = (local_server.data_dir / "server.log").read_text(errors="replace")
    assert not [t for t in tokens if t in log]
    assert oct((local_server.data_dir / "url.key").stat().st_mode & 0o777) == "0o600"
    assert not json.dumps(httpx.get(f"{local_server.url}/local/metrics").json()).count("nmv_usr_")
    assert os.access(local_server.data_dir / "state.db", os.R_OK)
