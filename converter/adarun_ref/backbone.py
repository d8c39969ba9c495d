"""Swin backbone with AdaMTL policies (SPEC 1-2). Module names mirror the research code."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import macs


def relative_position_index(window):
    coords = torch.stack(torch.meshgrid(torch.arange(window), torch.arange(window), indexing="ij")).flatten(1)
    relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0) + (window - 1)
    return relative[:, :, 0] * (2 * window - 1) + relative[:, :, 1]


def shifted_window_mask(resolution, window, shift):
    """0 inside a region, -100 across regions the cyclic roll joined; [windows, N, N]."""
    labels = torch.zeros(resolution, resolution)
    bounds = (slice(0, -window), slice(-window, -shift), slice(-shift, None))
    for i, rows in enumerate(bounds):
        for j, cols in enumerate(bounds):
            labels[rows, cols] = 3 * i + j
    windows = partition(labels[None, :, :, None], window).flatten(1)
    mask = windows[:, None, :] - windows[:, :, None]
    return mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)


def partition(x, window):
    """[B, H, W, C] -> [B * windows, window, window, C], windows row-major."""
    b, h, w, c = x.shape
    x = x.view(b, h // window, window, w // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window, window, c)


def unpartition(windows, window, h, w):
    c = windows.shape[-1]
    x = windows.view(-1, h // window, w // window, window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, h, w, c)


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class WindowAttention(nn.Module):
    def __init__(self, dim, window, heads, qkv_bias):
        super().__init__()
        self.heads = heads
        self.window = window
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
        self.register_buffer("relative_position_index", relative_position_index(window))
        self.qkv = nn.Linear(dim, 3 * dim, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def relative_bias(self):
        n = self.window * self.window
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(n, n, -1)
        return bias.permute(2, 0, 1)

    def attend(self, qkv, mask):
        """qkv [windows, n, 3C] -> the attention output before proj, [windows, n, C]."""
        windows, n, c3 = qkv.shape
        c = c3 // 3
        qkv = qkv.reshape(windows, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0] * self.scale, qkv[1], qkv[2]
        scores = q @ k.transpose(-2, -1) + self.relative_bias()[None]
        if mask is not None:
            scores = scores + mask[:, None]
        return (scores.softmax(-1) @ v).transpose(1, 2).reshape(windows, n, c)

    def forward(self, x, mask):
        return self.proj(self.attend(self.qkv(x), mask))


class Block(nn.Module):
    def __init__(self, dim, resolution, window, shift, heads, hidden, qkv_bias):
        super().__init__()
        self.resolution, self.window, self.shift = resolution, window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window, heads, qkv_bias)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, hidden)
        self.register_buffer("attn_mask", shifted_window_mask(resolution, window, shift) if shift else None)

    def to_windows(self, x):
        r, c = self.resolution, x.shape[-1]
        y = x.view(-1, r, r, c)
        if self.shift:
            y = torch.roll(y, (-self.shift, -self.shift), (1, 2))
        return partition(y, self.window).view(-1, self.window ** 2, c)

    def from_windows(self, y):
        r, c = self.resolution, y.shape[-1]
        y = unpartition(y.view(-1, self.window, self.window, c), self.window, r, r)
        if self.shift:
            y = torch.roll(y, (self.shift, self.shift), (1, 2))
        return y.reshape(-1, r * r, c)

    def attention(self, x):
        """x [B, L, C]; training runs batches, inference B = 1."""
        mask = None if self.attn_mask is None else self.attn_mask.repeat(x.shape[0], 1, 1)
        return x + self.from_windows(self.attn(self.to_windows(self.norm1(x)), mask))

    def forward(self, x, token_mask=None):
        """token_mask: bool [L] or None. SPEC 2: unselected tokens get x + LN2(x)."""
        x = self.attention(x)
        t = self.norm2(x)
        if token_mask is None:
            return x + self.mlp(t)
        t = t.clone()
        t[0, token_mask] = self.mlp(t[0, token_mask])
        return x + t


class PatchMerging(nn.Module):
    def __init__(self, dim, resolution):
        super().__init__()
        self.resolution = resolution
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x):
        r, c = self.resolution, x.shape[-1]
        x = x.view(-1, r, r, c)
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x.reshape(x.shape[0], -1, 4 * c)))


class PolicyNet(nn.Module):
    """mlp -> ReLU -> fc. Token policies apply fc per token, block policies to the flattened map."""

    def __init__(self, dim, hidden, fc_in, fc_out):
        super().__init__()
        self.mlp = nn.Linear(dim, hidden)
        self.fc = nn.Linear(fc_in, fc_out)

    def token_logits(self, x):
        return self.fc(F.relu(self.mlp(x)))[0, :, 0]

    def block_logits(self, x):
        return self.fc(F.relu(self.mlp(x)).reshape(1, -1))[0]


class PatchEmbed(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.proj = nn.Conv2d(config.in_chans, config.embed_dim, config.patch_size, config.patch_size)
        self.norm = nn.LayerNorm(config.embed_dim) if config.patch_norm else None

    def forward(self, image):
        x = self.proj(image).flatten(2).transpose(1, 2)
        return self.norm(x) if self.norm is not None else x


def policy_container(config, make):
    """Research layout: one module (single) or a ModuleDict by task (per_task)."""
    if config.policy_mode == "single":
        return make()
    return nn.ModuleDict({t.name: make() for t in config.tasks})


class Stage(nn.Module):
    def __init__(self, config, i):
        super().__init__()
        dim, resolution, window, shift = config.stage(i)
        self.blocks = nn.ModuleList(
            Block(dim, resolution, window, shift if j % 2 else 0, config.num_heads[i], config.mlp_hidden(i), config.qkv_bias)
            for j in range(config.depths[i]))
        self.downsample = PatchMerging(dim, resolution) if i < 3 else None
        if config.ada_tokens:
            hidden = config.token_ctrl_dim
            self.tokens_select = policy_container(config, lambda: PolicyNet(dim, hidden, hidden, 1))


class Backbone(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.patch_embed = PatchEmbed(config)
        tokens = (config.img_size // config.patch_size) ** 2
        if config.ape:
            self.absolute_pos_embed = nn.Parameter(torch.zeros(1, tokens, config.embed_dim))
        self.layers = nn.ModuleList(Stage(config, i) for i in range(4))
        if config.ada_blocks:
            self.layers_controllers = policy_container(config, lambda: nn.ModuleList(
                self._block_policy(i) for i in range(4)))
        self.head = nn.Linear(config.embed_dim * 8, config.num_classes) if config.num_classes else nn.Identity()

    def _block_policy(self, i):
        dim, resolution, _, _ = self.config.stage(i)
        hidden = self.config.block_ctrl_dim
        return PolicyNet(dim, hidden, hidden * resolution * resolution, self.config.depths[i])

    def policies(self, container, policy_names):
        if self.config.policy_mode == "single":
            return [container]
        return [container[name] for name in policy_names]

    def forward(self, image, policy_names, threshold, stats):
        """Returns the four stage outputs; fills stats (gates, tokens kept, MACs)."""
        cfg = self.config
        x = self.patch_embed(image)
        if cfg.ape:
            x = x + self.absolute_pos_embed
        stats["macs_executed"] += macs.patch_embed(cfg)
        outputs = []
        for i, stage in enumerate(self.layers):
            x = self._run_stage(i, stage, x, policy_names, threshold, stats)
            if stage.downsample is not None:
                x = stage.downsample(x)
                stats["macs_executed"] += macs.patch_merging(cfg, i)
            outputs.append(x)
        return outputs

    def _block_gates(self, i, x, policy_names, threshold, stats):
        if not self.config.ada_blocks:
            return [True] * self.config.depths[i]
        gates = torch.zeros(self.config.depths[i], dtype=torch.bool)
        for policy in self.policies(self.layers_controllers, policy_names):
            gates |= policy[i].block_logits(x) > threshold
            stats["macs_executed"] += macs.block_policy(self.config, i)
        return gates.tolist()

    def _token_mask(self, i, stage, x, policy_names, threshold, stats):
        mask = torch.zeros(x.shape[1], dtype=torch.bool)
        for policy in self.policies(stage.tokens_select, policy_names):
            mask |= policy.token_logits(x) > threshold
            stats["macs_executed"] += macs.token_policy(self.config, i)
        return mask

    def _run_stage(self, i, stage, x, policy_names, threshold, stats):
        cfg = self.config
        gates = self._block_gates(i, x, policy_names, threshold, stats)
        tokens = x.shape[1]
        stats["blocks"].append([int(g) for g in gates])
        stats["tokens_kept"].append([])
        stats["token_masks"].append([])
        for j, block in enumerate(stage.blocks):
            mask = None
            if gates[j] and cfg.ada_tokens:
                mask = self._token_mask(i, stage, x, policy_names, threshold, stats)
            kept = 0 if not gates[j] else tokens if mask is None else int(mask.sum())
            stats["tokens_kept"][-1].append(kept)
            stats["token_masks"][-1].append(None if mask is None else "".join("1" if m else "0" for m in mask.tolist()))
            if kept == 0:
                continue
            x = block(x, mask)
            stats["macs_executed"] += macs.block_attention(cfg, i) + macs.block_mlp(cfg, i, kept)
        return x
