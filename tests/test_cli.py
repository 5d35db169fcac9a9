"""`prefect-nemo` as a user runs it: a real process, a real Prefect API (the test harness), the embedded
backend over HTTP, real MP4s probed with PyAV, and a pseudo-terminal for the progress display."""

from __future__ import annotations

import fcntl
import http.server
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest
from prefect.settings import PREFECT_API_URL

from prefect_nemo import NemoCredentials, errors
from prefect_nemo import cli as cli_module
from prefect_nemo.batch import BatchItem
from prefect_nemo.cli.errors import _HINTS, hint
from prefect_nemo.cli.report import clip_line, rows
from prefect_nemo.inputs import Input
from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.media import probe
from prefect_nemo.models import ClipResult
from tests.conftest import write_image

CLI = [sys.executable, "-m", "prefect_nemo.cli"]
PROMPT = "1-second slow push-in"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def env(harness: None, local_server: LocalServer) -> dict[str, str]:
    """The CLI's environment: the harness's Prefect API and the shared embedded backend (found through
    its server file in NEMO_LOCAL_DATA_DIR, as `api_url="local"` finds a foreground `local-server`)."""
    return {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "COLUMNS": "200"}


@pytest.fixture(scope="module")
def direct_env(env: dict[str, str]) -> dict[str, str]:
    """The same, with no Prefect API configured: `convert` makes the clips in its own process."""
    return {k: v for k, v in env.items() if k != "PREFECT_API_URL"}


def run(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=timeout)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `prefect-nemo ARGS` in this process through `main()` (cheaper than a new interpreter)."""
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["prefect-nemo", *args])
        patch.setattr(cli_module, "_debug", False)
        with pytest.raises(SystemExit) as exited:
            cli_module.main()
    captured = capsys.readouterr()
    return int(exited.value.code or 0), captured.out, captured.err


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("error:")]


@pytest.fixture(scope="module")
def converted(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One `convert` of three varied images (wide PNG, tall JPEG, square WEBP) as a Prefect flow (a Prefect API
    is configured), shared by the read commands."""
    folder = tmp_path_factory.mktemp("convert")
    images = [
        write_image(folder / "wide.png", (960, 540)),
        write_image(folder / "tall.jpg", (480, 720), quality=92),
        write_image(folder / "square.webp", (600, 600)),
    ]
    out = folder / "out"
    done = run(env, "convert", *map(str, images), "-p", PROMPT, "--out", str(out), "--concurrency", "3")
    listed = run(env, "sessions", "--json", "--limit", "100")
    return {"done": done, "images": images, "out": out, "sessions": listed}


class TestConvert:
    def test_three_images_become_verified_clips(self, converted: dict[str, Any]) -> None:
        done = converted["done"]
        assert done.returncode == 0, done.stderr
        clips = sorted(converted["out"].glob("*.mp4"))
        assert len(clips) == 3
        for clip in clips:
            info = probe(clip)
            assert info.codec == "h264" and min(info.width, info.height) == 1080
            assert abs(info.duration - 1.0) <= 1 / info.fps + 1e-6
        for image in converted["images"]:
            assert re.search(rf"{re.escape(image.name)}\s.*\bok\b", done.stdout), done.stdout
        assert "3 inputs in" in done.stderr and "3 ok" in done.stderr
        assert not error_lines(done.stderr)

    def test_says_which_backend_and_prefect_api_it_uses(self, converted: dict[str, Any], env: dict[str, str]) -> None:
        stderr = converted["done"].stderr
        assert re.search(r"^Backend: embedded local backend at http://127\.0\.0\.1:\d+", stderr, re.M), stderr
        assert f"Prefect: the batch-image-to-video flow, API at {env['PREFECT_API_URL']}" in stderr

    def test_without_a_prefect_api_clips_are_made_in_process(self, direct_env: dict[str, str], tmp_path: Path) -> None:
        image = write_image(tmp_path / "direct.png", (1920, 1088))  # sharp at 1080p (done, no notes); its own bytes
        done = run(direct_env, "convert", str(image), "-p", PROMPT, "--out", str(tmp_path / "out"))
        assert done.returncode == 0, done.stderr
        assert "Prefect: not used: clips are made in this process" in done.stderr
        assert re.search(r"^✓ direct\.png  done in \d+\.\d s  \(1/1\)$", done.stderr, re.M), done.stderr
        (clip,) = (tmp_path / "out").glob("*.mp4")
        assert probe(clip).codec == "h264"
        again = run(direct_env, "convert", str(image), "-p", PROMPT, "--out", str(tmp_path / "out"))
        assert again.returncode == 0 and "✓ direct.png  from cache" in again.stderr, again.stderr

    def test_a_second_run_is_served_from_the_cache_as_json(
        self, converted: dict[str, Any], env: dict[str, str]
    ) -> None:
        images = [str(p) for p in converted["images"]]
        done = run(env, "convert", *images, "-p", PROMPT, "--out", str(converted["out"]), "--json")
        assert done.returncode == 0, done.stderr
        rows = json.loads(done.stdout)
        assert [r["status"] for r in rows] == ["cached"] * 3
        assert {Path(r["result"]["path"]).name for r in rows} == {p.name for p in converted["out"].glob("*.mp4")}

    def test_one_bad_file_fails_alone_with_a_one_line_error(self, env: dict[str, str], tmp_path: Path) -> None:
        good = write_image(tmp_path / "good.png", (640, 400))
        bad = tmp_path / "bad.png"
        bad.write_text("this is not an image\n")
        done = run(env, "convert", str(good), str(bad), "-p", PROMPT, "--out", str(tmp_path / "out"))
        assert done.returncode == 1
        assert not error_lines(done.stderr) and "Traceback" not in done.stderr + done.stdout
        assert re.search(r"good\.png\s.*\bok\b", done.stdout), done.stdout
        (row,) = [line for line in done.stdout.splitlines() if "bad.png" in line]
        assert re.search(r"✗ failed.*not a readable image", row), done.stdout
        assert len(list((tmp_path / "out").glob("*.mp4"))) == 1

    def test_no_images_is_a_usage_error(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        code, _, stderr = cli(capsys, "convert", str(tmp_path), "-p", PROMPT)
        assert code == 2 and error_lines(stderr) == [f"error: {tmp_path}: folder is empty"]


def run_in_terminal(args: list[str], env: dict[str, str], timeout: float = 180) -> tuple[int, str]:
    """Run a command with a pseudo-terminal as its stdin, stdout and stderr; return its exit code and output."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 140, 0, 0))
    terminal_env = {k: v for k, v in env.items() if k not in ("COLUMNS", "NO_COLOR", "CI")} | {"TERM": "xterm-256color"}
    process = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=terminal_env, close_fds=True)
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    data = os.read(master, 1 << 16)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif process.poll() is not None:
                break
        else:
            process.kill()
            pytest.fail("the command did not finish in time:\n" + b"".join(chunks).decode(errors="replace"))
    finally:
        os.close(master)
    return process.wait(30), b"".join(chunks).decode(errors="replace")


PROBE = """
import sys
from prefect_nemo.cli import main
try:
    main()
finally:
    heavy = ("prefect", "prefect_nemo.pipeline", "prefect_nemo.local.launcher", "prefect_nemo.client", "av", "cv2")
    print("LOADED", [m for m in heavy if m in sys.modules], file=sys.stderr)
"""


class TestBadCommandLine:
    """A bad command line is one `error:` line, before Prefect or the embedded backend start (docs/cli.md gives
    the timings; here only a loose bound, since the machine may be busy)."""

    @pytest.mark.parametrize(
        "case",
        [
            "missing file",
            "empty prompt",
            "out under a file",
            "only a folder with nothing usable",
            "bad api url",
            "damaged ledger",
        ],
    )
    def test_answers_at_once_and_starts_nothing(self, case: str, tmp_path: Path) -> None:
        image = write_image(tmp_path / "fine.png", (320, 200))
        (tmp_path / "afile").write_text("x")
        (tmp_path / "notes").mkdir()
        (tmp_path / "notes" / "readme.txt").write_text("hello")
        args, expected = {
            "missing file": ([str(tmp_path / "nope.png")], f"error: {tmp_path / 'nope.png'}: no such file"),
            "empty prompt": ([str(image), "-p", "  "], "error: -p: is empty"),
            "out under a file": ([str(image), "--out", str(tmp_path / "afile" / "sub")], "is a file, not a folder"),
            "only a folder with nothing usable": ([str(tmp_path / "notes")], "readme.txt: unsupported type '.txt'"),
            "bad api url": ([str(image), "--api-url", "ftp://x"], "error: --api-url: 'ftp://x' is neither"),
            "damaged ledger": ([str(image)], f"error: {tmp_path / 'cache' / 'clips.db'}: is not a readable clip"),
        }[case]
        (tmp_path / "cache").mkdir()
        (tmp_path / "cache" / "clips.db").write_bytes(b"not a database, " * 512)
        data_dir = tmp_path / "backend"
        env = {**os.environ, "NEMO_LOCAL_DATA_DIR": str(data_dir), "NEMO_OUTPUT_DIR": str(tmp_path / "clips")}
        env["NEMO_CACHE_DIR"] = str(tmp_path / "cache")
        env.pop("PREFECT_API_URL", None)
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", PROBE, "convert", *args], env=env, capture_output=True, text=True, timeout=60
        )
        seconds = time.monotonic() - started
        assert done.returncode == 2, done.stderr
        errors_ = error_lines(done.stderr)
        assert len(errors_) == 1 and expected in errors_[0], done.stderr
        assert "LOADED []" in done.stderr, done.stderr
        assert not data_dir.exists() and done.stdout == ""
        assert not (tmp_path / "clips").exists() or case in ("out under a file", "damaged ledger")  # none left behind
        assert seconds < 10, seconds  # loose: a second or less on a quiet machine, 10-14 s before this was fixed

    def test_a_too_long_instruction_starts_no_backend(self, tmp_path: Path) -> None:
        """Checked by `instruction.check_spec` while the image is checked: before the backend starts, and
        without importing Prefect."""
        image = write_image(tmp_path / "fine.png", (320, 200))
        data_dir = tmp_path / "backend"
        env = {**os.environ, "NEMO_LOCAL_DATA_DIR": str(data_dir), "NEMO_OUTPUT_DIR": str(tmp_path / "clips")}
        done = subprocess.run(
            [sys.executable, "-c", PROBE, "convert", str(image), "-p", "x" * 5000],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2 and error_lines(done.stderr) == [
            "error: -p: is 5,000 characters long; the limit is 4,000"
        ]
        assert not data_dir.exists()
        loaded = re.search(r"LOADED (\[.*\])", done.stderr)
        assert loaded and "'prefect'" not in loaded.group(1) and "launcher" not in loaded.group(1), done.stderr

    @pytest.mark.parametrize("args", [["--help"], ["--version"], ["convert", "--help"]])
    def test_help_and_version_load_nothing_heavy(self, args: list[str]) -> None:
        done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "LOADED []" in done.stderr, done.stderr
        assert "prefect-nemo" in done.stdout or "Usage" in done.stdout


class TestStartup:
    def test_the_embedded_backend_starts_before_prefect_is_imported(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """The backend is asked for before the credentials are resolved (which imports Prefect, a second or
        more), so the two overlap: credentials resolved first would wait here and fail the test."""
        from prefect_nemo.cli import run as run_module
        from prefect_nemo.local import launcher

        asked = threading.Event()

        def ensure_local_server(settings: object = None) -> str:
            asked.set()
            return "http://127.0.0.1:9"

        def resolve_credentials(api_url: str | None, block: str | None, client_id: str | None) -> NemoCredentials:
            assert asked.wait(10), "the credentials (and Prefect) came before the embedded backend"
            return NemoCredentials(api_url="local")

        monkeypatch.setattr(launcher, "ensure_local_server", ensure_local_server)
        monkeypatch.setattr(launcher, "wait_at_exit", launcher.wait_at_exit)  # restored after the test
        monkeypatch.setattr(run_module, "resolve_credentials", resolve_credentials)
        startup = run_module.Startup(run_module.Options(prompt=PROMPT, out_dir=tmp_path), None, None, None)
        startup.start()
        credentials, url = startup.result()
        assert credentials.is_local and url == "http://127.0.0.1:9"
        assert launcher.wait_at_exit is False  # the command returns while the backend shuts down

    def test_a_block_or_a_remote_url_starts_no_backend_early(self, tmp_path: Path) -> None:
        from prefect_nemo.cli import run as run_module

        options = run_module.Options(prompt=PROMPT, out_dir=tmp_path)
        assert run_module.Startup(options, None, "saved-block", None)._start_local_backend() is None
        assert run_module.Startup(options, "https://example.com", None, None)._start_local_backend() is None


class TestProgressInATerminal:
    @pytest.mark.parametrize("mode", ["flow", "in process"])
    def test_bars_show_each_stage_and_the_render_percentage(
        self, mode: str, env: dict[str, str], direct_env: dict[str, str], tmp_path: Path
    ) -> None:
        image = write_image(tmp_path / "terminal.png", (1920, 1080 if mode == "flow" else 1084))  # sharp: no notes
        args = [*CLI, "convert", str(image), "-p", PROMPT, "--out", str(tmp_path / "out")]
        code, output = run_in_terminal(args, env if mode == "flow" else direct_env)
        assert code == 0, output
        assert "\x1b[" in output  # drawn with terminal control sequences: rich's live display is on
        text = ANSI.sub("", output)
        assert "terminal.png" in text and "all clips" in text
        assert re.search(r"\b(generate|upload|session)\b", text), text
        assert re.search(r"\b(render|download) \d+%", text), text
        assert "✓ terminal.png" in text and "1/1 done" in text


class TestReadCommands:
    def test_credits_json(self, env: dict[str, str], local_server: LocalServer) -> None:
        done = run(env, "credits", "--json")
        assert done.returncode == 0, done.stderr
        balance = json.loads(done.stdout)
        assert isinstance(balance["available"], int) and balance["available"] >= 0
        assert balance["backend"] == local_server.url
        assert f"Backend: embedded local backend at {local_server.url}" in done.stderr

    def test_sessions_lists_the_clips(self, converted: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
        listed = converted["sessions"]
        assert listed.returncode == 0, listed.stderr
        names = {Path(r["source_image"]).name for r in json.loads(listed.stdout)}
        assert {p.name for p in converted["images"]} <= names
        code, stdout, _ = cli(capsys, "sessions")
        assert code == 0 and "wide.png" in stdout and "Session" in stdout

    def test_state_shows_the_timeline(
        self, env: dict[str, str], converted: dict[str, Any], capsys: pytest.CaptureFixture[str]
    ) -> None:
        clips = json.loads(converted["sessions"].stdout)
        clip = next(c for c in clips if Path(c["source_image"]).name == "wide.png")
        done = run(env, "state", clip["session_id"], "--json")
        assert done.returncode == 0, done.stderr
        state = json.loads(done.stdout)
        assert state["ready"] is True and state["session_id"] == clip["session_id"]
        assert state["summary"].startswith("Timeline (") and "1. Video: wide.png (0-1s)" in state["summary"]
        assert any(track["tt"] == 0 and track["sg"] for track in state["draft"]["t"])
        code, stdout, _ = cli(capsys, "state", clip["session_id"])
        assert code == 0 and state["summary"] in stdout

    def test_doctor_passes_against_the_embedded_backend(self, env: dict[str, str], local_server: LocalServer) -> None:
        done = run(env, "doctor")
        assert done.returncode == 0, done.stdout + done.stderr
        for expected in ("✓ PyAV codecs", "libx264, aac", "✓ Prefect API", "healthy", "✓ Backend", "✓ Client id"):
            assert expected in done.stdout, done.stdout
        assert f"embedded local backend at {local_server.url}" in done.stdout
        checks = json.loads(run(env, "doctor", "--json").stdout)
        assert all(c["ok"] for c in checks) and {"PyAV codecs", "Backend", "Credits"} <= {c["name"] for c in checks}

    def test_doctor_fails_when_the_backend_is_down(self, env: dict[str, str]) -> None:
        done = run(env, "doctor", "--json", "--api-url", "http://127.0.0.1:9")
        assert done.returncode == 1
        checks = {c["name"]: c for c in json.loads(done.stdout)}
        assert not checks["Backend"]["ok"] and "127.0.0.1:9" in checks["Backend"]["detail"]
        assert checks["PyAV codecs"]["ok"]


class TestConfiguration:
    def test_a_saved_block_is_used_and_a_flag_overrides_it(
        self, env: dict[str, str], local_server: LocalServer
    ) -> None:
        NemoCredentials(api_url=local_server.url, client_id="cli-block-client").save("cli-test", overwrite=True)
        done = run(env, "credits", "--credentials", "cli-test", "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["backend"] == local_server.url
        assert f"NemoVideo-compatible backend at {local_server.url}" in done.stderr
        flagged = run(env, "credits", "--credentials", "cli-test", "--api-url", "local")
        assert flagged.returncode == 0 and "embedded local backend at" in flagged.stderr

    def test_a_missing_block_is_one_line(self, harness: None, capsys: pytest.CaptureFixture[str]) -> None:
        code, _, stderr = cli(capsys, "credits", "--credentials", "no-such-block")
        assert code == 1 and len(error_lines(stderr)) == 1 and "Traceback" not in stderr


class TestErrors:
    def test_an_api_error_is_one_line_with_what_to_do(
        self, local_server: LocalServer, capsys: pytest.CaptureFixture[str]
    ) -> None:
        code, _, stderr = cli(capsys, "state", "1234567890123456789")
        assert code == 1
        (line,) = error_lines(stderr)
        assert "prefect-nemo sessions" in line and "Traceback" not in stderr
        assert "code 1002" not in line and "HTTP" not in line and "/api" not in line, line
        code, _, stderr = cli(capsys, "state", "1234567890123456789", "--json")
        assert code == 1 and "code 1002" in error_lines(stderr)[0]

    def test_debug_shows_the_traceback(self, env: dict[str, str]) -> None:
        done = run(env, "state", "1234567890123456789", "--debug")
        assert done.returncode == 1 and "Traceback" in done.stderr and "NemoSessionNotFound" in done.stderr

    def test_an_unreachable_backend_says_what_to_check(self, harness: None, capsys: pytest.CaptureFixture[str]) -> None:
        NemoCredentials(api_url="http://127.0.0.1:9", max_retries=0).save("cli-dead", overwrite=True)
        code, _, stderr = cli(capsys, "credits", "--credentials", "cli-dead")
        assert code == 1
        (line,) = error_lines(stderr)
        assert "ConnectError" in line and "prefect-nemo doctor" in line

    def test_every_failure_has_its_own_advice(self) -> None:
        classes = [getattr(errors, n) for n in errors.__all__ if isinstance(getattr(errors, n), type)]
        specific = {cls for cls, _ in _HINTS}
        missing = [
            c.__name__ for c in classes if c not in specific and c not in (errors.NemoError, errors.NemoAPIError)
        ]
        assert not missing
        assert hint(errors.NemoOutOfCredits("no credits", code=2001)).startswith("register or top up")


class TestClipLines:
    """The line each finished clip leaves: ✓ done, from cache, resumed; ⚠ with its notes; ✗ with the reason."""

    @staticmethod
    def line(item: BatchItem) -> str:
        return clip_line(item, 1, 2, live=False).plain

    @staticmethod
    def result(tmp_path: Path, **fields: Any) -> ClipResult:
        base = {"path": tmp_path / "a.mp4", "sha256": "0" * 64, "size_bytes": 1, "duration": 2.0, "width": 1920}
        base |= {"height": 1080, "fps": 30.0, "codec": "h264", "render_id": "render_1", "session_id": "s1"}
        base |= {"render_seconds": 3.25, "source_image": "in/a.png", "image_sha256": "1" * 64, "instruction": "push-in"}
        return ClipResult.model_validate(base | fields)

    def test_each_outcome_reads_as_a_sentence(self, tmp_path: Path) -> None:
        made = BatchItem("in/a.png", "ok", self.result(tmp_path))
        assert self.line(made) == "✓ a.png  done in 3.2 s  (1/2)"
        cached = BatchItem("in/a.png", "cached", self.result(tmp_path, cached=True))
        assert self.line(cached) == "✓ a.png  from cache  (1/2)"
        resumed = BatchItem("in/a.png", "ok", self.result(tmp_path, resumed=True, render_id="render_9f"))
        assert self.line(resumed) == "✓ a.png  resumed render render_9f  (1/2)"
        noted = self.result(tmp_path, notes=["no music library is available, so no music was added", "Title cut."])
        assert self.line(BatchItem("in/a.png", "ok", noted)) == (
            "⚠ a.png  done in 3.2 s with notes: no music library is available, so no music was added. Title cut.  (1/2)"
        )
        error = "in/a.png: the backend refused the request (/api/v1/upload) [code 4001, HTTP 200]"
        assert self.line(BatchItem("in/a.png", "failed", error=error)) == (
            "✗ a.png  failed: the backend refused the request  (1/2)"
        )

    def test_a_clip_with_notes_shows_them_in_the_table(self, tmp_path: Path) -> None:
        noted = self.result(tmp_path, notes=["the title was too long and was shortened"])
        table = rows(
            [Input(Path("in/a.png")), Input(Path("in/b.txt"), "unsupported type '.txt'", named=False)],
            [BatchItem("in/a.png", "ok", noted)],
        )
        assert [row.status for row in table] == ["ok", "ignored"]
        assert table[0].mark == ("⚠", "yellow") and table[0].detail == "the title was too long and was shortened."


class TestDoctorAndCache:
    def test_doctor_fails_on_a_backend_that_answers_404(self, capsys: pytest.CaptureFixture[str]) -> None:
        class NotFound(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_error(404)

            def log_message(self, *args: Any) -> None:
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}"
            code, stdout, _ = cli(capsys, "doctor", "--json", "--api-url", url)
        finally:
            server.shutdown()
        checks = {c["name"]: c for c in json.loads(stdout)}
        assert code == 1 and not checks["Backend"]["ok"]
        assert "answered HTTP 404 Not Found" in checks["Backend"]["detail"]

    def test_cache_prune_is_a_dry_run_until_yes(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        from prefect_nemo.settings import NemoSettings

        prepared = NemoSettings().cache_dir / "prepared"
        prepared.mkdir(parents=True, exist_ok=True)
        old = write_image(prepared / "0123456789abcdef.png", (64, 48))
        os.utime(old, (time.time() - 40 * 86400, time.time() - 40 * 86400))
        from prefect_nemo.local.settings import LocalSettings

        renders = LocalSettings().data_dir / "renders"
        renders.mkdir(parents=True, exist_ok=True)
        stale = renders / "render_stale.mp4"
        stale.write_bytes(b"x" * 1000)
        os.utime(stale, (time.time() - 40 * 86400, time.time() - 40 * 86400))
        code, stdout, stderr = cli(capsys, "cache", "prune", "--json")
        parts = {p["what"]: p for p in json.loads(stdout)["parts"]}
        assert code == 0 and parts["prepared images"]["items"] >= 1 and old.exists()
        assert parts["embedded backend data"]["bytes"] >= 1000 and stale.exists()
        code, _, stderr = cli(capsys, "cache", "prune", "--yes")
        assert code == 0 and not old.exists() and not stale.exists() and stderr.startswith("Freed ")


class TestLocalServer:
    def test_runs_in_the_foreground_with_faults_until_interrupted(self, tmp_path: Path) -> None:
        args = [*CLI, "local-server", "--port", "0", "--data-dir", str(tmp_path), "--faults", "render-fail=1"]
        args += ["--render-workers", "1"]
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            assert process.stdout is not None
            lines: list[str] = []
            for line in process.stdout:
                lines.append(line)
                if "listening on" in line:
                    break
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", "".join(lines))
            assert found, "".join(lines)
            health = httpx.get(f"{found.group(1)}/local/health", timeout=10).json()
            assert '"render-fail": 1.0' in json.dumps(health["faults"])
            assert Path(health["data_dir"]).resolve() == tmp_path.resolve()
            process.send_signal(signal.SIGINT)
            assert process.wait(30) == 0
            assert "Traceback" not in process.stdout.read()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    def test_an_unknown_fault_is_a_usage_error(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        code, _, stderr = cli(capsys, "local-server", "--data-dir", str(tmp_path), "--faults", "gremlins=1")
        assert code == 2 and "unknown fault 'gremlins'" in stderr


def test_the_console_script_is_declared() -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "prefect-nemo"]
    assert script.value == "prefect_nemo.cli:main"
