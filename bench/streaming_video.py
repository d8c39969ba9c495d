#!/usr/bin/python3
"""Does streaming pay on video, and how far does it drift? Procedural videos from the scene generator
(converter/scenes): a static scene with one small object moving a pixel or two a frame, a camera pan, and a
cut to another scene halfway; each runs through bench/stream_bench.cpp, a streamed session beside per-frame
runs of the same model, frame by frame: latency, MACs, tokens reused and each task's drift from the per-frame
answer (class maps: pixel agreement; saliency and edges: IoU; normals: mean angle in degrees).
With --noise SIGMA every frame gets fresh camera noise (Gaussian, SIGMA grey levels), the streamed session is told
that noise (--stream-noise, unless given), and a fourth video, a still scene with noise alone, shows how far per-frame
answers wander under the noise itself: a streamed frame there is an older frame's answer, so its drift is the
per-frame answer's own spread.

usage: /usr/bin/python3 bench/streaming_video.py [--model converter/model/default.adarun]
           [--bench build/bench/adarun_stream_bench] [--frames 24] [--threshold 0.05] [--refresh 16] [--cap 1]
           [--passes 3] [--noise SIGMA] [--stream-noise G]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "converter"))

from scenes.generator import make_scene  # noqa: E402

MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def normalise(image):
    """uint8 [S, S, 3] -> the model's input [3, S, S] (engine/SPEC.md 1; at the model's size the resize is exact)."""
    return ((image.astype(np.float32) / 255.0 - MEAN) / STD).transpose(2, 0, 1)


def sprite(seed, size):
    """One object of a one-object scene: its pixels and mask, cropped to the object."""
    scene = make_scene(seed, size=size, objects=1)
    ys, xs = np.nonzero(scene.sal)
    box = slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1)
    return scene.image[box], scene.sal[box].astype(bool)


def paste(background, pixels, mask, y, x):
    frame = background.copy()
    h, w = mask.shape
    y, x = int(np.clip(y, 0, frame.shape[0] - h)), int(np.clip(x, 0, frame.shape[1] - w))
    region = frame[y:y + h, x:x + w]
    region[mask] = pixels[mask]
    return frame


def small_motion(size, frames, seed=11):
    """A static three-object scene; one more object drifts 1.5 pixels a frame."""
    background = make_scene(seed, size=size, objects=3).image
    pixels, mask = sprite(seed + 1, size)
    return [paste(background, pixels, mask, size * 0.3 + 0.5 * t, size * 0.2 + 1.5 * t) for t in range(frames)]


def pan(size, frames, seed=21):
    """A camera panning 2 pixels a frame over a wider five-object scene."""
    wide = make_scene(seed, size=size + 2 * frames, objects=5).image
    return [wide[frames // 2:frames // 2 + size, 2 * t:2 * t + size] for t in range(frames)]


def cut(size, frames, seed=31):
    """Small motion, then a cut to another scene halfway."""
    first = small_motion(size, frames // 2, seed)
    second = small_motion(size, frames - frames // 2, seed + 100)
    return first + second


def still(size, frames, seed=11):
    """The small-motion video's static scene, nothing moving."""
    return [make_scene(seed, size=size, objects=3).image] * frames


def with_noise(video, sigma, seed=5):
    """Each frame with fresh Gaussian camera noise of sigma grey levels, rounded and clipped to 8 bits."""
    generator = np.random.default_rng(seed)
    return [np.clip(frame + generator.normal(0.0, sigma, frame.shape), 0, 255).round().astype(np.uint8) for frame in video]


def run(bench, model, video, args):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "frames.npy")
        np.save(path, np.stack([normalise(frame) for frame in video]).astype(np.float32))
        command = [bench, model, path, "--threshold", str(args.threshold), "--refresh", str(args.refresh), "--cap", str(args.cap),
                   "--noise", str(args.stream_noise), "--passes", str(args.passes), "--json"]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"{' '.join(command)}: {result.stderr.strip()}")
        return json.loads(result.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=os.path.join(ROOT, "converter/model/default.adarun"))
    parser.add_argument("--bench", default=os.path.join(ROOT, "build/bench/adarun_stream_bench"))
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--size", type=int, default=224, help="the model's input size")
    parser.add_argument("--threshold", type=float, default=0.05)
    parser.add_argument("--refresh", type=int, default=16)
    parser.add_argument("--cap", type=float, default=1.0)
    parser.add_argument("--passes", type=int, default=3, help="runs of each video; a frame's time is its fastest")
    parser.add_argument("--noise", type=float, default=0.0, help="camera noise on every frame, grey levels (Gaussian sigma)")
    parser.add_argument("--stream-noise", type=float, help="the noise the streamed session is told (default: --noise)")
    parser.add_argument("--per-frame", action="store_true", help="print every frame, not only the summaries")
    args = parser.parse_args()
    if args.stream_noise is None:
        args.stream_noise = args.noise
    print(f"threshold {args.threshold}, refresh every {args.refresh} frames, cap {args.cap}; {args.frames} frames each, "
          f"each frame's fastest of {args.passes} passes" + (f"; camera noise {args.noise:g} grey levels" if args.noise else "")
          + (f", the session told {args.stream_noise:g}" if args.stream_noise != args.noise or args.noise else ""))
    videos = [("small motion", small_motion), ("pan", pan), ("cut", cut)] + ([("still, noise", still)] if args.noise else [])
    for name, make in videos:
        video = make(args.size, args.frames)
        report = run(args.bench, args.model, with_noise(video, args.noise) if args.noise else video, args)
        frames = report["frames"]
        tasks = list(frames[0]["drift"])
        worst = {}
        for task in tasks:
            values = [f["drift"][task] for f in frames]
            worst[task] = max(values) if task in ("normals", "depth") else min(values)
        print(f"{name:13s} latency {report['median_per_frame_ms']:.2f} -> {report['median_streamed_ms']:.2f} ms "
              f"({report['latency_ratio']:.2f}x), MACs {report['mac_ratio']:.2f}x fewer, tokens reused "
              f"{np.mean([f['tokens_reused'] for f in frames]):.2f}; worst frame: "
              + ", ".join(f"{task} {worst[task]:.4f}" for task in tasks))
        if args.per_frame:
            for f in frames:
                print(f"  frame {f['frame']:3d}: {f['per_frame_ms']:.2f} / {f['streamed_ms']:.2f} ms, MACs {f['mac_fraction']:.3f}, "
                      f"reused {f['tokens_reused']:.3f}, " + ", ".join(f"{t} {v:.4f}" for t, v in f["drift"].items()))


if __name__ == "__main__":
    main()
