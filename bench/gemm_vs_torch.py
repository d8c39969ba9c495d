#!/usr/bin/python3
"""adarun's packed GEMM against torch's F.linear (OpenBLAS) on the Swin-T 224 linear shapes, 1 thread, in one run.

adarun's side is bench/adarun_kernel_bench (gemm/ISA/SHAPE, Google Benchmark's median of repetitions); torch's
is the median of timed F.linear calls on the same shapes, in a child pinned to one CPU with OpenBLAS at one
thread. --isa avx2 runs OpenBLAS's Haswell (AVX2) kernels, as adarun's AVX2 path is measured beside it.

usage: /usr/bin/python3 bench/gemm_vs_torch.py [--isa avx512|avx2|neon] [--bench build/bench/adarun_kernel_bench]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "bench", "adarun_kernel_bench")
# The kShapes of bench/kernels_bench.cpp: (name, m, n, k).
SHAPES = [("s0_qkv", 3136, 288, 96), ("s0_fc1", 3136, 384, 96), ("s0_fc2", 3136, 96, 384), ("s2_qkv", 196, 1152, 384),
          ("s2_fc1", 196, 1536, 384), ("s2_fc2", 196, 384, 1536), ("s1_merge", 196, 384, 768)]


def torch_gflops(iters):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(1)
    result = {}
    for name, m, n, k in SHAPES:
        a, w, b = torch.randn(m, k), torch.randn(n, k), torch.randn(n)
        for _ in range(3):
            F.linear(a, w, b)
        times = []
        for _ in range(iters):
            start = time.perf_counter()
            F.linear(a, w, b)
            times.append(time.perf_counter() - start)
        result[name] = 2.0 * m * n * k / statistics.median(times) * 1e-9
    return result


def adarun_gflops(bench, isa):
    command = [bench, f"--benchmark_filter=^gemm/{isa}/", "--benchmark_repetitions=5", "--benchmark_min_time=0.1",
               "--benchmark_report_aggregates_only=true", "--benchmark_format=json"]
    report = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
    return {run["run_name"].split("/")[-1]: run["GFLOP/s"] * 1e-9 for run in report["benchmarks"]
            if run.get("aggregate_name") == "median"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--isa", default="avx512")
    parser.add_argument("--bench", default=BENCH)
    parser.add_argument("--iters", type=int, default=30)
    parser.add_argument("--torch-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_only:
        print(json.dumps(torch_gflops(args.iters)))
        return
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:1])
    ours = adarun_gflops(args.bench, args.isa)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    if args.isa == "avx2":
        env.update(OPENBLAS_CORETYPE="Haswell", ATEN_CPU_CAPABILITY="avx2")
    child = subprocess.run([sys.executable, os.path.abspath(__file__), "--torch-only", "--iters", str(args.iters)],
                           capture_output=True, text=True, env=env, check=True)
    theirs = json.loads(child.stdout)
    print(f"GEMM GFLOP/s, 1 thread, adarun {args.isa} vs torch F.linear ({'OpenBLAS Haswell' if args.isa == 'avx2' else 'OpenBLAS'})")
    print(f"{'shape':>9} {'m':>5} {'n':>5} {'k':>5} {'adarun':>8} {'torch':>8} {'ratio':>6}")
    for name, m, n, k in SHAPES:
        print(f"{name:>9} {m:>5} {n:>5} {k:>5} {ours[name]:>8.1f} {theirs[name]:>8.1f} {ours[name] / theirs[name]:>5.2f}x")


if __name__ == "__main__":
    main()
