#!/usr/bin/python3
"""The scene generator's labels, and the training forward against the reference's inference."""
import os
import sys
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "converter"))

from adarun_ref.random_model import random_image, random_model  # noqa: E402
from scenes import MAX_OBJECTS, make_scene  # noqa: E402
from training.default_model import default_config  # noqa: E402
from training.gating import gated_forward  # noqa: E402

FIELDS = ("image", "semseg", "sal", "edge", "normals")


class Scenes(unittest.TestCase):
    def test_same_seed_same_scene(self):
        a, b = make_scene(11), make_scene(11)
        for field in FIELDS:
            self.assertTrue(np.array_equal(getattr(a, field), getattr(b, field)), field)
        self.assertFalse(np.array_equal(make_scene(12).image, a.image))

    def test_labels_agree(self):
        for objects in (1, MAX_OBJECTS):
            scene = make_scene(5, size=96, objects=objects)
            self.assertEqual(scene.objects, objects)
            self.assertTrue(np.array_equal(scene.sal, (scene.semseg > 0).astype(np.uint8)))
            self.assertTrue(np.allclose(np.linalg.norm(scene.normals, axis=0), 1, atol=1e-5))
            background = scene.semseg == 0
            self.assertTrue(np.all(scene.normals[2][background] == 1))
            self.assertTrue(0 < scene.edge.sum() < scene.edge.size)

    def test_simple_scene_has_a_plain_background(self):
        scene = make_scene(3, objects=1)
        background = scene.image[scene.semseg == 0]
        self.assertTrue(np.all(background == background[0]))


class TrainingForward(unittest.TestCase):
    def test_noise_free_gates_give_the_reference_inference(self):
        torch.set_num_threads(1)
        cfg = default_config()
        model = random_model(cfg, 3)  # calibrated: some blocks and about half the tokens off
        image = random_image(cfg, 4)
        want, stats = model.run(image)
        with torch.no_grad():
            got, usage = gated_forward(model, torch.cat([image, image]), gated=True, noise=False)
        for task, output in want.items():
            self.assertLess(float((got[task][1] - output[0]).abs().max()), 1e-4, task)
        kept = [k for stage in stats["tokens_kept"] for k in stage]
        tokens = [(56 >> i) ** 2 for i in range(4) for _ in range(cfg.depths[i])]
        self.assertAlmostEqual(float(usage.summary()["tokens"][0]), np.mean(np.array(kept) / tokens), places=5)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
