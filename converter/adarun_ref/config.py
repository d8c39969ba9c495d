"""The architecture of an AdaMTL / static Swin MTL model, and the geometry derived from it."""
from dataclasses import dataclass, field
from typing import List


@dataclass(frozen=True)
class TaskSpec:
    name: str
    outputs: int


@dataclass
class ModelConfig:
    img_size: int = 224
    in_chans: int = 3
    patch_size: int = 4
    embed_dim: int = 96
    depths: List[int] = field(default_factory=lambda: [2, 2, 6, 2])
    num_heads: List[int] = field(default_factory=lambda: [3, 6, 12, 24])
    window_size: int = 7
    mlp_ratio: float = 4.0
    qkv_bias: bool = True
    ape: bool = False
    patch_norm: bool = True
    ada_blocks: bool = False
    ada_tokens: bool = False
    policy_mode: str = "none"  # none | single | per_task
    block_ctrl_dim: int = 64
    token_ctrl_dim: int = 64
    decoder_dim: int = 128
    tasks: List[TaskSpec] = field(default_factory=list)
    num_classes: int = 0  # MTL training sets 0: the backbone carries no classification head
    # MTLoRA (family "mtlora", SPEC 3)
    family: str = "adamtl"
    lora_mode: str = "matrix"  # matrix | matrixv2
    lora_ranks: List[int] = field(default_factory=lambda: [0, 0, 0, 0])      # shared rank per stage
    lora_task_ranks: dict = field(default_factory=dict)                       # task -> rank per stage
    lora_shared_scale: List[float] = field(default_factory=lambda: [1.0] * 4)
    lora_task_scale: dict = field(default_factory=dict)                       # task -> scale per stage
    lora_layers: tuple = ("qkv", "proj", "fc1", "fc2")                        # which linears carry LoRA
    lora_downsampler: bool = False                                            # patch merging reduction too
    decoder_channels: List[int] = field(default_factory=lambda: [18, 36, 72, 144])
    decoder_downsampler: bool = True
    # MTLoRA decoder heads, per task (research MODEL.DECODER_HEAD): "hrnet" (a task not listed), "aspp",
    # "segformer" or "updecoder"; and their widths. The research code fixes all but the SegFormer width
    # (MODEL.SEGFORMER_CHANNELS); the others are settable here for small test models.
    decoder_heads: dict = field(default_factory=dict)
    segformer_channels: int = 256
    aspp_channels: int = 256
    aspp_rates: tuple = (12, 24, 36)
    updecoder_channels: tuple = (32, 32, 32)
    updecoder_kernels: tuple = (2, 2, 2)

    @property
    def adaptive(self):
        return self.ada_blocks or self.ada_tokens

    def stage(self, i):
        """dim, resolution, window, shift of stage i (SPEC 1)."""
        resolution = self.img_size // self.patch_size // (2 ** i)
        dim = self.embed_dim * 2 ** i
        if resolution <= self.window_size:
            return dim, resolution, resolution, 0
        return dim, resolution, self.window_size, self.window_size // 2

    def mlp_hidden(self, i):
        return int(self.embed_dim * 2 ** i * self.mlp_ratio)

    def stage_out(self, i):
        """(dim, resolution) of stage i's output as the decoders see it (after patch merging)."""
        dim, resolution, _, _ = self.stage(i)
        return (2 * dim, resolution // 2) if i < 3 else (dim, resolution)

    def head(self, task):
        """The decoder head kind of an MTLoRA task."""
        return self.decoder_heads.get(task, "hrnet")

    def policy_names(self):
        if self.policy_mode == "single":
            return ["all"]
        if self.policy_mode == "per_task":
            return [t.name for t in self.tasks]
        return []
