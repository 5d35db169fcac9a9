"""Render a few example clips through the director and renderer and lay out their first, middle and last frames.

    python scripts/make_examples.py && python scripts/contact_sheet.py [--out docs/images/contact-sheet.png]

Each row is one clip: the instruction it came from, then frames at 0%, 50% and 100% of its length, so the
motion (and where it heads), the aspect ratio and the title fade can be judged at a glance.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import av
from PIL import Image, ImageDraw, ImageFont

from prefect_nemo.local.studio.director import direct
from prefect_nemo.local.studio.renderer import EncodeSettings, focus_point, render_final

ROOT = Path(__file__).resolve().parent.parent
CLIPS = [
    ("product.jpg", "3-second push-in with the title 'NOIR eau de parfum', calm music"),
    ("illustration.png", "3 seconds, vertical, pan right across the hills"),
    ("poster.png", "3 sec 4:5 slow pull-out"),
    ("portrait.jpg", "3 seconds, square, Ken Burns toward the top left"),
    ("product.jpg", "3-second orbit-like parallax drift, 16:9"),
]
THUMB_H, GAP, LABEL_W = 220, 12, 330
INK, PAPER, MUTED = (235, 235, 240), (24, 26, 32), (150, 155, 170)


def _font(px: int) -> ImageFont.FreeTypeFont:
    font = ImageFont.load_default(size=px)
    assert isinstance(font, ImageFont.FreeTypeFont)
    return font


def _frames(clip: Path) -> list[Image.Image]:
    """Frames at 0%, 50% and 100% of the clip, decoded (not re-rendered), as RGB."""
    with av.open(str(clip)) as box:
        count = box.streams.video[0].frames
        want = sorted({0, (count - 1) // 2, count - 1})
        return [
            Image.fromarray(frame.to_ndarray(format="rgb24"))
            for i, frame in enumerate(box.decode(video=0))
            if i in want
        ]


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        if line and font.getlength(f"{line} {word}") > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "contact-sheet.png")
    out = parser.parse_args().out
    rows: list[tuple[str, str, list[Image.Image]]] = []
    with tempfile.TemporaryDirectory(prefix="nemo-sheet-") as tmp:
        for n, (name, instruction) in enumerate(CLIPS):
            image = ROOT / "examples" / name
            with Image.open(image) as img:
                size = img.size
            plan = direct(instruction, image_asset="img", image_size=size, saliency=focus_point(image))
            clip = Path(tmp) / f"clip{n}.mp4"
            render_final(plan.draft, {"img": image}, clip, settings=EncodeSettings.for_quality("medium"))
            thumbs = [
                f.resize((round(f.width * THUMB_H / f.height), THUMB_H), Image.Resampling.LANCZOS)
                for f in _frames(clip)
            ]
            rows.append((f"{name}: \u201c{instruction}\u201d", plan.texts[0], thumbs))
    width = LABEL_W + max(sum(t.width + GAP for t in thumbs) for _, _, thumbs in rows) + GAP
    head = 56
    sheet = Image.new("RGB", (width, head + len(rows) * (THUMB_H + 2 * GAP + 18)), PAPER)
    draw = ImageDraw.Draw(sheet)
    draw.text(
        (GAP, 16), "prefect-nemo local renderer: frames at 0%, 50% and 100% of each clip", font=_font(24), fill=INK
    )
    y = head
    for label, said, thumbs in rows:
        ty = y + GAP
        for line in _wrap(label, _font(17), LABEL_W - 2 * GAP)[:4]:
            draw.text((GAP, ty), line, font=_font(17), fill=INK)
            ty += 22
        for line in _wrap(said.removeprefix("I'll make a "), _font(14), LABEL_W - 2 * GAP)[:5]:
            draw.text((GAP, ty + 6), line, font=_font(14), fill=MUTED)
            ty += 18
        x = LABEL_W
        for thumb, pct in zip(thumbs, ("0%", "50%", "100%"), strict=True):
            sheet.paste(thumb, (x, y + GAP))
            draw.text((x + 4, y + GAP + THUMB_H + 2), pct, font=_font(14), fill=MUTED)
            x += thumb.width + GAP
        y += THUMB_H + 2 * GAP + 18
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, optimize=True)
    print(f"wrote {out} ({sheet.width}x{sheet.height}, {out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
