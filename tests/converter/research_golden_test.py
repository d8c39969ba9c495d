#!/usr/bin/python3
"""The project's PyTorch reference against the research code's own outputs (tests/data/research).

Each case holds a checkpoint that the research code saved with its own save_checkpoint, a fixed
input, and the outputs and gates the research code computed on it. The reference, built from what
the converter reads out of that checkpoint, must give the same outputs (parity tolerance) and the
same gates. The engine is held to the same data by parity_test. Also: the yacs CfgNode stand-in
pickles a research config to the very bytes that yacs itself wrote.
"""
import io
import json
import os
import pickle
import sys
import unittest

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "converter"))

from adarun_convert.infer_config import infer_config  # noqa: E402
from adarun_convert.safe_load import ConfigNode, RestrictedUnpickler, load_checkpoint  # noqa: E402
from adarun_ref.model import MultiTaskSwin  # noqa: E402
from adarun_ref.mtlora import MTLoRASwin  # noqa: E402
from adarun_ref.yacs_cfgnode import yacs_cfgnode_class  # noqa: E402

DATA = os.path.join(ROOT, "tests", "data", "research")
CASES = ["adamtl_per_task_small", "mtlora_small", "mtlora_heads_small"]  # heads: ASPP, SegFormer, updecoder
# Research-only buffers that the reference recomputes (attention masks, relative position indices).
RECOMPUTED_BUFFERS = ("attn_mask", "relative_position_index")


def reference_model(checkpoint):
    state, embedded = load_checkpoint(checkpoint)
    cfg, _ = infer_config(state, embedded)
    model = (MTLoRASwin if cfg.family == "mtlora" else MultiTaskSwin)(cfg).eval()
    missing, unexpected = model.load_state_dict(state, strict=False)
    return model, missing, [k for k in unexpected if not k.endswith(RECOMPUTED_BUFFERS) and not k.startswith("backbone.head.")]


class ResearchGoldenTest(unittest.TestCase):
    def test_reference_matches_the_research_code(self):
        for name in CASES:
            with self.subTest(case=name):
                directory = os.path.join(DATA, name)
                with open(os.path.join(directory, "case.json")) as f:
                    case = json.load(f)
                model, missing, unexpected = reference_model(os.path.join(directory, "checkpoint.pth"))
                self.assertEqual(missing, [])
                self.assertEqual(unexpected, [])
                image = torch.from_numpy(np.load(os.path.join(directory, "input.npy")))[None]
                outputs, stats = model.run(image, case["tasks"], case["threshold"])
                tolerance = 1e-4 * max(1.0, case["max_abs_ref"])
                for task in case["tasks"]:
                    want = np.load(os.path.join(directory, "expected", task + ".npy"))
                    error = float(np.abs(outputs[task][0].numpy() - want).max())
                    print(f"{name} {task}: max|diff| {error:.3g} (tolerance {tolerance:.3g})")
                    self.assertLessEqual(error, tolerance, task)
                if "blocks" in stats:
                    self.assertEqual(stats["blocks"], case["blocks"])
                    self.assertEqual(stats["tokens_kept"], case["tokens_kept"])
                    self.assertEqual(stats["token_masks"], case["token_masks"])

    def test_cfgnode_stand_in_pickles_as_yacs_does(self):
        # yacs_config.pkl: a research config (frozen, as save_checkpoint gets it) that yacs itself pickled.
        with open(os.path.join(DATA, "yacs_config.pkl"), "rb") as f:
            written_by_yacs = f.read()
        loaded = RestrictedUnpickler(io.BytesIO(written_by_yacs), None).load()
        config = yacs_cfgnode_class()(plain_tree(loaded))
        if loaded.__dict__["__immutable__"]:
            config.freeze()
        self.assertEqual(pickle.dumps(config, protocol=2), written_by_yacs)


def plain_tree(node):
    """The restricted loader's ConfigNode tree as nested plain dicts."""
    return {k: plain_tree(v) for k, v in node.items()} if isinstance(node, ConfigNode) else node


if __name__ == "__main__":
    unittest.main()
