"""The translation boundary: a NemoVideo answer in, its data or a typed `NemoError` out.

Both envelopes (`{"code", "data"}`, `{"success", "data"}`) and the unwrapped render layout are decoded
here; every failure - an HTTP status, a business code (a number, or a name such as "UNAVAILABLE"), a
body that is not JSON or does not fit its model - becomes one exception of `prefect_nemo.errors`, with
the server's own words as readable text and never a token (`scrub` removes every one the client held).
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from prefect_nemo import errors

__all__ = ["api_error", "unwrap", "validate"]

M = TypeVar("M", bound=BaseModel)
Scrub = Callable[[str], str]


def api_error(response: httpx.Response, body: Any, scrub: Scrub) -> errors.NemoAPIError:
    """The exception for an error answer (any status; a 2xx may carry a business error too)."""
    code: int | str | None = None
    message = f"HTTP {response.status_code} {response.reason_phrase}"
    if isinstance(body, dict):
        code = _business_code(body.get("code"))
        if text := _error_text(body):
            message = text
    path = response.request.url.path
    status = response.status_code if response.status_code >= 400 else None
    cls = errors.error_for(code, status, path, message)
    kwargs: dict[str, Any] = {
        "code": code,
        "status_code": response.status_code,
        "request_id": response.headers.get("x-request-id"),
        "endpoint": f"{response.request.method} {path}",
    }
    if cls is errors.NemoRateLimited:
        kwargs["retry_after"] = _retry_after(response)
    return cls(scrub(message), **kwargs)


def unwrap(response: httpx.Response, scrub: Scrub) -> Any:
    """The envelope's `data` (or the whole body for the unwrapped layout); raises the mapped error."""
    body = json_or_none(response)
    if response.status_code >= 400:
        raise api_error(response, body, scrub)
    if not isinstance(body, dict):
        raise errors.NemoBadResponse(
            f"expected a JSON object, got {response.headers.get('content-type')!r}",
            status_code=response.status_code,
            endpoint=f"{response.request.method} {response.request.url.path}",
        )
    if "code" in body:
        if body["code"] not in (0, "0"):
            raise api_error(response, body, scrub)
        return body.get("data")
    if "success" in body:
        if not body["success"]:
            raise api_error(response, body, scrub)
        return body.get("data")
    return body  # an unwrapped layout (render status in SKILL >= 4.5.1)


def validate(model: type[M], data: Any, endpoint: str) -> M:
    """A response body as `model`; one that does not fit is a `NemoBadResponse`, never a bare pydantic
    error (whose text could quote the body)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
        raise errors.NemoBadResponse(
            f"the answer does not fit {model.__name__}: {problems}", endpoint=endpoint
        ) from None


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _business_code(raw: Any) -> int | str | None:
    """The envelope's `code`: numbers (also as strings) as ints, names such as "UNAVAILABLE" kept; 0 is none."""
    if raw is None or raw in (0, "0", ""):
        return None
    if isinstance(raw, bool):
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return str(raw)


def _error_text(body: dict[str, Any]) -> str:
    """The server's own words from any documented error body, as text a person can read.

    FastAPI/ADK 422s carry `detail` as a list of `{loc, msg}`; surface B and ADK errors may nest `error`.
    """
    for key in ("message", "msg", "error", "detail", "errorMessage"):
        value = body.get(key)
        if not value:
            continue
        if isinstance(value, str):
            return value
        if isinstance(value, dict):
            return str(value.get("message") or value.get("msg") or value.get("status") or json.dumps(value))
        if isinstance(value, list):
            return "; ".join(_problem(item) for item in value)
    return ""


def _problem(item: Any) -> str:
    if isinstance(item, dict) and "msg" in item:
        where = ".".join(str(part) for part in item.get("loc") or [] if part != "body")
        return f"{where}: {item['msg']}" if where else str(item["msg"])
    return str(item)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, parsed.timestamp() - time.time())
