"""prefect-nemo: turn still images into 1080p H.264 clips with NemoVideo, as Prefect tasks and flows."""

from __future__ import annotations

__version__ = "0.1.0"

from prefect_nemo.client import NemoClient
from prefect_nemo.credentials import CLOUD_URL, NemoCredentials
from prefect_nemo.errors import (
    NemoAPIError,
    NemoAuthError,
    NemoBadRequest,
    NemoDownloadError,
    NemoError,
    NemoExportBlocked,
    NemoFileTooLarge,
    NemoInputError,
    NemoMissingClientId,
    NemoOutOfCredits,
    NemoRateLimited,
    NemoRenderFailed,
    NemoServerError,
    NemoSessionNotFound,
    NemoStreamError,
    NemoTimeout,
    NemoTransportError,
    NemoUnsupportedFile,
)
from prefect_nemo.flows import batch_image_to_video, convert_folder, convert_image, image_to_video, refine_clip
from prefect_nemo.models import ClipResult, ClipSpec, Credits, GenerateResult, RenderJob, RenderStatus, Session
from prefect_nemo.settings import NemoSettings
from prefect_nemo.tasks import (
    acquire_token,
    create_session,
    download_clip,
    export_clip,
    generate_clip,
    get_credits,
    get_state,
    upload_image,
    wait_for_render,
)

__all__ = [
    "CLOUD_URL",
    "ClipResult",
    "ClipSpec",
    "Credits",
    "GenerateResult",
    "NemoAPIError",
    "NemoAuthError",
    "NemoBadRequest",
    "NemoClient",
    "NemoCredentials",
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
    "NemoSettings",
    "NemoStreamError",
    "NemoTimeout",
    "NemoTransportError",
    "NemoUnsupportedFile",
    "RenderJob",
    "RenderStatus",
    "Session",
    "__version__",
    "acquire_token",
    "batch_image_to_video",
    "convert_folder",
    "convert_image",
    "create_session",
    "download_clip",
    "export_clip",
    "generate_clip",
    "get_credits",
    "get_state",
    "image_to_video",
    "refine_clip",
    "upload_image",
    "wait_for_render",
]
