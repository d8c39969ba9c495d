"""MTLoRA settings: ranks, switches, decoders and their heads from the state_dict; mode and scales (which it
cannot show) from the command line, the embedded config or a research YAML, in that order."""
import re

from adarun_ref import TaskSpec
from adarun_ref.mtlora_heads import DECONV_PADDING, research_head_kind

from . import ConversionError
from .infer_config import lookup

LAYERS = ("qkv", "proj", "fc1", "fc2")
LAYER_PATHS = {"qkv": "attn.qkv", "proj": "attn.proj", "fc1": "mlp.fc1", "fc2": "mlp.fc2"}


def _per_stage(value, name):
    """A research per-stage list: a number or a one-element list means every stage."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if len(values) == 1:
        values *= 4
    if len(values) != 4:
        raise ConversionError(f"{name} must give one value or one per stage (4), got {values}")
    return [float(v) for v in values]


# The key that marks each head kind, and its output layer, whose first dim is the task's output count.
_HEAD_MARKS = {"hrnet": "last_layer.0.weight", "aspp": "0.project.0.weight", "segformer": "linear_fuse.conv.weight",
               "updecoder": "deconv_layers.0.weight"}
_HEAD_OUTPUT = {"hrnet": "last_layer.3.weight", "aspp": "4.weight", "segformer": "linear_pred.weight",
                "updecoder": "conv_layers.0.weight"}


def _head_kind(sd, name):
    prefix = f"decoders.decoders.{name}."
    kinds = [kind for kind, mark in _HEAD_MARKS.items() if prefix + mark in sd]
    if len(kinds) != 1:
        found = next((k for k in sd if k.startswith(prefix)), "none")
        raise ConversionError(f"task {name}: the state_dict holds no decoder head adarun knows (HRNet, ASPP, SegFormer, "
                              f"updecoder; found {found})")
    return kinds[0]


def _tasks(sd):
    names = []
    for key in sd:
        m = re.match(r"(?:downsampler|decoders\.decoders)\.([^.]+)\.", key)
        if m and m.group(1) not in names:
            names.append(m.group(1))
    if not names:
        raise ConversionError("state_dict has no task decoders (decoders.decoders.<task>.*)")
    tasks, heads = [], {}
    for name in names:
        heads[name] = _head_kind(sd, name)
        key = f"decoders.decoders.{name}.{_HEAD_OUTPUT[heads[name]]}"
        if key not in sd:
            raise ConversionError(f"task {name} has a {heads[name]} head without its output layer {key}")
        tasks.append(TaskSpec(name, sd[key].shape[0]))
    return tasks, heads


def _one_width(sd, heads, kind, suffix):
    """A width that the research code gives every head of a kind, read from each of them."""
    widths = {sd[f"decoders.decoders.{t}.{suffix}"].shape[0] for t, k in heads.items() if k == kind}
    if len(widths) > 1:
        raise ConversionError(f"the {kind} heads differ in width ({sorted(widths)}); the research code gives them one")
    return widths.pop() if widths else None


def _updecoder_layers(sd, heads):
    """(widths, kernels) of the updecoder's transposed convolutions, from their weights [cin, cout, k, k]."""
    layouts = set()
    for task in (t for t, k in heads.items() if k == "updecoder"):
        layers, j = [], 0
        while f"decoders.decoders.{task}.deconv_layers.{j}.weight" in sd:
            key = f"decoders.decoders.{task}.deconv_layers.{j}.weight"
            shape = tuple(sd[key].shape)
            if len(shape) != 4 or shape[2] != shape[3] or shape[2] not in DECONV_PADDING:
                raise ConversionError(f"{key} has shape {list(shape)}: not a square transposed convolution of kernel "
                                      f"{', '.join(map(str, DECONV_PADDING))}")
            layers.append((shape[1], shape[2]))
            j += 3  # transposed conv, BN, ReLU
        layouts.add(tuple(layers))
    if len(layouts) > 1:
        raise ConversionError(f"the updecoder heads differ in their transposed convolutions: {sorted(layouts)}")
    layers = layouts.pop()
    return tuple(w for w, _ in layers), tuple(k for _, k in layers)


def _configured_head(research, task):
    """The head kind the research get_head builds for a task from MODEL.DECODER_HEAD (None: not given)."""
    given = lookup(research, "MODEL.DECODER_HEAD")
    if given is None:
        return None
    name = given.get(task, "hrnet") if isinstance(given, dict) else given  # a bare name: every task
    return research_head_kind(str(name))


def _head_fields(sd, heads, sources):
    """Head kinds and widths from the state_dict, checked against MODEL.DECODER_HEAD and
    MODEL.SEGFORMER_CHANNELS of any config. The ASPP dilation rates are the research code's constants."""
    for source, research in sources:
        for task, kind in heads.items():
            configured = _configured_head(research, task)
            if configured is not None and configured != kind:
                raise ConversionError(f"{source} gives task {task} the {configured} decoder head (MODEL.DECODER_HEAD), "
                                      f"but the state_dict holds the {kind} head (the research --decoder_map overrides "
                                      f"the YAML's heads)")
    fields = dict(decoder_heads={t: k for t, k in heads.items() if k != "hrnet"})
    segformer = _one_width(sd, heads, "segformer", "linear_fuse.conv.weight")
    if segformer is not None:
        for source, research in sources:
            given = lookup(research, "MODEL.SEGFORMER_CHANNELS")
            if given is not None and int(given) != segformer:
                raise ConversionError(f"{source} says MODEL.SEGFORMER_CHANNELS = {given}, but the state_dict shows {segformer}")
        fields["segformer_channels"] = segformer
    aspp = _one_width(sd, heads, "aspp", "0.project.0.weight")
    if aspp is not None:
        fields["aspp_channels"] = aspp
    if "updecoder" in heads.values():
        fields["updecoder_channels"], fields["updecoder_kernels"] = _updecoder_layers(sd, heads)
    return fields


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
    tasks, heads = _tasks(sd)
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
                decoder_downsampler=downsampler, decoder_channels=channels,
                **_head_fields(sd, heads, sources))
