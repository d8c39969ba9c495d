#!/usr/bin/python3
"""Trains the bundled default model (training/default_model.py) on procedural scenes, in the
AdaMTL stages: 'dense' (backbone and decoders, every block and token on), 'policies' (only the
block and token controllers, with the compute targets), 'joint' (everything, compute targets kept).
Each frame's compute target grows with its busyness (training/objectives.py), so that simple
frames are trained to cost less than busy ones.

--from-weights MODEL.adarun fine-tunes a converted model instead (training/from_weight_file.py):
the schedule is then only 'policies' and 'joint', with the BatchNorms frozen (a weight file
holds them folded into the convolutions). This is how the bundled model was made content-aware
on a CPU from the first, GPU-trained one. With --train-decoders TASKS it trains only those tasks'
decoders: the backbone, the policies and the other decoders (their outputs, the gates, the MACs)
stay exactly the weight file's, and calibrated.pth takes a trained decoder only where its task's
validation metrics are all at least the weight file's.

The schedule spans --total-minutes of training (or --total-steps), possibly over several runs:
each run trains at most --minutes (start-up, validation and saving included), then saves and
stops; the next run with the same --out resumes. On a CPU, --processes N trains data-parallel
(training/parallel.py): N processes, each with its share of every batch, average their gradients.
Writes into --out: checkpoint.pth (research format; the resume point, with progress.json: step,
training time, stage), calibrated.pth (the same with the edge decision threshold moved to the one
best on the validation frames; the file to convert with converter/convert.py) and log.txt.

usage: python3 converter/train_default_model.py [--device auto|cpu|cuda] [--minutes M]
       [--total-minutes T | --total-steps N] [--out build/train] [--batch B] [--threads N] [--processes N]
       [--from-weights MODEL.adarun [--train-decoders TASK[,TASK]]] [--fine-tune-policies F] [--compute-simple F] [--compute-busy F]
       [--normals-loss objects|mean] [--normals-object-share F] [--edge-loss balanced|fixed]
       [--task-weight TASK=W ...] [--position-embedding]
"""
import argparse
import contextlib
import copy
import json
import math
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from adarun_ref.checkpoint import load_own_checkpoint, save_research_checkpoint  # noqa: E402
from scenes import CLASSES, MAX_OBJECTS  # noqa: E402
from training.cpu_autocast import cpu_bf16_autocast  # noqa: E402
from training.data import TRAIN_FIRST_SEED, TRAIN_SCENES, SceneSet, ShareOfBatches  # noqa: E402
from training.default_model import POSITION_EMBEDDING, new_model, policy_parameters, with_position_embedding  # noqa: E402
from training.from_weight_file import freeze_batch_norm, model_from_weight_file  # noqa: E402
from training.gating import gated_forward  # noqa: E402
from training.metrics import EDGE_LOGIT_THRESHOLDS, TaskMetrics  # noqa: E402
from training.parallel import DataParallel, free_port  # noqa: E402
from training.objectives import (EDGE_LOSSES, NORMALS_LOSSES, NORMALS_OBJECT_SHARE, TASK_WEIGHTS, compute_loss,  # noqa: E402
                                 frame_compute_targets, task_losses)

# (name, end of the stage as a fraction of the schedule, learning rate, policies gated, what trains)
STAGES = [("dense", 0.5, 1e-3, False, "all"), ("policies", 0.7, 1e-3, True, "policies"), ("joint", 1.0, 3e-4, True, "all")]
FINE_TUNE_POLICIES_SHARE = 0.4  # of a fine-tune's schedule, the policies alone; then joint
# In a fine-tune, a position embedding (added at zero) has to grow to the patch embedding's scale (LayerNorm,
# ~0.7) at the late, low learning rates of the rest of the model; a new model trains it like the rest.
FINE_TUNE_POSITION_EMBEDDING_LR_SCALE = 100.0


def fine_tune_stages(policies_share):
    return [("policies", policies_share, 1e-3, True, "policies"), ("joint", 1.0, 2e-4, True, "all")]


def decoder_stages(tasks):
    """--train-decoders: those tasks' decoders alone, on the inference gates (what they will see); every other
    output stays bit for bit the weight file's."""
    return [("decoders", 1.0, 1e-3, True, tuple(tasks))]


CPU_BATCH = 8  # the default batch on a CPU (32 on a GPU)
WARMUP_STEPS = 100   # after every (re)start of the optimizer: a new stage, or a resumed run
SAVE_EVERY_S = 120   # a run killed from outside loses at most this much
FINISH_MARGIN_S = 30  # kept free at the end of a run for the last validation and save
VAL_FIRST_SEED = 0
EDGE_BIAS = "decoders.edge.segment.3.bias"  # the edge decoder's last convolution: logits = ... + this
# Each task's validation metrics, +1 where higher is better: a decoder trained alone (--train-decoders) goes into
# calibrated.pth only if none of its task's is worse than the weight file's.
TASK_METRICS = {"semseg": {"semseg_miou": 1}, "sal": {"sal_iou": 1}, "normals": {"normals_deg": -1, "normals_obj_deg": -1},
                "edge": {"edge_f_best": 1}}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (cuda if available), cpu or cuda")
    parser.add_argument("--minutes", type=float, default=8.0, help="wall-clock budget of this run")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--total-minutes", type=float, default=14.0,
                        help="training time of the whole schedule, over all runs (two runs of --minutes 8 train about 14)")
    budget.add_argument("--total-steps", type=int, help="steps of the whole schedule instead of minutes (smoke runs)")
    parser.add_argument("--out", default="build/train")
    parser.add_argument("--batch", type=int, help="default 32 on cuda, 8 on cpu")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on cpu (per process)")
    parser.add_argument("--processes", type=int, default=1,
                        help="on cpu: data-parallel training processes, each with its share of every batch and --threads "
                             "threads, gradients averaged (default 1)")
    parser.add_argument("--from-weights", help="fine-tune this AdaMTL weight file (policies, then joint) instead of training anew")
    parser.add_argument("--cpu-bf16", action="store_true",
                        help="on cpu: run forward and loss under bf16 autocast (weights, gradients and the optimizer stay "
                             "fp32), as cuda runs always do; fast only where oneDNN has AMX or AVX512-BF16")
    parser.add_argument("--workers", type=int, help="scene generator processes (default: cores - 2, 0 on cpu)")
    parser.add_argument("--train-decoders", type=decoder_tasks, metavar="TASK[,TASK]",
                        help="with --from-weights: train only these tasks' decoders (backbone, policies and the other "
                             "decoders fixed, so their outputs, the gates and the MACs stay the file's)")
    parser.add_argument("--fine-tune-policies", type=float, default=FINE_TUNE_POLICIES_SHARE,
                        help="with --from-weights: the share of the schedule that trains the policies alone (0: joint only)")
    parser.add_argument("--normals-loss", choices=NORMALS_LOSSES, default="objects",
                        help="objects: object pixels weigh --normals-object-share of the normals loss; mean: every pixel alike")
    parser.add_argument("--normals-object-share", type=float, default=NORMALS_OBJECT_SHARE)
    parser.add_argument("--edge-loss", choices=EDGE_LOSSES, default="balanced",
                        help="balanced: HED-style class balance from the batch's edge / non-edge ratio; fixed: edges weigh 10")
    parser.add_argument("--task-weight", action="append", default=[], type=task_weight, metavar="TASK=W",
                        help=f"a task's weight in the loss (repeatable; defaults: "
                             f"{', '.join(f'{t}={w:g}' for t, w in TASK_WEIGHTS.items())})")
    parser.add_argument("--position-embedding", action="store_true",
                        help="add an absolute position embedding (zeros: the model starts unchanged) if the model has none; "
                             f"in a fine-tune a position embedding trains at {FINE_TUNE_POSITION_EMBEDDING_LR_SCALE:g} x the learning "
                             "rate; never with weight decay")
    parser.add_argument("--compute-simple", type=float, default=0.3,
                        help="fraction of backbone block MACs to keep on the simplest scenes (1 object, plain)")
    parser.add_argument("--compute-busy", type=float, default=0.8, help="... on the busiest (8 objects, cluttered)")
    parser.add_argument("--compute-weight", type=float, default=4.0)
    parser.add_argument("--val-frames", type=int, default=64)
    parser.add_argument("--val-every", type=float, default=90.0, help="seconds between validations")
    parser.add_argument("--log-every", type=int, default=25, help="steps between log lines")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    args.task_weights = {**TASK_WEIGHTS, **dict(args.task_weight)}
    if args.train_decoders and not args.from_weights:
        parser.error("--train-decoders needs --from-weights (a new model trains its backbone first)")
    if args.processes < 1 or (args.processes > 1 and args.device != "cpu"):
        parser.error("--processes: 1, or more with --device cpu")
    batch = args.batch if args.batch is not None else CPU_BATCH  # more than 1 process runs on the CPU
    if args.processes > 1 and (batch < args.processes or batch % args.processes):
        parser.error(f"--batch {batch}: must be a multiple of --processes {args.processes}")
    return args


def decoder_tasks(text):
    """'normals,edge' -> ['normals', 'edge'], for --train-decoders."""
    tasks = text.split(",")
    unknown = [t for t in tasks if t not in TASK_WEIGHTS]
    if unknown or len(set(tasks)) != len(tasks):
        raise argparse.ArgumentTypeError(f"{text!r}: expected distinct tasks among {', '.join(TASK_WEIGHTS)}, comma-separated")
    return tasks


def task_weight(text):
    """'normals=4' -> ('normals', 4.0), for --task-weight."""
    task, _, weight = text.partition("=")
    try:
        value = float(weight)
    except ValueError:
        value = -1.0
    if task not in TASK_WEIGHTS or not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected TASK=W with TASK one of {', '.join(TASK_WEIGHTS)} and W >= 0")
    return task, value


class Log:
    def __init__(self, path):
        self.file = open(path, "a")

    def __call__(self, line):
        print(line, flush=True)
        self.file.write(line + "\n")
        self.file.flush()


def pick_device(name, threads):
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cpu":
        torch.set_num_threads(threads)  # 1 by default: a shared development machine
    return torch.device(name)


class Schedule:
    """Where the run is in the schedule: by training time, or by steps when --total-steps is given."""

    def __init__(self, args, stages):
        self.stages = stages
        self.total_steps = args.total_steps
        self.total_s = args.total_minutes * 60

    def fraction(self, step, trained_s):
        return step / self.total_steps if self.total_steps else trained_s / self.total_s

    def stage(self, fraction):
        return next((i for i, stage in enumerate(self.stages) if fraction < stage[1]), None)

    def learning_rate(self, fraction, stage, steps_in_stage):
        start = self.stages[stage - 1][1] if stage else 0.0
        _, end, peak, _, _ = self.stages[stage]
        progress = min(max((fraction - start) / (end - start), 0.0), 1.0)
        warmup = min(1.0, (steps_in_stage + 1) / WARMUP_STEPS)
        return peak * warmup * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


def load_progress(out, from_weights):
    """out/progress.json if there (a resumed run: from_weights must be what it started from), else a
    new start."""
    path = os.path.join(out, "progress.json")
    if not os.path.exists(path):
        return {"step": 0, "trained_s": 0.0, "from_weights": from_weights}
    with open(path) as f:
        progress = json.load(f)
    started_from = progress.get("from_weights")
    if from_weights and os.path.abspath(from_weights) != os.path.abspath(started_from or ""):
        sys.exit(f"{out} holds a run started from {started_from or 'scratch'}, not {from_weights}: pick another --out")
    return progress


def initial_model(args, progress, log):
    """Resumes from out/checkpoint.pth if a run was saved there. The optimizer starts afresh (with a
    warm-up): its moments would triple the files a GPU run has to carry between calls."""
    if progress["step"]:
        state = load_own_checkpoint(os.path.join(args.out, "checkpoint.pth"))["model"]
        model = new_model(args.seed, ape=POSITION_EMBEDDING in state)
        model.load_state_dict(state)
        log(f"resumed at step {progress['step']}, {progress['trained_s'] / 60:.1f} min trained")
    elif progress["from_weights"]:
        log(f"fine-tuning {progress['from_weights']}")
        try:
            model = model_from_weight_file(progress["from_weights"])
        except (OSError, ValueError, KeyError, struct.error) as error:
            sys.exit(f"cannot fine-tune {progress['from_weights']}: {error}")
    else:
        model = new_model(args.seed)
    if args.position_embedding and not model.config.ape:
        log("added an absolute position embedding (zeros)")
        model = with_position_embedding(model)
    return model


def set_training(model, training, frozen_batch_norm):
    model.train(training)
    if frozen_batch_norm:
        freeze_batch_norm(model)


def save(out, model, progress):
    """Writes to temporary names first: a run killed while saving keeps the last good pair."""
    device = next(model.parameters()).device
    save_research_checkpoint(model.cpu(), os.path.join(out, "checkpoint.pth.tmp"))  # CPU tensors load anywhere
    model.to(device)
    with open(os.path.join(out, "progress.json.tmp"), "w") as f:
        json.dump(progress, f)
    os.replace(os.path.join(out, "checkpoint.pth.tmp"), os.path.join(out, "checkpoint.pth"))
    os.replace(os.path.join(out, "progress.json.tmp"), os.path.join(out, "progress.json"))


def trains_policies(stage):
    return stage[4] in ("all", "policies")


def trained_parameters(model, trains):
    """trains: 'all', 'policies' or a tuple of tasks whose decoders train."""
    if trains == "all":
        return set(id(p) for p in model.parameters())
    if trains == "policies":
        return set(id(p) for p in policy_parameters(model))
    return set(id(p) for task in trains for p in model.decoders[task].parameters())


def make_optimizer(model, stage, position_lr_scale):
    """stage: an entry of STAGES (or fine_tune_stages, decoder_stages); position_lr_scale: the position embedding's
    learning rate over the rest's."""
    trained = trained_parameters(model, stage[4])
    for p in model.parameters():
        p.requires_grad_(id(p) in trained)
    groups = [{"params": [p for name, p in model.named_parameters() if p.requires_grad and name != POSITION_EMBEDDING]}]
    position = [p for name, p in model.named_parameters() if p.requires_grad and name == POSITION_EMBEDDING]
    if position:
        groups.append({"params": position, "weight_decay": 0.0, "lr_scale": position_lr_scale})
    return torch.optim.AdamW(groups, lr=stage[2], weight_decay=0.01)


def to_device(batch, device):
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


@torch.no_grad()
def validate(model, frames, device, frozen_batch_norm, edge_thresholds=()):
    """Noise-free gates (as at inference), fp32. Metrics (with edge_thresholds: also the edge logit
    threshold with the best F, edge_threshold), and executed compute by objects per frame."""
    model.eval()
    metrics = TaskMetrics(len(CLASSES), edge_thresholds)
    compute_by_objects = {}
    for batch in frames:
        batch = to_device(batch, device)
        logits, usage = gated_forward(model, batch["image"], gated=True, noise=False)
        for task, output in logits.items():
            output = output.float().cpu().numpy()
            target = batch[task].cpu().numpy()
            objects = batch["sal"].cpu().numpy()[:, 0]
            for i in range(output.shape[0]):
                metrics.add(task, output[i], target[i][0] if task in ("sal", "edge") else target[i], objects[i])
        for objects, compute in zip(batch["objects"].tolist(), usage.compute().tolist()):
            compute_by_objects.setdefault(objects, []).append(compute)
    set_training(model, True, frozen_batch_norm)
    return metrics.summary(), {k: float(np.mean(v)) for k, v in sorted(compute_by_objects.items())}


def save_calibrated(out, model, threshold):
    """out/calibrated.pth, the file to convert: the checkpoint with the edge decoder's last bias lowered
    by `threshold`, so that logit > 0 (adarun's and the metrics' edge decision) is logit > threshold
    of the trained model. A class-balanced edge loss trains logits for balanced classes: at 0 they
    mark every pixel with an edge probability above the edge fraction (~2%), thick edges. The
    threshold is the best for F on the validation frames (seeds from VAL_FIRST_SEED, apart from
    evaluate_model.py's)."""
    calibrated = copy.deepcopy(model).cpu()
    with torch.no_grad():
        dict(calibrated.named_parameters())[EDGE_BIAS].sub_(threshold)
    save_research_checkpoint(calibrated, os.path.join(out, "calibrated.pth"))


def improved_tasks(tasks, trained, original):
    """The tasks whose validation metrics (summaries of validate) are all at least the original's."""
    return [task for task in tasks if all(sign * (trained[name] - original[name]) >= 0 for name, sign in TASK_METRICS[task].items())]


def decoders_to_keep(model, args, progress, summary, val_frames, device, log):
    """--train-decoders: returns (the model to convert, the trained tasks kept); a trained decoder whose task
    lost on the validation frames is replaced by the weight file's (the resume checkpoint keeps it)."""
    original = model_from_weight_file(progress["from_weights"]).to(device)
    before, _ = validate(original, val_frames, device, True, EDGE_LOGIT_THRESHOLDS)
    kept = improved_tasks(args.train_decoders, summary, before)
    chosen = copy.deepcopy(model)
    for task in args.train_decoders:
        change = ", ".join(f"{name} {before[name]:.3f} -> {summary[name]:.3f}" for name in TASK_METRICS[task])
        verdict = "kept" if task in kept else "the weight file's put back"
        log(f"decoder {task}: {change}: {verdict}")
        if task not in kept:
            chosen.decoders[task].load_state_dict(original.decoders[task].state_dict())
    return chosen, kept


def format_validation(summary, compute_by_objects):
    metrics = " ".join(f"{k} {v:.3f}" for k, v in summary.items())
    compute = " ".join(f"{k}:{v:.2f}" for k, v in compute_by_objects.items())
    return f"val {metrics} | compute by objects {compute}"


def train_step(model, batch, stage, optimizer, lr, args, autocast, parallel):
    for group in optimizer.param_groups:
        group["lr"] = lr * group.get("lr_scale", 1.0)
    gated, policies = stage[3], trains_policies(stage)
    with autocast():
        # The noise is the policies' relaxation: without them training, the decoders see the inference gates.
        logits, usage = gated_forward(model, batch["image"], gated=gated, noise=policies)
        losses = task_losses(logits, batch, args.normals_loss, args.edge_loss, args.normals_object_share)
        loss = sum(args.task_weights[t] * v for t, v in losses.items())
        if gated and policies:
            targets = frame_compute_targets(batch["objects"], MAX_OBJECTS, args.compute_simple, args.compute_busy)
            losses["compute"] = compute_loss(usage.compute(), targets)
            loss = loss + args.compute_weight * losses["compute"]
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    parallel.average_gradients(model.parameters())
    torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
    optimizer.step()
    return float(loss.detach()), {k: float(v.detach()) for k, v in losses.items()}, usage.summary()


def main():
    args = parse_args()
    if args.processes > 1:
        torch.multiprocessing.spawn(train, args=(args, free_port()), nprocs=args.processes)
    else:
        train(0, args, None)


def train(rank, args, port):
    """One training process: the only one, or process `rank` of --processes meeting on localhost:port."""
    start = time.time()
    parallel = DataParallel(rank, args.processes, port)
    os.makedirs(args.out, exist_ok=True)
    log = Log(os.path.join(args.out, "log.txt")) if parallel.leads else lambda line: None
    device = pick_device(args.device, args.threads)
    cuda = device.type == "cuda"
    batch_size = args.batch or (32 if cuda else CPU_BATCH)
    workers = args.workers if args.workers is not None else (max(os.cpu_count() - 2, 1) if cuda else 0)
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    def autocast():  # bf16 on the GPU; on the CPU fp32 unless asked
        if cuda:
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return cpu_bf16_autocast(model) if args.cpu_bf16 else contextlib.nullcontext()

    progress = load_progress(args.out, args.from_weights)
    model = initial_model(args, progress, log)
    frozen_batch_norm = bool(progress["from_weights"])
    model.to(device)
    set_training(model, True, frozen_batch_norm)
    if args.train_decoders:
        stages = decoder_stages(args.train_decoders)
    else:
        stages = fine_tune_stages(args.fine_tune_policies) if frozen_batch_norm else STAGES
    schedule = Schedule(args, stages)
    position_lr_scale = FINE_TUNE_POSITION_EMBEDDING_LR_SCALE if frozen_batch_norm else 1.0
    # Gumbel noise; a resumed run reseeds from its step, and each process draws its own.
    torch.manual_seed(args.seed + progress["step"] + 1_000_003 * rank)
    log(f"device {device}, batch {batch_size}{f' in {args.processes} processes' if args.processes > 1 else ''}, "
        f"workers {workers}, {'bf16 autocast' if cuda or args.cpu_bf16 else 'fp32'}, torch {torch.__version__}, "
        f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters; losses: normals {args.normals_loss}"
        f"{f' (objects {args.normals_object_share:g})' if args.normals_loss == 'objects' else ''}, edge {args.edge_loss}; "
        f"weights {' '.join(f'{t} {w:g}' for t, w in args.task_weights.items())}")

    offset, share = parallel.share(batch_size)
    loader_options = dict(batch_size=share, num_workers=workers, pin_memory=cuda, drop_last=True)
    if workers:
        loader_options.update(persistent_workers=True, prefetch_factor=4)
    train_set = SceneSet(TRAIN_FIRST_SEED, TRAIN_SCENES, model.config.img_size)
    sampler = ShareOfBatches(progress["step"], batch_size, offset, share, TRAIN_SCENES)
    loader = torch.utils.data.DataLoader(train_set, sampler=sampler, **loader_options)
    val_frames = []
    if parallel.leads:
        val_set = SceneSet(VAL_FIRST_SEED, args.val_frames, model.config.img_size)
        val_loader = torch.utils.data.DataLoader(val_set, batch_size=min(batch_size * 2, args.val_frames), num_workers=min(workers, 4))
        val_frames = list(val_loader)

    stage, optimizer, steps_in_stage = None, None, 0
    last_save = last_val = time.time()
    step_clock = time.time()
    # Time spent waiting for the next batch, since the last log line: on a GPU the scene workers may not keep up.
    waited_s, logged_s = 0.0, progress["trained_s"]
    for batch in loader:
        waited_s += time.time() - step_clock
        out_of_time = time.time() - start > args.minutes * 60 - FINISH_MARGIN_S
        # Process 0's clock decides for all: every process takes the same steps at the same rates.
        progress["trained_s"], out_of_time = parallel.from_leader([progress["trained_s"], float(out_of_time)])
        fraction = schedule.fraction(progress["step"], progress["trained_s"])
        new_stage = schedule.stage(fraction)
        if new_stage is None or out_of_time:
            break
        if new_stage != stage:
            stage, optimizer, steps_in_stage = new_stage, make_optimizer(model, schedule.stages[new_stage], position_lr_scale), 0
            log(f"stage {schedule.stages[stage][0]} from step {progress['step']}")
        lr = schedule.learning_rate(fraction, stage, steps_in_stage)
        loss, losses, usage = train_step(model, to_device(batch, device), schedule.stages[stage], optimizer, lr, args,
                                         autocast, parallel)
        now = time.time()
        progress["trained_s"] += now - step_clock
        step_clock = now
        progress["step"] += 1
        steps_in_stage += 1
        if progress["step"] % args.log_every == 0 or steps_in_stage == 1:
            loss, *values = parallel.mean([loss, *losses.values()])
            losses = dict(zip(losses, values))
            parts = " ".join(f"{k} {v:.4f}" for k, v in losses.items())
            log(f"step {progress['step']} {schedule.stages[stage][0]} {fraction:.3f} lr {lr:.2e} loss {loss:.4f} ({parts}) "
                f"kept: compute {usage['compute'].mean():.3f} blocks {usage['blocks'].mean():.3f} "
                f"tokens {usage['tokens'].mean():.3f} | {progress['trained_s'] / 60:.1f} min, "
                f"{100 * waited_s / max(progress['trained_s'] - logged_s, 1e-9):.0f}% waiting for scenes")
            waited_s, logged_s = 0.0, progress["trained_s"]
        if parallel.leads and now - last_val > args.val_every:
            log(format_validation(*validate(model, val_frames, device, frozen_batch_norm)))
            last_val = step_clock = time.time()
        if parallel.leads and now - last_save > SAVE_EVERY_S:
            save(args.out, model, progress)
            last_save = step_clock = time.time()
    parallel.close()
    if parallel.leads:
        finish(model, args, progress, schedule, stage, val_frames, device, log)


def finish(model, args, progress, schedule, stage, val_frames, device, log):
    """The end of a run: the last validation, checkpoint.pth and progress.json, calibrated.pth."""
    frozen_batch_norm = bool(progress["from_weights"])
    progress["stage"] = schedule.stages[stage][0] if stage is not None else progress.get("stage", "done")
    progress["done"] = schedule.stage(schedule.fraction(progress["step"], progress["trained_s"])) is None
    summary, compute_by_objects = validate(model, val_frames, device, frozen_batch_norm, EDGE_LOGIT_THRESHOLDS)
    log(format_validation(summary, compute_by_objects))
    save(args.out, model, progress)
    log(f"saved {os.path.join(args.out, 'checkpoint.pth')} at step {progress['step']}"
        f"{' (schedule complete)' if progress['done'] else ' (run again with the same --out to continue)'}")
    calibrate_edge = True
    if args.train_decoders:
        model, kept = decoders_to_keep(model, args, progress, summary, val_frames, device, log)
        calibrate_edge = "edge" in kept
    if "edge_threshold" in summary and calibrate_edge:
        save_calibrated(args.out, model, summary["edge_threshold"])
        log(f"saved {os.path.join(args.out, 'calibrated.pth')} (to convert): edge logits lowered by "
            f"{summary['edge_threshold']:g}, the threshold with the best edge F on the validation frames "
            f"({summary['edge_f_best']:.3f} against {summary['edge_f']:.3f} at 0)")
    elif args.train_decoders:  # the edge decoder is the weight file's, and so is its threshold
        save_research_checkpoint(copy.deepcopy(model).cpu(), os.path.join(args.out, "calibrated.pth"))
        log(f"saved {os.path.join(args.out, 'calibrated.pth')} (to convert): the edge decoder as the weight file's")


if __name__ == "__main__":
    main()
