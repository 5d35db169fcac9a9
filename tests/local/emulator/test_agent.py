"""Which uploads an instruction animates, and which draft it edits: one still, or a timeline of all of them."""

from __future__ import annotations

from typing import Any

from prefect_nemo.local.emulator.agent import continued, direct, shots_for, still_of

IMAGES = [{"file_id": f"img_{n}", "info": {"width": 800, "height": 600}} for n in "abc"]


def timeline_of(*ids: str) -> dict[str, Any]:
    segments = [{"s": 3000 * i, "d": 3000, "src": x} for i, x in enumerate(ids)]
    return {"d": 3000 * len(ids), "t": [{"tt": 0, "sg": segments}]}


def test_a_slideshow_takes_every_image_in_upload_order() -> None:
    assert shots_for("a slideshow of these", IMAGES, None) == IMAGES
    assert shots_for("把这些合成一个视频", IMAGES, None) == IMAGES


def test_a_plain_instruction_takes_the_latest_image() -> None:
    assert shots_for("5-second push-in", IMAGES, None) == IMAGES[-1:]
    assert shots_for("a slideshow", IMAGES[:1], None) == IMAGES[:1]  # one image: a clip of it, as before


def test_a_follow_up_to_a_timeline_of_all_the_images_edits_it() -> None:
    draft = timeline_of("img_a", "img_b", "img_c")
    assert shots_for("make the title bigger", IMAGES, draft) == IMAGES
    assert continued(draft, IMAGES) is draft
    newer = [*IMAGES, {"file_id": "img_d", "info": {"width": 800, "height": 600}}]  # an image since: a new draft
    assert shots_for("make the title bigger", newer, draft) == newer[-1:]
    assert continued(draft, newer) is None


def test_the_plan_for_several_stills_is_one_timeline() -> None:
    plan = direct("slideshow, 2 seconds each, slide", [still_of(u, None) for u in IMAGES], None, None)
    segments = plan.draft["t"][0]["sg"]
    assert [s["src"] for s in segments] == ["img_a", "img_b", "img_c"] and plan.draft["d"] == 6000
