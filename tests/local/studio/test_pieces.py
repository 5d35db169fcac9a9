"""A frame drawn in pieces is the frame drawn whole: planes warped box by box, and a packed layer
composited over boxes (at full size, or at chroma resolution for the rim), against one warp and a
floating-point composite, on a real photograph."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import numpy.typing as npt
import skimage.data

from prefect_nemo.local.studio.frames import source_planes
from prefect_nemo.local.studio.pieces import Composite, PlaneWarp, RimComposite, Scratch

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


class _Layer:
    """A feathered disc over the astronaut, premultiplied and packed as ``cutout.Cutout`` packs it."""

    def __init__(self) -> None:
        y, u, v = _planes()
        alpha = np.zeros(y.shape, np.uint8)
        cv2.circle(alpha, (330, 300), 180, 255, -1)
        self.alpha = cv2.GaussianBlur(alpha, (0, 0), 6)  # opaque, see-through and clear parts
        self.alpha_c = cv2.resize(self.alpha, u.shape[::-1], interpolation=cv2.INTER_AREA)
        pairs = ((y, self.alpha), (u, self.alpha_c), (v, self.alpha_c))
        self.premultiplied = [(p.astype(np.float32) * a / 255).round().astype(np.uint8) for p, a in pairs]
        self.luma_c = cv2.resize(self.premultiplied[0], u.shape[::-1], interpolation=cv2.INTER_AREA)
        zero = np.zeros_like(self.alpha)
        self.luma = cv2.merge([self.premultiplied[0], 255 - self.alpha, zero, zero])
        self.chroma = cv2.merge([*self.premultiplied[1:], 255 - self.alpha_c, self.luma_c])


def _frame() -> Planes:
    frame = _blank()
    for target, fill in zip(frame, (90, 110, 150), strict=True):
        target[:] = fill
    return frame


def _warped(plane: U8, m: npt.NDArray[np.float64], shape: tuple[int, int]) -> npt.NDArray[np.float32]:
    return cv2.warpAffine(plane.astype(np.float32), m, shape[::-1], flags=FLAGS)


def test_a_layer_composited_in_pieces_is_the_layer_over_the_frame() -> None:
    layer, frame = _Layer(), _frame()
    drawn = tuple(p.copy() for p in frame)
    composite = Composite((layer.luma, layer.chroma), LUMA, CHROMA, Scratch(W * H))
    for box in _boxes():
        composite.draw(box, drawn)  # type: ignore[arg-type]
    for k, (target, drawn_plane) in enumerate(zip(frame, drawn, strict=True)):
        m, a = (LUMA, layer.alpha) if k == 0 else (CHROMA, layer.alpha_c)
        colour = _warped(layer.premultiplied[k], m, target.shape)
        expected = colour + target * (1 - _warped(a, m, target.shape) / 255)
        assert float(np.abs(expected - drawn_plane).max()) <= 2.5
    assert int(np.abs(drawn[0].astype(int) - frame[0]).max()) > 50  # the layer is there, not just the frame


def test_the_rim_composited_in_pieces_is_its_chroma_resolution_layer_over_the_frame() -> None:
    """U and V at the layer's resolution; the luma from its Y and alpha warped there and enlarged 2x, as
    if the whole frame had been warped and enlarged at once (no seam where pieces meet)."""
    layer, frame = _Layer(), _frame()
    drawn = tuple(p.copy() for p in frame)
    rim = RimComposite(layer.chroma, CHROMA, Scratch(W * H))
    for box in _boxes():
        rim.draw(box, drawn)  # type: ignore[arg-type]
    half = frame[1].shape
    around = CHROMA - np.array([[0, 0, CHROMA[0, 0]], [0, 0, CHROMA[1, 1]]])  # from a chroma pixel before the frame

    def enlarged(plane: U8) -> npt.NDArray[np.float32]:
        """Warped at chroma resolution with a pixel to spare all round, enlarged 2x, the spare cut off."""
        warped = _warped(plane, around, (half[0] + 2, half[1] + 2))
        return cv2.resize(warped, (W + 4, H + 4), interpolation=cv2.INTER_LINEAR)[2:-2, 2:-2]

    colours = [enlarged(layer.luma_c), *(_warped(p, CHROMA, half) for p in layer.premultiplied[1:])]
    keep_c = 1 - _warped(layer.alpha_c, CHROMA, half) / 255
    keeps = [1 - enlarged(layer.alpha_c) / 255, keep_c, keep_c]
    for target, drawn_plane, colour, keep in zip(frame, drawn, colours, keeps, strict=True):
        assert float(np.abs(colour + target * keep - drawn_plane).max()) <= 2.5
    assert int(np.abs(drawn[0].astype(int) - frame[0]).max()) > 50
