"""The client against nemo-api.md sections 1-3, 6 and 9: both envelopes, every error code and how it is
carried, retries, and every timestamp form - answered by a scripted backend, not by our emulator."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from prefect_nemo import errors
from prefect_nemo.identity import TokenStore
from tests.contract.scripted import TOKEN, Backend, ok, reply

CREDITS = "GET /api/credits/balance/simple"
SESSION = "POST /api/tasks/me/with-session/nemo_agent"
TOKEN_CALL = "POST /api/auth/anonymous-token"


class TestEnvelopes:
    async def test_code_envelope(self, tmp_path: Path) -> None:
        backend = Backend().on(CREDITS, ok({"available": 25000, "frozen": 40, "total": 25040}))
        async with backend.client(tmp_path) as client:
            balance = await client.credits()
        assert (balance.available, balance.frozen, balance.total) == (25000, 40, 25040)

    async def test_code_as_a_string_zero(self, tmp_path: Path) -> None:
        backend = Backend().on(SESSION, reply(200, {"code": "0", "data": {"task_id": "t", "session_id": "5529"}}))
        async with backend.client(tmp_path) as client:
            assert (await client.create_session()).session_id == "5529"

    async def test_success_envelope(self, tmp_path: Path) -> None:
        body = {"success": True, "data": {"id": "render_1", "status": "pending", "progress": 5}}
        backend = Backend().on("POST /api/render/proxy/lambda", reply(200, body))
        async with backend.client(tmp_path) as client:
            job = await client.submit_render("s1", {"t": []}, "render_1")
        assert job.id == "render_1" and job.progress == 5

    async def test_success_false_is_an_error_with_its_text(self, tmp_path: Path) -> None:
        body = {"success": False, "error": "draft has no tracks"}
        backend = Backend().on("POST /api/render/proxy/lambda", reply(200, body))
        async with backend.client(tmp_path) as client:
            with pytest.raises(errors.NemoBadRequest, match="draft has no tracks"):
                await client.submit_render("s1", {"t": []}, "render_1")

    async def test_a_2xx_body_that_is_not_json_is_a_bad_response(self, tmp_path: Path) -> None:
        backend = Backend().on(CREDITS, reply(200, text="<html>gateway</html>"))
        async with backend.client(tmp_path) as client:
            with pytest.raises(errors.NemoBadResponse, match="expected a JSON object"):
                await client.credits()

    async def test_a_body_of_the_wrong_shape_stays_in_the_error_tree(self, tmp_path: Path) -> None:
        backend = Backend().on(CREDITS, ok({"available": "lots"}))
        async with backend.client(tmp_path) as client:
            with pytest.raises(errors.NemoBadResponse, match="available") as caught:
                await client.credits()
        assert isinstance(caught.value, errors.NemoAPIError) and caught.value.endpoint == CREDITS


SECTION_9 = [
    (reply(200, {"code": 1002, "message": "session not found"}), errors.NemoSessionNotFound, 1002),
    (reply(200, {"code": 2001, "message": "out of credits"}), errors.NemoOutOfCredits, 2001),
    (reply(200, {"code": 4001, "message": "unsupported"}), errors.NemoUnsupportedFile, 4001),
    (reply(200, {"code": 4002, "message": "too large"}), errors.NemoFileTooLarge, 4002),
    (reply(200, {"code": 1010, "message": "auth failure"}), errors.NemoBadRequest, 1010),
    (reply(200, {"code": 1011, "message": "auth failure"}), errors.NemoBadRequest, 1011),
    (reply(200, {"code": "2001", "msg": "out of credits"}), errors.NemoOutOfCredits, 2001),
    (reply(200, {"code": "UNAVAILABLE", "message": "try later"}), errors.NemoBadRequest, "UNAVAILABLE"),
    (reply(402, {"code": -1, "message": "export needs a plan"}), errors.NemoExportBlocked, -1),
    (reply(403, {"detail": "plan required"}), errors.NemoBadRequest, None),
    (reply(404, {"detail": "Session not found"}), errors.NemoSessionNotFound, None),
]


@pytest.mark.parametrize(("answer", "expected", "code"), SECTION_9)
async def test_every_error_code_of_section_9(
    answer: object, expected: type[errors.NemoAPIError], code: object, tmp_path: Path
) -> None:
    backend = Backend().on(CREDITS, answer)  # type: ignore[arg-type]
    async with backend.client(tmp_path) as client:
        with pytest.raises(expected) as caught:
            await client.credits()
    assert type(caught.value) is expected and caught.value.code == code
    assert TOKEN not in str(caught.value)


async def test_1001_renews_the_anonymous_token_with_the_same_client_id(tmp_path: Path) -> None:
    backend = Backend()
    backend.on(TOKEN_CALL, ok({"token": "nmv_usr_first"}), ok({"token": "nmv_usr_second"}))
    backend.on(CREDITS, reply(200, {"code": 1001, "message": "token expired"}), ok({"available": 1}))
    async with backend.client(tmp_path, token=None) as client:
        assert (await client.credits()).available == 1
    client_ids = {r.headers["x-client-id"] for r in backend.sent(TOKEN_CALL)}
    assert len(backend.sent(TOKEN_CALL)) == 2 and client_ids == {"contract-client"}
    assert backend.sent(CREDITS)[-1].headers["authorization"] == "Bearer nmv_usr_second"


async def test_400_without_client_id_is_named(tmp_path: Path) -> None:
    backend = Backend().on(TOKEN_CALL, reply(400, {"detail": "X-Client-Id header is required"}))
    async with backend.client(tmp_path, token=None) as client:
        with pytest.raises(errors.NemoMissingClientId, match="X-Client-Id"):
            await client.acquire_token()


async def test_422_body_is_readable_text(tmp_path: Path) -> None:
    detail = [{"loc": ["body", "task_name"], "msg": "field required", "type": "missing"}]
    backend = Backend().on(SESSION, reply(422, {"detail": detail}))
    async with backend.client(tmp_path) as client:
        with pytest.raises(errors.NemoBadRequest) as caught:
            await client.create_session()
    assert caught.value.message == "task_name: field required"
    assert "{" not in str(caught.value) and "'loc'" not in str(caught.value)


class TestRetries:
    async def test_408_is_retried(self, tmp_path: Path) -> None:
        backend = Backend().on(CREDITS, reply(408, {"detail": "request timeout"}), ok({"available": 3}))
        async with backend.client(tmp_path) as client:
            assert (await client.credits()).available == 3
        assert len(backend.sent(CREDITS)) == 2

    async def test_429_honours_retry_after(self, tmp_path: Path) -> None:
        limited = reply(429, {"detail": "slow down"}, headers={"Retry-After": "0.3"})
        backend = Backend().on(CREDITS, limited, ok({"available": 3}))
        async with backend.client(tmp_path) as client:
            started = time.monotonic()
            assert (await client.credits()).available == 3
        assert time.monotonic() - started >= 0.3

    async def test_5xx_retries_stop_at_max_retries(self, tmp_path: Path) -> None:
        backend = Backend().on(CREDITS, reply(503, {"detail": "down"}))
        async with backend.client(tmp_path, max_retries=2) as client:
            with pytest.raises(errors.NemoServerError):
                await client.credits()
        assert len(backend.sent(CREDITS)) == 3

    async def test_a_4xx_is_never_retried(self, tmp_path: Path) -> None:
        backend = Backend().on(CREDITS, reply(400, {"message": "bad"}))
        async with backend.client(tmp_path) as client:
            with pytest.raises(errors.NemoBadRequest):
                await client.credits()
        assert len(backend.sent(CREDITS)) == 1


EXPIRY_FORMS = ["2099-03-18T00:00:00Z", "2099-03-18T00:00:00+08:00", "2099-03-18T00:00:00", None]


@pytest.mark.parametrize("expires_at", EXPIRY_FORMS)
async def test_token_expiry_in_every_form(expires_at: str | None, tmp_path: Path) -> None:
    data = {"token": "nmv_usr_x", "user_id": "anon_1", "credits": 100, "expires_at": expires_at}
    backend = Backend().on(TOKEN_CALL, ok(data))
    async with backend.client(tmp_path, token=None) as client:
        info = await client.acquire_token()
    assert info.expires_at is None or info.expires_at.tzinfo is not None
    # A client opened later reads the stored expiry back, whatever its form.
    async with backend.client(tmp_path, token=None) as again:
        assert again.has_token


def test_an_offset_less_expiry_in_an_old_token_file_is_utc(tmp_path: Path) -> None:
    store = TokenStore(tmp_path / "tokens.json")
    past = (datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None).isoformat()
    future = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None).isoformat()
    entries = {
        "a|c": {"token": "nmv_usr_old", "expires_at": past},
        "b|c": {"token": "nmv_usr_new", "expires_at": future},
    }
    store.path.write_text(json.dumps(entries))
    assert store.get("a", "c") is None
    assert store.get("b", "c") is not None
