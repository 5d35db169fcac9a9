"""A contact sheet of the motion modes on eight real photographs, made the way a user gets them.

    flock /tmp/nemo-heavy.lock python scripts/motion_sheet.py docs/images/motion-sheet.jpg

One row per photograph (the previews' eight): the depth the parallax camera moves through (the framed
view it is given, near is light), then the first and last frame of parallax, dolly zoom, 3D push-in and
subject pop. Each clip goes through the framing, the director and the renderer (``render_motion``), as in
``scripts/motion_previews.py``, so a face the product keeps whole is whole here too.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
from motion_previews import MODES, photos  # this folder: the previews' photographs and words
from PIL import Image

from prefect_nemo.local.studio.director import direct
from prefect_nemo.local.studio.frames import Timeline, load_rgb, scale_for, source_planes
from prefect_nemo.local.studio.framing import analyse
from prefect_nemo.local.studio.renderer import EncodeSettings, render_motion
from prefect_nemo.local.studio.shots import DepthShot, open_shot

U8 = npt.NDArray[np.uint8]
CELL, FPS, SECONDS = (320, 180), 12, 2.5
SHOWN = ("parallax", "dolly_zoom", "push_3d", "pop")


def first_and_last(image: Path, words: str, clip: Path) -> tuple[U8, U8, dict[str, object]]:
    """The first and last frame of the clip ``words`` make of ``image``, and the draft it was made from."""
    framing = analyse(image)
    plan = direct(f"{SECONDS:g} seconds, 16:9, {words}", image_asset="img", image_size=framing.size, framing=framing)
    plan.draft["m"].update(width=CELL[0], height=CELL[1], fps=FPS)
    render_motion(image, plan.draft, clip, settings=EncodeSettings("medium", 16))
    with av.open(str(clip)) as box:
        frames = [f.to_ndarray(format="rgb24") for f in box.decode(video=0)]
    return frames[0], frames[-1], plan.draft


def depth_seen(image: Path, draft: dict[str, object]) -> U8:
    """The nearness map the depth camera of ``draft`` is given (its framed view), as a grey RGB cell."""
    motion = Timeline.parse(draft).video[0].motion
    rgb = load_rgb(image, scale_for(motion, *CELL))
    shot = open_shot(motion, source_planes(rgb), CELL, 2, rgb=rgb)
    assert isinstance(shot, DepthShot), f"{motion.mode} is not a depth mode"
    near = cv2.resize((shot.depth.near * 255).astype(np.uint8), CELL, interpolation=cv2.INTER_AREA)
    return np.dstack([near] * 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the sheet (a .jpg)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="nemo-sheet-") as tmpdir:
        tmp = Path(tmpdir)
        for name, image in photos(tmp).items():
            cells: list[U8] = []
            for mode in SHOWN:
                first, last, draft = first_and_last(image, MODES[mode], tmp / "clip.mp4")
                if not cells:
                    cells.append(depth_seen(image, draft))
                cells += [first, last]
            rows.append(np.hstack(cells))
            print(f"{name}: done", flush=True)
    Image.fromarray(np.vstack(rows)).save(args.out, quality=82, optimize=True)
    print(f"contact sheet: {args.out} (depth | parallax, dolly zoom, 3D push-in, subject pop: first and last frame)")


if __name__ == "__main__":
    main()
