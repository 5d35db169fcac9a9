"""The depth camera: one remap per plane, no holes, no folds, and a motion no single affine map explains."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import skimage.data

from prefect_nemo.local.studio.depth import DepthMap, estimate_depth
from prefect_nemo.local.studio.frames import source_planes
from prefect_nemo.local.studio.motion import CameraPath, Motion
from prefect_nemo.local.studio.parallax import MODES, ParallaxCamera, ParallaxMove, camera_source

OUT = (320, 180)
N = 12
Planes = tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]


@pytest.fixture(scope="module")
def scene() -> tuple[DepthMap, Planes]:
    rgb = cv2.resize(skimage.data.astronaut(), (640, 640), interpolation=cv2.INTER_AREA)  # 2x the view, as rendered
    return estimate_depth(rgb), source_planes(rgb)


def _camera(scene: tuple[DepthMap, Planes], mode: str) -> ParallaxCamera:
    depth, planes = scene
    return ParallaxCamera(depth, ParallaxMove(mode=mode), (planes[0].shape[1], planes[0].shape[0]), OUT, N)


def _blank() -> Planes:
    w, h = OUT
    return np.zeros((h, w), np.uint8), np.zeros((h // 2, w // 2), np.uint8), np.zeros((h // 2, w // 2), np.uint8)


@pytest.mark.parametrize("mode", MODES)
def test_no_frame_has_a_hole(scene: tuple[DepthMap, Planes], mode: str) -> None:
    """A white plane remapped with a black border: any pixel below white sampled outside the picture."""
    cam = _camera(scene, mode)
    white = tuple(np.full_like(p, 255) for p in scene[1])
    for i in range(N):
        dst = _blank()
        luma, chroma = cam.maps(i)
        for plane, target, m in zip(white, dst, (luma, chroma, chroma), strict=True):
            cv2.remap(plane, m, None, cv2.INTER_LINEAR, dst=target, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        assert all(int(p.min()) == 255 for p in dst), f"{mode} frame {i} has holes"


@pytest.mark.parametrize("mode", MODES)
def test_render_is_the_remap_of_its_maps_and_moves(scene: tuple[DepthMap, Planes], mode: str) -> None:
    cam = _camera(scene, mode)
    first, last = _blank(), _blank()
    cam.render(0, scene[1], first)
    cam.render(N - 1, scene[1], last)
    luma, chroma = (cv2.split(m) for m in cam.maps(N - 1))  # x and y planes, as render passes them
    for got, plane, m in ((last[0], scene[1][0], luma), (last[2], scene[1][2], chroma)):
        off = np.abs(got.astype(int) - cv2.remap(plane, *m, cv2.INTER_LINEAR))
        # Banded maps differ from the whole map by ~1e-4 px of float rounding; remap quantises positions to
        # 1/32 px, so now and then a sample moves one step: at most 255/32 levels, on the sharpest edge only.
        assert off.max() <= 8 and np.quantile(off, 0.999) <= 1 and off.mean() < 0.01
    assert np.abs(first[0].astype(int) - last[0]).mean() > 3  # the picture really moved


@pytest.mark.parametrize("box", [(0, 0, 320, 180), (100, 0, 320, 180), (0, 0, 38, 180), (0, 64, 320, 130)])
def test_a_part_of_a_frame_is_the_whole_frames_pixels_there_and_nothing_else(
    scene: tuple[DepthMap, Planes], box: tuple[int, int, int, int]
) -> None:
    cam = _camera(scene, "parallax")
    whole, part = _blank(), tuple(np.full_like(p, 7) for p in _blank())
    cam.render(N // 2, scene[1], whole)
    cam.render(N // 2, scene[1], part, box)
    x0, y0, x1, y1 = box
    for w, p, s in zip(whole, part, (1, 2, 2), strict=True):
        inside = (slice(y0 // s, y1 // s), slice(x0 // s, x1 // s))
        assert np.array_equal(p[inside], w[inside])
        p[inside] = 7
        assert int(p.min()) == int(p.max()) == 7  # nothing drawn outside the box


@pytest.mark.parametrize("mode", MODES)
def test_a_moved_frame_is_the_frame_moved(scene: tuple[DepthMap, Planes], mode: str) -> None:
    """Moved by whole grid steps (8 pixels right and up) the frame is the same pixels, moved: the depth
    displacement's grid moves with it and the radial modes keep their centre (remap's 1/32-pixel positions
    round a few pixels one level apart). Moves by any amount use the same grid shift, interpolated."""
    cam = _camera(scene, mode)
    whole, moved = _blank(), _blank()
    cam.render(N // 2, scene[1], whole)
    cam.render(N // 2, scene[1], moved, shift=(8.0, -8.0))
    pairs = ((moved[0][:-16, 16:-8], whole[0][8:-8, 8:-16]), (moved[1][:-8, 8:-4], whole[1][4:-4, 4:-8]))
    for got, want in pairs:
        off = np.abs(got.astype(int) - want)
        assert off.max() <= 1 and off.mean() < 0.001, (off.max(), off.mean())


def test_the_camera_reads_its_source_at_one_and_a_half_times_the_frames_density(
    scene: tuple[DepthMap, Planes],
) -> None:
    """The renderer's source holds 2 pixels per output pixel across its widest view; the camera's, 1.5 (a
    remap reads about half the memory), with the same picture: nothing finer than the frame can show is lost."""
    planes = scene[1]  # 640x640 for a 320x180 frame: 2x across the widest view
    source = camera_source(planes, OUT)
    assert [p.shape for p in source] == [(480, 480), (240, 240), (240, 240)]
    assert all(p.flags.c_contiguous for p in source)
    back = cv2.resize(source[0], (640, 640), interpolation=cv2.INTER_LINEAR)
    assert np.abs(back.astype(int) - planes[0]).mean() < 1.2  # the same picture (a 1x source: 1.45 levels off)
    small = tuple(np.ascontiguousarray(p[::2, ::2]) for p in planes)  # 1x: already no finer than 1.5x
    assert all(a is b for a, b in zip(camera_source(small, OUT), small, strict=True))


@pytest.mark.parametrize("mode", MODES)
def test_the_map_never_folds(scene: tuple[DepthMap, Planes], mode: str) -> None:
    """Tearing is where the map runs backwards or nearly stops: its Jacobian stays above half the camera's."""
    cam = _camera(scene, mode)
    for i in (0, N // 2, N - 1):
        luma, _ = cam.maps(i)
        dxx, dyy = np.diff(luma[..., 0], axis=1), np.diff(luma[..., 1], axis=0)
        scale = float(np.median(dxx))
        assert dxx.min() > 0.45 * scale and dyy.min() > 0.45 * scale


def _affine_residual(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    fit, _ = cv2.estimateAffine2D(a, b, method=cv2.LMEDS)
    return float(np.quantile(np.linalg.norm(a @ fit[:, :2].T + fit[:, 2] - b, axis=1), 0.75))


def test_parallax_is_not_one_flat_warp(scene: tuple[DepthMap, Planes]) -> None:
    """Between two frames a flat move is one affine map; the depth camera leaves pixels far off it."""
    cam = _camera(scene, "parallax")
    ys, xs = np.mgrid[8 : OUT[1] - 8 : 6, 8 : OUT[0] - 8 : 6]
    a, b = (cam.maps(i)[0][ys, xs].reshape(-1, 2) for i in (0, N - 1))
    flat = CameraPath(Motion(), (640, 640), OUT, N)
    points = np.stack([xs.ravel(), ys.ravel(), np.ones(xs.size)]).astype(np.float32)
    fa, fb = ((flat.matrices(i)[0] @ points).T.astype(np.float32) for i in (0, N - 1))
    assert _affine_residual(a, b) > 2.0  # source pixels
    assert _affine_residual(fa, fb) < 0.01


def test_the_subject_holds_still_while_the_background_slides(scene: tuple[DepthMap, Planes]) -> None:
    depth, _ = scene
    cam = _camera(scene, "parallax")
    a, b = cam.maps(0)[0], cam.maps(N - 1)[0]
    shift = b[..., 0] - a[..., 0]
    k = depth.size[0] / 640
    near = cv2.remap(depth.near, (a[..., 0] + 0.5) * k - 0.5, (a[..., 1] + 0.5) * k - 0.5, cv2.INTER_LINEAR)
    subject, background = np.abs(shift[near > 0.8]).mean(), np.abs(shift[near < 0.3]).mean()
    assert background > 3 * subject and background > 5


def test_a_bad_move_is_refused_with_its_reason() -> None:
    with pytest.raises(ValueError, match="unknown parallax mode 'spin'"):
        ParallaxMove(mode="spin")
    with pytest.raises(ValueError, match="strength"):
        ParallaxMove(strength=0.5)
