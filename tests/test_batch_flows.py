"""The batch flows under Prefect's test harness, against the embedded backend (api_url="local")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect_nemo import NemoBatchFailed, batch_image_to_video, convert_folder
from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.media import probe
from tests.conftest import SHORT, artifact_keys, write_image


class TestBatch:
    async def test_one_bad_image_does_not_sink_the_batch_but_fails_the_run(
        self, harness: None, local_server: LocalServer, tmp_path: Path
    ) -> None:
        good = [write_image(tmp_path / f"item-{i}.png", (500 + 10 * i, 410)) for i in range(3)]
        bad = tmp_path / "broken.png"
        bad.write_text("this is not a picture")
        state = await batch_image_to_video(
            [*good, bad], SHORT, max_concurrency=3, out_dir=tmp_path / "batch", return_state=True
        )
        assert state.is_failed()
        assert "3 ok, 1 failed" in (state.message or "") and "broken.png" in (state.message or "")
        failure = await state.result(raise_on_failure=False)
        assert isinstance(failure, NemoBatchFailed)
        items = failure.items
        assert [i.status for i in items] == ["ok", "ok", "ok", "failed"]
        assert "broken.png" in (items[3].error or "") and "not a readable image" in (items[3].error or "")
        for item in items[:3]:
            assert probe(item.result.path).codec == "h264"
        assert await artifact_keys("nemo-batch-%")

        kept: list[Any] = await batch_image_to_video(
            [*good, bad], SHORT, out_dir=tmp_path / "batch", allow_failures=True
        )
        assert [i.status for i in kept] == ["cached", "cached", "cached", "failed"]


class TestDask:
    async def test_batch_runs_on_a_local_dask_cluster(
        self, harness: None, local_server: LocalServer, tmp_path: Path
    ) -> None:
        from prefect_dask import DaskTaskRunner

        images = [write_image(tmp_path / f"dask-{i}.png", (400 + 16 * i, 300)) for i in range(2)]
        runner = DaskTaskRunner(cluster_kwargs={"n_workers": 1, "threads_per_worker": 2, "processes": True})
        flow = batch_image_to_video.with_options(task_runner=runner)
        items: list[Any] = await flow(images, "1-second pan right, 720p", max_concurrency=2, out_dir=tmp_path / "dask")
        assert [i.status for i in items] == ["ok", "ok"]
        assert all(probe(i.result.path).codec == "h264" for i in items)


class TestFolder:
    async def test_manifest_rows_with_their_own_prompts(
        self, harness: None, local_server: LocalServer, tmp_path: Path
    ) -> None:
        write_image(tmp_path / "m1.png", (400, 300))
        write_image(tmp_path / "m2.png", (300, 400))
        manifest = tmp_path / "rows.csv"
        manifest.write_text("image,prompt\nm1.png,1-second pan left 720p\nm2.png,1-second square push-in 720p\n")
        items: list[Any] = await convert_folder(manifest=str(manifest), out_dir=str(tmp_path / "manifest-out"))
        assert [i.status for i in items] == ["ok", "ok"]
        sizes = [(i.result.width, i.result.height) for i in items]
        assert sizes == [(1280, 720), (720, 720)]
