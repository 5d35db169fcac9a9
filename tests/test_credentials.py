"""NemoCredentials: Prefect's Block standards, configuration precedence, and a token that never shows."""

from __future__ import annotations

from uuid import uuid4

import pytest
from prefect.blocks.core import Block
from prefect.testing.standard_test_suites.blocks import BlockStandardTestSuite

from prefect_nemo import CLOUD_URL, NemoClient, NemoCredentials
from prefect_nemo.cli import resolve_credentials

SECRET = "nmv_usr_do-not-print-me-0123456789"


class TestBlockStandards(BlockStandardTestSuite):
    @pytest.fixture
    def block(self) -> type[Block]:
        return NemoCredentials

    @pytest.mark.skip(reason="downloads the logo from the internet; tests run offline")
    def test_has_a_valid_image(self, block: type[Block]) -> None:
        """Deselected: the suite's version fetches `_logo_url` with urlopen."""


class TestBlockType:
    def test_registers_as_nemo_credentials_with_the_token_secret(self) -> None:
        schema = NemoCredentials._to_block_schema(block_type_id=uuid4())
        assert NemoCredentials.get_block_type_slug() == "nemo-credentials"
        assert schema.fields["secret_fields"] == ["token"]
        assert set(schema.fields["properties"]) >= {"api_url", "token", "client_id", "timeout"}

    def test_logo_url_is_https(self) -> None:
        assert str(NemoCredentials._logo_url).startswith("https://")


class TestPrecedence:
    """Flag > Block field > NEMO_* environment variable > default."""

    def test_default_is_the_embedded_backend(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("NEMO_API_URL", raising=False)
        credentials = NemoCredentials()
        assert credentials.api_url == "local" and credentials.is_local

    def test_environment_variables_fill_unset_fields(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("NEMO_API_URL", CLOUD_URL)
        monkeypatch.setenv("NEMO_CLIENT_ID", "client-from-env")
        monkeypatch.setenv("NEMO_TOKEN", SECRET)
        credentials = NemoCredentials()
        assert credentials.api_url == CLOUD_URL and not credentials.is_local
        assert credentials.client_id == "client-from-env"
        assert credentials.token is not None and credentials.token.get_secret_value() == SECRET

    def test_block_fields_beat_environment_variables(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("NEMO_API_URL", CLOUD_URL)
        monkeypatch.setenv("NEMO_CLIENT_ID", "client-from-env")
        credentials = NemoCredentials(api_url="http://127.0.0.1:9", client_id="client-from-block")
        assert (credentials.api_url, credentials.client_id) == ("http://127.0.0.1:9", "client-from-block")

    def test_flags_beat_environment_variables(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("NEMO_API_URL", CLOUD_URL)
        credentials = resolve_credentials("http://127.0.0.1:9", None, "client-from-flag")
        assert (credentials.api_url, credentials.client_id) == ("http://127.0.0.1:9", "client-from-flag")

    def test_no_flags_keep_what_the_environment_says(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("NEMO_API_URL", CLOUD_URL)
        assert resolve_credentials(None, None, None).api_url == CLOUD_URL

    def test_local_is_case_and_space_insensitive(self) -> None:
        assert NemoCredentials(api_url=" Local ").is_local


class TestSecrecy:
    def test_token_is_masked_in_repr_str_and_json(self) -> None:
        credentials = NemoCredentials(token=SECRET)
        for text in (repr(credentials), str(credentials), credentials.model_dump_json()):
            assert SECRET not in text

    def test_token_is_not_in_the_block_document_data_prefect_shows(self) -> None:
        credentials = NemoCredentials(token=SECRET)
        assert SECRET not in str(credentials.model_dump(mode="json"))


class TestClient:
    def test_cloud_url_is_used_as_given_without_a_trailing_slash(self) -> None:
        assert NemoCredentials(api_url=CLOUD_URL + "/").resolved_url() == CLOUD_URL

    async def test_get_client_returns_a_new_client_for_the_backend(self) -> None:
        credentials = NemoCredentials(api_url="http://127.0.0.1:9", client_id="c-1", timeout=5)
        async with credentials.get_client() as first, credentials.get_client() as second:
            assert isinstance(first, NemoClient) and first is not second
            assert first.api_url == "http://127.0.0.1:9" and first.client_id == "c-1"
