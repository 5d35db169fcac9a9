"""The batch core's credit budget: what `max_credits` and the balance allow, and a batch that runs into it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.logging.handlers import APILogHandler

from prefect_nemo import NemoBatchFailed, NemoCredentials, batch_image_to_video
from prefect_nemo.batch import CREDITS_PER_CLIP, clip_budget
from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.media import probe
from tests.conftest import write_image


@pytest.mark.parametrize(
    ("max_credits", "available", "clips"),
    [(1000, 5000, 10), (1000, 250, 2), (99, 5000, 0), (0, 5000, 0), (CREDITS_PER_CLIP, CREDITS_PER_CLIP, 1)],
)
def test_the_budget_is_the_smaller_of_the_cap_and_the_balance(max_credits: int, available: int, clips: int) -> None:
    assert clip_budget(max_credits, available) == clips


async def test_a_batch_over_max_credits_pays_for_what_it_allows_and_fails(
    harness: None, local_server: LocalServer, tmp_path: Path
) -> None:
    """Three images, credits for one: one clip is made and paid for, the other two are never submitted
    (one log line each, naming the image), and the run ends Failed, not Completed."""
    images = [write_image(tmp_path / f"budget-{i}.png", (420 + 16 * i, 300)) for i in range(3)]
    credentials = NemoCredentials(api_url=local_server.url)
    async with credentials.get_client() as client:
        before = (await client.credits()).available
    generations = httpx.get(f"{local_server.url}/local/metrics", timeout=10).json()["generations"]

    state = await batch_image_to_video(
        images,
        "1-second push-in, 1:1, 720p",
        max_credits=CREDITS_PER_CLIP + 50,
        out_dir=tmp_path / "clips",
        credentials=credentials,
        return_state=True,
    )

    assert state.is_failed() and "1 ok" in (state.message or "") and "2 skipped" in (state.message or "")
    failure = await state.result(raise_on_failure=False)
    assert isinstance(failure, NemoBatchFailed)
    statuses = sorted(item.status for item in failure.items)
    assert statuses == ["ok", "skipped", "skipped"], failure.items
    [made] = [item for item in failure.items if item.result]
    assert probe(made.result.path).codec == "h264"
    skipped = [Path(item.image).name for item in failure.items if item.status == "skipped"]
    for item in failure.items:
        if item.status == "skipped":
            assert item.error == "not submitted: out of credits or over max_credits"

    after = httpx.get(f"{local_server.url}/local/metrics", timeout=10).json()["generations"]
    assert len(set(after) - set(generations)) == 1  # one instruction sent: the others cost nothing
    async with credentials.get_client() as client:
        assert before - (await client.credits()).available == CREDITS_PER_CLIP

    await APILogHandler.aflush()
    async with get_client() as prefect:
        logs = await prefect.read_logs(
            LogFilter(flow_run_id=LogFilterFlowRunId(any_=[state.state_details.flow_run_id]))
        )
    messages = [log.message for log in logs]
    assert sum("credit budget allows 1 of 3 clips (max_credits=150" in m for m in messages) == 1, messages
    for name in skipped:
        lines = [m for m in messages if m.startswith(f"{name}: ")]
        assert lines == [f"{name}: not submitted: out of credits or over max_credits"], messages
