"""Source images and audio for the director/renderer tests, drawn procedurally (no fixtures on disk)."""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw


def product_image(size: tuple[int, int], at: tuple[float, float] = (0.7, 0.5)) -> Image.Image:
    """A dark product (plus a label) on a pale studio backdrop, centred at ``at`` (0..1)."""
    w, h = size
    ramp = np.linspace(225, 190, h, dtype=np.float32)[:, None, None] * np.ones((1, w, 3), np.float32)
    img = Image.fromarray(ramp.astype(np.uint8))
    draw = ImageDraw.Draw(img)
    cx, cy, r = at[0] * w, at[1] * h, min(w, h) * 0.18
    draw.rounded_rectangle((cx - r * 0.6, cy - r, cx + r * 0.6, cy + r), radius=r * 0.2, fill=(30, 90, 60))
    draw.rectangle((cx - r * 0.4, cy - r * 0.25, cx + r * 0.4, cy + r * 0.25), fill=(240, 235, 220))
    return img


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def photo(media: Path) -> Path:
    path = media / "photo.jpg"
    product_image((960, 640)).save(path, quality=90)
    return path


@pytest.fixture(scope="session")
def tiny(media: Path) -> Path:
    path = media / "tiny.png"
    product_image((100, 100), at=(0.5, 0.5)).save(path)
    return path


@pytest.fixture(scope="session")
def huge(media: Path) -> Path:
    """An 8K (7680x4320) PNG: the largest source the renderer promises to take."""
    path = media / "8k.png"
    product_image((7680, 4320)).save(path, compress_level=1)
    return path


@pytest.fixture(scope="session")
def tone(media: Path) -> Path:
    """Two seconds of a 440 Hz sine at half scale, 44.1 kHz stereo WAV (exercises resampling)."""
    path = media / "tone.wav"
    t = np.arange(2 * 44_100) / 44_100
    pcm = (np.sin(2 * np.pi * 440 * t) * 0.5 * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(44_100)
        out.writeframes(np.repeat(pcm, 2).tobytes())
    return path


@pytest.fixture(scope="session")
def product() -> Callable[..., Image.Image]:
    return product_image
