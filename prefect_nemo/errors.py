"""Every way a NemoVideo call can fail, as one exception each.

Callers catch by how they recover, so the tree groups failures that way::

    NemoError
     ├── NemoInputError            a local input is unusable (names the input and the reason)
     ├── NemoTransportError        the request never got an answer (connect, read timeout) - retryable
     ├── NemoAPIError              the backend answered with an error; carries code, status, request id
     │    ├── NemoAuthError              1001 token invalid or expired -> new token, same client id
     │    ├── NemoSessionNotFound        1002 -> new session
     │    ├── NemoOutOfCredits           2001 -> stop submitting; top up or register
     │    ├── NemoUnsupportedFile        4001
     │    ├── NemoFileTooLarge           4002
     │    ├── NemoMissingClientId        HTTP 400 on the anonymous-token call
     │    ├── NemoExportBlocked          HTTP 402 on export: plan tier, not credits
     │    ├── NemoRateLimited            HTTP 429 - retryable after `retry_after`
     │    ├── NemoServerError            HTTP 5xx or 408 - retryable
     │    ├── NemoBadResponse            a 2xx answer whose body does not fit the contract
     │    └── NemoBadRequest             any other 4xx or non-zero code - never retried
     ├── NemoStreamError           the /run_sse stream carried an error event
     ├── NemoRenderFailed          the export finished as `failed` (names the render id)
     │    └── NemoUnknownStatus          the export reports a status the contract does not list
     ├── NemoTimeout               a deadline passed while waiting (names what was awaited)
     ├── NemoDownloadError         the MP4 could not be fetched or is not a valid clip
     └── NemoBatchFailed           a batch finished with failed clips; carries every item's outcome

The token never appears in a message: messages are built from codes, statuses and the
server's own error text, which the client scrubs before raising.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "NemoAPIError",
    "NemoAuthError",
    "NemoBadRequest",
    "NemoBadResponse",
    "NemoBatchFailed",
    "NemoDownloadError",
    "NemoError",
    "NemoExportBlocked",
    "NemoFileTooLarge",
    "NemoInputError",
    "NemoMissingClientId",
    "NemoOutOfCredits",
    "NemoRateLimited",
    "NemoRenderFailed",
    "NemoServerError",
    "NemoSessionNotFound",
    "NemoStreamError",
    "NemoTimeout",
    "NemoTransportError",
    "NemoUnknownStatus",
    "NemoUnsupportedFile",
    "error_for",
]


class NemoError(Exception):
    """Base of every prefect-nemo failure.

    `accepted` is set on a failure raised after the backend took a paid instruction (the stream had
    opened): a re-run must wait for that instruction's draft, never send it again.
    """

    retryable: bool = False
    accepted: bool = False

    def __reduce__(self) -> tuple[object, ...]:
        # Keep exceptions picklable across Prefect result storage and Dask workers.
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[NemoError], args: tuple[object, ...], state: dict[str, object]) -> NemoError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class NemoInputError(NemoError, ValueError):
    """A local input (image, instruction, option) cannot be used; `input` names it."""

    def __init__(self, input: str, reason: str) -> None:
        super().__init__(f"{input}: {reason}")
        self.input = input
        self.reason = reason


class NemoTransportError(NemoError):
    """The request got no answer: connection refused or reset, or a timeout."""

    retryable = True

    def __init__(self, message: str, *, sent: bool = False) -> None:
        super().__init__(message)
        # Whether the request may have reached the server (a read timeout) or surely did not (connect error).
        self.sent = sent


class NemoAPIError(NemoError):
    """The backend answered with an error."""

    def __init__(
        self,
        message: str,
        *,
        code: int | str | None = None,
        status_code: int | None = None,
        request_id: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code
        self.request_id = request_id
        self.endpoint = endpoint

    def __str__(self) -> str:
        where = f" ({self.endpoint})" if self.endpoint else ""
        tags = [
            f"code {self.code}" if self.code is not None else "",
            f"HTTP {self.status_code}" if self.status_code else "",
        ]
        tag = ", ".join(t for t in tags if t)
        return f"{self.message}{where}" + (f" [{tag}]" if tag else "")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code}, status_code={self.status_code})"


class NemoAuthError(NemoAPIError):
    """1001: the token is invalid or expired; a new anonymous token with the same client id fixes it."""


class NemoSessionNotFound(NemoAPIError):
    """1002: the session does not exist for this token; create a new one."""


class NemoOutOfCredits(NemoAPIError):
    """2001: the account has no credits left; register (anonymous) or top up."""


class NemoUnsupportedFile(NemoAPIError):
    """4001: the backend does not accept this file type."""


class NemoFileTooLarge(NemoAPIError):
    """4002: the file is over the backend's size limit."""


class NemoMissingClientId(NemoAPIError):
    """HTTP 400 from the anonymous-token call: the X-Client-Id header was missing."""


class NemoExportBlocked(NemoAPIError):
    """HTTP 402 on export: the plan tier (or missing attribution headers) blocks export."""


class NemoRateLimited(NemoAPIError):
    """HTTP 429: too many requests; wait `retry_after` seconds."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class NemoServerError(NemoAPIError):
    """HTTP 5xx (or 408, the server timing out the request): the backend failed; idempotent calls are retried."""

    retryable = True


class NemoBadResponse(NemoAPIError):
    """A 2xx answer whose body does not fit the contract (not JSON, a field of the wrong type): never retried."""


class NemoBadRequest(NemoAPIError):
    """Any other 4xx or non-zero business code: the request itself is wrong; never retried."""


class NemoStreamError(NemoError):
    """The /run_sse stream reported an error event, or broke in a way that cannot be recovered."""

    def __init__(self, message: str, *, session_id: str | None = None, code: int | str | None = None) -> None:
        super().__init__(message)
        self.session_id = session_id
        self.code = code


class NemoRenderFailed(NemoError):
    """An export finished as `failed`, or `completed` without any way to fetch the clip."""

    def __init__(self, render_id: str, reason: str) -> None:
        super().__init__(f"render {render_id} failed: {reason}")
        self.render_id = render_id
        self.reason = reason


class NemoUnknownStatus(NemoRenderFailed):
    """An export reports a status outside pending/processing/completed/failed (e.g. "cancelled", "expired").

    Waiting on would only run into the deadline, so the wait ends at once, naming the status.
    """

    def __init__(self, render_id: str, status: str) -> None:
        super().__init__(render_id, f"unknown status {status!r}")
        self.status = status


class NemoTimeout(NemoError):
    """A deadline passed while waiting; `what` names the awaited thing (a render id, a session's draft)."""

    def __init__(self, what: str, waited: float, last_status: str | None = None) -> None:
        status = f" (last status: {last_status})" if last_status else ""
        super().__init__(f"gave up waiting for {what} after {waited:.0f} s{status}")
        self.what = what
        self.waited = waited
        self.last_status = last_status


class NemoDownloadError(NemoError):
    """The clip could not be downloaded, or what arrived is not a valid MP4."""

    def __init__(self, render_id: str, reason: str) -> None:
        super().__init__(f"download of render {render_id} failed: {reason}")
        self.render_id = render_id
        self.reason = reason


class NemoBatchFailed(NemoError):
    """A batch finished, every item done, with some clips failed or skipped; `items` holds every outcome
    (the `BatchItem`s, in input order), so the clips that were made are never lost to the caller."""

    def __init__(self, message: str, items: list[Any]) -> None:
        super().__init__(message)
        self.items = items


BUSINESS_CODES: dict[int, type[NemoAPIError]] = {
    1001: NemoAuthError,
    1002: NemoSessionNotFound,
    2001: NemoOutOfCredits,
    4001: NemoUnsupportedFile,
    4002: NemoFileTooLarge,
}
"""Business codes of nemo-api.md section 9, carried in the envelope's `code`."""

HTTP_STATUSES: dict[int, type[NemoAPIError]] = {
    401: NemoAuthError,
    402: NemoExportBlocked,
    408: NemoServerError,
    429: NemoRateLimited,
}
"""HTTP statuses of section 9 that carry their meaning without a business code."""


ANONYMOUS_TOKEN_PATH = "/api/auth/anonymous-token"


def error_for(code: int | str | None, status_code: int | None, path: str = "", message: str = "") -> type[NemoAPIError]:
    """The exception class for a business code and an HTTP status; the business code wins.

    ADK's api_server answers an unknown session on /run_sse with HTTP 404 `{"detail": "Session not found"}`:
    that is the recoverable 1002, not a bad request.
    """
    if isinstance(code, int) and code in BUSINESS_CODES:
        return BUSINESS_CODES[code]
    if status_code == 400 and path == ANONYMOUS_TOKEN_PATH:
        return NemoMissingClientId
    if status_code == 404 and "session not found" in message.lower():
        return NemoSessionNotFound
    if status_code is not None:
        if status_code >= 500:
            return NemoServerError
        if status_code in HTTP_STATUSES:
            return HTTP_STATUSES[status_code]
    return NemoBadRequest
