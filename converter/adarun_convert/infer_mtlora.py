"""MTLoRA settings: ranks, switches and decoders from the state_dict; mode and scales (which it
cannot show) from the command line, the embedded config or a research YAML, in that order."""
import re

from adarun_ref import TaskSpec

from . import ConversionError
from .infer_config import lookup

LAYERS = ("qkv", "proj", "fc1", "fc2")
LAYER_PATHS = {"qkv": "attn.qkv", "proj": "attn.proj", "fc1": "mlp.fc1", "fc2": "mlp.fc2"}
SUPPORTED_HEADS = ("hrnet",)


def _per_stage(value, name):
    """A research per-stage list: a number or a one-element list means every stage."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if len(values) == 1:
        values *= 4
    if len(values) != 4:
        raise ConversionError(f"{name} must give one value or one per stage (4), got {values}")
    return [float(v) for v in values]


def _tasks(sd):
    names = []
    for key in sd:
        m = re.match(r"(?:downsampler|decoders\.decoders)\.([^.]+)\.", key)
        if m and m.group(1) not in names:
            names.append(m.group(1))
    if not names:
        raise ConversionError("state_dict has no task decoders (decoders.decoders.<task>.*)")
    tasks = []
    for name in names:
        key = f"decoders.decoders.{name}.last_layer.3.weight"
        if key not in sd:
            found = next((k for k in sd if k.startswith(f"decoders.decoders.{name}.")), "none")
            raise ConversionError(f"task {name} uses a decoder head adarun does not support (only HRNet heads; found {found})")
        tasks.append(TaskSpec(name, sd[key].shape[0]))
    return tasks


def _check_heads(tasks, sources):
    for source, research in sources:
        heads = lookup(research, "MODEL.DECODER_HEAD") or {}
        for task in tasks:
            head = heads.get(task.name, "hrnet")
            if head not in SUPPORTED_HEADS:
                raise ConversionError(f"{source} gives task {task.name} the '{head}' decoder head; adarun supports {SUPPORTED_HEADS}")


def _ranks(sd, depths, tasks):
    shared, per_task = [], {t.name: [] for t in tasks}
    for i, depth in enumerate(depths):
        prefix = f"backbone.layers.{i}.blocks"
        ranks = [v.shape[0] for k, v in sd.items() if k.startswith(prefix + ".") and k.endswith(".lora_shared_A")]
        shared.append(ranks[0] if ranks else 0)
        for t in tasks:
            found = [v.shape[0] for k, v in sd.items() if k.startswith(f"{prefix}.{depth - 1}.") and k.endswith(f".lora_tasks_A.{t.name}")]
            per_task[t.name].append(found[0] if found else 0)
    return shared, per_task


def _setting(flags, key, sources, dotted):
    if flags.get(key) is not None:
        return flags[key]
    for _, research in reversed(sources):
        value = lookup(research, dotted)
        if value is not None:
            return value
    return None


def _mode(flags, sources, has_branches):
    mode = _setting(flags, "mode", sources, "MODEL.MTLORA.SHARED_MODE")
    if mode is None and any(r is not None for _, r in sources):
        mode = "matrix"  # the research config.py default
    if mode is None:
        if has_branches:
            raise ConversionError("the LoRA mode is not in the state_dict: give --lora-mode matrix|matrixv2 or --config")
        mode = "matrix"
    mode = {"lora_only": "matrix"}.get(mode, mode)
    if mode not in ("matrix", "matrixv2"):
        raise ConversionError(f"LoRA shared mode '{mode}' is not supported (matrix, matrixv2)")
    return mode


def _scales(flags, sources, tasks, sd):
    shared = _setting(flags, "shared_scale", sources, "MODEL.MTLORA.SHARED_SCALE")
    if shared is None:
        if any(k.endswith(".lora_shared_scale") for k in sd):
            shared = 1.0  # trained scales live in the state_dict and win, layer by layer
        else:
            raise ConversionError("no LoRA scales: the state_dict cannot show them; give --lora-shared-scale "
                                  "(and --lora-task-scale) or --config with MODEL.MTLORA.SHARED_SCALE")
    shared = _per_stage(shared, "LoRA shared scale")
    task_scale = {}
    for t in tasks:
        given = flags.get("task_scale")
        if given is None:
            given = _setting({}, None, sources, f"MODEL.MTLORA.SCALE_PER_TASK.{t.name}")
        task_scale[t.name] = _per_stage(given, f"LoRA scale of {t.name}") if given is not None else list(shared)
    return shared, task_scale


def mtlora_fields(sd, sources, flags):
    depths = [1 + max(int(m.group(1)) for k in sd for m in [re.match(rf"backbone\.layers\.{i}\.blocks\.(\d+)\.", k)] if m)
              for i in range(4)]
    tasks = _tasks(sd)
    _check_heads(tasks, sources)
    layers = tuple(k for k in LAYERS if f"backbone.layers.0.blocks.0.{LAYER_PATHS[k]}.linear.weight" in sd)
    shared_ranks, task_ranks = _ranks(sd, depths, tasks)
    has_branches = any(".lora_tasks_A." in k for k in sd)
    shared_scale, task_scale = _scales(flags, sources, tasks, sd)
    channels_key = "downsampler.{}.downsample_{}.weight"
    downsampler = channels_key.format(tasks[0].name, 0) in sd
    channels = [sd[channels_key.format(tasks[0].name, i)].shape[0] for i in range(4)] if downsampler else [18, 36, 72, 144]
    return dict(family="mtlora", tasks=tasks, lora_mode=_mode(flags, sources, has_branches), lora_ranks=shared_ranks,
                lora_task_ranks=task_ranks, lora_shared_scale=shared_scale, lora_task_scale=task_scale,
                lora_layers=layers, lora_downsampler="backbone.layers.0.downsample.reduction.linear.weight" in sd,
                decoder_downsampler=downsampler, decoder_channels=channels)
