"""Where clips go: local folders, fsspec URLs and Prefect file-system Blocks, against a real S3-compatible
server (moto) on 127.0.0.1; and file names that keep their letters."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import httpx
import pytest
from prefect.filesystems import LocalFileSystem

from prefect_nemo.storage import ClipStore, clip_name, fetch_images, is_remote
from tests.conftest import write_image


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("ünïcødé", "ünïcødé"),
        ("商品 照片", "商品-照片"),
        ("a/b\\c", "a-b-c"),
        ("..", "clip"),
        ("Crème brûlée!", "Crème-brûlée"),
    ],
)
def test_names_keep_letters_of_every_script(stem: str, expected: str) -> None:
    assert clip_name(stem) == expected


def test_names_are_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "café")
    assert clip_name(decomposed) == "café" and len(clip_name(decomposed)) == 4


async def test_local_folder_and_block_are_the_same_place(tmp_path: Path) -> None:
    staged = write_image(tmp_path / "staged" / "x.png")
    by_path, by_block = ClipStore(tmp_path / "out"), ClipStore(LocalFileSystem(basepath=str(tmp_path / "out")))
    assert by_path.is_local and by_block.is_local and not is_remote(str(tmp_path))
    assert by_path.location("x.png") == by_block.location("x.png") == str((tmp_path / "out" / "x.png").resolve())
    placed = await by_block.put(staged, "x.png", keep=True)
    assert Path(placed).read_bytes() == staged.read_bytes() and staged.is_file()
    assert by_path.browser_url(placed) is None  # a local file has no URL another machine can open


async def test_s3_url_upload_and_presigned_link(s3: dict[str, str], tmp_path: Path) -> None:
    staged = write_image(tmp_path / "clip.png")
    store = ClipStore(f"s3://{s3['bucket']}/clips")
    assert not store.is_local
    placed = await store.put(staged, "ünï.png")
    assert placed == f"s3://{s3['bucket']}/clips/ünï.png"
    url = store.browser_url(placed)
    assert url and url.startswith(s3["endpoint"])
    fetched = httpx.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.content == staged.read_bytes()


def test_remote_folder_images_are_fetched(s3: dict[str, str], tmp_path: Path) -> None:
    import fsspec

    fs = fsspec.filesystem("s3")
    for name in ("b.png", "a.jpg", "notes.txt"):
        fs.pipe(f"{s3['bucket']}/inputs/{name}", write_image(tmp_path / "src" / "x.png").read_bytes())
    local = fetch_images(f"s3://{s3['bucket']}/inputs", tmp_path / "fetched", (".png", ".jpg"))
    assert [p.name for p in local] == ["a.jpg", "b.png"] and all(p.stat().st_size > 0 for p in local)


async def test_folder_flow_reads_a_bucket_prefix_and_writes_to_an_s3bucket_block(
    harness: None, local_server: object, s3: dict[str, str], tmp_path: Path
) -> None:
    import fsspec
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect_aws import AwsCredentials, S3Bucket
    from prefect_aws.client_parameters import AwsClientParameters

    from prefect_nemo import convert_folder

    fs = fsspec.filesystem("s3")
    for name, size in (("ünïcødé.png", (700, 420)), ("bucket-b.png", (720, 420))):
        fs.pipe(f"{s3['bucket']}/photos/in/{name}", write_image(tmp_path / name, size).read_bytes())
    bucket = S3Bucket(
        bucket_name=s3["bucket"],
        bucket_folder="clips/out",
        credentials=AwsCredentials(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
            aws_client_parameters=AwsClientParameters(endpoint_url=s3["endpoint"]),
        ),
    )
    items = await convert_folder(folder=f"s3://{s3['bucket']}/photos/in", prompt="1-second push-in", out_dir=bucket)
    assert [i.status for i in items] == ["ok", "ok"]
    for item in items:
        uri = item.result.uri
        assert uri and uri.startswith(f"s3://{s3['bucket']}/clips/out/") and uri.endswith(".mp4")
        assert fs.exists(uri) and fs.exists(uri[:-4] + ".jpg") and fs.exists(uri[:-4] + ".webp")
    assert "ünïcødé-" in items[1].result.uri  # letters kept in the name

    async with get_client() as client:
        found = await client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_="nemo-clip-bucket-b%"))
        )
    card = next(a for a in found if a.type == "markdown" and not (a.key or "").endswith("-link"))
    links = re.findall(r"\((http://127\.0\.0\.1:[^)\s]+)\)", str(card.data))
    mp4 = next(u for u in links if ".mp4" in u)
    preview = next(u for u in links if ".webp" in u)
    assert httpx.get(mp4, timeout=10).content == fs.cat(items[0].result.uri)
    assert httpx.get(preview, timeout=10).content[8:12] == b"WEBP"


def test_a_manifest_in_a_bucket_brings_its_images(s3: dict[str, str], tmp_path: Path) -> None:
    import fsspec

    from prefect_nemo.sources import read_manifest

    fs = fsspec.filesystem("s3")
    fs.pipe(f"{s3['bucket']}/sets/spring/rows.csv", b"image,prompt\nshots/one.png,1-second pan left\n")
    fs.pipe(f"{s3['bucket']}/sets/spring/shots/one.png", write_image(tmp_path / "one.png").read_bytes())
    [row] = read_manifest(f"s3://{s3['bucket']}/sets/spring/rows.csv")
    assert row.prompt == "1-second pan left" and row.image.read_bytes() == (tmp_path / "one.png").read_bytes()
