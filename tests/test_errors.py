"""Every documented error code maps to its own exception, and exceptions survive pickling."""

from __future__ import annotations

import pickle

import pytest

from prefect_nemo import errors


@pytest.mark.parametrize(
    ("code", "status", "path", "expected"),
    [
        (1001, 200, "/api/state/x", errors.NemoAuthError),
        (1002, 200, "/run_sse", errors.NemoSessionNotFound),
        (2001, 200, "/run_sse", errors.NemoOutOfCredits),
        (4001, 200, "/api/upload-video/x", errors.NemoUnsupportedFile),
        (4002, 200, "/api/upload-video/x", errors.NemoFileTooLarge),
        (None, 400, errors.ANONYMOUS_TOKEN_PATH, errors.NemoMissingClientId),
        (None, 400, "/api/render/proxy/lambda", errors.NemoBadRequest),
        (None, 401, "/x", errors.NemoAuthError),
        (None, 402, "/api/render/proxy/lambda", errors.NemoExportBlocked),
        (None, 429, "/x", errors.NemoRateLimited),
        (None, 500, "/x", errors.NemoServerError),
        (None, 503, "/x", errors.NemoServerError),
        (None, 404, "/x", errors.NemoBadRequest),
        (9999, 200, "/x", errors.NemoBadRequest),
    ],
)
def test_error_for(code: int | None, status: int, path: str, expected: type[errors.NemoAPIError]) -> None:
    assert errors.error_for(code, status if status >= 400 else None, path) is expected


def test_every_business_code_has_a_distinct_class() -> None:
    classes = list(errors.BUSINESS_CODES.values())
    assert len(set(classes)) == len(classes) == 5


def test_retryable_kinds() -> None:
    assert errors.NemoServerError("x").retryable
    assert errors.NemoRateLimited("x").retryable
    assert errors.NemoTransportError("x").retryable
    assert not errors.NemoBadRequest("x").retryable
    assert not errors.NemoUnsupportedFile("x", code=4001).retryable


@pytest.mark.parametrize(
    "error",
    [
        errors.NemoRateLimited("slow down", retry_after=3.0, code=None, status_code=429),
        errors.NemoRenderFailed("render_1", "encoder crashed"),
        errors.NemoInputError("a.png", "file is empty (0 bytes)"),
        errors.NemoTimeout("render render_1", 12.0, "processing 40%"),
    ],
)
def test_pickle_round_trip(error: errors.NemoError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__


def test_api_error_str_names_code_status_and_endpoint() -> None:
    error = errors.NemoOutOfCredits("out of credits", code=2001, status_code=200, endpoint="POST /run_sse")
    assert str(error) == "out of credits (POST /run_sse) [code 2001, HTTP 200]"
