#!/usr/bin/python3
"""Writes the sample scenes bundled beside the default model: held-out procedural scenes (seeds
apart from training and validation) from simple to busy, as PNGs for `adarun infer --input`.

usage: /usr/bin/python3 converter/make_sample_scenes.py [--out converter/model/samples]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from figures.png import write_png  # noqa: E402
from scenes import make_scene  # noqa: E402

SAMPLE_FIRST_SEED = 600_000  # below training (>= 1e6), apart from validation (0..) and evaluation (5e5..)
SAMPLE_OBJECTS = (1, 3, 5, 8)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "model", "samples"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for objects in SAMPLE_OBJECTS:
        path = os.path.join(args.out, f"scene_{objects}_objects.png")
        write_png(path, make_scene(SAMPLE_FIRST_SEED + objects, 224, objects).image)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
