"""Subject pop on a real photograph: a feathered cut-out over a filled background, composited in its box."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import skimage.data

from prefect_nemo.local.studio.cutout import Cutout, SubjectPop
from prefect_nemo.local.studio.depth import DepthMap, estimate_depth
from prefect_nemo.local.studio.frames import source_planes

OUT = (320, 180)
Planes = tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]


@pytest.fixture(scope="module")
def coffee() -> tuple[DepthMap, Planes, Cutout]:
    rgb = cv2.resize(skimage.data.coffee(), (720, 480), interpolation=cv2.INTER_AREA)
    depth = estimate_depth(rgb)
    planes = source_planes(rgb)
    return depth, planes, Cutout.make(planes, depth)


def _blank() -> Planes:
    w, h = OUT
    return np.zeros((h, w), np.uint8), np.zeros((h // 2, w // 2), np.uint8), np.zeros((h // 2, w // 2), np.uint8)


def test_alpha_is_feathered_at_the_edge_and_solid_inside(coffee: tuple[DepthMap, Planes, Cutout]) -> None:
    _, _, cut = coffee
    alpha = cut.alpha
    assert (alpha == 255).mean() > 0.2 and (alpha == 0).mean() > 0.05
    edge = cv2.morphologyEx((alpha > 127).astype(np.uint8), cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) > 0
    soft = (alpha[edge] > 0) & (alpha[edge] < 255)
    assert soft.mean() > 0.8  # the boundary is a ramp, not a hard cut


def test_the_background_is_filled_where_the_subject_stood(coffee: tuple[DepthMap, Planes, Cutout]) -> None:
    depth, planes, cut = coffee
    h, w = planes[0].shape
    inside = cv2.resize(depth.subject, (w, h)) > 0.9
    changed = np.abs(cut.background[0].astype(int) - planes[0])[inside]
    assert (changed > 2).mean() > 0.5  # the cup is painted over...
    outside = cv2.resize(depth.subject, (w, h)) < 0.01
    far = cv2.erode(outside.astype(np.uint8), np.ones((61, 61), np.uint8)) > 0
    assert np.array_equal(cut.background[0][far], planes[0][far])  # ...and nothing far from it


def test_frames_composite_both_layers_and_the_subject_moves(coffee: tuple[DepthMap, Planes, Cutout]) -> None:
    _, _, cut = coffee
    pop = SubjectPop(cut, OUT, 10)
    first, last = _blank(), _blank()
    pop.render(0, first)
    pop.render(9, last)
    assert np.abs(first[0].astype(int) - last[0]).mean() > 2
    # frame 0 before any lift shows the picture as it was: the layers line up to within rounding
    plain = _blank()
    luma, chroma = pop.background.matrices(0)
    original = source_planes(cv2.resize(skimage.data.coffee(), (720, 480), interpolation=cv2.INTER_AREA))
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    for plane, target, m in zip(original, plain, (luma, chroma, chroma), strict=True):
        cv2.warpAffine(plane, m, target.shape[::-1], dst=target, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    assert np.abs(first[0].astype(int) - plain[0]).mean() < 6


def test_the_grown_subject_stays_anchored_at_its_base(coffee: tuple[DepthMap, Planes, Cutout]) -> None:
    """The subject grows about where it stands: that point is where the background puts it, every frame."""
    _, _, cut = coffee
    pop = SubjectPop(cut, OUT, 10, drift=(0.0, 0.0))
    lh, lw = cut.luma.shape[:2]
    base = np.array([lw / 2, lh * 0.95])  # crop pixels
    for i in (0, 5, 9):
        bg = np.vstack([pop.background.matrices(i)[0], [0, 0, 1]])
        on_frame = np.linalg.solve(bg, [*(base + cut.origin), 1.0])
        assert pop.subject_matrix(i) @ on_frame == pytest.approx(base, abs=1e-6)
    assert pop.subject_matrix(9)[0, 0] < pop.subject_matrix(0)[0, 0] * 0.95  # and it does grow


def test_skipping_the_background_under_the_opaque_subject_changes_nothing(
    coffee: tuple[DepthMap, Planes, Cutout], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, cut = coffee
    pop = SubjectPop(cut, OUT, 10)
    fast, full = _blank(), _blank()
    pop.render(6, fast)
    holes = [hole for _, hole in pop._spans(pop.subject_matrix(6))]
    assert sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in holes) > 0.02 * OUT[0] * OUT[1]
    monkeypatch.setattr(pop, "_spans", lambda m: [])
    pop.render(6, full)
    for a, b in zip(fast, full, strict=True):  # warping in pieces may round a pixel differently, never more
        assert np.abs(a.astype(int) - b).max() <= 1 and (a != b).mean() < 0.001


def test_a_subject_touching_the_frame_edge_costs_no_extra_warp(
    coffee: tuple[DepthMap, Planes, Cutout], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An opaque hole reaching the frame's edge leaves empty pieces, which must not be warped at all
    (OpenCV reads an empty size as "the source's size" and would warp the whole source)."""
    _, _, cut = coffee
    pop = SubjectPop(cut, OUT, 10)
    full, half = (0, 0, OUT[0], OUT[1] // 2), (0, OUT[1] // 2, OUT[0], OUT[1])
    edge = [(full, (0, 0, 40, OUT[1] // 2)), (half, (OUT[0] - 40, OUT[1] // 2, OUT[0], OUT[1]))]
    monkeypatch.setattr(pop, "_spans", lambda m: edge)
    sizes: list[tuple[int, int]] = []
    real = cv2.warpAffine

    def spy(src: npt.NDArray[np.uint8], m: npt.NDArray[np.float64], size: tuple[int, int], **kw: object) -> object:
        sizes.append(size)
        return real(src, m, size, **kw)

    monkeypatch.setattr(cv2, "warpAffine", spy)
    pop.render(3, _blank())
    assert sizes and all(w > 0 and h > 0 for w, h in sizes)
