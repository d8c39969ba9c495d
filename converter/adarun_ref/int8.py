"""int8 emulation: the reference computing what the engine computes on an int8 weight file (format version 3).

weights/FORMAT.md: an I8 weight q comes with the F32 `<name>_scale` sw, one per output channel; the engine runs the
convolutions (all but the patch embedding, which it widens to float(q) * sw and runs in fp32, and the transposed ones,
also widened) on the int8 convolution of kernels/conv_int8.h: each output pixel's receptive field (cin k k values,
zeros outside the image) is one quantized row of the same GEMM; and it runs the packable linears (every block's attn.qkv, attn.proj,
mlp.fc1, mlp.fc2 and stages.i.merge.reduction) on the dynamically quantized int8 GEMM of kernels/gemm_int8.h (scalar
twin kernels/ref/gemm_int8.cpp): per row of the layer's input x, m = max|x_row|; m < 1e-30: q = 0, sa = 0; else
q = nearbyint(x * (127.0f / m)) (float32, half to even), sa = m / 127.0f; y = float(sum_k q qw) * (sa * sw[o]) + b[o],
all float32, the integer sum exact. Policies stay F32 and fp32; MTLoRA adapter factors are F16 in an int8 file.

emulate_int8(model, tensors) makes the packable linears of a reference model (MultiTaskSwin or MTLoRASwin) compute
exactly that with the file's q, scales and biases (and, for MTLoRA layers with task branches, the file's F16
adapter factors), and its decoders' convolutions (and the SegFormer head's per-pixel linears, 1x1 convolutions in the
engine) with their own weights quantized as the converter does. Those weights must be q * scale already, their
BatchNorms of scale 1 (make_golden.py, exact_in_int8), so that the file's values are the model's own; fp32 behaviour
of this package is unchanged.
"""
import re
import types

import torch
import torch.nn as nn
import torch.nn.functional as F

from .mtlora import LoRALinear

_SCALE_SUFFIX = "_scale"  # adarun_convert.weight_file.SCALE_SUFFIX
_BLOCK_LINEAR = re.compile(r"^backbone\.layers\.(\d+)\.blocks\.(\d+)\.(attn\.qkv|attn\.proj|mlp\.fc1|mlp\.fc2)$")
_REDUCTION = re.compile(r"^backbone\.layers\.(\d+)\.downsample\.reduction$")


def file_name(module_name):
    """The weight file's name of a reference module that is a packable linear, or None."""
    m = _BLOCK_LINEAR.match(module_name)
    if m:
        return f"stages.{m.group(1)}.blocks.{m.group(2)}.{m.group(3)}"
    m = _REDUCTION.match(module_name)
    return f"stages.{m.group(1)}.merge.reduction" if m else None


# Knife edges: x * 127 / max within KNIFE_EDGE of a rounding boundary (k + 1/2), where float32 differences between
# the engine's activations and the reference's (summation order: parity's ~1e-6 of the row's largest value, 127e-6
# here) may round the other way. One such element changes the layer's output by sa * sw * q_w, far beyond fp32
# parity, and the change cascades through every later quantization: a case must have none (make_golden.py checks).
KNIFE_EDGE = 2e-4
knife_edges = {"elements": 0, "near": 0, "closest": float("inf")}


def quantize_rows(x):
    """(q, sa) of kernels/gemm_int8.h's quantizer, per row of x [rows, k] (float32): q float32 holding integers."""
    x = x.to(torch.float32)
    m = x.abs().amax(dim=1, keepdim=True)
    live = m >= 1e-30
    factor = torch.where(live, torch.tensor(127.0, dtype=torch.float32) / torch.where(live, m, torch.ones_like(m)),
                         torch.zeros_like(m))
    v = x * factor
    q = torch.round(v)  # float32 product, round half to even (nearbyint)
    edge = (0.5 - (v.double() - q.double()).abs())[live.expand_as(v)]
    knife_edges["elements"] += edge.numel()
    knife_edges["near"] += int((edge < KNIFE_EDGE).sum())
    if edge.numel():
        knife_edges["closest"] = min(knife_edges["closest"], float(edge.min()))
    sa = torch.where(live, m / torch.tensor(127.0, dtype=torch.float32), torch.zeros_like(m))
    return q, sa


def int8_linear(x, qw, sw, bias):
    """y = float(q_x qw^T) * (sa * sw) + bias in float32; q_x qw^T summed exactly in float64 (|sum| < 2^53)."""
    shape = x.shape
    q, sa = quantize_rows(x.reshape(-1, shape[-1]))
    acc = (q.double() @ qw.double().T).float()
    y = acc * (sa * sw.view(1, -1)) + bias.view(1, -1)
    return y.view(*shape[:-1], qw.shape[0])


class _FileLinear:
    """One packable linear's tensors from the file: q (as float32), its scales, its bias (zeros if the file has none)."""

    def __init__(self, tensors, name):
        q = tensors.get(name + ".weight")
        if q is None or q.dtype != "int8":
            raise ValueError(f"{name}.weight is not I8 in the weight file (dtype {None if q is None else q.dtype})")
        self.qw = torch.from_numpy(q.astype("float32"))
        self.sw = torch.from_numpy(tensors[name + ".weight" + _SCALE_SUFFIX].astype("float32"))
        if self.sw.shape != (self.qw.shape[0],):
            raise ValueError(f"{name}.weight: {self.sw.shape[0]} scales for {self.qw.shape[0]} output channels")
        bias = tensors.get(name + ".bias")
        self.bias = torch.zeros(self.qw.shape[0]) if bias is None else torch.from_numpy(bias.astype("float32"))

    def __call__(self, x):
        return int8_linear(x, self.qw, self.sw, self.bias)


def _factor(tensors, name):
    return torch.from_numpy(tensors[name].astype("float32"))  # F16 widened; the file's up holds s B already


def _lora_forward(module, f, tensors, name):
    """LoRALinear's forward on the file: the file's W is W alone ('matrix' branch layers, whose shared adapter it
    stores apart), or W + s B A (merged: every other layer, and 'matrixv2' branch layers)."""
    apart = bool(module.tasks) and module.mode == "matrix"
    shared = (_factor(tensors, f"{name}.shared_lora.down"), _factor(tensors, f"{name}.shared_lora.up")) if apart else None
    tasks = {t: (_factor(tensors, f"{name}.task_lora.{t}.down"), _factor(tensors, f"{name}.task_lora.{t}.up"))
             for t in (module.tasks or [])}

    def forward(self, x, x_tasks=None):
        full = f(x)
        if not self.tasks:
            return full, None
        out = full + (x @ shared[0].T) @ shared[1].T if apart else full
        streams = {t: full + ((x if x_tasks is None else x_tasks[t]) @ a.T) @ b.T for t, (a, b) in tasks.items()}
        return out, streams

    return forward


def own_quantized(weight):
    """(q, sw) of a float32 weight [out, ...] by the converter's rule (weights/FORMAT.md): sw = max|W[o]| / 127,
    q = round-half-even(W / sw) in [-127, 127]; an all-zero channel sw 0, q 0. q as float32 [out, rest]."""
    w = weight.detach().to(torch.float32).reshape(weight.shape[0], -1)
    sw = w.abs().amax(dim=1) / torch.tensor(127.0, dtype=torch.float32)
    safe = torch.where(sw > 0, sw, torch.ones_like(sw))
    q = torch.where(sw.view(-1, 1) > 0, torch.round(w / safe.view(-1, 1)).clamp(-127, 127), torch.zeros_like(w))
    return q, sw


def int8_conv(module, x):
    """kernels/conv_int8.h: every output pixel's field (F.unfold's (channel, ky, kx) order; the sum is exact in any
    order) quantized as a row, times the module's own weights quantized."""
    qw, sw = own_quantized(module.weight)
    n, _, h, w = x.shape
    fields = F.unfold(x, module.kernel_size, dilation=module.dilation, padding=module.padding, stride=module.stride)
    rows = fields.transpose(1, 2).reshape(-1, fields.shape[1])
    bias = torch.zeros(qw.shape[0]) if module.bias is None else module.bias.detach().float()
    y = int8_linear(rows, qw, sw, bias)
    oh = (h + 2 * module.padding[0] - module.dilation[0] * (module.kernel_size[0] - 1) - 1) // module.stride[0] + 1
    ow = (w + 2 * module.padding[1] - module.dilation[1] * (module.kernel_size[1] - 1) - 1) // module.stride[1] + 1
    return y.view(n, oh * ow, -1).transpose(1, 2).reshape(n, -1, oh, ow)


def _emulate_decoder_layers(model):
    """The convolutions but the patch embedding's, and the linears outside the backbone (the SegFormer head's
    per-pixel ones), on their own weights quantized. Returns how many."""
    done = 0
    for module_name, module in model.named_modules():
        if isinstance(module, nn.Conv2d) and not module_name.endswith("patch_embed.proj"):
            if module.groups != 1:
                raise TypeError(f"{module_name}: grouped convolution")
            module.forward = (lambda m: (lambda x: int8_conv(m, x)))(module)
            done += 1
        elif type(module) is nn.Linear and not module_name.startswith("backbone.") and file_name(module_name) is None:
            module.forward = (lambda m: (lambda x: int8_linear(x, *own_quantized(m.weight), m.bias.detach().float()
                                                               if m.bias is not None else torch.zeros(m.weight.shape[0]))))(module)
            done += 1
    return done


def emulate_int8(model, tensors, convs=True):
    """Makes `model`'s packable linears run the engine's dynamically quantized int8 GEMM on the file's tensors
    (read_weight_file's dict: I8 as int8 with float32 `<name>_scale`), and with convs its decoders' convolutions the
    int8 convolution (else they stay the model's own fp32: the engine's ADARUN_INT8_CONV=0). Changes the model in
    place; returns it."""
    done = 0
    for module_name, module in model.named_modules():
        name = file_name(module_name)
        if name is None:
            continue
        f = _FileLinear(tensors, name)
        if isinstance(module, LoRALinear):
            module.forward = types.MethodType(_lora_forward(module, f, tensors, name), module)
        elif isinstance(module, nn.Linear):
            plain = type(module).__name__ == "PlainLinear"  # answers (y, None) like LoRALinear
            module.forward = (lambda f: (lambda x, x_tasks=None: (f(x), None)))(f) if plain else f
        else:
            raise TypeError(f"{module_name}: {type(module).__name__} is not a linear")
        done += 1
    if done == 0:
        raise ValueError("no packable linear found in the model")
    if convs:
        _emulate_decoder_layers(model)
    return model
