"""Subject-aware framing on real photographs (scikit-image's data files): faces stay whole in every frame."""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import pytest
import skimage.data
from PIL import Image

from prefect_nemo.local.studio.director import direct
from prefect_nemo.local.studio.framing import Box, Framing, analyse, analyse_rgb, find_faces
from prefect_nemo.local.studio.motion import CameraPath, Motion
from prefect_nemo.local.studio.renderer import EncodeSettings, render_final

ASPECTS = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080), "4:5": (1080, 1350)}
PROMPTS = [
    "animate this photo",
    "zoom into the face",
    "slow push-in",
    "quick pull-out",
    "pan left",
    "pan right then zoom in",
    "start wide, push in, hold",
    "ken burns",
    "orbit",
    "tilt up",
]


def photo(name: str) -> np.ndarray[Any, Any]:
    img = getattr(skimage.data, name)()
    img = np.stack([img] * 3, axis=-1) if img.ndim == 2 else img[..., :3]
    return np.ascontiguousarray(img, dtype=np.uint8)


@pytest.fixture(scope="module")
def astronaut() -> Framing:
    return analyse_rgb(photo("astronaut"))


@pytest.fixture(scope="module")
def astronaut_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    Image.fromarray(photo("astronaut")).save(path)
    return path


def inside(box: Box, quad: np.ndarray[Any, Any], tol: float = 1e-3) -> bool:
    """Whether all four corners of ``box`` lie inside the convex quad (corners in order around it)."""
    pts = np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]])
    for a, b in zip(quad, np.roll(quad, -1, axis=0), strict=True):
        cross = (b[0] - a[0]) * (pts[:, 1] - a[1]) - (b[1] - a[1]) * (pts[:, 0] - a[0])
        if (cross < -tol).any():
            return False
    return True


class TestAnalysis:
    def test_finds_the_astronauts_face(self, astronaut: Framing) -> None:
        assert len(astronaut.faces) == 1
        x0, y0, x1, y1 = astronaut.faces[0]
        assert 0.25 < x0 < x1 < 0.65 and 0.0 <= y0 < y1 < 0.45  # her head, upper middle of the portrait
        assert x0 < astronaut.focus[0] < x1 and y0 < astronaut.focus[1] < y1

    @pytest.mark.parametrize("name", ["coffee", "rocket", "immunohistochemistry"])
    def test_no_faces_where_there_are_none(self, name: str) -> None:
        assert analyse_rgb(photo(name)).faces == ()

    def test_the_coffee_cup_is_the_subject(self) -> None:
        subject = analyse_rgb(photo("coffee")).subject
        assert subject is not None
        x0, y0, x1, y1 = subject
        assert x0 < 0.5 < x1 and y0 < 0.5 < y1 and (x1 - x0) * (y1 - y0) < 0.6

    def test_finds_the_text_block_of_a_page(self) -> None:
        texts = analyse_rgb(photo("page")).texts
        assert texts and max((b[2] - b[0]) * (b[3] - b[1]) for b in texts) > 0.3

    def test_finds_the_lines_of_a_page_and_the_heading_over_its_paragraph(self) -> None:
        page = analyse_rgb(photo("page"))
        assert len(page.lines) >= 8 and page.subject is not None
        heading = min(page.lines, key=lambda b: b[1])  # "Region-based segmentation", alone on its line
        assert heading[1] < 0.1 and heading[3] < page.subject[1]  # outside the salient box and any text block
        assert not any(t[1] <= heading[1] for t in page.texts)
        _, top, _, bottom = page.with_text(page.subject)
        assert top == heading[1] and 0.6 < bottom < 0.8  # the paragraph and its heading; not the code further down

    def test_the_faces_alone_are_the_analysis_faces(self, astronaut: Framing) -> None:
        assert find_faces(photo("astronaut")) == astronaut.faces
        assert find_faces(photo("coffee")) == ()

    def test_the_analysis_is_small_and_picklable(self, astronaut: Framing) -> None:
        assert pickle.loads(pickle.dumps(astronaut)) == astronaut
        assert len(pickle.dumps(astronaut)) < 1000

    @pytest.mark.parametrize("at", [(0.25, 0.3), (0.75, 0.65), (0.5, 0.5)])
    def test_finds_the_product_on_a_plain_backdrop(
        self, at: tuple[float, float], product: Callable[..., Image.Image], tmp_path: Path
    ) -> None:
        path = tmp_path / "p.png"
        product((1200, 800), at=at).save(path)
        found = analyse(path)
        assert abs(found.focus[0] - at[0]) < 0.1 and abs(found.focus[1] - at[1]) < 0.1
        assert found.subject is not None and found.subject[0] < at[0] < found.subject[2]

    def test_blank_image_focuses_the_centre(self, tmp_path: Path) -> None:
        path = tmp_path / "blank.png"
        Image.new("RGB", (300, 200), (90, 90, 90)).save(path)
        assert analyse(path) == Framing(size=(300, 200))

    def test_exif_rotation_is_honoured(self, product: Callable[..., Image.Image], tmp_path: Path) -> None:
        path = tmp_path / "rotated.jpg"
        exif = Image.Exif()
        exif[0x0112] = 6  # stored sideways; viewers rotate it 90 degrees clockwise
        product((800, 600), at=(0.2, 0.5)).save(path, exif=exif)
        found = analyse(path)
        assert found.size == (600, 800)
        assert abs(found.focus[0] - 0.5) < 0.1 and found.focus[1] < 0.35  # stored left is on top when upright

    def test_keep_prefers_faces_when_the_union_does_not_fit(self) -> None:
        framing = Framing(size=(1000, 1000), faces=((0.4, 0.1, 0.6, 0.3),), subject=(0.05, 0.1, 0.95, 0.95))
        assert framing.keep(16 / 9) == (0.4, 0.1, 0.6, 0.3)
        assert framing.keep(1.0) == (0.05, 0.1, 0.95, 0.95)


class TestFacesStayWhole:
    @pytest.mark.parametrize("aspect", list(ASPECTS))
    @pytest.mark.parametrize("prompt", PROMPTS)
    def test_every_planned_frame_contains_the_face(self, astronaut: Framing, aspect: str, prompt: str) -> None:
        plan = direct(f"{prompt}, {aspect}", image_asset="img", image_size=(512, 512), framing=astronaut)
        mo = Motion.from_draft(plan.draft["t"][0]["sg"][0]["mo"])
        out = ASPECTS[aspect]
        path = CameraPath(mo, (1024, 1024), out, 150)  # the renderer's source is supersampled like this
        quads = path.corners()
        for face in astronaut.faces:
            bad = [i for i, quad in enumerate(quads) if not inside(face, quad)]
            assert not bad, f"{prompt!r} at {aspect}: the face leaves frames {bad[:5]}"

    def test_a_face_at_the_edge_is_kept_by_every_move(self) -> None:
        framing = Framing(size=(3000, 2000), faces=((0.02, 0.05, 0.12, 0.25), (0.85, 0.7, 0.97, 0.93)))
        for prompt in PROMPTS:
            plan = direct(f"{prompt}, 9:16", image_asset="img", image_size=(3000, 2000), framing=framing)
            mo = Motion.from_draft(plan.draft["t"][0]["sg"][0]["mo"])
            quads = CameraPath(mo, (3000, 2000), (1080, 1920), 60).corners()
            kept = mo.keep
            assert kept is not None and all(inside(kept, q) for q in quads), prompt

    def test_zoom_into_the_face_ends_on_it(self, astronaut: Framing) -> None:
        plan = direct("zoom into the face", image_asset="img", image_size=(512, 512), framing=astronaut)
        mo = Motion.from_draft(plan.draft["t"][0]["sg"][0]["mo"])
        quads = CameraPath(mo, (1024, 1024), (1920, 1080), 60).corners()
        first, last = (q[2] - q[0] for q in (quads[0], quads[-1]))
        assert last[0] < first[0] * 0.8  # it zoomed in...
        face = astronaut.faces[0]
        cx, cy = quads[-1].mean(axis=0)
        assert face[0] < cx < face[2] and face[1] < cy < face[3]  # ...and ended centred on the face

    def test_zoom_into_a_face_that_is_not_there_says_so(self) -> None:
        plan = direct(
            "zoom into the face", image_asset="img", image_size=(600, 400), framing=analyse_rgb(photo("coffee"))
        )
        assert any("didn't find a face" in t for t in plan.texts)

    def test_rendered_clip_shows_the_face_in_every_sampled_frame(self, astronaut: Framing, astronaut_file: Path,
                                                                 tmp_path: Path) -> None:  # fmt: skip
        plan = direct("3 seconds 16:9, slow push-in then pan left", image_asset="img", image_size=(512, 512),
                      framing=astronaut)  # fmt: skip
        draft = plan.draft
        draft["m"].update(width=640, height=360, fps=12)
        out = tmp_path / "astronaut.mp4"
        render_final(draft, {"img": astronaut_file}, out, settings=EncodeSettings.for_quality("draft"))
        with av.open(str(out)) as box:
            frames = [f.to_ndarray(format="gray") for f in box.decode(video=0)]
        assert len(frames) == 36
        cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml"))
        hers: tuple[int, ...] = ()
        for i in (0, 12, 24, 35):
            faces = [tuple(int(v) for v in f) for f in cascade.detectMultiScale(frames[i], 1.1, 5, minSize=(40, 40))]
            if not hers:
                assert len(faces) == 1, f"frame {i}: {len(faces)} faces"  # hers, and nothing else taken for one
                found = faces[0]
            else:  # hers is the box nearest where it was (a false one on the helmet in her arm is not hers)
                assert faces, f"frame {i}: no face"
                found = min(faces, key=lambda f: math.dist(_centre(f), _centre(hers)))
                assert math.dist(_centre(found), _centre(hers)) < hers[2], f"frame {i}: her face is gone: {faces}"
            x, y, w, h = hers = found
            assert x > 0 and y > 0 and x + w < 640 and y + h < 360, f"frame {i}: face at {(x, y, w, h)} is cut"


def _centre(box: tuple[int, ...]) -> tuple[float, float]:
    x, y, w, h = box
    return x + w / 2, y + h / 2
