#!/usr/bin/python3
"""Converter tests: safe loading, config inference and checks, errors that name the key."""
import codecs
import collections
import contextlib
import importlib.util
import io
import json
import os
import pickle
import re
import struct
import subprocess
import sys
import tempfile
import unittest
import unittest.mock
import zipfile

import numpy as np
import torch
import torch.nn.functional as F

CONVERTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "converter")
sys.path.insert(0, CONVERTER)

from adarun_convert import ConversionError  # noqa: E402
from adarun_convert.convert import convert_file, convert_state, summary  # noqa: E402
from adarun_convert.safe_load import load_checkpoint  # noqa: E402
from adarun_convert.weight_file import read_weight_file  # noqa: E402
from adarun_ref import ModelConfig, TaskSpec, macs  # noqa: E402
from adarun_ref.checkpoint import research_config, save_research_checkpoint  # noqa: E402
from adarun_ref.yacs_cfgnode import frozen_research_config  # noqa: E402
from adarun_ref.random_model import random_model  # noqa: E402

TASKS = [TaskSpec("semseg", 21), TaskSpec("normals", 3)]
SMALL = dict(img_size=128, window_size=4, embed_dim=8, depths=[1, 1, 2, 1], num_heads=[1, 1, 2, 2], decoder_dim=8,
             block_ctrl_dim=4, token_ctrl_dim=4, tasks=TASKS)


class Payload:
    """Unpickling this would run a shell command."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class Call:
    """Pickles as a call of `function` on `args`."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


class ScratchFolderTest(unittest.TestCase):
    """A temporary folder per test, removed after it; path(name) is a file in it."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.dir, name)


class ConverterTest(ScratchFolderTest):
    def setUp(self):
        super().setUp()
        self.model = random_model(ModelConfig(**SMALL, ada_blocks=True, ada_tokens=True, policy_mode="per_task"), 3)

    def state(self):
        return dict(self.model.state_dict())

    def assert_error(self, text, *args, **kwargs):
        with self.assertRaises(ConversionError) as raised:
            convert_state(*args, **kwargs)
        self.assertIn(text, str(raised.exception))

    def test_pickle_that_calls_a_function_is_refused_without_running(self):
        marker = self.path("pwned")
        torch.save({"model": self.state(), "config": Payload(marker)}, self.path("evil.pth"))
        with self.assertRaises(ConversionError) as raised:
            load_checkpoint(self.path("evil.pth"))
        self.assertIn("posix.system", str(raised.exception))
        self.assertFalse(os.path.exists(marker))

    def test_python2_names_of_dangerous_functions_are_refused(self):
        # Protocol 2 names builtins by their Python 2 module: translated, they are still refused, unrun.
        for function, shown in ((eval, "builtins.eval"), (getattr, "builtins.getattr"), (exec, "builtins.exec")):
            self.write_data_pickle("evil.pth", pickle.dumps({"model": Call(function, "1")}, protocol=2))
            with self.assertRaises(ConversionError) as raised:
                load_checkpoint(self.path("evil.pth"))
            self.assertIn(shown, str(raised.exception))

    def test_bytes_are_decoded_only_from_latin1(self):
        self.write_data_pickle("codec.pth", pickle.dumps({"model": Call(codecs.encode, "a", "rot13")}, protocol=2))
        with self.assertRaises(ConversionError) as raised:
            load_checkpoint(self.path("codec.pth"))
        self.assertIn("'rot13'", str(raised.exception))

    def test_numpy_metrics_load_under_numpy_1_and_2_names(self):
        # What validation leaves in max_accuracy: numpy scalars and arrays (protocol 2 pickles their bytes as latin1).
        metrics = {"semseg": {"mIoU": np.float64(0.5), "jaccards_all_categs": np.arange(3, dtype=np.float32)}}
        torch.save({"model": self.state(), "max_accuracy": metrics}, self.path("numpy1.pth"))
        state, _ = load_checkpoint(self.path("numpy1.pth"))
        self.assertEqual(set(state), set(self.state()))
        pickled = pickle.dumps({"model": metrics}, protocol=2)  # no tensors: the loader's answer shows the metrics
        self.assertIn(b"numpy.core.multiarray", pickled)
        self.write_data_pickle("numpy2.pth", pickled.replace(b"numpy.core.multiarray", b"numpy._core.multiarray"))
        loaded, _ = load_checkpoint(self.path("numpy2.pth"))
        self.assertEqual(loaded["semseg"]["mIoU"], 0.5)
        self.assertEqual(loaded["semseg"]["jaccards_all_categs"].tolist(), [0.0, 1.0, 2.0])

    def test_numpy_array_of_another_class_is_refused(self):
        pickled = pickle.dumps({"model": Call(np.core.multiarray._reconstruct, collections.OrderedDict, (0,), b"b")}, protocol=2)
        self.write_data_pickle("array.pth", pickled)
        with self.assertRaises(ConversionError) as raised:
            load_checkpoint(self.path("array.pth"))
        self.assertIn("rebuilds a numpy array as", str(raised.exception))

    def write_data_pickle(self, name, pickled, records_from=None):
        """A torch.save zip whose data.pkl is the given bytes, beside the storages of the file `records_from`
        (default: none)."""
        if records_from is None:
            records_from = self.path(name)
            torch.save({}, records_from)
        with zipfile.ZipFile(records_from) as original:
            records = {n: original.read(n) for n in original.namelist()}
        with zipfile.ZipFile(self.path(name), "w") as rewritten:
            for n, data in records.items():
                rewritten.writestr(n, pickled if n.endswith("/data.pkl") else data)

    def test_research_checkpoint_as_the_research_code_saves_it(self):
        # torch.save protocol 2: a frozen yacs CfgNode (its set and dict), AdamW and GradScaler state.
        save_research_checkpoint(self.model, self.path("research.pth"))
        state, config = load_checkpoint(self.path("research.pth"))
        self.assertEqual(set(state), set(self.state()))
        self.assertEqual(config["MODEL"]["SWIN"]["EMBED_DIM"], 8)
        self.assertEqual(config.__dict__["__deprecated_keys__"], set())
        self.assertTrue(config["MODEL"].__dict__["__immutable__"])

    def test_checkpoint_saved_from_a_gpu_loads_on_the_cpu(self):
        # Research checkpoints come from CUDA models: their storages are located on 'cuda:0'.
        torch.save({"model": self.state()}, self.path("cpu.pth"))
        with zipfile.ZipFile(self.path("cpu.pth")) as original:
            pickled = original.read(next(n for n in original.namelist() if n.endswith("/data.pkl")))
        self.assertIn(b"X\x03\x00\x00\x00cpu", pickled)
        self.write_data_pickle("cuda.pth", pickled.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0"),
                                records_from=self.path("cpu.pth"))
        state, _ = load_checkpoint(self.path("cuda.pth"))
        for key, value in self.state().items():
            self.assertTrue(torch.equal(state[key], value), key)

    def test_other_pickle_protocols_load(self):
        config = research_config(self.model.config)
        for protocol in (3, 4, 5):
            torch.save({"model": self.state(), "config": config}, self.path("p.pth"), pickle_protocol=protocol)
            state, loaded = load_checkpoint(self.path("p.pth"))
            self.assertEqual(set(state), set(self.state()))
            self.assertEqual(loaded["MODEL"]["SWIN"]["EMBED_DIM"], 8)

    def test_whole_pickled_model_is_refused_with_what_to_do(self):
        torch.save(self.model, self.path("whole.pth"))
        with self.assertRaises(ConversionError) as raised:
            load_checkpoint(self.path("whole.pth"))
        self.assertIn("re-saved as its state_dict", str(raised.exception))

    def test_checkpoint_layouts_convert_alike(self):
        reference = None
        for layout in ("full", "bare", "module", "state_dict"):
            save_research_checkpoint(self.model, self.path(layout + ".pth"), layout)
            state, config = load_checkpoint(self.path(layout + ".pth"))
            self.assertEqual(set(state), set(self.state()), layout)
            self.assertEqual(config is not None, layout == "full", layout)
            _, tensors, _ = convert_file(self.path(layout + ".pth"), self.path(layout + ".adarun"))
            reference = reference or tensors
            self.assertEqual(set(tensors), set(reference), layout)
            for name, value in tensors.items():
                self.assertTrue(np.array_equal(value, reference[name]), f"{layout}: {name}")

    def test_config_with_keys_adarun_does_not_know(self):
        config = research_config(self.model.config)
        extra = dict({k: v for k, v in config.items()}, OUTPUT="output/run", SEED=0, AMP_OPT_LEVEL="",
                     AUG={"MIXUP": 0.0, "CUTMIX_MINMAX": None}, EVAL_MODE=False)
        extra["TRAIN"] = dict(config["TRAIN"], EPOCHS=300, LR_SCHEDULER={"NAME": "cosine", "MULTISTEPS": []})
        checkpoint = {"model": self.state(), "epoch": 3, "max_accuracy": np.float64(0.5), "config": frozen_research_config(extra)}
        torch.save(checkpoint, self.path("extra.pth"))
        cfg, _, _ = convert_file(self.path("extra.pth"), self.path("extra.adarun"))
        self.assertEqual((cfg.embed_dim, cfg.policy_mode), (8, "per_task"))

    def test_legacy_torch_save_format_is_refused_with_how_to_resave(self):
        torch.save({"model": self.state()}, self.path("legacy.pth"), _use_new_zipfile_serialization=False)
        with self.assertRaises(ConversionError) as raised:
            load_checkpoint(self.path("legacy.pth"))
        self.assertIn("legacy", str(raised.exception))
        self.assertIn("torch.save(torch.load(", str(raised.exception))

    def test_config_inferred_from_state_dict(self):
        cfg, tensors, _ = convert_state(self.state())
        self.assertEqual((cfg.embed_dim, cfg.depths, cfg.num_heads, cfg.window_size, cfg.img_size),
                         (8, [1, 1, 2, 1], [1, 1, 2, 2], 4, 128))
        self.assertEqual((cfg.policy_mode, cfg.block_ctrl_dim, cfg.token_ctrl_dim), ("per_task", 4, 4))
        self.assertEqual([(t.name, t.outputs) for t in cfg.tasks], [("semseg", 21), ("normals", 3)])
        self.assertEqual(tensors["stages.0.blocks.0.attn.rel_bias"].shape, (1, 16, 16))

    def test_swin_small_and_base_shapes_are_inferred(self):
        # Swin-S / Swin-B: 18 blocks in stage 2, heads 4-8-16-32 (narrow here, so the test stays quick).
        deep = dict(SMALL, embed_dim=16, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32], window_size=7, img_size=224)
        model = random_model(ModelConfig(**deep, ada_blocks=True, ada_tokens=True, policy_mode="per_task"), 6)
        save_research_checkpoint(model, self.path("deep.pth"))
        cfg, _, _ = convert_file(self.path("deep.pth"), self.path("deep.adarun"))
        self.assertEqual((cfg.embed_dim, cfg.depths, cfg.num_heads, cfg.window_size, cfg.img_size),
                         (16, [2, 2, 18, 2], [4, 8, 16, 32], 7, 224))

    def test_batch_norm_is_folded(self):
        _, tensors, _ = convert_state(self.state())
        block = self.model.decoders["semseg"].fuse[1][2]
        x = torch.randn(1, block.conv1.in_channels, 5, 5)
        want = block.bn1(block.conv1(x))
        w = torch.from_numpy(tensors["decoders.semseg.fuse.1.block1.conv1.weight"])
        b = torch.from_numpy(tensors["decoders.semseg.fuse.1.block1.conv1.bias"])
        got = torch.nn.functional.conv2d(x, w, b, padding=1)
        self.assertLess(float((got - want).abs().max()), 1e-5)

    def test_missing_key_is_named(self):
        state = self.state()
        del state["backbone.layers.2.blocks.1.mlp.fc2.bias"]
        self.assert_error("backbone.layers.2.blocks.1.mlp.fc2.bias", state)

    def test_unknown_key_is_named(self):
        state = self.state()
        state["backbone.layers.0.mystery.weight"] = torch.zeros(3)
        self.assert_error("backbone.layers.0.mystery.weight", state)

    def test_shape_mismatch_is_named(self):
        state = self.state()
        state["backbone.layers.1.blocks.0.attn.proj.weight"] = torch.zeros(16, 15)
        self.assert_error("backbone.layers.1.blocks.0.attn.proj.weight", state)

    def test_config_conflict_is_an_error(self):
        yaml_config = {"MODEL": {"SWIN": {"EMBED_DIM": 96}}}
        self.assert_error("EMBED_DIM = 96", self.state(), yaml_config=yaml_config)
        self.assert_error("DATA.IMG_SIZE = 224", self.state(), yaml_config={"DATA": {"IMG_SIZE": 224}})
        self.assert_error("tasks", self.state(), embedded={"TASKS": ["semseg", "depth"]})

    def test_static_model_without_visible_size_needs_it_given(self):
        static = random_model(ModelConfig(**dict(SMALL, img_size=32, window_size=8)), 4)
        self.assert_error("--img-size", dict(static.state_dict()))
        cfg, _, _ = convert_state(dict(static.state_dict()), img_size=32)
        self.assertEqual(cfg.img_size, 32)

    def test_adaptive_off_converts_as_static(self):
        cfg, tensors, notes = convert_state(self.state(), embedded={"TRAIN": {"ADAPTIVE": False}})
        self.assertEqual(cfg.policy_mode, "none")
        self.assertFalse(any("policy" in name for name in tensors))
        self.assertTrue(any("ADAPTIVE" in note for note in notes))

    def test_cli_failure_leaves_no_output(self):
        torch.save({"model": {"backbone.patch_embed.proj.weight": torch.zeros(8, 3, 4, 4)}}, self.path("broken.pth"))
        output = self.path("out.adarun")
        result = subprocess.run([sys.executable, os.path.join(CONVERTER, "convert.py"), self.path("broken.pth"), "-o", output],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertFalse(os.path.exists(output))
        self.assertEqual([f for f in os.listdir(self.dir) if f.startswith(".adarun-")], [])

    def test_cli_success_prints_summary_and_writes_a_readable_file(self):
        save_research_checkpoint(self.model, self.path("model.pth"))
        output = self.path("model.adarun")
        result = subprocess.run([sys.executable, os.path.join(CONVERTER, "convert.py"), self.path("model.pth"), "-o", output],
                                capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stderr)
        for word in ("per_task", "semseg (21)", "parameters", "static MACs"):
            self.assertIn(word, result.stdout)
        metadata, tensors = read_weight_file(output)
        self.assertEqual(metadata["format_version"], "1")
        self.assertIn("patch_embed.weight", tensors)


class MTLoRAConverterTest(ScratchFolderTest):
    def setUp(self):
        super().setUp()
        names = [t.name for t in TASKS]
        self.cfg = ModelConfig(**SMALL, family="mtlora", lora_ranks=[4] * 4, lora_task_ranks={t: [2] * 4 for t in names},
                               lora_shared_scale=[4.0] * 4, lora_task_scale={t: [4.0] * 4 for t in names})
        self.state = dict(random_model(self.cfg, 5).state_dict())

    def test_research_checkpoint_gives_mode_and_scales(self):
        for mode in ("matrix", "matrixv2"):
            cfg = ModelConfig(**dict(vars(self.cfg), lora_mode=mode, lora_shared_scale=[2.0] * 4))
            save_research_checkpoint(random_model(cfg, 5), os.path.join(self.dir, mode + ".pth"))
            converted, _, _ = convert_file(os.path.join(self.dir, mode + ".pth"), os.path.join(self.dir, mode + ".adarun"))
            self.assertEqual((converted.lora_mode, converted.lora_shared_scale), (mode, [2.0] * 4))

    def test_scales_are_required(self):
        with self.assertRaises(ConversionError) as raised:
            convert_state(self.state)
        self.assertIn("no LoRA scales", str(raised.exception))

    def test_mode_is_required_when_layers_fork(self):
        with self.assertRaises(ConversionError) as raised:
            convert_state(self.state, lora_flags={"shared_scale": [4.0]})
        self.assertIn("--lora-mode", str(raised.exception))

    def test_scales_and_mode_from_a_research_yaml(self):
        research = {"MODEL": {"MTLORA": {"SHARED_SCALE": [4.0], "SHARED_MODE": "matrixv2"}}}
        cfg, tensors, _ = convert_state(self.state, yaml_config=research)
        self.assertEqual((cfg.lora_mode, cfg.lora_shared_scale), ("matrixv2", [4.0] * 4))
        self.assertNotIn("stages.0.blocks.0.mlp.fc2.shared_lora.down", tensors)  # merged in matrixv2
        self.assertIn("stages.0.blocks.0.mlp.fc2.task_lora.normals.up", tensors)

    def test_flags_win_over_the_config(self):
        research = {"MODEL": {"MTLORA": {"SHARED_SCALE": [1.0], "SHARED_MODE": "matrixv2"}}}
        cfg, tensors, _ = convert_state(self.state, yaml_config=research, lora_flags={"mode": "matrix", "shared_scale": [4.0]})
        self.assertEqual((cfg.lora_mode, cfg.lora_shared_scale), ("matrix", [4.0] * 4))
        self.assertIn("stages.0.blocks.0.mlp.fc2.shared_lora.down", tensors)

    def test_unknown_head_in_the_state_dict(self):
        state = {k: v for k, v in self.state.items() if not k.startswith("decoders.decoders.normals.")}
        state["decoders.decoders.normals.mystery.0.weight"] = torch.zeros(4, 4, 1, 1)
        with self.assertRaises(ConversionError) as raised:
            convert_state(state, lora_flags={"mode": "matrix", "shared_scale": [4.0]})
        self.assertIn("task normals: the state_dict holds no decoder head adarun knows", str(raised.exception))

    def test_head_in_the_config_must_match_the_state_dict(self):
        research = {"MODEL": {"DECODER_HEAD": {"semseg": "segformer"}, "MTLORA": {"SHARED_SCALE": [4.0]}}}
        with self.assertRaises(ConversionError) as raised:
            convert_state(self.state, yaml_config=research)
        self.assertIn("task semseg the segformer decoder head (MODEL.DECODER_HEAD), but the state_dict holds the hrnet head",
                      str(raised.exception))


# MTLoRA decoder heads: each kind converts, and the weight file's tensors, run as weights/FORMAT.md says,
# give what the reference head gives.
HEAD_TASKS = [TaskSpec("semseg", 21), TaskSpec("sal", 1)]
HEAD_SMALL = dict(SMALL, tasks=HEAD_TASKS, family="mtlora", lora_ranks=[4] * 4,
                  lora_task_ranks={t.name: [2] * 4 for t in HEAD_TASKS},
                  lora_shared_scale=[4.0] * 4, lora_task_scale={t.name: [4.0] * 4 for t in HEAD_TASKS},
                  decoder_channels=[4, 8, 12, 16], aspp_channels=16, segformer_channels=8)


def _bilinear(x, size):
    return F.interpolate(x, size, mode="bilinear", align_corners=False)


def _tensor(tensors, name):
    return torch.from_numpy(np.array(tensors[name]))


def _conv(x, tensors, name, relu=True, **kwargs):
    y = F.conv2d(x, _tensor(tensors, name + ".weight"), _tensor(tensors, name + ".bias"), **kwargs)
    return F.relu(y) if relu else y


def run_head_from_file(tensors, head, task, maps):
    """A task's head from the weight file alone, as weights/FORMAT.md specifies it (stage maps already downsampled)."""
    p = f"decoders.{task}.head"
    size = maps[0].shape[2:]
    concat = torch.cat([maps[0]] + [_bilinear(m, size) for m in maps[1:]], 1)
    if head["kind"] == "hrnet":
        return _conv(_conv(concat, tensors, p + ".conv1"), tensors, p + ".conv2", relu=False)
    if head["kind"] == "aspp":
        branches = [_conv(concat, tensors, p + ".branch.0")]
        branches += [_conv(concat, tensors, f"{p}.branch.{i + 1}", padding=r, dilation=r) for i, r in enumerate(head["rates"])]
        branches.append(_conv(concat.mean((2, 3), keepdim=True), tensors, p + ".pool").expand_as(branches[0]))
        x = _conv(_conv(torch.cat(branches, 1), tensors, p + ".project"), tensors, p + ".conv1", padding=1)
        return _conv(x, tensors, p + ".conv2", relu=False)
    if head["kind"] == "segformer":
        embedded = [_conv(m, tensors, f"{p}.linear.{i}", relu=False) for i, m in enumerate(maps)]
        x = torch.cat([embedded[0]] + [_bilinear(e, size) for e in embedded[1:]], 1)
        return _conv(_conv(x, tensors, p + ".conv1"), tensors, p + ".conv2", relu=False)
    if head["kind"] == "updecoder":
        x = concat
        for i, layer in enumerate(head["deconv"]):
            x = F.relu(F.conv_transpose2d(x, _tensor(tensors, f"{p}.deconv.{i}.weight"),
                                          _tensor(tensors, f"{p}.deconv.{i}.bias"), stride=layer["stride"],
                                          padding=layer["padding"], output_padding=layer["output_padding"]))
        x = _conv(x, tensors, p + ".conv", padding=head["conv_padding"])
        for factor in head["upsample"]:
            x = F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)
        return x
    raise AssertionError(head["kind"])


def counted_macs(module, maps):
    """MACs of every convolution and linear layer that runs, counted by hooks as weights/FORMAT.md defines them."""
    total = [0]

    def hook(layer, inputs, output):
        if isinstance(layer, torch.nn.ConvTranspose2d):
            total[0] += inputs[0][0].numel() * layer.out_channels * layer.kernel_size[0] * layer.kernel_size[1]
        elif isinstance(layer, torch.nn.Conv2d):
            total[0] += output[0].numel() * layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1]
        elif isinstance(layer, torch.nn.Linear):
            total[0] += output[0].numel() * layer.in_features
    layers = (torch.nn.Conv2d, torch.nn.ConvTranspose2d, torch.nn.Linear)
    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, layers)]
    with torch.no_grad():
        module(maps)
    for h in handles:
        h.remove()
    return total[0]


class MTLoRAHeadsTest(ScratchFolderTest):
    def convert(self, cfg, seed):
        model = random_model(cfg, seed)
        path = os.path.join(self.dir, "model.pth")
        save_research_checkpoint(model, path)
        converted, tensors, _ = convert_file(path, os.path.join(self.dir, "model.adarun"))
        metadata, written = read_weight_file(os.path.join(self.dir, "model.adarun"))
        return model, converted, written, json.loads(metadata["config"])

    def check_heads(self, cfg, seed):
        model, converted, tensors, config = self.convert(cfg, seed)
        self.assertEqual(converted.decoder_heads, cfg.decoder_heads)
        fields = {"aspp": ("aspp_channels",), "segformer": ("segformer_channels",),
                  "updecoder": ("updecoder_channels", "updecoder_kernels")}
        for kind in set(cfg.decoder_heads.values()):
            for key in fields[kind]:
                self.assertEqual(getattr(converted, key), getattr(cfg, key), key)
        image = torch.randn(1, 3, cfg.img_size, cfg.img_size, generator=torch.Generator().manual_seed(seed))
        names = [t.name for t in cfg.tasks]
        with torch.no_grad():
            stages = model.backbone(image, names)
        for task in config["tasks"]:
            name, head = task["name"], task["head"]
            self.assertEqual(head["kind"], cfg.head(name))
            with torch.no_grad():
                maps = model.downsampler[name]([stage[name] for stage in stages])
                want = model.decoders.decoders[name](maps)
            got = run_head_from_file(tensors, head, name, maps)
            self.assertEqual(got.shape, want.shape, name)
            self.assertLess(float((got - want).abs().max()), 1e-4 * max(1.0, float(want.abs().max())), name)
            channels = [m.shape[1] for m in maps]
            self.assertEqual(macs.mtlora_head(cfg, head["kind"], channels, task["outputs"]),
                             counted_macs(model.decoders.decoders[name], maps), name)
        self.assertIn(f"{names[0]} ({cfg.tasks[0].outputs}, {cfg.head(names[0])} head)", summary(converted, tensors))
        return tensors, config

    def test_aspp_head(self):
        cfg = ModelConfig(**dict(HEAD_SMALL, decoder_heads={"semseg": "aspp", "sal": "aspp"}))
        tensors, config = self.check_heads(cfg, 40)
        self.assertEqual(config["tasks"][0]["head"], {"kind": "aspp", "channels": 16, "rates": [12, 24, 36]})
        self.assertEqual(tensors["decoders.semseg.head.branch.2.weight"].shape, (16, 40, 3, 3))
        self.assertEqual(tensors["decoders.semseg.head.project.weight"].shape, (16, 80, 1, 1))
        self.assertEqual(tensors["decoders.sal.head.conv2.weight"].shape, (1, 16, 1, 1))

    def test_segformer_head_drops_conv_seg(self):
        cfg = ModelConfig(**dict(HEAD_SMALL, decoder_heads={"semseg": "segformer"}))
        self.assertIn("decoders.decoders.semseg.conv_seg.weight", random_model(cfg, 41).state_dict())
        tensors, config = self.check_heads(cfg, 41)
        self.assertEqual([t["head"] for t in config["tasks"]], [{"kind": "segformer", "channels": 8}, {"kind": "hrnet"}])
        self.assertEqual(tensors["decoders.semseg.head.linear.3.weight"].shape, (8, 16, 1, 1))
        self.assertFalse(any("conv_seg" in name for name in tensors))

    def test_updecoder_head(self):
        cfg = ModelConfig(**dict(HEAD_SMALL, decoder_heads={"sal": "updecoder"}, updecoder_kernels=(4, 3, 2),
                                 updecoder_channels=(8, 6, 4)))
        tensors, config = self.check_heads(cfg, 42)
        self.assertEqual(config["tasks"][1]["head"]["deconv"],
                         [{"channels": 8, "kernel": 4, "stride": 2, "padding": 1, "output_padding": 0},
                          {"channels": 6, "kernel": 3, "stride": 2, "padding": 1, "output_padding": 1},
                          {"channels": 4, "kernel": 2, "stride": 2, "padding": 0, "output_padding": 0}])
        self.assertEqual(tensors["decoders.sal.head.deconv.0.weight"].shape, (40, 8, 4, 4))  # [cin, cout, k, k]

    def test_heads_without_decoder_downsampler(self):
        self.check_heads(ModelConfig(**dict(HEAD_SMALL, decoder_downsampler=False,
                                            decoder_heads={"semseg": "segformer", "sal": "updecoder"})), 43)

    def test_research_head_names(self):
        # The research get_head builds ASPP for any name it does not know; a config naming another kind is an error.
        cfg = ModelConfig(**dict(HEAD_SMALL, decoder_heads={"semseg": "aspp"}))
        state = dict(random_model(cfg, 44).state_dict())
        flags = {"mode": "matrix", "shared_scale": [4.0]}
        research = {"MODEL": {"DECODER_HEAD": {"semseg": "deeplab"}}}
        converted, _, _ = convert_state(state, yaml_config=research, lora_flags=flags)
        self.assertEqual(converted.decoder_heads, {"semseg": "aspp"})
        with self.assertRaises(ConversionError) as raised:
            convert_state(state, yaml_config={"MODEL": {"DECODER_HEAD": {"semseg": "updecoder"}}}, lora_flags=flags)
        self.assertIn("task semseg the updecoder decoder head", str(raised.exception))

    def test_segformer_width_is_checked_against_the_config(self):
        cfg = ModelConfig(**dict(HEAD_SMALL, decoder_heads={"sal": "segformer"}))
        state = dict(random_model(cfg, 45).state_dict())
        research = {"MODEL": {"SEGFORMER_CHANNELS": 256, "DECODER_HEAD": {"sal": "segformer"},
                              "MTLORA": {"SHARED_SCALE": [4.0]}}}
        with self.assertRaises(ConversionError) as raised:
            convert_state(state, yaml_config=research)
        self.assertIn("MODEL.SEGFORMER_CHANNELS = 256, but the state_dict shows 8", str(raised.exception))

    def test_missing_head_tensor_is_named(self):
        cfg = ModelConfig(**dict(HEAD_SMALL, decoder_heads={"semseg": "aspp"}))
        state = dict(random_model(cfg, 46).state_dict())
        del state["decoders.decoders.semseg.0.convs.4.2.running_var"]
        with self.assertRaises(ConversionError) as raised:
            convert_state(state, lora_flags={"mode": "matrix", "shared_scale": [4.0]})
        self.assertIn("decoders.decoders.semseg.0.convs.4.2.running_var", str(raised.exception))


def _header(path):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(length)), 8 + length


# What --weights fp16 stores as F16 (weights/FORMAT.md): linear and convolution weights and the LoRA factors; every
# policy tensor, norms, biases, relative position biases and the absolute position embedding stay F32.
def _f16_by_the_format(name):
    if "_policy." in name or name.endswith(".rel_bias") or name == "absolute_pos_embed" or name.endswith(".bias"):
        return False
    if name.endswith((".down", ".up")):
        return True
    return name.endswith(".weight") and not re.search(r"(norm\d?|\.norm)\.weight$", name)


class WeightPrecisionTest(ScratchFolderTest):
    """convert.py --weights fp16: which tensors are F16, their values, the file's size and version."""

    def convert_both(self, cfg, seed):
        save_research_checkpoint(random_model(cfg, seed), self.path("model.pth"))
        for weights in ("fp32", "fp16"):
            convert_file(self.path("model.pth"), self.path(f"{weights}.adarun"), weights=weights)
        return read_weight_file(self.path("fp32.adarun")), read_weight_file(self.path("fp16.adarun"))

    def check_fp16_file(self, cfg, seed, f16_names, f32_names):
        (meta32, fp32), (meta16, fp16) = self.convert_both(cfg, seed)
        self.assertEqual((meta32["format_version"], meta16["format_version"]), ("1", "2"))
        self.assertEqual(meta16["config"], meta32["config"])
        self.assertEqual(list(fp16), list(fp32))
        header16, start16 = _header(self.path("fp16.adarun"))
        header32, start32 = _header(self.path("fp32.adarun"))
        for name in f16_names:
            self.assertEqual(header16[name]["dtype"], "F16", name)
        for name in f32_names:
            self.assertEqual(header16[name]["dtype"], "F32", name)
        saved = 0
        for name, want in fp32.items():
            half = _f16_by_the_format(name)
            self.assertEqual(header16[name]["dtype"], "F16" if half else "F32", name)
            self.assertEqual(header32[name]["dtype"], "F32", name)
            got = fp16[name]
            self.assertEqual(got.shape, want.shape, name)
            if half:
                # torch's .half() of the fp32 file's values (round to nearest even), bit for bit
                self.assertEqual(got.dtype, np.float16, name)
                self.assertTrue(np.array_equal(got.view(np.uint16), torch.from_numpy(want.copy()).half().numpy().view(np.uint16)), name)
                saved += 2 * want.size
            else:
                self.assertTrue(np.array_equal(got.view(np.uint32), want.view(np.uint32)), name)
        # Half the bytes of the F16 tensors, the F32 ones unchanged (up to each tensor's 64-byte padding).
        data16 = os.path.getsize(self.path("fp16.adarun")) - start16
        data32 = os.path.getsize(self.path("fp32.adarun")) - start32
        self.assertLessEqual(abs((data32 - data16) - saved), 64 * len(fp32))
        f32_bytes = sum(4 * a.size for n, a in fp32.items() if not _f16_by_the_format(n))
        self.assertLessEqual(data16, data32 / 2 + f32_bytes / 2 + 64 * len(fp32))
        return fp32, fp16

    def test_adamtl_fp16_weights(self):
        cfg = ModelConfig(**SMALL, ada_blocks=True, ada_tokens=True, policy_mode="per_task", ape=True)
        blocks, conv = "stages.0.blocks.0", "decoders.semseg.fuse.0.block1"
        self.check_fp16_file(cfg, 3, [
            "patch_embed.weight", f"{blocks}.attn.qkv.weight", f"{blocks}.attn.proj.weight", f"{blocks}.mlp.fc1.weight",
            f"{blocks}.mlp.fc2.weight", "stages.2.merge.reduction.weight", f"{conv}.conv1.weight", f"{conv}.shortcut.weight",
            "decoders.normals.head.conv1.weight", "decoders.normals.head.conv2.weight"], [
            "patch_embed.bias", "patch_embed.norm.weight", "absolute_pos_embed", f"{blocks}.norm1.weight",
            f"{blocks}.attn.qkv.bias", f"{blocks}.attn.rel_bias", f"{blocks}.mlp.fc2.bias", "stages.0.merge.norm.weight",
            "stages.0.block_policy.semseg.mlp.weight", "stages.0.block_policy.semseg.fc.weight",
            "stages.3.token_policy.normals.mlp.weight", "stages.3.token_policy.normals.fc.weight", f"{conv}.conv1.bias"])

    def test_mtlora_fp16_weights(self):
        cfg = ModelConfig(**dict(HEAD_SMALL, decoder_heads={"semseg": "aspp", "sal": "updecoder"}, lora_downsampler=True))
        fork = "stages.1.blocks.0.mlp.fc2"
        self.check_fp16_file(cfg, 47, [
            f"{fork}.weight", f"{fork}.shared_lora.down", f"{fork}.shared_lora.up", f"{fork}.task_lora.sal.down",
            f"{fork}.task_lora.semseg.up", "stages.0.merge.reduction.weight", "decoders.sal.downsample.3.weight",
            "decoders.semseg.head.branch.2.weight", "decoders.semseg.head.pool.weight", "decoders.sal.head.deconv.0.weight",
            "decoders.sal.head.conv.weight"], [f"{fork}.bias", "decoders.sal.head.deconv.0.bias", "stages.1.blocks.0.attn.rel_bias"])

    def test_values_beyond_the_half_range_are_refused(self):
        model = random_model(ModelConfig(**SMALL), 4)
        with torch.no_grad():
            model.backbone.layers[1].blocks[0].mlp.fc1.weight[3, 2] = -7e4
        save_research_checkpoint(model, self.path("big.pth"))
        convert_file(self.path("big.pth"), self.path("fp32.adarun"))  # fp32 holds it
        with self.assertRaises(ConversionError) as raised:
            convert_file(self.path("big.pth"), self.path("fp16.adarun"), weights="fp16")
        self.assertIn("tensor stages.1.blocks.0.mlp.fc1.weight holds -70000, beyond the F16 range", str(raised.exception))
        self.assertIn("--weights fp32", str(raised.exception))
        self.assertFalse(os.path.exists(self.path("fp16.adarun")))

    def run_cli(self, *args):
        """converter/convert.py's main() in this process (no second torch import): (exit status, stdout, stderr)."""
        spec = importlib.util.spec_from_file_location("convert_cli", os.path.join(CONVERTER, "convert.py"))
        cli = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(cli)
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), unittest.mock.patch.object(sys, "argv", ["convert.py", *args]):
            try:
                status = cli.main()
            except SystemExit as exit_:
                status = exit_.code
        return status, out.getvalue(), err.getvalue()

    def test_cli_weights_option_and_reencoding(self):
        save_research_checkpoint(random_model(ModelConfig(**SMALL, ada_blocks=True, policy_mode="single"), 6), self.path("m.pth"))
        status, out, err = self.run_cli(self.path("m.pth"), "-o", self.path("fp16.adarun"), "--weights", "fp16")
        self.assertEqual(status, 0, err)
        self.assertRegex(out, r"storage    fp16 weights: F16 \d+ tensors \([\d.]+ M values\), F32 \d+ tensors")
        status, _, err = self.run_cli(self.path("m.pth"), "-o", self.path("x.adarun"), "--weights", "int4")
        self.assertEqual(status, 2)
        self.assertIn("invalid choice: 'int4'", err)
        self.assertFalse(os.path.exists(self.path("x.adarun")))
        # A weight file as the input is written again: fp16 -> fp32 widens exactly (version 1 again), fp32 -> fp16 gives
        # what converting the checkpoint with --weights fp16 gives.
        self.assertEqual(self.run_cli(self.path("m.pth"), "-o", self.path("fp32.adarun"))[0], 0)
        for source, weights, target in (("fp16", "fp32", "widened"), ("fp32", "fp16", "narrowed")):
            status, out, err = self.run_cli(self.path(f"{source}.adarun"), "-o", self.path(f"{target}.adarun"), "--weights", weights)
            self.assertEqual(status, 0, err)
            self.assertIn(f"with {weights} weights", out)
        meta16, fp16 = read_weight_file(self.path("fp16.adarun"))
        meta_w, widened = read_weight_file(self.path("widened.adarun"))
        self.assertEqual((meta_w["format_version"], meta_w["config"], meta_w["source"]), ("1", meta16["config"], meta16["source"]))
        for name, values in fp16.items():
            self.assertEqual(widened[name].dtype, np.float32)
            self.assertTrue(np.array_equal(widened[name], values.astype(np.float32)), name)
        with open(self.path("fp16.adarun"), "rb") as a, open(self.path("narrowed.adarun"), "rb") as b:
            self.assertEqual(a.read(), b.read())  # the same source path, so byte for byte
        self.assertEqual(self.run_cli(self.path("m.pth"), "-o", self.path("again.adarun"))[0], 0)
        with open(self.path("fp32.adarun"), "rb") as a, open(self.path("again.adarun"), "rb") as b:
            self.assertEqual(a.read(), b.read())  # fp32 is the default and deterministic
        with open(self.path("junk.adarun"), "wb") as f:
            header = b'{"__metadata__":{"format":"adarun"},"x":1}    '  # no config, and x is no tensor entry
            f.write(struct.pack("<Q", len(header)) + header)
        status, _, err = self.run_cli(self.path("junk.adarun"), "-o", self.path("y.adarun"), "--weights", "fp16")
        self.assertEqual(status, 1)
        self.assertIn("not a readable adarun weight file", err)
        self.assertFalse(os.path.exists(self.path("y.adarun")))

def _i8_by_the_format(name):
    """What --weights int8 stores as I8: what fp16 makes F16, but the LoRA factors (F16)."""
    return _f16_by_the_format(name) and not name.endswith((".down", ".up"))


def _output_axis(name):
    return 1 if re.search(r"\.head\.deconv\.\d+\.weight$", name) else 0


def _numpy_int8(weight, axis):
    """weights/FORMAT.md's quantization, in numpy float32, apart from the converter's torch code: (q, scale)."""
    moved = np.moveaxis(np.asarray(weight, dtype=np.float32), axis, 0)
    rows = moved.reshape(moved.shape[0], -1)
    scale = (np.abs(rows).max(axis=1, initial=np.float32(0)) / np.float32(127)).astype(np.float32)
    safe = np.where(scale > 0, scale, np.float32(1)).astype(np.float32)
    q = np.clip(np.round(rows / safe[:, None]), -127, 127)  # numpy rounds half to even
    q = np.where(scale[:, None] > 0, q, 0).astype(np.int8)
    return np.moveaxis(q.reshape(moved.shape), 0, axis), scale


def _dequantized(name, q, scale):
    shape = [1] * q.ndim
    shape[_output_axis(name)] = -1
    return q.astype(np.float32) * scale.reshape(shape)


class Int8WeightsTest(ScratchFolderTest):
    """convert.py --weights int8: which tensors are I8 (with their _scale), F16 and F32, the quantization against an
    independent numpy computation, version 3, size, and re-encoding."""

    def convert_all(self, model):
        save_research_checkpoint(model, self.path("model.pth"))
        for weights in ("fp32", "fp16", "int8"):  # every convolution int8 (the default keeps narrow ones F32: below)
            convert_file(self.path("model.pth"), self.path(f"{weights}.adarun"), weights=weights, int8_min_conv_outputs=1)
        return [read_weight_file(self.path(f"{weights}.adarun")) for weights in ("fp32", "fp16", "int8")]

    def check_int8_tensors(self, fp32, int8, header8, source=None):
        """int8's tensors against fp32's (quantized from `source`'s values, fp32's by default): I8 q and scale as
        numpy computes them, F16 as torch's .half(), F32 bit for bit; the names in order, each scale after its tensor."""
        source = fp32 if source is None else source
        want_names = []
        for name in fp32:
            want_names += [name, name + "_scale"] if _i8_by_the_format(name) else [name]
        self.assertEqual(list(int8), want_names)
        self.assertEqual(list(header8)[1:], want_names)  # header order, after __metadata__
        for name, want in fp32.items():
            got = int8[name]
            self.assertEqual(got.shape, want.shape, name)
            if _i8_by_the_format(name):
                self.assertEqual(header8[name]["dtype"], "I8", name)
                self.assertEqual(got.dtype, np.int8, name)
                scale = int8[name + "_scale"]
                self.assertEqual(header8[name + "_scale"]["dtype"], "F32", name)
                axis = _output_axis(name)
                self.assertEqual(scale.shape, (want.shape[axis],), name)
                q_want, scale_want = _numpy_int8(source[name].astype(np.float32), axis)
                self.assertTrue(np.array_equal(got, q_want), name)
                self.assertTrue(np.array_equal(scale.view(np.uint32), scale_want.view(np.uint32)), name)
                self.assertGreaterEqual(got.min(initial=0), -127, name)
                # Symmetric: every channel that is not all zero reaches +-127.
                peaks = np.abs(np.moveaxis(got, axis, 0).reshape(got.shape[axis], -1).astype(np.int32)).max(axis=1, initial=0)
                self.assertTrue(np.array_equal(peaks == 127, scale > 0), name)
                # q * scale within half a step of the weight it was quantized from, up to float32 rounding: W / scale
                # (below 127.5) is rounded by up to 2^-17, so a near-tie can go the far way (2e-6 steps seen); q * scale
                # by half an ulp.
                shape = [1] * want.ndim
                shape[axis] = -1
                step = scale.astype(np.float64).reshape(shape)
                error = np.abs(_dequantized(name, got, scale).astype(np.float64) - source[name].astype(np.float64))
                self.assertTrue(np.all(error <= step * (0.5 + 2.0 ** -16)), name)
            elif name.endswith((".down", ".up")):
                self.assertEqual(header8[name]["dtype"], "F16", name)
                self.assertTrue(np.array_equal(got.view(np.uint16), torch.from_numpy(want.copy()).half().numpy().view(np.uint16)), name)
            else:
                self.assertEqual(header8[name]["dtype"], "F32", name)
                self.assertTrue(np.array_equal(got.view(np.uint32), want.view(np.uint32)), name)

    def check_int8_file(self, model, i8_names, f16_names, f32_names):
        (meta32, fp32), (meta16, _), (meta8, int8) = self.convert_all(model)
        self.assertEqual((meta32["format_version"], meta16["format_version"], meta8["format_version"]), ("1", "2", "3"))
        self.assertEqual(meta8["config"], meta32["config"])
        header8, start8 = _header(self.path("int8.adarun"))
        for name in i8_names:
            self.assertEqual(header8[name]["dtype"], "I8", name)
        for name in f16_names:
            self.assertEqual(header8[name]["dtype"], "F16", name)
        for name in f32_names:
            self.assertEqual(header8[name]["dtype"], "F32", name)
        self.check_int8_tensors(fp32, int8, header8)
        # A byte a value for I8, two for F16, plus the scales: the rest unchanged (up to each tensor's 64-byte padding).
        data8 = os.path.getsize(self.path("int8.adarun")) - start8
        want8 = sum((1 if _i8_by_the_format(n) else 2 if n.endswith((".down", ".up")) else 4) * a.size for n, a in fp32.items())
        want8 += sum(4 * a.size for n, a in int8.items() if n.endswith("_scale"))
        self.assertLessEqual(abs(data8 - want8), 64 * len(int8))
        return fp32, int8

    def test_adamtl_int8_weights(self):
        cfg = ModelConfig(**SMALL, ada_blocks=True, ada_tokens=True, policy_mode="per_task", ape=True)
        model = random_model(cfg, 3)
        with torch.no_grad():
            model.backbone.layers[1].blocks[0].mlp.fc1.weight[5] = 0  # an all-zero output channel: scale 0, q 0
            model.backbone.layers[1].blocks[0].mlp.fc2.weight[2, :4] = torch.tensor([1.0, -0.5, 0.25, 0.0])  # a peak of 1
        blocks, conv = "stages.0.blocks.0", "decoders.semseg.fuse.0.block1"
        fp32, int8 = self.check_int8_file(model, [
            "patch_embed.weight", f"{blocks}.attn.qkv.weight", f"{blocks}.attn.proj.weight", f"{blocks}.mlp.fc1.weight",
            f"{blocks}.mlp.fc2.weight", "stages.2.merge.reduction.weight", f"{conv}.conv1.weight", f"{conv}.shortcut.weight",
            "decoders.normals.head.conv1.weight", "decoders.normals.head.conv2.weight"], [], [
            "patch_embed.bias", "patch_embed.norm.weight", "absolute_pos_embed", f"{blocks}.norm1.weight",
            f"{blocks}.attn.qkv.bias", f"{blocks}.attn.rel_bias", f"{blocks}.mlp.fc2.bias", "stages.0.merge.norm.weight",
            "stages.0.block_policy.semseg.mlp.weight", "stages.0.block_policy.semseg.fc.weight",
            "stages.3.token_policy.normals.mlp.weight", "stages.3.token_policy.normals.fc.weight", f"{conv}.conv1.bias",
            f"{blocks}.attn.qkv.weight_scale", "patch_embed.weight_scale"])
        fc1 = "stages.1.blocks.0.mlp.fc1.weight"
        self.assertEqual(int8[fc1 + "_scale"][5], 0.0)
        self.assertFalse(int8[fc1][5].any())
        self.assertEqual(int(np.count_nonzero(int8[fc1 + "_scale"] == 0)), 1)

    def test_mtlora_int8_weights_with_a_transposed_convolution(self):
        cfg = ModelConfig(**dict(HEAD_SMALL, decoder_heads={"semseg": "aspp", "sal": "updecoder"}, lora_downsampler=True,
                                 updecoder_kernels=(4, 3, 2), updecoder_channels=(8, 6, 4)))
        fork = "stages.1.blocks.0.mlp.fc2"
        fp32, int8 = self.check_int8_file(random_model(cfg, 47), [
            f"{fork}.weight", "stages.0.merge.reduction.weight", "decoders.sal.downsample.3.weight",
            "decoders.semseg.head.branch.2.weight", "decoders.semseg.head.pool.weight", "decoders.sal.head.deconv.0.weight",
            "decoders.sal.head.deconv.2.weight", "decoders.sal.head.conv.weight"], [
            f"{fork}.shared_lora.down", f"{fork}.shared_lora.up", f"{fork}.task_lora.sal.down", f"{fork}.task_lora.semseg.up"], [
            f"{fork}.bias", "decoders.sal.head.deconv.0.bias", "stages.1.blocks.0.attn.rel_bias",
            "decoders.sal.head.deconv.0.weight_scale"])
        # The transposed convolutions' scales run along dimension 1, their output channels ([in, out, k, k]).
        for j, out in enumerate((8, 6, 4)):
            name = f"decoders.sal.head.deconv.{j}.weight"
            self.assertEqual(fp32[name].shape[1], out)
            self.assertNotEqual(fp32[name].shape[0], out)
            self.assertEqual(int8[name + "_scale"].shape, (out,), name)
            peak = np.abs(fp32[name]).max(axis=(0, 2, 3)) / np.float32(127)
            self.assertTrue(np.array_equal(int8[name + "_scale"], peak.astype(np.float32)), name)

    def test_narrow_convolutions_stay_f32_by_default(self):
        """The default int8 conversion keeps convolutions (transposed ones too) with fewer than 32 output channels F32,
        bit for bit, without scales: the int8 convolution is slower there. Wider ones and every linear are I8."""
        cfg = ModelConfig(**dict(HEAD_SMALL, decoder_heads={"semseg": "hrnet", "sal": "updecoder"}, updecoder_kernels=(2, 2, 2),
                                 updecoder_channels=(4, 4, 4)))
        save_research_checkpoint(random_model(cfg, 11), self.path("m.pth"))
        convert_file(self.path("m.pth"), self.path("fp32.adarun"))
        convert_file(self.path("m.pth"), self.path("int8.adarun"), weights="int8")
        _, fp32 = read_weight_file(self.path("fp32.adarun"))
        _, int8 = read_weight_file(self.path("int8.adarun"))
        header, _ = _header(self.path("int8.adarun"))
        kinds = {"narrow": 0, "wide": 0, "linear": 0}
        for name, values in fp32.items():
            if not _i8_by_the_format(name):
                continue
            if values.ndim == 4 and values.shape[_output_axis(name)] < 32:
                kinds["narrow"] += 1
                self.assertEqual(header[name]["dtype"], "F32", name)
                self.assertNotIn(name + "_scale", int8)
                self.assertTrue(np.array_equal(int8[name].view(np.uint32), values.view(np.uint32)), name)
            else:
                kinds["wide" if values.ndim == 4 else "linear"] += 1
                self.assertEqual(header[name]["dtype"], "I8", name)
        self.assertTrue(all(kinds.values()), kinds)  # the model has each kind
        status, _, err = WeightPrecisionTest.run_cli(self, self.path("m.pth"), "-o", self.path("x.adarun"), "--weights", "int8",
                                                     "--int8-min-conv-outputs", "0")
        self.assertEqual(status, 2)
        self.assertIn("--int8-min-conv-outputs must be at least 1, got 0", err)
        self.assertFalse(os.path.exists(self.path("x.adarun")))

    def test_non_finite_weights_are_refused(self):
        model = random_model(ModelConfig(**SMALL), 4)
        with torch.no_grad():
            model.backbone.layers[1].blocks[0].mlp.fc1.weight[3, 2] = float("inf")
        save_research_checkpoint(model, self.path("inf.pth"))
        with self.assertRaises(ConversionError) as raised:
            convert_file(self.path("inf.pth"), self.path("int8.adarun"), weights="int8")
        self.assertIn("tensor stages.1.blocks.0.mlp.fc1.weight holds inf, which int8 cannot scale", str(raised.exception))
        self.assertFalse(os.path.exists(self.path("int8.adarun")))

    def test_cli_int8_and_reencoding(self):
        cfg = ModelConfig(**dict(HEAD_SMALL, decoder_heads={"semseg": "hrnet", "sal": "updecoder"}, updecoder_kernels=(2, 2, 2),
                                 updecoder_channels=(4, 4, 4)))
        save_research_checkpoint(random_model(cfg, 9), self.path("m.pth"))
        run_cli = WeightPrecisionTest.run_cli
        every_conv = ("--int8-min-conv-outputs", "1")
        status, out, err = run_cli(self, self.path("m.pth"), "-o", self.path("int8.adarun"), "--weights", "int8", *every_conv)
        self.assertEqual(status, 0, err)
        self.assertRegex(out, r"storage    int8 weights: F16 \d+ tensors \([\d.]+ M values\), F32 \d+ tensors \([\d.]+ M values\), "
                              r"I8 \d+ tensors \([\d.]+ M values\)")
        for weights in ("fp32", "fp16"):
            self.assertEqual(run_cli(self, self.path("m.pth"), "-o", self.path(f"{weights}.adarun"), "--weights", weights)[0], 0)
        # fp32 -> int8 re-encoded: the bytes converting the checkpoint with --weights int8 gives (same source).
        self.assertEqual(run_cli(self, self.path("fp32.adarun"), "-o", self.path("from32.adarun"), "--weights", "int8", *every_conv)[0], 0)
        with open(self.path("int8.adarun"), "rb") as a, open(self.path("from32.adarun"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        # fp16 -> int8: the widened half values quantized.
        status, out, err = run_cli(self, self.path("fp16.adarun"), "-o", self.path("from16.adarun"), "--weights", "int8", *every_conv)
        self.assertEqual(status, 0, err)
        self.assertIn("with int8 weights", out)
        _, fp32 = read_weight_file(self.path("fp32.adarun"))
        _, fp16 = read_weight_file(self.path("fp16.adarun"))
        meta, from16 = read_weight_file(self.path("from16.adarun"))
        self.assertEqual(meta["format_version"], "3")
        widened = {n: a.astype(np.float32) for n, a in fp16.items()}
        self.check_int8_tensors(widened, from16, _header(self.path("from16.adarun"))[0])
        # int8 -> fp32 and -> fp16: q * scale (float32), the _scale tensors gone; not the fp32 file's values.
        meta8, int8 = read_weight_file(self.path("int8.adarun"))
        for weights, version in (("fp32", "1"), ("fp16", "2")):
            status, out, err = run_cli(self, self.path("int8.adarun"), "-o", self.path(f"back_{weights}.adarun"), "--weights", weights)
            self.assertEqual(status, 0, err)
            meta, back = read_weight_file(self.path(f"back_{weights}.adarun"))
            self.assertEqual((meta["format_version"], meta["config"], meta["source"]), (version, meta8["config"], meta8["source"]))
            self.assertEqual(list(back), list(fp32))
            for name, values in back.items():
                if _i8_by_the_format(name):
                    want = _dequantized(name, int8[name], int8[name + "_scale"])
                    if weights == "fp16":
                        want = torch.from_numpy(want).half().numpy()
                    self.assertTrue(np.array_equal(values.view(np.uint8), want.view(np.uint8)), name)
                    if weights == "fp32":
                        self.assertFalse(np.array_equal(values, fp32[name]), name)
                else:
                    self.assertTrue(np.array_equal(values.astype(np.float32), int8[name].astype(np.float32)), name)
        # A damaged int8 file (a scale missing) is refused, naming the tensor.
        header, start = _header(self.path("int8.adarun"))
        victim = next(n for n in header if n.endswith("_scale"))
        del header[victim]
        text = json.dumps(header).encode()
        text += b" " * (-len(text) % 8)
        with open(self.path("int8.adarun"), "rb") as f:
            data = f.read()[start:]
        with open(self.path("broken.adarun"), "wb") as f:
            f.write(struct.pack("<Q", len(text)) + text + data)
        status, _, err = run_cli(self, self.path("broken.adarun"), "-o", self.path("z.adarun"), "--weights", "fp32")
        self.assertEqual(status, 1)
        self.assertIn("not a readable adarun weight file", err)
        self.assertIn(victim[:-len("_scale")], err)
        self.assertFalse(os.path.exists(self.path("z.adarun")))


if __name__ == "__main__":
    unittest.main()
