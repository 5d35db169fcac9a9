"""The audio bed: an uploaded file decoded, resampled and looped, a mood synthesised, both faded and mixed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from prefect_nemo.local.studio.audio import MOODS, RATE, AudioSpec, aac_frames, mix_audio, segment_seconds


def spec(**seg: object) -> AudioSpec:
    return AudioSpec.from_draft(seg)


def test_an_uploaded_tone_is_resampled_looped_and_faded(tone: Path) -> None:
    pcm = mix_audio([spec(src="tone.wav", s=0, d=5000, vol=1.0, fi=500, fo=500)], {"tone.wav": tone}, 5.0)
    assert pcm.shape == (2, 5 * RATE)
    assert abs(pcm[:, 0]).max() < 0.01 and abs(pcm[:, -1]).max() < 0.01  # faded in and out
    middle = pcm[0, 2 * RATE : 3 * RATE]  # past the 2-second file's end: looped, not silent
    assert 0.45 < np.abs(middle).max() <= 0.51
    crossings = np.count_nonzero(np.diff(np.signbit(middle)))
    assert 870 <= crossings <= 890  # still 440 Hz after 44.1 -> 48 kHz


@pytest.mark.parametrize("mood", MOODS)
def test_every_mood_is_a_quiet_deterministic_bed(mood: str) -> None:
    one = mix_audio([spec(mood=mood, d=2000, vol=0.5)], {}, 2.0)
    assert np.array_equal(one, mix_audio([spec(mood=mood, d=2000, vol=0.5)], {}, 2.0))
    assert 0.1 < np.abs(one).max() <= 0.5 * 0.8 + 1e-6


def test_a_segment_is_placed_and_clipped_to_the_clip() -> None:
    pcm = mix_audio([spec(mood="calm", s=1000, d=5000, fi=0, fo=0)], {}, 2.0)
    assert not pcm[:, :RATE].any() and pcm[:, RATE:].any()


def test_bad_segments_are_named() -> None:
    with pytest.raises(ValueError, match="not among the uploaded files"):
        mix_audio([spec(src="song.mp3", d=1000)], {}, 1.0)
    with pytest.raises(ValueError, match="vol=2"):
        spec(vol=2)
    with pytest.raises(ValueError, match="segment d=-5"):
        segment_seconds({"d": -5}, "d", 0)


def test_the_mix_is_cut_into_aac_sized_frames() -> None:
    frames = list(aac_frames(np.zeros((2, 2500), np.float32)))
    assert [f.samples for f in frames] == [1024, 1024, 452]
    assert [f.pts for f in frames] == [0, 1024, 2048] and frames[0].sample_rate == RATE
