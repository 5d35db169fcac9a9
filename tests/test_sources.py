"""Batch inputs from a folder or a manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from prefect_nemo.errors import NemoInputError
from prefect_nemo.sources import ManifestRow, images_in_folder, read_manifest


def test_folder_lists_images_sorted_and_skips_others(tmp_path: Path) -> None:
    for name in ("b.PNG", "a.jpg", "notes.txt", ".hidden.png", "c.webp"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in images_in_folder(tmp_path)] == ["a.jpg", "b.PNG", "c.webp"]


def test_folder_that_is_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(NemoInputError, match="is not a folder"):
        images_in_folder(tmp_path / "missing")


def test_csv_manifest_resolves_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "m.csv").write_text("image,prompt\na.png,3-second pan\n/abs/b.png,\n")
    assert read_manifest(tmp_path / "m.csv") == [
        ManifestRow(tmp_path / "a.png", "3-second pan"),
        ManifestRow(Path("/abs/b.png"), None),
    ]


def test_jsonl_manifest(tmp_path: Path) -> None:
    (tmp_path / "m.jsonl").write_text('{"image": "a.png", "prompt": "zoom out"}\n\n{"image": "b.png"}\n')
    assert [r.prompt for r in read_manifest(tmp_path / "m.jsonl")] == ["zoom out", None]


@pytest.mark.parametrize(
    ("name", "text", "reason"),
    [
        ("bad.jsonl", '{"image": "a.png"}\nnot json\n', "bad.jsonl:2: not valid JSON"),
        ("list.jsonl", '["a.png"]\n', "each line must be a JSON object"),
        ("empty.csv", "image,prompt\n,hello\n", "row has no 'image'"),
        ("m.txt", "a.png\n", "manifest must be .csv or .jsonl"),
    ],
)
def test_bad_manifests_name_the_row_and_reason(tmp_path: Path, name: str, text: str, reason: str) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(NemoInputError, match=reason.replace("(", r"\(")):
        read_manifest(tmp_path / name)
