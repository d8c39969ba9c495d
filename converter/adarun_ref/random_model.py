"""Random-weight models for tests: every parameter and BatchNorm statistic random (seeded), and
policy biases placed so that some blocks and about half the tokens are gated off."""
import torch
import torch.nn as nn

from .model import MultiTaskSwin
from .mtlora import MTLoRASwin


LORA_UP_SCALE = 0.05


def _randomise_parameters(model, generator):
    """LayerNorm gains near 1, other weights scaled by fan-in, biases and tables small."""
    def normal(shape, std):
        return std * torch.randn(shape, generator=generator)

    for module in model.modules():
        for leaf, p in module.named_parameters(recurse=False):
            if isinstance(module, nn.LayerNorm) and leaf == "weight":
                value = 1.0 + normal(p.shape, 0.2)
            elif leaf == "relative_position_bias_table":
                value = normal(p.shape, 0.5)
            elif isinstance(module, nn.ConvTranspose2d) and leaf == "weight":
                # [cin, cout, k, k]: an output pixel sums cin inputs over about (k / stride)^2 taps
                value = normal(p.shape, (p.shape[0] * max(1.0, p.shape[2] * p.shape[3] / 4)) ** -0.5)
            elif p.dim() > 1:  # weights and LoRA factors
                value = normal(p.shape, p[0].numel() ** -0.5)
            else:
                value = normal(p.shape, 0.1)
            p.data.copy_(value)
    # Trained adapters perturb W mildly; full-size random ones make the float32 model chaotic.
    for name, p in model.named_parameters():
        if "lora_shared_B" in name or "lora_tasks_B" in name:
            p.data.mul_(LORA_UP_SCALE)


def _randomise_batch_norms(model, generator):
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            shape = module.running_mean.shape
            module.running_mean.copy_(0.2 * torch.randn(shape, generator=generator))
            module.running_var.copy_(0.5 + torch.rand(shape, generator=generator))
            module.weight.data.copy_(1.0 + 0.2 * torch.randn(shape, generator=generator))
            module.bias.data.copy_(0.1 * torch.randn(shape, generator=generator))


@torch.no_grad()
def _calibrate_policies(model, image, generator, names):
    """Runs one frame, biasing each policy on the way: every block is kept with probability 0.7 (by
    one policy, the others voting off), and the token policies are centred so that the OR of the
    policies of the tasks `names` keeps about half the tokens of each block input."""
    backbone = model.backbone
    cfg = model.config
    x = backbone.patch_embed(image)
    if cfg.ape:
        x = x + backbone.absolute_pos_embed
    for i, stage in enumerate(backbone.layers):
        if cfg.ada_blocks:
            _place_block_gates(backbone.policies(backbone.layers_controllers, names), i, x, generator)
        for block in stage.blocks:
            if cfg.ada_tokens:
                policies = backbone.policies(stage.tokens_select, names)
                keep = 1.0 - 0.5 ** (1.0 / len(policies))
                for policy in policies:
                    policy.fc.bias -= torch.quantile(policy.token_logits(x), 1.0 - keep)
            x = block(x)
        if stage.downsample is not None:
            x = stage.downsample(x)


def _place_block_gates(policies, i, x, generator):
    depth = policies[0][i].fc.out_features
    keep = torch.rand(depth, generator=generator) < 0.7
    voter = torch.randint(len(policies), (depth,), generator=generator)
    for p, policy in enumerate(policies):
        logits = policy[i].block_logits(x)
        on = keep & (voter == p)
        margin = 0.5 + torch.rand(depth, generator=generator)
        policy[i].fc.bias -= logits - torch.where(on, margin, -margin)


def random_model(config, seed, calibration_tasks=None):
    """A MultiTaskSwin with seeded random weights; the same seed gives the same model. The policies
    are calibrated for runs of `calibration_tasks` (default all)."""
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = (MTLoRASwin if config.family == "mtlora" else MultiTaskSwin)(config).eval()
    _randomise_parameters(model, generator)
    _randomise_batch_norms(model, generator)
    if config.adaptive:
        names = calibration_tasks or [t.name for t in config.tasks]
        _calibrate_policies(model, random_image(config, seed + 1), generator, names)
    return model


def random_image(config, seed):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn((1, config.in_chans, config.img_size, config.img_size), generator=generator)
