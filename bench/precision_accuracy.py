#!/usr/bin/python3
"""What fp16 and int8 weights cost in accuracy: the same frames through `adarun infer` with a model's fp32, fp16
and int8 weight files (converter/convert.py --weights; made from the fp32 file when not given).

Per model and precision, against the fp32 file's run of the same frame:
- output error: per frame and task, max|out - out_fp32| / max|out_fp32|; the median and worst over the frames;
- gate agreement: the share of block decisions (per stage and block: ran or skipped) and of token decisions (per
  token of every block that ran in both) equal to fp32's, and of both together;
- MACs executed, relative to fp32's.
For the bundled model also the held-out metrics of evaluate_model.py (semseg mIoU, saliency IoU, normals angle on
all and on object pixels, edge F) per precision, on its held-out scenes.

usage: /usr/bin/python3 bench/precision_accuracy.py [--frames 8] [--model NAME=FP32.adarun ...] [--out out/precision]
  --frames: held-out scenes per object count for the bundled model (8: the 64 of evaluate_model.py)
  --model: more models (random-weight ones: output error and gate agreement only), run on tests/data/scene.png
           and the bundled sample scenes, e.g. --model swin_t=build/demo/swin_t_fp32.adarun
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, os.path.join(ROOT, "converter"))

from evaluate_model import EVAL_FIRST_SEED  # noqa: E402
from scenes import CLASSES, MAX_OBJECTS, make_scene  # noqa: E402
from training.data import normalised_image  # noqa: E402
from training.metrics import TaskMetrics  # noqa: E402

PRECISIONS = ("fp32", "fp16", "int8")
ADARUN = os.path.join(ROOT, "build", "engine", "adarun")
BUNDLED = os.path.join(ROOT, "converter", "model", "default.adarun")
SAMPLES = os.path.join(ROOT, "converter", "model", "samples")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=8, help="held-out scenes per object count, bundled model")
    parser.add_argument("--model", action="append", default=[], metavar="NAME=FP32.adarun")
    parser.add_argument("--out", default="out/precision")
    parser.add_argument("--adarun", default=ADARUN)
    return parser.parse_args()


def precision_files(fp32, workdir, name):
    """{precision: weight file}: the fp32 file and its fp16 and int8 re-encodings."""
    files = {"fp32": fp32}
    for precision in PRECISIONS[1:]:
        path = os.path.join(workdir, f"{name}_{precision}.adarun")
        subprocess.run([sys.executable, os.path.join(ROOT, "converter", "convert.py"), fp32, "-o", path, "--weights", precision],
                       check=True, capture_output=True)
        files[precision] = path
    return files


def run(binary, model, frame, out):
    subprocess.run([binary, "infer", "--model", model, "--input", frame, "--out", out], check=True, capture_output=True)
    with open(os.path.join(out, "stats.json")) as f:
        stats = json.load(f)
    return {task: np.load(os.path.join(out, task + ".npy")) for task in stats["tasks"]}, stats


class Agreement:
    """Decisions and output errors of one precision against fp32, over frames."""

    def __init__(self):
        self.blocks = [0, 0]  # equal, compared
        self.tokens = [0, 0]
        self.errors = []      # per frame and task
        self.macs = []        # executed / fp32's

    def add(self, outputs, stats, base_outputs, base_stats):
        for task, base in base_outputs.items():
            self.errors.append(float(np.abs(outputs[task] - base).max() / max(np.abs(base).max(), 1e-30)))
        self.macs.append(stats["macs_executed"] / base_stats["macs_executed"])
        for stage, base_stage in zip(stats["blocks"], base_stats["blocks"]):
            self.blocks[0] += sum(a == b for a, b in zip(stage, base_stage))
            self.blocks[1] += len(base_stage)
        for stage, base_stage in zip(stats["token_gates"], base_stats["token_gates"]):
            for gates, base_gates in zip(stage, base_stage):
                if gates and base_gates:  # the block ran in both, with token gating
                    equal = np.frombuffer(gates.encode(), np.uint8) == np.frombuffer(base_gates.encode(), np.uint8)
                    self.tokens[0] += int(equal.sum())
                    self.tokens[1] += equal.size

    def summary(self):
        both = (self.blocks[0] + self.tokens[0]) / max(self.blocks[1] + self.tokens[1], 1)
        return {"output_rel_err_median": float(np.median(self.errors)), "output_rel_err_max": float(np.max(self.errors)),
                "block_agreement": self.blocks[0] / max(self.blocks[1], 1),
                "token_agreement": self.tokens[0] / self.tokens[1] if self.tokens[1] else float("nan"),  # nan: no token gates
                "gate_agreement": both, "blocks_compared": self.blocks[1], "tokens_compared": self.tokens[1],
                "macs_vs_fp32_min": float(np.min(self.macs)), "macs_vs_fp32_max": float(np.max(self.macs))}


def compare(binary, files, frames, workdir, on_frame=None):
    """Runs every frame through every precision; {precision: Agreement} (fp32 against itself included)."""
    agreements = {precision: Agreement() for precision in files}
    for index, frame in enumerate(frames):
        runs = {p: run(binary, path, frame, os.path.join(workdir, f"{p}_{index}")) for p, path in files.items()}
        for precision, (outputs, stats) in runs.items():
            agreements[precision].add(outputs, stats, *runs["fp32"])
            if on_frame:
                on_frame(precision, index, outputs)
    return agreements


def bundled_model(args, workdir):
    """The bundled model on its held-out scenes: metrics and agreement per precision."""
    files = precision_files(BUNDLED, workdir, "bundled")
    scenes, frames = [], []
    for objects in range(1, MAX_OBJECTS + 1):
        for i in range(args.frames):
            scene = make_scene(EVAL_FIRST_SEED + 1000 * objects + i, 224, objects)
            path = os.path.join(workdir, f"scene_{objects}_{i}.npy")
            np.save(path, normalised_image(scene.image))
            scenes.append(scene)
            frames.append(path)
    metrics = {p: TaskMetrics(len(CLASSES)) for p in files}

    def add_metrics(precision, index, outputs):
        scene = scenes[index]
        for task, output in outputs.items():
            metrics[precision].add(task, output, getattr(scene, task), scene.sal)

    agreements = compare(args.adarun, files, frames, workdir, add_metrics)
    sizes = {p: os.path.getsize(path) for p, path in files.items()}
    return {p: {"file_bytes": sizes[p], **metrics[p].summary(), **agreements[p].summary()} for p in files}, len(frames)


def other_model(args, name, fp32, workdir):
    files = precision_files(fp32, workdir, name)
    frames = [os.path.join(ROOT, "tests", "data", "scene.png")] + sorted(
        os.path.join(SAMPLES, f) for f in os.listdir(SAMPLES) if f.endswith(".png"))
    agreements = compare(args.adarun, files, frames, workdir)
    return {p: {"file_bytes": os.path.getsize(path), **agreements[p].summary()} for p, path in files.items()}, len(frames)


def table(name, results, frames):
    keys = [k for k in results["fp32"] if k not in ("blocks_compared", "tokens_compared")]
    lines = [f"{name}: {frames} frames; blocks compared {results['int8']['blocks_compared']}, "
             f"tokens compared {results['int8']['tokens_compared']} (int8)",
             f"{'':26}" + "".join(f"{p:>14}" for p in results)]
    for key in keys:
        cells = []
        for p in results:
            value = results[p][key]
            cells.append(f"{value / 1e6:>11.2f} MB" if key == "file_bytes" else f"{value:>14.4g}")
        lines.append(f"{key:26}" + "".join(cells))
    return lines


def main():
    args = parse_args()
    os.makedirs(args.out, exist_ok=True)
    report, lines = {}, []
    with tempfile.TemporaryDirectory() as workdir:
        report["bundled"], frames = bundled_model(args, workdir)
        lines += table("bundled model (held-out scenes)", report["bundled"], frames) + [""]
        for spec in args.model:
            name, path = spec.split("=", 1)
            report[name], frames = other_model(args, name, path, workdir)
            lines += table(name, report[name], frames) + [""]
    print("\n".join(lines))
    with open(os.path.join(args.out, "precision.json"), "w") as f:
        json.dump(report, f, indent=1)
    with open(os.path.join(args.out, "table.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {args.out}/table.txt, precision.json")


if __name__ == "__main__":
    main()
