#!/usr/bin/python3
"""How fine must a decoder's map be for the bundled model's normals and edge targets, and where does a
trained model's spatial detail come from? On evaluate_model.py's 64 held-out frames:

- fields: for each R in --fields, a free R x R field per frame, upsampled as a decoder's output is (nearest
  to the 28 x 28 map the heads' branches are summed on, then bilinear to the frame, align_corners=False),
  optimised against that frame's labels alone (normals: cosine on object pixels; edges: the balanced edge
  loss). The best any decoder can do whose map varies only in R x R cells: normals error on object pixels
  and edge F at the best threshold (training/metrics.py).
- with --model: the trained model as is, with each decoder branch's output flattened to its spatial mean
  (no detail from that stage output), and with the heads' 28 x 28 outputs averaged over 2 x 2 and 4 x 4
  cells (detail of 14 x 14 and 7 x 7 only);
- with --model: how well each stage output's tokens tell their own position (row, col): R^2 of ridge
  regression on a token's floats, fitted on 40 of the frames' tokens, on the other 24's (1: position is a
  linear function of the floats; 0: no linear trace of it). The decoders read a stage output token-major
  [L, C] as [C, R, R] with no transpose (engine/SPEC.md), so a token's floats land on pixels far from it, at
  offsets set by its absolute position: a token that cannot tell where it is cannot write what its own
  pixels need.

usage: /usr/bin/python3 converter/resolution_study.py [--fields 7 14 28] [--model MODEL.adarun] [--steps 400]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from evaluate_model import EVAL_FIRST_SEED  # noqa: E402
from scenes import CLASSES, MAX_OBJECTS, make_scene  # noqa: E402
from training.data import normalised_image  # noqa: E402
from training.from_weight_file import model_from_weight_file  # noqa: E402
from training.gating import gated_forward  # noqa: E402
from training.metrics import EDGE_LOGIT_THRESHOLDS, TaskMetrics  # noqa: E402
from training.objectives import edge_loss  # noqa: E402

MAP_SIZE = 28  # the heads' branches are summed on the first stage output's 28 x 28 map (default model)


def held_out_frames(frames_per_level=8, size=224):
    return [make_scene(EVAL_FIRST_SEED + 1000 * objects + i, size, objects)
            for objects in range(1, MAX_OBJECTS + 1) for i in range(frames_per_level)]


def upsample(field, size):
    if field.shape[-1] < MAP_SIZE:
        field = F.interpolate(field, scale_factor=MAP_SIZE // field.shape[-1], mode="nearest")
    return F.interpolate(field, size, mode="bilinear", align_corners=False)


def best_fields(frames, resolution, steps):
    """Per-frame optimal R x R fields: normals [B, 3, S, S] and edge logits [B, 1, S, S]."""
    size = frames[0].image.shape[0]
    normals = torch.from_numpy(np.stack([f.normals for f in frames]))
    objects = torch.from_numpy(np.stack([f.sal > 0 for f in frames]))[:, None].float()
    edges = torch.from_numpy(np.stack([f.edge > 0 for f in frames]))[:, None].float()
    normal_field = torch.zeros(len(frames), 3, resolution, resolution)
    normal_field[:, 2] = 1.0
    edge_field = torch.zeros(len(frames), 1, resolution, resolution)
    fields = [normal_field.requires_grad_(), edge_field.requires_grad_()]
    optimizer = torch.optim.Adam(fields, lr=0.05)
    for _ in range(steps):
        cosine = (F.normalize(upsample(fields[0], size), dim=1) * normals).sum(1, keepdim=True)
        # Each frame's object pixels weigh alike in every frame (the metric pools them over frames).
        loss = -(cosine * objects).sum() / objects.sum() + edge_loss(upsample(fields[1], size), edges, balanced=True)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        return upsample(fields[0], size), upsample(fields[1], size)


def field_metrics(frames, normals, edges):
    metrics = TaskMetrics(len(CLASSES), EDGE_LOGIT_THRESHOLDS)
    for i, frame in enumerate(frames):
        metrics.add("normals", normals[i].numpy(), frame.normals, frame.sal)
        metrics.add("edge", edges[i].numpy(), frame.edge)
    return metrics.summary()


class Ablation:
    """Hooks on every decoder: `branch` flattens that branch's output to its spatial mean; `cells` averages the
    head's pre-upsampling map over cells x cells."""

    def __init__(self, model):
        self.branch, self.cells = None, 1
        for decoder in model.decoders.values():
            for index, branch in enumerate(decoder.fuse):
                branch.register_forward_hook(lambda module, inputs, out, index=index: self._flatten(index, out))
            decoder.segment.register_forward_hook(lambda module, inputs, out: self._coarsen(out))

    def _flatten(self, index, out):
        return out.mean((2, 3), keepdim=True).expand_as(out).contiguous() if index == self.branch else out

    def _coarsen(self, out):
        if self.cells == 1:
            return out
        return F.interpolate(F.avg_pool2d(out, self.cells), scale_factor=self.cells, mode="nearest")


@torch.no_grad()
def stage_outputs(model, frames, batch=8):
    """Every frame's stage outputs as the decoders receive them: a list over stages of [frames, L, C]."""
    captured, outputs = [], []
    decoder = next(iter(model.decoders.values()))
    hook = decoder.register_forward_pre_hook(lambda module, inputs: captured.append(inputs[0]))
    for start in range(0, len(frames), batch):
        images = torch.stack([torch.from_numpy(normalised_image(f.image)) for f in frames[start:start + batch]])
        gated_forward(model, images, gated=True, noise=False)
        outputs.append(captured.pop())
    hook.remove()
    return [torch.cat([chunk[i] for chunk in outputs]) for i in range(len(outputs[0]))]


def position_r2(features, fit_frames, ridge=1.0):
    """R^2 on the other frames of (row, col) predicted from each token's floats by ridge regression fitted on the
    first fit_frames frames."""
    frames, tokens, width = features.shape
    side = int(round(tokens ** 0.5))
    grid = torch.stack(torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij"), -1).reshape(tokens, 2)
    position = (grid.double() / (side - 1)).expand(frames, tokens, 2).reshape(-1, 2)
    x = features.double().reshape(-1, width)
    fit = fit_frames * tokens
    x = torch.cat([(x - x[:fit].mean(0)) / (x[:fit].std(0) + 1e-6), torch.ones(x.shape[0], 1, dtype=torch.float64)], 1)
    weights = torch.linalg.solve(x[:fit].T @ x[:fit] + ridge * torch.eye(width + 1, dtype=torch.float64), x[:fit].T @ position[:fit])
    test = position[fit:]
    residual = ((x[fit:] @ weights - test) ** 2).sum(0)
    return (1 - residual / ((test - test.mean(0)) ** 2).sum(0)).tolist()


@torch.no_grad()
def model_metrics(model, frames, batch=8):
    metrics = TaskMetrics(len(CLASSES), EDGE_LOGIT_THRESHOLDS)
    for start in range(0, len(frames), batch):
        chunk = frames[start:start + batch]
        images = torch.stack([torch.from_numpy(normalised_image(f.image)) for f in chunk])
        logits, _ = gated_forward(model, images, gated=True, noise=False)
        for task, output in logits.items():
            for i, frame in enumerate(chunk):
                target = frame.normals if task == "normals" else getattr(frame, task)
                metrics.add(task, output[i].numpy(), target, frame.sal)
    return metrics.summary()


def format_metrics(summary):
    names = {"semseg_miou": "semseg mIoU", "sal_iou": "saliency IoU", "normals_obj_deg": "normals on objects, deg",
             "edge_f_best": "edge F (best threshold)"}
    return ", ".join(f"{label} {summary[key]:.3f}" for key, label in names.items() if key in summary)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fields", type=int, nargs="*", default=[7, 14, 28], help="field sizes, each dividing 28")
    parser.add_argument("--steps", type=int, default=400, help="optimiser steps per field size")
    parser.add_argument("--model", help="also ablate this weight file's decoders")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if any(r <= 0 or MAP_SIZE % r for r in args.fields):
        parser.error(f"--fields: each size must divide {MAP_SIZE}")
    torch.set_num_threads(args.threads)
    frames = held_out_frames()
    print(f"{len(frames)} held-out frames (evaluate_model.py's)")
    for resolution in args.fields:
        summary = field_metrics(frames, *best_fields(frames, resolution, args.steps))
        print(f"best {resolution} x {resolution} field per frame: {format_metrics(summary)}", flush=True)
    if not args.model:
        return
    model = model_from_weight_file(args.model)
    model.eval()
    ablation = Ablation(model)
    print(f"{args.model}: {format_metrics(model_metrics(model, frames))}")
    for branch in range(len(next(iter(model.decoders.values())).fuse)):
        ablation.branch = branch
        print(f"  branch {branch} (stage output {branch}) flattened: {format_metrics(model_metrics(model, frames))}", flush=True)
    ablation.branch = None
    for cells in (2, 4):
        ablation.cells = cells
        side = MAP_SIZE // cells
        print(f"  heads' maps averaged to {side} x {side}: {format_metrics(model_metrics(model, frames))}", flush=True)
    ablation.cells = 1
    for index, features in enumerate(stage_outputs(model, frames)):
        side = int(round(features.shape[1] ** 0.5))
        row, col = position_r2(features, 40)
        print(f"  stage output {index} ({side} x {side} tokens of {features.shape[2]}): position R^2 row {row:.2f} col {col:.2f}",
              flush=True)


if __name__ == "__main__":
    main()
