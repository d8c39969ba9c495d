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
