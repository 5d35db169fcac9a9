"""Letterbox bars on real photographs: black rows above and below a landscape picture, read back from a real MP4,
the title on the picture and not on a bar, no bars on an upright frame, and none across a face."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest
import skimage.data
from PIL import Image

from prefect_nemo.local.studio import looks
from prefect_nemo.local.studio.director import direct
from prefect_nemo.local.studio.frames import Timeline, animate
from prefect_nemo.local.studio.framing import analyse, analyse_rgb
from prefect_nemo.local.studio.letterbox import Letterbox, bar_rows, picture_rows
from prefect_nemo.local.studio.life import Life
from prefect_nemo.local.studio.overlay import TextLayer
from prefect_nemo.local.studio.renderer import render_final

U8 = npt.NDArray[np.uint8]
ROOT = Path(__file__).resolve().parents[3]
Planes = tuple[U8, U8, U8]


def _planes(rgb: U8) -> Planes:
    h, w = rgb.shape[:2]
    yuv = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
    u, v = yuv[h : h + h // 4].reshape(h // 2, w // 2), yuv[h + h // 4 :].reshape(h // 2, w // 2)
    return yuv[:h].copy(), u.copy(), v.copy()


def _frame(image: U8, size: tuple[int, int]) -> Planes:
    return _planes(cv2.resize(image, size, interpolation=cv2.INTER_AREA))


def test_the_bars_leave_a_scope_picture_on_landscape_frames_only() -> None:
    assert bar_rows((1920, 1080)) == 138 and (1080 - 2 * 138) / 1080 * 2.39 == pytest.approx(1920 / 1080, abs=0.01)
    assert bar_rows((1280, 720)) == 92
    assert bar_rows((1080, 1920)) == bar_rows((1080, 1080)) == bar_rows((1080, 1350)) == 0
    assert bar_rows((2560, 1000)) == 0  # already wider than 2.39:1
    assert picture_rows(["grain", "letterbox"], (1920, 1080)) == (138, 942)
    assert picture_rows(["grain"], (1920, 1080)) == picture_rows(None, (1920, 1080)) == (0, 1080)


def test_an_upright_frame_is_left_alone() -> None:
    frame = _frame(skimage.data.coffee(), (360, 640))
    before = tuple(p.copy() for p in frame)
    Letterbox((360, 640)).apply(0, frame)
    assert all(np.array_equal(a, b) for a, b in zip(frame, before, strict=True))


def test_the_bars_stay_black_under_grain_and_bokeh() -> None:
    frame = _frame(skimage.data.coffee(), (640, 360))
    Life(["letterbox", "grain", "bokeh"], 1.0).apply(frame, 0.5)
    rows = bar_rows((640, 360))
    y, u, v = frame
    assert (y[:rows] == 16).all() and (y[-rows:] == 16).all()
    assert (u[: rows // 2] == 128).all() and (v[-rows // 2 :] == 128).all()
    assert float(y[rows:-rows].std()) > 20  # the picture is untouched between them


def test_the_bars_thin_or_leave_off_rather_than_cross_a_face() -> None:
    box = Letterbox((1920, 1080))
    assert box.fit(()) == 138
    assert box.fit(((0.4, 0.35, 0.6, 0.65),)) == 138  # a face in the middle
    assert box.fit(((0.4, 0.12, 0.5, 0.3),)) == 60  # near the top: 2:1 bars clear it, scope bars would not
    assert box.fit(((0.4, 0.01, 0.5, 0.2),)) == 0  # at the very top: no bars at all
    # A real face: the astronaut framed with her face near the top of a 16:9 frame.
    astronaut = skimage.data.astronaut()[:288]
    [face] = analyse_rgb(np.ascontiguousarray(astronaut)).faces
    frame = _frame(astronaut, (1024, 576))
    Letterbox((1024, 576)).apply(0, frame)
    top = round(face[1] * 576)
    assert float(frame[0][:top].std()) > 5  # the rows above her face still show picture


def test_a_title_sits_on_the_picture_between_the_bars() -> None:
    rows = picture_rows(["letterbox"], (1920, 1080))
    for pos in ("top", "center", "bottom", "bottom_right"):
        seg = {"text": "Espresso", "pos": pos, "s": 0, "d": 1000}
        layer = TextLayer.build(seg, 1920, 1080, rows)
        assert layer is not None
        assert rows[0] <= layer.y and layer.y + layer.alpha[0].shape[0] <= rows[1], pos
    plain = TextLayer.build({"text": "Espresso", "pos": "bottom"}, 1920, 1080)
    assert plain is not None and plain.y + plain.alpha[0].shape[0] > rows[1]  # where it would sit without bars


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A real 720p MP4 of the coffee photograph, "cinematic" with a title at the bottom, and its bar height."""
    folder = tmp_path_factory.mktemp("letterbox")
    image = folder / "coffee.jpg"
    Image.fromarray(skimage.data.coffee()).save(image, quality=90)
    d = direct("cinematic, 2 seconds, 720p, title 'Espresso'", image_asset="coffee", image_size=(600, 400))
    assert d.draft["t"][0]["sg"][0]["fx"]["life"] == ["grain", "letterbox"]
    render_final(d.draft, {"coffee": image}, folder / "clip.mp4")
    return folder / "clip.mp4", bar_rows((1280, 720))


def test_a_cinematic_mp4_has_black_bars_and_its_title_on_the_picture(clip: tuple[Path, int]) -> None:
    path, rows = clip
    with av.open(str(path)) as box:
        frames = [f.to_ndarray(format="yuv420p") for f in box.decode(video=0)]
    assert len(frames) == 60 and rows == 92
    for yuv in frames:
        y, u = yuv[:720], yuv[720:900].reshape(360, 640)
        inner = 8  # x264 rings a few rows next to the picture
        for bar in (y[: rows - inner], y[720 - rows + inner :]):
            assert np.abs(bar.astype(int) - 16).max() <= 2
        for bar in (u[: rows // 2 - inner // 2], u[360 - rows // 2 + inner // 2 :]):
            assert np.abs(bar.astype(int) - 128).max() <= 2
        assert float(y[rows + 8 : 720 - rows - 8].std()) > 20  # the picture between them is not black
    # The title fades in above the bottom bar: bright text pixels appear there, none on the bar.
    above = slice(720 - rows - 150, 720 - rows)
    bright = [int((yuv[:720][above] > 200).sum()) for yuv in (frames[0], frames[30])]
    assert bright[1] > bright[0] + 500, bright


def test_faces_stay_between_the_bars_in_every_frame_and_the_reply_says_when_the_bars_give_way(
    tmp_path: Path,
) -> None:
    """The astronaut's hair is near the top of the photograph: the director frames the camera so her face stays
    between 2:1 bars (scope bars would cut it) and says so; the renderer's bars agree."""
    image = tmp_path / "astronaut.png"
    Image.fromarray(skimage.data.astronaut()).save(image)
    framing = analyse(image)
    d = direct("cinematic push in, 2 seconds", image_asset="a", image_size=framing.size, framing=framing)
    assert "the letterbox bars are thinner" in " ".join(d.texts[1:])
    tl = Timeline.parse(d.draft).scaled(480, 10)
    effect = looks.effect(d.draft, tl.frames / tl.fps)
    frames = [cv2.cvtColor(f.to_ndarray(), cv2.COLOR_YUV2RGB_I420) for f in animate(tl, lambda _: image, [], effect)]
    rows = int((frames[0][: tl.height // 2, :, 1] <= 20).all(axis=1).sum())
    assert rows == bar_rows((tl.width, tl.height), 2.0)
    for frame in frames[:: len(frames) // 4]:
        [face] = analyse_rgb(frame).faces
        assert face[1] * tl.height >= rows and face[3] * tl.height <= tl.height - rows, face


def test_without_faces_the_subject_is_kept_a_bar_clear_of_the_frame_edges(tmp_path: Path) -> None:
    """A page of text (scikit-image's scan) has room above and below its paragraph: the bars stay, and the box
    the camera keeps in view grows by a bar above and below it, so the bars never reach the paragraph."""
    image = tmp_path / "page.png"
    Image.fromarray(skimage.data.page()).save(image)
    page = analyse(image)
    assert page.subject is not None and not page.faces
    d = direct("cinematic push in, 2 seconds", image_asset="p", image_size=page.size, framing=page)
    plain = direct("push in, 2 seconds", image_asset="p", image_size=page.size, framing=page)
    video = d.draft["t"][0]["sg"][0]
    assert video["fx"]["life"] == ["grain", "letterbox"] and d.texts[1:] == plain.texts[1:]
    kept, subject = video["mo"]["keep"], page.subject
    bar = bar_rows((1920, 1080)) / 1080  # the page is wider than 16:9: the widest view shows its full height
    assert kept[1] <= subject[1] - bar and kept[3] >= subject[3] + bar


@pytest.mark.parametrize("photo", ["product", "coffee"])
def test_a_subject_with_no_room_for_the_bars_keeps_the_full_frame(photo: str, tmp_path: Path) -> None:
    """The bottle with its cap, and the cup on its saucer, nearly fill a 16:9 view from top to bottom: scope
    bars would cut them, so the bars are left off, the framing is the plain one, and the reply says so."""
    if photo == "coffee":
        image = tmp_path / "coffee.png"
        Image.fromarray(skimage.data.coffee()).save(image)
    else:
        image = ROOT / "examples" / "product.jpg"
    framing = analyse(image)
    plain = direct("push in", image_asset="c", image_size=framing.size, framing=framing)
    cinematic = direct("cinematic push in", image_asset="c", image_size=framing.size, framing=framing)
    video, plain_video = cinematic.draft["t"][0]["sg"][0], plain.draft["t"][0]["sg"][0]
    assert video["fx"]["life"] == ["grain"] and video["mo"].get("keep") == plain_video["mo"].get("keep")
    note = "The subject has no room for letterbox bars above and below it, so I left them off."
    assert cinematic.texts[1:] == [note, *plain.texts[1:]]
