"""MTLoRA state_dict -> engine tensors (weights/FORMAT.md, family mtlora).

Every adapter without a task branch is merged into its W (W + s B A). A branch layer (SPEC 3)
keeps its full-rank part apart: W alone in 'matrix' mode, whose shared adapter only the shared
stream gets, or W merged with the shared adapter in 'matrixv2', where the task streams get it
too. Scales are folded into the up-projections."""
import torch

from adarun_ref import macs

from .engine_tensors import Emitter, StateReader, emit_patch_embed, fold_batch_norm, relative_bias
from .infer_config import linear_prefix
from .infer_mtlora import LAYER_PATHS


class LoRAReader:
    def __init__(self, emitter, cfg):
        self.e, self.reader, self.cfg = emitter, emitter.reader, cfg

    def has_lora(self, prefix):
        return f"{prefix}.lora_shared_A" in self.reader.state

    def shared_scale(self, prefix, i):
        key = f"{prefix}.lora_shared_scale"
        return float(self.reader.take(key, (1,))[0]) if key in self.reader.state else self.cfg.lora_shared_scale[i]

    def task_scale(self, prefix, i, task):
        key = f"{prefix}.lora_task_scale.{task}"
        return float(self.reader.take(key, (1,))[0]) if key in self.reader.state else self.cfg.lora_task_scale[task][i]

    def shared_delta(self, prefix, i, cin, cout):
        rank = self.cfg.lora_ranks[i]
        a = self.reader.take(f"{prefix}.lora_shared_A", (rank, cin))
        b = self.reader.take(f"{prefix}.lora_shared_B", (cout, rank))
        return a, b * self.shared_scale(prefix, i)

    def ignore_task_adapters(self, prefix):
        """Task adapters the research forward computes but never uses (no fc2 branch after them)."""
        self.reader.taken.update(k for k in self.reader.state if k.startswith(prefix + ".lora_task"))

    def merged(self, name, prefix, i, cin, cout, bias=True):
        """W (+ s B A): a layer with no task branch."""
        source = linear_prefix(self.reader.state, prefix)
        weight = self.reader.take(f"{source}.weight", (cout, cin))
        if self.has_lora(prefix):
            a, b = self.shared_delta(prefix, i, cin, cout)
            weight = weight + b @ a
            self.ignore_task_adapters(prefix)
        self.e.put(f"{name}.weight", weight)
        if bias:
            self.e.copy(f"{name}.bias", f"{source}.bias", (cout,))

    def branch(self, name, prefix, i, cin, cout):
        """Full-rank part, the shared adapter in 'matrix' mode, and one adapter per task."""
        weight = self.reader.take(f"{prefix}.linear.weight", (cout, cin))
        a, b = self.shared_delta(prefix, i, cin, cout)
        if self.cfg.lora_mode == "matrix":
            self.e.put(f"{name}.shared_lora.down", a)
            self.e.put(f"{name}.shared_lora.up", b)
        else:
            weight = weight + b @ a
        self.e.put(f"{name}.weight", weight)
        self.e.copy(f"{name}.bias", f"{prefix}.linear.bias", (cout,))
        for task in self.cfg.tasks:
            rank = self.cfg.lora_task_ranks[task.name][i]
            self.e.copy(f"{name}.task_lora.{task.name}.down", f"{prefix}.lora_tasks_A.{task.name}", (rank, cin))
            up = self.reader.take(f"{prefix}.lora_tasks_B.{task.name}", (cout, rank))
            self.e.put(f"{name}.task_lora.{task.name}.up", up * self.task_scale(prefix, i, task.name))


def _emit_block(lora, cfg, i, j):
    e = lora.e
    dim, _, window, _ = cfg.stage(i)
    hidden = cfg.mlp_hidden(i)
    src, dst = f"backbone.layers.{i}.blocks.{j}", f"stages.{i}.blocks.{j}"
    branches = macs.branch_layers(cfg, i) if j == cfg.depths[i] - 1 else []
    shapes = {"qkv": (dim, 3 * dim), "proj": (dim, dim), "fc1": (dim, hidden), "fc2": (hidden, dim)}
    e.norm(f"{dst}.norm1", f"{src}.norm1", dim)
    e.norm(f"{dst}.norm2", f"{src}.norm2", dim)
    e.put(f"{dst}.attn.rel_bias", relative_bias(e.reader, f"{src}.attn.relative_position_bias_table", window, cfg.num_heads[i]))
    for layer, path in LAYER_PATHS.items():
        cin, cout = shapes[layer]
        if layer in branches:
            lora.branch(f"{dst}.{path}", f"{src}.{path}", i, cin, cout)
        else:
            lora.merged(f"{dst}.{path}", f"{src}.{path}", i, cin, cout, bias=layer != "qkv" or cfg.qkv_bias)
    if not cfg.qkv_bias:
        e.put(f"{dst}.attn.qkv.bias", torch.zeros(3 * dim))


def _folded(e, name, src, conv, bn, shape, conv_bias=False):
    """conv (+ bias) -> BN, folded into one conv with a bias: `name`.weight / .bias."""
    weight, bias = fold_batch_norm(e.reader, f"{src}.{conv}.weight", f"{src}.{bn}", shape[0], shape,
                                   f"{src}.{conv}.bias" if conv_bias else None)
    e.put(f"{name}.weight", weight)
    e.put(f"{name}.bias", bias)


def _emit_hrnet(e, cfg, task, channels, src, dst):
    total = sum(channels)
    _folded(e, f"{dst}.conv1", src, "last_layer.0", "last_layer.1", (4 * total, total, 1, 1), conv_bias=True)
    e.copy(f"{dst}.conv2.weight", f"{src}.last_layer.3.weight", (task.outputs, 4 * total, 1, 1))
    e.copy(f"{dst}.conv2.bias", f"{src}.last_layer.3.bias", (task.outputs,))


def _emit_aspp(e, cfg, task, channels, src, dst):
    total, width = sum(channels), cfg.aspp_channels
    branches = len(cfg.aspp_rates) + 1
    for b in range(branches):
        k = 1 if b == 0 else 3
        _folded(e, f"{dst}.branch.{b}", src, f"0.convs.{b}.0", f"0.convs.{b}.1", (width, total, k, k))
    _folded(e, f"{dst}.pool", src, f"0.convs.{branches}.1", f"0.convs.{branches}.2", (width, total, 1, 1))
    _folded(e, f"{dst}.project", src, "0.project.0", "0.project.1", (width, (branches + 1) * width, 1, 1))
    _folded(e, f"{dst}.conv1", src, "1", "2", (width, width, 3, 3))
    e.copy(f"{dst}.conv2.weight", f"{src}.4.weight", (task.outputs, width, 1, 1))
    e.copy(f"{dst}.conv2.bias", f"{src}.4.bias", (task.outputs,))


def _emit_segformer(e, cfg, task, channels, src, dst):
    width = cfg.segformer_channels
    for i, c in enumerate(channels):
        e.put(f"{dst}.linear.{i}.weight", e.reader.take(f"{src}.linear_c{i + 1}.proj.weight", (width, c)).view(width, c, 1, 1))
        e.copy(f"{dst}.linear.{i}.bias", f"{src}.linear_c{i + 1}.proj.bias", (width,))
    weight, bias = fold_batch_norm(e.reader, f"{src}.linear_fuse.conv.weight", f"{src}.linear_fuse.bn", width,
                                   (width, 4 * width, 1, 1))
    # The research head concatenates stages 3, 2, 1, 0; the file's input channels are in stage order.
    weight = torch.cat([weight[:, (3 - i) * width:(4 - i) * width] for i in range(4)], 1)
    e.put(f"{dst}.conv1.weight", weight)
    e.put(f"{dst}.conv1.bias", bias)
    e.copy(f"{dst}.conv2.weight", f"{src}.linear_pred.weight", (task.outputs, width, 1, 1))
    e.copy(f"{dst}.conv2.bias", f"{src}.linear_pred.bias", (task.outputs,))
    # mmseg's decode-head base class makes conv_seg; the SegFormer forward never uses it.
    e.reader.taken.update(k for k in e.reader.state if k.startswith(f"{src}.conv_seg."))


def _emit_updecoder(e, cfg, task, channels, src, dst):
    cin = sum(channels)
    for j, (width, kernel) in enumerate(zip(cfg.updecoder_channels, cfg.updecoder_kernels)):
        # A transposed convolution's weight is [cin, cout, k, k]: BN scales its output channels, dim 1.
        weight, bias = fold_batch_norm(e.reader, f"{src}.deconv_layers.{3 * j}.weight", f"{src}.deconv_layers.{3 * j + 1}",
                                       width, (cin, width, kernel, kernel), out_dim=1)
        e.put(f"{dst}.deconv.{j}.weight", weight)
        e.put(f"{dst}.deconv.{j}.bias", bias)
        cin = width
    _folded(e, f"{dst}.conv", src, "conv_layers.0", "conv_layers.1", (task.outputs, cin, 3, 3), conv_bias=True)


_HEADS = {"hrnet": _emit_hrnet, "aspp": _emit_aspp, "segformer": _emit_segformer, "updecoder": _emit_updecoder}


def _emit_decoder(e, cfg, task):
    channels = []
    for i in range(4):
        dim, _ = cfg.stage_out(i)
        if cfg.decoder_downsampler:
            c = cfg.decoder_channels[i]
            e.copy(f"decoders.{task.name}.downsample.{i}.weight", f"downsampler.{task.name}.downsample_{i}.weight", (c, dim, 1, 1))
            channels.append(c)
        else:
            channels.append(dim)
    _HEADS[cfg.head(task.name)](e, cfg, task, channels, f"decoders.decoders.{task.name}", f"decoders.{task.name}.head")


def mtlora_tensors(state_dict, cfg):
    e = Emitter(StateReader(state_dict))
    lora = LoRAReader(e, cfg)
    emit_patch_embed(e, cfg)
    for i in range(4):
        for j in range(cfg.depths[i]):
            _emit_block(lora, cfg, i, j)
        if i < 3:
            dim = cfg.stage(i)[0]
            e.norm(f"stages.{i}.merge.norm", f"backbone.layers.{i}.downsample.norm", 4 * dim)
            lora.merged(f"stages.{i}.merge.reduction", f"backbone.layers.{i}.downsample.reduction", i, 4 * dim, 2 * dim, bias=False)
    for task in cfg.tasks:
        _emit_decoder(e, cfg, task)
    e.reader.check_all_taken()
    return e.tensors
