"""NemoCredentials: the Block that says which backend to use and how to authenticate."""

from __future__ import annotations

from prefect.blocks.abstract import CredentialsBlock
from pydantic import Field, SecretStr

from prefect_nemo.client import NemoClient
from prefect_nemo.settings import NemoSettings

__all__ = ["CLOUD_URL", "LOCAL", "NemoCredentials"]

CLOUD_URL = "https://mega-api-prod.nemovideo.ai"
LOCAL = "local"


def _env_token() -> SecretStr | None:
    return NemoSettings().token


class NemoCredentials(CredentialsBlock):
    """Connection to NemoVideo: the embedded local backend (default) or the cloud.

    The token is a `SecretStr`: Prefect stores it encrypted and masks it in the UI, parameters and
    logs. With no token, an anonymous starter token is acquired for the client id and renewed on 1001.

    Examples:
        Load stored credentials and open a client:
        ```python
        from prefect_nemo import NemoCredentials

        credentials = NemoCredentials.load("BLOCK_NAME")
        async with credentials.get_client() as client:
            print(await client.credits())
        ```

        Use the cloud instead of the embedded backend:
        ```python
        from prefect_nemo import NemoCredentials

        NemoCredentials(api_url="https://mega-api-prod.nemovideo.ai").save("nemo-cloud")
        ```
    """

    _block_type_name = "NemoVideo Credentials"
    _block_type_slug = "nemo-credentials"
    _logo_url = "https://raw.githubusercontent.com/PrefectHQ/prefect/main/docs/images/logos/prefect-logo-mark.png"  # type: ignore[assignment]
    _documentation_url = "https://github.com/prefect-nemo/prefect-nemo#readme"  # type: ignore[assignment]
    _description = "Which NemoVideo backend to call (the embedded local one or the cloud) and its token."

    api_url: str = Field(
        default_factory=lambda: NemoSettings().api_url,
        title="API URL",
        description='Backend base URL; "local" starts or reuses the embedded backend on 127.0.0.1.',
    )
    token: SecretStr | None = Field(
        default_factory=_env_token,
        description="A nmv_usr_ API token; leave empty to use an anonymous starter token.",
    )
    client_id: str | None = Field(
        default_factory=lambda: NemoSettings().client_id,
        title="Client ID",
        description="Stable X-Client-Id for anonymous tokens; defaults to ~/.config/nemovideo/client_id.",
    )
    timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for an ordinary API call.")
    stream_idle_timeout: float = Field(
        default=600.0,
        gt=0,
        description="Seconds of a generate stream with nothing but heartbeats before giving up on it.",
    )
    max_retries: int = Field(
        default=3, ge=0, description="Retries of idempotent calls on transport errors, 429 and 5xx."
    )
    rate_limit_wait: float = Field(default=30.0, ge=0, description="Seconds to wait after a 429 without Retry-After.")

    @property
    def is_local(self) -> bool:
        return self.api_url.strip().lower() == LOCAL

    def resolved_url(self) -> str:
        """The backend's real base URL, starting the embedded backend when `api_url` is "local"."""
        if self.is_local:
            from prefect_nemo.local.launcher import ensure_local_server

            return ensure_local_server()
        return self.api_url.rstrip("/")

    def get_client(self) -> NemoClient:
        """A new `NemoClient` for this backend; use it as an async context manager."""
        return NemoClient(
            self.resolved_url(),
            token=self.token,
            client_id=self.client_id,
            timeout=self.timeout,
            stream_idle_timeout=self.stream_idle_timeout,
            max_retries=self.max_retries,
            rate_limit_wait=self.rate_limit_wait,
        )
