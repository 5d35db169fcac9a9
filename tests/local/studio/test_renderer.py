"""The local render engine: real MP4s, probed and decoded with PyAV."""

from __future__ import annotations

import math
from itertools import pairwise
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from prefect_nemo.local.studio.motion import MOTIONS, CameraPath, Motion, ease
from prefect_nemo.local.studio.renderer import (
    PREVIEW_FPS,
    PREVIEW_LONGEST,
    EncodeSettings,
    render_final,
    render_motion,
    render_preview,
)

FAST = EncodeSettings.for_quality("draft")
ASPECT_SIZES = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080), "4:5": (1080, 1350)}


def probe(path: Path) -> dict[str, Any]:
    """What a client checks of a delivered MP4, read back with PyAV."""
    with av.open(str(path)) as box:
        video = box.streams.video[0]
        info: dict[str, Any] = {
            "codec": video.codec_context.name,
            "size": (video.codec_context.width, video.codec_context.height),
            "pix_fmt": video.codec_context.pix_fmt,
            "fps": video.average_rate,
            "frames": video.frames,
            "duration": float((video.duration or 0) * (video.time_base or 0)),
            "audio": [s.codec_context.name for s in box.streams.audio],
        }
        if box.streams.audio:
            audio = box.streams.audio[0]
            info["audio_duration"] = float((audio.duration or 0) * (audio.time_base or 0))
    data = path.read_bytes()
    info["faststart"] = 0 <= data.find(b"moov") < data.find(b"mdat")
    return info


def luma(path: Path, at: list[int] | None = None) -> list[np.ndarray[Any, Any]]:
    """Decoded luma planes (float) of the given frame indices, or of all frames."""
    out = []
    with av.open(str(path)) as box:
        for i, frame in enumerate(box.decode(video=0)):
            if at is None or i in at:
                out.append(frame.to_ndarray(format="gray").astype(np.float32))
    return out


def make_draft(
    size: tuple[int, int] = (640, 360),
    fps: int = 24,
    ms: int = 1000,
    motion: dict[str, Any] | None = None,
    extra: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    video = {"id": "v1", "s": 0, "d": ms, "src": "img", "mo": motion or {"type": "push_in"}}
    return {
        "d": ms,
        "m": {"width": size[0], "height": size[1], "fps": fps},
        "t": [{"tt": 0, "sg": [video]}, *(extra or [])],
    }


def assert_clip(info: dict[str, Any], size: tuple[int, int], fps: int, seconds: float, audio: bool = False) -> None:
    assert info["codec"] == "h264"
    assert info["pix_fmt"] == "yuv420p"
    assert info["size"] == size
    assert info["fps"] == fps
    assert info["frames"] == round(seconds * fps)
    assert abs(info["duration"] - seconds) <= 1 / fps
    assert info["faststart"], "moov atom must precede mdat (+faststart)"
    assert info["audio"] == (["aac"] if audio else [])


class TestEncodeSettings:
    def test_quality_maps_to_preset_and_crf(self) -> None:
        presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"]
        high, low = EncodeSettings.for_quality("high"), EncodeSettings.for_quality("low")
        assert high == EncodeSettings(), "the default is what an export at 'high' ships"
        assert EncodeSettings.for_quality("draft").preset == "ultrafast"
        for level in ("high", "medium", "low"):  # calibrated to zoompan at x264 "medium": always cheaper
            assert presets.index(EncodeSettings.for_quality(level).preset) < presets.index("medium")
        assert low.max_bpp < high.max_bpp

    def test_crf_is_capped_by_a_vbv_rate_in_proportion_to_the_picture(self) -> None:
        full = EncodeSettings.for_quality("high").options(1920, 1080, 30)
        small = EncodeSettings.for_quality("high").options(960, 540, 30)
        rate = {k: int(v) for k, v in (kv.split("=") for kv in full["x264-params"].split(":"))}
        assert rate["vbv-bufsize"] == 2 * rate["vbv-maxrate"] and 5000 <= rate["vbv-maxrate"] <= 10_000
        assert str(rate["vbv-maxrate"] // 4) in small["x264-params"]

    def test_unknown_quality_is_refused(self) -> None:
        with pytest.raises(ValueError, match="'ultra'"):
            EncodeSettings.for_quality("ultra")


class TestRenderMotion:
    @pytest.mark.parametrize("aspect", list(ASPECT_SIZES))
    def test_every_aspect_at_full_size(self, aspect: str, photo: Path, tmp_path: Path) -> None:
        size = ASPECT_SIZES[aspect]
        out = tmp_path / "clip.mp4"
        render_motion(photo, make_draft(size=size, fps=24, ms=1000), out, settings=FAST)
        assert_clip(probe(out), size, 24, 1.0)

    @pytest.mark.parametrize("kind", MOTIONS)
    def test_every_motion(self, kind: str, photo: Path, tmp_path: Path) -> None:
        out = tmp_path / "clip.mp4"
        motion = {"type": kind, "zoom": [1.0, 1.2] if kind not in ("pull_out",) else [1.2, 1.0], "tilt": 2.0}
        render_motion(photo, make_draft(motion=motion, fps=30, ms=1000), out, settings=FAST)
        assert_clip(probe(out), (640, 360), 30, 1.0)
        first, last = luma(out, [0, 29])
        moved = float(np.abs(first - last).mean())
        assert (moved < 1.0) if kind == "static" else (moved > 2.0), f"{kind}: mean change {moved:.2f}"

    @pytest.mark.parametrize("fps", [24, 30, 60])
    def test_fps_and_odd_durations_are_exact(self, fps: int, photo: Path, tmp_path: Path) -> None:
        out = tmp_path / "clip.mp4"
        render_motion(photo, make_draft(fps=fps, ms=1250), out, settings=FAST)
        assert_clip(probe(out), (640, 360), fps, round(1.25 * fps) / fps)

    def test_8k_source(self, huge: Path, tmp_path: Path) -> None:
        out = tmp_path / "clip.mp4"
        render_motion(huge, make_draft(size=(1920, 1080), ms=1000), out, settings=FAST)
        assert_clip(probe(out), (1920, 1080), 24, 1.0)

    def test_100px_source_fills_the_frame(self, tiny: Path, tmp_path: Path) -> None:
        out = tmp_path / "clip.mp4"
        render_motion(tiny, make_draft(size=(1920, 1080), ms=1000), out, settings=FAST)
        assert_clip(probe(out), (1920, 1080), 24, 1.0)
        frame = luma(out, [0])[0]
        edges = np.concatenate([frame[0], frame[-1], frame[:, 0], frame[:, -1]])
        assert edges.min() > 150, "the pale backdrop must reach every edge (no black border)"

    def test_progress_rises_to_one(self, photo: Path, tmp_path: Path) -> None:
        seen: list[float] = []
        render_motion(photo, make_draft(ms=1000), tmp_path / "c.mp4", settings=FAST, progress=seen.append)
        assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 10

    def test_colours_survive_the_round_trip(self, tmp_path: Path) -> None:
        src = tmp_path / "flat.png"
        Image.new("RGB", (320, 180), (200, 60, 40)).save(src)
        out = tmp_path / "c.mp4"
        render_motion(src, make_draft(motion={"type": "static", "zoom": [1, 1]}), out, settings=FAST)
        with av.open(str(out)) as box:
            rgb = next(box.decode(video=0)).to_ndarray(format="rgb24").astype(float)
        assert np.allclose(rgb[100:200, 200:400].mean(axis=(0, 1)), (200, 60, 40), atol=6)

    @pytest.mark.parametrize(
        ("draft", "message"),
        [
            ({"d": 1000, "m": {"width": 641, "height": 360}}, "even"),
            ({"d": 0, "m": {}}, "'d'|d=0"),
            ({"d": 1000, "m": {"fps": 500}}, "fps"),
            ({"d": 1000, "t": [{"tt": 0, "sg": [{"mo": {"type": "spin"}}]}]}, "spin"),
            ({"d": 1000, "t": [{"tt": 0, "sg": [{"mo": {"zoom": [0.5, 1.0]}}]}]}, "zoom"),
            ({"d": 1000, "t": [["not", "a", "track"]]}, "track"),
        ],
    )
    def test_bad_drafts_name_the_field(self, draft: dict[str, Any], message: str, photo: Path, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match=message):
            render_motion(photo, draft, tmp_path / "c.mp4", settings=FAST)


class TestRenderFinal:
    def test_title_fades_in_and_audio_bed_for_a_mood(self, photo: Path, tmp_path: Path) -> None:
        title = {
            "tt": 7,
            "sg": [{"s": 250, "d": 1500, "text": "Summer Sale", "pos": "center", "size": 0.15, "fi": 250, "fo": 250}],
        }
        music = {"tt": 1, "sg": [{"src": None, "mood": "lofi", "vol": 0.4}]}
        bare, titled = tmp_path / "bare.mp4", tmp_path / "titled.mp4"
        render_motion(photo, make_draft(ms=2000), bare, settings=FAST)
        render_final(make_draft(ms=2000, extra=[title, music]), {"img": photo}, titled, settings=FAST)
        info = probe(titled)
        assert_clip(info, (640, 360), 24, 2.0, audio=True)
        assert abs(info["audio_duration"] - 2.0) < 0.05
        a0, a24 = luma(bare, [0, 24])
        b0, b24 = luma(titled, [0, 24])
        box = (slice(150, 210), slice(200, 440))  # centre band where the title sits
        assert abs(float(b0[box].mean() - a0[box].mean())) < 1.5, "before its start the title is invisible"
        assert float(np.abs(b24[box] - a24[box]).mean()) > 15, "at 1 s the title is fully drawn"

    def test_uploaded_audio_is_mixed_at_the_asked_volume(self, photo: Path, tone: Path, tmp_path: Path) -> None:
        levels = []
        for vol in (1.0, 0.25):
            out = tmp_path / f"v{vol}.mp4"
            music = {"tt": 1, "sg": [{"src": "song", "vol": vol, "fi": 0, "fo": 0}]}
            render_final(make_draft(ms=1000, extra=[music]), {"img": photo, "song": tone}, out, settings=FAST)
            assert probe(out)["audio"] == ["aac"]
            with av.open(str(out)) as box:
                pcm = np.concatenate([f.to_ndarray() for f in box.decode(audio=0)], axis=1)
            levels.append(float(np.sqrt(np.mean(pcm[:, 4800:40000] ** 2))))
        assert levels[0] == pytest.approx(0.5 / math.sqrt(2), rel=0.1)
        assert levels[1] / levels[0] == pytest.approx(0.25, rel=0.1)

    def test_stage1_clip_is_reused_instead_of_the_still(self, photo: Path, tmp_path: Path) -> None:
        clip = tmp_path / "clip.mp4"
        render_motion(photo, make_draft(), clip, settings=FAST)
        draft = make_draft(extra=[{"tt": 7, "sg": [{"text": "Hi"}]}])
        draft["t"][0]["sg"][0]["clip"] = "c1"
        out = tmp_path / "final.mp4"
        render_final(draft, {"c1": clip}, out, settings=FAST)  # no image asset: only the clip can be used
        assert_clip(probe(out), (640, 360), 24, 1.0)

    def test_clip_alone_is_copied_and_audio_muxed_without_reencoding(
        self, photo: Path, tone: Path, tmp_path: Path
    ) -> None:
        clip, out = tmp_path / "clip.mp4", tmp_path / "final.mp4"
        render_motion(photo, make_draft(), clip, settings=FAST)
        draft = make_draft(extra=[{"tt": 1, "sg": [{"src": "song", "vol": 0.5}]}])
        draft["t"][0]["sg"][0]["clip"] = "c1"
        render_final(draft, {"c1": clip, "song": tone}, out, settings=EncodeSettings("medium", 18))

        def packets(path: Path) -> list[bytes]:
            with av.open(str(path)) as box:
                return [bytes(p) for p in box.demux(video=0) if p.size]

        assert packets(out) == packets(clip)
        assert_clip(probe(out), (640, 360), 24, 1.0, audio=True)

    def test_the_still_is_rendered_once_even_when_a_clip_exists(self, photo: Path, tmp_path: Path) -> None:
        """The export composites from the still in one encode; an earlier clip is not decoded again."""
        clip, out = tmp_path / "static.mp4", tmp_path / "final.mp4"
        render_motion(photo, make_draft(motion={"type": "static", "zoom": [1, 1]}), clip, settings=FAST)
        draft = make_draft(motion={"type": "pan_right"})
        draft["t"][0]["sg"][0]["clip"] = "c1"
        render_final(draft, {"c1": clip, "img": photo}, out, settings=FAST)
        first, last = luma(out, [0, 23])
        assert float(np.abs(first - last).mean()) > 2.0, "the pan comes from the still, not the static clip"

    def test_the_look_is_drawn_after_the_warp_and_before_the_text(self, photo: Path, tmp_path: Path) -> None:
        title = {"tt": 7, "sg": [{"text": "HELLO", "pos": "center", "size": 0.2, "fi": 0, "fo": 0}]}
        draft = make_draft(extra=[title])
        draft["t"][0]["sg"][0]["fx"] = {"fade_in": 1000}  # the first frame is black, the title is not faded
        out = tmp_path / "fx.mp4"
        render_final(draft, {"img": photo}, out, settings=FAST)
        frame = luma(out, [0])[0]
        assert frame[:40].mean() < 25, "the look's output is what is encoded"
        assert frame[150:210, 200:440].max() > 150, "the title is drawn over the look"

    def test_stale_clip_falls_back_to_the_still(self, photo: Path, tmp_path: Path) -> None:
        clip, out = tmp_path / "clip.mp4", tmp_path / "final.mp4"
        render_motion(photo, make_draft(fps=24), clip, settings=FAST)
        draft = make_draft(fps=30)  # the draft changed after generate: the 24 fps clip no longer fits
        draft["t"][0]["sg"][0]["clip"] = "c1"
        render_final(draft, {"c1": clip, "img": photo}, out, settings=FAST)
        assert_clip(probe(out), (640, 360), 30, 1.0)

    def test_missing_assets_are_named(self, photo: Path, tmp_path: Path) -> None:
        with pytest.raises(ValueError, match="'img'"):
            render_final(make_draft(), {}, tmp_path / "x.mp4", settings=FAST)
        music = {"tt": 1, "sg": [{"src": "song"}]}
        with pytest.raises(ValueError, match="'song'"):
            render_final(make_draft(extra=[music]), {"img": photo}, tmp_path / "x.mp4", settings=FAST)


class TestPreviewAndSize:
    def test_preview_is_small_and_keeps_the_duration(self, photo: Path, tmp_path: Path) -> None:
        out = tmp_path / "preview.mp4"
        render_preview(photo, make_draft(size=(1080, 1920), fps=30, ms=2000), out)
        info = probe(out)
        assert max(info["size"]) == PREVIEW_LONGEST and info["size"][0] % 2 == 0
        assert info["fps"] == PREVIEW_FPS and info["frames"] == 2 * PREVIEW_FPS

    def test_a_noisy_picture_stays_within_the_rate_cap(self, tmp_path: Path) -> None:
        noise = tmp_path / "noise.png"
        Image.fromarray(np.random.default_rng(1).integers(0, 255, (1080, 1920, 3), dtype=np.uint8)).save(noise)
        out = tmp_path / "noise.mp4"
        render_motion(noise, make_draft(size=(1280, 720), fps=30, ms=1000), out, settings=EncodeSettings())
        kbits = int(EncodeSettings().options(1280, 720, 30)["x264-params"].split(":")[0].split("=")[1])
        assert out.stat().st_size * 8 / 1000 <= 1.1 * (kbits * 1 + 2 * kbits), "within maxrate x 1 s + buffer"


class TestCameraPath:
    @pytest.mark.parametrize("kind", MOTIONS)
    @pytest.mark.parametrize("out", [(1920, 1080), (1080, 1920), (1080, 1350)])
    @pytest.mark.parametrize("src", [(3000, 2000), (1000, 3000), (500, 500)])
    def test_no_frame_ever_leaves_the_picture(self, kind: str, out: tuple[int, int], src: tuple[int, int]) -> None:
        motion = Motion(type=kind, zoom=(1.0, 1.3), focus=(0.02, 0.97), travel=1.0, tilt=6.0)
        path = CameraPath(motion, src, out, 90)
        w, h = out
        for i in range(path.n):
            m, _ = path.matrices(i)
            corners = m @ np.array([[-0.5, -0.5, 1], [w - 0.5, -0.5, 1], [-0.5, h - 0.5, 1], [w - 0.5, h - 0.5, 1]]).T
            assert corners.min() >= -0.5 - 1e-6
            assert (corners[0] <= src[0] - 0.5 + 1e-6).all() and (corners[1] <= src[1] - 0.5 + 1e-6).all()

    def test_linear_zoom_steps_are_sub_pixel_and_constant(self) -> None:
        path = CameraPath(Motion(type="push_in", ease="linear", zoom=(1.0, 1.2)), (2304, 1536), (1920, 1080), 150)
        scales = np.array([path.matrices(i)[0][0, 0] for i in range(150)])
        steps = np.diff(np.log(scales))
        assert np.std(steps) / abs(np.mean(steps)) < 1e-9
        assert abs(scales[0] / scales[-1] - 1.2) < 1e-9

    def test_push_in_heads_for_the_focus(self) -> None:
        path = CameraPath(Motion(type="push_in", zoom=(1.0, 1.3), focus=(0.9, 0.5)), (2000, 1125), (1920, 1080), 30)
        centre = [path.matrices(i)[0] @ np.array([959.5, 539.5, 1]) for i in (0, 29)]
        assert centre[1][0] > centre[0][0] + 50

    def test_easing_curves_start_at_0_and_end_at_1(self) -> None:
        t = np.linspace(0, 1, 11)
        for name in ("linear", "ease_in", "ease_out", "ease_in_out"):
            e = ease(name, t)
            assert e[0] == pytest.approx(0) and e[-1] == pytest.approx(1) and (np.diff(e) >= 0).all()


class TestEdges:
    def test_segments_play_in_order(self, photo: Path, tiny: Path, tmp_path: Path) -> None:
        draft = make_draft(ms=2000)
        draft["t"][0]["sg"] = [
            {"s": 1000, "d": 1000, "src": "b", "mo": {"type": "static", "zoom": [1, 1]}},
            {"s": 0, "d": 1000, "src": "a", "mo": {"type": "pan_left"}},
        ]
        out = tmp_path / "two.mp4"
        render_final(draft, {"a": photo, "b": tiny}, out, settings=FAST)
        assert_clip(probe(out), (640, 360), 24, 2.0)
        early, late1, late2 = luma(out, [10, 30, 47])
        assert float(np.abs(late1 - late2).mean()) < 1.0 < float(np.abs(early - late1).mean())

    def test_unreadable_image_fails_the_render(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.png"
        bad.write_bytes(b"not a picture")
        with pytest.raises(OSError, match=r"bad\.png"):
            render_motion(bad, make_draft(), tmp_path / "x.mp4", settings=FAST)

    def test_every_frame_is_its_own_step(self, photo: Path, tmp_path: Path) -> None:
        """Frames are made ahead on a thread into reused buffers: none may be skipped, repeated or reordered."""
        out = tmp_path / "pan.mp4"
        render_motion(photo, make_draft(fps=30, motion={"type": "pan_right", "ease": "linear"}), out, settings=FAST)
        planes = luma(out)
        diffs = [float(np.abs(b - a).mean()) for a, b in pairwise(planes)]
        assert len(planes) == 30 and min(diffs) > 0.2 and max(diffs) < 3 * min(diffs)
