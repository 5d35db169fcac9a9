"""prefect-nemo: turn still images into 1080p H.264 clips with NemoVideo, as Prefect tasks and flows.

Public names are imported lazily (PEP 562), so the embedded backend's render workers, which import
`prefect_nemo.local`, do not pay for importing Prefect.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from prefect_nemo.batch_flows import (
        abatch_image_to_video,
        aconvert_folder,
        aconvert_image,
        batch_image_to_video,
        convert_folder,
        convert_image,
    )
    from prefect_nemo.camera import Camera
    from prefect_nemo.client import NemoClient
    from prefect_nemo.credentials import CLOUD_URL, NemoCredentials
    from prefect_nemo.errors import (
        NemoAPIError,
        NemoAuthError,
        NemoBadRequest,
        NemoBadResponse,
        NemoBatchFailed,
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
        NemoUnknownStatus,
        NemoUnsupportedFile,
    )
    from prefect_nemo.flows import aimage_to_video, arefine_clip, image_to_video, refine_clip
    from prefect_nemo.models import ClipResult, ClipSpec, Credits, GenerateResult, RenderJob, RenderStatus, Session
    from prefect_nemo.settings import NemoSettings
    from prefect_nemo.steps import StepOptions
    from prefect_nemo.tasks import (
        aacquire_token,
        acquire_token,
        acreate_session,
        adownload_clip,
        aexport_clip,
        agenerate_clip,
        aget_credits,
        aget_state,
        aupload_image,
        await_for_render,
        create_session,
        download_clip,
        export_clip,
        generate_clip,
        get_credits,
        get_state,
        upload_image,
        wait_for_render,
    )
    from prefect_nemo.timelines import aimages_to_video, images_to_video

_EXPORTS: dict[str, str] = {
    "CLOUD_URL": "prefect_nemo.credentials",
    "Camera": "prefect_nemo.camera",
    "ClipResult": "prefect_nemo.models",
    "ClipSpec": "prefect_nemo.models",
    "Credits": "prefect_nemo.models",
    "GenerateResult": "prefect_nemo.models",
    "NemoAPIError": "prefect_nemo.errors",
    "NemoAuthError": "prefect_nemo.errors",
    "NemoBadRequest": "prefect_nemo.errors",
    "NemoBadResponse": "prefect_nemo.errors",
    "NemoBatchFailed": "prefect_nemo.errors",
    "NemoClient": "prefect_nemo.client",
    "NemoCredentials": "prefect_nemo.credentials",
    "NemoDownloadError": "prefect_nemo.errors",
    "NemoError": "prefect_nemo.errors",
    "NemoExportBlocked": "prefect_nemo.errors",
    "NemoFileTooLarge": "prefect_nemo.errors",
    "NemoInputError": "prefect_nemo.errors",
    "NemoMissingClientId": "prefect_nemo.errors",
    "NemoOutOfCredits": "prefect_nemo.errors",
    "NemoRateLimited": "prefect_nemo.errors",
    "NemoRenderFailed": "prefect_nemo.errors",
    "NemoServerError": "prefect_nemo.errors",
    "NemoSessionNotFound": "prefect_nemo.errors",
    "NemoSettings": "prefect_nemo.settings",
    "NemoStreamError": "prefect_nemo.errors",
    "NemoTimeout": "prefect_nemo.errors",
    "NemoTransportError": "prefect_nemo.errors",
    "NemoUnknownStatus": "prefect_nemo.errors",
    "NemoUnsupportedFile": "prefect_nemo.errors",
    "RenderJob": "prefect_nemo.models",
    "RenderStatus": "prefect_nemo.models",
    "Session": "prefect_nemo.models",
    "StepOptions": "prefect_nemo.steps",
    "aacquire_token": "prefect_nemo.tasks",
    "abatch_image_to_video": "prefect_nemo.batch_flows",
    "aconvert_folder": "prefect_nemo.batch_flows",
    "aconvert_image": "prefect_nemo.batch_flows",
    "acquire_token": "prefect_nemo.tasks",
    "acreate_session": "prefect_nemo.tasks",
    "adownload_clip": "prefect_nemo.tasks",
    "aexport_clip": "prefect_nemo.tasks",
    "agenerate_clip": "prefect_nemo.tasks",
    "aget_credits": "prefect_nemo.tasks",
    "aget_state": "prefect_nemo.tasks",
    "aimage_to_video": "prefect_nemo.flows",
    "aimages_to_video": "prefect_nemo.timelines",
    "arefine_clip": "prefect_nemo.flows",
    "aupload_image": "prefect_nemo.tasks",
    "await_for_render": "prefect_nemo.tasks",
    "batch_image_to_video": "prefect_nemo.batch_flows",
    "convert_folder": "prefect_nemo.batch_flows",
    "convert_image": "prefect_nemo.batch_flows",
    "create_session": "prefect_nemo.tasks",
    "download_clip": "prefect_nemo.tasks",
    "export_clip": "prefect_nemo.tasks",
    "generate_clip": "prefect_nemo.tasks",
    "get_credits": "prefect_nemo.tasks",
    "get_state": "prefect_nemo.tasks",
    "image_to_video": "prefect_nemo.flows",
    "images_to_video": "prefect_nemo.timelines",
    "refine_clip": "prefect_nemo.flows",
    "upload_image": "prefect_nemo.tasks",
    "wait_for_render": "prefect_nemo.tasks",
}

__all__ = [
    "CLOUD_URL",
    "Camera",
    "ClipResult",
    "ClipSpec",
    "Credits",
    "GenerateResult",
    "NemoAPIError",
    "NemoAuthError",
    "NemoBadRequest",
    "NemoBadResponse",
    "NemoBatchFailed",
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
    "NemoUnknownStatus",
    "NemoUnsupportedFile",
    "RenderJob",
    "RenderStatus",
    "Session",
    "StepOptions",
    "__version__",
    "aacquire_token",
    "abatch_image_to_video",
    "aconvert_folder",
    "aconvert_image",
    "acquire_token",
    "acreate_session",
    "adownload_clip",
    "aexport_clip",
    "agenerate_clip",
    "aget_credits",
    "aget_state",
    "aimage_to_video",
    "aimages_to_video",
    "arefine_clip",
    "aupload_image",
    "await_for_render",
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
    "images_to_video",
    "refine_clip",
    "upload_image",
    "wait_for_render",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'prefect_nemo' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
