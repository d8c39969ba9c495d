#!/usr/bin/python3
"""adarun against the project's PyTorch reference on the same converted model, in one run.

For each thread count: the PyTorch reference (python3-torch, OpenBLAS) run eagerly and, when every
gate is on (the default), as frozen TorchScript (torch.jit.trace + freeze + optimize_for_inference,
oneDNN fusions; tracing records one frame's gate decisions, so it is a faithful model only when no
gate is input-dependent); then `adarun bench` on the same checkpoint, gate threshold and number of
frames. Prints medians and the speed-up against the faster PyTorch.

usage: /usr/bin/python3 bench/compare_pytorch.py CHECKPOINT.pth MODEL.adarun [--threads 1,2] [--iters 10]
       [--gate-threshold T] [--isa native|avx2] [--adarun build/engine/adarun]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

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


ALL_GATES_ON = -1e9


class TaskOutputs(torch.nn.Module):
    """model.run as a module that returns the task outputs as a tuple: what torch.jit.trace records."""

    def __init__(self, model, threshold):
        super().__init__()
        self.model, self.threshold = model, threshold

    def forward(self, image):
        outputs, _ = self.model.run(image, threshold=self.threshold)
        return tuple(outputs.values())


def torchscript(model, image, threshold):
    """The frozen, inference-optimised trace; it must give eager's outputs."""
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(TaskOutputs(model, threshold).eval(), image, check_trace=False)
        frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
        eager = TaskOutputs(model, threshold)(image)
        scripted = frozen(image)
    for want, got in zip(eager, scripted):
        scale = max(1.0, float(want.abs().max()))
        if float((want - got).abs().max()) > 1e-3 * scale:
            raise SystemExit("TorchScript's outputs differ from eager's: not comparable")
    return lambda x: frozen(x)


def median_ms(run, image, iters):
    with torch.no_grad():
        for _ in range(2):
            run(image)
        times = []
        for _ in range(iters):
            start = time.perf_counter()
            run(image)
            times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def pytorch_medians(model, cfg, threads, iters, threshold):
    """(eager ms, TorchScript ms or None)."""
    torch.set_num_threads(threads)
    image = torch.randn(1, 3, cfg.img_size, cfg.img_size, generator=torch.Generator().manual_seed(7))
    eager = median_ms(lambda x: model.run(x, threshold=threshold), image, iters)
    if threshold > ALL_GATES_ON:
        return eager, None
    return eager, median_ms(torchscript(model, image, threshold), image, iters)


# What makes PyTorch's libraries run AVX2 kernels on an AVX-512 machine, as adarun's ADARUN_ISA=avx2 does.
AVX2_ENVIRONMENT = {"OPENBLAS_CORETYPE": "Haswell", "ATEN_CPU_CAPABILITY": "avx2", "DNNL_MAX_CPU_ISA": "AVX2",
                    "ONEDNN_MAX_CPU_ISA": "AVX2", "ADARUN_ISA": "avx2"}


def pytorch_in_child(args, threads, environment):
    """PyTorch's medians from a child process whose thread pools (OpenBLAS's too: torch.set_num_threads does not
    reach it) are sized to `threads` and whose kernels follow `environment`."""
    command = [sys.executable, os.path.abspath(__file__), args.checkpoint, args.model, "--pytorch-only", str(threads),
               "--iters", str(args.iters), "--gate-threshold", repr(args.gate_threshold)]
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads), **environment)
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(result.stderr.strip())
    return json.loads(result.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("model")
    parser.add_argument("--threads", default="1,2", help="each count runs both sides on that many CPUs (affinity)")
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--gate-threshold", type=float, default=ALL_GATES_ON, help="default: every gate on")
    parser.add_argument("--isa", choices=["native", "avx2"], default="native",
                        help="avx2: both sides on AVX2 kernels (the AVX2-only proxy on an AVX-512 machine)")
    parser.add_argument("--adarun", default=DEFAULT_BINARY)
    parser.add_argument("--pytorch-only", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pytorch_only:
        model, cfg = reference_model(args.checkpoint)
        eager_ms, script_ms = pytorch_medians(model, cfg, args.pytorch_only, args.iters, args.gate_threshold)
        print(json.dumps({"eager_ms": eager_ms, "script_ms": script_ms}))
        return
    environment = AVX2_ENVIRONMENT if args.isa == "avx2" else {}
    cpus = sorted(os.sched_getaffinity(0))
    print(f"torch {torch.__version__}; kernels: {args.isa}; each row pinned to its thread count's CPUs")
    print(f"{'threads':>7} {'eager ms':>9} {'script ms':>10} {'adarun ms':>10} {'speed-up':>9} {'adarun GFLOP/s':>15} "
          f"{'isa':>7}")
    for threads in [int(t) for t in args.threads.split(",")]:
        os.sched_setaffinity(0, cpus[:threads])  # the children inherit it
        saved = {k: os.environ.get(k) for k in environment}
        os.environ.update({k: v for k, v in environment.items() if k == "ADARUN_ISA"})
        ours = adarun_bench(args.adarun, args.model, threads, args.iters, threshold=args.gate_threshold)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        torch_ms = pytorch_in_child(args, threads, environment)
        eager_ms, script_ms = torch_ms["eager_ms"], torch_ms["script_ms"]
        best = min(eager_ms, script_ms or eager_ms)
        script = f"{script_ms:>10.1f}" if script_ms else f"{'n/a':>10}"
        print(f"{threads:>7} {eager_ms:>9.1f} {script} {ours['median_ms']:>10.1f} {best / ours['median_ms']:>8.2f}x "
              f"{ours['gflops_per_s']:>15.1f} {ours['isa']:>7}")
    os.sched_setaffinity(0, cpus)


if __name__ == "__main__":
    main()
