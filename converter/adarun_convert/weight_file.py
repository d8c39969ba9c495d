"""Writes (and, for tests, reads) the weight file layout of weights/FORMAT.md."""
import json
import math
import os
import re
import struct
import tempfile

import numpy as np
import torch

from adarun_ref import macs
from adarun_ref.mtlora_heads import DECONV_PADDING

from . import ConversionError

ALIGNMENT = 64
# The oldest format version that can hold each dtype: a file is written with the newest its tensors need, so that
# an all-F32 file stays version 1, readable by the engines that know only that.
DTYPE_VERSIONS = {"F32": "1", "F16": "2", "I8": "3"}
FORMAT_VERSION = DTYPE_VERSIONS["F32"]
_NUMPY_DTYPES = {"F32": "<f4", "F16": "<f2", "I8": "i1"}
# convert.py --weights: how linear and convolution weights are stored (the other tensors are always F32; with int8,
# the LoRA factors are F16).
WEIGHT_PRECISIONS = {"fp32": "F32", "fp16": "F16", "int8": "I8"}
_F16_MAX = 65504.0
# An I8 tensor X's per-output-channel F32 scales are the tensor X + SCALE_SUFFIX, written right after it.
SCALE_SUFFIX = "_scale"
_I8_MAX = 127
# Transposed convolutions ([in, out, k, k]: output channels along dimension 1): the updecoder head's.
_TRANSPOSED_CONV = re.compile(r"\.head\.deconv\.\d+\.weight$")
# --weights int8 keeps convolutions (transposed ones too) with fewer output channels than this F32: the int8
# convolution quantizes every output pixel's field, which only enough output channels pay for (README, precision:
# at 16 it is 1.5-2.4x slower than fp32 on every x86 path, at 32 about even, from 64 faster).
INT8_MIN_CONV_OUTPUTS = 32
# Tensors stored F32 whatever --weights says: every policy tensor, the precomputed relative position biases and the
# absolute position embedding (besides norms and biases, which are one-dimensional).
_ALWAYS_F32 = re.compile(r"(^|\.)(block_policy|token_policy)\.|\.rel_bias$|^absolute_pos_embed$")


def reducible(name, shape):
    """Whether a tensor is a linear or convolution weight, which --weights may store below F32 (weights/FORMAT.md):
    a `.weight` of two or more dimensions, or a LoRA factor (`.down`, `.up`), outside the policies."""
    if _ALWAYS_F32.search(name):
        return False
    return name.endswith((".down", ".up")) or (name.endswith(".weight") and len(shape) >= 2)


def tensor_dtype(name, shape, weights="fp32", int8_min_conv_outputs=INT8_MIN_CONV_OUTPUTS):
    """The dtype a tensor is written with, for convert.py --weights `weights`. int8 keeps the LoRA factors F16 and
    the convolutions with fewer than int8_min_conv_outputs output channels F32."""
    if weights not in WEIGHT_PRECISIONS:
        raise ValueError(f"unknown weight precision {weights!r} (one of {', '.join(WEIGHT_PRECISIONS)})")
    if not reducible(name, shape):
        return "F32"
    if weights == "int8" and name.endswith((".down", ".up")):
        return "F16"
    if weights == "int8" and len(shape) == 4 and shape[output_axis(name)] < int8_min_conv_outputs:
        return "F32"
    return WEIGHT_PRECISIONS[weights]


def output_axis(name):
    """The dimension of a weight that holds its output channels: 1 for a transposed convolution ([in, out, k, k]),
    0 for linears ([out, in]) and convolutions ([out, in, k, k])."""
    return 1 if _TRANSPOSED_CONV.search(name) else 0


def quantize(name, array):
    """(q, scale): symmetric per-output-channel int8 (weights/FORMAT.md), in float32 arithmetic: scale[o] =
    max|W[o]| / 127, q = round half to even (W / scale[o]) clamped to [-127, 127]; an all-zero channel has scale 0
    and q 0. q is int8 of the array's shape, scale float32 [channels]. A non-finite weight is refused."""
    values = torch.from_numpy(np.array(array, dtype=np.float32))  # a writable copy
    if not torch.isfinite(values).all():
        bad = values[~torch.isfinite(values)][0].item()
        raise ConversionError(f"tensor {name} holds {bad}, which int8 cannot scale: convert it with --weights fp32 or fp16")
    moved = values.movedim(output_axis(name), 0)  # output channels first
    rows = moved.reshape(moved.shape[0], math.prod(moved.shape[1:]))
    amax = rows.abs().amax(dim=1) if rows.shape[1] else torch.zeros(rows.shape[0])
    scale = amax / _I8_MAX  # float32 / int: float32
    divisor = torch.where(scale > 0, scale, torch.ones_like(scale))  # an all-zero channel: q = round(0 / 1) = 0
    q = torch.round(rows / divisor[:, None]).clamp(-_I8_MAX, _I8_MAX)
    q = q.reshape(moved.shape).movedim(0, output_axis(name)).to(torch.int8)
    return np.ascontiguousarray(q.numpy()), scale.numpy().astype(np.float32)


def dequantize(name, q, scale):
    """float(q) * scale[o] in float32, scale along the weight's output channels (what the engine computes)."""
    axis = output_axis(name)
    if q.ndim <= axis or scale.shape != (q.shape[axis],):
        raise ValueError(f"tensor {name}: scales of shape {list(scale.shape)} do not match its shape {list(q.shape)} along dimension {axis}")
    shape = [1] * q.ndim
    shape[axis] = q.shape[axis]
    return q.astype(np.float32) * scale.astype(np.float32).reshape(shape)


def encode(name, array, dtype):
    """The tensor's bytes as `dtype`. F16 rounds the F32 values to nearest even (torch's .half()); a value beyond
    the half range (65504) is refused rather than written as an infinity."""
    values = np.ascontiguousarray(array, dtype="<f4")
    if dtype == "F32":
        return values.tobytes()
    half = torch.from_numpy(values if values.flags.writeable else values.copy()).half().numpy().astype("<f2")
    overflow = np.isinf(half) & np.isfinite(values)
    if overflow.any():
        beyond = values[overflow]
        worst = float(beyond[np.argmax(np.abs(beyond))])
        raise ConversionError(f"tensor {name} holds {worst:.6g}, beyond the F16 range (+-{_F16_MAX:g}): convert it with --weights fp32")
    return half.tobytes()


def config_json(cfg):
    """The `config` metadata entry, as the engine parses it (engine/src/config.cpp)."""
    config = {
        "family": cfg.family, "img_size": cfg.img_size, "in_chans": cfg.in_chans, "patch_size": cfg.patch_size,
        "embed_dim": cfg.embed_dim, "depths": list(cfg.depths), "num_heads": list(cfg.num_heads),
        "window_size": cfg.window_size, "mlp_hidden": [cfg.mlp_hidden(i) for i in range(4)],
        "ape": cfg.ape, "patch_norm": cfg.patch_norm,
        "tasks": [{"name": t.name, "outputs": t.outputs} for t in cfg.tasks],
    }
    if cfg.family == "mtlora":
        for task in config["tasks"]:
            task["head"] = head_metadata(cfg, task["name"])
        config["lora"] = {
            "shared_separate": cfg.lora_mode == "matrix",
            "shared_ranks": list(cfg.lora_ranks),
            "task_ranks": {t.name: list(cfg.lora_task_ranks[t.name]) for t in cfg.tasks},
            "branches": [macs.branch_layers(cfg, i) for i in range(4)],
        }
        config["decoder_channels"] = list(cfg.decoder_channels) if cfg.decoder_downsampler else None
    else:
        config.update({"ada_blocks": cfg.ada_blocks, "ada_tokens": cfg.ada_tokens, "policy_mode": cfg.policy_mode,
                       "block_ctrl_dim": cfg.block_ctrl_dim, "token_ctrl_dim": cfg.token_ctrl_dim,
                       "decoder_dim": cfg.decoder_dim})
    return json.dumps(config, separators=(",", ":"))


def head_metadata(cfg, task):
    """An MTLoRA task's decoder head as the engine needs it (weights/FORMAT.md)."""
    kind = cfg.head(task)
    if kind == "aspp":
        return {"kind": kind, "channels": cfg.aspp_channels, "rates": list(cfg.aspp_rates)}
    if kind == "segformer":
        return {"kind": kind, "channels": cfg.segformer_channels}
    if kind == "updecoder":
        deconv = [{"channels": w, "kernel": k, "stride": 2, "padding": DECONV_PADDING[k][0],
                   "output_padding": DECONV_PADDING[k][1]} for w, k in zip(cfg.updecoder_channels, cfg.updecoder_kernels)]
        return {"kind": kind, "deconv": deconv, "conv_kernel": 3, "conv_padding": 1, "upsample": [2, 2]}
    return {"kind": kind}


def weight_file_bytes(tensors, cfg, source="", weights="fp32", int8_min_conv_outputs=INT8_MIN_CONV_OUTPUTS):
    """The whole file. weights: "fp32", "fp16" or "int8" (WEIGHT_PRECISIONS), how linear and convolution weights are
    stored (tensor_dtype)."""
    return _file_bytes(tensors, config_json(cfg), source, weights, int8_min_conv_outputs)


def _stored(tensors, weights, int8_min_conv_outputs):
    """(name, dtype, shape, bytes) of every tensor the file holds, in order: an I8 tensor is followed by its scales."""
    for name, array in tensors.items():
        dtype = tensor_dtype(name, array.shape, weights, int8_min_conv_outputs)
        if dtype != "I8":
            yield name, dtype, list(array.shape), encode(name, array, dtype)
            continue
        q, scale = quantize(name, array)
        yield name, "I8", list(array.shape), q.astype("i1").tobytes()
        yield name + SCALE_SUFFIX, "F32", list(scale.shape), scale.astype("<f4").tobytes()


def _file_bytes(tensors, config, source, weights, int8_min_conv_outputs):
    metadata = {"format": "adarun", "format_version": FORMAT_VERSION, "config": config, "source": source}
    header = {"__metadata__": metadata}
    chunks, offset = [], 0
    for name, dtype, shape, data in _stored(tensors, weights, int8_min_conv_outputs):
        metadata["format_version"] = max(metadata["format_version"], DTYPE_VERSIONS[dtype], key=int)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        padding = -len(data) % ALIGNMENT
        chunks.append(data + b"\0" * padding)
        offset += len(data) + padding
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def reencoded_bytes(path, weights, int8_min_conv_outputs=INT8_MIN_CONV_OUTPUTS):
    """A weight file's tensors written again with `weights` (config and source kept). From an fp32 file: what
    converting its checkpoint with --weights `weights` gives (F16 values are the F32 ones rounded, I8 ones quantized
    from them). An F16 file widened to fp32 holds the same values exactly; fp16 -> int8 quantizes the widened values.
    An int8 file is first dequantized (q * scale, float32), its _scale tensors dropped: int8 -> fp32 holds q * scale,
    not the weights the int8 file was made from."""
    try:
        metadata, tensors = read_weight_file(path)
        config, source = metadata["config"], metadata.get("source", "")
        values = float_tensors(tensors)
    except (KeyError, TypeError, ValueError, struct.error) as error:
        raise ConversionError(f"{path}: not a readable adarun weight file ({type(error).__name__}: {error})") from error
    return _file_bytes(values, config, source, weights, int8_min_conv_outputs)


def float_tensors(tensors):
    """read_weight_file's tensors as float32, in order: F16 widened, I8 dequantized with its scales (q * scale), the
    _scale tensors themselves dropped."""
    values = {}
    for name, array in tensors.items():
        if name.endswith(SCALE_SUFFIX) and tensors.get(name[:-len(SCALE_SUFFIX)], np.empty(0)).dtype == np.int8:
            continue
        if array.dtype == np.int8:
            if name + SCALE_SUFFIX not in tensors:
                raise ValueError(f"I8 tensor {name} has no {name + SCALE_SUFFIX}")
            values[name] = dequantize(name, array, tensors[name + SCALE_SUFFIX])
        else:
            values[name] = array.astype(np.float32)
    return values


def is_weight_file(path):
    """Whether `path` starts like an adarun weight file (a safetensors header whose metadata says adarun)."""
    try:
        with open(path, "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            if length > 100 << 20:
                return False
            header = json.loads(f.read(length))
        return header.get("__metadata__", {}).get("format") == "adarun"
    except (OSError, ValueError, struct.error, AttributeError):
        return False


def write_atomically(path, data):
    """A failed write leaves no file behind: write beside the target, then rename."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".adarun-")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # mkstemp's 0600 would leave the model unreadable to other users
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def read_weight_file(path):
    """(metadata dict, {name: array}) — for tests and tools. Arrays keep the stored dtype: float32, float16 for F16,
    int8 for I8; an I8 tensor's scales are there too, as the float32 tensor <name>_scale (float_tensors dequantizes)."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__")
    base = 8 + length
    tensors = {name: np.frombuffer(data[base + e["data_offsets"][0]:base + e["data_offsets"][1]],
                                   _NUMPY_DTYPES[e["dtype"]]).reshape(e["shape"])
               for name, e in header.items()}
    return metadata, tensors
