"""yacs.config.CfgNode as the research code pickles it, for writing research-format checkpoints
without yacs installed.

A checkpoint's config must be byte for byte what the research code writes, since that is what
the converter meets in users' files. yacs' CfgNode (rbgirshick/yacs, yacs/config.py, 0.1.8) is a
dict subclass: its keys are the config's items and its instance __dict__ holds, in this order,
`__immutable__` (bool), `__deprecated_keys__` (a set), `__renamed_keys__` (a dict) and
`__new_allowed__` (bool). The research code freezes its config before it saves it, which sets
`__immutable__` on every node. Pickled with protocol 2 (torch.save's), that is NEWOBJ of
yacs.config.CfgNode, the items, then BUILD with that __dict__, whose set is `__builtin__.set`.

The class below keeps exactly that state and the attribute access the research code uses; the
real yacs is used instead when it is installed.
"""
import copy
import sys
import types


class CfgNode(dict):
    IMMUTABLE = "__immutable__"
    DEPRECATED_KEYS = "__deprecated_keys__"
    RENAMED_KEYS = "__renamed_keys__"
    NEW_ALLOWED = "__new_allowed__"

    def __init__(self, init_dict=None, key_list=None, new_allowed=False):
        key_list = [] if key_list is None else key_list
        tree = copy.deepcopy({} if init_dict is None else init_dict)
        for key, value in tree.items():
            if isinstance(value, dict):
                tree[key] = type(self)(value, key_list=key_list + [key])  # children: new_allowed left False, as yacs does
        super().__init__(tree)
        self.__dict__[CfgNode.IMMUTABLE] = False
        self.__dict__[CfgNode.DEPRECATED_KEYS] = set()
        self.__dict__[CfgNode.RENAMED_KEYS] = {}
        self.__dict__[CfgNode.NEW_ALLOWED] = new_allowed

    def __getattr__(self, name):
        if name in self:
            return self[name]
        raise AttributeError(name)

    def __setattr__(self, name, value):
        if self.is_frozen():
            raise AttributeError(f"Attempted to set {name} to {value}, but CfgNode is immutable")
        self[name] = value

    def freeze(self):
        self._set_immutable(True)

    def is_frozen(self):
        return self.__dict__[CfgNode.IMMUTABLE]

    def _set_immutable(self, immutable):
        self.__dict__[CfgNode.IMMUTABLE] = immutable
        for value in list(self.__dict__.values()) + list(self.values()):
            if isinstance(value, CfgNode):
                value._set_immutable(immutable)


CfgNode.__module__ = "yacs.config"


def yacs_cfgnode_class():
    """yacs.config.CfgNode: the real one when yacs is installed, else this stand-in, registered
    as module yacs.config so that pickle names it as yacs does."""
    try:
        import yacs.config
        return yacs.config.CfgNode
    except ImportError:
        pass
    module = sys.modules.get("yacs.config")
    if module is None:
        module = types.ModuleType("yacs.config")
        module.CfgNode = CfgNode
        package = sys.modules.setdefault("yacs", types.ModuleType("yacs"))
        package.config = module
        sys.modules["yacs.config"] = module
    return module.CfgNode


def frozen_research_config(mapping):
    """A nested dict as the research code saves its config: a frozen CfgNode tree."""
    config = yacs_cfgnode_class()(mapping)
    config.freeze()
    return config
