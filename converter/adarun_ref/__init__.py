"""adarun's own PyTorch reference of the models it runs (SPEC sections 1, 2 and 4).

State_dict names are those of the research code, so research checkpoints load into it and
its random-weight models save as research-format checkpoints. Gates are deterministic.
"""
from .config import ModelConfig, TaskSpec
from .model import MultiTaskSwin
