"""Bad input: every case ends with a clear error naming the file and the reason (before anything is spent),
or renders correctly with a note; the rest of a batch goes on. Re-encodes are PNG, never lossy."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pillow_heif
import pytest
from PIL import Image
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

from prefect_nemo.artifacts import BatchItem
from prefect_nemo.credentials import NemoCredentials
from prefect_nemo.errors import NemoInputError
from prefect_nemo.flows import batch_image_to_video, image_to_video
from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.media import BOMB_PIXELS, MAX_UPLOAD_BYTES, mp4_problem, preflight, probe
from prefect_nemo.models import ClipSpec
from prefect_nemo.pipeline import check_spec
from tests.conftest import ServerFactory, write_image

RED, BLUE = (210, 40, 40), (40, 40, 210)
pillow_heif.register_heif_opener()  # so the tests can write HEIC and AVIF files


# -- writers of awkward files -----------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path: Path, width: int, height: int, *, bit_depth: int, colour: int, rows: bytes | None = None) -> Path:
    """A PNG written by hand: any size (pixels all zero unless `rows` is given), any bit depth."""
    channels = {0: 1, 2: 3, 6: 4}[colour]
    row_bytes = (width * channels * bit_depth + 7) // 8
    compressor = zlib.compressobj(9)
    body = bytearray()
    if rows is not None:
        body += compressor.compress(rows)
    else:
        blank = b"\0" * (1 + row_bytes)
        for _ in range(height):
            body += compressor.compress(blank)
    body += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", bytes(body)) + _chunk(b"IEND", b"")
    )
    return path


def write_rotated_photo(path: Path) -> Path:
    """A photo stored landscape (left red, right blue) with EXIF orientation 6: upright it is portrait,
    red on top and blue below."""
    upright = np.zeros((640, 480, 3), np.uint8)
    upright[:320] = RED
    upright[320:] = BLUE
    upright[::16, ::16] = 255  # texture, so contrast is fine
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)  # what exif_transpose undoes
    exif = Image.Exif()
    exif[0x0112] = 6
    stored.save(path, "JPEG", quality=95, exif=exif)
    return path


def write_animated_gif(path: Path) -> Path:
    frames = [Image.new("RGB", (120, 90), colour).quantize() for colour in ((250, 0, 0), (0, 250, 0), (0, 0, 250))]
    for i, frame in enumerate(frames):
        frame.paste(i * 40, (10, 10, 60, 60))
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def write_low_contrast(path: Path) -> Path:
    rng = np.random.default_rng(1)
    pixels = (128 + rng.integers(-3, 4, (400, 600, 3))).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def sparse_file(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n")
        handle.truncate(size)
    return path


def non_utf8_name(folder: Path) -> Path:
    raw = os.fsencode(folder) + b"/caf\xe9-\xff-photo.png"  # Latin-1 bytes: not valid UTF-8
    path = Path(os.fsdecode(raw))
    write_image(path, (320, 240))
    return path


# -- pre-flight, file by file -------------------------------------------------------------------------------


def rejected(path: Path, work: Path) -> NemoInputError:
    with pytest.raises(NemoInputError) as caught:
        preflight(path, work)
    error = caught.value
    assert error.input == str(path).encode("utf-8", "backslashreplace").decode()  # names the file ...
    assert str(path.name).encode("utf-8", "backslashreplace").decode() in str(error)  # ... in the message
    return error


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("empty.png", lambda p: p.write_bytes(b""), "file is empty (0 bytes)"),
        ("text.png", lambda p: p.write_text("just some words, not a picture"), "not a readable image"),
        ("nothing.jpg", lambda p: None, "no such file"),
        ("folder.png", lambda p: p.mkdir(), "is a directory, not an image"),
        (
            "tiny.png",
            lambda p: Image.new("RGB", (1, 1), "white").save(p),
            "image is 1x1; each side must be at least 16 px",
        ),
    ],
)
def test_unusable_files_are_named_with_the_reason(name: str, make: Any, reason: str, tmp_path: Path) -> None:
    path = tmp_path / name
    make(path)
    assert reason in str(rejected(path, tmp_path / "work"))


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_images(fmt: str, tmp_path: Path) -> None:
    whole = write_image(tmp_path / f"whole.{fmt.lower()}", (800, 600), format=fmt)
    cut = tmp_path / f"cut.{fmt.lower()}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    assert "damaged or truncated" in str(rejected(cut, tmp_path))


@pytest.mark.parametrize("suffix", [".svg", ".pdf", ".txt", ""])
def test_unsupported_types_list_the_readable_ones(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"picture{suffix}"
    path.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>" if suffix == ".svg" else b"%PDF-1.4 whatever")
    message = str(rejected(path, tmp_path))
    assert f"unsupported type '{suffix or '(none)'}'" in message
    assert "images: jpg, png, gif, webp, heic, avif, tiff, bmp" in message


@pytest.mark.parametrize("suffix", [".bmp", ".tiff", ".heic", ".avif"])
def test_junk_under_a_photo_extension_is_not_a_readable_image(suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"picture{suffix}"
    path.write_bytes(b"whatever is inside")
    assert "not a readable image" in str(rejected(path, tmp_path))


@pytest.mark.parametrize(("suffix", "fmt"), [(".heic", "HEIF"), (".avif", "AVIF"), (".tiff", "TIFF"), (".bmp", "BMP")])
def test_camera_and_scanner_formats_are_converted_to_png(suffix: str, fmt: str, tmp_path: Path) -> None:
    source = write_image(tmp_path / f"photo{suffix}", (320, 240))
    prepared = preflight(source, tmp_path / "work")
    assert prepared.format == fmt and (prepared.width, prepared.height) == (320, 240)
    assert f"photo{suffix} is {fmt}; converted to PNG for upload" in prepared.warnings
    with Image.open(prepared.upload_path) as image:
        assert (image.format, image.mode, image.size) == ("PNG", "RGB", (320, 240))
    if fmt in ("TIFF", "BMP"):  # lossless formats: the same pixels
        assert np.array_equal(_decoded(prepared.upload_path), _decoded(source))


def test_decompression_bomb(tmp_path: Path) -> None:
    bomb = write_png(tmp_path / "bomb.png", 30000, 30000, bit_depth=1, colour=0)
    assert bomb.stat().st_size < 1_000_000  # a few hundred KB that would decode to 900 megapixels
    message = str(rejected(bomb, tmp_path))
    assert f"image has 900 megapixels, over the {BOMB_PIXELS / 1e6:.0f}-megapixel bound" in message
    assert "decompression bombs" in message and Image.MAX_IMAGE_PIXELS == 89_478_485  # the global is untouched


def test_20000_by_20000_is_refused_without_decoding(tmp_path: Path) -> None:
    huge = tmp_path / "huge.png"
    header = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    huge.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\0" * 64)))
    assert "image has 400 megapixels" in str(rejected(huge, tmp_path))


def test_over_200_mb_is_refused_before_reading(tmp_path: Path) -> None:
    big = sparse_file(tmp_path / "poster.png", MAX_UPLOAD_BYTES + 1)
    assert "file is 201 MB; the upload limit is 200 MB" in str(rejected(big, tmp_path))


def test_a_96_megapixel_jpeg_is_downscaled(tmp_path: Path) -> None:
    photo = tmp_path / "big.jpg"
    Image.new("RGB", (12000, 8000), (90, 120, 150)).save(photo, quality=80)
    prepared = preflight(photo, tmp_path / "work")
    assert prepared.width * prepared.height <= 7680 * 4320 and prepared.width / prepared.height == pytest.approx(
        1.5, 0.01
    )
    assert any("has 96 megapixels, over Pillow's 89-megapixel limit; downscaled to" in w for w in prepared.warnings)
    with Image.open(prepared.upload_path) as image:
        assert image.size == (prepared.width, prepared.height)


def test_past_twice_the_limit_a_png_is_still_read_and_downscaled(tmp_path: Path) -> None:
    wide = write_png(tmp_path / "wide.png", 16000, 12000, bit_depth=1, colour=0)  # 192 MP: Pillow alone refuses
    prepared = preflight(wide, tmp_path / "work")
    assert prepared.width * prepared.height <= 7680 * 4320
    assert any("has 192 megapixels" in w for w in prepared.warnings)


def test_content_under_another_extension_is_read_as_what_it_is(tmp_path: Path) -> None:
    disguised = write_image(tmp_path / "really-a-png.jpg", (64, 64), format="PNG")
    prepared = preflight(disguised, tmp_path / "work")
    assert prepared.format == "PNG" and prepared.upload_path.suffix == ".png"
    assert "really-a-png.jpg is a PNG image under a '.jpg' name; read as PNG" in prepared.warnings


def _decoded(path: Path) -> np.ndarray[Any, np.dtype[np.uint8]]:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize(
    ("name", "make", "note"),
    [
        ("cmyk.jpg", lambda p: write_image(p, (300, 200), mode="CMYK", quality=95), None),
        (
            "gray16.png",
            lambda p: Image.fromarray((np.arange(64 * 48).reshape(48, 64) * 20).astype(np.uint16)).save(p),
            None,
        ),
        ("palette.png", lambda p: write_image(p, (300, 200), mode="P", transparency=0), None),
        ("alpha.png", lambda p: write_image(p, (300, 200), mode="RGBA"), None),
        ("grey-alpha.png", lambda p: write_image(p, (300, 200), mode="LA"), None),
        ("animated.gif", write_animated_gif, "is animated (3 frames); only the first frame is used"),
        ("rotated.jpg", write_rotated_photo, "was rotated upright from its EXIF orientation"),
    ],
)
def test_reencoded_to_lossless_png(name: str, make: Any, note: str | None, tmp_path: Path) -> None:
    source = tmp_path / name
    make(source)
    prepared = preflight(source, tmp_path / "work")
    assert prepared.upload_path != source and prepared.upload_path.suffix == ".png"
    with Image.open(prepared.upload_path) as image:
        assert (image.format, image.mode) == ("PNG", "RGB")
    if note:
        assert any(note in w for w in prepared.warnings), prepared.warnings
    if name == "rotated.jpg":
        assert (prepared.width, prepared.height) == (480, 640)  # portrait, as the photo is meant to be seen
        pixels = _decoded(prepared.upload_path)
        assert pixels[100, 240, 0] > 150 and pixels[540, 240, 2] > 150  # red on top, blue below
    elif name == "animated.gif":
        with Image.open(source) as gif:
            gif.seek(0)
            assert np.array_equal(_decoded(prepared.upload_path), np.asarray(gif.convert("RGB")))
    elif name == "cmyk.jpg":
        with Image.open(source) as cmyk:
            assert np.array_equal(_decoded(prepared.upload_path), np.asarray(cmyk.convert("RGB")))  # lossless


def test_16_bit_colour_png_is_accepted(tmp_path: Path) -> None:
    rows = b"".join(b"\0" + np.full((64, 3), 40000 + 300 * y, ">u2").tobytes() for y in range(48))
    path = write_png(tmp_path / "deep.png", 64, 48, bit_depth=16, colour=2, rows=rows)
    prepared = preflight(path, tmp_path / "work")
    assert (prepared.width, prepared.height) == (64, 48)
    with Image.open(prepared.upload_path) as image:
        assert image.format == "PNG"


def test_low_contrast_is_accepted_with_a_note(tmp_path: Path) -> None:
    prepared = preflight(write_low_contrast(tmp_path / "fog.png"), tmp_path)
    assert prepared.upload_path.name == "fog.png"  # nothing to re-encode
    assert any("low contrast; higher-contrast images give cleaner motion" in w for w in prepared.warnings)


def test_odd_names_pass_preflight(tmp_path: Path) -> None:
    odd = non_utf8_name(tmp_path)
    assert preflight(odd, tmp_path / "work").width == 320
    long = write_image(tmp_path / ("long-name-" + "x" * 230 + ".png"), (320, 240))
    assert preflight(long, tmp_path / "work").width == 320


# -- instructions and durations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        (ClipSpec(prompt=""), "instruction: is empty"),
        (ClipSpec(prompt="   \n\t "), "instruction: is empty"),
        (ClipSpec(prompt="z" * 100_000), "instruction: is 100,000 characters long; the limit is 4,000"),
        (ClipSpec(prompt="push-in", duration=0), "duration: 0 s is out of range; clips are 1-60 s long"),
        (ClipSpec(prompt="push-in", duration=0.5), "duration: 0.5 s is out of range"),
        (ClipSpec(prompt="push-in", duration=61), "duration: 61 s is out of range"),
        (ClipSpec(prompt="push-in", duration=-3), "duration: -3 s is out of range"),
        (ClipSpec(prompt="push-in", duration=float("nan")), "duration: nan s is out of range"),
    ],
)
def test_instruction_checked_before_any_request(spec: ClipSpec, reason: str) -> None:
    with pytest.raises(NemoInputError) as caught:
        check_spec(spec)
    assert reason in str(caught.value)


def test_limits_are_accepted() -> None:
    for spec in (ClipSpec(prompt="x" * 3990, duration=1), ClipSpec(prompt="push-in", duration=60)):
        check_spec(spec)


# -- a whole batch of bad input, end to end ------------------------------------------------------------------


def _requests(server: LocalServer) -> dict[str, int]:
    return dict(httpx.get(f"{server.url}/local/metrics").json()["requests"])


def _first_frame(path: Path) -> np.ndarray[Any, np.dtype[np.uint8]]:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)


async def test_a_batch_of_bad_input_goes_on(
    harness: None, make_server: ServerFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server()
    folder = tmp_path / "inputs"
    folder.mkdir()
    bad: dict[Path, str] = {
        folder / "empty.png": "file is empty (0 bytes)",
        folder / "half.png": "damaged or truncated",
        folder / "notes.png": "not a readable image",
        folder / "scan.bmp": "damaged or truncated",  # a BMP header with nothing behind it
        folder / "bomb.png": "decompression bombs",
        folder / "dot.png": "each side must be at least 16 px",
        folder / "missing.png": "no such file",
        folder / "album.png": "is a directory",
        folder / "giant.png": "the upload limit is 200 MB",
    }
    (folder / "empty.png").write_bytes(b"")
    whole = write_image(folder / "whole.png", (800, 600)).read_bytes()
    (folder / "half.png").write_bytes(whole[: len(whole) // 2])
    (folder / "notes.png").write_text("not a picture")
    (folder / "scan.bmp").write_bytes(b"BM" + b"\0" * 64)
    write_png(folder / "bomb.png", 30000, 30000, bit_depth=1, colour=0)
    Image.new("RGB", (1, 1)).save(folder / "dot.png")
    (folder / "album.png").mkdir()
    sparse_file(folder / "giant.png", MAX_UPLOAD_BYTES + 1)
    good = [
        folder / "whole.png",
        non_utf8_name(folder),
        write_image(folder / ("a-very-long-name-" + "y" * 220 + ".png"), (400, 300)),
        write_image(folder / "print.jpg", (400, 300), mode="CMYK"),
        write_animated_gif(folder / "loop.gif"),
        write_rotated_photo(folder / "phone.jpg"),
        write_low_contrast(folder / "fog.png"),
    ]
    inputs = [*bad, *good]
    credentials = NemoCredentials(api_url=server.url)
    items: list[BatchItem] = await batch_image_to_video(
        inputs,
        "1-second push-in, 9:16, 24 fps, 720p",  # the inputs are the point here, not the render
        max_concurrency=4,
        out_dir=tmp_path / "out",
        credentials=credentials,
        allow_failures=True,
    )
    by_input = dict(zip(inputs, items, strict=True))
    for path, reason in bad.items():
        item = by_input[path]
        assert item.status == "failed", (path.name, item)
        assert path.name in (item.error or "") and reason in (item.error or ""), item.error
    for path in good:
        item = by_input[path]
        assert item.status == "ok" and item.result is not None, (path, item.error)
        info = probe(item.result.path)
        assert (info.codec, info.width, info.height) == ("h264", 720, 1280)
        assert item.result.path.parent == (tmp_path / "out").resolve()
        assert len(item.result.path.name) < 100
    # Bad files cost nothing: one upload per good image, none for the others.
    assert _requests(server)["POST /api/upload-video/nemo_agent/me/{session_id}"] == len(good)
    # The EXIF-rotated photo renders upright: red above, blue below, in the middle column of the frame.
    frame = _first_frame(by_input[folder / "phone.jpg"].result.path)  # type: ignore[union-attr]
    h, w = frame.shape[:2]
    top = frame[h // 5 : h * 3 // 10, w // 4 : w * 3 // 4].reshape(-1, 3).mean(axis=0)
    bottom = frame[h * 7 // 10 : h * 4 // 5, w // 4 : w * 3 // 4].reshape(-1, 3).mean(axis=0)
    # Sideways (EXIF ignored) both bands would hold the same red-left/blue-right mix.
    assert top[0] - top[2] > 30 and bottom[2] - bottom[0] > 30, (top, bottom)
    # Animated and low-contrast inputs carry their notes into the log and the clip's artifact.
    log = caplog.text
    assert "loop.gif is animated (3 frames); only the first frame is used" in log
    assert "fog.png has low contrast; higher-contrast images give cleaner motion" in log
    fog = by_input[folder / "fog.png"].result
    assert fog is not None and any("low contrast" in w for w in fog.warnings)
    async with get_client() as client:
        artifacts = await client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_=f"nemo-clip-fog-{fog.sha256[:10]}%"))
        )
    cards = [str(a.data) for a in artifacts if str(a.data).startswith("# Clip: fog.png")]
    assert len(cards) == 1 and "## Warnings\n- fog.png has low contrast" in cards[0], cards


async def test_bad_instructions_fail_clearly_without_requests(
    harness: None, make_server: ServerFactory, tmp_path: Path
) -> None:
    server = make_server()
    credentials = NemoCredentials(api_url=server.url)
    image = write_image(tmp_path / "calm.png", (400, 300))
    before = _requests(server)
    for prompt, duration, reason in [
        ("", None, "instruction: is empty"),
        ("zoom " * 20_000, None, "the limit is 4,000"),
        ("push-in", 90.0, "duration: 90 s is out of range; clips are 1-60 s long"),
    ]:
        items: list[BatchItem] = await batch_image_to_video(
            [image], prompt, duration=duration, out_dir=tmp_path, credentials=credentials, allow_failures=True
        )
        assert items[0].status == "failed" and reason in (items[0].error or ""), items[0].error
    after = _requests(server)
    costly = (
        "POST /run_sse",
        "POST /api/upload-video/nemo_agent/me/{session_id}",
        "POST /api/tasks/me/with-session/nemo_agent",
    )
    assert all(after.get(k, 0) == before.get(k, 0) for k in costly)
    # A duration hidden in the words is the backend's to refuse: the flow passes its reason on, unpaid.
    with pytest.raises(Exception) as caught:
        await image_to_video(image, "a 500-second epic", out_dir=tmp_path, credentials=credentials)
    assert "duration 500 s is outside the supported 1-60 s" in str(caught.value)
    generations = httpx.get(f"{server.url}/local/metrics").json()
    assert generations["requests"]["POST /run_sse"] == 1


def test_mp4_problem_spots_truncation(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.mp4"
    missing.write_bytes(b"\0\0\0\x18ftypisom\0\0\0\0isomiso2")
    assert mp4_problem(missing) == "no 'moov' or 'mdat' box"
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not an mp4 at all, just text")
    assert mp4_problem(garbage) is not None
