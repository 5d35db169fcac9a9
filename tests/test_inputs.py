"""`inputs.account`: every path named, and every entry of a folder named, is used or named with its reason."""

from __future__ import annotations

import os
from pathlib import Path

from prefect_nemo.inputs import account, display_path
from tests.conftest import write_image


def test_a_folder_accounts_for_every_entry(tmp_path: Path) -> None:
    folder = tmp_path / "shoot"
    write_image(folder / "a.jpg", (64, 48))
    write_image(folder / "b.PNG", (64, 48))
    write_image(folder / "c.heic", (64, 48), format="PNG")  # taken by its extension; preflight reads the content
    write_image(folder / ".hidden.png", (64, 48))
    (folder / "notes.txt").write_text("hello")
    (folder / "drawing.svg").write_text("<svg/>")
    (folder / "empty.png").write_bytes(b"")
    (folder / "sub").mkdir()
    found = {entry.path.name: entry.reason for entry in account([folder])}
    assert found == {
        ".hidden.png": "hidden file",
        "a.jpg": None,
        "b.PNG": None,
        "c.heic": None,
        "drawing.svg": "unsupported type '.svg' (images: jpg, png, gif, webp, heic, avif, tiff, bmp)",
        "empty.png": "file is empty (0 bytes)",
        "notes.txt": "unsupported type '.txt' (images: jpg, png, gif, webp, heic, avif, tiff, bmp)",
        "sub": "a folder inside a folder (folders are read one level deep; name it to include it)",
    }


def test_every_named_path_is_accounted_for_once(tmp_path: Path) -> None:
    image = write_image(tmp_path / "photo.jpg", (64, 48))
    notes = tmp_path / "notes.txt"
    notes.write_text("named on purpose: its content decides")
    (tmp_path / "empty").mkdir()
    named = [image, tmp_path / "missing.png", tmp_path / "empty", notes, image, tmp_path / "photo.jpg" / "x.png"]
    found = [(entry.path, entry.reason) for entry in account(named)]
    assert found == [
        (image, None),
        (tmp_path / "missing.png", "no such file"),
        (tmp_path / "empty", "folder is empty"),
        (notes, None),  # media.preflight reads it and says it is not an image
        (tmp_path / "photo.jpg" / "x.png", "no such file (a part of the path is a file)"),
    ]


def test_names_are_shown_as_valid_utf8(tmp_path: Path) -> None:
    raw = Path(os.fsdecode(os.fsencode(tmp_path) + b"/caf\xe9.png"))
    write_image(raw, (64, 48))
    (entry,) = account([tmp_path])
    assert entry.usable and entry.shown.endswith("caf\\xe9.png")
    assert display_path("ünïcødé.png") == "ünïcødé.png"
