# ruff: noqa: RUF001 - Chinese instructions use full-width punctuation, as people type them
"""Titles in any script: drawn with a font that has every glyph, or said to be drawn with '?'."""

from __future__ import annotations

import numpy as np
import pytest

from prefect_nemo.local.studio import overlay
from prefect_nemo.local.studio.director import direct


def mask(text: str) -> np.ndarray:
    font, shown = overlay._face(text)
    return np.asarray(font.getmask(shown))


class TestFonts:
    @pytest.mark.parametrize("title", ["春季促销", "夏季新品「限时」", "Café déjà vu"])
    def test_every_character_has_a_glyph(self, title: str) -> None:
        font, shown = overlay._face(title)
        assert shown == title and overlay.drawable(title)
        assert not overlay._missing(font, title)

    def test_chinese_is_drawn_not_replaced(self) -> None:
        assert not np.array_equal(mask("春季促销"), mask("????"))

    def test_a_title_no_font_can_draw_is_said(self, monkeypatch: pytest.MonkeyPatch) -> None:
        aileron_only = overlay._fonts()[:1]
        monkeypatch.setattr(overlay, "_fonts", lambda: aileron_only)
        assert overlay._face("春季促销")[1] == "????"
        plan = direct("把这张图做成5秒的视频，标题「春季促销」", image_asset="img", image_size=(1200, 800))
        notes = plan.draft["m"]["notes"]
        assert any("prefect-nemo[cjk]" in n for n in notes), notes

    def test_a_drawable_title_has_no_font_note(self) -> None:
        plan = direct("5-second push-in, title '春季促销'", image_asset="img", image_size=(1200, 800))
        assert not any("font" in n for n in plan.draft["m"]["notes"])
