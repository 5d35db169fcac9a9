"""NemoClient against the embedded backend as a real subprocess on 127.0.0.1: every endpoint, every
error code, both stream dialects and both render envelopes."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from prefect_nemo import errors
from prefect_nemo.client import NemoClient
from prefect_nemo.identity import TokenStore
from prefect_nemo.local.emulator.store import Store
from prefect_nemo.local.launcher import LocalServer
from prefect_nemo.media import probe
from prefect_nemo.models import RenderStatus
from prefect_nemo.polling import Backoff, Deadline
from tests.conftest import ServerFactory

FAST = Backoff(initial=0.2, factor=1.5, cap=1.0)


def new_client(server: LocalServer, tmp_path: Path, **kwargs: object) -> NemoClient:
    store = TokenStore(tmp_path / f"tokens-{uuid.uuid4().hex[:6]}.json")
    return NemoClient(server.url, token_store=store, client_id=f"test-{uuid.uuid4()}", **kwargs)  # type: ignore[arg-type]


async def make_clip(client: NemoClient, image: Path, prompt: str = "2-second push-in") -> tuple[str, str]:
    session = await client.create_session()
    await client.upload_file(session.session_id, image)
    result = await client.generate(session.session_id, prompt, backoff=FAST)
    assert result.draft is not None
    render_id = f"render_{uuid.uuid4().hex}"
    await client.submit_render(session.session_id, result.draft, render_id)
    return session.session_id, render_id


class TestToken:
    async def test_anonymous_token_is_stored_not_returned(self, client: NemoClient) -> None:
        info = await client.acquire_token()
        assert info.user_id and info.user_id.startswith("anon_")
        assert info.credits and info.credits > 0
        assert "token" not in info.model_dump()
        stored = client._token_store.get(client.api_url, client.client_id)
        assert stored is not None and stored.get_secret_value().startswith("nmv_usr_")
        assert oct(client._token_store.path.stat().st_mode & 0o777) == "0o600"

    async def test_same_client_id_gets_the_same_live_token(self, client: NemoClient) -> None:
        first = await client.acquire_token()
        second = await client.acquire_token()
        assert first.user_id == second.user_id

    async def test_missing_client_id_is_http_400(self, client: NemoClient) -> None:
        with pytest.raises(errors.NemoMissingClientId) as caught:
            await client._call("POST", errors.ANONYMOUS_TOKEN_PATH, auth=False)
        assert caught.value.status_code == 400

    async def test_invalid_explicit_token_is_1001(self, local_server: LocalServer, tmp_path: Path) -> None:
        async with NemoClient(local_server.url, token=SecretStr("nmv_usr_not-a-real-token")) as c:
            with pytest.raises(errors.NemoAuthError) as caught:
                await c.credits()
        assert caught.value.code == 1001
        assert "not-a-real-token" not in str(caught.value)

    async def test_expired_anonymous_token_is_renewed_with_the_same_client_id(
        self, client: NemoClient, local_server: LocalServer
    ) -> None:
        info = await client.acquire_token()
        Store(local_server.data_dir / "state.db").expire_tokens(info.user_id)
        balance = await client.credits()  # 1001 -> new token, same client id, same user
        assert balance.available > 0
        renewed = await client.acquire_token()
        assert renewed.user_id == info.user_id

    async def test_ip_cap_is_429_with_retry_after(self, make_server: ServerFactory, tmp_path: Path) -> None:
        server = make_server(tokens_per_ip=1)
        async with (
            new_client(server, tmp_path, max_retries=0) as first,
            new_client(server, tmp_path, max_retries=0) as second,
        ):
            await first.acquire_token()
            with pytest.raises(errors.NemoRateLimited) as caught:
                await second.acquire_token()
        assert caught.value.status_code == 429 and caught.value.retry_after == 30


class TestSessionsAndUploads:
    async def test_session_state_credits_and_claim_link(self, client: NemoClient) -> None:
        session = await client.create_session()
        assert len(session.session_id) == 19 and session.session_id.isdigit()
        state = await client.state(session.session_id)
        assert state.session_id == session.session_id and not state.is_ready
        balance = await client.credits()
        assert balance.total == balance.available + balance.frozen
        assert session.task_id
        link = await client.claim_link(session.task_id, session.session_id)
        assert "claim?ct=clm_" in link

    async def test_unknown_session_is_1002(self, client: NemoClient) -> None:
        with pytest.raises(errors.NemoSessionNotFound) as caught:
            await client.state("1234567890123456789")
        assert caught.value.code == 1002

    async def test_another_tokens_session_is_1002(
        self, client: NemoClient, local_server: LocalServer, tmp_path: Path
    ) -> None:
        session = await client.create_session()
        async with new_client(local_server, tmp_path) as stranger:
            with pytest.raises(errors.NemoSessionNotFound):
                await stranger.state(session.session_id)

    async def test_upload_file_and_url(self, client: NemoClient, image: Path) -> None:
        session = await client.create_session()
        uploaded = await client.upload_file(session.session_id, image)
        assert uploaded.file_type == "image" and (uploaded.width, uploaded.height) == (640, 480)
        assert uploaded.cdn_url
        by_url = await client.upload_urls(session.session_id, [uploaded.cdn_url])
        assert by_url[0].hash == uploaded.hash
        state = await client.state(session.session_id)
        assert len(state.video_infos) == 2

    async def test_unsupported_type_is_4001_with_the_accepted_list(self, client: NemoClient, tmp_path: Path) -> None:
        session = await client.create_session()
        bmp = tmp_path / "photo.bmp"
        bmp.write_bytes(b"BM" + b"\0" * 100)
        with pytest.raises(errors.NemoUnsupportedFile) as caught:
            await client.upload_file(session.session_id, bmp)
        assert caught.value.code == 4001 and "png" in str(caught.value)

    async def test_too_large_is_4002(self, make_server: ServerFactory, tmp_path: Path, image: Path) -> None:
        server = make_server(max_upload_bytes=1000)
        async with new_client(server, tmp_path) as c:
            session = await c.create_session()
            with pytest.raises(errors.NemoFileTooLarge) as caught:
                await c.upload_file(session.session_id, image)
        assert caught.value.code == 4002


class TestGenerate:
    @pytest.mark.parametrize("dialect", ["adk", "typed"])
    async def test_both_dialects(self, make_server: ServerFactory, tmp_path: Path, image: Path, dialect: str) -> None:
        server = make_server(dialect=dialect, silent_ratio=0.0, heartbeat_interval=0.05)
        async with new_client(server, tmp_path) as c:
            session = await c.create_session()
            await c.upload_file(session.session_id, image)
            result = await c.generate(session.session_id, "3-second push-in, title 'Hello'", backoff=FAST)
        assert result.texts and not result.silent
        assert "generate_video" in result.tool_calls
        assert result.heartbeats > 0
        assert result.draft and result.draft["d"] == 3000

    async def test_silent_stream_recovers_by_polling_state(
        self, make_server: ServerFactory, tmp_path: Path, image: Path
    ) -> None:
        server = make_server(silent_ratio=1.0)
        async with new_client(server, tmp_path) as c:
            session = await c.create_session()
            await c.upload_file(session.session_id, image)
            result = await c.generate(session.session_id, "2-second pan left", backoff=FAST)
        assert result.silent and result.texts == []
        assert result.draft is not None

    async def test_out_of_credits_is_2001(self, make_server: ServerFactory, tmp_path: Path, image: Path) -> None:
        server = make_server(starting_credits=50)
        async with new_client(server, tmp_path) as c:
            session = await c.create_session()
            await c.upload_file(session.session_id, image)
            with pytest.raises(errors.NemoOutOfCredits) as caught:
                await c.generate(session.session_id, "2-second push-in")
        assert caught.value.code == 2001

    async def test_rejected_instruction_is_a_stream_error(self, client: NemoClient, image: Path) -> None:
        session = await client.create_session()
        await client.upload_file(session.session_id, image)
        with pytest.raises(errors.NemoStreamError) as caught:
            await client.generate(session.session_id, "a 500-second epic")
        assert "500" in str(caught.value)


class TestRender:
    @pytest.mark.parametrize("envelope", ["success", "flat"])
    async def test_render_and_download_both_envelopes(
        self, make_server: ServerFactory, tmp_path: Path, image: Path, envelope: str
    ) -> None:
        server = make_server(render_envelope=envelope)
        async with new_client(server, tmp_path) as c:
            _, render_id = await make_clip(c, image)
            job = await c.wait_for_render(render_id, deadline=Deadline(120), backoff=FAST)
            assert job.status is RenderStatus.COMPLETED and job.output_url
            path = await c.download(job, tmp_path / "out" / "clip.mp4")
        info = probe(path)
        assert info.codec == "h264" and (info.width, info.height) == (1920, 1080)
        assert abs(info.duration - 2.0) <= 1 / info.fps + 1e-6

    async def test_expired_url_falls_back_to_the_download_endpoint(
        self, make_server: ServerFactory, tmp_path: Path, image: Path
    ) -> None:
        server = make_server(url_ttl=0)
        async with new_client(server, tmp_path) as c:
            _, render_id = await make_clip(c, image)
            job = await c.wait_for_render(render_id, deadline=Deadline(120), backoff=FAST)
            assert job.output_url
            async with httpx.AsyncClient() as raw:
                assert (await raw.get(job.output_url)).status_code == 403
            path = await c.download(job, tmp_path / "clip.mp4")
        assert probe(path).codec == "h264"

    async def test_duplicate_render_id_resumes_the_first(self, client: NemoClient, image: Path) -> None:
        session_id, render_id = await make_clip(client, image)
        state = await client.state(session_id)
        assert state.draft is not None
        again = await client.submit_render(session_id, state.draft, render_id)
        assert again.id == render_id

    async def test_export_blocked_is_402(self, make_server: ServerFactory, tmp_path: Path, image: Path) -> None:
        server = make_server(faults="export-blocked")
        async with new_client(server, tmp_path) as c:
            with pytest.raises(errors.NemoExportBlocked) as caught:
                await make_clip(c, image)
        assert caught.value.status_code == 402

    async def test_export_without_a_draft_is_refused(self, client: NemoClient) -> None:
        session = await client.create_session()
        with pytest.raises(errors.NemoBadRequest) as caught:
            await client.submit_render(session.session_id, {"t": []}, "render_empty")
        assert caught.value.status_code == 400

    async def test_unknown_render_is_404(self, client: NemoClient) -> None:
        with pytest.raises(errors.NemoBadRequest) as caught:
            await client.render_status("render_nope")
        assert caught.value.status_code == 404


async def test_metrics_count_requests_per_endpoint(client: NemoClient, local_server: LocalServer) -> None:
    async with httpx.AsyncClient(base_url=local_server.url) as raw:
        before = (await raw.get("/local/metrics")).json()["requests"]
        await client.create_session()
        after = (await raw.get("/local/metrics")).json()["requests"]
    key = "POST /api/tasks/me/with-session/nemo_agent"
    assert after[key] == before.get(key, 0) + 1


async def test_connection_refused_is_a_transport_error(tmp_path: Path) -> None:
    async with NemoClient("http://127.0.0.1:9", token=SecretStr("nmv_usr_x"), max_retries=0) as c:
        with pytest.raises(errors.NemoTransportError) as caught:
            await c.credits()
    assert not caught.value.sent
