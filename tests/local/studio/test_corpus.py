# ruff: noqa: RUF001 - Chinese instructions use full-width punctuation, as people type them
"""The instruction corpus: what people type (English and Chinese) and the draft each must produce.

Every row names the draft fields it expects; a note pattern ("" = no notes) says what the reply must admit.
Adding a word to a vocabulary table means adding a row here.
"""

from __future__ import annotations

from typing import Any

import pytest

from prefect_nemo.local.studio.director import LANGUAGES, Direction, direct
from prefect_nemo.local.studio.renderer import _Timeline

V, H, S, F = (1080, 1920), (1920, 1080), (1080, 1080), (1080, 1350)


def facts(d: Direction) -> dict[str, Any]:
    """The draft flattened into the values the table asserts on."""
    tracks = {t["tt"]: t["sg"][0] for t in d.draft["t"] if t["sg"]}
    video, text, audio = tracks[0], tracks.get(7), tracks.get(1)
    mo, fx, m = video["mo"], video.get("fx", {}), d.draft["m"]
    return {
        "s": d.draft["d"] / 1000,
        "size": (m["width"], m["height"]),
        "fps": m["fps"],
        "motion": mo["type"],
        "mode": mo.get("mode", "flat"),
        "life": tuple(fx.get("life", ())),
        "moves": tuple(leg["type"] for leg in [mo, *mo.get("then", [])]),
        "ease": mo["ease"],
        "zoom": tuple(mo["zoom"]),
        "focus": tuple(mo["focus"]),
        "title": text["text"] if text else None,
        "pos": text["pos"] if text else None,
        "tsize": text["size"] if text else None,
        "color": text["color"] if text else None,
        "mood": audio["mood"] if audio else None,
        "vol": audio["vol"] if audio else None,
        "look": fx.get("look"),
        "vignette": fx.get("vignette", 0),
        "fade_in": fx.get("fade_in", 0),
        "fade_out": fx.get("fade_out", 0),
        "loop": fx.get("loop", 0),
        "lang": d.lang,
        "notes": " | ".join(d.texts[1:]),
    }


CORPUS: list[tuple[str, dict[str, Any], str]] = [
    # durations
    ("make a 7 second clip", {"s": 7.0}, ""),
    ("12-second video", {"s": 12.0}, ""),
    ("2.5s loop of the product", {"s": 2.5, "loop": 700}, ""),
    ("1500ms teaser", {"s": 1.5}, ""),
    ("half a minute landscape", {"s": 30.0, "size": H}, ""),
    ("a one minute showcase", {"s": 60.0}, ""),
    ("twenty-five seconds please", {"s": 25.0}, ""),
    ("make it 9 secs", {"s": 9.0}, ""),
    # aspects and platforms
    ("Instagram story", {"size": V}, ""),
    ("for my instagram", {"size": S}, "Instagram"),
    ("Instagram feed post", {"size": F}, ""),
    ("widescreen hero video", {"size": H}, ""),
    ("horizontal 6 seconds", {"size": H, "s": 6.0}, ""),
    ("16:9 please", {"size": H}, ""),
    ("9x16 clip", {"size": V}, ""),
    ("4/5 ratio", {"size": F}, ""),
    ("1080x1920", {"size": V}, ""),
    ("1280x720", {"size": (1280, 720)}, ""),
    ("3:2 photo animation", {"size": H}, "3:2"),
    ("Douyin clip", {"size": V}, ""),
    ("full hd landscape", {"size": H}, ""),
    ("8K please", {"size": H}, "1080p"),
    ("21:9 cinematic banner", {"size": H}, "21:9"),
    ("30fps vertical", {"fps": 30, "size": V}, ""),
    ("24 frames per second", {"fps": 24}, ""),
    ("60 fps square", {"fps": 60, "size": S}, ""),
    ("50fps", {"fps": 60}, "50 fps"),
    # camera moves
    ("zoom in", {"motion": "push_in", "moves": ("push_in",)}, ""),
    ("dolly in slowly", {"motion": "push_in", "zoom": (1.0, 1.09)}, ""),
    ("punch in fast", {"motion": "push_in", "ease": "ease_out", "zoom": (1.0, 1.27)}, ""),
    ("zoom out to reveal the room", {"motion": "pull_out"}, ""),
    ("pull back", {"motion": "pull_out"}, ""),
    ("pan right across the skyline", {"motion": "pan_right"}, ""),
    ("panning to the left", {"motion": "pan_left"}, ""),
    ("tilt down", {"motion": "pan_down"}, ""),
    ("sweep across", {"motion": "pan_right"}, "which way"),
    ("slow ken burns", {"motion": "ken_burns"}, ""),
    ("gentle parallax drift", {"mode": "parallax"}, ""),
    ("parallax", {"mode": "parallax", "motion": "pan_right"}, ""),
    ("3D", {"mode": "parallax"}, ""),
    ("make it 3d", {"mode": "parallax"}, ""),
    ("2.5D photo", {"mode": "parallax"}, ""),
    ("orbit around the subject", {"mode": "parallax"}, ""),
    ("three-dimensional feel", {"mode": "parallax"}, ""),
    ("dolly zoom", {"mode": "dolly_zoom"}, ""),
    ("vertigo shot", {"mode": "dolly_zoom"}, ""),
    ("hitchcock zoom", {"mode": "dolly_zoom"}, ""),
    ("3D zoom in", {"mode": "push_3d"}, ""),
    ("push in in 3D", {"mode": "push_3d"}, ""),
    ("pop out", {"mode": "pop", "motion": "push_in"}, ""),
    ("subject pop", {"mode": "pop"}, ""),
    ("make the subject pop", {"mode": "pop"}, ""),
    ("pan right with the product popping out", {"mode": "pop", "motion": "pan_right"}, ""),
    ("rotating orbit", {"motion": "orbit", "mode": "flat"}, ""),
    ("parallax then pan left", {"mode": "parallax"}, "pan left"),
    ("film grain", {"life": ("grain",)}, ""),
    ("grainy", {"life": ("grain",)}, ""),
    ("cinematic", {"life": ("grain", "letterbox")}, ""),
    ("letterboxed, 2.39 black bars", {"life": ("letterbox",), "size": H}, ""),
    ("cinemascope bars with film grain", {"life": ("letterbox", "grain")}, ""),
    ("cinematic vertical video", {"life": ("grain",), "size": V}, "Letterbox bars are for landscape frames"),
    ("square letterbox", {"life": (), "size": S}, "the 1:1 clip keeps its full height"),
    ("cinematic soundtrack", {"life": (), "mood": "cinematic"}, ""),
    ("dreamy", {"life": ("light_leak", "bokeh")}, ""),
    ("sparkle", {"life": ("bokeh",)}, ""),
    ("floating particles and a light leak", {"life": ("bokeh", "light_leak")}, ""),
    ("bokeh", {"life": ("bokeh",)}, ""),
    ("locked-off shot", {"motion": "static"}, ""),
    ("no camera movement", {"motion": "static"}, ""),
    ("slow pan left then zoom in", {"moves": ("pan_left", "push_in")}, ""),
    ("pan left then zoom in", {"moves": ("pan_left", "push_in")}, ""),
    ("start wide, push in, hold", {"moves": ("push_in", "static")}, ""),
    ("zoom in, then pull out", {"moves": ("push_in", "pull_out")}, ""),
    ("pan right, then pan left", {"moves": ("pan_right", "pan_left")}, ""),
    ("push in then hold at the end", {"moves": ("push_in", "static")}, ""),
    ("hold, then zoom in", {"moves": ("static", "push_in")}, ""),
    (
        "pan up then pan down then zoom in then zoom out then pan left",
        {"moves": ("pan_up", "pan_down", "push_in", "pull_out")},
        "at most 4",
    ),
    ("push in then rotating orbit", {"moves": ("push_in",)}, "orbit"),
    ("rotating orbit then push in", {"moves": ("orbit", "push_in")}, ""),
    ("push in toward the bottom right", {"focus": (0.75, 0.75)}, ""),
    ("zoom toward the upper left", {"focus": (0.25, 0.25)}, ""),
    ("ken burns to the top", {"motion": "ken_burns", "focus": (0.5, 0.25)}, ""),
    ("zoom in 1.5x", {"zoom": (1.0, 1.5)}, ""),
    ("zoom in by 10%", {"zoom": (1.0, 1.1)}, ""),
    ("zoom in 5x", {"zoom": (1.0, 2.0)}, "clamped"),
    # speed and easing
    ("slowly push in", {"zoom": (1.0, 1.09)}, ""),
    ("quick zoom", {"ease": "ease_out"}, ""),
    ("linear zoom", {"ease": "linear"}, ""),
    ("ease in push", {"ease": "ease_in"}, ""),
    ("decelerating pull out", {"motion": "pull_out", "ease": "ease_out"}, ""),
    ("smooth pan left", {"motion": "pan_left", "ease": "ease_in_out"}, ""),
    ("slow and fast", {"motion": "push_in"}, "two speeds"),
    # titles: quotes, positions, sizes, colours
    ('title "Big Deal"', {"title": "Big Deal", "pos": "bottom"}, ""),
    ("headline: Grand Opening", {"title": "Grand Opening"}, ""),
    ("logo text 'ACME' bottom right", {"title": "ACME", "pos": "bottom_right"}, ""),
    ("'New' in the top left corner", {"title": "New", "pos": "top_left"}, ""),
    ("caption 'Shop now' at the top-right", {"title": "Shop now", "pos": "top_right"}, ""),
    ("text 'Sale' at the lower left", {"title": "Sale", "pos": "bottom_left"}, ""),
    ("'Hello' on the left side", {"title": "Hello", "pos": "left"}, ""),
    ("'World' at the right", {"title": "World", "pos": "right"}, ""),
    ("'Centre stage' in the middle", {"title": "Centre stage", "pos": "center"}, ""),
    ("'Top' upper third", {"title": "Top", "pos": "top"}, ""),
    ("big title 'Huge'", {"title": "Huge", "tsize": 0.1}, ""),
    ("small caption 'fine print'", {"title": "fine print", "tsize": 0.05}, ""),
    ("yellow title 'Hot'", {"title": "Hot", "color": "#ffd23f"}, ""),
    ("title in red: 'Stop'", {"title": "Stop", "color": "#e63946"}, ""),
    ("gold text 'Luxe'", {"title": "Luxe", "color": "#e9c46a"}, ""),
    ("'A' and 'B' and 'C'", {"title": "A"}, "left out"),
    ("a caption please", {"title": None}, "quotes"),
    ("no title", {"title": None}, ""),
    # looks, vignette, fades
    ("black and white", {"look": "bw"}, ""),
    ("B&W film noir", {"look": "bw"}, ""),
    ("monochrome push in", {"look": "bw", "motion": "push_in"}, ""),
    ("warm tones", {"look": "warm"}, ""),
    ("golden hour look", {"look": "warm"}, ""),
    ("cool look", {"look": "cool"}, ""),
    ("cold teal grade", {"look": "cool"}, ""),
    ("vintage film look", {"look": "vintage"}, ""),
    ("retro sepia", {"look": "vintage"}, ""),
    ("high contrast", {"look": "contrast"}, ""),
    ("vivid colours", {"look": "contrast"}, ""),
    ("add a vignette", {"vignette": 0.35}, ""),
    ("soft vignette", {"vignette": 0.2}, ""),
    ("strong vignette, black and white", {"vignette": 0.5, "look": "bw"}, ""),
    ("warm and cool", {"look": "warm"}, "more than one look"),
    ("fade in from black", {"fade_in": 600, "fade_out": 0}, ""),
    ("fade out to black", {"fade_out": 800, "fade_in": 0}, ""),
    ("fade in and out", {"fade_in": 600, "fade_out": 800}, ""),
    ("crossfade loop", {"loop": 700}, ""),
    ("seamless loop", {"loop": 700}, ""),
    ("loopable 4 second clip", {"loop": 700, "s": 4.0}, ""),
    ("add a LUT", {"look": None}, "grading"),
    # style words
    ("make it feel premium", {"look": "warm", "vignette": 0.25, "mood": "cinematic", "zoom": (1.0, 1.105)}, ""),
    ("luxury perfume ad", {"look": "contrast", "vignette": 0.35, "mood": "cinematic"}, ""),
    ("energetic sneaker promo", {"look": "contrast", "mood": "upbeat", "ease": "ease_out"}, ""),
    ("playful kids toy", {"look": "warm", "mood": "upbeat"}, ""),
    ("elegant and slow", {"look": "warm", "zoom": (1.0, 1.09)}, ""),
    ("premium feel, black and white", {"look": "bw", "mood": "cinematic"}, ""),
    ("premium with upbeat music", {"mood": "upbeat", "look": "warm"}, ""),
    ("cinematic look", {"look": "contrast", "mood": "cinematic"}, ""),
    ("warm premium feel, soft vignette", {"look": "warm", "vignette": 0.2}, ""),
    # music
    ("with music", {"mood": "calm", "vol": 0.35}, ""),
    ("chill beats", {"mood": "lofi"}, ""),
    ("epic orchestral soundtrack", {"mood": "cinematic"}, ""),
    ("happy background music at 50%", {"mood": "upbeat", "vol": 0.5}, ""),
    ("piano music", {"mood": "calm"}, ""),
    ("15s TikTok, trending sound", {"s": 15.0, "size": V, "mood": "upbeat"}, "trending"),
    ("viral audio", {"mood": "upbeat"}, "trending"),
    ("reggae music", {"mood": "calm"}, "'reggae'"),
    ("silent", {"mood": None}, ""),
    ("without any audio", {"mood": None}, ""),
    ("volume 20", {"vol": 0.2}, ""),
    # what can't be done, said
    ("add a voiceover", {"motion": "push_in"}, "voiceover"),
    ("with sparkles and confetti", {"motion": "push_in", "life": ("bokeh",)}, "visual effects"),
    ("slow motion", {"motion": "push_in"}, "time effects"),
    ("blur the background", {"motion": "push_in"}, "blur"),
    ("add our watermark", {"motion": "push_in"}, "watermark"),
    ("wipe transition", {"motion": "push_in"}, "transitions"),
    ("5-second drone flyover, 9:16, title 'Spring Sale'", {"s": 5.0, "size": V, "title": "Spring Sale"}, "drone"),
    ("aerial shot sweeping over the coast", {"motion": "pan_right"}, "aerial fly-over"),
    ("handheld camera shake", {"motion": "push_in"}, "handheld camera shake"),
    ("spin the product 360 degrees", {"motion": "push_in"}, "360° spin"),
    ("tracking shot following the runner", {"motion": "push_in"}, "tracking or crane shot"),
    ("lorem ipsum", {"motion": "push_in"}, "didn't find a direction"),
    ("vertical and landscape", {"size": V}, "more than one shape"),
    ("3 seconds, no, 4 seconds", {"s": 3.0}, "more than one duration"),
    # a long brief: every part lands or is said
    (
        "We're launching our autumn candle line. Please make a 10 second vertical video for Reels with a slow push-in "
        "toward the candle, a warm premium feel and a soft vignette, the title 'Autumn Glow' at the top in gold, calm "
        "piano music at 30%, fade in from black and fade out to black at the end. Also add a voiceover.",
        {
            "s": 10.0,
            "size": V,
            "look": "warm",
            "vignette": 0.2,
            "title": "Autumn Glow",
            "pos": "top",
            "color": "#e9c46a",
            "mood": "calm",
            "vol": 0.3,
            "fade_in": 600,
            "fade_out": 800,
        },
        "voiceover",
    ),
    # Chinese
    ("把这张图做成5秒的视频，标题'春季促销'", {"s": 5.0, "title": "春季促销", "lang": "zh"}, ""),
    ("做一个五秒的视频", {"s": 5.0, "lang": "zh"}, ""),
    ("十秒竖屏视频", {"s": 10.0, "size": V}, ""),
    ("十五秒抖音视频", {"s": 15.0, "size": V}, ""),
    ("二十秒横屏", {"s": 20.0, "size": H}, ""),
    ("两秒方形", {"s": 2.0, "size": S}, ""),
    ("半分钟的视频", {"s": 30.0}, ""),
    ("小红书笔记视频", {"size": F}, ""),
    ("视频号竖版", {"size": V}, ""),
    ("B站横版视频", {"size": H}, ""),
    ("每秒60帧", {"fps": 60}, ""),
    ("缓慢推进", {"motion": "push_in", "zoom": (1.0, 1.09)}, ""),
    ("快速拉远", {"motion": "pull_out", "ease": "ease_out"}, ""),
    ("向左平移", {"motion": "pan_left"}, ""),
    ("右移镜头", {"motion": "pan_right"}, ""),
    ("平移", {"motion": "pan_right"}, "方向"),
    ("环绕拍摄", {"mode": "parallax"}, ""),
    ("视差效果", {"mode": "parallax"}, ""),
    ("立体感", {"mode": "parallax"}, ""),
    ("3D运镜", {"mode": "parallax"}, ""),
    ("旋转镜头", {"motion": "orbit", "mode": "flat"}, ""),
    ("希区柯克变焦", {"mode": "dolly_zoom"}, ""),
    ("滑动变焦", {"mode": "dolly_zoom"}, ""),
    ("3D推进", {"mode": "push_3d"}, ""),
    ("主体突出", {"mode": "pop"}, ""),
    ("抠图弹出效果", {"mode": "pop"}, ""),
    ("胶片颗粒", {"life": ("grain",)}, ""),
    ("电影感", {"life": ("grain", "letterbox"), "look": "contrast"}, ""),
    ("宽银幕效果", {"life": ("letterbox",), "size": H}, ""),
    ("加上下黑边", {"life": ("letterbox",)}, ""),
    ("竖屏电影感", {"life": ("grain",), "size": V}, "宽银幕遮幅只用于横屏画面"),
    ("梦幻", {"life": ("light_leak", "bokeh")}, ""),
    ("闪光粒子", {"life": ("bokeh",)}, ""),
    ("加漏光", {"life": ("light_leak",)}, ""),
    ("推进然后视差", {"mode": "parallax"}, "单独"),
    ("固定镜头", {"motion": "static"}, ""),
    ("先左移然后推进", {"moves": ("pan_left", "push_in")}, ""),
    ("从全景开始，推进，停留", {"moves": ("push_in", "static")}, ""),
    ("推进到右上角", {"focus": (0.75, 0.25)}, ""),
    ("匀速推进", {"ease": "linear"}, ""),
    ("标题「新品上市」放在顶部", {"title": "新品上市", "pos": "top"}, ""),
    ("『限时优惠』右下角", {"title": "限时优惠", "pos": "bottom_right"}, ""),
    ("“夏日特惠”居中", {"title": "夏日特惠", "pos": "center"}, ""),
    ("标题「大促」用红色", {"title": "大促", "color": "#e63946"}, ""),
    ("大字标题「狂欢」", {"title": "狂欢", "tsize": 0.1}, ""),
    ("配轻快的背景音乐", {"mood": "upbeat"}, ""),
    ("舒缓的钢琴配乐，音量30%", {"mood": "calm", "vol": 0.3}, ""),
    ("史诗感音乐", {"mood": "cinematic"}, ""),
    ("热门音乐", {"mood": "upbeat"}, "热门"),
    ("不要音乐", {"mood": None}, ""),
    ("黑白效果", {"look": "bw"}, ""),
    ("暖色调，加暗角", {"look": "warm", "vignette": 0.35}, ""),
    ("复古胶片感", {"look": "vintage"}, ""),
    ("冷色调高级感", {"look": "cool", "mood": "cinematic"}, ""),
    ("淡入淡出", {"fade_in": 600, "fade_out": 800}, ""),
    ("无缝循环", {"loop": 700}, ""),
    ("要有奢华感", {"look": "contrast", "mood": "cinematic"}, ""),
    ("动感活力的视频", {"mood": "upbeat", "ease": "ease_out"}, ""),
    ("加个配音", {"motion": "push_in"}, "配音"),
    ("加转场特效", {"motion": "push_in"}, "转场"),
    ("慢动作", {"motion": "push_in"}, "时间特效"),
    ("无人机航拍，6秒竖屏", {"s": 6.0, "size": V}, "航拍"),
    ("手持晃动感", {"motion": "push_in"}, "手持晃动"),
    ("360度旋转展示产品", {"motion": "push_in"}, "360度旋转"),
    ("跟拍镜头", {"motion": "push_in"}, "跟拍"),
    ("随便", {"motion": "push_in"}, "默认"),
    ("15秒TikTok视频，热门BGM", {"s": 15.0, "size": V, "mood": "upbeat", "lang": "zh"}, "热门"),
]


def test_the_corpus_is_big_enough() -> None:
    chinese = [row for row in CORPUS if any("\u4e00" <= c <= "\u9fff" for c in row[0])]
    assert len(CORPUS) >= 150 and len(chinese) >= 30, (len(CORPUS), len(chinese))


@pytest.mark.parametrize(("instruction", "expected", "note"), CORPUS, ids=[c[0][:40] for c in CORPUS])
def test_phrasing(instruction: str, expected: dict[str, Any], note: str) -> None:
    d = direct(instruction, image_asset="img-1", image_size=(3000, 2000))
    got = facts(d)
    for key, value in expected.items():
        assert got[key] == value, f"{key}: {got[key]!r} != {value!r} ({got['notes']})"
    assert (note in got["notes"]) if note else got["notes"] == "", got["notes"]
    assert d.draft["m"]["did"] == d.texts[0] and d.draft["m"]["notes"] == d.texts[1:]
    _Timeline.parse(d.draft)  # every draft the director makes is one the renderer accepts


def test_replies_exist_in_every_language() -> None:
    keys = {code: set(voc.replies) for code, voc in LANGUAGES.items()}
    assert all(k == keys["en"] for k in keys.values())


@pytest.mark.parametrize(
    ("instruction", "lang"),
    [("make a clip", "en"), ("做一个视频", "zh"), ("15秒TikTok视频", "zh"), ("title '你好'", "en")],
)
def test_the_reply_is_in_the_instructions_language(instruction: str, lang: str) -> None:
    d = direct(instruction, image_asset="img-1", image_size=(3000, 2000))
    assert d.lang == lang
    assert d.texts[0].startswith("我会做" if lang == "zh" else "I'll make")


class TestChineseRefine:
    @pytest.fixture
    def first(self) -> dict[str, Any]:
        return direct("5秒方形视频，标题「春季」，配乐", image_asset="i", image_size=(3000, 2000)).draft

    @pytest.mark.parametrize(
        ("instruction", "key", "value"),
        [
            ("标题大一点", "tsize", 0.091),
            ("标题小一点", "tsize", 0.0525),
            ("音乐大声点", "vol", 0.525),
            ("音量调低", "vol", 0.21),
            ("去掉标题", "title", None),
            ("去掉音乐", "mood", None),
            ("换成竖屏", "size", V),
            ("把标题改成「夏季」", "title", "夏季"),
            ("标题移到顶部", "pos", "top"),
            ("慢一点", "zoom", (1.0, 1.09)),
        ],
    )
    def test_refines(self, first: dict[str, Any], instruction: str, key: str, value: Any) -> None:
        d = direct(instruction, image_asset="i", image_size=(3000, 2000), previous=first)
        assert facts(d)[key] == value and d.lang == "zh" and d.texts[0].startswith("我会这样修改")

    def test_longer_without_a_number_asks_for_one(self, first: dict[str, Any]) -> None:
        d = direct("长一点", image_asset="i", image_size=(3000, 2000), previous=first)
        assert "秒数" in " ".join(d.texts)


def test_turning_a_letterboxed_clip_upright_leaves_the_bars_off_and_says_so() -> None:
    wide = direct("cinematic", image_asset="i", image_size=(3000, 2000))
    assert facts(wide)["life"] == ("grain", "letterbox")
    upright = facts(direct("make it vertical", image_asset="i", image_size=(3000, 2000), previous=wide.draft))
    assert upright["size"] == V and upright["life"] == ("grain",)
    assert "Letterbox bars are for landscape frames; the 9:16 clip keeps its full height." in upright["notes"]
