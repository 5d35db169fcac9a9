"""Local media checks: images before they cost an upload, MP4s before they are called clips."""

from __future__ import annotations

import hashlib
import math
import os
import re
import struct
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from prefect_nemo.errors import NemoInputError

__all__ = [
    "ACCEPTED_IMAGES",
    "MAX_UPLOAD_BYTES",
    "PreparedImage",
    "VideoInfo",
    "display_path",
    "mp4_problem",
    "preflight",
    "probe",
    "sha256_file",
]

ACCEPTED_IMAGES = (".jpg", ".jpeg", ".png", ".gif", ".webp")
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MIN_SIDE = 16
LOW_CONTRAST = 12.0  # std-dev of luminance (0-255) under which motion looks mushy
PILLOW_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp"}


@dataclass(frozen=True)
class PreparedImage:
    """An image that passed pre-flight: what to upload, and what the cache keys on."""

    source: Path
    upload_path: Path
    sha256: str
    width: int
    height: int
    warnings: list[str] = field(default_factory=list)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def display_path(path: Path | str) -> str:
    """A path as text that is always valid UTF-8: a non-UTF-8 name's stray bytes become `\\xe9` escapes.

    Everything handed to Prefect (parameters, run names, logs, artifacts) must be valid UTF-8 JSON; a raw
    surrogate-escaped file name would make the API request, and with it the run, fail.
    """
    try:
        return os.fsencode(str(path)).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is not an escaped byte
        return str(path).encode("utf-8", "backslashreplace").decode("utf-8")


def preflight(path: Path | str, work_dir: Path) -> PreparedImage:
    """Check an image before upload; re-encode to PNG (never lossy) when orientation or mode must change.

    Raises:
        NemoInputError: naming the file and the reason, for anything the backend would reject or
            render badly.
    """
    path = Path(path)
    name = display_path(path)
    shown = display_path(path.name)
    if not path.exists():
        raise NemoInputError(name, "no such file")
    if path.is_dir():
        raise NemoInputError(name, "is a directory, not an image")
    size = path.stat().st_size
    if size == 0:
        raise NemoInputError(name, "file is empty (0 bytes)")
    if size > MAX_UPLOAD_BYTES:
        raise NemoInputError(name, f"file is {math.ceil(size / 2**20)} MB; the upload limit is 200 MB")
    if path.suffix.lower() not in ACCEPTED_IMAGES:
        accepted = ", ".join(s.lstrip(".") for s in ACCEPTED_IMAGES)
        raise NemoInputError(name, f"unsupported type '{path.suffix or '(none)'}'; accepted image types: {accepted}")
    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as probe_image:
                probe_image.verify()
            with Image.open(path) as image:
                fmt = image.format or ""
                frames = getattr(image, "n_frames", 1)
                image.load()
                rotated = image.getexif().get(0x0112, 1) not in (1, None)
                upright = ImageOps.exif_transpose(image) if rotated else image
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise NemoInputError(name, _too_many_pixels(exc)) from exc
    except UnidentifiedImageError as exc:
        raise NemoInputError(name, "not a readable image (unknown or corrupt format)") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise NemoInputError(name, f"image is damaged or truncated ({exc})") from exc
    if PILLOW_FORMATS.get(fmt) not in (path.suffix.lower(), ".jpg" if path.suffix.lower() == ".jpeg" else None):
        raise NemoInputError(name, f"content is {fmt or 'unknown'}, which does not match the extension '{path.suffix}'")
    width, height = upright.size
    if min(width, height) < MIN_SIDE:
        raise NemoInputError(name, f"image is {width}x{height}; each side must be at least {MIN_SIDE} px")
    reencode = rotated or image.mode not in ("RGB", "L") or frames > 1
    if frames > 1:
        notes.append(f"{shown} is animated ({frames} frames); only the first frame is used")
    if rotated:
        notes.append(f"{shown} was rotated upright from its EXIF orientation")
    rgb = _to_rgb(upright)
    luminance = np.asarray(rgb.convert("L").resize((min(256, width), min(256, height))), dtype=np.float32)
    if float(luminance.std()) < LOW_CONTRAST:
        notes.append(f"{shown} has low contrast; higher-contrast images give cleaner motion")
    upload = path
    if reencode:
        work_dir.mkdir(parents=True, exist_ok=True)
        digest = sha256_file(path)
        upload = work_dir / f"{digest[:16]}.png"
        rgb.save(upload, format="PNG")
    return PreparedImage(path, upload, sha256_file(path), width, height, notes)


def _too_many_pixels(exc: Exception) -> str:
    """The reason for a decompression-bomb refusal, sized from Pillow's own message (Pillow's global limit
    is never lifted, not even to read the header: another thread may be checking another image)."""
    limit = Image.MAX_IMAGE_PIXELS or 0
    found = re.search(r"\((\d+) pixels\)", str(exc))
    size = f"{int(found.group(1)) / 1e6:.0f} megapixels" if found else "too many pixels"
    return (
        f"image has {size}, over the {limit / 1e6:.0f}-megapixel limit that guards against decompression bombs; "
        "downscale it (8K, 7680x4320, is plenty)"
    )


def _to_rgb(image: Image.Image) -> Image.Image:
    """Flatten alpha onto white and bring every mode (CMYK, 16-bit, palette) to 8-bit RGB."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = array.max() or 1.0
        image = Image.fromarray((array / peak * 255).astype(np.uint8), "L")
    if image.mode in ("P", "PA", "LA", "RGBA"):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    return image.convert("RGB")


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    width: int
    height: int
    fps: float
    duration: float
    frames: int
    has_audio: bool


def mp4_problem(path: Path) -> str | None:
    """Why a file is not a whole MP4 (None if it is): its top-level boxes must start with `ftyp`, include
    `moov` and `mdat`, and each fit inside the file. Catches a download cut short even when the server sent
    no length (a `+faststart` file with a truncated `mdat` still opens and reports its full duration)."""
    size = path.stat().st_size
    seen: list[str] = []
    with path.open("rb") as handle:
        offset = 0
        while offset < size:
            handle.seek(offset)
            header = handle.read(16)
            if len(header) < 8:
                return f"{size - offset} stray bytes after the last box"
            length, kind = struct.unpack(">I4s", header[:8])
            name = kind.decode("latin-1")
            if length == 1:
                if len(header) < 16:
                    return f"box '{name}' is cut inside its header"
                length = struct.unpack(">Q", header[8:16])[0]
            elif length == 0:
                length = size - offset  # runs to the end of the file
            if length < 8:
                return f"box '{name}' at byte {offset} has an impossible size {length}"
            if offset + length > size:
                return f"truncated: box '{name}' needs {offset + length} bytes, the file has {size}"
            seen.append(name)
            offset += length
    if not seen or seen[0] != "ftyp":
        return "does not start with an 'ftyp' box"
    missing = [box for box in ("moov", "mdat") if box not in seen]
    return "no " + " or ".join(f"'{box}'" for box in missing) + " box" if missing else None


def probe(path: Path) -> VideoInfo:
    """Check an MP4 is whole, open it with PyAV and describe its video stream; raises ValueError if it is
    not a complete, playable clip."""
    if problem := mp4_problem(path):
        raise ValueError(f"not a whole MP4: {problem}")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValueError("no video stream")
            stream = container.streams.video[0]
            rate = Fraction(stream.average_rate or stream.base_rate or 0)
            frames = stream.frames or sum(1 for _ in container.demux(stream) if _.size)
            duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else 0.0
            if not duration and container.duration:
                duration = container.duration / 1_000_000
            return VideoInfo(
                codec=stream.codec_context.name,
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                fps=float(rate),
                duration=duration,
                frames=frames,
                has_audio=bool(container.streams.audio),
            )
    except av.FFmpegError as exc:
        raise ValueError(f"not a playable MP4: {exc}") from exc
