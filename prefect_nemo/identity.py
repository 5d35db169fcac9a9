"""Who we are to the backend: a stable client id, and the anonymous tokens granted to it.

The cloud grants one anonymous token per client id per 7 days and caps tokens per IP, so both must
outlive a process. The client id follows the NemoVideo skill's recipe (`NEMO_CLIENT_ID`, else
`~/.config/nemovideo/client_id`, else a new UUID written there). Tokens go to a file only the user can
read (mode 0600), as `gh` and the AWS CLI keep theirs; never to logs, results or Prefect parameters.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from prefect_nemo.settings import NemoSettings, config_home, nemo_home

__all__ = ["TokenStore", "client_id_path", "nemo_home", "resolve_client_id"]

_lock = threading.Lock()


def client_id_path() -> Path:
    return config_home() / "nemovideo" / "client_id"


def resolve_client_id(explicit: str | None = None) -> str:
    """The client id to send as X-Client-Id: explicit, `NEMO_CLIENT_ID`, the persisted one, or a new one."""
    if explicit:
        return explicit
    if env := NemoSettings().client_id:
        return env
    path = client_id_path()
    with _lock:
        try:
            stored = path.read_text().strip()
        except OSError:
            stored = ""
        if stored:
            return stored
        new = str(uuid.uuid4())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(new + "\n")
        return new


def _utc(moment: datetime) -> datetime:
    """A time without an offset is UTC (as the contract's `expires_at` examples are)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _atomic_write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tokens-")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class TokenStore:
    """Anonymous tokens by (backend URL, client id), in a 0600 JSON file."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or nemo_home() / "tokens.json"

    def _read(self) -> dict[str, dict[str, str | None]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _key(api_url: str, client_id: str) -> str:
        return f"{api_url.rstrip('/')}|{client_id}"

    def get(self, api_url: str, client_id: str) -> SecretStr | None:
        entry = self._read().get(self._key(api_url, client_id))
        if not entry or not entry.get("token"):
            return None
        expires = entry.get("expires_at")
        if expires and _utc(datetime.fromisoformat(expires)) <= datetime.now(UTC):
            return None
        return SecretStr(str(entry["token"]))

    def put(self, api_url: str, client_id: str, token: SecretStr, expires_at: datetime | None) -> None:
        with _lock:
            data = self._read()
            data[self._key(api_url, client_id)] = {
                "token": token.get_secret_value(),
                "expires_at": expires_at.isoformat() if expires_at else None,
            }
            _atomic_write_private(self.path, json.dumps(data, indent=1))

    def forget(self, api_url: str, client_id: str) -> None:
        with _lock:
            data = self._read()
            if data.pop(self._key(api_url, client_id), None) is not None:
                _atomic_write_private(self.path, json.dumps(data, indent=1))
