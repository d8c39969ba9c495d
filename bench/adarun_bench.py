"""Runs `adarun bench --json` for the comparison scripts beside it."""
import json
import os
import subprocess

DEFAULT_BINARY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "engine", "adarun")


def adarun_bench(binary, model, threads=1, iters=10, threshold=None, budget=None, frame=None):
    """frame: an image or .npy path (default: adarun's fixed random frame)."""
    command = [binary, "bench", "--model", model, "--threads", str(threads), "--iters", str(iters), "--json"]
    if frame is not None:
        command += ["--input", frame]
    if threshold is not None:
        command += ["--gate-threshold", repr(threshold)]
    if budget is not None:
        command += ["--budget", str(budget)]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
