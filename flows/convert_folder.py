"""Deployment entrypoint: convert a folder (or a manifest) of images into clips.

Thin on purpose: the flow lives in `prefect_nemo.flows`, so deployments and library users run the same code.
"""

from prefect_nemo.flows import convert_folder

__all__ = ["convert_folder"]

if __name__ == "__main__":
    import sys

    convert_folder(folder=sys.argv[1] if len(sys.argv) > 1 else "examples")
