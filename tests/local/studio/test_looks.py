"""Looks, fades, loops and legible text on real photographs (scikit-image), on planes and in real MP4s."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
import skimage.data
from PIL import Image

from prefect_nemo.local.studio.looks import LOOKS, effect
from prefect_nemo.local.studio.overlay import POSITIONS, TextLayer, rgb_to_yuv
from prefect_nemo.local.studio.renderer import EncodeSettings, render_final

U8 = np.ndarray[Any, np.dtype[np.uint8]]


def planes_of(rgb: np.ndarray[Any, Any]) -> tuple[U8, U8, U8]:
    """A photo as yuv420p planes, as the renderer holds a frame."""
    h, w = rgb.shape[0] // 2 * 2, rgb.shape[1] // 2 * 2
    yuv = rgb_to_yuv(rgb[:h, :w])
    y = np.clip(yuv[..., 0] + 0.5, 0, 255).astype(np.uint8)
    u, v = (np.clip(yuv[::2, ::2, i] + 0.5, 0, 255).astype(np.uint8) for i in (1, 2))
    return y, np.ascontiguousarray(u), np.ascontiguousarray(v)


def draft_with(fx: dict[str, Any], ms: int = 2000, size: tuple[int, int] = (320, 180)) -> dict[str, Any]:
    video = {"id": "v1", "s": 0, "d": ms, "src": "img", "mo": {"type": "static", "zoom": [1, 1]}, "fx": fx}
    return {"d": ms, "m": {"width": size[0], "height": size[1], "fps": 12}, "t": [{"tt": 0, "sg": [video]}]}


@pytest.fixture(scope="module")
def coffee() -> tuple[U8, U8, U8]:
    return planes_of(skimage.data.coffee())


@pytest.fixture(scope="module")
def coffee_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("looks") / "coffee.png"
    Image.fromarray(skimage.data.coffee()).save(path)
    return path


def looked(planes: tuple[U8, U8, U8], fx: dict[str, Any], t: float = 1.0) -> tuple[U8, U8, U8]:
    out = (planes[0].copy(), planes[1].copy(), planes[2].copy())
    fn = effect(draft_with(fx), 2.0)
    assert fn is not None
    fn(out, t)
    return out


class TestLooks:
    def test_no_fx_is_no_effect(self) -> None:
        assert effect(draft_with({}), 2.0) is None

    def test_black_and_white_removes_colour(self, coffee: tuple[U8, U8, U8]) -> None:
        _, u, v = looked(coffee, {"look": "bw"})
        assert np.all(u == 128) and np.all(v == 128)
        assert coffee[1].std() > 5  # the photo had colour to lose

    def test_warm_and_cool_shift_the_balance(self, coffee: tuple[U8, U8, U8]) -> None:
        _, wu, wv = looked(coffee, {"look": "warm"})
        _, cu, cv = looked(coffee, {"look": "cool"})
        assert wv.mean() > coffee[2].mean() + 3 and wu.mean() < coffee[1].mean() - 3  # redder, less blue
        assert cu.mean() > coffee[1].mean() + 3 and cv.mean() < coffee[2].mean() - 3

    def test_high_contrast_spreads_and_vintage_lifts_the_blacks(self, coffee: tuple[U8, U8, U8]) -> None:
        assert looked(coffee, {"look": "contrast"})[0].std() > coffee[0].std() * 1.05
        assert np.percentile(looked(coffee, {"look": "vintage"})[0], 1) > np.percentile(coffee[0], 1) + 5

    def test_vignette_darkens_the_corners_not_the_centre(self, coffee: tuple[U8, U8, U8]) -> None:
        y = looked(coffee, {"vignette": 0.5})[0].astype(int)
        before = coffee[0].astype(int)
        h, w = y.shape
        assert abs(y[h // 2, w // 2] - before[h // 2, w // 2]) <= 1
        assert (y[-20:, -20:].mean() - 16) < (before[-20:, -20:].mean() - 16) * 0.7  # the bright corner, dimmed

    def test_fades_go_to_black(self, coffee: tuple[U8, U8, U8]) -> None:
        start = looked(coffee, {"fade_in": 500}, t=0.0)
        assert np.all(start[0] == 16) and np.all(start[1] == 128)
        assert np.array_equal(looked(coffee, {"fade_in": 500}, t=1.0)[0], coffee[0])
        end = looked(coffee, {"fade_out": 500}, t=1.9)[0]
        assert 16 < end.mean() < coffee[0].mean() * 0.5

    @pytest.mark.parametrize(("fx", "field"), [({"look": "sepia"}, "look"), ({"vignette": 2}, "vignette"),
                                               ({"fade_in": 9000}, "fade_in")])  # fmt: skip
    def test_bad_values_name_the_field(self, fx: dict[str, Any], field: str) -> None:
        with pytest.raises(ValueError, match=f"fx {field}="):
            effect(draft_with(fx), 2.0)

    def test_a_1080p_frame_takes_a_few_milliseconds(self) -> None:
        rgb = np.asarray(Image.fromarray(skimage.data.astronaut()).resize((1920, 1080)))
        planes = planes_of(rgb)
        fn = effect(draft_with({"look": "vintage", "vignette": 0.3, "fade_out": 800}, 5000), 5.0)
        assert fn is not None
        fn(planes, 4.5)
        start = time.perf_counter()
        for _ in range(10):
            fn(planes, 4.5)
        ms = (time.perf_counter() - start) / 10 * 1000
        print(f"look + vignette + fade: {ms:.1f} ms a 1080p frame")
        assert ms < 40  # a few ms when the machine is quiet; generous for a shared 2-core box
        assert sorted(LOOKS) == ["bw", "contrast", "cool", "vintage", "warm"]


class TestInTheMp4:
    def test_fade_in_and_black_and_white_reach_the_file(self, coffee_file: Path, tmp_path: Path) -> None:
        out = tmp_path / "bw.mp4"
        draft = draft_with({"look": "bw", "fade_in": 500})
        render_final(draft, {"img": coffee_file}, out, settings=EncodeSettings.for_quality("draft"))
        with av.open(str(out)) as box:
            frames = [f.to_ndarray(format="rgb24").astype(int) for f in box.decode(video=0)]
        assert frames[0].mean() < 8  # black
        mid = frames[12]
        assert mid.mean() > 40 and np.abs(mid[..., 0] - mid[..., 2]).mean() < 3  # grey: R == B

    def test_a_crossfade_loop_ends_where_it_starts(self, coffee_file: Path, tmp_path: Path) -> None:
        out = tmp_path / "loop.mp4"
        draft = draft_with({"loop": 700})
        draft["t"][0]["sg"][0]["mo"] = {"type": "pan_right", "zoom": [1.4, 1.4], "travel": 1.0}
        render_final(draft, {"img": coffee_file}, out, settings=EncodeSettings.for_quality("draft"))
        with av.open(str(out)) as box:
            frames = [f.to_ndarray(format="gray").astype(float) for f in box.decode(video=0)]
        moved = np.abs(frames[len(frames) // 2] - frames[0]).mean()
        assert moved > 8  # the camera moved...
        assert np.abs(frames[-1] - frames[0]).mean() < moved * 0.3  # ...yet the end dissolves into the start


class TestText:
    def layer(self, pos: str = "bottom", color: str = "#ffffff") -> TextLayer:
        layer = TextLayer.build({"text": "Summer Sale", "pos": pos, "color": color, "s": 0, "d": 2000, "fi": 0,
                                 "fo": 0}, 640, 360)  # fmt: skip
        assert layer is not None
        return layer

    @pytest.mark.parametrize("pos", POSITIONS)
    def test_nine_positions(self, pos: str) -> None:
        layer = self.layer(pos)
        h, w = layer.alpha[0].shape
        cx, cy = layer.x + w / 2, layer.y + h / 2
        col = "left" if cx < 640 / 3 else "right" if cx > 640 * 2 / 3 else "center"
        row = "top" if cy < 360 / 3 else "bottom" if cy > 360 * 2 / 3 else "center"
        want = {"left": ("center", "left"), "right": ("center", "right"), "center": ("center", "center")}.get(
            pos, (pos.split("_")[0], pos.split("_")[1] if "_" in pos else "center")
        )
        assert (row, col) == want

    def test_white_text_on_a_light_background_gets_a_box(self) -> None:
        light = (np.full((360, 640), 225, np.uint8), np.full((180, 320), 128, np.uint8),
                 np.full((180, 320), 128, np.uint8))  # fmt: skip
        layer = self.layer()
        layer.apply(light, 1.0)
        assert layer.legible is False
        h, w = layer.alpha[0].shape
        assert light[0][layer.y : layer.y + h, layer.x : layer.x + w].mean() < 170  # a dark box behind it

    def test_white_text_on_a_dark_photo_needs_no_box(self) -> None:
        dark = planes_of(np.asarray(Image.fromarray(skimage.data.camera()).convert("RGB").resize((640, 360))) // 3)
        layer = self.layer()
        layer.apply(dark, 1.0)
        assert layer.legible is True

    def test_black_text_on_black_gets_a_light_box(self) -> None:
        black = (np.full((360, 640), 20, np.uint8), np.full((180, 320), 128, np.uint8),
                 np.full((180, 320), 128, np.uint8))  # fmt: skip
        layer = self.layer(color="#111111")
        layer.apply(black, 1.0)
        h, w = layer.alpha[0].shape
        assert layer.legible is False and black[0][layer.y : layer.y + h, layer.x : layer.x + w].mean() > 60
