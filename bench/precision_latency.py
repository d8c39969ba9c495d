#!/usr/bin/python3
"""Latency of a model's fp32, fp16 and int8 weight files side by side: `adarun bench --json` on each in turn,
--rounds times, on every x86 kernel path this CPU has (the default, AVX-512 with its int8 kernel; ADARUN_ISA=avx2,
AVX2 with AVX-VNNI where present; ADARUN_ISA=avx2 ADARUN_INT8=avx2, the AVX2-only path of CPUs without VNNI such as
AMD Zen 3). Prints per path and precision the median of the rounds' medians, and int8's and fp16's speed-up over fp32
measured in the same rounds (the ratio of each round's medians, then their median), with the CPU's name.

usage: /usr/bin/python3 bench/precision_latency.py FP32.adarun [--input FRAME] [--threads 1] [--iters 10] [--rounds 5]
  The fp16 and int8 files are made beside the output (converter/convert.py --weights) unless --fp16/--int8 name them.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
ADARUN = os.path.join(ROOT, "build", "engine", "adarun")
PATHS = [("default", {}), ("avx2", {"ADARUN_ISA": "avx2"}), ("avx2, no VNNI", {"ADARUN_ISA": "avx2", "ADARUN_INT8": "avx2"})]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fp32")
    parser.add_argument("--fp16")
    parser.add_argument("--int8")
    parser.add_argument("--input", help="frame (default: adarun bench's)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--adarun", default=ADARUN)
    return parser.parse_args()


def cpu_name():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "?"


def bench(args, model, env):
    command = [args.adarun, "bench", "--model", model, "--threads", str(args.threads), "--iters", str(args.iters), "--json"]
    if args.input:
        command += ["--input", args.input]
    result = subprocess.run(command, check=True, capture_output=True, text=True, env={**os.environ, **env})
    return json.loads(result.stdout)


def main():
    args = parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        files = {"fp32": args.fp32}
        for precision in ("fp16", "int8"):
            files[precision] = getattr(args, precision) or os.path.join(workdir, f"model_{precision}.adarun")
            if not getattr(args, precision):
                subprocess.run([sys.executable, os.path.join(ROOT, "converter", "convert.py"), args.fp32, "-o", files[precision],
                                "--weights", precision], check=True, capture_output=True)
        print(f"{cpu_name()}; {args.threads} thread(s); {args.rounds} rounds of {args.iters} frames per file, files in turn")
        print(f"{'path':16} {'isa':7} {'fp32 ms':>8} {'fp16 ms':>8} {'int8 ms':>8} {'fp16 x':>7} {'int8 x':>7}  int8 GMACs")
        for name, env in PATHS:
            times = {p: [] for p in files}
            isa, gmacs = "?", 0.0
            for _ in range(args.rounds):
                for precision, path in files.items():
                    result = bench(args, path, env)
                    times[precision].append(result["median_ms"])
                    isa = result["isa"]
                    gmacs = result["gmacs"] if precision == "int8" else gmacs
            speedup = {p: statistics.median(f / t for f, t in zip(times["fp32"], times[p])) for p in ("fp16", "int8")}
            medians = {p: statistics.median(t) for p, t in times.items()}
            print(f"{name:16} {isa:7} {medians['fp32']:8.2f} {medians['fp16']:8.2f} {medians['int8']:8.2f} "
                  f"{speedup['fp16']:6.2f}x {speedup['int8']:6.2f}x  {gmacs:.3f}")


if __name__ == "__main__":
    main()
