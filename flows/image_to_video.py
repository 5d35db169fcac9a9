"""Deployment entrypoint: one image to one clip."""

from prefect_nemo.flows import image_to_video

__all__ = ["image_to_video"]
