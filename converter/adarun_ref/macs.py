"""Multiply-accumulate accounting, the same definition as engine/src/macs.cpp.

Counted: convolutions, linear layers, q k^T and attn v, the policy networks.
Not counted: norms, softmax, activations, resizes, data movement.
- patch embed: C * in_chans * p^2 * L
- executed block: qkv L*C*3C + 2*L*N*C + proj L*C*C, plus MLP 2*k*C*M over its k kept tokens
- patch merging: L/4 * 4C * 2C
- each evaluation of a token policy: L*C*h + L*h; of a block policy: L*C*h + L*h*depth
- decoder of a task: every convolution, cout*cin*k^2*oh*ow
macs_static: no policies, every block and token, decoders of the requested tasks.
"""


def conv(cin, cout, k, oh, ow):
    return cout * cin * k * k * oh * ow


def patch_embed(cfg):
    tokens = (cfg.img_size // cfg.patch_size) ** 2
    return conv(cfg.in_chans, cfg.embed_dim, cfg.patch_size, 1, 1) * tokens


def block_attention(cfg, i):
    dim, resolution, window, _ = cfg.stage(i)
    tokens = resolution * resolution
    return tokens * dim * 3 * dim + 2 * tokens * window * window * dim + tokens * dim * dim


def block_mlp(cfg, i, kept):
    return 2 * kept * cfg.embed_dim * 2 ** i * cfg.mlp_hidden(i)


def patch_merging(cfg, i):
    if i == 3:
        return 0
    dim, resolution, _, _ = cfg.stage(i)
    return (resolution // 2) ** 2 * 4 * dim * 2 * dim


def block_policy(cfg, i):
    dim, resolution, _, _ = cfg.stage(i)
    tokens, hidden = resolution * resolution, cfg.block_ctrl_dim
    return tokens * dim * hidden + tokens * hidden * cfg.depths[i]


def token_policy(cfg, i):
    dim, resolution, _, _ = cfg.stage(i)
    tokens, hidden = resolution * resolution, cfg.token_ctrl_dim
    return tokens * dim * hidden + tokens * hidden


def decoder(cfg, outputs):
    half = cfg.decoder_dim // 2
    total = 0
    for i in range(4):
        dim, r = cfg.stage_out(i)
        total += conv(dim, half, 3, r, r) + conv(half, half, 3, r, r) + conv(dim, half, 1, r, r) + 2 * conv(half, half, 3, r, r)
    r0 = cfg.stage_out(0)[1]
    return total + conv(4 * half, half, 1, r0, r0) + conv(half, outputs, 1, r0, r0)


def static_model(cfg, task_outputs):
    total = patch_embed(cfg)
    for i in range(4):
        _, resolution, _, _ = cfg.stage(i)
        total += cfg.depths[i] * (block_attention(cfg, i) + block_mlp(cfg, i, resolution * resolution)) + patch_merging(cfg, i)
    return total + sum(decoder(cfg, n) for n in task_outputs)


# MTLoRA. Branch layers (proj, fc1, fc2 of a stage's last block, when they carry task adapters) add
# per requested task L*(in*r_t + r_t*out); in 'matrix' mode they keep the shared adapter apart,
# L*(in*r + r*out). Every other adapter is merged into W and costs nothing. Task streams are patch
# merged too. Decoders: downsampler 1x1 convs and each task's head (mtlora_head: every convolution,
# cout*cin*k^2*oh*ow; a transposed one cin*cout*k^2*ih*iw).

def _lora_layer_shapes(cfg, i):
    dim, hidden = cfg.embed_dim * 2 ** i, cfg.mlp_hidden(i)
    return {"qkv": (dim, 3 * dim), "proj": (dim, dim), "fc1": (dim, hidden), "fc2": (hidden, dim)}


def branch_layers(cfg, i):
    """The layers of stage i's last block that fork per task (SPEC 3), as the research code builds them."""
    if cfg.lora_ranks[i] == 0 or "fc2" not in cfg.lora_layers:
        return []  # without an fc2 branch the research block returns no task streams
    return [k for k in ("proj", "fc1", "fc2") if k in cfg.lora_layers]


def _low_rank(tokens, cin, cout, rank):
    return tokens * (cin * rank + rank * cout)


def transposed_conv(cin, cout, k, ih, iw):
    """Every input pixel scatters a k x k patch of cout values from cin inputs."""
    return cin * cout * k * k * ih * iw


def mtlora_head(cfg, kind, channels, outputs):
    """One MTLoRA head (mtlora_heads.py) on the task's four maps of `channels`; a dilated convolution counts
    all k^2 taps, the pooled ASPP branch its 1x1 conv on one pixel. Pooling and resizes are not counted."""
    r = [cfg.stage_out(i)[1] for i in range(4)]
    total = sum(channels)
    if kind == "hrnet":
        return conv(total, 4 * total, 1, r[0], r[0]) + conv(4 * total, outputs, 1, r[0], r[0])
    if kind == "aspp":
        w = cfg.aspp_channels
        branches = conv(total, w, 1, r[0], r[0]) + len(cfg.aspp_rates) * conv(total, w, 3, r[0], r[0]) + conv(total, w, 1, 1, 1)
        return (branches + conv((2 + len(cfg.aspp_rates)) * w, w, 1, r[0], r[0]) + conv(w, w, 3, r[0], r[0])
                + conv(w, outputs, 1, r[0], r[0]))
    if kind == "segformer":
        e = cfg.segformer_channels
        return (sum(conv(c, e, 1, ri, ri) for c, ri in zip(channels, r)) + conv(4 * e, e, 1, r[0], r[0])
                + conv(e, outputs, 1, r[0], r[0]))
    if kind == "updecoder":
        macs, cin, size = 0, total, r[0]
        for width, kernel in zip(cfg.updecoder_channels, cfg.updecoder_kernels):
            macs += transposed_conv(cin, width, kernel, size, size)
            cin, size = width, 2 * size
        return macs + conv(cin, outputs, 3, size, size)
    raise ValueError(f"unknown decoder head '{kind}'")


def mtlora_decoder(cfg, outputs, kind="hrnet"):
    total = 0
    if cfg.decoder_downsampler:
        total += sum(conv(cfg.stage_out(i)[0], cfg.decoder_channels[i], 1, cfg.stage_out(i)[1], cfg.stage_out(i)[1])
                     for i in range(4))
    channels = list(cfg.decoder_channels) if cfg.decoder_downsampler else [cfg.stage_out(i)[0] for i in range(4)]
    return total + mtlora_head(cfg, kind, channels, outputs)


def mtlora_model(cfg, tasks):
    """MACs adarun executes for the requested tasks, adapters merged where legal."""
    outputs = {t.name: t.outputs for t in cfg.tasks}
    total = patch_embed(cfg)
    for i in range(4):
        _, resolution, _, _ = cfg.stage(i)
        tokens = resolution * resolution
        total += cfg.depths[i] * (block_attention(cfg, i) + block_mlp(cfg, i, tokens)) + patch_merging(cfg, i)
        shapes = _lora_layer_shapes(cfg, i)
        for layer in branch_layers(cfg, i):
            cin, cout = shapes[layer]
            if cfg.lora_mode == "matrix":
                total += _low_rank(tokens, cin, cout, cfg.lora_ranks[i])
            total += sum(_low_rank(tokens, cin, cout, cfg.lora_task_ranks[t][i]) for t in tasks)
        if branch_layers(cfg, i):
            total += len(tasks) * patch_merging(cfg, i)
    return total + sum(mtlora_decoder(cfg, outputs[t], cfg.head(t)) for t in tasks)


def mtlora_unmerged(cfg):
    """MACs of the research model as it runs in PyTorch (all tasks): every adapter computed apart."""
    names = [t.name for t in cfg.tasks]
    total = mtlora_model(cfg, names)
    for i in range(4):
        _, resolution, _, _ = cfg.stage(i)
        tokens, rank = resolution * resolution, cfg.lora_ranks[i]
        shapes = _lora_layer_shapes(cfg, i)
        branches = branch_layers(cfg, i)
        for layer in cfg.lora_layers:
            cin, cout = shapes[layer]
            merged_blocks = cfg.depths[i] - (1 if layer in branches else 0)
            if cfg.lora_mode == "matrixv2" and layer in branches:
                merged_blocks += 1  # its shared adapter was merged too
            total += merged_blocks * _low_rank(tokens, cin, cout, rank)
        if cfg.lora_downsampler and i < 3:
            dim = cfg.embed_dim * 2 ** i
            total += _low_rank(tokens // 4, 4 * dim, 2 * dim, rank)
    return total
