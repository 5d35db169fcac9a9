"""The whole tool against a bare ffmpeg command, end to end, from a newcomer's cold start.

Run alone (the machine has 2 cores): ``python bench/latency.py [--batch 16]`` (``--batch 0`` skips part 3).

0. ``prefect-nemo --help`` and a bad command line (a missing image): wall time of each, median of 5 runs.
   Goal: under 0.5 s (the command line imports nothing heavy before it needs it).

1. One 5-second clip: wall time of ``prefect-nemo convert examples/portrait.jpg -p "5-second slow push-in"``
   with a fresh PREFECT_HOME, NEMO_HOME and data folder (so startup, the embedded backend and Prefect are all
   cold), against ``ffmpeg ... zoompan ... -c:v libx264 -preset medium -crf 20`` making a clip of the same
   size, rate and length from the same image in the same run. Goal: ratio <= 1.0.
2. The same with a title (ffmpeg adds ``drawtext`` when its build has it; otherwise the plain zoompan time).
3. A batch of 16 images, 3 s each, at the CLI's default concurrency: clips per minute and the average cores
   used (CPU seconds of the CLI's process tree, which holds the backend and its render workers, over the
   wall time; the backend's tree is also shown), against the same zoompan command run two at a time on the
   same images. Goal: >= 1.8 cores and at least zoompan's clips per minute (at equal SSIM: "high" is
   calibrated to zoompan's medium/CRF 20 quality, see bench/calibrate_x264.py).

ffmpeg reads the still once and zoompan draws every frame from it (``-frames:v``), the fastest form of the
command; ``-loop 1`` would decode the image again for every frame.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np
import psutil
from PIL import Image
from skimage import data as photos

ROOT = Path(__file__).resolve().parent.parent
PORTRAIT = ROOT / "examples" / "portrait.jpg"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
TITLE = "Summer Sale"
CLI = shutil.which("prefect-nemo") or str(Path(sys.executable).with_name("prefect-nemo"))
"""The console script a user runs (the venv's, when the venv is not on PATH)."""


def fresh_env(tmp: Path) -> dict[str, str]:
    """A newcomer's environment: nothing cached, no Prefect or NemoVideo state, the embedded backend."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "NEMO_"))}
    env.update(PREFECT_HOME=str(tmp / "prefect"), NEMO_HOME=str(tmp / "nemo"), PYTHONPATH=str(ROOT))
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "180"  # a busy machine: wait rather than fail
    tmp.mkdir(parents=True, exist_ok=True)  # Prefect creates its home but not the folders above it
    return env


class CpuMeter:
    """CPU seconds of a process tree, sampled every 0.2 s (a process that ends keeps its last sample)."""

    def __init__(self, root: int) -> None:
        self.root = psutil.Process(root)
        self.seen: dict[int, tuple[float, bool]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.2):
            self.sample()

    def sample(self) -> None:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        backend = {p.pid for p in procs if _is_backend(p)}
        for proc in list(procs):
            try:
                if backend & {a.pid for a in proc.parents()}:
                    backend.add(proc.pid)
                times = proc.cpu_times()  # its own threads only: reaped children would count twice
                self.seen[proc.pid] = (times.user + times.system, proc.pid in backend)
            except psutil.NoSuchProcess:
                continue

    def finish(self) -> tuple[float, float]:
        """(CPU seconds of the whole tree, of the backend's tree)."""
        self.stop.set()
        self.thread.join()
        return sum(c for c, _ in self.seen.values()), sum(c for c, b in self.seen.values() if b)


def _is_backend(proc: psutil.Process) -> bool:
    try:
        return "prefect_nemo.local" in " ".join(proc.cmdline())
    except psutil.Error:
        return False


def convert(images: list[Path], prompt: str, out: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and backend CPU seconds of one ``prefect-nemo convert``."""
    cmd = [CLI, "convert", *map(str, images), "-p", prompt, "--out", str(out)]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    meter = CpuMeter(proc.pid)
    log, _ = proc.communicate()
    wall = time.perf_counter() - started
    cpu, backend = meter.finish()
    if proc.returncode:
        raise RuntimeError(f"prefect-nemo convert failed ({proc.returncode}):\n{log[-3000:]}")
    return wall, cpu, backend


def quick_answer(args: list[str], env: dict[str, str], runs: int = 5) -> float:
    """Median wall seconds of ``prefect-nemo ARGS`` for a command that answers without doing any work."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([CLI, *args], env=env, capture_output=True, check=False)
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def clip_shape(path: Path) -> tuple[int, int, int, int]:
    with av.open(str(path)) as box:
        st = box.streams.video[0]
        return st.codec_context.width, st.codec_context.height, int(st.average_rate or 30), st.frames


def zoompan(image: Path, out: Path, shape: tuple[int, int, int, int], title: bool = False) -> float:
    """The bare ffmpeg command for the same clip: crop to its aspect, push in 1.0x -> 1.2x, x264 medium/CRF 20."""
    w, h, fps, n = shape
    crop = f"crop='min(iw,ih*{w}/{h})':'min(ih,iw*{h}/{w})'"
    zoom = f"zoompan=z='pow(1.2,on/{n - 1})':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d={n}:s={w}x{h}:fps={fps}"
    chain = f"{crop},{zoom}"
    if title:
        chain += (f",drawtext=fontfile={FONT}:text='{TITLE}':fontsize={h // 10}:fontcolor=white"
                  ":x=(w-text_w)/2:y=(h-text_h)/2")  # fmt: skip
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(image), "-vf", f"{chain},format=yuv420p",
           "-frames:v", str(n), "-c:v", "libx264", "-preset", "medium", "-crf", "20", "-movflags", "+faststart",
           str(out)]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - started


def has_drawtext() -> bool:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-filters"]
    return " drawtext " in subprocess.run(cmd, capture_output=True, text=True).stdout and FONT.exists()


def batch_images(folder: Path, count: int) -> list[Path]:
    """``count`` distinct photographs: scikit-image's, cropped and flipped differently."""
    folder.mkdir(parents=True, exist_ok=True)
    sources = [photos.astronaut(), photos.coffee(), photos.chelsea(), photos.rocket()]
    out = []
    for i in range(count):
        rgb = sources[i % len(sources)]
        h, w = rgb.shape[:2]
        k = i // len(sources)
        crop = rgb[k * h // 16 : h - k * h // 24, k * w // 20 :]
        pic = np.ascontiguousarray(crop[:, ::-1] if k % 2 else crop)
        out.append(folder / f"photo-{i:02d}.jpg")
        Image.fromarray(pic).save(out[-1], quality=92)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nemo-latency-") as tmpdir:
        tmp = Path(tmpdir)
        env = fresh_env(tmp / "quick")
        helped, refused = quick_answer(["--help"], env), quick_answer(["convert", str(tmp / "missing.jpg")], env)
        print(f"prefect-nemo --help wall: {helped:.2f} s; a missing image: {refused:.2f} s (median of 5, goal < 0.5 s)")
        wall, cpu, _ = convert([PORTRAIT], "5-second slow push-in", tmp / "one", fresh_env(tmp / "cold"))
        ours = next((tmp / "one").glob("*.mp4"))
        shape = clip_shape(ours)
        ff = zoompan(PORTRAIT, tmp / "zoompan.mp4", shape)
        print(f"one 5 s clip, cold start ({shape[0]}x{shape[1]}, {shape[2]} fps, {shape[3]} frames): "
              f"prefect-nemo convert {wall:.2f} s (cpu {cpu:.1f} s), ffmpeg zoompan {ff:.2f} s")  # fmt: skip
        print(f"file size ours/zoompan: {ours.stat().st_size / (tmp / 'zoompan.mp4').stat().st_size:.2f}")
        print(f"convert/ffmpeg wall ratio, one clip from a cold start: {wall / ff:.2f}")

        prompt = f"5-second slow push-in, title '{TITLE}'"
        wall, cpu, _ = convert([PORTRAIT], prompt, tmp / "titled", fresh_env(tmp / "cold-titled"))
        if has_drawtext():
            ff, how = zoompan(PORTRAIT, tmp / "zoompan-titled.mp4", shape, title=True), "zoompan + drawtext"
        else:
            how = "plain zoompan: this ffmpeg build has no drawtext"
        print(f"one titled 5 s clip, cold start: prefect-nemo convert {wall:.2f} s (cpu {cpu:.1f} s), "
              f"ffmpeg {ff:.2f} s ({how})")  # fmt: skip
        print(f"convert/ffmpeg wall ratio, titled clip from a cold start: {wall / ff:.2f}")

        if args.batch <= 0:
            return
        images = batch_images(tmp / "batch", args.batch)
        wall, cpu, backend = convert(images, "3-second slow push-in", tmp / "batch-out", fresh_env(tmp / "cold-b"))
        made = list((tmp / "batch-out").glob("*.mp4"))
        shapes = [clip_shape(p) for p in made]
        started = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda pair: zoompan(pair[1], tmp / f"zp-{pair[0]}.mp4", shapes[pair[0] % len(shapes)]),
                          enumerate(images)))  # fmt: skip
        ff = time.perf_counter() - started
        print(f"batch of {len(images)} x 3 s clips ({len(made)} made): prefect-nemo convert {wall:.1f} s = "
              f"{60 * len(made) / wall:.1f} clips/min; ffmpeg zoompan two at a time {ff:.1f} s = "
              f"{60 * len(images) / ff:.1f} clips/min")  # fmt: skip
        print(f"average cores used by the batch: {cpu / wall:.2f} (backend and its render workers: "
              f"{backend / wall:.2f}; {cpu:.0f} CPU s in {wall:.0f} s)")  # fmt: skip
        print(f"clips per minute ours/zoompan: {(len(made) / wall) / (len(images) / ff):.2f}")


if __name__ == "__main__":
    sys.exit(main())
