"""Which x264 preset/CRF each export quality ships: the cheapest that matches ffmpeg zoompan's quality.

Run alone (the machine has 2 cores): ``python bench/calibrate_x264.py [--seconds 5]``.

For each level ("high", "medium", "low") the peer is ``ffmpeg zoompan`` with x264 ``medium`` at CRF 20, 23
and 26 on the bench's push-in (1920x1080, 30 fps, from a 3000x2000 product shot), scored by SSIM against a
lossless encode of zoompan's own frames. Our renderer is then run at each preset and a binary-searched CRF,
with the level's rate cap, scored the same way against a lossless encode of our frames. A level's setting is
the candidate with the least CPU time whose SSIM is at least the peer's and whose file is no larger.
The table it prints is what ``EncodeSettings.for_quality`` holds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import render_vs_ffmpeg as bench
from quality import LOSSLESS, Score, score

from prefect_nemo.local.studio.renderer import EncodeSettings, render_motion

PEER_CRF = {"high": 20, "medium": 23, "low": 26}
PRESETS = ["ultrafast", "superfast", "veryfast", "faster"]  # x264 presets from the cheapest up; "medium" is the peer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=bench.SECONDS)
    args = parser.parse_args()
    bench.SECONDS, bench.N = args.seconds, bench.FPS * args.seconds
    bench.DRAFT["d"] = bench.DRAFT["t"][0]["sg"][0]["d"] = args.seconds * 1000
    with tempfile.TemporaryDirectory(prefix="nemo-calibrate-") as tmpdir:
        tmp = Path(tmpdir)
        src = tmp / "source.png"
        bench.make_source(src, (3000, 2000))
        bench.run_ffmpeg(src, tmp / "zoompan-ref.mp4", crf=None)
        render_motion(src, bench.DRAFT, tmp / "ours-ref.mp4", settings=LOSSLESS)
        peers: dict[str, Score] = {}
        for level, crf in PEER_CRF.items():
            wall, cpu = bench.run_ffmpeg(src, tmp / f"zoompan-{crf}.mp4", crf=crf)
            peers[level] = score(tmp / f"zoompan-{crf}.mp4", tmp / "zoompan-ref.mp4")
            print(f"peer {level}: zoompan medium/CRF {crf}: {peers[level]}, wall {wall:.2f} s, cpu {cpu:.2f} s")
        tried: dict[tuple[str, int, float], tuple[Score, float]] = {}

        def ours(preset: str, crf: int, max_bpp: float) -> tuple[Score, float]:
            key = (preset, crf, max_bpp)
            if key not in tried:
                out = tmp / "ours.mp4"
                cpu = time.process_time()
                render_motion(src, bench.DRAFT, out, settings=EncodeSettings(preset, crf, max_bpp))
                tried[key] = (score(out, tmp / "ours-ref.mp4"), time.process_time() - cpu)
                print(f"  ours {preset}/CRF {crf} (cap {max_bpp} bpp): {tried[key][0]}, cpu {tried[key][1]:.2f} s")
            return tried[key]

        table: dict[str, EncodeSettings] = {}
        for level, peer in peers.items():
            cap = EncodeSettings.for_quality(level).max_bpp
            best: tuple[float, EncodeSettings, Score] | None = None
            for preset in PRESETS:
                lo, hi, found = 12, 30, None  # the largest CRF whose SSIM still reaches the peer's
                while lo <= hi:
                    mid = (lo + hi) // 2
                    if ours(preset, mid, cap)[0].ssim >= peer.ssim:
                        found, lo = mid, mid + 1
                    else:
                        hi = mid - 1
                if found is None:
                    continue
                result, cpu = ours(preset, found, cap)
                if result.bytes <= peer.bytes and (best is None or cpu < best[0]):
                    best = (cpu, EncodeSettings(preset, found, cap), result)
            if best is None:
                print(f"{level}: no candidate reaches {peer} in a file no larger")
                continue
            table[level] = best[1]
            print(f"{level}: {best[1].preset}/CRF {best[1].crf:g} -> {best[2]}, cpu {best[0]:.2f} s "
                  f"(peer {peer})")  # fmt: skip
        print("EncodeSettings.for_quality table:")
        for level, chosen in table.items():
            print(f'    "{level}": cls("{chosen.preset}", {float(chosen.crf)}, {chosen.max_bpp}),')


if __name__ == "__main__":
    main()
