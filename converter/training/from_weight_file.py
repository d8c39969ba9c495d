"""An AdaMTL weight file back into a trainable reference model: the inverse of
adarun_convert.engine_tensors, so that a bundled model can be fine-tuned when its training
checkpoint is gone.

Everything maps back exactly but the BatchNorms, whose statistics were folded into the
convolutions: each comes back as the identity (mean 0, variance 1 - eps, scale 1) after a conv
holding the folded weights, with the folded bias as its shift. That is the same function in eval
mode only, so a model made here must be trained with its BatchNorms frozen (freeze_batch_norm).
"""
import json
import struct

import numpy as np
import torch

from adarun_convert.engine_tensors import BN_EPS
from adarun_convert.weight_file import read_weight_file
from adarun_ref import ModelConfig, MultiTaskSwin, TaskSpec
from adarun_ref.backbone import relative_position_index

_CONFIG_FIELDS = ("img_size", "in_chans", "patch_size", "embed_dim", "depths", "num_heads", "window_size", "ape",
                  "patch_norm", "ada_blocks", "ada_tokens", "policy_mode", "block_ctrl_dim", "token_ctrl_dim",
                  "decoder_dim")


def config_from_metadata(metadata):
    config = json.loads(metadata["config"])
    if config["family"] != "adamtl":
        raise ValueError(f"only AdaMTL weight files map back to a training model, not {config['family']}")
    cfg = ModelConfig(**{k: config[k] for k in _CONFIG_FIELDS},
                      tasks=[TaskSpec(t["name"], t["outputs"]) for t in config["tasks"]])
    if [cfg.mlp_hidden(i) for i in range(4)] != config["mlp_hidden"]:
        raise ValueError(f"mlp_hidden {config['mlp_hidden']} is not a whole MLP ratio of the stage widths")
    return cfg


class _StateWriter:
    """Fills a model's state_dict by key, checking every shape, and knows which keys were never set."""

    def __init__(self, model, tensors):
        self.state = model.state_dict()
        self.tensors = tensors
        self.unset = {k for k in self.state if not k.endswith(("relative_position_index", "attn_mask", "num_batches_tracked"))}

    def set(self, key, value):
        value = torch.tensor(np.asarray(value), dtype=torch.float32)
        if tuple(value.shape) != tuple(self.state[key].shape):
            raise ValueError(f"{key}: weight file gives shape {list(value.shape)}, model has {list(self.state[key].shape)}")
        self.state[key].copy_(value)
        self.unset.discard(key)

    def copy(self, key, name):
        self.set(key, self.tensors[name])

    def copy_all(self, key_prefix, name_prefix, fields=("weight", "bias")):
        for field in fields:
            self.copy(f"{key_prefix}.{field}", f"{name_prefix}.{field}")


def _relative_bias_table(rel_bias, window):
    """rel_bias [heads, n, n] = table[index] per head; every table row occurs in the index."""
    heads = rel_bias.shape[0]
    table = torch.zeros((2 * window - 1) ** 2, heads)
    table[relative_position_index(window).view(-1)] = torch.tensor(np.asarray(rel_bias)).reshape(heads, -1).t()
    return table


def _backbone(w, cfg):
    w.copy_all("backbone.patch_embed.proj", "patch_embed")
    if cfg.patch_norm:
        w.copy_all("backbone.patch_embed.norm", "patch_embed.norm")
    if cfg.ape:
        w.set("backbone.absolute_pos_embed", w.tensors["absolute_pos_embed"][None])
    for i in range(4):
        window = cfg.stage(i)[2]
        for j in range(cfg.depths[i]):
            src, dst = f"stages.{i}.blocks.{j}", f"backbone.layers.{i}.blocks.{j}"
            for layer in ("norm1", "attn.qkv", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2"):
                w.copy_all(f"{dst}.{layer}", f"{src}.{layer}", ("weight", "bias") if layer != "attn.qkv" or cfg.qkv_bias else ("weight",))
            w.set(f"{dst}.attn.relative_position_bias_table", _relative_bias_table(w.tensors[f"{src}.attn.rel_bias"], window))
        if i < 3:
            w.copy_all(f"backbone.layers.{i}.downsample.norm", f"stages.{i}.merge.norm")
            w.copy(f"backbone.layers.{i}.downsample.reduction.weight", f"stages.{i}.merge.reduction.weight")
        _policies(w, cfg, i)


def _policies(w, cfg, i):
    for name in cfg.policy_names():
        single = cfg.policy_mode == "single"
        if cfg.ada_blocks:
            key = f"backbone.layers_controllers.{i}" if single else f"backbone.layers_controllers.{name}.{i}"
            for layer in ("mlp", "fc"):
                w.copy_all(f"{key}.{layer}", f"stages.{i}.block_policy.{name}.{layer}")
        if cfg.ada_tokens:
            key = f"backbone.layers.{i}.tokens_select" + ("" if single else f".{name}")
            for layer in ("mlp", "fc"):
                w.copy_all(f"{key}.{layer}", f"stages.{i}.token_policy.{name}.{layer}")


def _identity_batch_norm(w, key, shift):
    w.set(f"{key}.weight", torch.ones(len(shift)))
    w.set(f"{key}.bias", shift)
    w.set(f"{key}.running_mean", torch.zeros(len(shift)))
    w.set(f"{key}.running_var", torch.full((len(shift),), 1 - BN_EPS))


def _folded_conv(w, conv_key, bn_key, name, conv_has_bias=False):
    w.copy(f"{conv_key}.weight", f"{name}.weight")
    bias = torch.tensor(np.asarray(w.tensors[f"{name}.bias"]))
    if conv_has_bias:
        w.set(f"{conv_key}.bias", bias)
        bias = torch.zeros_like(bias)
    _identity_batch_norm(w, bn_key, bias)


def _decoder(w, task):
    src, dst = f"decoders.{task}", f"decoders.{task}"
    for i in range(4):
        for block, index in (("block1", 2), ("block2", 3)):
            key, name = f"{dst}.fuse.{i}.{index}", f"{src}.fuse.{i}.{block}"
            _folded_conv(w, f"{key}.conv1", f"{key}.bn1", f"{name}.conv1")
            _folded_conv(w, f"{key}.conv2", f"{key}.bn2", f"{name}.conv2")
            if block == "block1":
                _folded_conv(w, f"{key}.downsample.0", f"{key}.downsample.1", f"{name}.shortcut")
    _folded_conv(w, f"{dst}.segment.0", f"{dst}.segment.1", f"{src}.head.conv1", conv_has_bias=True)
    w.copy_all(f"{dst}.segment.3", f"{src}.head.conv2")


def model_from_weight_file(path):
    """A MultiTaskSwin (eval mode) computing what the weight file at `path` computes."""
    try:
        metadata, tensors = read_weight_file(path)
    except (ValueError, KeyError, struct.error) as error:
        raise ValueError(f"not a readable adarun weight file ({error})") from error
    cfg = config_from_metadata(metadata)
    model = MultiTaskSwin(cfg)
    writer = _StateWriter(model, tensors)
    with torch.no_grad():
        _backbone(writer, cfg)
        for task in cfg.tasks:
            _decoder(writer, task.name)
    if writer.unset:
        raise ValueError(f"the weight file does not give {sorted(writer.unset)[:5]}")
    model.load_state_dict(writer.state)
    return model.eval()


def freeze_batch_norm(model):
    """Puts every BatchNorm in eval mode (statistics kept, not re-estimated); call after model.train()."""
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.eval()
