#!/usr/bin/python3
"""Does latency track compute from frame to frame? Runs `adarun bench --input` on held-out
procedural scenes of every busyness (1..8 objects; the frames converter/evaluate_model.py uses)
and prints, per object count, the median latency and the MACs executed, each also relative to
the busiest scenes: with the bundled model's content-aware policies both should fall together on
simple scenes. All frames are measured in one run, interleaved over the object counts.

usage: /usr/bin/python3 bench/scene_latency.py [MODEL.adarun] [--frames 2] [--threads 1] [--iters 10]
"""
import argparse
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "converter"))

import numpy as np  # noqa: E402

from adarun_bench import DEFAULT_BINARY, adarun_bench  # noqa: E402
from evaluate_model import DEFAULT_MODEL, EVAL_FIRST_SEED  # noqa: E402
from scenes import MAX_OBJECTS, make_scene  # noqa: E402
from training.data import normalised_image  # noqa: E402


def scene_frames(folder, frames, size):
    """(objects, .npy path) for `frames` held-out scenes per object count, interleaved."""
    paths = []
    for i in range(frames):
        for objects in range(1, MAX_OBJECTS + 1):
            path = os.path.join(folder, f"scene_{objects}_{i}.npy")
            np.save(path, normalised_image(make_scene(EVAL_FIRST_SEED + 1000 * objects + i, size, objects).image))
            paths.append((objects, path))
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=DEFAULT_MODEL)
    parser.add_argument("--frames", type=int, default=2, help="scenes per object count")
    parser.add_argument("--size", type=int, default=224, help="the model's input size")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--adarun", default=DEFAULT_BINARY)
    args = parser.parse_args()
    runs = {}
    with tempfile.TemporaryDirectory() as folder:
        for objects, path in scene_frames(folder, args.frames, args.size):
            run = adarun_bench(args.adarun, args.model, args.threads, args.iters, frame=path)
            runs.setdefault(objects, []).append(run)
            print(f"{objects} objects: {run['median_ms']:.1f} ms, {run['gmacs']:.3f} GMACs", file=sys.stderr, flush=True)
    latency = {k: float(np.median([r["median_ms"] for r in v])) for k, v in runs.items()}
    work = {k: float(np.mean([r["gmacs"] for r in v])) for k, v in runs.items()}
    static = runs[1][0]["macs_static_g"]
    busy = MAX_OBJECTS
    print(f"{args.model}, {runs[1][0]['isa']}, {args.threads} thread(s), {args.frames} scenes per count, "
          f"median of {args.iters} frames each")
    print(f"{'objects':>7} {'median ms':>10} {'GMACs':>7} {'of static':>9} {'ms / busy':>10} {'MACs / busy':>12}")
    for objects in sorted(runs):
        print(f"{objects:>7} {latency[objects]:>10.2f} {work[objects]:>7.3f} {work[objects] / static:>9.1%} "
              f"{latency[objects] / latency[busy]:>10.3f} {work[objects] / work[busy]:>12.3f}")


if __name__ == "__main__":
    main()
