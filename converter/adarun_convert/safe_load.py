"""Loads research checkpoints without executing pickled code.

torch.load is given a pickle module whose Unpickler resolves only tensor rebuilding, plain
containers and numpy scalars; yacs' CfgNode becomes a plain dict. Anything else (os.system,
builtins.eval, arbitrary classes) is refused before it can run.
"""
import collections
import pickle
import types

import torch

from . import ConversionError


class ConfigNode(dict):
    """Stands in for yacs.config.CfgNode: the research config as nested dicts."""


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch", "Size"): torch.Size,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
}
_ALLOWED_NUMPY = {"scalar", "dtype", "_reconstruct", "ndarray"}


def _numpy_class(module, name):
    import numpy
    if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name in ("scalar", "_reconstruct"):
        return getattr(numpy.core.multiarray, name)
    if module == "numpy" and name in ("dtype", "ndarray"):
        return getattr(numpy, name)
    return None


class RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if name == "CfgNode":
            return ConfigNode
        if name in _ALLOWED_NUMPY and module.startswith("numpy"):
            found = _numpy_class(module, name)
            if found is not None:
                return found
        raise ConversionError(f"checkpoint refused: its pickle asks for {module}.{name}, which a checkpoint never needs")


restricted_pickle = types.ModuleType("adarun_restricted_pickle")
restricted_pickle.Unpickler = RestrictedUnpickler
restricted_pickle.load = lambda file, **kwargs: RestrictedUnpickler(file, **kwargs).load()
restricted_pickle.__name__ = "adarun_restricted_pickle"


def load_checkpoint(path):
    """Returns (state_dict, embedded config dict or None)."""
    try:
        checkpoint = torch.load(path, map_location="cpu", pickle_module=restricted_pickle)
    except ConversionError:
        raise
    except FileNotFoundError:
        raise ConversionError(f"{path}: no such file")
    except Exception as error:  # torch raises many kinds for a damaged file
        raise ConversionError(f"{path}: not a readable PyTorch checkpoint ({type(error).__name__}: {error})")
    return split_checkpoint(checkpoint)


def split_checkpoint(checkpoint):
    if not isinstance(checkpoint, dict):
        raise ConversionError("checkpoint is not a dict")
    config = checkpoint.get("config") if isinstance(checkpoint.get("config"), dict) else None
    for key in ("model", "state_dict"):
        if isinstance(checkpoint.get(key), dict):
            return strip_module_prefix(checkpoint[key]), config
    if all(isinstance(v, torch.Tensor) for v in checkpoint.values()):
        return strip_module_prefix(checkpoint), None
    raise ConversionError("checkpoint holds no state_dict (looked for 'model', 'state_dict', or a bare one)")


def strip_module_prefix(state_dict):
    """DataParallel / DDP checkpoints prefix every key with 'module.'."""
    if state_dict and all(k.startswith("module.") for k in state_dict):
        return collections.OrderedDict((k[len("module."):], v) for k, v in state_dict.items())
    return state_dict
