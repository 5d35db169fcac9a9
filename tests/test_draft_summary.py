"""A draft as one line, as NemoVideo's skill shows it."""

from __future__ import annotations

from prefect_nemo.draft_summary import timeline_summary


def test_the_seed_example() -> None:
    draft = {
        "d": 10000,
        "t": [
            {"tt": 0, "sg": [{"s": 0, "d": 10000, "src": "vid_1"}]},
            {"tt": 1, "sg": [{"s": 0, "d": 10000, "mood": "Lo-fi", "vol": 0.35}]},
            {"tt": 7, "sg": [{"s": 0, "d": 3000, "text": "Urban Dreams"}]},
        ],
    }
    assert timeline_summary(draft, {"vid_1": "city timelapse"}) == (
        "Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) "
        '3. Title: "Urban Dreams" (0-3s)'
    )


def test_segments_without_a_length_run_to_the_end() -> None:
    draft = {"d": 4500, "t": [{"tt": 0, "sg": [{"s": 0, "src": "img_1"}, {"s": 2500, "src": "img_2"}]}]}
    assert timeline_summary(draft) == "Timeline (1 track): 1. Video (2 shots): img_1 (0-4.5s), img_2 (2.5-4.5s)"


def test_an_empty_draft() -> None:
    assert timeline_summary(None).startswith("Timeline (0 tracks)")
