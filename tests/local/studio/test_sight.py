"""Looking at a clip ahead, on real photographs: every shot of a timeline is looked at (the astronaut's face is
found in the second shot, the rocket behind her is not taken for one), and bokeh and letterbox bars find the
first frame's faces once between them."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import skimage.data
from PIL import Image

from prefect_nemo.local.studio import sight
from prefect_nemo.local.studio.director import Still, direct_timeline
from prefect_nemo.local.studio.frames import Timeline
from prefect_nemo.local.studio.framing import Framing, analyse
from prefect_nemo.local.studio.letterbox import bar_rows
from prefect_nemo.local.studio.life import Life

U8 = npt.NDArray[np.uint8]
Planes = tuple[U8, U8, U8]


def _planes(rgb: U8) -> Planes:
    h, w = rgb.shape[:2]
    yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
    u, v = yuv[h : h + h // 4].reshape(h // 2, w // 2), yuv[h + h // 4 :].reshape(h // 2, w // 2)
    return yuv[:h].copy(), u.copy(), v.copy()


@pytest.fixture(scope="module")
def stills(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Framing]]:
    """The cameraman (no face the cascades find: he is in profile behind his camera) and the astronaut."""
    folder = tmp_path_factory.mktemp("sight")
    out = {}
    for name in ("camera", "astronaut"):
        path = folder / f"{name}.png"
        Image.fromarray(getattr(skimage.data, name)()).save(path)
        out[name] = path, analyse(path)
    return out


@pytest.mark.parametrize("move", ["", "parallax "])
def test_every_shot_of_a_timeline_is_looked_at(stills: dict[str, tuple[Path, Framing]], move: str) -> None:
    plan = direct_timeline(
        f"a cinematic {move}slideshow, 2 seconds each", [Still(k, f.size, f) for k, (_, f) in stills.items()]
    )
    tl = Timeline.parse(plan.draft)
    seen = sight.look_ahead(tl, lambda src: stills[src][0])
    assert seen.ahead, "the astronaut's face, in the second shot"
    for x0, y0, x1, y1 in seen.ahead:  # her face: high in the frame, left of the rocket
        assert 0.25 < x0 < x1 < 0.7 and y0 < 0.25, (x0, y0, x1, y1)
    # Her face comes near the top of the frame: scope bars would cross it in some frame, 2:1 bars in none.
    assert any(y0 - 0.1 * (y1 - y0) < bar_rows((1920, 1080)) / 1080 for _, y0, _, y1 in seen.ahead)


def test_bokeh_and_the_bars_find_the_faces_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, ...]] = []
    real = sight.analyse_rgb

    def counted(rgb: U8, size: tuple[int, int] | None = None) -> Framing:
        calls.append(rgb.shape)
        return real(rgb, size)

    monkeypatch.setattr(sight, "analyse_rgb", counted)
    astronaut = np.ascontiguousarray(skimage.data.astronaut()[:288])  # her face near the top of a 16:9 frame
    life = Life(["bokeh", "letterbox"], 1.0)
    frames = [_planes(cv2.resize(astronaut, (640, 360), interpolation=cv2.INTER_AREA)) for _ in range(3)]
    for t, frame in zip((0.0, 0.5, 1.0), frames, strict=True):
        life.apply(frame, t)
    assert len(calls) == 1
    [face] = life.sight.framing(frames[0]).faces
    rows = int((frames[0][0][:180] <= 17).all(axis=1).sum())
    assert rows == bar_rows((640, 360), 2.0) and face[1] * 360 >= rows  # the bars gave way to her face


def test_a_still_with_no_one_in_it_adds_no_face(stills: dict[str, tuple[Path, Framing]]) -> None:
    path, framing = stills["camera"]
    plan = direct_timeline("a cinematic slideshow, 2 seconds each", [Still("camera", framing.size, framing)] * 2)
    assert sight.look_ahead(Timeline.parse(plan.draft), lambda _src: path).ahead == ()
