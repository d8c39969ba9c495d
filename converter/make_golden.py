#!/usr/bin/python3
"""Parity cases for the engine's tests, made with the PyTorch reference.

For each case: a seeded random model saved as a research-format checkpoint, converted to a weight
file with the converter, a random normalised input, and the reference's outputs, gates and MACs.
The research_* cases are the research code's own (tests/data/research): its checkpoint, converted
here, and the input, outputs and gates it recorded. Cases in ENGINE_PENDING (models the engine does
not run yet; none today) are made the same way and carry "engine": false in their case.json.

The *_fp16 cases convert with --weights fp16. Their random model is first made exactly representable there
(exact_in_fp16): linear and convolution weights rounded to half, each BatchNorm's scale 1 and each merged adapter's
W + s B A a half value, so that the reference computes with the values the file stores (to float32 rounding) and the
comparison stays as tight as for fp32. Beside model.adarun they hold model_fp32.adarun, the same values widened to
F32 (format version 1), which the engine must run bit for bit alike.

The *_int8 cases convert with --weights int8 (format version 3). Their random model's linear and convolution
weights are first made q * scale (exact_in_int8: per output channel, each BatchNorm's scale 1, policies untouched), so
that the file's widened convolutions are the reference's own to float32 rounding (check_exact_in_int8); the reference
then runs with adarun_ref.int8.emulate_int8, whose packable linears compute the engine's dynamically quantized int8
GEMM on the file's q, scales, biases and F16 adapter factors. Gates come from the fp32 policies on those activations,
as in the engine. The models are tiny and no quantized activation may lie near a rounding boundary (INT8_CASES).

usage: /usr/bin/python3 converter/make_golden.py --out DIR (--all | --quick | --cases a,b) [--keep-checkpoints]
"""
import argparse
import json
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from adarun_convert.convert import convert_file  # noqa: E402
from adarun_convert.engine_tensors import BN_EPS  # noqa: E402
from adarun_convert.weight_file import float_tensors, read_weight_file, reencoded_bytes, write_atomically  # noqa: E402
from adarun_ref import ModelConfig, TaskSpec  # noqa: E402
from adarun_ref.checkpoint import save_research_checkpoint  # noqa: E402
from adarun_ref import int8 as int8_ref  # noqa: E402
from adarun_ref.int8 import emulate_int8  # noqa: E402
from adarun_ref.mtlora import LoRALinear  # noqa: E402
from adarun_ref.random_model import random_image, random_model  # noqa: E402

TASKS = [TaskSpec("semseg", 21), TaskSpec("human_parts", 7), TaskSpec("sal", 1), TaskSpec("normals", 3)]
NYUD_TASKS = [TaskSpec("semseg", 40), TaskSpec("depth", 1), TaskSpec("normals", 3), TaskSpec("edge", 1)]
SMALL = dict(img_size=224, embed_dim=16, depths=[2, 2, 2, 2], num_heads=[1, 2, 2, 4], window_size=7, decoder_dim=16,
             block_ctrl_dim=16, token_ctrl_dim=16, tasks=TASKS)
BOTH = dict(ada_blocks=True, ada_tokens=True)


def lora(ranks, task_rank, scale, tasks=TASKS, **kwargs):
    return dict(family="mtlora", lora_ranks=[ranks] * 4, lora_task_ranks={t.name: [task_rank] * 4 for t in tasks},
                lora_shared_scale=[scale] * 4, lora_task_scale={t.name: [scale] * 4 for t in tasks}, tasks=tasks, **kwargs)


LORA_SMALL = dict(img_size=224, embed_dim=16, depths=[2, 2, 2, 2], num_heads=[1, 2, 2, 4], window_size=7)
HEADS_SMALL = dict(LORA_SMALL, decoder_channels=[8, 16, 24, 32])


def every_task(head, tasks=TASKS):
    return {t.name: head for t in tasks}


# name: (config, seed, requested tasks or None, gate threshold, checkpoint layout)
CASES = {
    "static_small": (ModelConfig(**dict(SMALL, tasks=TASKS + [TaskSpec("edge", 1)])), 1, None, 0.0, "full"),
    # Stage 0 is as wide as half the decoder (as in the research NYUD config): its first decoder block still has a
    # projection shortcut.
    "nyud_small": (ModelConfig(**dict(SMALL, embed_dim=8, decoder_dim=32, tasks=NYUD_TASKS)), 12, None, 0.0, "state_dict"),
    "single_small": (ModelConfig(**SMALL, **BOTH, policy_mode="single"), 2, None, 0.0, "bare"),
    "per_task_small": (ModelConfig(**SMALL, **BOTH, policy_mode="per_task"), 3, None, 0.0, "module"),
    "blocks_only_small": (ModelConfig(**SMALL, ada_blocks=True, policy_mode="per_task"), 14, None, 0.0, "full"),
    "tokens_only_small": (ModelConfig(**SMALL, ada_tokens=True, policy_mode="single"), 5, None, 0.0, "full"),
    "subset_small": (ModelConfig(**SMALL, **BOTH, policy_mode="per_task"), 6, ["normals", "semseg"], 0.0, "full"),
    "threshold_small": (ModelConfig(**SMALL, **BOTH, policy_mode="per_task"), 7, None, 0.75, "full"),
    "all_gates_on_small": (ModelConfig(**SMALL, **BOTH, policy_mode="per_task"), 11, None, -1e9, "full"),
    "variants_small": (ModelConfig(**dict(SMALL, img_size=128, window_size=4), **BOTH, policy_mode="single",
                                   ape=True, patch_norm=False, qkv_bias=False), 8, None, 0.0, "full"),
    # Swin-S / Swin-B depths and heads (narrow): 18 blocks in stage 2, several heads from stage 0 on.
    "swin_b_shape_small": (ModelConfig(**dict(SMALL, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32]), **BOTH,
                                       policy_mode="per_task"), 15, None, 0.0, "full"),
    "window12_small": (ModelConfig(**dict(SMALL, img_size=384, window_size=12, embed_dim=8), **BOTH, policy_mode="per_task"),
                       9, None, 0.0, "full"),
    "swin_t_224_per_task": (ModelConfig(tasks=TASKS, **BOTH, policy_mode="per_task", decoder_dim=128), 10, None, 0.0, "full"),
    "mtlora_matrix_small": (ModelConfig(**LORA_SMALL, **lora(8, 2, 4.0)), 20, None, 0.0, "full"),
    "mtlora_matrixv2_small": (ModelConfig(**LORA_SMALL, **lora(8, 3, 2.0, lora_mode="matrixv2", lora_downsampler=True)),
                              21, None, 0.0, "bare"),
    "mtlora_plain_decoder_small": (ModelConfig(**LORA_SMALL, **lora(4, 2, 4.0, lora_downsampler=True, decoder_downsampler=False)),
                                   22, None, 0.0, "module"),
    "mtlora_no_proj_small": (ModelConfig(**LORA_SMALL, **lora(8, 2, 4.0, lora_layers=("qkv", "fc1", "fc2"))), 23, None, 0.0, "full"),
    "mtlora_subset_small": (ModelConfig(**LORA_SMALL, **lora(8, 2, 4.0)), 24, ["sal", "human_parts"], 0.0, "full"),
    "mtlora_448_small": (ModelConfig(**dict(LORA_SMALL, img_size=448), **lora(8, 2, 4.0)), 25, None, 0.0, "full"),
    "mtlora_swin_t_448": (ModelConfig(img_size=448, **lora(64, 4, 4.0)), 26, None, 0.0, "full"),
    # MTLoRA's other decoder heads (research MODEL.DECODER_HEAD), one kind per case, then mixed per task.
    "mtlora_aspp_small": (ModelConfig(**HEADS_SMALL, **lora(8, 2, 4.0, decoder_heads=every_task("aspp"), aspp_channels=32)),
                          27, None, 0.0, "full"),
    "mtlora_segformer_small": (ModelConfig(**HEADS_SMALL, **lora(8, 2, 4.0, decoder_heads=every_task("segformer"),
                                                                  segformer_channels=32)), 28, None, 0.0, "full"),
    "mtlora_updecoder_small": (ModelConfig(**HEADS_SMALL, **lora(8, 2, 4.0, decoder_heads=every_task("updecoder"))),
                               29, None, 0.0, "full"),
    # Without decoder downsampler (the heads read the stage outputs), transposed kernels 4, 3, 2, three tasks of four
    # (HRNet among them) in another order.
    "mtlora_mixed_heads_small": (ModelConfig(**LORA_SMALL, **lora(8, 2, 4.0, decoder_downsampler=False, aspp_channels=64,
                                                                   segformer_channels=24, updecoder_kernels=(4, 3, 2),
                                                                   decoder_heads={"semseg": "aspp", "human_parts": "segformer",
                                                                                  "sal": "updecoder"})),
                                 30, ["sal", "normals", "semseg"], 0.0, "module"),
}
# F16 weights (convert.py --weights fp16): policies and fused decoders; MTLoRA adapters kept apart and merged; every
# head kind, transposed convolutions among them.
FP16_CASES = ["per_task_small", "mtlora_matrix_small", "mtlora_matrixv2_small", "mtlora_mixed_heads_small"]
CASES.update({name + "_fp16": CASES[name] for name in FP16_CASES})
# What a checkpoint saved without its config needs on the converter's command line.
CONVERT_FLAGS = {
    "mtlora_matrixv2_small": {"mode": "matrixv2", "shared_scale": [2.0]},
    "mtlora_plain_decoder_small": {"mode": "matrix", "shared_scale": [4.0]},
    "mtlora_mixed_heads_small": {"mode": "matrix", "shared_scale": [4.0]},
}
CONVERT_FLAGS.update({name + "_fp16": CONVERT_FLAGS[name] for name in FP16_CASES if name in CONVERT_FLAGS})
# I8 weights (convert.py --weights int8): the packable linears on the dynamically quantized int8 GEMM, convolutions
# on the int8 convolution (the patch embedding and the transposed ones widened, the transposed scaled along dimension
# 1), MTLoRA adapters F16 apart (matrix branch layers) or merged before quantizing. Tiny models (32 x 32, 8 channels): one activation that rounds the other way in the engine than
# in the reference (x * 127 / max within float32 noise of k + 1/2) moves the outputs far past fp32's tolerance and
# cascades, so a case may have no such knife edge (adarun_ref.int8.KNIFE_EDGE); the per_task_small/mtlora_*_small
# configs quantize 10^6 activations and always have some. Seeds chosen for none: the seeds before them had some.
TINY = dict(img_size=32, embed_dim=8, depths=[2, 2, 2, 2], num_heads=[1, 1, 2, 2], window_size=2)
TINY_LORA = dict(TINY, depths=[1, 1, 1, 1])
INT8_CASES = {
    "per_task_tiny_int8": (ModelConfig(**TINY, decoder_dim=8, block_ctrl_dim=8, token_ctrl_dim=8, tasks=TASKS, **BOTH,
                                       policy_mode="per_task"), 100, ["semseg", "normals"], 0.0, "module"),
    "mtlora_matrix_tiny_int8": (ModelConfig(**TINY_LORA, **lora(4, 2, 4.0, tasks=[TASKS[0], TASKS[3]])), 353, None, 0.0,
                                "full"),
    "mtlora_heads_tiny_int8": (ModelConfig(**TINY_LORA, **lora(4, 2, 4.0, tasks=TASKS[:3], decoder_downsampler=False,
                                                                aspp_channels=16, segformer_channels=8,
                                                                updecoder_kernels=(4, 3, 2),
                                                                decoder_heads={"semseg": "aspp", "human_parts": "segformer",
                                                                               "sal": "updecoder"})),
                               334, ["sal", "semseg"], 0.0, "full"),
}
CASES.update(INT8_CASES)
# The MTLoRA heads quantize ~5 x 10^4 convolution fields' values, about 20 of which lie near a boundary whatever the
# seed: those cases keep the convolutions in fp32 (the engine's ADARUN_INT8_CONV=0, case.json int8_convs false) and
# check the int8 linears and the F16 adapters; per_task_tiny_int8 checks the int8 convolutions of the AdaMTL decoders.
INT8_FP32_CONVS = {"mtlora_matrix_tiny_int8", "mtlora_heads_tiny_int8"}
RESEARCH_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "research")
RESEARCH_CASES = ["research_adamtl_per_task_small", "research_mtlora_small", "research_mtlora_heads_small"]
QUICK = [name for name in CASES if name.endswith(("_small", "_small_fp16", "_int8"))] + RESEARCH_CASES
# Cases the engine cannot run yet: made and converted like the others, with "engine": false in their case.json.
# parity_test runs only the cases it names, and names none of these. Empty since the engine runs all four MTLoRA heads.
ENGINE_PENDING = set()


def check_gating(name, cfg, stats):
    """Cases meant to gate must gate: some blocks off, and a real share of tokens off."""
    if cfg.ada_blocks and all(all(stage) for stage in stats["blocks"]):
        raise SystemExit(f"{name}: no block is gated off; pick another seed")
    if cfg.ada_tokens:
        kept = [k for stage, gates in zip(stats["tokens_kept"], stats["blocks"]) for k, g in zip(stage, gates) if g]
        total = [(cfg.img_size // 4 // 2 ** i) ** 2 for i in range(4) for g in stats["blocks"][i] if g]
        fraction = sum(kept) / max(1, sum(total))
        if not 0.2 <= fraction <= 0.8:
            raise SystemExit(f"{name}: executed blocks keep {fraction:.0%} of their tokens; pick another seed")


def _is_policy(name):
    return "layers_controllers" in name or "tokens_select" in name


def _power_of_two(scale):
    return scale > 0 and float(np.frexp(scale)[0]) == 0.5


@torch.no_grad()
def exact_in_fp16(model):
    """Changes a random model so that its fp16 conversion stores exactly its effective weights (to float32 rounding):
    linear, convolution and LoRA weights rounded to half (.half().float()), policies untouched (stored F32); every
    BatchNorm's variance set so that its scale gamma / sqrt(var + eps) is 1 (its shift stays random), so that folding
    it leaves the rounded conv weight a half value; and where the converter merges an adapter into W (W + s B A), W
    set to half(W + s B A) - s B A. Adapter scales must be powers of two (s B then stays a half value)."""
    for name, module in model.named_modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_var.copy_((module.weight.double() ** 2 - BN_EPS).float())
        if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)) and not _is_policy(name):
            module.weight.copy_(module.weight.half().float())
    for module in model.modules():  # after the rounding above, which reaches each LoRALinear's own linear too
        if isinstance(module, LoRALinear) and module.rank > 0:
            factors = [module.lora_shared_A, module.lora_shared_B]
            if module.tasks:
                factors += [*module.lora_tasks_A.values(), *module.lora_tasks_B.values()]
                assert all(_power_of_two(s) for s in module.task_scales.values()), module.task_scales
            assert _power_of_two(module.scale), module.scale
            for factor in factors:
                factor.copy_(factor.half().float())
            if not module.tasks or module.mode == "matrixv2":  # merged: the file holds half(W + s B A)
                delta = (module.lora_shared_B.double() * module.scale) @ module.lora_shared_A.double()
                target = (module.linear.weight.double() + delta).float().half().double()
                module.linear.weight.copy_((target - delta).float())


def check_exact_in_fp16(name, fp16_path, checkpoint, lora_flags):
    """The fp16 file's half values are what an fp32 conversion of the same checkpoint gives, to float32 rounding
    (where W + s B A is near 0, the converter's float32 sum may round to the next half subnormal: 2^-24 off)."""
    fp32_path = fp16_path + ".fp32-check"
    convert_file(checkpoint, fp32_path, lora_flags=lora_flags)
    _, fp32 = read_weight_file(fp32_path)
    os.remove(fp32_path)
    _, fp16 = read_weight_file(fp16_path)
    for tensor, values in fp16.items():
        if values.dtype == np.float16:
            want = fp32[tensor].astype(np.float64)
            error = np.abs(values.astype(np.float64) - want)
            if not np.all(error <= 1e-6 * np.abs(want) + 2.0 ** -24):  # or the half's smallest step, near 0
                raise SystemExit(f"{name}: {tensor} is not exact in fp16 (max error {error.max():.3g}); see exact_in_fp16")


def _quantized(weight, axis):
    """float(q) * scale per output channel along `axis` (symmetric int8, float32), as weights/FORMAT.md stores it."""
    dims = [d for d in range(weight.dim()) if d != axis]
    scale = weight.abs().amax(dim=dims, keepdim=True) / 127
    q = torch.round(weight / torch.where(scale > 0, scale, torch.ones_like(scale))).clamp(-127, 127)
    return q * scale


@torch.no_grad()
def exact_in_int8(model):
    """Changes a random model so that its int8 conversion stores its convolution weights exactly (to float32
    rounding): every BatchNorm's scale gamma / sqrt(var + eps) 1 (its shift stays random), then every linear and
    convolution weight outside the policies made float(q) * scale per output channel (dimension 1 for transposed
    convolutions); quantizing q * scale again gives q back. The packable linears, whose merged adapters the file folds
    in, the emulation takes from the file itself (adarun_ref.int8)."""
    for name, module in model.named_modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_var.copy_((module.weight.double() ** 2 - BN_EPS).float())
        if isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)) and not _is_policy(name):
            module.weight.copy_(_quantized(module.weight, 1 if isinstance(module, nn.ConvTranspose2d) else 0))


def check_exact_in_int8(name, int8_path, checkpoint, lora_flags):
    """The int8 file's widened convolutions (q * scale) are what an fp32 conversion of the same checkpoint gives, to
    float32 rounding. Returns the int8 file's tensors."""
    fp32_path = int8_path + ".fp32-check"
    convert_file(checkpoint, fp32_path, lora_flags=lora_flags)
    _, fp32 = read_weight_file(fp32_path)
    os.remove(fp32_path)
    _, tensors = read_weight_file(int8_path)
    widened = float_tensors(tensors)
    for tensor, values in tensors.items():
        if values.dtype == np.int8 and values.ndim == 4:
            want = fp32[tensor].astype(np.float64)
            error = np.abs(widened[tensor].astype(np.float64) - want)
            if not np.all(error <= 1e-6 * np.abs(want) + 1e-30):
                raise SystemExit(f"{name}: {tensor} is not exact in int8 (max error {error.max():.3g}); see exact_in_int8")
    return tensors


def make_case(root, name, keep_checkpoint=False):
    cfg, seed, tasks, threshold, layout = CASES[name]
    directory = os.path.join(root, name)
    os.makedirs(os.path.join(directory, "expected"), exist_ok=True)
    model = random_model(cfg, seed, tasks)
    fp16 = name.endswith("_fp16")
    int8 = name.endswith("_int8")
    if fp16:
        exact_in_fp16(model)
    if int8:
        exact_in_int8(model)
    checkpoint = os.path.join(directory, "checkpoint.pth")
    save_research_checkpoint(model, checkpoint, layout)
    weight_file = os.path.join(directory, "model.adarun")
    precision = "fp16" if fp16 else "int8" if int8 else "fp32"
    # Every convolution int8 (the converter's default keeps narrow ones fp32): the cases check the int8 convolution.
    convert_file(checkpoint, weight_file, lora_flags=CONVERT_FLAGS.get(name), weights=precision, int8_min_conv_outputs=1)
    if fp16:
        check_exact_in_fp16(name, weight_file, checkpoint, CONVERT_FLAGS.get(name))
        write_atomically(os.path.join(directory, "model_fp32.adarun"), reencoded_bytes(weight_file, "fp32"))
    if int8:
        emulate_int8(model, check_exact_in_int8(name, weight_file, checkpoint, CONVERT_FLAGS.get(name)),
                     convs=name not in INT8_FP32_CONVS)
        int8_ref.knife_edges.update(elements=0, near=0, closest=float("inf"))
    image = random_image(cfg, seed + 1000)
    np.save(os.path.join(directory, "input.npy"), image[0].numpy().astype(np.float32))
    outputs, stats = model.run(image, tasks, threshold)
    if int8:
        edges = int8_ref.knife_edges
        if edges["near"]:
            raise SystemExit(f"{name}: {edges['near']} of {edges['elements']} quantized activations lie within "
                             f"{int8_ref.KNIFE_EDGE} of a rounding boundary; pick another seed")
        stats["int8_knife_edge_margin"] = edges["closest"]
        stats["int8_convs"] = name not in INT8_FP32_CONVS
    if threshold == 0.0 and cfg.family == "adamtl":
        check_gating(name, cfg, stats)
    for task, value in outputs.items():
        np.save(os.path.join(directory, "expected", task + ".npy"), value[0].numpy().astype(np.float32))
    stats["threshold"] = threshold
    stats["max_abs_ref"] = max(float(v.abs().max()) for v in outputs.values())
    if name in ENGINE_PENDING:
        stats["engine"] = False
    with open(os.path.join(directory, "case.json"), "w") as f:
        json.dump(stats, f)
    if not keep_checkpoint:
        os.remove(checkpoint)  # large, and rebuilt on demand
    return stats


def make_research_case(root, name):
    """The research code's checkpoint converted here, beside the input, outputs and gates it recorded."""
    source = os.path.join(RESEARCH_DATA, name[len("research_"):])
    directory = os.path.join(root, name)
    shutil.rmtree(directory, ignore_errors=True)
    shutil.copytree(source, directory, ignore=shutil.ignore_patterns("checkpoint.pth", "README.md"))
    convert_file(os.path.join(source, "checkpoint.pth"), os.path.join(directory, "model.adarun"))
    with open(os.path.join(directory, "case.json")) as f:
        case = json.load(f)
    if name in ENGINE_PENDING:
        case["engine"] = False
        with open(os.path.join(directory, "case.json"), "w") as f:
            json.dump(case, f)
    return case


def describe(stats):
    kept = sum(map(sum, stats["tokens_kept"]))
    if "macs_static" not in stats:
        return f"blocks {stats['blocks']}, tokens kept {kept} (the research code's own outputs)"
    unmerged = f", unmerged PyTorch {stats['macs_unmerged'] / 1e6:.1f}M" if "macs_unmerged" in stats else ""
    return (f"blocks {stats['blocks']}, tokens kept {kept}, "
            f"MACs {stats['macs_executed'] / 1e6:.1f}M of {stats['macs_static'] / 1e6:.1f}M{unmerged}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true")
    which.add_argument("--quick", action="store_true", help="the small cases only")
    which.add_argument("--cases", help="comma-separated case names: " + ", ".join(list(CASES) + RESEARCH_CASES))
    parser.add_argument("--keep-checkpoints", action="store_true", help="keep each case's research-format checkpoint.pth")
    args = parser.parse_args()
    names = list(CASES) + RESEARCH_CASES if args.all else QUICK if args.quick else args.cases.split(",")
    unknown = [n for n in names if n not in CASES and n not in RESEARCH_CASES]
    if unknown:
        parser.error(f"unknown cases {unknown}")
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for name in names:
        start = time.time()
        if name in RESEARCH_CASES:
            stats = make_research_case(args.out, name)
        else:
            stats = make_case(args.out, name, args.keep_checkpoints)
        pending = ", engine support pending" if name in ENGINE_PENDING else ""
        print(f"{name}: {describe(stats)} ({time.time() - start:.1f} s{pending})")


if __name__ == "__main__":
    main()
