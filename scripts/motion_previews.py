"""Animated previews (WebP) of every motion mode on eight real photographs, made the way a user gets them.

    flock /tmp/nemo-heavy.lock python scripts/motion_previews.py docs/images/motion/

Per photograph (scikit-image's astronaut, coffee, chelsea, rocket, camera and motorcycle; the repository's
examples/portrait.jpg and examples/product.jpg) the picture is analysed (faces, subject), the director reads
an instruction for each mode ("parallax", "dolly zoom" ...) into a draft, and the product's renderer
(``render_motion``) makes the clip from that draft; its frames, read back with PyAV, become a looping WebP.
Previews are small (480x270, 15 fps, 2.5 s): the motion is the same at any size.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import av
import numpy as np
import skimage.data
from PIL import Image

from prefect_nemo.local.studio.director import direct
from prefect_nemo.local.studio.framing import analyse
from prefect_nemo.local.studio.renderer import EncodeSettings, render_motion

ROOT = Path(__file__).resolve().parent.parent
SKIMAGE = ("astronaut", "coffee", "chelsea", "rocket", "camera", "motorcycle")
EXAMPLES = ("portrait.jpg", "product.jpg")
MODES = {  # file name -> the words asked for
    "push_in": "push in",
    "parallax": "parallax",
    "dolly_zoom": "dolly zoom",
    "push_3d": "3D push in",
    "pop": "make the subject pop",
    "life": "parallax, dreamy, film grain",
}
SIZE, FPS, SECONDS = (480, 270), 15, 2.5


def photos(tmp: Path) -> dict[str, Path]:
    """The eight photographs as files (the renderer reads files)."""
    out = {}
    for name in SKIMAGE:
        rgb = skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)()
        out[name] = tmp / f"{name}.png"
        Image.fromarray(np.dstack([rgb] * 3) if rgb.ndim == 2 else rgb).save(out[name])
    return out | {Path(name).stem: ROOT / "examples" / name for name in EXAMPLES}


def preview(image: Path, words: str, clip: Path, webp: Path) -> tuple[str, int]:
    """Render ``words`` over ``image`` through the director and the renderer; return its sentence and kB."""
    framing = analyse(image)
    plan = direct(f"{SECONDS:g} seconds, 16:9, {words}", image_asset="img", image_size=framing.size, framing=framing)
    plan.draft["m"].update(width=SIZE[0], height=SIZE[1], fps=FPS)
    render_motion(image, plan.draft, clip, settings=EncodeSettings("medium", 16))
    with av.open(str(clip)) as box:
        frames = [Image.fromarray(f.to_ndarray(format="rgb24")) for f in box.decode(video=0)]
    frames[0].save(webp, save_all=True, append_images=frames[1:], duration=round(1000 / FPS), loop=0, quality=60,
                   method=4)  # fmt: skip
    return " ".join(plan.texts), round(webp.stat().st_size / 1000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the WebP files (<photo>-<mode>.webp)")
    parser.add_argument("--only", nargs="*", help="photograph names to make (default: all eight)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="nemo-previews-") as tmpdir:
        tmp = Path(tmpdir)
        for name, image in photos(tmp).items():
            if args.only and name not in args.only:
                continue
            for mode, words in MODES.items():
                said, kb = preview(image, words, tmp / "clip.mp4", args.out / f"{name}-{mode}.webp")
                print(f"{name}-{mode}.webp: {kb} kB  {said}")


if __name__ == "__main__":
    main()
