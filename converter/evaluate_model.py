#!/usr/bin/python3
"""Evaluates a trained scene model on held-out scenes, in PyTorch (the project's reference) and in
adarun (`adarun infer` on the same frames as .npy inputs), and checks that the two agree.

For each busyness level (1..8 objects) it renders --frames held-out scenes and reports:
- metrics for both: semseg mIoU, saliency IoU, normals mean angle error (all pixels, object pixels
  alone, and by object class beside the constant answer's: which shapes the error comes from), edge
  F-score (at logit 0, the model's decision; and at the logit threshold best on these frames, for
  comparison with the Sobel baseline);
- baselines that see no model, on the same frames (training/metrics.py Baselines): the normals error
  on object pixels of the constant answer (0, 0, 1), facing the camera (the background's normal);
  the edge F of a Sobel detector on the input (gradient magnitude of the grey image over its frame
  maximum, at the threshold best on these frames: its most generous form) and of the best constant
  answer (every pixel an edge);
- agreement: every output within the parity tolerance 1e-4 * max(1, max|ref|), identical block
  gates, tokens kept and MACs;
- adarun's MACs executed (stats.json) against objects per frame: a table and a plot.
Writes into --out: table.txt, macs_vs_objects.png, frames.json.

The PyTorch side is the training checkpoint when given (--checkpoint: the converter's own input,
the independent check), else the weight file mapped back to the reference model
(training/from_weight_file.py), which a fresh clone can always do.

usage: /usr/bin/python3 converter/evaluate_model.py [MODEL.adarun] [--checkpoint CHECKPOINT.pth]
       [--frames 8] [--out out/eval] [--gate-threshold T] [--adarun build/engine/adarun]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from adarun_convert.infer_config import infer_config  # noqa: E402
from adarun_convert.safe_load import load_checkpoint  # noqa: E402
from adarun_ref import MultiTaskSwin  # noqa: E402
from figures.plot import scatter_with_mean  # noqa: E402
from figures.png import write_png  # noqa: E402
from scenes import CLASSES, MAX_OBJECTS, make_scene  # noqa: E402
from training.data import normalised_image  # noqa: E402
from training.from_weight_file import model_from_weight_file  # noqa: E402
from training.metrics import EDGE_LOGIT_THRESHOLDS, Baselines, TaskMetrics  # noqa: E402

EVAL_FIRST_SEED = 500_000  # apart from training (>= 1e6) and validation (0..) scenes
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ADARUN = os.path.join(HERE, "..", "build", "engine", "adarun")
DEFAULT_MODEL = os.path.join(HERE, "model", "default.adarun")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=DEFAULT_MODEL, help="weight file (default: the bundled model)")
    parser.add_argument("--checkpoint", help="the research-format checkpoint the weight file was converted from")
    parser.add_argument("--frames", type=int, default=8, help="frames per number of objects")
    parser.add_argument("--out", default="out/eval")
    parser.add_argument("--gate-threshold", type=float, default=0.0, help="for both (0: the trained decisions)")
    parser.add_argument("--adarun", default=DEFAULT_ADARUN)
    return parser.parse_args()


def reference_model(args):
    """The checkpoint exactly as the converter reads it, or else the weight file mapped back."""
    if not args.checkpoint:
        return model_from_weight_file(args.model)
    state, embedded = load_checkpoint(args.checkpoint)
    cfg, _ = infer_config(state, embedded)
    model = MultiTaskSwin(cfg).eval()
    model.load_state_dict(state)
    return model


def run_adarun(binary, model, frame, threshold, out):
    command = [binary, "infer", "--model", model, "--input", frame, "--out", out, "--gate-threshold", repr(threshold)]
    subprocess.run(command, check=True, capture_output=True, text=True)
    with open(os.path.join(out, "stats.json")) as f:
        stats = json.load(f)
    return {task: np.load(os.path.join(out, task + ".npy")) for task in stats["tasks"]}, stats


def disagreements(ref, ref_stats, got, got_stats):
    """What differs between PyTorch's and adarun's frame, as strings (empty: they agree)."""
    found = []
    tolerance = 1e-4 * max(1.0, max(float(np.abs(v).max()) for v in ref.values()))
    for task, want in ref.items():
        error = float(np.abs(got[task] - want).max())
        if error > tolerance:
            found.append(f"{task} max|diff| {error:.3g} > {tolerance:.3g}")
    for key in ("blocks", "tokens_kept", "macs_executed", "macs_static"):
        if got_stats[key] != ref_stats[key]:
            found.append(f"{key} differs")
    return found


def tokens_kept_on_objects(token_masks, sal):
    """Of the tokens of run blocks, the fractions kept on objects (a token whose patch holds any object
    pixel) and on background: whether the token policies find the content. (kept, of) pairs."""
    counts = np.zeros(4, np.int64)  # kept on objects, object tokens, kept on background, background tokens
    for masks in token_masks:
        for mask in masks:
            if mask is None:
                continue
            kept = np.frombuffer(mask.encode(), np.uint8) == ord("1")
            side = int(round(np.sqrt(kept.size)))
            cell = sal.shape[0] // side
            on_object = sal.reshape(side, cell, side, cell).any(axis=(1, 3)).reshape(-1)
            counts += [np.sum(kept & on_object), np.sum(on_object), np.sum(kept & ~on_object), np.sum(~on_object)]
    return counts


def evaluate_frame(model, args, scene, workdir, metrics):
    """One frame through both; returns its record. metrics: {'pytorch': TaskMetrics, 'adarun': ...,
    objects: adarun's TaskMetrics of the frames with that many objects}."""
    image = normalised_image(scene.image)
    frame = os.path.join(workdir, "frame.npy")
    np.save(frame, image)
    outputs, ref_stats = model.run(torch.from_numpy(image)[None], threshold=args.gate_threshold)
    ref = {task: v[0].numpy() for task, v in outputs.items()}
    got, got_stats = run_adarun(args.adarun, args.model, frame, args.gate_threshold, os.path.join(workdir, "out"))
    for name, logits in (("pytorch", ref), ("adarun", got), (scene.objects, got)):
        for task, output in logits.items():
            metrics[name].add(task, output, getattr(scene, task), scene.semseg)
    metrics["baselines"].add(scene.image, scene.normals, scene.semseg, scene.edge)
    tokens = sum(sum(stage) for stage in got_stats["tokens_kept"])
    all_tokens = sum(len(stage) * (model.config.stage(i)[1] ** 2) for i, stage in enumerate(got_stats["tokens_kept"]))
    return {"objects": scene.objects, "macs_executed": got_stats["macs_executed"], "macs_static": got_stats["macs_static"],
            "tokens_kept": tokens / all_tokens,
            "token_counts_objects_background": tokens_kept_on_objects(ref_stats["token_masks"], scene.sal > 0).tolist(),
            "adarun_ms": got_stats["milliseconds"],
            "disagreements": disagreements(ref, ref_stats, got, got_stats)}


def busyness_table(records, metrics):
    """Per object count: compute, and adarun's metrics on those frames alone."""
    swept = ("edge_f_best", "edge_threshold", "edge_precision_best", "edge_recall_best")  # over all frames only
    names = [name for name in metrics["adarun"].summary() if name not in swept]
    lines = [f"{'objects':>7} {'frames':>6} {'GMACs':>7} {'of static':>9} {'tokens kept':>11} {'on objects':>10} "
             f"{'on backgr.':>10} {'adarun ms':>9} "
             + " ".join(f"{name:>11}" for name in names)]
    for objects in range(1, MAX_OBJECTS + 1):
        rows = [r for r in records if r["objects"] == objects]
        if rows:
            macs = np.mean([r["macs_executed"] for r in rows])
            summary = metrics[objects].summary()
            counts = np.sum([r["token_counts_objects_background"] for r in rows], axis=0)
            lines.append(f"{objects:>7} {len(rows):>6} {macs / 1e9:>7.3f} {macs / rows[0]['macs_static']:>9.1%} "
                         f"{np.mean([r['tokens_kept'] for r in rows]):>11.1%} {counts[0] / max(counts[1], 1):>10.1%} "
                         f"{counts[2] / max(counts[3], 1):>10.1%} {np.mean([r['adarun_ms'] for r in rows]):>9.1f} "
                         + " ".join(f"{summary.get(name, float('nan')):>11.4f}" for name in names))
    return lines


def simple_versus_busy(records):
    """MACs kept (executed / static) on the simplest and the busiest frames."""
    kept = {n: np.mean([r["macs_executed"] / r["macs_static"] for r in records if r["objects"] == n])
            for n in (1, MAX_OBJECTS)}
    return (f"MACs kept: {kept[1]:.1%} of static with 1 object, {kept[MAX_OBJECTS]:.1%} with {MAX_OBJECTS} "
            f"(simple / busy = {kept[1] / kept[MAX_OBJECTS]:.2f})")


METRIC_NAMES = {"semseg_miou": "semseg mIoU", "sal_iou": "saliency IoU", "normals_deg": "normals mean angle error, deg",
                "normals_obj_deg": "normals, on object pixels, deg", "edge_f": "edge F (logit > 0)",
                "edge_f_best": "edge F at its best threshold here", "edge_precision_best": "  there: precision",
                "edge_recall_best": "  there: recall"}


def metrics_table(metrics):
    pytorch, adarun = metrics["pytorch"].summary(), metrics["adarun"].summary()
    lines = [f"{'metric':>34} {'PyTorch':>8} {'adarun':>8}"]
    for name in pytorch:
        extra = f"  (logit > {pytorch['edge_threshold']:g}; adarun > {adarun['edge_threshold']:g})" if name == "edge_f_best" else ""
        if name != "edge_threshold":
            lines.append(f"{METRIC_NAMES.get(name, name):>34} {pytorch[name]:>8.4f} {adarun[name]:>8.4f}{extra}")
    baselines = metrics["baselines"].summary()
    lines += ["baselines (no model, same frames):",
              f"{'normals, object pixels, (0, 0, 1)':>34} {baselines['normals_obj_deg_constant']:>8.4f} deg",
              f"{'edge F, Sobel, best threshold':>34} {baselines['edge_f_sobel']:>8.4f}  (magnitude > "
              f"{baselines['edge_sobel_threshold']:g} of the frame's largest, chosen on these frames; precision "
              f"{baselines['edge_sobel_precision']:.4f}, recall {baselines['edge_sobel_recall']:.4f})",
              f"{'edge F, constant (all edge)':>34} {baselines['edge_f_constant']:>8.4f}"]
    return lines + normals_by_class_table(metrics)


def normals_by_class_table(metrics):
    """The normals error on object pixels per object class: which shapes the error comes from."""
    pytorch, adarun = metrics["pytorch"].normals_obj_deg_by_class(), metrics["adarun"].normals_obj_deg_by_class()
    constant = metrics["baselines"].normals_obj_deg_by_class()
    shares = metrics["baselines"].object_pixel_shares()
    lines = [f"normals on object pixels by class, deg: {'PyTorch':>8} {'adarun':>8} {'(0, 0, 1)':>9}  "
             "share of object pixels"]
    for c in sorted(pytorch):
        lines.append(f"{CLASSES[c]:>38} {pytorch[c]:>8.2f} {adarun[c]:>8.2f} {constant[c]:>9.2f}  {shares[c]:.1%}")
    return lines


def main():
    args = parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    model = reference_model(args)
    metrics = {key: TaskMetrics(len(CLASSES)) for key in ["pytorch", "adarun", *range(1, MAX_OBJECTS + 1)]}
    for key in ("pytorch", "adarun"):
        metrics[key] = TaskMetrics(len(CLASSES), edge_thresholds=EDGE_LOGIT_THRESHOLDS)
    metrics["baselines"] = Baselines(len(CLASSES))
    records = []
    with tempfile.TemporaryDirectory() as workdir:
        for objects in range(1, MAX_OBJECTS + 1):
            for i in range(args.frames):
                scene = make_scene(EVAL_FIRST_SEED + 1000 * objects + i, model.config.img_size, objects)
                records.append(evaluate_frame(model, args, scene, workdir, metrics))
    failed = [r for r in records if r["disagreements"]]
    source = args.checkpoint or f"{args.model} mapped back"
    lines = [f"{len(records)} held-out frames, gate threshold {args.gate_threshold}; PyTorch: {source}", ""]
    lines += metrics_table(metrics) + [""] + busyness_table(records, metrics) + [simple_versus_busy(records), ""]
    lines.append(f"agreement: {len(records) - len(failed)} of {len(records)} frames agree (outputs, gates, MACs)")
    lines += [f"  frame with {r['objects']} objects: {'; '.join(r['disagreements'])}" for r in failed]
    print("\n".join(lines))
    with open(os.path.join(args.out, "table.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(args.out, "frames.json"), "w") as f:
        json.dump(records, f, indent=1)
    write_png(os.path.join(args.out, "macs_vs_objects.png"), scatter_with_mean(
        [r["objects"] for r in records], [r["macs_executed"] / r["macs_static"] for r in records],
        list(range(1, MAX_OBJECTS + 1)), (0.0, 1.2), x_label="OBJECTS PER FRAME", y_label="MACS KEPT OF STATIC"))
    print(f"wrote {args.out}/table.txt, frames.json, macs_vs_objects.png (MACs executed / static against objects)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
