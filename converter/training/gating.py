"""A batched, differentiable forward of the reference MultiTaskSwin for training.

Gates are hard in the forward pass, exactly as at inference (on iff logit > 0; per_task policies
OR-ed over every task), and differentiable through a sigmoid straight-through estimator. With
`noise`, logistic noise is added to the logits first (the Gumbel-sigmoid relaxation the research
code trains with). The block arithmetic is SPEC 2's: a skipped block leaves x unchanged; in a run
block attention sees every token and unselected tokens get x + LN2(x) instead of x + MLP(LN2(x)).
The MLP runs on every token here and is masked: compute is saved at inference, not in training.
"""
import torch
import torch.nn.functional as F

from adarun_ref import macs


def _logistic_noise(like):
    u = torch.rand_like(like).clamp_(1e-6, 1 - 1e-6)
    return torch.log(u) - torch.log1p(-u)


def or_gate(logits_per_policy, noise):
    """OR over the policies' gates, [B, K] in {0, 1}; gradients through 1 - prod(1 - sigmoid)."""
    hard_off, soft_off = 1.0, 1.0
    for logits in logits_per_policy:
        logits = logits.float()
        if noise:
            logits = logits + _logistic_noise(logits)
        hard_off = hard_off * (logits <= 0).float()
        soft_off = soft_off * (1 - torch.sigmoid(logits))
    hard, soft = 1 - hard_off, 1 - soft_off
    return hard + soft - soft.detach()


def _token_logits(policy, x):
    return policy.fc(F.relu(policy.mlp(x)))[..., 0]


def _block_logits(policy, x):
    return policy.fc(F.relu(policy.mlp(x)).flatten(1))


def _run_block(block, x, tokens, on):
    """tokens [B, L] and on [B] gates (1 when dense)."""
    a = block.attention(x)
    t = block.norm2(a)
    m = tokens[..., None]
    y = a + m * block.mlp(t) + (1 - m) * t
    on = on[:, None, None]
    return on * y + (1 - on) * x


class Usage:
    """Per frame: backbone block MACs executed over static, and the kept fractions of blocks and tokens."""

    def __init__(self, batch, device):
        self.executed = torch.zeros(batch, device=device)
        self.static = 0.0
        self.blocks, self.tokens = [], []

    def add(self, cfg, i, on, tokens):
        attention, mlp = macs.block_attention(cfg, i), macs.block_mlp(cfg, i, tokens.shape[1])
        self.executed = self.executed + on * (attention + mlp * tokens.mean(1))
        self.static += attention + mlp
        self.blocks.append(on.detach())
        self.tokens.append((on * tokens.mean(1)).detach())

    def compute(self):
        return self.executed / self.static

    def summary(self):
        return {"compute": self.compute().detach(), "blocks": torch.stack(self.blocks, 1).mean(1),
                "tokens": torch.stack(self.tokens, 1).mean(1)}


def gated_forward(model, images, gated, noise):
    """images [B, 3, S, S]. gated False runs every block and token (the policies forced on).
    Returns (logits by task, Usage)."""
    cfg, backbone = model.config, model.backbone
    names = cfg.policy_names()
    batch = images.shape[0]
    ones = images.new_ones
    usage = Usage(batch, images.device)
    x = backbone.patch_embed(images)
    if cfg.ape:
        x = x + backbone.absolute_pos_embed
    stages = []
    for i, stage in enumerate(backbone.layers):
        blocks = ones(batch, cfg.depths[i])
        if gated and cfg.ada_blocks:
            controllers = backbone.policies(backbone.layers_controllers, names)
            blocks = or_gate([_block_logits(c[i], x) for c in controllers], noise)
        for j, block in enumerate(stage.blocks):
            tokens = ones(batch, x.shape[1])
            if gated and cfg.ada_tokens:
                tokens = or_gate([_token_logits(p, x) for p in backbone.policies(stage.tokens_select, names)], noise)
            on = blocks[:, j] * (tokens.detach().sum(1) > 0).float()  # no token kept: the block is skipped
            x = _run_block(block, x, tokens, on)
            usage.add(cfg, i, on, tokens)
        if stage.downsample is not None:
            x = stage.downsample(x)
        stages.append(x)
    size = images.shape[2:]
    return {t.name: model.decoders[t.name](stages, size) for t in cfg.tasks}, usage
