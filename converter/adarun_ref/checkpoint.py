"""Saves a reference model the way the research code's utils.save_checkpoint does: torch.save of
{'model', 'optimizer', 'lr_scheduler', 'max_accuracy', 'scaler', 'epoch', 'config': frozen yacs
CfgNode} (yacs_cfgnode.py), so reading it back needs the converter's restricted unpickler."""
import torch

from .yacs_cfgnode import frozen_research_config, yacs_cfgnode_class


def _mtlora_section(cfg):
    names = [t.name for t in cfg.tasks]
    return {"ENABLED": True, "R": list(cfg.lora_ranks), "SHARED_SCALE": list(cfg.lora_shared_scale),
            "SCALE_PER_TASK": {t: list(cfg.lora_task_scale[t]) for t in names},
            "R_PER_TASK": dict({t: list(cfg.lora_task_ranks[t]) for t in names}, shared=list(cfg.lora_ranks)),
            "SHARED_MODE": cfg.lora_mode, "QKV_ENABLED": "qkv" in cfg.lora_layers, "PROJ_ENABLED": "proj" in cfg.lora_layers,
            "FC1_ENABLED": "fc1" in cfg.lora_layers, "FC2_ENABLED": "fc2" in cfg.lora_layers,
            "DOWNSAMPLER_ENABLED": cfg.lora_downsampler, "INTERMEDIATE_SPECIALIZATION": False}


def research_config(cfg):
    """The parts of the research yacs config that describe the model."""
    config = _adamtl_config(cfg)
    if cfg.family == "mtlora":
        config["MODEL"].update({"MTLORA": _mtlora_section(cfg), "DECODER_HEAD": {t.name: cfg.head(t.name) for t in cfg.tasks},
                                "SEGFORMER_CHANNELS": cfg.segformer_channels,
                                "DECODER_CHANNELS": list(cfg.decoder_channels), "DECODER_DOWNSAMPLER": cfg.decoder_downsampler,
                                "PER_TASK_DOWNSAMPLER": True})
        del config["MODEL"]["SWIN"]["DECODER_DIM"]
    return frozen_research_config(config)


def _adamtl_config(cfg):
    return {
        "DATA": {"IMG_SIZE": cfg.img_size},
        "MODEL": {"TYPE": "ada_swin" if cfg.adaptive else "swin", "NUM_CLASSES": 0,
                  "SWIN": {"PATCH_SIZE": cfg.patch_size, "IN_CHANS": cfg.in_chans, "EMBED_DIM": cfg.embed_dim,
                           "DEPTHS": list(cfg.depths), "NUM_HEADS": list(cfg.num_heads), "WINDOW_SIZE": cfg.window_size,
                           "MLP_RATIO": cfg.mlp_ratio, "QKV_BIAS": cfg.qkv_bias, "APE": cfg.ape,
                           "PATCH_NORM": cfg.patch_norm, "DECODER_DIM": cfg.decoder_dim}},
        "TRAIN": {"ADA_BLOCKS": cfg.ada_blocks, "ADA_TOKENS": cfg.ada_tokens, "ADAPTIVE": True, "HARD_GUMBEL": True,
                  "POLICY": cfg.policy_mode if cfg.adaptive else "single",
                  "BLOCK_CONTROLLER_DIM": cfg.block_ctrl_dim, "TOKEN_CONTROLLER_DIM": cfg.token_ctrl_dim},
        "TASKS": [t.name for t in cfg.tasks],
        "TASKS_CONFIG": {"ALL_TASKS": {"NUM_OUTPUT": {t.name: t.outputs for t in cfg.tasks}}},
    }


# What torch.cuda.amp.GradScaler.state_dict() returns on a GPU at its defaults.
_GRAD_SCALER_STATE = {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2000,
                      "_growth_tracker": 0}


def _lr_scheduler_state(steps_per_epoch=40, epochs=300, warmup_epochs=20, base_lr=5e-4, warmup_lr=5e-7):
    """timm's CosineLRScheduler.state_dict() as the research build_scheduler makes it (its __dict__
    less the optimizer: plain numbers, strings, lists and None), for two parameter groups."""
    warmup_t = warmup_epochs * steps_per_epoch
    return {"param_group_field": "lr", "_initial_param_group_field": "initial_lr", "base_values": [base_lr, base_lr],
            "metric": None, "t_in_epochs": False, "noise_range_t": None, "noise_pct": 0.67, "noise_type": "normal",
            "noise_std": 1.0, "noise_seed": 42, "t_initial": epochs * steps_per_epoch, "lr_min": 5e-6,
            "cycle_mul": 1.0, "cycle_decay": 1.0, "cycle_limit": 1, "warmup_t": warmup_t, "warmup_lr_init": warmup_lr,
            "warmup_prefix": False, "k_decay": 1.0, "warmup_steps": [(base_lr - warmup_lr) / warmup_t] * 2}


# What torch.cuda.amp.GradScaler.state_dict() returns on a GPU at its defaults.
_GRAD_SCALER_STATE = {"scale": 65536.0, "growth_factor": 2.0, "backoff_factor": 0.5, "growth_interval": 2000,
                      "_growth_tracker": 0}


def save_research_checkpoint(model, path, layout="full", epoch=0):
    """layout: 'full' (research save_checkpoint), 'bare' (state_dict only), 'module' ('module.' prefixes,
    as DataParallel saves them) or 'state_dict' (under a 'state_dict' key, as other trainers save)."""
    state = model.state_dict()
    if layout == "bare":
        torch.save(state, path)
    elif layout == "module":
        torch.save({"model": {"module." + k: v for k, v in state.items()}}, path)
    elif layout == "state_dict":
        torch.save({"state_dict": state, "epoch": epoch}, path)
    elif layout == "full":
        optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4, weight_decay=0.05)
        torch.save({"model": state, "optimizer": optimizer.state_dict(), "lr_scheduler": _lr_scheduler_state(),
                    "max_accuracy": 0.0, "scaler": dict(_GRAD_SCALER_STATE), "epoch": epoch,
                    "config": research_config(model.config)}, path)
    else:
        raise ValueError(f"unknown checkpoint layout {layout!r}")


def load_own_checkpoint(path):
    """A checkpoint that save_research_checkpoint wrote, read back with torch.load: for trusted files
    only (training resumes); anyone else's checkpoint goes through the converter's restricted loader."""
    yacs_cfgnode_class()  # its config is pickled as yacs.config.CfgNode
    return torch.load(path, map_location="cpu", weights_only=False)
