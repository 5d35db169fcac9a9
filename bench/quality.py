"""Output quality against a lossless reference of the same frames: SSIM and PSNR by ffmpeg's own filters.

Equal presets are not equal quality (x264 ``veryfast`` at a given CRF is not ``medium``'s picture), so
renderers are compared at equal SSIM. Each output is scored against a lossless encode (x264 ``qp 0``, exact
for 8-bit yuv420p) of *its own* frames, which isolates what the encoder threw away from what the renderer drew.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from prefect_nemo.local.studio.encoder import EncodeSettings

LOSSLESS = EncodeSettings("ultrafast", 0)
"""CRF 0 is x264's qp 0: lossless for 8-bit yuv420p."""


@dataclass(frozen=True)
class Score:
    ssim: float
    psnr: float
    bytes: int

    def __str__(self) -> str:
        return f"SSIM {self.ssim:.4f}, PSNR {self.psnr:.2f} dB, {self.bytes / 1000:.0f} KB"


def score(out: Path, reference: Path) -> Score:
    """SSIM ("All", luma and chroma weighted) and average PSNR of ``out`` against ``reference``."""
    graph = "[0:v]split[a][b];[1:v]split[c][d];[a][c]ssim;[b][d]psnr"
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(out), "-i", str(reference),
           "-lavfi", graph, "-f", "null", "-"]  # fmt: skip
    log = subprocess.run(cmd, check=True, capture_output=True, text=True).stderr
    ssim = re.search(r"SSIM .*All:([0-9.]+)", log)
    psnr = re.search(r"PSNR .*average:([0-9.]+|inf)", log)
    if not ssim or not psnr:
        raise RuntimeError(f"ffmpeg printed no SSIM/PSNR for {out}:\n{log[-2000:]}")
    return Score(float(ssim[1]), float(psnr[1]), out.stat().st_size)
