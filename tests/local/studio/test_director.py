"""The director: plain-English instructions -> drafts, with what it could not do said out loud."""

from __future__ import annotations

from typing import Any

import pytest

from prefect_nemo.local.studio.director import Direction, InstructionRejected, direct
from prefect_nemo.local.studio.framing import Framing
from prefect_nemo.local.studio.motion import Motion
from prefect_nemo.local.studio.renderer import _Timeline


def run(instruction: str, **kw: Any) -> Direction:
    kw.setdefault("image_asset", "img-1")
    kw.setdefault("image_size", (3000, 2000))
    return direct(instruction, **kw)


def track(draft: dict[str, Any], tt: int) -> dict[str, Any] | None:
    found = [t["sg"][0] for t in draft["t"] if t["tt"] == tt and t["sg"]]
    return found[0] if found else None


def facts(d: Direction) -> dict[str, Any]:
    """The draft flattened into the values the table below asserts on."""
    video, text, audio = track(d.draft, 0), track(d.draft, 7), track(d.draft, 1)
    assert video is not None
    m = d.draft["m"]
    return {
        "s": d.draft["d"] / 1000,
        "size": (m["width"], m["height"]),
        "fps": m["fps"],
        "motion": video["mo"]["type"],
        "mode": video["mo"].get("mode", "flat"),
        "life": tuple(video.get("fx", {}).get("life", ())),
        "ease": video["mo"]["ease"],
        "zoom": tuple(video["mo"]["zoom"]),
        "focus": tuple(video["mo"]["focus"]),
        "title": text["text"] if text else None,
        "pos": text["pos"] if text else None,
        "mood": audio["mood"] if audio else None,
        "vol": audio["vol"] if audio else None,
        "notes": " | ".join(d.texts[1:]),
    }


# (instruction, expected facts, pattern the notes must contain or "" for no notes)
CASES: list[tuple[str, dict[str, Any], str]] = [
    ("Animate this photo", {"s": 5.0, "size": (1920, 1080), "fps": 30, "motion": "push_in", "title": None}, ""),
    ("5-second vertical clip with a slow push-in", {"s": 5.0, "size": (1080, 1920), "zoom": (1.0, 1.09)}, ""),
    ("10s TikTok", {"s": 10.0, "size": (1080, 1920)}, ""),
    ("3 sec Instagram Reels ad", {"s": 3.0, "size": (1080, 1920)}, ""),
    ("YouTube Shorts teaser", {"size": (1080, 1920)}, ""),
    ("a YouTube intro, 8 seconds", {"s": 8.0, "size": (1920, 1080)}, ""),
    ("two seconds, square", {"s": 2.0, "size": (1080, 1080)}, ""),
    ("thirty-second landscape loop of the product", {"s": 30.0, "size": (1920, 1080)}, ""),
    ("1:1 clip for an Instagram post", {"size": (1080, 1080)}, ""),
    ("4:5 feed post with a pull-out", {"size": (1080, 1350), "motion": "pull_out", "zoom": (1.15, 1.0)}, ""),
    ("9:16, zoom out quickly", {"size": (1080, 1920), "motion": "pull_out", "zoom": (1.27, 1.0)}, ""),
    ("portrait 24 fps Ken Burns", {"size": (1080, 1920), "fps": 24, "motion": "ken_burns"}, ""),
    ("pan left across the shelf at 60fps", {"motion": "pan_left", "fps": 60}, ""),
    ("pan to the right, linear", {"motion": "pan_right", "ease": "linear"}, ""),
    ("tilt up slowly", {"motion": "pan_up"}, ""),
    ("pan down", {"motion": "pan_down"}, ""),
    ("orbit-like parallax drift", {"mode": "parallax"}, ""),
    ("3-second parallax, 16:9", {"s": 3.0, "size": (1920, 1080), "mode": "parallax"}, ""),
    ("a 3D orbit around the bottle", {"mode": "parallax"}, ""),
    ("2.5D effect", {"mode": "parallax"}, ""),
    ("dolly zoom on the model", {"mode": "dolly_zoom"}, ""),
    ("the vertigo effect", {"mode": "dolly_zoom"}, ""),
    ("3D push in", {"mode": "push_3d", "motion": "push_in", "zoom": (1.0, 1.12)}, ""),
    ("make the product pop out", {"mode": "pop", "motion": "push_in"}, ""),
    ("subject pop with a pan left", {"mode": "pop", "motion": "pan_left"}, ""),
    ("rotating orbit", {"mode": "flat", "motion": "orbit"}, ""),
    ("push in then parallax", {"mode": "parallax"}, "one move on its own"),
    ("sparkle", {"life": ("bokeh",)}, ""),
    ("dreamy", {"life": ("light_leak", "bokeh")}, ""),
    ("cinematic film grain", {"life": ("grain", "letterbox")}, ""),
    ("light leaks", {"life": ("light_leak",)}, ""),
    ("static shot, no motion", {"motion": "static", "zoom": (1.0, 1.0)}, ""),
    ("push in toward the top-left corner", {"focus": (0.25, 0.25)}, ""),
    ("zoom in on the right", {"motion": "push_in", "focus": (0.75, 0.5)}, ""),
    ("zoom in by 25%", {"zoom": (1.0, 1.25)}, ""),
    ("Title 'Summer Sale' at the top", {"title": "Summer Sale", "pos": "top"}, ""),
    ('with the caption "New arrivals"', {"title": "New arrivals", "pos": "bottom"}, ""),
    ("\u201cFresh Drop\u201d centered title", {"title": "Fresh Drop", "pos": "center"}, ""),
    ("\u2018Don't miss it\u2019 in the lower third", {"title": "Don't miss it", "pos": "bottom"}, ""),
    ("lo-fi BGM at 35%", {"mood": "lofi", "vol": 0.35}, ""),
    ("with upbeat music", {"mood": "upbeat", "vol": 0.35}, ""),
    ("cinematic soundtrack, volume 0.6", {"mood": "cinematic", "vol": 0.6}, ""),
    ("calm push-in with upbeat music", {"mood": "upbeat", "motion": "push_in"}, ""),
    ("no music, just a slow zoom", {"mood": None, "motion": "push_in"}, ""),
    ("720p landscape", {"size": (1280, 720)}, ""),
    ("1920x1080 please", {"size": (1920, 1080)}, ""),
    # flagged: done, but the reply says what was changed or left out
    ("7:3 banner", {"size": (1920, 1080)}, "7:3"),
    ("fps 45", {"fps": 30}, "45 fps"),
    ("25 fps", {"fps": 24}, "25 fps"),
    ("4:3 please", {"size": (1920, 1080)}, "4:3"),
    ("4K vertical", {"size": (1080, 1920)}, "1080p"),
    ("with heavy metal music", {"mood": "calm"}, "'metal'"),
    ("music at 150%", {"vol": 1.0}, "150%"),
    ("zoom in 300%", {"zoom": (1.0, 2.0)}, "clamped"),
    ("add a voiceover and confetti", {"motion": "push_in"}, "voiceover"),
    ("black and white with a logo", {"motion": "push_in"}, "logo"),
    ("add a title", {"title": None}, "quotes"),
    ("'One' and 'Two'", {"title": "One"}, "Two"),
    ("pan across", {"motion": "pan_right"}, "which way"),
    ("push in then pan left", {"motion": "push_in"}, ""),
    ("vertical square", {"size": (1080, 1920)}, "more than one shape"),
    ("5 seconds or maybe 8 seconds", {"s": 5.0}, "more than one duration"),
    ("banana", {"motion": "push_in"}, "didn't find a direction"),
]


@pytest.mark.parametrize(("instruction", "expected", "note"), CASES, ids=[c[0][:40] for c in CASES])
def test_instruction(instruction: str, expected: dict[str, Any], note: str) -> None:
    d = run(instruction)
    got = facts(d)
    for key, value in expected.items():
        assert got[key] == value, f"{key}: {got[key]!r} != {value!r}"
    assert (note in got["notes"]) if note else got["notes"] == "", got["notes"]
    _Timeline.parse(d.draft)  # every draft the director makes is one the renderer accepts
    assert d.texts[0].startswith("I'll make a ")


def test_what_cannot_be_done_is_said_once_however_often_it_is_asked() -> None:
    notes = run("a drone flyover, aerial, from a drone").texts[1:]
    assert len(notes) == 1 and "drone or aerial fly-over" in notes[0], notes


@pytest.mark.parametrize(
    ("instruction", "names"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("a 90 second video", "90 s"),
        ("0.5 seconds", "0.5 s"),
        ("two minutes long", "120 s"),
        ("x" * 4001, "4001 characters"),
    ],
)
def test_refuses(instruction: str, names: str) -> None:
    with pytest.raises(InstructionRejected, match=names):
        run(instruction)


def test_limits_are_inclusive() -> None:
    assert facts(run("1 second"))["s"] == 1.0
    assert facts(run("60 seconds"))["s"] == 60.0
    assert facts(run("a" * 4000))["motion"] == "push_in"


def test_the_summary_says_the_mode_and_a_missing_subject_is_said() -> None:
    d = run("slow parallax")
    assert "slow 3D parallax" in d.texts[0] and d.texts[1:] == []
    assert "dolly zoom" in run("vertigo").texts[0] and "popping out" in run("subject pop").texts[0]
    bare = run("parallax", framing=Framing(size=(3000, 2000)))
    assert "depth is guessed" in " ".join(bare.texts[1:])
    bottle = Framing(size=(3000, 2000), subject=(0.4, 0.2, 0.6, 0.8), focus=(0.5, 0.5))
    mo = run("parallax", framing=bottle).draft["t"][0]["sg"][0]["mo"]
    assert mo["subject"] == [0.4, 0.2, 0.6, 0.8] and mo["mode"] == "parallax"
    person = Framing(size=(3000, 2000), faces=((0.4, 0.2, 0.5, 0.4),), subject=(0.6, 0.5, 1, 1), focus=(0.45, 0.3))
    assert "subject" not in run("parallax", framing=person).draft["t"][0]["sg"][0]["mo"]  # the faces seed it


def test_depth_modes_refine_and_keep_their_mode() -> None:
    first = run("parallax").draft
    slower = run("slower", previous=first).draft["t"][0]["sg"][0]["mo"]
    assert slower["mode"] == "parallax" and slower["travel"] < first["t"][0]["sg"][0]["mo"]["travel"]
    grainy = run("add film grain", previous=first).draft["t"][0]["sg"][0]
    assert grainy["mo"]["mode"] == "parallax" and grainy["fx"]["life"] == ["grain"]


def test_saliency_steers_the_default_push_in_but_named_directions_win() -> None:
    framing = Framing(size=(3000, 2000), subject=(0.7, 0.2, 0.9, 0.4), focus=(0.8, 0.3))
    assert facts(run("make a clip", framing=framing))["focus"] == (0.8, 0.3)
    assert "subject" in run("make a clip", framing=framing).texts[0]
    assert facts(run("zoom toward the bottom", framing=framing))["focus"] == (0.5, 0.75)


def test_uploaded_audio_is_used_unless_music_is_refused() -> None:
    audio = track(run("a clip", audio_asset="song-1").draft, 1)
    assert audio is not None and audio["src"] == "song-1"
    assert track(run("a clip, no music", audio_asset="song-1").draft, 1) is None


def test_tool_calls_describe_the_steps() -> None:
    d = run("square push-in, title 'Hi', lo-fi music")
    names = [c["name"] for c in d.tool_calls]
    assert names == ["generate_video", "edit_multitrack"]
    assert d.tool_calls[0]["args"]["width"] == 1080 and d.tool_calls[1]["args"]["title"] == "Hi"
    assert [c["name"] for c in run("push in").tool_calls] == ["generate_video"]


def test_title_and_fades_fit_inside_the_clip() -> None:
    d = run("1 second, 'Quick'")
    text = track(d.draft, 7)
    assert text is not None
    assert 0 <= text["s"] and text["s"] + text["d"] <= d.draft["d"] and text["fi"] + text["fo"] <= text["d"]


def test_small_and_portrait_images_get_advice() -> None:
    assert "soft" in " ".join(run("clip", image_size=(300, 200)).texts)
    assert "vertical" in " ".join(run("clip", image_size=(1000, 2000)).texts)


class TestRefine:
    @pytest.fixture
    def first(self) -> dict[str, Any]:
        draft = run(
            "5-second square push-in, title 'Summer Sale', lo-fi music at 40%",
            framing=Framing(size=(3000, 2000), focus=(0.6, 0.4)),
        ).draft
        draft["t"][0]["sg"][0]["clip"] = "clip-1"  # what the server records after generate
        return draft

    def refine(self, instruction: str, first: dict[str, Any]) -> Direction:
        return run(instruction, previous=first)

    def test_bigger_title_keeps_the_clip(self, first: dict[str, Any]) -> None:
        d = self.refine("make the title bigger", first)
        text, video = track(d.draft, 7), track(d.draft, 0)
        assert text is not None and video is not None
        assert text["size"] > 0.07 and video["clip"] == "clip-1"
        assert [c["name"] for c in d.tool_calls] == ["edit_multitrack"]

    def test_slower_zoom_drops_the_clip(self, first: dict[str, Any]) -> None:
        d = self.refine("slower zoom", first)
        video = track(d.draft, 0)
        assert video is not None and "clip" not in video
        assert video["mo"]["zoom"][1] < 1.15 and video["mo"]["focus"] == [0.6, 0.4]
        assert [c["name"] for c in d.tool_calls] == ["generate_video"]

    def test_change_the_title(self, first: dict[str, Any]) -> None:
        assert facts(self.refine("change the title to 'Winter Sale'", first))["title"] == "Winter Sale"

    def test_move_title_and_louder_music(self, first: dict[str, Any]) -> None:
        got = facts(self.refine("move the title to the top and make the music louder", first))
        assert got["pos"] == "top" and got["vol"] == pytest.approx(0.6) and got["notes"] == ""

    def test_remove_title_and_music(self, first: dict[str, Any]) -> None:
        got = facts(self.refine("no title and no music", first))
        assert got["title"] is None and got["mood"] is None

    def test_new_aspect_keeps_the_rest(self, first: dict[str, Any]) -> None:
        got = facts(self.refine("make it 9:16", first))
        assert got["size"] == (1080, 1920) and got["title"] == "Summer Sale" and got["mood"] == "lofi"

    def test_nothing_to_change_is_said(self, first: dict[str, Any]) -> None:
        d = self.refine("hello there", first)
        assert d.tool_calls == [] and "didn't find a change" in " ".join(d.texts)
        assert {**d.draft, "m": {}} == {**first, "m": {}} and d.draft["m"]["notes"] == d.texts[1:]

    def test_longer_without_a_number_asks_for_one(self, first: dict[str, Any]) -> None:
        assert "seconds" in " ".join(self.refine("make it longer", first).texts)

    def test_previous_draft_is_not_mutated(self, first: dict[str, Any]) -> None:
        before = repr(first)
        self.refine("pan left, 9:16, no title", first)
        assert repr(first) == before

    def test_motion_round_trips_through_the_draft(self, first: dict[str, Any]) -> None:
        video = track(first, 0)
        assert video is not None
        assert Motion.from_draft(video["mo"]).to_draft() == video["mo"]
