"""The conversion pipeline: load safely, infer and check the config, map and fold, write."""
from adarun_ref import macs

from .engine_tensors import engine_tensors
from .infer_config import infer_config, load_research_yaml
from .mtlora_tensors import mtlora_tensors
from .safe_load import load_checkpoint
from .weight_file import INT8_MIN_CONV_OUTPUTS, output_axis, tensor_dtype, weight_file_bytes, write_atomically


def convert_state(state_dict, embedded=None, yaml_config=None, img_size=None, adaptive=None, lora_flags=None):
    """Returns (config, tensors, notes)."""
    cfg, notes = infer_config(state_dict, embedded, yaml_config, img_size, adaptive, lora_flags)
    if cfg.family == "mtlora":
        return cfg, mtlora_tensors(state_dict, cfg), notes
    has_policies = any("layers_controllers" in k or "tokens_select" in k for k in state_dict)
    tensors = engine_tensors(state_dict, cfg, drop_policies=has_policies and not cfg.adaptive)
    return cfg, tensors, notes


def convert_file(checkpoint, output, config_path=None, img_size=None, adaptive=None, lora_flags=None, weights="fp32",
                 int8_min_conv_outputs=INT8_MIN_CONV_OUTPUTS):
    """weights: how linear and convolution weights are stored, "fp32", "fp16" or "int8" (weight_file.WEIGHT_PRECISIONS;
    int8 keeps convolutions with fewer output channels than int8_min_conv_outputs F32: weight_file.tensor_dtype)."""
    state_dict, embedded = load_checkpoint(checkpoint)
    yaml_config = load_research_yaml(config_path) if config_path else None
    cfg, tensors, notes = convert_state(state_dict, embedded, yaml_config, img_size, adaptive, lora_flags)
    write_atomically(output, weight_file_bytes(tensors, cfg, source=str(checkpoint), weights=weights,
                                               int8_min_conv_outputs=int8_min_conv_outputs))
    return cfg, tensors, notes


def _family_line(cfg):
    if cfg.family == "mtlora":
        return (f"family     mtlora ({cfg.lora_mode}, shared ranks {cfg.lora_ranks}, adapters in {', '.join(cfg.lora_layers)}"
                f"{', downsampler' if cfg.lora_downsampler else ''}; task branches {[macs.branch_layers(cfg, i) for i in range(4)]})")
    kind = f"AdaMTL, {cfg.policy_mode} policies" if cfg.adaptive else "static Swin MTL"
    return f"family     adamtl ({kind}{', blocks' if cfg.ada_blocks else ''}{', tokens' if cfg.ada_tokens else ''})"


def static_macs(cfg):
    if cfg.family == "mtlora":
        return macs.mtlora_model(cfg, [t.name for t in cfg.tasks])
    return macs.static_model(cfg, [t.outputs for t in cfg.tasks])


def storage_line(tensors, weights, int8_min_conv_outputs=INT8_MIN_CONV_OUTPUTS):
    """How the tensors are stored: per dtype, how many tensors and values (an I8 tensor's F32 scales among the F32)."""
    counts = {}

    def count(dtype, size):
        tensor_count, values = counts.get(dtype, (0, 0))
        counts[dtype] = (tensor_count + 1, values + size)

    for name, array in tensors.items():
        dtype = tensor_dtype(name, array.shape, weights, int8_min_conv_outputs)
        count(dtype, array.size)
        if dtype == "I8":
            count("F32", array.shape[output_axis(name)])
    parts = [f"{dtype} {n} tensors ({values / 1e6:.2f} M values)" for dtype, (n, values) in sorted(counts.items())]
    return f"storage    {weights} weights: " + ", ".join(parts)


def summary(cfg, tensors):
    lines = [_family_line(cfg), f"input      {cfg.img_size}x{cfg.img_size}, patch {cfg.patch_size}, window {cfg.window_size}"]
    for i in range(4):
        dim, resolution, window, shift = cfg.stage(i)
        lines.append(f"stage {i}    dim {dim}, {cfg.depths[i]} blocks, {cfg.num_heads[i]} heads, "
                     f"{resolution}x{resolution} tokens, window {window}{', shifted' if shift else ''}")
    if cfg.family == "mtlora":
        lines.append("tasks      " + ", ".join(f"{t.name} ({t.outputs}, {cfg.head(t.name)} head)" for t in cfg.tasks))
    else:
        lines.append("tasks      " + ", ".join(f"{t.name} ({t.outputs})" for t in cfg.tasks))
    lines.append(f"parameters {sum(a.size for a in tensors.values()):,} stored values")
    lines.append(f"static MACs {static_macs(cfg) / 1e9:.3f} G (all tasks)")
    if cfg.family == "mtlora":
        lines.append(f"unmerged   {macs.mtlora_unmerged(cfg) / 1e9:.3f} G in PyTorch (adapters computed apart)")
    return "\n".join(lines)
