#!/usr/bin/python3
"""A random-weight Swin-T AdaMTL checkpoint (per-task policies, four PASCAL tasks) in the research
save format: the main job's stand-in until a trained default model is bundled.

usage: /usr/bin/python3 converter/make_demo_checkpoint.py OUT.pth
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from adarun_ref import ModelConfig, TaskSpec  # noqa: E402
from adarun_ref.checkpoint import save_research_checkpoint  # noqa: E402
from adarun_ref.random_model import random_model  # noqa: E402

TASKS = [TaskSpec("semseg", 21), TaskSpec("human_parts", 7), TaskSpec("sal", 1), TaskSpec("normals", 3)]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip())
    config = ModelConfig(tasks=TASKS, ada_blocks=True, ada_tokens=True, policy_mode="per_task", decoder_dim=128)
    save_research_checkpoint(random_model(config, seed=2026), sys.argv[1])
    print(f"wrote {sys.argv[1]} (random weights: Swin-T 224, per-task block and token policies)")


if __name__ == "__main__":
    main()
