"""What to do about each failure, and the one `error:` line that says it (a traceback only with `--debug`)."""

from __future__ import annotations

from rich.text import Text

from prefect_nemo import errors
from prefect_nemo.cli.common import err

__all__ = ["UsageError", "first_line", "hint", "print_error"]


class UsageError(Exception):
    """A bad command line, reported as one `error:` line with exit code 2, before anything slow starts."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what}: {reason}")


_HINTS: list[tuple[type[BaseException], str]] = [
    (errors.NemoAuthError, "the token is invalid or expired: set a valid NEMO_TOKEN, or unset it for an anonymous one"),
    (errors.NemoSessionNotFound, "that session does not exist for this token; list yours with `prefect-nemo sessions`"),
    (errors.NemoOutOfCredits, "register or top up at nemovideo.com; `prefect-nemo credits` shows the balance"),
    (errors.NemoUnsupportedFile, "use a JPG, PNG, GIF or WEBP image"),
    (errors.NemoFileTooLarge, "use an image under 200 MB"),
    (errors.NemoMissingClientId, "set NEMO_CLIENT_ID to a stable id (a UUID)"),
    (errors.NemoExportBlocked, "the plan does not allow export: use a token of a plan that does"),
    (errors.NemoRateLimited, "too many requests: wait a minute and run the same command again"),
    (errors.NemoServerError, "the backend failed: run the same command again later"),
    (
        errors.NemoBadResponse,
        "the backend answered in a shape this version does not know; report it with the request id",
    ),
    (errors.NemoBadRequest, "the backend refused the request; report it with the request id if it persists"),
    (errors.NemoTransportError, "check that the backend is running and reachable: `prefect-nemo doctor`"),
    (errors.NemoInputError, "fix or remove that input and run again"),
    (errors.NemoStreamError, "run the same command again: steps already paid for are resumed, not repeated"),
    (errors.NemoUnknownStatus, "the render ended in a state this version does not know; run again to render it anew"),
    (errors.NemoRenderFailed, "run the same command again: the render is retried, the generation is not re-sent"),
    (errors.NemoTimeout, "run the same command again (it resumes), or raise --timeout / NEMO_TIMEOUT"),
    (errors.NemoDownloadError, "run the same command again: the download restarts, nothing is rendered twice"),
    (errors.NemoBatchFailed, "fix the inputs named above and run again: clips already made come from the cache"),
]
"""What to do about each failure; the first matching class wins (subclasses come before their bases)."""


def hint(exc: BaseException) -> str:
    for cls, text in _HINTS:
        if isinstance(exc, cls):
            return text
    message = str(exc)
    if "Failed to reach API" in message or type(exc).__name__ == "ConnectError":
        return "is the Prefect server running? Start it (prefect server start) or unset PREFECT_API_URL"
    if "Address already in use" in message:
        return "another process uses that port: choose another --port (0 = any free one)"
    if "Unable to find block document" in message:
        return "save the Block first, e.g. NemoCredentials(api_url=...).save(NAME), or drop --credentials"
    return "run again with --debug for the traceback"


def first_line(exc: BaseException, technical: bool = False) -> str:
    """The reason alone: our errors already read as sentences, others are prefixed with their class.

    An API error's path and codes help a bug report, not a person: they are kept only when `technical`
    (`--verbose`, `--json`, `--debug`).
    """
    if isinstance(exc, errors.NemoAPIError) and not technical:
        return exc.message.strip().splitlines()[0].rstrip(":") if exc.message.strip() else type(exc).__name__
    text = str(exc).strip()
    first = text.splitlines()[0].rstrip(":") if text else ""
    if isinstance(exc, errors.NemoError):
        return first
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def print_error(message: str) -> None:
    err.print(Text.assemble(("error: ", "bold red"), message), soft_wrap=True)
