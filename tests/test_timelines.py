# ruff: noqa: RUF001 - Chinese instructions are written with Chinese punctuation
"""One clip from several real photos, through the embedded backend over HTTP: the flow, its cache, the draft's
timeline summary, the command line's --one-clip, and a missing image refused before anything is paid for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av
import cv2
import httpx
import numpy as np
import numpy.typing as npt
import pytest
import skimage.data
from PIL import Image

from prefect_nemo import (
    ClipResult,
    NemoCredentials,
    NemoInputError,
    aimages_to_video,
    arefine_clip,
    images_to_video,
)
from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.media import probe
from prefect_nemo.timelines import timeline_message

NAMES = ("astronaut", "coffee", "chelsea")
COSTLY = ("POST /run_sse", "POST /api/upload-video/nemo_agent/me/{session_id}", "POST /api/render/proxy/lambda")
F64 = npt.NDArray[np.float64]


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three real photographs (scikit-image's astronaut, coffee and chelsea) saved as JPEG."""
    folder = tmp_path_factory.mktemp("photos")
    paths = [folder / f"{name}.jpg" for name in NAMES]
    for name, path in zip(NAMES, paths, strict=True):
        Image.fromarray(getattr(skimage.data, name)()).save(path, quality=90)
    return paths


def costly_requests(server: LocalServer) -> dict[str, int]:
    counts: dict[str, int] = httpx.get(f"{server.url}/local/metrics").json()["requests"]
    return {k: counts.get(k, 0) for k in COSTLY}


def thumb(rgb: npt.NDArray[np.uint8], aspect: float = 16 / 9) -> F64:
    """The middle of the picture at the clip's aspect, tiny, grey, zero mean and unit norm: for correlation."""
    h, w = rgb.shape[:2]
    cw, ch = (min(w, round(h * aspect)), min(h, round(w / aspect)))
    x, y = (w - cw) // 2, (h - ch) // 2
    grey = cv2.cvtColor(np.ascontiguousarray(rgb[y : y + ch, x : x + cw]), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (32, 18), interpolation=cv2.INTER_AREA).astype(np.float64)
    small -= small.mean()
    return small / np.linalg.norm(small)


def frames_at(clip: Path, times: list[float]) -> list[npt.NDArray[np.uint8]]:
    with av.open(str(clip)) as box:
        stream = box.streams.video[0]
        wanted = {round(t * float(stream.average_rate)) for t in times}
        got = {i: f.to_ndarray(format="rgb24") for i, f in enumerate(box.decode(stream)) if i in wanted}
    return [got[round(t * 30)] for t in times]


def likeness(frame: npt.NDArray[np.uint8], image: npt.NDArray[np.uint8]) -> float:
    """How well the frame, tiny and grey, matches some view of the image (the camera zooms up to ~1.3x)."""
    small = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), (64, 36), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    ih, iw = grey.shape
    cover = min(iw, ih * 16 / 9)
    best = -1.0
    for zoom in (1.0, 1.1, 1.2, 1.3):
        f = 64 / (cover / zoom)
        scaled = cv2.resize(grey, (round(iw * f), round(ih * f)), interpolation=cv2.INTER_AREA)
        if scaled.shape[0] >= 36 and scaled.shape[1] >= 64:
            best = max(best, float(cv2.matchTemplate(scaled, small, cv2.TM_CCOEFF_NORMED).max()))
    return best


async def summary_of(result: ClipResult) -> str:
    async with NemoCredentials().get_client() as client:
        state = await client.state(result.session_id)
    files = {str(f.get("file_id")): str(f.get("filename")) for f in state.video_infos if f.get("file_id")}
    return state.summary(files)


class TestImagesToVideo:
    async def test_three_photos_make_one_clip_with_crossfades(
        self, harness: None, local_server: LocalServer, photos: list[Path], tmp_path: Path
    ) -> None:
        prompt = "a slideshow of these, 1.5 seconds each, crossfade, title 'Our Spring Line', 720p"
        result = await aimages_to_video(photos, prompt, out_dir=tmp_path)
        info = probe(result.path)
        assert (info.codec, info.width, info.height) == ("h264", 1280, 720)
        assert abs(info.duration - 4.5) <= 1 / info.fps + 1e-6  # the sum of the shots: joins overlap them
        assert result.source_images == [str(p) for p in photos]
        images = [np.asarray(Image.open(p)) for p in photos]
        middles = frames_at(result.path, [0.75, 2.25, 3.75])
        for k, frame in enumerate(middles):
            scores = [likeness(frame, image) for image in images]
            assert int(np.argmax(scores)) == k and scores[k] > 0.8, scores  # each shot its own photo, in order
        # The middle of the first join (t = 1.5 s) is a mix of the shots on either side of it.
        before, join, after = frames_at(result.path, [1.1, 1.5, 1.9])
        mixed = thumb(before) + thumb(after)
        assert float(np.sum(thumb(join) * mixed / np.linalg.norm(mixed))) > max(
            float(np.sum(thumb(join) * thumb(before))), float(np.sum(thumb(join) * thumb(after)))
        )
        summary = await summary_of(result)
        assert summary.startswith("Timeline (2 tracks): 1. Video (3 shots): astronaut.jpg (0-1.5s), ")
        assert "coffee.jpg (1.5-3s, crossfade 0.6s in), chelsea.jpg (3-4.5s, crossfade 0.6s in)" in summary
        assert '2. Title: "Our Spring Line"' in summary
        assert result.summary is not None and "from 3 images: 1.5 s each, crossfades" in result.summary

        before_rerun = costly_requests(local_server)
        again = await aimages_to_video(photos, prompt, out_dir=tmp_path)
        assert again.cached and again.sha256 == result.sha256 and costly_requests(local_server) == before_rerun

    async def test_each_upload_task_run_is_named_after_its_image(
        self, harness: None, local_server: LocalServer, photos: list[Path], tmp_path: Path
    ) -> None:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

        state = await aimages_to_video(photos, "one video, 0.5 seconds each, 720p", out_dir=tmp_path, return_state=True)
        async with get_client() as client:
            run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
            names = [run.name for run in await client.read_task_runs(flow_run_filter=run_filter)]
        uploads = sorted(name for name in names if name.startswith("upload "))
        assert uploads == sorted(f"upload {p.name}" for p in photos), names
        assert "generate astronaut.jpg" in names  # the clip's other steps are named after its first image

    def test_a_chinese_instruction_with_typed_lengths(
        self, harness: None, local_server: LocalServer, photos: list[Path], tmp_path: Path
    ) -> None:
        result = images_to_video(photos[:2], "把这些合成一个视频，淡入淡出，720p", durations=[1, 2], out_dir=tmp_path)
        assert abs(probe(result.path).duration - 3.0) <= 1 / 30 + 1e-6
        assert result.instruction.endswith("把这2张图片合成一个视频，时长依次为1、2秒")
        assert result.summary is not None and result.summary.startswith("我会把2张图片合成一个3秒")

    async def test_a_follow_up_instruction_refines_the_whole_timeline(
        self, harness: None, local_server: LocalServer, photos: list[Path], tmp_path: Path
    ) -> None:
        first = await aimages_to_video(photos[1:], "slideshow, crossfade, 720p", durations=1, out_dir=tmp_path)
        second = await arefine_clip(first, "1.5 seconds each, dip to black")
        assert second.version == 2 and second.session_id == first.session_id
        assert abs(probe(second.path).duration - 3.0) <= 1 / 30 + 1e-6  # both stills, each longer
        summary = await summary_of(second)
        assert "Video (2 shots): coffee.jpg (0-1.5s), chelsea.jpg (1.5-3s, dip_to_black 0.6s in)" in summary

    async def test_a_missing_image_is_named_before_any_request(
        self, harness: None, local_server: LocalServer, photos: list[Path], tmp_path: Path
    ) -> None:
        before = costly_requests(local_server)
        with pytest.raises(NemoInputError, match=r"gone\.jpg: no such file"):
            await aimages_to_video([photos[0], tmp_path / "gone.jpg", photos[2]], "slideshow", out_dir=tmp_path)
        assert costly_requests(local_server) == before

    def test_bad_options_are_refused_with_their_name(self, photos: list[Path]) -> None:
        with pytest.raises(NemoInputError, match="durations: 2 lengths for 3 images"):
            timeline_message("slideshow", 3, [1, 2])
        with pytest.raises(NemoInputError, match="transition: 'wipe' is not one of crossfade"):
            timeline_message("slideshow", 3, 2, "wipe")


class TestOneClipCommand:
    def env(self, local_server: LocalServer) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"COLUMNS": "200"}

    def test_convert_one_clip(self, local_server: LocalServer, photos: list[Path], tmp_path: Path) -> None:
        args = [*map(str, photos), "--one-clip", "-p", "slideshow, 720p", "--duration", "1", "--transition", "push"]
        done = subprocess.run(
            [sys.executable, "-m", "prefect_nemo.cli", "convert", *args, "--out", str(tmp_path)],
            env=self.env(local_server),
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
        [clip] = tmp_path.glob("*.mp4")
        assert done.stdout.strip() == str(clip)
        assert abs(probe(clip).duration - 3.0) <= 1 / 30 + 1e-6
        assert "3 images -> one 3.00 s 1280x720 clip" in done.stderr

    def test_a_missing_image_is_one_line_and_nothing_starts(
        self, local_server: LocalServer, photos: list[Path], tmp_path: Path
    ) -> None:
        before = costly_requests(local_server)
        args = [str(photos[0]), str(tmp_path / "gone.jpg"), "--one-clip", "-p", "slideshow"]
        done = subprocess.run(
            [sys.executable, "-m", "prefect_nemo.cli", "convert", *args, "--out", str(tmp_path)],
            env=self.env(local_server),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2
        assert done.stderr.strip().splitlines() == [
            f"error: {tmp_path / 'gone.jpg'}: no such file; --one-clip needs every image, so nothing was made"
        ]
        assert costly_requests(local_server) == before
