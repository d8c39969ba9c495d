"""AdaMTL per-task decoder (SPEC 2), with the research code's module layout."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from . import macs


class ViewAsChannels(nn.Module):
    """The research quirk: token-major [1, L, C] memory reinterpreted as [1, C, R, R], no transpose."""

    def __init__(self, dim, resolution):
        super().__init__()
        self.shape = (-1, dim, resolution, resolution)

    def forward(self, x):
        return x.reshape(self.shape)


class BasicBlock(nn.Module):
    """shortcut: conv1x1 + BN (the research code gives one to every branch's first block, even when
    cin == cout) or the identity."""

    def __init__(self, cin, cout, projection_shortcut):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout)) if projection_shortcut else None

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


class Decoder(nn.Module):
    def __init__(self, config, outputs):
        super().__init__()
        half = config.decoder_dim // 2
        branches = []
        for i in range(4):
            dim, resolution = config.stage_out(i)
            scale = 2 ** i if i < 3 else 2 ** (i - 1)
            # Indices 0, 1 and 4 hold no weights; they keep the research key names (fuse.i.2, fuse.i.3).
            branches.append(nn.Sequential(nn.Identity(), ViewAsChannels(dim, resolution), BasicBlock(dim, half, True),
                                          BasicBlock(half, half, False), nn.Upsample(scale_factor=scale, mode="nearest")))
        self.fuse = nn.ModuleList(branches)
        self.segment = nn.Sequential(nn.Conv2d(4 * half, half, 1), nn.BatchNorm2d(half), nn.ReLU(), nn.Conv2d(half, outputs, 1))

    def forward(self, stage_outputs, size):
        fused = torch.cat([branch(x) for branch, x in zip(self.fuse, stage_outputs)], 1)
        return F.interpolate(self.segment(fused), size, mode="bilinear", align_corners=False)
