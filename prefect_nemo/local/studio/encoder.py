"""Frames and an audio mix -> one H.264/AAC MP4, encoded once, with libx264 settings chosen by measured quality.

libx264 dominates a render's CPU, so frames are made on a producer thread while x264's own threads encode,
and the settings are the cheapest that reach the quality asked (``bench/calibrate_x264.py``).
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeVar

import av
import numpy as np
import numpy.typing as npt

from .frames import POOL
from .overlay import RATE, aac_frames

__all__ = ["X264_THREADS", "EncodeSettings", "encode", "remux"]

Progress = Callable[[float], None]
T = TypeVar("T")

# libx264 frame threads per render. On 2 cores 2, 3 (x264's default) and 4 threads cost the same CPU time,
# but each thread holds more reference frames (at 1080p "medium" ~400 MB with 2, ~435 MB with 4) and the 8K
# render must stay under 600 MB. The embedded backend runs two renders at once, so 2 threads each plus the
# frame producers keep both cores busy without oversubscribing them.
X264_THREADS = 2
_QUEUE_DEPTH = POOL - 3  # frames queued ahead; the pool's others are being made, being encoded, and a spare
_FASTSTART = {"movflags": "+faststart"}


@dataclass(frozen=True)
class EncodeSettings:
    """libx264 preset and CRF, capped by a VBV rate so a busy picture cannot take tens of MB.

    ``max_bpp`` is the cap in bits per pixel per frame: 0.12 at 1080p30 is 7.5 Mbit/s (4.7 MB for 5 s);
    the buffer holds two seconds at that rate, so short peaks pass and only sustained detail is squeezed.
    """

    preset: str = "superfast"
    crf: float = 23.0
    max_bpp: float = 0.12

    @classmethod
    def for_quality(cls, quality: str) -> EncodeSettings:
        """The export's ``output.quality`` as x264 settings.

        Calibrated by ``bench/calibrate_x264.py`` (1920x1080, 30 fps, 5 s push-in on a product shot; SSIM
        against a lossless encode of the same frames): each level is the cheapest preset/CRF whose SSIM is at
        least that of ``ffmpeg zoompan`` with x264 ``medium`` at CRF 20 ("high"), 23 ("medium") and 26
        ("low"), in a file no larger. It printed, for "high", superfast/CRF 23: SSIM 0.9948 in 1000 KB against
        zoompan's 0.9947 in 1042 KB (veryfast/CRF 20 also matched, at 1.4x the CPU); for "low", veryfast/CRF 24:
        SSIM 0.9937 in 301 KB (superfast matched its SSIM only in a larger file), so "low" is smaller, not
        cheaper. "draft" is for tests and previews: as fast as x264 goes.
        """
        table = {
            "high": cls("superfast", 23.0, 0.12),
            "medium": cls("superfast", 26.0, 0.08),
            "low": cls("veryfast", 24.0, 0.05),
            "draft": cls("ultrafast", 28.0, 0.05),
        }
        if quality not in table:
            raise ValueError(f"unknown quality {quality!r}; expected one of {', '.join(table)}")
        return table[quality]

    def options(self, width: int, height: int, fps: float) -> dict[str, str]:
        """libx264 options for a picture of this size and rate; CRF 0 means lossless (qp 0, no rate cap)."""
        if self.crf == 0:
            return {"preset": self.preset, "qp": "0"}
        kbits = max(200, round(self.max_bpp * width * height * fps / 1000))
        vbv = f"vbv-maxrate={kbits}:vbv-bufsize={2 * kbits}"
        return {"preset": self.preset, "crf": f"{self.crf:g}", "x264-params": vbv}


def encode(
    out: Path,
    size: tuple[int, int],
    fps: int,
    count: int,
    frames: Iterator[av.VideoFrame],
    audio: npt.NDArray[np.float32] | None,
    settings: EncodeSettings,
    progress: Progress | None = None,
) -> None:
    """Encode ``count`` frames (made on a producer thread) and the audio mix, muxed in step with the video."""
    with av.open(str(out), "w", format="mp4", container_options=_FASTSTART) as box:
        vs = box.add_stream("libx264", rate=fps, options=settings.options(size[0], size[1], fps))
        vs.width, vs.height, vs.pix_fmt = size[0], size[1], "yuv420p"
        cc = vs.codec_context
        cc.thread_type, cc.thread_count = "FRAME", X264_THREADS
        cc.color_primaries = cc.color_trc = cc.colorspace = 1  # BT.709, as the planes were converted
        cc.color_range = 1  # limited ("tv") range
        pending = _encoded_audio(box, audio)
        tb = Fraction(1, fps)
        done, shown = 0, -1.0
        for i, frame in enumerate(_prefetch(frames, _QUEUE_DEPTH)):
            frame.pts, frame.time_base = i, tb
            for packet in vs.encode(frame):
                box.mux(packet)
                _mux_audio(box, pending, float(packet.dts or 0) * float(tb))
            done = i + 1
            if progress and (done / count - shown >= 0.01 or done == count):
                shown = done / count
                progress(min(1.0, shown))
        box.mux(vs.encode(None))
        _mux_audio(box, pending, math.inf)
        if done != count:
            raise RuntimeError(f"produced {done} of {count} frames")


def remux(clip: Path, out: Path, audio: npt.NDArray[np.float32] | None = None) -> None:
    """Copy a clip's video packets unchanged (no re-encode), with the audio mix encoded beside them."""
    with av.open(str(clip)) as src, av.open(str(out), "w", format="mp4", container_options=_FASTSTART) as dst:
        inp = src.streams.video[0]
        outp = dst.add_stream_from_template(inp)
        pending = _encoded_audio(dst, audio)
        for packet in src.demux(inp):
            if packet.dts is not None:
                at = float(packet.dts * inp.time_base) if inp.time_base else 0.0
                packet.stream = outp
                dst.mux(packet)
                _mux_audio(dst, pending, at)
        _mux_audio(dst, pending, math.inf)


def _encoded_audio(box: av.container.OutputContainer, audio: npt.NDArray[np.float32] | None) -> list[av.Packet[Any]]:
    """The whole mix as AAC packets, last first (popped in time order as the video catches up)."""
    pending: list[av.Packet[Any]] = []
    if audio is not None:
        aus = box.add_stream("aac", rate=RATE, layout="stereo")
        aus.bit_rate = 160_000
        for aframe in aac_frames(audio):
            pending.extend(aus.encode(aframe))
        pending.extend(aus.encode(None))
    pending.reverse()
    return pending


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
