"""A frame drawn in pieces is the frame drawn whole: planes warped box by box, and a packed layer
composited over boxes, against one warp and a floating-point composite, on a real photograph."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import numpy.typing as npt
import skimage.data

from prefect_nemo.local.studio.frames import source_planes
from prefect_nemo.local.studio.pieces import Composite, PlaneWarp, Scratch

U8 = npt.NDArray[np.uint8]
Planes = tuple[U8, U8, U8]
W, H = 320, 180
FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
LUMA = np.array([[1.7, 0.0, 21.3], [0.0, 1.7, 13.9]])  # output pixel -> source pixel, a zoomed-in view
CHROMA = np.array([[1.7, 0.0, (21.3 + 1.7 * 0.5 + 0.5) / 2 - 0.5], [0.0, 1.7, (13.9 + 1.7 * 0.5 + 0.5) / 2 - 0.5]])


def _planes() -> Planes:
    return source_planes(cv2.resize(skimage.data.astronaut(), (640, 640), interpolation=cv2.INTER_AREA))


def _blank() -> Planes:
    return np.zeros((H, W), np.uint8), np.zeros((H // 2, W // 2), np.uint8), np.zeros((H // 2, W // 2), np.uint8)


def _boxes() -> list[tuple[int, int, int, int]]:
    """Uneven pieces tiling the frame: narrow columns, wide ones, bands of several heights."""
    xs, ys = (0, 18, 64, 70, 202, 320), (0, 30, 32, 120, 180)
    pairs = itertools.product(itertools.pairwise(xs), itertools.pairwise(ys))
    return [(x0, y0, x1, y1) for (x0, x1), (y0, y1) in pairs]


def test_planes_warped_in_pieces_are_the_planes_warped_whole() -> None:
    src = _planes()
    whole, pieces = _blank(), _blank()
    for plane, target, m in zip(src, whole, (LUMA, CHROMA, CHROMA), strict=True):
        cv2.warpAffine(plane, m, target.shape[::-1], dst=target, flags=FLAGS, borderMode=cv2.BORDER_REPLICATE)
    warp = PlaneWarp(src, LUMA, CHROMA, cv2.BORDER_REPLICATE)
    for box in _boxes():
        warp.draw(box, pieces)
    for a, b in zip(whole, pieces, strict=True):
        assert int(np.abs(a.astype(int) - b).max()) <= 1


def test_a_layer_composited_in_pieces_is_the_layer_over_the_frame() -> None:
    y, u, v = _planes()
    alpha = np.zeros(y.shape, np.uint8)
    cv2.circle(alpha, (330, 300), 180, 255, -1)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 6)  # a feathered disc: opaque, see-through and clear parts
    alpha_c = cv2.resize(alpha, u.shape[::-1], interpolation=cv2.INTER_AREA)
    pairs = ((y, alpha), (u, alpha_c), (v, alpha_c))
    premultiplied = [(p.astype(np.float32) * a / 255).round().astype(np.uint8) for p, a in pairs]
    zero = np.zeros_like(alpha)
    luma = cv2.merge([premultiplied[0], 255 - alpha, zero, zero])
    chroma = cv2.merge([premultiplied[1], premultiplied[2], 255 - alpha_c, np.zeros_like(alpha_c)])
    frame = _blank()
    for target, fill in zip(frame, (90, 110, 150), strict=True):
        target[:] = fill
    drawn = tuple(p.copy() for p in frame)
    composite = Composite((luma, chroma), LUMA, CHROMA, 1.0, Scratch(W * H))
    for box in _boxes():
        composite.draw(box, drawn)  # type: ignore[arg-type]

    def warped(plane: U8, m: npt.NDArray[np.float64], shape: tuple[int, int]) -> npt.NDArray[np.float32]:
        return cv2.warpAffine(plane.astype(np.float32), m, shape[::-1], flags=FLAGS)

    for k, (target, drawn_plane) in enumerate(zip(frame, drawn, strict=True)):
        m, a = (LUMA, alpha) if k == 0 else (CHROMA, alpha_c)
        expected = warped(premultiplied[k], m, target.shape) + target * (1 - warped(a, m, target.shape) / 255)
        assert float(np.abs(expected - drawn_plane).max()) <= 2.5
    assert int(np.abs(drawn[0].astype(int) - frame[0]).max()) > 50  # the layer is there, not just the frame
