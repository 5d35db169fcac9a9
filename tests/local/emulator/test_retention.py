"""Bounded disk: the embedded backend keeps one copy of each clip and lets go of everything else."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest
from PIL import Image
from skimage import data as photos

from prefect_nemo.client import NemoClient
from prefect_nemo.errors import NemoSessionNotFound
from prefect_nemo.identity import TokenStore
from prefect_nemo.local.emulator.retention import prune
from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.local.settings import LocalSettings
from prefect_nemo.models import RenderStatus
from prefect_nemo.polling import Backoff, Deadline

POLL = Backoff(initial=0.2, factor=1.2, cap=0.5, jitter=0.1)


def disk_usage(folder: Path) -> int:
    """What `du` counts: allocated blocks of every file and folder below ``folder``."""
    paths = [folder, *folder.rglob("*")]
    return sum(p.lstat().st_blocks * 512 for p in paths)


def aged(path: Path, seconds: float, size: int = 1000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


class TestPrune:
    def test_dry_run_reports_and_deletes_nothing_then_prunes(self, tmp_path: Path) -> None:
        old = [aged(tmp_path / "uploads/img_1.jpg", 7200), aged(tmp_path / "media/gen_1.mp4", 7200, 500)]
        old_clip = aged(tmp_path / "renders/render_1.mp4", 7200, 3000)
        young = [aged(tmp_path / "uploads/img_2.jpg", 10), aged(tmp_path / "renders/render_2.mp4", 10)]
        kept = [aged(tmp_path / "state.db", 7200), aged(tmp_path / "url.key", 7200)]
        report = prune(tmp_path, 3600)
        assert report.dry_run and sorted(report.files) == sorted([*old, old_clip]) and report.bytes == 4500
        assert all(p.exists() for p in [*old, old_clip])
        done = prune(tmp_path, 3600, dry_run=False)
        assert done.bytes == 4500 and not any(p.exists() for p in [*old, old_clip])
        assert all(p.exists() for p in [*young, *kept])

    def test_without_outputs_only_intermediates_and_part_files_go(self, tmp_path: Path) -> None:
        clip = aged(tmp_path / "renders/render_1.mp4", 7200)
        part = aged(tmp_path / "renders/render_2.part.mp4", 7200)
        upload = aged(tmp_path / "uploads/aud_1.wav", 7200)
        report = prune(tmp_path, 60, dry_run=False, outputs=False)
        assert sorted(report.files) == sorted([part, upload]) and clip.exists()

    def test_a_missing_folder_prunes_nothing_and_bad_ages_are_refused(self, tmp_path: Path) -> None:
        assert prune(tmp_path / "nowhere", 0).files == []
        with pytest.raises(ValueError, match="older_than=-1"):
            prune(tmp_path, -1)


async def make_clips(
    server: LocalServer, images: list[Path], out: Path, tokens: Path, prompt: str = "2-second slow push-in"
) -> tuple[list[Path], list[str]]:
    """Generate, export and download one clip per image, as the client does; plus one re-export.
    The downloaded files and the sessions."""
    clips, sessions = [], []
    async with NemoClient(server.url, token_store=TokenStore(tokens), client_id="retention") as client:
        for n, image in enumerate(images):
            session = await client.create_session()
            sessions.append(session.session_id)
            await client.upload_file(session.session_id, image)
            generated = await client.generate(session.session_id, prompt, backoff=POLL)
            assert generated.draft is not None
            render_id = f"render_{uuid.uuid4().hex}"
            await client.submit_render(session.session_id, generated.draft, render_id)
            job = await client.wait_for_render(render_id, deadline=Deadline(300), backoff=POLL)
            if n == 0:  # the same draft exported again is answered at once, from the same file
                started = time.monotonic()
                again = await client.submit_render(session.session_id, generated.draft, f"render_{uuid.uuid4().hex}")
                assert again.status is RenderStatus.COMPLETED and time.monotonic() - started < 1.0
                clips.append(await client.download(again, out / "again.mp4"))
            clips.append(await client.download(job, out / f"clip{n}.mp4"))
    return clips, sessions


async def test_data_folder_holds_little_more_than_the_delivered_clips(tmp_path: Path) -> None:
    images = []
    for name in ("astronaut", "coffee"):
        images.append(tmp_path / f"{name}.jpg")
        Image.fromarray(getattr(photos, name)()).save(images[-1], quality=92)
    folder = tmp_path / "server"
    server = LocalServer(LocalSettings(data_dir=folder, retention=0, silent_ratio=0))
    try:  # 5-second clips at "high": the folder's fixed ~80 KB (database, key) is then a few percent
        clips, sessions = await make_clips(server, images, tmp_path, tmp_path / "tokens.json", "5-second slow push-in")
        async with NemoClient(server.url, token_store=TokenStore(tmp_path / "tokens.json"), client_id="retention") as c:
            with pytest.raises(NemoSessionNotFound, match="expired"):  # its inputs went with the download
                await c.state(sessions[0])
    finally:
        server.stop()
    assert [p.name for p in (folder / "media").iterdir()] == [], "previews go when their clip is downloaded"
    assert [p.name for p in (folder / "uploads").iterdir()] == [], "with retention 0 the inputs go too"
    assert len(list((folder / "renders").iterdir())) == 2, "a re-export shares its clip's file"
    delivered = sum(p.stat().st_size for p in clips if p.name != "again.mp4")
    used = disk_usage(folder)
    print(f"data folder {used / 1e6:.2f} MB for {delivered / 1e6:.2f} MB of clips: {used / delivered:.2f}x")
    assert used <= 1.1 * delivered


async def test_default_retention_keeps_inputs_for_refinement_and_drops_previews(tmp_path: Path) -> None:
    image = tmp_path / "coffee.jpg"
    Image.fromarray(photos.coffee()).save(image, quality=92)
    folder = tmp_path / "server"
    server = LocalServer(LocalSettings(data_dir=folder, silent_ratio=0, quality="draft"))
    try:
        await make_clips(server, [image], tmp_path, tmp_path / "tokens.json")
    finally:
        server.stop()
    assert list((folder / "media").iterdir()) == []
    assert len(list((folder / "uploads").iterdir())) == 1
    report = prune(folder, 0)
    assert {p.parent.name for p in report.files} == {"uploads", "renders"} and report.bytes > 0
