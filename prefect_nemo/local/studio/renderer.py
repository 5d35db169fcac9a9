"""Draft + still image (+ audio) -> H.264/AAC MP4, with PyAV.

The source is scaled once (so its widest view is 1:1 with the output) and converted once to Y/U/V planes;
each frame is then three sub-pixel ``cv2.warpAffine`` calls (exact float positions, bilinear) writing
straight into the encoder's frame buffers, made on a producer thread while libx264's threads encode. At
most a few frames exist at any time, so an 8K source costs its one decode, not per-frame memory. libx264
itself dominates the time (about 90% of the CPU at "medium"), so the rest is kept out of its way.
"""

from __future__ import annotations

import ctypes
import math
import queue
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import av
import cv2
import numpy as np
import numpy.typing as npt
from av.video.frame import PictureType
from PIL import Image, ImageOps

from . import looks
from .motion import CameraPath, Motion
from .overlay import RATE, AudioSpec, TextLayer, aac_frames, mix_audio, rgb_to_yuv

__all__ = ["EncodeSettings", "render_final", "render_motion"]

U8 = npt.NDArray[np.uint8]
Planes = tuple[U8, U8, U8]
Progress = Callable[[float], None]
T = TypeVar("T")

# libx264 frame threads. On 2 cores 2, 3 (x264's default) and 4 threads cost the same CPU time, but each
# thread holds more reference frames: at 1080p "medium" x264 alone takes ~400 MB with 2 and ~435 MB with 4,
# and the 8K render must stay under 600 MB (bench/render_vs_ffmpeg.py prints it).
X264_THREADS = 2
_QUEUE_DEPTH = 3
_POOL = _QUEUE_DEPTH + 3  # queued + being made + being encoded, with one to spare


@dataclass(frozen=True)
class EncodeSettings:
    """libx264 preset and CRF; ``for_quality`` maps the export's ``output.quality`` onto them."""

    preset: str = "medium"
    crf: int = 20

    @classmethod
    def for_quality(cls, quality: str) -> EncodeSettings:
        table = {
            "high": cls("medium", 20),
            "medium": cls("veryfast", 23),
            "low": cls("ultrafast", 26),
            "draft": cls("ultrafast", 28),
        }
        if quality not in table:
            raise ValueError(f"unknown quality {quality!r}; expected one of {', '.join(table)}")
        return table[quality]


def render_motion(
    image: Path,
    draft: Mapping[str, Any],
    out: Path,
    *,
    settings: EncodeSettings = EncodeSettings(),
    progress: Progress | None = None,
) -> None:
    """Stage 1 (generate): the camera motion over the still, at the draft's size/fps/duration; no text/audio."""
    tl = _Timeline.parse(draft)
    effect = looks.effect(draft, tl.frames / tl.fps)
    _encode(Path(out), tl, _animate(tl, lambda _src: Path(image), [], effect), None, settings, progress)


def render_final(
    draft: Mapping[str, Any],
    assets: Mapping[str, Path],
    out: Path,
    *,
    settings: EncodeSettings = EncodeSettings(),
    progress: Progress | None = None,
) -> None:
    """Stage 2 (export): composite the draft's video, text and audio tracks into the final MP4.

    A matching stage-1 clip (the video segment's ``clip`` id) is decoded instead of re-animating the
    still; with no text and no audio it is copied without re-encoding (``settings`` then do not apply).
    """
    tl = _Timeline.parse(draft)
    if not tl.video:
        raise ValueError("draft has no video segment (track tt=0) to render")
    texts = [layer for seg in tl.texts if (layer := TextLayer.build(seg, tl.width, tl.height))]
    audio = mix_audio(tl.audio, assets, tl.frames / tl.fps) if tl.audio else None
    clip = _matching_clip(tl, assets)
    if clip is not None and not texts and audio is None:
        _remux(clip, Path(out))
        if progress:
            progress(1.0)
        return
    if clip is None:
        for seg in tl.video:
            if seg.src not in assets:
                raise ValueError(f"image asset {seg.src!r} of the video segment is not among the uploaded files")
    effect = looks.effect(draft, tl.frames / tl.fps)  # a stage-1 clip already shows it
    frames = _decoded(clip, tl, texts) if clip else _animate(tl, lambda src: Path(assets[src]), texts, effect)
    _encode(Path(out), tl, frames, audio, settings, progress)


@dataclass(frozen=True)
class _Video:
    start: float
    dur: float
    src: str
    clip: str | None
    motion: Motion


@dataclass(frozen=True)
class _Timeline:
    """The draft, validated: every value the render needs, with defaults filled in."""

    width: int
    height: int
    fps: int
    frames: int
    video: list[_Video]
    texts: list[dict[str, Any]]
    audio: list[AudioSpec]

    @classmethod
    def parse(cls, draft: Mapping[str, Any]) -> _Timeline:
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
                    video.append(_Video(start, dur, str(seg.get("src")), str(clip) if clip else None, motion))
                elif track.get("tt") == 7:
                    texts.append(seg)
                elif track.get("tt") == 1:
                    audio.append(AudioSpec.from_draft(seg))
        video.sort(key=lambda v: v.start)
        frames = max(1, round(total * fps / 1000))
        return cls(width, height, fps, frames, video, texts, audio)


def _int(obj: Mapping[str, Any], key: str, default: int, lo: int, hi: int) -> int:
    value = obj.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"draft {key}={value!r} must be an integer in {lo}..{hi}")
    return value


def _load_rgb(path: Path, scale_for: Callable[[int, int], float]) -> U8:
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


def _scale_for(motion: Motion, w: int, h: int) -> Callable[[int, int], float]:
    """Scale the source so its widest view holds twice the output's pixels (see ``_SUPERSAMPLE``)."""
    return lambda sw, sh: _SUPERSAMPLE * w * min(motion.zoom) / min(sw, sh * w / h)


# Bilinear sampling has two faults under a moving zoom: minifying a sharp image aliases (moire that crawls),
# magnifying shows its position-dependent blur (sharp on source pixels, soft between them) sliding across
# the picture. Keeping the source at 2x the output and low-passing it to the output's Nyquist makes every
# frame a mild minification of a band-limited image. Frame-to-frame zoom-step jitter of a 1.0->1.5x push-in,
# measured on the frames themselves (bench/render_vs_ffmpeg.py's fit): 0.37%, against 0.90% for a 1x source
# (magnified) and 2.7% for a source at the largest zoom's resolution (minified).
_SUPERSAMPLE, _SIGMA = 2.0, 0.8


def _source_planes(rgb: U8) -> Planes:
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


def _views(frame: av.VideoFrame) -> Planes:
    """Writable numpy views of a frame's three planes (rows padded to ``line_size``)."""
    out = [np.frombuffer(memoryview(p), np.uint8).reshape(p.height, p.line_size)[:, : p.width] for p in frame.planes]
    return out[0], out[1], out[2]


def _animate(
    tl: _Timeline, image_of: Callable[[str], Path], texts: list[TextLayer], effect: looks.Effect | None = None
) -> Iterator[av.VideoFrame]:
    """Frames of the video track: each segment's camera path over its still, then the text layers."""
    segs = tl.video or [_Video(0.0, tl.frames / tl.fps, "", None, Motion())]
    w, h = tl.width, tl.height
    current: tuple[int, Planes, CameraPath, int] | None = None
    # Frames are reused round-robin: libx264 copies a picture in, so once encode() returns its buffer is free,
    # and with the queue bounded a slot comes round again only after its frame was encoded.
    pool: list[tuple[av.VideoFrame, Planes]] = []
    for i in range(tl.frames):
        t = i / tl.fps
        k = max([n for n, s in enumerate(segs) if s.start <= t + 1e-9] or [0])
        seg = segs[k]
        if current is None or current[0] != k:
            current = None  # drop the previous source before decoding the next
            rgb = _load_rgb(image_of(seg.src), _scale_for(seg.motion, w, h))
            planes = _source_planes(rgb)
            del rgb
            _trim_heap()
            path = CameraPath(seg.motion, (planes[0].shape[1], planes[0].shape[0]), (w, h), round(seg.dur * tl.fps))
            # INTER_LINEAR samples at exact float positions in OpenCV 5; INTER_CUBIC still rounds them to 1/32 px.
            current = (k, planes, path, cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        _, src, path, flags = current
        luma, chroma = path.matrices(min(path.n - 1, max(0, round((t - seg.start) * tl.fps))))
        if len(pool) < _POOL:
            pool.append((fresh := av.VideoFrame(w, h, "yuv420p"), _views(fresh)))
        frame, dst = pool[i % len(pool)]
        for plane, target, m in zip(src, dst, (luma, chroma, chroma), strict=True):
            cv2.warpAffine(plane, m, (target.shape[1], target.shape[0]), dst=target, flags=flags,
                           borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
        if effect:
            effect(dst, t)
        for layer in texts:
            layer.apply(dst, t)
        yield frame


def _matching_clip(tl: _Timeline, assets: Mapping[str, Path]) -> Path | None:
    """The stage-1 clip, if the draft still asks for exactly that picture (same size, fps, frame count)."""
    if len(tl.video) != 1 or tl.video[0].clip not in assets:
        return None
    path = Path(assets[str(tl.video[0].clip)])
    try:
        with av.open(str(path)) as box:
            st = box.streams.video[0]
            ok = (st.codec_context.width, st.codec_context.height) == (tl.width, tl.height)
            return path if ok and st.average_rate == tl.fps and st.frames == tl.frames else None
    except (av.FFmpegError, IndexError):
        return None


def _decoded(clip: Path, tl: _Timeline, texts: list[TextLayer]) -> Iterator[av.VideoFrame]:
    with av.open(str(clip)) as box:
        st = box.streams.video[0]
        st.thread_type = "AUTO"
        for i, frame in enumerate(box.decode(st)):
            if i >= tl.frames:
                break
            frame.make_writable()  # decoder buffers are shared with its reference frames
            frame.pict_type = PictureType.NONE  # let x264 choose frame types afresh
            for layer in texts:
                layer.apply(_views(frame), i / tl.fps)
            yield frame


def _remux(clip: Path, out: Path) -> None:
    with av.open(str(clip)) as src, av.open(str(out), "w", format="mp4", container_options=_FASTSTART) as dst:
        inp = src.streams.video[0]
        outp = dst.add_stream_from_template(inp)
        for packet in src.demux(inp):
            if packet.dts is not None:
                packet.stream = outp
                dst.mux(packet)


_FASTSTART = {"movflags": "+faststart"}


def _encode(
    out: Path,
    tl: _Timeline,
    frames: Iterator[av.VideoFrame],
    audio: npt.NDArray[np.float32] | None,
    settings: EncodeSettings,
    progress: Progress | None,
) -> None:
    """Encode frames (made on a producer thread) and the audio mix; audio is muxed in step with video."""
    with av.open(str(out), "w", format="mp4", container_options=_FASTSTART) as box:
        vs = box.add_stream("libx264", rate=tl.fps, options={"preset": settings.preset, "crf": str(settings.crf)})
        vs.width, vs.height, vs.pix_fmt = tl.width, tl.height, "yuv420p"
        cc = vs.codec_context
        cc.thread_type, cc.thread_count = "FRAME", X264_THREADS
        cc.color_primaries = cc.color_trc = cc.colorspace = 1  # BT.709, as the planes were converted
        cc.color_range = 1  # limited ("tv") range
        pending: list[av.Packet[Any]] = []
        if audio is not None:
            aus = box.add_stream("aac", rate=RATE, layout="stereo")
            aus.bit_rate = 160_000
            for aframe in aac_frames(audio):
                pending.extend(aus.encode(aframe))
            pending.extend(aus.encode(None))
        pending.reverse()
        tb = Fraction(1, tl.fps)
        done, shown = 0, -1.0
        for i, frame in enumerate(_prefetch(frames, _QUEUE_DEPTH)):
            frame.pts, frame.time_base = i, tb
            for packet in vs.encode(frame):
                box.mux(packet)
                _mux_audio(box, pending, float(packet.dts or 0) * float(tb))
            done = i + 1
            if progress and (done / tl.frames - shown >= 0.01 or done == tl.frames):
                shown = done / tl.frames
                progress(min(1.0, shown))
        box.mux(vs.encode(None))
        _mux_audio(box, pending, math.inf)
        if done != tl.frames:
            raise RuntimeError(f"produced {done} of {tl.frames} frames")


def _mux_audio(box: av.container.OutputContainer, pending: list[av.Packet[Any]], until: float) -> None:
    while pending and float((pending[-1].pts or 0) * pending[-1].time_base) <= until:
        box.mux(pending.pop())


def _prefetch(items: Iterator[T], depth: int) -> Iterator[T]:
    """Run ``items`` on a thread, at most ``depth`` ahead: cv2 and libx264 both release the GIL."""
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: str, value: Any) -> None:
        while not stop.is_set():
            try:
                q.put((kind, value), timeout=0.1)
                return
            except queue.Full:
                continue

    def run() -> None:
        try:
            for item in items:
                put("item", item)
                if stop.is_set():
                    break
            put("end", None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put("error", exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # release what the generator holds open (a decoder, a source) now, not at GC

    worker = threading.Thread(target=run, name="nemo-frames", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        worker.join()
