"""Writes (and, for tests, reads) the weight file layout of weights/FORMAT.md."""
import json
import os
import struct
import tempfile

import numpy as np

from adarun_ref import macs
from adarun_ref.mtlora_heads import DECONV_PADDING

FORMAT_VERSION = "1"
ALIGNMENT = 64


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


def weight_file_bytes(tensors, cfg, source=""):
    header = {"__metadata__": {"format": "adarun", "format_version": FORMAT_VERSION, "config": config_json(cfg),
                               "source": source}}
    chunks, offset = [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        padding = -len(data) % ALIGNMENT
        chunks.append(data + b"\0" * padding)
        offset += len(data) + padding
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def write_atomically(path, data):
    """A failed write leaves no file behind: write beside the target, then rename."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".adarun-")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def read_weight_file(path):
    """(metadata dict, {name: array}) — for tests and tools."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__")
    base = 8 + length
    tensors = {name: np.frombuffer(data[base + e["data_offsets"][0]:base + e["data_offsets"][1]], "<f4").reshape(e["shape"])
               for name, e in header.items()}
    return metadata, tensors
