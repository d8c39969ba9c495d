"""Loads research checkpoints without executing pickled code.

A torch.save file is a zip of `data.pkl` plus one raw record per storage. We unpickle data.pkl
with an Unpickler that resolves only tensor rebuilding, plain containers, numpy scalars and arrays
(yacs' CfgNode becomes a plain dict), and read the storages from the zip ourselves.
Anything else (os.system, builtins.eval, arbitrary classes) is refused before it can run.

torch.save writes pickle protocol 2, which names builtins by their Python 2 modules
(`__builtin__.set` for the set inside every yacs CfgNode, `_codecs.encode` for the bytes of a
numpy scalar). Names are translated to Python 3 exactly as pickle's own find_class does
(its _compat_pickle tables, for protocols below 3) and only then checked against the allow-list.

torch.load is deliberately not used: Debian's torch 1.13 ignores its pickle_module argument,
so a restricted unpickler handed to it would never be consulted.
"""
import _compat_pickle
import collections
import io
import pickle
import zipfile

import numpy as np
import torch

from . import ConversionError

_STORAGE_DTYPES = {
    "FloatStorage": torch.float32, "DoubleStorage": torch.float64, "HalfStorage": torch.float16,
    "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
    "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8, "BoolStorage": torch.bool,
}


class ConfigNode(dict):
    """Stands in for yacs.config.CfgNode: the research config as nested dicts."""


class _StorageType:
    def __init__(self, dtype):
        self.dtype = dtype


def _rebuild_tensor(storage, offset, size, stride, *unused):
    return storage.as_strided(size, stride, offset).clone()


def _rebuild_parameter(data, *unused):
    return data


def _latin1_bytes(text, encoding):
    """What protocol 2 pickles a bytes object as: _codecs.encode(text, 'latin1'). Only that
    encoding is accepted, so no codec module is ever looked up by name."""
    if encoding not in ("latin1", "latin-1"):
        raise ConversionError(f"checkpoint refused: its pickle asks for _codecs.encode with encoding {encoding!r:.40}")
    return text.encode("latin1")


def _numpy_array(cls, shape, dtype):
    """How an ndarray pickles (metrics in a checkpoint are often numpy): an empty array of exactly
    numpy.ndarray, which BUILD then fills; object arrays' items go through find_class like the rest."""
    if cls is not np.ndarray:
        raise ConversionError(f"checkpoint refused: its pickle rebuilds a numpy array as {cls!r:.60}")
    return np.ndarray.__new__(np.ndarray, shape, dtype)


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch", "Size"): torch.Size,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("numpy", "dtype"): np.dtype,
    ("numpy", "ndarray"): np.ndarray,
    ("_codecs", "encode"): _latin1_bytes,
}
for _numpy_core in ("numpy.core.multiarray", "numpy._core.multiarray"):  # numpy 1 and numpy 2 name them apart
    _ALLOWED[(_numpy_core, "scalar")] = np.core.multiarray.scalar
    _ALLOWED[(_numpy_core, "_reconstruct")] = _numpy_array


def python3_name(module, name):
    """pickle.Unpickler.find_class's translation of Python 2 names (fix_imports, protocol < 3)."""
    if (module, name) in _compat_pickle.NAME_MAPPING:
        return _compat_pickle.NAME_MAPPING[(module, name)]
    return _compat_pickle.IMPORT_MAPPING.get(module, module), name


class RestrictedUnpickler(pickle._Unpickler):
    """The pure-Python unpickler: unlike the C one it exposes the stream's protocol (self.proto),
    which decides whether Python 2 names are translated. data.pkl holds no tensor data, so its
    speed does not matter."""

    def __init__(self, file, read_record):
        super().__init__(file, encoding="utf-8")
        self.read_record = read_record

    def find_class(self, module, name):
        if self.proto < 3 and self.fix_imports:
            module, name = python3_name(module, name)
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        if name == "CfgNode":
            return ConfigNode
        raise ConversionError(f"checkpoint refused: its pickle asks for {module}.{name}, which a checkpoint never needs "
                              "(adarun reads tensors, containers and configs, and never runs pickled code; "
                              "a whole pickled model object must be re-saved as its state_dict)")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and isinstance(pid[1], _StorageType)):
            raise ConversionError(f"checkpoint refused: unexpected persistent id {pid!r:.80}")
        dtype, key, count = pid[1].dtype, str(pid[2]), int(pid[4])
        data = self.read_record(key)
        element = torch.tensor([], dtype=dtype).element_size()
        if len(data) < count * element:
            raise ConversionError(f"checkpoint storage {key} is truncated")
        return torch.frombuffer(bytearray(data[:count * element]), dtype=dtype) if count else torch.empty(0, dtype=dtype)


# torch.save before torch 1.6 (or with _use_new_zipfile_serialization=False) starts with this pickled number.
_LEGACY_MAGIC = pickle.dumps(0x1950a86a20f9469cfc6c, protocol=2)


def _refuse_legacy_format(path):
    try:
        with open(path, "rb") as f:
            head = f.read(len(_LEGACY_MAGIC))
    except OSError:
        return
    if head == _LEGACY_MAGIC:
        raise ConversionError(
            f"{path}: a checkpoint in torch's legacy (pre-1.6, non-zip) format, which adarun does not read; "
            "re-save it in the zip format, on a machine where you trust the file: "
            "python3 -c 'import sys, torch; torch.save(torch.load(sys.argv[1], map_location=\"cpu\"), sys.argv[2])' "
            "OLD.pth NEW.pth")


def _unpickle_zip(path):
    try:
        archive = zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ConversionError(f"{path}: no such file")
    except (zipfile.BadZipFile, OSError) as error:
        _refuse_legacy_format(path)
        raise ConversionError(f"{path}: not a PyTorch checkpoint in the zip format of torch.save ({error})")
    with archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise ConversionError(f"{path}: no data.pkl in the archive (not a torch.save file)")
        prefix = pickles[0][: -len("data.pkl")]

        def read_record(key):
            try:
                return archive.read(prefix + "data/" + key)
            except KeyError:
                raise ConversionError(f"{path}: storage record {key} is missing")

        try:
            return RestrictedUnpickler(io.BytesIO(archive.read(pickles[0])), read_record).load()
        except ConversionError:
            raise
        except Exception as error:  # a damaged pickle raises many kinds
            raise ConversionError(f"{path}: damaged checkpoint ({type(error).__name__}: {error})")


def load_checkpoint(path):
    """Returns (state_dict, embedded config dict or None)."""
    return split_checkpoint(_unpickle_zip(path))


def split_checkpoint(checkpoint):
    if not isinstance(checkpoint, dict):
        raise ConversionError("checkpoint is not a dict")
    config = checkpoint.get("config") if isinstance(checkpoint.get("config"), dict) else None
    for key in ("model", "state_dict"):
        if isinstance(checkpoint.get(key), dict):
            return strip_module_prefix(checkpoint[key]), config
    if checkpoint and all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        return strip_module_prefix(checkpoint), None
    raise ConversionError("checkpoint holds no state_dict (looked for 'model', 'state_dict', or a bare one)")


def strip_module_prefix(state_dict):
    """DataParallel / DDP checkpoints prefix every key with 'module.'."""
    if state_dict and all(k.startswith("module.") for k in state_dict):
        return collections.OrderedDict((k[len("module."):], v) for k, v in state_dict.items())
    return state_dict
