"""Poster frames and animated previews of real clips rendered by the embedded backend's encoder."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
from PIL import Image

from prefect_nemo.preview import PREVIEW_FPS, PREVIEW_SECONDS, PREVIEW_WIDTH, make_previews


def write_clip(path: Path, seconds: float = 3.0, fps: int = 30, size: tuple[int, int] = (960, 540)) -> Path:
    """A real H.264 MP4 whose frames brighten over time, so frames sampled at different times differ."""
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast"}  # the previews are under test, not the encode
        for i in range(round(seconds * fps)):
            level = int(255 * i / (seconds * fps))
            pixels = np.full((height, width, 3), level, np.uint8)
            pixels[:, : width // 4] = 255 - level
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def test_poster_and_animated_preview_next_to_the_clip(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "spring-0123456789.mp4")
    poster, preview = make_previews(clip)
    assert poster == tmp_path / "spring-0123456789.jpg" and preview == tmp_path / "spring-0123456789.webp"
    with Image.open(poster) as image:
        assert image.format == "JPEG" and image.size == (PREVIEW_WIDTH, 270)
    with Image.open(preview) as image:
        assert image.format == "WEBP" and image.is_animated and image.size == (PREVIEW_WIDTH, 270)
        frames = image.n_frames
        durations = []
        levels = []
        for index in range(frames):
            image.seek(index)
            image.load()
            durations.append(image.info["duration"])
            levels.append(int(np.asarray(image.convert("L"))[:, PREVIEW_WIDTH // 2].mean()))
    assert 10 <= frames <= 20 and 2.0 <= sum(durations) / 1000 <= 3.5  # ~2.5 s at a few frames a second
    assert levels == sorted(levels) and levels[-1] - levels[0] > 150  # spread over the whole clip, in order
    assert preview.stat().st_size < 300_000 and poster.stat().st_size < 100_000


def test_existing_previews_are_kept(tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "again.mp4", seconds=1.0)
    poster, preview = make_previews(clip)
    stamp = (poster.stat().st_mtime_ns, preview.stat().st_mtime_ns)
    assert make_previews(clip) == (poster, preview)
    assert (poster.stat().st_mtime_ns, preview.stat().st_mtime_ns) == stamp


def test_the_preview_shows_the_moments_it_should_without_decoding_every_frame(tmp_path: Path) -> None:
    """Frames no other refers to (the renderer's B-frames) are not decoded; each preview frame is still the
    clip's frame nearest its moment, a frame or two away at most. Frame i of this clip is lit at level 2i."""
    seconds, fps = 4.0, 30
    clip = tmp_path / "steps.mp4"
    with av.open(str(clip), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.options = {"preset": "superfast", "crf": "12"}  # the renderer's preset: it makes B-frames
        for i in range(round(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(np.full((360, 640, 3), 2 * i, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONREF"
        decoded = sum(1 for _ in container.decode(stream))
    assert decoded < 0.8 * seconds * fps  # the clip has frames to skip, so the skipping is under test
    _, preview = make_previews(clip)
    with Image.open(preview) as image:
        shown = []
        for index in range(image.n_frames):
            image.seek(index)
            shown.append(float(np.asarray(image.convert("L")).mean()) / 2)  # the frame index it shows
    count = round(PREVIEW_FPS * PREVIEW_SECONDS)
    wanted = [i * (seconds * fps - 1) / (count - 1) for i in range(count)]
    assert len(shown) == count
    assert max(abs(a - b) for a, b in zip(shown, wanted, strict=True)) <= 2.5, list(zip(shown, wanted, strict=True))
