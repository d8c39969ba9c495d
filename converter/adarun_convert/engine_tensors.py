"""Research state_dict -> the engine's tensors (weights/FORMAT.md): names mapped, shapes checked,
BatchNorm folded into the convolutions, relative position biases expanded per block."""
import collections
import re

import numpy as np
import torch

from adarun_ref.backbone import relative_position_index

from . import ConversionError

BN_EPS = 1e-5
_NOT_WEIGHTS = (r"\.relative_position_index$", r"\.attn_mask$", r"\.num_batches_tracked$", r"^backbone\.head\.",
                r"^backbone\.norm\.")


class StateReader:
    """Hands out state_dict tensors by name with their shape checked, and knows which were never taken."""

    def __init__(self, state_dict):
        self.state = state_dict
        self.taken = set()

    def take(self, key, shape):
        if key not in self.state:
            raise ConversionError(f"state_dict lacks {key} (expected shape {list(shape)})")
        tensor = self.state[key]
        if not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != tuple(shape):
            found = list(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
            raise ConversionError(f"{key} has shape {found}, expected {list(shape)}")
        self.taken.add(key)
        return tensor.detach().to(torch.float64)

    def check_all_taken(self):
        for key in self.state:
            if key not in self.taken and not any(re.search(p, key) for p in _NOT_WEIGHTS):
                raise ConversionError(f"unexpected key {key} in the state_dict (not part of this model)")


def fold_batch_norm(reader, conv_key, bn_prefix, cout, weight_shape, conv_bias_key=None, out_dim=0):
    """conv (+bias) then BN  ==  conv with weight * g/sqrt(v+eps) and bias (b - mean) * g/sqrt(v+eps) + beta.
    out_dim: the weight's output-channel dim (1 for a transposed convolution's [cin, cout, k, k])."""
    weight = reader.take(conv_key, weight_shape)
    bias = reader.take(conv_bias_key, (cout,)) if conv_bias_key else torch.zeros(cout, dtype=torch.float64)
    gamma = reader.take(f"{bn_prefix}.weight", (cout,))
    beta = reader.take(f"{bn_prefix}.bias", (cout,))
    mean = reader.take(f"{bn_prefix}.running_mean", (cout,))
    var = reader.take(f"{bn_prefix}.running_var", (cout,))
    scale = gamma / torch.sqrt(var + BN_EPS)
    return weight * scale.view([-1 if d == out_dim else 1 for d in range(weight.dim())]), (bias - mean) * scale + beta


def relative_bias(reader, key, window, heads):
    table = reader.take(key, ((2 * window - 1) ** 2, heads))
    n = window * window
    return table[relative_position_index(window).view(-1)].view(n, n, heads).permute(2, 0, 1)


class Emitter:
    def __init__(self, reader):
        self.reader = reader
        self.tensors = collections.OrderedDict()

    def put(self, name, tensor):
        self.tensors[name] = tensor.to(torch.float32).contiguous().numpy()

    def copy(self, name, key, shape):
        self.put(name, self.reader.take(key, shape))

    def linear(self, name, key, cin, cout, bias=True):
        self.copy(f"{name}.weight", f"{key}.weight", (cout, cin))
        if bias:
            self.copy(f"{name}.bias", f"{key}.bias", (cout,))

    def norm(self, name, key, dim):
        self.copy(f"{name}.weight", f"{key}.weight", (dim,))
        self.copy(f"{name}.bias", f"{key}.bias", (dim,))


def emit_patch_embed(e, cfg):
    c, p = cfg.embed_dim, cfg.patch_size
    e.copy("patch_embed.weight", "backbone.patch_embed.proj.weight", (c, cfg.in_chans, p, p))
    e.copy("patch_embed.bias", "backbone.patch_embed.proj.bias", (c,))
    if cfg.patch_norm:
        e.norm("patch_embed.norm", "backbone.patch_embed.norm", c)
    if cfg.ape:
        tokens = (cfg.img_size // p) ** 2
        e.put("absolute_pos_embed", e.reader.take("backbone.absolute_pos_embed", (1, tokens, c))[0])


def _emit_block(e, cfg, i, j):
    dim, _, window, _ = cfg.stage(i)
    heads, hidden = cfg.num_heads[i], cfg.mlp_hidden(i)
    src, dst = f"backbone.layers.{i}.blocks.{j}", f"stages.{i}.blocks.{j}"
    e.norm(f"{dst}.norm1", f"{src}.norm1", dim)
    e.linear(f"{dst}.attn.qkv", f"{src}.attn.qkv", dim, 3 * dim, bias=cfg.qkv_bias)
    if not cfg.qkv_bias:
        e.put(f"{dst}.attn.qkv.bias", torch.zeros(3 * dim))
    e.put(f"{dst}.attn.rel_bias", relative_bias(e.reader, f"{src}.attn.relative_position_bias_table", window, heads))
    e.linear(f"{dst}.attn.proj", f"{src}.attn.proj", dim, dim)
    e.norm(f"{dst}.norm2", f"{src}.norm2", dim)
    e.linear(f"{dst}.mlp.fc1", f"{src}.mlp.fc1", dim, hidden)
    e.linear(f"{dst}.mlp.fc2", f"{src}.mlp.fc2", hidden, dim)


def _policy_source(cfg, kind, i, name):
    if kind == "block":
        return f"backbone.layers_controllers.{i}" if cfg.policy_mode == "single" else f"backbone.layers_controllers.{name}.{i}"
    return f"backbone.layers.{i}.tokens_select" if cfg.policy_mode == "single" else f"backbone.layers.{i}.tokens_select.{name}"


def _emit_policies(e, cfg, i):
    dim, resolution, _, _ = cfg.stage(i)
    for name in cfg.policy_names():
        if cfg.ada_blocks:
            src, hidden = _policy_source(cfg, "block", i, name), cfg.block_ctrl_dim
            e.linear(f"stages.{i}.block_policy.{name}.mlp", f"{src}.mlp", dim, hidden)
            e.linear(f"stages.{i}.block_policy.{name}.fc", f"{src}.fc", hidden * resolution * resolution, cfg.depths[i])
        if cfg.ada_tokens:
            src, hidden = _policy_source(cfg, "token", i, name), cfg.token_ctrl_dim
            e.linear(f"stages.{i}.token_policy.{name}.mlp", f"{src}.mlp", dim, hidden)
            e.linear(f"stages.{i}.token_policy.{name}.fc", f"{src}.fc", hidden, 1)


def _emit_stage(e, cfg, i):
    dim = cfg.stage(i)[0]
    for j in range(cfg.depths[i]):
        _emit_block(e, cfg, i, j)
    if i < 3:
        e.norm(f"stages.{i}.merge.norm", f"backbone.layers.{i}.downsample.norm", 4 * dim)
        e.linear(f"stages.{i}.merge.reduction", f"backbone.layers.{i}.downsample.reduction", 4 * dim, 2 * dim, bias=False)
    _emit_policies(e, cfg, i)


def _emit_folded_conv(e, name, conv_key, bn_prefix, cin, cout, k, conv_bias_key=None):
    weight, bias = fold_batch_norm(e.reader, conv_key, bn_prefix, cout, (cout, cin, k, k), conv_bias_key)
    e.put(f"{name}.weight", weight)
    e.put(f"{name}.bias", bias)


def _emit_decoder(e, cfg, task):
    half = cfg.decoder_dim // 2
    src, dst = f"decoders.{task.name}", f"decoders.{task.name}"
    for i in range(4):
        dim = cfg.stage_out(i)[0]
        for block, index, cin in (("block1", 2, dim), ("block2", 3, half)):
            s, d = f"{src}.fuse.{i}.{index}", f"{dst}.fuse.{i}.{block}"
            _emit_folded_conv(e, f"{d}.conv1", f"{s}.conv1.weight", f"{s}.bn1", cin, half, 3)
            _emit_folded_conv(e, f"{d}.conv2", f"{s}.conv2.weight", f"{s}.bn2", half, half, 3)
            if block == "block1":
                _emit_folded_conv(e, f"{d}.shortcut", f"{s}.downsample.0.weight", f"{s}.downsample.1", cin, half, 1)
    _emit_folded_conv(e, f"{dst}.head.conv1", f"{src}.segment.0.weight", f"{src}.segment.1", 4 * half, half, 1,
                      conv_bias_key=f"{src}.segment.0.bias")
    e.copy(f"{dst}.head.conv2.weight", f"{src}.segment.3.weight", (task.outputs, half, 1, 1))
    e.copy(f"{dst}.head.conv2.bias", f"{src}.segment.3.bias", (task.outputs,))


def engine_tensors(state_dict, cfg, drop_policies=False):
    """OrderedDict name -> float32 array. drop_policies: the policy weights exist but are unused (static conversion)."""
    e = Emitter(StateReader(state_dict))
    emit_patch_embed(e, cfg)
    for i in range(4):
        _emit_stage(e, cfg, i)
    for task in cfg.tasks:
        _emit_decoder(e, cfg, task)
    if drop_policies:
        e.reader.taken.update(k for k in state_dict if "layers_controllers" in k or "tokens_select" in k)
    e.reader.check_all_taken()
    return e.tensors
