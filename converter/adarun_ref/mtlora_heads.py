"""MTLoRA decoder heads (SPEC 3), one per task, chosen by the research config's MODEL.DECODER_HEAD.

Every head reads the task's four maps (stage 0..3 outputs after its downsampler, stage 0 the largest,
R0 x R0 with R0 = S / 8) and returns a map that the caller resizes bilinearly (align_corners=False) to
S x S. "Upsample" below always means bilinear with align_corners=False. Eval mode: BatchNorm uses its
running statistics, dropout is the identity.

- hrnet: upsample maps 1..3 to R0, concatenate (C = sum of their channels), 1x1 C -> 4C (bias), BN,
  ReLU, 1x1 4C -> outputs (bias).
- aspp (DeepLabV3): the same concatenation, then five branches of `width` channels, each conv -> BN ->
  ReLU without conv bias: 1x1; three 3x3 with dilation (and zero padding) 12, 24, 36; and the global
  average of each channel through 1x1, broadcast back to R0 x R0. Concatenated in that order (5 width),
  1x1 -> width, BN, ReLU; then 3x3 (padding 1, no bias) -> width, BN, ReLU; 1x1 -> outputs (bias).
- segformer: map i through its own per-pixel linear c_i -> E (bias) at its own resolution, maps 1..3 then
  upsampled to R0; concatenated in the order stage 3, 2, 1, 0; 1x1 4E -> E without bias, BN, ReLU; 1x1
  E -> outputs (bias).
- updecoder: the hrnet concatenation, then three transposed convolutions (no bias; stride 2; kernel 2,
  padding 0 in the research code), each -> BN -> ReLU (R0 -> 8 R0 = S); 3x3 (padding 1, bias) -> outputs,
  BN, ReLU; then two bilinear x2 upsamplings (-> 4 S) before the caller's resize down to S.

Parameter names are the research code's (models/seg_hrnet.py, aspp.py, segformer.py, updecoder.py), so
research checkpoints load into these modules; the modules themselves are this project's.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

HEAD_KINDS = ("hrnet", "aspp", "segformer", "updecoder")
# Transposed-convolution kernel -> (padding, output_padding), as the research updecoder sets them: each
# doubles the resolution.
DECONV_PADDING = {2: (0, 0), 3: (1, 1), 4: (1, 0)}


def research_head_kind(name):
    """What the research get_head builds for a MODEL.DECODER_HEAD value: any unknown name is ASPP."""
    return name if name in ("hrnet", "updecoder", "segformer") else "aspp"


def upsample(x, size):
    return F.interpolate(x, size, mode="bilinear", align_corners=False)


def upsample_concat(maps):
    """Maps 1..3 upsampled to map 0's size, all four concatenated along channels in stage order."""
    size = maps[0].shape[2:]
    return torch.cat([maps[0]] + [upsample(m, size) for m in maps[1:]], 1)


def _conv_bn_relu(cin, cout, kernel, dilation=1):
    """conv (no bias, 'same' zero padding) -> BN -> ReLU, keyed 0 / 1 as an nn.Sequential."""
    return nn.Sequential(nn.Conv2d(cin, cout, kernel, padding=dilation * (kernel // 2), dilation=dilation, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU())


class HighResolutionHead(nn.Module):
    def __init__(self, channels, outputs):
        super().__init__()
        total = sum(channels)
        self.last_layer = nn.Sequential(nn.Conv2d(total, 4 * total, 1), nn.BatchNorm2d(4 * total), nn.ReLU(),
                                        nn.Conv2d(4 * total, outputs, 1))

    def forward(self, maps):
        return self.last_layer(upsample_concat(maps))


class _PooledBranch(nn.Module):
    """Global average -> 1x1 -> BN -> ReLU, broadcast over the map (the research code resizes its 1 x 1 result
    bilinearly, which copies it exactly). Keys 1 / 2: index 0 is the parameterless pooling."""

    def __init__(self, cin, cout):
        super().__init__()
        self.add_module("1", nn.Conv2d(cin, cout, 1, bias=False))
        self.add_module("2", nn.BatchNorm2d(cout))

    def forward(self, x):
        pooled = x.mean((2, 3), keepdim=True)
        y = F.relu(self._modules["2"](self._modules["1"](pooled)))
        return y.expand(-1, -1, x.shape[2], x.shape[3])


class _SpatialPyramid(nn.Module):
    def __init__(self, cin, width, rates):
        super().__init__()
        branches = [_conv_bn_relu(cin, width, 1)] + [_conv_bn_relu(cin, width, 3, r) for r in rates]
        self.convs = nn.ModuleList(branches + [_PooledBranch(cin, width)])
        self.project = _conv_bn_relu(len(self.convs) * width, width, 1)

    def forward(self, x):
        return self.project(torch.cat([branch(x) for branch in self.convs], 1))


class ASPPHead(nn.Module):
    """Keys as the research DeepLabHead (an nn.Sequential): 0 the pyramid, 1/2 the 3x3 conv and its BN,
    4 the classifier."""

    def __init__(self, channels, outputs, width=256, rates=(12, 24, 36)):
        super().__init__()
        self.add_module("0", _SpatialPyramid(sum(channels), width, rates))
        self.add_module("1", nn.Conv2d(width, width, 3, padding=1, bias=False))
        self.add_module("2", nn.BatchNorm2d(width))
        self.add_module("4", nn.Conv2d(width, outputs, 1))

    def forward(self, maps):
        m = self._modules
        x = m["0"](upsample_concat(maps))
        return m["4"](F.relu(m["2"](m["1"](x))))


class _PixelLinear(nn.Module):
    """A linear layer over the channels of every pixel ([N, C, H, W] -> [N, E, H, W]), key proj."""

    def __init__(self, cin, cout):
        super().__init__()
        self.proj = nn.Linear(cin, cout)

    def forward(self, x):
        n, _, h, w = x.shape
        return self.proj(x.flatten(2).transpose(1, 2)).transpose(1, 2).reshape(n, -1, h, w)


class _FuseConv(nn.Module):
    """mmcv's ConvModule as the research SegFormer head builds it: conv (no bias), BN, ReLU (`activate`)."""

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, bias=False)
        self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class SegFormerHead(nn.Module):
    """`conv_seg` is in every research checkpoint (mmseg's decode-head base class makes it) but the SegFormer
    forward never uses it; it is kept so that the state_dicts match."""

    def __init__(self, channels, outputs, width=256):
        super().__init__()
        for i, c in enumerate(channels):
            self.add_module(f"linear_c{i + 1}", _PixelLinear(c, width))
        self.linear_fuse = _FuseConv(4 * width, width)
        self.linear_pred = nn.Conv2d(width, outputs, 1)
        self.conv_seg = nn.Conv2d(width, outputs, 1)

    def forward(self, maps):
        size = maps[0].shape[2:]
        embedded = [self._modules[f"linear_c{i + 1}"](m) for i, m in enumerate(maps)]
        embedded = [embedded[0]] + [upsample(e, size) for e in embedded[1:]]
        return self.linear_pred(self.linear_fuse(torch.cat(embedded[::-1], 1)))


class UpDecoderHead(nn.Module):
    """Keys: deconv_layers.{3i} the transposed convolutions, .{3i+1} their BNs; conv_layers.0/1 the 3x3 conv
    and its BN."""

    def __init__(self, channels, outputs, widths=(32, 32, 32), kernels=(2, 2, 2)):
        super().__init__()
        layers, cin = [], sum(channels)
        for width, kernel in zip(widths, kernels):
            padding, output_padding = DECONV_PADDING[kernel]
            layers += [nn.ConvTranspose2d(cin, width, kernel, stride=2, padding=padding, output_padding=output_padding,
                                          bias=False), nn.BatchNorm2d(width), nn.ReLU()]
            cin = width
        self.deconv_layers = nn.Sequential(*layers)
        self.conv_layers = nn.Sequential(nn.Conv2d(cin, outputs, 3, padding=1), nn.BatchNorm2d(outputs), nn.ReLU())

    def forward(self, maps):
        x = self.conv_layers(self.deconv_layers(upsample_concat(maps)))
        for _ in range(2):
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        return x


def build_head(cfg, task, channels):
    kind = cfg.head(task.name)
    if kind == "hrnet":
        return HighResolutionHead(channels, task.outputs)
    if kind == "aspp":
        return ASPPHead(channels, task.outputs, cfg.aspp_channels, cfg.aspp_rates)
    if kind == "segformer":
        return SegFormerHead(channels, task.outputs, cfg.segformer_channels)
    if kind == "updecoder":
        return UpDecoderHead(channels, task.outputs, cfg.updecoder_channels, cfg.updecoder_kernels)
    raise ValueError(f"task {task.name}: unknown decoder head '{kind}' (known: {', '.join(HEAD_KINDS)})")
