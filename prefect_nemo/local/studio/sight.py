"""What a clip's frames show, found once and shared by the effects that keep off it: bokeh and letterbox bars.

Bokeh fades where it crosses a face or a compact subject; letterbox bars thin rather than cross a face. Both ask
one ``Sight`` per clip, so the first frame is analysed once (``framing.analyse_rgb`` on a copy about 512
pixels across), not once per effect.

The bars keep one height for the whole clip (``letterbox.Letterbox`` says why), so before the first frame they
need every face the clip will show, in every shot of a timeline, not only the first frame's. ``look_ahead``
finds them: each still with a face in it is opened small as its shot (its real camera, depth or cut-out
included, at a longer side of 384 pixels, the size the face finder works at anyway) and drawn at the start,
middle and end of each of its moves, and the faces are found on those frames. Where a face is at those
moments is where it is in the clip's frames, whatever the camera does. A face counts when it is found on two
of its shot's frames: the cascades' false hits (a rocket on a launch pad, seen as a face once) seldom survive
a change of view, and a false face would thin the bars of the whole clip. Transitions are not looked at: a
join lasts a fraction of a second and a zoom-through sweeps the whole picture through the frame by design.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt

from .framing import Box, Framing, analyse_rgb, find_faces, overlap
from .motion import Motion

if TYPE_CHECKING:
    from .frames import Timeline

__all__ = ["LOOK_SIDE", "Sight", "look_ahead", "small_rgb"]

U8 = npt.NDArray[np.uint8]
Planes = tuple[U8, U8, U8]
LOOK_SIDE = 384  # the longer side of the frames looked at ahead (``framing``'s face finder works at this size)


class Sight:
    """Faces (0..1 frame boxes) every shot of a clip shows, if looked for ahead, and the first frame's framing
    (found on the first frame itself, once).

    A small cached value: made once per clip (by the renderer, or by ``life.Life`` for frames it gets with no
    still behind them) and handed to each effect that needs it.
    """

    def __init__(self, ahead: Sequence[Box] | None = None) -> None:
        self.ahead = None if ahead is None else tuple(ahead)
        self._first: Framing | None = None

    def framing(self, planes: Planes) -> Framing:
        """The first frame's faces, subject and focus (0..1 frame boxes), found on the first call only."""
        if self._first is None:
            self._first = analyse_rgb(small_rgb(planes))
        return self._first

    def faces(self, planes: Planes) -> tuple[Box, ...]:
        """Every face the clip shows: those looked for ahead in every shot, else the first frame's."""
        return self.ahead if self.ahead is not None else self.framing(planes).faces


def small_rgb(planes: Planes) -> U8:
    """A frame's Y/U/V planes as RGB about 512 pixels across (every n-th pixel: the detectors need no more)."""
    y, u, v = planes
    step = 2 * max(1, round(max(y.shape) / 1024))
    ys, us, vs = y[::step, ::step], u[:: step // 2, :: step // 2], v[:: step // 2, :: step // 2]
    hh, ww = min(ys.shape[0], us.shape[0]), min(ys.shape[1], us.shape[1])
    yuv = np.ascontiguousarray(np.dstack([ys[:hh, :ww], us[:hh, :ww], vs[:hh, :ww]]))
    return np.asarray(cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB), np.uint8)


def look_ahead(tl: Timeline, image_of: Callable[[str], Path]) -> Sight:
    """Every face each shot of ``tl`` shows at the start, middle and end of its moves, from each shot drawn
    small; one still is open at a time."""
    # Imported here, not above: the director imports the letterbox (and so this module) in the server
    # process, which never draws a frame and need not load the renderer's modules.
    from .frames import Video

    small = tl.scaled(LOOK_SIDE, tl.fps)
    i420 = np.empty((small.height * 3 // 2, small.width), np.uint8)  # one frame buffer, viewed as the planes
    faces: list[Box] = []
    for seg in tl.video or [Video(0.0, tl.frames / tl.fps, "", None, Motion())]:
        faces += _steady([find_faces(frame) for frame in _frames(seg.motion, image_of(seg.src), i420)])
    return Sight(faces)


def _frames(motion: Motion, image: Path, i420: U8) -> Iterator[U8]:
    """The shot of ``image`` under ``motion`` drawn into ``i420`` (an I420 frame buffer) at the start, middle
    and end of each of its moves (a move's end starts the next), each frame as RGB; none when the still
    itself shows no face (the director framed it on the same finding), so a shot with no one in it costs
    one look at its still and no more."""
    from .frames import load_rgb, scale_for, source_planes
    from .shots import open_shot

    h, w = i420.shape[0] * 2 // 3, i420.shape[1]
    # No supersampling (the renderer's guard against moire under a moving zoom): a face is found as well
    # without it, and the still is a quarter of the pixels to decode and, for a depth shot, to analyse.
    supersampled = scale_for(motion, w, h)
    rgb = load_rgb(image, lambda sw, sh: supersampled(sw, sh) / 2)
    if not find_faces(rgb):
        return
    flat, quarter = i420.reshape(-1), h // 4 * w
    dst = (i420[:h], flat[h * w : h * w + quarter].reshape(h // 2, w // 2),
           flat[h * w + quarter :].reshape(h // 2, w // 2))  # fmt: skip
    n = 2 * len(motion.moves) + 1
    shot = open_shot(motion, source_planes(rgb), (w, h), n, rgb=rgb)
    del rgb
    for i in range(n):
        shot.render(i, dst)
        yield np.asarray(cv2.cvtColor(i420, cv2.COLOR_YUV2RGB_I420), np.uint8)


def _steady(seen: list[tuple[Box, ...]]) -> list[Box]:
    """The faces of a shot's frames that are found again, on another of its frames, where they overlap."""
    return [face for i, found in enumerate(seen) for face in found
            if any(overlap(face, other) > 0.3 for j, more in enumerate(seen) if j != i for other in more)]  # fmt: skip
