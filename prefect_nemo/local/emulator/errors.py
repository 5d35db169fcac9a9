"""The embedded backend's error answers, shared by its routes, its sessions and its render jobs."""

from __future__ import annotations

__all__ = ["ApiError"]


class ApiError(Exception):
    """An error answer: business `code` in the body, HTTP `status`, and which envelope carries it."""

    def __init__(
        self,
        code: int,
        message: str,
        status: int = 200,
        *,
        envelope: str = "code",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.envelope = envelope
        self.headers = headers or {}
