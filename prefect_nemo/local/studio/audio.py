"""The audio bed of an export: uploaded files decoded and looped, or a synthesised bed for a mood, mixed
once into a float buffer and handed to the AAC encoder in 1024-sample frames.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

__all__ = ["MOODS", "RATE", "AudioSpec", "aac_frames", "mix_audio", "segment_seconds"]

F32 = npt.NDArray[np.float32]
RATE = 48_000
MOODS = ("lofi", "upbeat", "calm", "cinematic")


def segment_seconds(seg: Mapping[str, Any], key: str, default: float) -> float:
    """A draft segment's time field (milliseconds) in seconds; text and audio segments share the rule."""
    value = seg.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"segment {key}={value!r} must be a non-negative number of milliseconds")
    return float(value) / 1000.0


@dataclass(frozen=True)
class AudioSpec:
    """One audio segment: an uploaded file (``src``) or a generated bed for ``mood``."""

    start: float
    dur: float
    src: str | None
    mood: str
    vol: float
    fade_in: float
    fade_out: float

    @classmethod
    def from_draft(cls, seg: Mapping[str, Any]) -> AudioSpec:
        vol = seg.get("vol", 0.35)
        if isinstance(vol, bool) or not isinstance(vol, int | float) or not 0 <= vol <= 1:
            raise ValueError(f"audio vol={vol!r} must be 0..1")
        src = seg.get("src")
        return cls(
            start=segment_seconds(seg, "s", 0),
            dur=segment_seconds(seg, "d", 0),
            src=str(src) if src else None,
            mood=str(seg.get("mood") or "calm"),
            vol=float(vol),
            fade_in=segment_seconds(seg, "fi", 300),
            fade_out=segment_seconds(seg, "fo", 800),
        )


def mix_audio(specs: list[AudioSpec], assets: Mapping[str, Path], total: float) -> F32:
    """Mix every audio segment into one (2, n) float buffer spanning the whole clip."""
    n = round(total * RATE)
    out = np.zeros((2, n), np.float32)
    for spec in specs:
        a, b = round(spec.start * RATE), min(n, round((spec.start + spec.dur) * RATE))
        if b <= a:
            continue
        if spec.src is not None:
            if spec.src not in assets:
                raise ValueError(f"audio asset {spec.src!r} is not among the uploaded files")
            pcm = _loop(_decode(assets[spec.src], b - a), b - a)
        else:
            pcm = _bed(spec.mood, b - a)
        env = np.ones(b - a, np.float32)
        fi, fo = min(b - a, int(spec.fade_in * RATE)), min(b - a, int(spec.fade_out * RATE))
        if fi:
            env[:fi] = np.linspace(0, 1, fi, endpoint=False, dtype=np.float32)
        if fo:
            env[-fo:] = np.minimum(env[-fo:], np.linspace(1, 0, fo, dtype=np.float32))
        out[:, a:b] += pcm * env * np.float32(spec.vol)
    np.clip(out, -1.0, 1.0, out=out)
    return out


def aac_frames(pcm: F32) -> Iterator[av.AudioFrame]:
    """Slice the mix into the 1024-sample planar frames the AAC encoder wants."""
    for i in range(0, pcm.shape[1], 1024):
        chunk = np.ascontiguousarray(pcm[:, i : i + 1024])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = RATE, i
        yield frame


def _decode(path: Path, limit: int) -> F32:
    """Decode (at most ``limit`` samples of) an mp3/wav/m4a/aac as 48 kHz stereo float."""
    chunks: list[F32] = []
    got = 0
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=RATE)
    with av.open(str(path)) as box:
        if not box.streams.audio:
            raise ValueError(f"{path.name} has no audio stream")
        for frame in box.decode(audio=0):
            for res in resampler.resample(frame):
                chunks.append(res.to_ndarray().astype(np.float32))
                got += chunks[-1].shape[1]
            if got >= limit:
                break
    for res in resampler.resample(None):
        chunks.append(res.to_ndarray().astype(np.float32))
    if not chunks:
        raise ValueError(f"{path.name} decoded to no audio")
    return np.concatenate(chunks, axis=1)[:, :limit]


def _loop(pcm: F32, n: int) -> F32:
    reps = math.ceil(n / max(1, pcm.shape[1]))
    return np.tile(pcm, (1, reps))[:, :n] if reps > 1 else pcm[:, :n]


_PROFILES: dict[str, tuple[float, list[list[float]], bool]] = {
    # mood: (beats per minute, chords as MIDI notes, light percussion)
    "lofi": (72, [[53, 57, 60, 64], [52, 55, 59, 62], [50, 53, 57, 60], [48, 52, 55, 59]], True),
    "upbeat": (116, [[48, 55, 60, 64], [43, 55, 59, 62], [45, 57, 60, 64], [41, 57, 60, 65]], True),
    "calm": (60, [[48, 55, 62, 64], [45, 52, 59, 60], [41, 48, 55, 57], [43, 50, 57, 59]], False),
    "cinematic": (54, [[45, 52, 57, 60], [41, 48, 53, 57], [36, 48, 52, 55], [43, 50, 55, 59]], True),
}


def _bed(mood: str, n: int) -> F32:
    """A soft, deterministic music bed: warm chord pads (two bars each) plus a gentle pulse."""
    bpm, chords, pulse = _PROFILES.get(mood, _PROFILES["calm"])
    beat = 60.0 / bpm
    t = np.arange(n, dtype=np.float64) / RATE
    bar = 4 * beat * (2 if mood in ("calm", "cinematic") else 1)
    idx = (t // bar).astype(np.int64)
    pos = t - idx * bar
    env = np.minimum(1.0, pos / 0.25) * np.minimum(1.0, (bar - pos) / 0.3)  # soft chord changes
    left = np.zeros(n)
    right = np.zeros(n)
    for voice in range(4):
        notes = np.array([c[voice] for c in chords], dtype=np.float64)[idx % len(chords)]
        freq = 440.0 * 2.0 ** ((notes - 69) / 12)
        phase = 2 * np.pi * freq * t
        tone = np.sin(phase) + 0.3 * np.sin(2 * phase) + 0.1 * np.sin(3 * phase)
        pan = 0.35 + 0.1 * voice
        left += tone * (1 - pan)
        right += tone * pan
    mix = np.stack([left, right]) * env * 0.12
    if pulse:
        since = t % beat
        kick = np.sin(2 * np.pi * 55 * since) * np.exp(-since * 18) * 0.5
        mix += kick
        if mood == "upbeat":
            rng = np.random.default_rng(7)
            off = (t + beat / 2) % beat
            mix += rng.standard_normal(n) * np.exp(-off * 60) * 0.05
    peak = float(np.max(np.abs(mix))) or 1.0
    return np.asarray(mix / peak * 0.8, dtype=np.float32)
