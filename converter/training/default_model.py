"""The architecture of the bundled default model: a small Swin (embed 32, depths 2-2-2-2) with
per-task block and token policies and four task decoders; about 3.4 M parameters (13 MiB fp32)."""
import dataclasses

import torch

from adarun_ref import ModelConfig, MultiTaskSwin, TaskSpec
from scenes import CLASSES

TASKS = [TaskSpec("semseg", len(CLASSES)), TaskSpec("sal", 1), TaskSpec("normals", 3), TaskSpec("edge", 1)]
POLICY_START_BIAS = 1.0  # every gate starts on; each policy alone at sigmoid(1) = 0.73, so the OR still passes gradients


POSITION_EMBEDDING = "backbone.absolute_pos_embed"


def default_config(ape=False):
    return ModelConfig(img_size=224, embed_dim=32, depths=[2, 2, 2, 2], num_heads=[1, 2, 4, 8], window_size=7, ape=ape,
                       ada_blocks=True, ada_tokens=True, policy_mode="per_task", block_ctrl_dim=16,
                       token_ctrl_dim=16, decoder_dim=32, tasks=list(TASKS))


def policy_parameters(model):
    """The block and token controllers: trained alone in the policy stage."""
    return [p for name, p in model.named_parameters() if "layers_controllers" in name or "tokens_select" in name]


def new_model(seed, ape=False):
    torch.manual_seed(seed)
    model = MultiTaskSwin(default_config(ape))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("fc.bias") and ("layers_controllers" in name or "tokens_select" in name):
                p.fill_(POLICY_START_BIAS)
    return model


def with_position_embedding(model):
    """The same model with an absolute position embedding added to the patch embedding, all zeros (so
    it computes exactly what it did). Why: a decoder reads a stage output token-major [L, C] as
    [C, R, R] with no transpose (engine/SPEC.md), so a token's floats land on pixels far from the
    token, at offsets that depend on the token's absolute position; Swin without one is translation
    equivariant away from the borders, so a token cannot tell which of its floats land on its own pixels."""
    if model.config.ape:
        return model
    grown = MultiTaskSwin(dataclasses.replace(model.config, ape=True))
    missing, unexpected = grown.load_state_dict(model.state_dict(), strict=False)
    assert missing == [POSITION_EMBEDDING] and not unexpected, (missing, unexpected)
    return grown
