"""Render 8 real photographs x 8 prompts through the framing, director and renderer, and lay out the frames.

    flock /tmp/nemo-heavy.lock python scripts/contact_sheet.py [--out docs/images/contact-sheet.png]

Each row is one photograph (scikit-image's data set and examples/), each column one prompt (two Chinese);
a cell shows the clip's frames at 0%, 50% and 100% and the director's sentence under them, so framing (are
faces whole?), motion, looks and text placement can be judged at a glance. Clips render at a quarter of
their size and 8 fps (the framing and the motion are the same at any size).
"""

from __future__ import annotations

import argparse
import re
import tempfile
from pathlib import Path

import av
import numpy as np
import skimage.data
from PIL import Image, ImageDraw

from prefect_nemo.local.studio.director import direct
from prefect_nemo.local.studio.framing import analyse
from prefect_nemo.local.studio.overlay import font_for
from prefect_nemo.local.studio.renderer import EncodeSettings, render_final

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = ["astronaut", "camera", "chelsea", "coffee", "rocket", "portrait.jpg", "product.jpg", "poster.png"]
PROMPTS = [
    "zoom into the face",
    "5-second vertical TikTok, slow pan left then zoom in, title 'New Drop' at the top",
    "make it feel premium, black and white, fade in from black",
    "square, start wide, push in, hold, logo text 'ACME' bottom right",
    "4:5 vintage look with a soft vignette, slow pull-out",
    "energetic 16:9 orbit, crossfade loop, title 'GO' top left",
    "做成5秒的竖屏视频，缓慢推进到产品，暖色调",  # noqa: RUF001 - typed with Chinese commas
    "横屏，向右平移然后拉远，淡入淡出，标题「春季促销」",  # noqa: RUF001
]
GLOSS = {  # for readers of the sheet who do not read Chinese
    PROMPTS[6]: "(make it a 5-second vertical video, slow push-in to the product, warm tones)",
    PROMPTS[7]: "(landscape, pan right then pull out, fade in and out, title 'Spring Sale')",
}
BOX_W, BOX_H, GAP, TEXT_H = 132, 132, 6, 74
INK, PAPER, MUTED = (235, 235, 240), (24, 26, 32), (160, 165, 180)


def _text(draw: ImageDraw.ImageDraw, at: tuple[int, int], text: str, px: int, fill: tuple[int, ...]) -> None:
    """Text in any script, with the font the renderer would use for it (Chinese needs the CJK font)."""
    font, shown = font_for(text, px)
    draw.text(at, shown, font=font, fill=fill)


def _photo(name: str, folder: Path) -> Path:
    """A photograph on disk: an examples/ file, or a scikit-image data photo saved as PNG."""
    if "." in name:
        return ROOT / "examples" / name
    img = getattr(skimage.data, name)()
    img = np.stack([img] * 3, axis=-1) if img.ndim == 2 else img[..., :3]
    path = folder / f"{name}.png"
    Image.fromarray(np.ascontiguousarray(img, dtype=np.uint8)).save(path)
    return path


def _frames(clip: Path) -> list[Image.Image]:
    """Frames at 0%, 50% and 100% of the clip, decoded, as RGB."""
    with av.open(str(clip)) as box:
        count = box.streams.video[0].frames
        want = sorted({0, (count - 1) // 2, count - 1})
        return [Image.fromarray(f.to_ndarray(format="rgb24")) for i, f in enumerate(box.decode(video=0)) if i in want]


def _wrap(text: str, px: int, width: int) -> list[str]:
    """Lines of at most ``width`` pixels: at spaces, or anywhere in text without them (Chinese)."""
    font, _ = font_for(text, px)
    lines, line = [], ""
    for unit in re.findall(r"\S+\s*", text) if " " in text else list(text):
        if line and font.getlength((line + unit).rstrip()) > width:
            lines.append(line.rstrip())
            line = unit
        else:
            line += unit
    return [*lines, line.rstrip()]


def _cell(image: Path, prompt: str, size: tuple[int, int], framing: object, tmp: Path) -> tuple[list[Image.Image], str]:
    plan = direct(prompt, image_asset="img", image_size=size, framing=framing)  # type: ignore[arg-type]
    said = plan.texts[0]
    draft = plan.draft
    m = draft["m"]
    m.update(width=m["width"] // 8 * 2, height=m["height"] // 8 * 2, fps=8)
    clip = tmp / "clip.mp4"
    render_final(draft, {"img": image}, clip, settings=EncodeSettings.for_quality("medium"))
    return _frames(clip), " ".join([said, *plan.texts[1:]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "contact-sheet.png")
    out = parser.parse_args().out
    cell_w = 3 * (BOX_W + GAP)
    head, label_w = 74, 120
    sheet = Image.new("RGB", (label_w + len(PROMPTS) * (cell_w + GAP), head + len(PHOTOS) * (BOX_H + TEXT_H)), PAPER)
    draw = ImageDraw.Draw(sheet)
    _text(draw, (GAP, 8), "Frames at 0%, 50%, 100%: 8 photographs x 8 prompts, with the director's sentence", 20, INK)
    for j, prompt in enumerate(PROMPTS):
        lines = _wrap(prompt, 11, cell_w - GAP)[:2] + _wrap(GLOSS.get(prompt, ""), 10, cell_w - GAP)[:1]
        for k, line in enumerate(lines):
            _text(draw, (label_w + j * (cell_w + GAP), 26 + 13 * k), line, 11 if k < 2 else 10, INK if k < 2 else MUTED)
    with tempfile.TemporaryDirectory(prefix="nemo-sheet-") as folder:
        tmp = Path(folder)
        for i, name in enumerate(PHOTOS):
            image = _photo(name, tmp)
            framing = analyse(image)
            y = head + i * (BOX_H + TEXT_H)
            _text(draw, (GAP, y + 4), name, 13, INK)
            _text(draw, (GAP, y + 22), f"{len(framing.faces)} face(s)", 11, MUTED)
            for j, prompt in enumerate(PROMPTS):
                frames, said = _cell(image, prompt, framing.size, framing, tmp)
                x = label_w + j * (cell_w + GAP)
                for k, frame in enumerate(frames):
                    frame.thumbnail((BOX_W, BOX_H))
                    sheet.paste(frame, (x + k * (BOX_W + GAP) + (BOX_W - frame.width) // 2, y))
                for k, line in enumerate(_wrap(said, 10, cell_w - GAP)[:6]):
                    _text(draw, (x, y + BOX_H + 2 + 12 * k), line, 10, MUTED)
                print(f"{name} x {prompt[:40]!r}: {said[:90]}", flush=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, optimize=True)
    print(f"wrote {out} ({sheet.width}x{sheet.height}, {out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
