"""Letterbox bars: black rows above and below a landscape frame, so the picture shows at the scope ratio.

A cinema picture is wider than a 16:9 frame (2.39:1, "scope"); showing it in one leaves black bars. Here the
bars are drawn over the frame's own rows after every other effect (``life.Life`` applies them last), so
they stay black under grain, bokeh and fades. Drawing them is two row fills per plane (well under a
millisecond at 1080p). Bars only make sense on a landscape frame: an upright or square frame gets none (the
director says so when asked). A title is placed inside the picture, never on a bar (``picture_rows``), and
the bars never cross a face: the director frames each camera so the faces stay between them in every frame
where the picture has room, and here every face the clip shows (``sight.Sight``: each shot's, looked for
ahead by the renderer) is checked: where scope bars would cut one they are thinned to the next cinema ratio,
2:1 then 1.85:1, for the whole clip, or left off if even those would.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .framing import Box
from .sight import Sight

__all__ = ["FACE_MARGIN", "RATIO", "RATIOS", "Letterbox", "bar_rows", "picture_rows"]

U8 = npt.NDArray[np.uint8]
Planes = tuple[U8, U8, U8]
RATIO = 2.39  # scope: the widest cinema picture
RATIOS = (RATIO, 2.0, 1.85)  # then the next cinema ratios, when scope bars would cut a face
FACE_MARGIN = 0.1  # of a face's height, above and below, beyond the face box's own margin: the top of the hair
_BLACK = (16, 128, 128)  # limited-range Y, U, V


def bar_rows(size: tuple[int, int], ratio: float = RATIO) -> int:
    """Rows of each bar (even, for 4:2:0 chroma) that leave a ``ratio`` picture in a frame of ``size``;
    0 unless the frame is landscape and narrower than ``ratio``."""
    w, h = size
    if w <= h or w / h >= ratio:
        return 0
    return int((h - w / ratio) / 2) // 2 * 2


def picture_rows(life: object, size: tuple[int, int]) -> tuple[int, int]:
    """The first and past-the-last row a frame of ``size`` shows picture in, for a draft's ``fx.life``: a title
    placed between them is never on a bar (the bars may end up thinner, never thicker)."""
    rows = bar_rows(size) if isinstance(life, list | tuple) and "letterbox" in life else 0
    return rows, size[1] - rows


class Letterbox:
    """Bars leaving a ``ratio`` picture in each frame of ``out_size``, one height for the whole clip.

    The height is chosen at the first frame from every face ``sight`` says the clip shows: the widest cinema
    ratio whose bars cross none of them. One height rather than one per shot, because bars that jump at a cut
    read as a glitch, a transition would have to blend two heights, and a film keeps one ratio throughout;
    bars a little thinner over the whole clip cost only a few rows of black.
    """

    def __init__(self, out_size: tuple[int, int], *, ratio: float = RATIO, sight: Sight | None = None) -> None:
        if not 1.0 < ratio <= 4.0:
            raise ValueError(f"letterbox ratio={ratio!r} must be in (1, 4] (picture width over height)")
        self.out, self.ratio = out_size, ratio
        self.sight = sight or Sight()
        self.rows: int | None = None  # each bar's rows, decided on the first frame

    def fit(self, faces: tuple[Box, ...]) -> int:
        """Each bar's rows: the widest of ``ratio``, 2:1 and 1.85:1 whose bars cross none of ``faces`` (0..1 boxes
        of the frame, grown by ``FACE_MARGIN``), else 0."""
        h = self.out[1]
        for ratio in (self.ratio, *(r for r in RATIOS if r < self.ratio)):
            rows = bar_rows(self.out, ratio)
            if not rows or all(_clear(face, rows / h) for face in faces):
                return rows
        return 0

    def apply(self, i: int, planes: Planes) -> None:
        if self.rows is None:
            self.rows = self.fit(self.sight.faces(planes)) if bar_rows(self.out, self.ratio) else 0
        rows = self.rows
        if not rows:
            return
        for plane, black, step in zip(planes, _BLACK, (1, 2, 2), strict=True):
            n = rows // step
            plane[:n] = black
            plane[plane.shape[0] - n :] = black


def _clear(face: Box, bar: float) -> bool:
    """Whether ``face``, grown above and below, stays between bars of ``bar`` (a fraction of the frame's height)."""
    grow = (face[3] - face[1]) * FACE_MARGIN
    return face[1] - grow >= bar and face[3] + grow <= 1.0 - bar
