#!/usr/bin/python3
"""adarun against the project's PyTorch reference on the same converted model, in one run.

For each thread count: the PyTorch reference (python3-torch, OpenBLAS) and `adarun bench` on the
same checkpoint, same gate threshold, same number of frames; prints medians and the speed-up.

usage: /usr/bin/python3 bench/compare_pytorch.py CHECKPOINT.pth MODEL.adarun [--threads 1,2] [--iters 10]
       [--gate-threshold T] [--adarun build/engine/adarun]
"""
import argparse
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "converter"))

from adarun_bench import DEFAULT_BINARY, adarun_bench  # noqa: E402
from adarun_convert.infer_config import infer_config  # noqa: E402
from adarun_convert.safe_load import load_checkpoint  # noqa: E402
from adarun_ref.model import MultiTaskSwin  # noqa: E402
from adarun_ref.mtlora import MTLoRASwin  # noqa: E402


def reference_model(checkpoint):
    state, embedded = load_checkpoint(checkpoint)
    cfg, _ = infer_config(state, embedded)
    model = (MTLoRASwin if cfg.family == "mtlora" else MultiTaskSwin)(cfg).eval()
    model.load_state_dict(state, strict=False)
    return model, cfg


def torch_median_ms(model, cfg, threads, iters, threshold):
    torch.set_num_threads(threads)
    image = torch.randn(1, 3, cfg.img_size, cfg.img_size, generator=torch.Generator().manual_seed(7))
    for _ in range(2):
        model.run(image, threshold=threshold)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        model.run(image, threshold=threshold)
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("model")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--gate-threshold", type=float, default=-1e9, help="default: every gate on")
    parser.add_argument("--adarun", default=DEFAULT_BINARY)
    args = parser.parse_args()
    model, cfg = reference_model(args.checkpoint)
    print(f"torch {torch.__version__}, {torch.__config__.parallel_info().splitlines()[0]}")
    print(f"{'threads':>7} {'pytorch ms':>11} {'adarun ms':>10} {'speed-up':>9} {'adarun GFLOP/s':>15} {'isa':>7}")
    for threads in [int(t) for t in args.threads.split(",")]:
        ours = adarun_bench(args.adarun, args.model, threads, args.iters, threshold=args.gate_threshold)
        torch_ms = torch_median_ms(model, cfg, threads, args.iters, args.gate_threshold)
        time.sleep(2)  # OpenBLAS workers spin after a call: let them idle before the next adarun run
        print(f"{threads:>7} {torch_ms:>11.1f} {ours['median_ms']:>10.1f} {torch_ms / ours['median_ms']:>8.2f}x "
              f"{ours['gflops_per_s']:>15.1f} {ours['isa']:>7}")


if __name__ == "__main__":
    main()
