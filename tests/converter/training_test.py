#!/usr/bin/python3
"""The scene generator's labels, and the training forward against the reference's inference."""
import contextlib
import dataclasses
import json
import os
import subprocess
import signal
import sys
import tempfile
import textwrap
import time
import unittest

import numpy as np
import torch

CONVERTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "converter")
sys.path.insert(0, CONVERTER)

from adarun_convert.convert import convert_state  # noqa: E402
from adarun_convert.weight_file import weight_file_bytes  # noqa: E402
from adarun_ref.checkpoint import load_own_checkpoint  # noqa: E402
from adarun_ref.random_model import random_image, random_model  # noqa: E402
from scenes import MAX_OBJECTS, make_scene  # noqa: E402
from train_default_model import improved_tasks  # noqa: E402
from training.default_model import POSITION_EMBEDDING, default_config, with_position_embedding  # noqa: E402
from training.from_weight_file import config_from_metadata, freeze_batch_norm, model_from_weight_file  # noqa: E402
from training.gating import gated_forward  # noqa: E402
from training.metrics import Baselines, TaskMetrics, edge_counts, f_score, sobel_magnitude  # noqa: E402
from training.cpu_autocast import cpu_bf16_autocast  # noqa: E402
from training.objectives import (balanced_edge_weights, compute_loss, edge_loss, frame_compute_targets,  # noqa: E402
                                 normals_loss, task_losses, unit_vectors)
from training.data import SceneSet, ShareOfBatches  # noqa: E402
from training.parallel import DataParallel, free_port  # noqa: E402

FIELDS = ("image", "semseg", "sal", "edge", "normals")
BUNDLED_MODEL = os.path.join(CONVERTER, "model", "default.adarun")
INTERPOLATE = torch.nn.functional.interpolate  # as torch defines it, before any test could swap it


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


class FromWeightFile(unittest.TestCase):
    """A weight file mapped back to a reference model computes what the original model computes."""

    def round_trip(self, cfg, seed):
        original = random_model(cfg, seed)  # random BatchNorm statistics: the folding is exercised
        _, tensors, _ = convert_state(original.state_dict())
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.adarun")
            with open(path, "wb") as f:
                f.write(weight_file_bytes(tensors, cfg))
            return original, tensors, model_from_weight_file(path)

    def check_same_model(self, cfg, seed):
        torch.set_num_threads(1)
        original, tensors, recovered = self.round_trip(cfg, seed)
        _, again, _ = convert_state(recovered.state_dict())
        self.assertEqual(list(again), list(tensors))
        for name, array in tensors.items():
            self.assertLess(float(np.abs(again[name] - array).max()), 1e-5 * max(1.0, float(np.abs(array).max())), name)
        image = random_image(cfg, seed + 1)
        want, want_stats = original.run(image)
        got, got_stats = recovered.run(image)
        self.assertEqual(got_stats["blocks"], want_stats["blocks"])
        self.assertEqual(got_stats["tokens_kept"], want_stats["tokens_kept"])
        for task, output in want.items():
            self.assertLess(float((got[task] - output).abs().max()), 1e-4 * max(1.0, float(output.abs().max())), task)

    def test_per_task_policies_on_blocks_and_tokens(self):
        self.check_same_model(default_config(), 21)

    def test_single_policy_on_blocks_without_qkv_bias(self):
        cfg = dataclasses.replace(default_config(), img_size=128, window_size=4, policy_mode="single", ada_tokens=False, qkv_bias=False)
        self.check_same_model(cfg, 22)

    def test_frozen_batch_norms_keep_their_statistics_in_training(self):
        cfg = dataclasses.replace(default_config(), img_size=128, window_size=4)
        _, _, model = self.round_trip(cfg, 23)
        before = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
        model.train()
        freeze_batch_norm(model)
        images = torch.cat([random_image(cfg, 24), random_image(cfg, 25)])
        gated_forward(model, images, gated=True, noise=True)
        after = model.state_dict()
        self.assertTrue(before and all(torch.equal(v, after[k]) for k, v in before.items()))
        self.assertTrue(model.backbone.training)

    def test_a_file_that_is_no_weight_file_is_refused(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "garbage.adarun")
            with open(path, "wb") as f:
                f.write(b"not a weight file")
            with self.assertRaisesRegex(ValueError, "not a readable adarun weight file"):
                model_from_weight_file(path)

    def test_mtlora_weight_files_are_refused(self):
        with self.assertRaisesRegex(ValueError, "only AdaMTL"):
            config_from_metadata({"config": json.dumps({"family": "mtlora"})})


class PositionEmbedding(unittest.TestCase):
    def test_an_added_position_embedding_starts_at_zero_and_trains(self):
        torch.set_num_threads(1)
        cfg = dataclasses.replace(default_config(), img_size=128, window_size=4)
        original = random_model(cfg, 26)
        grown = with_position_embedding(original).eval()
        self.assertTrue(grown.config.ape)
        self.assertEqual(set(grown.state_dict()) - set(original.state_dict()), {POSITION_EMBEDDING})
        image = random_image(cfg, 27)
        want, want_stats = original.run(image)
        got, got_stats = grown.run(image)
        self.assertEqual(got_stats["blocks"], want_stats["blocks"])
        self.assertEqual(got_stats["tokens_kept"], want_stats["tokens_kept"])
        for task, output in want.items():
            self.assertTrue(torch.equal(got[task], output), task)
        logits, _ = gated_forward(grown, image, gated=True, noise=False)
        sum(output.square().mean() for output in logits.values()).backward()
        self.assertGreater(float(grown.backbone.absolute_pos_embed.grad.abs().max()), 0.0)
        self.assertIs(with_position_embedding(grown), grown)


class DecodersOnly(unittest.TestCase):
    def test_only_the_named_decoders_change(self):
        """--train-decoders normals: two steps from the bundled model change the normals decoder and nothing else,
        so the other tasks' outputs, the gates and the MACs stay the weight file's; the file to convert holds the
        trained decoder or the file's, whole."""
        with tempfile.TemporaryDirectory() as out:
            subprocess.run([sys.executable, os.path.join(CONVERTER, "train_default_model.py"),
                            "--from-weights", BUNDLED_MODEL, "--train-decoders", "normals", "--total-steps", "2",
                            "--batch", "2", "--val-frames", "2", "--out", out], check=True, stdout=subprocess.DEVNULL)
            trained = load_own_checkpoint(os.path.join(out, "checkpoint.pth"))["model"]
            calibrated = load_own_checkpoint(os.path.join(out, "calibrated.pth"))["model"]
        original = model_from_weight_file(BUNDLED_MODEL).state_dict()
        self.assertEqual(set(trained), set(original))
        changed = {name for name, value in original.items() if not torch.equal(trained[name], value)}
        self.assertTrue(changed)
        self.assertEqual(sorted(name for name in changed if not name.startswith("decoders.normals."))[:3], [])
        self.assertTrue(all(torch.equal(calibrated[name], trained[name]) for name in original) or
                        all(torch.equal(calibrated[name], original[name]) for name in original))

    def test_a_decoder_is_kept_only_where_no_metric_of_its_task_is_worse(self):
        before = {"semseg_miou": 0.60, "sal_iou": 0.70, "normals_deg": 4.0, "normals_obj_deg": 23.0, "edge_f_best": 0.5}
        after = {"semseg_miou": 0.61, "sal_iou": 0.70, "normals_deg": 3.9, "normals_obj_deg": 23.1, "edge_f_best": 0.49}
        self.assertEqual(improved_tasks(["semseg", "sal", "normals", "edge"], after, before), ["semseg", "sal"])
        self.assertEqual(improved_tasks(["normals"], {**after, "normals_obj_deg": 22.0}, before), ["normals"])


def average_in_process(rank, port, results):
    """Process `rank` of 2: gradients rank + 1 on `both`, only in process 1 on `one`, in neither on `neither`."""
    parallel = DataParallel(rank, 2, port)
    both, one, neither = (torch.nn.Parameter(torch.zeros(3)) for _ in range(3))
    both.grad = torch.full((3,), rank + 1.0)
    if rank == 1:
        one.grad = torch.full((3,), 4.0)
    parallel.average_gradients([both, one, neither])
    leader = parallel.from_leader([10.0 + rank])
    mean = parallel.mean([float(rank)])
    parallel.close()
    results.put((rank, both.grad.tolist(), one.grad.tolist(), neither.grad, leader, mean))


def process_running(pid):
    """Whether process pid exists and is not a zombie (an ended child nobody has reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class DataParallelTraining(unittest.TestCase):
    def test_gradients_are_averaged_over_the_processes(self):
        context = torch.multiprocessing.get_context("spawn")
        results, port = context.Queue(), free_port()
        processes = [context.Process(target=average_in_process, args=(rank, port, results)) for rank in range(2)]
        for process in processes:
            process.start()
        got = sorted(results.get(timeout=60) for _ in processes)
        for process in processes:
            process.join(timeout=60)
        for rank, both, one, neither, leader, mean in got:
            self.assertEqual(both, [1.5] * 3, rank)
            self.assertEqual(one, [2.0] * 3, rank)  # 4 in one process, none (zeros) in the other
            self.assertIsNone(neither, rank)        # no process computed one: the optimizer skips it
            self.assertEqual(leader, [10.0], rank)
            self.assertEqual(mean, [0.5], rank)

    def test_a_training_process_ends_with_the_process_that_spawned_it(self):
        """kill of a --processes run's parent alone must not leave its training processes running."""
        script = textwrap.dedent(f"""
            import sys, time
            import torch.multiprocessing as mp
            sys.path.insert(0, {CONVERTER!r})
            from training.parallel import end_with_parent

            def child(_, ready):
                end_with_parent()
                ready.put(None)
                time.sleep(120)

            if __name__ == "__main__":
                context = mp.get_context("spawn")
                ready = context.Queue()
                process = context.Process(target=child, args=(0, ready))
                process.start()
                ready.get(timeout=60)
                print(process.pid, flush=True)
                time.sleep(120)
            """)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "spawner.py")
            with open(path, "w") as f:
                f.write(script)
            parent = subprocess.Popen([sys.executable, path], stdout=subprocess.PIPE, text=True)
            child = int(parent.stdout.readline())
            parent.kill()
            parent.wait()
            deadline = time.time() + 20
            while process_running(child) and time.time() < deadline:
                time.sleep(0.1)
            running = process_running(child)
            if running:
                os.kill(child, signal.SIGKILL)
            self.assertFalse(running)

    def test_each_process_takes_its_share_of_every_batch(self):
        whole = list(ShareOfBatches(3, 4, 0, 4, 24))
        shares = [list(ShareOfBatches(3, 4, offset, 2, 24)) for offset in (0, 2)]
        self.assertEqual(whole, list(range(12, 24)))
        self.assertEqual(shares, [[12, 13, 16, 17, 20, 21], [14, 15, 18, 19, 22, 23]])

    def test_two_processes_train_what_one_does(self):
        """--processes 2 against one process on the same batches: the semseg and saliency losses are means over
        the batch (the normals and edge losses weigh by the batch's object and edge pixels, so they are left
        out), so the trained decoders must agree up to float rounding. The sums run in another order, and AdamW
        divides each gradient by its own magnitude (plus 1e-8), so for a weight whose gradient is near zero the
        rounding can reach the update: on the seventh bundled version a saliency decoder weight ends 4.5e-8
        apart, 0.13% of the largest update (3.4e-5); without the averaging the two runs end 6.8e-5 apart,
        twice the update."""
        states = []
        with tempfile.TemporaryDirectory() as out:
            for processes in (1, 2):
                folder = os.path.join(out, str(processes))
                subprocess.run([sys.executable, os.path.join(CONVERTER, "train_default_model.py"), "--device", "cpu",
                                "--processes", str(processes), "--from-weights", BUNDLED_MODEL,
                                "--train-decoders", "semseg,sal", "--total-steps", "3", "--batch", "4",
                                "--val-frames", "2", "--out", folder],
                               check=True, stdout=subprocess.DEVNULL)
                states.append(load_own_checkpoint(os.path.join(folder, "checkpoint.pth"))["model"])
        original = model_from_weight_file(BUNDLED_MODEL).state_dict()
        update = max(float((states[0][name] - value).abs().max()) for name, value in original.items())
        difference = max(float((states[1][name] - value).abs().max()) for name, value in states[0].items())
        self.assertGreater(update, 0.0)
        self.assertLess(difference, 1e-2 * update)


class ComputeTargets(unittest.TestCase):
    def test_targets_rise_from_simple_to_busy(self):
        objects = torch.arange(1, MAX_OBJECTS + 1)
        targets = frame_compute_targets(objects, MAX_OBJECTS, 0.3, 0.8)
        self.assertAlmostEqual(float(targets[0]), 0.3, places=6)
        self.assertAlmostEqual(float(targets[-1]), 0.8, places=6)
        self.assertTrue(bool(torch.all(targets[1:] > targets[:-1])))

    def test_a_batch_at_its_mean_target_still_pays_for_each_frame(self):
        """The first bundled model kept the same compute on every frame: per-frame targets charge that."""
        targets = torch.tensor([0.3, 0.8])
        flat = torch.full((2,), 0.55)
        self.assertAlmostEqual(float(compute_loss(flat, targets)), 0.25 ** 2, places=6)
        self.assertEqual(float(compute_loss(targets.clone(), targets)), 0.0)


def tilted(degrees, shape):
    """Unit normals [3, *shape] at `degrees` from the camera axis, leaning right."""
    angle = np.radians(degrees)
    return np.stack([np.full(shape, np.sin(angle)), np.zeros(shape), np.full(shape, np.cos(angle))]).astype(np.float32)


def half_plane_frame(size=16, column=8):
    """An object filling the columns left of `column` on a flat background, as the scenes label it:
    image, object mask, edges (the pixels on both sides of the boundary), normals (the object's tilted 30 deg)."""
    objects = np.zeros((size, size), np.uint8)
    objects[:, :column] = 1
    image = np.full((size, size, 3), 40, np.uint8)
    image[objects > 0] = 200
    edge = np.zeros((size, size), np.uint8)
    edge[:, column - 1:column + 1] = 1
    normals = np.where(objects[None] > 0, tilted(30, (size, size)), tilted(0, (size, size)))
    return image, objects, edge, normals


class Metrics(unittest.TestCase):
    """Hand-computed cases."""

    def test_edge_counts_tolerate_one_pixel(self):
        truth = np.zeros((10, 10), bool)
        truth[:, 5] = True
        beside, far = np.zeros_like(truth), np.zeros_like(truth)
        beside[:, 6] = True
        far[:, 8] = True
        self.assertEqual(f_score(edge_counts(beside, truth)), 1.0)
        self.assertEqual(f_score(edge_counts(far, truth)), 0.0)
        self.assertAlmostEqual(f_score(edge_counts(beside | far, truth)), 2 * 0.5 * 1 / 1.5)  # P 1/2, R 1
        self.assertEqual(list(edge_counts(beside | far, truth)), [10, 20, 10, 10])

    def test_sobel_magnitude_of_a_step(self):
        image, _, edge, _ = half_plane_frame()
        magnitude = sobel_magnitude(image)
        self.assertTrue(np.array_equal(magnitude, edge.astype(np.float64)))  # 4 x the step on both sides, 0 elsewhere
        self.assertFalse(sobel_magnitude(np.full((8, 8, 3), 7, np.uint8)).any())

    def test_baselines(self):
        image, objects, edge, normals = half_plane_frame()
        baselines = Baselines(5, thresholds=[0.5, 1.0])
        baselines.add(image, normals, objects, edge)
        summary = baselines.summary()
        self.assertAlmostEqual(summary["normals_obj_deg_constant"], 30.0, places=4)
        self.assertEqual(summary["edge_f_sobel"], 1.0)  # the step is the boundary
        self.assertEqual(summary["edge_sobel_threshold"], 0.5)  # magnitude > 1 marks nothing
        self.assertEqual((summary["edge_sobel_precision"], summary["edge_sobel_recall"]), (1.0, 1.0))
        precision = 4 / 16  # every pixel marked; those within 1 px of the 2 edge columns: 4 columns of 16
        self.assertAlmostEqual(summary["edge_f_constant"], 2 * precision / (1 + precision))

    def test_normals_on_object_pixels(self):
        _, objects, edge, normals = half_plane_frame()
        facing = tilted(0, objects.shape)
        metrics = TaskMetrics(5)
        metrics.add("normals", 3 * facing, normals, objects)  # the length of a prediction does not count
        summary = metrics.summary()
        self.assertAlmostEqual(summary["normals_obj_deg"], 30.0, places=4)
        self.assertAlmostEqual(summary["normals_deg"], 30.0 * objects.mean(), places=4)

    def test_normals_on_object_pixels_by_class(self):
        """A class map: the top rows of the object are class 2, tilted 60 deg; the rest class 1 at 30 deg."""
        image, objects, edge, normals = half_plane_frame()
        classes = objects.copy()
        classes[:4] = np.where(objects[:4] > 0, 2, 0)
        normals[:, :4] = np.where(classes[None, :4] == 2, tilted(60, (4, 16)), normals[:, :4])
        metrics = TaskMetrics(5)
        metrics.add("normals", tilted(30, objects.shape), normals, classes)
        by_class = metrics.normals_obj_deg_by_class()
        self.assertEqual(sorted(by_class), [1, 2])
        self.assertAlmostEqual(by_class[1], 0.0, places=3)
        self.assertAlmostEqual(by_class[2], 30.0, places=4)
        self.assertAlmostEqual(metrics.summary()["normals_obj_deg"], 30.0 / 4, places=4)  # class 2: 4 rows of 16
        baselines = Baselines(5, thresholds=[0.5])
        baselines.add(image, normals, classes, edge)
        constant = baselines.normals_obj_deg_by_class()
        self.assertAlmostEqual(constant[1], 30.0, places=4)
        self.assertAlmostEqual(constant[2], 60.0, places=4)
        self.assertEqual(baselines.object_pixel_shares(), {1: 0.75, 2: 0.25})  # of 16 x 8 object pixels, 4 x 8 class 2

    def test_edge_f_at_the_best_threshold(self):
        _, _, edge, _ = half_plane_frame()
        metrics = TaskMetrics(5, edge_thresholds=[-6.0, -3.0, 0.0])
        metrics.add("edge", np.where(edge > 0, -1.0, -5.0)[None], edge)
        summary = metrics.summary()
        self.assertEqual(summary["edge_f"], 0.0)  # nothing above 0
        self.assertEqual((summary["edge_f_best"], summary["edge_threshold"]), (1.0, -3.0))

    def test_edge_precision_and_recall_at_the_best_threshold(self):
        _, _, edge, _ = half_plane_frame(size=16, column=8)  # true edge: columns 7 and 8
        logits = np.full((1, 16, 16), -5.0)
        logits[0, :, 4:12] = 1.0  # an 8-column band: columns 6..9 lie within a pixel of the edge
        logits[0, :8, 7:9] = 2.0  # the edge itself, on the top half only
        metrics = TaskMetrics(5, edge_thresholds=[0.5, 1.5])
        metrics.add("edge", logits, edge)
        summary = metrics.summary()
        # At 0.5 (the band): precision 4 / 8, recall 1, F 2/3. At 1.5 (the top half of the edge): precision 1, recall
        # 18 / 32 (rows 0..7 of the edge, and row 8's two pixels within a pixel of row 7's), F 0.72: the best.
        self.assertEqual(summary["edge_threshold"], 1.5)
        self.assertAlmostEqual(summary["edge_precision_best"], 1.0)
        self.assertAlmostEqual(summary["edge_recall_best"], 18 / 32)
        self.assertAlmostEqual(summary["edge_f_best"], 2 * (18 / 32) / (1 + 18 / 32))
        band = TaskMetrics(5, edge_thresholds=[0.5])
        band.add("edge", logits, edge)
        self.assertAlmostEqual(band.summary()["edge_precision_best"], 0.5)
        self.assertAlmostEqual(band.summary()["edge_recall_best"], 1.0)


class Losses(unittest.TestCase):
    def test_object_pixels_weigh_their_share_of_the_normals_loss(self):
        _, objects, _, _ = half_plane_frame(size=16, column=4)  # objects: a quarter of the pixels
        target = torch.from_numpy(tilted(0, objects.shape))[None]
        output = target.clone()
        output[0, :, torch.from_numpy(objects) > 0] = torch.tensor([[1.0], [0.0], [0.0]])  # error (1 + 0 + 1) / 3 there
        mask = torch.from_numpy(objects)[None, None]
        self.assertAlmostEqual(float(normals_loss(output, target)), 2 / 3 * 0.25, places=6)
        self.assertAlmostEqual(float(normals_loss(output, target, mask, 0.5)), 2 / 3 * 0.5, places=6)
        self.assertAlmostEqual(float(normals_loss(output, target, mask, 0.8)), 2 / 3 * 0.8, places=6)

    def test_balanced_edge_weights(self):
        edge = torch.zeros(1, 1, 2, 5)
        edge[0, 0, 0, 0] = 1  # 1 edge pixel of 10
        positive, negative = balanced_edge_weights(edge)
        self.assertAlmostEqual(float(positive), 5.0)
        self.assertAlmostEqual(float(negative), 10 / 18)
        self.assertAlmostEqual(float(positive / negative), 9.0)  # |non-edge| / |edge|
        logits = torch.linspace(-2, 2, 10).reshape(1, 1, 2, 5)
        p = torch.sigmoid(logits)
        want = 0.5 * -torch.log(p[edge > 0]).mean() + 0.5 * -torch.log(1 - p[edge == 0]).mean()
        self.assertAlmostEqual(float(edge_loss(logits, edge)), float(want), places=5)

    def test_unit_vectors_are_f_normalize(self):
        x = torch.randn(2, 3, 5, 7, dtype=torch.float64) * torch.logspace(-3, 3, 7, dtype=torch.float64)
        x[0, :, 0, 0] = 0  # F.normalize divides by eps there
        a, b = x.clone().requires_grad_(), x.clone().requires_grad_()
        weights = torch.randn_like(x)
        (unit_vectors(a) * weights).sum().backward()
        (torch.nn.functional.normalize(b, dim=1) * weights).sum().backward()
        self.assertTrue(torch.allclose(unit_vectors(x), torch.nn.functional.normalize(x, dim=1), rtol=1e-12, atol=0))
        self.assertTrue(torch.allclose(a.grad, b.grad, rtol=1e-9, atol=0))


class CpuBf16Autocast(unittest.TestCase):
    """--cpu-bf16: a training step of the bundled model on a training scene, its matrix products in bf16, against
    the same step in fp32; and the context leaves the model and torch as they were."""

    def losses_and_gradients(self, model, batch, context):
        model.zero_grad()
        with context():
            logits, _ = gated_forward(model, batch["image"], gated=True, noise=False)
            losses = task_losses(logits, batch)
        sum(losses.values()).backward()
        return {k: float(v) for k, v in losses.items()}, torch.cat([p.grad.flatten() for p in model.parameters()])

    def test_a_step_in_bf16_follows_fp32(self):
        torch.set_num_threads(1)
        model = model_from_weight_file(BUNDLED_MODEL)
        model.train()
        freeze_batch_norm(model)
        batch = {k: v[None] if torch.is_tensor(v) else v for k, v in SceneSet(21, 1, model.config.img_size)[0].items()}
        linear = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
        output_types = []
        probe = linear.register_forward_hook(lambda module, inputs, output: output_types.append(output.dtype))
        want, want_gradient = self.losses_and_gradients(model, batch, contextlib.nullcontext)
        got, got_gradient = self.losses_and_gradients(model, batch, lambda: cpu_bf16_autocast(model))
        probe.remove()
        self.assertEqual(output_types, [torch.float32, torch.bfloat16])
        # bf16 keeps 8 bits of mantissa. Seen (Xeon, AMX): the seventh bundled version at most 1.3% (semseg),
        # cosine 0.9991; the eighth at most 1.6% (edge), cosine 0.9982; the ninth at most 2.1% (semseg),
        # cosine 0.9991; the tenth at most 1.7% (semseg), cosine 0.9997.
        for task in want:
            self.assertLess(abs(got[task] - want[task]), 0.03 * want[task], task)
        self.assertGreater(float(torch.nn.functional.cosine_similarity(want_gradient, got_gradient, dim=0)), 0.99)
        self.assertIs(torch.nn.functional.interpolate, INTERPOLATE)
        self.assertFalse(any(m._forward_pre_hooks for m in model.modules()))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])
