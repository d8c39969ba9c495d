#!/usr/bin/python3
"""End-to-end tests of the `adarun` CLI: parity of `adarun infer` with the PyTorch reference on a
golden case (and the sizes of its summary and compute pictures), bad inputs
(each must exit 1 with one line on stderr and write nothing), and the parser itself: --help of the
program and of each command, --version, flags without values, --name=value.

usage: cli_test.py ADARUN_BINARY GOLDEN_DIR CASE [TEST ...]
TEST: unittest's names (a class, or class.method) to run only those; default all. The case's model is
behind InferParity and BenchInput only: the rest tests the CLI itself, the same for every model.
ADARUN_EMULATOR, when set, is a command line put before the binary (qemu-aarch64 for a cross build).
"""
import json
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

import numpy as np

ADARUN, GOLDEN, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
CASE_DIR = os.path.join(GOLDEN, CASE)


# A cross-built adarun runs under the emulator the build names (e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu").
EMULATOR = shlex.split(os.environ.get("ADARUN_EMULATOR", ""))


def run_adarun(*args):
    return subprocess.run([*EMULATOR, ADARUN, *args], capture_output=True, text=True, timeout=1800)


def read_case():
    with open(os.path.join(CASE_DIR, "case.json")) as f:
        return json.load(f)


class InferParity(unittest.TestCase):
    def test_outputs_and_gates_match_reference(self):
        case = read_case()
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out")
            result = run_adarun("infer", "--model", os.path.join(CASE_DIR, "model.adarun"),
                                "--input", os.path.join(CASE_DIR, "input.npy"), "--out", out,
                                "--tasks", ",".join(case["tasks"]), "--gate-threshold", repr(case["threshold"]))
            self.assertEqual(result.returncode, 0, result.stderr)
            print(result.stdout.strip())
            tolerance = 1e-4 * max(1.0, case["max_abs_ref"])
            for task in case["tasks"]:
                got = np.load(os.path.join(out, task + ".npy"))
                want = np.load(os.path.join(CASE_DIR, "expected", task + ".npy"))
                self.assertEqual(got.shape, want.shape)
                error = float(np.abs(got - want).max())
                print(f"{task}: max|diff| {error:.3g} (tolerance {tolerance:.3g})")
                self.assertLessEqual(error, tolerance, task)
                with open(os.path.join(out, task + ".png"), "rb") as f:
                    self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
            check_pictures(self, out, read_case_size(), case["tasks"], read_case_outputs(case["tasks"]))
            with open(os.path.join(out, "stats.json")) as f:
                stats = json.load(f)
            self.assertEqual(stats["tasks"], case["tasks"])
            self.assertEqual(stats["blocks"], case["blocks"])
            self.assertEqual(stats["tokens_kept"], case["tokens_kept"])
            self.assertEqual(stats["macs_executed"], case["macs_executed"])
            self.assertEqual(stats["macs_static"], case["macs_static"])


class DefaultModel(unittest.TestCase):
    def test_infer_without_model_runs_the_bundled_one(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out")
            result = run_adarun("infer", "--input", os.path.join(root, "tests", "data", "scene.png"), "--out", out)
            self.assertEqual(result.returncode, 0, result.stderr)
            with open(os.path.join(out, "stats.json")) as f:
                tasks = json.load(f)["tasks"]
            self.assertEqual(tasks, ["semseg", "sal", "normals", "edge"])
            check_pictures(self, out, 224, tasks, {"semseg": 5, "sal": 1, "normals": 3, "edge": 1})


class BenchInput(unittest.TestCase):
    def test_bench_on_a_frame_does_the_work_infer_does_on_it(self):
        """The golden case's frame: bench --input must run exactly the gates infer runs (its MACs)."""
        case = read_case()
        model, frame = os.path.join(CASE_DIR, "model.adarun"), os.path.join(CASE_DIR, "input.npy")
        options = ["--tasks", ",".join(case["tasks"]), "--gate-threshold", repr(case["threshold"])]
        result = run_adarun("bench", "--model", model, "--input", frame, "--iters", "1", "--warmup", "0",
                            "--json", *options)
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertEqual(report["input"], frame)
        self.assertEqual(report["frames"], 1)
        self.assertEqual(report["per_frame"][0]["file"], frame)
        self.assertEqual(report["per_frame"][0]["macs_executed"], case["macs_executed"])
        self.assertEqual(report["per_frame"][0]["blocks"], case["blocks"])
        self.assertEqual(report["per_frame"][0]["tokens_kept"], case["tokens_kept"])
        self.assertAlmostEqual(report["gmacs"], case["macs_executed"] * 1e-9, delta=1e-4)
        self.assertAlmostEqual(report["macs_static_g"], case["macs_static"] * 1e-9, delta=1e-4)

    def test_bench_profile_accounts_for_the_frame(self):
        """--profile: the MACs of the ops it timed add up to the oracle's MACs for the frame (macs.py), and the
        op kinds plus the unattributed rest make up the frame's time."""
        case = read_case()
        result = run_adarun("bench", "--model", os.path.join(CASE_DIR, "model.adarun"),
                            "--input", os.path.join(CASE_DIR, "input.npy"), "--iters", "2", "--warmup", "1",
                            "--tasks", ",".join(case["tasks"]), "--gate-threshold", repr(case["threshold"]),
                            "--json", "--profile")
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = {row["op"]: row for row in json.loads(result.stdout)["profile"]}
        frame = rows.pop("frame")
        self.assertAlmostEqual(sum(row["gmacs"] for row in rows.values()), case["macs_executed"] * 1e-9, delta=1e-4)
        self.assertAlmostEqual(sum(row["ms"] for row in rows.values()), frame["ms"], delta=1e-3)
        self.assertGreater(rows["linear"]["calls"], 0)
        per_op = json.loads(result.stdout)["profile_ops"]
        self.assertEqual(sum(op["macs"] for op in per_op), case["macs_executed"])  # every frame runs the same ops
        memory = json.loads(result.stdout)["memory"]
        self.assertEqual(memory["file_bytes"], os.path.getsize(os.path.join(CASE_DIR, "model.adarun")))
        self.assertGreater(memory["arena_bytes"], 0)
        self.assertGreaterEqual(memory["peak_resident_bytes"], memory["arena_bytes"])
        table = run_adarun("bench", "--model", os.path.join(CASE_DIR, "model.adarun"), "--iters", "1", "--profile")
        self.assertEqual(table.returncode, 0, table.stderr)
        header = [line for line in table.stdout.splitlines() if line.startswith("op ")]
        self.assertEqual(len(header), 1, table.stdout)
        self.assertIn("GFLOP/s", header[0])
        for value in (["maybe"], ["yes"]):  # a flag takes no value: the old `--profile yes` is refused
            refused = run_adarun("bench", "--model", os.path.join(CASE_DIR, "model.adarun"), "--profile", *value)
            self.assertEqual(refused.returncode, 1)
            self.assertEqual(refused.stderr.strip(),
                             f"adarun: bench: unexpected argument '{value[0]}': --profile takes no value (see adarun bench --help)")
        refused = run_adarun("bench", "--model", os.path.join(CASE_DIR, "model.adarun"), "--profile=maybe")
        self.assertEqual(refused.returncode, 1)
        self.assertIn("--profile takes no value, got 'maybe'", refused.stderr)

    def test_info_plan_lists_the_static_models_ops(self):
        """info --plan: one line per op; the MACs of every op but the policies add up to the oracle's static
        model (macs.py) for all tasks."""
        case = read_case()
        result = run_adarun("info", "--model", os.path.join(CASE_DIR, "model.adarun"), "--plan")
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = result.stdout.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("plan: ")) + 2
        end = lines.index("", start)  # the buffers follow the ops after a blank line
        ops = [line.split() for line in lines[start:end]]
        buffers = [line.split() for line in lines[end + 2:]]
        self.assertTrue(buffers)
        for buffer in buffers:  # name, KB, offset KB, first-last op
            first, last = (int(op) for op in buffer[3].split("-"))
            self.assertLessEqual(first, last)
        self.assertEqual([int(op[0]) for op in ops], list(range(len(ops))))
        names = [op[2] for op in ops]
        self.assertEqual(len(set(names)), len(names), "op names are unique")
        static = sum(int(op[-4]) for op in ops if op[1] not in ("block_policy", "token_policy"))
        self.assertEqual(static, case["macs_static"])  # the CLI's cases request every task

    def test_bench_refuses_a_missing_frame(self):
        result = run_adarun("bench", "--model", os.path.join(CASE_DIR, "model.adarun"), "--input", "/nonexistent.png")
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)


class BadInput(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.out = os.path.join(self.tmp, "out")
        self.model = os.path.join(CASE_DIR, "model.adarun")
        self.input = os.path.join(CASE_DIR, "input.npy")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def assert_fails_cleanly(self, *args):
        result = run_adarun(*args)
        self.assertEqual(result.returncode, 1, result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("adarun: "), lines[0])
        self.assertFalse(os.path.exists(self.out) and os.listdir(self.out), "output directory was written")
        return lines[0]

    def infer(self, model=None, input=None, *extra):
        return self.assert_fails_cleanly("infer", "--model", model or self.model, "--input", input or self.input,
                                         "--out", self.out, *extra)

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_missing_model(self):
        self.assertIn("nope.adarun", self.infer(model=os.path.join(self.tmp, "nope.adarun")))

    def test_truncated_model(self):
        with open(self.model, "rb") as f:
            data = f.read()
        self.infer(model=self.write("cut.adarun", data[: len(data) // 2]))

    def test_garbage_model(self):
        self.infer(model=self.write("garbage.adarun", os.urandom(4096)))

    def test_missing_input(self):
        self.infer(None, os.path.join(self.tmp, "none.png"))

    def test_wrong_input_shape(self):
        path = os.path.join(self.tmp, "small.npy")
        np.save(path, np.zeros((3, 8, 8), np.float32))
        self.assertIn("shape", self.infer(None, path))

    def test_wrong_input_dtype(self):
        path = os.path.join(self.tmp, "double.npy")
        size = read_case_size()
        np.save(path, np.zeros((3, size, size), np.float64))
        self.assertIn("float32", self.infer(None, path))

    def test_nan_input(self):
        path = os.path.join(self.tmp, "nan.npy")
        size = read_case_size()
        array = np.zeros((3, size, size), np.float32)
        array[1, 2, 3] = np.nan
        np.save(path, array)
        self.assertIn("NaN", self.infer(None, path))

    def test_corrupt_image(self):
        self.infer(None, self.write("broken.png", b"\x89PNG\r\n\x1a\n" + os.urandom(100)))

    def test_unknown_task(self):
        self.assertIn("unknown task", self.infer(None, None, "--tasks", "semseg,teleportation"))

    def test_bad_threads(self):
        self.assertIn("--threads must be an integer in [1, 256], got '0'", self.infer(None, None, "--threads", "0"))
        self.assertIn("--threads must be an integer in [1, 256], got 'two'", self.infer(None, None, "--threads=two"))
        self.assertIn("--threads must be an integer in [1, 256], got '257'", self.infer(None, None, "--threads", "257"))

    def test_bad_numbers(self):
        self.assertIn("--gate-threshold must be a finite number, got 'nan'", self.infer(None, None, "--gate-threshold", "nan"))
        self.assertIn("--gate-threshold must be a finite number, got '1e99'", self.infer(None, None, "--gate-threshold=1e99"))
        self.assertIn("--budget must be a number in (0, 1], or 0 for none, got '1.5'", self.infer(None, None, "--budget", "1.5"))
        bench = ("bench", "--model", self.model, "--input", self.input)
        self.assertIn("--iters must be an integer in [1, 100000], got '0'", self.assert_fails_cleanly(*bench, "--iters", "0"))
        self.assertIn("--warmup must be an integer in [0, 10000], got '-1'", self.assert_fails_cleanly(*bench, "--warmup=-1"))

    def test_empty_task_list(self):
        self.assertIn("--tasks needs at least one name", self.infer(None, None, "--tasks", ","))

    def test_missing_option(self):
        line = self.assert_fails_cleanly("infer", "--model", self.model, "--out", self.out)
        self.assertEqual(line, "adarun: infer: --input is required (see adarun infer --help)")
        self.assertIn("info: --model is required", self.assert_fails_cleanly("info", "--plan"))

    def test_missing_value(self):
        self.assertIn("--threads needs a value", self.infer(None, None, "--threads"))
        self.assertIn("--input needs a value, got the option --out",
                      self.assert_fails_cleanly("infer", "--model", self.model, "--input", "--out", self.out))

    def test_unknown_option(self):
        self.assertEqual(self.infer(None, None, "--frob", "3"), "adarun: infer: unknown option --frob (see adarun infer --help)")
        self.assertIn("unknown option --frob", self.infer(None, None, "--frob=3"))
        self.assertIn("unknown option --frob", self.assert_fails_cleanly("--frob"))

    def test_flag_given_a_value(self):
        line = self.assert_fails_cleanly("info", "--model", self.model, "--plan", "yes")
        self.assertEqual(line, "adarun: info: unexpected argument 'yes': --plan takes no value (see adarun info --help)")

    def test_unknown_command(self):
        line = self.assert_fails_cleanly("frobnicate")
        self.assertEqual(line, "adarun: unknown command 'frobnicate': the commands are infer, info and bench (see adarun --help)")

    def test_frames_not_found(self):
        """A folder without frames, a missing path, a pattern that matches nothing or is not one integer conversion:
        one line naming it, nothing written (the model is not even loaded)."""
        empty = os.path.join(self.tmp, "empty")
        os.mkdir(empty)
        self.assertIn("empty: no frames in the folder", self.infer(None, empty))
        self.write("empty/notes.txt", b"not a frame")
        self.write("empty/.hidden.png", b"")
        self.assertIn("empty: no frames in the folder", self.infer(None, empty))
        self.assertIn("gone: no such file or folder", self.infer(None, os.path.join(self.tmp, "gone")))
        pattern = os.path.join(self.tmp, "frames_%04d.npy")
        self.assertIn("no frames match the pattern", self.infer(None, pattern))
        self.write("frames_0005.npy", b"")  # numbers start at 0 to 4
        self.assertIn("no frames match the pattern", self.infer(None, pattern))
        for bad in ("frames_%s.npy", "frames_%d_%d.npy", "frames_%.npy", "frames_%x.npy"):
            self.assertIn("a frame pattern takes one integer conversion", self.infer(None, os.path.join(self.tmp, bad)))
        bench = self.assert_fails_cleanly("bench", "--model", self.model, "--input", empty)
        self.assertIn("no frames in the folder", bench)

    def test_failing_frame_stops_the_sequence(self):
        """The frames before a bad one are written whole (with their stats.jsonl lines), the bad one not at all. (On
        the bundled model: a small one.)"""
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        frames = os.path.join(self.tmp, "frames")
        os.mkdir(frames)
        shutil.copy(os.path.join(root, "tests", "data", "scene.png"), os.path.join(frames, "a.png"))
        self.write("frames/b.png", b"\x89PNG\r\n\x1a\n" + os.urandom(100))
        shutil.copy(os.path.join(root, "tests", "data", "scene.png"), os.path.join(frames, "c.png"))
        result = run_adarun("infer", "--input", frames, "--out", self.out, "--tasks", "sal")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, "")
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn("b.png", lines[0])
        self.assertEqual(sorted(os.listdir(self.out)), ["0000", "stats.jsonl"])  # no temporaries either
        self.assertIn("stats.json", os.listdir(os.path.join(self.out, "0000")))
        self.assertFalse([f for f in os.listdir(os.path.join(self.out, "0000")) if f.startswith(".")])
        with open(os.path.join(self.out, "stats.jsonl")) as f:
            self.assertEqual([json.loads(line)["frame"] for line in f], [0])


def is_adaptive(case):
    return any(mask for stage in case["token_masks"] for mask in stage)


@unittest.skipUnless(is_adaptive(read_case()), "frame sequences run on the AdaMTL case, whose work depends on the frame")
class Sequences(unittest.TestCase):
    """infer on a folder and on a numbered pattern: one session, the frames in order, each into its numbered folder,
    a stats.jsonl line per frame."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.case = read_case()
        self.model = os.path.join(CASE_DIR, "model.adarun")
        self.options = ["--tasks", ",".join(self.case["tasks"]), "--gate-threshold", repr(self.case["threshold"])]

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def frames_folder(self):
        """a.npy: the golden frame; b.npy: it mirrored; c.png: a picture; and files that are not frames."""
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        frames = os.path.join(self.tmp, "frames")
        os.mkdir(frames)
        frame = np.load(os.path.join(CASE_DIR, "input.npy"))
        np.save(os.path.join(frames, "b.npy"), np.ascontiguousarray(frame[:, :, ::-1]))
        np.save(os.path.join(frames, "a.npy"), frame)
        shutil.copy(os.path.join(root, "tests", "data", "scene.png"), os.path.join(frames, "c.png"))
        shutil.copy(os.path.join(CASE_DIR, "input.npy"), os.path.join(frames, ".hidden.npy"))
        with open(os.path.join(frames, "notes.txt"), "w") as f:
            f.write("not a frame\n")
        return frames

    def read_lines(self, out):
        with open(os.path.join(out, "stats.jsonl")) as f:
            return [json.loads(line) for line in f]

    def test_folder(self):
        frames = self.frames_folder()
        out = os.path.join(self.tmp, "out")
        result = run_adarun("infer", "--model", self.model, "--input", frames, "--out", out, *self.options)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, "")  # no progress line for a few frames into a pipe
        print(result.stdout.strip())
        self.assertRegex(result.stdout, r"^3 frames, tasks \S+: median [\d.]+ ms, mean [\d.]+% of static MACs "
                                        r"\([\d.]+% to [\d.]+%\), outputs in ")
        self.assertEqual(sorted(os.listdir(out)), ["0000", "0001", "0002", "stats.jsonl"])
        lines = self.read_lines(out)
        self.assertEqual([(l["frame"], os.path.basename(l["file"]), l["outputs"]) for l in lines],
                         [(0, "a.npy", "0000"), (1, "b.npy", "0001"), (2, "c.png", "0002")])
        for line in lines:  # each line as the frame's own stats.json
            with open(os.path.join(out, line["outputs"], "stats.json")) as f:
                stats = json.load(f)
            for key in ("macs_executed", "macs_static", "blocks", "tokens_kept", "milliseconds"):
                self.assertAlmostEqual(line[key], stats[key], places=2) if key == "milliseconds" else \
                    self.assertEqual(line[key], stats[key], key)
            check_pictures(self, os.path.join(out, line["outputs"]), read_case_size(), self.case["tasks"],
                           read_case_outputs(self.case["tasks"]))
        # The first frame is the golden one: the reference's gates and outputs, as infer on the file alone gives.
        self.assertEqual(lines[0]["blocks"], self.case["blocks"])
        self.assertEqual(lines[0]["tokens_kept"], self.case["tokens_kept"])
        self.assertEqual(lines[0]["macs_executed"], self.case["macs_executed"])
        tolerance = 1e-4 * max(1.0, self.case["max_abs_ref"])
        for task in self.case["tasks"]:
            got = np.load(os.path.join(out, "0000", task + ".npy"))
            want = np.load(os.path.join(CASE_DIR, "expected", task + ".npy"))
            self.assertLessEqual(float(np.abs(got - want).max()), tolerance, task)
        self.assertNotEqual(lines[0]["tokens_kept"], lines[1]["tokens_kept"])  # the work depends on the frame

        # bench on the same folder runs each frame in turn: per frame, the work infer's stats.jsonl recorded.
        result = run_adarun("bench", "--model", self.model, "--input", frames, "--iters", "1", "--warmup", "0", "--json",
                            *self.options)
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertEqual((report["frames"], report["iters"]), (3, 1))
        self.assertEqual(len(report["per_frame"]), 3)
        for line, frame in zip(lines, report["per_frame"]):
            for key in ("frame", "file", "macs_executed", "macs_static", "blocks", "tokens_kept"):
                self.assertEqual(frame[key], line[key], key)
        medians = [frame["median_ms"] for frame in report["per_frame"]]
        self.assertLessEqual(report["min_ms"], report["median_ms"])
        self.assertLessEqual(report["median_ms"], report["max_ms"])
        self.assertEqual((report["min_ms"], report["max_ms"]), (min(medians), max(medians)))
        self.assertAlmostEqual(report["gmacs"], sum(l["macs_executed"] for l in lines) / 3 * 1e-9, delta=1e-4)

    def test_stream(self):
        """--stream: the golden frame three times; the first runs whole (the reference's outputs), the repeats reuse
        every window of every block that ran and give the same outputs with fewer MACs; --stream-threshold 0 is the
        per-frame answer on a changed frame."""
        frames = os.path.join(self.tmp, "frames")
        os.mkdir(frames)
        frame = np.load(os.path.join(CASE_DIR, "input.npy"))
        for name in ("a", "b", "c"):
            np.save(os.path.join(frames, name + ".npy"), frame)
        moved = frame.copy()
        moved[:, :16, :16] += 1.0
        np.save(os.path.join(frames, "d.npy"), moved)
        out = os.path.join(self.tmp, "out")
        result = run_adarun("infer", "--model", self.model, "--input", frames, "--out", out, "--stream",
                            "--stream-threshold", "0", *self.options)
        self.assertEqual(result.returncode, 0, result.stderr)
        lines = self.read_lines(out)
        self.assertEqual(lines[0]["tokens_reused"], 0)
        self.assertEqual(lines[0]["macs_executed"], self.case["macs_executed"])
        for line in lines[1:3]:
            self.assertGreater(line["tokens_reused"], 0)
            self.assertLess(line["macs_executed"], lines[0]["macs_executed"])
            for task in self.case["tasks"]:
                same = np.load(os.path.join(out, line["outputs"], task + ".npy"))
                np.testing.assert_array_equal(same, np.load(os.path.join(out, "0000", task + ".npy")))
        per_frame = os.path.join(self.tmp, "per_frame")
        result = run_adarun("infer", "--model", self.model, "--input", os.path.join(frames, "d.npy"), "--out", per_frame,
                            *self.options)
        self.assertEqual(result.returncode, 0, result.stderr)
        for task in self.case["tasks"]:
            streamed = np.load(os.path.join(out, "0003", task + ".npy"))
            want = np.load(os.path.join(per_frame, task + ".npy"))
            self.assertLessEqual(float(np.abs(streamed - want).max()), 1e-5 * max(1.0, float(np.abs(want).max())), task)
        for bad in (["--stream-refresh", "0"], ["--stream-noise", "-1"]):
            refused = run_adarun("infer", "--model", self.model, "--input", frames, "--out", out, "--stream", *bad)
            self.assertEqual(refused.returncode, 1, bad)
            self.assertIn(bad[0], refused.stderr)

    def test_pattern(self):
        """frames_%04d.npy: from the first number of 0 to 4 that exists to the last before a gap."""
        frame = np.load(os.path.join(CASE_DIR, "input.npy"))
        for number, array in ((1, frame), (2, frame[:, ::-1, :]), (4, frame)):
            np.save(os.path.join(self.tmp, f"frames_{number:04d}.npy"), np.ascontiguousarray(array))
        out = os.path.join(self.tmp, "out")
        result = run_adarun("infer", "--model", self.model, "--input", os.path.join(self.tmp, "frames_%04d.npy"),
                            "--out", out, *self.options)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertTrue(result.stdout.startswith("2 frames, "), result.stdout)
        self.assertEqual(sorted(os.listdir(out)), ["0000", "0001", "stats.jsonl"])
        lines = self.read_lines(out)
        self.assertEqual([os.path.basename(l["file"]) for l in lines], ["frames_0001.npy", "frames_0002.npy"])
        self.assertEqual(lines[0]["macs_executed"], self.case["macs_executed"])
        text = run_adarun("bench", "--model", self.model, "--input", os.path.join(self.tmp, "frames_%04d.npy"),
                          "--iters", "1", "--warmup", "0", *self.options)
        self.assertEqual(text.returncode, 0, text.stderr)
        self.assertRegex(text.stdout, r"\(2 frames\): .* 1 passes over the frames after 0 warm-up runs: per-frame median "
                                      r"[\d.]+ ms \(frames [\d.]+ to [\d.]+ ms\), p90 [\d.]+ ms, [\d.]+ GMACs mean \(")


COMMANDS = {
    "infer": ["--model M", "--input IN", "--out DIR", "--tasks a,b", "--threads N", "--gate-threshold T", "--budget f"],
    "info": ["--model M", "--plan"],
    "bench": ["--model M", "--input IN", "--tasks a,b", "--threads N", "--gate-threshold T", "--budget f", "--iters K",
              "--warmup W", "--json", "--profile"],
}


class Parser(unittest.TestCase):
    """The command line itself: help, version, flags, --name=value."""

    def test_program_help(self):
        for flag in ("--help", "-h"):
            result = run_adarun(flag)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stderr, "")
            self.assertTrue(result.stdout.startswith("adarun: "), result.stdout)
            self.assertIn("usage:", result.stdout)
            for command, options in COMMANDS.items():  # each command's usage line, with every option
                line = next((l for l in result.stdout.splitlines() if l.strip().startswith(f"adarun {command} ")), None)
                self.assertIsNotNone(line, f"no usage line for {command}:\n{result.stdout}")
                for option in options:
                    self.assertIn(option, line)
            self.assertIn("--version", result.stdout)

    def test_no_arguments_prints_the_help_and_fails(self):
        result = run_adarun()
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, "")
        self.assertIn("usage:", result.stderr)

    def test_command_help(self):
        for command, options in COMMANDS.items():
            result = run_adarun(command, "--help")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stderr, "")
            self.assertIn(f"usage: adarun {command} ", result.stdout)
            help_lines = [line.strip() for line in result.stdout.splitlines()]
            for option in options:  # listed, and described on its own line
                self.assertTrue(any(line.startswith(option + " ") for line in help_lines), f"{command} --help lacks {option}")
            self.assertNotIn("--version", result.stdout)  # the program's flag, not the command's

    def test_version_is_the_headers(self):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        with open(os.path.join(root, "engine", "include", "adarun", "adarun.h")) as f:
            header = f.read()
        parts = [re.search(rf"#define ADARUN_VERSION_{part} (\d+)", header).group(1) for part in ("MAJOR", "MINOR", "PATCH")]
        result = run_adarun("--version")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"adarun {'.'.join(parts)}\n")

    def test_name_equals_value_and_flags(self):
        """--name=value as --name value, flags without a value, an option given twice counts its last value: bench
        with the golden case's tasks and threshold runs the case's MACs."""
        case = read_case()
        result = run_adarun("bench", f"--model={os.path.join(CASE_DIR, 'model.adarun')}",
                            f"--input={os.path.join(CASE_DIR, 'input.npy')}", f"--tasks={','.join(case['tasks'])}",
                            f"--gate-threshold={case['threshold']!r}", "--threads=1", "--iters", "5", "--iters=1",
                            "--warmup=0", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        report = json.loads(result.stdout)
        self.assertEqual(report["iters"], 1)
        self.assertAlmostEqual(report["gmacs"], case["macs_executed"] * 1e-9, delta=1e-4)

    def test_info_counts_outputs(self):
        """info: "1 output", "3 outputs"."""
        result = run_adarun("info", "--model", os.path.join(CASE_DIR, "model.adarun"))
        self.assertEqual(result.returncode, 0, result.stderr)
        tasks = dict(re.findall(r"^task +(\S+) \((\d+ outputs?)\b", result.stdout, re.M))
        self.assertEqual(list(tasks), read_case()["tasks"])
        for task, outputs in tasks.items():
            count = np.load(os.path.join(CASE_DIR, "expected", task + ".npy"), mmap_mode="r").shape[0]
            self.assertEqual(outputs, f"{count} output" if count == 1 else f"{count} outputs")


def png_size(path):
    """(width, height) from a PNG's IHDR chunk."""
    with open(path, "rb") as f:
        header = f.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR", path
    return struct.unpack(">II", header[16:24])


def check_pictures(test, out, size, tasks, outputs):
    """summary.png: the input and each task's picture side by side under a caption strip, legends below when a task
    is a class map; compute.png: a panel per stage (4), a title, caption and gate strip beside the picture."""
    strip = 14 * max(1, size // 224)
    width, height = png_size(os.path.join(out, "summary.png"))
    test.assertEqual(width, (1 + len(tasks)) * size)
    class_maps = [t for t in tasks if outputs[t] > 1 and not (t == "normals" and outputs[t] == 3)]
    if class_maps:
        test.assertGreater(height, strip + size)
    else:
        test.assertEqual(height, strip + size)
    test.assertEqual(png_size(os.path.join(out, "compute.png")), (4 * size, size + 3 * strip))


def read_case_outputs(tasks):
    return {t: np.load(os.path.join(CASE_DIR, "expected", t + ".npy"), mmap_mode="r").shape[0] for t in tasks}


def read_case_size():
    return int(np.load(os.path.join(CASE_DIR, "input.npy"), mmap_mode="r").shape[-1])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v", *sys.argv[4:]])
