"""Subject pop's frames on real photographs: the layers move apart, and compositing only the see-through
runs gives the frame a whole composite would."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
import skimage.data
from PIL import Image

from prefect_nemo.local.studio.cutout import Cutout
from prefect_nemo.local.studio.depth import DepthMap, estimate_depth
from prefect_nemo.local.studio.frames import source_planes
from prefect_nemo.local.studio.subject_pop import SubjectPop

OUT = (320, 180)
Planes = tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], npt.NDArray[np.uint8]]
SKYLINE = Path(__file__).resolve().parents[3] / "examples" / "portrait.jpg"


def _blank() -> Planes:
    w, h = OUT
    return np.zeros((h, w), np.uint8), np.zeros((h // 2, w // 2), np.uint8), np.zeros((h // 2, w // 2), np.uint8)


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
    pop = SubjectPop(cut, OUT, 10, full_size_rim=True)  # the rim from the full-size layers, as the box is
    fast, full = _blank(), _blank()
    pop.render(6, fast)
    strips = pop.strips(pop.subject_matrix(6))
    assert strips is not None
    opaque = sum((y1 - y0) * (x1 - x0) for y0, y1, _, runs in strips for x0, x1 in runs)
    assert opaque > 0.02 * OUT[0] * OUT[1]
    monkeypatch.setattr(pop, "strips", lambda m: None)  # the background whole, the layer over its box
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
    w, h = OUT
    edge = [(0, h // 2, [(0, w)], [(0, 40)]), (h // 2, h, [(0, w)], [(w - 40, w)])]
    monkeypatch.setattr(pop, "strips", lambda m: edge)
    sizes: list[tuple[int, int]] = []
    real = cv2.warpAffine

    def spy(src: npt.NDArray[np.uint8], m: npt.NDArray[np.float64], size: tuple[int, int], **kw: object) -> object:
        sizes.append(size)
        return real(src, m, size, **kw)

    monkeypatch.setattr(cv2, "warpAffine", spy)
    pop.render(3, _blank())
    assert sizes and all(w > 0 and h > 0 for w, h in sizes)


def test_a_subject_of_several_parts_leaves_its_gaps_to_the_background(monkeypatch: pytest.MonkeyPatch) -> None:
    """A skyline is several towers: a band of its rows holds several opaque runs, the sky between them is
    background only, and the frame is still the one a whole composite makes."""
    rgb = cv2.resize(np.asarray(Image.open(SKYLINE).convert("RGB")), (640, 360), interpolation=cv2.INTER_AREA)
    planes = source_planes(rgb)
    cut = Cutout.make(planes, estimate_depth(rgb))
    pop = SubjectPop(cut, OUT, 10, full_size_rim=True)  # the rim from the full-size layers, as the box is
    strips = pop.strips(pop.subject_matrix(4))
    assert strips is not None and max(len(opaque) for _, _, _, opaque in strips) >= 2
    fast, full = _blank(), _blank()
    pop.render(4, fast)
    monkeypatch.setattr(pop, "strips", lambda m: None)
    pop.render(4, full)
    for a, b in zip(fast, full, strict=True):
        assert np.abs(a.astype(int) - b).max() <= 1 and (a != b).mean() < 0.001


def test_the_rim_from_the_chroma_resolution_layer_looks_the_same(coffee: tuple[DepthMap, Planes, Cutout]) -> None:
    """The see-through rim is composited from the cut-out's chroma-resolution layer (one warp of a quarter
    of the pixels): on a feathered edge that moves nothing visibly."""
    _, _, cut = coffee
    a, b = _blank(), _blank()
    SubjectPop(cut, OUT, 10).render(6, a)
    SubjectPop(cut, OUT, 10, full_size_rim=True).render(6, b)
    diff = np.abs(a[0].astype(int) - b[0])
    assert (diff > 0).mean() > 0.001  # the luma rim is drawn from the smaller layer...
    # ...to the same look (at 1080p the eight benchmark photographs' frames had at most 1.5% over 2 levels)
    assert (diff > 2).mean() < 0.04 and diff.mean() < 0.4, ((diff > 2).mean(), diff.mean())
    for p, q in zip(a[1:], b[1:], strict=True):  # U and V come from the same layer either way
        assert np.abs(p.astype(int) - q).max() <= 1
