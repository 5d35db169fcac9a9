# ruff: noqa: RUF001 - Chinese instructions are written with Chinese punctuation
"""The draft of several stills: one segment per still, back to back, joined by transitions; and its refinements."""

from __future__ import annotations

from typing import Any

import pytest

from prefect_nemo.local.studio.director import InstructionRejected, Still, direct, direct_timeline
from prefect_nemo.local.studio.framing import Framing

STILLS = [Still("a", (1600, 900)), Still("b", (900, 1600)), Still("c", (1000, 1000))]


def shots(draft: dict[str, Any]) -> list[dict[str, Any]]:
    return next(t["sg"] for t in draft["t"] if t["tt"] == 0)


def track(draft: dict[str, Any], kind: int) -> dict[str, Any] | None:
    return next((t["sg"][0] for t in draft["t"] if t["tt"] == kind), None)


def test_the_draft_has_one_segment_per_still_back_to_back_with_transitions_between() -> None:
    plan = direct_timeline("a slideshow of these, 3 seconds each, crossfade, title 'Our Spring Line'", STILLS)
    segments = shots(plan.draft)
    assert [s["src"] for s in segments] == ["a", "b", "c"]
    assert [(s["s"], s["d"]) for s in segments] == [(0, 3000), (3000, 3000), (6000, 3000)]
    assert plan.draft["d"] == 9000
    assert "tr" not in segments[0]
    assert [s["tr"] for s in segments[1:]] == [{"type": "crossfade", "d": 600, "dir": "left"}] * 2
    assert [s["mo"]["type"] for s in segments] == ["push_in", "ken_burns", "pull_out"]  # no move said: varied
    card = track(plan.draft, 7)
    assert card is not None and card["text"] == "Our Spring Line" and card["pos"] == "center"
    assert card["s"] + card["d"] <= 3000  # a title card over the first shot
    assert plan.texts[0].startswith("I'll make one 9-second 16:9 clip") and "crossfades" in plan.texts[0]


def test_a_chinese_instruction_gets_a_chinese_timeline_and_fades_at_both_ends() -> None:
    plan = direct_timeline("把这些合成一个视频，每张2秒，淡入淡出", STILLS[:2])
    segments = shots(plan.draft)
    assert [(s["s"], s["d"]) for s in segments] == [(0, 2000), (2000, 2000)]
    assert segments[1]["tr"]["type"] == "crossfade"
    assert segments[0]["fx"] == {"fade_in": 600, "fade_out": 800}  # the whole clip's, on the first shot
    assert plan.lang == "zh" and "合成一个4秒" in plan.texts[0]


def test_one_music_bed_spans_the_whole_timeline() -> None:
    plan = direct_timeline("montage, durations 2, 3, 4 seconds, upbeat music, 9:16", STILLS)
    bed = track(plan.draft, 1)
    assert bed is not None and (bed["s"], bed["d"], bed["mood"]) == (0, 9000, "upbeat")
    assert (plan.draft["m"]["width"], plan.draft["m"]["height"]) == (1080, 1920)


def test_a_named_camera_move_is_kept_on_every_shot() -> None:
    plan = direct_timeline("slideshow, 2 seconds each, slow pan left", STILLS)
    assert {s["mo"]["type"] for s in shots(plan.draft)} == {"pan_left"}


@pytest.mark.parametrize(
    ("instruction", "mode", "said"),
    [
        ("slideshow, 3 seconds each, parallax, push transitions, 9:16", "parallax", "a 3D parallax glide on each shot"),
        ("one video from these, dolly zoom", "dolly_zoom", "a dolly zoom on each shot"),
        ("slideshow, make the subject pop", "pop", "each shot's subject popping out"),
        ("合成一个视频，每张3秒，视差效果", "parallax", "每张做3D视差运镜"),
    ],
)
def test_a_named_3d_camera_is_on_every_shot_and_in_the_summary(instruction: str, mode: str, said: str) -> None:
    plan = direct_timeline(instruction, STILLS)
    assert {s["mo"]["mode"] for s in shots(plan.draft)} == {mode}
    assert said in plan.texts[0], plan.texts[0]


def test_no_camera_named_none_claimed() -> None:
    """The varied default moves are not named in the summary: it says only what was asked for."""
    summary = direct_timeline("slideshow, crossfades", STILLS).texts[0]
    assert "on each shot" not in summary and "popping" not in summary, summary


def test_a_total_length_is_split_evenly_and_a_wrong_count_is_a_note() -> None:
    even = direct_timeline("a 12-second slideshow", STILLS)
    assert [s["d"] for s in shots(even.draft)] == [4000, 4000, 4000]
    padded = direct_timeline("slideshow, durations 2 and 3 seconds", STILLS)
    assert [s["d"] for s in shots(padded.draft)] == [2000, 3000, 3000]
    assert any("2 shot lengths for 3 images" in n for n in padded.draft["m"]["notes"])


def test_short_shots_get_shorter_transitions_and_a_note() -> None:
    plan = direct_timeline("slideshow, 0.8 seconds each, crossfade", STILLS)
    assert shots(plan.draft)[1]["tr"]["d"] == 400
    assert any("400 ms" in n for n in plan.draft["m"]["notes"])


def test_a_shot_length_out_of_range_is_refused() -> None:
    with pytest.raises(InstructionRejected, match="shot length 90 s"):
        direct_timeline("slideshow, 90 seconds each", STILLS)


def test_transition_words_are_not_a_note_that_transitions_are_missing() -> None:
    plan = direct_timeline("slideshow with crossfade transitions", STILLS)
    assert not plan.draft["m"]["notes"]
    single = direct("crossfade transitions", image_asset="a", image_size=(1600, 900))
    assert single.draft["m"]["notes"]  # one still: the director still says it has no transitions


def test_a_refinement_changes_only_what_it_mentions() -> None:
    said = "a slideshow of these, 3 seconds each, push right, title 'Our Spring Line', slow pan left, music"
    first = direct_timeline(said, STILLS).draft
    shorter = direct_timeline("2 seconds each", STILLS, previous=first).draft
    assert [s["d"] for s in shots(shorter)] == [2000, 2000, 2000]
    assert [s["mo"]["type"] for s in shots(shorter)] == ["pan_left"] * 3
    assert shots(shorter)[1]["tr"] == {"type": "push", "d": 600, "dir": "right"}
    assert track(shorter, 7) is not None and track(shorter, 1) is not None
    assert not shorter["m"]["notes"]
    bigger = direct_timeline("make the title bigger, dip to black", STILLS, previous=first).draft
    card = track(bigger, 7)
    assert card is not None and card["size"] > 0.09 and shots(bigger)[2]["tr"]["type"] == "dip_to_black"
    assert [s["d"] for s in shots(bigger)] == [3000, 3000, 3000]


def test_any_shot_thins_the_letterbox_bars_or_leaves_them_off_for_the_whole_clip() -> None:
    """The bars are one height for the whole clip: what a later shot says about them is said for the clip."""
    wide = Still("a", (1600, 900), Framing(size=(1600, 900), subject=(0.4, 0.35, 0.6, 0.65), focus=(0.5, 0.5)))
    face = Still("b", (1000, 1000), Framing(size=(1000, 1000), faces=((0.4, 0.02, 0.6, 0.3),), focus=(0.5, 0.16)))
    tall = Still("c", (1600, 900), Framing(size=(1600, 900), subject=(0.4, 0.05, 0.6, 0.95), focus=(0.5, 0.5)))
    alone = direct_timeline("a cinematic slideshow", [wide, wide])
    assert shots(alone.draft)[0]["fx"]["life"] == ["grain", "letterbox"] and not any(
        "letterbox" in t for t in alone.texts
    )
    thinner = direct_timeline("a cinematic slideshow", [wide, face])
    assert shots(thinner.draft)[0]["fx"]["life"] == ["grain", "letterbox"]
    assert any("the letterbox bars are thinner" in t for t in thinner.texts[1:])
    off = direct_timeline("a cinematic slideshow", [wide, tall])
    assert shots(off.draft)[0]["fx"]["life"] == ["grain"]
    assert "The subject has no room for letterbox bars above and below it, so I left them off." in off.texts
