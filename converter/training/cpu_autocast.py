"""bf16 autocast on the CPU (train_default_model.py --cpu-bf16). torch 1.13's CPU autocast runs the matrix
products in bf16 (oneDNN: AMX or AVX512-BF16) but leaves layer_norm and batch_norm to their inputs' type, and
their CPU kernels refuse a bf16 input with fp32 weights; so the norms get their input in fp32, as CUDA autocast
gives it to them. Bilinear upsampling also runs in fp32: its bf16 CPU kernels took 400 ms of a 2.35 s step of 32
(forward and backward of the four heads' outputs to 224 x 224), against 120 ms in fp32."""
import contextlib

import torch
import torch.nn.functional as F


def _float(x):
    return x.float() if torch.is_tensor(x) and x.dtype == torch.bfloat16 else x


def _float_input(module, inputs):
    return tuple(_float(x) for x in inputs)


def _interpolate_in_float(interpolate):
    def interpolate_in_float(input, *args, **kwargs):
        return interpolate(_float(input), *args, **kwargs)
    return interpolate_in_float


@contextlib.contextmanager
def cpu_bf16_autocast(model):
    norms = [m for m in model.modules() if isinstance(m, (torch.nn.LayerNorm, torch.nn.modules.batchnorm._BatchNorm))]
    hooks = [m.register_forward_pre_hook(_float_input) for m in norms]
    interpolate = F.interpolate  # the model code calls F.interpolate: swapped for the context's length only
    F.interpolate = _interpolate_in_float(interpolate)
    try:
        with torch.autocast("cpu", dtype=torch.bfloat16):
            yield
    finally:
        F.interpolate = interpolate
        for hook in hooks:
            hook.remove()
