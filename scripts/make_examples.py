"""Draw the example images in examples/: small, varied, deterministic, no downloads.

    python scripts/make_examples.py [--out examples]

product.jpg      a product on a plain studio backdrop (the common case: push-in toward the product)
illustration.png a flat layered landscape (pans and parallax drifts read well on it)
poster.png       a text-heavy sale poster (tests that motion keeps type legible)
portrait.jpg     a portrait-orientation, photo-like street scene (vertical clips, saliency off-centre)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFilter, ImageFont

F32 = npt.NDArray[np.float32]


def _gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> F32:
    w, h = size
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    return np.broadcast_to(np.array(top, np.float32) * (1 - t) + np.array(bottom, np.float32) * t, (h, w, 3)).copy()


def _font(px: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.load_default(size=px)
    assert isinstance(font, ImageFont.FreeTypeFont), "Pillow needs FreeType for the scalable default font"
    return font


def _to_image(arr: F32, noise: float, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    arr = arr + rng.normal(0, noise, arr.shape).astype(np.float32) if noise else arr
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def product(size: tuple[int, int] = (1600, 1200)) -> Image.Image:
    """A perfume bottle with a soft contact shadow on a warm seamless backdrop."""
    w, h = size
    img = _to_image(_gradient(size, (244, 236, 226), (214, 200, 186)), 1.2, 1)
    shadow = Image.new("L", size, 0)
    ImageDraw.Draw(shadow).ellipse((w * 0.42, h * 0.78, w * 0.78, h * 0.86), fill=110)
    img.paste((70, 55, 45), (0, 0), shadow.filter(ImageFilter.GaussianBlur(w / 60)))
    draw = ImageDraw.Draw(img)
    x0, x1, top, base = w * 0.5, w * 0.7, h * 0.36, h * 0.82
    for i in range(40):  # glass body: darker at the edges, a highlight band on the left
        t = i / 39
        shade = int(60 + 120 * (1 - abs(t - 0.35) * 1.6))
        draw.rectangle(
            (x0 + (x1 - x0) * t, top, x0 + (x1 - x0) * (t + 1 / 39), base), fill=(shade // 3, shade // 2, shade)
        )
    draw.rectangle((x0 + (x1 - x0) * 0.12, top + 10, x0 + (x1 - x0) * 0.18, base - 10), fill=(200, 215, 240))
    draw.rounded_rectangle((w * 0.56, h * 0.24, w * 0.64, h * 0.36), radius=w // 160, fill=(196, 160, 82))
    draw.rectangle((w * 0.53, h * 0.52, w * 0.67, h * 0.64), fill=(246, 241, 230))
    draw.text((w * 0.6, h * 0.58), "NOIR", font=_font(w // 28), fill=(30, 30, 40), anchor="mm")
    return img


def illustration(size: tuple[int, int] = (1920, 1080)) -> Image.Image:
    """Dusk over layered hills: flat colour planes, a sun, a few birds."""
    w, h = size
    img = _to_image(_gradient(size, (255, 183, 120), (120, 86, 170)), 0, 2)
    draw = ImageDraw.Draw(img)
    draw.ellipse((w * 0.62, h * 0.18, w * 0.74, h * 0.18 + w * 0.12), fill=(255, 232, 170))
    x = np.linspace(0, w, 200)
    colours = [(94, 70, 140), (70, 52, 112), (48, 36, 84), (30, 24, 56)]
    for k, colour in enumerate(colours):
        base = h * (0.55 + 0.12 * k)
        y = base + h * 0.06 * np.sin(x / w * (3 + k) * np.pi + k * 1.7) + h * 0.025 * np.sin(x / w * 17 + k)
        draw.polygon([(0, h), *zip(x.tolist(), y.tolist(), strict=True), (w, h)], fill=colour)
    for bx, by in ((0.3, 0.22), (0.34, 0.25), (0.38, 0.21)):
        cx, cy, s = bx * w, by * h, w / 90
        draw.line([(cx - s, cy - s / 2), (cx, cy), (cx + s, cy - s / 2)], fill=(60, 40, 70), width=max(2, w // 480))
    return img


def poster(size: tuple[int, int] = (1200, 1500)) -> Image.Image:
    """A 4:5 sale poster: big headline, sub-lines, a price badge and small print."""
    w, h = size
    img = Image.new("RGB", size, (18, 32, 64))
    draw = ImageDraw.Draw(img)
    for i in range(12):
        draw.rectangle((0, h * i / 12, w, h * (i + 0.5) / 12), fill=(22 + i, 40 + i * 2, 78 + i * 2))
    draw.text((w / 2, h * 0.16), "SUMMER", font=_font(w // 6), fill=(255, 214, 90), anchor="mm")
    draw.text((w / 2, h * 0.3), "SALE", font=_font(w // 4), fill=(255, 255, 255), anchor="mm")
    lines = ["Up to 50% off everything", "In store and online", "June 1 - June 30"]
    for i, line in enumerate(lines):
        draw.text((w / 2, h * (0.47 + 0.07 * i)), line, font=_font(w // 18), fill=(220, 230, 255), anchor="mm")
    draw.ellipse((w * 0.62, h * 0.66, w * 0.92, h * 0.66 + w * 0.3), fill=(230, 57, 70))
    draw.text((w * 0.77, h * 0.66 + w * 0.15), "-50%", font=_font(w // 11), fill=(255, 255, 255), anchor="mm")
    small = "Offer valid while stocks last. Not combinable with other promotions. See store for details."
    draw.text((w / 2, h * 0.95), small, font=_font(w // 48), fill=(150, 165, 200), anchor="mm")
    return img


def portrait(size: tuple[int, int] = (1080, 1620)) -> Image.Image:
    """A tall, photo-like evening street: a lit tower off-centre, windows, haze and sensor noise."""
    w, h = size
    arr = _gradient(size, (40, 60, 110), (235, 150, 90))
    rng = np.random.default_rng(4)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for k in range(9):  # a skyline of blocks with lit windows
        bx = k * w / 9
        top = h * (0.45 + 0.2 * rng.random())
        draw.rectangle((bx, top, bx + w / 9 - 6, h), fill=(25, 25, 38))
        for _ in range(14):
            wx, wy = bx + rng.random() * (w / 9 - 20), top + rng.random() * (h - top - 20)
            draw.rectangle((wx, wy, wx + 8, wy + 12), fill=(255, 205, 120))
    tx = w * 0.33
    draw.rectangle((tx - w * 0.06, h * 0.18, tx + w * 0.06, h), fill=(32, 30, 44))
    draw.polygon([(tx - w * 0.06, h * 0.18), (tx, h * 0.08), (tx + w * 0.06, h * 0.18)], fill=(32, 30, 44))
    draw.ellipse((tx - w * 0.03, h * 0.12, tx + w * 0.03, h * 0.12 + w * 0.06), fill=(255, 240, 200))
    glow = img.filter(ImageFilter.GaussianBlur(w / 40))
    arr = np.asarray(Image.blend(img, glow, 0.35), dtype=np.float32)
    return _to_image(arr, 2.5, 5).filter(ImageFilter.GaussianBlur(0.6))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "examples")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    product().save(out / "product.jpg", quality=85, optimize=True)
    illustration().save(out / "illustration.png", optimize=True)
    poster().save(out / "poster.png", optimize=True)
    portrait().save(out / "portrait.jpg", quality=80, optimize=True)
    for path in sorted(out.iterdir()):
        size = path.stat().st_size
        if size > 300_000:
            raise SystemExit(f"{path.name} is {size} bytes; examples must stay under 300 KB")
        print(f"{path.name}: {Image.open(path).size[0]}x{Image.open(path).size[1]}, {size // 1024} KB")


if __name__ == "__main__":
    main()
