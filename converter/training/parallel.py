"""Data-parallel training on a CPU (train_default_model.py --processes N): N processes, each with its share of
every batch and its own torch threads, gradients averaged over them after each backward pass (torch.distributed,
gloo over localhost). Process 0 leads: it keeps the clock, logs, validates and saves.

Why processes and not threads: the training step is many small ops (window attention over 49 tokens, per-token
gates, elementwise work), and on the 2-core development machine `--threads 2` ran a training step of 64 scenes no
faster than 1 thread (5.1 against 4.4 s), while a single-threaded step of 16 took 1.12-1.17 s with a training
process busy on the other core against 1.0 s alone.
With one process every method is a no-op, and a run is what it was before this option.
"""
import ctypes
import os
import signal
import socket
import sys

import torch
import torch.distributed as dist


def free_port():
    """A localhost TCP port that was free a moment ago, for the processes to meet on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def end_with_parent():
    """Asks the kernel to end this process when the one that spawned it ends (PR_SET_PDEATHSIG). Why:
    `kill` of the parent alone left its training processes running to the end of --minutes, the leader
    then saving over whatever run had started in the same --out since (seen). Ctrl-C ends them all anyway."""
    parent = os.getppid()
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent ended before the request: nothing would signal
        sys.exit("training process: the process that started it has ended")


class DataParallel:
    def __init__(self, rank, count, port):
        self.rank, self.count = rank, count
        if count > 1:
            end_with_parent()
            dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=count)

    @property
    def leads(self):
        return self.rank == 0

    def share(self, batch):
        """This process's scenes of a batch of `batch`: (offset, size), scenes [offset, offset + size) of it."""
        size = batch // self.count
        return self.rank * size, size

    def average_gradients(self, parameters):
        """Each parameter's gradient becomes the mean over the processes. A parameter no process computed a
        gradient for keeps none (the optimizer skips it, as in a single process); one that only some did gets
        zeros from the others."""
        if self.count == 1:
            return
        parameters = [p for p in parameters if p.requires_grad]
        computed = torch.tensor([float(p.grad is not None) for p in parameters])
        dist.all_reduce(computed, op=dist.ReduceOp.MAX)
        present = [p for p, any_computed in zip(parameters, computed.tolist()) if any_computed]
        for p in present:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        if not present:
            return
        flat = torch.cat([p.grad.reshape(-1) for p in present])
        dist.all_reduce(flat)
        flat /= self.count
        offset = 0
        for p in present:
            p.grad.copy_(flat[offset:offset + p.numel()].view_as(p.grad))
            offset += p.numel()

    def from_leader(self, values):
        """Process 0's `values` (floats), in every process: the clock and the decisions taken from it."""
        if self.count == 1:
            return list(values)
        tensor = torch.tensor(values, dtype=torch.float64)
        dist.broadcast(tensor, 0)
        return tensor.tolist()

    def mean(self, values):
        """The mean of `values` (floats) over the processes (for the log)."""
        if self.count == 1:
            return list(values)
        tensor = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(tensor)
        return (tensor / self.count).tolist()

    def close(self):
        if self.count > 1:
            dist.destroy_process_group()
