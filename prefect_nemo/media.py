"""Local media checks: images before they cost an upload, MP4s before they are called clips."""

from __future__ import annotations

import hashlib
import math
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
from prefect_nemo.inputs import READABLE_IMAGES, display_path

__all__ = [
    "ACCEPTED_IMAGES",
    "BOMB_PIXELS",
    "MAX_UPLOAD_BYTES",
    "PreparedImage",
    "VideoInfo",
    "display_path",
    "mp4_problem",
    "preflight",
    "probe",
    "sha256_file",
]

ACCEPTED_IMAGES = READABLE_IMAGES
"""Every image type pre-flight takes: uploaded as is (jpg, png, gif, webp) or converted to PNG first."""
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
MIN_SIDE = 16
LOW_CONTRAST = 12.0  # std-dev of luminance (0-255) under which motion looks mushy
UPLOADED_FORMATS = {"JPEG": (".jpg", ".jpeg"), "MPO": (".jpg", ".jpeg"), "PNG": (".png",), "GIF": (".gif",)}
UPLOADED_FORMATS["WEBP"] = (".webp",)
"""Formats the backend takes as they are (MPO is a camera's multi-picture JPEG), and their extensions."""
CONVERTED_FORMATS = {"HEIF": (".heic", ".heif"), "AVIF": (".avif",), "TIFF": (".tif", ".tiff"), "BMP": (".bmp",)}
"""Formats a camera or scanner makes, converted to PNG for upload."""
BOMB_PIXELS = 4 * (Image.MAX_IMAGE_PIXELS or 89_478_485)
"""Past this many pixels an image is refused as a likely decompression bomb (4x Pillow's warning limit)."""
TARGET_PIXELS = 7680 * 4320
"""An image over Pillow's limit is downscaled to about this many pixels (8K): plenty for a 1080p clip."""


@dataclass(frozen=True)
class PreparedImage:
    """An image that passed pre-flight: what to upload, and what the cache keys on."""

    source: Path
    upload_path: Path
    sha256: str
    width: int
    height: int
    warnings: list[str] = field(default_factory=list)
    format: str = ""
    """What the content is (JPEG, PNG, HEIF...), whatever the file's extension says."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def preflight(path: Path | str, work_dir: Path) -> PreparedImage:
    """Check an image before upload; re-encode to PNG (never lossy) when orientation, mode, size or format
    must change. What a photographer has is taken: HEIC, AVIF, TIFF and BMP are converted, an image over
    Pillow's pixel limit is downscaled (up to a decompression-bomb bound), a mislabelled file is read as what
    it is; each with a warning.

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
    notes: list[str] = []
    try:
        with _open_bounded(path, name) as probe_image:
            probe_image.verify()
        with _open_bounded(path, name) as image:
            fmt = image.format or ""
            frames = getattr(image, "n_frames", 1)
            pixels = image.width * image.height
            if pixels > (Image.MAX_IMAGE_PIXELS or pixels):
                image.thumbnail(_fit(image.size, TARGET_PIXELS))  # JPEG decodes at the smaller size (draft)
                notes.append(
                    f"{shown} has {pixels / 1e6:.0f} megapixels, over Pillow's {_limit_mp()}-megapixel limit; "
                    f"downscaled to {image.width}x{image.height} for upload"
                )
            image.load()
            rotated = image.getexif().get(0x0112, 1) not in (1, None)
            upright = ImageOps.exif_transpose(image) if rotated else image
    except UnidentifiedImageError as exc:
        raise NemoInputError(name, _unreadable(path)) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise NemoInputError(name, f"image is damaged or truncated ({exc})") from exc
    suffixes = UPLOADED_FORMATS.get(fmt) or CONVERTED_FORMATS.get(fmt)
    if suffixes is None:
        raise NemoInputError(name, f"content is {fmt or 'unknown'}, which is not a photo format that can be uploaded")
    converted = fmt in CONVERTED_FORMATS
    mislabelled = path.suffix.lower() not in suffixes
    if mislabelled:
        notes.append(f"{shown} is a {fmt} image under a '{path.suffix or '(none)'}' name; read as {fmt}")
    if converted:
        notes.append(f"{shown} is {fmt}; converted to PNG for upload")
    width, height = upright.size
    if min(width, height) < MIN_SIDE:
        raise NemoInputError(name, f"image is {width}x{height}; each side must be at least {MIN_SIDE} px")
    reencode = rotated or image.mode not in ("RGB", "L") or frames > 1 or pixels != image.width * image.height
    reencode = reencode or converted or mislabelled
    if frames > 1:
        notes.append(f"{shown} is animated ({frames} frames); only the first frame is used")
    if rotated:
        notes.append(f"{shown} was rotated upright from its EXIF orientation")
    rgb = _to_rgb(upright)
    luminance = np.asarray(rgb.convert("L").resize((min(256, width), min(256, height))), dtype=np.float32)
    if float(luminance.std()) < LOW_CONTRAST:
        notes.append(f"{shown} has low contrast; higher-contrast images give cleaner motion")
    upload = path
    digest = sha256_file(path)
    if reencode:
        work_dir.mkdir(parents=True, exist_ok=True)
        upload = work_dir / f"{digest[:16]}.png"
        rgb.save(upload, format="PNG")
    return PreparedImage(path, upload, digest, width, height, notes, fmt)


def _open_bounded(path: Path, name: str) -> Image.Image:
    """`Image.open` with the bomb bound at `BOMB_PIXELS` instead of Pillow's (whose global limit is never
    changed: another thread may be checking another image). Between the two, the format's own opener is
    used, which reads the header and checks no size."""
    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(path)
    except Image.DecompressionBombError as exc:
        found = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = int(found.group(1)) if found else BOMB_PIXELS + 1
        if pixels > BOMB_PIXELS:
            raise NemoInputError(name, _too_many_pixels(pixels)) from exc
    with path.open("rb") as handle:
        prefix = handle.read(16)
    for fmt in Image.ID:
        factory, accept = Image.OPEN[fmt]
        if accept is None or accept(prefix) is True:
            try:
                return factory(str(path))  # type: ignore[arg-type,call-arg]  # a path: the opener opens and closes it
            except (SyntaxError, IndexError, TypeError, struct.error):
                continue
    raise UnidentifiedImageError(name)


def _register_heif() -> None:
    """HEIC/HEIF and AVIF through pillow-heif's Pillow plugin (imported on first use: it takes 0.3 s)."""
    if "HEIF" not in Image.OPEN:
        import pillow_heif

        pillow_heif.register_heif_opener()


def _fit(size: tuple[int, int], pixels: int) -> tuple[int, int]:
    scale = math.sqrt(pixels / (size[0] * size[1]))
    return max(1, int(size[0] * scale)), max(1, int(size[1] * scale))


def _limit_mp() -> str:
    return f"{(Image.MAX_IMAGE_PIXELS or 0) / 1e6:.0f}"


def _unreadable(path: Path) -> str:
    if path.suffix.lower() not in READABLE_IMAGES:
        kinds = ", ".join(s.lstrip(".") for s in READABLE_IMAGES if s not in (".jpeg", ".heif", ".tif"))
        return f"unsupported type '{path.suffix or '(none)'}' (not an image Pillow can read; images: {kinds})"
    return "not a readable image (unknown or corrupt format)"


def _too_many_pixels(pixels: int) -> str:
    """The reason for a decompression-bomb refusal."""
    return (
        f"image has {pixels / 1e6:.0f} megapixels, over the {BOMB_PIXELS / 1e6:.0f}-megapixel bound that guards "
        "against decompression bombs; downscale it (8K, 7680x4320, is plenty)"
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
