"""Shots on real photographs (scikit-image) through the real renderer to real MP4s read back with PyAV: a
flat shot is today's warp, a parallax clip is not one flat warp, the face stays in frame, nothing tears."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest
import skimage.data
from PIL import Image

from prefect_nemo.client import NemoClient
from prefect_nemo.local.studio import frames
from prefect_nemo.local.studio.framing import analyse_rgb
from prefect_nemo.local.studio.motion import CameraPath, Motion
from prefect_nemo.local.studio.renderer import EncodeSettings, render_final, render_motion
from prefect_nemo.local.studio.shots import DepthShot, FlatShot, PopShot, open_shot
from prefect_nemo.polling import Backoff, Deadline

F32 = npt.NDArray[np.float32]
OUT = (320, 180)
FINE = EncodeSettings("medium", 14)  # little compression noise: the flatness probe reads sub-pixel motion


def still(tmp: Path, name: str) -> Path:
    path = tmp / f"{name}.png"
    Image.fromarray(getattr(skimage.data, name)()).save(path)
    return path


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("shots")
    return {name: still(tmp, name) for name in ("astronaut", "coffee", "chelsea")}


def draft(mo: dict[str, Any], ms: int = 1500, fx: dict[str, Any] | None = None) -> dict[str, Any]:
    video: dict[str, Any] = {"id": "v1", "s": 0, "d": ms, "src": "img", "mo": mo, **({"fx": fx} if fx else {})}
    return {"d": ms, "m": {"width": OUT[0], "height": OUT[1], "fps": 20}, "t": [{"tt": 0, "sg": [video]}]}


def decoded(path: Path, fmt: str = "gray") -> list[npt.NDArray[Any]]:
    with av.open(str(path)) as box:
        return [f.to_ndarray(format=fmt) for f in box.decode(video=0)]


def off_affine_p75(one: npt.NDArray[np.uint8], two: npt.NDArray[np.uint8]) -> float:
    """75th percentile distance of tracked points (pyramidal LK, forward-backward checked) from the best single
    affine map between two frames: about 0.3 px for any flat warp (bench/motion.py's probe)."""
    pts = cv2.goodFeaturesToTrack(one, 800, 0.01, 5)
    lk: dict[str, Any] = {"winSize": (15, 15), "maxLevel": 3}
    fwd, ok1, _ = cv2.calcOpticalFlowPyrLK(one, two, pts, None, **lk)
    back, ok2, _ = cv2.calcOpticalFlowPyrLK(two, one, fwd, None, **lk)
    good = (ok1.ravel() == 1) & (ok2.ravel() == 1) & (np.linalg.norm((pts - back).reshape(-1, 2), axis=1) < 0.3)
    src, dst = pts.reshape(-1, 2)[good], fwd.reshape(-1, 2)[good]
    assert len(src) > 40, "too few tracked points to judge"
    fit, _ = cv2.estimateAffine2D(src, dst, method=cv2.LMEDS)
    return float(np.quantile(np.linalg.norm(src @ fit[:, :2].T + fit[:, 2] - dst, axis=1), 0.75))


def source(path: Path, mo: Motion) -> tuple[npt.NDArray[np.uint8], frames.Planes]:
    rgb = frames.load_rgb(path, frames.scale_for(mo, *OUT))
    return rgb, frames.source_planes(rgb)


def blank() -> frames.Planes:
    w, h = OUT
    return np.zeros((h, w), np.uint8), np.zeros((h // 2, w // 2), np.uint8), np.zeros((h // 2, w // 2), np.uint8)


class TestOpenShot:
    def test_the_mode_picks_the_maker(self, photos: dict[str, Path]) -> None:
        rgb, planes = source(photos["coffee"], Motion())
        made = {mode: type(open_shot(Motion(mode=mode), planes, OUT, 10, rgb=rgb)) for mode in
                ("flat", "parallax", "dolly_zoom", "push_3d", "pop")}  # fmt: skip
        assert made == {"flat": FlatShot, "parallax": DepthShot, "dolly_zoom": DepthShot, "push_3d": DepthShot,
                        "pop": PopShot}  # fmt: skip

    def test_a_flat_shot_is_exactly_the_renderers_warp(self, photos: dict[str, Path]) -> None:
        mo = Motion(type="ken_burns", zoom=(1.0, 1.3))
        _, planes = source(photos["chelsea"], mo)
        shot = open_shot(mo, planes, OUT, 12)
        path = CameraPath(mo, (planes[0].shape[1], planes[0].shape[0]), OUT, 12)
        got, want = blank(), blank()
        shot.render(7, got)
        luma, chroma = path.matrices(7)
        for plane, target, m in zip(planes, want, (luma, chroma, chroma), strict=True):
            cv2.warpAffine(plane, m, target.shape[::-1], dst=target, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        assert all(np.array_equal(a, b) for a, b in zip(got, want, strict=True))
        assert shot.planes is planes and np.allclose(shot.path.matrices(3)[0], path.matrices(3)[0])

    @pytest.mark.parametrize("mode", ["parallax", "dolly_zoom", "push_3d"])
    def test_the_depth_camera_never_samples_off_the_picture(self, photos: dict[str, Path], mode: str) -> None:
        rgb, planes = source(photos["astronaut"], Motion())
        shot = open_shot(Motion(mode=mode, travel=1.0), planes, OUT, 16, rgb=rgb)
        assert isinstance(shot, DepthShot)
        h, w = shot.planes[0].shape
        for i in range(shot.n):
            luma, _ = shot.camera.maps(i)
            assert luma[..., 0].min() >= -0.5 and luma[..., 0].max() <= w - 0.5, f"hole at frame {i}"
            assert luma[..., 1].min() >= -0.5 and luma[..., 1].max() <= h - 0.5, f"hole at frame {i}"

    def test_a_bad_mode_is_one_readable_line(self) -> None:
        with pytest.raises(ValueError, match=r"^unknown motion mode 'spin'; expected one of flat, parallax"):
            Motion.from_draft({"mode": "spin"})
        with pytest.raises(ValueError, match="takes no 'then'"):
            Motion.from_draft({"mode": "parallax", "then": [{"type": "static"}]})
        with pytest.raises(ValueError, match="motion subject="):
            Motion.from_draft({"mode": "pop", "subject": [0.5, 0.5, 0.2, 0.9]})


def push_in_residual(photo: Path, mode: str, out: Path) -> float:
    """How far the coffee photo's push-in in ``mode`` is from one flat warp, between its 30% and 70% frames."""
    render_motion(photo, draft({"type": "push_in", "mode": mode}), out, settings=FINE)
    clip = decoded(out)
    assert len(clip) == 30
    return off_affine_p75(clip[9], clip[20])


@pytest.fixture(scope="module")
def flat_residual(photos: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> float:
    """The flat push-in's figure (about 0.3 px): rendered once, the yardstick for parallax and pop."""
    return push_in_residual(photos["coffee"], "flat", tmp_path_factory.mktemp("flat") / "flat.mp4")


class TestInTheMp4:
    def test_a_parallax_clip_is_not_one_flat_warp(
        self, photos: dict[str, Path], flat_residual: float, tmp_path: Path
    ) -> None:
        parallax = push_in_residual(photos["coffee"], "parallax", tmp_path / "parallax.mp4")
        print(f"off the best affine map: push-in {flat_residual:.2f} px, parallax {parallax:.2f} px")
        assert parallax >= 3 * flat_residual and parallax >= 1.0

    @pytest.mark.parametrize("mode", ["parallax", "dolly_zoom", "push_3d", "pop"])
    def test_the_face_stays_in_frame(self, photos: dict[str, Path], tmp_path: Path, mode: str) -> None:
        rgb = skimage.data.astronaut()
        framing = analyse_rgb(rgb)
        assert framing.faces
        keep = list(framing.faces[0])
        out = tmp_path / f"{mode}.mp4"
        mo = {"type": "push_in", "mode": mode, "focus": [0.44, 0.22], "keep": keep}
        render_final(draft(mo), {"img": photos["astronaut"]}, out, settings=FINE)
        clip = decoded(out, "rgb24")
        for i in (0, len(clip) // 2, len(clip) - 1):
            faces = analyse_rgb(clip[i]).faces
            assert faces, f"{mode}: no face at frame {i}"
            x0, y0, x1, y1 = faces[0]
            assert x0 > 0.0 and y0 > 0.0 and x1 < 1.0 and y1 < 1.0, f"{mode}: face cut at frame {i}: {faces[0]}"

    def test_subject_pop_moves_the_subject_against_its_background(
        self, photos: dict[str, Path], flat_residual: float, tmp_path: Path
    ) -> None:
        assert push_in_residual(photos["coffee"], "pop", tmp_path / "pop.mp4") >= 3 * flat_residual

    def test_life_effects_reach_the_file_in_preview_and_final(self, photos: dict[str, Path], tmp_path: Path) -> None:
        plain, alive = tmp_path / "plain.mp4", tmp_path / "alive.mp4"
        mo = {"type": "static", "zoom": [1, 1]}
        render_final(draft(mo), {"img": photos["chelsea"]}, plain, settings=FINE)
        render_final(draft(mo, fx={"life": ["grain", "light_leak", "bokeh"]}), {"img": photos["chelsea"]}, alive,
                     settings=FINE)  # fmt: skip
        a, b = (np.asarray(decoded(p), np.float32) for p in (plain, alive))
        assert (b - a).mean() > 2  # light leak and bokeh only brighten
        changes = np.abs(np.diff(b - a, axis=0)).mean(axis=(1, 2))
        still = np.abs(np.diff(a, axis=0)).mean(axis=(1, 2))  # the plain static clip: only coding noise
        print(f"frame-to-frame change: alive min {changes.min():.3f}, plain max {still.max():.3f}")
        assert changes.min() > max(0.15, 3 * still.max())  # every frame differs from the last: grain, drift

    def test_an_unknown_life_effect_is_refused(self, photos: dict[str, Path], tmp_path: Path) -> None:
        with pytest.raises(ValueError, match=r"fx life=\['confetti'\] must be a list of grain, light_leak, bokeh"):
            render_motion(photos["coffee"], draft({}, fx={"life": ["confetti"]}), tmp_path / "x.mp4")


async def test_three_second_parallax_through_the_local_server(
    client: NemoClient, photos: dict[str, Path], tmp_path: Path
) -> None:
    session = await client.create_session()
    await client.upload_file(session.session_id, photos["astronaut"])
    fast = Backoff(initial=0.2, factor=1.5, cap=1.0)
    result = await client.generate(session.session_id, "3-second parallax, 16:9, 720p", backoff=fast)
    assert result.draft is not None
    video = next(t["sg"][0] for t in result.draft["t"] if t["tt"] == 0)
    assert video["mo"]["mode"] == "parallax" and result.draft["d"] == 3000
    render_id = f"render_{uuid.uuid4().hex}"
    await client.submit_render(session.session_id, result.draft, render_id)
    job = await client.wait_for_render(render_id, deadline=Deadline(180), backoff=fast)
    path = await client.download(job, tmp_path / "parallax.mp4")
    clip = decoded(path)
    assert len(clip) == 90 and clip[0].shape == (720, 1280)
    assert np.abs(clip[0].astype(int) - clip[-1]).mean() > 2  # it moved
