"""The draft as a timeline, and the frames it shows: a camera path over each still, made into YUV planes.

The source is scaled once (so its widest view holds twice the output's pixels) and converted once to
Y/U/V planes; each frame is then made by the segment's shot (``shots.py``; for a flat move three sub-pixel
``cv2.warpAffine`` calls, exact float positions, bilinear) writing straight into the encoder's frame buffers.
At most a few frames exist at any time, so an 8K source costs its one decode, not per-frame memory.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt
from av.video.frame import PictureType
from PIL import Image, ImageOps

from .motion import Motion
from .overlay import AudioSpec, TextLayer, rgb_to_yuv
from .shots import Shot, open_shot

__all__ = [
    "POOL",
    "Effect",
    "Planes",
    "Timeline",
    "animate",
    "decoded",
    "load_rgb",
    "scale_for",
    "source_planes",
    "views",
]

U8 = npt.NDArray[np.uint8]
Planes = tuple[U8, U8, U8]
Effect = Callable[[Planes, float], None]
"""A per-frame touch on the warped Y/U/V planes (in place) at time ``t`` seconds, before text is drawn."""

# Frames are reused round-robin: libx264 copies a picture in, so once encode() returns its buffer is free,
# and with the producer's queue bounded a slot comes round again only after its frame was encoded.
POOL = 6  # queued (3) + being made + being encoded, with one to spare


@dataclass(frozen=True)
class Video:
    start: float
    dur: float
    src: str
    clip: str | None
    motion: Motion
    tr: Mapping[str, Any] | None = None  # the transition into this segment (``sequence.py`` reads it)


@dataclass(frozen=True)
class Timeline:
    """The draft, validated: every value the render needs, with defaults filled in."""

    width: int
    height: int
    fps: int
    frames: int
    video: list[Video]
    texts: list[dict[str, Any]]
    audio: list[AudioSpec]

    @classmethod
    def parse(cls, draft: Mapping[str, Any]) -> Timeline:
        if not isinstance(draft, Mapping):
            raise ValueError("draft must be a JSON object")
        meta = draft.get("m") or {}
        width, height = _int(meta, "width", 1920, 16, 4096), _int(meta, "height", 1080, 16, 4096)
        if width % 2 or height % 2:
            raise ValueError(f"draft size {width}x{height} must have even width and height (yuv420p)")
        fps = _int(meta, "fps", 30, 1, 120)
        total = _int(draft, "d", 5000, 1, 600_000)
        video, texts, audio = [], [], []
        for track in draft.get("t") or []:
            segments = (track.get("sg") or []) if isinstance(track, Mapping) else None
            if not isinstance(segments, list) or not all(isinstance(seg, Mapping) for seg in segments):
                raise ValueError(f"draft track {track!r:.80} must be an object whose 'sg' is a list of segments")
            for raw in segments:
                begin = _int(raw, "s", 0, 0, total)
                seg = {"s": begin, "d": max(1, total - begin), **raw}
                if track.get("tt") == 0:
                    start, dur = begin / 1000, _int(seg, "d", 0, 1, 600_000) / 1000
                    clip = seg.get("clip")
                    motion = Motion.from_draft(seg.get("mo"))
                    src, clip = str(seg.get("src")), str(clip) if clip else None
                    video.append(Video(start, dur, src, clip, motion, seg.get("tr")))
                elif track.get("tt") == 7:
                    texts.append(seg)
                elif track.get("tt") == 1:
                    audio.append(AudioSpec.from_draft(seg))
        video.sort(key=lambda v: v.start)
        frames = max(1, round(total * fps / 1000))
        return cls(width, height, fps, frames, video, texts, audio)

    def scaled(self, longest: int, max_fps: int) -> Timeline:
        """The same timeline at a smaller size (even, aspect kept) and at most ``max_fps``: a preview."""
        f = min(1.0, longest / max(self.width, self.height))
        fps = min(self.fps, max_fps)
        size = (max(2, round(self.width * f / 2) * 2), max(2, round(self.height * f / 2) * 2))
        return replace(self, width=size[0], height=size[1], fps=fps, frames=max(1, round(self.frames * fps / self.fps)))


def _int(obj: Mapping[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    value = obj.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"draft {key}={value!r} must be an integer in {lo}..{hi}")
    return value


def load_rgb(path: Path, scale_for: Callable[[int, int], float]) -> U8:
    """Decode once at the scale ``scale_for(width, height)`` asks (JPEG decodes reduced), EXIF-upright.

    Upscaling (tiny sources) happens here too, once, with Lanczos, capped at ~48 MP."""
    with Image.open(path) as img:
        raw_w, raw_h = img.size
        turned = img.getexif().get(0x0112, 1) in (5, 6, 7, 8)
        w, h = (raw_h, raw_w) if turned else (raw_w, raw_h)
        f = min(scale_for(w, h), math.sqrt(48e6 / (w * h)))
        if img.format == "JPEG" and f < 1:
            img.draft("RGB", (math.ceil(raw_w * f), math.ceil(raw_h * f)))
        pic: Image.Image = ImageOps.exif_transpose(img, in_place=True) or img
        if pic.mode in ("RGBA", "LA", "PA") or "transparency" in pic.info:
            rgba = pic.convert("RGBA")
            pic = Image.new("RGB", rgba.size, (255, 255, 255))
            pic.paste(rgba, mask=rgba.getchannel("A"))
        elif pic.mode != "RGB":
            pic = pic.convert("RGB")
        size = (max(2, round(w * f)) // 2 * 2, max(2, round(h * f)) // 2 * 2)  # even, for 4:2:0 chroma
        if pic.width >= 2 * size[0] and pic.height >= 2 * size[1]:
            pic = pic.reduce(min(pic.width // size[0], pic.height // size[1]))  # cheap exact box pre-shrink
        rgb = np.asarray(pic)
        if rgb.shape[1::-1] == size:
            return rgb
        # cv2 resizes on all cores; INTER_AREA is the anti-aliased shrink, Lanczos the one-off enlargement.
        interp = cv2.INTER_AREA if pic.width > size[0] else cv2.INTER_LANCZOS4
        return np.asarray(cv2.resize(rgb, size, interpolation=interp), dtype=np.uint8)


def scale_for(motion: Motion, w: int, h: int) -> Callable[[int, int], float]:
    """Scale the source so its widest view holds twice the output's pixels (see ``_SUPERSAMPLE``)."""
    return lambda sw, sh: _SUPERSAMPLE * w * min(motion.zoom) / min(sw, sh * w / h)


# Bilinear sampling has two faults under a moving zoom: minifying a sharp image aliases (moire that crawls),
# magnifying shows its position-dependent blur (sharp on source pixels, soft between them) sliding across
# the picture. Keeping the source at 2x the output and low-passing it to the output's Nyquist makes every
# frame a mild minification of a band-limited image. Frame-to-frame zoom-step jitter of a 1.0->1.5x push-in,
# measured on the frames themselves (bench/render_vs_ffmpeg.py's fit): 0.37%, against 0.90% for a 1x source
# (magnified) and 2.7% for a source at the largest zoom's resolution (minified).
_SUPERSAMPLE, _SIGMA = 2.0, 0.8


def source_planes(rgb: U8) -> Planes:
    """Full-resolution Y and centre-sited half-resolution U/V (converted in bands to bound temporaries),
    low-passed to the output's Nyquist."""
    h, w = rgb.shape[:2]
    y = np.empty((h, w), np.uint8)
    u, v = np.empty((h // 2, w // 2), np.uint8), np.empty((h // 2, w // 2), np.uint8)
    for top in range(0, h, 256):
        yuv = rgb_to_yuv(rgb[top : top + 256])
        y[top : top + 256] = np.clip(yuv[..., 0] + 0.5, 0, 255)
        uv = cv2.resize(yuv[..., 1:], (w // 2, yuv.shape[0] // 2), interpolation=cv2.INTER_AREA)
        u[top // 2 : top // 2 + 128], v[top // 2 : top // 2 + 128] = (np.clip(uv[..., i] + 0.5, 0, 255) for i in (0, 1))
    for plane, sigma in ((y, _SIGMA), (u, _SIGMA / 2), (v, _SIGMA / 2)):
        cv2.GaussianBlur(plane, (0, 0), sigma, dst=plane)
    return y, u, v


def _trim_heap() -> None:
    """Give the decode's freed pages back to the OS before x264 takes its ~400 MB (glibc keeps them)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


def views(frame: av.VideoFrame) -> Planes:
    """Writable numpy views of a frame's three planes (rows padded to ``line_size``)."""
    out = [np.frombuffer(memoryview(p), np.uint8).reshape(p.height, p.line_size)[:, : p.width] for p in frame.planes]
    return out[0], out[1], out[2]


def animate(
    tl: Timeline, image_of: Callable[[str], Path], texts: list[TextLayer], effect: Effect | None = None
) -> Iterator[av.VideoFrame]:
    """Frames of the video track: each segment's shot of its still (``shots.py``), then ``effect``, then the text."""
    from . import sequence  # shots joined by transitions (it builds on this module)

    if sequence.has_transitions(tl):
        yield from sequence.frames(tl, image_of, texts, effect)
        return
    segs = tl.video or [Video(0.0, tl.frames / tl.fps, "", None, Motion())]
    w, h = tl.width, tl.height
    current: tuple[int, Shot] | None = None
    pool: list[tuple[av.VideoFrame, Planes]] = []
    for i in range(tl.frames):
        t = i / tl.fps
        k = max([n for n, s in enumerate(segs) if s.start <= t + 1e-9] or [0])
        seg = segs[k]
        if current is None or current[0] != k:
            current = None  # drop the previous source before decoding the next
            rgb = load_rgb(image_of(seg.src), scale_for(seg.motion, w, h))
            shot = open_shot(seg.motion, source_planes(rgb), (w, h), round(seg.dur * tl.fps), rgb=rgb)
            del rgb
            _trim_heap()
            current = (k, shot)
        shot = current[1]
        if len(pool) < POOL:
            pool.append((fresh := av.VideoFrame(w, h, "yuv420p"), views(fresh)))
        frame, dst = pool[i % len(pool)]
        shot.render(min(shot.n - 1, max(0, round((t - seg.start) * tl.fps))), dst)
        if effect is not None:
            effect(dst, t)
        for layer in texts:
            layer.apply(dst, t)
        yield frame


def decoded(clip: Path, tl: Timeline, texts: list[TextLayer], effect: Effect | None = None) -> Iterator[av.VideoFrame]:
    """Frames of an already rendered clip, with ``effect`` and the text drawn on (when no still is at hand)."""
    with av.open(str(clip)) as box:
        st = box.streams.video[0]
        st.thread_type = "AUTO"
        for i, frame in enumerate(box.decode(st)):
            if i >= tl.frames:
                break
            frame.make_writable()  # decoder buffers are shared with its reference frames
            frame.pict_type = PictureType.NONE  # let x264 choose frame types afresh
            planes = views(frame)
            if effect is not None:
                effect(planes, i / tl.fps)
            for layer in texts:
                layer.apply(planes, i / tl.fps)
            yield frame
