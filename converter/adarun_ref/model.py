"""MultiTaskSwin: backbone + one decoder per task, evaluated with deterministic gates."""
import torch
import torch.nn as nn

from . import macs
from .backbone import Backbone
from .decoder import Decoder


class MultiTaskSwin(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.backbone = Backbone(config)
        self.decoders = nn.ModuleDict({t.name: Decoder(config, t.outputs) for t in config.tasks})

    @torch.no_grad()
    def run(self, image, tasks=None, threshold=0.0):
        """image [1, 3, S, S] normalised. tasks: names to run (default all); per_task policies are
        OR-ed over them. A gate is on iff its logit > threshold. Returns (outputs by task, stats)."""
        names = list(tasks) if tasks else [t.name for t in self.config.tasks]
        unknown = set(names) - set(self.decoders.keys())
        if unknown:
            raise ValueError(f"unknown tasks {sorted(unknown)}")
        stats = {"tasks": names, "blocks": [], "tokens_kept": [], "token_masks": [], "macs_executed": 0}
        stages = self.backbone(image, names, threshold, stats)
        outputs = {}
        for name in names:
            outputs[name] = self.decoders[name](stages, image.shape[2:])
            stats["macs_executed"] += macs.decoder(self.config, outputs[name].shape[1])
        stats["macs_static"] = macs.static_model(self.config, [outputs[n].shape[1] for n in names])
        return outputs, stats
