"""MTLoRA (SPEC 3): Swin with shared and task-specific low-rank adapters, per-task downsamplers
and per-task decoder heads (HRNet, ASPP, SegFormer, updecoder: mtlora_heads.py). Module names mirror
the research code (scale-lab/MTLoRA)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import macs
from .backbone import Block, PatchEmbed, WindowAttention
from .mtlora_heads import build_head


class LoRALinear(nn.Module):
    """y = W x + b + s (x A^T) B^T, and per task y_t = (W x + b) + s_t (x_t A_t^T) B_t^T
    ('matrix'; 'matrixv2' adds the shared term to y_t too). Keys: linear.*, lora_shared_*, lora_tasks_*."""

    def __init__(self, cin, cout, rank, scale, tasks=None, task_ranks=None, task_scales=None, mode="matrix", bias=True):
        super().__init__()
        self.linear = nn.Linear(cin, cout, bias=bias)
        self.rank, self.scale, self.mode = rank, scale, mode
        self.tasks = list(tasks) if tasks and rank > 0 else None
        if rank > 0:
            self.lora_shared_A = nn.Parameter(torch.zeros(rank, cin))
            self.lora_shared_B = nn.Parameter(torch.zeros(cout, rank))
        if self.tasks:
            self.task_scales = dict(task_scales)
            self.lora_tasks_A = nn.ParameterDict({t: nn.Parameter(torch.zeros(task_ranks[t], cin)) for t in self.tasks})
            self.lora_tasks_B = nn.ParameterDict({t: nn.Parameter(torch.zeros(cout, task_ranks[t])) for t in self.tasks})

    def forward(self, x, x_tasks=None):
        full = self.linear(x)
        if self.rank == 0:
            return full, None
        shared = (x @ self.lora_shared_A.T @ self.lora_shared_B.T) * self.scale
        if not self.tasks:
            return full + shared, None
        base = full + shared if self.mode == "matrixv2" else full
        tasks = {t: base + (x if x_tasks is None else x_tasks[t]) @ self.lora_tasks_A[t].T @ self.lora_tasks_B[t].T
                 * self.task_scales[t] for t in self.tasks}
        return full + shared, tasks


class PlainLinear(nn.Linear):
    """A linear without LoRA that answers like LoRALinear."""

    def forward(self, x, x_tasks=None):
        return super().forward(x), None


def make_linear(cfg, i, kind, cin, cout, task_branch, bias=True):
    enabled = kind in cfg.lora_layers if kind != "reduction" else cfg.lora_downsampler
    if not enabled:
        return PlainLinear(cin, cout, bias=bias)
    names = [t.name for t in cfg.tasks]
    return LoRALinear(cin, cout, cfg.lora_ranks[i], cfg.lora_shared_scale[i], names if task_branch else None,
                      {t: cfg.lora_task_ranks[t][i] for t in names}, {t: cfg.lora_task_scale[t][i] for t in names},
                      cfg.lora_mode, bias)


class LoRAMlp(nn.Module):
    def __init__(self, cfg, i, last):
        super().__init__()
        dim, hidden = cfg.stage(i)[0], cfg.mlp_hidden(i)
        self.fc1 = make_linear(cfg, i, "fc1", dim, hidden, last)
        self.fc2 = make_linear(cfg, i, "fc2", hidden, dim, last)

    def forward(self, x, x_tasks):
        h, h_tasks = self.fc1(x, x_tasks)
        h = F.gelu(h)
        if h_tasks is not None:
            h_tasks = {t: F.gelu(v) for t, v in h_tasks.items()}
        return self.fc2(h, h_tasks)


class LoRABlock(Block):
    """A Swin block whose last-of-stage instance forks one stream per task (SPEC 3)."""

    def __init__(self, cfg, i, j):
        dim, resolution, window, shift = cfg.stage(i)
        super().__init__(dim, resolution, window, shift if j % 2 else 0, cfg.num_heads[i], cfg.mlp_hidden(i), cfg.qkv_bias)
        last = j == cfg.depths[i] - 1
        self.attn.qkv = make_linear(cfg, i, "qkv", dim, 3 * dim, False, bias=cfg.qkv_bias)
        self.attn.proj = make_linear(cfg, i, "proj", dim, dim, last)
        self.mlp = LoRAMlp(cfg, i, last)

    def forward(self, x):
        shortcut = x
        qkv, _ = self.attn.qkv(self.to_windows(self.norm1(x)))
        a, a_tasks = self.attn.proj(self.attn.attend(qkv, self.attn_mask))
        u = shortcut + self.from_windows(a)
        u_tasks = None if a_tasks is None else {t: shortcut + self.from_windows(v) for t, v in a_tasks.items()}
        m, m_tasks = self.mlp(self.norm2(u), None if u_tasks is None else {t: self.norm2(v) for t, v in u_tasks.items()})
        if m_tasks is None:
            return u + m, None
        # The research code drops the shortcut from the task streams when proj has no task branch.
        return u + m, {t: (v if u_tasks is None else u_tasks[t] + v) for t, v in m_tasks.items()}


class LoRAPatchMerging(nn.Module):
    def __init__(self, cfg, i):
        super().__init__()
        dim, self.resolution = cfg.stage(i)[0], cfg.stage(i)[1]
        self.reduction = make_linear(cfg, i, "reduction", 4 * dim, 2 * dim, False, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x):
        r, c = self.resolution, x.shape[-1]
        x = x.view(1, r, r, c)
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x.view(1, -1, 4 * c)))[0]


class LoRAStage(nn.Module):
    def __init__(self, cfg, i):
        super().__init__()
        self.blocks = nn.ModuleList(LoRABlock(cfg, i, j) for j in range(cfg.depths[i]))
        self.downsample = LoRAPatchMerging(cfg, i) if i < 3 else None


class MTLoRABackbone(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.patch_embed = PatchEmbed(cfg)
        if cfg.ape:
            self.absolute_pos_embed = nn.Parameter(torch.zeros(1, (cfg.img_size // cfg.patch_size) ** 2, cfg.embed_dim))
        self.layers = nn.ModuleList(LoRAStage(cfg, i) for i in range(4))
        self.head = nn.Identity()

    def forward(self, image, tasks):
        """Returns, per stage, each requested task's output (its own stream, or the shared one)."""
        x = self.patch_embed(image)
        if self.config.ape:
            x = x + self.absolute_pos_embed
        outputs = []
        for stage in self.layers:
            streams = None
            for block in stage.blocks:
                x, streams = block(x)
            if stage.downsample is not None:
                x = stage.downsample(x)
                streams = None if streams is None else {t: stage.downsample(v) for t, v in streams.items()}
            outputs.append({t: x if streams is None else streams[t] for t in tasks})
        return outputs


class Downsampler(nn.Module):
    """Stage outputs viewed properly as [R, R, C] and transposed to CHW; then conv1x1 (no bias) when enabled."""

    def __init__(self, cfg):
        super().__init__()
        self.shapes = [cfg.stage_out(i) for i in range(4)]
        if cfg.decoder_downsampler:
            for i, (dim, _) in enumerate(self.shapes):
                self.add_module(f"downsample_{i}", nn.Conv2d(dim, cfg.decoder_channels[i], 1, bias=False))
        self.enabled = cfg.decoder_downsampler

    def forward(self, stages):
        maps = [x.view(1, r, r, d).permute(0, 3, 1, 2) for x, (d, r) in zip(stages, self.shapes)]
        return [getattr(self, f"downsample_{i}")(m) for i, m in enumerate(maps)] if self.enabled else maps


class DecoderGroup(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        channels = decoder_channels(cfg)
        self.decoders = nn.ModuleDict({t.name: build_head(cfg, t, channels) for t in cfg.tasks})


def decoder_channels(cfg):
    return list(cfg.decoder_channels) if cfg.decoder_downsampler else [cfg.stage_out(i)[0] for i in range(4)]


class MTLoRASwin(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.backbone = MTLoRABackbone(cfg)
        self.downsampler = nn.ModuleDict({t.name: Downsampler(cfg) for t in cfg.tasks})
        self.decoders = DecoderGroup(cfg)

    @torch.no_grad()
    def run(self, image, tasks=None, threshold=0.0):
        """Same interface as MultiTaskSwin.run (no gates: threshold is ignored)."""
        names = list(tasks) if tasks else [t.name for t in self.config.tasks]
        stages = self.backbone(image, names)
        outputs = {}
        for name in names:
            maps = self.downsampler[name]([stage[name] for stage in stages])
            outputs[name] = F.interpolate(self.decoders.decoders[name](maps), image.shape[2:], mode="bilinear",
                                          align_corners=False)
        cfg = self.config
        executed = macs.mtlora_model(cfg, names)
        tokens = [(cfg.img_size // cfg.patch_size // 2 ** i) ** 2 for i in range(4)]
        stats = {"tasks": names, "macs_executed": executed, "macs_static": executed, "macs_unmerged": macs.mtlora_unmerged(cfg),
                 "blocks": [[1] * d for d in cfg.depths], "tokens_kept": [[n] * d for n, d in zip(tokens, cfg.depths)],
                 "token_masks": [[None] * d for d in cfg.depths]}
        return outputs, stats
