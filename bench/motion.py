"""Motion beyond Ken Burns: what the depth camera, subject pop, transitions and life effects cost and look like.

Run alone (2 cores): ``flock /tmp/nemo-heavy.lock python bench/motion.py [--rounds 3] [--keep DIR]``.

Photographs: eight real ones, scikit-image's astronaut, coffee, chelsea, rocket, camera and motorcycle_left,
and the repository's examples/portrait.jpg and examples/product.jpg, each loaded the way the renderer loads a
still for 1920x1080 (2x supersampled, low-passed Y/U/V planes).

Cost: per-frame CPU time of this thread (OpenCV on one thread) at 1080p, each mode beside the renderer's own
push-in warp (three ``warpAffine`` calls), timed frame by frame in turn (the warp, then each mode, on the
same frame), and each round's ratio kept: the median over ``--rounds`` is printed. Transitions
are averaged over all their frames. One-off analysis (depth, cut-out) is timed on a 12-MP photograph.

Smoothness: constant-speed (linear) moves; between consecutive frames a Gauss-Newton fit of (zoom, shift)
on each layer's pixels (960x540, that layer's mask) gives the step: the shift for a lateral move, the log
zoom otherwise. Its standard deviation relative to its mean is the jitter (the renderer benchmark's probe).
A layer is measured while at least half of the pixels it had in view remain (and at least 2000): a layer
pushed out of the frame leaves a sliver along the edge whose fit is the probe's noise, not the motion's.

Not a flat warp: features tracked (pyramidal Lucas-Kanade, forward-backward error < 0.3 px) between the
frames at 30% and 70% of a 2 s clip; the best single affine map (LMedS) is fitted and the 75th percentile
distance of the points from it printed, beside the same for a push-in of the same photograph.

Edge quality, per frame of every clip: a *hole* is an output pixel whose sampling position lies outside
the source picture (it would show the border); a *tear* is a pixel where the map's derivative along x or y
falls below a quarter of the frame's median (content folded or smeared). For subject pop a hole is also a
frame whose filled background still holds a quarter of the subject core's detail (gradient energy
relative to the original's); for transitions, a pixel left unwritten (frames are pre-filled with 0, which
limited-range video never contains).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import skimage.data
from PIL import Image

from prefect_nemo.local.studio import frames
from prefect_nemo.local.studio.cutout import Cutout
from prefect_nemo.local.studio.depth import DepthMap, estimate_depth
from prefect_nemo.local.studio.letterbox import Letterbox
from prefect_nemo.local.studio.life import Bokeh, FilmGrain, LightLeak
from prefect_nemo.local.studio.motion import CameraPath, Motion
from prefect_nemo.local.studio.parallax import MODES, ParallaxCamera, ParallaxMove, camera_source
from prefect_nemo.local.studio.subject_pop import SubjectPop
from prefect_nemo.local.studio.transitions import TRANSITIONS, Drawn, Shot, Transition

W, H, FPS = 1920, 1080, 30
U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
Planes = tuple[U8, U8, U8]
ROOT = Path(__file__).resolve().parent.parent
PUSH = Motion(type="push_in", zoom=(1.0, 1.15))
FLAGS = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP


def photos(tmp: Path) -> dict[str, Path]:
    found = {
        "astronaut": skimage.data.astronaut(),
        "coffee": skimage.data.coffee(),
        "chelsea": skimage.data.chelsea(),
        "rocket": skimage.data.rocket(),
        "camera": np.dstack([skimage.data.camera()] * 3),
        "motorcycle": skimage.data.stereo_motorcycle()[0],
    }
    paths = {name: tmp / f"{name}.png" for name in found}
    for name, rgb in found.items():
        Image.fromarray(rgb).save(paths[name])
    return {**paths, "portrait": ROOT / "examples/portrait.jpg", "product": ROOT / "examples/product.jpg"}


class Scene:
    """A photograph as the renderer holds it, with its depth, cut-out and a flat push-in over it."""

    def __init__(self, path: Path, n: int, ease: str = "ease_in_out") -> None:
        rgb = frames.load_rgb(path, frames.scale_for(PUSH, W, H))
        self.planes = frames.source_planes(rgb)
        self.size = (self.planes[0].shape[1], self.planes[0].shape[0])
        self.depth_planes = camera_source(self.planes, (W, H))  # what the product's depth camera reads
        self.depth: DepthMap = estimate_depth(rgb)
        self.cut = Cutout.make(self.planes, self.depth)
        self.n, self.ease = n, ease
        self.push = CameraPath(Motion(type="push_in", ease=ease, zoom=(1.0, 1.15)), self.size, (W, H), n)

    def camera(self, mode: str) -> ParallaxCamera:
        size = (self.depth_planes[0].shape[1], self.depth_planes[0].shape[0])
        return ParallaxCamera(self.depth, ParallaxMove(mode=mode, ease=self.ease), size, (W, H), self.n)

    def moving(self, cam: ParallaxCamera) -> Callable[[int, Planes], None]:
        return lambda i, dst: cam.render(i, self.depth_planes, dst)

    def moving_part(
        self, cam: ParallaxCamera
    ) -> Callable[[int, Planes, tuple[int, int, int, int], tuple[float, float]], None]:
        return lambda i, dst, box, shift: cam.render(i, self.depth_planes, dst, box, shift)

    def pop(self) -> SubjectPop:
        return SubjectPop(self.cut, (W, H), self.n, motion=Motion(zoom=(1.0, 1.06), ease=self.ease))

    def warp(self, i: int, dst: Planes) -> None:
        luma, chroma = self.push.matrices(i)
        for plane, target, m in zip(self.planes, dst, (luma, chroma, chroma), strict=True):
            cv2.warpAffine(plane, m, target.shape[::-1], dst=target, flags=FLAGS, borderMode=cv2.BORDER_REPLICATE)

    def renderers(self) -> dict[str, Callable[[int, Planes], None]]:
        out: dict[str, Callable[[int, Planes], None]] = {"push-in warp": self.warp}
        for mode in MODES:
            out[mode] = self.moving(self.camera(mode))
        out["subject pop"] = self.pop().render
        return out


def blank(fill: int = 0) -> Planes:
    return (np.full((H, W), fill, np.uint8), np.full((H // 2, W // 2), fill, np.uint8),
            np.full((H // 2, W // 2), fill, np.uint8))  # fmt: skip


def cpu_ms(frame: Callable[[int, Planes], None], n: int, frames: int = 20) -> float:
    dst = blank()
    frame(0, dst)
    start = time.thread_time()
    for i in range(frames):
        frame(i * (n - 1) // max(1, frames - 1), dst)
    return (time.thread_time() - start) / frames * 1000


def side_by_side(
    renderers: dict[str, Callable[[int, Planes], None]], n: int, rounds: int, frames: int = 20
) -> dict[str, tuple[float, float]]:
    """Per-frame CPU ms of each renderer and its ratio to the first, timed frame by frame in turn (the first,
    then each other, on the same frame), so a busy moment or a cache-cold phase weighs on both sides alike:
    each round's ratio is taken, and the median over the rounds reported."""
    dst = blank()
    for frame in renderers.values():
        frame(0, dst)
    spent: dict[str, list[float]] = {k: [] for k in renderers}
    for _ in range(rounds):
        total = dict.fromkeys(renderers, 0.0)
        for j in range(frames):
            i = j * (n - 1) // max(1, frames - 1)
            for k, frame in renderers.items():
                start = time.thread_time()
                frame(i, dst)
                total[k] += time.thread_time() - start
        for k, v in total.items():
            spent[k].append(v / frames * 1000)
    base = next(iter(spent.values()))
    return {
        k: (float(np.median(v)), float(np.median([a / b for a, b in zip(v, base, strict=True)])))
        for k, v in spent.items()
    }


def cost(scenes: dict[str, Scene], rounds: int) -> None:
    print("== per-frame CPU at 1920x1080 (ms, median of rounds; x = against the push-in warp, frame by frame in turn)")
    worst: dict[str, float] = {}
    for name, scene in scenes.items():
        timed = side_by_side(scene.renderers(), scene.n, rounds)
        base, _ = timed.pop("push-in warp")
        cells = "  ".join(f"{k} {ms:.1f} ({x:.2f}x)" for k, (ms, x) in timed.items())
        print(f"{name:>10}: push-in warp {base:.1f}  {cells}")
        for k, (_, x) in timed.items():
            worst[k] = max(worst.get(k, 0.0), x)
    print("worst ratio over the photographs: " + ", ".join(f"{k} {v:.2f}x" for k, v in worst.items()))


def transition_cost(a: Scene, b: Scene, rounds: int) -> None:
    n = FPS // 2
    shots = Shot(a.planes, a.push, a.n - n), Shot(b.planes, b.push, 0)
    renderers: dict[str, Callable[[int, Planes], None]] = {"push-in warp": a.warp}
    for kind in TRANSITIONS:
        tr = Transition(kind, (W, H), n)
        renderers[kind] = lambda i, dst, tr=tr: tr.render(i, *shots, dst)
    timed = side_by_side(renderers, n, rounds, n)
    base, _ = timed.pop("push-in warp")
    cells = [f"{kind} {ms:.1f} ({x:.2f}x)" for kind, (ms, x) in timed.items()]
    print(f"transition frame, mean over {n} frames (push-in warp {base:.1f}): " + "  ".join(cells))
    cam = a.camera("parallax")  # a depth shot draws its own frame, or the part a join shows; the join moves it
    deep, deep_part = a.moving(cam), a.moving_part(cam)
    joins: dict[str, Callable[[int, Planes], None]] = {"parallax frame": lambda i, dst: deep(a.n - n + i, dst)}
    for kind in TRANSITIONS:
        tr, drawn = Transition(kind, (W, H), n), Drawn(deep, (W, H), a.n - n, draw_part=deep_part)
        joins[kind] = lambda i, dst, tr=tr, d=drawn: tr.render(i, d, shots[1], dst)
    timed = side_by_side(joins, n, rounds, n)  # in turn with the parallax frame, as the rest
    one, _ = timed.pop("parallax frame")
    cells = [f"{kind} {ms:.1f} ({x:.2f}x)" for kind, (ms, x) in timed.items()]
    print(f"transition frame from a parallax shot (parallax frame {one:.1f}): " + "  ".join(cells))
    holes = 0
    for kind in TRANSITIONS:
        tr = Transition(kind, (W, H), n)
        for i in range(n):
            dst = blank(0)
            tr.render(i, *shots, dst)
            holes += any(int(p.min()) == 0 for p in dst)
    print(f"transition frames with unwritten pixels: {holes} of {n * len(TRANSITIONS)}")


def life_cost(rounds: int) -> None:
    effects = {"film grain": FilmGrain((W, H)), "light leak": LightLeak((W, H), 60), "bokeh": Bokeh((W, H), 60),
               "letterbox": Letterbox((W, H))}  # fmt: skip
    cells = [f"{k} {min(cpu_ms(e.apply, 60) for _ in range(rounds)):.2f} ms" for k, e in effects.items()]
    print("life effects per 1080p frame: " + ", ".join(cells))


def analysis(path: Path) -> None:
    rgb = cv2.resize(np.asarray(Image.open(path).convert("RGB")), (4243, 2828), interpolation=cv2.INTER_LANCZOS4)
    walls, cpus = [], []
    for _ in range(2):
        wall, cpu = time.perf_counter(), time.process_time()
        depth = estimate_depth(rgb)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    print(f"depth for a 12.0-MP photo (4243x2828): wall {min(walls):.2f} s, cpu {min(cpus):.2f} s")
    k = 2 * W / 4243
    planes = frames.source_planes(cv2.resize(rgb, (3840, round(2828 * k) // 2 * 2), interpolation=cv2.INTER_AREA))
    wall, cpu = time.perf_counter(), time.process_time()
    Cutout.make(planes, depth)
    print(f"cut-out for it (renderer source {planes[0].shape[1]}x{planes[0].shape[0]}): "
          f"wall {time.perf_counter() - wall:.2f} s, cpu {time.process_time() - cpu:.2f} s")  # fmt: skip


def _fit(
    prev: F32, cur: F32, mask: npt.NDArray[np.bool_], zoom: bool, shift: float = 0.0, iters: int = 6
) -> tuple[float, float, float]:
    """Gauss-Newton (zoom about the centre if ``zoom``, shift) taking ``cur`` back onto ``prev`` over ``mask``,
    starting from a horizontal ``shift`` (a transition's step is too large to find from zero)."""
    h, w = prev.shape
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    xs -= (w - 1) / 2
    ys -= (h - 1) / 2
    s, tx, ty = 1.0, shift, 0.0
    for _ in range(iters):
        m = np.array([[s, 0, (w - 1) / 2 * (1 - s) + tx], [0, s, (h - 1) / 2 * (1 - s) + ty]])
        back = cv2.warpAffine(cur, m, (w, h), flags=FLAGS, borderMode=cv2.BORDER_REPLICATE)
        gx, gy = cv2.Sobel(back, cv2.CV_32F, 1, 0) / 8, cv2.Sobel(back, cv2.CV_32F, 0, 1) / 8
        jac = ([(gx * xs + gy * ys)[mask]] if zoom else []) + [gx[mask], gy[mask]]
        res = (prev - back)[mask]
        d = np.linalg.solve([[float(a @ b) for b in jac] for a in jac], [float(a @ res) for a in jac])
        d = d if zoom else np.concatenate([[0.0], d])
        s, tx, ty = s * (1 + d[0]), tx + s * d[1], ty + s * d[2]
    return s, tx, ty


def _luma(frame: Callable[[int, Planes], None], i: int) -> F32:
    dst = blank()
    frame(i, dst)
    small = cv2.resize(dst[0], (W // 2, H // 2), interpolation=cv2.INTER_AREA).astype(np.float32)
    return np.asarray(cv2.GaussianBlur(small, (0, 0), 1.0), np.float32)


def smoothness(scene: Scene) -> None:
    print(f"== smoothness (constant-speed moves, {scene.n} frames, Gauss-Newton per layer at 960x540)")
    rows: dict[str, tuple[Callable[[int, Planes], None], Callable[[int], dict[str, npt.NDArray[np.bool_]]], bool]]
    rows = {"push-in warp": (scene.warp, lambda i: {"frame": _inner(np.ones((H // 2, W // 2), bool))}, False)}
    for mode in MODES:
        cam = scene.camera(mode)
        rows[mode] = (scene.moving(cam), lambda i, cam=cam: _depth_layers(cam, i), mode == "parallax")
    pop = scene.pop()
    rows["subject pop"] = (pop.render, lambda i: _pop_layers(scene, pop, i), False)
    still = CameraPath(Motion(type="static"), scene.size, (W, H), scene.n)
    shots = Shot(scene.planes, still), Shot(scene.planes, still)  # two still shots: only the transition moves
    for kind in ("push", "slide"):
        tr = Transition(kind, (W, H), scene.n, curve="linear")
        rows[kind] = (lambda i, dst, tr=tr: tr.render(i, *shots, dst), lambda i: _incoming(i, scene.n), True)
    for name, (frame, layers, lateral) in rows.items():
        start = -W / 2 / (scene.n - 1) if name in ("push", "slide") else 0.0  # the planned step, half size
        steps: dict[str, list[float]] = {}
        area: dict[str, int] = {}  # each layer's pixels on the first frame it is measured
        prev = _luma(frame, 0)
        for i in range(1, scene.n):
            cur = _luma(frame, i)
            for layer, mask in layers(i - 1).items():
                if mask.sum() < max(2000, area.setdefault(layer, int(mask.sum())) // 2):
                    continue  # mostly gone from view: the few pixels left hug the frame's edge
                s, tx, ty = _fit(prev, cur, mask, zoom=not lateral, shift=start)
                steps.setdefault(layer, []).append(2 * float(np.hypot(tx, ty)) if lateral else float(np.log(s)))
            prev = cur
        cells = []
        fastest = max(abs(float(np.mean(v))) for v in steps.values())
        for layer, values in steps.items():
            v = np.array(values)
            unit = (lambda x: f"{x:.3f} px") if lateral else (lambda x: f"{100 * x:.4f}% zoom")
            if abs(v.mean()) < 0.1 * fastest:  # the pivot of the move: it holds still, so say how still
                cells.append(f"{layer} (pivot): step {unit(v.mean())}, std dev {unit(v.std())}")
            else:
                jitter = 100 * v.std() / abs(v.mean())
                cells.append(f"{layer}: step {unit(v.mean())}, relative std dev {jitter:.2f}% ({v.size} steps)")
        print(f"{name:>14}: " + "; ".join(cells))


def _incoming(i: int, n: int) -> dict[str, npt.NDArray[np.bool_]]:
    """The part of a frame (half size) the incoming shot of a leftward push or slide fills at frame ``i``."""
    mask = np.zeros((H // 2, W // 2), bool)
    mask[:, round(W * (1 - i / (n - 1)) / 2) + 2 :] = True
    mask[:, -4:] = False
    return {"incoming shot": _inner(mask, 8)}


def _inner(mask: npt.NDArray[np.bool_], margin: int = 24) -> npt.NDArray[np.bool_]:
    """The mask shrunk by ``margin`` px and kept off the frame's edges, where content enters and leaves."""
    out = cv2.erode(mask.astype(np.uint8), np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)) > 0
    out[:margin], out[-margin:], out[:, :margin], out[:, -margin:] = False, False, False, False
    return np.asarray(out)


def _depth_layers(cam: ParallaxCamera, i: int) -> dict[str, npt.NDArray[np.bool_]]:
    """The nearest and the farthest depth band (nearness within 0.01 of the values the first frame shows at
    its 97th and 5th percentiles): each moves as one."""
    edge = _inner(np.ones((H // 2, W // 2), bool), 8)
    if cam not in _BANDS:
        first = _half_nearness(cam, 0)
        _BANDS[cam] = {
            "nearest": float(np.quantile(first[edge], 0.97)),
            "farthest": float(np.quantile(first[edge], 0.05)),
        }
    near = _half_nearness(cam, i)
    out = {}
    for layer, value in _BANDS[cam].items():
        band = np.abs(near - value) < 0.01
        out[layer] = (cv2.erode(band.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0) & edge
    return out


def _half_nearness(cam: ParallaxCamera, i: int) -> F32:
    luma, _ = cam.maps(i)
    return cam.nearness(cv2.resize(luma, (W // 2, H // 2), interpolation=cv2.INTER_AREA))


_BANDS: dict[ParallaxCamera, dict[str, float]] = {}
_RING = np.ones((61, 61), np.uint8)  # the background keeps clear of the stretched band beside the subject


def _pop_layers(scene: Scene, pop: SubjectPop, i: int) -> dict[str, npt.NDArray[np.bool_]]:
    m = pop.subject_matrix(i)
    alpha = cv2.warpAffine(scene.cut.alpha, m, (W, H), flags=FLAGS, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    half = cv2.resize(alpha, (W // 2, H // 2), interpolation=cv2.INTER_AREA)
    return {"subject": _inner(half == 255), "background": _inner(cv2.erode((half == 0).astype(np.uint8), _RING) > 0)}


def flatness(scenes: dict[str, Scene]) -> None:
    print("== not a flat warp: 75th percentile distance from the best single affine map, frames at 30% and 70%")
    for name, scene in scenes.items():
        a, b = round(0.3 * (scene.n - 1)), round(0.7 * (scene.n - 1))
        flat = _affine_p75(scene.warp, a, b)
        cells = []
        for mode in MODES:
            got = _affine_p75(scene.moving(scene.camera(mode)), a, b)
            cells.append(f"{mode} {got:.2f} px ({got / flat:.1f}x)")
        cells.append(f"subject pop {_affine_p75(scene.pop().render, a, b):.2f} px")
        print(f"{name:>10}: push-in {flat:.2f} px  " + "  ".join(cells))


def _affine_p75(frame: Callable[[int, Planes], None], i: int, j: int) -> float:
    one, two = blank(), blank()
    frame(i, one)
    frame(j, two)
    pts = cv2.goodFeaturesToTrack(one[0], 3000, 0.01, 8)
    lk = {"winSize": (21, 21), "maxLevel": 4}
    fwd, ok1, _ = cv2.calcOpticalFlowPyrLK(one[0], two[0], pts, None, **lk)
    back, ok2, _ = cv2.calcOpticalFlowPyrLK(two[0], one[0], fwd, None, **lk)
    good = (ok1.ravel() == 1) & (ok2.ravel() == 1) & (np.linalg.norm((pts - back).reshape(-1, 2), axis=1) < 0.3)
    src, dst = pts.reshape(-1, 2)[good], fwd.reshape(-1, 2)[good]
    fit, _ = cv2.estimateAffine2D(src, dst, method=cv2.LMEDS)
    return float(np.quantile(np.linalg.norm(src @ fit[:, :2].T + fit[:, 2] - dst, axis=1), 0.75))


def edges(scenes: dict[str, Scene]) -> None:
    print("== edge quality: frames with holes or tears (every frame of every clip)")
    total = {k: [0, 0] for k in (*MODES, "subject pop")}
    for scene in scenes.values():
        sw, sh = scene.size
        for mode in MODES:
            cam = scene.camera(mode)
            for i in range(scene.n):
                luma, chroma = cam.maps(i)
                out = any(_outside(m, p.shape) for m, p in zip((luma, chroma), scene.depth_planes, strict=False))
                dxx, dyy = np.diff(luma[..., 0], axis=1), np.diff(luma[..., 1], axis=0)
                scale = float(np.median(dxx))
                tear = float(dxx.min()) < 0.25 * scale or float(dyy.min()) < 0.25 * scale
                total[mode][0] += int(out or tear)
                total[mode][1] += 1
        left = _detail_left(scene)
        pop = scene.pop()
        for i in range(scene.n):
            luma, _ = pop.background.matrices(i)
            corners = luma[:, :2] @ np.array([[0, W - 1, 0, W - 1], [0, 0, H - 1, H - 1]]) + luma[:, 2:]
            out = corners.min() < 0 or corners[0].max() > sw - 1 or corners[1].max() > sh - 1
            total["subject pop"][0] += int(out or left > 0.25)
            total["subject pop"][1] += 1
    print("  " + ", ".join(f"{k}: {bad} of {n} frames" for k, (bad, n) in total.items()))


def _detail_left(scene: Scene) -> float:
    """Gradient energy over the subject's core in the filled background, relative to the original's."""
    sw, sh = scene.size
    core = cv2.resize(scene.depth.subject, (sw, sh)) > 0.9
    if not core.any():
        return 0.0

    def energy(y: U8) -> float:
        g = np.hypot(cv2.Sobel(y, cv2.CV_32F, 1, 0), cv2.Sobel(y, cv2.CV_32F, 0, 1))
        return float(g[core].mean())

    return energy(scene.cut.background[0]) / max(energy(scene.planes[0]), 1e-6)


def _outside(m: F32, shape: tuple[int, ...]) -> bool:
    h, w = shape
    return bool(m[..., 0].min() < 0 or m[..., 1].min() < 0 or m[..., 0].max() > w - 1 or m[..., 1].max() > h - 1)


def encode(path: Path, frame: Callable[[int, Planes], None], n: int) -> int:
    """One real MP4 (libx264, yuv420p) from ``frame``; returns the frames decoded back from it."""
    with av.open(str(path), "w", format="mp4") as box:
        vs = box.add_stream("libx264", rate=FPS, options={"preset": "ultrafast", "crf": "23"})
        vs.width, vs.height, vs.pix_fmt = W, H, "yuv420p"
        for i in range(n):
            out = av.VideoFrame(W, H, "yuv420p")
            frame(i, frames.views(out))
            out.pts, out.time_base = i, Fraction(1, FPS)
            box.mux(vs.encode(out))
        box.mux(vs.encode(None))
    with av.open(str(path)) as box:
        return sum(1 for _ in box.decode(video=0))


def clips(scenes: dict[str, Scene], keep: Path) -> None:
    keep.mkdir(parents=True, exist_ok=True)
    a, b = scenes["coffee"], scenes["astronaut"]
    n = FPS
    cams = {mode: a.camera(mode) for mode in MODES}
    grain, leak, bokeh = FilmGrain((W, H)), LightLeak((W, H), n), Bokeh((W, H), n)
    shots = Shot(a.planes, a.push, a.n - n), Shot(b.planes, b.push, 0)
    fade = Transition("crossfade", (W, H), n)

    def alive(i: int, dst: Planes) -> None:
        a.moving(cams["parallax"])(i, dst)
        for effect in (grain, leak, bokeh):
            effect.apply(i, dst)

    made = {f"{mode}.mp4": a.moving(cams[mode]) for mode in MODES}
    made |= {"subject_pop.mp4": a.pop().render, "crossfade.mp4": lambda i, d: fade.render(i, *shots, d),
             "life.mp4": alive}  # fmt: skip
    for name, frame in made.items():
        count = encode(keep / name, frame, n)
        print(f"  {name}: {count} frames decoded back, {(keep / name).stat().st_size / 1e3:.0f} kB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="directory for the MP4s (default: a temporary one)")
    parser.add_argument("--quick", action="store_true", help="three photographs, short clips: a smoke run")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory(prefix="nemo-motion-") as tmpdir:
        tmp = Path(tmpdir)
        paths = photos(tmp)
        if args.quick:
            paths = {k: v for k, v in paths.items() if k in ("coffee", "astronaut", "rocket")}
        scenes = {name: Scene(path, FPS if args.quick else 2 * FPS) for name, path in paths.items()}
        cost(scenes, args.rounds)
        transition_cost(scenes["coffee"], scenes["rocket"], args.rounds)
        life_cost(args.rounds)
        analysis(paths["coffee"])
        smoothness(Scene(paths["coffee"], 12 if args.quick else 40, ease="linear"))
        flatness(scenes)
        edges(scenes)
        print("== one MP4 per mode (1 s, 1080p, libx264), decoded back with PyAV")
        clips(scenes, args.keep or tmp / "clips")


if __name__ == "__main__":
    main()
