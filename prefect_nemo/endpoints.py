"""The API's endpoints, one method each: what is sent, and which model the answer becomes.

A mixin of `NemoClient`, which provides the transport (`_call`: headers, tokens, retries, the error mapping).
Kept apart because it is one concept, the contract's list of calls (nemo-api.md), not how a call travels.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, SecretStr

from prefect_nemo import envelope, errors
from prefect_nemo.identity import TokenStore
from prefect_nemo.models import Credits, RenderJob, Session, SessionState, TokenInfo, UploadedFile
from prefect_nemo.polling import Deadline
from prefect_nemo.settings import NemoSettings
from prefect_nemo.upload import mime_type, upload_name

__all__ = ["Endpoints"]

M = TypeVar("M", bound=BaseModel)


class Endpoints:
    """The endpoints of `NemoClient`, which provides the attributes below and `_call`."""

    api_url: str
    client_id: str
    _token: SecretStr | None
    _seen_tokens: set[str]
    _token_store: TokenStore

    _call: Callable[..., Awaitable[Any]]  # NemoClient's: (method, path, *, auth, idempotent, deadline, **httpx)

    @staticmethod
    def _model(model: type[M], data: Any, endpoint: str) -> M:
        return envelope.validate(model, data, endpoint)

    async def acquire_token(self) -> TokenInfo:
        """POST /api/auth/anonymous-token: a free starter token for this client id (stored, never returned)."""
        path = errors.ANONYMOUS_TOKEN_PATH
        data = await self._call("POST", path, auth=False, headers={"X-Client-Id": self.client_id})
        if not isinstance(data, dict) or not data.get("token"):
            raise errors.NemoBadResponse("the answer holds no token", endpoint=f"POST {path}")
        token = SecretStr(str(data["token"]))
        self._seen_tokens.add(token.get_secret_value())
        info = self._model(TokenInfo, {**data, "token": None, "client_id": self.client_id}, f"POST {path}")
        if self._token is not None:
            self._seen_tokens.add(self._token.get_secret_value())
        self._token = token
        self._token_store.put(self.api_url, self.client_id, token, info.expires_at)
        return info

    async def create_session(self, language: str = "en") -> Session:
        path = "/api/tasks/me/with-session/nemo_agent"
        data = await self._call("POST", path, json={"task_name": "project", "language": language})
        return self._model(Session, data, f"POST {path}")

    async def upload_file(self, session_id: str, path: Path) -> UploadedFile:
        """Upload one local file, streamed from disk (multipart field `files`).

        The name sent is a safe ASCII form of the file's name (a non-UTF-8 or very long local name
        neither breaks the request nor leaves the machine).
        """
        mime = mime_type(path)
        endpoint = f"/api/upload-video/nemo_agent/me/{session_id}"
        with path.open("rb") as handle:
            data = await self._call("POST", endpoint, files=[("files", (upload_name(path), handle, mime))])
        return self._uploaded(data, f"POST {endpoint}")[0]

    async def upload_urls(self, session_id: str, urls: list[str]) -> list[UploadedFile]:
        endpoint = f"/api/upload-video/nemo_agent/me/{session_id}"
        data = await self._call("POST", endpoint, json={"urls": urls, "source_type": "url"})
        return self._uploaded(data, f"POST {endpoint}")

    def _uploaded(self, data: Any, endpoint: str) -> list[UploadedFile]:
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, list) or not files:
            raise errors.NemoBadResponse("the answer lists no uploaded file", endpoint=endpoint)
        return [self._model(UploadedFile, f, endpoint) for f in files]

    async def credits(self) -> Credits:
        path = "/api/credits/balance/simple"
        return self._model(Credits, await self._call("GET", path), f"GET {path}")

    async def state(self, session_id: str, *, deadline: Deadline | None = None) -> SessionState:
        """The session's timeline; with a `deadline`, transient failures are retried until it."""
        path = f"/api/state/nemo_agent/me/{session_id}/latest"
        return self._model(SessionState, await self._call("GET", path, deadline=deadline), f"GET {path}")

    async def claim_link(self, task_id: str, session_id: str) -> str:
        """A browser link to the session's workspace (section 3); it carries a claim token, never the API token."""
        data = await self._call("POST", "/api/auth/claim-token", json={"task_id": task_id, "session_id": session_id})
        if not isinstance(data, dict) or not (data.get("url") or data.get("claim_token")):
            raise errors.NemoBadResponse("the answer holds no claim token", endpoint="POST /api/auth/claim-token")
        return str(data.get("url") or f"{NemoSettings().web_url}/workspace/claim?ct={data['claim_token']}")

    async def submit_render(
        self, session_id: str, draft: dict[str, Any], render_id: str, *, quality: str = "high"
    ) -> RenderJob:
        """POST /api/render/proxy/lambda with a caller-chosen id, so a lost answer can be resumed by id."""
        body = {
            "id": render_id,
            "sessionId": session_id,
            "draft": draft,
            "output": {"format": "mp4", "quality": quality},
        }
        try:
            data = await self._call("POST", "/api/render/proxy/lambda", json=body)
        except errors.NemoBadRequest as exc:
            if exc.status_code == 409:  # our earlier submit of this id got through: resume it
                return await self.render_status(render_id)
            raise
        return self._render_job(render_id, data, "POST /api/render/proxy/lambda")

    async def render_status(self, render_id: str, *, deadline: Deadline | None = None) -> RenderJob:
        """One look at a render; the flat layout may omit `id`, which is then the one asked about."""
        path = f"/api/render/proxy/lambda/{render_id}"
        return self._render_job(render_id, await self._call("GET", path, deadline=deadline), f"GET {path}")

    def _render_job(self, render_id: str, data: Any, endpoint: str) -> RenderJob:
        fields = {k: v for k, v in data.items() if v is not None} if isinstance(data, dict) else {}
        return self._model(RenderJob, {"id": render_id, **fields}, endpoint)
