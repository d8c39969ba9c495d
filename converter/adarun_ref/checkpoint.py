"""Saves a reference model the way the research code does: torch.save of
{'model': state_dict, 'config': yacs CfgNode, 'optimizer': ..., 'epoch': ...}.

The config is pickled as an instance of yacs.config.CfgNode (a stand-in module is registered
just for pickling), so reading it back needs the converter's restricted unpickler."""
import sys
import types

import torch


def _yacs_module():
    module = sys.modules.get("yacs.config")
    if module is None:
        module = types.ModuleType("yacs.config")
        package = sys.modules.setdefault("yacs", types.ModuleType("yacs"))
        package.config = module
        sys.modules["yacs.config"] = module

        class CfgNode(dict):
            pass

        CfgNode.__module__, CfgNode.__qualname__ = "yacs.config", "CfgNode"
        module.CfgNode = CfgNode
    return module.CfgNode


def _node(cls, mapping):
    return cls({k: _node(cls, v) if isinstance(v, dict) else v for k, v in mapping.items()})


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
        config["MODEL"].update({"MTLORA": _mtlora_section(cfg), "DECODER_HEAD": {t.name: "hrnet" for t in cfg.tasks},
                                "DECODER_CHANNELS": list(cfg.decoder_channels), "DECODER_DOWNSAMPLER": cfg.decoder_downsampler,
                                "PER_TASK_DOWNSAMPLER": True})
        del config["MODEL"]["SWIN"]["DECODER_DIM"]
    return _node(_yacs_module(), config)


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


def save_research_checkpoint(model, path, layout="full"):
    """layout: 'full' (research save_checkpoint), 'bare' (state_dict only) or 'module' ('module.' prefixes)."""
    state = model.state_dict()
    if layout == "bare":
        torch.save(state, path)
    elif layout == "module":
        torch.save({"model": {"module." + k: v for k, v in state.items()}}, path)
    else:
        torch.save({"model": state, "config": research_config(model.config), "optimizer": {"state": {}, "param_groups": []},
                    "lr_scheduler": {}, "max_accuracy": 0.0, "epoch": 0}, path)


def load_own_checkpoint(path):
    """A checkpoint that save_research_checkpoint wrote, read back with torch.load: for trusted files
    only (training resumes); anyone else's checkpoint goes through the converter's restricted loader."""
    _yacs_module()  # its config is pickled as yacs.config.CfgNode
    return torch.load(path, map_location="cpu", weights_only=False)
