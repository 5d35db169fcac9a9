"""`prefect-nemo convert` over what a new user really has: real photographs (scikit-image's data) in every odd
form, broken and hostile files, odd names, a sub-folder. Every input gets exactly one line, nothing raises,
the exit code says what happened, and a bad output folder costs not a single request.

Only three clips are rendered (`--max-credits 300`, 2-second draft clips); every other input is checked and
accounted for without a render.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pillow_heif
import psutil
import pytest
from PIL import Image
from skimage import data

from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.media import probe

CLI = [sys.executable, "-m", "prefect_nemo.cli", "convert"]
PROMPT = "2-second slow push-in"

RENDERED = ["astronaut.png", "coffee-as-png.jpg", "春季.jpg"]
"""Named first on the command line, so they are the three the credit budget lets through."""
EXPECTED: dict[str, tuple[str, str]] = {
    "astronaut.png": ("ok", ""),
    "coffee-as-png.jpg": ("ok", ""),
    "春季.jpg": ("ok", ""),
    "rocket.jpg": ("skipped", "not submitted"),
    "ünïcødé.png": ("skipped", "not submitted"),
    "exif-rotated.jpg": ("skipped", "not submitted"),
    "cmyk.jpg": ("skipped", "not submitted"),
    "deep16.png": ("skipped", "not submitted"),
    "animated.gif": ("skipped", "not submitted"),
    "caf\\xe9.png": ("skipped", "not submitted"),
    "photo.heic": ("skipped", "not submitted"),
    "scan.tiff": ("skipped", "not submitted"),
    "paint.bmp": ("skipped", "not submitted"),
    "huge-96mp.jpg": ("skipped", "not submitted"),
    "empty.png": ("failed", "file is empty (0 bytes)"),
    "truncated.jpg": ("failed", "damaged or truncated"),
    "bomb.png": ("failed", "guards against decompression bombs"),
    "words.png": ("failed", "not a readable image"),
    "drawing.svg": ("ignored", "unsupported type '.svg'"),
    "paper.pdf": ("ignored", "unsupported type '.pdf'"),
    ".hidden.jpg": ("ignored", "hidden file"),
    "sub": ("ignored", "a folder inside a folder"),
    "gone.png": ("failed", "no such file"),
}


def _bomb(path: Path, side: int = 30000) -> None:
    """A 1-bit PNG of side x side pixels in a few hundred KB: what a decompression bomb looks like."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + (side + 7) // 8)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))


def make_corpus(folder: Path) -> None:
    pillow_heif.register_heif_opener()
    folder.mkdir()
    photo = Image.fromarray(data.astronaut())
    photo.save(folder / "astronaut.png")
    Image.fromarray(data.coffee()).save(folder / "coffee-as-png.jpg", format="PNG")
    Image.fromarray(data.chelsea()).save(folder / "春季.jpg", quality=90)
    Image.fromarray(data.rocket()).save(folder / "rocket.jpg", quality=90)
    Image.fromarray(data.coffee()).save(folder / "ünïcødé.png")
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(data.chelsea()).transpose(Image.Transpose.ROTATE_90).save(folder / "exif-rotated.jpg", exif=exif)
    Image.fromarray(data.rocket()).convert("CMYK").save(folder / "cmyk.jpg", quality=90)
    Image.fromarray(data.camera().astype(np.uint16) * 257).save(folder / "deep16.png")
    frames = [Image.fromarray(np.roll(data.astronaut()[::4, ::4], shift, axis=1)).quantize() for shift in (0, 20, 40)]
    frames[0].save(folder / "animated.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    Image.fromarray(data.astronaut()).save(Path(os.fsdecode(os.fsencode(folder) + b"/caf\xe9.png")))
    Image.fromarray(data.coffee()).save(folder / "photo.heic")
    Image.fromarray(data.rocket()).save(folder / "scan.tiff")
    Image.fromarray(data.chelsea()).save(folder / "paint.bmp")
    Image.new("RGB", (12000, 8000), (70, 110, 160)).save(folder / "huge-96mp.jpg", quality=70)
    (folder / "empty.png").write_bytes(b"")
    whole = (folder / "rocket.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(whole[: len(whole) // 3])
    _bomb(folder / "bomb.png")
    (folder / "words.png").write_text("this is a text file named like a picture\n")
    (folder / "drawing.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'><circle r='4'/></svg>")
    (folder / "paper.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n")
    photo.save(folder / ".hidden.jpg")
    (folder / "sub").mkdir()
    photo.save(folder / "sub" / "inside.png")


def requests_seen(server: LocalServer) -> dict[str, int]:
    """API requests the backend has had (its own /local/ endpoints, this check among them, left out)."""
    seen = httpx.get(f"{server.url}/local/metrics", timeout=10).json()["requests"]
    return {route: n for route, n in seen.items() if " /local/" not in route}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus") / "shoot"
    make_corpus(folder)
    return folder


@pytest.fixture(scope="module")
def cli_env(local_server: LocalServer) -> dict[str, str]:
    """No Prefect API: clips are made in the CLI's process, on the shared embedded backend."""
    return {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"COLUMNS": "240"}


def convert(env: dict[str, str], *args: str | Path) -> tuple[int, str, str]:
    done = subprocess.run([*CLI, *map(str, args)], env=env, capture_output=True, timeout=300)
    # Never raw bytes of a non-UTF-8 name on either stream: both decode strictly.
    return done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8")


@pytest.fixture(scope="module")
def ran(corpus: Path, cli_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("clips")
    named = [corpus / name for name in RENDERED] + [corpus, corpus.parent / "gone.png"]
    code, stdout, stderr = convert(cli_env, *named, "-p", PROMPT, "--out", out, "--max-credits", "300", "--json")
    return {"code": code, "rows": json.loads(stdout) if stdout.strip() else [], "stderr": stderr, "out": out}


def test_every_input_gets_exactly_one_row(ran: dict[str, Any]) -> None:
    assert ran["code"] == 1, ran["stderr"]  # some inputs failed or were skipped
    names = [Path(row["image"]).name for row in ran["rows"]]
    assert sorted(names) == sorted(EXPECTED), ran["stderr"]
    for row in ran["rows"]:
        status, reason = EXPECTED[Path(row["image"]).name]
        assert row["status"] == status, row
        assert reason in (row["error"] or ""), row


def test_three_real_clips_are_made_and_nothing_raises(ran: dict[str, Any]) -> None:
    assert "Traceback" not in ran["stderr"]
    clips = sorted(ran["out"].glob("*.mp4"))
    assert len(clips) == 3
    for clip in clips:
        info = probe(clip)
        assert info.codec == "h264" and abs(info.duration - 2.0) <= 1 / info.fps + 1e-6
    assert "23 inputs in" in ran["stderr"] and "3 ok" in ran["stderr"] and "4 ignored" in ran["stderr"]


def test_warnings_are_said_once_each(ran: dict[str, Any]) -> None:
    warnings = [line for line in ran["stderr"].splitlines() if line.startswith("warning:")]
    assert len(warnings) == len(set(warnings)), warnings
    assert any("coffee-as-png.jpg is a PNG image under a '.jpg' name" in w for w in warnings), ran["stderr"]


def test_the_text_table_has_one_line_per_input(corpus: Path, cli_env: dict[str, str], tmp_path: Path) -> None:
    """The same corpus, cheaply (no credits: nothing is rendered), as the table a person reads."""
    code, stdout, stderr = convert(cli_env, corpus, "-p", PROMPT, "--out", tmp_path, "--max-credits", "0")
    assert code == 1 and "Traceback" not in stdout + stderr
    for name in EXPECTED:
        if name == "gone.png":
            continue
        lines = [line for line in stdout.splitlines() if f"│ {name} " in line]
        assert len(lines) == 1, (name, stdout)


def test_an_unwritable_output_folder_costs_no_request(
    corpus: Path, cli_env: dict[str, str], local_server: LocalServer, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # root ignores file modes: a path under a file is never writable
    before = requests_seen(local_server)
    code, stdout, stderr = convert(cli_env, corpus, "-p", PROMPT, "--out", blocker / "clips")
    assert code == 2 and stdout == ""
    assert stderr.splitlines() == [
        f"error: --out {blocker / 'clips'}: {blocker} is a file, not a folder; choose a folder for the clips"
    ]
    assert requests_seen(local_server) == before


def test_ctrl_c_explains_and_the_rerun_pays_nothing_twice(
    cli_env: dict[str, str], local_server: LocalServer, tmp_path: Path
) -> None:
    """Ctrl-C once the backend has the clips in hand: exit 130, what each clip had reached, the command that
    resumes; that command then finishes without a second generation."""
    photos = [tmp_path / "astronaut-ctrl-c.png", tmp_path / "rocket-ctrl-c.jpg"]
    Image.fromarray(data.astronaut()[::-1]).save(photos[0])
    Image.fromarray(data.rocket()[::-1]).save(photos[1])
    args = [*CLI, *map(str, photos), "-p", "3-second slow push-in", "--out", str(tmp_path / "clips")]
    generations = httpx.get(f"{local_server.url}/local/metrics", timeout=10).json()["generations"]
    process = subprocess.Popen(args, env=cli_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            if httpx.get(f"{local_server.url}/local/metrics", timeout=10).json()["generations"] != generations:
                break  # an instruction of ours has reached the backend: it is paid for
            time.sleep(0.2)
        time.sleep(0.5)
        process.send_signal(signal.SIGINT)
        stdout, stderr = (stream.decode() for stream in process.communicate(timeout=60))
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and stdout == ""
    assert re.search(r"^interrupted after \d+\.\d s: 0 of 2 clips finished$", stderr, re.M), stderr
    assert re.search(r"^  astronaut-ctrl-c\.png: .*(next run|nothing spent)", stderr, re.M), stderr
    (resume,) = [line for line in stderr.splitlines() if line.startswith("Resume with: prefect-nemo convert ")]
    assert f"{photos[0]} {photos[1]} -p '3-second slow push-in' --out {tmp_path / 'clips'}" in resume
    again = subprocess.run(args, env=cli_env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert len(list((tmp_path / "clips").glob("*.mp4"))) == 2
    after = httpx.get(f"{local_server.url}/local/metrics", timeout=10).json()["generations"]
    ours = {key: n for key, n in after.items() if key not in generations}
    assert sorted(ours.values()) == [1, 1], ours  # each clip's instruction generated once, over both runs


def test_ctrl_c_while_the_backend_starts_says_so_in_one_line(cli_env: dict[str, str], tmp_path: Path) -> None:
    """Ctrl-C while the embedded backend is still starting: exit 130 with one line that says nothing was paid
    for and what to run again (Typer alone would exit 130 without a word); the half-started backend goes."""
    photo = tmp_path / "coffee-start.png"
    Image.fromarray(data.coffee()).save(photo)
    data_dir = tmp_path / "backend"  # no backend there yet: the command must start one
    env = cli_env | {"NEMO_LOCAL_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(
        [*CLI, str(photo), "-p", PROMPT], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while not (data_dir / "server.log").exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)  # the backend is launched, not yet answering (its imports take seconds)
        stdout, stderr = (stream.decode() for stream in process.communicate(timeout=60))
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert stdout == ""
    assert re.fullmatch(
        rf"interrupted after \d+\.\d s while starting, before any clip was paid for; "
        rf"run again: prefect-nemo convert {re.escape(str(photo))} -p '{PROMPT}'\n",
        stderr,
    ), stderr
    backend = [p for p in psutil.process_iter() if _data_dir_of(p) == str(data_dir)]
    _, alive = psutil.wait_procs(backend, timeout=30)  # it sees its starter gone and stops by itself
    assert not alive, [p.cmdline() for p in alive]


def _data_dir_of(process: psutil.Process) -> str | None:
    try:
        return process.environ().get("NEMO_LOCAL_DATA_DIR")
    except psutil.Error:
        return None
