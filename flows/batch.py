"""Deployment entrypoint: a batch of listed images with one prompt or one prompt each."""

from prefect_nemo.flows import batch_image_to_video

__all__ = ["batch_image_to_video"]
