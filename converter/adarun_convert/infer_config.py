"""The model config, read from the state_dict and checked against the research config and flags.

The state_dict shows the architecture (dims, depths, heads, window, policies, tasks); what it
cannot show (the image size of a model without policies or shifted windows, TRAIN.ADAPTIVE)
comes from the embedded config, a research YAML (--config) or flags.
"""
import math
import os
import re

import yaml

from adarun_ref import ModelConfig, TaskSpec

from . import ConversionError

RESEARCH_DEFAULT_IMG_SIZE = 224  # the research config.py's DATA.IMG_SIZE


def load_research_yaml(path):
    """A research YAML with its BASE files merged underneath it, as the research config loader does."""
    try:
        with open(path) as f:
            data = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ConversionError(f"cannot read config {path}: {error}")
    merged = {}
    for base in data.pop("BASE", None) or []:
        if base:
            _merge(merged, load_research_yaml(os.path.join(os.path.dirname(path), base)))
    _merge(merged, data)
    return merged


def _merge(into, update):
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def lookup(config, dotted):
    node = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _shape(state_dict, key):
    if key not in state_dict:
        raise ConversionError(f"state_dict lacks {key}")
    return tuple(state_dict[key].shape)


def _count(state_dict, pattern):
    found = {int(m.group(1)) for k in state_dict for m in [re.match(pattern, k)] if m}
    return max(found) + 1 if found else 0


def linear_prefix(sd, prefix):
    """MTLoRA wraps adapted linears: their full-rank weight lives under `<prefix>.linear`."""
    return f"{prefix}.linear" if f"{prefix}.linear.weight" in sd else prefix


def is_mtlora(sd):
    return any(".lora_shared_A" in k or ".lora_tasks_A." in k or k.startswith("decoders.decoders.") for k in sd)


def _window_of(table_rows, key):
    window = (math.isqrt(table_rows) + 1) // 2
    if (2 * window - 1) ** 2 != table_rows:
        raise ConversionError(f"{key} has {table_rows} rows, not (2w-1)^2 for any window w")
    return window


def _backbone_shapes(sd):
    embed, in_chans, patch, _ = _shape(sd, "backbone.patch_embed.proj.weight")
    depths, heads, windows, hidden = [], [], [], []
    for i in range(4):
        depth = _count(sd, rf"backbone\.layers\.{i}\.blocks\.(\d+)\.")
        if depth == 0:
            raise ConversionError(f"state_dict has no blocks for stage {i} (backbone.layers.{i}.blocks.*)")
        depths.append(depth)
        key = f"backbone.layers.{i}.blocks.0.attn.relative_position_bias_table"
        rows, stage_heads = _shape(sd, key)
        heads.append(stage_heads)
        windows.append(_window_of(rows, key))
        hidden.append(_shape(sd, linear_prefix(sd, f"backbone.layers.{i}.blocks.0.mlp.fc1") + ".weight")[0])
    if _count(sd, r"backbone\.layers\.(\d+)\.") != 4:
        raise ConversionError("adarun runs four-stage Swin backbones only")
    return dict(embed_dim=embed, in_chans=in_chans, patch_size=patch, depths=depths, num_heads=heads,
                mlp_ratio=hidden[0] / embed, window_size=windows[0],
                qkv_bias=linear_prefix(sd, "backbone.layers.0.blocks.0.attn.qkv") + ".bias" in sd,
                ape="backbone.absolute_pos_embed" in sd,
                patch_norm="backbone.patch_embed.norm.weight" in sd), windows


def _tasks(sd):
    tasks = []
    for key in sd:
        m = re.match(r"decoders\.([^.]+)\.segment\.3\.weight$", key)
        if m:
            tasks.append(TaskSpec(m.group(1), sd[key].shape[0]))
    if not tasks:
        raise ConversionError("state_dict has no task decoders (decoders.<task>.segment.3.weight)")
    return tasks


def _policies(sd):
    """(ada_blocks, ada_tokens, policy_mode, block hidden, token hidden) from the controller keys."""
    block_keys = [k for k in sd if k.startswith("backbone.layers_controllers.")]
    token_keys = [k for k in sd if re.match(r"backbone\.layers\.\d+\.tokens_select\.", k)]
    if not block_keys and not token_keys:
        return False, False, "none", 64, 64
    per_task = any(re.match(r"backbone\.layers_controllers\.[^0-9.][^.]*\.", k) for k in block_keys) or \
        any(re.match(r"backbone\.layers\.\d+\.tokens_select\.[^.]+\.mlp\.", k) for k in token_keys)
    block_hidden = token_hidden = 64
    if block_keys:
        block_hidden = sd[next(k for k in block_keys if k.endswith("mlp.weight"))].shape[0]
    if token_keys:
        token_hidden = sd[next(k for k in token_keys if k.endswith("mlp.weight"))].shape[0]
    return bool(block_keys), bool(token_keys), "per_task" if per_task else "single", block_hidden, token_hidden


def _image_size_from_state(sd, ada_blocks, patch):
    """What the state_dict reveals of the input size: position embedding, shifted-window masks, block policies."""
    if "backbone.absolute_pos_embed" in sd:
        return math.isqrt(sd["backbone.absolute_pos_embed"].shape[1]) * patch
    for key, value in sd.items():
        m = re.match(r"backbone\.layers\.(\d+)\.blocks\.\d+\.attn_mask$", key)
        if m:
            windows, n, _ = value.shape
            return math.isqrt(windows * n) * 2 ** int(m.group(1)) * patch
    if ada_blocks:
        key = next(k for k in sd if re.match(r"backbone\.layers_controllers\.(.+\.)?0\.fc\.weight$", k))
        hidden = next(v for k, v in sd.items() if k == key.replace("fc.weight", "mlp.weight")).shape[0]
        return math.isqrt(sd[key].shape[1] // hidden) * patch
    return None


def _agree(name, inferred, given, source):
    if given is None or inferred is None:
        return
    same = list(given) == list(inferred) if isinstance(given, (list, tuple)) else given == inferred
    if not same:
        raise ConversionError(f"{source} says {name} = {given}, but the state_dict shows {inferred}")


def _check_against(config, research, source):
    if research is None:
        return
    checks = [("MODEL.SWIN.EMBED_DIM", config.embed_dim), ("MODEL.SWIN.DEPTHS", config.depths),
              ("MODEL.SWIN.NUM_HEADS", config.num_heads), ("MODEL.SWIN.WINDOW_SIZE", config.window_size)]
    if config.family == "adamtl":
        checks.append(("MODEL.SWIN.DECODER_DIM", config.decoder_dim))
    if config.adaptive:
        checks += [("TRAIN.POLICY", config.policy_mode)]
        if config.ada_blocks:
            checks.append(("TRAIN.BLOCK_CONTROLLER_DIM", config.block_ctrl_dim))
        if config.ada_tokens:
            checks.append(("TRAIN.TOKEN_CONTROLLER_DIM", config.token_ctrl_dim))
    for dotted, inferred in checks:
        _agree(dotted, inferred, lookup(research, dotted), source)
    tasks = lookup(research, "TASKS")
    if tasks is not None and list(tasks) != [t.name for t in config.tasks]:
        raise ConversionError(f"{source} lists tasks {list(tasks)}, but the state_dict has decoders for {[t.name for t in config.tasks]}")


def infer_config(sd, embedded=None, yaml_config=None, img_size=None, adaptive=None, lora_flags=None):
    """Returns (ModelConfig, notes). `adaptive` False converts an AdaMTL model as static: the research
    eval path ignores the policies when TRAIN.ADAPTIVE is off. `lora_flags`: MTLoRA settings from the
    command line (mode, shared_scale, task_scale), which win over the configs."""
    backbone, windows = _backbone_shapes(sd)
    sources = [("the checkpoint's config", embedded), ("--config", yaml_config)]
    if is_mtlora(sd):
        from .infer_mtlora import mtlora_fields
        config, notes = ModelConfig(**backbone, **mtlora_fields(sd, sources, lora_flags or {})), []
        config.tasks = [TaskSpec(t.name, t.outputs) for t in config.tasks]
    else:
        config, notes = _adamtl_config(sd, backbone), []
    for source, research in sources:
        _check_against(config, research, source)
    config.img_size = _resolve_image_size(sd, config, sources, img_size)
    _check_windows(config, windows)
    if config.adaptive and not _resolve_adaptive(sources, adaptive, notes):
        notes.append("TRAIN.ADAPTIVE is off: the research eval path ignores the policies, so the model is converted as static")
        config.ada_blocks = config.ada_tokens = False
        config.policy_mode = "none"
    return config, notes


def _adamtl_config(sd, backbone):
    ada_blocks, ada_tokens, mode, block_hidden, token_hidden = _policies(sd)
    tasks = _tasks(sd)
    decoder_dim = 2 * _shape(sd, f"decoders.{tasks[0].name}.segment.0.weight")[0]
    return ModelConfig(**backbone, ada_blocks=ada_blocks, ada_tokens=ada_tokens, policy_mode=mode,
                       block_ctrl_dim=block_hidden, token_ctrl_dim=token_hidden, decoder_dim=decoder_dim, tasks=tasks)


def _resolve_image_size(sd, config, sources, flag):
    inferred = _image_size_from_state(sd, config.ada_blocks, config.patch_size)
    for source, research in sources:
        _agree("DATA.IMG_SIZE", inferred, lookup(research, "DATA.IMG_SIZE"), source)
    _agree("--img-size", inferred, flag, "--img-size")
    size = inferred or flag or next((lookup(r, "DATA.IMG_SIZE") for _, r in reversed(sources) if lookup(r, "DATA.IMG_SIZE")), None)
    if size is None and any(research is not None for _, research in sources):
        size = RESEARCH_DEFAULT_IMG_SIZE
    if size is None:
        raise ConversionError("the state_dict does not show the input size: give --img-size or --config")
    return int(size)


def _check_windows(config, windows):
    for i, window in enumerate(windows):
        expected = config.stage(i)[2]
        if window != expected:
            raise ConversionError(f"stage {i} has a {window}x{window} window table, but image size {config.img_size} "
                                  f"with window {config.window_size} implies {expected}x{expected}")


def _resolve_adaptive(sources, flag, notes):
    if flag is not None:
        return flag
    for source, research in reversed(sources):
        if research is not None:
            value = lookup(research, "TRAIN.ADAPTIVE")
            # The research default (config.py) is False.
            return bool(value) if value is not None else False
    notes.append("no research config given: assuming TRAIN.ADAPTIVE True (the policies are applied)")
    return True
